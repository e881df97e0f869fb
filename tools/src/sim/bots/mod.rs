//! Plans for bots: one generator per bot type, each in four disguises
//! ([`Variant`]). A bot's plan is `bot_cap` requests long; the runner cuts it
//! at the first block, which is what the report measures.
//!
//! What each type does follows the abuse it names: stuffing posts credential
//! pairs to the login, fake-account bots sign up, spammers post feedback,
//! scalpers hammer the cart on hot products, scrapers walk the catalogue
//! without loading assets, scanners probe for files and inject payloads, BOLA
//! bots walk object ids on the user API, and a spike is a fast burst on
//! ordinary pages.

pub(crate) mod data;

use super::browsers::{Browser, Dest, Site, Tool};
use super::clients::{BotKind, Ctx, Variant};
use super::plan::{Clock, Step};
use crate::catalog::{PAGE_SIZE, SEARCH_WORDS};
use crate::shop::http::percent_encode;
use data::*;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;

struct Bot<'a> {
    ctx: &'a Ctx,
    variant: Variant,
    browser: Browser,
    tool: Tool,
    clock: Clock,
    /// Evenly spaced delay of a paced bot, in unscaled seconds.
    period: f64,
    /// Fast bursts whatever the disguise (traffic spikes).
    burst: bool,
    auth: Option<String>,
    last_path: Option<String>,
    steps: Vec<Step>,
}

impl<'a> Bot<'a> {
    fn full(&self) -> bool {
        self.steps.len() >= self.ctx.bot_cap
    }

    fn gap(&mut self, rng: &mut StdRng) {
        if self.burst {
            return self.clock.machine(rng, 0, 8);
        }
        match self.variant {
            Variant::Plain => self.clock.machine(rng, 0, 15),
            Variant::Paced => self.clock.wait(self.period),
            Variant::Browser => self.clock.think(rng, 1.5, 0.6),
            Variant::Rotating => self.clock.wait(rng.random_range(0.3..3.0)),
        }
    }

    /// Dress a request in the variant's identity and plan it.
    fn send(
        &mut self,
        rng: &mut StdRng,
        method: &'static str,
        path: String,
        body: Option<(&'static str, String)>,
        api: bool,
    ) {
        if self.full() {
            return;
        }
        let ct = body.as_ref().map(|b| b.0);
        let origin = (method == "POST").then(|| self.ctx.origin.clone());
        let referer = self
            .last_path
            .as_ref()
            .map(|p| format!("{}{p}", self.ctx.origin));
        let mut headers = match self.variant {
            Variant::Plain | Variant::Paced => self.tool.headers(api, ct),
            Variant::Browser => {
                let dest = if api { Dest::Fetch } else { Dest::Document };
                let site = if referer.is_some() {
                    Site::SameOrigin
                } else {
                    Site::None
                };
                self.browser
                    .headers(dest, site, referer.as_deref(), origin.as_deref(), ct)
            }
            // A fresh browser name each time and little else: what cheap
            // rotation scripts send.
            Variant::Rotating => {
                let b = Browser::random(rng);
                let mut h = vec![
                    ("User-Agent", b.ua),
                    ("Accept", if api { JSON } else { "*/*" }.to_owned()),
                ];
                if rng.random_bool(0.5) {
                    h.push(("Accept-Language", "en-US,en;q=0.9".to_owned()));
                }
                if let Some(ct) = ct {
                    h.push(("Content-Type", ct.to_owned()));
                }
                h
            }
        };
        if let Some(a) = &self.auth {
            headers.push(("Authorization", format!("Bearer {a}")));
        }
        if method == "GET" && !api {
            self.last_path = Some(path.clone());
        }
        let body = body.map(|b| b.1.into_bytes()).unwrap_or_default();
        let cookies = matches!(self.variant, Variant::Browser | Variant::Paced);
        self.steps.push(Step {
            at: self.clock.now,
            jar: 0,
            cookies,
            method,
            path,
            headers,
            body,
        });
        self.gap(rng);
    }

    /// Form-encoded for tools and browsers, JSON for API-client disguises.
    fn post(&mut self, rng: &mut StdRng, path: &str, fields: &[(&str, String)]) {
        let json = self.variant == Variant::Paced;
        let body = if json {
            let obj: serde_json::Map<String, serde_json::Value> = fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v.clone())))
                .collect();
            (JSON, serde_json::Value::Object(obj).to_string())
        } else {
            let form: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{k}={}", percent_encode(v)))
                .collect();
            (FORM, form.join("&"))
        };
        self.send(rng, "POST", path.to_owned(), Some(body), json);
    }
}

