//! The JSON API and the metrics: lists with reasons, add / delete / change
//! expiry, statistics, profiles version; read-only and write locations.

use crate::harness::{http_conf, xff, Nginx};

const PROFILES: &str = "[[profile]]\nname = \"all\"\ntolerance = \"low\"\nduration = \"1h\"\n";

fn start(name: &str) -> Nginx {
    let extra = "location = /api-abuse/ { api_abuse off; api_abuse_api write; allow 127.0.0.1; deny all; }\n\
                 location = /api-abuse/ro { api_abuse off; api_abuse_api; }\n\
                 location = /metrics { api_abuse off; api_abuse_metrics; }";
    Nginx::start(
        name,
        &http_conf("abuse:4m", extra),
        &[("conf/profiles.toml", PROFILES)],
    )
}

fn json(n: &Nginx, method: &str, path: &str) -> (u16, serde_json::Value) {
    let r = n.request(method, path, &[], None);
    (
        r.status,
        serde_json::from_str(&r.body).unwrap_or(serde_json::Value::Null),
    )
}

/// The run-time list entry of `addr` shown by the API.
fn list_entry(n: &Nginx, addr: &str) -> Option<serde_json::Value> {
    let (_, status) = json(n, "GET", "/api-abuse/");
    status["lists"]
        .as_array()?
        .iter()
        .find(|e| e["addr"] == addr)
        .cloned()
}

#[test]
fn add_change_and_delete_entries() {
    let n = start("api-lists");
    assert_eq!(n.get("/", &xff("192.0.2.31")).status, 200);
    let (s, v) = json(
        &n,
        "POST",
        "/api-abuse/?addr=192.0.2.31&list=deny&duration=2h",
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["list"], "deny");
    assert_eq!(n.get("/", &xff("192.0.2.31")).status, 403);

    let entry = list_entry(&n, "192.0.2.31").expect("listed");
    assert_eq!(entry["origin"], "operator");
    let first_expiry = entry["expires"].as_str().unwrap().to_string();
    // change the expiry
    let (_, v) = json(
        &n,
        "POST",
        "/api-abuse/?addr=192.0.2.31&list=deny&duration=forever",
    );
    assert_eq!(v["expires"], "forever");
    let entry = list_entry(&n, "192.0.2.31").expect("listed");
    assert_ne!(entry["expires"].as_str().unwrap(), first_expiry);

    let (s, v) = json(&n, "DELETE", "/api-abuse/?addr=192.0.2.31");
    assert_eq!((s, v["removed"].clone()), (200, serde_json::json!(true)));
    assert_eq!(n.get("/", &xff("192.0.2.31")).status, 200);

    assert_eq!(json(&n, "POST", "/api-abuse/?addr=nope&list=deny").0, 400);
    assert_eq!(
        json(&n, "POST", "/api-abuse/?addr=192.0.2.1&list=black").0,
        400
    );
    assert_eq!(
        json(&n, "POST", "/api-abuse/ro?addr=192.0.2.1&list=deny").0,
        403,
        "read-only location"
    );
    assert_eq!(json(&n, "GET", "/api-abuse/ro").0, 200);
}

#[test]
fn unlisting_a_detected_client_clears_its_state() {
    let n = start("api-unlist");
    let ip = "192.0.2.44";
    let scan = |i: usize| {
        n.get(
            &format!("/.git/config?{i}"),
            &[("X-Forwarded-For", ip), ("User-Agent", "sqlmap/1.7")],
        )
        .status
    };
    let sent = (0..200)
        .position(|i| scan(i) == 403)
        .expect("scanner listed");
    let (_, status) = json(&n, "GET", "/api-abuse/");
    let e = status["lists"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["addr"] == ip)
        .cloned()
        .unwrap();
    assert_eq!(e["origin"], "detection");
    assert_eq!(e["bot_type"], "vulnerability_scanning");
    assert!(
        status["statistics"]["detections"]["vulnerability_scanning"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert!(
        status["statistics"]["detectors_fired"]["bad_user_agent"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert!(
        status["statistics"]["last_30_days"]["denylisted"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert!(status["profiles"]["version"].is_string());

    assert_eq!(json(&n, "DELETE", &format!("/api-abuse/?addr={ip}")).0, 200);
    // the detector state went with the entry: the next scanner request is
    // served, not re-listed at once
    assert_ne!(scan(1000), 403);
    assert_ne!(scan(1001), 403);
    let _ = sent;
}

#[test]
fn internal_redirects_are_counted_once() {
    let n = start("api-count");
    // "/" is served by an internal redirect to /index.html: PREACCESS runs
    // twice, the request is counted once
    for _ in 0..3 {
        assert_eq!(n.get("/", &xff("192.0.2.60")).status, 200);
    }
    n.eventually(std::time::Duration::from_secs(2), || {
        json(&n, "GET", "/api-abuse/").1["statistics"]["requests"] == 3
    });
    assert_eq!(
        json(&n, "GET", "/api-abuse/").1["statistics"]["requests"],
        3
    );
}

#[test]
fn metrics_are_prometheus_text() {
    let n = start("api-metrics");
    n.get("/", &xff("192.0.2.50"));
    let r = n.get("/metrics", &[]);
    assert_eq!(r.status, 200);
    assert!(r
        .header("Content-Type")
        .unwrap_or("")
        .starts_with("text/plain"));
    assert!(r.body.contains("# TYPE api_abuse_requests_total counter"));
    assert!(r
        .body
        .contains("api_abuse_detections_total{bot_type=\"scraping\"}"));
    assert!(r.body.contains("api_abuse_client_capacity "));
}
