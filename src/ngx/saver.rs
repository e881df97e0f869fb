//! Worker 0's state helper: a process (see [`super::helper`]: no thread in a
//! worker) that writes the zone's state file within a second of any list
//! change (and every 10 s for baselines and statistics), so the event loop
//! never waits on a write or an fsync; and once a second, when detection has
//! filled its share of the list table, drops the records no longer in force
//! (a walk over every bucket that no request should pay for).
//!
//! The helper touches shared memory and files only; its lines for the error
//! log go to the worker, whose timer logs them. At exit the worker asks it
//! for a last save and waits for it a bounded time; when the worker dies
//! (killed, crashed) the helper still makes a last save, then exits.

use std::path::{Path, PathBuf};
use std::ptr::addr_of_mut;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ngx::ffi::{ngx_cycle_t, NGX_LOG_ALERT, NGX_LOG_ERR, NGX_LOG_INFO, NGX_LOG_NOTICE};

use super::helper::{Helper, Link};
use super::worker::log_line;
use crate::shared::Shared;

/// How often the helper looks at the list change counter.
const POLL: Duration = Duration::from_millis(100);
/// Least time between two writes (a burst of changes is one write).
const MIN_GAP: Duration = Duration::from_millis(500);
/// Baselines and statistics change all the time: written this often.
const FULL_EVERY: Duration = Duration::from_secs(10);
/// How often the list table is looked at for purging.
const PURGE_EVERY: Duration = Duration::from_secs(1);
/// How long exit waits for the last save.
const EXIT_WAIT: Duration = Duration::from_secs(5);
/// Least time between two starts of the helper (one that keeps dying is
/// started again at most this often).
const RESTART_GAP: Duration = Duration::from_secs(1);

struct Saver {
    helper: Option<Helper>,
    shared: &'static Shared,
    path: Option<PathBuf>,
    started: Instant,
}

// On the worker's event thread only (init_process, its timers,
// exit_process), one call at a time.
static mut SAVER: Option<Saver> = None;

/// Starts the helper, saving to `path` if given. False when no process could
/// be had (the caller then saves on its timer).
pub fn start(cycle: *mut ngx_cycle_t, shared: &'static Shared, path: Option<PathBuf>) -> bool {
    let helper = spawn(cycle, shared, path.clone());
    let ok = helper.is_some();
    // SAFETY: on the worker's event thread (see SAVER).
    unsafe {
        *addr_of_mut!(SAVER) = Some(Saver {
            helper,
            shared,
            path,
            started: Instant::now(),
        })
    };
    ok
}

fn spawn(
    cycle: *mut ngx_cycle_t,
    shared: &'static Shared,
    path: Option<PathBuf>,
) -> Option<Helper> {
    super::helper::spawn(cycle, "state", move |link| {
        run(link, shared, path.as_deref())
    })
}

/// Logs what the helper reported; starts a new one if it died. On the
/// worker's event thread.
pub fn report(cycle: *mut ngx_cycle_t) {
    // SAFETY: on the worker's event thread (see SAVER); nginx's cycle is live.
    let (saver, log) = unsafe { ((*addr_of_mut!(SAVER)).as_mut(), (*cycle).log) };
    let Some(s) = saver else { return };
    if let Some(h) = s.helper.as_mut() {
        let got = h.poll();
        for (level, line) in &got.lines {
            log_line(log, *level, line);
        }
        if got.exited {
            log_line(
                log,
                NGX_LOG_ERR as usize,
                &format!(
                    "api_abuse: state helper process {} exited; starting another",
                    h.pid()
                ),
            );
            s.helper = None;
        }
    }
    if s.helper.is_none() && s.started.elapsed() >= RESTART_GAP {
        s.started = Instant::now();
        s.helper = spawn(cycle, s.shared, s.path.clone());
    }
}

/// Asks for the last save and waits for it (bounded). False when there is
/// no helper (the caller saves itself).
pub fn stop(cycle: *mut ngx_cycle_t) -> bool {
    // SAFETY: on the worker's event thread (see SAVER); nginx's cycle is live.
    let (saver, log) = unsafe { ((*addr_of_mut!(SAVER)).take(), (*cycle).log) };
    let Some(mut h) = saver.and_then(|s| s.helper) else {
        return false;
    };
    if !h.stop(EXIT_WAIT, log) {
        log_line(
            log,
            NGX_LOG_ERR as usize,
            &format!(
                "api_abuse: state helper process {} did not finish its last save in {} s",
                h.pid(),
                EXIT_WAIT.as_secs()
            ),
        );
    }
    true
}

/// The helper's loop.
fn run(link: &Link, shared: &Shared, path: Option<&Path>) {
    let mut last_purge = Instant::now();
    let mut purge = |link: &Link| {
        if last_purge.elapsed() < PURGE_EVERY {
            return;
        }
        last_purge = Instant::now();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as u32);
        let n = shared.purge_lists(now);
        if n > 0 {
            link.say(
                NGX_LOG_INFO,
                &format!("api_abuse: list table at detection's share: {n} records no longer in force dropped"),
            );
        }
    };
    let Some(path) = path else {
        while !link.wait_stop(PURGE_EVERY) {
            purge(link);
        }
        link.done();
        return;
    };
    if let Err(e) = crate::state::probe_writable(path) {
        link.say(
            NGX_LOG_ALERT,
            &format!(
                "api_abuse: state file \"{}\" cannot be written by the worker: {e}; list entries and baselines will be lost at restart",
                path.display()
            ),
        );
    }
    let changes = &shared.list_counters().changes;
    let mut saved: Option<u64> = None;
    let mut last_write = Instant::now() - FULL_EVERY;
    let mut failing = false;
    loop {
        let stopping = link.wait_stop(POLL);
        if !stopping {
            purge(link);
        }
        let seen = changes.load(Ordering::Acquire);
        let since = last_write.elapsed();
        let due = stopping || since >= FULL_EVERY || (saved != Some(seen) && since >= MIN_GAP);
        if due {
            last_write = Instant::now();
            match crate::state::save(shared, path) {
                Ok(()) => {
                    saved = Some(seen);
                    if failing {
                        failing = false;
                        link.say(
                            NGX_LOG_NOTICE,
                            &format!("api_abuse: state file \"{}\" written again", path.display()),
                        );
                    }
                }
                Err(e) => {
                    // one line per run of failures, not one a second
                    if !failing {
                        failing = true;
                        link.say(
                            NGX_LOG_ERR,
                            &format!(
                                "api_abuse: cannot write state file \"{}\": {e}",
                                path.display()
                            ),
                        );
                    }
                }
            }
        }
        if stopping {
            if link.orphaned() {
                link.say(
                    NGX_LOG_NOTICE,
                    &format!(
                        "api_abuse: worker process {} is gone: state file \"{}\" saved, state helper exiting",
                        link.worker(),
                        path.display()
                    ),
                );
            }
            link.done();
            return;
        }
    }
}
