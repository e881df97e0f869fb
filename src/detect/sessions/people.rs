//! People, including the hard cases: fast power users, NAT addresses,
//! pollers, health probes, SDKs, mistyped passwords, big carts.

use super::common::{Req, Rng, BROWSERS, BROWSER_HEADERS, LIBRARIES, SCRIPT_HEADERS};

pub fn human(rng: &mut Rng, t0: u64, n: usize, median_ms: f64, ua: &'static str) -> Vec<Req> {
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
pub fn mistyping_human(rng: &mut Rng, t0: u64) -> Vec<Req> {
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
pub fn nat(rng: &mut Rng, t0: u64) -> Vec<Req> {
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
pub fn poller(
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
pub fn shopper(rng: &mut Rng, t0: u64) -> Vec<Req> {
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
pub fn login_per_call(rng: &mut Rng, t0: u64) -> Vec<Req> {
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
pub fn sdk(rng: &mut Rng, t0: u64) -> Vec<Req> {
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
