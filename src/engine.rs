//! Detection for one request, in four stages. The request path runs them
//! when the request starts (PREACCESS, [`begin`]: everything but the status,
//! so a tool's concurrent requests see each other and a detection refuses
//! the request that made it) and adds the status when it is answered (LOG,
//! [`end`]); [`observe`] does both at once for a finished request:
//!
//! 1. [`extract`]: everything derived from the request alone (endpoint
//!    template, sensitive kind, User-Agent class and browser facts, header
//!    anomaly, attack class). No lock.
//! 2. [`update`]: one short critical section on the client's own record in
//!    shared memory: counters and sets only, no parsing, no allocation. The
//!    application's baseline is read from this worker's copy and taught
//!    through this worker's delta ([`learner`]), so no lock is shared by all
//!    requests; the deltas are merged into the zone once a second.
//! 3. [`score`] then [`react`]: the detectors and the vote on a copy of the
//!    record (no lock), and the listing policy as a pure function (reaction,
//!    duration, repeat offences).
//! 4. [`report`]: the event line (serde, [`events`]) and the error-log line,
//!    built after every lock is released.
//!
//! [`observe`] runs them in that order; each stage is public and tested
//! alone, so other reactions and detections can hook in between.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod events;
pub mod learner;

use std::net::IpAddr;

use crate::campaign::react::prior_of;
use crate::campaign::Prior;
use crate::config::{fnv1a, Profile, Reaction};
use crate::detect::baseline::TransitionMemo;
use crate::detect::facts::{self, Answer, RequestFacts};
use crate::detect::{assess, decide, AppBaseline, Assessment, ClientState, Detection, Observation};
use crate::model::BotType;
use crate::request::RequestView;
use crate::shared::{ListKind, ListRecord, Shared, Stats, ORIGIN_DETECTION};
use crate::table::{ClientKey, Place};

pub use events::{json_str, rfc3339};
pub use learner::Learner;

/// The longest a repeat offender is listed for, whatever the profile says.
pub const MAX_REPEAT_SECS: u64 = 30 * 86_400;

/// A client crossed a profile's threshold on this request.
pub struct Outcome {
    pub bot: BotType,
    pub confidence: u8,
    /// The events-file line, newline included.
    pub event: String,
    /// The error-log line.
    pub summary: String,
}

/// The key of an application's baseline.
pub fn app_key(app: &[u8]) -> ClientKey {
    // Keep clear of IPv4-mapped and ordinary IPv6 keys: a separate table, but
    // a distinct space makes state files easier to read.
    u128::from(fnv1a(app)) | (1u128 << 127)
}

/// Whom one request is from, under which rules, and when: what every entry
/// point of the request path reads besides the request itself (the
/// detection stages here, the campaign stages in
/// [`crate::campaign::react`]). Made once per request by the caller.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The zone: client records, lists, statistics.
    pub shared: &'a Shared,
    /// The profile that covers the request's application.
    pub profile: &'a Profile,
    /// The application's name (its baseline and campaigns are keyed by it).
    pub app: &'a [u8],
    /// The client's key in the zone's tables.
    pub key: ClientKey,
    /// The client's address, as the event and log lines name it.
    pub client: IpAddr,
    /// An `api_abuse monitor` location: nothing is listed or refused.
    pub monitor: bool,
    /// Unix milliseconds.
    pub now_ms: u64,
}

/// Feeds one request into detection; returns the outcome when the client is
/// detected as a bot of a type the profile acts on.
pub fn observe(cx: &Context<'_>, learner: &mut Learner, view: &RequestView<'_>) -> Option<Outcome> {
    let facts = extract(cx.profile, view);
    observe_facts(cx, learner, view, &facts)
}

