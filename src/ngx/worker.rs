//! Per-worker state and timers: the profiles timer (see `super::profiles`:
//! a change of the file is in force within a second, without a reload), the
//! events file, and the periodic save of the zone's state file.

use std::ptr::addr_of_mut;
use std::sync::Arc;

use ngx::core::Status;
use ngx::ffi::{
    ngx_add_timer, ngx_cycle_t, ngx_event_t, ngx_exiting, ngx_log_t, ngx_process, ngx_quit,
    ngx_terminate, ngx_worker, NGX_LOG_ERR, NGX_PROCESS_SINGLE, NGX_PROCESS_WORKER,
};
use ngx::http::HttpModuleMainConf;
use ngx::ngx_log_error;

use super::conf::MainConf;
use super::profiles::CHECK_MS as PROFILES_CHECK_MS;
use super::Module;
use crate::config::Profiles;

/// How often worker 0 writes the state file when it has no state helper.
const STATE_SAVE_MS: usize = 10_000;
/// How often worker 0 logs what its state helper reported.
const STATE_REPORT_MS: usize = 1000;

// The statics below are per process and only touched on the worker's event
// thread (init_process, its timers, exit_process), one call at a time: that
// is the invariant each `unsafe` block here relies on.

/// Whether this worker's state file is written by the state helper process.
static mut SAVER_RUNNING: bool = false;

/// The profiles in force in this process (see `super::profiles`).
pub fn profiles() -> Option<Arc<Profiles>> {
    super::profiles::current()
}

static mut PROFILES_EVENT: Option<ngx_event_t> = None;
static mut STATE_EVENT: Option<ngx_event_t> = None;
static mut LEARN_EVENT: Option<ngx_event_t> = None;
static mut CYCLE: *mut ngx_cycle_t = std::ptr::null_mut();

fn is_worker() -> bool {
    // SAFETY: plain reads of nginx process globals.
    unsafe {
        ngx_process == NGX_PROCESS_WORKER as usize || ngx_process == NGX_PROCESS_SINGLE as usize
    }
}

pub(super) fn exiting() -> bool {
    // SAFETY: plain reads of nginx process globals.
    unsafe { ngx_exiting != 0 || ngx_quit != 0 || ngx_terminate != 0 }
}

pub fn main_conf(cycle: *mut ngx_cycle_t) -> Option<&'static MainConf> {
    // SAFETY: cycle is the live cycle of this process.
    unsafe { cycle.as_ref().and_then(|c| Module::main_conf(c)) }
}

pub fn init_process(cycle: *mut ngx_cycle_t) -> Status {
    if !is_worker() {
        return Status::NGX_OK;
    }
    let Some(mcf) = main_conf(cycle) else {
        return Status::NGX_OK;
    };
    // SAFETY: init_process runs once, single-threaded, before any event.
    unsafe {
        CYCLE = cycle;
        crate::campaign::set_worker(ngx_worker);
        crate::detect::ua_cache::prepare();
        super::handlers::prepare_scan_cache();
        if let Some(shared) = super::zone::shared(mcf) {
            shared.clients.prefault();
        }
        if super::profiles::init_worker(mcf.profiles_zone, (*cycle).log) {
            arm(
                addr_of_mut!(PROFILES_EVENT),
                cycle,
                on_profiles_timer,
                PROFILES_CHECK_MS,
            );
        }
        if !mcf.zone.is_null() {
            arm(
                addr_of_mut!(LEARN_EVENT),
                cycle,
                on_learn_timer,
                crate::engine::learner::SYNC_MS as usize,
            );
        }
        if ngx_worker == 0 {
            if let Some(shared) = super::zone::shared(mcf) {
                let path = super::zone::state_writable(mcf)
                    .then(|| mcf.state_path.clone())
                    .flatten();
                let saves = path.is_some();
                SAVER_RUNNING = super::saver::start(cycle, shared, path);
                if SAVER_RUNNING || saves {
                    let every = if SAVER_RUNNING {
                        STATE_REPORT_MS
                    } else {
                        STATE_SAVE_MS
                    };
                    arm(addr_of_mut!(STATE_EVENT), cycle, on_state_timer, every);
                }
            }
        }
        if ngx_worker == 0 {
            super::sync::start(cycle, mcf);
        }
    }
    Status::NGX_OK
}

