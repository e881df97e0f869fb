//! `api_abuse_api [write] [token=FILE]` and `api_abuse_metrics`: content
//! handlers for the JSON status / management API and the Prometheus metrics.
//! The token file is read with the configuration (by root, before workers
//! drop privileges; not by `nginx -s` signallers). These locations are never
//! refused by the module's own enforcement (see `LocConf::merge`).

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use ngx::ffi::{
    ngx_command_t, ngx_conf_t, ngx_http_discard_request_body, ngx_http_request_t, ngx_int_t,
    NGX_ERROR, NGX_HTTP_INTERNAL_SERVER_ERROR,
};
use ngx::http::{HttpModuleLocationConf, HttpModuleMainConf, NgxHttpCoreModule};

use super::conf::{run_setter, ConfError, LocConf};
use super::util::{add_header, bytes, headers_in, lowcase_key, now_ms, send};
use super::{worker, zone, Module};

pub const API_READ: u8 = 1;
pub const API_WRITE: u8 = 2;
pub const METRICS: u8 = 3;

/// `api_abuse_api [write] [token=FILE]`
pub extern "C" fn set_api(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    run_setter(cf, |a| {
        let mut mode = API_READ;
        let mut token_file = None;
        for v in a.iter().skip(1).map(bytes) {
            match v {
                b"write" if mode == API_READ => mode = API_WRITE,
                _ if v.starts_with(b"token=") && token_file.is_none() && v.len() > 6 => {
                    token_file = Some(String::from_utf8_lossy(&v[6..]).into_owned());
                }
                _ => {
                    return Err(ConfError::InvalidParameter {
                        directive: "api_abuse_api",
                        value: String::from_utf8_lossy(v).into_owned(),
                        why: "expected \"write\" and/or \"token=FILE\"",
                    })
                }
            }
        }
        if let Some(file) = token_file {
            let path = super::resolve_conf_path(cf, &file);
            // `nginx -s ...` only needs the pid file: a missing or broken
            // token file must not stop a signal.
            if !super::conf::is_signaller() {
                let tokens = crate::api::Tokens::load(&path)?;
                warn_if_readable(cf, &path);
                // SAFETY: the command has NGX_HTTP_LOC_CONF_OFFSET, so nginx passes
                // the LocConf create_loc_conf made for this level.
                unsafe { (*conf.cast::<LocConf>()).api_tokens = Some(Arc::new(tokens)) };
            }
        }
        set_handler(cf, conf, mode, "api_abuse_api")
    })
}

/// A token file others can read is one leaked token away.
fn warn_if_readable(cf: *mut ngx_conf_t, path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(m) = std::fs::metadata(path) {
        if m.permissions().mode() & 0o004 != 0 {
            ngx::ngx_conf_log_error!(
                ngx::ffi::NGX_LOG_WARN,
                cf,
                "token file \"{}\" is readable by every user: chmod 600 it",
                path.display()
            );
        }
    }
}

/// `api_abuse_metrics`
pub extern "C" fn set_metrics(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    run_setter(cf, |_| set_handler(cf, conf, METRICS, "api_abuse_metrics"))
}

fn set_handler(
    cf: *mut ngx_conf_t,
    conf: *mut c_void,
    mode: u8,
    directive: &'static str,
) -> Result<(), ConfError> {
    // SAFETY: the command has NGX_HTTP_LOC_CONF_OFFSET, so nginx passes
    // the LocConf create_loc_conf made for this level.
    let lcf = unsafe { &mut *conf.cast::<LocConf>() };
    lcf.api = mode;
    // SAFETY: nginx passes the conf it is parsing with.
    let clcf = NgxHttpCoreModule::location_conf_mut(unsafe { &*cf })
        .ok_or(ConfError::NotInLocation(directive))?;
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

/// # Safety
/// `r` must be the live request of this content handler.
unsafe fn handle(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: the caller passes a live request.
    let req = unsafe { &*r };
    let (Some(lcf), Some(mcf)) = (Module::location_conf(req), Module::main_conf(req)) else {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };
    let Some(shared) = zone::shared(mcf) else {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };
    // SAFETY: a live request, answered by this handler alone.
    let rc = unsafe { ngx_http_discard_request_body(r) };
    if rc != 0 {
        return rc;
    }
    let reply = if lcf.api == METRICS {
        crate::api::metrics(shared)
    } else {
        let profiles = worker::profiles();
        let ctx = crate::api::Ctx {
            shared,
            profiles: profiles.as_deref(),
            tokens: lcf.api_tokens.as_deref(),
            write: lcf.api == API_WRITE,
            v6_prefix: mcf.v6_prefix(),
        };
        let call = crate::api::Request {
            method: bytes(&req.method_name),
            endpoint: endpoint(req),
            query: bytes(&req.args),
            // SAFETY: nginx's pointers to the parsed headers are null or
            // point into the live request's header list.
            authorization: unsafe { req.headers_in.authorization.as_ref() }
                .map(|h| bytes(&h.value)),
            // SAFETY: as above.
            host: unsafe { req.headers_in.host.as_ref() }.map(|h| bytes(&h.value)),
            // SAFETY: a live request; its headers outlive this call.
            origin: unsafe { header(r, b"origin") },
            // SAFETY: as above.
            fetch_site: unsafe { header(r, b"sec-fetch-site") },
            now: now_ms() / 1000,
        };
        crate::api::handle(&ctx, &call)
    };
    // SAFETY: a live request whose headers are not sent yet: this content
    // handler sends them, once, below.
    unsafe {
        if let Some(v) = reply.www_authenticate {
            if add_header(r, "WWW-Authenticate", v).is_none() {
                return NGX_ERROR as ngx_int_t;
            }
        }
        send(r, reply.status, reply.content_type, reply.body.as_bytes())
    }
}

/// The value of the first request header named `lowcase`.
///
/// # Safety
/// `r` must be a live request; the result lives as long as it.
unsafe fn header<'a>(r: *mut ngx_http_request_t, lowcase: &[u8]) -> Option<&'a [u8]> {
    // SAFETY: the caller's live request.
    unsafe { headers_in(r) }
        .find(|h| lowcase_key(h) == lowcase)
        .map(|h| bytes(&h.value))
}

/// The part of the URI below the location's name ("" for an exact or
/// regex location, or the location itself).
fn endpoint(req: &ngx_http_request_t) -> &[u8] {
    let uri = bytes(&req.uri);
    let name = NgxHttpCoreModule::location_conf(req)
        .map(|c| bytes(&c.name))
        .unwrap_or_default();
    match uri.strip_prefix(name) {
        Some(rest) if !name.is_empty() => rest,
        _ => b"",
    }
}
