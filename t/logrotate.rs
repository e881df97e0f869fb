//! The events file under a real logrotate: rotate with `create` and a
//! postrotate that tells nginx to reopen its files (USR1 to the master, what
//! Debian's own /etc/logrotate.d/nginx does), run with `-f` and a state file
//! in the test's directory. The lines before the rotation stay in the
//! rotated file, the lines after it go to the new file (whichever worker
//! writes them), and nothing is lost or written to the old file.

use std::process::Command;
use std::time::Duration;

use crate::harness::{http_conf, Nginx};

const PROFILES: &str = "[[profile]]\nname = \"all\"\ntolerance = \"low\"\nduration = \"1h\"\n";

/// Sends a scanner from `ip` until it is refused.
fn scanner(n: &Nginx, ip: &str) {
    let listed = (0..200).any(|i| {
        n.get(
            &format!("/.env?probe={i}"),
            &[("X-Forwarded-For", ip), ("User-Agent", "sqlmap/1.7")],
        )
        .status
            == 403
    });
    assert!(listed, "{ip} was not listed");
}

fn lines_with(path: &std::path::Path, needle: &str) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(needle))
        .count()
}

#[test]
fn events_file_is_reopened_after_logrotate() {
    let n = Nginx::start(
        "logrotate",
        &http_conf("abuse:4m", ""),
        &[("conf/profiles.toml", PROFILES)],
    );
    let events = n.path("logs/events.jsonl");
    let rotated = n.path("logs/events.jsonl.1");
    let first = ["192.0.2.101", "192.0.2.102", "192.0.2.103"];
    for ip in first {
        scanner(&n, ip);
    }
    assert!(n.eventually(Duration::from_secs(2), || first
        .iter()
        .all(|ip| lines_with(&events, ip) == 1)));

    // logrotate refuses a world-writable parent directory (the harness
    // makes logs/ writable for the workers) unless told whom to run as.
    // SAFETY: geteuid has no preconditions.
    let su = if unsafe { libc::geteuid() } == 0 {
        "su root root\n"
    } else {
        ""
    };
    let conf = n.path("conf/logrotate.conf");
    std::fs::write(
        &conf,
        format!(
            "{events} {{\n{su}    rotate 3\n    missingok\n    nocompress\n    create 0644\n    sharedscripts\n    postrotate\n        kill -USR1 $(cat {pid})\n    endscript\n}}\n",
            events = events.display(),
            pid = n.path("logs/nginx.pid").display(),
        ),
    )
    .expect("logrotate.conf");
    let out = Command::new("logrotate")
        .arg("-f")
        .arg("-s")
        .arg(n.path("logs/logrotate.state"))
        .arg(&conf)
        .output()
        .expect("run logrotate (apt-get install logrotate)");
    assert!(
        out.status.success(),
        "logrotate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(rotated.exists(), "no rotated file");
    // The master reopens, then both workers do; give them a moment.
    std::thread::sleep(Duration::from_millis(500));

    let second = ["192.0.2.111", "192.0.2.112", "192.0.2.113", "192.0.2.114"];
    for ip in second {
        scanner(&n, ip);
    }
    assert!(n.eventually(Duration::from_secs(2), || second
        .iter()
        .all(|ip| lines_with(&events, ip) == 1)));
    for ip in first {
        assert_eq!(lines_with(&rotated, ip), 1, "{ip} before the rotation");
        assert_eq!(lines_with(&events, ip), 0, "{ip} only in the rotated file");
    }
    for ip in second {
        assert_eq!(lines_with(&rotated, ip), 0, "{ip} written to the old file");
    }
    // every line of the new file is one whole JSON object
    for l in std::fs::read_to_string(&events).expect("events").lines() {
        serde_json::from_str::<serde_json::Value>(l).expect("a whole JSON line");
    }
    assert!(n.error_log().contains("reopening logs"));
}
