//! Synthetic sessions driven through observe / assess / decide with a fake
//! clock: people (including the hard cases) must never be flagged, every bot
//! type must be, and early. The generators are deliberately varied (random
//! think times, slow and fast bots, browser and library User-Agents, full and
//! scripted headers) so that the tests check the design, not one script.

mod bots;
mod common;
mod people;

use super::{assess, decide, AppBaseline, ClientState, SensitiveSet};
use crate::model::{BotType, Tolerance};
use crate::request::RequestView;
use bots::bot;
use common::{sensitive, Req, Rng, BROWSERS};
use people::{human, login_per_call, mistyping_human, nat, poller, sdk, shopper};

/// Drives a session; returns the 1-based request index of the first
/// detection, and its type.
fn drive(
    b: &mut AppBaseline,
    s: &SensitiveSet,
    reqs: &[Req],
    tol: Tolerance,
    learn: bool,
) -> Option<(usize, BotType)> {
    let mut state = ClientState::ZERO;
    for (i, r) in reqs.iter().enumerate() {
        let v = RequestView {
            method: r.method.as_bytes(),
            path: r.path.as_bytes(),
            query: b"",
            user_agent: Some(r.ua.as_bytes()),
            headers: r.headers,
            header_count: r.headers.count_ones() as u16 + 2,
            status: r.status,
            http_version: 1001,
            attack: r.attack,
        };
        let kind = s.classify(v.method, v.path);
        let obs = state.observe(&v, kind, b, r.t);
        let a = assess(&state, b, r.t);
        check_quiet(&state, b, &a, &obs, r.t);
        match decide(&a, tol, u8::MAX) {
            Some(d) => return Some((i + 1, d.bot_type)),
            None if learn => b.learn(&obs, a.lesson(), r.t),
            None => {}
        }
    }
    None
}

/// The request path's shortcut (`scoring::quiet`): a quiet record is
/// decided on by no tolerance and mask, and teaches the baseline what the
/// full assessment's lesson teaches. Every session of every test below
/// goes through it, the bots' as well as the people's.
fn check_quiet(
    state: &ClientState,
    b: &AppBaseline,
    a: &super::Assessment,
    obs: &super::Observation,
    now_ms: u64,
) {
    if !super::scoring::quiet(state, b) {
        return;
    }
    for tol in [Tolerance::Low, Tolerance::Normal, Tolerance::High] {
        assert_eq!(decide(a, tol, u8::MAX), None, "{state:?}");
    }
    let quick = crate::engine::quiet_lesson(state, obs, b, now_ms);
    let full = a.lesson();
    assert_eq!(
        quick.rate || obs.minute_sample == 0,
        full.rate || obs.minute_sample == 0
    );
    if obs.learn_endpoint && obs.template != 0 {
        assert_eq!(quick.endpoints, full.endpoints, "{state:?}");
    }
}

const T0: u64 = 1_700_000_000_000;

/// A baseline trained on two hours of ordinary browsing.
fn trained() -> Box<AppBaseline> {
    let mut b = AppBaseline::boxed();
    let s = sensitive();
    let mut rng = Rng::new(7);
    for i in 0..300u64 {
        let ua = rng.pick(BROWSERS);
        let n = 10 + rng.below(60) as usize;
        let reqs = human(&mut rng, T0 + i * 24_000, n, 4_000.0, ua);
        drive(&mut b, &s, &reqs, Tolerance::Normal, true);
    }
    assert!(b.is_trained());
    b
}

fn humans(rng: &mut Rng, t: u64) -> Vec<(&'static str, Vec<Req>)> {
    let ua = rng.pick(BROWSERS);
    vec![
        ("browsing", human(rng, t, 80, 3_000.0, ua)),
        ("power user", human(rng, t, 300, 700.0, ua)),
        ("mistyping", mistyping_human(rng, t)),
        ("nat", nat(rng, t)),
        (
            "mobile poller",
            poller(
                rng,
                t,
                "/api/notifications",
                30_000,
                300,
                "MyShopApp/3.2 (Android 14) okhttp/4.12.0",
            ),
        ),
        (
            "fast poller",
            poller(rng, t, "/api/status", 5_000, 400, "Go-http-client/1.1"),
        ),
        (
            "health probe",
            poller(rng, t, "/health", 10_000, 1000, "curl/8.5.0"),
        ),
        ("sdk", sdk(rng, t)),
        ("shopper", shopper(rng, t)),
        ("login per call", login_per_call(rng, t)),
    ]
}

#[test]
fn people_are_never_flagged() {
    let mut b = trained();
    let s = sensitive();
    let mut rng = Rng::new(99);
    let t = T0 + 3 * 3_600_000;
    let mut flagged = vec![];
    for round in 0..25 {
        for (name, reqs) in humans(&mut rng, t + round * 7_200_000) {
            for tol in [Tolerance::Normal, Tolerance::High] {
                if let Some((at, bot)) = drive(&mut b, &s, &reqs, tol, tol == Tolerance::Normal) {
                    flagged.push(format!("{name} as {bot} at {at} ({tol})"));
                }
            }
        }
    }
    assert!(flagged.is_empty(), "{flagged:#?}");
}

#[test]
fn every_bot_type_is_flagged_early() {
    let mut b = trained();
    let s = sensitive();
    let mut rng = Rng::new(1234);
    let t = T0 + 3 * 3_600_000;
    let mut report = vec![];
    for kind in BotType::ALL {
        let mut at = vec![];
        let runs = 40;
        for run in 0..runs {
            let slow = rng.chance(0.5);
            let reqs = bot(*kind, &mut rng, t + run * 600_000, 200, slow);
            if let Some((i, _)) = drive(&mut b, &s, &reqs, Tolerance::Normal, true) {
                at.push(i);
            }
        }
        at.sort_unstable();
        let median = at.get(at.len() / 2).copied().unwrap_or(usize::MAX);
        let ok = at.len() * 100 >= runs as usize * 98 && median <= 30;
        report.push((
            ok,
            format!("{kind}: {}/{runs} flagged, median {median}", at.len()),
        ));
    }
    println!("{report:#?}");
    assert!(report.iter().all(|r| r.0), "{report:#?}");
}

#[test]
fn tolerance_orders_the_reaction() {
    let mut b = trained();
    let s = sensitive();
    let mut rng = Rng::new(5);
    let reqs = bot(
        BotType::CredentialStuffing,
        &mut rng,
        T0 + 4 * 3_600_000,
        200,
        true,
    );
    let first = |tol| drive(&mut b.clone(), &s, &reqs, tol, false).map(|(i, _)| i);
    let (low, normal, high) = (
        first(Tolerance::Low),
        first(Tolerance::Normal),
        first(Tolerance::High),
    );
    assert!(
        low.is_some() && normal.is_some() && high.is_some(),
        "{low:?} {normal:?} {high:?}"
    );
    assert!(
        low <= normal && normal <= high,
        "{low:?} {normal:?} {high:?}"
    );
    let _ = &mut b;
}

#[test]
fn the_right_type_is_named() {
    let mut b = trained();
    let s = sensitive();
    let mut rng = Rng::new(77);
    for kind in BotType::ALL {
        // Slow bots: a fast one may be caught as a traffic spike first.
        let reqs = bot(
            *kind,
            &mut rng,
            T0 + 5 * 3_600_000,
            200,
            *kind != BotType::TrafficSpike,
        );
        let got = drive(&mut b, &s, &reqs, Tolerance::Normal, false).map(|(_, t)| t);
        assert_eq!(got, Some(*kind));
    }
}
