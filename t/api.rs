//! The JSON API and the metrics: lists with reasons, add / delete / change
//! expiry, statistics, profiles version; read-only and write locations.

use crate::harness::{http_conf, xff, Nginx};

const PROFILES: &str = "[[profile]]\nname = \"all\"\ntolerance = \"low\"\nduration = \"1h\"\n";

fn start(name: &str) -> Nginx {
    let extra =
        "location /api-abuse/ { api_abuse off; api_abuse_api write; allow 127.0.0.1; deny all; }\n\
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
fn an_attack_in_a_redirected_request_is_seen_and_counted_once() {
    let n = start("api-count-attack");
    // "/" is answered through an internal redirect (index): the second
    // PREACCESS pass takes the first's verdict on the client's target (the
    // same `unparsed_uri`) instead of scanning again, and counts nothing.
    for i in 0..3 {
        let q = format!("/?id=1%27%20OR%20%271%27%3D%271&n={i}");
        assert_eq!(n.get(&q, &xff("192.0.2.61")).status, 200);
    }
    let sqli = || json(&n, "GET", "/api-abuse/").1["statistics"]["attacks"]["sqli"].clone();
    n.eventually(std::time::Duration::from_secs(2), || sqli() == 3);
    assert_eq!(sqli(), 3);
    // and the access log of the redirected request still names it
    assert!(n.eventually(std::time::Duration::from_secs(2), || {
        n.access_log().matches("[sqli]").count() >= 3
    }));
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

const TOKEN: &str = "tK3v9QmZ2pL8xWc4Rb7N";
const OTHER_TOKEN: &str = "Zz0123456789abcdefABCDEF";

/// An API location with tokens, as a prefix location (so `lists` is below
/// it), without `api_abuse off`: the module never refuses it by itself.
fn start_with_tokens(name: &str) -> Nginx {
    let extra = "location /api-abuse/ { api_abuse_api write token=conf/api.tokens; allow 127.0.0.1; deny all; }\n\
                 location = /metrics { api_abuse_metrics; allow 127.0.0.1; deny all; }";
    let tokens = format!("# operators\n{OTHER_TOKEN}\n\n{TOKEN}\n");
    let n = Nginx::start(
        name,
        &http_conf("abuse:4m", extra),
        &[
            ("conf/profiles.toml", PROFILES),
            ("conf/api.tokens", tokens.as_str()),
        ],
    );
    n
}

fn call(n: &Nginx, method: &str, path: &str, headers: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let r = n.request(method, path, headers, None);
    (
        r.status,
        serde_json::from_str(&r.body).unwrap_or(serde_json::Value::Null),
    )
}

fn bearer(token: &str) -> (&'static str, String) {
    ("Authorization", format!("Bearer {token}"))
}

#[test]
fn token_is_required_for_every_call_and_never_logged() {
    let n = start_with_tokens("api-token");
    let (k, v) = bearer(TOKEN);
    let good = [(k, v.as_str())];
    let (k2, v2) = bearer(OTHER_TOKEN);
    let other = [(k2, v2.as_str())];
    let wrong_v = format!("Bearer {}x", TOKEN);
    let prefix_v = format!("Bearer {}", &TOKEN[..TOKEN.len() - 1]);
    let basic_v = format!("Basic {TOKEN}");
    for bad in [
        vec![],
        vec![("Authorization", wrong_v.as_str())],
        vec![("Authorization", prefix_v.as_str())],
        vec![("Authorization", basic_v.as_str())],
        vec![("Authorization", "Bearer")],
    ] {
        for (method, path) in [
            ("GET", "/api-abuse/"),
            ("GET", "/api-abuse/lists"),
            ("POST", "/api-abuse/?addr=192.0.2.90&list=deny"),
            ("DELETE", "/api-abuse/?addr=192.0.2.90"),
        ] {
            let r = n.request(method, path, &bad, None);
            assert_eq!(r.status, 401, "{method} {path} with {bad:?}: {}", r.body);
            assert!(
                r.header("WWW-Authenticate")
                    .unwrap_or("")
                    .starts_with("Bearer"),
                "{:?}",
                r.headers
            );
            let v: serde_json::Value = serde_json::from_str(&r.body).expect("JSON error");
            assert!(v["error"].is_string());
        }
    }
    // nothing was changed by the refused calls
    assert_eq!(n.get("/", &xff("192.0.2.90")).status, 200);
    // a cross-site form post (no Authorization header possible) is refused
    let r = n.request(
        "POST",
        "/api-abuse/?addr=192.0.2.91&list=deny",
        &[
            ("Origin", "https://evil.example"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some("x=1"),
    );
    assert_eq!(r.status, 401);
    // realip lets anyone behind the trusted proxy pass `allow 127.0.0.1`
    // with this header: the token still stands in the way
    assert_eq!(
        n.request(
            "POST",
            "/api-abuse/?addr=192.0.2.91&list=deny",
            &xff("127.0.0.1"),
            None
        )
        .status,
        401
    );
    assert_eq!(n.get("/", &xff("192.0.2.91")).status, 200);

    // either token of the file works, for reads and writes
    assert_eq!(call(&n, "GET", "/api-abuse/", &good).0, 200);
    assert_eq!(call(&n, "GET", "/api-abuse/lists", &other).0, 200);
    let (s, v) = call(&n, "POST", "/api-abuse/?addr=192.0.2.90&list=deny", &good);
    assert_eq!(s, 200, "{v}");
    assert_eq!(n.get("/", &xff("192.0.2.90")).status, 403);
    let (s, v) = call(&n, "DELETE", "/api-abuse/lists?addr=192.0.2.90", &other);
    assert_eq!((s, v["removed"].clone()), (200, serde_json::json!(true)));
    assert_eq!(n.get("/", &xff("192.0.2.90")).status, 200);

    let logs = format!("{}{}", n.error_log(), n.access_log());
    assert!(
        !logs.contains(TOKEN) && !logs.contains(&TOKEN[..12]),
        "token logged"
    );
}

#[test]
fn api_and_metrics_are_never_refused_by_the_module() {
    let n = start_with_tokens("api-never-refused");
    let (k, v) = bearer(TOKEN);
    let good = [(k, v.as_str())];
    // the operator lists their own address (by mistake)
    let (s, _) = call(&n, "POST", "/api-abuse/?addr=127.0.0.1&list=deny", &good);
    assert_eq!(s, 200);
    assert_eq!(n.get("/", &[]).status, 403, "the site refuses the address");
    assert_eq!(
        call(&n, "GET", "/api-abuse/", &good).0,
        200,
        "the API does not"
    );
    assert_eq!(n.get("/metrics", &[]).status, 200, "nor do the metrics");
    let (s, _) = call(&n, "DELETE", "/api-abuse/?addr=127.0.0.1", &good);
    assert_eq!(s, 200, "and the mistake can be undone");
    assert_eq!(n.get("/", &[]).status, 200);
    // a scanner hammering the API location is not detected there either
    for i in 0..60 {
        n.request(
            "GET",
            &format!("/api-abuse/.git/config?{i}"),
            &[
                ("X-Forwarded-For", "192.0.2.77"),
                ("User-Agent", "sqlmap/1.7"),
            ],
            None,
        );
    }
    let (_, v) = call(&n, "GET", "/api-abuse/lists?addr=192.0.2.77", &good);
    assert_eq!(v["matched"], 0, "{v}");
}

#[test]
fn lists_are_paginated_and_filtered() {
    let n = start("api-pages");
    for i in 0..25 {
        let list = if i % 5 == 0 { "gray" } else { "deny" };
        let (s, v) = json(
            &n,
            "POST",
            &format!(
                "/api-abuse/?addr=192.0.2.{}&list={list}&duration=1h",
                100 + i
            ),
        );
        assert_eq!(s, 200, "{v}");
    }
    for i in 0..3 {
        assert_eq!(
            json(
                &n,
                "POST",
                &format!("/api-abuse/?addr=2001:db8:{i}::1&list=deny")
            )
            .0,
            200
        );
    }
    // three pages of 10 cover every entry once, in address order
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for page in 0.. {
        let (s, v) = json(&n, "GET", &format!("/api-abuse/?limit=10{cursor}"));
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["lists_matched"], 28);
        let rows = v["lists"].as_array().unwrap();
        seen.extend(rows.iter().map(|e| e["addr"].as_str().unwrap().to_string()));
        match v["lists_next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(rows.len(), 10);
                cursor = format!("&cursor={c}");
            }
            None => {
                assert_eq!(page, 2);
                assert_eq!(rows.len(), 8);
                break;
            }
        }
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique.len(), 28, "{seen:?}");
    assert_eq!(seen[0], "192.0.2.100");
    assert_eq!(seen[27], "2001:db8:2::", "IPv6 after IPv4, by /64");

    let count = |q: &str| {
        let (s, v) = json(&n, "GET", &format!("/api-abuse/lists?{q}"));
        assert_eq!(s, 200, "{q}: {v}");
        v["matched"].as_u64().unwrap()
    };
    assert_eq!(count("list=gray"), 5);
    let (_, v) = json(&n, "GET", "/api-abuse/?limit=1");
    assert_eq!(
        v["lists_matched_by_list"],
        serde_json::json!({"deny": 23, "gray": 5, "allow": 0, "challenge": 0}),
        "totals beyond the page"
    );
    assert_eq!(
        count("list=deny&addr=192.0.2.96/28"),
        9,
        ".100-.111 but the gray .100, .105, .110"
    );
    assert_eq!(count("addr=2001:db8::/32"), 3);
    assert_eq!(count("addr=192.0.2.104"), 1);
    assert_eq!(count("origin=operator"), 28);
    assert_eq!(count("origin=detection"), 0);
    assert_eq!(count("bot_type=scraping"), 0);
    let (_, v) = json(&n, "GET", "/api-abuse/lists?list=gray&limit=2");
    assert_eq!(v["lists"].as_array().unwrap().len(), 2);
    assert!(v["next_cursor"].is_string());

    // bad parameters: 400 with a JSON error, nothing changed
    for q in [
        "/api-abuse/?limit=0",
        "/api-abuse/?limit=1001",
        "/api-abuse/lists?limit=ten",
        "/api-abuse/lists?cursor=nope",
        "/api-abuse/lists?list=black",
        "/api-abuse/lists?origin=robot",
        "/api-abuse/lists?bot_type=pirates",
        "/api-abuse/lists?addr=300.1.2.3",
        "/api-abuse/lists?addr=192.0.2.0/33",
        "/api-abuse/lists?colour=red",
        "/api-abuse/lists?list=deny&list=gray",
        "/api-abuse/lists?addr=%zz",
    ] {
        let (s, v) = json(&n, "GET", q);
        assert_eq!(s, 400, "{q}: {v}");
        assert!(v["error"].is_string(), "{q}: {v}");
    }
    for q in [
        "/api-abuse/?addr=192.0.2.200&list=deny&duration=soon",
        "/api-abuse/?addr=192.0.2.200&list=deny&expires=1h",
        "/api-abuse/?addr=192.0.2.200&list=deny&addr=192.0.2.201",
        "/api-abuse/?addr=192.0.2.0/24&list=deny",
        "/api-abuse/?list=deny",
    ] {
        let (s, v) = json(&n, "POST", q);
        assert_eq!(s, 400, "{q}: {v}");
        assert!(v["error"].is_string());
    }
    assert_eq!(
        json(&n, "DELETE", "/api-abuse/?addr=192.0.2.100&list=deny").0,
        400
    );
    let (_, v) = json(&n, "GET", "/api-abuse/");
    assert_eq!(v["lists_matched"], 28, "nothing changed");
    assert_eq!(n.get("/", &xff("192.0.2.200")).status, 200);
    assert_eq!(
        n.get("/", &xff("192.0.2.100")).status,
        200,
        "gray: clean requests pass"
    );
    assert_eq!(n.get("/", &xff("192.0.2.101")).status, 403);
}

#[test]
fn token_file_errors_fail_the_configuration_without_showing_tokens() {
    use crate::harness::{nginx_cmd, prepare};
    let http = |tokens: &str| {
        format!(
            "api_abuse_zone abuse:2m;\n\
             server {{ listen 127.0.0.1:{{port}}; location /a/ {{ api_abuse_api write {tokens}; }} }}"
        )
    };
    let cases = [
        ("token=conf/missing.tokens", "", "cannot read token file"),
        (
            "token=conf/t.tokens",
            "# only a comment\n",
            "holds no token",
        ),
        (
            "token=conf/t.tokens",
            "secret-but-short\nshort1\n",
            "line 2: token shorter than 16",
        ),
        (
            "token=conf/t.tokens",
            "has spaces in it, sadly\n",
            "line 1: token has characters",
        ),
        ("read", "", "invalid parameter \"read\""),
        ("write", "", "invalid parameter \"write\""),
    ];
    for (i, (args, file, expect)) in cases.iter().enumerate() {
        let (prefix, _) = prepare(
            &format!("api-token-conf{i}"),
            &http(args),
            &[("conf/t.tokens", file)],
        );
        let out = nginx_cmd(&prefix, &["-t"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args}: {err}");
        assert!(
            err.contains("[emerg]") && err.contains(expect),
            "{args}: {err}"
        );
        assert!(
            !file.lines().any(|l| l.len() > 3 && err.contains(l)),
            "token shown: {err}"
        );
    }
    // a good file passes; `nginx -s` does not read it
    let (prefix, _) = prepare(
        "api-token-conf-good",
        &http("token=conf/t.tokens"),
        &[("conf/t.tokens", "0123456789abcdef0123\n")],
    );
    let out = nginx_cmd(&prefix, &["-t"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn signals_work_while_the_token_file_is_missing() {
    let mut n = start_with_tokens("api-token-signal");
    std::fs::remove_file(n.path("conf/api.tokens")).expect("rm");
    n.signal("reopen");
    n.signal("quit");
    n.stop();
    assert!(n
        .master_pid()
        .is_none_or(|p| !std::path::Path::new(&format!("/proc/{p}")).exists()));
}

#[test]
fn cross_site_writes_are_refused_without_tokens_too() {
    let n = start("api-cross-site");
    let form = |headers: &[(&str, &str)]| {
        n.request(
            "POST",
            "/api-abuse/?addr=192.0.2.95&list=deny",
            headers,
            Some("x=1"),
        )
        .status
    };
    // what a page on another site makes the operator's browser send
    assert_eq!(form(&[("Origin", "https://evil.example")]), 403);
    assert_eq!(form(&[("Sec-Fetch-Site", "cross-site")]), 403);
    assert_eq!(form(&[("Origin", "null")]), 403);
    assert_eq!(
        n.request(
            "DELETE",
            "/api-abuse/?addr=192.0.2.95",
            &[("Origin", "http://evil.example")],
            None
        )
        .status,
        403
    );
    assert_eq!(n.get("/", &xff("192.0.2.95")).status, 200, "nothing listed");
    // the dashboard's own page (same origin) and curl (no Origin) work
    assert_eq!(
        form(&[
            ("Origin", "http://localhost"),
            ("Sec-Fetch-Site", "same-origin")
        ]),
        200
    );
    assert_eq!(n.get("/", &xff("192.0.2.95")).status, 403);
    assert_eq!(json(&n, "DELETE", "/api-abuse/?addr=192.0.2.95").0, 200);
}
