//! The per-client record: everything the detectors need about one client
//! (an IPv4 address or an IPv6 /64), in 240 bytes of shared memory.
//!
//! Counters are exponentially decayed with a ten-minute half-life, all with
//! the same factor, so every ratio between them (share of logins, of 401s, of
//! new endpoints, ...) describes the client's recent behaviour and an old
//! session fades instead of haunting the client. Thirty minutes of silence
//! start a new session outright. Distinct endpoints, resources and object ids
//! are tracked with 128-bit sets (a hash picks the bit); a request whose bit
//! was clear counts as "new" (weighted for collisions, see `insert`), a
//! decayed counter like the others. Sets are cleared every thirty minutes, or
//! when half full; re-seen items then count as new again, a bias towards
//! "human".
//!
//! The record is `#[repr(C)]`, `Copy`, holds no pointers and is a fresh
//! client when all zero, so the nginx glue can keep it in a shared zone.

use super::bad_user_agent::UaClass;
/// Defined next to the baseline it teaches; the record update makes it.
pub use super::baseline::Observation;
use super::baseline::{AppBaseline, TransitionMemo};
use super::distinct::insert;
use super::facts::{self, Answer, RequestFacts, UA_OUTDATED};
use super::{spike, template};
use crate::model::{BotType, SensitiveKind};
use crate::request::RequestView;

/// Silence after which the next request starts a new session.
pub const SESSION_IDLE_MS: u64 = 30 * 60_000;
/// Half-life of every decayed counter.
pub const HALF_LIFE_MS: f32 = 10.0 * 60_000.0;
/// Distinct-sets are cleared this often.
pub const EPOCH_MS: u64 = 30 * 60_000;
/// Longer gaps are pauses, not part of the request rhythm.
pub const MAX_GAP_MS: u64 = 5 * 60_000;
/// Endpoint observations one client may teach the baseline per minute, so a
/// fast bot weighs no more than a brisk human in the learned traffic.
pub const LEARN_PER_MINUTE: u16 = 20;
/// A session teaches endpoints only from this request on: a bot is usually
/// caught by the business-logic or response-code detectors before it could
/// teach the baseline its own walk.
pub const LEARN_AFTER_REQUESTS: u32 = 8;
/// Width of one rate bucket; six of them make the sliding minute.
pub const RATE_BUCKET_MS: u64 = 10_000;
pub const RATE_BUCKETS: usize = 6;

/// A client "loads assets" above this share of its requests...
pub const CLIENT_ASSET_SHARE: f32 = 0.02;
/// ...and "is a browser" when this share of its requests claims one...
pub const BROWSER_SHARE: f32 = 0.9;
/// ...and under this share of them lack what that browser sends.
pub const ANOMALY_SHARE: f32 = 0.5;

/// Indices of the decayed counters.
#[derive(Clone, Copy, Debug)]
#[repr(usize)]
pub enum C {
    Total,
    NewTemplates,
    NewResources,
    Assets,
    /// Six consecutive slots, one per [`SensitiveKind`].
    Kinds,
    AuthFail = 10,
    NotFound,
    Attacks,
    Anomalies,
    BrowserReqs,
    OutdatedReqs,
    RareTransitions,
    CheckedTransitions,
    EnumHits,
    EnumNewIds,
    EnumSequential,
    EnumFail,
    EnumVotes,
}
const COUNTERS: usize = C::EnumVotes as usize + 1;

