//! Votes: from detector results to "this client is a bot of type T with
//! confidence C %".
//!
//! Each bot type weighs the detectors that matter for it ([`VOTES`]). The
//! confidence is the weight of the fired detectors over the weight of those
//! that worked (not "not enough data"). A tolerance level ([`TOLERANCE`])
//! then sets how much evidence is needed before acting:
//! - a minimum confidence;
//! - a minimum number of requests in the session;
//! - a minimum number of detectors that worked for this type;
//! - at least one *core* detector of the type fired (and every *required*
//!   one: BOLA needs denied answers, else a walk is scraping), and in total at least
//!   `min_fired` detectors fired (a strong core result, e.g. a dominant
//!   share of logins at twice the count, counts twice).
//!
//! The core rule is what keeps people safe: regular polling, repetitive
//! endpoints, library User-Agents or a fast pace never reach a verdict on
//! their own, because none of them is a core detector except for the traffic
//! spike, whose core is a burst far beyond the learned rate (the spike
//! bucket) and which the tolerance controls through the bucket level instead.

use super::assessment::Assessment;
use super::bad_user_agent::UaClass;
use super::baseline::AppBaseline;
use super::state::{ClientState, C};
use super::DetectorResult;
use crate::model::{BotType, SensitiveKind, Tolerance};

/// The facts detectors provide for votes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Interval,
    Uniqueness,
    Rate,
    /// The spike bucket (requests beyond three times the learned rate) at
    /// the tolerance's level.
    Spike,
    /// Any bad User-Agent (scanner, headless, crawler, missing).
    BadUa,
    ScannerUa,
    Outdated,
    Suspicious,
    /// Business logic on any of these kinds.
    Business(&'static [SensitiveKind]),
    WideScope,
    AuthFailures,
    NotFound,
    Denied,
    Enumeration,
    AttackSigns,
}

/// What a detector's vote means for a bot type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Must fire for the type to be decided.
    Required,
    /// One core (or required) detector must fire for the type to be decided.
    Core,
    /// Adds votes and evidence only.
    Support,
}

/// One detector's vote in one bot type.
#[derive(Clone, Copy, Debug)]
pub struct Vote {
    pub signal: Signal,
    pub weight: u8,
    pub role: Role,
}

const fn required(signal: Signal, weight: u8) -> Vote {
    Vote {
        signal,
        weight,
        role: Role::Required,
    }
}
const fn core(signal: Signal, weight: u8) -> Vote {
    Vote {
        signal,
        weight,
        role: Role::Core,
    }
}
const fn vote(signal: Signal, weight: u8) -> Vote {
    Vote {
        signal,
        weight,
        role: Role::Support,
    }
}

use Signal::*;
const AUTH: &[SensitiveKind] = &[SensitiveKind::Auth];
const SIGNUP: &[SensitiveKind] = &[SensitiveKind::Signup];
const FEEDBACK: &[SensitiveKind] = &[SensitiveKind::Feedback];
const SCALPING: &[SensitiveKind] = &[SensitiveKind::Checkout, SensitiveKind::Reserve];

/// The votes shared by the business-logic types (fake accounts, spam,
/// scalping): only the kinds differ.
macro_rules! business_votes {
    ($kinds:expr) => {
        [
            core(Business($kinds), 6),
            vote(Rate, 2),
            vote(Interval, 1),
            vote(Uniqueness, 1),
            vote(BadUa, 1),
            vote(Outdated, 1),
            vote(Suspicious, 1),
        ]
    };
}

