//! The shared zone: one state for both workers, kept across `nginx -s
//! reload`, saved to the state file and loaded after a restart, and a full
//! zone that evicts idle clients without a crash.

use std::time::Duration;

use crate::harness::{http_conf, xff, Nginx};

/// A profile that denylists a client scanning for vulnerabilities quickly.
const SCANNER_PROFILE: &str = r#"
[[profile]]
name = "all"
tolerance = "low"
reaction = "denylist"
duration = "1h"
"#;

/// Drives a scanner from `ip` until it is refused; returns the number of requests sent.
pub fn scan_until_blocked(n: &Nginx, ip: &str, max: usize) -> Option<usize> {
    let probes = [
        "/.env",
        "/.git/config",
        "/wp-login.php",
        "/phpmyadmin/",
        "/admin.php?id=1%27%20or%201=1--",
        "/etc/passwd",
        "/../../etc/passwd",
        "/backup.sql",
    ];
    for i in 0..max {
        let p = probes[i % probes.len()];
        let r = n.get(
            &format!("{p}?n={i}"),
            &[
                ("X-Forwarded-For", ip),
                ("User-Agent", "sqlmap/1.7.2#stable (https://sqlmap.org)"),
            ],
        );
        if r.status == 403 {
            return Some(i + 1);
        }
    }
    None
}

#[test]
fn detection_state_is_shared_by_both_workers_and_kept_across_reload() {
    let n = Nginx::start(
        "zone-shared",
        &http_conf("abuse:4m", ""),
        &[("conf/profiles.toml", SCANNER_PROFILE)],
    );
    let sent = scan_until_blocked(&n, "192.0.2.66", 200).expect("scanner denylisted");
    // every following request, whichever worker takes it, is refused
    for _ in 0..20 {
        assert_eq!(n.get("/", &xff("192.0.2.66")).status, 403);
    }
    let pids: std::collections::BTreeSet<String> = n
        .access_log()
        .lines()
        .filter(|l| l.starts_with("192.0.2.66 ") && l.contains(" 403 "))
        .filter_map(|l| l.split_whitespace().nth(1).map(String::from))
        .collect();
    assert_eq!(
        pids.len(),
        2,
        "both workers refused the client (saw {pids:?}) after {sent} requests"
    );

    n.reload();
    assert_eq!(
        n.get("/", &xff("192.0.2.66")).status,
        403,
        "list kept across reload"
    );
    assert_eq!(n.get("/", &xff("192.0.2.67")).status, 200);
}

#[test]
fn state_file_survives_a_restart() {
    let mut n = Nginx::start(
        "zone-restart",
        &http_conf("abuse:4m", ""),
        &[("conf/profiles.toml", SCANNER_PROFILE)],
    );
    scan_until_blocked(&n, "192.0.2.68", 200).expect("scanner denylisted");
    n.stop();
    assert!(
        n.path("state/api_abuse.state").exists(),
        "state written at exit"
    );
    n.launch();
    assert_eq!(
        n.get("/", &xff("192.0.2.68")).status,
        403,
        "denylist entry restored"
    );
    assert!(
        n.error_log().contains("state loaded from"),
        "{}",
        n.error_log()
    );
}

#[test]
fn full_zone_evicts_idle_clients_without_crashing() {
    // 1m is the smallest zone: a few thousand client records.
    let n = Nginx::start(
        "zone-full",
        &http_conf("abuse:1m", ""),
        &[("conf/profiles.toml", "[[profile]]\nname = \"all\"\n")],
    );
    let cap_line = n.error_log();
    let cap: usize = cap_line
        .split("holds ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .expect("capacity logged");
    // more distinct clients than the zone holds, over a few keep-alive-less requests
    let clients = cap + cap / 2;
    std::thread::scope(|s| {
        for t in 0..4 {
            let n = &n;
            s.spawn(move || {
                for i in (t..clients).step_by(4) {
                    let ip = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
                    assert_eq!(n.get("/", &xff(&ip)).status, 200);
                }
            });
        }
    });
    assert_eq!(n.get("/", &xff("10.200.0.1")).status, 200);
    let log = n.error_log();
    assert_eq!(
        log.matches("zone is full, evicting the clients idle longest")
            .count(),
        1,
        "said once: {log}"
    );
    let _ = Duration::from_millis(0);
}