/// One client's record. Fields are crate-visible for the detectors.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct ClientState {
    pub(crate) first_seen_ms: u64,
    pub(crate) last_seen_ms: u64,
    pub(crate) epoch_start_ms: u64,
    /// Last numeric object id on the enumeration template, plus one (0: none).
    pub(crate) last_number: u64,
    pub(crate) templates_seen: [u64; 2],
    pub(crate) resources_seen: [u64; 2],
    pub(crate) ids_seen: [u64; 2],
    pub(crate) requests: u32,
    pub(crate) ua_hash: u32,
    pub(crate) last_template: u32,
    pub(crate) enum_template: u32,
    pub(crate) rate_period: u32,
    pub(crate) minute: u32,
    /// One bit per distinct User-Agent hash (people behind one address).
    pub(crate) ua_seen: u32,
    pub(crate) c: [f32; COUNTERS],
    /// Requests beyond the spike bucket's drain (see `request_rate`).
    pub(crate) spike_excess: f32,
    /// Exponentially weighted mean and variance of ln(gap in ms).
    pub(crate) gap_mean: f32,
    pub(crate) gap_var: f32,
    pub(crate) gap_count: u16,
    pub(crate) rate_buckets: [u16; RATE_BUCKETS],
    pub(crate) minute_count: u16,
    pub(crate) epoch_requests: u16,
    pub(crate) learned_in_minute: u16,
    pub(crate) attack_classes: u16,
    pub(crate) ua_class: u8,
    pub(crate) ua_worst: u8,
    pub(crate) ua_flags: u8,
    pub(crate) max_depth: u8,
    /// Bit per [`BotType`] already reported for this session.
    pub(crate) reported: u8,
    /// Bit per [`BotType`] reported with a monitor-only reaction: no second
    /// monitor event in the session, but an enforcing profile still lists.
    pub(crate) monitored: u8,
}

const _: () = assert!(std::mem::size_of::<ClientState>() <= 256);
const _: () = assert!(crate::model::BotType::ALL.len() <= 8);
const _: () = assert!(crate::model::AttackClass::ALL.len() <= 16);

impl ClientState {
    /// A fresh client (the same as all-zero memory).
    pub const ZERO: ClientState = ClientState {
        first_seen_ms: 0,
        last_seen_ms: 0,
        epoch_start_ms: 0,
        last_number: 0,
        templates_seen: [0; 2],
        resources_seen: [0; 2],
        ids_seen: [0; 2],
        requests: 0,
        ua_hash: 0,
        last_template: 0,
        enum_template: 0,
        rate_period: 0,
        minute: 0,
        ua_seen: 0,
        c: [0.0; COUNTERS],
        spike_excess: 0.0,
        gap_mean: 0.0,
        gap_var: 0.0,
        gap_count: 0,
        rate_buckets: [0; RATE_BUCKETS],
        minute_count: 0,
        epoch_requests: 0,
        learned_in_minute: 0,
        attack_classes: 0,
        ua_class: 0,
        ua_worst: 0,
        ua_flags: 0,
        max_depth: 0,
        reported: 0,
        monitored: 0,
    };

    /// Forgets everything (an operator removed the client from a list).
    pub fn reset(&mut self) {
        *self = ClientState::ZERO;
    }

    /// Records one finished request: the extract stage
    /// ([`facts::extract`]) followed by [`ClientState::update`]. For tests and
    /// tools; the request path extracts before it takes the client's lock.
    pub fn observe(
        &mut self,
        v: &RequestView<'_>,
        sensitive: Option<SensitiveKind>,
        baseline: &AppBaseline,
        now_ms: u64,
    ) -> Observation {
        self.update(&facts::extract(v, sensitive), baseline, now_ms)
    }

    /// The update stage: adds one request's facts to the record. Counters,
    /// sets and a few sketch reads of `baseline` (only read, for the rate and
    /// the endpoint-transition model): no parsing, no allocation, bounded.
    /// `now_ms` should not go backwards; if it does (workers' cached clocks
    /// differ slightly) it is taken as the last time seen.
    pub fn update(&mut self, f: &RequestFacts, baseline: &AppBaseline, now_ms: u64) -> Observation {
        let obs = self.begin(f, baseline, now_ms);
        self.end(&f.answer(f.status));
        obs
    }

    /// The first half of [`ClientState::update`], when the request starts
    /// (PREACCESS): everything but what its answer says (`f.status` is not
    /// read). Counting a request when it starts lets the next ones see it
    /// while it is still in flight: a tool with 40 connections has 40
    /// requests past the access check before the first one is answered.
    pub fn begin(&mut self, f: &RequestFacts, baseline: &AppBaseline, now_ms: u64) -> Observation {
        self.begin_with(f, baseline, now_ms, false)
    }