/// The votes table (documented in docs/detection.md; keep both in step).
pub const VOTES: [(BotType, &[Vote]); 8] = [
    (
        BotType::TrafficSpike,
        &[
            core(Spike, 8),
            vote(Interval, 1),
            vote(Uniqueness, 1),
            vote(BadUa, 1),
            vote(Suspicious, 1),
        ],
    ),
    (
        BotType::CredentialStuffing,
        &[
            core(Business(AUTH), 4),
            core(AuthFailures, 4),
            vote(Rate, 2),
            vote(Interval, 1),
            vote(Uniqueness, 1),
            vote(BadUa, 1),
            vote(Outdated, 1),
            vote(Suspicious, 1),
        ],
    ),
    (BotType::FakeAccounts, &business_votes!(SIGNUP)),
    (BotType::Spam, &business_votes!(FEEDBACK)),
    (BotType::Scalping, &business_votes!(SCALPING)),
    (
        BotType::VulnerabilityScanning,
        &[
            core(AttackSigns, 4),
            core(ScannerUa, 4),
            core(NotFound, 3),
            vote(WideScope, 1),
            vote(Rate, 1),
            vote(Suspicious, 1),
        ],
    ),
    (
        BotType::Scraping,
        &[
            core(WideScope, 5),
            core(Enumeration, 3),
            vote(Rate, 2),
            vote(Interval, 1),
            vote(Uniqueness, 2),
            vote(BadUa, 1),
            vote(Outdated, 1),
            vote(Suspicious, 1),
        ],
    ),
    (
        BotType::Bola,
        &[
            core(Enumeration, 5),
            required(Denied, 3),
            vote(Rate, 1),
            vote(Interval, 1),
            vote(Uniqueness, 1),
            vote(BadUa, 1),
            vote(Suspicious, 1),
        ],
    ),
];

/// How much evidence a tolerance level wants.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ToleranceRule {
    pub min_confidence: u8,
    pub min_requests: u32,
    pub min_worked: u8,
    pub min_fired: u8,
    /// Spike-bucket level (excess requests) that makes a traffic spike.
    pub spike_excess: f32,
}

/// The tolerance table (documented in docs/detection.md).
pub const TOLERANCE: [(Tolerance, ToleranceRule); 3] = [
    (
        Tolerance::Low,
        ToleranceRule {
            min_confidence: 30,
            min_requests: 10,
            min_worked: 3,
            min_fired: 2,
            spike_excess: 10.0,
        },
    ),
    (
        Tolerance::Normal,
        ToleranceRule {
            min_confidence: 40,
            min_requests: 15,
            min_worked: 4,
            min_fired: 3,
            spike_excess: 15.0,
        },
    ),
    (
        Tolerance::High,
        ToleranceRule {
            min_confidence: 55,
            min_requests: 40,
            min_worked: 5,
            min_fired: 4,
            spike_excess: 30.0,
        },
    ),
];

pub fn rule(t: Tolerance) -> ToleranceRule {
    // The table lists the tolerances in their declared order (checked
    // below): an index, not a search (the request path asks every time).
    TOLERANCE[t as usize].1
}

const _: () = assert!(
    TOLERANCE.len() == 3
        && Tolerance::COUNT == 3
        && matches!(TOLERANCE[0].0, Tolerance::Low)
        && matches!(TOLERANCE[1].0, Tolerance::Normal)
        && matches!(TOLERANCE[2].0, Tolerance::High)
        && Tolerance::Low as usize == 0
        && Tolerance::Normal as usize == 1
        && Tolerance::High as usize == 2
);

/// One bot type's tally for one assessment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Score {
    pub bot_type: BotType,
    pub confidence_pct: u8,
    /// Detectors that worked / fired (strong core results count twice).
    pub worked: u8,
    pub fired: u8,
    /// A core or required detector fired, and every required one did.
    pub core_fired: bool,
}

/// A decision: this client is a bot of this type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Detection {
    pub bot_type: BotType,
    pub confidence_pct: u8,
}

pub fn votes(bot: BotType) -> &'static [Vote] {
    BY_BOT.get(bot.index()).map_or(&[], |(v, _)| *v)
}

pub fn score(a: &Assessment, bot: BotType, tolerance: Tolerance) -> Score {
    score_with(&Signals::new(a, &rule(tolerance)), bot)
}

