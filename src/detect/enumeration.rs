//! Detector `enumeration` (BOLA): the client walks many distinct object ids
//! on one endpoint template (`/users/{id}`, `/orders/{id}/invoice`).
//!
//! The record follows the template most walked with ids (a majority vote) and
//! counts, on it, requests, new ids (a 128-bit set), sequential steps
//! (consecutive numeric ids 1-3 apart) and denied answers (401/403/404). It
//! fires when at least `MIN_IDS` distinct ids were walked, mostly without
//! revisiting, *and* either the walk is sequential or most answers are
//! denials: a shopper opening many products in no order and getting them is
//! not enumerating. Figure: the decayed count of distinct ids.

use super::state::{ClientState, C};
use super::{ratio, reaches, DetectorResult};

pub const MIN_HITS: f32 = 8.0;
/// Distinct ids from which the detector fires.
pub const MIN_IDS: f32 = 12.0;
/// Share of requests on the template that must bring a new id.
pub const NEW_SHARE: f32 = 0.7;
/// Share of sequential steps, or of denied answers, that marks a walk.
pub const SEQUENTIAL_SHARE: f32 = 0.5;
pub const DENIED_SHARE: f32 = 0.5;

pub fn evaluate(s: &ClientState) -> DetectorResult {
    let hits = s.count(C::EnumHits);
    if !reaches(hits, MIN_HITS) {
        return DetectorResult::no_data(MIN_IDS);
    }
    let ids = s.count(C::EnumNewIds);
    let walking = ratio(ids, hits) >= NEW_SHARE
        && (ratio(s.count(C::EnumSequential), hits) >= SEQUENTIAL_SHARE
            || ratio(s.count(C::EnumFail), hits) >= DENIED_SHARE);
    DetectorResult::judged(reaches(ids, MIN_IDS) && walking, ids, MIN_IDS)
}

/// False only when [`evaluate`] cannot fire: it needs the hits and the
/// distinct ids at their minimums first (the quiet check asks this first).
pub fn may_fire(s: &ClientState) -> bool {
    reaches(s.count(C::EnumHits), MIN_HITS) && reaches(s.count(C::EnumNewIds), MIN_IDS)
}

/// Twice the distinct ids: a long walk.
pub fn is_strong(r: &DetectorResult) -> bool {
    r.fired() && reaches(r.figure, 2.0 * r.threshold)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{baseline::AppBaseline, Verdict};
    use crate::request::RequestView;

    fn run(ids: impl Iterator<Item = u64>, status: u16) -> DetectorResult {
        let b = AppBaseline::boxed();
        let mut s = ClientState::ZERO;
        for (i, id) in ids.enumerate() {
            let path = format!("/users/{id}");
            let v = RequestView {
                method: b"GET",
                path: path.as_bytes(),
                status,
                ..Default::default()
            };
            s.observe(&v, None, &b, 1_000_000 + i as u64 * 1_500);
            // Interleaved other pages do not reset the walk.
            if i % 5 == 0 {
                let other = RequestView {
                    method: b"GET",
                    path: b"/orders/77",
                    status: 200,
                    ..Default::default()
                };
                s.observe(&other, None, &b, 1_000_700 + i as u64 * 1_500);
            }
        }
        evaluate(&s)
    }

    #[test]
    fn sequential_walk_fires() {
        let r = run(100..130, 200);
        assert_eq!(r.verdict, Verdict::Fired, "{r:?}");
        assert!(is_strong(&r));
    }

    #[test]
    fn denied_random_walk_fires() {
        let r = run((0..20).map(|i| (i * 7919) % 1000), 403);
        assert_eq!(r.verdict, Verdict::Fired, "{r:?}");
    }

    #[test]
    fn shopper_does_not() {
        // Random products, all found.
        let r = run((0..30).map(|i| (i * 7919) % 1000), 200);
        assert_eq!(r.verdict, Verdict::NotFired, "{r:?}");
        // Revisiting the same few objects.
        let r = run((0..30).map(|i| 10 + i % 3), 403);
        assert_eq!(r.verdict, Verdict::NotFired, "{r:?}");
        assert_eq!(run(0..4, 200).verdict, Verdict::NotEnoughData);
    }
}
