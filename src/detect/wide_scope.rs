//! Detector `wide_scope`: crawler-like breadth. A crawler or scraper fetches
//! each resource once and moves on across many of them (or across many
//! endpoint templates), and loads no stylesheets, scripts or images; people
//! come back to lists, carts and searches, and their browsers load assets.
//!
//! Figure: the decayed count of distinct resources (method + concrete path).
//! It fires when that count reaches the threshold while most requests bring a
//! new resource, or when the client used an unusual number of distinct
//! templates. A client that *renders* what it fetches (a browser by its
//! User-Agent and headers, loading assets) does not fire on resources. When
//! the application is known to serve assets through the module (the
//! baseline's asset share, or the client's own asset requests before the
//! baseline is trained) a client that renders nothing needs less breadth: a
//! mirroring tool downloads the assets too, but it is no browser (and it
//! needs a smaller share of new resources, `DOWNLOADER_NEW_SHARE`). Thresholds
//! scale with the estimated number of people behind the address.

use super::state::{ClientState, C};
use super::{baseline::AppBaseline, ratio, reaches, DetectorResult};

pub const MIN_REQUESTS: u32 = 15;
/// Distinct resources from which the detector fires.
pub const BREADTH: f32 = 25.0;
/// The same, for a client that loads no assets on a site that has them.
pub const BREADTH_NO_ASSETS: f32 = 15.0;
/// Share of requests that must bring a new resource.
pub const NEW_SHARE: f32 = 0.8;
/// The same for a client that downloads assets but renders nothing (a
/// mirroring tool): listing pages that differ only by their query are one
/// resource, so a site's own structure keeps a mirror's share under 0.8.
pub const DOWNLOADER_NEW_SHARE: f32 = 0.6;
/// Share of new resources that makes a crawling result strong: people come
/// back to something at least one request in ten.
pub const STRONG_NEW_SHARE: f32 = 0.9;
/// Distinct templates that are wide on their own.
pub const TEMPLATES: f32 = 30.0;
/// The application "has assets" above this learned share.
pub const APP_ASSET_SHARE: f32 = 0.05;
pub use super::state::{ANOMALY_SHARE, BROWSER_SHARE, CLIENT_ASSET_SHARE};

/// The client loads assets the way a browser rendering pages does
/// ([`ClientState::renders`]).
pub fn renders(s: &ClientState) -> bool {
    s.renders()
}

pub fn evaluate(s: &ClientState, baseline: &AppBaseline) -> DetectorResult {
    let people = s.people();
    if s.requests < MIN_REQUESTS {
        return DetectorResult::no_data(BREADTH * people);
    }
    let total = s.count(C::Total);
    let loads_assets = ratio(s.count(C::Assets), total) > CLIENT_ASSET_SHARE;
    let app_assets = match baseline.asset_share() {
        Some(a) => a >= APP_ASSET_SHARE,
        None => loads_assets,
    };
    let renders = renders(s);
    let threshold = people
        * if app_assets && !renders {
            BREADTH_NO_ASSETS
        } else {
            BREADTH
        };
    let resources = s.count(C::NewResources);
    let share = if loads_assets && !renders {
        DOWNLOADER_NEW_SHARE
    } else {
        NEW_SHARE
    };
    let crawling = reaches(resources, threshold) && ratio(resources, total) >= share && !renders;
    let sprawling = reaches(s.count(C::NewTemplates), TEMPLATES * people);
    DetectorResult::judged(crawling || sprawling, resources, threshold)
}

/// False only when [`evaluate`] cannot fire: its thresholds are the
/// one-person ones times the people behind the address (at least one), so
/// new resources under the lower one-person breadth and new templates
/// under the one-person count fire neither way. No ratio, no baseline:
/// the quiet check (`scoring::quiet`) asks this first.
pub fn may_fire(s: &ClientState) -> bool {
    s.requests >= MIN_REQUESTS
        && (reaches(s.count(C::NewResources), BREADTH.min(BREADTH_NO_ASSETS))
            || reaches(s.count(C::NewTemplates), TEMPLATES))
}

