//! The traffic-spike bucket (see `request_rate`): a leaky bucket filled by
//! every request of the client and drained at [`SPIKE_DRAIN`] times the
//! learned rate, but never slower than [`PERSON_PACE_RPM`]. The client
//! record's update fills it; the `request_rate` detector documents and
//! reads it.
//!
//! Why a floor: the traffic-spike type is decided on the bucket alone, so
//! the bucket must never fill at a pace a person keeps. On a quiet site the
//! learned rate sits at its floor (30 a minute, a drain of 2.5 requests a
//! second), and a fast clicker on a page that calls the site's API once
//! per view (two requests a click, bursts of several clicks a second while
//! paging through a listing) goes beyond that for as long as they click.
//! A person clicks at most about two pages a second for any length of time;
//! with a script call or two per page that is four requests a second. A
//! flood is what goes beyond it: ten a second still gains 0.6 a request and
//! reaches the normal tolerance's 15 within 25 requests, and the tools that
//! make floods go far faster.

/// The spike bucket drains at this multiple of the learned rate.
pub const SPIKE_DRAIN: f32 = 5.0;
/// ... and never slower than this, requests per minute: a person's
/// sustained ceiling (two clicks a second, each with a script call).
pub const PERSON_PACE_RPM: f32 = 240.0;
const MINUTE_MS: u64 = 60_000;

/// The spike bucket's level after one more request, `dt_ms` after the last
/// one, given the current threshold (requests per minute).
pub fn spike_excess(level: f32, dt_ms: u64, threshold_rpm: f32, weight: f32) -> f32 {
    let drain_rpm = (SPIKE_DRAIN * threshold_rpm).max(PERSON_PACE_RPM);
    let drained = drain_rpm * dt_ms as f32 / MINUTE_MS as f32;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::baseline::RATE_FLOOR;
    use crate::detect::scoring::rule;
    use crate::model::Tolerance;

    /// The highest level of the bucket over a run of `(gap_ms, weight)`
    /// requests, on a site whose learned rate is at its floor.
    fn peak(requests: impl Iterator<Item = (u64, f32)>) -> f32 {
        let mut level = 0.0f32;
        let mut peak = 0.0f32;
        for (gap, weight) in requests {
            level = spike_excess(level, gap, RATE_FLOOR, weight);
            peak = peak.max(level);
        }
        peak
    }

    /// A person who clicks fast: about one page a second for 140 pages,
    /// every tenth click the start of a burst of six clicks 250 ms apart
    /// (paging quickly through a listing), and each page's script calling
    /// the site's API once 50 ms after it loaded. Its images are first
    /// fetches of a rendering client and weigh nothing (see `state`).
    fn fast_clicker() -> impl Iterator<Item = (u64, f32)> {
        (0..140u64).flat_map(|click| {
            let gap = match click % 10 {
                1..=5 => 250,
                7 => 600,
                _ => 1_000,
            };
            [(gap, 1.0), (50, 1.0)]
        })
    }

    #[test]
    fn a_fast_clicking_person_is_no_spike_at_normal_tolerance() {
        let normal = rule(Tolerance::Normal).spike_excess;
        let p = peak(fast_clicker());
        assert!(p < normal / 2.0, "peak {p} against {normal}");
        // Pages alone, two a second without a break, stay at one.
        let p = peak((0..140).map(|_| (500, 1.0)));
        assert!(p <= 1.01, "{p}");
    }

    #[test]
    fn a_flood_still_fills_it_within_thirty_requests() {
        // Ten pages a second: four times the slowest drain.
        let normal = rule(Tolerance::Normal).spike_excess;
        let mut level = 0.0;
        let n = (1..=30)
            .find(|_| {
                level = spike_excess(level, 100, RATE_FLOOR, 1.0);
                level >= normal
            })
            .unwrap_or(u32::MAX);
        assert!(n <= 25, "listed at {n}");
        // Back to back (a tool): within 16.
        let mut level = 0.0;
        let n = (1..=30)
            .find(|_| {
                level = spike_excess(level, 5, RATE_FLOOR, 1.0);
                level >= normal
            })
            .unwrap_or(u32::MAX);
        assert!(n <= 16, "listed at {n}");
    }

    #[test]
    fn the_drain_follows_a_busy_sites_learned_rate_above_the_floor() {
        // Learned 120 a minute: drains 10 a second, so 8 a second stays low.
        let p = peak((0..200).map(|_| (125, 1.0)));
        assert!(p > 15.0, "at the floor's drain, 8 a second is a flood: {p}");
        let mut level = 0.0f32;
        for _ in 0..200 {
            level = spike_excess(level, 125, 120.0, 1.0);
        }
        assert!(level <= 1.01, "{level}");
    }
}
