//! One client's assessment: every detector's result at one moment, computed
//! from the client's record and the application's baseline (its JSON form
//! for the events file is in `engine::events`).

use super::bad_user_agent::{self, UaClass};
use super::baseline::{AppBaseline, Lesson};
use super::response_codes::{self, ResponseCodes};
use super::state::{ClientState, C};
use super::DetectorResult;
use super::{
    attack_signs, business_logic, enumeration, outdated_browser, request_interval, request_rate,
    request_uniqueness, suspicious_behaviour, wide_scope,
};
use crate::model::SensitiveKind;

const KINDS: usize = 6;
const _: () = assert!(SensitiveKind::ALL.len() == KINDS);

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Assessment {
    /// Requests in the client's current session.
    pub requests: u32,
    /// Estimated people behind the address (1 for most clients).
    pub people: f32,
    pub request_interval: DetectorResult,
    pub request_uniqueness: DetectorResult,
    pub request_rate: DetectorResult,
    /// Requests beyond three times the learned rate (the spike bucket).
    pub spike_excess: f32,
    pub bad_user_agent: DetectorResult,
    /// The worst User-Agent class of the session.
    pub ua_class: UaClass,
    pub outdated_browser: DetectorResult,
    pub suspicious_behaviour: DetectorResult,
    /// Per sensitive kind, in [`SensitiveKind::ALL`] order.
    pub business_logic: [DetectorResult; KINDS],
    pub business_share: [f32; KINDS],
    /// Bit per kind whose result is strong.
    pub business_strong: u8,
    pub wide_scope: DetectorResult,
    pub wide_scope_strong: bool,
    pub response_codes: ResponseCodes,
    pub auth_failures_strong: bool,
    pub enumeration: DetectorResult,
    pub attack_signs: DetectorResult,
    /// Bit per [`AttackClass`] seen in the session.
    pub attack_classes: u16,
    /// Bit per [`BotType`] already reported in the session.
    pub reported: u8,
}

/// Runs every detector on one client. O(1), no allocation.
pub fn assess(s: &ClientState, baseline: &AppBaseline, now_ms: u64) -> Assessment {
    let mut business_logic = [DetectorResult::no_data(0.0); KINDS];
    let mut business_share = [0.0; KINDS];
    let mut business_strong = 0u8;
    for (i, kind) in SensitiveKind::ALL.iter().enumerate().take(KINDS) {
        let (r, share) = business_logic::evaluate(s, *kind);
        if business_logic::is_strong(&r, share) {
            business_strong |= 1 << i;
        }
        business_logic[i] = r;
        business_share[i] = share;
    }
    let response_codes = response_codes::evaluate(s);
    let wide = wide_scope::evaluate(s, baseline);
    Assessment {
        requests: s.requests(),
        people: s.people(),
        request_interval: request_interval::evaluate(s),
        request_uniqueness: request_uniqueness::evaluate(s),
        request_rate: request_rate::evaluate(s, baseline, now_ms),
        spike_excess: s.spike_excess,
        bad_user_agent: bad_user_agent::evaluate(s.ua_class(), s.requests()),
        ua_class: s.ua_class(),
        outdated_browser: outdated_browser::evaluate(
            s.count(C::BrowserReqs),
            s.count(C::OutdatedReqs),
        ),
        suspicious_behaviour: suspicious_behaviour::evaluate(s),
        business_logic,
        business_share,
        business_strong,
        wide_scope: wide,
        wide_scope_strong: wide_scope::is_strong(s, &wide),
        auth_failures_strong: response_codes::auth_failures_strong(
            s,
            &response_codes.auth_failures,
        ),
        response_codes,
        enumeration: enumeration::evaluate(s),
        attack_signs: attack_signs::evaluate(s),
        attack_classes: s.attack_classes,
        reported: s.reported,
    }
}

/// [`Lesson::rate`] from the `request_rate` detector's result: a rate
/// sample unless the client is far above the threshold.
pub fn rate_lesson(rate: &DetectorResult) -> bool {
    !(rate.worked() && rate.figure >= AppBaseline::UNTEACHABLE_RATE * rate.threshold)
}

impl Assessment {
    /// No detector that is a bot type's core, nor the header/transition
    /// model, fired: the client may teach the baseline its endpoints.
    pub fn is_ordinary(&self) -> bool {
        let rc = &self.response_codes;
        !(self.business_logic.iter().any(DetectorResult::fired)
            || rc.auth_failures.fired()
            || rc.not_found.fired()
            || rc.denied.fired()
            || self.enumeration.fired()
            || self.wide_scope.fired()
            || self.attack_signs.fired()
            || self.bad_user_agent.fired()
            || self.suspicious_behaviour.fired())
    }

    /// What the request just assessed may teach the baseline: a rate sample
    /// unless the client is far above the threshold, endpoints only when the
    /// client is ordinary.
    pub fn lesson(&self) -> Lesson {
        Lesson {
            rate: rate_lesson(&self.request_rate),
            endpoints: self.is_ordinary(),
        }
    }

    /// The business-logic result for one kind.
    pub fn business(&self, kind: SensitiveKind) -> DetectorResult {
        self.business_logic
            .get(kind.index())
            .copied()
            .unwrap_or(DetectorResult::no_data(0.0))
    }

    /// The kind whose business-logic result stands out most (fired first,
    /// then the highest figure against its threshold).
    pub fn main_business_kind(&self) -> Option<SensitiveKind> {
        let rank = |r: &DetectorResult| (r.fired(), r.figure / r.threshold.max(1e-6));
        SensitiveKind::ALL
            .iter()
            .copied()
            .filter(|k| self.business(*k).worked())
            .max_by(|a, b| {
                let (ra, rb) = (rank(&self.business(*a)), rank(&self.business(*b)));
                ra.0.cmp(&rb.0).then(ra.1.total_cmp(&rb.1))
            })
    }
}
