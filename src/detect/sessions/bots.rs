//! Bots of every type, fast or slow-ish and random, with browser or library
//! User-Agents and full or scripted headers.

use super::common::{Req, Rng, BROWSERS, BROWSER_HEADERS, LIBRARIES, SCANNERS, SCRIPT_HEADERS};
use crate::model::{AttackClass, BotType};

/// Bot User-Agent and headers: a real browser's (stealthy or scripted
/// headers) or a library's.
fn bot_identity(rng: &mut Rng) -> (&'static str, u16) {
    match rng.below(3) {
        0 => (rng.pick(BROWSERS), BROWSER_HEADERS),
        1 => (rng.pick(BROWSERS), SCRIPT_HEADERS),
        _ => (rng.pick(LIBRARIES), SCRIPT_HEADERS),
    }
}

/// Gap generator: fast, or slow-ish and random.
fn bot_gap(rng: &mut Rng, slow: bool) -> u64 {
    if slow {
        1_000 + rng.below(4_000)
    } else {
        100 + rng.below(400)
    }
}

pub fn bot(kind: BotType, rng: &mut Rng, t0: u64, n: usize, slow: bool) -> Vec<Req> {
    let (ua, headers) = bot_identity(rng);
    let mut t = t0;
    let start_id = 1 + rng.below(10_000);
    let products = [1 + rng.below(500), 1 + rng.below(500), 1 + rng.below(500)];
    (0..n as u64)
        .map(|i| {
            t += match kind {
                // A flood, or a burst at about ten to fifteen times the
                // learned rate (40 per minute here).
                BotType::TrafficSpike if slow => 100 + rng.below(50),
                BotType::TrafficSpike => 25 + rng.below(30),
                _ => bot_gap(rng, slow),
            };
            let mut r = Req {
                t,
                method: "GET",
                path: String::new(),
                status: 200,
                ua,
                headers,
                attack: None,
            };
            match kind {
                BotType::CredentialStuffing => {
                    r.method = "POST";
                    r.path = "/api/login".into();
                    r.status = if rng.chance(0.95) { 401 } else { 200 };
                }
                BotType::FakeAccounts => {
                    (r.method, r.path, r.status) = if i % 3 == 0 {
                        ("GET", "/signup".into(), 200)
                    } else {
                        ("POST", "/api/signup".into(), 201)
                    };
                }
                BotType::Spam => {
                    r.method = "POST";
                    r.path = "/api/feedback".into();
                    r.status = 201;
                }
                BotType::Scalping => {
                    let p = products[(i % 3) as usize];
                    (r.method, r.path) = if i % 4 == 0 {
                        ("GET", format!("/api/products/{p}"))
                    } else {
                        ("POST", format!("/api/cart/{p}"))
                    };
                }
                BotType::Scraping => {
                    // Half walk ids in order, half follow links in no order.
                    let id = if start_id % 2 == 0 {
                        start_id + i
                    } else {
                        1 + rng.below(100_000)
                    };
                    r.path = if i % 20 == 0 {
                        "/api/products".into()
                    } else {
                        format!("/api/products/{id}")
                    };
                }
                BotType::VulnerabilityScanning => {
                    if rng.chance(0.5) {
                        r.ua = rng.pick(SCANNERS);
                    }
                    let probes = [
                        "/.env",
                        "/wp-admin/",
                        "/phpmyadmin/",
                        "/.git/config",
                        "/admin.php",
                        "/server-status",
                        "/api/v1/debug",
                    ];
                    r.path = format!("{}{}", rng.pick(&probes), if i % 2 == 0 { "" } else { "x" });
                    r.status = if rng.chance(0.8) { 404 } else { 403 };
                    if rng.chance(0.3) {
                        r.attack = Some(AttackClass::Sqli);
                        r.path = "/api/search".into();
                        r.status = 200;
                    }
                }
                BotType::Bola => {
                    let id = if rng.chance(0.5) {
                        start_id + i
                    } else {
                        1 + rng.below(100_000)
                    };
                    r.path = format!("/api/users/{id}");
                    let denied = if start_id % 2 == 0 { 403 } else { 401 };
                    r.status = if rng.chance(0.8) { denied } else { 200 };
                }
                BotType::TrafficSpike => {
                    let paths = ["/", "/api/products", "/api/search", "/api/cart"];
                    r.path = rng.pick(&paths).into();
                }
            }
            r
        })
        .collect()
}
