//! Who the simulated clients claim to be: current browsers with the headers
//! each really sends (as of late 2026), and HTTP libraries/SDKs.
//!
//! Header sets follow the browsers' own behaviour over HTTP/1.1: Chromium
//! (Chrome, Edge) sends client hints (`Sec-CH-UA*`); Chromium, Firefox and
//! Safari all send Fetch Metadata (`Sec-Fetch-*`); Accept values differ per
//! destination (document, style, script, image, fetch). Getting this right
//! matters in both directions: human traffic must look like browsers, and the
//! evasive bots that copy browsers must copy them well.

use rand::seq::IndexedRandom;
use rand::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Chrome,
    Edge,
    Firefox,
    Safari,
}

#[derive(Debug, Clone)]
pub struct Browser {
    pub family: Family,
    pub mobile: bool,
    pub ua: String,
    major: u32,
    platform: &'static str,
    language: &'static str,
}

/// What a request fetches, which decides Accept and `Sec-Fetch-*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dest {
    /// A page the user navigates to (link, address bar, form submit).
    Document,
    Style,
    Script,
    Image,
    /// `fetch()` from the page's script, JSON in and out.
    Fetch,
}

/// Where the request comes from, relative to the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// Typed or bookmarked: no Referer.
    None,
    SameOrigin,
    /// Followed from another site (a search engine).
    CrossSite,
}

const LANGUAGES: [&str; 8] = [
    "en-US,en;q=0.9",
    "en-GB,en;q=0.9",
    "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7",
    "fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7",
    "es-ES,es;q=0.9,en;q=0.8",
    "pl-PL,pl;q=0.9,en-US;q=0.8,en;q=0.7",
    "ja-JP,ja;q=0.9,en-US;q=0.8,en;q=0.7",
    "pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7",
];

impl Browser {
    /// A random current browser, weighted roughly like real traffic.
    pub fn random<R: Rng>(rng: &mut R) -> Browser {
        let roll = rng.random_range(0..100);
        let language = LANGUAGES.choose(rng).copied().unwrap_or("en-US,en;q=0.9");
        let (family, mobile) = match roll {
            0..=34 => (Family::Chrome, false),
            35..=54 => (Family::Chrome, true),
            55..=64 => (Family::Edge, false),
            65..=74 => (Family::Firefox, rng.random_bool(0.2)),
            75..=84 => (Family::Safari, false),
            _ => (Family::Safari, true),
        };
        // Recent releases, with the usual lag of people who restart late.
        let major = match family {
            Family::Chrome | Family::Edge => rng.random_range(151..=156),
            Family::Firefox => rng.random_range(154..=159),
            Family::Safari => rng.random_range(0..4),
        };
        let safari = ["26.3", "26.4", "27.0", "27.1"];
        let sv = safari.get(major as usize).copied().unwrap_or("27.1");
        let (ua, platform) = match (family, mobile) {
            (Family::Chrome, false) => {
                let (os, platform) = *[
                    ("Windows NT 10.0; Win64; x64", "\"Windows\""),
                    ("Macintosh; Intel Mac OS X 10_15_7", "\"macOS\""),
                    ("X11; Linux x86_64", "\"Linux\""),
                ]
                .choose(rng)
                .unwrap_or(&("Windows NT 10.0; Win64; x64", "\"Windows\""));
                (format!("Mozilla/5.0 ({os}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{major}.0.0.0 Safari/537.36"), platform)
            }
            (Family::Chrome, true) | (Family::Edge, true) => (
                format!("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{major}.0.0.0 Mobile Safari/537.36"),
                "\"Android\"",
            ),
            (Family::Edge, false) => (
                format!("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{major}.0.0.0 Safari/537.36 Edg/{major}.0.0.0"),
                "\"Windows\"",
            ),
            (Family::Firefox, false) => {
                let os = *["Windows NT 10.0; Win64; x64", "Macintosh; Intel Mac OS X 10.15", "X11; Ubuntu; Linux x86_64"]
                    .choose(rng)
                    .unwrap_or(&"Windows NT 10.0; Win64; x64");
                (format!("Mozilla/5.0 ({os}; rv:{major}.0) Gecko/20100101 Firefox/{major}.0"), "")
            }
            (Family::Firefox, true) => {
                (format!("Mozilla/5.0 (Android 15; Mobile; rv:{major}.0) Gecko/{major}.0 Firefox/{major}.0"), "")
            }
            (Family::Safari, false) => (
                format!("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{sv} Safari/605.1.15"),
                "",
            ),
            // Since iOS 26 Safari freezes the OS token at 18_6.
            (Family::Safari, true) => (
                format!("Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{sv} Mobile/15E148 Safari/604.1"),
                "",
            ),
        };
        let language = if family == Family::Firefox {
            firefox_language(language)
        } else {
            language
        };
        Browser {
            family,
            mobile,
            ua,
            major,
            platform,
            language,
        }
    }

