//! Worker 0's maintenance thread: writes the zone's state file within a
//! second of any list change (and every 10 s for baselines and
//! statistics), so the event loop never waits on a write or an fsync; and
//! once a second, when detection has filled its share of the list table,
//! drops the records no longer in force (a walk over every bucket that no
//! request should pay for).
//!
//! The thread touches shared memory and files only; what it has to say
//! goes into a queue that the worker's timer drains into the error log
//! (nginx's log functions are not for other threads). At exit the worker
//! asks it for a last save and waits for it a bounded time.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use ngx::ffi::{NGX_LOG_ALERT, NGX_LOG_ERR, NGX_LOG_INFO, NGX_LOG_NOTICE};

use crate::shared::Shared;

/// How often the thread looks at the list change counter.
const POLL: Duration = Duration::from_millis(100);
/// Least time between two writes (a burst of changes is one write).
const MIN_GAP: Duration = Duration::from_millis(500);
/// Baselines and statistics change all the time: written this often.
const FULL_EVERY: Duration = Duration::from_secs(10);
/// How often the list table is looked at for purging.
const PURGE_EVERY: Duration = Duration::from_secs(1);
/// How long exit waits for the last save.
const EXIT_WAIT: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Control {
    stop: bool,
    done: bool,
    /// (nginx log level, line) for the worker to log.
    lines: Vec<(usize, String)>,
}

pub struct Saver {
    control: Mutex<Control>,
    wake: Condvar,
}

static SAVER: Mutex<Option<Arc<Saver>>> = Mutex::new(None);

fn lock(s: &Saver) -> std::sync::MutexGuard<'_, Control> {
    s.control.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts the thread, saving to `path` if given. False when no thread could
/// be had (the caller then saves on its timer as before).
pub fn start(shared: &'static Shared, path: Option<PathBuf>) -> bool {
    let saver = Arc::new(Saver {
        control: Mutex::new(Control::default()),
        wake: Condvar::new(),
    });
    let me = saver.clone();
    let spawned = super::worker::spawn_quiet_named("api-abuse-state", move || {
        run(&me, shared, path.as_deref())
    });
    if spawned.is_none() {
        return false;
    }
    *SAVER.lock().unwrap_or_else(|e| e.into_inner()) = Some(saver);
    true
}

/// Lines the thread queued for the error log.
pub fn drain() -> Vec<(usize, String)> {
    let s = SAVER.lock().unwrap_or_else(|e| e.into_inner()).clone();
    s.map(|s| std::mem::take(&mut lock(&s).lines))
        .unwrap_or_default()
}

/// Asks for the last save and waits for it (bounded). False when there
/// is no saver thread (the caller saves itself).
pub fn stop() -> bool {
    let Some(s) = SAVER.lock().unwrap_or_else(|e| e.into_inner()).take() else {
        return false;
    };
    let deadline = Instant::now() + EXIT_WAIT;
    let mut c = lock(&s);
    c.stop = true;
    s.wake.notify_all();
    while !c.done {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        c = s
            .wake
            .wait_timeout(c, left)
            .map(|r| r.0)
            .unwrap_or_else(|e| e.into_inner().0);
    }
    true
}

fn say(s: &Saver, level: u32, line: String) {
    lock(s).lines.push((level as usize, line));
}

fn run(s: &Saver, shared: &'static Shared, path: Option<&std::path::Path>) {
    let mut last_purge = Instant::now();
    let mut purge = |s: &Saver| {
        if last_purge.elapsed() < PURGE_EVERY {
            return;
        }
        last_purge = Instant::now();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as u32);
        let n = shared.purge_lists(now);
        if n > 0 {
            say(
                s,
                NGX_LOG_INFO,
                format!("api_abuse: list table at detection's share: {n} records no longer in force dropped"),
            );
        }
    };
    let Some(path) = path else {
        loop {
            let c = lock(s);
            let (c, _) = s
                .wake
                .wait_timeout_while(c, PURGE_EVERY, |c| !c.stop)
                .unwrap_or_else(|e| e.into_inner());
            if c.stop {
                drop(c);
                let mut c = lock(s);
                c.done = true;
                s.wake.notify_all();
                return;
            }
            drop(c);
            purge(s);
        }
    };
    if let Err(e) = crate::state::probe_writable(path) {
        say(
            s,
            NGX_LOG_ALERT,
            format!(
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
        let stopping = {
            let c = lock(s);
            let (c, _) = s
                .wake
                .wait_timeout_while(c, POLL, |c| !c.stop)
                .unwrap_or_else(|e| e.into_inner());
            c.stop
        };
        if !stopping {
            purge(s);
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
                        say(
                            s,
                            NGX_LOG_NOTICE,
                            format!("api_abuse: state file \"{}\" written again", path.display()),
                        );
                    }
                }
                Err(e) => {
                    // one line per run of failures, not one a second
                    if !failing {
                        failing = true;
                        say(
                            s,
                            NGX_LOG_ERR,
                            format!(
                                "api_abuse: cannot write state file \"{}\": {e}",
                                path.display()
                            ),
                        );
                    }
                }
            }
        }
        if stopping {
            let mut c = lock(s);
            c.done = true;
            s.wake.notify_all();
            return;
        }
    }
}
