//! Campaigns: attacks spread over many addresses, each of which alone looks
//! like a person (credential stuffing or scraping through a residential
//! proxy pool).
//!
//! Per application, three rates are counted over a sliding ten-second
//! window (the current bucket plus the previous one, weighted by how much of
//! it still overlaps, as nginx's `limit_req` and most rate limiters do):
//! authentication failures (401/403), calls to the profile's sensitive
//! endpoints, and first-seen clients. Each has a learned per-bucket mean (an
//! exponentially weighted average over about ten minutes, not learned from
//! buckets that surged). A rate **surges** above
//! `max(FLOOR, SURGE_RATIO x mean + SURGE_SIGMAS x sqrt(mean))`.
//!
//! Every request that counts towards a rate also counts for its
//! [fingerprint](fingerprint) keys in a small table of heavy hitters (two
//! candidate slots per key, the weaker one replaced, as in space-saving
//! counters). A key becomes a **campaign** when, while one of its rates
//! surges, it drove at least `MIN_EVENTS` of the window's events from at
//! least `MIN_ADDRESSES` distinct addresses, at least `MIN_SHARE` of the
//! surging rate, and clearly more than its own learned share (a second,
//! per-key baseline: a count-min sketch of each key's events in normal
//! buckets), so a popular browser or a mobile app's many phones are not a
//! campaign just because they are common. Keys of clients that loaded
//! assets (browsers rendering pages) are never campaigns: people who browse
//! and then log in are never matched.
//!
//! While a campaign is active (a matching request in the last
//! `CAMPAIGN_IDLE_S`), the PREACCESS handler gives every request with its key
//! the profile's reaction and lists the address for a short duration.
//!
//! Everything is fixed-size atomics in the zone's header, valid when zero.
//! A request touches a handful of atomics; the rates are sharded by worker
//! (each shard on a cache line of its own, see [`set_worker`]) so that no
//! counter is written by every worker's requests, and the per-bucket work
//! (summing shards, learning) is done once per bucket by the worker that
//! first sees it roll over. Races between workers cost at most a count.

pub mod fingerprint;
pub mod react;

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed};

use crate::detect::hash::mix;
use crate::model::{BotType, SensitiveKind};
pub use fingerprint::{Builder, Class, Fingerprint, Prior, ValueSlot};

/// Width of one rate bucket; the sliding window is one bucket wide.
pub const BUCKET_MS: u64 = 10_000;
/// Counter shards per application, one per worker (workers beyond this
/// share, by worker number): a cache line each, and the region must stay
/// small enough for a 1m zone (see the tests).
pub const SHARDS: usize = 4;
/// Applications with campaign state; more share by eviction of the idlest.
pub const APPS: usize = 8;
/// Heavy-hitter slots per application.
pub const HITTERS: usize = 64;
/// Campaigns tracked at once per application.
pub const CAMPAIGNS: usize = 8;
/// Per-key baseline sketch: rows x width.
const SKETCH_ROWS: usize = 2;
const SKETCH_WIDTH: usize = 128;

/// The rates watched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Metric {
    AuthFailures = 0,
    SensitiveCalls = 1,
    FirstSeen = 2,
}
pub const METRICS: usize = 3;

impl Metric {
    pub const ALL: [Metric; METRICS] = [
        Metric::AuthFailures,
        Metric::SensitiveCalls,
        Metric::FirstSeen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::AuthFailures => "auth_failures",
            Metric::SensitiveCalls => "sensitive_calls",
            Metric::FirstSeen => "first_seen_clients",
        }
    }

    pub fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// Events per window below which no rate surges, whatever was learned: a
/// quiet site's few failed logins are never a campaign.
pub const FLOOR: [f32; METRICS] = [20.0, 30.0, 20.0];
/// A surge is this multiple of the learned mean...
pub const SURGE_RATIO: f32 = 2.0;
/// ...plus this many standard deviations of a Poisson count with that mean.
pub const SURGE_SIGMAS: f32 = 4.0;
/// Buckets the learned means remember (exponential weight 1/N).
pub const MEAN_BUCKETS: f32 = 60.0;
/// A key's events in the window before it can be a campaign.
pub const MIN_EVENTS: f32 = 20.0;
/// Distinct addresses behind those events: fewer is one client's business,
/// which the per-client detectors judge.
pub const MIN_ADDRESSES: f32 = 10.0;
/// The key's share of the surging rate.
pub const MIN_SHARE: f32 = 0.2;
/// A key must exceed its own learned events per window by this factor.
pub const KEY_SURGE_RATIO: f32 = 3.0;
/// A campaign ends after this long without a matching request.
pub const CAMPAIGN_IDLE_S: u32 = 300;
/// How long a campaign's address is listed (shorter if the profile says so).
pub const LIST_SECS: u64 = 600;
/// Buckets of the per-key sketch's memory (one hour).
const SKETCH_BUCKETS: f32 = 360.0;

