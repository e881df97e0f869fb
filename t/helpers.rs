//! No threads in workers: worker 0's state file is written by a helper
//! process it forks (`nginx: api_abuse state helper`), never by a thread,
//! and that process never outlives its worker: it makes a last save and
//! exits at `nginx -s quit`, at a reload, and when its worker is killed.

use std::time::{Duration, Instant, SystemTime};

use crate::harness::{big_profiles, http_conf, xff, Nginx};

const PROFILES: &str = "[[profile]]\nname = \"all\"\ntolerance = \"low\"\nduration = \"1h\"\n";
const API: &str = "location /api-abuse/ { api_abuse_api write; allow 127.0.0.1; deny all; }";
const STATE: &str = "state/api_abuse.state";
const STATE_HELPER: &str = "nginx: api_abuse state helper";

fn start(name: &str) -> Nginx {
    Nginx::start(
        name,
        &http_conf("abuse:4m", API),
        &[("conf/profiles.toml", PROFILES)],
    )
}

fn deny(n: &Nginx, ip: &str) {
    let r = n.request(
        "POST",
        &format!("/api-abuse/?addr={ip}&list=deny"),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Threads of a process.
fn threads(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |d| d.count())
}

/// The one state helper, once worker 0 has started it: (pid, parent).
fn the_helper(n: &Nginx) -> (i32, i32) {
    let mut found = Vec::new();
    n.eventually(Duration::from_secs(5), || {
        found = n.processes_titled(STATE_HELPER);
        found.len() == 1 && n.worker_pids().contains(&found[0].1)
    });
    assert_eq!(
        found.len(),
        1,
        "one state helper: {found:?}\n{}",
        n.error_log()
    );
    assert!(
        n.worker_pids().contains(&found[0].1),
        "the helper's parent is a worker: {found:?}, workers {:?}",
        n.worker_pids()
    );
    found[0]
}

fn gone(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| {
        s.rsplit_once(") ")
            .is_some_and(|x| x.1.starts_with(['Z', 'X']))
    })
}

/// What nginx logs when it reaps a child it did not start: `unknown
/// process` lines, and the SIGCHLD a helper's exit sent its worker.
fn reap_lines<'a>(log: &'a str, helpers: &[i32]) -> Vec<&'a str> {
    log.lines()
        .filter(|l| {
            l.contains("unknown process")
                || helpers
                    .iter()
                    .any(|h| l.ends_with(&format!("(SIGCHLD) received from {h}")))
        })
        .collect()
}

#[test]
fn workers_run_one_thread_and_quit_leaves_no_helper_after_a_last_save() {
    let mut n = start("helper-quit");
    let (helper, worker0) = the_helper(&n);
    assert_eq!(threads(helper), 1, "the helper is single-threaded");
    deny(&n, "192.0.2.30");
    for i in 0..20 {
        assert_eq!(n.get("/", &xff(&format!("198.51.100.{i}"))).status, 200);
    }
    for w in n.worker_pids() {
        assert_eq!(
            threads(w),
            1,
            "worker {w} has one thread (worker 0: {worker0})"
        );
    }
    // A change right after a regular save (they are at least 500 ms apart)
    // and the quit right after it: only the last save can have it.
    std::thread::sleep(Duration::from_millis(1200));
    deny(&n, "192.0.2.31");
    std::thread::sleep(Duration::from_millis(250));
    let quit_at = SystemTime::now();
    deny(&n, "192.0.2.32");
    n.signal("quit");
    let t0 = Instant::now();
    let all_gone = n.eventually(Duration::from_secs(5), || {
        n.master_pid().is_none() && gone(helper) && n.processes_titled("nginx:").is_empty()
    });
    assert!(
        all_gone,
        "quit in {:?}: left {:?}",
        t0.elapsed(),
        n.processes_titled("nginx:")
    );
    let written = std::fs::metadata(n.path(STATE))
        .and_then(|m| m.modified())
        .expect("state file");
    assert!(written >= quit_at, "the last save happened at quit");
    let log = n.error_log();
    let noisy = reap_lines(&log, &[helper]);
    assert!(noisy.is_empty(), "quiet reaping: {noisy:?}");
    n.assert_clean_log();
    // what the last save held is served after a restart
    n.launch();
    for ip in ["192.0.2.30", "192.0.2.31", "192.0.2.32"] {
        assert_eq!(n.get("/", &xff(ip)).status, 403, "{ip} kept");
    }
}

