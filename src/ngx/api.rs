//! `api_abuse_api [write]` and `api_abuse_metrics`: content handlers for the
//! JSON status / management API and the Prometheus metrics. Protect them with
//! `allow`/`deny` (and, for a write location, authentication).

use std::ffi::{c_char, c_void};

use ngx::ffi::{
    ngx_buf_t, ngx_chain_t, ngx_command_t, ngx_conf_t, ngx_create_temp_buf,
    ngx_http_discard_request_body, ngx_http_output_filter, ngx_http_request_t,
    ngx_http_send_header, ngx_int_t, NGX_ERROR, NGX_HTTP_INTERNAL_SERVER_ERROR,
};
use ngx::http::{HttpModuleLocationConf, HttpModuleMainConf, NgxHttpCoreModule};

use super::conf::{run_setter, LocConf};
use super::util::{bytes, now_ms};
use super::{worker, zone, Module};

pub const API_READ: u8 = 1;
pub const API_WRITE: u8 = 2;
pub const METRICS: u8 = 3;

/// `api_abuse_api [write]`
pub extern "C" fn set_api(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    run_setter(cf, |a| {
        let mode = match a.get(1).map(|v| v.as_bytes()) {
            None => API_READ,
            Some(b"write") => API_WRITE,
            Some(_) => {
                return Err(format!(
                    "invalid value \"{}\" in \"api_abuse_api\" directive, it must be \"write\" or nothing",
                    String::from_utf8_lossy(bytes(&a[1]))
                ))
            }
        };
        set_handler(cf, conf, mode)
    })
}

/// `api_abuse_metrics`
pub extern "C" fn set_metrics(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    run_setter(cf, |_| set_handler(cf, conf, METRICS))
}

fn set_handler(cf: *mut ngx_conf_t, conf: *mut c_void, mode: u8) -> Result<(), String> {
    // SAFETY: conf is our location conf; cf is valid while parsing.
    let lcf = unsafe { &mut *conf.cast::<LocConf>() };
    lcf.api = mode;
    let clcf = NgxHttpCoreModule::location_conf_mut(unsafe { &*cf }).ok_or("no location")?;
    clcf.handler = Some(handler);
    Ok(())
}

extern "C" fn handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    std::panic::catch_unwind(|| {
        // SAFETY: nginx passes a live request.
        unsafe { handle(r) }
    })
    .unwrap_or(NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t)
}

unsafe fn handle(r: *mut ngx_http_request_t) -> ngx_int_t {
    let req = &*r;
    let (Some(lcf), Some(mcf)) = (Module::location_conf(req), Module::main_conf(req)) else {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };
    let Some(shared) = zone::shared(mcf) else {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };
    let rc = ngx_http_discard_request_body(r);
    if rc != 0 {
        return rc;
    }
    let reply = if lcf.api == METRICS {
        crate::api::metrics(shared)
    } else {
        let profiles = worker::profiles();
        crate::api::handle(
            shared,
            profiles.as_deref(),
            bytes(&req.method_name),
            bytes(&req.args),
            lcf.api == API_WRITE,
            mcf.ipv6_prefix,
            now_ms() / 1000,
        )
    };
    send(r, reply.status, reply.content_type, reply.body.as_bytes())
}

unsafe fn send(
    r: *mut ngx_http_request_t,
    status: u16,
    ctype: &'static str,
    body: &[u8],
) -> ngx_int_t {
    let req = &mut *r;
    req.headers_out.status = usize::from(status);
    req.headers_out.content_type.len = ctype.len();
    req.headers_out.content_type.data = ctype.as_ptr().cast_mut();
    req.headers_out.content_type_len = ctype.len();
    req.headers_out.content_length_n = body.len() as i64;
    let rc = ngx_http_send_header(r);
    if rc == NGX_ERROR as ngx_int_t || rc > 0 || req.header_only() != 0 {
        return rc;
    }
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