fn load_f(a: &AtomicU32) -> f32 {
    f32::from_bits(a.load(Relaxed))
}
fn store_f(a: &AtomicU32, v: f32) {
    a.store(v.to_bits(), Relaxed);
}

/// Distinct items behind a 64-bit bitmap (linear counting, Whang et al. 1990).
fn distinct(bits: u64) -> f32 {
    let zero = 64 - bits.count_ones();
    if zero == 0 {
        // Saturated: at least this many.
        return 64.0 * 64f32.ln();
    }
    64.0 * (64.0 / zero as f32).ln()
}

#[repr(C)]
#[derive(Default)]
struct Hitter {
    key: AtomicU64,
    bucket: AtomicU32,
    count: AtomicU32,
    prev: AtomicU32,
    _pad: AtomicU32,
    addresses: AtomicU64,
}

/// One worker's rate counters, on a cache line of its own: with the
/// shards packed (8 shards by client, 12 bytes each, in two lines), every
/// first-seen client of every worker wrote the same lines, and two workers
/// took turns owning them.
#[repr(C, align(64))]
#[derive(Default)]
struct Shard([AtomicU32; METRICS]);

const _: () = assert!(std::mem::size_of::<Shard>() == 64);

/// This process's shard of the rate counters.
static SHARD: AtomicUsize = AtomicUsize::new(0);

/// Sets this process's shard from its worker number (`ngx_worker`), once
/// when the worker starts: each worker then counts its requests on cache
/// lines no other worker writes (up to [`SHARDS`] workers; more share).
/// Unset (tests, tools, a single process): shard 0.
pub fn set_worker(worker: usize) {
    SHARD.store(worker % SHARDS, Relaxed);
}

/// One campaign slot.
#[repr(C)]
#[derive(Debug, Default)]
pub struct Slot {
    key: AtomicU64,
    id: AtomicU32,
    /// metric | class code << 8 | hood << 16
    info: AtomicU32,
    started: AtomicU32,
    last_seen: AtomicU32,
    /// The key's events and the surging rate's window count at the start,
    /// and the threshold it crossed.
    events: AtomicU32,
    window: AtomicU32,
    threshold: AtomicU32,
    /// Requests matched and addresses listed since.
    matched: AtomicU32,
    listed: AtomicU32,
    initial_addresses: AtomicU32,
}

/// The campaign state of one application.
#[repr(C)]
pub struct AppCampaigns {
    app: AtomicU64,
    last_used: AtomicU32,
    bucket: AtomicU32,
    counts: [Shard; SHARDS],
    prev: [AtomicU32; METRICS],
    mean: [AtomicU32; METRICS],
    samples: AtomicU32,
    hitters: [Hitter; HITTERS],
    sketch: [[AtomicU32; SKETCH_WIDTH]; SKETCH_ROWS],
    slots: [Slot; CAMPAIGNS],
}

/// The campaign region of the zone.
#[repr(C)]
pub struct Campaigns {
    apps: [AppCampaigns; APPS],
    next_id: AtomicU32,
    /// No campaign of any application is active after this second: at
    /// least the largest `last_seen + CAMPAIGN_IDLE_S` of any slot ever
    /// started or matched (raised before the slot's own store, never
    /// lowered). Every request asks ([`Campaigns::may_be_active`]); most
    /// of the time the answer is no, with one load of a line that is
    /// written about once a second while a campaign runs, and no walk
    /// over the applications and their slots.
    active_until: AtomicU32,
}

/// One request that counts towards the application's rates.
#[derive(Clone, Copy, Debug)]
pub struct Feed {
    /// [`Metric::bit`]s.
    pub metrics: u8,
    pub fingerprint: Fingerprint,
    pub class: Class,
    pub prior: Prior,
    pub hood: u32,
    pub address: u32,
    /// The User-Agent claims a browser (only read for page requests).
    pub browser: bool,
}