/// [`observe`] with the extract stage done by the caller (the glue reuses
/// what the access phase computed, see [`extract_with`]).
pub fn observe_facts(
    cx: &Context<'_>,
    learner: &mut Learner,
    view: &RequestView<'_>,
    facts: &RequestFacts,
) -> Option<Outcome> {
    let place = cx.shared.clients.place(cx.key);
    detect(
        cx,
        learner,
        place,
        view,
        facts,
        Stage::Finished,
        &mut (false, Prior::Nothing),
    )
}

/// Feeds the start of a request into detection (the request path's
/// PREACCESS): everything known before the answer (`facts.status` is not
/// read), so that a tool's concurrent requests see each other. Returns the
/// outcome, as [`observe`]; [`end`] adds the answer.
pub fn begin(
    cx: &Context<'_>,
    learner: &mut Learner,
    view: &RequestView<'_>,
    facts: &RequestFacts,
) -> Option<Outcome> {
    let place = cx.shared.clients.place(cx.key);
    detect(
        cx,
        learner,
        place,
        view,
        facts,
        Stage::Started,
        &mut (false, Prior::Nothing),
    )
}

/// What [`begin_at`] leaves for the rest of the request.
pub struct Started {
    pub outcome: Option<Outcome>,
    /// What the client had done before this request (the campaigns' feed):
    /// whether it had a record, and its [`Prior`], read in the same
    /// critical section that counts the request.
    pub before: (bool, Prior),
}

/// [`begin`] for the request path: the client's [`Place`] in the table is
/// computed once per request by the caller (and kept for [`end_at`]), and
/// what the client did before this request is read under the same lock.
pub fn begin_at(
    cx: &Context<'_>,
    learner: &mut Learner,
    place: Place,
    view: &RequestView<'_>,
    facts: &RequestFacts,
) -> Started {
    let mut before = (false, Prior::Nothing);
    let outcome = detect(cx, learner, place, view, facts, Stage::Started, &mut before);
    Started { outcome, before }
}

/// The answer of a request fed with [`begin`] (the LOG phase): its status
/// goes into the client's record, for the next requests' verdicts. One
/// short lock, no scoring.
pub fn end(shared: &Shared, key: ClientKey, answer: &Answer) {
    end_at(shared, key, shared.clients.place(key), answer);
}

/// [`end`] at the [`Place`] [`begin_at`] used. Most answers (a 200 to
/// anything, a 2xx/3xx asset) change no record: those take no lock.
pub fn end_at(shared: &Shared, key: ClientKey, place: Place, answer: &Answer) {
    #[cfg(debug_assertions)]
    let parking = test_hooks::park_asked();
    #[cfg(not(debug_assertions))]
    let parking = false;
    if !ClientState::answer_matters(answer) && !parking {
        return;
    }
    shared.clients.update_at(place, key, |state| {
        state.end(answer);
        #[cfg(debug_assertions)]
        test_hooks::park_if_asked();
    });
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Started,
    Finished,
}

