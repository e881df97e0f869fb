//! The events file: one JSON line per detection, built with `serde` after
//! every lock is released. Fields: time, client, application, profile, bot
//! type, confidence, tolerance, reaction, expiry, the request, and the
//! assessment (every detector with its verdict, figure and threshold, and each
//! bot type's confidence). Figures are rounded to three decimals; whole
//! numbers are written as integers.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::{list_kind, Expiry, Report};
use crate::detect::response_codes::ResponseCodes;
use crate::detect::{scoring, Assessment, DetectorResult, Verdict};
use crate::model::{AttackClass, BotType, SensitiveKind, Tolerance};

/// Bytes of the request path written to an event.
pub const MAX_EVENT_PATH: usize = 256;

#[derive(Serialize)]
struct Event<'a> {
    time: String,
    client: String,
    application: String,
    profile: &'a str,
    bot_type: &'static str,
    confidence: u8,
    tolerance: &'static str,
    reaction: &'static str,
    /// `null` when not listed, `"forever"`, or an RFC 3339 time.
    expires: Option<String>,
    /// What was listed: "client", "range 203.0.113.0/24", or "not listed:
    /// monitor" / "not listed: table full".
    listing: String,
    request: Request,
    assessment: AssessmentJson<'a>,
}

#[derive(Serialize)]
struct Request {
    method: String,
    path: String,
    /// `null` for a detection made when the request started (PREACCESS),
    /// before it was answered.
    status: Option<u16>,
}

/// The events-file line for one detection, newline included.
pub fn line(r: &Report<'_>, now_s: u64) -> String {
    let expires = match (list_kind(r.reaction), r.expires) {
        (None, _) | (_, Expiry::NotListed | Expiry::TableFull) => None,
        (Some(_), Expiry::Forever | Expiry::Range(_, 0)) => Some("forever".to_string()),
        (Some(_), Expiry::At(t) | Expiry::Range(_, t)) => Some(rfc3339(t)),
    };
    let listing = match (list_kind(r.reaction), r.expires) {
        (None, _) => "not listed: monitor".to_string(),
        (_, Expiry::NotListed) => "not listed".to_string(),
        (_, Expiry::TableFull) => "not listed: table full".to_string(),
        (_, Expiry::Range(range, _)) => format!(
            "range {}",
            crate::shared::range_net(range).map_or_else(String::new, |n| n.to_string())
        ),
        (_, Expiry::Forever | Expiry::At(_)) => "client".to_string(),
    };
    let path = &r.view.path[..r.view.path.len().min(MAX_EVENT_PATH)];
    let event = Event {
        time: rfc3339(now_s),
        client: r.client.to_string(),
        application: String::from_utf8_lossy(r.app).into_owned(),
        profile: &r.profile.name,
        bot_type: r.detection.bot_type.as_str(),
        confidence: r.detection.confidence_pct,
        tolerance: tolerance_of(r).as_str(),
        reaction: r.reaction.as_str(),
        expires,
        listing,
        request: Request {
            method: String::from_utf8_lossy(r.view.method).into_owned(),
            path: String::from_utf8_lossy(path).into_owned(),
            status: (r.view.status != 0).then_some(r.view.status),
        },
        assessment: AssessmentJson {
            a: r.assessment,
            tolerance: tolerance_of(r),
        },
    };
    let mut out = serde_json::to_string(&event).unwrap_or_default();
    out.push('\n');
    out
}

/// The tolerance whose threshold the detection crossed: the profile's, or
/// its `challenge_tolerance` for a challenge below the threshold.
fn tolerance_of(r: &Report<'_>) -> Tolerance {
    match r.profile.challenge.below {
        Some(t) if r.reaction == crate::config::Reaction::Challenge => t,
        _ => r.profile.tolerance,
    }
}

/// An assessment as the events file writes it.
pub struct AssessmentJson<'a> {
    pub a: &'a Assessment,
    pub tolerance: Tolerance,
}

