//! `api_abuse_dashboard [api=URI]`: a content handler that serves the
//! operator's console, one self-contained page (HTML, CSS and JavaScript
//! compiled into the module, nothing fetched from anywhere else) that reads
//! and writes through the JSON API at `URI` (default: the directory of the
//! dashboard's own address, so `/api-abuse/dashboard` talks to
//! `/api-abuse/`). Protect it like the API: the page holds no secret, but
//! shows who is listed.

use std::ffi::{c_char, c_void};

use ngx::ffi::{
    ngx_buf_t, ngx_chain_t, ngx_command_t, ngx_conf_t, ngx_create_temp_buf,
    ngx_http_discard_request_body, ngx_http_output_filter, ngx_http_request_t,
    ngx_http_send_header, ngx_int_t, ngx_list_push, ngx_table_elt_t, NGX_ERROR,
    NGX_HTTP_INTERNAL_SERVER_ERROR, NGX_HTTP_NOT_ALLOWED,
};
use ngx::http::{HttpModuleLocationConf, NgxHttpCoreModule};

use super::conf::{run_setter, LocConf};
use super::util::bytes;
use super::Module;

/// What `lcf.api` holds for a dashboard location.
pub const DASHBOARD: u8 = 4;

/// Headers sent with the page: no framing, no sniffing, no caching, and a
/// content security policy that lets the page talk to its own origin only.
const HEADERS: [(&str, &str); 5] = [
    (
        "Content-Security-Policy",
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
         img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
];

/// `api_abuse_dashboard [api=URI]`
pub extern "C" fn set_dashboard(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    run_setter(cf, |a| {
        let api = match a
            .get(1)
            .map(|v| String::from_utf8_lossy(bytes(v)).into_owned())
        {
            None => "./".to_string(),
            Some(v) => match v.strip_prefix("api=") {
                Some(u) if crate::console_api::safe_api_uri(u) => u.to_string(),
                _ => {
                    return Err(format!(
                        "invalid value \"{v}\" in \"api_abuse_dashboard\" directive, it must be \
                         \"api=URI\" with a path such as /api-abuse/"
                    ))
                }
            },
        };
        // SAFETY: conf is our location conf; cf is valid while parsing.
        let lcf = unsafe { &mut *conf.cast::<LocConf>() };
        if lcf.api != 0 {
            return Err("\"api_abuse_dashboard\" directive is duplicate or mixed with \"api_abuse_api\" / \"api_abuse_metrics\"".into());
        }
        lcf.api = DASHBOARD;
        lcf.dashboard_api = Some(api);
        let clcf = NgxHttpCoreModule::location_conf_mut(unsafe { &*cf }).ok_or("no location")?;
        clcf.handler = Some(handler);
        Ok(())
    })
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
    let method = bytes(&req.method_name);
    if method != b"GET" && method != b"HEAD" {
        return NGX_HTTP_NOT_ALLOWED as ngx_int_t;
    }
    let Some(lcf) = Module::location_conf(req) else {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };
    let rc = ngx_http_discard_request_body(r);
    if rc != 0 {
        return rc;
    }
    let api = lcf.dashboard_api.as_deref().unwrap_or("./");
    let page = crate::console_api::dashboard_page(api);
    send(r, page.as_bytes())
}

unsafe fn add_header(r: *mut ngx_http_request_t, key: &'static str, value: &'static str) -> bool {
    let h = ngx_list_push(&mut (*r).headers_out.headers).cast::<ngx_table_elt_t>();
    if h.is_null() {
        return false;
    }
    // Zeroed first: nginx 1.23+ has a `next` link that must be null, older
    // versions do not have the field at all.
    std::ptr::write_bytes(h, 0, 1);
    (*h).hash = 1;
    (*h).key.len = key.len();
    (*h).key.data = key.as_ptr().cast_mut();
    (*h).value.len = value.len();
    (*h).value.data = value.as_ptr().cast_mut();
    true
}

unsafe fn send(r: *mut ngx_http_request_t, body: &[u8]) -> ngx_int_t {
    const CTYPE: &str = "text/html; charset=utf-8";
    let req = &mut *r;
    req.headers_out.status = 200;
    req.headers_out.content_type.len = CTYPE.len();
    req.headers_out.content_type.data = CTYPE.as_ptr().cast_mut();
    req.headers_out.content_type_len = "text/html".len();
    req.headers_out.content_length_n = body.len() as i64;
    for (k, v) in HEADERS {
        if !add_header(r, k, v) {
            return NGX_ERROR as ngx_int_t;
        }
    }
    let rc = ngx_http_send_header(r);
    if rc == NGX_ERROR as ngx_int_t || rc > 0 || req.header_only() != 0 {
        return rc;
    }
    let b: *mut ngx_buf_t = ngx_create_temp_buf(req.pool, body.len());
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