fn score_with(signals: &Signals, bot: BotType) -> Score {
    let (mut gained, mut possible) = (0u32, 0u32);
    let (mut worked, mut fired, mut core_fired, mut required_missed) = (0u8, 0u8, false, false);
    for v in votes(bot) {
        let (w, f, strong) = signals.get(v.signal);
        required_missed |= v.role == Role::Required && !f;
        if !w {
            continue;
        }
        worked += 1;
        possible += u32::from(v.weight);
        if f {
            gained += u32::from(v.weight);
            fired += if strong { 2 } else { 1 };
            core_fired |= v.role != Role::Support;
        }
    }
    let core_fired = core_fired && !required_missed;
    let confidence_pct = (gained * 100).checked_div(possible).unwrap_or(0).min(100) as u8;
    Score {
        bot_type: bot,
        confidence_pct,
        worked,
        fired,
        core_fired,
    }
}

/// The bot type to act on, if any: among the types in `bot_types_mask` (bit
/// = `BotType::index`) not yet reported for this client, those with enough
/// evidence under `tolerance`; the most confident wins, a traffic spike only
/// when no other type qualifies.
pub fn decide(a: &Assessment, tolerance: Tolerance, bot_types_mask: u8) -> Option<Detection> {
    let r = rule(tolerance);
    if a.requests < r.min_requests {
        return None;
    }
    let signals = Signals::new(a, &r);
    let mut best: Option<Detection> = None;
    // The most confident type whose core fired, with enough evidence or not:
    // it names a client acted on as a traffic spike (a fast scanner is a
    // scanner first, for the events, metrics and `$api_abuse_bot_type`).
    let mut named: Option<Detection> = None;
    for bot in BotType::ALL {
        let bit = 1u8 << bot.index();
        if bot_types_mask & bit == 0 || a.reported & bit != 0 {
            continue;
        }
        // Most clients have no core evidence at all: skip the tally.
        if signals.fired & BY_BOT[bot.index()].1 == 0 {
            continue;
        }
        let s = score_with(&signals, *bot);
        let alone = *bot == BotType::TrafficSpike;
        let enough = s.core_fired
            && s.confidence_pct >= r.min_confidence
            && (alone || (s.worked >= r.min_worked && s.fired >= r.min_fired));
        // A traffic spike is the catch-all for fast clients: a type with a
        // specific core (a fast login or sign-up bot) names the client first.
        let rank = |d: &Detection| (d.bot_type != BotType::TrafficSpike, d.confidence_pct);
        let this = Detection {
            bot_type: *bot,
            confidence_pct: s.confidence_pct,
        };
        if enough && best.is_none_or(|b| rank(&this) > rank(&b)) {
            best = Some(this);
        }
        if !alone && s.core_fired && named.is_none_or(|n| this.confidence_pct > n.confidence_pct) {
            named = Some(this);
        }
    }
    match (best, named) {
        (Some(b), Some(n)) if b.bot_type == BotType::TrafficSpike => Some(n),
        _ => best,
    }
}

/// The signals [`quiet`] evaluates: every core and required signal of
/// every bot type (what [`decide`] needs one of before it acts), and
/// business logic on every kind (what [`Assessment::is_ordinary`] reads
/// besides the bad User-Agent and the suspicious behaviour).
const QUIET_SIGNALS: u32 = mask(Spike)
    | mask(ScannerUa)
    | mask(WideScope)
    | mask(AuthFailures)
    | mask(NotFound)
    | mask(Denied)
    | mask(Enumeration)
    | mask(AttackSigns)
    | (((1u32 << SensitiveKind::COUNT) - 1) << PLAIN.len());

