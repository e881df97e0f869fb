//! One client's assessment: every detector's result at one moment, computed
//! from the client's record and the application's baseline, plus its JSON
//! form for the events file.

use std::fmt::Write as _;

use super::bad_user_agent::{self, UaClass};
use super::response_codes::{self, ResponseCodes};
use super::state::{ClientState, C};
use super::{
    attack_signs, business_logic, enumeration, outdated_browser, request_interval, request_rate,
    request_uniqueness, suspicious_behaviour, wide_scope,
};
use super::{baseline::AppBaseline, scoring, DetectorResult, Verdict};
use crate::model::{AttackClass, BotType, SensitiveKind, Tolerance};

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

impl Assessment {
    /// An assessment with no data at all (for tests of other parts).
    #[cfg(test)]
    pub(crate) fn blank() -> Assessment {
        let none = DetectorResult::no_data(0.0);
        Assessment {
            requests: 0,
            people: 1.0,
            request_interval: none,
            request_uniqueness: none,
            request_rate: none,
            spike_excess: 0.0,
            bad_user_agent: none,
            ua_class: UaClass::Browser,
            outdated_browser: none,
            suspicious_behaviour: none,
            business_logic: [none; KINDS],
            business_share: [0.0; KINDS],
            business_strong: 0,
            wide_scope: none,
            wide_scope_strong: false,
            response_codes: ResponseCodes {
                auth_failures: none,
                not_found: none,
                denied: none,
            },
            auth_failures_strong: false,
            enumeration: none,
            attack_signs: none,
            attack_classes: 0,
            reported: 0,
        }
    }

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

    /// Appends the assessment as one JSON object: every detector with its
    /// verdict, figure and threshold, and each bot type's confidence under
    /// `tolerance`. Allocation-light (events are rare); non-finite figures
    /// are written as 0.
    pub fn write_json(&self, tolerance: Tolerance, out: &mut String) {
        out.push_str("{\"requests\":");
        let _ = write!(out, "{}", self.requests);
        out.push_str(",\"people\":");
        num(out, self.people);
        out.push_str(",\"detectors\":{");
        field(out, "request_interval", &self.request_interval, |_| {});
        out.push(',');
        field(out, "request_uniqueness", &self.request_uniqueness, |_| {});
        out.push(',');
        field(out, "request_rate", &self.request_rate, |o| {
            o.push_str(",\"spike_excess\":");
            num(o, self.spike_excess);
        });
        out.push(',');
        field(out, "bad_user_agent", &self.bad_user_agent, |o| {
            o.push_str(",\"class\":\"");
            o.push_str(self.ua_class.as_str());
            o.push('"');
        });
        out.push(',');
        field(out, "outdated_browser", &self.outdated_browser, |_| {});
        out.push(',');
        field(
            out,
            "suspicious_behaviour",
            &self.suspicious_behaviour,
            |_| {},
        );
        out.push(',');
        self.write_business(out);
        out.push(',');
        field(out, "wide_scope", &self.wide_scope, |_| {});
        out.push(',');
        self.write_response_codes(out);
        out.push(',');
        field(out, "enumeration", &self.enumeration, |_| {});
        out.push(',');
        field(out, "attack_signs", &self.attack_signs, |o| {
            o.push_str(",\"classes\":[");
            let mut first = true;
            for a in AttackClass::ALL {
                if self.attack_classes & (1u16 << a.index()) != 0 {
                    if !first {
                        o.push(',');
                    }
                    first = false;
                    o.push('"');
                    o.push_str(a.as_str());
                    o.push('"');
                }
            }
            o.push(']');
        });
        out.push_str("},\"confidence\":{");
        for (i, bot) in BotType::ALL.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "\"{}\":{}",
                bot.as_str(),
                scoring::score(self, *bot, tolerance).confidence_pct
            );
        }
        out.push_str("}}");
    }

    fn write_business(&self, out: &mut String) {
        let main = self.main_business_kind();
        let top = main.map_or(DetectorResult::no_data(0.0), |k| self.business(k));
        field(out, "business_logic", &top, |o| {
            if let Some(k) = main {
                o.push_str(",\"kind\":\"");
                o.push_str(k.as_str());
                o.push_str("\",\"share\":");
                num(
                    o,
                    self.business_share.get(k.index()).copied().unwrap_or(0.0),
                );
            }
            o.push_str(",\"kinds\":{");
            let mut first = true;
            for k in SensitiveKind::ALL {
                let r = self.business(*k);
                if !r.worked() {
                    continue;
                }
                if !first {
                    o.push(',');
                }
                first = false;
                field(o, k.as_str(), &r, |_| {});
            }
            o.push('}');
        });
    }

    fn write_response_codes(&self, out: &mut String) {
        let rc = &self.response_codes;
        let subs = [
            ("auth_failures", &rc.auth_failures),
            ("not_found", &rc.not_found),
            ("denied", &rc.denied),
        ];
        let top = subs
            .iter()
            .map(|(_, r)| **r)
            .filter(DetectorResult::worked)
            .max_by(|a, b| {
                let ra = (a.fired(), a.figure / a.threshold.max(1e-6));
                let rb = (b.fired(), b.figure / b.threshold.max(1e-6));
                ra.0.cmp(&rb.0).then(ra.1.total_cmp(&rb.1))
            })
            .unwrap_or(rc.auth_failures);
        field(out, "response_codes", &top, |o| {
            for (name, r) in subs {
                o.push(',');
                field(o, name, r, |_| {});
            }
        });
    }
}

