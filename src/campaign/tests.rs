use super::*;
use std::net::{IpAddr, Ipv4Addr};

const APP: u64 = 77;
const T0: u64 = 1_800_000_000_000;

fn fp(ua: &str, cookie: bool) -> Fingerprint {
    let mut b = Builder::default();
    b.header(b"host", b"shop");
    b.header(b"user-agent", ua.as_bytes());
    b.header(b"accept", b"text/html");
    b.header(b"accept-language", b"en-US");
    if cookie {
        b.header(b"cookie", b"sid=1");
    }
    b.finish()
}

fn ip(i: u32) -> IpAddr {
    // Spread over many /24s, as a residential pool is.
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i * 257))
}

fn feed(
    c: &Campaigns,
    f: Fingerprint,
    metrics: u8,
    class: Class,
    prior: Prior,
    i: u32,
    now: u64,
) -> Option<Report> {
    let addr = ip(i);
    c.app(APP, (now / 1000) as u32).feed(
        c,
        &Feed {
            metrics,
            fingerprint: f,
            class,
            prior,
            hood: fingerprint::neighbourhood(addr),
            address: fingerprint::address_hash(addr),
            browser: true,
        },
        now,
    )
}

const AUTH: Class = Class::Sensitive(0);
const LOGIN_FAIL: u8 = 1 | 2; // auth failure + sensitive call

/// Ten minutes of people: logins (some failing) after browsing, first visits.
fn people(c: &Campaigns, from: u64, secs: u64) -> u64 {
    let mut now = from;
    let mut n = 0u32;
    while now < from + secs * 1000 {
        let ua = format!("Mozilla/5.0 Chrome/15{}.0", n % 6);
        let f = fp(&ua, n % 3 == 0);
        // a first visit, then a login after the page and its assets
        feed(
            c,
            f,
            Metric::FirstSeen.bit(),
            Class::Page,
            Prior::Nothing,
            5000 + n,
            now,
        );
        let m = if n % 4 == 0 { LOGIN_FAIL } else { 2 };
        feed(c, f, m, AUTH, Prior::Assets, 5000 + n, now + 50);
        n += 1;
        now += 700;
    }
    now
}

#[test]
fn stuffing_over_many_addresses_is_a_campaign_people_are_not() {
    let c = Campaigns::boxed();
    let mut now = people(&c, T0, 600);
    assert!(c.active((now / 1000) as u32).is_empty(), "people alone");
    // 300 addresses x 4 logins, a browser User-Agent, no page view first,
    // mixed with people who keep logging in.
    let bot = fp("Mozilla/5.0 (Windows NT 10.0) Chrome/152.0.0.0", false);
    let key = bot.key(AUTH, Prior::Nothing);
    let mut started_after = None;
    let mut sent = 0;
    for round in 0..4u32 {
        for a in 0..300u32 {
            let m = if round == 0 {
                LOGIN_FAIL | Metric::FirstSeen.bit()
            } else {
                LOGIN_FAIL
            };
            sent += 1;
            if let Some(r) = feed(&c, bot, m, AUTH, Prior::Nothing, a, now) {
                assert_eq!(r.bot_type, BotType::CredentialStuffing);
                assert_eq!(r.fingerprint, key);
                assert!(r.addresses_at_start >= MIN_ADDRESSES as u32, "{r:?}");
                started_after.get_or_insert(sent);
            }
            if a % 10 == 0 {
                let f = fp("Mozilla/5.0 Chrome/153.0", true);
                feed(&c, f, 2, AUTH, Prior::Assets, 9000 + a, now);
            }
            now += 40;
        }
    }
    let after = started_after.expect("campaign started");
    assert!(after < 100, "started after {after} requests");
    let now_s = (now / 1000) as u32;
    let app = c.find(APP).expect("app");
    let m = app.matching(&c, &[key], now_s).expect("matches");
    assert_eq!(m.bot_type, BotType::CredentialStuffing);
    assert_eq!(m.listed(true).addresses_listed, 1);
    // a person logging in after browsing has other keys
    let person = fp("Mozilla/5.0 (Windows NT 10.0) Chrome/152.0.0.0", false);
    assert!(app
        .matching(&c, &[person.key(AUTH, Prior::Assets)], now_s)
        .is_none());
    assert_eq!(c.active(now_s).len(), 1);
    // it ends when nothing matches for a while
    assert!(c.active(now_s + CAMPAIGN_IDLE_S + 1).is_empty());
    assert!(!app.any_active(now_s + CAMPAIGN_IDLE_S + 1));
    // The zone-wide hint says "maybe" whenever a slot is active, and "no"
    // once every slot has been idle for longer than `CAMPAIGN_IDLE_S`.
    assert!(!Campaigns::boxed().may_be_active((T0 / 1000) as u32));
    for t in (T0 / 1000) as u32..now_s + 2 * CAMPAIGN_IDLE_S {
        if app.any_active(t) {
            assert!(c.may_be_active(t), "{t}");
        }
    }
    assert!(c.may_be_active(now_s + CAMPAIGN_IDLE_S));
    assert!(!c.may_be_active(now_s + CAMPAIGN_IDLE_S + 1));
    // a match later moves both on
    let later = now_s + CAMPAIGN_IDLE_S - 1;
    assert!(app.matching(&c, &[key], later).is_some());
    assert!(app.any_active(later + CAMPAIGN_IDLE_S));
    assert!(c.may_be_active(later + CAMPAIGN_IDLE_S));
    assert!(!c.may_be_active(later + CAMPAIGN_IDLE_S + 1));
}

