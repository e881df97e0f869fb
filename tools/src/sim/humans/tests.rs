//! The human models must stay honest: real links, assets once, browser
//! headers, human pauses, and only the errors people really make.

use super::*;
use crate::sim::testkit::{assert_ordered, ctx, header, replay, shop};
use rand::SeedableRng;
use std::collections::HashSet;
use std::time::Duration;

fn plans(kind: HumanKind, n: u64) -> Vec<Vec<Step>> {
    let c = ctx(1.0);
    (0..n)
        .map(|seed| human(kind, &c, &mut StdRng::seed_from_u64(seed)))
        .collect()
}

#[test]
fn browsing_people_follow_real_links_and_load_assets_once() {
    let shop = shop();
    let mut loaded_assets = 0;
    let mut logins_with_typos = 0;
    for steps in plans(HumanKind::Browser, 150) {
        assert!(!steps.is_empty() && steps.len() <= 200);
        assert_ordered(&steps);
        let first = &steps[0];
        assert_eq!(
            (first.method, header(first, "Sec-Fetch-Mode")),
            ("GET", Some("navigate"))
        );
        let assets: Vec<&str> = steps
            .iter()
            .map(|s| s.path.as_str())
            .filter(|p| p.starts_with("/static/"))
            .collect();
        let unique: HashSet<&&str> = assets.iter().collect();
        assert_eq!(
            unique.len(),
            assets.len(),
            "the browser cache serves repeats"
        );
        loaded_assets += usize::from(!assets.is_empty());
        let ua: HashSet<&str> = steps
            .iter()
            .filter_map(|s| header(s, "User-Agent"))
            .collect();
        assert_eq!(ua.len(), 1, "one browser per person");
        for s in &steps {
            if let Some(r) = header(s, "Referer") {
                assert!(
                    r.starts_with("http://127.0.0.1:8080/") || r == "https://www.google.com/",
                    "{r}"
                );
            }
        }
        let statuses = replay(&shop, &steps);
        let mut failed_logins = 0;
        for (s, st) in steps.iter().zip(&statuses) {
            match (s.path.as_str(), *st) {
                ("/login", 401) => failed_logins += 1,
                (_, 200 | 201) => {}
                (p, st) => panic!("a person got {st} for {} {p}", s.method),
            }
        }
        assert!(failed_logins <= 2);
        logins_with_typos += usize::from(failed_logins > 0);
    }
    assert!(
        loaded_assets >= 140,
        "nearly everyone loads some assets: {loaded_assets}"
    );
    assert!(
        logins_with_typos >= 3,
        "some people mistype their password: {logins_with_typos}"
    );
}

#[test]
fn people_pause_like_people() {
    let mut gaps = Vec::new();
    for steps in plans(HumanKind::Browser, 60) {
        let pages: Vec<Duration> = steps
            .iter()
            .filter(|s| !s.path.starts_with("/static/"))
            .map(|s| s.at)
            .collect();
        gaps.extend(pages.windows(2).map(|w| (w[1] - w[0]).as_secs_f64()));
    }
    gaps.sort_by(f64::total_cmp);
    let median = gaps[gaps.len() / 2];
    let p90 = gaps[gaps.len() * 9 / 10];
    assert!((3.0..15.0).contains(&median), "median page gap {median}");
    assert!(p90 > 2.0 * median, "heavy tail: p90 {p90}");
}

#[test]
fn sdk_users_call_the_api_at_a_human_pace() {
    let shop = shop();
    for steps in plans(HumanKind::Sdk, 30) {
        assert!(steps
            .iter()
            .all(|s| s.path.starts_with("/api/") && !s.cookies));
        assert!(replay(&shop, &steps).iter().all(|&st| st == 200));
        let span = steps.last().map(|s| s.at).unwrap_or_default();
        assert!(
            span.as_secs_f64() >= 2.0 * (steps.len() - 1) as f64,
            "seconds between calls"
        );
    }
}

#[test]
fn hard_cases() {
    let c = ctx(1.0);
    let shop = shop();
    let plan = |case| hard(case, &c, &mut StdRng::seed_from_u64(5));

    let nat = plan(HardCase::Nat);
    assert_ordered(&nat);
    let jars: HashSet<u8> = nat.iter().map(|s| s.jar).collect();
    assert_eq!(jars.len(), 20);
    let uas: HashSet<&str> = nat.iter().filter_map(|s| header(s, "User-Agent")).collect();
    assert!(
        uas.len() >= 8,
        "many browsers behind one address: {}",
        uas.len()
    );
    assert!(replay(&shop, &nat)
        .iter()
        .all(|&s| matches!(s, 200 | 201 | 401)));

    let monitor = plan(HardCase::Monitor);
    assert_eq!(monitor.len(), 90);
    assert!(monitor.iter().all(|s| s.path == "/health"));
    for w in monitor.windows(2) {
        let gap = (w[1].at - w[0].at).as_secs_f64();
        assert!((10.0..10.03).contains(&gap), "probe every 10 s: {gap}");
    }

    let app = plan(HardCase::MobileApp);
    let polls = app.iter().filter(|s| s.path == "/api/status").count();
    assert!(polls * 10 >= app.len() * 8, "mostly polling");
    assert!(app.iter().all(|s| header(s, "Authorization").is_some()));
    assert!(replay(&shop, &app).iter().all(|&s| s == 200));

    let partner = plan(HardCase::PartnerApi);
    assert_eq!(partner.len(), 100);
    assert_eq!(partner[0].path, "/api/products?page=1");
    assert_eq!(partner[59].path, "/api/products?page=60");
    assert!(replay(&shop, &partner).iter().all(|&s| s == 200));

    let power = plan(HardCase::PowerUser);
    let pages: Vec<&Step> = power
        .iter()
        .filter(|s| !s.path.starts_with("/static/"))
        .collect();
    let span = pages.last().map(|s| s.at.as_secs_f64()).unwrap_or(0.0);
    assert!(pages.len() >= 40, "many pages: {}", pages.len());
    assert!(
        span / (pages.len() as f64) < 3.0,
        "quickly: {span} s for {} pages",
        pages.len()
    );
    assert!(
        replay(&shop, &power)
            .iter()
            .all(|&s| matches!(s, 200 | 201)),
        "a power user logs in right first"
    );
}

#[test]
fn plans_are_reproducible() {
    let c = ctx(0.05);
    let a = human(HumanKind::Browser, &c, &mut StdRng::seed_from_u64(11));
    let b = human(HumanKind::Browser, &c, &mut StdRng::seed_from_u64(11));
    let key = |p: &[Step]| p.iter().map(|s| (s.at, s.path.clone())).collect::<Vec<_>>();
    assert_eq!(key(&a), key(&b));
}
