//! Detector `business_logic`: how much of the client's recent traffic goes to
//! the application's sensitive endpoints of one kind (logins, sign-ups,
//! feedback, checkout, reservations, other critical operations), as declared in
//! the profile.
//!
//! People use these endpoints a few times per visit and between other pages;
//! abuse repeats them: hundreds of logins, sign-ups or carts. The figure is the
//! decayed count of the kind's requests (about the last ten minutes); it fires
//! when the count reaches the kind's minimum *and* the kind makes up a
//! minimum share of the client's traffic, so a NAT address where many people
//! log in between their browsing does not fire. Twice the count at a share of
//! 60 % or more is a "strong" result (see scoring).

use super::state::{ClientState, C};
use super::{ratio, reaches, DetectorResult, Verdict};
use crate::model::SensitiveKind;

/// Requests before shares mean anything.
pub const MIN_REQUESTS: u32 = 5;
/// Share of the client's traffic from which a result is strong.
pub const STRONG_SHARE: f32 = 0.6;

/// Per kind: (minimum decayed count, minimum share of the client's requests).
/// One table, in the order of [`SensitiveKind::ALL`].
pub const RULES: [(SensitiveKind, f32, f32); 6] = [
    (SensitiveKind::Auth, 6.0, 0.4),
    (SensitiveKind::Signup, 4.0, 0.3),
    (SensitiveKind::Feedback, 5.0, 0.3),
    (SensitiveKind::Checkout, 6.0, 0.4),
    (SensitiveKind::Reserve, 6.0, 0.4),
    (SensitiveKind::Critical, 10.0, 0.5),
];

/// The result for one kind, with the share behind it. No data while the
/// client is new or sent nothing of this kind.
pub fn evaluate(s: &ClientState, kind: SensitiveKind) -> (DetectorResult, f32) {
    let (min_count, min_share) = rule(kind);
    let count = s.kind_count(kind);
    if s.requests < MIN_REQUESTS || count < 0.5 {
        return (DetectorResult::no_data(min_count), 0.0);
    }
    let share = ratio(count, s.count(C::Total)).min(1.0);
    let r = DetectorResult::judged(
        reaches(count, min_count) && share >= min_share,
        count,
        min_count,
    );
    (r, share)
}

/// Fired with twice the minimum count and a dominant share, or with
/// `RELENTLESS` times the minimum count whatever the share: nobody posts
/// feedback or signs up twenty times in ten minutes between ordinary pages.
pub fn is_strong(r: &DetectorResult, share: f32) -> bool {
    r.verdict == Verdict::Fired
        && ((reaches(r.figure, 2.0 * r.threshold) && share >= STRONG_SHARE)
            || reaches(r.figure, RELENTLESS * r.threshold))
}

/// Multiple of a kind's minimum count that is strong at any share.
pub const RELENTLESS: f32 = 4.0;

pub fn rule(kind: SensitiveKind) -> (f32, f32) {
    // RULES is in `SensitiveKind::ALL` order (asserted below): one index.
    RULES
        .get(kind.index())
        .map_or((f32::MAX, 1.0), |(_, c, s)| (*c, *s))
}

const _: () = {
    let mut i = 0;
    while i < RULES.len() {
        assert!(RULES[i].0 as usize == i);
        i += 1;
    }
    assert!(RULES.len() == SensitiveKind::COUNT);
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::baseline::AppBaseline;
    use crate::request::RequestView;

    /// `pattern[i]` says whether request i is a login.
    fn run(pattern: &[bool], n: usize) -> (DetectorResult, f32) {
        let b = AppBaseline::boxed();
        let mut s = ClientState::ZERO;
        for i in 0..n {
            let login = pattern[i % pattern.len()];
            let v = RequestView {
                method: if login { b"POST" } else { b"GET" },
                path: if login { b"/login" } else { b"/page" },
                status: 200,
                ..Default::default()
            };
            let kind = login.then_some(SensitiveKind::Auth);
            s.observe(&v, kind, &b, 1_000_000 + i as u64 * 2_000);
        }
        evaluate(&s, SensitiveKind::Auth)
    }

    #[test]
    fn repeated_logins_fire_strongly() {
        let (r, share) = run(&[true], 15);
        assert_eq!(r.verdict, Verdict::Fired);
        assert!(is_strong(&r, share));
    }

    #[test]
    fn a_form_then_post_loop_is_strong_by_count() {
        // GET the form, POST it, again and again: half the traffic, never
        // the dominant share, but far too many posts for a person.
        let (r, share) = run(&[false, true], 60);
        assert!(r.fired() && share < STRONG_SHARE, "{r:?} {share}");
        assert!(is_strong(&r, share), "{r:?}");
        let (r, share) = run(&[false, true], 14);
        assert!(!is_strong(&r, share), "a handful is not strong: {r:?}");
    }

    #[test]
    fn a_few_mistyped_passwords_do_not() {
        let mut p = vec![false; 10];
        p[3] = true;
        p[4] = true;
        p[5] = true;
        p[6] = true;
        let (r, _) = run(&p, 10);
        assert_eq!(r.verdict, Verdict::NotFired, "{r:?}");
    }

    #[test]
    fn many_logins_diluted_in_browsing_do_not() {
        // A NAT address: one login every five requests, forever.
        let (r, share) = run(&[true, false, false, false, false], 200);
        assert!(share < 0.25);
        assert_eq!(r.verdict, Verdict::NotFired, "{r:?}");
    }

    #[test]
    fn no_data_without_the_kind() {
        let (r, _) = run(&[false], 30);
        assert_eq!(r.verdict, Verdict::NotEnoughData);
    }
}