    fn accept(&self, dest: Dest) -> &'static str {
        let chromium = matches!(self.family, Family::Chrome | Family::Edge);
        match dest {
            Dest::Document if chromium => "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
            Dest::Document => "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            Dest::Style => "text/css,*/*;q=0.1",
            Dest::Script => "*/*",
            Dest::Image if chromium => "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
            Dest::Image if self.family == Family::Firefox => "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5",
            Dest::Image => "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5",
            Dest::Fetch => "application/json",
        }
    }

    /// The headers this browser sends for one request, in its order.
    /// `referer` is a full URL; `origin` is set for POSTs.
    pub fn headers(
        &self,
        dest: Dest,
        site: Site,
        referer: Option<&str>,
        origin: Option<&str>,
        content_type: Option<&str>,
    ) -> Vec<(&'static str, String)> {
        let mut h: Vec<(&'static str, String)> = Vec::with_capacity(16);
        let chromium = matches!(self.family, Family::Chrome | Family::Edge);
        h.push(("Connection", "keep-alive".into()));
        if chromium {
            let brand = if self.family == Family::Edge {
                "Microsoft Edge"
            } else {
                "Google Chrome"
            };
            h.push((
                "sec-ch-ua",
                format!(
                    "\"Chromium\";v=\"{m}\", \"{brand}\";v=\"{m}\", \"Not_A Brand\";v=\"24\"",
                    m = self.major
                ),
            ));
            h.push((
                "sec-ch-ua-mobile",
                if self.mobile { "?1" } else { "?0" }.into(),
            ));
            h.push(("sec-ch-ua-platform", self.platform.into()));
        }
        if dest == Dest::Document {
            h.push(("Upgrade-Insecure-Requests", "1".into()));
        }
        if let Some(o) = origin {
            h.push(("Origin", o.to_owned()));
        }
        if let Some(ct) = content_type {
            h.push(("Content-Type", ct.to_owned()));
        }
        h.push(("User-Agent", self.ua.clone()));
        h.push(("Accept", self.accept(dest).into()));
        let site_value = match site {
            Site::None => "none",
            Site::SameOrigin => "same-origin",
            Site::CrossSite => "cross-site",
        };
        let (mode, dest_value) = match dest {
            Dest::Document => ("navigate", "document"),
            Dest::Style => ("no-cors", "style"),
            Dest::Script => ("no-cors", "script"),
            Dest::Image => ("no-cors", "image"),
            Dest::Fetch => ("cors", "empty"),
        };
        h.push(("Sec-Fetch-Site", site_value.into()));
        h.push(("Sec-Fetch-Mode", mode.into()));
        if dest == Dest::Document {
            h.push(("Sec-Fetch-User", "?1".into()));
        }
        h.push(("Sec-Fetch-Dest", dest_value.into()));
        if let Some(r) = referer {
            h.push(("Referer", r.to_owned()));
        }
        let encoding = if self.family == Family::Safari {
            "gzip, deflate, br"
        } else {
            "gzip, deflate, br, zstd"
        };
        h.push(("Accept-Encoding", encoding.into()));
        h.push(("Accept-Language", self.language.into()));
        if self.family == Family::Firefox && dest == Dest::Document {
            h.push(("Priority", "u=0, i".into()));
        }
        h
    }
}

