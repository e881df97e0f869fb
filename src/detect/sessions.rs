//! Synthetic sessions driven through observe / assess / decide with a fake
//! clock: people (including the hard cases) must never be flagged, every bot
//! type must be, and early. The generators are deliberately varied (random
//! think times, slow and fast bots, browser and library User-Agents, full and
//! scripted headers) so that the tests check the design, not one script.

use super::{assess, decide, AppBaseline, ClientState, SensitiveSet};
use crate::model::{AttackClass, BotType, SensitiveKind, Tolerance};
use crate::request::{header_bits as h, RequestView};

/// A tiny deterministic PRNG (xorshift64*), so every run is the same.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Log-normal think time around `median_ms`.
    fn think(&mut self, median_ms: f64, sigma: f64) -> u64 {
        let z: f64 = (0..12).map(|_| self.unit()).sum::<f64>() - 6.0;
        (median_ms * (sigma * z).exp()).clamp(30.0, 600_000.0) as u64
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0.0.0",
];
const LIBRARIES: &[&str] = &[
    "python-requests/2.31.0",
    "curl/8.5.0",
    "Go-http-client/1.1",
    "okhttp/4.12.0",
];
const SCANNERS: &[&str] = &[
    "sqlmap/1.8",
    "Mozilla/5.00 (Nikto/2.5.0)",
    "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
];
const BROWSER_HEADERS: u16 =
    h::ACCEPT | h::ACCEPT_LANGUAGE | h::ACCEPT_ENCODING | h::COOKIE | h::SEC_FETCH;
const SCRIPT_HEADERS: u16 = h::ACCEPT | h::ACCEPT_ENCODING;

#[derive(Clone, Debug)]
struct Req {
    t: u64,
    method: &'static str,
    path: String,
    status: u16,
    ua: &'static str,
    headers: u16,
    attack: Option<AttackClass>,
}

fn sensitive() -> SensitiveSet {
    SensitiveSet::compile(&[
        ("POST", "/api/login", SensitiveKind::Auth),
        ("POST", "/api/signup", SensitiveKind::Signup),
        ("POST", "/api/feedback", SensitiveKind::Feedback),
        ("POST", "/api/cart/**", SensitiveKind::Checkout),
        ("POST", "/api/reserve/*", SensitiveKind::Reserve),
    ])
    .unwrap_or_default()
}

/// One person browsing the shop.
fn human(rng: &mut Rng, t0: u64, n: usize, median_ms: f64, ua: &'static str) -> Vec<Req> {
    let mut out = Vec::with_capacity(n);
    let mut t = t0;
    let assets = rng.chance(0.5);
    fn push(
        out: &mut Vec<Req>,
        ua: &'static str,
        t: u64,
        method: &'static str,
        path: String,
        status: u16,
    ) {
        out.push(Req {
            t,
            method,
            path,
            status,
            ua,
            headers: BROWSER_HEADERS,
            attack: None,
        });
    }
    push(&mut out, ua, t, "GET", "/".into(), 200);
    if assets {
        for a in ["/static/app.js", "/static/app.css", "/static/logo.svg"] {
            t += rng.below(80);
            push(&mut out, ua, t, "GET", a.into(), 200);
        }
    }
    while out.len() < n {
        t += rng.think(median_ms, 1.0);
        match rng.below(100) {
            0..=29 => {
                // Listing pages differ only in the query, which is not the path.
                push(&mut out, ua, t, "GET", "/api/products".into(), 200);
            }
            30..=64 => push(
                &mut out,
                ua,
                t,
                "GET",
                format!("/api/products/{}", 1 + rng.below(5000)),
                200,
            ),
            65..=74 => push(&mut out, ua, t, "GET", "/api/search".into(), 200),
            75..=81 => push(&mut out, ua, t, "GET", "/api/cart".into(), 200),
            82..=86 => push(
                &mut out,
                ua,
                t,
                "POST",
                format!("/api/cart/{}", 1 + rng.below(5000)),
                201,
            ),
            87..=90 => push(&mut out, ua, t, "GET", "/api/users/me".into(), 200),
            91..=93 => push(
                &mut out,
                ua,
                t,
                "GET",
                format!("/api/orders/{}", 1 + rng.below(100)),
                200,
            ),
            94..=95 => push(
                &mut out,
                ua,
                t,
                "GET",
                format!("/api/products/{}/reviews", 1 + rng.below(5000)),
                200,
            ),
            96 => push(&mut out, ua, t, "GET", "/api/nope".into(), 404),
            _ => push(&mut out, ua, t, "POST", "/api/feedback".into(), 201),
        }
        // A page view fires a few API calls at once.
        for _ in 0..rng.below(3) {
            t += rng.below(150);
            push(&mut out, ua, t, "GET", "/api/recommendations".into(), 200);
        }
    }
    out.truncate(n);
    out
}

