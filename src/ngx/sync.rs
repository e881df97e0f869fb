//! Glue for `api_abuse_sync`: worker 0 of each nginx instance (and the
//! worker that replaces it after a respawn or a reload) runs the session of
//! [`crate::sync::client`] in a helper process it forks (see
//! [`super::helper`]: no thread in a worker), `nginx: api_abuse sync
//! helper`. The helper writes into the zone and never touches the worker:
//! its log lines come back through a pipe and are written by a timer on the
//! worker's event loop, which also notices a helper that died and starts
//! another. Request handling never waits on it.

use std::ptr::addr_of_mut;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ngx::ffi::{ngx_add_timer, ngx_cycle_t, ngx_event_t, NGX_LOG_ERR, NGX_LOG_NOTICE};

use super::conf::MainConf;
use super::helper::{Helper, Link};
use super::worker::{exiting, log_line};
use crate::shared::Shared;
use crate::sync::client::{self, Env};
use crate::sync::Settings;

/// How often the helper's lines are written and its exit checked.
const TICK_MS: usize = 100;
/// How long exit waits for the helper: the client's command timeout (5 s)
/// bounds a pass, and a little more.
const EXIT_WAIT: Duration = Duration::from_secs(6);
/// Least time between two starts of a helper that keeps dying.
const RESTART_GAP: Duration = Duration::from_secs(1);

struct Running {
    helper: Option<Helper>,
    shared: &'static Shared,
    settings: Settings,
    v6_prefix: u8,
    started: Instant,
    /// The helper ended because a successor (the next generation's worker
    /// 0) took the zone over: not started again.
    retired: bool,
    cycle: *mut ngx_cycle_t,
}

// On the worker's event thread only (init_process, the timer,
// exit_process), one call at a time.
static mut RUNNING: Option<Running> = None;
static mut TICK: Option<ngx_event_t> = None;

struct HelperEnv<'a> {
    link: &'a Link,
}

impl Env for HelperEnv<'_> {
    fn stopping(&self) -> bool {
        self.link.stopping()
    }
    fn error(&self, msg: &str) {
        self.link.say(NGX_LOG_ERR, msg);
    }
    fn notice(&self, msg: &str) {
        self.link.say(NGX_LOG_NOTICE, msg);
    }
}

fn spawn(r: &Running) -> Option<Helper> {
    let (shared, settings, v6_prefix) = (r.shared, r.settings.clone(), r.v6_prefix);
    super::helper::spawn(r.cycle, "sync", move |link| {
        client::run(shared, &settings, v6_prefix, &HelperEnv { link });
        link.done();
    })
}

/// Starts the helper (worker 0 only). Without `api_abuse_sync`, still claims
/// the zone, so the helper of a previous configuration stops after a reload.
pub fn start(cycle: *mut ngx_cycle_t, mcf: &MainConf) {
    let Some(shared) = super::zone::shared(mcf) else {
        return;
    };
    let journal = shared.journal();
    let Some(settings) = mcf.sync.clone() else {
        journal.stats.generation.fetch_add(1, Ordering::Relaxed);
        journal.stats.enabled.store(0, Ordering::Relaxed);
        journal.stats.connected.store(0, Ordering::Relaxed);
        return;
    };
    let mut r = Running {
        helper: None,
        shared,
        settings,
        v6_prefix: mcf.v6_prefix(),
        started: Instant::now(),
        retired: false,
        cycle,
    };
    r.helper = spawn(&r);
    // SAFETY: init_process runs once, single-threaded, before any event.
    let log = unsafe { (*cycle).log };
    if r.helper.is_none() {
        log_line(
            log,
            NGX_LOG_ERR as usize,
            "api_abuse: cannot start the sync helper process; this node will not share its lists",
        );
        return;
    }
    // SAFETY: as above; RUNNING and TICK are this file's statics, on the
    // event thread.
    unsafe {
        *addr_of_mut!(RUNNING) = Some(r);
        let ev = (*addr_of_mut!(TICK)).get_or_insert_with(|| {
            // SAFETY: an all-zero ngx_event_t is where nginx's own code starts.
            let mut ev: ngx_event_t = std::mem::zeroed();
            ev.handler = Some(on_tick);
            ev.log = log;
            ev.set_cancelable(1);
            ev
        });
        ngx_add_timer(ev, TICK_MS);
    }
}

/// Logs the helper's lines; starts another if it died.
fn check() {
    // SAFETY: on the event thread (see RUNNING).
    let Some(r) = (unsafe { (*addr_of_mut!(RUNNING)).as_mut() }) else {
        return;
    };
    // SAFETY: the worker's cycle, live while it runs.
    let log = unsafe { (*r.cycle).log };
    if let Some(h) = r.helper.as_mut() {
        let got = h.poll();
        for (level, line) in &got.lines {
            log_line(log, *level, line);
        }
        if got.exited {
            let pid = h.pid();
            r.helper = None;
            if got.done {
                r.retired = true;
            } else {
                log_line(
                    log,
                    NGX_LOG_ERR as usize,
                    &format!("api_abuse: sync helper process {pid} exited; starting another"),
                );
            }
        }
    }
    if r.helper.is_none() && !r.retired && r.started.elapsed() >= RESTART_GAP {
        r.started = Instant::now();
        r.helper = spawn(r);
    }
}

unsafe extern "C" fn on_tick(_ev: *mut ngx_event_t) {
    let _ = std::panic::catch_unwind(|| {
        check();
        if exiting() {
            return;
        }
        // SAFETY: timers run on the worker's only event thread.
        unsafe {
            if let Some(ev) = (*addr_of_mut!(TICK)).as_mut() {
                ngx_add_timer(ev, TICK_MS);
            }
        }
    });
}

/// Stops the helper and waits for it (at worker exit), bounded.
pub fn stop(cycle: *mut ngx_cycle_t) {
    // SAFETY: on the event thread (see RUNNING).
    let Some(r) = (unsafe { (*addr_of_mut!(RUNNING)).take() }) else {
        return;
    };
    let Some(mut h) = r.helper else { return };
    // SAFETY: nginx passes its live cycle to exit_process.
    let log = unsafe { (*cycle).log };
    if !h.stop(EXIT_WAIT, log) {
        log_line(
            log,
            NGX_LOG_ERR as usize,
            &format!(
                "api_abuse: sync helper process {} did not stop in {} s",
                h.pid(),
                EXIT_WAIT.as_secs()
            ),
        );
    }
}
