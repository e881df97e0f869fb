//! What an application's normal traffic looks like, learned in place: the
//! distribution of per-client request rates, endpoint popularity and
//! endpoint-to-endpoint transitions. One fixed-size record per application
//! (40 KiB), `#[repr(C)]`, `Copy`, pointer-free, valid when all zero, so it
//! lives in the shared zone and in the state file.
//!
//! - Rates: a histogram of requests per client-minute (one sample per client
//!   and active minute) over logarithmic buckets; the learned threshold is the
//!   upper bound of the bucket holding the 99th percentile, with a floor.
//! - Popularity and transitions: count-min sketches (Cormode and Muthukrishnan,
//!   2005) of two rows; the minimum over rows bounds collision noise.
//! - Everything decays with a one-day half-life (a multiplication every hour),
//!   so the baseline follows the site's traffic as it changes.
//!
//! Poisoning: only clients that are not flagged are learned from (the glue's
//! part); a client with any bot-like evidence (`Assessment::is_ordinary`)
//! teaches no endpoints, and one far above the rate threshold no rate; each
//! client teaches at most `LEARN_PER_MINUTE` endpoints per minute
//! and one rate sample per minute, like any human; and once settled, the
//! threshold in force is recomputed every ten minutes and moves by at most
//! `MAX_THRESHOLD_STEP` each time, so bots that escape detection still need
//! hours of sustained traffic to drag it up.

use super::hash::{mix, pair};

/// What one observed request may teach the application's baseline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Observation {
    pub template: u32,
    /// The client's previous template in this session (0: none).
    pub prev_template: u32,
    pub asset: bool,
    /// Within this client's per-minute learning budget.
    pub learn_endpoint: bool,
    /// The client's request count of a minute that just ended (0: none).
    pub minute_sample: u16,
}

/// Upper bounds (inclusive) of the rate buckets, in requests per minute.
pub const RATE_BOUNDS: [u16; 24] = [
    1,
    2,
    3,
    4,
    6,
    8,
    11,
    16,
    22,
    32,
    45,
    64,
    90,
    128,
    181,
    256,
    362,
    512,
    724,
    1024,
    1448,
    2048,
    4096,
    u16::MAX,
];
/// Percentile of client-minutes that counts as normal.
pub const RATE_PERCENTILE: f32 = 0.99;
/// The learned threshold never goes below this (requests per minute).
pub const RATE_FLOOR: f32 = 30.0;
/// Threshold used until `MIN_RATE_SAMPLES` client-minutes were learned.
pub const RATE_DEFAULT: f32 = 120.0;
pub const MIN_RATE_SAMPLES: f32 = 50.0;
/// Client-minutes after which the threshold is settled: it is then updated
/// every `SETTLED_UPDATE_MS` and by at most `MAX_THRESHOLD_STEP` (up or down);
/// before, every minute and freely.
pub const SETTLED_SAMPLES: f32 = 500.0;
const LEARNING_UPDATE_MS: u64 = 60_000;
const SETTLED_UPDATE_MS: u64 = 600_000;
pub const MAX_THRESHOLD_STEP: f32 = 1.25;
/// Learned requests needed before transitions and asset shares are trusted.
pub const MIN_TRAINED_REQUESTS: f32 = 500.0;
/// A transition seen less than this share of its source's popularity is rare.
pub const RARE_TRANSITION_SHARE: f32 = 0.01;
const DECAY_STEP_MS: u64 = 3_600_000;
/// Per-hour factor: a one-day half-life.
const DECAY_PER_STEP: f32 = 0.971_532_6;

const DEPTH: usize = 2;
const POP_WIDTH: usize = 1024;
const TRANS_WIDTH: usize = 4096;
const SEEDS: [u32; DEPTH] = [0x9e37_79b9, 0x7f4a_7c15];

#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct AppBaseline {
    last_decay_ms: u64,
    threshold_at_ms: u64,
    rate_samples: f32,
    requests: f32,
    assets: f32,
    /// The rate threshold in force (0: not learned yet).
    threshold: f32,
    rate_hist: [f32; RATE_BOUNDS.len()],
    popularity: [[f32; POP_WIDTH]; DEPTH],
    transitions: [[f32; TRANS_WIDTH]; DEPTH],
}