#[test]
fn a_wave_of_people_is_never_a_campaign() {
    // A newsletter: 3,000 people with the same browser arrive in a minute,
    // load the page and its assets, and a third of them log in.
    let c = Campaigns::boxed();
    let mut now = people(&c, T0, 300);
    let f = fp("Mozilla/5.0 Chrome/152.0", false);
    for i in 0..3000u32 {
        feed(
            &c,
            f,
            Metric::FirstSeen.bit(),
            Class::Page,
            Prior::Nothing,
            i,
            now,
        );
        if i % 3 == 0 {
            assert!(feed(&c, f, LOGIN_FAIL, AUTH, Prior::Assets, i, now + 5).is_none());
        }
        now += 20;
    }
    // The first-seen surge is real, but the page key of a first visit must
    // also beat its own learned share: people with this browser were
    // arriving all along. Everyone then loads assets: never matched.
    let now_s = (now / 1000) as u32;
    let app = c.find(APP).expect("app");
    assert!(app
        .matching(
            &c,
            &[
                f.key(AUTH, Prior::Assets),
                f.key(Class::Page, Prior::Assets)
            ],
            now_s
        )
        .is_none());
}

#[test]
fn a_popular_app_polling_from_many_phones_is_learned() {
    // okhttp from many phones, no assets, no cookies, first visits all day;
    // then twice as many (a push notification): not a campaign.
    let c = Campaigns::boxed();
    let f = fp("okhttp/4.12.0", false);
    let mut now = T0;
    let mut i = 0;
    for _ in 0..(60 * 60) {
        // 5 new phones a second for an hour
        for _ in 0..5 {
            feed(
                &c,
                f,
                Metric::FirstSeen.bit(),
                Class::Page,
                Prior::Nothing,
                i,
                now,
            );
            i += 1;
        }
        now += 1000;
    }
    for _ in 0..60 {
        for _ in 0..10 {
            assert!(feed(
                &c,
                f,
                Metric::FirstSeen.bit(),
                Class::Page,
                Prior::Nothing,
                i,
                now
            )
            .is_none());
            i += 1;
        }
        now += 1000;
    }
}

#[test]
fn scraping_from_a_pool_is_a_campaign_after_a_quiet_start() {
    let c = Campaigns::boxed();
    let mut now = people(&c, T0, 600);
    let bot = fp("Mozilla/5.0 (Macintosh) Safari/605.1.15", false);
    let mut started = None;
    // 32 connections at once: 32 addresses in flight, 12 product pages each
    // (a first-seen client, then 11 pages without any asset)
    for batch in 0..7u32 {
        for page in 0..12u32 {
            let (m, prior) = if page == 0 {
                (Metric::FirstSeen.bit(), Prior::Nothing)
            } else {
                (0, Prior::Pages)
            };
            for a in batch * 32..(batch * 32 + 32).min(200) {
                if let Some(r) = feed(&c, bot, m, Class::Page, prior, a, now) {
                    assert_eq!(r.bot_type, BotType::Scraping);
                    assert_eq!(r.metric, "first_seen_clients");
                    started.get_or_insert(a);
                }
                now += 30;
            }
        }
    }
    let a = started.expect("started");
    assert!(a < 60, "after {a} addresses");
}