/// The stages for one request (or its start, `stage`), the client's record
/// at `place`; what the client had done before goes into `before`.
fn detect(
    cx: &Context<'_>,
    learner: &mut Learner,
    place: Place,
    view: &RequestView<'_>,
    facts: &RequestFacts,
    stage: Stage,
    before: &mut (bool, Prior),
) -> Option<Outcome> {
    let Context {
        shared,
        profile,
        app,
        key,
        client,
        monitor,
        now_ms,
    } = *cx;
    let app = learner.app(shared, app_key(app), app, now_ms);
    let min = min_requests(profile);
    // Filled only when the record is to be scored: the common request
    // copies nothing out of the critical section.
    let mut copy: Option<ClientState> = None;
    let (baseline, memo) = app.baseline_memo();
    let (step, obs, was) = update_stage(
        shared,
        (key, place),
        Addend {
            facts,
            baseline,
            memo: Some(memo),
            stage,
            now_ms,
        },
        Some(min),
        &mut copy,
    )?;
    *before = was;
    let now_s = now_ms / 1000;
    // A monitor-only reaction does not keep an enforcing one from listing
    // the client later (see `ClientState::reported_mask`).
    let monitoring = monitor || profile.reaction == Reaction::Monitor;
    if let Step::Taught(lesson, reported) = step {
        // Decided in the critical section: nothing can be detected on this
        // request, and the lesson did not need the record again.
        if !monitoring && reported != 0 {
            rearm_reported(shared, key, reported, now_s);
        }
        app.teach(&obs, lesson);
        return None;
    }
    let state = copy.as_mut()?;
    if !monitoring {
        rearm(shared, key, state, now_s);
    }
    // Scored with the types not to report again masked out; the challenge
    // below the threshold reads the record's own bits.
    let reported = state.reported;
    state.reported = state.reported_mask(monitoring);
    if state.requests() < min {
        // No vote can detect anything on this request (every tolerance the
        // profile votes with wants more requests in the session): only what
        // it teaches the baseline is worked out.
        app.teach(&obs, early_lesson(state, &obs, app.baseline(), now_ms));
        return None;
    }
    let (assessment, detection) = score(state, app.baseline(), profile, now_ms);
    state.reported = reported;
    let (det, below) = match detection {
        Some(d) => (d, false),
        None => match challenge_below(state, &assessment, profile) {
            Some(d) => (d, true),
            None => {
                app.teach(&obs, assessment.lesson());
                return None;
            }
        },
    };
    // A challenge below the threshold is claimed like a monitor-only
    // reaction: the profile's own threshold may still list the client.
    if !claim_for(shared, key, det.bot_type, monitoring || below) {
        // Another worker reported this client's detection a moment ago.
        return None;
    }
    count_detection(shared.stats(), &det, &assessment);
    let reaction = if below {
        Reaction::Challenge
    } else {
        profile.reaction
    };
    let listing = react_with(
        reaction,
        profile,
        monitor,
        shared.offences(key),
        &det,
        now_s,
    );
    let expires = list(shared, key, &listing, now_s);
    let outcome = report(
        &Report {
            client,
            app: app.name(),
            profile,
            view,
            detection: det,
            assessment: &assessment,
            reaction: listing.reaction,
            expires,
        },
        now_ms,
    );
    publish(shared, &outcome, now_ms);
    Some(outcome)
}

/// What the critical section leaves for the rest of [`detect`].
enum Step {
    /// Nothing can be detected on this request (too few requests in the
    /// session, or a [`quiet`](crate::detect::scoring::quiet) record) and
    /// the lesson was cheap to work out on the record in place: the
    /// lesson, and the record's reported types (for [`rearm`]).
    Taught(crate::detect::baseline::Lesson, u8),
    /// The record was copied out, for the detectors and the vote without
    /// the lock.
    Score,
}

/// The lesson of a request nothing can be detected on, when it is cheap
/// (no full assessment): what [`early_lesson`] or [`quiet_lesson`] would
/// teach, or `None` when the record must be scored (or assessed) outside
/// the lock. Bounded: a few detectors' arithmetic on the record.
fn cheap_lesson(
    state: &ClientState,
    obs: &Observation,
    baseline: &AppBaseline,
    now_ms: u64,
    min: u32,
) -> Option<crate::detect::baseline::Lesson> {
    // As `early_lesson`: without endpoints to teach, the quiet lesson's
    // rate part is the whole lesson.
    if state.requests() < min && !(obs.learn_endpoint && obs.template != 0) {
        return Some(quiet_lesson(state, obs, baseline, now_ms));
    }
    crate::detect::scoring::quiet(state, baseline)
        .then(|| quiet_lesson(state, obs, baseline, now_ms))
}

/// Stage 1, no lock: the request's facts, with the sensitive kind of the
/// profile that covers it.
pub fn extract(profile: &Profile, view: &RequestView<'_>) -> RequestFacts {
    let sensitive = profile.sensitive.classify(view.method, view.path);
    facts::extract(view, sensitive)
}