/// A person who mistypes the password `fails` times, then browses.
fn mistyping_human(rng: &mut Rng, t0: u64) -> Vec<Req> {
    let ua = rng.pick(BROWSERS);
    let mut out = vec![];
    let mut t = t0;
    let fails = 2 + rng.below(2);
    for i in 0..=fails {
        t += rng.think(6_000.0, 0.5);
        let status = if i < fails { 401 } else { 200 };
        out.push(Req {
            t,
            method: "POST",
            path: "/api/login".into(),
            status,
            ua,
            headers: BROWSER_HEADERS,
            attack: None,
        });
    }
    out.extend(human(rng, t + 2_000, 40, 3_000.0, ua));
    out
}

/// Ten people behind one address, sessions interleaved.
fn nat(rng: &mut Rng, t0: u64) -> Vec<Req> {
    let mut all: Vec<Req> = (0..10)
        .flat_map(|i| {
            let ua = BROWSERS[i % BROWSERS.len()];
            let start = t0 + rng.below(300_000);
            let n = 30 + rng.below(60) as usize;
            let mut s = human(rng, start, n, 3_000.0, ua);
            if rng.chance(0.5) {
                s.insert(
                    0,
                    Req {
                        t: start,
                        method: "POST",
                        path: "/api/login".into(),
                        status: 200,
                        ua,
                        headers: BROWSER_HEADERS,
                        attack: None,
                    },
                );
            }
            s
        })
        .collect();
    all.sort_by_key(|r| r.t);
    all
}

/// Something polling one endpoint at a fixed period.
fn poller(
    rng: &mut Rng,
    t0: u64,
    path: &str,
    period_ms: u64,
    n: usize,
    ua: &'static str,
) -> Vec<Req> {
    (0..n as u64)
        .map(|i| Req {
            t: t0 + i * period_ms + rng.below(200),
            method: "GET",
            path: path.into(),
            status: 200,
            ua,
            headers: SCRIPT_HEADERS,
            attack: None,
        })
        .collect()
}

/// A shopper who fills a large cart: views, then adds, many times.
fn shopper(rng: &mut Rng, t0: u64) -> Vec<Req> {
    let ua = rng.pick(BROWSERS);
    let mut t = t0;
    let mut out = vec![];
    for _ in 0..15 {
        let id = 1 + rng.below(5000);
        for (method, path, status) in [
            ("GET", "/api/products".to_string(), 200),
            ("GET", format!("/api/products/{id}"), 200),
            ("POST", format!("/api/cart/{id}"), 201),
        ] {
            t += rng.think(2_500.0, 0.8);
            out.push(Req {
                t,
                method,
                path,
                status,
                ua,
                headers: BROWSER_HEADERS,
                attack: None,
            });
        }
    }
    out
}

/// A script that logs in before each call, once a minute, for an hour.
fn login_per_call(rng: &mut Rng, t0: u64) -> Vec<Req> {
    let ua = rng.pick(LIBRARIES);
    let mut out = vec![];
    for i in 0..60 {
        let mut t = t0 + i * 60_000 + rng.below(2_000);
        out.push(Req {
            t,
            method: "POST",
            path: "/api/login".into(),
            status: 200,
            ua,
            headers: SCRIPT_HEADERS,
            attack: None,
        });
        for _ in 0..2 + rng.below(2) {
            t += 50 + rng.below(300);
            out.push(Req {
                t,
                method: "GET",
                path: "/api/orders".into(),
                status: 200,
                ua,
                headers: SCRIPT_HEADERS,
                attack: None,
            });
        }
    }
    out
}

/// An SDK integration using the API normally: list, then read some items.
fn sdk(rng: &mut Rng, t0: u64) -> Vec<Req> {
    let ua = rng.pick(LIBRARIES);
    let mut t = t0;
    let mut out = vec![];
    for _ in 0..20 {
        t += 1_000 + rng.below(4_000);
        out.push(Req {
            t,
            method: "GET",
            path: "/api/orders".into(),
            status: 200,
            ua,
            headers: SCRIPT_HEADERS,
            attack: None,
        });
        for _ in 0..rng.below(4) {
            t += 100 + rng.below(500);
            let path = format!("/api/orders/{}", 1 + rng.below(300));
            out.push(Req {
                t,
                method: "GET",
                path,
                status: 200,
                ua,
                headers: SCRIPT_HEADERS,
                attack: None,
            });
        }
    }
    out
}

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

fn bot(kind: BotType, rng: &mut Rng, t0: u64, n: usize, slow: bool) -> Vec<Req> {
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
        match decide(&a, tol, u8::MAX) {
            Some(d) => return Some((i + 1, d.bot_type)),
            None if learn => b.learn(&obs, &a, r.t),
            None => {}
        }
    }
    None
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
