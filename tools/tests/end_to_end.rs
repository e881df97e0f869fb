//! The simulator against the real demo shop over loopback: with nothing in
//! between, nobody may be blocked, no request may fail, every client must
//! finish, and the profiles file must come back byte for byte.

use api_abuse_tools::shop::assets::Assets;
use api_abuse_tools::shop::server::{bind, serve, Options as ShopOptions};
use api_abuse_tools::shop::Shop;
use api_abuse_tools::sim::args::Options;
use api_abuse_tools::sim::simulate;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

const PROFILES: &str =
    "# test profiles\n[[profile]]\nname = \"shop\"\ntolerance = \"normal\" # keep me\n";

#[test]
fn simulator_against_the_bare_shop() {
    let static_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../nginx-conf/demo/static");
    let assets = Assets::load(&static_dir).unwrap_or_default();
    let listener = bind("127.0.0.1:0");
    let Ok(listener) = listener else {
        panic!("bind failed: {:?}", listener.err())
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let shop = Arc::new(Shop::new(assets));
    std::thread::spawn(move || {
        serve(
            listener,
            shop,
            &ShopOptions {
                threads: 8,
                access_log: false,
                latency: std::time::Duration::ZERO,
            },
        )
    });

    let dir = std::env::temp_dir().join(format!("abuse-sim-e2e-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let profiles = dir.join("profiles.toml");
    assert!(std::fs::write(&profiles, PROFILES).is_ok());

    let o = Options {
        target: format!("http://127.0.0.1:{port}"),
        profiles: Some(profiles.clone()),
        tolerances: vec!["low".into(), "high".into()],
        humans: 10,
        hard_per_case: 1,
        nat_size: 3,
        bots_per_type: 4,
        time_scale: 0.003,
        person_min_pause: 0.0,
        human_cap: 25,
        bot_cap: 40,
        reload_wait: 0.0,
        max_seconds: 60.0,
        ..Options::default()
    };
    let reports = simulate(&o, &AtomicBool::new(false));
    let Ok(reports) = reports else {
        panic!("simulate failed: {:?}", reports.err())
    };
    assert_eq!(
        reports
            .iter()
            .map(|r| r.tolerance.as_str())
            .collect::<Vec<_>>(),
        ["low", "high"]
    );
    for r in &reports {
        assert!(!r.cut_short, "{}: cut short", r.tolerance);
        let bots = r.bots.get("all").cloned().unwrap_or_default();
        assert_eq!(
            (bots.clients, bots.blocked, bots.errors, bots.status_5xx),
            (32, 0, 0, 0)
        );
        assert_eq!(
            bots.requests,
            32 * 40,
            "every bot runs to its cap when nothing blocks it"
        );
        let humans = r.humans.get("all").cloned().unwrap_or_default();
        assert_eq!(
            (
                humans.clients,
                humans.blocked,
                humans.errors,
                humans.status_5xx
            ),
            (10, 0, 0, 0)
        );
        assert_eq!(r.hard_humans.len(), 5);
        assert!(r
            .hard_humans
            .values()
            .all(|h| h.blocked == 0 && h.errors == 0 && h.requests > 0));
    }
    assert_eq!(
        std::fs::read_to_string(&profiles).ok().as_deref(),
        Some(PROFILES)
    );
    assert!(!dir.join("profiles.toml.abuse-sim.bak").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A stand-in for the module: answers 200 to each client's first ten
/// requests and blocks from the eleventh on, the way the module marks it.
fn fake_module(listener: std::net::TcpListener) {
    use api_abuse_tools::shop::http::ShopResponse;
    use api_abuse_tools::shop::wire::{read_body, read_head, write_response};
    use std::collections::HashMap;
    use std::sync::Mutex;
    let seen: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    for stream in listener.incoming().flatten() {
        let seen = Arc::clone(&seen);
        std::thread::spawn(move || {
            let Ok(read_half) = stream.try_clone() else {
                return;
            };
            let mut reader = std::io::BufReader::new(read_half);
            let mut writer = stream;
            while let Ok(Some(head)) = read_head(&mut reader) {
                let n = head.body_length().unwrap_or(0);
                if read_body(&mut reader, n).is_err() {
                    return;
                }
                let count = {
                    let mut map = seen.lock().unwrap_or_else(|e| e.into_inner());
                    let c = map
                        .entry(head.header("X-Forwarded-For").to_owned())
                        .or_insert(0);
                    *c += 1;
                    *c
                };
                let resp = if count > 10 {
                    ShopResponse::text(403, "blocked")
                        .with_header("X-Api-Abuse-Action", "block".into())
                } else {
                    ShopResponse::text(200, "ok")
                };
                if write_response(&mut writer, &resp, false, true).is_err() {
                    return;
                }
            }
        });
    }
}

#[test]
fn blocks_are_counted_and_stop_the_client() {
    let listener = bind("127.0.0.1:0");
    let Ok(listener) = listener else {
        panic!("bind failed")
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    std::thread::spawn(move || fake_module(listener));
    let o = Options {
        target: format!("http://127.0.0.1:{port}"),
        humans: 0,
        hard_per_case: 1,
        nat_size: 3,
        bots_per_type: 3,
        time_scale: 0.002,
        person_min_pause: 0.0,
        human_cap: 30,
        bot_cap: 40,
        max_seconds: 60.0,
        ..Options::default()
    };
    let reports = simulate(&o, &AtomicBool::new(false));
    let Ok(reports) = reports else {
        panic!("simulate failed: {:?}", reports.err())
    };
    let r = &reports[0];
    let bots = r.bots.get("all").cloned().unwrap_or_default();
    assert_eq!(
        (bots.clients, bots.blocked, bots.blocked_pct),
        (24, 24, 100.0)
    );
    assert_eq!(bots.median_requests_before_block, Some(10.0));
    assert_eq!(bots.requests, 24 * 11, "each bot stops at its first block");
    // Every hard case sends more than ten requests, so each is (wrongly) blocked.
    assert!(r
        .hard_humans
        .values()
        .all(|h| h.blocked == 1 && h.median_requests_before_block == Some(10.0)));
    assert_eq!(r.humans.get("all").map(|h| h.clients), Some(0));
}

/// One worker, one idle keep-alive connection: a second client must still be
/// served at once (nginx's upstream keepalive pool holds idle connections).
#[test]
fn idle_keepalive_connections_do_not_starve_new_ones() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let listener = bind("127.0.0.1:0");
    let Ok(listener) = listener else {
        panic!("bind failed")
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let shop = Arc::new(Shop::new(Assets::default()));
    std::thread::spawn(move || {
        serve(
            listener,
            shop,
            &ShopOptions {
                threads: 1,
                access_log: false,
                latency: std::time::Duration::ZERO,
            },
        )
    });
    let get = |s: &mut std::net::TcpStream| -> String {
        let _ = s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let Ok(mut idle) = std::net::TcpStream::connect(&addr) else {
        panic!("connect")
    };
    assert!(
        get(&mut idle).contains("Connection: keep-alive"),
        "kept alive while nobody waits"
    );
    let started = Instant::now();
    let Ok(mut other) = std::net::TcpStream::connect(&addr) else {
        panic!("connect")
    };
    let _ = other.set_read_timeout(Some(Duration::from_secs(4)));
    assert!(get(&mut other).starts_with("HTTP/1.1 200"));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
}
