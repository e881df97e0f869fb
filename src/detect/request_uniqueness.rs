//! Detector `request_uniqueness`: share of the client's recent requests that
//! went to an endpoint template it had not used before. A person moves around
//! an application; a bot hammers the same one or two endpoints (logins,
//! sign-ups, `/products/{id}`). Ten percent or less is bot-like.
//!
//! Behind one NAT address several people each start their own walk, so the
//! figure is multiplied by the estimated number of people
//! ([`ClientState::people`]). Low uniqueness alone is not abuse (a poller has
//! none): this detector only supports a bot type whose core fired.

use super::state::{ClientState, C};
use super::{ratio, DetectorResult};

pub const MIN_REQUESTS: u32 = 10;
/// Fires at or below this share of new templates.
pub const THRESHOLD: f32 = 0.10;

pub fn evaluate(s: &ClientState) -> DetectorResult {
    if s.requests < MIN_REQUESTS {
        return DetectorResult::no_data(THRESHOLD);
    }
    let share = ratio(s.count(C::NewTemplates) * s.people(), s.count(C::Total)).min(1.0);
    DetectorResult::judged(share <= THRESHOLD, share, THRESHOLD)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{baseline::AppBaseline, Verdict};
    use crate::request::RequestView;

    fn run(paths: &[&'static str], n: usize) -> DetectorResult {
        let b = AppBaseline::boxed();
        let mut s = ClientState::ZERO;
        for i in 0..n {
            let v = RequestView {
                method: b"GET",
                path: paths[i % paths.len()].as_bytes(),
                status: 200,
                ..Default::default()
            };
            s.observe(&v, None, &b, 1_000_000 + i as u64 * 3_000);
        }
        evaluate(&s)
    }

    #[test]
    fn repetition_fires_variety_does_not() {
        assert_eq!(run(&["/login"], 20).verdict, Verdict::Fired);
        assert_eq!(run(&["/p/1", "/p/2", "/p/3"], 30).verdict, Verdict::Fired);
        let varied = ["/", "/a", "/b", "/c/1", "/d", "/e", "/f"];
        let r = run(&varied, 14);
        assert_eq!(r.verdict, Verdict::NotFired, "{r:?}");
        assert_eq!(run(&["/login"], 5).verdict, Verdict::NotEnoughData);
    }
}