impl Serialize for AssessmentJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self.a;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("requests", &a.requests)?;
        m.serialize_entry("people", &Num(a.people))?;
        m.serialize_entry("detectors", &Detectors(a))?;
        m.serialize_entry(
            "confidence",
            &Confidence {
                a,
                tolerance: self.tolerance,
            },
        )?;
        m.end()
    }
}

/// A figure: three decimals, whole numbers as integers, non-finite as 0.
#[derive(Clone, Copy)]
struct Num(f32);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if !v.is_finite() {
            s.serialize_i64(0)
        } else if v == v.trunc() && v.abs() < 1e9 {
            s.serialize_i64(v as i64)
        } else {
            s.serialize_f64((f64::from(v) * 1000.0).round() / 1000.0)
        }
    }
}

/// `{"verdict":..,"figure":..,"threshold":..}` plus a detector's extras.
#[derive(Serialize)]
struct Detector<X: Serialize> {
    verdict: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    figure: Option<Num>,
    threshold: Num,
    #[serde(flatten)]
    extra: X,
}

#[derive(Serialize)]
struct NoExtra {}

fn detector<X: Serialize>(r: &DetectorResult, extra: X) -> Detector<X> {
    Detector {
        verdict: r.verdict.as_str(),
        figure: (r.verdict != Verdict::NotEnoughData).then_some(Num(r.figure)),
        threshold: Num(r.threshold),
        extra,
    }
}

fn plain(r: &DetectorResult) -> Detector<NoExtra> {
    detector(r, NoExtra {})
}

#[derive(Serialize)]
struct RateExtra {
    spike_excess: Num,
}

#[derive(Serialize)]
struct UaExtra {
    class: &'static str,
}

#[derive(Serialize)]
struct BusinessExtra<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    share: Option<Num>,
    kinds: Kinds<'a>,
}

/// Every kind whose business-logic result worked.
struct Kinds<'a>(&'a Assessment);

impl Serialize for Kinds<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for k in SensitiveKind::ALL {
            let r = self.0.business(*k);
            if r.worked() {
                m.serialize_entry(k.as_str(), &plain(&r))?;
            }
        }
        m.end()
    }
}

#[derive(Serialize)]
struct CodesExtra {
    auth_failures: Detector<NoExtra>,
    not_found: Detector<NoExtra>,
    denied: Detector<NoExtra>,
}

#[derive(Serialize)]
struct AttackExtra {
    classes: Vec<&'static str>,
}

struct Detectors<'a>(&'a Assessment);

impl Serialize for Detectors<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self.0;
        let mut m = s.serialize_map(Some(11))?;
        m.serialize_entry("request_interval", &plain(&a.request_interval))?;
        m.serialize_entry("request_uniqueness", &plain(&a.request_uniqueness))?;
        m.serialize_entry(
            "request_rate",
            &detector(
                &a.request_rate,
                RateExtra {
                    spike_excess: Num(a.spike_excess),
                },
            ),
        )?;
        m.serialize_entry(
            "bad_user_agent",
            &detector(
                &a.bad_user_agent,
                UaExtra {
                    class: a.ua_class.as_str(),
                },
            ),
        )?;
        m.serialize_entry("outdated_browser", &plain(&a.outdated_browser))?;
        m.serialize_entry("suspicious_behaviour", &plain(&a.suspicious_behaviour))?;
        let main = a.main_business_kind();
        let top = main.map_or(DetectorResult::no_data(0.0), |k| a.business(k));
        m.serialize_entry(
            "business_logic",
            &detector(
                &top,
                BusinessExtra {
                    kind: main.map(SensitiveKind::as_str),
                    share: main
                        .map(|k| Num(a.business_share.get(k.index()).copied().unwrap_or(0.0))),
                    kinds: Kinds(a),
                },
            ),
        )?;
        m.serialize_entry("wide_scope", &plain(&a.wide_scope))?;
        let rc = &a.response_codes;
        m.serialize_entry(
            "response_codes",
            &detector(
                &strongest_code(rc),
                CodesExtra {
                    auth_failures: plain(&rc.auth_failures),
                    not_found: plain(&rc.not_found),
                    denied: plain(&rc.denied),
                },
            ),
        )?;
        m.serialize_entry("enumeration", &plain(&a.enumeration))?;
        m.serialize_entry(
            "attack_signs",
            &detector(
                &a.attack_signs,
                AttackExtra {
                    classes: AttackClass::ALL
                        .iter()
                        .filter(|c| a.attack_classes & (1u16 << c.index()) != 0)
                        .map(|c| c.as_str())
                        .collect(),
                },
            ),
        )?;
        m.end()
    }
}