/// A launch-day crowd on a fresh zone (nothing learned yet): `n` new
/// clients of one software, each doing `visit` (its requests, in order).
fn flash_crowd(
    f: Fingerprint,
    browser: bool,
    n: u32,
    visit: &[(u8, Class, bool)],
) -> Option<Report> {
    let c = Campaigns::boxed();
    let mut now = T0;
    let mut started = None;
    for i in 0..n {
        let mut prior = Prior::Nothing;
        for (step, (metrics, class, asset)) in visit.iter().enumerate() {
            let m = if step == 0 {
                metrics | Metric::FirstSeen.bit()
            } else {
                *metrics
            };
            let p = if *asset { Prior::Assets } else { prior };
            let addr = ip(i);
            let r = c.app(APP, (now / 1000) as u32).feed(
                &c,
                &Feed {
                    metrics: m,
                    fingerprint: f,
                    class: *class,
                    prior: p,
                    hood: fingerprint::neighbourhood(addr),
                    address: fingerprint::address_hash(addr),
                    browser,
                },
                now,
            );
            started = started.or(r);
            if *asset {
                prior = Prior::Assets;
            } else if prior == Prior::Nothing {
                prior = Prior::Pages;
            }
            now += 1;
        }
    }
    started
}

#[test]
fn a_flash_crowd_of_first_visits_is_not_a_campaign() {
    // ci/bench.sh: 200,000 new clients of one tool, each a page and a
    // script, thousands a second on a fresh zone.
    let f = fp("Mozilla/5.0 (X11; Linux x86_64) Chrome/152.0.0.0", false);
    let page = (0, Class::Page, false);
    let script = (0, Class::Page, true);
    assert_eq!(flash_crowd(f, true, 20_000, &[page, script]), None);
    // People: the page, its assets, a second page, a login (a third fail).
    let login = (2, AUTH, false);
    let fail = (LOGIN_FAIL, AUTH, false);
    let visit = [page, script, script, page, login];
    assert_eq!(flash_crowd(f, true, 20_000, &visit), None);
    let visit = [page, script, script, page, fail, login];
    assert_eq!(flash_crowd(f, true, 10_000, &visit), None);
}

#[test]
fn people_coming_back_with_cached_assets_and_a_cookie_are_not_a_campaign() {
    // ci/bench.sh across rounds: people who loaded the page and its script
    // come back within the session, assets cached, with the site's cookie.
    let f = fp("Mozilla/5.0 (X11; Linux x86_64) Chrome/152.0.0.0", true);
    let page = (0, Class::Page, false);
    assert_eq!(flash_crowd(f, true, 20_000, &[page, page, page]), None);
    // the same without a cookie is a pool's scraping
    let bot = fp("Mozilla/5.0 (X11; Linux x86_64) Chrome/152.0.0.0", false);
    assert!(flash_crowd(bot, true, 300, &[page, page, page]).is_some());
}

#[test]
fn a_flash_crowd_of_api_clients_is_not_a_campaign() {
    // An app's launch: new phones call the API (no assets to load), log in
    // (successfully), and some sign up, with one okhttp fingerprint.
    let f = fp("okhttp/4.12.0", false);
    let call = (0, Class::Page, false);
    let login = (2, AUTH, false);
    let signup = (2, Class::Sensitive(1), false);
    let visit = [call, call, login, call, call, signup, call];
    assert_eq!(flash_crowd(f, false, 20_000, &visit), None);
}

#[test]
fn pool_tools_are_still_campaigns_on_a_fresh_zone() {
    let f = fp("Mozilla/5.0 (Macintosh) Safari/605.1.15", false);
    // stuffing: login posts first, mostly failing
    let fail = (LOGIN_FAIL, AUTH, false);
    let r = flash_crowd(f, true, 300, &[fail, fail, fail, fail]).expect("stuffing");
    assert_eq!(r.bot_type, BotType::CredentialStuffing);
    // fake accounts: a sign-up as the first request
    let signup = (2, Class::Sensitive(1), false);
    let r = flash_crowd(f, true, 300, &[signup]).expect("fake accounts");
    assert_eq!(r.bot_type, BotType::FakeAccounts);
    // scraping: product pages, no assets
    let page = (0, Class::Page, false);
    let r = flash_crowd(f, true, 200, &[page; 12]).expect("scraping");
    assert_eq!(r.bot_type, BotType::Scraping);
}