impl Feed {
    /// Whether the request is evidence for its fingerprint key (see
    /// [`evidence`]): only then are `hood` and `address` read.
    pub fn is_evidence(&self) -> bool {
        evidence(self).is_some()
    }
}

/// Whether a request is evidence for its fingerprint key, and the rates
/// whose surge may make that key a campaign. What a crowd of people or of
/// an app's users does on a launch day must never count:
/// - pages: only a browser's *follow-up* page with no asset loaded before
///   and no cookie (a pool client that claims a browser but renders
///   nothing; a person coming back with the assets cached carries the
///   site's cookie). A first
///   visit is not evidence (a flash crowd is all first visits, and a
///   browser's assets come after its page), nor is an API client (it has
///   no assets to load); the surge is the pool's first-seen addresses;
/// - logins: a crowd that logs in successfully is no stuffing: the
///   auth-failure rate must surge;
/// - other sensitive calls (sign-ups, feedback, carts): only as the
///   client's very first request (an app or a browser calls or shows
///   something first).
fn evidence(f: &Feed) -> Option<u8> {
    match (f.class, f.prior) {
        (_, Prior::Assets) => None,
        (Class::Page, Prior::Pages) if f.browser && !f.fingerprint.cookie => {
            Some(Metric::FirstSeen.bit())
        }
        (Class::Page, _) => None,
        (Class::Sensitive(k), _) if usize::from(k) == SensitiveKind::Auth.index() => {
            Some(Metric::AuthFailures.bit())
        }
        (Class::Sensitive(_), Prior::Nothing) => {
            Some(Metric::SensitiveCalls.bit() | Metric::FirstSeen.bit())
        }
        (Class::Sensitive(_), _) => None,
    }
}

/// A campaign as reported in events and the API.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Report {
    pub id: u32,
    /// The key, in hex.
    #[serde(serialize_with = "hex")]
    pub fingerprint: u64,
    /// `fingerprint` (the software) or `neighbourhood` (the /24 or /48).
    pub grouped_by: &'static str,
    pub metric: &'static str,
    pub request: &'static str,
    #[serde(serialize_with = "bot_name")]
    pub bot_type: BotType,
    pub started: u32,
    pub events: u32,
    pub window: u32,
    pub threshold: u32,
    pub addresses_at_start: u32,
    pub matched: u32,
    pub addresses_listed: u32,
}

fn bot_name<S: serde::Serializer>(v: &BotType, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_str())
}

fn hex<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:016x}"))
}

/// A request matched an active campaign.
#[derive(Clone, Copy, Debug)]
pub struct Match<'a> {
    slot: &'a Slot,
    pub bot_type: BotType,
}

impl Match<'_> {
    /// Counts an address listed for the campaign; returns the report.
    pub fn listed(&self, new_address: bool) -> Report {
        if new_address {
            self.slot.listed.fetch_add(1, Relaxed);
        }
        report(self.slot)
    }

    pub fn report(&self) -> Report {
        report(self.slot)
    }
}

/// The bot type a campaign of this class of request is.
pub fn bot_type(class: Class) -> BotType {
    match class {
        Class::Page => BotType::Scraping,
        Class::Sensitive(k) => match SensitiveKind::ALL.get(usize::from(k)) {
            Some(SensitiveKind::Auth) => BotType::CredentialStuffing,
            Some(SensitiveKind::Signup) => BotType::FakeAccounts,
            Some(SensitiveKind::Feedback) => BotType::Spam,
            Some(SensitiveKind::Checkout | SensitiveKind::Reserve) => BotType::Scalping,
            _ => BotType::TrafficSpike,
        },
    }
}

fn class_of(code: u8) -> Class {
    match code {
        0 => Class::Page,
        k => Class::Sensitive(k - 1),
    }
}

fn class_code(c: Class) -> u8 {
    match c {
        Class::Page => 0,
        Class::Sensitive(k) => k.saturating_add(1),
    }
}

