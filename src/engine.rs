//! Detection in the LOG phase, for one finished request: update the client's
//! record and the application's baseline in shared memory, assess, decide,
//! and apply the profile's reaction.
//!
//! Locks: the client's bucket lock, and inside it the application's bucket
//! lock; never the other way round, so the two cannot deadlock. Both are held
//! for the few hundred nanoseconds of observe + assess + learn.

use std::fmt::Write;
use std::net::IpAddr;

use crate::config::{fnv1a, Profile, Reaction};
use crate::detect::{assess, decide, Assessment, Detection};
use crate::model::BotType;
use crate::request::RequestView;
use crate::shared::{ListKind, ListRecord, Shared, ORIGIN_DETECTION};
use crate::table::ClientKey;

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

/// Feeds one request into detection; returns the outcome when the client is
/// detected as a bot of a type the profile acts on.
#[allow(clippy::too_many_arguments)]
pub fn observe(
    shared: &Shared,
    profile: &Profile,
    app: &[u8],
    key: ClientKey,
    client: IpAddr,
    view: &RequestView<'_>,
    monitor: bool,
    now_ms: u64,
) -> Option<Outcome> {
    let now_s = (now_ms / 1000) as u32;
    let sensitive = profile.sensitive.classify(view.method, view.path);
    let mask = profile.bot_types as u8;
    let akey = app_key(app);
    let found: Option<(Detection, Assessment)> = shared
        .clients
        .upsert(
            key,
            now_s,
            |_, _| true,
            |state, _| {
                shared
                    .apps
                    .upsert(
                        akey,
                        now_s,
                        |_, _| true,
                        |rec, _| {
                            let obs = state.observe(view, sensitive, &rec.baseline, now_ms);
                            let a = assess(state, &rec.baseline, now_ms);
                            match decide(&a, profile.tolerance, mask) {
                                Some(d) => {
                                    state.mark_reported(d.bot_type);
                                    Some((d, a))
                                }
                                None => {
                                    rec.baseline.learn(&obs, &a, now_ms);
                                    None
                                }
                            }
                        },
                    )
                    .flatten()
            },
        )
        .flatten();
    if shared.clients.stats().evictions > 0 && shared.clients.warn_once_full() {
        crate::engine::note_full();
    }
    let (det, assessment) = found?;
    let stats = shared.stats();
    if let Some(c) = stats.detections.get(det.bot_type.index()) {
        c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    for (i, fired) in fired_detectors(&assessment).iter().enumerate() {
        if *fired {
            if let Some(c) = stats.detector_fired.get(i) {
                c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }

    let reaction = if monitor {
        Reaction::Monitor
    } else {
        profile.reaction
    };
    let mut expires: Option<u64> = None;
    if reaction != Reaction::Monitor {
        let offences = shared.offences(key);
        let secs = profile.duration.secs().map(|d| {
            let factor = 1u64 << offences.min(16);
            d.saturating_mul(factor).min(MAX_REPEAT_SECS.max(d))
        });
        let kind = if reaction == Reaction::Denylist {
            ListKind::Deny
        } else {
            ListKind::Gray
        };
        let exp = secs.map_or(0, |s| {
            (u64::from(now_s) + s).min(u64::from(u32::MAX)) as u32
        });
        let entry = ListRecord {
            kind: kind as u8,
            origin: ORIGIN_DETECTION,
            bot_type: det.bot_type.index() as u8 + 1,
            confidence: det.confidence_pct,
            offences: 0,
            created: now_s,
            expires: exp,
            stamp: 0,
        };
        if shared.list(key, now_s, entry) {
            if let Some(c) = stats.listed.get(det.bot_type.index()) {
                c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            expires = secs.map(|s| u64::from(now_s) + s);
        }
    }

    let mut event = String::with_capacity(1024);
    event.push_str("{\"time\":\"");
    event.push_str(&rfc3339(now_ms / 1000));
    let _ = write!(
        event,
        "\",\"client\":\"{client}\",\"application\":{},\"profile\":{},\"bot_type\":\"{}\",\"confidence\":{},\"tolerance\":\"{}\",\"reaction\":\"{}\",\"expires\":",
        json_str(&String::from_utf8_lossy(app)),
        json_str(&profile.name),
        det.bot_type,
        det.confidence_pct,
        profile.tolerance,
        reaction.as_str(),
    );
    match (reaction, expires) {
        (Reaction::Monitor, _) => event.push_str("null"),
        (_, Some(t)) => {
            event.push('"');
            event.push_str(&rfc3339(t));
            event.push('"');
        }
        (_, None) => event.push_str("\"forever\""),
    }
    let _ = write!(
        event,
        ",\"request\":{{\"method\":{},\"path\":{},\"status\":{}}},\"assessment\":",
        json_str(&String::from_utf8_lossy(view.method)),
        json_str(&String::from_utf8_lossy(
            &view.path[..view.path.len().min(256)]
        )),
        view.status
    );
    assessment.write_json(profile.tolerance, &mut event);
    event.push_str("}\n");
    shared.events().push(event.as_bytes());
    shared
        .timeline()
        .count(crate::timeline::HourCounter::Detection, now_ms / 1000);

    let listed = match (reaction, expires) {
        (Reaction::Monitor, _) => "not listed (monitor)".to_string(),
        (r, Some(t)) => format!(
            "{} for {}s",
            if r == Reaction::Denylist {
                "denylisted"
            } else {
                "graylisted"
            },
            t.saturating_sub(u64::from(now_s))
        ),
        (r, None) => format!(
            "{} forever",
            if r == Reaction::Denylist {
                "denylisted"
            } else {
                "graylisted"
            }
        ),
    };
    let summary = format!(
        "api_abuse: client {client} detected as {} with {}% confidence by profile \"{}\", {listed}",
        det.bot_type, det.confidence_pct, profile.name
    );
    Some(Outcome {
        bot: det.bot_type,
        confidence: det.confidence_pct,
        event,
        summary,
    })
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

static FULL_NOTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Set once when the client table first evicts; the glue logs it.
fn note_full() {
    FULL_NOTED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// True once, after the client table first had to evict idle clients.
pub fn take_full_note() -> bool {
    FULL_NOTED.swap(false, std::sync::atomic::Ordering::Relaxed)
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Unix seconds as RFC 3339 UTC.
pub fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
        .to_string()
}