/// What a request may teach the baseline, from the client's assessment
/// after it (`Assessment::lesson`): a rate sample unless the client is far above the threshold,
/// endpoints only from a client with no bot-like evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lesson {
    pub rate: bool,
    pub endpoints: bool,
}

impl Lesson {
    /// Teaches everything (tests).
    pub const ALL: Lesson = Lesson {
        rate: true,
        endpoints: true,
    };
}

impl AppBaseline {
    pub const ZERO: AppBaseline = AppBaseline {
        last_decay_ms: 0,
        threshold_at_ms: 0,
        rate_samples: 0.0,
        requests: 0.0,
        assets: 0.0,
        threshold: 0.0,
        rate_hist: [0.0; RATE_BOUNDS.len()],
        popularity: [[0.0; POP_WIDTH]; DEPTH],
        transitions: [[0.0; TRANS_WIDTH]; DEPTH],
    };

    /// A fresh baseline on the heap (for tests and tools; the glue zeroes
    /// shared memory instead).
    pub fn boxed() -> Box<AppBaseline> {
        Box::new(AppBaseline::ZERO)
    }

    /// Forgets everything learned.
    pub fn reset(&mut self) {
        *self = AppBaseline::ZERO;
    }

    /// Clients at this multiple of the rate threshold teach no rate.
    pub const UNTEACHABLE_RATE: f32 = 2.0;

    /// Learns one request of a client that is not flagged: [`record`]
    /// then the hourly decay and the threshold update that [`merge`] does.
    /// (The nginx workers record into a private delta and merge it into the
    /// shared baseline on a timer, see `engine::learner`.)
    ///
    /// [`record`]: AppBaseline::record
    /// [`merge`]: AppBaseline::merge
    pub fn learn(&mut self, obs: &Observation, lesson: Lesson, now_ms: u64) {
        self.decay(now_ms);
        self.record(obs, lesson);
        if obs.minute_sample > 0 && lesson.rate {
            self.update_threshold(now_ms);
        }
    }

    /// Adds one request's counts, without decay or threshold update (the
    /// per-worker delta). Returns whether anything was added.
    pub fn record(&mut self, obs: &Observation, lesson: Lesson) -> bool {
        let mut changed = false;
        if obs.minute_sample > 0 && lesson.rate {
            let b = bucket_of(f32::from(obs.minute_sample));
            if let Some(slot) = self.rate_hist.get_mut(b) {
                *slot += 1.0;
            }
            self.rate_samples += 1.0;
            changed = true;
        }
        if Self::teaches_endpoints(obs, lesson) {
            changed = true;
            self.requests += 1.0;
            if obs.asset {
                self.assets += 1.0;
            }
            add(&mut self.popularity, obs.template);
            if obs.prev_template != 0 {
                add(&mut self.transitions, pair(obs.prev_template, obs.template));
            }
        }
        changed
    }

    /// Whether [`AppBaseline::record`] adds `obs`'s endpoint (and
    /// transition) to the sketches.
    #[inline]
    pub fn teaches_endpoints(obs: &Observation, lesson: Lesson) -> bool {
        obs.learn_endpoint && obs.template != 0 && lesson.endpoints
    }

