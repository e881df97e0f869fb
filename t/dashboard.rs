//! The operator's console: the dashboard page served by the module, the
//! recent-events ring (seen by both workers) and the hourly and per-bot-type
//! counters behind the page. The page itself is driven in headless Chromium
//! by tests/browser/dashboard.mjs (ci/browser-test.sh).

use std::time::Duration;

use crate::harness::{http_conf, Nginx};

const PROFILES: &str = "[[profile]]\nname = \"all\"\ntolerance = \"low\"\nduration = \"1h\"\n";

fn start(name: &str) -> Nginx {
    let extra = "location /api-abuse/ { api_abuse off; api_abuse_api write; allow 127.0.0.1; deny all; }\n\
                 location = /api-abuse/dashboard { api_abuse off; api_abuse_dashboard; allow 127.0.0.1; deny all; }\n\
                 location = /console { api_abuse off; api_abuse_dashboard api=/api-abuse/; }";
    Nginx::start(
        name,
        &http_conf("abuse:4m", extra),
        &[("conf/profiles.toml", PROFILES)],
    )
}

fn json(n: &Nginx, path: &str) -> serde_json::Value {
    let r = n.get(path, &[]);
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    serde_json::from_str(&r.body).expect("JSON")
}

/// Sends a scanner from `ip` until it is refused; returns the requests sent.
fn scan_until_listed(n: &Nginx, ip: &str) -> usize {
    (0..200)
        .position(|i| {
            n.get(
                &format!("/.env?probe={i}"),
                &[("X-Forwarded-For", ip), ("User-Agent", "sqlmap/1.7")],
            )
            .status
                == 403
        })
        .expect("scanner listed")
}

#[test]
fn page_is_served_self_contained_with_a_strict_policy() {
    let n = start("dash-page");
    let r = n.get("/api-abuse/dashboard", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("text/html; charset=utf-8"));
    let csp = r.header("Content-Security-Policy").unwrap_or("");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    assert_eq!(r.header("X-Frame-Options"), Some("DENY"));
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
    assert!(r.body.contains("<meta name=\"api\" content=\"./\">"));
    assert!(r.body.contains("API abuse console"));
    // api= points the page elsewhere
    let r = n.get("/console", &[]);
    assert!(r
        .body
        .contains("<meta name=\"api\" content=\"/api-abuse/\">"));
    // the page is read-only
    assert_eq!(
        n.request("POST", "/api-abuse/dashboard", &[], Some("x"))
            .status,
        405
    );
}

