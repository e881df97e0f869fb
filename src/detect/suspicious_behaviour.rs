//! Detector `suspicious_behaviour`: does the client move through the
//! application the way its people do, and does it send what its claimed
//! browser sends?
//!
//! - Transitions: each step from one endpoint template to the next is looked
//!   up in the baseline's learned transitions; a step taken in under 1 % of
//!   the learned departures from that template, or to a template never seen,
//!   is rare. Needs a trained baseline, and is skipped for addresses shared by
//!   several people (their interleaved steps are not one walk).
//! - Headers: a client whose User-Agent claims a browser must send what
//!   browsers always send: `Accept`, `Accept-Language`, `Accept-Encoding`, a
//!   persistent HTTP/1.1+ connection; Chromium over HTTP/2 or 3 (always TLS,
//!   a secure context) also sends `Sec-Fetch-*`. Over plain HTTP/1.1 the fetch
//!   metadata is not required: browsers send it only to secure origins.
//!
//! - Requisites: a client that is no browser by its User-Agent but downloads
//!   stylesheets, scripts and images (what only rendering needs) is an
//!   offline browser or a mirroring tool. Apps fetch pictures too, so it
//!   takes a quarter of the requests being assets, and the detector only
//!   supports a type whose core fired.
//!
//! Figure: the largest of the shares (rare steps, anomalous requests,
//! assets of a client that claims no browser).

use super::state::{ClientState, C};
use super::{ratio, DetectorResult};

pub const MIN_TRANSITIONS: f32 = 8.0;
pub const MIN_BROWSER_REQUESTS: f32 = 5.0;
/// Assets a non-browser must have downloaded before its share counts.
pub const MIN_REQUISITES: f32 = 3.0;
/// Share of a non-browser's requests that are assets, from which it fires.
pub const REQUISITES_SHARE: f32 = 0.25;
/// Fires at this share of rare steps or anomalous requests.
pub const THRESHOLD: f32 = 0.5;

/// The per-request header check, done in the extract stage (it needs the
/// request alone); its count in the record is what [`evaluate`] reads.
pub use super::facts::header_anomaly;