/// Fired by crawling with (almost) no resource fetched twice.
pub fn is_strong(s: &ClientState, r: &DetectorResult) -> bool {
    r.fired()
        && reaches(r.figure, r.threshold)
        && ratio(s.count(C::NewResources), s.count(C::Total)) >= STRONG_NEW_SHARE
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Verdict;
    use crate::request::RequestView;

    fn run(path: impl Fn(u64) -> String, n: u64, b: &AppBaseline) -> DetectorResult {
        let mut s = ClientState::ZERO;
        for i in 0..n {
            let p = path(i);
            let v = RequestView {
                method: b"GET",
                path: p.as_bytes(),
                status: 200,
                ..Default::default()
            };
            s.observe(&v, None, b, 1_000_000 + i * 2_000);
        }
        evaluate(&s, b)
    }

    #[test]
    fn crawler_fires_person_does_not() {
        let b = AppBaseline::boxed();
        let r = run(|i| format!("/products/{}", 1000 + i * 13), 30, &b);
        assert_eq!(r.verdict, Verdict::Fired, "{r:?}");
        let mut s = ClientState::ZERO;
        for i in 0..30u64 {
            let p = format!("/products/{}", 1000 + i * 13);
            let v = RequestView {
                method: b"GET",
                path: p.as_bytes(),
                status: 200,
                ..Default::default()
            };
            s.observe(&v, None, &b, 1_000_000 + i * 2_000);
        }
        assert!(is_strong(&s, &evaluate(&s, &b)));
        // Back and forth between a list and items.
        let r = run(
            |i| {
                if i % 2 == 0 {
                    "/products".into()
                } else {
                    format!("/products/{i}")
                }
            },
            40,
            &b,
        );
        assert_eq!(r.verdict, Verdict::NotFired, "{r:?}");
        let r = run(|i| format!("/section{i}/page"), 35, &b);
        assert_eq!(r.verdict, Verdict::Fired, "{r:?}");
        assert_eq!(
            run(|i| format!("/p/{i}"), 5, &b).verdict,
            Verdict::NotEnoughData
        );
    }

    /// A page and its new images, then the next page, `n` requests; as a
    /// browser (full headers) or as a mirroring tool.
    fn pages_and_images(n: u64, ua: &'static [u8], headers: u16) -> ClientState {
        let b = AppBaseline::boxed();
        let mut s = ClientState::ZERO;
        for i in 0..n {
            let p = if i % 3 == 0 {
                format!("/products/{i}")
            } else {
                format!("/img/{i}.png")
            };
            let v = RequestView {
                method: b"GET",
                path: p.as_bytes(),
                user_agent: Some(ua),
                headers,
                http_version: 1001,
                status: 200,
                ..Default::default()
            };
            s.observe(&v, None, &b, 1_000_000 + i * 300);
        }
        s
    }

    #[test]
    fn a_fast_person_loading_images_never_crawls_a_mirror_does() {
        use crate::request::header_bits as h;
        const CHROME: &[u8] = b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        let full = h::ACCEPT | h::ACCEPT_LANGUAGE | h::ACCEPT_ENCODING | h::SEC_FETCH;
        // Even before the baseline knows the site serves assets.
        let b = AppBaseline::boxed();
        assert_eq!(b.asset_share(), None);
        let person = pages_and_images(60, CHROME, full);
        assert!(renders(&person));
        assert_eq!(evaluate(&person, &b).verdict, Verdict::NotFired);
        // wget --mirror: the same requests, a tool's User-Agent.
        let mirror = pages_and_images(16, b"Wget/1.21.3", h::ACCEPT);
        assert!(!renders(&mirror));
        let r = evaluate(&mirror, &b);
        assert_eq!(r.verdict, Verdict::Fired, "{r:?}");
        assert_eq!(r.threshold, BREADTH_NO_ASSETS);
        // listing pages (one resource whatever their query) among products
        // and images: a mirror's share of new resources stays under 0.8
        let mut s = ClientState::ZERO;
        for i in 0..24u64 {
            let p = match i % 4 {
                0 => "/products".to_string(),
                1 => format!("/products/{i}"),
                _ => format!("/img/{i}.png"),
            };
            let v = RequestView {
                method: b"GET",
                path: p.as_bytes(),
                user_agent: Some(b"Wget/1.21.3"),
                status: 200,
                ..Default::default()
            };
            s.observe(&v, None, &b, 1_000_000 + i * 300);
        }
        let r = evaluate(&s, &b);
        assert_eq!(r.verdict, Verdict::Fired, "{r:?}");
        // a browser User-Agent without a browser's headers renders nothing
        assert!(!renders(&pages_and_images(16, CHROME, h::ACCEPT)));
    }
}