/// Stage 1 with parts already computed: the endpoint of `view` (with its
/// sensitive kind under the profile) and maybe the User-Agent's hash (see
/// [`facts::extract_with`]).
pub fn extract_with(
    view: &RequestView<'_>,
    sensitive: Option<crate::model::SensitiveKind>,
    endpoint: crate::detect::template::Endpoint,
    ua_hash: Option<u32>,
) -> RequestFacts {
    facts::extract_with(view, sensitive, endpoint, ua_hash)
}

/// Stage 2, the client's bucket lock only: adds the facts to the client's
/// record and returns a copy of it (for scoring without the lock) and what it
/// may teach the baseline. `None` when the table is full of clients that may
/// not be evicted (never in practice: every client record is evictable).
pub fn update(
    shared: &Shared,
    key: ClientKey,
    facts: &RequestFacts,
    baseline: &AppBaseline,
    now_ms: u64,
) -> Option<(ClientState, Observation)> {
    let place = shared.clients.place(key);
    let mut copy = None;
    update_stage(
        shared,
        (key, place),
        Addend {
            facts,
            baseline,
            memo: None,
            stage: Stage::Finished,
            now_ms,
        },
        None,
        &mut copy,
    )
    .and_then(|(_, obs, _)| Some((copy?, obs)))
}

/// What [`update_stage`] adds to a client's record.
struct Addend<'a> {
    /// The request's facts: the half of them `stage` says.
    facts: &'a RequestFacts,
    /// The application's baseline the facts are observed against, and the
    /// request path's memo of its transitions.
    baseline: &'a AppBaseline,
    memo: Option<&'a mut TransitionMemo>,
    stage: Stage,
    now_ms: u64,
}

/// [`update`]'s critical section; also says what the client had done
/// before (see [`Started::before`]). With `min` (the profile's
/// [`min_requests`]), a request nothing can be detected on (fewer than
/// `min` requests in the session, or a quiet record) is decided on here,
/// on the record in place, when its lesson is cheap: the record is copied
/// out (into `copy`) only for scoring. Without, always copied out.
fn update_stage(
    shared: &Shared,
    (key, place): (ClientKey, Place),
    added: Addend<'_>,
    min: Option<u32>,
    copy: &mut Option<ClientState>,
) -> Option<(Step, Observation, (bool, Prior))> {
    let Addend {
        facts,
        baseline,
        memo,
        stage,
        now_ms,
    } = added;
    let now_s = (now_ms / 1000) as u32;
    let done = shared.clients.upsert_uncounted(
        place,
        key,
        now_s,
        |_, _| true,
        |state, inserted| {
            let before = if inserted {
                (false, Prior::Nothing)
            } else {
                (true, prior_of(Some(state), now_ms))
            };
            let obs = match stage {
                Stage::Started => state.begin_memo(facts, baseline, memo, now_ms, inserted),
                Stage::Finished => state.update(facts, baseline, now_ms),
            };
            #[cfg(debug_assertions)]
            test_hooks::park_if_asked();
            let cheap = min.and_then(|min| cheap_lesson(state, &obs, baseline, now_ms, min));
            let step = match cheap {
                Some(lesson) => Step::Taught(lesson, state.reported()),
                None => {
                    *copy = Some(*state);
                    Step::Score
                }
            };
            (step, obs, before)
        },
    );
    let (done, upserted) = done?;
    count_upsert(shared, upserted);
    Some(done)
}

/// Stage 3a, no lock: every detector and the profile's vote on the record
/// after the request. The detection is `Some` when a bot type the profile
/// acts on crossed the tolerance's threshold (and was not reported in this
/// session yet).
pub fn score(
    state: &ClientState,
    baseline: &AppBaseline,
    profile: &Profile,
    now_ms: u64,
) -> (Assessment, Option<Detection>) {
    let a = assess(state, baseline, now_ms);
    let d = decide(&a, profile.tolerance, profile.bot_types as u8);
    (a, d)
}

