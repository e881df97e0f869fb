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
//! - `memo`: the view's answers to the transition question, asked by each
//!   request of a known client ([`AppBaseline::transition_is_rare_memo`]),
//!   cleared whenever the view is refreshed;
//! - `taught`: which sketch cells the delta's endpoint lessons touched, so
//!   the merge visits those instead of all 10,240 cells of both sketches
//!   ([`AppBaseline::merge_taught`]; past [`TAUGHT`] lessons in a second,
//!   the whole delta as before).
//!
//! Memory: 2 x 41 KiB + 4.3 KiB per application and worker, allocated on the
//! first request of the application in the worker, never on later ones.

use crate::detect::baseline::{Lesson, TransitionMemo};
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
    /// Transition answers of `view`, cleared whenever `view` changes.
    memo: Box<TransitionMemo>,
    delta: Box<AppBaseline>,
    /// The `(template, prev_template)` of every endpoint lesson in `delta`,
    /// the first [`TAUGHT`] of them: the merge visits only their sketch
    /// cells. `taught_len` past [`TAUGHT`]: too many, the whole delta is
    /// merged.
    taught: Box<[(u32, u32); TAUGHT]>,
    taught_len: usize,
    dirty: bool,
    synced_ms: u64,
}

/// Endpoint lessons of one second whose sketch cells the merge visits one
/// by one; more, and it sweeps both sketches whole as before (a worker
/// teaches at most `LEARN_PER_MINUTE` endpoints per client-minute, so a
/// second's lessons pass this only on a busy site, where the sweep is a
/// small share of the second's work).
pub const TAUGHT: usize = 256;

impl WorkerApp {
    /// The baseline as last merged (read-only, no lock).
    pub fn baseline(&self) -> &AppBaseline {
        &self.view
    }

    /// [`WorkerApp::baseline`] with the memo of its transition answers,
    /// for the record update ([`ClientState::begin_memo`]).
    ///
    /// [`ClientState::begin_memo`]: crate::detect::ClientState::begin_memo
    pub fn baseline_memo(&mut self) -> (&AppBaseline, &mut TransitionMemo) {
        (&self.view, &mut self.memo)
    }

    /// Teaches one request to this worker's delta (no lock).
    pub fn teach(&mut self, obs: &Observation, lesson: Lesson) {
        if self.delta.record(obs, lesson) {
            self.dirty = true;
            if AppBaseline::teaches_endpoints(obs, lesson) {
                if let Some(t) = self.taught.get_mut(self.taught_len) {
                    *t = (obs.template, obs.prev_template);
                }
                self.taught_len = self.taught_len.saturating_add(1);
            }
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
                memo: Box::default(),
                delta: AppBaseline::boxed(),
                taught: Box::new([(0, 0); TAUGHT]),
                taught_len: 0,
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
            old.memo.clear();
            old.delta.reset();
            old.taught_len = 0;
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
    let (view, delta, dirty) = (&mut app.view, &mut app.delta, app.dirty);
    let taught = app.taught.get(..app.taught_len);
    // Whatever the zone says now, the view's answers may change.
    app.memo.clear();
    let done = shared.apps.upsert(
        app.key,
        now_s,
        |_, _| true,
        |rec, _| {
            if dirty {
                match taught {
                    Some(taught) => rec.baseline.merge_taught(delta, taught, now_ms),
                    None => {
                        rec.baseline.merge(delta, now_ms);
                        delta.reset();
                    }
                }
            }
            **view = rec.baseline;
        },
    );
    if done.is_some() {
        app.taught_len = 0;
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
