//! Detector `request_rate`: requests in the client's sliding minute against
//! the rate this application's normal clients stay under (the baseline's
//! learned 99th percentile of requests per client-minute, with a floor).
//!
//! A session younger than a minute is extrapolated from its age, but never
//! from less than `MIN_SPAN_MS`, so a page load's burst of parallel API calls
//! does not read as a flood. The threshold is multiplied by the estimated
//! number of people behind the address (a NAT multiplies traffic).
//!
//! The traffic-spike type needs something sharper and faster than a minute's
//! average: a leaky bucket ([`spike_excess`]) filled by every request and
//! drained at `SPIKE_DRAIN` times the learned rate. Its level is the number
//! of requests sent beyond that pace. A person's bursts (a page load's API
//! calls) drain away within seconds; a flood at ten times the learned rate
//! gains about 0.7 per request and reaches the normal tolerance's 20 in about
//! 30 requests, a faster one sooner.

use super::{baseline::AppBaseline, state::ClientState, DetectorResult};

pub const MIN_REQUESTS: u32 = 5;
/// The spike bucket, which the record update fills (in `spike`, below the
/// record, so that the record does not depend on this detector).
pub use super::spike::{spike_excess, spike_weight, ASSET_SPIKE_WEIGHT, SPIKE_DRAIN};
pub const MIN_SPAN_MS: u64 = 12_000;
const MINUTE_MS: u64 = 60_000;

/// Figure: requests per minute; threshold: the learned rate x people.
pub fn evaluate(s: &ClientState, baseline: &AppBaseline, now_ms: u64) -> DetectorResult {
    let threshold = baseline.rate_threshold() * s.people();
    if s.requests < MIN_REQUESTS {
        return DetectorResult::no_data(threshold);
    }
    let n = s.requests_last_minute(now_ms) as f32;
    let span = now_ms
        .saturating_sub(s.first_seen_ms)
        .clamp(MIN_SPAN_MS, MINUTE_MS);
    let rpm = n * MINUTE_MS as f32 / span as f32;
    DetectorResult::judged(rpm >= threshold, rpm, threshold)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Verdict;
    use crate::request::RequestView;

    fn run(n: u64, gap_ms: u64, ua: impl Fn(u64) -> &'static [u8]) -> DetectorResult {
        let b = AppBaseline::boxed();
        let mut s = ClientState::ZERO;
        let t0 = 50_000_000;
        for i in 0..n {
            let v = RequestView {
                method: b"GET",
                path: b"/x",
                user_agent: Some(ua(i)),
                status: 200,
                ..Default::default()
            };
            s.observe(&v, None, &b, t0 + i * gap_ms);
        }
        evaluate(&s, &b, t0 + (n - 1) * gap_ms)
    }

    #[test]
    fn fast_fires_slow_does_not() {
        // Default threshold while learning: 120 per minute.
        let fast = run(40, 100, |_| b"curl/8");
        assert_eq!(fast.verdict, Verdict::Fired, "{fast:?}");
        assert!((fast.figure - 200.0).abs() < 1.0, "{fast:?}");
        let slow = run(40, 1_000, |_| b"curl/8");
        assert_eq!(slow.verdict, Verdict::NotFired, "{slow:?}");
        assert_eq!(run(3, 10, |_| b"curl/8").verdict, Verdict::NotEnoughData);
    }

    #[test]
    fn spike_bucket() {
        // Three times the rate (40/min) drains: one request every 500 ms is
        // exactly the drain, so the level stays at 1.
        let mut l = 0.0;
        for _ in 0..100 {
            l = spike_excess(l, 500, 40.0, 1.0);
        }
        assert!((l - 1.0).abs() < 0.01, "{l}");
        // Five times faster than the drain (its floor, 4 a second): grows
        // by 0.8 per request.
        let mut l = 0.0;
        for _ in 0..30 {
            l = spike_excess(l, 50, 40.0, 1.0);
        }
        assert!(l > 23.0, "{l}");
    }

    #[test]
    fn shared_address_scales_the_threshold() {
        const UAS: [&[u8]; 4] = [b"ua-one/1", b"ua-two/2", b"ua-three/3", b"ua-four/4"];
        let nat = run(60, 300, |i| UAS[(i % 4) as usize]);
        assert_eq!(nat.verdict, Verdict::NotFired, "{nat:?}");
        assert!(nat.threshold > 200.0);
    }
}

#[cfg(test)]
mod asset_tests {
    use super::*;

    #[test]
    fn page_loads_do_not_fill_the_spike_bucket_like_a_flood() {
        // A page and its 9 assets within 200 ms, every 3 s, for a minute.
        let mut page_loads = 0.0;
        for _ in 0..20 {
            page_loads = spike_excess(page_loads, 3_000, 120.0, 1.0);
            for _ in 0..9 {
                page_loads = spike_excess(page_loads, 20, 120.0, spike_weight(true, 200));
            }
        }
        // The same number of requests to pages, as fast.
        let mut flood = 0.0;
        for _ in 0..200 {
            flood = spike_excess(flood, 20, 120.0, spike_weight(false, 200));
        }
        assert!(page_loads < 5.0, "{page_loads}");
        assert!(flood > 100.0, "{flood}");
        // assets that fail (probing) weigh fully
        assert_eq!(spike_weight(true, 404), 1.0);
    }
}