#[test]
fn a_killed_worker_0_leaves_no_orphan_and_its_helper_saves_last() {
    let mut n = start("helper-kill");
    let (helper, worker0) = the_helper(&n);
    std::thread::sleep(Duration::from_millis(1200));
    deny(&n, "192.0.2.40");
    // SAFETY: kill has no memory preconditions; the pid is this test's worker.
    unsafe { libc::kill(worker0, libc::SIGKILL) };
    n.allowed
        .push(format!("worker process {worker0} exited on signal 9"));
    assert!(
        n.eventually(Duration::from_secs(3), || gone(helper)),
        "the helper of the killed worker exited"
    );
    let log = n.error_log();
    assert!(
        log.lines().any(
            |l| l.contains(&format!("worker process {worker0} is gone: state file"))
                && l.contains(&format!(" {helper}#"))
        ),
        "the orphaned helper saved and said so, in its own name:\n{log}"
    );
    // the respawned worker 0 has a helper of its own, and only it
    let (second, parent) = the_helper(&n);
    assert_ne!(second, helper);
    assert_ne!(parent, worker0);
    assert_eq!(n.get("/", &xff("192.0.2.40")).status, 403);
    // the helper's last save held the change made just before the kill
    n.kill_hard();
    n.launch();
    assert_eq!(n.get("/", &xff("192.0.2.40")).status, 403, "kept");
    n.assert_clean_log();
}

#[test]
fn a_reload_replaces_the_helper() {
    let n = start("helper-reload");
    let (first, _) = the_helper(&n);
    n.reload();
    assert!(
        n.eventually(Duration::from_secs(5), || gone(first)),
        "the old generation's helper exited"
    );
    let (second, _) = the_helper(&n);
    assert_ne!(first, second);
    for w in n.worker_pids() {
        assert_eq!(threads(w), 1, "worker {w} has one thread");
    }
    let log = n.error_log();
    assert!(reap_lines(&log, &[first]).is_empty(), "{log}");
    n.assert_clean_log();
}

const PROFILES_HELPER: &str = "nginx: api_abuse profiles helper";

#[test]
fn a_hot_swap_compiles_in_a_helper_process_that_exits_quietly() {
    let n = Nginx::start(
        "helper-profiles",
        &http_conf("abuse:2m", ""),
        &[("conf/profiles.toml", "[lists]\ndeny = [\"192.0.2.10\"]\n")],
    );
    let workers = n.worker_pids();
    crate::harness::rewrite(&n.path("conf/profiles.toml"), &big_profiles(20_000));
    let mut seen = Vec::new();
    let swapped = n.eventually(Duration::from_secs(20), || {
        seen.extend(n.processes_titled(PROFILES_HELPER).into_iter().map(|p| p.0));
        n.error_log()
            .lines()
            .filter(|l| l.contains("reloaded:") && l.contains("20001 list entries"))
            .count()
            >= 2
    });
    assert!(
        swapped,
        "both workers mapped the new image: {}",
        n.error_log()
    );
    assert_eq!(n.get("/", &xff("192.0.2.20")).status, 403);
    let log = n.error_log();
    // the builder's line, logged by its worker
    let compiled: Vec<&str> = log.lines().filter(|l| l.contains("compiled in")).collect();
    assert_eq!(compiled.len(), 1, "{log}");
    assert!(
        workers
            .iter()
            .any(|w| compiled[0].contains(&format!(" {w}#"))),
        "logged by a worker: {}",
        compiled[0]
    );
    assert!(
        n.eventually(Duration::from_secs(2), || n
            .processes_titled(PROFILES_HELPER)
            .is_empty()),
        "the compile helper exited"
    );
    seen.sort_unstable();
    seen.dedup();
    let noisy = reap_lines(&log, &seen);
    assert!(noisy.is_empty(), "quiet reaping: {noisy:?}");
    for w in n.worker_pids() {
        assert_eq!(threads(w), 1, "worker {w} has one thread after a swap");
    }
    n.assert_clean_log();
}

