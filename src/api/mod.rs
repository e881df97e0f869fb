//! The status and management API and the Prometheus metrics, rendered from
//! the shared zone and the profiles in force. Nothing here is an nginx type:
//! the glue hands in a [`Request`] and sends the [`Reply`].
//!
//! Endpoints, by the path below the API location (one file each):
//!
//! | method | path | |
//! |---|---|---|
//! | `GET` | (root), `status` | [`status`]: profiles, zone, statistics, first page of list entries |
//! | `GET` | (root) `?events[=N][&since=SEQ]`, `?timeline[=H]` | the console's views ([`crate::console_api`]) |
//! | `GET` | `lists` | [`lists`]: a page of run-time entries (`limit`, `cursor`, `list`, `origin`, `bot_type`, `addr`) |
//! | `POST` | (root), `lists` | `?addr=IP&list=deny\|gray\|allow[&duration=1h\|forever]` adds or changes an entry |
//! | `DELETE` | (root), `lists` | `?addr=IP` removes the entry and the client's detector state |
//!
//! A write sent by a browser on behalf of another site (`Sec-Fetch-Site:
//! cross-site` / `same-site`, or an `Origin` whose host is not the request's
//! `Host`) is refused with 403 whatever the tokens: without `token=` a
//! loopback-only write location would otherwise take a form posted from any
//! page the operator's browser opens. With `token=FILE` every call needs `Authorization: Bearer <token>`
//! ([`tokens`]); without `write` only `GET`/`HEAD` are answered. A bad
//! parameter is a 400 with a JSON error and changes nothing.

mod lists;
mod metrics;
mod params;
mod status;
pub mod tokens;

use serde::Serialize;

use crate::config::Profiles;
use crate::shared::Shared;

pub use metrics::metrics;
pub use tokens::Tokens;

/// A response: status, content type, body, and a `WWW-Authenticate` value
/// for a 401.
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub www_authenticate: Option<&'static str>,
}

/// What the API answers from.
pub struct Ctx<'a> {
    pub shared: &'a Shared,
    pub profiles: Option<&'a Profiles>,
    /// The location's tokens (`token=FILE`); `None`: no token needed.
    pub tokens: Option<&'a Tokens>,
    /// `api_abuse_api write`.
    pub write: bool,
    /// The zone's IPv6 client prefix length.
    pub v6_prefix: u8,
}

/// One call.
pub struct Request<'a> {
    pub method: &'a [u8],
    /// The path below the API location ("" for the location itself).
    pub endpoint: &'a [u8],
    pub query: &'a [u8],
    /// The `Authorization` header, if any.
    pub authorization: Option<&'a [u8]>,
    /// `Host`, `Origin` and `Sec-Fetch-Site`, to refuse cross-site writes.
    pub host: Option<&'a [u8]>,
    pub origin: Option<&'a [u8]>,
    pub fetch_site: Option<&'a [u8]>,
    /// Unix seconds.
    pub now: u64,
}

#[derive(Serialize)]
struct ErrorDoc<'a> {
    error: &'a str,
}

pub(crate) fn json<T: Serialize>(status: u16, doc: &T) -> Reply {
    let mut body = serde_json::to_string(doc).unwrap_or_else(|_| "{}".into());
    body.push('\n');
    Reply {
        status,
        content_type: "application/json",
        body,
        www_authenticate: None,
    }
}

pub(crate) fn error(status: u16, msg: &str) -> Reply {
    json(status, &ErrorDoc { error: msg })
}