#[test]
fn one_address_or_a_quiet_site_is_not_a_campaign() {
    let c = Campaigns::boxed();
    let bot = fp("python-requests/2.31", false);
    let mut now = T0;
    // one address, 500 failed logins: the per-client detectors' business
    for _ in 0..500 {
        assert!(feed(&c, bot, LOGIN_FAIL, AUTH, Prior::Nothing, 1, now).is_none());
        now += 10;
    }
    // 15 addresses, 1 failed login each per minute: below every floor
    let c = Campaigns::boxed();
    for minute in 0..30u64 {
        for a in 0..15u32 {
            let t = T0 + minute * 60_000 + u64::from(a) * 1000;
            assert!(feed(&c, bot, LOGIN_FAIL, AUTH, Prior::Nothing, a, t).is_none());
        }
    }
}

#[test]
fn learned_rates_raise_the_threshold() {
    let c = Campaigns::boxed();
    let app = c.app(APP, 0);
    assert_eq!(app.rates(T0)[0].1, FLOOR[0]);
    let f = fp("x", false);
    let mut now = T0;
    // 40 auth failures per bucket (twice the floor) from varied keys for
    // two hours: followed slowly, as a lasting change of traffic
    for b in 0..720u64 {
        for k in 0..40u32 {
            let f = fp(&format!("ua{}", k % 7), false);
            feed(&c, f, 1, AUTH, Prior::Pages, (b as u32) * 100 + k, now);
            now += BUCKET_MS / 40;
        }
    }
    let (_, thr) = c.find(APP).expect("app").rates(now)[0];
    assert!(thr > 40.0 && thr < 140.0, "{thr}");
    let _ = f;
}

#[test]
fn neighbourhoods_group_a_datacentre_range_with_rotating_agents() {
    let c = Campaigns::boxed();
    let mut now = people(&c, T0, 300);
    let mut started = None;
    for i in 0..200u32 {
        let f = fp(&format!("Mozilla/5.0 rotating/{i}"), false);
        // all from 198.51.100.0/24
        let addr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, (i % 250) as u8));
        let r = c.app(APP, (now / 1000) as u32).feed(
            &c,
            &Feed {
                metrics: LOGIN_FAIL,
                fingerprint: f,
                class: AUTH,
                prior: Prior::Nothing,
                hood: fingerprint::neighbourhood(addr),
                address: fingerprint::address_hash(addr),
                browser: true,
            },
            now,
        );
        if let Some(r) = r {
            assert_eq!(r.grouped_by, "neighbourhood");
            started.get_or_insert(i);
        }
        now += 50;
    }
    assert!(started.is_some());
}

#[test]
fn apps_are_separate_and_evicted_by_idleness() {
    let c = Campaigns::boxed();
    for a in 1..=(APPS as u64 + 3) {
        let s = c.app(a, a as u32);
        assert!(std::ptr::eq(s, c.find(a).expect("found")));
    }
    assert!(c.find(1).is_none(), "the idlest was evicted");
}

#[test]
fn distinct_counting() {
    assert_eq!(distinct(0), 0.0);
    let mut bits = 0u64;
    for i in 0..20u32 {
        bits |= 1 << (mix(i) % 64);
    }
    let n = distinct(bits);
    assert!((14.0..=28.0).contains(&n), "{n}");
}

#[test]
fn the_region_stays_small() {
    // It lives in the zone's header: a 1m zone must still hold its clients.
    assert!(std::mem::size_of::<Campaigns>() <= 32 << 10);
}

#[test]
fn a_campus_of_first_visits_is_not_a_campaign() {
    // 250 people from one /24 arrive at once, each with their own browser
    // version and language: the neighbourhood groups sensitive calls only.
    let c = Campaigns::boxed();
    let now = T0;
    for i in 0..250u32 {
        let f = fp(
            &format!("Mozilla/5.0 Chrome/15{}.{}", i % 7, i % 13),
            i % 2 == 0,
        );
        let addr = IpAddr::V4(Ipv4Addr::new(10, 1, 0, (i % 254) as u8 + 1));
        let r = c.app(APP, (now / 1000) as u32).feed(
            &c,
            &Feed {
                metrics: Metric::FirstSeen.bit(),
                fingerprint: f,
                class: Class::Page,
                prior: Prior::Nothing,
                hood: fingerprint::neighbourhood(addr),
                address: fingerprint::address_hash(addr),
                browser: true,
            },
            now + u64::from(i) * 10,
        );
        assert!(r.is_none(), "{r:?}");
    }
}

