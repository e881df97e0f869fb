//! Test helpers: replay a plan through the shop's router in-process, with a
//! cookie jar per person, to check what each simulated client would get.

use super::clients::Ctx;
use super::plan::Step;
use super::runner::Jar;
use crate::catalog::Catalog;
use crate::shop::assets::Assets;
use crate::shop::http::ShopRequest;
use crate::shop::Shop;
use std::path::Path;
use std::sync::Arc;

pub fn ctx(scale: f64) -> Ctx {
    Ctx {
        origin: "http://127.0.0.1:8080".into(),
        scale,
        person_floor: 1.0,
        catalog: Arc::new(Catalog::new()),
        human_cap: 200,
        bot_cap: 300,
        nat_size: 20,
        nonce: 1,
    }
}

pub fn shop() -> Shop {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../nginx-conf/demo/static");
    Shop::new(Assets::load(&dir).unwrap_or_default())
}

pub fn header<'a>(step: &'a Step, name: &str) -> Option<&'a str> {
    step.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The status the shop answers to each step.
pub fn replay(shop: &Shop, steps: &[Step]) -> Vec<u16> {
    let mut jars: Vec<Jar> = Vec::new();
    steps
        .iter()
        .map(|s| {
            let j = usize::from(s.jar);
            if jars.len() <= j {
                jars.resize_with(j + 1, Jar::default);
            }
            let cookie = if s.cookies {
                jars.get(j).and_then(Jar::header).unwrap_or_default()
            } else {
                String::new()
            };
            let req = ShopRequest {
                method: s.method,
                url: &s.path,
                accept: header(s, "Accept").unwrap_or(""),
                content_type: header(s, "Content-Type").unwrap_or(""),
                cookie: &cookie,
                if_none_match: "",
                body: &s.body,
            };
            let resp = shop.handle(&req);
            let set: Vec<String> = resp
                .headers
                .iter()
                .filter(|(k, _)| *k == "Set-Cookie")
                .map(|(_, v)| v.clone())
                .collect();
            if s.cookies {
                if let Some(jar) = jars.get_mut(j) {
                    jar.update(&set);
                }
            }
            resp.status
        })
        .collect()
}

/// Plans are timed: steps never go back in time.
pub fn assert_ordered(steps: &[Step]) {
    assert!(
        steps.windows(2).all(|w| w[0].at <= w[1].at),
        "steps out of order"
    );
}
