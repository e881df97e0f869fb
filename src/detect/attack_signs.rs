//! Detector `attack_signs`: requests carrying attack signatures (the
//! signatures module sets `RequestView::attack`). One signature can be a false
//! positive on odd but legitimate input; several within minutes are a scanner
//! or an attacker. The figure is the decayed count (about the last ten
//! minutes).

use super::state::{ClientState, C};
use super::{reaches, DetectorResult};

/// Fires at this many recent attack-signed requests.
pub const THRESHOLD: f32 = 3.0;

pub fn evaluate(s: &ClientState) -> DetectorResult {
    if s.requests == 0 {
        return DetectorResult::no_data(THRESHOLD);
    }
    let n = s.count(C::Attacks);
    DetectorResult::judged(reaches(n, THRESHOLD), n, THRESHOLD)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{baseline::AppBaseline, Verdict};
    use crate::model::AttackClass;
    use crate::request::RequestView;

    #[test]
    fn counts_signed_requests() {
        let b = AppBaseline::boxed();
        let mut s = ClientState::ZERO;
        assert_eq!(evaluate(&s).verdict, Verdict::NotEnoughData);
        let mut v = RequestView {
            method: b"GET",
            path: b"/q",
            status: 200,
            attack: Some(AttackClass::Sqli),
            ..Default::default()
        };
        s.observe(&v, None, &b, 1_000);
        s.observe(&v, None, &b, 2_000);
        assert_eq!(evaluate(&s).verdict, Verdict::NotFired);
        v.attack = Some(AttackClass::Traversal);
        s.observe(&v, None, &b, 3_000);
        assert_eq!(evaluate(&s).verdict, Verdict::Fired);
        assert_eq!(s.attack_classes.count_ones(), 2);
    }
}
