//! The traffic-spike bucket (see `request_rate`): a leaky bucket filled by
//! every request of the client and drained at [`SPIKE_DRAIN`] times the
//! learned rate. The client record's update fills it; the `request_rate`
//! detector documents and reads it.

/// The spike bucket drains at this multiple of the learned rate.
pub const SPIKE_DRAIN: f32 = 5.0;
const MINUTE_MS: u64 = 60_000;

/// The spike bucket's level after one more request, `dt_ms` after the last
/// one, given the current threshold (requests per minute).
pub fn spike_excess(level: f32, dt_ms: u64, threshold_rpm: f32, weight: f32) -> f32 {
    let drained = SPIKE_DRAIN * threshold_rpm * dt_ms as f32 / MINUTE_MS as f32;
    (level - drained).max(0.0) + weight
}

/// How much one request fills the spike bucket. A browser fetches a page's
/// images, scripts and styles in one parallel burst; served assets weigh a
/// quarter, so page loads do not read as a flood while a flood of asset
/// requests still does.
pub fn spike_weight(asset: bool, status: u16) -> f32 {
    if asset && (200..400).contains(&status) {
        ASSET_SPIKE_WEIGHT
    } else {
        1.0
    }
}

pub const ASSET_SPIKE_WEIGHT: f32 = 0.25;