/// Every core and required signal, over all bot types.
const CORE_SIGNALS: u32 = {
    let (mut m, mut i) = (0u32, 0);
    while i < BY_BOT.len() {
        m |= BY_BOT[i].1;
        i += 1;
    }
    m
};
const _: () = assert!(CORE_SIGNALS & !QUIET_SIGNALS == 0);

/// The lowest spike-bucket level of any tolerance.
const LOWEST_SPIKE_LEVEL: f32 = {
    let (mut l, mut i) = (f32::MAX, 0);
    while i < TOLERANCE.len() {
        if TOLERANCE[i].1.spike_excess < l {
            l = TOLERANCE[i].1.spike_excess;
        }
        i += 1;
    }
    l
};

/// True when no signal of [`QUIET_SIGNALS`] fires for the record, at any
/// tolerance: then [`decide`] answers `None` for every tolerance and mask
/// (no bot type has a core signal), and the assessment's lesson depends on
/// the bad User-Agent and suspicious behaviour results alone (see
/// [`quiet_is_ordinary`]). It runs the core detectors only, on the record
/// as [`assess`](super::assess) would: the request path skips the other
/// detectors, the assessment and the vote for a client with nothing
/// against it, which is most requests of most clients past the minimum.
pub fn quiet(s: &ClientState, baseline: &AppBaseline) -> bool {
    use super::{
        attack_signs, business_logic, enumeration, request_rate, response_codes, wide_scope,
    };
    // As `Signals::new`: the spike fires with the rate detector working
    // (enough requests) and the bucket at the tolerance's level.
    if s.requests() >= request_rate::MIN_REQUESTS && s.spike_excess >= LOWEST_SPIKE_LEVEL {
        return false;
    }
    if s.ua_class() == UaClass::Scanner {
        return false;
    }
    // A kind with less than half a request has no data (`evaluate`'s own
    // first test), so most records skip the six evaluations.
    if s.c[C::Kinds as usize..C::Kinds as usize + SensitiveKind::COUNT]
        .iter()
        .any(|&n| n >= 0.5)
        && SensitiveKind::ALL
            .iter()
            .any(|k| business_logic::evaluate(s, *k).0.fired())
    {
        return false;
    }
    // Each `may_fire` is a necessary condition of its detector firing,
    // without the ratios: most records stop there.
    let codes = || {
        let rc = response_codes::evaluate(s);
        rc.auth_failures.fired() || rc.not_found.fired() || rc.denied.fired()
    };
    !((response_codes::may_fire(s) && codes())
        || attack_signs::evaluate(s).fired()
        || (enumeration::may_fire(s) && enumeration::evaluate(s).fired())
        || (wide_scope::may_fire(s) && wide_scope::evaluate(s, baseline).fired()))
}

/// [`Assessment::is_ordinary`] for a record that is [`quiet`].
pub fn quiet_is_ordinary(s: &ClientState) -> bool {
    !(super::bad_user_agent::evaluate(s.ua_class(), s.requests()).fired()
        || super::suspicious_behaviour::evaluate(s).fired())
}

/// Every signal's worked, fired and strong bits (bit [`slot`] for the plain
/// signals, `PLAIN.len() + kind` for business logic), evaluated once per
/// decision and shared by all bot types: a vote reads its signal with one
/// mask, and "did any core detector of this type fire" is one AND.
struct Signals {
    worked: u32,
    fired: u32,
    strong: u32,
}

/// The signals other than business logic, in table order.
const PLAIN: [Signal; 14] = [
    Interval,
    Uniqueness,
    Rate,
    Spike,
    BadUa,
    ScannerUa,
    Outdated,
    Suspicious,
    WideScope,
    AuthFailures,
    NotFound,
    Denied,
    Enumeration,
    AttackSigns,
];
const _: () = assert!(PLAIN.len() + SensitiveKind::COUNT <= 32);

