//! Plans for legitimate clients. These guard against false positives, so they
//! are deliberately honest: people load a page and then its assets (once;
//! after that the browser cache serves them), follow links that exist on the
//! page they are on, pause for heavy-tailed human times, mistype a password,
//! and send the headers their browser sends. The hard cases (NAT, power users,
//! apps, monitors, partner integrations) are legitimate traffic that looks
//! automated on purpose.

mod visit;

use super::browsers::{Browser, Tool};
use super::clients::{Ctx, HardCase, HumanKind};
use super::plan::{merge, Clock, Step};
use crate::catalog::SEARCH_WORDS;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::Rng;
use visit::{browse, person, Intents, Visit};

/// Someone scripting the shop's API by hand: curl, a notebook, Postman.
fn sdk_user(ctx: &Ctx, rng: &mut StdRng) -> Vec<Step> {
    let tool = *[
        Tool::CURL,
        Tool::REQUESTS,
        Tool::OKHTTP,
        Tool::AXIOS,
        Tool::POSTMAN,
    ]
    .choose(rng)
    .unwrap_or(&Tool::CURL);
    let mut clock = Clock::new(ctx.scale).person(ctx.person_floor);
    let mut steps = Vec::new();
    let calls = rng.random_range(4..=25).min(ctx.human_cap);
    let mut last_results: Vec<u32> = Vec::new();
    for i in 0..calls {
        let path = match (i, rng.random_range(0..100)) {
            (0, _) => "/api/status".to_owned(),
            (_, 0..=34) => {
                let w = SEARCH_WORDS.choose(rng).copied().unwrap_or("oak");
                last_results = ctx.catalog.search(w, 40).iter().map(|p| p.id).collect();
                format!("/api/search?q={w}")
            }
            (_, 35..=74) => {
                let id = last_results
                    .choose(rng)
                    .copied()
                    .unwrap_or_else(|| rng.random_range(1..=100));
                format!("/api/products/{id}")
            }
            (_, 75..=89) => format!("/api/products?page={}", rng.random_range(1..=5)),
            _ => "/api/status".to_owned(),
        };
        steps.push(Step {
            at: clock.now,
            jar: 0,
            cookies: false,
            method: "GET",
            path,
            headers: tool.headers(true, None),
            body: Vec::new(),
        });
        clock.think(rng, 10.0, 1.0);
    }
    steps
}

pub fn human(kind: HumanKind, ctx: &Ctx, rng: &mut StdRng) -> Vec<Step> {
    match kind {
        HumanKind::Browser => person(ctx, rng, 0, 0.0, ctx.human_cap),
        HumanKind::Sdk => sdk_user(ctx, rng),
    }
}

/// Steps of an API client with a fixed identity, one per timer tick.
fn api_step(
    clock: &Clock,
    tool: Tool,
    auth: &str,
    method: &'static str,
    path: String,
    body: Option<String>,
) -> Step {
    let mut headers = tool.headers(true, body.as_ref().map(|_| "application/json"));
    headers.push(("Authorization", format!("Bearer {auth}")));
    Step {
        at: clock.now,
        jar: 0,
        cookies: true,
        method,
        path,
        headers,
        body: body.map(String::into_bytes).unwrap_or_default(),
    }
}

/// A launch-day visitor (the `flash` crowd): a first visit in `browser`,
/// a few clicks, and for a third of them a login (sometimes mistyped).
pub fn launch_visitor(ctx: &Ctx, rng: &mut StdRng, browser: Browser) -> Vec<Step> {
    let mut v = Visit::new(ctx, rng, 0, 0.0, ctx.human_cap).in_browser(browser);
    let clicks = rng.random_range(2..=8);
    let intents = Intents {
        login: rng.random_bool(0.33).then(|| rng.random_range(0..clicks)),
        signup: None,
        feedback: None,
    };
    browse(&mut v, rng, clicks, (5.0, 1.0), &intents, true);
    v.steps
}