    /// [`AppBaseline::merge`] of a delta whose sketch counts were all
    /// recorded from `taught` (each `(template, prev_template)` of an
    /// observation [`AppBaseline::teaches_endpoints`]), and the delta reset
    /// in the same pass: only the sketch cells those pairs hash to are
    /// visited, not the 10,240 of both sketches, and the delta is all zero
    /// afterwards. The same baseline as `merge` then `reset`
    /// (`a_merge_of_the_taught_cells_is_the_full_merge`): every other cell
    /// of the delta is 0.0, which the full merge adds to a count that is
    /// never negative; a cell met twice (a repeated pair, a collision) adds
    /// its count once, then 0.0.
    pub fn merge_taught(&mut self, delta: &mut AppBaseline, taught: &[(u32, u32)], now_ms: u64) {
        self.decay(now_ms);
        self.rate_samples += delta.rate_samples;
        self.requests += delta.requests;
        self.assets += delta.assets;
        for (a, b) in self.rate_hist.iter_mut().zip(delta.rate_hist.iter()) {
            *a += b;
        }
        for &(template, prev) in taught {
            move_cells(&mut self.popularity, &mut delta.popularity, template);
            if prev != 0 {
                move_cells(
                    &mut self.transitions,
                    &mut delta.transitions,
                    pair(prev, template),
                );
            }
        }
        if delta.rate_samples > 0.0 {
            self.update_threshold(now_ms);
        }
        delta.rate_samples = 0.0;
        delta.requests = 0.0;
        delta.assets = 0.0;
        delta.rate_hist = [0.0; RATE_BOUNDS.len()];
    }

    /// Folds a delta of [`record`]ed counts into this baseline at `now_ms`:
    /// decay first (the delta is a second old at most), then the counts, then
    /// the threshold update. The delta's own clocks are ignored.
    ///
    /// [`record`]: AppBaseline::record
    pub fn merge(&mut self, delta: &AppBaseline, now_ms: u64) {
        self.decay(now_ms);
        self.rate_samples += delta.rate_samples;
        self.requests += delta.requests;
        self.assets += delta.assets;
        for (a, b) in self.rate_hist.iter_mut().zip(delta.rate_hist.iter()) {
            *a += b;
        }
        for (ra, rb) in self.popularity.iter_mut().zip(delta.popularity.iter()) {
            for (a, b) in ra.iter_mut().zip(rb.iter()) {
                *a += b;
            }
        }
        for (ra, rb) in self.transitions.iter_mut().zip(delta.transitions.iter()) {
            for (a, b) in ra.iter_mut().zip(rb.iter()) {
                *a += b;
            }
        }
        if delta.rate_samples > 0.0 {
            self.update_threshold(now_ms);
        }
    }

    /// Nothing recorded (a delta with no counts).
    pub fn is_blank(&self) -> bool {
        self.rate_samples == 0.0 && self.requests == 0.0
    }

    /// Requests per client-minute above which a client is fast for this
    /// application.
    pub fn rate_threshold(&self) -> f32 {
        if self.threshold > 0.0 {
            self.threshold
        } else {
            RATE_DEFAULT
        }
    }

    fn update_threshold(&mut self, now_ms: u64) {
        if self.rate_samples < MIN_RATE_SAMPLES {
            return;
        }
        let settled = self.rate_samples >= SETTLED_SAMPLES;
        let every = if settled {
            SETTLED_UPDATE_MS
        } else {
            LEARNING_UPDATE_MS
        };
        if self.threshold > 0.0 && now_ms.saturating_sub(self.threshold_at_ms) < every {
            return;
        }
        let mut t = self.percentile();
        if settled && self.threshold > 0.0 {
            t = t.clamp(
                self.threshold / MAX_THRESHOLD_STEP,
                self.threshold * MAX_THRESHOLD_STEP,
            );
        }
        self.threshold = t.max(RATE_FLOOR);
        self.threshold_at_ms = now_ms;
    }

    /// Upper bound of the bucket holding the learned percentile.
    fn percentile(&self) -> f32 {
        let mut above = 0.0;
        let tail = self.rate_samples * (1.0 - RATE_PERCENTILE);
        for (i, n) in self.rate_hist.iter().enumerate().rev() {
            above += n;
            if above > tail {
                let bound = f32::from(RATE_BOUNDS.get(i).copied().unwrap_or(u16::MAX));
                return bound.max(RATE_FLOOR);
            }
        }
        RATE_FLOOR
    }

    /// Every figure finite and not negative (a record whose writer died
    /// mid-update may not be).
    pub fn is_valid(&self) -> bool {
        let ok = |v: &f32| v.is_finite() && *v >= 0.0;
        [
            self.rate_samples,
            self.requests,
            self.assets,
            self.threshold,
        ]
        .iter()
        .chain(self.rate_hist.iter())
        .chain(self.popularity.iter().flatten())
        .chain(self.transitions.iter().flatten())
        .all(ok)
    }