    /// [`ClientState::begin`] on a record the caller knows is
    /// [`ClientState::ZERO`] when `fresh` (the table zeroed it on insert):
    /// the new session does not zero it a second time. The same record
    /// and observation as `begin` (`fresh_records_begin_as_zeroed_ones`).
    pub fn begin_with(
        &mut self,
        f: &RequestFacts,
        baseline: &AppBaseline,
        now_ms: u64,
        fresh: bool,
    ) -> Observation {
        self.begin_memo(f, baseline, None, now_ms, fresh)
    }

    /// [`ClientState::begin_with`] asking the endpoint transition through
    /// the worker's memo of `baseline`'s answers (the request path): the
    /// same record and observation (`the_transition_memo_changes_nothing`).
    #[inline]
    pub fn begin_memo(
        &mut self,
        f: &RequestFacts,
        baseline: &AppBaseline,
        memo: Option<&mut TransitionMemo>,
        now_ms: u64,
        fresh: bool,
    ) -> Observation {
        debug_assert!(!fresh || *self == ClientState::ZERO);
        let now = now_ms.max(self.last_seen_ms);
        let mut dt = 0;
        if fresh {
            self.first_seen_ms = now;
            self.epoch_start_ms = now;
        } else if self.requests == 0 || now - self.last_seen_ms >= SESSION_IDLE_MS {
            self.start_session(now);
        } else {
            dt = now - self.last_seen_ms;
            self.decay(dt);
            if dt <= MAX_GAP_MS {
                self.add_gap(dt);
            }
        }
        if now - self.epoch_start_ms >= EPOCH_MS {
            self.templates_seen = [0; 2];
            self.resources_seen = [0; 2];
            self.ua_seen = 0;
            self.epoch_requests = 0;
            self.epoch_start_ms = now;
        }
        self.requests = self.requests.saturating_add(1);
        self.epoch_requests = self.epoch_requests.saturating_add(1);
        self.bump(C::Total as usize);

        let ep = f.endpoint;
        let new_template = insert(&mut self.templates_seen, ep.template);
        self.add(C::NewTemplates as usize, new_template);
        let new_resource = insert(&mut self.resources_seen, ep.resource);
        self.add(C::NewResources as usize, new_resource);
        if ep.asset {
            self.bump(C::Assets as usize);
        }
        self.max_depth = self.max_depth.max(ep.depth);
        if let Some(kind) = f.sensitive {
            self.bump(C::Kinds as usize + kind.index());
        }
        if let Some(a) = f.attack {
            self.bump(C::Attacks as usize);
            self.attack_classes |= 1u16.checked_shl(a.index() as u32).unwrap_or(0);
        }
        self.observe_user_agent(f);
        let drain = baseline.rate_threshold() * self.people();
        // An asset weighs as served until its answer says otherwise; a
        // browser's first fetch of an asset is part of rendering the page
        // that already counted, not traffic of its own (a repeated one, or
        // one from a client that renders nothing, still is).
        let weight = if ep.asset && new_resource > 0.5 && self.renders() {
            0.0
        } else {
            spike::spike_weight(ep.asset, 200)
        };
        self.spike_excess = spike::spike_excess(self.spike_excess, dt, drain, weight);

        let prev = self.last_template;
        if prev != 0 {
            let rare = match memo {
                Some(memo) => baseline.transition_is_rare_memo(memo, prev, ep.template),
                None => baseline.transition_is_rare(prev, ep.template),
            };
            if let Some(rare) = rare {
                self.bump(C::CheckedTransitions as usize);
                if rare {
                    self.bump(C::RareTransitions as usize);
                }
            }
        }
        self.last_template = ep.template;
        if let Some(id) = ep.object {
            self.observe_object(ep.template, id);
        }
        let minute_sample = self.count_rate(now);
        let learn_endpoint =
            self.requests >= LEARN_AFTER_REQUESTS && self.learned_in_minute < LEARN_PER_MINUTE;
        if learn_endpoint {
            self.learned_in_minute += 1;
        }
        self.last_seen_ms = now;
        Observation {
            template: ep.template,
            prev_template: prev,
            asset: ep.asset,
            learn_endpoint,
            minute_sample,
        }
    }