pub fn bot(kind: BotKind, variant: Variant, ctx: &Ctx, rng: &mut StdRng) -> Vec<Step> {
    let tool = tools_for(kind, variant)
        .choose(rng)
        .copied()
        .unwrap_or(Tool::CURL);
    let mut b = Bot {
        ctx,
        variant,
        browser: Browser::random(rng),
        tool,
        clock: Clock::new(ctx.scale),
        period: rng.random_range(0.5..2.0),
        burst: kind == BotKind::TrafficSpike,
        auth: None,
        last_path: None,
        steps: Vec::with_capacity(ctx.bot_cap),
    };
    match kind {
        BotKind::CredentialStuffing => stuffing(&mut b, rng),
        BotKind::FakeAccounts => signups(&mut b, rng),
        BotKind::Spam => spam(&mut b, rng),
        BotKind::Scalping => scalping(&mut b, rng),
        BotKind::Scraping => scraping(&mut b, rng),
        BotKind::VulnerabilityScanning => scanning(&mut b, rng),
        BotKind::Bola => bola(&mut b, rng),
        BotKind::TrafficSpike => spike(&mut b, rng),
    }
    b.steps
}

fn stuffing(b: &mut Bot, rng: &mut StdRng) {
    // A quarter of the lists contain the one valid pair somewhere.
    let hit = rng
        .random_bool(0.25)
        .then(|| rng.random_range(0..b.ctx.bot_cap));
    let mut i = 0;
    while !b.full() {
        if b.variant == Variant::Browser && i % 10 == 0 {
            b.send(rng, "GET", "/login".into(), None, false);
        }
        let (user, pass) = if Some(i) == hit {
            ("demo".to_owned(), "demo-password".to_owned())
        } else {
            let user = match rng.random_range(0..3) {
                0 => format!(
                    "{}@{}",
                    random_name(rng),
                    DOMAINS.choose(rng).copied().unwrap_or("gmail.com")
                ),
                1 => random_name(rng),
                _ => "demo".to_owned(),
            };
            (
                user,
                PASSWORDS
                    .choose(rng)
                    .copied()
                    .unwrap_or("123456")
                    .to_owned(),
            )
        };
        b.post(rng, "/login", &[("username", user), ("password", pass)]);
        i += 1;
    }
}

fn signups(b: &mut Bot, rng: &mut StdRng) {
    while !b.full() {
        if b.variant == Variant::Browser {
            b.send(rng, "GET", "/signup".into(), None, false);
        }
        let name = format!(
            "{}{:x}",
            random_name(rng).replace('.', "_"),
            rng.random::<u16>() ^ (b.ctx.nonce as u16)
        );
        let email = format!(
            "{name}@{}",
            [
                "mailinator.com",
                "yopmail.com",
                "guerrillamail.com",
                "tempmail.dev"
            ]
            .choose(rng)
            .copied()
            .unwrap_or("yopmail.com")
        );
        let password: String = (0..12)
            .map(|_| {
                char::from(
                    *b"abcdefghjkmnpqrstuvwxyz23456789"
                        .choose(rng)
                        .unwrap_or(&b'x'),
                )
            })
            .collect();
        b.post(
            rng,
            "/signup",
            &[("username", name), ("email", email), ("password", password)],
        );
    }
}

fn spam(b: &mut Bot, rng: &mut StdRng) {
    const PITCHES: [&str; 6] = [
        "Cheap replica watches, best prices online",
        "Earn $5000 a week from home, no experience needed",
        "Buy 10,000 Instagram followers today",
        "SEO services: rank #1 on Google in 7 days",
        "Crypto doubling offer, send 0.1 BTC get 0.2 BTC back",
        "Hot singles in your area want to meet you",
    ];
    while !b.full() {
        if b.variant == Variant::Browser {
            b.send(rng, "GET", "/feedback".into(), None, false);
        }
        let pitch = PITCHES.choose(rng).copied().unwrap_or(PITCHES[0]);
        let text = format!(
            "{pitch}!!! Visit http://deals-{}.example/?ref={} now",
            rng.random_range(1..50),
            rng.random::<u32>()
        );
        let email = format!(
            "{}@{}",
            random_name(rng),
            DOMAINS.choose(rng).copied().unwrap_or("gmail.com")
        );
        b.post(rng, "/feedback", &[("email", email), ("text", text)]);
    }
}