/// `"name":{"verdict":..,"figure":..,"threshold":..<extra>}`
fn field(out: &mut String, name: &str, r: &DetectorResult, extra: impl FnOnce(&mut String)) {
    out.push('"');
    out.push_str(name);
    out.push_str("\":{\"verdict\":\"");
    out.push_str(r.verdict.as_str());
    out.push('"');
    if r.verdict != Verdict::NotEnoughData {
        out.push_str(",\"figure\":");
        num(out, r.figure);
    }
    out.push_str(",\"threshold\":");
    num(out, r.threshold);
    extra(out);
    out.push('}');
}

fn num(out: &mut String, v: f32) {
    if !v.is_finite() {
        out.push('0');
    } else if v == v.trunc() && v.abs() < 1e9 {
        let _ = write!(out, "{}", v as i64);
    } else {
        let _ = write!(out, "{:.3}", v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::RequestView;

    #[test]
    fn json_is_valid_and_complete() {
        let b = AppBaseline::boxed();
        let mut s = ClientState::ZERO;
        for i in 0..20u64 {
            let v = RequestView {
                method: b"POST",
                path: b"/login",
                user_agent: Some(b"sqlmap/1.7"),
                status: 401,
                attack: Some(AttackClass::Sqli),
                ..Default::default()
            };
            s.observe(&v, Some(SensitiveKind::Auth), &b, 1_000_000 + i * 500);
        }
        let a = assess(&s, &b, 1_010_000);
        let mut out = String::new();
        a.write_json(Tolerance::Normal, &mut out);
        let v: serde_json::Value = match serde_json::from_str(&out) {
            Ok(v) => v,
            Err(e) => panic!("{e}: {out}"),
        };
        let d = &v["detectors"];
        assert_eq!(d["bad_user_agent"]["class"], "scanner");
        assert_eq!(d["business_logic"]["kind"], "auth");
        assert_eq!(d["business_logic"]["verdict"], "fired");
        assert_eq!(d["response_codes"]["auth_failures"]["verdict"], "fired");
        assert_eq!(d["attack_signs"]["classes"][0], "sqli");
        assert_eq!(d.as_object().map(|o| o.len()), Some(11));
        assert!(v["confidence"]["credential_stuffing"].as_u64().unwrap_or(0) > 50);
    }
}
