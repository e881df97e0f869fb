//! The state file: written by a helper process of worker 0 within a second of
//! a list change, so a crash loses nothing; created 0600; a damaged,
//! foreign, oversized, FIFO or symlinked file is refused with one line and
//! renamed aside, never overwritten; an unwritable place is an [alert].

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::harness::{http_conf, nginx_cmd, prepare, xff, Nginx};
use crate::zone::scan_until_blocked;

const PROFILES: &str = "[[profile]]\nname = \"all\"\ntolerance = \"low\"\nduration = \"1h\"\n";
const API: &str = "location /api-abuse/ { api_abuse_api write; allow 127.0.0.1; deny all; }";
const STATE: &str = "state/api_abuse.state";

fn start(name: &str) -> Nginx {
    Nginx::start(
        name,
        &http_conf("abuse:4m", API),
        &[("conf/profiles.toml", PROFILES)],
    )
}

fn post(n: &Nginx, q: &str) {
    let r = n.request("POST", &format!("/api-abuse/?{q}"), &[], None);
    assert_eq!(r.status, 200, "{}", r.body);
}

/// The files next to the state file named `<name>.bad.*`.
fn set_aside(n: &Nginx) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(n.path("state"))
        .expect("state dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("api_abuse.state.bad."))
        .collect();
    v.sort();
    v
}

