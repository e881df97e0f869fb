//! Detector `request_interval`: are the gaps between the client's requests
//! too regular to be a person?
//!
//! People read, think and click: their gaps spread over orders of magnitude
//! (milliseconds inside a page load, seconds to minutes between pages).
//! Scripts sleep a fixed time, or a narrow random range. The figure is the
//! standard deviation of ln(gap in ms), a scale-free spread (for small values
//! close to the coefficient of variation of the gaps themselves), weighted
//! towards the last ~32 gaps. Pauses over five minutes are not gaps. A fixed
//! 10 s poll gives about 0.05, uniform 1-3 s sleeps about 0.3, human browsing
//! 1 or more.
//!
//! Regularity alone is never abuse (a mobile app polling an endpoint is
//! regular): this detector only adds votes to types whose core fired.

use super::{state::ClientState, DetectorResult};

/// Gaps needed before the spread means anything.
pub const MIN_GAPS: u16 = 8;
/// Fires below this spread of ln(gap).
pub const THRESHOLD: f32 = 0.30;

pub fn evaluate(s: &ClientState) -> DetectorResult {
    if s.gap_count < MIN_GAPS {
        return DetectorResult::no_data(THRESHOLD);
    }
    let spread = s.gap_var.max(0.0).sqrt();
    DetectorResult::judged(spread < THRESHOLD, spread, THRESHOLD)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{baseline::AppBaseline, Verdict};
    use crate::request::RequestView;

    fn run(gaps: impl Iterator<Item = u64>) -> DetectorResult {
        let b = AppBaseline::boxed();
        let mut s = ClientState::ZERO;
        let v = RequestView {
            method: b"GET",
            path: b"/x",
            status: 200,
            ..Default::default()
        };
        let mut t = 1_000_000;
        s.observe(&v, None, &b, t);
        for g in gaps {
            t += g;
            s.observe(&v, None, &b, t);
        }
        evaluate(&s)
    }

    #[test]
    fn regular_polling_fires() {
        let r = run((0..20).map(|i| 10_000 + (i % 3) * 40));
        assert_eq!(r.verdict, Verdict::Fired, "{r:?}");
        assert!(r.figure < 0.05);
    }

    #[test]
    fn human_rhythm_does_not_fire() {
        let gaps = [
            40, 3_000, 120, 15_000, 800, 60, 9_000, 2_500, 30_000, 200, 4_000,
        ];
        let r = run(gaps.into_iter());
        assert_eq!(r.verdict, Verdict::NotFired, "{r:?}");
        assert!(r.figure > 1.0);
    }

    #[test]
    fn needs_gaps() {
        assert_eq!(run((0..5).map(|_| 1000)).verdict, Verdict::NotEnoughData);
        // Long pauses are not gaps.
        assert_eq!(
            run((0..20).map(|_| 400_000)).verdict,
            Verdict::NotEnoughData
        );
    }
}
