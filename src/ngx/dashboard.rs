//! `api_abuse_dashboard [api=URI]`: a content handler that serves the
//! operator's console, one self-contained page (HTML, CSS and JavaScript
//! compiled into the module, nothing fetched from anywhere else) that reads
//! and writes through the JSON API at `URI` (default: the directory of the
//! dashboard's own address, so `/api-abuse/dashboard` talks to
//! `/api-abuse/`). Protect it like the API: the page holds no secret, but
//! shows who is listed.

use std::ffi::{c_char, c_void};

use ngx::ffi::{
    ngx_command_t, ngx_conf_t, ngx_http_discard_request_body, ngx_http_request_t, ngx_int_t,
    NGX_ERROR, NGX_HTTP_INTERNAL_SERVER_ERROR, NGX_HTTP_NOT_ALLOWED,
};
use ngx::http::{HttpModuleLocationConf, NgxHttpCoreModule};

use super::conf::{run_setter, ConfError, LocConf};
use super::util::{self, add_header, bytes};
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
                    return Err(ConfError::Invalid {
                        directive: "api_abuse_dashboard",
                        value: v,
                        why: "it must be \"api=URI\" with a path such as /api-abuse/",
                    })
                }
            },
        };
        // SAFETY: the command has NGX_HTTP_LOC_CONF_OFFSET, so nginx passes
        // the LocConf create_loc_conf made for this level.
        let lcf = unsafe { &mut *conf.cast::<LocConf>() };
        if lcf.api != 0 {
            return Err(ConfError::Mixed("api_abuse_dashboard"));
        }
        lcf.api = DASHBOARD;
        lcf.dashboard_api = Some(api);
        // SAFETY: nginx passes the conf it is parsing with.
        let clcf = NgxHttpCoreModule::location_conf_mut(unsafe { &*cf })
            .ok_or(ConfError::NotInLocation("api_abuse_dashboard"))?;
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

/// # Safety
/// `r` must be the live request of this content handler.
unsafe fn handle(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: the caller passes a live request.
    let req = unsafe { &*r };
    let method = bytes(&req.method_name);
    if method != b"GET" && method != b"HEAD" {
        return NGX_HTTP_NOT_ALLOWED as ngx_int_t;
    }
    let Some(lcf) = Module::location_conf(req) else {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };
    // SAFETY: a live request, answered by this handler alone.
    let rc = unsafe { ngx_http_discard_request_body(r) };
    if rc != 0 {
        return rc;
    }
    let api = lcf.dashboard_api.as_deref().unwrap_or("./");
    let page = crate::console_api::dashboard_page(api);
    // SAFETY: a live request whose headers this handler has not sent.
    unsafe { send(r, page.as_bytes()) }
}

/// # Safety
/// `r` must be a live request whose headers have not been sent.
unsafe fn send(r: *mut ngx_http_request_t, body: &[u8]) -> ngx_int_t {
    // SAFETY: the caller's guarantee is what both calls need.
    unsafe {
        for (k, v) in HEADERS {
            if add_header(r, k, v).is_none() {
                return NGX_ERROR as ngx_int_t;
            }
        }
        util::send(r, 200, "text/html; charset=utf-8", body)
    }
}