#[test]
fn list_changes_survive_a_crash_one_second_later() {
    let mut n = start("state-crash");
    // the helper (a process, its thread named so) is started by worker 0's
    // init, which may finish after the first request was answered by the
    // other worker
    n.eventually(Duration::from_secs(3), || {
        !n.pids_with_thread("api-abuse-state").is_empty()
    });
    assert_eq!(
        n.pids_with_thread("api-abuse-state").len(),
        1,
        "worker 0 writes from its own helper"
    );
    // how soon a change is on disk (printed, not asserted: a figure for
    // the docs, `cargo test --test nginx state:: -- --nocapture`)
    let before = std::fs::read(n.path(STATE)).unwrap_or_default();
    let t0 = std::time::Instant::now();
    post(&n, "addr=192.0.2.10&list=deny");
    let on_disk = n.eventually(Duration::from_secs(3), || {
        std::fs::read(n.path(STATE)).is_ok_and(|now| now != before)
    });
    eprintln!(
        "state file: a list change on disk after {} ms (written {on_disk})",
        t0.elapsed().as_millis()
    );
    post(&n, "addr=192.0.2.11&list=deny");
    scan_until_blocked(&n, "192.0.2.12", 200).expect("scanner denylisted");
    std::thread::sleep(Duration::from_millis(1100));
    // nobody gets to save at exit
    n.kill_hard();
    n.launch();
    for ip in ["192.0.2.10", "192.0.2.11", "192.0.2.12"] {
        assert_eq!(n.get("/", &xff(ip)).status, 403, "{ip} kept");
    }
    // a removal is kept the same way
    let r = n.request("DELETE", "/api-abuse/?addr=192.0.2.11", &[], None);
    assert_eq!(r.status, 200);
    std::thread::sleep(Duration::from_millis(1100));
    n.kill_hard();
    n.launch();
    assert_eq!(n.get("/", &xff("192.0.2.11")).status, 200, "removal kept");
    assert_eq!(n.get("/", &xff("192.0.2.10")).status, 403);
    let mode = std::fs::metadata(n.path(STATE))
        .expect("state file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "created 0600");
    assert!(set_aside(&n).is_empty());
}

/// A good state file holding a deny entry for 192.0.2.20.
fn good_state_file() -> Vec<u8> {
    let mut n = start("state-source");
    post(&n, "addr=192.0.2.20&list=deny");
    n.stop();
    std::fs::read(n.path(STATE)).expect("state written at exit")
}

enum Bad {
    Bytes(Vec<u8>),
    Fifo,
    Symlink,
}

/// `nginx -t` only checks: a bad state file stays where it is for the real
/// start to refuse and rename.
#[test]
fn a_config_test_leaves_a_bad_state_file_alone() {
    let (prefix, port) = prepare(
        "state-bad-config-test",
        &http_conf("abuse:4m", API),
        &[("conf/profiles.toml", PROFILES)],
    );
    let path = prefix.join(STATE);
    std::fs::write(&path, b"not a state file at all\n").expect("write");
    let out = nginx_cmd(&prefix, &["-t"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "nginx -t: {stderr}");
    assert!(
        stderr.contains("would be renamed aside at start"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"not a state file at all\n");
    let mut n = Nginx::from_prefix(prefix, port);
    n.allowed.push("would be renamed aside at start".into());
    assert!(set_aside(&n).is_empty(), "nothing set aside by -t");
    n.launch();
    assert_eq!(set_aside(&n).len(), 1, "the real start sets it aside");
}

#[test]
fn bad_state_files_are_refused_and_set_aside() {
    let good = good_state_file();
    let mut foreign = good.clone();
    foreign[8] = foreign[8].wrapping_add(7); // another format version
    let mut flipped = good.clone();
    let last_day = good.len() - 6; // a byte of the last day's counts
    flipped[last_day] ^= 0x01;
    let cases: Vec<(&str, Bad, &str)> = vec![
        (
            "garbage",
            Bad::Bytes(b"not a state file at all\n".to_vec()),
            "not an api_abuse state file",
        ),
        (
            "truncated",
            Bad::Bytes(good[..good.len() - 9].to_vec()),
            "truncated",
        ),
        ("flipped", Bad::Bytes(flipped), "checksum does not match"),
        (
            "foreign",
            Bad::Bytes(foreign),
            "written by another module version",
        ),
        (
            "oversized",
            Bad::Bytes(vec![0u8; 20 << 20]),
            "more than the",
        ),
        ("fifo", Bad::Fifo, "not a regular file (a FIFO)"),
        ("symlink", Bad::Symlink, "symbolic link"),
    ];
    for (name, bad, why) in cases {
        let (prefix, port) = prepare(
            &format!("state-bad-{name}"),
            &http_conf("abuse:4m", API),
            &[("conf/profiles.toml", PROFILES)],
        );
        let path = prefix.join(STATE);
        let original = match &bad {
            Bad::Bytes(b) => {
                std::fs::write(&path, b).expect("write");
                Some(b.clone())
            }
            Bad::Fifo => {
                let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
                // SAFETY: a valid C string.
                assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
                None
            }
            Bad::Symlink => {
                // even a link to a good file: a link can point anywhere
                let target = prefix.join("state/elsewhere.state");
                std::fs::write(&target, &good).expect("write");
                std::os::unix::fs::symlink(&target, &path).expect("symlink");
                None
            }
        };
        let mut n = Nginx::from_prefix(prefix, port);
        n.launch();
        let log = n.error_log();
        let lines: Vec<&str> = log.lines().filter(|l| l.contains("refused")).collect();
        assert_eq!(lines.len(), 1, "{name}: one line: {log}");
        assert!(
            lines[0].contains(why) && lines[0].contains("[error]"),
            "{name}: {}",
            lines[0]
        );
        assert!(lines[0].contains("renamed to"), "{name}: {}", lines[0]);
        let aside = set_aside(&n);
        assert_eq!(aside.len(), 1, "{name}: {aside:?}");
        let meta = std::fs::symlink_metadata(&aside[0]).expect("aside");
        match (&bad, original) {
            (Bad::Bytes(_), Some(bytes)) => {
                assert_eq!(
                    std::fs::read(&aside[0]).unwrap(),
                    bytes,
                    "{name}: kept as it was"
                )
            }
            (Bad::Fifo, _) => assert!(meta.file_type().is_fifo()),
            _ => assert!(meta.file_type().is_symlink()),
        }
        // the module runs with an empty zone and writes a fresh file
        assert_eq!(n.get("/", &xff("192.0.2.20")).status, 200, "{name}");
        post(&n, "addr=192.0.2.21&list=deny");
        let fresh = n.path(STATE);
        assert!(
            n.eventually(Duration::from_secs(2), || std::fs::symlink_metadata(&fresh)
                .is_ok_and(|m| m.file_type().is_file())),
            "{name}: new state file"
        );
        if let Bad::Symlink = bad {
            assert_eq!(
                std::fs::read(n.path("state/elsewhere.state")).unwrap(),
                good,
                "the link's target is untouched"
            );
        }
        n.stop();
        n.launch();
        assert_eq!(
            n.get("/", &xff("192.0.2.21")).status,
            403,
            "{name}: new file loads"
        );
        assert_eq!(set_aside(&n).len(), 1, "{name}: nothing more set aside");
    }
}

#[test]
fn an_unwritable_state_directory_is_an_alert_at_start() {
    let http = http_conf("abuse:4m", API).replace(
        "state=state/api_abuse.state",
        "state=state/missing/api_abuse.state",
    );
    let mut n = Nginx::start(
        "state-unwritable",
        &http,
        &[("conf/profiles.toml", PROFILES)],
    );
    n.allowed.push("cannot be written by the worker".into());
    let alert = |n: &Nginx| {
        n.error_log()
            .lines()
            .filter(|l| l.contains("[alert]") && l.contains("cannot be written by the worker"))
            .count()
    };
    assert!(
        n.eventually(Duration::from_secs(3), || alert(&n) == 1),
        "{}",
        n.error_log()
    );
    post(&n, "addr=192.0.2.30&list=deny");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(alert(&n), 1, "said once");
    let errors = n
        .error_log()
        .lines()
        .filter(|l| l.contains("cannot write state file"))
        .count();
    assert!(
        errors <= 1,
        "one line per run of failures: {}",
        n.error_log()
    );
    assert_eq!(
        n.get("/", &xff("192.0.2.30")).status,
        403,
        "enforced all the same"
    );
    n.stop();
    assert!(!Path::new(&n.path("state/missing")).exists());
}
