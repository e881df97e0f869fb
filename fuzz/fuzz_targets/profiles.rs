//! The profiles file (operator input, hot-swapped): any text is either
//! refused with one error line naming the file, or compiled into profiles
//! that the status API renders as valid JSON and that the detection path
//! can act on (a scripted bot session per profile, event lines valid JSON).
#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use libfuzzer_sys::fuzz_target;
use ngx_http_api_abuse_module::config::Profiles;
use ngx_http_api_abuse_module::engine::{self, Context, Learner};
use ngx_http_api_abuse_module::request::RequestView;
use ngx_http_api_abuse_module::shared::Shared;
use ngx_http_api_abuse_module::table::client_key;
use ngx_http_api_abuse_module_fuzz::{api_call, assert_json, heap_zone};

thread_local! {
    static ZONE: &'static Shared = heap_zone(2 << 20);
}
static CLIENT: AtomicU32 = AtomicU32::new(1);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Relative `sources` files resolve under a directory that does not exist.
    let path = Path::new("/nonexistent/api-abuse-fuzz/profiles.toml");
    let profiles = match Profiles::parse(path, text) {
        Ok(p) => p,
        Err(e) => {
            let line = e.to_string();
            assert!(line.starts_with("profiles file \""), "{line}");
            assert!(!line.contains('\n'), "error is not one line: {line:?}");
            return;
        }
    };
    let shared = ZONE.with(|z| *z);
    let now = 1_800_000_000u64;
    let reply = api_call(shared, Some(&profiles), b"GET", b"", now);
    assert_eq!(reply.status, 200);
    assert_json("status", &reply.body);
    let mut learner = Learner::new();
    for profile in profiles.profiles.iter().take(4) {
        // A credential-stuffing burst: regular, fast, failing logins.
        let addr = IpAddr::V4(Ipv4Addr::from(CLIENT.fetch_add(1, Ordering::Relaxed)));
        let key = client_key(addr, 64);
        for i in 0..40u64 {
            let view = RequestView {
                method: b"POST",
                path: b"/login",
                user_agent: Some(b"python-requests/2.31"),
                status: 401,
                http_version: 1001,
                ..RequestView::default()
            };
            let app = profile
                .applications
                .first()
                .map_or("default", String::as_str);
            if let Some(out) = engine::observe(
                &Context {
                    shared,
                    profile,
                    app: app.as_bytes(),
                    key,
                    client: addr,
                    monitor: false,
                    now_ms: now * 1000 + i * 200,
                },
                &mut learner,
                &view,
            ) {
                assert_json("event", out.event.trim_end());
            }
        }
        // Keep the zone's lists small: the status document renders them all.
        shared.unlist(key);
    }
});
