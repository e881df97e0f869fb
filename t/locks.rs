//! A worker killed while it holds a bucket lock of the shared zone wedges
//! nobody: the other worker takes the lock over (its holder's pid is dead),
//! logs one [alert] and counts it in the metrics; the worker nginx respawns
//! serves too, and `nginx -s quit` completes.
//!
//! The worker is parked inside the client's critical section by a test hook
//! that exists only in debug builds and only with
//! `env API_ABUSE_TEST_HOOKS=park;` in nginx.conf.
//!
//! Also: a panic in a request handler (another hook, `=panic`) costs that
//! request the module, never the worker: served, counted, logged.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::harness::{http_conf, nginx_cmd, rewrite, Nginx};

const CLIENT: &str = "203.0.113.50";

/// Turns the debug builds' test hook `hook` on (`env API_ABUSE_TEST_HOOKS`)
/// and reloads.
fn turn_on_hook(n: &mut Nginx, hook: &str) {
    let conf_path = n.path("conf/nginx.conf");
    let conf = std::fs::read_to_string(&conf_path).expect("conf");
    rewrite(
        &conf_path,
        &conf.replacen(
            "worker_processes 2;\n",
            &format!("worker_processes 2;\nenv API_ABUSE_TEST_HOOKS={hook};\n"),
            1,
        ),
    );
    n.reload();
}

/// Sends the request that parks its worker; reads the response without
/// waiting for the connection to close (it never does: the worker is parked
/// in the LOG phase, after the response went out).
fn park_a_worker(port: u16) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let req = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         X-Forwarded-For: {CLIENT}\r\nX-Api-Abuse-Test-Park: 1\r\n\r\n"
    );
    s.write_all(req.as_bytes()).expect("send");
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).unwrap_or(0);
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "the parked request was answered first: {:?}",
        String::from_utf8_lossy(&buf[..n])
    );
}

/// One request as the same client (same bucket); the status and the pid of
/// the worker that logged it are read from the access log afterwards.
fn try_get(port: u16, n: usize) -> u16 {
    let Ok(mut s) =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500))
    else {
        return 0;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let req = format!(
        "GET /?n={n} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         X-Forwarded-For: {CLIENT}\r\n\r\n"
    );
    if s.write_all(req.as_bytes()).is_err() {
        return 0;
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    crate::harness::parse_response(&raw).status
}

#[test]
fn a_worker_killed_inside_a_lock_wedges_nobody() {
    let mut n = Nginx::start(
        "dead-worker",
        &http_conf("abuse:4m", "location = /metrics { api_abuse_metrics; }"),
        &[("conf/profiles.toml", "[[profile]]\nname = \"all\"\n")],
    );
    turn_on_hook(&mut n, "park");
    n.allowed.push("exited on signal 9".into());
    n.allowed
        .push("api_abuse: took over a shared-zone lock held by process".into());

    // A first request creates the client's record; the second parks.
    assert_eq!(try_get(n.port, 0), 200);
    park_a_worker(n.port);
    let mut parked = 0;
    assert!(
        n.eventually(Duration::from_secs(5), || {
            parked = n
                .error_log()
                .lines()
                .filter_map(|l| l.split_once("parking worker pid "))
                .filter_map(|(_, rest)| rest.split_whitespace().next()?.parse().ok())
                .next_back()
                .unwrap_or(0);
            parked != 0
        }),
        "the hook parked a worker: {}",
        n.error_log()
    );
    let before = n.worker_pids();
    assert!(
        before.contains(&parked),
        "{parked} is a worker of {before:?}"
    );
    let survivor = before.iter().copied().find(|p| *p != parked).unwrap_or(0);

    let logged_before = n.access_log().len();
    let killed = Instant::now();
    let _ = std::process::Command::new("kill")
        .arg("-9")
        .arg(parked.to_string())
        .status();

    // Requests of the same client (the bucket the dead worker held) until
    // both the survivor and the respawned worker have served one.
    let mut first_ok: Option<Duration> = None;
    let mut both: Option<Duration> = None;
    let mut sent = 0;
    while killed.elapsed() < Duration::from_secs(10) && both.is_none() {
        sent += 1;
        if try_get(n.port, sent) == 200 && first_ok.is_none() {
            first_ok = Some(killed.elapsed());
        }
        let full = n.access_log();
        let log = full.get(logged_before..).unwrap_or("");
        let served_by = |pid: i32| {
            log.lines().any(|l| {
                l.starts_with(CLIENT)
                    && l.split_whitespace().nth(1) == Some(pid.to_string().as_str())
                    && l.contains(" 200 ")
            })
        };
        let respawned: Vec<i32> = n
            .worker_pids()
            .into_iter()
            .filter(|p| !before.contains(p))
            .collect();
        if first_ok.is_some() && served_by(survivor) && respawned.iter().any(|p| served_by(*p)) {
            both = Some(killed.elapsed());
        }
    }
    let first_ok = first_ok.expect("served after the kill");
    let both = both.unwrap_or_else(|| {
        panic!(
            "survivor and respawned worker did not both serve: {}\n{}",
            n.access_log(),
            n.error_log()
        )
    });
    eprintln!(
        "dead worker: first request served {} ms after the kill, both workers {} ms ({sent} requests)",
        first_ok.as_millis(),
        both.as_millis()
    );
    assert!(first_ok < Duration::from_secs(1), "{first_ok:?}");
    assert!(both < Duration::from_secs(1), "{both:?}");

    // One alert naming the dead worker, and the metric.
    let log = n.error_log();
    let alerts: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("[alert]") && l.contains("took over a shared-zone lock"))
        .collect();
    assert_eq!(alerts.len(), 1, "{log}");
    assert!(
        alerts[0].contains(&format!("held by process {parked},")),
        "{}",
        alerts[0]
    );
    let metrics = n.get("/metrics", &[]).body;
    assert!(
        metrics.contains("api_abuse_lock_recoveries_total 1"),
        "{metrics}"
    );

    // Graceful shutdown completes.
    let master = n.master_pid().expect("master");
    let out = nginx_cmd(&n.prefix, &["-s", "quit"]);
    assert!(out.status.success());
    let quit = Instant::now();
    while Path::new(&format!("/proc/{master}")).exists() && quit.elapsed() < Duration::from_secs(10)
    {
        let stat = std::fs::read_to_string(format!("/proc/{master}/stat")).unwrap_or_default();
        if stat.contains(") Z ") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        quit.elapsed() < Duration::from_secs(10),
        "nginx -s quit did not complete"
    );
    eprintln!(
        "nginx -s quit completed in {} ms",
        quit.elapsed().as_millis()
    );
    n.stop();
}

