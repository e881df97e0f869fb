//! Each bot type must do its abuse, in each disguise, and the shop must
//! answer it the way the module's detectors expect (401s for stuffing, 404s
//! for probing and random ids, 201s for signups and spam).

use super::*;
use crate::sim::testkit::{assert_ordered, ctx, header, replay, shop};
use rand::SeedableRng;
use std::collections::HashSet;

fn plan(kind: BotKind, variant: Variant, seed: u64) -> Vec<Step> {
    bot(kind, variant, &ctx(1.0), &mut StdRng::seed_from_u64(seed))
}

fn share(statuses: &[u16], f: impl Fn(u16) -> bool) -> f64 {
    statuses.iter().filter(|&&s| f(s)).count() as f64 / statuses.len().max(1) as f64
}

#[test]
fn every_bot_runs_to_its_cap_in_order() {
    for kind in BotKind::ALL {
        for v in Variant::ALL {
            let steps = plan(kind, v, 1);
            assert_eq!(steps.len(), 300, "{kind:?}/{v:?}");
            assert_ordered(&steps);
            assert!(steps.iter().all(|s| header(s, "User-Agent").is_some()));
        }
    }
}

#[test]
fn bots_do_their_abuse_and_the_shop_answers_as_expected() {
    let shop = shop();
    for (seed, v) in Variant::ALL.into_iter().enumerate() {
        let run = |k| {
            // Distinct seeds, as in a real run: equal seeds would repeat account names.
            let steps = plan(k, v, 2 + seed as u64);
            let st = replay(&shop, &steps);
            (steps, st)
        };
        let (steps, st) = run(BotKind::CredentialStuffing);
        assert!(steps
            .iter()
            .filter(|s| s.method == "POST")
            .all(|s| s.path == "/login"));
        assert!(
            share(&st, |s| s == 401) > 0.8,
            "{v:?} stuffing mostly fails"
        );

        let (steps, st) = run(BotKind::FakeAccounts);
        assert!(steps
            .iter()
            .filter(|s| s.method == "POST")
            .all(|s| s.path == "/signup"));
        assert!(share(&st, |s| s == 201) > 0.45, "{v:?} signups succeed");

        let (_, st) = run(BotKind::Spam);
        assert!(share(&st, |s| s == 201) > 0.45, "{v:?} spam is accepted");

        let (steps, st) = run(BotKind::Scalping);
        let carts = steps.iter().filter(|s| s.path == "/cart").count();
        assert!(carts >= 200, "{v:?} scalper hammers the cart: {carts}");
        assert!(st.iter().all(|&s| s == 200));

        let (steps, st) = run(BotKind::Scraping);
        assert!(
            steps.iter().all(|s| !s.path.starts_with("/static/")),
            "scrapers load no assets"
        );
        let distinct: HashSet<&str> = steps.iter().map(|s| s.path.as_str()).collect();
        assert!(
            distinct.len() > 250,
            "{v:?} scraping is wide: {}",
            distinct.len()
        );
        assert!(st.iter().all(|&s| s == 200));

        let (_, st) = run(BotKind::VulnerabilityScanning);
        assert!(
            share(&st, |s| s == 404) > 0.6,
            "{v:?} probing hits 404s: {}",
            share(&st, |s| s == 404)
        );
        assert!(st.iter().all(|&s| s < 500));

        let (steps, st) = run(BotKind::Bola);
        assert!(steps.iter().all(|s| s.path.contains("/users/")));
        if v == Variant::Rotating {
            assert!(share(&st, |s| s == 404) > 0.6, "random ids mostly miss");
        } else {
            assert!(
                share(&st, |s| s == 200) > 0.5,
                "{v:?} sequential walk finds users"
            );
        }

        let (steps, st) = run(BotKind::TrafficSpike);
        let span = steps.last().map(|s| s.at.as_secs_f64()).unwrap_or(0.0);
        assert!(span < 3.0, "{v:?} a spike is a burst: {span} s for 300");
        assert!(st.iter().all(|&s| s == 200));
    }
}

#[test]
fn disguises_differ_as_designed() {
    let uas = |steps: &[Step]| {
        steps
            .iter()
            .filter_map(|s| header(s, "User-Agent"))
            .collect::<HashSet<_>>()
            .len()
    };
    let plain = plan(BotKind::Scraping, Variant::Plain, 3);
    assert_eq!(uas(&plain), 1);
    assert!(plain.iter().all(|s| header(s, "Sec-Fetch-Mode").is_none()));
    let span = plain.last().map(|s| s.at.as_secs_f64()).unwrap_or(0.0);
    assert!(span < 300.0 * 0.016, "plain bots are fast");

    let paced = plan(BotKind::Bola, Variant::Paced, 3);
    let gaps: HashSet<u128> = paced
        .windows(2)
        .map(|w| (w[1].at - w[0].at).as_millis())
        .collect();
    assert!(gaps.len() <= 2, "evenly spaced: {gaps:?}");

    let browser = plan(BotKind::Scraping, Variant::Browser, 3);
    assert_eq!(uas(&browser), 1);
    assert!(browser
        .iter()
        .all(|s| header(s, "Sec-Fetch-Mode").is_some() && header(s, "Accept-Language").is_some()));

    let rotating = plan(BotKind::CredentialStuffing, Variant::Rotating, 3);
    assert!(uas(&rotating) > 20, "many identities: {}", uas(&rotating));
    let changes = rotating
        .windows(2)
        .filter(|w| header(&w[0], "User-Agent") != header(&w[1], "User-Agent"))
        .count();
    assert!(
        changes > 250,
        "a new identity on nearly every request: {changes}"
    );
}

#[test]
fn scanners_send_payloads_verbatim() {
    let steps = plan(BotKind::VulnerabilityScanning, Variant::Plain, 4);
    let paths: HashSet<&str> = steps.iter().map(|s| s.path.as_str()).collect();
    for p in [
        "/.env",
        "/.git/config",
        "/wp-login.php",
        "/cgi-bin/../../../../etc/passwd",
        "/products?id=1'%20OR%20'1'='1",
    ] {
        assert!(paths.contains(p), "{p} missing");
    }
    assert!(steps
        .iter()
        .any(|s| s.method == "POST" && String::from_utf8_lossy(&s.body).contains("%27")));
    let ua = header(&steps[0], "User-Agent").unwrap_or("");
    assert!(SCANNER_UAS.contains(&ua), "{ua}");
}
