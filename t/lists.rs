//! Manual lists and exceptions from the profiles file: deny by IP and CIDR
//! (v4 and v6), allow beats deny, exceptions by address and country, expiry,
//! and monitor mode.

use crate::harness::{http_conf, xff, Nginx};

const PROFILES: &str = r#"
[lists]
deny  = ["192.0.2.10", "198.51.100.0/24", "2001:db8:bad::/48",
         { addr = "192.0.2.77", expires = "2001-01-01T00:00:00Z", comment = "long expired" },
         { addr = "192.0.2.78", expires = "2999-01-01T00:00:00Z", comment = "far future" }]
gray  = ["203.0.113.0/24"]
allow = ["198.51.100.7"]
[exceptions]
addrs = ["192.0.2.200", "2001:db8:bad:1::/64"]
countries = ["NL"]
"#;

fn start(name: &str, extra: &str) -> Nginx {
    let body = format!(
        "map $http_x_country $client_country {{ default \"\"; ~^(?<c>..)$ $c; }}\n\
         api_abuse_country $client_country;\n{}",
        http_conf("abuse:2m", extra)
    );
    Nginx::start(name, &body, &[("conf/profiles.toml", PROFILES)])
}

#[test]
fn deny_by_ip_and_cidr_v4_v6() {
    let n = start("lists-deny", "");
    assert_eq!(n.get("/", &xff("192.0.2.10")).status, 403);
    assert_eq!(n.get("/", &xff("198.51.100.42")).status, 403);
    assert_eq!(n.get("/", &xff("2001:db8:bad:ffff::1")).status, 403);
    assert_eq!(n.get("/", &xff("192.0.2.11")).status, 200);
    assert_eq!(n.get("/", &xff("2001:db8:bae::1")).status, 200);
    assert_eq!(n.get("/", &[]).status, 200, "loopback itself is not listed");
    let log = n.access_log();
    assert!(
        log.contains("192.0.2.10 ") && log.contains(" 403 [block] [deny]"),
        "{log}"
    );
}

#[test]
fn allow_beats_deny_and_exceptions_pass() {
    let n = start("lists-allow", "");
    let r = n.get("/", &xff("198.51.100.7"));
    assert_eq!(r.status, 200, "allow beats the /24 deny");
    // an exception inside a denied /48
    assert_eq!(n.get("/", &xff("2001:db8:bad:1::9")).status, 200);
    assert_eq!(n.get("/", &xff("192.0.2.200")).status, 200);
    // a denied address from an excepted country passes
    assert_eq!(
        n.get(
            "/",
            &[("X-Forwarded-For", "192.0.2.10"), ("X-Country", "NL")]
        )
        .status,
        200
    );
    assert_eq!(
        n.get(
            "/",
            &[("X-Forwarded-For", "192.0.2.10"), ("X-Country", "DE")]
        )
        .status,
        403
    );
    let log = n.access_log();
    assert!(log.contains("[allow] [allow]"), "{log}");
    assert!(log.contains("[exception] [exception]"), "{log}");
}

#[test]
fn expired_entries_do_not_block() {
    let n = start("lists-expiry", "");
    assert_eq!(n.get("/", &xff("192.0.2.77")).status, 200);
    assert_eq!(n.get("/", &xff("192.0.2.78")).status, 403);
}

#[test]
fn graylist_passes_clean_requests_and_refuses_attacks() {
    let n = start("lists-gray", "");
    assert_eq!(n.get("/", &xff("203.0.113.9")).status, 200);
    assert_eq!(
        n.get("/?id=1%27%20OR%20%271%27%3D%271", &xff("203.0.113.9"))
            .status,
        403
    );
    assert_eq!(n.get("/?q=O%27Brien", &xff("203.0.113.9")).status, 200);
    // a clean client sending the same attack is not refused (not graylisted)
    assert_eq!(
        n.get("/?id=1%27%20OR%20%271%27%3D%271", &xff("192.0.2.50"))
            .status,
        200
    );
    let log = n.access_log();
    assert!(log.contains("[block] [gray] [] [sqli]"), "{log}");
}

#[test]
fn status_code_is_configurable_per_location() {
    let n = start(
        "lists-status",
        "location /api/ { root html; api_abuse_status 429; }",
    );
    assert_eq!(n.get("/api/x", &xff("192.0.2.10")).status, 429);
    assert_eq!(n.get("/", &xff("192.0.2.10")).status, 403);
}

#[test]
fn off_and_monitor_locations() {
    let n = start(
        "lists-monitor",
        "location /static/ { api_abuse off; root html; }\n\
         location /watch/ { api_abuse monitor; alias html/; }",
    );
    std::fs::create_dir_all(n.path("html/static")).unwrap();
    std::fs::write(n.path("html/static/a.css"), "body{}").unwrap();
    assert_eq!(n.get("/static/a.css", &xff("192.0.2.10")).status, 200);
    assert_eq!(n.get("/watch/index.html", &xff("192.0.2.10")).status, 200);
    assert!(n
        .error_log()
        .contains("client 192.0.2.10 would be blocked (denylisted, monitor mode)"));
    assert!(n
        .access_log_with(|l| l.contains("[monitor] [deny]"))
        .contains("[monitor] [deny]"));
}

#[test]
fn realip_at_server_and_location_level() {
    // No http-level set_real_ip_from: one server trusts X-Forwarded-For at
    // server level, the other only inside a location. The module's PREACCESS
    // handler runs after realip's, so both see the forwarded address.
    let body = "api_abuse_zone abuse:2m;\n\
        api_abuse_profiles conf/profiles.toml;\n\
        server { listen 127.0.0.1:{port}; api_abuse on;\n\
            location / { set_real_ip_from 127.0.0.1; real_ip_header X-Forwarded-For; root html; }\n\
            location /plain/ { alias html/; }\n\
        }\n\
        server { listen 127.0.0.1:{port2}; api_abuse on;\n\
            set_real_ip_from 127.0.0.1; real_ip_header X-Forwarded-For;\n\
            location / { root html; }\n\
        }";
    let n = Nginx::start("lists-realip", body, &[("conf/profiles.toml", PROFILES)]);
    assert_eq!(
        n.get("/", &xff("192.0.2.10")).status,
        403,
        "location-level realip"
    );
    assert_eq!(n.get("/", &xff("192.0.2.11")).status, 200);
    // without realip in that location the client is loopback: not listed
    assert_eq!(n.get("/plain/index.html", &xff("192.0.2.10")).status, 200);
    let conf = std::fs::read_to_string(n.path("conf/nginx.conf")).unwrap();
    let port2: u16 = conf
        .split("listen 127.0.0.1:")
        .nth(2)
        .and_then(|s| s.split(';').next())
        .and_then(|p| p.parse().ok())
        .unwrap();
    assert_eq!(
        crate::harness::request(port2, "GET", "/", &xff("192.0.2.10"), None).status,
        403,
        "server-level realip"
    );
    assert_eq!(
        crate::harness::request(port2, "GET", "/", &xff("192.0.2.11"), None).status,
        200
    );
}
