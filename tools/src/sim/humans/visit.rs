//! One person in one browser tab: the page they are on, the links they can
//! follow from it, the browser cache, and the plan of requests their clicks
//! produce (a page, then the assets the cache lacks).

use crate::catalog::{PAGE_SIZE, SEARCH_WORDS};
use crate::shop::http::percent_encode;
use crate::sim::browsers::{Browser, Dest, Site};
use crate::sim::clients::Ctx;
use crate::sim::plan::{lognormal, Clock, Step};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::Rng;
use std::collections::HashSet;

/// Where a visitor is, which decides the links they can follow next.
#[derive(Debug, Clone)]
enum Where {
    Home,
    Listing {
        category: Option<&'static str>,
        page: u32,
    },
    Product(u32),
    Search(Vec<u32>),
    Other,
}

/// One person in one browser tab.
pub(super) struct Visit<'a> {
    ctx: &'a Ctx,
    browser: Browser,
    clock: Clock,
    jar: u8,
    cap: usize,
    pub(super) steps: Vec<Step>,
    cached: HashSet<String>,
    page: Option<String>,
    at: Where,
    /// The listing the visitor came from, for the back button.
    last_listing: Option<Where>,
}

impl<'a> Visit<'a> {
    pub(super) fn new(
        ctx: &'a Ctx,
        rng: &mut StdRng,
        jar: u8,
        start_secs: f64,
        cap: usize,
    ) -> Visit<'a> {
        let mut cached = HashSet::new();
        // Returning visitors still have the shop's CSS, script and logo cached.
        if rng.random_bool(0.2) {
            for a in [
                "/static/css/shop.css",
                "/static/js/shop.js",
                "/static/img/logo.svg",
                "/static/favicon.svg",
            ] {
                cached.insert(a.to_owned());
            }
        }
        Visit {
            ctx,
            browser: Browser::random(rng),
            clock: Clock::starting_at(ctx.scale, start_secs).person(ctx.person_floor),
            jar,
            cap,
            steps: Vec::new(),
            cached,
            page: None,
            at: Where::Other,
            last_listing: None,
        }
    }

    /// The same visit in a given browser (a crowd sharing one identity).
    pub(super) fn in_browser(mut self, browser: Browser) -> Visit<'a> {
        self.browser = browser;
        self
    }

    fn full(&self) -> bool {
        self.steps.len() >= self.cap
    }

    fn push(
        &mut self,
        method: &'static str,
        path: String,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    ) {
        if !self.full() {
            self.steps.push(Step {
                at: self.clock.now,
                jar: self.jar,
                cookies: true,
                method,
                path,
                headers,
                body,
            });
        }
    }

    fn page_url(&self) -> Option<String> {
        self.page
            .as_ref()
            .map(|p| format!("{}{p}", self.ctx.origin))
    }

    /// Images a page shows, so the browser fetches the ones it lacks.
    fn images(&self, at: &Where) -> Vec<String> {
        let cat = &self.ctx.catalog;
        let ids: Vec<u32> = match at {
            Where::Home => {
                return crate::catalog::CATEGORIES
                    .iter()
                    .map(|c| c.image())
                    .collect()
            }
            Where::Listing { category, page } => cat
                .page(*page, *category)
                .unwrap_or_default()
                .iter()
                .map(|p| p.id)
                .collect(),
            Where::Product(id) => vec![*id],
            Where::Search(ids) => ids.clone(),
            Where::Other => Vec::new(),
        };
        ids.iter()
            .filter_map(|&id| cat.get(id))
            .map(|p| p.image.clone())
            .collect()
    }

    fn assets(&mut self, rng: &mut StdRng, images: Vec<String>) {
        let referer = self.page_url();
        let fixed = [
            ("/static/css/shop.css".to_owned(), Dest::Style),
            ("/static/js/shop.js".to_owned(), Dest::Script),
            ("/static/img/logo.svg".to_owned(), Dest::Image),
        ];
        let all = fixed
            .into_iter()
            .chain(images.into_iter().map(|i| (i, Dest::Image)));
        let all = all.chain(std::iter::once((
            "/static/favicon.svg".to_owned(),
            Dest::Image,
        )));
        for (path, dest) in all {
            if self.cached.insert(path.clone()) {
                self.clock.machine(rng, 2, 40);
                let h =
                    self.browser
                        .headers(dest, Site::SameOrigin, referer.as_deref(), None, None);
                self.push("GET", path, h, Vec::new());
            }
        }
    }

    fn navigate(&mut self, rng: &mut StdRng, path: String, site: Site, at: Where) {
        let referer = match site {
            Site::SameOrigin => self.page_url(),
            Site::CrossSite => Some("https://www.google.com/".to_owned()),
            Site::None => None,
        };
        let h = self
            .browser
            .headers(Dest::Document, site, referer.as_deref(), None, None);
        self.push("GET", path.clone(), h, Vec::new());
        self.page = Some(path);
        let images = self.images(&at);
        if matches!(at, Where::Listing { .. }) {
            self.last_listing = Some(at.clone());
        }
        self.at = at;
        self.assets(rng, images);
    }

    fn submit(&mut self, rng: &mut StdRng, path: &str, form: String) {
        let referer = self.page_url();
        let origin = self.ctx.origin.clone();
        let ct = "application/x-www-form-urlencoded";
        let h = self.browser.headers(
            Dest::Document,
            Site::SameOrigin,
            referer.as_deref(),
            Some(&origin),
            Some(ct),
        );
        self.push("POST", path.to_owned(), h, form.into_bytes());
        self.page = Some(path.to_owned());
        self.at = Where::Other;
        self.assets(rng, Vec::new());
    }

    /// The page's script calling the shop's API (add to cart).
    fn fetch_json(&mut self, path: &str, body: String) {
        let referer = self.page_url();
        let origin = self.ctx.origin.clone();
        let h = self.browser.headers(
            Dest::Fetch,
            Site::SameOrigin,
            referer.as_deref(),
            Some(&origin),
            Some("application/json"),
        );
        self.push("POST", path.to_owned(), h, body.into_bytes());
    }

    fn listing(&mut self, rng: &mut StdRng, category: Option<&'static str>, page: u32) {
        let path = match category {
            Some(c) => format!("/products?category={c}&page={page}"),
            None => format!("/products?page={page}"),
        };
        self.navigate(
            rng,
            path,
            Site::SameOrigin,
            Where::Listing { category, page },
        );
    }

    fn search(&mut self, rng: &mut StdRng) {
        self.clock.think(rng, 3.0, 0.4); // typing
        let word = SEARCH_WORDS.choose(rng).copied().unwrap_or("mug");
        let ids = self
            .ctx
            .catalog
            .search(word, 40)
            .iter()
            .map(|p| p.id)
            .collect();
        self.navigate(
            rng,
            format!("/search?q={}", percent_encode(word)),
            Site::SameOrigin,
            Where::Search(ids),
        );
    }

    fn product(&mut self, rng: &mut StdRng, id: u32) {
        self.navigate(
            rng,
            format!("/products/{id}"),
            Site::SameOrigin,
            Where::Product(id),
        );
    }

    fn login(&mut self, rng: &mut StdRng, may_fail: bool) {
        self.navigate(rng, "/login".into(), Site::SameOrigin, Where::Other);
        let fails = if !may_fail {
            0
        } else {
            *[0, 0, 0, 0, 0, 0, 0, 1, 1, 2].choose(rng).unwrap_or(&0)
        };
        for _ in 0..fails {
            self.clock.think(rng, 7.0, 0.4);
            let typo = *[
                "demo-pasword",
                "Demo-password",
                "demo-password1",
                "demopassword",
            ]
            .choose(rng)
            .unwrap_or(&"demo");
            self.submit(rng, "/login", format!("username=demo&password={typo}"));
        }
        self.clock.think(rng, 7.0, 0.4);
        self.submit(rng, "/login", "username=demo&password=demo-password".into());
    }

    fn signup(&mut self, rng: &mut StdRng) {
        self.navigate(rng, "/signup".into(), Site::SameOrigin, Where::Other);
        self.clock.think(rng, 25.0, 0.4);
        let first = *[
            "sam", "lena", "marco", "yuki", "omar", "ella", "tom", "nina",
        ]
        .choose(rng)
        .unwrap_or(&"sam");
        let name = format!("{first}_{:x}", rng.random::<u32>() ^ self.ctx.nonce);
        let form = format!(
            "username={name}&email={}&password={}",
            percent_encode(&format!("{name}@example.org")),
            percent_encode(&format!("{first}-Garden-{}", rng.random_range(10..99)))
        );
        self.submit(rng, "/signup", form);
    }

    fn feedback(&mut self, rng: &mut StdRng) {
        self.navigate(rng, "/feedback".into(), Site::SameOrigin, Where::Other);
        self.clock.think(rng, 40.0, 0.5);
        let text = *[
            "The oak cutting board arrived quickly, thanks!",
            "Could you add more colours for the ceramic mugs?",
            "Search did not find 'tea pot' with a space, only teapot.",
            "Delivery to Poland took a week, is that normal?",
            "Love the shop. A wishlist feature would be great.",
        ]
        .choose(rng)
        .unwrap_or(&"Thanks!");
        self.submit(
            rng,
            "/feedback",
            format!("email=&text={}", percent_encode(text)),
        );
    }

    /// The visitor arrives: typed address, search engine, or a bookmark.
    fn land(&mut self, rng: &mut StdRng) {
        match rng.random_range(0..100) {
            0..=54 => self.navigate(rng, "/".into(), Site::None, Where::Home),
            55..=79 => {
                let id = rng.random_range(1..=self.ctx.catalog.all().len() as u32);
                self.navigate(
                    rng,
                    format!("/products/{id}"),
                    Site::CrossSite,
                    Where::Product(id),
                );
            }
            _ => self.navigate(
                rng,
                "/products?page=1".into(),
                Site::None,
                Where::Listing {
                    category: None,
                    page: 1,
                },
            ),
        }
    }

    /// One click (or keystroke) from where the visitor is.
    fn click(&mut self, rng: &mut StdRng) {
        let roll = rng.random_range(0..100);
        let cat = &self.ctx.catalog;
        match self.at.clone() {
            Where::Home | Where::Other => match roll {
                0..=49 => self.listing(rng, None, 1),
                50..=74 => {
                    let c = crate::catalog::CATEGORIES.choose(rng).map(|c| c.slug);
                    self.listing(rng, c, 1)
                }
                _ => self.search(rng),
            },
            Where::Listing { category, page } => {
                let pages = cat.page_count(category);
                let visible: Vec<u32> = cat
                    .page(page, category)
                    .unwrap_or_default()
                    .iter()
                    .map(|p| p.id)
                    .collect();
                match roll {
                    0..=49 => match visible.choose(rng) {
                        Some(&id) => self.product(rng, id),
                        None => self.listing(rng, None, 1),
                    },
                    50..=74 if page < pages => self.listing(rng, category, page + 1),
                    50..=79 if page > 1 => self.listing(rng, category, page - 1),
                    80..=89 => self.search(rng),
                    90..=94 => self.navigate(rng, "/cart".into(), Site::SameOrigin, Where::Other),
                    _ => {
                        let p = rng.random_range(1..=3);
                        self.listing(rng, None, p)
                    }
                }
            }
            Where::Product(id) => match roll {
                0..=24 => {
                    let qty = if rng.random_bool(0.8) {
                        1
                    } else {
                        rng.random_range(2..=3)
                    };
                    self.fetch_json("/cart", format!("{{\"product_id\":{id},\"qty\":{qty}}}"));
                }
                // Back button: the page comes from the back/forward cache.
                25..=54 => {
                    let back = self.last_listing.clone().unwrap_or(Where::Home);
                    self.page = Some(match &back {
                        Where::Listing {
                            category: Some(c),
                            page,
                        } => format!("/products?category={c}&page={page}"),
                        Where::Listing {
                            category: None,
                            page,
                        } => format!("/products?page={page}"),
                        _ => "/".to_owned(),
                    });
                    self.at = back;
                }
                55..=69 if (id as usize) < cat.all().len() => self.product(rng, id + 1),
                55..=84 => self.search(rng),
                85..=94 => self.listing(rng, None, (id - 1) / PAGE_SIZE + 1),
                _ => self.navigate(rng, "/cart".into(), Site::SameOrigin, Where::Other),
            },
            Where::Search(ids) => match (roll, ids.choose(rng)) {
                (0..=59, Some(&id)) => self.product(rng, id),
                (60..=84, _) => self.search(rng),
                _ => self.listing(rng, None, 1),
            },
        }
    }
}