pub fn evaluate(s: &ClientState) -> DetectorResult {
    let checked = s.count(C::CheckedTransitions);
    let browser = s.count(C::BrowserReqs);
    let mut figure: Option<f32> = None;
    if checked >= MIN_TRANSITIONS * 0.95 && s.people() <= 1.0 {
        figure = Some(ratio(s.count(C::RareTransitions), checked));
    }
    if browser >= MIN_BROWSER_REQUESTS * 0.95 {
        let anomalies = ratio(s.count(C::Anomalies), browser);
        figure = Some(figure.map_or(anomalies, |f| f.max(anomalies)));
    }
    let total = s.count(C::Total);
    let assets = s.count(C::Assets);
    if s.requests >= 5 && ratio(browser, total) < 0.5 && assets >= MIN_REQUISITES * 0.95 {
        // On the detector's scale: REQUISITES_SHARE maps to THRESHOLD.
        let scaled = ratio(assets, total) * THRESHOLD / REQUISITES_SHARE;
        figure = Some(figure.map_or(scaled, |f| f.max(scaled)));
    }
    match figure {
        None => DetectorResult::no_data(THRESHOLD),
        Some(f) => DetectorResult::judged(f >= THRESHOLD, f.min(1.0), THRESHOLD),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{baseline::AppBaseline, state::Observation, Verdict};
    use crate::request::{header_bits as h, RequestView};

    const CHROME: &[u8] = b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
    const FULL: u16 = h::ACCEPT | h::ACCEPT_LANGUAGE | h::ACCEPT_ENCODING | h::SEC_FETCH;

    fn view(path: &'static str, headers: u16, http_version: u16) -> RequestView<'static> {
        RequestView {
            method: b"GET",
            path: path.as_bytes(),
            user_agent: Some(CHROME),
            headers,
            http_version,
            status: 200,
            ..Default::default()
        }
    }

    #[test]
    fn anomalies() {
        assert!(!header_anomaly(&view("/", FULL, 1001), true));
        assert!(header_anomaly(&view("/", h::ACCEPT, 1001), true));
        assert!(header_anomaly(&view("/", FULL, 1000), false));
        assert!(header_anomaly(
            &view("/", FULL | h::CONNECTION_CLOSE, 1001),
            true
        ));
        assert!(header_anomaly(&view("/", FULL & !h::SEC_FETCH, 2000), true));
        assert!(!header_anomaly(
            &view("/", FULL & !h::SEC_FETCH, 1001),
            true
        ));
        assert!(!header_anomaly(
            &view("/", FULL & !h::SEC_FETCH, 2000),
            false
        ));
    }

    #[test]
    fn scripted_browser_fires() {
        let b = AppBaseline::boxed();
        let mut s = ClientState::ZERO;
        for i in 0..6 {
            s.observe(&view("/a", h::ACCEPT, 1001), None, &b, 1_000 + i * 900);
        }
        let r = evaluate(&s);
        assert_eq!(r.verdict, Verdict::Fired, "{r:?}");
        let mut real = ClientState::ZERO;
        for i in 0..6 {
            real.observe(&view("/a", FULL, 2000), None, &b, 1_000 + i * 900);
        }
        assert_eq!(evaluate(&real).verdict, Verdict::NotFired);
    }

    #[test]
    fn a_tool_downloading_page_requisites_fires() {
        let b = AppBaseline::boxed();
        let get = |ua: &'static [u8], p: &'static str| RequestView {
            method: b"GET",
            path: p.as_bytes(),
            user_agent: Some(ua),
            headers: h::ACCEPT,
            http_version: 1001,
            status: 200,
            ..Default::default()
        };
        let pages = [
            "/",
            "/static/site.css",
            "/static/app.js",
            "/static/logo.png",
            "/c/1",
            "/c/2",
            "/p/1",
            "/p/2",
        ];
        let mut mirror = ClientState::ZERO;
        let mut sdk = ClientState::ZERO;
        for (i, p) in pages.iter().enumerate() {
            mirror.observe(&get(b"Wget/1.21.3", p), None, &b, 1_000 + i as u64 * 50);
            let api = if p.starts_with("/static") {
                "/api/products"
            } else {
                p
            };
            sdk.observe(&get(b"okhttp/4.12.0", api), None, &b, 1_000 + i as u64 * 50);
        }
        assert_eq!(
            evaluate(&mirror).verdict,
            Verdict::Fired,
            "{:?}",
            evaluate(&mirror)
        );
        assert_eq!(evaluate(&sdk).verdict, Verdict::NotEnoughData);
    }

    #[test]
    fn unusual_walk_fires() {
        let mut b = AppBaseline::boxed();
        let list = crate::detect::template::normalise(b"GET", b"/list").template;
        let item = crate::detect::template::normalise(b"GET", b"/item/1").template;
        for i in 0..600 {
            let (prev, cur) = if i % 2 == 0 {
                (list, item)
            } else {
                (item, list)
            };
            let o = Observation {
                template: cur,
                prev_template: prev,
                learn_endpoint: true,
                ..Default::default()
            };
            b.learn(&o, crate::detect::baseline::Lesson::ALL, 10);
        }
        let mut usual = ClientState::ZERO;
        let mut odd = ClientState::ZERO;
        let curl = |p: &'static str| RequestView {
            method: b"GET",
            path: p.as_bytes(),
            status: 200,
            ..Default::default()
        };
        for i in 0..12u64 {
            let p = if i % 2 == 0 { "/list" } else { "/item/5" };
            usual.observe(&curl(p), None, &b, 1_000 + i * 900);
            odd.observe(&curl("/item/5"), None, &b, 1_000 + i * 900);
        }
        assert_eq!(evaluate(&usual).verdict, Verdict::NotFired);
        assert_eq!(evaluate(&odd).verdict, Verdict::Fired);
        assert_eq!(evaluate(&ClientState::ZERO).verdict, Verdict::NotEnoughData);
    }
}