fn report(s: &Slot) -> Report {
    let info = s.info.load(Relaxed);
    let metric = Metric::ALL
        .get((info & 0xff) as usize)
        .copied()
        .unwrap_or(Metric::FirstSeen);
    let class = class_of(((info >> 8) & 0xff) as u8);
    Report {
        id: s.id.load(Relaxed),
        fingerprint: s.key.load(Relaxed),
        grouped_by: if info >> 16 & 1 != 0 {
            "neighbourhood"
        } else {
            "fingerprint"
        },
        metric: metric.as_str(),
        request: match class {
            Class::Page => "page",
            Class::Sensitive(k) => SensitiveKind::ALL
                .get(usize::from(k))
                .map_or("sensitive", |k| k.as_str()),
        },
        bot_type: bot_type(class),
        started: s.started.load(Relaxed),
        events: s.events.load(Relaxed),
        window: s.window.load(Relaxed),
        threshold: s.threshold.load(Relaxed),
        addresses_at_start: s.initial_addresses.load(Relaxed),
        matched: s.matched.load(Relaxed),
        addresses_listed: s.listed.load(Relaxed),
    }
}

impl Campaigns {
    /// A fresh region on the heap (tests and tools; the zone is zeroed by
    /// the glue instead).
    pub fn boxed() -> Box<Campaigns> {
        let layout = std::alloc::Layout::new::<Campaigns>();
        // SAFETY: every field is an atomic integer, valid when zero; the
        // layout is the type's own, so Box may free it.
        unsafe {
            let p = std::alloc::alloc_zeroed(layout).cast::<Campaigns>();
            if p.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            Box::from_raw(p)
        }
    }

    /// The state of `app`, claiming a slot for it (the one idle longest)
    /// when it has none.
    pub fn app(&self, app: u64, now_s: u32) -> &AppCampaigns {
        let app = app.max(1);
        if let Some(a) = self.find(app) {
            if a.last_used.load(Relaxed) != now_s {
                a.last_used.store(now_s, Relaxed);
            }
            return a;
        }
        let victim = self
            .apps
            .iter()
            .min_by_key(|a| {
                if a.app.load(Relaxed) == 0 {
                    0
                } else {
                    u64::from(a.last_used.load(Relaxed)) + 1
                }
            })
            .unwrap_or(&self.apps[0]);
        let old = victim.app.load(Relaxed);
        if victim
            .app
            .compare_exchange(old, app, Relaxed, Relaxed)
            .is_ok()
        {
            if old != 0 {
                victim.clear();
            }
            victim.last_used.store(now_s, Relaxed);
        }
        victim
    }

    /// The state of `app`, if it has any.
    pub fn find(&self, app: u64) -> Option<&AppCampaigns> {
        let app = app.max(1);
        self.apps.iter().find(|a| a.app.load(Relaxed) == app)
    }

    /// Every active campaign, for the API.
    pub fn active(&self, now_s: u32) -> Vec<Report> {
        self.apps
            .iter()
            .filter(|a| a.app.load(Relaxed) != 0)
            .flat_map(|a| a.slots.iter())
            .filter(|s| slot_active(s, now_s))
            .map(report)
            .collect()
    }

    fn new_id(&self) -> u32 {
        self.next_id.fetch_add(1, Relaxed).wrapping_add(1)
    }

    /// False when no slot of any application can be active at `now_s`
    /// (then [`AppCampaigns::any_active`] is false for all of them): exact,
    /// since an active slot has `now_s <= last_seen + CAMPAIGN_IDLE_S`,
    /// which `active_until` bounds.
    #[inline]
    pub fn may_be_active(&self, now_s: u32) -> bool {
        now_s <= self.active_until.load(Relaxed)
    }

    /// A slot is about to be seen at `now_s` (started or matched).
    fn seen_at(&self, now_s: u32) {
        let until = now_s.saturating_add(CAMPAIGN_IDLE_S);
        if self.active_until.load(Relaxed) < until {
            self.active_until.fetch_max(until, Relaxed);
        }
    }
}

fn slot_active(s: &Slot, now_s: u32) -> bool {
    s.key.load(Relaxed) != 0 && s.last_seen.load(Relaxed).saturating_add(CAMPAIGN_IDLE_S) >= now_s
}

impl AppCampaigns {
    fn clear(&self) {
        for row in &self.counts {
            for c in &row.0 {
                c.store(0, Relaxed);
            }
        }
        for m in 0..METRICS {
            self.prev[m].store(0, Relaxed);
            self.mean[m].store(0, Relaxed);
        }
        self.samples.store(0, Relaxed);
        for h in &self.hitters {
            h.key.store(0, Relaxed);
        }
        for row in &self.sketch {
            for c in row {
                c.store(0, Relaxed);
            }
        }
        for s in &self.slots {
            s.key.store(0, Relaxed);
        }
    }

