//! Detector `outdated_browser`: the client claims a browser or platform that
//! is too old or no longer supported. Real people update (browsers update
//! themselves); bot kits ship with old, hard-coded User-Agent strings.
//!
//! The User-Agent is parsed with `woothee` once per client and User-Agent
//! change (the client record caches the result). The minimum versions live in
//! the tables below and nowhere else; they are deliberately conservative
//! (about three years behind the current releases), so that a user on an old
//! but working device is not counted as a bot on that alone.
//!
//! Figure: share of the client's browser requests that carried an outdated
//! User-Agent (a NAT address mixes many browsers); fires at one half.

use super::{DetectorResult, Verdict};

/// Oldest supported major version per browser (woothee names).
const MIN_BROWSER_VERSION: &[(&str, u32)] = &[
    ("Chrome", 100),
    ("Firefox", 100),
    ("Edge", 100),
    ("Opera", 86),
    ("Safari", 13),
    ("SamsungBrowser", 16),
    ("Vivaldi", 5),
];

/// Browsers that are unsupported at any version.
const UNSUPPORTED_BROWSERS: &[&str] = &["Internet Explorer"];

/// Operating systems that are unsupported at any version (woothee names).
const UNSUPPORTED_OS: &[&str] = &[
    "Windows XP",
    "Windows Vista",
    "Windows 7",
    "Windows 8",
    "Windows 8.1",
    "Windows 2000",
    "Windows NT 4.0",
    "Windows 98",
    "Windows 95",
    "Windows Me",
    "Windows CE",
    "Windows Phone OS",
];

/// Oldest supported OS version, as (major, minor), per OS (woothee names).
const MIN_OS_VERSION: &[(&str, (u32, u32))] = &[
    ("Android", (8, 0)),
    ("iPhone", (12, 0)),
    ("iPad", (12, 0)),
    ("Mac OSX", (10, 13)),
];

/// Share of outdated browser requests from which the detector fires.
pub const THRESHOLD: f32 = 0.5;

/// What woothee made of a User-Agent that claims to be a browser.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BrowserInfo {
    /// The browser or its platform is outdated.
    pub outdated: bool,
    /// A Chromium-family browser (they all send the same header set).
    pub chromium: bool,
}

/// Parses a User-Agent; `None` when woothee does not see a browser in it.
pub fn parse(ua: &[u8]) -> Option<BrowserInfo> {
    let ua = std::str::from_utf8(ua).ok()?;
    let r = woothee::parser::Parser::new().parse(ua)?;
    if r.browser_type != "browser" {
        return None;
    }
    let outdated = browser_outdated(r.name, r.version) || os_outdated(r.os, &r.os_version);
    let chromium = matches!(
        r.name,
        "Chrome" | "Edge" | "Opera" | "SamsungBrowser" | "Vivaldi"
    );
    Some(BrowserInfo { outdated, chromium })
}

fn browser_outdated(name: &str, version: &str) -> bool {
    if UNSUPPORTED_BROWSERS.contains(&name) {
        return true;
    }
    match MIN_BROWSER_VERSION.iter().find(|(n, _)| *n == name) {
        Some((_, min)) => version_of(version).is_some_and(|(major, _)| major < *min),
        None => false,
    }
}

fn os_outdated(os: &str, version: &str) -> bool {
    if UNSUPPORTED_OS.contains(&os) {
        return true;
    }
    match MIN_OS_VERSION.iter().find(|(n, _)| *n == os) {
        Some((_, min)) => version_of(version).is_some_and(|v| v < *min),
        None => false,
    }
}

/// `"10.15.7"` -> `(10, 15)`; `None` when there is no leading number.
fn version_of(v: &str) -> Option<(u32, u32)> {
    let mut parts = v.split(['.', '_']);
    let major = parts.next()?.parse::<u32>().ok()?;
    let minor = parts
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(0);
    Some((major, minor))
}

/// The detector, from the decayed counts of browser requests and of those
/// among them that were outdated.
pub fn evaluate(browser_requests: f32, outdated_requests: f32) -> DetectorResult {
    if browser_requests < 1.0 {
        return DetectorResult::no_data(THRESHOLD);
    }
    let figure = (outdated_requests / browser_requests).clamp(0.0, 1.0);
    DetectorResult {
        verdict: if figure >= THRESHOLD {
            Verdict::Fired
        } else {
            Verdict::NotFired
        },
        figure,
        threshold: THRESHOLD,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outdated(ua: &str) -> Option<bool> {
        parse(ua.as_bytes()).map(|b| b.outdated)
    }

    #[test]
    fn versions() {
        let current = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
        assert_eq!(outdated(current), Some(false));
        assert_eq!(parse(current.as_bytes()).map(|b| b.chromium), Some(true));
        let old_chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.88 Safari/537.36";
        assert_eq!(outdated(old_chrome), Some(true));
        let win7 = "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36";
        assert_eq!(outdated(win7), Some(true));
        let ie = "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko";
        assert_eq!(outdated(ie), Some(true));
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";
        assert_eq!(outdated(firefox), Some(false));
        let old_android = "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36";
        assert_eq!(outdated(old_android), Some(true));
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
        assert_eq!(outdated(iphone), Some(false));
        let old_mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/11.1.2 Safari/605.1.15";
        assert_eq!(outdated(old_mac), Some(true));
        assert_eq!(outdated("curl/8.0"), None);
        assert_eq!(parse(b"\xff\xfe"), None);
    }

    #[test]
    fn verdicts() {
        assert_eq!(evaluate(0.0, 0.0).verdict, Verdict::NotEnoughData);
        assert_eq!(evaluate(10.0, 1.0).verdict, Verdict::NotFired);
        assert_eq!(evaluate(10.0, 9.0).verdict, Verdict::Fired);
    }
}