impl Signals {
    fn new(a: &Assessment, r: &ToleranceRule) -> Signals {
        let mut sig = Signals {
            worked: 0,
            fired: 0,
            strong: 0,
        };
        let mut set = |s: Signal, (w, f, st): (bool, bool, bool)| {
            let m = mask(s);
            sig.worked |= if w { m } else { 0 };
            sig.fired |= if f { m } else { 0 };
            sig.strong |= if st { m } else { 0 };
        };
        let plain = |d: &DetectorResult| (d.worked(), d.fired(), false);
        set(Interval, plain(&a.request_interval));
        set(Uniqueness, plain(&a.request_uniqueness));
        set(Rate, plain(&a.request_rate));
        let rate_worked = a.request_rate.worked();
        set(
            Spike,
            (
                rate_worked,
                rate_worked && a.spike_excess >= r.spike_excess,
                false,
            ),
        );
        set(BadUa, plain(&a.bad_user_agent));
        set(
            ScannerUa,
            (
                a.bad_user_agent.worked(),
                a.ua_class == UaClass::Scanner,
                false,
            ),
        );
        set(Outdated, plain(&a.outdated_browser));
        set(Suspicious, plain(&a.suspicious_behaviour));
        let d = &a.wide_scope;
        set(WideScope, (d.worked(), d.fired(), a.wide_scope_strong));
        let d = &a.response_codes.auth_failures;
        set(
            AuthFailures,
            (d.worked(), d.fired(), a.auth_failures_strong),
        );
        set(NotFound, plain(&a.response_codes.not_found));
        set(Denied, plain(&a.response_codes.denied));
        let d = &a.enumeration;
        set(
            Enumeration,
            (d.worked(), d.fired(), super::enumeration::is_strong(d)),
        );
        set(AttackSigns, plain(&a.attack_signs));
        for k in SensitiveKind::ALL {
            let d = a.business(*k);
            let m = 1u32 << (PLAIN.len() + k.index());
            sig.worked |= if d.worked() { m } else { 0 };
            sig.fired |= if d.fired() { m } else { 0 };
            sig.strong |= if a.business_strong & (1 << k.index()) != 0 {
                m
            } else {
                0
            };
        }
        sig
    }

    /// (worked, fired, strong); business logic on several kinds: any of them.
    fn get(&self, s: Signal) -> (bool, bool, bool) {
        let m = mask(s);
        (
            self.worked & m != 0,
            self.fired & m != 0,
            self.strong & m != 0,
        )
    }
}

/// Index of a signal in [`PLAIN`].
const fn slot(s: Signal) -> usize {
    match s {
        Interval => 0,
        Uniqueness => 1,
        Rate => 2,
        Spike => 3,
        BadUa => 4,
        ScannerUa => 5,
        Outdated => 6,
        Suspicious => 7,
        WideScope => 8,
        AuthFailures => 9,
        NotFound => 10,
        Denied => 11,
        Enumeration => 12,
        AttackSigns => 13,
        Business(_) => usize::MAX,
    }
}

/// The bits of a signal in [`Signals`].
const fn mask(s: Signal) -> u32 {
    match s {
        Business(kinds) => {
            let (mut m, mut i) = (0u32, 0);
            while i < kinds.len() {
                m |= 1 << (PLAIN.len() + kinds[i].index());
                i += 1;
            }
            m
        }
        s => 1 << slot(s),
    }
}

