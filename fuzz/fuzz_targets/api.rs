//! The status and management API's parameters: any method and query string
//! gets a JSON answer (2xx or 4xx, never a panic), and afterwards the status
//! document and the metrics still render. Input: method byte, then lines of
//! query strings, each one call.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ngx_http_api_abuse_module::api;
use ngx_http_api_abuse_module::shared::Shared;
use ngx_http_api_abuse_module_fuzz::{assert_json, heap_zone};

thread_local! {
    static ZONE: &'static Shared = heap_zone(1 << 20);
}

const METHODS: [&[u8]; 6] = [b"GET", b"POST", b"DELETE", b"HEAD", b"PUT", b"post"];

fuzz_target!(|data: &[u8]| {
    let shared = ZONE.with(|z| *z);
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let now = 1_800_000_000u64 + u64::from(sel);
    let v6_prefix = [64u8, 48, 128, 16][usize::from(sel >> 6)];
    for (i, query) in rest.split(|&b| b == b'\n').take(16).enumerate() {
        let method = METHODS[(usize::from(sel) + i) % METHODS.len()];
        let reply = api::handle(shared, None, method, query, sel & 8 != 0, v6_prefix, now);
        assert!(
            (200..500).contains(&reply.status),
            "status {}",
            reply.status
        );
        assert_eq!(reply.content_type, "application/json");
        assert_json("reply", &reply.body);
    }
    let reply = api::handle(shared, None, b"GET", b"", false, v6_prefix, now);
    assert_json("status", &reply.body);
    let metrics = api::metrics(shared);
    assert!(metrics
        .body
        .lines()
        .all(|l| l.starts_with('#') || l.split(' ').count() == 2));
});