    /// The second half of [`ClientState::update`], when the request has
    /// been answered (LOG): the status counters. No decay here: the answer
    /// comes milliseconds after [`ClientState::begin`] decayed everything.
    pub fn end(&mut self, a: &Answer) {
        if self.requests == 0 {
            // The session ended in between (or the record was reset).
            return;
        }
        let failed = matches!(a.status, 401 | 403 | 404);
        match a.status {
            401 | 403 => self.bump(C::AuthFail as usize),
            404 => self.bump(C::NotFound as usize),
            _ => {}
        }
        if a.asset && a.status != 0 {
            let full = spike::spike_weight(true, a.status);
            self.spike_excess += full - spike::spike_weight(true, 200);
        }
        if failed && a.object_template == Some(self.enum_template) {
            self.bump(C::EnumFail as usize);
        }
    }

    /// Whether [`ClientState::end`] can change any record with this answer:
    /// false for most (a 200, any answer but 401/403/404 to a non-asset, a
    /// 2xx/3xx asset), so the LOG phase need not take the client's lock
    /// for them. Exact: `end` leaves every record bit for bit as it was
    /// when this is false (`answers_that_change_nothing_change_nothing`).
    pub fn answer_matters(a: &Answer) -> bool {
        matches!(a.status, 401 | 403 | 404)
            || (a.asset
                && a.status != 0
                && spike::spike_weight(true, a.status) != spike::spike_weight(true, 200))
    }

    /// Marks a bot type as reported, so `decide` does not report it again in
    /// this session. False when it already was.
    pub fn mark_reported(&mut self, bot: BotType) -> bool {
        let bit = 1u8.checked_shl(bot.index() as u32).unwrap_or(0);
        let new = self.reported & bit == 0;
        self.reported |= bit;
        new
    }

    /// Marks a bot type as reported by a monitor-only reaction. False when
    /// it already was.
    pub fn mark_monitored(&mut self, bot: BotType) -> bool {
        let bit = 1u8.checked_shl(bot.index() as u32).unwrap_or(0);
        let new = self.monitored & bit == 0;
        self.monitored |= bit;
        new
    }

    /// Re-arms the reported types: the client's listing is over (its entry
    /// expired or was never made), so a client that goes on is listed again.
    pub fn rearm(&mut self) {
        self.reported = 0;
    }

    /// Bot types reported with an enforcing reaction in this session.
    pub fn reported(&self) -> u8 {
        self.reported
    }

    /// Bot types not to report again: `reported`, and for a monitor-only
    /// reaction also `monitored`.
    pub fn reported_mask(&self, monitoring: bool) -> u8 {
        self.reported | if monitoring { self.monitored } else { 0 }
    }

    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// Every figure finite, the counters not negative (a record whose writer
    /// died mid-update may not be).
    pub fn is_valid(&self) -> bool {
        self.c.iter().all(|v| v.is_finite() && *v >= -1e-3)
            && [self.spike_excess, self.gap_mean, self.gap_var]
                .iter()
                .all(|v| v.is_finite())
    }

    pub fn last_seen_ms(&self) -> u64 {
        self.last_seen_ms
    }

    /// The client loads assets the way a browser rendering pages does: a
    /// browser by its User-Agent and headers (see `wide_scope`).
    pub(crate) fn renders(&self) -> bool {
        let total = self.count(C::Total);
        let browser = self.count(C::BrowserReqs);
        super::ratio(self.count(C::Assets), total) > CLIENT_ASSET_SHARE
            && super::ratio(browser, total) >= BROWSER_SHARE
            && super::ratio(self.count(C::Anomalies), browser) < ANOMALY_SHARE
    }

    pub(crate) fn count(&self, c: C) -> f32 {
        self.c.get(c as usize).copied().unwrap_or(0.0)
    }

    pub(crate) fn kind_count(&self, kind: SensitiveKind) -> f32 {
        self.c
            .get(C::Kinds as usize + kind.index())
            .copied()
            .unwrap_or(0.0)
    }

    pub(crate) fn ua_class(&self) -> UaClass {
        UaClass::from_u8(self.ua_worst)
    }

    /// Estimated number of people behind the address: distinct User-Agents,
    /// but only when each one is used for several requests. A client that
    /// changes its User-Agent on almost every request is rotating, not shared.
    pub(crate) fn people(&self) -> f32 {
        // One User-Agent, the usual client: no bit count.
        if self.ua_seen & self.ua_seen.wrapping_sub(1) == 0 {
            return 1.0;
        }
        let uas = self.ua_seen.count_ones();
        if uas >= 2 && uas * 4 <= u32::from(self.epoch_requests) {
            uas.min(8) as f32
        } else {
            1.0
        }
    }