/// Per bot type (by `BotType::index`): its votes, and the bits of its core
/// and required signals.
const BY_BOT: [(&[Vote], u32); BotType::COUNT] = {
    let mut t: [(&[Vote], u32); BotType::COUNT] = [(&[], 0); BotType::COUNT];
    let mut i = 0;
    while i < VOTES.len() {
        let (bot, votes) = VOTES[i];
        let (mut core, mut j) = (0u32, 0);
        while j < votes.len() {
            if !matches!(votes[j].role, Role::Support) {
                core |= mask(votes[j].signal);
            }
            j += 1;
        }
        t[bot.index()] = (votes, core);
        i += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fast_scanner_is_named_a_scanner() {
        use crate::detect::{assess, AppBaseline, ClientState};
        use crate::model::AttackClass;
        use crate::request::RequestView;
        // sqlmap: its own UA, injection payloads in every third request, answered
        // 200, 10 ms apart: fast enough to be a traffic spike first.
        let b = AppBaseline::boxed();
        let mut s = ClientState::ZERO;
        let t0 = 90_000_000;
        let mut decided = None;
        for i in 0..60u64 {
            let v = RequestView {
                method: b"GET",
                path: b"/search",
                query: b"q=test",
                user_agent: Some(b"sqlmap/1.7.2#stable (https://sqlmap.org)"),
                status: 200,
                attack: (i % 3 == 0).then_some(AttackClass::Sqli),
                ..Default::default()
            };
            s.observe(&v, None, &b, t0 + i * 10);
            let a = assess(&s, &b, t0 + i * 10);
            if let Some(d) = decide(&a, Tolerance::Normal, 0xff) {
                decided = Some(d);
                break;
            }
        }
        let d = decided.expect("detected");
        assert_eq!(d.bot_type, BotType::VulnerabilityScanning, "{d:?}");
    }

    /// The signal rules as first written (one tuple per signal, business
    /// logic folded over its kinds): the specification of the bitmasks.
    fn reference(a: &Assessment, s: Signal, r: &ToleranceRule) -> (bool, bool, bool) {
        let plain = |d: &DetectorResult| (d.worked(), d.fired(), false);
        match s {
            Interval => plain(&a.request_interval),
            Uniqueness => plain(&a.request_uniqueness),
            Rate => plain(&a.request_rate),
            Spike => (
                a.request_rate.worked(),
                a.request_rate.worked() && a.spike_excess >= r.spike_excess,
                false,
            ),
            BadUa => plain(&a.bad_user_agent),
            ScannerUa => (
                a.bad_user_agent.worked(),
                a.ua_class == UaClass::Scanner,
                false,
            ),
            Outdated => plain(&a.outdated_browser),
            Suspicious => plain(&a.suspicious_behaviour),
            Business(ks) => ks.iter().fold((false, false, false), |acc, k| {
                let d = a.business(*k);
                let strong = a.business_strong & (1 << k.index()) != 0;
                (acc.0 || d.worked(), acc.1 || d.fired(), acc.2 || strong)
            }),
            WideScope => (
                a.wide_scope.worked(),
                a.wide_scope.fired(),
                a.wide_scope_strong,
            ),
            AuthFailures => {
                let d = &a.response_codes.auth_failures;
                (d.worked(), d.fired(), a.auth_failures_strong)
            }
            NotFound => plain(&a.response_codes.not_found),
            Denied => plain(&a.response_codes.denied),
            Enumeration => {
                let d = &a.enumeration;
                (
                    d.worked(),
                    d.fired(),
                    super::super::enumeration::is_strong(d),
                )
            }
            AttackSigns => plain(&a.attack_signs),
        }
    }

    #[test]
    fn signal_masks_match_the_rules() {
        use crate::detect::{assess, AppBaseline, ClientState, Verdict};
        let b = AppBaseline::boxed();
        let zero = assess(&ClientState::ZERO, &b, 0);
        let mut seed_rng = crate::testing::XorShift64::new(0x9e37_79b9_7f4a_7c15);
        let mut next = move || seed_rng.next_u64();
        let result = |n: u64| DetectorResult {
            verdict: [Verdict::Fired, Verdict::NotFired, Verdict::NotEnoughData][(n % 3) as usize],
            figure: (n >> 8) as f32 % 50.0,
            threshold: 10.0,
        };
        for _ in 0..20_000 {
            let mut a = zero;
            a.request_interval = result(next());
            a.request_uniqueness = result(next());
            a.request_rate = result(next());
            a.spike_excess = (next() % 40) as f32;
            a.bad_user_agent = result(next());
            a.ua_class = UaClass::from_u8((next() % 8) as u8);
            a.outdated_browser = result(next());
            a.suspicious_behaviour = result(next());
            for d in a.business_logic.iter_mut() {
                *d = result(next());
            }
            a.business_strong = next() as u8;
            a.wide_scope = result(next());
            a.wide_scope_strong = next() % 2 == 0;
            a.response_codes.auth_failures = result(next());
            a.response_codes.not_found = result(next());
            a.response_codes.denied = result(next());
            a.auth_failures_strong = next() % 2 == 0;
            a.enumeration = result(next());
            a.attack_signs = result(next());
            for t in Tolerance::ALL {
                let r = rule(*t);
                let sig = Signals::new(&a, &r);
                for (bot, votes) in VOTES {
                    for v in votes {
                        assert_eq!(
                            sig.get(v.signal),
                            reference(&a, v.signal, &r),
                            "{:?}",
                            v.signal
                        );
                    }
                    let core = votes
                        .iter()
                        .any(|v| v.role != Role::Support && reference(&a, v.signal, &r).1);
                    assert_eq!(sig.fired & BY_BOT[bot.index()].1 != 0, core, "{bot}");
                }
            }
        }
    }

    #[test]
    fn signal_slots_match_the_table() {
        for (i, s) in PLAIN.iter().enumerate() {
            assert_eq!(slot(*s), i);
        }
    }

    #[test]
    fn every_bot_type_has_votes_and_a_core() {
        for bot in BotType::ALL {
            let v = votes(*bot);
            assert!(!v.is_empty(), "{bot}");
            assert!(v.iter().any(|x| x.role != Role::Support), "{bot}");
        }
        for t in Tolerance::ALL {
            assert_eq!(TOLERANCE.iter().filter(|(k, _)| k == t).count(), 1);
        }
        let (low, normal, high) = (
            rule(Tolerance::Low),
            rule(Tolerance::Normal),
            rule(Tolerance::High),
        );
        assert!(
            low.min_confidence < normal.min_confidence
                && normal.min_confidence < high.min_confidence
        );
        assert!(low.min_fired < normal.min_fired && normal.min_fired < high.min_fired);
        assert!(low.spike_excess < normal.spike_excess && normal.spike_excess < high.spike_excess);
    }

    #[test]
    fn may_fire_is_necessary_for_firing() {
        use crate::detect::{enumeration, response_codes, wide_scope, AppBaseline, ClientState};
        // Random records around every minimum: a detector that fires
        // must have said it may.
        let mut rng_rng = crate::testing::XorShift64::new(0x2545_f491_4f6c_dd1d);
        let mut next = |range: f32| (rng_rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32 * range;
        let b = AppBaseline::boxed();
        let mut fired = [0u32; 3];
        for _ in 0..200_000 {
            let mut s = ClientState::ZERO;
            s.requests = next(40.0) as u32;
            s.epoch_requests = next(60.0) as u16;
            s.ua_seen = (next(1.0) * u32::MAX as f32) as u32;
            for v in s.c.iter_mut() {
                *v = next(40.0);
            }
            s.c[C::Total as usize] = next(60.0);
            let rc = response_codes::evaluate(&s);
            if rc.auth_failures.fired() || rc.not_found.fired() || rc.denied.fired() {
                assert!(response_codes::may_fire(&s), "{s:?}");
                fired[0] += 1;
            }
            if enumeration::evaluate(&s).fired() {
                assert!(enumeration::may_fire(&s), "{s:?}");
                fired[1] += 1;
            }
            if wide_scope::evaluate(&s, &b).fired() {
                assert!(wide_scope::may_fire(&s), "{s:?}");
                fired[2] += 1;
            }
        }
        // The records did reach every detector's firing side.
        assert!(fired.iter().all(|&n| n > 1000), "{fired:?}");
    }
}
