//! `api_abuse_sync`: a fleet of nginx nodes shares its run-time list changes
//! (detections, operator entries and changes, unblocks) through Redis or
//! Valkey. Every change is one key per client with a TTL equal to the
//! entry's expiry, pushed to the other nodes on a pub/sub channel; one
//! background thread per nginx instance does all the talking, and the request
//! path only appends to a fixed ring in the zone ([`journal`]).
//!
//! - [`journal`]: the zone's change ring and the sync statistics;
//! - [`stamp`]: how changes are ordered across nodes (last writer wins);
//! - [`wire`]: the JSON entries and key names in Redis;
//! - [`backoff`]: reconnection delays;
//! - [`settings`]: the directive's arguments;
//! - [`client`]: the thread's sessions with Redis.

pub mod backoff;
pub mod client;
pub mod journal;
pub mod settings;
pub mod stamp;
pub mod wire;

pub use settings::Settings;

use std::fmt::Write;
use std::sync::atomic::Ordering;

use crate::shared::Shared;

/// The node's sync state for the JSON API: `null` when `api_abuse_sync` is
/// not configured. Statistics are this node's own (`node` says whose).
pub fn status_json(shared: &Shared, now_ms: u64) -> String {
    let j = shared.journal();
    let s = &j.stats;
    let ld = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    if ld(&s.enabled) == 0 {
        return "null".into();
    }
    let last = ld(&s.last_success_ms);
    let node = serde_json::to_string(&j.node()).unwrap_or_else(|_| "\"\"".into());
    let mut o = String::with_capacity(400);
    let _ = write!(
        o,
        "{{\"node\":{node},\"connected\":{},\"last_success\":{},\"last_success_age_ms\":{},\"lag_ms\":{},\"pending\":{},\"sent\":{},\"received\":{},\"stale\":{},\"errors\":{},\"outages\":{},\"loaded\":{},\"load_ms\":{},\"resyncs\":{}}}",
        ld(&s.connected) == 1,
        if last == 0 { "null".to_string() } else { format!("\"{}\"", crate::engine::rfc3339(last / 1000)) },
        if last == 0 { "null".to_string() } else { now_ms.saturating_sub(last).to_string() },
        ld(&s.lag_ms),
        j.pending(),
        ld(&s.sent),
        ld(&s.received),
        ld(&s.stale),
        ld(&s.errors),
        ld(&s.outages),
        ld(&s.loaded),
        ld(&s.load_ms),
        ld(&s.resyncs),
    );
    o
}

/// Prometheus lines for the node's sync state (nothing when not configured).
pub fn metrics(shared: &Shared, o: &mut String) {
    let j = shared.journal();
    let s = &j.stats;
    let ld = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    if ld(&s.enabled) == 0 {
        return;
    }
    let node: String = j
        .node()
        .chars()
        .map(|c| if c == '"' || c == '\\' { '_' } else { c })
        .collect();
    let mut one = |name: &str, kind: &str, help: &str, v: u64| {
        let _ = writeln!(
            o,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name}{{node=\"{node}\"}} {v}"
        );
    };
    one(
        "api_abuse_sync_connected",
        "gauge",
        "1 while this node is connected to Redis.",
        ld(&s.connected),
    );
    one(
        "api_abuse_sync_last_success_timestamp_seconds",
        "gauge",
        "Last successful exchange with Redis.",
        ld(&s.last_success_ms) / 1000,
    );
    one(
        "api_abuse_sync_lag_milliseconds",
        "gauge",
        "Age of the last change received when it was applied.",
        ld(&s.lag_ms),
    );
    one(
        "api_abuse_sync_pending",
        "gauge",
        "Local changes not yet written to Redis.",
        j.pending(),
    );
    one(
        "api_abuse_sync_sent_total",
        "counter",
        "Local changes written to Redis.",
        ld(&s.sent),
    );
    one(
        "api_abuse_sync_received_total",
        "counter",
        "Changes from other nodes applied here.",
        ld(&s.received),
    );
    one(
        "api_abuse_sync_stale_total",
        "counter",
        "Changes received that lost to a newer local one.",
        ld(&s.stale),
    );
    one(
        "api_abuse_sync_errors_total",
        "counter",
        "Failed connections, commands and undecodable entries.",
        ld(&s.errors),
    );
    one(
        "api_abuse_sync_outages_total",
        "counter",
        "Times Redis became unreachable.",
        ld(&s.outages),
    );
}