/// The fewest requests in a session with which the profile's votes
/// ([`score`], [`challenge_below`]) may detect a client: below it `decide`
/// answers `None` before it looks at anything else.
pub fn min_requests(profile: &Profile) -> u32 {
    let own = crate::detect::scoring::rule(profile.tolerance).min_requests;
    profile.challenge.below.map_or(own, |t| {
        own.min(crate::detect::scoring::rule(t).min_requests)
    })
}

/// What a request on which nothing can be decided teaches the baseline:
/// the parts of [`Assessment::lesson`] that `AppBaseline::record` reads for
/// this observation (the rate sample's when a minute ended, the endpoints'
/// when the client may teach them), computing every detector only when
/// the endpoints need it and the record is not [`quiet`](crate::detect::scoring::quiet).
pub fn early_lesson(
    state: &ClientState,
    obs: &Observation,
    baseline: &AppBaseline,
    now_ms: u64,
) -> crate::detect::baseline::Lesson {
    if obs.learn_endpoint && obs.template != 0 {
        if crate::detect::scoring::quiet(state, baseline) {
            return quiet_lesson(state, obs, baseline, now_ms);
        }
        return assess(state, baseline, now_ms).lesson();
    }
    crate::detect::baseline::Lesson {
        rate: obs.minute_sample == 0
            || crate::detect::assessment::rate_lesson(&crate::detect::request_rate::evaluate(
                state, baseline, now_ms,
            )),
        endpoints: false,
    }
}

/// [`early_lesson`] for a record that is [`quiet`](crate::detect::scoring::quiet):
/// what [`Assessment::lesson`] teaches, from the rate detector and, when
/// the endpoints are taught, the two detectors that may still make the
/// client not ordinary.
pub fn quiet_lesson(
    state: &ClientState,
    obs: &Observation,
    baseline: &AppBaseline,
    now_ms: u64,
) -> crate::detect::baseline::Lesson {
    crate::detect::baseline::Lesson {
        rate: obs.minute_sample == 0
            || crate::detect::assessment::rate_lesson(&crate::detect::request_rate::evaluate(
                state, baseline, now_ms,
            )),
        endpoints: obs.learn_endpoint
            && obs.template != 0
            && crate::detect::scoring::quiet_is_ordinary(state),
    }
}

/// Stage 3a': with `challenge_tolerance`, the detection at that lower
/// tolerance of a client the profile's own threshold did not detect (a
/// bot type challenged once in a session is not challenged again).
pub fn challenge_below(
    state: &ClientState,
    a: &Assessment,
    profile: &Profile,
) -> Option<Detection> {
    let t = profile.challenge.below?;
    let mask = profile.bot_types as u8 & !state.reported_mask(true);
    decide(a, t, mask)
}

/// Marks the detection as reported in the client's record (a second short
/// lock, taken only on a detection). False when the record already had it,
/// that is another worker reported the same client in the meantime.
pub fn claim(shared: &Shared, key: ClientKey, bot: BotType) -> bool {
    shared
        .clients
        .update(key, |state| state.mark_reported(bot))
        .unwrap_or(true)
}

/// After a listing failed (the list table full of live entries), re-arming
/// waits this long, so a full table costs one retry a minute per client
/// rather than an event per request.
pub const RELIST_RETRY_SECS: u64 = 60;

/// Unix seconds until which this worker does not re-arm (a listing failed).
static LIST_FULL_UNTIL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// [`claim`] for a monitor-only reaction (`monitoring`: the type is marked
/// monitored, so an enforcing profile may still list the client) or an
/// enforcing one.
pub fn claim_for(shared: &Shared, key: ClientKey, bot: BotType, monitoring: bool) -> bool {
    shared
        .clients
        .update(key, |state| {
            if monitoring {
                state.mark_monitored(bot)
            } else {
                state.mark_reported(bot)
            }
        })
        .unwrap_or(true)
}

