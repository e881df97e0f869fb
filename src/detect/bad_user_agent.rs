//! Detector `bad_user_agent`: the User-Agent names a security scanner, a
//! headless browser, a crawler or scraper, or is missing altogether.
//!
//! HTTP libraries (curl, python-requests, Go, okhttp, axios, Java, wget, ...)
//! are classified but do not fire: SDKs and integrations legitimately use them,
//! so they are a weak hint for the events, never a vote.
//!
//! Matching is a case-insensitive substring search over short signature
//! lists, done once per client and User-Agent change (the record caches the
//! class under the User-Agent hash). Short signatures that occur inside
//! ordinary words (`zap`, `burp`, `nmap`, `got`) must stand alone between
//! non-alphanumeric characters.

use super::{DetectorResult, Verdict};

/// What a User-Agent says about its client, ordered by how bad it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum UaClass {
    /// Looks like a browser (or nothing known).
    #[default]
    Browser = 0,
    /// Not a browser, not a known tool.
    Unknown = 1,
    /// An HTTP library or command-line client.
    Library = 2,
    /// `User-Agent` header missing or blank.
    Missing = 3,
    /// A crawler, spider or scraping framework.
    Crawler = 4,
    /// A headless or automated browser.
    Headless = 5,
    /// A security scanner.
    Scanner = 6,
}

impl UaClass {
    pub fn from_u8(v: u8) -> UaClass {
        match v {
            1 => UaClass::Unknown,
            2 => UaClass::Library,
            3 => UaClass::Missing,
            4 => UaClass::Crawler,
            5 => UaClass::Headless,
            6 => UaClass::Scanner,
            _ => UaClass::Browser,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            UaClass::Browser => "browser",
            UaClass::Unknown => "unknown",
            UaClass::Library => "library",
            UaClass::Missing => "missing",
            UaClass::Crawler => "crawler",
            UaClass::Headless => "headless",
            UaClass::Scanner => "scanner",
        }
    }

    /// The detector's figure: how strongly the class points to a bot.
    pub const fn severity(self) -> f32 {
        match self {
            UaClass::Browser => 0.0,
            UaClass::Unknown => 0.2,
            UaClass::Library => 0.3,
            UaClass::Missing => 0.7,
            UaClass::Crawler => 0.8,
            UaClass::Headless => 0.9,
            UaClass::Scanner => 1.0,
        }
    }
}

/// Severity from which the detector fires: missing UA, crawlers, headless
/// browsers and scanners; never libraries.
pub const THRESHOLD: f32 = 0.5;