#[test]
fn a_compile_that_dies_keeps_the_profiles_in_force() {
    let n = Nginx::start(
        "helper-profiles-killed",
        &http_conf("abuse:2m", ""),
        &[("conf/profiles.toml", "[lists]\ndeny = [\"192.0.2.10\"]\n")],
    );
    crate::harness::rewrite(&n.path("conf/profiles.toml"), &big_profiles(200_000));
    let mut victim = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    while victim.is_none() && Instant::now() < deadline {
        victim = n.processes_titled(PROFILES_HELPER).first().map(|p| p.0);
        std::thread::sleep(Duration::from_millis(5));
    }
    let victim = victim.expect("a compile helper ran");
    // SAFETY: kill has no memory preconditions; the pid is this test's helper.
    unsafe { libc::kill(victim, libc::SIGKILL) };
    let reported = n.eventually(Duration::from_secs(5), || {
        n.error_log().contains(&format!(
            "(pid {victim}) died; keeping the profiles in force"
        ))
    });
    assert!(reported, "{}", n.error_log());
    // the old file's lists stay; the refused file is not compiled again
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(n.get("/", &xff("192.0.2.10")).status, 403);
    assert_eq!(n.get("/", &xff("192.0.2.20")).status, 200);
    assert!(n.processes_titled(PROFILES_HELPER).is_empty());
    // the next change compiles
    crate::harness::rewrite(
        &n.path("conf/profiles.toml"),
        "[lists]\ndeny = [\"192.0.2.20\"]\n",
    );
    assert!(n.eventually(Duration::from_secs(5), || {
        n.get("/", &xff("192.0.2.20")).status == 403 && n.get("/", &xff("192.0.2.10")).status == 200
    }));
    n.assert_clean_log();
}

const SYNC_HELPER: &str = "nginx: api_abuse sync helper";

#[test]
fn redis_sync_runs_in_a_helper_process_that_never_outlives_its_worker() {
    let redis = crate::redis::Redis::start("helper-sync");
    let conf = format!(
        "api_abuse_sync {} prefix=h node=a;\n{}",
        redis.url(),
        http_conf("abuse:4m", API)
    );
    let mut n = Nginx::start("helper-sync", &conf, &[("conf/profiles.toml", PROFILES)]);
    let mut found = Vec::new();
    n.eventually(Duration::from_secs(5), || {
        found = n.processes_titled(SYNC_HELPER);
        found.len() == 1
    });
    assert_eq!(found.len(), 1, "one sync helper: {found:?}");
    let (sync, worker0) = found[0];
    assert!(n.worker_pids().contains(&worker0), "a worker's child");
    // it talks to Redis: a deny is published under the node's prefix
    deny(&n, "192.0.2.50");
    let published = n.eventually(Duration::from_secs(3), || {
        redis.entry("h", "192.0.2.50").is_some()
    });
    assert!(published, "{}", n.error_log());
    for w in n.worker_pids() {
        assert_eq!(threads(w), 1, "worker {w} has one thread");
    }
    // a killed worker 0: its helper goes, the respawned one starts its own
    // SAFETY: kill has no memory preconditions; the pid is this test's worker.
    unsafe { libc::kill(worker0, libc::SIGKILL) };
    n.allowed
        .push(format!("worker process {worker0} exited on signal 9"));
    assert!(
        n.eventually(Duration::from_secs(3), || gone(sync)),
        "no orphan"
    );
    let mut again = Vec::new();
    n.eventually(Duration::from_secs(5), || {
        again = n.processes_titled(SYNC_HELPER);
        again.len() == 1 && again[0].0 != sync
    });
    assert!(again.len() == 1 && again[0].0 != sync, "{again:?}");
    n.signal("quit");
    assert!(
        n.eventually(Duration::from_secs(8), || n
            .processes_titled("nginx:")
            .is_empty()),
        "quit leaves nothing: {:?}",
        n.processes_titled("nginx:")
    );
    let log = n.error_log();
    let noisy = reap_lines(&log, &[sync, again[0].0]);
    assert!(noisy.is_empty(), "quiet reaping: {noisy:?}");
    n.assert_clean_log();
    n.stop();
}