    /// Requests in the sliding minute ending at `now_ms`.
    pub(crate) fn requests_last_minute(&self, now_ms: u64) -> u32 {
        let now_period = (now_ms / RATE_BUCKET_MS).min(u64::from(u32::MAX)) as u32;
        let oldest_valid = now_period.saturating_sub(RATE_BUCKETS as u32 - 1);
        let mut sum = 0;
        for back in 0..RATE_BUCKETS as u32 {
            match self.rate_period.checked_sub(back) {
                Some(p) if p >= oldest_valid => {
                    sum += u32::from(self.rate_buckets[p as usize % RATE_BUCKETS]);
                }
                _ => break,
            }
        }
        sum
    }

    fn start_session(&mut self, now: u64) {
        let (ua_hash, ua_class, ua_flags) = (self.ua_hash, self.ua_class, self.ua_flags);
        *self = ClientState::ZERO;
        self.ua_hash = ua_hash;
        self.ua_class = ua_class;
        self.ua_flags = ua_flags;
        self.first_seen_ms = now;
        self.epoch_start_ms = now;
    }

    fn bump(&mut self, i: usize) {
        self.add(i, 1.0);
    }

    fn add(&mut self, i: usize, amount: f32) {
        if let Some(v) = self.c.get_mut(i) {
            *v += amount;
        }
    }

    fn decay(&mut self, dt_ms: u64) {
        if dt_ms == 0 {
            return;
        }
        let f = (-(dt_ms as f32) / HALF_LIFE_MS).exp2();
        for v in self.c.iter_mut() {
            *v *= f;
        }
    }

    /// Exponentially weighted moments of ln(gap): plain running moments for
    /// the first 32 gaps, then a window of about 32 gaps.
    fn add_gap(&mut self, dt_ms: u64) {
        let x = (dt_ms.max(1) as f32).ln();
        self.gap_count = self.gap_count.saturating_add(1);
        let alpha = 1.0 / f32::from(self.gap_count.min(32));
        let diff = x - self.gap_mean;
        let incr = alpha * diff;
        self.gap_mean += incr;
        self.gap_var = (1.0 - alpha) * (self.gap_var + diff * incr);
    }

    fn observe_user_agent(&mut self, f: &RequestFacts) {
        let ua = f.user_agent;
        self.ua_hash = ua.hash;
        self.ua_class = ua.class;
        self.ua_flags = ua.flags;
        self.ua_worst = self.ua_worst.max(self.ua_class);
        self.ua_seen |= 1u32 << (ua.hash % 32);
        if ua.is_browser() {
            self.bump(C::BrowserReqs as usize);
            if ua.flags & UA_OUTDATED != 0 {
                self.bump(C::OutdatedReqs as usize);
            }
            if f.header_anomaly {
                self.bump(C::Anomalies as usize);
            }
        }
    }

    /// Tracks the template most walked with object ids (a majority vote, so
    /// one stray request does not reset it) and the ids walked on it.
    fn observe_object(&mut self, template: u32, id: template::ObjectId) {
        let votes = C::EnumVotes as usize;
        if template == self.enum_template {
            self.bump(votes);
        } else if self.count(C::EnumVotes) < 1.0 {
            self.enum_template = template;
            self.ids_seen = [0; 2];
            self.last_number = 0;
            for c in [
                C::EnumHits,
                C::EnumNewIds,
                C::EnumSequential,
                C::EnumFail,
                C::EnumVotes,
            ] {
                if let Some(v) = self.c.get_mut(c as usize) {
                    *v = 0.0;
                }
            }
            self.bump(votes);
        } else {
            if let Some(v) = self.c.get_mut(votes) {
                *v -= 1.0;
            }
            return;
        }
        self.bump(C::EnumHits as usize);
        let new_id = insert(&mut self.ids_seen, id.hash);
        self.add(C::EnumNewIds as usize, new_id);
        if let Some(n) = id.number {
            if self.last_number != 0 && (1..=3).contains(&n.abs_diff(self.last_number - 1)) {
                self.bump(C::EnumSequential as usize);
            }
            self.last_number = n.saturating_add(1);
        }
    }

