//! Small conversions between nginx structures and the plain types the rest of
//! the crate uses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ngx::ffi::{
    ngx_buf_t, ngx_chain_t, ngx_create_temp_buf, ngx_http_output_filter, ngx_http_request_t,
    ngx_http_send_header, ngx_int_t, ngx_list_part_t, ngx_list_push, ngx_str_t, ngx_table_elt_t,
    sockaddr_in, sockaddr_in6, NGX_ERROR,
};

/// The client address of the connection, after the realip module replaced it.
///
/// # Safety
/// `r` must be a live request.
pub unsafe fn client_addr(r: *const ngx_http_request_t) -> Option<IpAddr> {
    // SAFETY: the caller passes a live request; its connection, when set,
    // outlives it.
    let c = unsafe { (*r).connection.as_ref() }?;
    let sa = c.sockaddr;
    if sa.is_null() {
        return None;
    }
    // SAFETY: nginx (or the realip module) points `sockaddr` at a socket
    // address at least as long as its family's struct, tagged by sa_family.
    match i32::from(unsafe { (*sa).sa_family }) {
        libc::AF_INET => {
            // SAFETY: an AF_INET address is a sockaddr_in.
            let sin = unsafe { &*sa.cast::<sockaddr_in>() };
            Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                sin.sin_addr.s_addr,
            ))))
        }
        libc::AF_INET6 => {
            // SAFETY: an AF_INET6 address is a sockaddr_in6; every variant of
            // the in6_addr union is 16 plain bytes, so any is valid to read.
            let v6 = unsafe {
                let sin6 = &*sa.cast::<sockaddr_in6>();
                Ipv6Addr::from(sin6.sin6_addr.__in6_u.__u6_addr8)
            };
            Some(match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(v6),
            })
        }
        // Unix sockets and the like: no client address to judge.
        _ => None,
    }
}

/// The request's headers, in the order they came.
///
/// # Safety
/// `r` must be a live request; the headers live as long as it (`'a`).
pub unsafe fn headers_in<'a>(
    r: *const ngx_http_request_t,
) -> impl Iterator<Item = &'a ngx_table_elt_t> {
    // SAFETY: the caller's live request owns its header list.
    let first: &'a ngx_list_part_t = unsafe { &(*r).headers_in.headers.part };
    std::iter::successors(Some(first), |p| {
        // SAFETY: the parts of an ngx_list_t are chained by `next`, null
        // after the last; they live as long as the list.
        unsafe { p.next.as_ref() }
    })
    .flat_map(|p| {
        if p.nelts == 0 || p.elts.is_null() {
            return &[][..];
        }
        // SAFETY: a part holds `nelts` initialised elements of the list's
        // type, ngx_table_elt_t for a header list.
        unsafe { std::slice::from_raw_parts(p.elts.cast::<ngx_table_elt_t>(), p.nelts) }
    })
}

/// Calls `f` with each of the request's headers, in the order they came:
/// [`headers_in`] as plain loops over the list's parts, for the per-request
/// walk (the iterator adaptors cost some 30 instructions a header more).
///
/// # Safety
/// `r` must be a live request; the headers live as long as it (`'a`).
#[inline]
pub unsafe fn for_each_header<'a>(
    r: *const ngx_http_request_t,
    mut f: impl FnMut(&'a ngx_table_elt_t),
) {
    // SAFETY: the caller's live request owns its header list.
    let mut part: *const ngx_list_part_t = unsafe { &(*r).headers_in.headers.part };
    // SAFETY: the parts of an ngx_list_t are chained by `next`, null after
    // the last, and live as long as the list; a part holds `nelts`
    // initialised elements of the list's type, ngx_table_elt_t here.
    while let Some(p) = unsafe { part.as_ref::<'a>() } {
        if !p.elts.is_null() {
            let elts = p.elts.cast::<ngx_table_elt_t>().cast_const();
            for i in 0..p.nelts {
                // SAFETY: see above: `i < nelts`.
                f(unsafe { &*elts.add(i) });
            }
        }
        part = p.next;
    }
}