#[test]
fn bad_dashboard_directives_fail_the_config_test() {
    for (bad, why) in [
        (
            "api_abuse_dashboard api=//evil.example/;",
            "it must be \"api=URI\"",
        ),
        ("api_abuse_dashboard api=/a\"b;", "it must be \"api=URI\""),
        ("api_abuse_dashboard nonsense;", "it must be \"api=URI\""),
        ("api_abuse_api; api_abuse_dashboard;", "mixed with"),
    ] {
        let extra = format!("location = /d {{ {bad} }}");
        let (prefix, _) = crate::harness::prepare(
            "dash-bad",
            &http_conf("abuse:4m", &extra),
            &[("conf/profiles.toml", PROFILES)],
        );
        let out = crate::harness::nginx_cmd(&prefix, &["-t"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{bad} accepted");
        assert!(err.contains("[emerg]") && err.contains(why), "{bad}: {err}");
    }
}

#[test]
fn recent_events_are_shared_by_every_worker() {
    let n = start("dash-events");
    let before = json(&n, "/api-abuse/?events");
    assert_eq!(before["events"].as_array().map(Vec::len), Some(0));
    assert_eq!(before["capacity"], 64);

    let ip = "192.0.2.71";
    scan_until_listed(&n, ip);
    // Whichever worker answers, the detection is there, with every
    // detector's verdict, figure and threshold and every bot type's
    // confidence: read it many times over fresh connections.
    for _ in 0..10 {
        let v = json(&n, "/api-abuse/?events=5");
        let evs = v["events"].as_array().expect("events");
        let e = evs
            .iter()
            .find(|e| e["event"]["client"] == ip)
            .expect("the scanner's event");
        let ev = &e["event"];
        assert_eq!(ev["bot_type"], "vulnerability_scanning");
        assert_eq!(ev["reaction"], "denylist");
        let dets = ev["assessment"]["detectors"]
            .as_object()
            .expect("detectors");
        assert_eq!(dets.len(), 11);
        assert!(dets
            .values()
            .all(|d| d["verdict"].is_string() && d["threshold"].is_number()));
        assert_eq!(dets["bad_user_agent"]["verdict"], "fired");
        assert_eq!(
            ev["assessment"]["confidence"].as_object().map(|c| c.len()),
            Some(8)
        );
        assert!(e["seq"].is_u64());
    }
    // `since` returns only what is newer
    let total = json(&n, "/api-abuse/?events")["total"]
        .as_u64()
        .expect("total");
    let newer = json(&n, &format!("/api-abuse/?events&since={total}"));
    assert_eq!(newer["events"].as_array().map(Vec::len), Some(0));
    let second = "192.0.2.72";
    scan_until_listed(&n, second);
    let newer = json(&n, &format!("/api-abuse/?events&since={total}"));
    let clients: Vec<&str> = newer["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["event"]["client"].as_str())
        .collect();
    assert_eq!(clients, [second]);

    assert_eq!(n.get("/api-abuse/?events=lots", &[]).status, 400);
    assert_eq!(n.get("/api-abuse/?events&since=-1", &[]).status, 400);
}

#[test]
fn timeline_counts_detections_refusals_and_listings_per_bot_type() {
    let n = start("dash-timeline");
    let ip = "192.0.2.81";
    scan_until_listed(&n, ip);
    for _ in 0..3 {
        assert_eq!(n.get("/", &[("X-Forwarded-For", ip)]).status, 403);
    }
    assert!(n.eventually(Duration::from_secs(2), || {
        let v = json(&n, "/api-abuse/?timeline=6");
        let hours = v["hours"].as_array().cloned().unwrap_or_default();
        hours.len() == 6
            && hours[5]["detections"].as_u64() >= Some(1)
            && hours[5]["refused"].as_u64() >= Some(4)
    }));
    let v = json(&n, "/api-abuse/?timeline");
    assert_eq!(
        v["hours"].as_array().map(Vec::len),
        Some(24),
        "24 hours by default"
    );
    let vs = &v["last_30_days_by_bot_type"]["vulnerability_scanning"];
    assert_eq!(vs["denylisted"], 1);
    assert_eq!(vs["previous_denylisted"], 0);
    assert!(
        vs["denylisted_change_pct"].is_null(),
        "no change against nothing"
    );
    assert_eq!(v["last_30_days_by_bot_type"]["scraping"]["denylisted"], 0);
    assert!(v["profiles_file"]["modified"].is_string());
    assert_eq!(
        v["profiles_file"]["version"],
        json(&n, "/api-abuse/")["profiles"]["version"]
    );
    assert_eq!(n.get("/api-abuse/?timeline=x", &[]).status, 400);
}

/// The page in a real browser: Debian's headless Chromium driven by
/// tests/browser/dashboard.mjs (playwright-core). Run by ci/browser-test.sh,
/// which installs playwright-core first (`npm ci`); ignored by a plain
/// `cargo test` because it needs node and chromium.
#[test]
#[ignore = "needs node, playwright-core and chromium: run ci/browser-test.sh"]
fn browser_shows_explains_and_unblocks_a_listed_client() {
    // The API wants a bearer token, as in the demo: the page asks for it.
    const TOKEN: &str = "browser-test-token-5f1c9a";
    let extra = "location /api-abuse/ { api_abuse_api write token=conf/tokens; allow 127.0.0.1; deny all; }\n\
                 location = /api-abuse/dashboard { api_abuse_dashboard; allow 127.0.0.1; deny all; }";
    let tokens = format!("{TOKEN}\n");
    let n = Nginx::start(
        "dash-browser",
        &http_conf("abuse:4m", extra),
        &[("conf/profiles.toml", PROFILES), ("conf/tokens", &tokens)],
    );
    let auth = format!("Bearer {TOKEN}");
    let auth = [("Authorization", auth.as_str())];
    let ip = "192.0.2.71";
    scan_until_listed(&n, ip);
    for _ in 0..5 {
        assert_eq!(n.get("/", &[("X-Forwarded-For", ip)]).status, 403);
    }
    for (addr, list, dur) in [
        ("198.51.100.20", "deny", "24h"),
        ("203.0.113.77", "gray", "1h"),
        ("10.1.2.3", "allow", "forever"),
    ] {
        let r = n.request(
            "POST",
            &format!("/api-abuse/?addr={addr}&list={list}&duration={dur}"),
            &auth,
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let base = format!("http://127.0.0.1:{}", n.port);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let mut cmd = std::process::Command::new("node");
    cmd.current_dir(&dir)
        .arg("dashboard.mjs")
        .args(["--url", &format!("{base}/api-abuse/dashboard")])
        .args(["--api", &format!("{base}/api-abuse/")])
        .args(["--client", ip])
        .args(["--token", TOKEN]);
    if let Ok(shots) = std::env::var("API_ABUSE_SHOTS") {
        cmd.args(["--shots", &shots]);
    }
    let out = cmd.output().expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "browser test failed:\n{stdout}");
    assert!(stdout.contains("\"ok\":true"));
    // What the browser did, seen from nginx: the client was unblocked, then
    // denylisted again from its detection, for 1 hour; the form's entry is in.
    assert_eq!(n.get("/api-abuse/", &[]).status, 401, "no token, no API");
    let r = n.get("/api-abuse/", &auth);
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("JSON");
    let entry = |a: &str| {
        v["lists"]
            .as_array()
            .and_then(|l| l.iter().find(|e| e["addr"] == a).cloned())
    };
    let e = entry(ip).expect("listed again");
    assert_eq!(
        (e["list"].as_str(), e["origin"].as_str()),
        (Some("deny"), Some("operator"))
    );
    assert_ne!(e["expires"], "forever");
    assert_eq!(
        entry("203.0.113.50").map(|e| e["list"].clone()),
        Some("gray".into())
    );
    assert_eq!(n.get("/", &[("X-Forwarded-For", ip)]).status, 403);
}