    /// Advances the sliding-minute buckets; returns the count of a minute
    /// that just ended (0: none), for the baseline's rate distribution.
    fn count_rate(&mut self, now: u64) -> u16 {
        let period = (now / RATE_BUCKET_MS).min(u64::from(u32::MAX)) as u32;
        if self.rate_period == 0 || period.saturating_sub(self.rate_period) >= RATE_BUCKETS as u32 {
            self.rate_buckets = [0; RATE_BUCKETS];
        } else {
            for p in self.rate_period.saturating_add(1)..=period {
                self.rate_buckets[p as usize % RATE_BUCKETS] = 0;
            }
        }
        self.rate_period = self.rate_period.max(period);
        let slot = &mut self.rate_buckets[period as usize % RATE_BUCKETS];
        *slot = slot.saturating_add(1);

        let minute = (now / 60_000).min(u64::from(u32::MAX)) as u32;
        let mut sample = 0;
        if minute != self.minute {
            sample = self.minute_count;
            self.minute = minute;
            self.minute_count = 0;
            self.learned_in_minute = 0;
        }
        self.minute_count = self.minute_count.saturating_add(1);
        sample
    }
}

impl Default for ClientState {
    fn default() -> Self {
        ClientState::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(path: &'static str) -> RequestView<'static> {
        RequestView {
            method: b"GET",
            path: path.as_bytes(),
            user_agent: Some(b"curl/8.0"),
            status: 200,
            http_version: 1001,
            ..Default::default()
        }
    }

    #[test]
    fn size_and_zero() {
        // The documented layout (docs/detection.md) is 240 bytes.
        assert_eq!(std::mem::size_of::<ClientState>(), 240);
        assert_eq!(std::mem::align_of::<ClientState>(), 8);
        assert_eq!(ClientState::default(), ClientState::ZERO);
    }

    #[test]
    fn counts_decay_and_sessions_restart() {
        let b = AppBaseline::boxed();
        let mut s = ClientState::ZERO;
        for i in 0..10 {
            s.observe(&view("/a"), None, &b, 1_000_000 + i * 1000);
        }
        assert_eq!(s.requests, 10);
        assert!((s.count(C::Total) - 10.0).abs() < 0.1);
        assert!((s.count(C::NewTemplates) - 1.0).abs() < 0.02);
        // Ten minutes later every counter has halved before the new request.
        s.observe(&view("/b"), None, &b, 1_009_000 + 600_000);
        assert!(
            (s.count(C::Total) - 6.0).abs() < 0.1,
            "{}",
            s.count(C::Total)
        );
        // Thirty minutes of silence: a new session.
        s.observe(&view("/a"), None, &b, 1_009_000 + 600_000 + SESSION_IDLE_MS);
        assert_eq!(s.requests, 1);
        assert_eq!(s.ua_class, UaClass::Library as u8);
    }

    #[test]
    fn sliding_minute() {
        let b = AppBaseline::boxed();
        let mut s = ClientState::ZERO;
        let t0 = 10_000_000;
        for i in 0..30 {
            s.observe(&view("/a"), None, &b, t0 + i * 2000);
        }
        assert_eq!(s.requests_last_minute(t0 + 58_000), 30);
        assert!(s.requests_last_minute(t0 + 90_000) < 30);
        assert_eq!(s.requests_last_minute(t0 + 200_000), 0);
    }

    #[test]
    fn minute_samples_and_learning_budget() {
        let b = AppBaseline::boxed();
        let mut s = ClientState::ZERO;
        let t0 = 60_000 * 1000;
        let mut learned = 0;
        for i in 0..40 {
            let o = s.observe(&view("/a"), None, &b, t0 + i * 1000);
            learned += u32::from(o.learn_endpoint);
        }
        // The probation's requests do not use up the minute's budget.
        assert_eq!(learned, u32::from(LEARN_PER_MINUTE));
        let o = s.observe(&view("/a"), None, &b, t0 + 61_000);
        assert_eq!(o.minute_sample, 40);
    }

    #[test]
    fn a_browsers_new_assets_do_not_fill_the_spike_bucket() {
        use crate::request::header_bits as h;
        const CHROME: &[u8] = b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        let full = h::ACCEPT | h::ACCEPT_LANGUAGE | h::ACCEPT_ENCODING | h::SEC_FETCH;
        // Listing pages, each with 20 new thumbnails fetched 10 ms apart,
        // one every 400 ms: far faster than a person, a page load's shape.
        let run = |ua: &'static [u8], headers: u16, same_image: bool| {
            let b = AppBaseline::boxed();
            let mut s = ClientState::ZERO;
            let mut t = 50_000_000;
            for page in 0..12u64 {
                let p = format!("/products?page={page}");
                let v = RequestView {
                    method: b"GET",
                    path: p.as_bytes(),
                    user_agent: Some(ua),
                    headers,
                    http_version: 1001,
                    status: 200,
                    ..Default::default()
                };
                s.observe(&v, None, &b, t);
                for i in 0..20u64 {
                    t += 10;
                    let img = if same_image {
                        "/img/1.png".to_string()
                    } else {
                        format!("/img/{}.png", page * 20 + i)
                    };
                    let asset = RequestView {
                        path: img.as_bytes(),
                        ..v
                    };
                    s.observe(&asset, None, &b, t);
                }
                t += 200;
            }
            s.spike_excess
        };
        let browser = run(CHROME, full, false);
        assert!(browser < 3.0, "{browser}");
        let tool = run(b"Wget/1.21.3", h::ACCEPT, false);
        assert!(tool > 15.0, "{tool}");
        let flood = run(CHROME, full, true);
        assert!(flood > 15.0, "{flood}");
    }

    #[test]
    fn answers_that_change_nothing_change_nothing() {
        // Records after random requests (enumeration templates, assets,
        // failures), then every answer: where `answer_matters` says no,
        // `end` must leave the record's bytes as they were.
        let b = AppBaseline::boxed();
        let mut rng = crate::testing::XorShift64::new(0x5eed);
        let mut skipped = 0;
        for round in 0..300u64 {
            let mut s = ClientState::ZERO;
            let mut t = 1_000_000 + round * 7_000_000;
            for i in 0..(rng.next_u64() % 40) {
                let path = match rng.next_u64() % 4 {
                    0 => format!("/users/{}", rng.next_u64() % 50),
                    1 => format!("/img/{i}.png"),
                    2 => "/login".to_string(),
                    _ => "/".to_string(),
                };
                let status = [200, 401, 403, 404, 304, 500][(rng.next_u64() % 6) as usize];
                let v = RequestView {
                    path: path.as_bytes(),
                    status,
                    ..view("/")
                };
                t += rng.next_u64() % 5_000;
                s.observe(&v, None, &b, t);
            }
            let template = s.enum_template;
            for status in 0..600u16 {
                for asset in [false, true] {
                    for object_template in [None, Some(template), Some(template ^ 1)] {
                        let a = Answer {
                            status,
                            asset,
                            object_template,
                        };
                        if ClientState::answer_matters(&a) {
                            continue;
                        }
                        let mut after = s;
                        after.end(&a);
                        assert_eq!(bytemuck::bytes_of(&after), bytemuck::bytes_of(&s), "{a:?}");
                        skipped += 1;
                    }
                }
            }
        }
        assert!(skipped > 300 * 2000, "{skipped}");
    }

    #[test]
    fn fresh_records_begin_as_zeroed_ones() {
        // `begin_with(.., fresh = true)` skips the second zeroing of a
        // record the table has just zeroed: same bytes, same observation,
        // whatever the request and the clock.
        let trained = {
            let mut b = AppBaseline::boxed();
            let mut s = ClientState::ZERO;
            for i in 0..2_000u64 {
                let p = format!("/p/{}", i % 30);
                let t = 1_000_000 + i * 3_000;
                let v = RequestView {
                    path: p.as_bytes(),
                    ..view("/")
                };
                let obs = s.observe(&v, None, &b, t);
                b.learn(&obs, crate::detect::baseline::Lesson::ALL, t);
            }
            assert!(b.is_trained());
            b
        };
        let mut rng = crate::testing::XorShift64::new(0xf2e5);
        for b in [AppBaseline::boxed(), trained] {
            for _ in 0..500 {
                let path = match rng.next_u64() % 4 {
                    0 => format!("/users/{}", rng.next_u64() % 50),
                    1 => format!("/img/{}.png", rng.next_u64() % 9),
                    2 => "/login".to_string(),
                    _ => "/".to_string(),
                };
                let ua: &'static [u8] = [
                    &b"curl/8.0"[..],
                    b"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                    b"",
                ][(rng.next_u64() % 3) as usize];
                let v = RequestView {
                    path: path.as_bytes(),
                    user_agent: (!ua.is_empty()).then_some(ua),
                    headers: rng.next_u64() as u16,
                    ..view("/")
                };
                let f = facts::extract(&v, None);
                let now = rng.next_u64() % (1 << 42);
                let (mut a, mut z) = (ClientState::ZERO, ClientState::ZERO);
                let oa = a.begin_with(&f, &b, now, true);
                let oz = z.begin(&f, &b, now);
                assert_eq!(bytemuck::bytes_of(&a), bytemuck::bytes_of(&z), "{path}");
                assert_eq!(oa, oz);
            }
        }
    }