    /// Endpoint observations learned (decayed).
    pub fn trained_requests(&self) -> f32 {
        self.requests
    }

    /// Enough traffic learned to judge transitions and asset shares.
    pub fn is_trained(&self) -> bool {
        self.requests >= MIN_TRAINED_REQUESTS
    }

    /// `Some(true)` when the transition `prev -> cur` (template hashes) is
    /// rare in the learned traffic, `None` while untrained.
    #[inline]
    pub fn transition_is_rare(&self, prev: u32, cur: u32) -> Option<bool> {
        if !self.is_trained() {
            return None;
        }
        // Each estimate only when the answer still depends on it.
        if estimate(&self.popularity, cur) < 1.0 {
            return Some(true);
        }
        let seen = estimate(&self.transitions, pair(prev, cur));
        if seen < 1.0 {
            return Some(true);
        }
        Some(seen < RARE_TRANSITION_SHARE * estimate(&self.popularity, prev))
    }

    /// [`AppBaseline::transition_is_rare`] through a worker's `memo` of
    /// this baseline's answers: the same answer, without the seven sketch
    /// mixes when the pair was asked before. The memo must be
    /// [`TransitionMemo::clear`]ed whenever this baseline changes (the
    /// learner does it when it refreshes its view).
    #[inline]
    pub fn transition_is_rare_memo(
        &self,
        memo: &mut TransitionMemo,
        prev: u32,
        cur: u32,
    ) -> Option<bool> {
        if !self.is_trained() {
            return None;
        }
        if prev == 0 {
            // The one pair whose key would match an empty slot.
            return self.transition_is_rare(prev, cur);
        }
        let key = (u64::from(prev) << 32) | u64::from(cur);
        let slot = TransitionMemo::slot(prev, cur);
        if memo.keys[slot] == key {
            return Some(memo.rare[slot]);
        }
        let rare = self.transition_is_rare(prev, cur)?;
        memo.keys[slot] = key;
        memo.rare[slot] = rare;
        Some(rare)
    }

    /// Share of asset requests in the learned traffic, `None` while untrained.
    pub fn asset_share(&self) -> Option<f32> {
        self.is_trained()
            .then(|| super::ratio(self.assets, self.requests))
    }

    fn decay(&mut self, now_ms: u64) {
        if self.last_decay_ms == 0 || now_ms < self.last_decay_ms {
            self.last_decay_ms = now_ms;
            return;
        }
        let steps = (now_ms - self.last_decay_ms) / DECAY_STEP_MS;
        if steps == 0 {
            return;
        }
        self.last_decay_ms += steps * DECAY_STEP_MS;
        let f = DECAY_PER_STEP.powi(steps.min(24 * 60) as i32);
        self.rate_samples *= f;
        self.requests *= f;
        self.assets *= f;
        let pop = self.popularity.iter_mut().flat_map(|r| r.iter_mut());
        let trans = self.transitions.iter_mut().flat_map(|r| r.iter_mut());
        for v in self.rate_hist.iter_mut().chain(pop).chain(trans) {
            *v *= f;
        }
    }
}

/// Slots of a [`TransitionMemo`]: a site's active endpoint pairs within one
/// second of one worker are usually far fewer (a miss costs the sketch
/// reads it replaces, plus a store).
const MEMO_SLOTS: usize = 256;

/// A worker's direct-mapped memo of `prev -> cur` transition answers for
/// its view of one baseline ([`AppBaseline::transition_is_rare_memo`]).
/// Each request of a known client asks about its transition, and a site's
/// traffic walks the same few pairs again and again: a hit costs a multiply
/// and a compare where the answer costs seven hash mixes and up to six
/// sketch loads. Exact: a slot holds the full pair and the answer computed
/// from the baseline as it is, and the memo is cleared whenever the
/// baseline changes. Private to a worker (no lock, no sharing).
#[derive(Clone)]
pub struct TransitionMemo {
    /// `prev << 32 | cur`; 0 (an empty slot) is never asked, `prev` being
    /// non-zero.
    keys: [u64; MEMO_SLOTS],
    rare: [bool; MEMO_SLOTS],
}