/// A bug that panics in a request handler costs that request the module,
/// never the worker or the site: the request is served, the panic counted
/// (`api_abuse_request_panics_total`) and an [alert] logged for the 1st,
/// 2nd, 4th... of them; the next request is inspected as ever. The panic
/// comes from a test hook (debug builds, `env API_ABUSE_TEST_HOOKS=panic;`).
#[test]
fn a_panic_in_a_handler_serves_the_request_and_is_counted() {
    let mut n = Nginx::start(
        "handler-panic",
        &http_conf("abuse:4m", "location = /metrics { api_abuse_metrics; }"),
        &[("conf/profiles.toml", "[[profile]]\nname = \"all\"\n")],
    );
    turn_on_hook(&mut n, "panic");
    n.allowed
        .push("test hook: a panic in the PREACCESS handler".into());
    // Rust's hook names the hook's line first (this test's panics only).
    n.allowed.push("panicked at src/ngx/handlers.rs".into());
    n.allowed
        .push("api_abuse: a panic in the PREACCESS handler was caught".into());
    let metric = |n: &Nginx| {
        n.get("/metrics", &[]).body.lines().find_map(|l| {
            l.strip_prefix("api_abuse_request_panics_total ")?
                .parse::<u64>()
                .ok()
        })
    };
    assert_eq!(metric(&n), Some(0), "the metric exists and starts at 0");
    let workers = n.worker_pids();
    for i in 0..3 {
        let r = n.get(
            &format!("/index.html?panic={i}"),
            &[("X-Api-Abuse-Test-Panic", "1"), ("X-Forwarded-For", CLIENT)],
        );
        assert_eq!(r.status, 200, "a request whose handler panicked is served");
    }
    // (`/index.html`: `/` would run the handler twice, again after the
    // index module's internal redirect.) The next request is served as
    // ever, and the workers are the same processes (no crash, no respawn).
    assert_eq!(try_get(n.port, 1), 200);
    assert_eq!(n.worker_pids(), workers, "no worker died");
    assert_eq!(metric(&n), Some(3));
    let log = n.error_log();
    let alerts: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.contains("[alert]") && l.contains("a panic in the PREACCESS handler was caught")
        })
        .collect();
    assert_eq!(
        alerts.len(),
        2,
        "the 1st and 2nd are logged, not the 3rd: {log}"
    );
    assert!(
        alerts[0].contains("(1 so far") && alerts[1].contains("(2 so far"),
        "{log}"
    );
    assert!(
        log.contains("panicked") && log.contains("test hook: a panic in the PREACCESS handler"),
        "the panic's own message is in the error log: {log}"
    );
    n.stop();
}