    /// True when a campaign may be active: the PREACCESS handler computes
    /// nothing else for the application otherwise.
    pub fn any_active(&self, now_s: u32) -> bool {
        self.slots.iter().any(|s| slot_active(s, now_s))
    }

    /// The active campaign whose key is one of `keys`; counts the match.
    /// `all`: the region this application's state lies in.
    pub fn matching(&self, all: &Campaigns, keys: &[u64], now_s: u32) -> Option<Match<'_>> {
        let slot = self.slots.iter().find(|s| {
            let k = s.key.load(Relaxed);
            k != 0 && keys.contains(&k) && slot_active(s, now_s)
        })?;
        slot.matched.fetch_add(1, Relaxed);
        if slot.last_seen.load(Relaxed) != now_s {
            all.seen_at(now_s);
            slot.last_seen.store(now_s, Relaxed);
        }
        let class = class_of(((slot.info.load(Relaxed) >> 8) & 0xff) as u8);
        Some(Match {
            slot,
            bot_type: bot_type(class),
        })
    }

    /// The window count of each rate and the threshold it must cross.
    pub fn rates(&self, now_ms: u64) -> [(f32, f32); METRICS] {
        let frac = (now_ms % BUCKET_MS) as f32 / BUCKET_MS as f32;
        let current = u64::from(self.bucket.load(Relaxed)) == now_ms / BUCKET_MS;
        let mut out = [(0.0, 0.0); METRICS];
        for (m, o) in out.iter_mut().enumerate() {
            let (now, prev) = if current {
                let n: u32 = self.counts.iter().map(|row| row.0[m].load(Relaxed)).sum();
                (n as f32, self.prev[m].load(Relaxed) as f32)
            } else {
                (0.0, 0.0)
            };
            *o = (now + prev * (1.0 - frac), self.threshold(m));
        }
        out
    }

    fn threshold(&self, m: usize) -> f32 {
        let mean = load_f(&self.mean[m]);
        (SURGE_RATIO * mean + SURGE_SIGMAS * mean.sqrt()).max(FLOOR[m])
    }

    /// Starts a new bucket when `now_ms` is past the current one: the worker
    /// that wins the exchange sums the shards and learns.
    fn roll(&self, now_ms: u64) {
        let b = (now_ms / BUCKET_MS).min(u64::from(u32::MAX)) as u32;
        let old = self.bucket.load(Relaxed);
        if old >= b
            || self
                .bucket
                .compare_exchange(old, b, Relaxed, Relaxed)
                .is_err()
        {
            return;
        }
        let gap = b - old;
        let samples = self.samples.load(Relaxed);
        let mut totals = [0f32; METRICS];
        let mut surged = false;
        for (m, t) in totals.iter_mut().enumerate() {
            let n: u32 = self
                .counts
                .iter()
                .map(|row| row.0[m].swap(0, Relaxed))
                .sum();
            *t = n as f32;
            self.prev[m].store(if gap == 1 { n } else { 0 }, Relaxed);
            surged |= *t > self.threshold(m);
        }
        if old == 0 {
            return;
        }
        // A bucket that surged teaches a tenth as much, and no more than
        // the threshold it crossed: a lasting change of traffic is followed
        // within an hour or two, while a campaign (or the first burst of a
        // fresh zone) barely moves the means.
        let weight = if surged { 0.1 } else { 1.0 };
        for (m, t) in totals.iter().enumerate() {
            let mut mean = load_f(&self.mean[m]);
            let n = (samples as f32 + 1.0).min(MEAN_BUCKETS);
            // A surging bucket teaches no more than the threshold it
            // crossed, so a campaign in the first minutes of a fresh zone
            // does not become the norm.
            let t = t.min(self.threshold(m));
            mean += weight * (t - mean) / n;
            // Quiet buckets in between count as zeros.
            let quiet = (gap - 1).min(MEAN_BUCKETS as u32) as i32;
            mean *= (1.0 - 1.0 / MEAN_BUCKETS).powi(quiet);
            store_f(&self.mean[m], mean);
        }
        self.samples
            .store(samples.saturating_add(gap.min(1000)), Relaxed);
        let decay = (1.0 - 1.0 / SKETCH_BUCKETS).powi(gap.min(10_000) as i32);
        for row in &self.sketch {
            for c in row {
                let v = load_f(c);
                if v != 0.0 {
                    store_f(c, if v < 0.01 { 0.0 } else { v * decay });
                }
            }
        }
    }

    /// A key's learned events per bucket in normal traffic.
    fn key_mean(&self, key: u64) -> f32 {
        let warm = (self.samples.load(Relaxed) as f32).clamp(1.0, SKETCH_BUCKETS);
        self.sketch
            .iter()
            .enumerate()
            .map(|(r, row)| load_f(&row[sketch_col(key, r)]))
            .fold(f32::MAX, f32::min)
            / warm
    }

    fn learn_key(&self, key: u64) {
        for (r, row) in self.sketch.iter().enumerate() {
            let c = &row[sketch_col(key, r)];
            store_f(c, load_f(c) + 1.0);
        }
    }

    /// Counts one request; returns a campaign it started.
    pub fn feed(&self, all: &Campaigns, f: &Feed, now_ms: u64) -> Option<Report> {
        let evidence = evidence(f);
        if f.metrics == 0 && evidence.is_none() {
            return None;
        }
        self.roll(now_ms);
        let shard = &self.counts[SHARD.load(Relaxed) % SHARDS].0;
        for m in Metric::ALL {
            if f.metrics & m.bit() != 0 {
                shard[m as usize].fetch_add(1, Relaxed);
            }
        }
        let relevant = evidence?;
        let bucket = (now_ms / BUCKET_MS).min(u64::from(u32::MAX)) as u32;
        let frac = (now_ms % BUCKET_MS) as f32 / BUCKET_MS as f32;
        let now_s = (now_ms / 1000) as u32;
        let keys = [
            (f.fingerprint.key(f.class, f.prior), false),
            (f.fingerprint.hood(f.hood, f.class, f.prior), true),
        ];
        // Neighbourhoods group sensitive calls only: a campus, an office or
        // a carrier's NAT range brings many people's first visits from one
        // /24, which is no campaign.
        let n = if f.class == Class::Page { 1 } else { 2 };
        let mut started = None;
        for (key, by_hood) in keys.into_iter().take(n) {
            let Some((events, addresses)) = self.count_key(key, bucket, frac, f.address) else {
                continue;
            };
            if events < MIN_EVENTS || addresses < MIN_ADDRESSES {
                // Most keys: learn what is normal for them.
                self.learn_key(key);
                continue;
            }
            let rates = self.rates(now_ms);
            let surges = |m: &Metric| {
                let (window, threshold) = rates[*m as usize];
                relevant & m.bit() != 0 && window > threshold
            };
            if !Metric::ALL.iter().any(surges) {
                // A busy key in normal traffic (a popular browser, an app's
                // many phones): learn it too.
                self.learn_key(key);
                continue;
            }
            if self
                .slots
                .iter()
                .any(|s| s.key.load(Relaxed) == key && slot_active(s, now_s))
            {
                continue;
            }
            let expected = self.key_mean(key);
            let surging = Metric::ALL.iter().filter(|m| surges(m)).find(|m| {
                let window = rates[**m as usize].0;
                events >= MIN_SHARE * window
                    && events > KEY_SURGE_RATIO * expected + SURGE_SIGMAS * expected.sqrt()
            });
            let Some(m) = surging else {
                continue;
            };
            let (window, threshold) = rates[*m as usize];
            if started.is_none() {
                let surge = Surge {
                    key,
                    by_hood,
                    metric: *m,
                    class: f.class,
                    events,
                    addresses,
                    window,
                    threshold,
                };
                started = self.start(all, &surge, now_s);
            }
        }
        started
    }

    /// Counts an event for `key` in the heavy hitters; its events in the
    /// sliding window and distinct addresses so far.
    fn count_key(&self, key: u64, bucket: u32, frac: f32, address: u32) -> Option<(f32, f32)> {
        let a = &self.hitters[(key as usize) % HITTERS];
        let b = &self.hitters[((key >> 32) as usize ^ 0x55) % HITTERS];
        let h = if a.key.load(Relaxed) == key {
            a
        } else if b.key.load(Relaxed) == key {
            b
        } else {
            let weight = |h: &Hitter| {
                let hb = h.bucket.load(Relaxed);
                if h.key.load(Relaxed) == 0 || hb.saturating_add(1) < bucket {
                    0.0
                } else {
                    sliding(h, bucket, frac)
                }
            };
            let (wa, wb) = (weight(a), weight(b));
            let (victim, w) = if wa <= wb { (a, wa) } else { (b, wb) };
            // Space-saving would always replace; replacing only noise keeps
            // a real campaign's slot from being churned by many rare keys.
            if w >= 2.0 {
                return None;
            }
            let old = victim.key.load(Relaxed);
            victim
                .key
                .compare_exchange(old, key, Relaxed, Relaxed)
                .ok()?;
            victim.count.store(0, Relaxed);
            victim.prev.store(0, Relaxed);
            victim.addresses.store(0, Relaxed);
            victim.bucket.store(bucket, Relaxed);
            victim
        };
        let hb = h.bucket.load(Relaxed);
        if hb < bucket
            && h.bucket
                .compare_exchange(hb, bucket, Relaxed, Relaxed)
                .is_ok()
        {
            let c = h.count.swap(0, Relaxed);
            h.prev.store(if hb + 1 == bucket { c } else { 0 }, Relaxed);
            if hb + 1 < bucket {
                h.addresses.store(0, Relaxed);
            }
        }
        h.count.fetch_add(1, Relaxed);
        let bit = 1u64 << (mix(address) % 64);
        let addrs = h.addresses.fetch_or(bit, Relaxed) | bit;
        Some((sliding(h, bucket, frac), distinct(addrs)))
    }

    /// Starts a campaign of `surge` in a free slot (`None`: every slot
    /// holds an active campaign, or another process claimed it first).
    fn start(&self, all: &Campaigns, surge: &Surge, now_s: u32) -> Option<Report> {
        let Surge {
            key,
            by_hood,
            metric,
            class,
            events,
            addresses,
            window,
            threshold,
        } = *surge;
        let slot = self
            .slots
            .iter()
            .min_by_key(|s| {
                if slot_active(s, now_s) {
                    u64::from(s.last_seen.load(Relaxed)) + 1
                } else {
                    0
                }
            })
            .filter(|s| !slot_active(s, now_s))?;
        // Before the key: a process that sees the slot active sees the
        // hint too (at worst a hint for a slot that was not claimed).
        all.seen_at(now_s);
        let old = slot.key.load(Relaxed);
        slot.key.compare_exchange(old, key, Relaxed, Relaxed).ok()?;
        slot.id.store(all.new_id(), Relaxed);
        slot.info.store(
            metric as u32 | u32::from(class_code(class)) << 8 | u32::from(by_hood) << 16,
            Relaxed,
        );
        slot.started.store(now_s, Relaxed);
        slot.last_seen.store(now_s, Relaxed);
        slot.events.store(events.round() as u32, Relaxed);
        slot.window.store(window.round() as u32, Relaxed);
        slot.threshold.store(threshold.round() as u32, Relaxed);
        slot.initial_addresses
            .store(addresses.round() as u32, Relaxed);
        slot.matched.store(0, Relaxed);
        slot.listed.store(0, Relaxed);
        Some(report(slot))
    }
}

/// What a campaign starts from: the key whose events surged, and the
/// figures its slot keeps.
#[derive(Clone, Copy)]
struct Surge {
    key: u64,
    /// The key groups a neighbourhood (else a fingerprint).
    by_hood: bool,
    /// The rate that surged, and the class of request it counted.
    metric: Metric,
    class: Class,
    /// The key's events in the sliding window, and its distinct addresses.
    events: f32,
    addresses: f32,
    /// The application's window count of `metric`, and the threshold it
    /// crossed.
    window: f32,
    threshold: f32,
}

fn sliding(h: &Hitter, bucket: u32, frac: f32) -> f32 {
    if h.bucket.load(Relaxed) != bucket {
        return h.count.load(Relaxed) as f32 * (1.0 - frac);
    }
    h.count.load(Relaxed) as f32 + h.prev.load(Relaxed) as f32 * (1.0 - frac)
}

fn sketch_col(key: u64, row: usize) -> usize {
    let h = mix((key >> (row * 32)) as u32 ^ (key as u32).rotate_left(row as u32 * 11 + 3));
    h as usize % SKETCH_WIDTH
}

#[cfg(test)]
mod tests;
