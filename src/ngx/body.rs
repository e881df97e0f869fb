//! The request body, when nginx holds it in memory, for the attack signatures.
//! The module never blocks on a body: it reads one only where
//! `api_abuse_inspect_body on` asks for it, and then asynchronously.

use ngx::ffi::{ngx_buf_t, ngx_http_request_t};

/// The body bytes, if the whole body (or its first part up to the inspection
/// limit) sits in one memory buffer. Bodies buffered to a temp file, or split
/// over several buffers, are copied into the request pool up to the limit.
///
/// # Safety
/// `r` must be a live request.
pub unsafe fn in_memory<'a>(r: *mut ngx_http_request_t) -> Option<&'a [u8]> {
    let rb = (*r).request_body;
    if rb.is_null() {
        return None;
    }
    let mut cl = (*rb).bufs;
    if cl.is_null() {
        return None;
    }
    let limit = crate::signatures::MAX_BODY_BYTES;
    // Fast path: one in-memory buffer.
    if (*cl).next.is_null() {
        return mem_slice((*cl).buf).map(|s| &s[..s.len().min(limit)]);
    }
    let mut total = 0usize;
    let mut c = cl;
    while !c.is_null() {
        total += mem_slice((*c).buf).map_or(0, <[u8]>::len);
        c = (*c).next;
    }
    let total = total.min(limit);
    if total == 0 {
        return None;
    }
    let dst = ngx::ffi::ngx_pnalloc((*r).pool, total).cast::<u8>();
    if dst.is_null() {
        return None;
    }
    let mut off = 0;
    while !cl.is_null() && off < total {
        if let Some(s) = mem_slice((*cl).buf) {
            let n = s.len().min(total - off);
            std::ptr::copy_nonoverlapping(s.as_ptr(), dst.add(off), n);
            off += n;
        }
        cl = (*cl).next;
    }
    Some(std::slice::from_raw_parts(dst, off))
}

unsafe fn mem_slice<'a>(b: *const ngx_buf_t) -> Option<&'a [u8]> {
    if b.is_null()
        || ((*b).temporary() == 0 && (*b).memory() == 0 && (*b).mmap() == 0)
        || (*b).pos.is_null()
        || (*b).last.is_null()
    {
        return None;
    }
    let len = (*b).last.offset_from((*b).pos);
    if len <= 0 {
        return None;
    }
    Some(std::slice::from_raw_parts((*b).pos, len as usize))
}
