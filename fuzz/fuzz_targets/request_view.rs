//! A client's requests through the whole detection path (endpoint
//! template, sensitive-endpoint rules, detector state, assessment, scoring,
//! listing) into a heap zone, as the LOG phase runs it; every event line
//! written must be valid JSON. Input: one request a line,
//! `METHOD TARGET STATUS GAP_MS HEADER_BITS_HEX USER-AGENT...`.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use libfuzzer_sys::fuzz_target;
use ngx_http_api_abuse_module::config::Profiles;
use ngx_http_api_abuse_module::detect::template;
use ngx_http_api_abuse_module::engine::{self, Context, Learner};
use ngx_http_api_abuse_module::model::AttackClass;
use ngx_http_api_abuse_module::request::RequestView;
use ngx_http_api_abuse_module::shared::Shared;
use ngx_http_api_abuse_module::table::client_key;
use ngx_http_api_abuse_module_fuzz::{assert_json, heap_zone, split};

const PROFILES: &str = r#"
[[profile]]
name = "fuzz"
tolerance = "low"
duration = "1h"
  [[profile.sensitive]]
  method = "POST"
  path = "/login"
  kind = "auth"
  [[profile.sensitive]]
  path = "/users/{id}/**"
  kind = "critical"
  [[profile.sensitive]]
  path = "/cart/*"
  kind = "checkout"
"#;

thread_local! {
    static ZONE: &'static Shared = heap_zone(2 << 20);
    static PROFILE: Profiles = Profiles::parse(Path::new("/nonexistent/fuzz.toml"), PROFILES)
        .expect("fuzz profiles");
}

static CLIENT: AtomicU32 = AtomicU32::new(1);

fn number(s: &[u8], radix: u32) -> u64 {
    std::str::from_utf8(s)
        .ok()
        .and_then(|t| u64::from_str_radix(t, radix).ok())
        .unwrap_or(0)
}

fuzz_target!(|data: &[u8]| {
    let shared = ZONE.with(|z| *z);
    let addr = IpAddr::V4(Ipv4Addr::from(CLIENT.fetch_add(1, Ordering::Relaxed)));
    let key = client_key(addr, 64);
    let mut now_ms = 1_800_000_000_000u64;
    let mut rendered = String::new();
    let mut learner = Learner::new();
    for line in data.split(|&b| b == b'\n').take(256) {
        let [method, target, status, gap, bits, ua] = split::<6>(line, b' ');
        let (path, query) = match target.iter().position(|&b| b == b'?') {
            Some(q) => (&target[..q], &target[q + 1..]),
            None => (target, &target[target.len()..]),
        };
        rendered.clear();
        template::write_template(path, &mut rendered);
        let _ = template::normalise(method, path);
        now_ms = now_ms.saturating_add(number(gap, 10));
        let bits = number(bits, 16);
        let view = RequestView {
            method,
            path,
            query,
            user_agent: (!ua.is_empty()).then_some(ua),
            headers: bits as u16,
            header_count: (bits >> 16) as u16,
            status: number(status, 10) as u16,
            http_version: [1000, 1001, 2000, 3000][(bits >> 32) as usize % 4],
            attack: AttackClass::ALL.get((bits >> 34) as usize % 16).copied(),
        };
        PROFILE.with(|p| {
            let profile = &p.profiles[0];
            if let Some(out) = engine::observe(
                &Context {
                    shared,
                    profile,
                    app: b"fuzz",
                    key,
                    client: addr,
                    monitor: false,
                    now_ms,
                },
                &mut learner,
                &view,
            ) {
                assert!(out.event.ends_with('\n'));
                assert_json("event", out.event.trim_end());
                assert!(!out.summary.contains('\n'));
            }
        });
    }
    shared.unlist(key);
});