fn scalping(b: &mut Bot, rng: &mut StdRng) {
    let n = rng.random_range(1..=HOT_PRODUCTS.len());
    let wanted: Vec<u32> = HOT_PRODUCTS.choose_multiple(rng, n).copied().collect();
    let mut i = 0;
    while !b.full() {
        let id = wanted.choose(rng).copied().unwrap_or(HOT_PRODUCTS[0]);
        if b.variant == Variant::Browser && i % 3 == 0 {
            b.send(rng, "GET", format!("/products/{id}"), None, false);
        }
        let qty = rng.random_range(1..=5);
        if b.variant == Variant::Plain {
            b.send(
                rng,
                "POST",
                "/cart".into(),
                Some((FORM, format!("product_id={id}&qty={qty}"))),
                false,
            );
        } else {
            b.send(
                rng,
                "POST",
                "/cart".into(),
                Some((JSON, format!("{{\"product_id\":{id},\"qty\":{qty}}}"))),
                true,
            );
        }
        i += 1;
    }
}

fn scraping(b: &mut Bot, rng: &mut StdRng) {
    let cat = &b.ctx.catalog;
    let pages = cat.page_count(None);
    let count = cat.all().len() as u32;
    if b.variant == Variant::Rotating {
        // Spread out: random products and pages, no two requests alike.
        while !b.full() {
            if rng.random_bool(0.15) {
                let page = rng.random_range(1..=pages);
                b.send(rng, "GET", format!("/products?page={page}"), None, false);
            } else {
                let id = rng.random_range(1..=count);
                b.send(rng, "GET", format!("/products/{id}"), None, false);
            }
        }
        return;
    }
    let api = b.variant == Variant::Paced;
    let mut page = rng.random_range(1..=10u32);
    while !b.full() {
        let listing = if api {
            format!("/api/products?page={page}")
        } else {
            format!("/products?page={page}")
        };
        b.send(rng, "GET", listing, None, api);
        let first = (page - 1) * PAGE_SIZE + 1;
        for id in first..first + PAGE_SIZE {
            let path = if api {
                format!("/api/products/{id}")
            } else {
                format!("/products/{id}")
            };
            b.send(rng, "GET", path, None, api);
        }
        page = page % pages + 1;
    }
}

fn scanning(b: &mut Bot, rng: &mut StdRng) {
    let mut probes: Vec<String> = PROBES.iter().map(|p| (*p).to_owned()).collect();
    probes.shuffle(rng);
    let mut dictionary: Vec<String> = WORDS
        .iter()
        .flat_map(|w| EXTENSIONS.iter().map(move |e| format!("/{w}{e}")))
        .collect();
    dictionary.shuffle(rng);
    for (i, path) in probes.into_iter().chain(dictionary).cycle().enumerate() {
        if b.full() {
            break;
        }
        // Every so often, try an injection on the login form as well.
        if i % 25 == 7 {
            let user = *[
                "admin'--",
                "admin' OR '1'='1",
                "' OR 1=1#",
                "admin\") OR (\"1\"=\"1",
            ]
            .choose(rng)
            .unwrap_or(&"admin'--");
            b.post(
                rng,
                "/login",
                &[("username", user.to_owned()), ("password", "x".to_owned())],
            );
        }
        b.send(rng, "GET", path, None, false);
    }
}

fn bola(b: &mut Bot, rng: &mut StdRng) {
    if matches!(b.variant, Variant::Paced | Variant::Browser) {
        b.auth = Some(format!("{:032x}", rng.random::<u128>()));
    }
    let mut id: u32 = rng.random_range(1..=50);
    let stride = if b.variant == Variant::Browser {
        rng.random_range(1..=3)
    } else {
        1
    };
    while !b.full() {
        let (path, next) = match b.variant {
            Variant::Plain => (format!("/users/{id}"), id + stride),
            Variant::Paced | Variant::Browser => (format!("/api/users/{id}"), id + stride),
            Variant::Rotating => (format!("/users/{}", rng.random_range(1..=3000)), id),
        };
        b.send(rng, "GET", path, None, true);
        id = next;
    }
}

fn spike(b: &mut Bot, rng: &mut StdRng) {
    let count = b.ctx.catalog.all().len() as u32;
    while !b.full() {
        let (path, api) = match rng.random_range(0..6) {
            0 => ("/".to_owned(), false),
            1 => (format!("/products?page={}", rng.random_range(1..=5)), false),
            2 => (
                format!(
                    "/search?q={}",
                    SEARCH_WORDS.choose(rng).copied().unwrap_or("mug")
                ),
                false,
            ),
            3 => ("/api/status".to_owned(), true),
            4 => (format!("/products/{}", rng.random_range(1..=count)), false),
            _ => ("/api/products?page=1".to_owned(), true),
        };
        b.send(rng, "GET", path, None, api);
    }
}

#[cfg(test)]
mod tests;
