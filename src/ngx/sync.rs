//! Glue for `api_abuse_sync`: worker 0 of each nginx instance (and the
//! worker that replaces it after a respawn or a reload) runs the sync thread
//! of [`crate::sync::client`]. The thread writes into the zone and never
//! touches nginx: its log lines are queued and written by a timer on the
//! worker's event loop, which also tells it to stop when the worker exits.
//! Request handling never waits on it.

use std::ptr::addr_of_mut;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use ngx::ffi::{ngx_add_timer, ngx_cycle_t, ngx_event_t, NGX_LOG_ERR, NGX_LOG_NOTICE};

use super::conf::MainConf;
use super::worker::{exiting, log_line};
use crate::sync::client::{self, Env};

/// How often queued log lines are written and the exit checked.
const TICK_MS: usize = 100;

struct Running {
    handle: JoinHandle<()>,
    stop: Arc<AtomicBool>,
}

static RUNNING: Mutex<Option<Running>> = Mutex::new(None);
static QUEUE: Mutex<Vec<(usize, String)>> = Mutex::new(Vec::new());
static mut TICK: Option<ngx_event_t> = None;
static mut CYCLE: *mut ngx_cycle_t = std::ptr::null_mut();

struct ThreadEnv {
    stop: Arc<AtomicBool>,
}

fn queue(level: usize, msg: &str) {
    if let Ok(mut q) = QUEUE.lock() {
        // Bounded: the thread logs once per outage, but never let a loop of
        // failures grow the queue without end.
        if q.len() < 64 {
            q.push((level, msg.to_string()));
        }
    }
}

impl Env for ThreadEnv {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
    fn error(&self, msg: &str) {
        queue(NGX_LOG_ERR as usize, msg);
    }
    fn notice(&self, msg: &str) {
        queue(NGX_LOG_NOTICE as usize, msg);
    }
}

/// Starts the thread (worker 0 only). Without `api_abuse_sync`, still claims
/// the zone, so the thread of a previous configuration stops after a reload.
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
    let stop = Arc::new(AtomicBool::new(false));
    let env = ThreadEnv { stop: stop.clone() };
    let v6_prefix = mcf.v6_prefix();
    let spawned = spawn_quiet(move || {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            client::run(shared, &settings, v6_prefix, &env)
        }));
    });
    // SAFETY: init_process runs once, single-threaded, before any event.
    let log = unsafe { (*cycle).log };
    match spawned {
        Some(handle) => {
            if let Ok(mut r) = RUNNING.lock() {
                *r = Some(Running { handle, stop });
            }
            // SAFETY: as above.
            unsafe {
                CYCLE = cycle;
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
        None => log_line(
            log,
            NGX_LOG_ERR as usize,
            "api_abuse: cannot start the sync thread; this node will not share its lists",
        ),
    }
}

fn flush(cycle: *mut ngx_cycle_t) {
    let lines = QUEUE
        .lock()
        .map(|mut q| std::mem::take(&mut *q))
        .unwrap_or_default();
    if cycle.is_null() {
        return;
    }
    // SAFETY: the cycle is live while the worker runs.
    let log = unsafe { (*cycle).log };
    for (level, msg) in lines {
        log_line(log, level, &msg);
    }
}

unsafe extern "C" fn on_tick(_ev: *mut ngx_event_t) {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: CYCLE is written once, in init_process, before this timer
        // is armed; timers run on the worker's only event thread.
        flush(unsafe { CYCLE });
        if exiting() {
            signal_stop();
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

fn signal_stop() {
    if let Ok(r) = RUNNING.lock() {
        if let Some(r) = r.as_ref() {
            r.stop.store(true, Ordering::Relaxed);
        }
    }
}

/// Stops and joins the thread (at worker exit). Bounded by the client's
/// command timeout.
pub fn stop(cycle: *mut ngx_cycle_t) {
    let running = RUNNING.lock().ok().and_then(|mut r| r.take());
    if let Some(r) = running {
        r.stop.store(true, Ordering::Relaxed);
        let _ = r.handle.join();
    }
    flush(cycle);
}

/// Spawns a thread with every signal blocked, so that signals sent to the
/// worker keep reaching its event loop.
fn spawn_quiet(f: impl FnOnce() + Send + 'static) -> Option<JoinHandle<()>> {
    // SAFETY: plain signal-mask calls on the current thread; the previous
    // mask is restored right after the spawn.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        if libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old) != 0 {
            return None;
        }
        let handle = std::thread::Builder::new()
            .name("api-abuse-sync".into())
            .spawn(f)
            .ok();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        handle
    }
}