/// Re-arms a client's reported types when it has no run-time list entry in
/// force: the entry expired, was removed, or was never made (the list table
/// was full), so a client that goes on is detected and listed again. Only
/// clients with a reported type pay for the lookup. True when re-armed.
pub fn rearm(shared: &Shared, key: ClientKey, state: &mut ClientState, now_s: u64) -> bool {
    let done = rearm_reported(shared, key, state.reported(), now_s);
    if done {
        state.rearm();
    }
    done
}

/// [`rearm`] for a record of which only the reported types are at hand.
fn rearm_reported(shared: &Shared, key: ClientKey, reported: u8, now_s: u64) -> bool {
    if reported == 0
        || now_s < LIST_FULL_UNTIL.load(std::sync::atomic::Ordering::Relaxed)
        || shared.listed(key, now_s as u32).is_some()
    {
        return false;
    }
    shared.clients.update(key, ClientState::rearm);
    true
}

fn count_detection(stats: &Stats, det: &Detection, a: &Assessment) {
    use std::sync::atomic::Ordering::Relaxed;
    if let Some(c) = stats.detections.get(det.bot_type.index()) {
        c.fetch_add(1, Relaxed);
    }
    for (i, fired) in fired_detectors(a).iter().enumerate() {
        if *fired {
            if let Some(c) = stats.detector_fired.get(i) {
                c.fetch_add(1, Relaxed);
            }
        }
    }
}

/// What the profile's reaction does to a detected client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listing {
    pub reaction: Reaction,
    /// The list entry to add (`None`: monitor, nothing listed).
    pub entry: Option<ListRecord>,
}

/// The list a reaction puts a client on (`None`: not listed).
pub fn list_kind(reaction: Reaction) -> Option<ListKind> {
    match reaction {
        Reaction::Denylist => Some(ListKind::Deny),
        Reaction::Graylist => Some(ListKind::Gray),
        Reaction::Challenge => Some(ListKind::Challenge),
        Reaction::Monitor => None,
    }
}

/// Stage 3b, pure: the listing policy. `monitor` (an `api_abuse monitor`
/// location) never lists; a repeat offender (`offences` earlier listings by
/// detection) is listed `2^offences` times the profile's duration, up to
/// [`MAX_REPEAT_SECS`] (or the profile's own duration if longer).
pub fn react(
    profile: &Profile,
    monitor: bool,
    offences: u32,
    det: &Detection,
    now_s: u64,
) -> Listing {
    react_with(profile.reaction, profile, monitor, offences, det, now_s)
}

/// [`react`] with another reaction than the profile's (a challenge below
/// its threshold, an escalation).
pub fn react_with(
    reaction: Reaction,
    profile: &Profile,
    monitor: bool,
    offences: u32,
    det: &Detection,
    now_s: u64,
) -> Listing {
    let reaction = if monitor { Reaction::Monitor } else { reaction };
    let entry = list_kind(reaction).map(|kind| {
        let secs = profile.duration.secs().map(|d| {
            let factor = 1u64 << offences.min(16);
            d.saturating_mul(factor).min(MAX_REPEAT_SECS.max(d))
        });
        let expires = secs.map_or(0, |s| {
            now_s.saturating_add(s).min(u64::from(u32::MAX)) as u32
        });
        ListRecord {
            kind: kind as u8,
            origin: ORIGIN_DETECTION,
            bot_type: det.bot_type.index() as u8 + 1,
            confidence: det.confidence_pct,
            offences: 0,
            created: now_s.min(u64::from(u32::MAX)) as u32,
            expires,
            stamp: 0,
        }
    });
    Listing { reaction, entry }
}

/// When the listing ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// Not listed (monitor).
    NotListed,
    /// Not listed: no room in the list table (or detection's share of it).
    TableFull,
    Forever,
    /// Unix seconds.
    At(u64),
    /// Not listed on its own: its range (key) is listed until then (Unix
    /// seconds, 0 = forever), just now or before.
    Range(ClientKey, u64),
}

