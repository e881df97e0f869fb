//! Detector `response_codes`: what the application answered the client.
//! Credential stuffing collects 401/403 (auth failures); scanners and blind
//! enumeration collect 404 (probing); BOLA collects all three (denied).
//!
//! Each figure is a share of the client's recent requests and needs a minimum
//! count as well, so that a user who mistypes a password two or three times,
//! or follows one dead link, fires nothing.

use super::state::{ClientState, C};
use super::{ratio, reaches, DetectorResult};

pub const MIN_REQUESTS: u32 = 5;

/// (minimum decayed count, minimum share) per sub-result.
pub const AUTH_FAILURES: (f32, f32) = (5.0, 0.5);
pub const NOT_FOUND: (f32, f32) = (5.0, 0.3);
pub const DENIED: (f32, f32) = (8.0, 0.4);
/// An auth-failure result at this share (and twice the count) is strong.
pub const STRONG_SHARE: f32 = 0.8;

/// The three sub-results of the detector.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResponseCodes {
    /// 401 and 403.
    pub auth_failures: DetectorResult,
    /// 404.
    pub not_found: DetectorResult,
    /// 401, 403 and 404.
    pub denied: DetectorResult,
}

pub fn evaluate(s: &ClientState) -> ResponseCodes {
    let auth = s.count(C::AuthFail);
    let missing = s.count(C::NotFound);
    let total = s.count(C::Total);
    let judge = |count: f32, (min_count, min_share): (f32, f32)| {
        if s.requests < MIN_REQUESTS {
            return DetectorResult::no_data(min_share);
        }
        let share = ratio(count, total).min(1.0);
        DetectorResult::judged(
            reaches(count, min_count) && share >= min_share,
            share,
            min_share,
        )
    };
    ResponseCodes {
        auth_failures: judge(auth, AUTH_FAILURES),
        not_found: judge(missing, NOT_FOUND),
        denied: judge(auth + missing, DENIED),
    }
}

/// False only when no sub-result of [`evaluate`] can fire: each needs
/// enough requests and its count at its minimum first. A few loads and
/// compares, where `evaluate` divides three times: the quiet check
/// (`scoring::quiet`) asks this first.
pub fn may_fire(s: &ClientState) -> bool {
    let auth = s.count(C::AuthFail);
    let missing = s.count(C::NotFound);
    s.requests >= MIN_REQUESTS
        && (reaches(auth, AUTH_FAILURES.0)
            || reaches(missing, NOT_FOUND.0)
            || reaches(auth + missing, DENIED.0))
}

/// Auth failures that dominate the traffic, at twice the minimum count.
pub fn auth_failures_strong(s: &ClientState, r: &DetectorResult) -> bool {
    r.fired() && r.figure >= STRONG_SHARE && reaches(s.count(C::AuthFail), 2.0 * AUTH_FAILURES.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{baseline::AppBaseline, Verdict};
    use crate::request::RequestView;

    fn run(statuses: &[u16]) -> (ResponseCodes, ClientState) {
        let b = AppBaseline::boxed();
        let mut s = ClientState::ZERO;
        for (i, &status) in statuses.iter().enumerate() {
            let v = RequestView {
                method: b"GET",
                path: b"/x",
                status,
                ..Default::default()
            };
            s.observe(&v, None, &b, 1_000_000 + i as u64 * 1_000);
        }
        (evaluate(&s), s)
    }

    #[test]
    fn stuffing_and_probing_fire() {
        let mut st = vec![401; 18];
        st.push(200);
        let (r, s) = run(&st);
        assert_eq!(r.auth_failures.verdict, Verdict::Fired);
        assert!(auth_failures_strong(&s, &r.auth_failures));
        assert_eq!(r.denied.verdict, Verdict::Fired);
        assert_eq!(r.not_found.verdict, Verdict::NotFired);
        let (r, _) = run(&[404, 200, 404, 404, 200, 404, 404, 404, 200, 200]);
        assert_eq!(r.not_found.verdict, Verdict::Fired);
    }

    #[test]
    fn mistyped_passwords_do_not() {
        let (r, _) = run(&[200, 200, 401, 401, 401, 200, 200, 200]);
        assert_eq!(r.auth_failures.verdict, Verdict::NotFired, "{r:?}");
        let (r, _) = run(&[401, 401]);
        assert_eq!(r.auth_failures.verdict, Verdict::NotEnoughData);
    }
}
