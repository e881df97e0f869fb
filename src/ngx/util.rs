//! Small conversions between nginx structures and the plain types the rest of
//! the crate uses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ngx::ffi::{ngx_http_request_t, ngx_str_t, sockaddr_in, sockaddr_in6};

/// The client address of the connection, after the realip module replaced it.
///
/// # Safety
/// `r` must be a live request.
pub unsafe fn client_addr(r: *const ngx_http_request_t) -> Option<IpAddr> {
    let c = (*r).connection;
    if c.is_null() || (*c).sockaddr.is_null() {
        return None;
    }
    let sa = (*c).sockaddr;
    match i32::from((*sa).sa_family) {
        libc::AF_INET => {
            let sin = &*sa.cast::<sockaddr_in>();
            Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                sin.sin_addr.s_addr,
            ))))
        }
        libc::AF_INET6 => {
            let sin6 = &*sa.cast::<sockaddr_in6>();
            let v6 = Ipv6Addr::from(sin6.sin6_addr.__in6_u.__u6_addr8);
            Some(match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(v6),
            })
        }
        // Unix sockets and the like: no client address to judge.
        _ => None,
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