/// Applies a listing to the zone (the lists table's own bucket lock).
pub fn list(shared: &Shared, key: ClientKey, listing: &Listing, now_s: u64) -> Expiry {
    let Some(entry) = listing.entry else {
        return Expiry::NotListed;
    };
    match shared.list_detected(key, now_s as u32, entry) {
        crate::shared::Listed::Client => {}
        crate::shared::Listed::Full => {
            LIST_FULL_UNTIL.store(
                now_s + RELIST_RETRY_SECS,
                std::sync::atomic::Ordering::Relaxed,
            );
            return Expiry::TableFull;
        }
        crate::shared::Listed::Range(r, e) => return Expiry::Range(r, u64::from(e.expires)),
    }
    if let Some(c) = shared
        .stats()
        .listed
        .get(usize::from(entry.bot_type.saturating_sub(1)))
    {
        c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    match entry.expires {
        0 => Expiry::Forever,
        t => Expiry::At(u64::from(t)),
    }
}

/// Everything the report stage says about one detection.
pub struct Report<'a> {
    pub client: IpAddr,
    pub app: &'a [u8],
    pub profile: &'a Profile,
    pub view: &'a RequestView<'a>,
    pub detection: Detection,
    pub assessment: &'a Assessment,
    pub reaction: Reaction,
    pub expires: Expiry,
}

/// Stage 4, no lock: the event line and the error-log line.
pub fn report(r: &Report<'_>, now_ms: u64) -> Outcome {
    let now_s = now_ms / 1000;
    let listed = match (list_kind(r.reaction), r.expires) {
        (None, _) => "not listed (monitor)".to_string(),
        (Some(_), Expiry::NotListed) => "not listed".to_string(),
        (Some(_), Expiry::TableFull) => "not listed: table full".to_string(),
        (Some(k), Expiry::Range(range, t)) => format!(
            "{} as range {}{}",
            listed_as(k),
            crate::shared::range_net(range).map_or_else(String::new, |n| n.to_string()),
            match t {
                0 => " forever".to_string(),
                t => format!(" for {}s", t.saturating_sub(now_s)),
            }
        ),
        (Some(k), Expiry::At(t)) => format!("{} for {}s", listed_as(k), t.saturating_sub(now_s)),
        (Some(k), Expiry::Forever) => format!("{} forever", listed_as(k)),
    };
    let summary = format!(
        "api_abuse: client {} detected as {} with {}% confidence by profile \"{}\", {listed}",
        r.client, r.detection.bot_type, r.detection.confidence_pct, r.profile.name
    );
    Outcome {
        bot: r.detection.bot_type,
        confidence: r.detection.confidence_pct,
        event: events::line(r, now_s),
        summary,
    }
}

/// After [`report`]: the event goes to the zone's recent-events ring (the
/// console) and the hourly detection counter.
pub fn publish(shared: &Shared, outcome: &Outcome, now_ms: u64) {
    shared.events().push(outcome.event.as_bytes());
    shared
        .timeline()
        .count(crate::timeline::HourCounter::Detection, now_ms / 1000);
}

fn listed_as(kind: ListKind) -> &'static str {
    match kind {
        ListKind::Deny => "denylisted",
        ListKind::Gray => "graylisted",
        ListKind::Allow => "allowlisted",
        ListKind::Challenge => "challenged",
    }
}

/// The detectors, in the order of the per-detector statistics.
pub const DETECTORS: [&str; 11] = [
    "request_interval",
    "request_uniqueness",
    "request_rate",
    "bad_user_agent",
    "outdated_browser",
    "suspicious_behaviour",
    "business_logic",
    "wide_scope",
    "response_codes",
    "enumeration",
    "attack_signs",
];