/// Intentions decided at the start of a visit: which click index does what.
pub(super) struct Intents {
    pub(super) login: Option<usize>,
    pub(super) signup: Option<usize>,
    pub(super) feedback: Option<usize>,
}

pub(super) fn browse(
    v: &mut Visit,
    rng: &mut StdRng,
    clicks: usize,
    think: (f64, f64),
    intents: &Intents,
    may_fail_login: bool,
) {
    v.land(rng);
    for n in 0..clicks {
        if v.full() {
            break;
        }
        v.clock.think(rng, think.0, think.1);
        if intents.login == Some(n) {
            v.login(rng, may_fail_login);
        } else if intents.signup == Some(n) {
            v.signup(rng);
        } else if intents.feedback == Some(n) {
            v.feedback(rng);
        } else {
            v.click(rng);
        }
    }
    if rng.random_bool(0.3) && !v.full() {
        v.clock.think(rng, think.0, think.1);
        v.navigate(rng, "/cart".into(), Site::SameOrigin, Where::Other);
    }
}

pub(super) fn person(
    ctx: &Ctx,
    rng: &mut StdRng,
    jar: u8,
    start_secs: f64,
    cap: usize,
) -> Vec<Step> {
    let mut v = Visit::new(ctx, rng, jar, start_secs, cap);
    let clicks = (lognormal(rng, 14.0, 0.6) as usize).clamp(3, 60);
    let at = |rng: &mut StdRng, p: f64| rng.random_bool(p).then(|| rng.random_range(0..clicks));
    let intents = Intents {
        login: at(rng, 0.3),
        signup: at(rng, 0.05),
        feedback: at(rng, 0.04),
    };
    browse(&mut v, rng, clicks, (5.0, 1.0), &intents, true);
    v.steps
}
