//! The profiles file is re-read by every worker within a second of a change,
//! without a reload; a broken or missing file keeps the profiles in force.

use std::time::Duration;

use crate::harness::{big_profiles, http_conf, rewrite, xff, Nginx};

const FIRST: &str = "[lists]\ndeny = [\"192.0.2.10\"]\n";
const SECOND: &str = "[lists]\ndeny = [\"192.0.2.20\"]\n";

/// Sends `n` requests on fresh connections and returns how many got `status`.
fn count(n: &Nginx, ip: &str, times: usize, status: u16) -> usize {
    (0..times)
        .filter(|_| n.get("/", &xff(ip)).status == status)
        .count()
}

#[test]
fn change_is_picked_up_by_every_worker_without_reload() {
    let n = Nginx::start(
        "profiles-hot",
        &http_conf("abuse:2m", ""),
        &[("conf/profiles.toml", FIRST)],
    );
    let pids = n.worker_pids();
    assert_eq!(count(&n, "192.0.2.10", 10, 403), 10);
    assert_eq!(count(&n, "192.0.2.20", 10, 200), 10);

    rewrite(&n.path("conf/profiles.toml"), SECOND);
    // within 2 s, every request on every worker sees the new file
    let switched = n.eventually(Duration::from_millis(2500), || {
        count(&n, "192.0.2.10", 10, 200) == 10 && count(&n, "192.0.2.20", 10, 403) == 10
    });
    assert!(
        switched,
        "profiles change not applied within 2.5 s: {}",
        n.error_log()
    );
    assert_eq!(n.worker_pids(), pids, "no reload happened");
    // both workers logged the reload
    let log = n.error_log();
    assert!(
        log.matches("profiles file").filter(|_| true).count() >= 2,
        "{log}"
    );
    assert!(
        log.matches("reloaded: 0 profiles (0 enabled), 1 list entries")
            .count()
            >= 2,
        "{log}"
    );
    // compiled once for the server, by one worker
    assert_eq!(log.matches("compiled in").count(), 1, "{log}");
}

/// The lists are one compiled image, mapped by every worker (not a copy
/// each); the image directory goes away with the server.
#[test]
fn workers_share_one_mapped_image() {
    let mut n = Nginx::start(
        "profiles-shared",
        &http_conf("abuse:2m", ""),
        &[("conf/profiles.toml", FIRST)],
    );
    let image_of = |log: &str| -> Option<String> {
        let line = log.lines().rev().find(|l| l.contains("compiled"))?;
        let start = line.find("image \"")? + 7;
        let len = line[start..].find('"')?;
        Some(line[start..start + len].to_string())
    };
    let first = image_of(&n.error_log()).expect("the master compiled the file");
    let mapped_by = |image: &str| -> usize {
        n.worker_pids()
            .iter()
            .filter(|p| {
                std::fs::read_to_string(format!("/proc/{p}/maps"))
                    .unwrap_or_default()
                    .contains(image)
            })
            .count()
    };
    assert_eq!(mapped_by(&first), 2, "both workers map {first}");

    rewrite(&n.path("conf/profiles.toml"), SECOND);
    assert!(n.eventually(Duration::from_millis(2500), || {
        count(&n, "192.0.2.20", 4, 403) == 4
    }));
    let second = image_of(&n.error_log()).expect("a worker compiled the change");
    assert_ne!(first, second);
    assert!(n.eventually(Duration::from_secs(2), || mapped_by(&second) == 2));
    assert!(
        !std::path::Path::new(&first).exists(),
        "the previous image is removed"
    );
    let dir = std::path::Path::new(&second)
        .parent()
        .unwrap()
        .to_path_buf();
    n.stop();
    assert!(!dir.exists(), "{} removed at exit", dir.display());
}

#[test]
fn broken_file_keeps_the_last_good_one() {
    let mut n = Nginx::start(
        "profiles-broken",
        &http_conf("abuse:2m", ""),
        &[("conf/profiles.toml", FIRST)],
    );
    n.allowed.push("keeping the profiles in force".into());
    let path = n.path("conf/profiles.toml");

    rewrite(&path, "[lists]\ndeny = [\"192.0.2.20\", \"300.1.2.3\"]\n");
    std::thread::sleep(Duration::from_millis(1600));
    assert_eq!(
        count(&n, "192.0.2.10", 6, 403),
        6,
        "old profiles still in force"
    );
    assert_eq!(
        count(&n, "192.0.2.20", 6, 200),
        6,
        "broken file not applied"
    );
    let log = n.error_log();
    assert!(
        log.contains("line 2, column")
            && log.contains("\"300.1.2.3\" is not an IP address or CIDR"),
        "error names line and value: {log}"
    );
    // logged once per worker, not every second
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        n.error_log()
            .lines()
            .filter(|l| l.contains("300.1.2.3"))
            .count()
            <= 2
    );

    rewrite(&path, "[lists]\ndeny = [\"192.0.2.20\"]\nbogus = 1\n");
    std::thread::sleep(Duration::from_millis(1600));
    assert!(
        n.error_log().contains("unknown field `bogus`"),
        "{}",
        n.error_log()
    );
    assert_eq!(count(&n, "192.0.2.10", 4, 403), 4);

    std::fs::remove_file(&path).unwrap();
    std::thread::sleep(Duration::from_millis(1600));
    assert!(
        n.error_log().contains("cannot be read"),
        "{}",
        n.error_log()
    );
    assert_eq!(
        count(&n, "192.0.2.10", 4, 403),
        4,
        "missing file keeps the old profiles"
    );

    rewrite(&path, SECOND);
    assert!(n.eventually(Duration::from_millis(2500), || count(
        &n,
        "192.0.2.20",
        4,
        403
    ) == 4));
    assert_eq!(count(&n, "192.0.2.10", 4, 200), 4);
}