/// The response-code figure that stands out most (fired first, then the
/// highest figure against its threshold).
fn strongest_code(rc: &ResponseCodes) -> DetectorResult {
    [rc.auth_failures, rc.not_found, rc.denied]
        .into_iter()
        .filter(DetectorResult::worked)
        .max_by(|a, b| {
            let ra = (a.fired(), a.figure / a.threshold.max(1e-6));
            let rb = (b.fired(), b.figure / b.threshold.max(1e-6));
            ra.0.cmp(&rb.0).then(ra.1.total_cmp(&rb.1))
        })
        .unwrap_or(rc.auth_failures)
}

struct Confidence<'a> {
    a: &'a Assessment,
    tolerance: Tolerance,
}

impl Serialize for Confidence<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(BotType::ALL.len()))?;
        for bot in BotType::ALL {
            let pct = scoring::score(self.a, *bot, self.tolerance).confidence_pct;
            m.serialize_entry(bot.as_str(), &pct)?;
        }
        m.end()
    }
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The last second humantime can write (9999-12-31T23:59:59Z).
const MAX_RFC3339_SECS: u64 = 253_402_300_799;

/// Unix seconds as RFC 3339 UTC; times past year 9999 are written as its
/// last second, as humantime's formatter fails on them and `to_string`
/// would panic.
pub fn rfc3339(secs: u64) -> String {
    let secs = secs.min(MAX_RFC3339_SECS);
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
        .to_string()
}

#[cfg(test)]
mod tests {
    /// Found by the `request_view` fuzz target: a time past year 9999
    /// panicked in the LOG phase.
    #[test]
    fn times_past_year_9999_do_not_panic() {
        assert_eq!(super::rfc3339(u64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
    }

    use super::*;
    use crate::detect::{assess, AppBaseline, ClientState};
    use crate::request::RequestView;

    #[test]
    fn assessment_json_is_valid_and_complete() {
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
        let out = serde_json::to_string(&AssessmentJson {
            a: &a,
            tolerance: Tolerance::Normal,
        })
        .unwrap_or_default();
        let v: serde_json::Value = match serde_json::from_str(&out) {
            Ok(v) => v,
            Err(e) => panic!("{e}: {out}"),
        };
        let d = &v["detectors"];
        assert_eq!(d["bad_user_agent"]["class"], "scanner");
        assert_eq!(d["business_logic"]["kind"], "auth");
        assert_eq!(d["business_logic"]["verdict"], "fired");
        assert!(d["business_logic"]["kinds"]["auth"].is_object());
        assert_eq!(d["response_codes"]["auth_failures"]["verdict"], "fired");
        assert_eq!(d["attack_signs"]["classes"][0], "sqli");
        assert_eq!(d.as_object().map(|o| o.len()), Some(11));
        assert!(d["request_rate"]["spike_excess"].is_number());
        assert!(v["confidence"]["credential_stuffing"].as_u64().unwrap_or(0) > 50);
        assert_eq!(v["requests"], 20);
    }

    #[test]
    fn numbers() {
        let n = |v: f32| serde_json::to_string(&Num(v)).unwrap_or_default();
        assert_eq!(n(5.0), "5");
        assert_eq!(n(0.123_456), "0.123");
        assert_eq!(n(f32::NAN), "0");
        assert_eq!(n(f32::INFINITY), "0");
    }
}
