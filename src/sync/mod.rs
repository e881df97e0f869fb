//! `api_abuse_sync`: a fleet of nginx nodes shares its run-time list changes
//! (detections, operator entries and changes, unblocks) through Redis or
//! Valkey. Every change is one key per client with a TTL equal to the
//! entry's expiry, pushed to the other nodes on a pub/sub channel; one
//! background helper process per nginx instance (forked by worker 0) does
//! all the talking, and the request path only appends to a fixed ring in the zone ([`journal`]).
//!
//! - [`journal`]: the zone's change ring and the sync statistics;
//! - [`stamp`]: how changes are ordered across nodes (last writer wins);
//! - [`wire`]: the JSON entries and key names in Redis;
//! - [`backoff`]: reconnection delays;
//! - [`settings`]: the directive's arguments;
//! - [`client`]: the helper's sessions with Redis.

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

/// The node's sync state in the JSON API (`sync`). Statistics are this
/// node's own (`node` says whose).
#[derive(Debug, serde::Serialize)]
pub struct SyncStatus {
    pub node: String,
    pub connected: bool,
    /// RFC 3339; null before the first success.
    pub last_success: Option<String>,
    pub last_success_age_ms: Option<u64>,
    /// Age of the last change received when it was applied here.
    pub lag_ms: u64,
    /// Local changes not yet written to Redis.
    pub pending: u64,
    pub sent: u64,
    pub received: u64,
    /// Changes received that lost to a newer local one.
    pub stale: u64,
    pub errors: u64,
    pub outages: u64,
    /// Entries read from Redis by the last full load, and how long it took.
    pub loaded: u64,
    pub load_ms: u64,
    /// Journal overflows answered by a full comparison with Redis.
    pub resyncs: u64,
}

/// `None` when `api_abuse_sync` is not configured.
pub fn status(shared: &Shared, now_ms: u64) -> Option<SyncStatus> {
    let j = shared.journal();
    let s = &j.stats;
    let ld = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    if ld(&s.enabled) == 0 {
        return None;
    }
    let last = ld(&s.last_success_ms);
    Some(SyncStatus {
        node: j.node(),
        connected: ld(&s.connected) == 1,
        last_success: (last != 0).then(|| crate::engine::rfc3339(last / 1000)),
        last_success_age_ms: (last != 0).then(|| now_ms.saturating_sub(last)),
        lag_ms: ld(&s.lag_ms),
        pending: j.pending(),
        sent: ld(&s.sent),
        received: ld(&s.received),
        stale: ld(&s.stale),
        errors: ld(&s.errors),
        outages: ld(&s.outages),
        loaded: ld(&s.loaded),
        load_ms: ld(&s.load_ms),
        resyncs: ld(&s.resyncs),
    })
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
