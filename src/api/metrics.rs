//! `api_abuse_metrics`: Prometheus text exposition of the zone's counters.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use super::Reply;
use crate::engine::DETECTORS;
use crate::model::{AttackClass, BotType};
use crate::shared::Shared;

/// Prometheus text exposition of the same statistics.
pub fn metrics(shared: &Shared) -> Reply {
    let st = shared.stats();
    let ld = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let mut o = String::with_capacity(4096);
    let counter = |o: &mut String, name: &str, help: &str| {
        let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} counter");
    };
    counter(
        &mut o,
        "api_abuse_requests_total",
        "Requests seen by the module.",
    );
    let _ = writeln!(o, "api_abuse_requests_total {}", ld(&st.requests));
    counter(
        &mut o,
        "api_abuse_blocked_total",
        "Requests refused, by reason.",
    );
    let _ = writeln!(
        o,
        "api_abuse_blocked_total{{reason=\"denylist\"}} {}",
        ld(&st.blocked_deny)
    );
    let _ = writeln!(
        o,
        "api_abuse_blocked_total{{reason=\"attack\"}} {}",
        ld(&st.blocked_attack)
    );
    counter(
        &mut o,
        "api_abuse_monitored_total",
        "Requests that would have been refused in monitor mode.",
    );
    let _ = writeln!(o, "api_abuse_monitored_total {}", ld(&st.monitored));
    counter(
        &mut o,
        "api_abuse_challenges_total",
        "Browser challenges: served (issued), passed after a challenge, cookies that came back invalid, clients escalated to a list.",
    );
    for c in crate::challenge::Counter::ALL {
        let _ = writeln!(
            o,
            "api_abuse_challenges_total{{result=\"{}\"}} {}",
            c.as_str(),
            shared.challenge().get(c)
        );
    }
    counter(
        &mut o,
        "api_abuse_detections_total",
        "Clients detected, by bot type.",
    );
    for (i, b) in BotType::ALL.iter().enumerate() {
        let _ = writeln!(
            o,
            "api_abuse_detections_total{{bot_type=\"{b}\"}} {}",
            ld(&st.detections[i])
        );
    }
    counter(
        &mut o,
        "api_abuse_detector_fired_total",
        "Detectors that fired in a detection.",
    );
    for (i, d) in DETECTORS.iter().enumerate() {
        let _ = writeln!(
            o,
            "api_abuse_detector_fired_total{{detector=\"{d}\"}} {}",
            ld(&st.detector_fired[i])
        );
    }
    counter(
        &mut o,
        "api_abuse_attacks_total",
        "Requests carrying attack signs, by class.",
    );
    for (i, a) in AttackClass::ALL.iter().enumerate() {
        let _ = writeln!(
            o,
            "api_abuse_attacks_total{{class=\"{a}\"}} {}",
            ld(&st.attacks[i])
        );
    }
    let cs = shared.clients.stats();
    let _ = writeln!(o, "# HELP api_abuse_clients Client records in the zone.\n# TYPE api_abuse_clients gauge\napi_abuse_clients {}", cs.used);
    let _ = writeln!(o, "# HELP api_abuse_client_capacity Client records the zone holds.\n# TYPE api_abuse_client_capacity gauge\napi_abuse_client_capacity {}", cs.capacity);
    counter(
        &mut o,
        "api_abuse_client_evictions_total",
        "Idle client records evicted because the zone was full.",
    );
    let _ = writeln!(o, "api_abuse_client_evictions_total {}", cs.evictions);
    let lc = shared.list_counters();
    let gauge = |o: &mut String, name: &str, help: &str, v: u64| {
        let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
    };
    gauge(
        &mut o,
        "api_abuse_list_entries",
        "Slots of the run-time list table in use.",
        shared.lists.len(),
    );
    gauge(
        &mut o,
        "api_abuse_list_capacity",
        "Slots of the run-time list table.",
        shared.lists.capacity() as u64,
    );
    gauge(
        &mut o,
        "api_abuse_list_detection_limit",
        "Slots detection may fill; the rest is kept for operator entries.",
        shared.detection_limit() as u64,
    );
    counter(
        &mut o,
        "api_abuse_list_insert_failures_total",
        "Listings refused because the list table (or detection's share of it) was full.",
    );
    let _ = writeln!(
        o,
        "api_abuse_list_insert_failures_total {}",
        ld(&lc.insert_failures)
    );
    gauge(
        &mut o,
        "api_abuse_list_ranges",
        "IPv4 /24 and IPv6 /48 ranges listed whole.",
        ld(&lc.ranges),
    );
    counter(
        &mut o,
        "api_abuse_list_range_covered_total",
        "Detections not listed on their own because their range was.",
    );
    let _ = writeln!(
        o,
        "api_abuse_list_range_covered_total {}",
        ld(&lc.range_covered)
    );
    counter(
        &mut o,
        "api_abuse_lock_recoveries_total",
        "Shared-zone locks taken over from a worker that died holding them.",
    );
    let recoveries =
        cs.recoveries + shared.lists.stats().recoveries + shared.apps.stats().recoveries;
    let _ = writeln!(o, "api_abuse_lock_recoveries_total {recoveries}");
    counter(
        &mut o,
        "api_abuse_request_panics_total",
        "Requests served without the module because a handler panicked (a bug: see the error log).",
    );
    let _ = writeln!(
        o,
        "api_abuse_request_panics_total {}",
        shared.stats().panics.load(Ordering::Relaxed)
    );
    crate::sync::metrics(shared, &mut o);
    Reply {
        status: 200,
        content_type: "text/plain; version=0.0.4",
        body: o,
        www_authenticate: None,
    }
}