pub fn exit_process(cycle: *mut ngx_cycle_t) {
    super::sync::stop(cycle);
    if is_worker() {
        let _ = std::panic::catch_unwind(|| sync_learning(cycle));
    }
    // SAFETY: plain read of a process global.
    if is_worker() && unsafe { ngx_worker } == 0 {
        // the state helper writes the last state; without one, write it here
        let by_helper = std::panic::catch_unwind(|| super::saver::stop(cycle)).unwrap_or(false);
        let writable = main_conf(cycle).is_some_and(super::zone::state_writable);
        if !by_helper && writable {
            save_state(cycle);
        }
    }
}

/// Creates (first call) and arms a cancelable timer, so graceful shutdown
/// does not wait for it.
///
/// # Safety
/// On the event thread; `slot` is one of this file's event statics (nginx
/// keeps a pointer to the event in its timer tree, so it must never move)
/// and `cycle` the live cycle.
unsafe fn arm(
    slot: *mut Option<ngx_event_t>,
    cycle: *mut ngx_cycle_t,
    handler: unsafe extern "C" fn(*mut ngx_event_t),
    ms: usize,
) {
    // SAFETY: the caller's guarantees: nothing else borrows the static, the
    // cycle is live; an all-zero ngx_event_t is the state nginx's own code
    // starts from, and re-adding an armed timer just moves it.
    unsafe {
        let ev = (*slot).get_or_insert_with(|| {
            let mut ev: ngx_event_t = std::mem::zeroed();
            ev.handler = Some(handler);
            ev.log = (*cycle).log;
            ev.set_cancelable(1);
            ev
        });
        ngx_add_timer(ev, ms);
    }
}

unsafe extern "C" fn on_profiles_timer(_ev: *mut ngx_event_t) {
    if exiting() {
        return;
    }
    // SAFETY: timers run on the event thread, after init_process set CYCLE.
    let log = unsafe { (*CYCLE).log };
    // SAFETY: timers run on the worker's only event thread.
    let next = match std::panic::catch_unwind(|| unsafe { super::profiles::tick(log) }) {
        Ok(next) => next,
        Err(_) => {
            log_line(
                log,
                NGX_LOG_ERR as usize,
                "api_abuse: internal error while reading the profiles file",
            );
            PROFILES_CHECK_MS
        }
    };
    // SAFETY: on the event thread; the event is this file's static.
    unsafe { arm(addr_of_mut!(PROFILES_EVENT), CYCLE, on_profiles_timer, next) };
}

/// Merges this worker's learning into the zone's baselines (see
/// `engine::learner`).
unsafe extern "C" fn on_learn_timer(_ev: *mut ngx_event_t) {
    if exiting() {
        return;
    }
    // SAFETY: on the event thread, after init_process set CYCLE; the
    // event is this file's static.
    let cycle = unsafe {
        arm(
            addr_of_mut!(LEARN_EVENT),
            CYCLE,
            on_learn_timer,
            crate::engine::learner::SYNC_MS as usize,
        );
        CYCLE
    };
    let _ = std::panic::catch_unwind(|| sync_learning(cycle));
}

fn sync_learning(cycle: *mut ngx_cycle_t) {
    let Some(shared) = main_conf(cycle).and_then(super::zone::shared) else {
        return;
    };
    let now = super::util::now_ms();
    crate::engine::learner::with_worker(|l| l.sync(shared, now));
    crate::engine::flush_counts(shared);
}

unsafe extern "C" fn on_state_timer(_ev: *mut ngx_event_t) {
    if exiting() {
        return;
    }
    // SAFETY: on the event thread, after init_process set both statics.
    let (running, cycle) = unsafe { (SAVER_RUNNING, CYCLE) };
    let every = if running {
        STATE_REPORT_MS
    } else {
        STATE_SAVE_MS
    };
    // SAFETY: as above; the event is this file's static.
    unsafe { arm(addr_of_mut!(STATE_EVENT), cycle, on_state_timer, every) };
    if running {
        let _ = std::panic::catch_unwind(|| super::saver::report(cycle));
    } else {
        let _ = std::panic::catch_unwind(|| save_state(cycle));
    }
}

fn save_state(cycle: *mut ngx_cycle_t) {
    let Some(mcf) = main_conf(cycle) else { return };
    let (Some(path), Some(shared)) = (&mcf.state_path, super::zone::shared(mcf)) else {
        return;
    };
    if let Err(e) = crate::state::save(shared, path) {
        // SAFETY: cycle is live.
        let log = unsafe { (*cycle).log };
        log_line(
            log,
            NGX_LOG_ERR as usize,
            &format!(
                "api_abuse: cannot write state file \"{}\": {e}",
                path.display()
            ),
        );
    }
}

pub fn log_line(log: *mut ngx_log_t, level: usize, msg: &str) {
    if log.is_null() {
        return;
    }
    ngx_log_error!(level, log, "{}", msg);
}