impl Default for TransitionMemo {
    fn default() -> Self {
        TransitionMemo {
            keys: [0; MEMO_SLOTS],
            rare: [false; MEMO_SLOTS],
        }
    }
}

impl TransitionMemo {
    /// Forgets every answer (the baseline changed).
    pub fn clear(&mut self) {
        self.keys = [0; MEMO_SLOTS];
    }

    /// Template hashes are well mixed already: one multiply spreads the pair.
    #[inline]
    fn slot(prev: u32, cur: u32) -> usize {
        const _: () = assert!(MEMO_SLOTS == 256);
        ((prev.rotate_left(16) ^ cur).wrapping_mul(0x9e37_79b9) >> 24) as usize
    }
}

fn bucket_of(rpm: f32) -> usize {
    RATE_BOUNDS
        .iter()
        .position(|&b| rpm <= f32::from(b))
        .unwrap_or(RATE_BOUNDS.len() - 1)
}

fn add<const W: usize>(sketch: &mut [[f32; W]; DEPTH], key: u32) {
    for (row, seed) in sketch.iter_mut().zip(SEEDS) {
        if let Some(v) = row.get_mut(mix(key ^ seed) as usize % W) {
            *v += 1.0;
        }
    }
}

/// Adds the cells of `key` in `from` to `to` and zeroes them in `from`.
fn move_cells<const W: usize>(to: &mut [[f32; W]; DEPTH], from: &mut [[f32; W]; DEPTH], key: u32) {
    for ((rt, rf), seed) in to.iter_mut().zip(from.iter_mut()).zip(SEEDS) {
        let i = mix(key ^ seed) as usize % W;
        if let (Some(t), Some(f)) = (rt.get_mut(i), rf.get_mut(i)) {
            *t += *f;
            *f = 0.0;
        }
    }
}