/// Firefox writes the same preferences with coarser q-values.
fn firefox_language(l: &'static str) -> &'static str {
    match l {
        "en-US,en;q=0.9" => "en-US,en;q=0.5",
        "en-GB,en;q=0.9" => "en-GB,en;q=0.5",
        "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7" => "de,en-US;q=0.7,en;q=0.3",
        "fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7" => "fr,fr-FR;q=0.8,en-US;q=0.5,en;q=0.3",
        other => other,
    }
}

/// An HTTP library or SDK, with the few headers it sends by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    pub ua: &'static str,
    kind: ToolKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ToolKind {
    Curl,
    Requests,
    OkHttp,
    Dart,
    Axios,
    Go,
    Postman,
    Bare,
}

impl Tool {
    pub const CURL: Tool = Tool {
        ua: "curl/8.17.0",
        kind: ToolKind::Curl,
    };
    pub const REQUESTS: Tool = Tool {
        ua: "python-requests/2.32.5",
        kind: ToolKind::Requests,
    };
    pub const OKHTTP: Tool = Tool {
        ua: "okhttp/4.12.0",
        kind: ToolKind::OkHttp,
    };
    pub const OKHTTP5: Tool = Tool {
        ua: "okhttp/5.2.1",
        kind: ToolKind::OkHttp,
    };
    pub const DART: Tool = Tool {
        ua: "Dart/3.9 (dart:io)",
        kind: ToolKind::Dart,
    };
    pub const AXIOS: Tool = Tool {
        ua: "axios/1.13.1",
        kind: ToolKind::Axios,
    };
    pub const GO: Tool = Tool {
        ua: "Go-http-client/1.1",
        kind: ToolKind::Go,
    };
    pub const POSTMAN: Tool = Tool {
        ua: "PostmanRuntime/7.49.1",
        kind: ToolKind::Postman,
    };

    /// A tool with a custom User-Agent and library-style defaults.
    pub const fn named(ua: &'static str) -> Tool {
        Tool {
            ua,
            kind: ToolKind::Bare,
        }
    }

    /// Default headers, plus JSON Accept for API calls and a body type.
    pub fn headers(&self, json: bool, content_type: Option<&str>) -> Vec<(&'static str, String)> {
        let mut h: Vec<(&'static str, String)> = Vec::with_capacity(6);
        h.push(("User-Agent", self.ua.to_owned()));
        let accept = match (self.kind, json) {
            (ToolKind::Axios, _) => Some("application/json, text/plain, */*"),
            (_, true) => Some("application/json"),
            (ToolKind::Curl | ToolKind::Requests | ToolKind::Postman, false) => Some("*/*"),
            _ => None,
        };
        if let Some(a) = accept {
            h.push(("Accept", a.to_owned()));
        }
        let encoding = match self.kind {
            ToolKind::Requests => Some("gzip, deflate"),
            ToolKind::OkHttp | ToolKind::Dart | ToolKind::Go | ToolKind::Bare => Some("gzip"),
            ToolKind::Axios => Some("gzip, compress, deflate, br"),
            ToolKind::Postman => Some("gzip, deflate, br"),
            ToolKind::Curl => None,
        };
        if let Some(e) = encoding {
            h.push(("Accept-Encoding", e.to_owned()));
        }
        if matches!(
            self.kind,
            ToolKind::Requests | ToolKind::Postman | ToolKind::OkHttp
        ) {
            h.push(("Connection", "keep-alive".to_owned()));
        }
        if let Some(ct) = content_type {
            h.push(("Content-Type", ct.to_owned()));
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn value<'a>(h: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
        h.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn browsers_send_consistent_headers() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut families = std::collections::HashSet::new();
        for _ in 0..300 {
            let b = Browser::random(&mut rng);
            families.insert((b.family as u8, b.mobile));
            let h = b.headers(
                Dest::Document,
                Site::SameOrigin,
                Some("http://x/"),
                None,
                None,
            );
            assert_eq!(value(&h, "User-Agent"), Some(b.ua.as_str()));
            assert_eq!(value(&h, "Sec-Fetch-Mode"), Some("navigate"));
            let chromium = matches!(b.family, Family::Chrome | Family::Edge);
            assert_eq!(value(&h, "sec-ch-ua").is_some(), chromium, "{}", b.ua);
            if chromium {
                assert_eq!(value(&h, "sec-ch-ua-mobile") == Some("?1"), b.mobile);
                assert!(b.ua.contains(&format!("Chrome/{}", b.major)));
            }
            assert_eq!(b.ua.contains("Mobile"), b.mobile, "{}", b.ua);
            let img = b.headers(Dest::Image, Site::SameOrigin, None, None, None);
            assert_eq!(value(&img, "Sec-Fetch-Dest"), Some("image"));
            assert!(value(&img, "Upgrade-Insecure-Requests").is_none());
        }
        assert!(
            families.len() >= 6,
            "desktop and mobile of every family: {families:?}"
        );
    }

    #[test]
    fn tools_are_terse() {
        let h = Tool::CURL.headers(false, None);
        assert_eq!(h.len(), 2);
        let h = Tool::OKHTTP.headers(true, Some("application/json"));
        assert_eq!(value(&h, "Accept"), Some("application/json"));
        assert_eq!(value(&h, "Content-Type"), Some("application/json"));
        assert!(value(&h, "Sec-Fetch-Mode").is_none());
    }
}