/// A launch-day app user (the `flash` crowd): the app starts, signs in and
/// browses the catalog through the JSON API, all with one app build.
pub fn launch_app_user(ctx: &Ctx, rng: &mut StdRng) -> Vec<Step> {
    let tool = Tool::OKHTTP5;
    let token = format!("{:032x}", rng.random::<u128>());
    let mut clock = Clock::new(ctx.scale).person(ctx.person_floor);
    let mut steps = vec![
        api_step(&clock, tool, &token, "GET", "/api/status".into(), None),
        api_step(
            &clock,
            tool,
            &token,
            "GET",
            "/api/products?page=1".into(),
            None,
        ),
    ];
    clock.think(rng, 4.0, 0.8);
    steps.push(api_step(
        &clock,
        tool,
        &token,
        "POST",
        "/login".into(),
        Some(r#"{"username":"demo","password":"demo-password"}"#.into()),
    ));
    for _ in 0..rng.random_range(2..=6) {
        clock.think(rng, 5.0, 1.0);
        let path = format!("/api/products/{}", rng.random_range(1..=200));
        steps.push(api_step(&clock, tool, &token, "GET", path, None));
    }
    steps
}

pub fn hard(case: HardCase, ctx: &Ctx, rng: &mut StdRng) -> Vec<Step> {
    let token = format!("{:032x}", rng.random::<u128>());
    match case {
        HardCase::Nat => {
            // Colleagues or a campus behind one address, arriving over ~90 s.
            let people: Vec<Vec<Step>> = (0..ctx.nat_size.min(250))
                .map(|i| {
                    let start = rng.random_range(0.0..90.0);
                    person(ctx, rng, i as u8, start, ctx.human_cap)
                })
                .collect();
            merge(people)
        }
        HardCase::PowerUser => {
            let mut v = Visit::new(ctx, rng, 0, 0.0, ctx.human_cap);
            let clicks = rng.random_range(60..=140);
            let intents = Intents {
                login: Some(1),
                signup: None,
                feedback: None,
            };
            browse(&mut v, rng, clicks, (1.0, 0.7), &intents, false);
            v.steps
        }
        HardCase::MobileApp => {
            let tool = if rng.random_bool(0.5) {
                Tool::DART
            } else {
                Tool::OKHTTP5
            };
            let mut clock = Clock::new(ctx.scale).person(ctx.person_floor);
            let mut steps = vec![
                api_step(&clock, tool, &token, "GET", "/api/status".into(), None),
                api_step(
                    &clock,
                    tool,
                    &token,
                    "GET",
                    "/api/products?page=1".into(),
                    None,
                ),
            ];
            let period = rng.random_range(4.0..6.0);
            while steps.len() < ctx.human_cap.min(150) {
                clock.wait(period);
                clock.machine(rng, 0, 40);
                steps.push(api_step(
                    &clock,
                    tool,
                    &token,
                    "GET",
                    "/api/status".into(),
                    None,
                ));
                // Now and then the person uses the app between polls.
                if rng.random_bool(0.08) {
                    clock.think(rng, 2.0, 0.5);
                    let id = rng.random_range(1..=ctx.catalog.all().len() as u32);
                    let (method, path, body) = match rng.random_range(0..3) {
                        0 => ("GET", format!("/api/products/{id}"), None),
                        1 => (
                            "GET",
                            format!(
                                "/api/search?q={}",
                                SEARCH_WORDS.choose(rng).copied().unwrap_or("mug")
                            ),
                            None,
                        ),
                        _ => (
                            "POST",
                            "/cart".to_owned(),
                            Some(format!("{{\"product_id\":{id},\"qty\":1}}")),
                        ),
                    };
                    steps.push(api_step(&clock, tool, &token, method, path, body));
                }
            }
            steps
        }
        HardCase::Monitor => {
            let ua = *[
                "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
                "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
                "kube-probe/1.34",
            ]
            .choose(rng)
            .unwrap_or(&"kube-probe/1.34");
            let tool = Tool::named(ua);
            let mut clock = Clock::new(ctx.scale).person(ctx.person_floor);
            let mut steps = Vec::new();
            while steps.len() < ctx.human_cap.min(90) {
                steps.push(Step {
                    at: clock.now,
                    jar: 0,
                    cookies: false,
                    method: "GET",
                    path: "/health".into(),
                    headers: tool.headers(false, None),
                    body: Vec::new(),
                });
                clock.wait(10.0);
                clock.machine(rng, 0, 20);
            }
            steps
        }
        HardCase::PartnerApi => {
            let tool = if rng.random_bool(0.5) {
                Tool::named(
                    "acme-catalog-sync/3.2 (+https://partners.example/acme) python-requests/2.32.5",
                )
            } else {
                Tool::GO
            };
            let mut clock = Clock::new(ctx.scale).person(ctx.person_floor);
            let mut steps = Vec::new();
            let pages = ctx.catalog.page_count(None);
            let total = ctx.human_cap.min(100);
            for page in 1..=pages {
                if steps.len() >= total {
                    break;
                }
                steps.push(api_step(
                    &clock,
                    tool,
                    &token,
                    "GET",
                    format!("/api/products?page={page}"),
                    None,
                ));
                clock.wait(rng.random_range(1.8..2.2));
            }
            while steps.len() < total {
                let id = rng.random_range(1..=ctx.catalog.all().len() as u32);
                steps.push(api_step(
                    &clock,
                    tool,
                    &token,
                    "GET",
                    format!("/api/products/{id}"),
                    None,
                ));
                clock.wait(rng.random_range(1.8..2.2));
            }
            steps
        }
    }
}

#[cfg(test)]
mod tests;
