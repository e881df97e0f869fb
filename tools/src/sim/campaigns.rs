//! Campaigns: one tool driving many addresses (a residential proxy pool),
//! each of which alone looks like a person.
//!
//! - `stuffing`: 300 addresses x 4 login posts with combo-list credentials,
//!   one browser identity with its full header set, no page view first, no
//!   cookies.
//! - `scraping`: 200 addresses x 12 product pages, the same kind of browser
//!   identity, no assets, no cookies.
//! - `flash`: not an attack but its look-alike, a launch-day flash crowd of
//!   250 first-seen people (3 in 4: one popular browser identity, a page and
//!   its assets, a few clicks, a third log in) and app users (1 in 4: one
//!   okhttp build, API calls and a login). Every refusal in its row is a
//!   false positive.
//!
//! Campaign clients keep going after a refusal (a pool tool does not care),
//! and every request's time and outcome is kept, so the report can say
//! which share of the campaign's requests was refused after its first 100.
//! Addresses come from `100.64.0.0/10`, each in its own /24, and move with
//! `--net-base` and the run like the other ranges.

use super::bots::data::{DOMAINS, FORM, PASSWORDS};
use super::browsers::{Browser, Dest, Site};
use super::clients::{ClientSpec, Ctx, Group};
use super::plan::{Clock, Step};
use super::stats::Outcome;
use crate::catalog::PRODUCT_COUNT;
use crate::shop::http::percent_encode;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CampaignKind {
    Stuffing,
    Scraping,
    /// People and app users, all new at once: must never be refused.
    Flash,
}

impl CampaignKind {
    pub const ALL: [CampaignKind; 3] = [
        CampaignKind::Stuffing,
        CampaignKind::Scraping,
        CampaignKind::Flash,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CampaignKind::Stuffing => "stuffing",
            CampaignKind::Scraping => "scraping",
            CampaignKind::Flash => "flash",
        }
    }

    pub fn from_name(s: &str) -> Option<CampaignKind> {
        CampaignKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Addresses and requests per address.
    pub fn size(self) -> (usize, usize) {
        match self {
            CampaignKind::Stuffing => (300, 4),
            CampaignKind::Scraping => (200, 12),
            // people: as many requests as their visit takes
            CampaignKind::Flash => (250, 0),
        }
    }
}

/// The campaign's `i`-th address in run `run` (counted from `--net-base`, so
/// later invocations use other addresses): its own /24 each.
pub fn address(kind: CampaignKind, run: usize, i: usize) -> Option<Ipv4Addr> {
    let k = match kind {
        CampaignKind::Stuffing => 0,
        CampaignKind::Scraping => 2,
        CampaignKind::Flash => 3,
    };
    let second = 64 + (run % 16).checked_mul(4)? + k + i / 250;
    if second > 127 {
        return None;
    }
    Some(Ipv4Addr::new(
        100,
        u8::try_from(second).ok()?,
        u8::try_from(i % 250).ok()?,
        7,
    ))
}

/// Every address of the campaigns of one run.
pub fn population(
    kinds: &[CampaignKind],
    run: usize,
    seed: u64,
) -> Result<Vec<ClientSpec>, String> {
    let mut out = Vec::new();
    for kind in kinds {
        let (n, _) = kind.size();
        for i in 0..n {
            out.push(ClientSpec {
                index: i,
                group: Group::Campaign(*kind),
                ip: address(*kind, run, i).ok_or("too many runs for the campaign ranges")?,
                seed: crate::catalog::mix(
                    seed ^ crate::catalog::mix(2_000_000 + i as u64 + 1000 * (*kind as u64)),
                ),
            });
        }
    }
    Ok(out)
}

/// The one browser identity the campaign's tool is configured with.
fn identity(kind: CampaignKind) -> Browser {
    let mut rng = StdRng::seed_from_u64(0xc0ffee + kind as u64);
    Browser::random(&mut rng)
}

/// One address's requests.
pub fn plan(kind: CampaignKind, ctx: &Ctx, rng: &mut StdRng) -> Vec<Step> {
    let browser = identity(kind);
    if kind == CampaignKind::Flash {
        return if rng.random_bool(0.25) {
            super::humans::launch_app_user(ctx, rng)
        } else {
            super::humans::launch_visitor(ctx, rng, browser)
        };
    }
    let (_, per_address) = kind.size();
    let mut clock = Clock::new(ctx.scale);
    let mut steps = Vec::with_capacity(per_address);
    let mut referer: Option<String> = None;
    for _ in 0..per_address {
        match kind {
            CampaignKind::Stuffing => {
                let user = format!(
                    "{}@{}",
                    super::bots::data::random_name(rng),
                    DOMAINS.choose(rng).copied().unwrap_or("gmail.com")
                );
                let pass = PASSWORDS.choose(rng).copied().unwrap_or("123456");
                let body = format!(
                    "username={}&password={}",
                    percent_encode(&user),
                    percent_encode(pass)
                );
                let headers = browser.headers(
                    Dest::Document,
                    Site::None,
                    None,
                    Some(&ctx.origin),
                    Some(FORM),
                );
                steps.push(Step {
                    at: clock.now,
                    jar: 0,
                    cookies: false,
                    method: "POST",
                    path: "/login".into(),
                    headers,
                    body: body.into_bytes(),
                });
                clock.think(rng, 2.0, 0.5);
            }
            CampaignKind::Flash => {}
            CampaignKind::Scraping => {
                let path = format!("/products/{}", rng.random_range(1..=PRODUCT_COUNT));
                let site = if referer.is_some() {
                    Site::SameOrigin
                } else {
                    Site::None
                };
                let headers = browser.headers(Dest::Document, site, referer.as_deref(), None, None);
                referer = Some(format!("{}{path}", ctx.origin));
                steps.push(Step {
                    at: clock.now,
                    jar: 0,
                    cookies: false,
                    method: "GET",
                    path,
                    headers,
                    body: Vec::new(),
                });
                clock.think(rng, 1.0, 0.5);
            }
        }
    }
    steps
}

