//! Per-worker learning, so that no lock is shared by all requests.
//!
//! Every scored request reads its application's baseline (the learned rate,
//! endpoint popularity and transitions) and may teach it one rate sample and
//! one endpoint step. With one baseline record per application in the zone,
//! that made every request of every worker take the same bucket lock. Instead
//! each worker keeps, per application:
//!
//! - `view`: a copy of the zone's baseline, read without any lock;
//! - `delta`: the counts its own requests taught since the last merge
//!   ([`AppBaseline::record`]), written without any lock.
//!
//! Once a second ([`Learner::sync`], the worker's timer, and at exit) the
//! worker takes the application's bucket lock, folds its delta into the
//! zone's baseline ([`AppBaseline::merge`]: decay, counts, threshold) and
//! copies the result back into its view. The baseline stays in the zone, so
//! the state file and `nginx -s reload` keep it; a worker's view lags the
//! other workers' teaching by a second at most, which the baseline's
//! hour-scale dynamics do not notice.
//!
//! Memory: 2 x 41 KiB per application and worker, allocated on the first
//! request of the application in the worker, never on later ones.

use crate::detect::baseline::Lesson;
use crate::detect::{AppBaseline, Observation};
use crate::shared::Shared;
use crate::table::ClientKey;

/// Applications one worker keeps a view of; more are served by dropping the
/// one merged longest ago (after merging it).
pub const WORKER_APPS: usize = 16;
/// The delta is merged this often (the glue's timer).
pub const SYNC_MS: u64 = 1_000;
/// Bytes of an application's name kept for the events file.
const NAME_LEN: usize = 64;

/// One application as this worker sees it.
pub struct WorkerApp {
    key: ClientKey,
    name: [u8; NAME_LEN],
    name_len: usize,
    view: Box<AppBaseline>,
    delta: Box<AppBaseline>,
    dirty: bool,
    synced_ms: u64,
}

impl WorkerApp {
    /// The baseline as last merged (read-only, no lock).
    pub fn baseline(&self) -> &AppBaseline {
        &self.view
    }

    /// Teaches one request to this worker's delta (no lock).
    pub fn teach(&mut self, obs: &Observation, lesson: Lesson) {
        if self.delta.record(obs, lesson) {
            self.dirty = true;
        }
    }

    /// The application's name as configured (`api_abuse_app`), truncated to
    /// 64 bytes.
    pub fn name(&self) -> &[u8] {
        &self.name[..self.name_len]
    }
}

/// This worker's applications.
#[derive(Default)]
pub struct Learner {
    apps: Vec<WorkerApp>,
}

impl Learner {
    pub const fn new() -> Learner {
        Learner { apps: Vec::new() }
    }

    /// The application `key` (named `name`), pulled from the zone on its
    /// first request in this worker.
    #[inline]
    pub fn app(
        &mut self,
        shared: &Shared,
        key: ClientKey,
        name: &[u8],
        now_ms: u64,
    ) -> &mut WorkerApp {
        let i = match self.apps.iter().position(|a| a.key == key) {
            Some(i) => i,
            None => self.add(shared, key, name, now_ms),
        };
        &mut self.apps[i]
    }

    #[cold]
    #[inline(never)]
    fn add(&mut self, shared: &Shared, key: ClientKey, name: &[u8], now_ms: u64) -> usize {
        let mut app = if self.apps.len() < WORKER_APPS {
            let mut stored = [0u8; NAME_LEN];
            let n = name.len().min(NAME_LEN);
            stored[..n].copy_from_slice(&name[..n]);
            WorkerApp {
                key,
                name: stored,
                name_len: n,
                view: AppBaseline::boxed(),
                delta: AppBaseline::boxed(),
                dirty: false,
                synced_ms: 0,
            }
        } else {
            // Reuse the slot merged longest ago, after merging it.
            let oldest = (0..self.apps.len())
                .min_by_key(|&i| self.apps[i].synced_ms)
                .unwrap_or(0);
            let mut old = self.apps.swap_remove(oldest);
            merge(shared, &mut old, now_ms);
            let n = name.len().min(NAME_LEN);
            old.key = key;
            old.name = [0; NAME_LEN];
            old.name[..n].copy_from_slice(&name[..n]);
            old.name_len = n;
            old.view.reset();
            old.delta.reset();
            old.dirty = false;
            old
        };
        merge(shared, &mut app, now_ms);
        self.apps.push(app);
        self.apps.len() - 1
    }

    /// Merges every application's delta into the zone and refreshes the
    /// views (the worker's one-second timer, and at exit).
    pub fn sync(&mut self, shared: &Shared, now_ms: u64) {
        for app in &mut self.apps {
            merge(shared, app, now_ms);
        }
    }

    /// Forgets every view and delta (a new zone: the old views belong to
    /// another one).
    pub fn clear(&mut self) {
        self.apps.clear();
    }
}

/// Folds `app`'s delta into the zone's baseline and copies the result back,
/// under the application's bucket lock.
fn merge(shared: &Shared, app: &mut WorkerApp, now_ms: u64) {
    let now_s = (now_ms / 1000) as u32;
    let (view, delta, dirty) = (&mut app.view, &app.delta, app.dirty);
    let done = shared.apps.upsert(
        app.key,
        now_s,
        |_, _| true,
        |rec, _| {
            if dirty {
                rec.baseline.merge(delta, now_ms);
            }
            **view = rec.baseline;
        },
    );
    if done.is_some() {
        if dirty {
            app.delta.reset();
        }
        app.dirty = false;
    }
    app.synced_ms = now_ms;
}

thread_local! {
    static WORKER: std::cell::RefCell<Learner> = const { std::cell::RefCell::new(Learner::new()) };
}

/// Runs `f` with this worker's learner (nginx workers are single-threaded:
/// the thread-local is the worker's). `None` if re-entered.
pub fn with_worker<R>(f: impl FnOnce(&mut Learner) -> R) -> Option<R> {
    WORKER.with(|l| l.try_borrow_mut().ok().map(|mut l| f(&mut l)))
}