/// A signature; `alone` ones must not touch alphanumeric characters.
struct Sig(&'static [u8], bool);

const SCANNERS: &[Sig] = &[
    Sig(b"sqlmap", false),
    Sig(b"nikto", false),
    Sig(b"nuclei", false),
    Sig(b"zgrab", false),
    Sig(b"masscan", false),
    Sig(b"wpscan", false),
    Sig(b"gobuster", false),
    Sig(b"dirbuster", false),
    Sig(b"dirb", true),
    Sig(b"ffuf", true),
    Sig(b"feroxbuster", false),
    Sig(b"wfuzz", false),
    Sig(b"nmap", true),
    Sig(b"acunetix", false),
    Sig(b"nessus", false),
    Sig(b"openvas", false),
    Sig(b"burp", true),
    Sig(b"burpcollaborator", false),
    Sig(b"zaproxy", false),
    Sig(b"owasp zap", false),
    Sig(b"zap", true),
    Sig(b"netsparker", false),
    Sig(b"invicti", false),
    Sig(b"appscan", false),
    Sig(b"w3af", false),
    Sig(b"skipfish", false),
    Sig(b"arachni", false),
    Sig(b"whatweb", false),
    Sig(b"commix", false),
    Sig(b"hydra", true),
    Sig(b"qualys", false),
    Sig(b"jaeles", false),
    Sig(b"interactsh", false),
    // ffuf's default; old worms and injection tools (signatures::identity).
    Sig(b"fuzz faster u fool", false),
    Sig(b"jorgee", false),
    Sig(b"zmeu", false),
    Sig(b"havij", false),
    Sig(b"sqlninja", false),
    Sig(b"morfeus", false),
];

const HEADLESS: &[Sig] = &[
    Sig(b"headlesschrome", false),
    Sig(b"headless", true),
    Sig(b"phantomjs", false),
    Sig(b"puppeteer", false),
    Sig(b"playwright", false),
    Sig(b"selenium", false),
    Sig(b"webdriver", false),
    Sig(b"slimerjs", false),
];

const CRAWLERS: &[Sig] = &[
    Sig(b"crawler", false),
    Sig(b"crawl", true),
    Sig(b"spider", false),
    Sig(b"scrapy", false),
    Sig(b"scraper", false),
    Sig(b"bot/", false),
    Sig(b"bot-", false),
    Sig(b"-bot", false),
    Sig(b"_bot", false),
    Sig(b"bot", true),
    Sig(b"+http", false),
    Sig(b"httrack", false),
    Sig(b"heritrix", false),
    Sig(b"nutch", false),
    Sig(b"colly", false),
    Sig(b"apify", false),
    Sig(b"jsoup", false),
    Sig(b"mechanize", false),
    Sig(b"facebookexternalhit", false),
];

const LIBRARIES: &[Sig] = &[
    Sig(b"curl", false),
    Sig(b"wget", false),
    Sig(b"python", false),
    Sig(b"aiohttp", false),
    Sig(b"httpx", false),
    Sig(b"go-http-client", false),
    Sig(b"okhttp", false),
    Sig(b"axios", false),
    Sig(b"java/", false),
    Sig(b"java", true),
    Sig(b"apache-httpclient", false),
    Sig(b"libwww-perl", false),
    Sig(b"lwp::", false),
    Sig(b"node-fetch", false),
    Sig(b"undici", false),
    Sig(b"postmanruntime", false),
    Sig(b"insomnia", false),
    Sig(b"httpie", false),
    Sig(b"guzzle", false),
    Sig(b"ruby", true),
    Sig(b"faraday", false),
    Sig(b"dart:io", false),
    Sig(b"reqwest", false),
    Sig(b"got", true),
    Sig(b"restsharp", false),
    Sig(b"cfnetwork", false),
    Sig(b"powershell", false),
];

/// Classifies a `User-Agent` value (`None` when the header is missing).
pub fn classify(ua: Option<&[u8]>) -> UaClass {
    let ua = match ua {
        None => return UaClass::Missing,
        Some(u) if u.iter().all(u8::is_ascii_whitespace) => return UaClass::Missing,
        Some(u) => u,
    };
    for (list, class) in [
        (SCANNERS, UaClass::Scanner),
        (HEADLESS, UaClass::Headless),
        (CRAWLERS, UaClass::Crawler),
        (LIBRARIES, UaClass::Library),
    ] {
        if list.iter().any(|s| contains(ua, s)) {
            return class;
        }
    }
    if starts_with_ignore_case(ua, b"mozilla/") || starts_with_ignore_case(ua, b"opera/") {
        UaClass::Browser
    } else {
        UaClass::Unknown
    }
}

/// The detector: `class` is the worst class seen in the client's session.
pub fn evaluate(class: UaClass, requests: u32) -> DetectorResult {
    if requests == 0 {
        return DetectorResult::no_data(THRESHOLD);
    }
    let figure = class.severity();
    let verdict = if figure >= THRESHOLD {
        Verdict::Fired
    } else {
        Verdict::NotFired
    };
    DetectorResult {
        verdict,
        figure,
        threshold: THRESHOLD,
    }
}

fn starts_with_ignore_case(hay: &[u8], prefix: &[u8]) -> bool {
    hay.get(..prefix.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(prefix))
}

fn contains(hay: &[u8], sig: &Sig) -> bool {
    let needle = sig.0;
    if needle.is_empty() || hay.len() < needle.len() {
        return false;
    }
    (0..=hay.len() - needle.len()).any(|i| {
        let Some(window) = hay.get(i..i + needle.len()) else {
            return false;
        };
        if !window.eq_ignore_ascii_case(needle) {
            return false;
        }
        if !sig.1 {
            return true;
        }
        let before = i.checked_sub(1).and_then(|j| hay.get(j));
        let after = hay.get(i + needle.len());
        !before.is_some_and(u8::is_ascii_alphanumeric)
            && !after.is_some_and(u8::is_ascii_alphanumeric)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(ua: &str) -> UaClass {
        classify(Some(ua.as_bytes()))
    }

    #[test]
    fn classes() {
        assert_eq!(
            c("sqlmap/1.7.2#stable (https://sqlmap.org)"),
            UaClass::Scanner
        );
        assert_eq!(
            c("Mozilla/5.00 (Nikto/2.1.6) (Evasions:None)"),
            UaClass::Scanner
        );
        assert_eq!(
            c("Mozilla/5.0 (compatible; Nmap Scripting Engine)"),
            UaClass::Scanner
        );
        assert_eq!(c("Fuzz Faster U Fool v2.1.0 (ffuf)"), UaClass::Scanner);
        assert_eq!(
            c("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0 Safari/537.36"),
            UaClass::Headless
        );
        assert_eq!(
            c("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
            UaClass::Crawler
        );
        assert_eq!(c("Scrapy/2.11 (+https://scrapy.org)"), UaClass::Crawler);
        assert_eq!(c("curl/8.5.0"), UaClass::Library);
        assert_eq!(c("python-requests/2.31.0"), UaClass::Library);
        assert_eq!(c("Go-http-client/1.1"), UaClass::Library);
        assert_eq!(c("okhttp/4.12.0"), UaClass::Library);
        assert_eq!(c("Java/17.0.2"), UaClass::Library);
        assert_eq!(
            c("got (https://github.com/sindresorhus/got)"),
            UaClass::Library
        );
        assert_eq!(c("MyShopApp/3.2 (iOS 17.1)"), UaClass::Unknown);
        assert_eq!(classify(None), UaClass::Missing);
        assert_eq!(c("  "), UaClass::Missing);
    }

    #[test]
    fn ordinary_browsers_are_not_matched_by_short_signatures() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
        assert_eq!(c(chrome), UaClass::Browser);
        // A phone model called CUBOT must not read as a bot; Zapier is not ZAP.
        assert_eq!(c("Mozilla/5.0 (Linux; Android 12; CUBOT X50) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36"), UaClass::Browser);
        assert_eq!(c("Zapier"), UaClass::Unknown);
    }

    #[test]
    fn verdicts() {
        assert_eq!(evaluate(UaClass::Scanner, 3).verdict, Verdict::Fired);
        assert_eq!(evaluate(UaClass::Missing, 3).verdict, Verdict::Fired);
        assert_eq!(evaluate(UaClass::Library, 3).verdict, Verdict::NotFired);
        assert_eq!(evaluate(UaClass::Browser, 3).verdict, Verdict::NotFired);
        assert_eq!(
            evaluate(UaClass::Browser, 0).verdict,
            Verdict::NotEnoughData
        );
    }
}