fn estimate<const W: usize>(sketch: &[[f32; W]; DEPTH], key: u32) -> f32 {
    let [r0, r1] = sketch;
    let [s0, s1] = SEEDS;
    // `W` is a power of two: `%` is a mask, and the index is in bounds.
    r0[mix(key ^ s0) as usize % W].min(r1[mix(key ^ s1) as usize % W])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The transition test as first written: every estimate, folded.
    fn rare_as_before(b: &AppBaseline, prev: u32, cur: u32) -> Option<bool> {
        fn est<const W: usize>(sketch: &[[f32; W]; DEPTH], key: u32) -> f32 {
            sketch
                .iter()
                .zip(SEEDS)
                .map(|(row, seed)| {
                    row.get(mix(key ^ seed) as usize % W)
                        .copied()
                        .unwrap_or(0.0)
                })
                .fold(f32::INFINITY, f32::min)
        }
        if !b.is_trained() {
            return None;
        }
        let from = est(&b.popularity, prev);
        let to = est(&b.popularity, cur);
        let seen = est(&b.transitions, pair(prev, cur));
        Some(to < 1.0 || seen < (RARE_TRANSITION_SHARE * from).max(1.0))
    }

    #[test]
    fn transition_test_answers_as_before() {
        let mut rng = crate::testing::XorShift64::new(0x7a2b);
        let mut b = AppBaseline::boxed();
        let mut answers = [0u32; 3];
        for round in 0..40 {
            b.requests = if round % 5 == 0 {
                10.0
            } else {
                MIN_TRAINED_REQUESTS
            };
            // Sparse and dense sketches, counts below and above 1.
            let scale = [0.5f32, 3.0, 200.0, 5_000.0][round % 4];
            for v in b.popularity.iter_mut().flatten() {
                *v = if rng.next_u64() % 3 == 0 {
                    0.0
                } else {
                    (rng.next_u64() % 1000) as f32 / 1000.0 * scale
                };
            }
            for v in b.transitions.iter_mut().flatten() {
                *v = if rng.next_u64() % 2 == 0 {
                    0.0
                } else {
                    (rng.next_u64() % 1000) as f32 / 1000.0 * scale
                };
            }
            for _ in 0..2_000 {
                let (prev, cur) = (rng.next_u64() as u32 % 300, rng.next_u64() as u32 % 300);
                let want = rare_as_before(&b, prev, cur);
                assert_eq!(b.transition_is_rare(prev, cur), want, "{prev} -> {cur}");
                answers[match want {
                    None => 0,
                    Some(false) => 1,
                    Some(true) => 2,
                }] += 1;
            }
        }
        assert!(answers.iter().all(|&n| n > 1_000), "{answers:?}");
    }

    #[test]
    fn the_memo_answers_as_the_sketches() {
        // Random baselines (trained or not, sparse and dense), pairs from
        // a small set (repeats: hits), from the whole range (slot
        // collisions) and with a zero `prev`; the memo is kept across
        // questions and cleared when the baseline changes, as the learner
        // does. Every answer must be the sketches' own.
        let mut rng = crate::testing::XorShift64::new(0x3e30);
        let mut b = AppBaseline::boxed();
        let mut memo = TransitionMemo::default();
        let (mut hits, mut asked) = (0u32, 0u32);
        for round in 0..60 {
            b.requests = if round % 6 == 0 {
                10.0
            } else {
                MIN_TRAINED_REQUESTS
            };
            let scale = [0.5f32, 3.0, 200.0][round % 3];
            for v in b
                .popularity
                .iter_mut()
                .flatten()
                .chain(b.transitions.iter_mut().flatten())
            {
                *v = if rng.next_u64() % 2 == 0 {
                    0.0
                } else {
                    (rng.next_u64() % 1000) as f32 / 1000.0 * scale
                };
            }
            memo.clear();
            for _ in 0..3_000 {
                let (prev, cur) = match rng.next_u64() % 4 {
                    0 => (rng.next_u64() as u32, rng.next_u64() as u32),
                    1 => (0, rng.next_u64() as u32 % 12),
                    _ => (rng.next_u64() as u32 % 12, rng.next_u64() as u32 % 12),
                };
                let key = (u64::from(prev) << 32) | u64::from(cur);
                let slot = TransitionMemo::slot(prev, cur);
                hits += u32::from(prev != 0 && memo.keys[slot] == key);
                asked += 1;
                let want = b.transition_is_rare(prev, cur);
                assert_eq!(want, rare_as_before(&b, prev, cur));
                assert_eq!(
                    b.transition_is_rare_memo(&mut memo, prev, cur),
                    want,
                    "{prev} -> {cur}"
                );
            }
        }
        // Many questions of the small set were answered by the memo.
        assert!(hits > asked / 8, "{hits} of {asked}");
    }

    #[test]
    fn a_merge_of_the_taught_cells_is_the_full_merge() {
        // Zone baselines that learned a while, then deltas recorded as a
        // worker records them (rate samples, endpoint lessons with and
        // without a previous template, repeats, lessons that teach
        // nothing), merged at times that do and do not decay: the merge of
        // the taught cells gives the same bytes as the full merge, and
        // leaves the delta as `reset` does.
        let mut rng = crate::testing::XorShift64::new(0x3e76);
        let mut full = AppBaseline::boxed();
        let mut t = 10_000_000u64;
        let obs = |rng: &mut crate::testing::XorShift64| Observation {
            template: (rng.next_u64() % 60) as u32 * 7_919,
            prev_template: [0, (rng.next_u64() % 60) as u32 * 7_919][(rng.next_u64() % 2) as usize],
            asset: rng.next_u64() % 4 == 0,
            learn_endpoint: rng.next_u64() % 5 != 0,
            minute_sample: [0, 0, 0, (rng.next_u64() % 300) as u16][(rng.next_u64() % 4) as usize],
        };
        for _ in 0..3_000 {
            full.learn(&obs(&mut rng), Lesson::ALL, t);
            t += rng.next_u64() % 2_000;
        }
        let mut taught_cells = 0;
        for round in 0..200 {
            let mut delta = AppBaseline::boxed();
            let mut taught = Vec::new();
            for _ in 0..(rng.next_u64() % 120) {
                let o = obs(&mut rng);
                let lesson = Lesson {
                    rate: rng.next_u64() % 3 != 0,
                    endpoints: rng.next_u64() % 4 != 0,
                };
                delta.record(&o, lesson);
                if AppBaseline::teaches_endpoints(&o, lesson) {
                    taught.push((o.template, o.prev_template));
                }
            }
            taught_cells += taught.len();
            t += [1_000, 61_000, 3_600_000, 7 * 3_600_000][round % 4];
            let mut part = full.clone();
            let mut part_delta = delta.clone();
            full.merge(&delta, t);
            part.merge_taught(&mut part_delta, &taught, t);
            assert_eq!(
                bytemuck::bytes_of(&*full),
                bytemuck::bytes_of(&*part),
                "{round}"
            );
            assert_eq!(
                bytemuck::bytes_of(&*part_delta),
                bytemuck::bytes_of(&AppBaseline::ZERO),
                "{round}"
            );
        }
        assert!(full.is_trained() && full.threshold > 0.0);
        assert!(taught_cells > 1_000, "{taught_cells}");
    }

    fn sample(n: u16) -> Observation {
        Observation {
            minute_sample: n,
            ..Default::default()
        }
    }

    #[test]
    fn size() {
        // The documented size (docs/detection.md).
        assert_eq!(std::mem::size_of::<AppBaseline>(), 41_088);
    }

    #[test]
    fn learns_rate_threshold() {
        let mut b = AppBaseline::boxed();
        assert_eq!(b.rate_threshold(), RATE_DEFAULT);
        // While learning, the threshold follows the percentile every minute.
        let mut t = 1_000;
        for i in 0..600u16 {
            t += 1_000;
            b.learn(&sample(5 + i % 20), Lesson::ALL, t);
        }
        // p99 of 5..=24 falls in the bucket (22, 32].
        assert_eq!(b.rate_threshold(), 32.0);
        // Settled: a flood of fast clients moves it by one bounded step per
        // ten minutes, not to the flood's rate.
        for _ in 0..2000 {
            t += 1_000;
            b.learn(&sample(3000), Lesson::ALL, t);
        }
        let after = b.rate_threshold();
        assert!(
            after > 32.0 && after <= 32.0 * MAX_THRESHOLD_STEP.powi(4),
            "{after}"
        );
        let mut slow = AppBaseline::boxed();
        for i in 0..200u16 {
            slow.learn(&sample(1), Lesson::ALL, u64::from(i) * 1000 + 1);
        }
        assert_eq!(slow.rate_threshold(), RATE_FLOOR);
    }

    #[test]
    fn transitions() {
        let mut b = AppBaseline::boxed();
        assert_eq!(b.transition_is_rare(1, 2), None);
        let (list, item, login) = (11, 22, 33);
        for i in 0..600 {
            let (prev, cur) = if i % 2 == 0 {
                (list, item)
            } else {
                (item, list)
            };
            let o = Observation {
                template: cur,
                prev_template: prev,
                learn_endpoint: true,
                ..Default::default()
            };
            b.learn(&o, Lesson::ALL, 10);
        }
        b.learn(
            &Observation {
                template: login,
                learn_endpoint: true,
                ..Default::default()
            },
            Lesson::ALL,
            10,
        );
        assert_eq!(b.transition_is_rare(list, item), Some(false));
        assert_eq!(b.transition_is_rare(item, item), Some(true));
        assert_eq!(b.transition_is_rare(list, login), Some(true));
        assert_eq!(b.transition_is_rare(list, 999_999), Some(true));
        assert_eq!(b.asset_share(), Some(0.0));
    }

    #[test]
    fn decays() {
        let mut b = AppBaseline::boxed();
        for i in 0..600 {
            b.learn(
                &Observation {
                    template: 5,
                    learn_endpoint: true,
                    ..Default::default()
                },
                Lesson::ALL,
                1 + i,
            );
        }
        assert!(b.is_trained());
        b.learn(&Observation::default(), Lesson::ALL, 1 + 24 * DECAY_STEP_MS);
        assert!(!b.is_trained());
        assert!((b.requests - 300.0).abs() < 2.0, "{}", b.requests);
    }
}