#[test]
fn reload_with_a_broken_file_keeps_running_configuration() {
    let mut n = Nginx::start(
        "profiles-reload-broken",
        &http_conf("abuse:2m", ""),
        &[("conf/profiles.toml", FIRST)],
    );
    n.allowed.push("is not an IP address or CIDR".into());
    n.allowed.push("keeping the profiles in force".into());
    rewrite(
        &n.path("conf/profiles.toml"),
        "[lists]\ndeny = [\"not-an-ip\"]\n",
    );
    let before = n.worker_pids();
    // `nginx -t` validates the file and refuses it
    let out = crate::harness::nginx_cmd(&n.prefix, &["-t"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"not-an-ip\" is not an IP address"));
    // `nginx -s reload` only sends the signal (it does not read the file);
    // the master then refuses the new configuration and keeps the old one
    n.signal("reload");
    let refused = n.eventually(Duration::from_secs(5), || {
        n.error_log().lines().any(|l| {
            l.contains("[emerg]") && l.contains("\"not-an-ip\" is not an IP address or CIDR")
        })
    });
    assert!(refused, "reload failure is logged: {}", n.error_log());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        n.worker_pids(),
        before,
        "a failed reload keeps the old workers"
    );
    assert_eq!(count(&n, "192.0.2.10", 4, 403), 4);
}

/// logrotate's `nginx -s reopen` and an operator's `nginx -s quit` must work
/// while the profiles file is broken: the signaller does not read it.
#[test]
fn signals_work_with_a_broken_profiles_file() {
    let mut n = Nginx::start(
        "profiles-signals",
        &http_conf("abuse:2m", ""),
        &[("conf/profiles.toml", FIRST)],
    );
    n.allowed.push("keeping the profiles in force".into());
    let path = n.path("conf/profiles.toml");
    for broken in [
        "[lists]\ndeny = [\"300.1.2.3\"]\n",
        "[[profile]]\nname = 3\n",
    ] {
        rewrite(&path, broken);
        std::fs::rename(n.path("logs/error.log"), n.path("logs/error.log.1")).unwrap();
        let out = crate::harness::nginx_cmd(&n.prefix, &["-s", "reopen"]);
        assert!(
            out.status.success(),
            "nginx -s reopen failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // the master reopened the error log under its old name
        assert!(
            n.eventually(Duration::from_secs(5), || n.path("logs/error.log").exists()),
            "error log not reopened"
        );
        assert_eq!(count(&n, "192.0.2.10", 4, 403), 4, "still enforcing");
    }
    std::fs::remove_file(&path).unwrap();
    let master = n.master_pid().expect("pid");
    let out = crate::harness::nginx_cmd(&n.prefix, &["-s", "quit"]);
    assert!(
        out.status.success(),
        "nginx -s quit failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let gone = n.eventually(Duration::from_secs(5), || {
        let stat = std::fs::read_to_string(format!("/proc/{master}/stat")).unwrap_or_default();
        stat.is_empty() || stat.contains(") Z ")
    });
    assert!(gone, "master still running after nginx -s quit");
    let old = std::fs::read_to_string(n.path("logs/error.log.1")).unwrap_or_default();
    assert!(!old.contains("[emerg]") && !n.error_log().contains("[emerg]"));
    n.stop();
}

#[test]
fn a_large_file_is_swapped_in_without_stalling_the_workers() {
    let n = Nginx::start(
        "profiles-large",
        &http_conf("abuse:2m", ""),
        &[("conf/profiles.toml", FIRST)],
    );
    let big = big_profiles(100_000);
    rewrite(&n.path("conf/profiles.toml"), &big);
    // While the file is parsed (in one worker's compile helper process) and
    // its image mapped by each worker, requests keep being answered at once.
    let started = std::time::Instant::now();
    let mut slowest = Duration::ZERO;
    let both_swapped = || n.error_log().matches("100001 list entries").count() >= 2;
    while started.elapsed() < Duration::from_secs(30) && !both_swapped() {
        let t = std::time::Instant::now();
        n.get("/", &xff("192.0.2.20"));
        slowest = slowest.max(t.elapsed());
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        both_swapped(),
        "both workers swapped the file in: {}",
        n.error_log()
    );
    assert_eq!(
        count(&n, "192.0.2.20", 6, 403),
        6,
        "new list in force: {}",
        n.error_log()
    );
    assert_eq!(count(&n, "10.1.134.159", 2, 403), 2);
    assert!(
        slowest < Duration::from_millis(250),
        "a request waited {slowest:?} during the swap"
    );
}

