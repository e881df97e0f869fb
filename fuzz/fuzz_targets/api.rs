//! The status and management API: any method, endpoint, query string and
//! `Authorization` header gets a JSON answer (2xx or 4xx/503, never a panic),
//! a token location admits exactly its tokens, and afterwards the status
//! document, the list pages and the metrics still render. Input: a selector
//! byte, then lines `ENDPOINT?QUERY`, each one call.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ngx_http_api_abuse_module::api::{self, Ctx, Request, Tokens};
use ngx_http_api_abuse_module::shared::Shared;
use ngx_http_api_abuse_module_fuzz::{assert_json, heap_zone};

const TOKEN: &str = "fuzz-token-0123456789abcdef";

thread_local! {
    static ZONE: &'static Shared = heap_zone(1 << 20);
    static TOKENS: Tokens = Tokens::parse(format!("# fuzz\n{TOKEN}\n").as_bytes()).expect("tokens");
}

/// Whether `authorization` is `Bearer TOKEN` as HTTP allows it written:
/// optional spaces and tabs around the value and after the scheme's space,
/// the scheme in any case (an oracle written apart from `Tokens::admits`).
fn right_token(authorization: &[u8]) -> bool {
    let ows = |b: &u8| matches!(b, b' ' | b'\t');
    let start = authorization.iter().position(|b| !ows(b));
    let end = authorization.iter().rposition(|b| !ows(b));
    let (Some(start), Some(end)) = (start, end) else {
        return false;
    };
    let v = &authorization[start..=end];
    if v.len() < 7 || !v[..6].eq_ignore_ascii_case(b"bearer") || v[6] != b' ' {
        return false;
    }
    let rest = &v[7..];
    let skip = rest.iter().take_while(|b| ows(b)).count();
    &rest[skip..] == TOKEN.as_bytes()
}

const METHODS: [&[u8]; 6] = [b"GET", b"POST", b"DELETE", b"HEAD", b"PUT", b"post"];

fuzz_target!(|data: &[u8]| {
    let shared = ZONE.with(|z| *z);
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let now = 1_800_000_000u64 + u64::from(sel);
    let v6_prefix = [64u8, 48, 128, 16][usize::from(sel >> 6)];
    TOKENS.with(|tokens| {
        let with_tokens = sel & 16 != 0;
        let ctx = Ctx {
            shared,
            profiles: None,
            tokens: with_tokens.then_some(tokens),
            write: sel & 8 != 0,
            v6_prefix,
        };
        let bearer = format!("Bearer {TOKEN}");
        for (i, line) in rest.split(|&b| b == b'\n').take(16).enumerate() {
            let (endpoint, query) = match line.iter().position(|&b| b == b'?') {
                Some(q) => (&line[..q], &line[q + 1..]),
                None => (line, &line[line.len()..]),
            };
            // Odd calls carry the right token, even ones a fuzzed header.
            let authorization = if i % 2 == 1 {
                Some(bearer.as_bytes())
            } else {
                Some(query)
            };
            let req = Request {
                method: METHODS[(usize::from(sel) + i) % METHODS.len()],
                endpoint,
                query,
                authorization,
                host: Some(b"127.0.0.1"),
                origin: (i % 3 == 0).then_some(endpoint),
                fetch_site: (i % 4 == 0).then_some(&b"cross-site"[..]),
                now,
            };
            let reply = api::handle(&ctx, &req);
            assert!(
                (200..500).contains(&reply.status) || reply.status == 503,
                "status {}",
                reply.status
            );
            if with_tokens && i % 2 == 1 {
                assert_ne!(reply.status, 401, "the right token was refused");
            }
            if with_tokens && i % 2 == 0 && !right_token(query) {
                assert_eq!(reply.status, 401, "a wrong token was admitted");
            }
            assert_eq!(reply.content_type, "application/json");
            assert_json("reply", &reply.body);
        }
        let ctx = Ctx {
            tokens: None,
            ..ctx
        };
        for endpoint in [&b""[..], b"lists"] {
            let req = Request {
                method: b"GET",
                endpoint,
                query: b"",
                authorization: None,
                host: None,
                origin: None,
                fetch_site: None,
                now,
            };
            let reply = api::handle(&ctx, &req);
            assert_eq!(reply.status, 200);
            assert_json("status", &reply.body);
        }
    });
    let metrics = api::metrics(shared);
    assert!(!metrics.body.is_empty());
});