#[test]
fn feeds_that_are_no_evidence_never_read_the_address_hashes() {
    // The request path hashes the address and its neighbourhood only for
    // evidence (`Feed::is_evidence`): the same feeds with and without the
    // hashes on the others give the same campaigns, rates and reports.
    let (a, b) = (Campaigns::boxed(), Campaigns::boxed());
    let mut rng = crate::testing::XorShift64::new(0xfeed);
    let bots = [
        fp("Mozilla/5.0 (Windows NT 10.0) Chrome/152.0.0.0", false),
        fp("python-requests/2.32", false),
        fp("Mozilla/5.0 Chrome/153.0", true),
    ];
    let mut now = T0;
    let mut reports = 0;
    for step in 0..25_000u32 {
        let class = match rng.next_u64() % 4 {
            0 => Class::Page,
            1 => AUTH,
            k => Class::Sensitive(k as u8),
        };
        let prior = [Prior::Nothing, Prior::Pages, Prior::Assets][(rng.next_u64() % 3) as usize];
        let addr = ip((rng.next_u64() % 900) as u32);
        let mut full = Feed {
            metrics: (rng.next_u64() % 8) as u8,
            fingerprint: bots[(rng.next_u64() % 3) as usize],
            class,
            prior,
            hood: fingerprint::neighbourhood(addr),
            address: fingerprint::address_hash(addr),
            browser: rng.next_u64() % 2 == 0,
        };
        if step >= 20_000 {
            // Then a stuffing wave from 300 addresses: campaigns start.
            let addr = ip(step % 300);
            full = Feed {
                metrics: LOGIN_FAIL | Metric::FirstSeen.bit(),
                fingerprint: bots[0],
                class: AUTH,
                prior: Prior::Nothing,
                hood: fingerprint::neighbourhood(addr),
                address: fingerprint::address_hash(addr),
                browser: true,
            };
        }
        let lazy = if full.is_evidence() {
            full
        } else {
            Feed {
                hood: 0,
                address: 0,
                ..full
            }
        };
        let now_s = (now / 1000) as u32;
        let ra = a.app(APP, now_s).feed(&a, &full, now);
        let rb = b.app(APP, now_s).feed(&b, &lazy, now);
        assert_eq!(ra, rb);
        reports += usize::from(ra.is_some());
        now += if step < 20_000 {
            rng.next_u64() % 60
        } else {
            40
        };
    }
    let now_s = (now / 1000) as u32;
    assert_eq!(a.active(now_s), b.active(now_s));
    let (fa, fb) = (a.find(APP).expect("app"), b.find(APP).expect("app"));
    assert_eq!(fa.rates(now), fb.rates(now));
    assert!(reports > 0, "the sequence starts campaigns");
}

#[test]
fn a_request_that_counts_towards_nothing_is_not_fed() {
    use super::react::{counts, Target};
    let page = Target::default();
    let login = Target {
        sensitive: Some(crate::model::SensitiveKind::Auth),
        asset: false,
    };
    let asset = Target {
        sensitive: None,
        asset: true,
    };
    let firefox: &[u8] = b"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    let curl: &[u8] = b"curl/8.5.0";
    // A known client's ordinary page or asset: no rate, no evidence.
    assert!(counts(page, 200, (true, Prior::Nothing), Some(firefox)).is_none());
    assert!(counts(asset, 200, (true, Prior::Pages), Some(firefox)).is_none());
    // Pages after pages are evidence from a browser only.
    assert!(counts(page, 200, (true, Prior::Pages), Some(curl)).is_none());
    assert!(counts(page, 200, (true, Prior::Pages), Some(firefox)).is_some());
    // Each rate on its own: a first-seen client, a refusal, a sensitive call.
    assert!(counts(page, 200, (false, Prior::Nothing), Some(curl)).is_some());
    assert!(counts(asset, 401, (true, Prior::Nothing), None).is_some());
    assert!(counts(login, 200, (true, Prior::Assets), None).is_some());
}