/// One campaign's figures.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CampaignRow {
    pub addresses: u32,
    pub requests: u64,
    pub refused: u64,
    pub refused_pct: f64,
    /// The campaign's requests in time order, without its first 100.
    pub requests_after_100: u64,
    pub refused_after_100: u64,
    pub refused_after_100_pct: f64,
    /// Addresses refused at least once.
    pub addresses_refused: u32,
    pub errors: u64,
    pub status_5xx: u64,
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / whole as f64).round() / 10.0
    }
}

impl CampaignRow {
    pub fn from_outcomes<'a>(outcomes: impl Iterator<Item = &'a Outcome>) -> CampaignRow {
        let mut row = CampaignRow::default();
        let mut trace: Vec<(u64, bool)> = Vec::new();
        for o in outcomes {
            row.addresses += 1;
            row.requests += u64::from(o.sent);
            row.errors += u64::from(o.errors);
            row.status_5xx += u64::from(o.status_5xx);
            row.addresses_refused += u32::from(o.trace.iter().any(|(_, r)| *r));
            trace.extend_from_slice(&o.trace);
        }
        trace.sort_by_key(|(t, _)| *t);
        row.refused = trace.iter().filter(|(_, r)| *r).count() as u64;
        row.refused_pct = pct(row.refused, trace.len() as u64);
        let after = trace.get(100..).unwrap_or(&[]);
        row.requests_after_100 = after.len() as u64;
        row.refused_after_100 = after.iter().filter(|(_, r)| *r).count() as u64;
        row.refused_after_100_pct = pct(row.refused_after_100, row.requests_after_100);
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use std::sync::Arc;

    fn ctx() -> Ctx {
        Ctx {
            origin: "http://127.0.0.1:8080".into(),
            scale: 0.05,
            person_floor: 1.0,
            catalog: Arc::new(Catalog::new()),
            human_cap: 200,
            bot_cap: 300,
            nat_size: 20,
            nonce: 1,
        }
    }

    #[test]
    fn addresses_are_distinct_each_in_its_own_24() {
        let p = population(&CampaignKind::ALL, 2, 1).unwrap_or_default();
        assert_eq!(p.len(), 750);
        let nets: std::collections::HashSet<_> = p
            .iter()
            .map(|c| {
                let o = c.ip.octets();
                (o[0], o[1], o[2])
            })
            .collect();
        assert_eq!(nets.len(), 750);
        let later = population(&CampaignKind::ALL, 3, 1).unwrap_or_default();
        assert!(later.iter().all(|c| !p.iter().any(|q| q.ip == c.ip)));
    }

    #[test]
    fn plans_have_one_identity_no_cookies_no_assets() {
        let c = ctx();
        let mut uas = std::collections::HashSet::new();
        for seed in 0..5 {
            let s = plan(CampaignKind::Stuffing, &c, &mut StdRng::seed_from_u64(seed));
            assert_eq!(s.len(), 4);
            assert!(s
                .iter()
                .all(|st| st.method == "POST" && st.path == "/login" && !st.cookies));
            let p = plan(CampaignKind::Scraping, &c, &mut StdRng::seed_from_u64(seed));
            assert_eq!(p.len(), 12);
            assert!(p
                .iter()
                .all(|st| st.path.starts_with("/products/") && !st.cookies));
            for st in s.iter().chain(&p) {
                if let Some((_, ua)) = st.headers.iter().find(|(n, _)| *n == "User-Agent") {
                    uas.insert(ua.clone());
                }
            }
        }
        assert!(uas.len() <= 2, "one identity per campaign: {uas:?}");
    }

    #[test]
    fn a_flash_crowd_is_people_and_app_users_of_one_identity_each() {
        let c = ctx();
        let (mut assets, mut api, mut uas) = (0, 0, std::collections::HashSet::new());
        for seed in 0..40 {
            let s = plan(CampaignKind::Flash, &c, &mut StdRng::seed_from_u64(seed));
            assert!(!s.is_empty());
            assets += usize::from(s.iter().any(|st| st.path.starts_with("/static/")));
            api += usize::from(
                s.iter()
                    .all(|st| st.path.starts_with("/api/") || st.path == "/login"),
            );
            for st in &s {
                if let Some((_, ua)) = st.headers.iter().find(|(n, _)| *n == "User-Agent") {
                    uas.insert(ua.clone());
                }
            }
        }
        assert!(
            assets >= 20 && api >= 4,
            "{assets} browsers, {api} app users"
        );
        assert_eq!(uas.len(), 2, "{uas:?}");
    }

    #[test]
    fn refusals_after_the_first_100_in_time_order() {
        // 150 requests: the first 100 pass, then 45 of 50 are refused.
        let mut o = Outcome::default();
        for t in 0..150u64 {
            o.sent += 1;
            o.trace.push((t, t >= 100 && t % 10 != 0));
        }
        let row = CampaignRow::from_outcomes(std::iter::once(&o));
        assert_eq!((row.requests_after_100, row.refused_after_100), (50, 45));
        assert_eq!(row.refused_after_100_pct, 90.0);
        assert_eq!(row.addresses_refused, 1);
    }
}