/// A worker respawned after a crash enforces the current file (the one hot
/// swapped in since the last start), not the one nginx.conf was read with.
#[test]
fn respawned_workers_follow_the_current_file() {
    let mut n = Nginx::start(
        "profiles-respawn",
        &http_conf("abuse:2m", ""),
        &[("conf/profiles.toml", FIRST)],
    );
    n.allowed.push("exited on signal 9".into());
    assert_eq!(count(&n, "192.0.2.20", 4, 200), 4);
    rewrite(
        &n.path("conf/profiles.toml"),
        "[lists]\ndeny = [\"192.0.2.10\", \"192.0.2.20\"]\n",
    );
    // Each worker's "reloaded" line (the builder's "compiled" line names
    // the entries too: counting it let the test go on with one worker
    // still on the old file).
    let swapped = n.eventually(Duration::from_millis(2500), || {
        n.error_log()
            .lines()
            .filter(|l| l.contains("reloaded:") && l.contains("2 list entries"))
            .count()
            >= 2
    });
    assert!(swapped, "both workers swapped: {}", n.error_log());
    assert_eq!(count(&n, "192.0.2.20", 4, 403), 4);

    let before = n.worker_pids();
    for pid in &before {
        std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
    }
    let respawned = n.eventually(Duration::from_secs(5), || {
        let now = n.worker_pids();
        now.len() == 2 && now.iter().all(|p| !before.contains(p))
    });
    assert!(respawned, "workers respawned: {}", n.error_log());
    assert_eq!(
        count(&n, "192.0.2.20", 20, 403),
        20,
        "respawned workers refuse the entry added by the hot swap: {}",
        n.error_log()
    );
    assert_eq!(count(&n, "192.0.2.10", 4, 403), 4);
    assert_eq!(count(&n, "192.0.2.30", 4, 200), 4);
}

/// A server starting removes the image directories of servers that are gone
/// (nobody holds their lock), and only those: not the directory of a server
/// that runs, nor one whose server is still taking its lock (`lock.new`,
/// renamed to `lock` once held).
#[test]
fn a_fresh_start_sweeps_only_directories_nobody_holds() {
    use std::os::fd::AsRawFd;
    let a = Nginx::start(
        "profiles-sweep-a",
        &http_conf("abuse:2m", ""),
        &[("conf/profiles.toml", FIRST)],
    );
    let log = a.error_log();
    let line = log
        .lines()
        .find(|l| l.contains("compiled"))
        .expect("the master compiled the file");
    let start = line.find("image \"").expect("image path logged") + 7;
    let image = std::path::PathBuf::from(&line[start..start + line[start..].find('"').unwrap()]);
    let a_dir = image.parent().unwrap().to_path_buf();
    let base = a_dir.parent().unwrap().to_path_buf();
    let tag = std::process::id();
    // a server that is gone: its lock file is there, nobody holds it
    let stale = base.join(format!("nginx-api-abuse.5ea1{tag:012x}"));
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join("lock"), b"").unwrap();
    // a server between creating its directory and holding its lock
    let pending = base.join(format!("nginx-api-abuse.9e4d{tag:012x}"));
    std::fs::create_dir_all(&pending).unwrap();
    let held = std::fs::File::create(pending.join("lock.new")).unwrap();
    // SAFETY: flock on a descriptor `held` owns and keeps open.
    let rc = unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    assert_eq!(rc, 0);

    let mut b = Nginx::start(
        "profiles-sweep-b",
        &http_conf("abuse:2m", ""),
        &[("conf/profiles.toml", SECOND)],
    );
    let kept_pending = pending.exists();
    let _ = std::fs::remove_dir_all(&pending);
    drop(held);
    assert!(!stale.exists(), "{} swept", stale.display());
    assert!(
        kept_pending,
        "{} kept while its lock is taken",
        pending.display()
    );
    assert!(
        a_dir.join("lock").exists(),
        "the running server's directory kept"
    );
    // and the running server still writes its images there
    rewrite(&a.path("conf/profiles.toml"), SECOND);
    assert!(
        a.eventually(Duration::from_millis(2500), || count(
            &a,
            "192.0.2.20",
            4,
            403
        ) == 4),
        "{}",
        a.error_log()
    );
    assert_eq!(count(&b, "192.0.2.20", 4, 403), 4);
    b.stop();
}