/// Answers one API call.
pub fn handle(ctx: &Ctx<'_>, req: &Request<'_>) -> Reply {
    if let Some(tokens) = ctx.tokens {
        if !tokens.admits(req.authorization) {
            let mut r = error(
                401,
                "this API location needs \"Authorization: Bearer <token>\" with a valid token",
            );
            r.www_authenticate = Some("Bearer realm=\"api_abuse\"");
            return r;
        }
    }
    let endpoint = std::str::from_utf8(req.endpoint)
        .unwrap_or("?")
        .trim_matches('/');
    let read = matches!(req.method, b"GET" | b"HEAD");
    match endpoint {
        "" | "status" if read && console_view(req.query) => console(ctx, req),
        "" | "status" if read => status::get(ctx, req),
        "lists" if read => lists::get(ctx, req),
        "" | "lists" => match req.method {
            b"POST" | b"DELETE" if !ctx.write => error(
                403,
                "this API location is read-only (use \"api_abuse_api write\")",
            ),
            b"POST" | b"DELETE" if cross_site(req) => error(
                403,
                "cross-site write refused (the Origin is not this host)",
            ),
            b"POST" => lists::post(ctx, req),
            b"DELETE" => lists::delete(ctx, req),
            _ => error(405, "use GET, POST or DELETE"),
        },
        "status" => error(405, "use GET"),
        _ => error(404, "no such API endpoint (status, lists)"),
    }
}

/// Whether a browser sent this call on behalf of another site.
fn cross_site(req: &Request<'_>) -> bool {
    if let Some(site) = req.fetch_site {
        if !matches!(site.trim_ascii(), b"same-origin" | b"none") {
            return true;
        }
    }
    let Some(origin) = req.origin.map(<[u8]>::trim_ascii) else {
        return false;
    };
    // "null" (sandboxed frames, some redirects) is never this host
    let host = origin
        .strip_prefix(b"https://")
        .or_else(|| origin.strip_prefix(b"http://"));
    match (host, req.host) {
        (Some(o), Some(h)) => !o.eq_ignore_ascii_case(h.trim_ascii()),
        _ => true,
    }
}

/// Whether a root `GET` asks for one of the console's views.
fn console_view(query: &[u8]) -> bool {
    query.split(|c| *c == b'&').any(|kv| {
        let name = kv.split(|c| *c == b'=').next().unwrap_or_default();
        name == b"events" || name == b"timeline"
    })
}

/// `?events[=N][&since=SEQ]` and `?timeline[=H]`.
fn console(ctx: &Ctx<'_>, req: &Request<'_>) -> Reply {
    let views = ["events", "since", "timeline"];
    let body = params::Params::parse_with(req.query, &views, &["events", "timeline"]).and_then(
        |p| match (p.get("events"), p.get("timeline")) {
            (Some(n), None) => crate::console_api::events(ctx.shared, Some(n), p.get("since")),
            (None, Some(h)) if !p.has("since") => {
                crate::console_api::timeline(ctx.shared, ctx.profiles, Some(h), req.now)
            }
            _ => Err("ask for one view: ?events[=N][&since=SEQ] or ?timeline[=H]".into()),
        },
    );
    match body {
        Ok(body) => Reply {
            status: 200,
            content_type: "application/json",
            body,
            www_authenticate: None,
        },
        Err(e) => error(400, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_site_writes() {
        let req = |origin: Option<&'static [u8]>, site: Option<&'static [u8]>| Request {
            method: b"POST",
            endpoint: b"",
            query: b"",
            authorization: None,
            host: Some(b"127.0.0.1:8080"),
            origin,
            fetch_site: site,
            now: 0,
        };
        assert!(!cross_site(&req(None, None)), "curl");
        assert!(!cross_site(&req(
            Some(b"http://127.0.0.1:8080"),
            Some(b"same-origin")
        )));
        assert!(!cross_site(&req(None, Some(b"none"))));
        assert!(cross_site(&req(Some(b"https://evil.example"), None)));
        assert!(cross_site(&req(Some(b"http://127.0.0.1:8081"), None)));
        assert!(cross_site(&req(Some(b"null"), None)));
        assert!(cross_site(&req(None, Some(b"cross-site"))));
        assert!(cross_site(&req(None, Some(b"same-site"))));
    }

    #[test]
    fn change() {
        assert_eq!(status::change_pct(15, 10), Some(50.0));
        assert_eq!(status::change_pct(5, 0), None);
    }
}