/// A header's lowercased name, empty when nginx did not make one.
pub fn lowcase_key(h: &ngx_table_elt_t) -> &[u8] {
    if h.lowcase_key.is_null() {
        &[]
    } else {
        // SAFETY: nginx fills `lowcase_key` with `key.len` bytes, alive as
        // long as the header.
        unsafe { std::slice::from_raw_parts(h.lowcase_key, h.key.len) }
    }
}

/// Bytes of an `ngx_str_t`, empty when it has no data.
pub fn bytes(s: &ngx_str_t) -> &[u8] {
    if s.data.is_null() || s.len == 0 {
        &[]
    } else {
        // SAFETY: nginx strings point at `len` valid bytes while the request lives.
        unsafe { std::slice::from_raw_parts(s.data, s.len) }
    }
}

/// Wall-clock time in milliseconds from nginx's cached time (the same clock in
/// every worker, and meaningful across restarts for the state file).
pub fn now_ms() -> u64 {
    let tp = ngx::ffi::ngx_timeofday();
    (tp.sec as u64).saturating_mul(1000) + tp.msec as u64
}

/// Adds a response header; `None` when out of memory.
///
/// # Safety
/// `r` must be a live request whose headers have not been sent.
pub unsafe fn add_header(
    r: *mut ngx_http_request_t,
    name: &'static str,
    value: &'static str,
) -> Option<()> {
    // SAFETY: the caller passes a live request; the list belongs to it.
    let h = unsafe { ngx_list_push(&mut (*r).headers_out.headers) }.cast::<ngx_table_elt_t>();
    if h.is_null() {
        return None;
    }
    // SAFETY: ngx_list_push returned room for one element. Zeroed first:
    // nginx 1.23+ has a `next` link that must be null; the nginx that
    // distributions ship (Debian 12: 1.22) has no such field.
    let h = unsafe {
        std::ptr::write_bytes(h, 0, 1);
        &mut *h
    };
    h.hash = 1;
    h.key.len = name.len();
    h.key.data = name.as_ptr().cast_mut();
    h.value.len = value.len();
    h.value.data = value.as_ptr().cast_mut();
    Some(())
}

/// Sends a whole response from a content handler: status, content type
/// (parameters such as `; charset=` allowed), length and one buffer.
///
/// # Safety
/// `r` must be a live request whose headers have not been sent.
pub unsafe fn send(
    r: *mut ngx_http_request_t,
    status: u16,
    ctype: &'static str,
    body: &[u8],
) -> ngx_int_t {
    // SAFETY: the caller passes a live request.
    let req = unsafe { &mut *r };
    req.headers_out.status = usize::from(status);
    req.headers_out.content_type.len = ctype.len();
    req.headers_out.content_type.data = ctype.as_ptr().cast_mut();
    // the MIME type alone, as nginx's charset filter expects
    req.headers_out.content_type_len = ctype.find(';').unwrap_or(ctype.len());
    req.headers_out.content_length_n = body.len() as i64;
    // SAFETY: a live request.
    let rc = unsafe { ngx_http_send_header(r) };
    if rc == NGX_ERROR as ngx_int_t || rc > 0 || req.header_only() != 0 {
        return rc;
    }
    // SAFETY: the request's pool; the buffer has room for the body.
    unsafe {
        let b: *mut ngx_buf_t = ngx_create_temp_buf(req.pool, body.len().max(1));
        if b.is_null() {
            return NGX_ERROR as ngx_int_t;
        }
        std::ptr::copy_nonoverlapping(body.as_ptr(), (*b).pos, body.len());
        (*b).last = (*b).pos.add(body.len());
        (*b).set_last_buf(1);
        (*b).set_last_in_chain(1);
        let mut out = ngx_chain_t {
            buf: b,
            next: std::ptr::null_mut(),
        };
        ngx_http_output_filter(r, &mut out)
    }
}