    #[test]
    fn the_transition_memo_changes_nothing() {
        // Clients walking a site, one record updated with the plain
        // transition test and one through a memo kept across requests (and
        // cleared when the baseline learns, as the worker's view is
        // refreshed): the same bytes and observations at every request.
        let mut rng = crate::testing::XorShift64::new(0x7e30);
        let mut b = AppBaseline::boxed();
        let mut memo = TransitionMemo::default();
        let mut t = 1_000_000u64;
        let mut checked = 0;
        for client in 0..60u64 {
            let (mut plain, mut memoed) = (ClientState::ZERO, ClientState::ZERO);
            for _ in 0..(rng.next_u64() % 120) {
                let path = match rng.next_u64() % 5 {
                    0 => format!("/users/{}", rng.next_u64() % 50),
                    1 => format!("/img/{}.png", rng.next_u64() % 9),
                    2 => "/login".to_string(),
                    3 => format!("/p/{}/reviews", rng.next_u64() % 7),
                    _ => format!("/x{}", rng.next_u64() % 30),
                };
                let v = RequestView {
                    path: path.as_bytes(),
                    ..view("/")
                };
                let f = facts::extract(&v, None);
                t += rng.next_u64() % 20_000;
                let fresh = plain == ClientState::ZERO;
                let oa = plain.begin_with(&f, &b, t, fresh);
                let ob = memoed.begin_memo(&f, &b, Some(&mut memo), t, fresh);
                assert_eq!(bytemuck::bytes_of(&plain), bytemuck::bytes_of(&memoed));
                assert_eq!(oa, ob);
                checked += u32::from(plain.count(C::CheckedTransitions) > 0.0);
                // The early clients teach the baseline until it is trained.
                if client < 20 {
                    b.learn(&oa, crate::detect::baseline::Lesson::ALL, t);
                    memo.clear();
                }
            }
        }
        assert!(b.is_trained());
        assert!(checked > 1_000, "{checked}");
    }

    #[test]
    fn people_counts_user_agents_as_before() {
        let mut s = ClientState::ZERO;
        let mut rng = crate::testing::XorShift64::new(0x9e09);
        for _ in 0..5_000 {
            s.ua_seen = match rng.next_u64() % 4 {
                0 => 0,
                1 => 1 << (rng.next_u64() % 32),
                _ => rng.next_u64() as u32 & rng.next_u64() as u32,
            };
            s.epoch_requests = (rng.next_u64() % 80) as u16;
            let uas = s.ua_seen.count_ones();
            let want = if uas >= 2 && uas * 4 <= u32::from(s.epoch_requests) {
                uas.min(8) as f32
            } else {
                1.0
            };
            assert_eq!(s.people(), want);
        }
    }

    #[test]
    fn reset_and_reported() {
        let b = AppBaseline::boxed();
        let mut s = ClientState::ZERO;
        s.observe(&view("/a"), None, &b, 5_000);
        s.mark_reported(BotType::Scraping);
        assert_ne!(s.reported, 0);
        s.reset();
        assert_eq!(s, ClientState::ZERO);
    }
}