/// Which detectors fired, in [`DETECTORS`] order.
pub fn fired_detectors(a: &Assessment) -> [bool; 11] {
    let rc = &a.response_codes;
    [
        a.request_interval.fired(),
        a.request_uniqueness.fired(),
        a.request_rate.fired(),
        a.bad_user_agent.fired(),
        a.outdated_browser.fired(),
        a.suspicious_behaviour.fired(),
        a.business_logic.iter().any(|d| d.fired()),
        a.wide_scope.fired(),
        rc.auth_failures.fired() || rc.not_found.fired() || rc.denied.fired(),
        a.enumeration.fired(),
        a.attack_signs.fired(),
    ]
}

/// Requests this worker saw since the last [`flush_counts`]: a counter of
/// the worker's own, so that no cache line is written by every request of
/// every worker.
static PENDING_REQUESTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Counts one request of this worker (the zone's total follows within a
/// second, see [`flush_counts`]).
pub fn count_request() {
    PENDING_REQUESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Client records this worker created, and of them those that replaced an
/// evicted one, since the last [`flush_counts`]: the client table's
/// statistics in the zone header are one line that every new client of
/// every worker would otherwise write (and every request read).
static PENDING_INSERTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static PENDING_EVICTIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// This worker asked the zone whether "zone is full" was logged already
/// (one locked instruction on the header, once per worker, not per eviction).
static ASKED_FULL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Counts what the client table's upsert did, for [`flush_counts`].
fn count_upsert(shared: &Shared, done: crate::table::Upserted) {
    use std::sync::atomic::Ordering::Relaxed;
    let c = done.counts();
    if c.inserts == 0 {
        return;
    }
    PENDING_INSERTS.fetch_add(c.inserts, Relaxed);
    if c.evictions > 0 {
        PENDING_EVICTIONS.fetch_add(c.evictions, Relaxed);
        if !ASKED_FULL.swap(true, Relaxed) && shared.clients.warn_once_full() {
            note_full();
        }
    }
}

/// Adds this worker's counted requests and client-table inserts to the
/// zone's statistics (the worker's one-second timer, and at exit).
pub fn flush_counts(shared: &Shared) {
    use std::sync::atomic::Ordering::Relaxed;
    let n = PENDING_REQUESTS.swap(0, Relaxed);
    if n > 0 {
        shared.stats().requests.fetch_add(n, Relaxed);
    }
    // Evictions first: `evictions <= inserts` holds in what is added.
    let evictions = PENDING_EVICTIONS.swap(0, Relaxed);
    let inserts = PENDING_INSERTS.swap(0, Relaxed).max(evictions);
    shared
        .clients
        .add_counts(crate::table::Counts { inserts, evictions });
}

static FULL_NOTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Set once when the client table first evicts; the glue logs it.
fn note_full() {
    FULL_NOTED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// True once, after the client table first had to evict idle clients.
/// Every request asks: a plain load first, the swap (a locked instruction)
/// only when the note is set.
#[inline]
pub fn take_full_note() -> bool {
    FULL_NOTED.load(std::sync::atomic::Ordering::Relaxed)
        && FULL_NOTED.swap(false, std::sync::atomic::Ordering::Relaxed)
}

/// Debug builds only: lets the dead-worker test park a worker inside the
/// client's critical section (`api_abuse_test_park` directive + header).
#[cfg(debug_assertions)]
pub mod test_hooks {
    use std::cell::Cell;

    thread_local! {
        static PARK: Cell<bool> = const { Cell::new(false) };
    }

    /// Parks the next [`super::update`] of this thread inside its lock.
    pub fn park_next_update() {
        PARK.with(|p| p.set(true));
    }

    /// A park is pending for this thread's next update.
    pub(super) fn park_asked() -> bool {
        PARK.with(Cell::get)
    }

    pub(super) fn park_if_asked() {
        if PARK.with(|p| p.replace(false)) {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(3600));
            }
        }
    }
}

#[cfg(test)]
mod tests;
