//! What PREACCESS and LOG both derive from a request, computed once: the
//! endpoint template (with the profile's sensitive kind, remembered per
//! worker for recent paths) and the hash of the User-Agent. PREACCESS computes the template only when an active campaign
//! needs it; LOG reuses it, or computes it for the URI the request ended
//! with.

use ngx::ffi::ngx_http_request_t;

use super::handlers::Ctx;
use super::util::bytes;
use crate::config::Profile;
use crate::detect::template::{self, Endpoint};
use crate::model::SensitiveKind;

/// One request's endpoint, and what it was computed from.
#[derive(Clone, Copy, Debug, Default)]
pub struct Memo {
    /// `r->method_name` and `r->uri` (address and length): a rewrite,
    /// `try_files` or internal redirect gives the request a new URI in new
    /// memory, so an equal pair is the same URI.
    method: (usize, usize),
    uri: (usize, usize),
    /// The profile whose sensitive endpoints classified it (a profiles
    /// swap between the phases makes a new one).
    profile: usize,
    pub endpoint: Endpoint,
    pub sensitive: Option<SensitiveKind>,
}

fn id(s: &[u8]) -> (usize, usize) {
    (s.as_ptr() as usize, s.len())
}

/// The request's endpoint and sensitive kind, from `ctx`'s memo when it is
/// for the request's current method, URI and profile.
///
/// # Safety
/// `r` must be a live request.
pub unsafe fn endpoint(
    r: *const ngx_http_request_t,
    ctx: &mut Ctx,
    profile: &Profile,
) -> (Endpoint, Option<SensitiveKind>) {
    // SAFETY: the caller's live request.
    let m = unsafe { memo(r, ctx, profile) };
    ctx.endpoint = Some(m);
    (m.endpoint, m.sensitive)
}

/// [`endpoint`] without keeping it in `ctx` (the LOG phase, the last to
/// ask).
///
/// # Safety
/// `r` must be a live request.
pub unsafe fn endpoint_of(
    r: *const ngx_http_request_t,
    ctx: &Ctx,
    profile: &Profile,
) -> (Endpoint, Option<SensitiveKind>) {
    // SAFETY: the caller's live request.
    let m = unsafe { memo(r, ctx, profile) };
    (m.endpoint, m.sensitive)
}

/// `ctx`'s memo when it is for the request's current method, URI and
/// profile, else a new one.
///
/// # Safety
/// `r` must be a live request.
unsafe fn memo(r: *const ngx_http_request_t, ctx: &Ctx, profile: &Profile) -> Memo {
    // SAFETY: the caller passes a live request; its method and URI strings
    // live in its pool.
    let (method, uri) = unsafe { (bytes(&(*r).method_name), bytes(&(*r).uri)) };
    let pid = std::ptr::from_ref(profile) as usize;
    if let Some(m) = ctx.endpoint {
        if m.method == id(method) && m.uri == id(uri) && m.profile == pid {
            return m;
        }
    }
    let context = (pid, super::profiles::generation());
    // SAFETY: RECENT is touched only here, on the worker's event thread
    // (request handlers), one call at a time.
    let recent = unsafe { &mut *std::ptr::addr_of_mut!(RECENT) };
    let (endpoint, sensitive) = recent.get_or(context, method, uri, || {
        (
            template::normalise(method, uri),
            profile.sensitive.classify(method, uri),
        )
    });
    Memo {
        method: id(method),
        uri: id(uri),
        profile: pid,
        endpoint,
        sensitive,
    }
}

/// This worker's recent endpoints (see [`template::Recent`]), keyed by the
/// profile and the profiles' generation as well: the sensitive kind is the
/// profile's.
static mut RECENT: template::Recent<(Endpoint, Option<SensitiveKind>)> = template::Recent::new();
