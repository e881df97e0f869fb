//! A client fingerprint computed from one request alone, for grouping the
//! many addresses of a campaign (a residential proxy pool) by the tool that
//! drives them.
//!
//! Each address of a pool looks like one person; what the addresses share is
//! the software: the User-Agent, the set and order of header names (every
//! HTTP library and browser has its own), the `Accept`, `Accept-Language` and
//! `Accept-Encoding` values, whether a cookie is sent, and what the client
//! did before ([`Prior`]): a person's browser loads a page and its assets
//! before it posts a login form, a stuffing tool posts at once. The IPv4 /24
//! or IPv6 /48 neighbourhood is kept apart ([`Fingerprint::hood`]) so that a
//! pool spread over a datacentre range is grouped too, whatever it sends.
//!
//! Hashes are XXH3 (`detect::hash::fast_hash`), without a per-process key:
//! the value must be the same in every worker (campaigns live in shared
//! memory; they are not kept in the state file).

use std::net::IpAddr;

use crate::detect::hash::{fast_hash, mix, Fnv};

/// What the client did before this request, from its record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Prior {
    /// Nothing: the client's first request.
    Nothing = 0,
    /// Pages or API calls, but no asset (image, script, style sheet) loaded;
    /// the same key as [`Prior::Nothing`] (a tool's first request and its
    /// later ones are one campaign).
    Pages = 1,
    /// Assets loaded: a browser rendering pages. Never a campaign key (see
    /// `Tracker::feed`), so people who browse are never matched.
    Assets = 2,
}

impl Prior {
    pub fn as_str(self) -> &'static str {
        match self {
            Prior::Nothing => "nothing",
            Prior::Pages => "pages",
            Prior::Assets => "assets",
        }
    }
}

/// What kind of request the key is for: a campaign of login posts is a
/// different campaign from one of product pages, even from the same tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Class {
    /// Not a sensitive endpoint.
    Page = 0,
    /// A sensitive endpoint, `SensitiveKind::index() + 1`.
    Sensitive(u8),
}

impl Class {
    fn code(self) -> u8 {
        match self {
            Class::Page => 0,
            Class::Sensitive(k) => k.saturating_add(1),
        }
    }
}

/// The request-only part of a fingerprint, collected while the glue walks
/// the request headers once. The parts are folded into a key only when one
/// is asked for ([`Fingerprint::key`]): most requests never need one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fingerprint {
    /// Names of the headers, lowercase, in the order sent (the fold, not
    /// yet mixed).
    pub names: u32,
    /// `User-Agent` value (0: none).
    pub ua: u32,
    /// `Accept`, `Accept-Language` and `Accept-Encoding` values' hashes, in
    /// that order (0: not sent).
    pub accept: [u32; 3],
    pub cookie: bool,
}

/// Builds a [`Fingerprint`] header by header.
#[derive(Clone, Copy, Debug, Default)]
pub struct Builder {
    /// The names' hashes, folded in order.
    names: u32,
    ua: u32,
    accept: [u32; 3],
    cookie: bool,
}

impl Builder {
    /// One request header; `name` lowercase, as nginx keeps it.
    #[inline]
    pub fn header(&mut self, name: &[u8], value: &[u8]) {
        if !per_request(name) {
            self.names = (self.names.rotate_left(7) ^ fast_hash(name)).wrapping_mul(0x9e37_79b1);
        }
        let slot = match name {
            b"user-agent" => {
                self.ua = value_hash(value);
                return;
            }
            b"cookie" => {
                self.cookie = true;
                return;
            }
            b"accept" => 0,
            b"accept-language" => 1,
            b"accept-encoding" => 2,
            _ => return,
        };
        self.accept[slot] = value_hash(value);
    }

    pub fn finish(self) -> Fingerprint {
        Fingerprint {
            names: self.names,
            ua: self.ua,
            accept: self.accept,
            cookie: self.cookie,
        }
    }
}

/// What a header's value feeds in a [`Fingerprint`] (see
/// [`Builder::header_parts`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueSlot {
    None,
    UserAgent,
    Cookie,
    /// `Accept`, `Accept-Language`, `Accept-Encoding`: 0, 1, 2.
    Accept(u8),
}

impl Builder {
    /// [`Builder::header`] with the name already classified (the request
    /// path's one lookup per header, `request::names`): `name_hash` is
    /// `fast_hash(name)` when the name counts in the names hash (`None` for
    /// a per-request header), `slot` what the value feeds. Same result.
    #[inline]
    pub fn header_parts(&mut self, name_hash: Option<u32>, slot: ValueSlot, value: &[u8]) {
        if let Some(h) = name_hash {
            self.names = (self.names.rotate_left(7) ^ h).wrapping_mul(0x9e37_79b1);
        }
        match slot {
            ValueSlot::None => {}
            ValueSlot::UserAgent => self.ua = value_hash(value),
            ValueSlot::Cookie => self.cookie = true,
            ValueSlot::Accept(i) => {
                if let Some(a) = self.accept.get_mut(usize::from(i)) {
                    *a = value_hash(value);
                }
            }
        }
    }
}

/// Headers whose presence changes from one request of the same software to
/// the next (a Referer after the first page, a body's type and length, cache
/// validators, a user-activated navigation) or that proxies add: left out of
/// the names, so a tool's first request and its later ones share a key.
fn per_request(name: &[u8]) -> bool {
    matches!(
        name,
        b"referer"
            | b"cookie"
            | b"origin"
            | b"content-length"
            | b"content-type"
            | b"cache-control"
            | b"pragma"
            | b"sec-fetch-user"
            | b"priority"
            | b"authorization"
            | b"x-forwarded-for"
            | b"x-forwarded-proto"
            | b"x-real-ip"
            | b"forwarded"
            | b"via"
    ) || name.starts_with(b"if-")
}

fn value_hash(v: &[u8]) -> u32 {
    fast_hash(v)
}

/// The /24 of an IPv4 address, the /48 of an IPv6 one, hashed.
pub fn neighbourhood(addr: IpAddr) -> u32 {
    let mut h = Fnv::new();
    match addr {
        IpAddr::V4(a) => {
            h.byte(4);
            h.bytes(&a.octets()[..3]);
        }
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => {
                h.byte(4);
                h.bytes(&v4.octets()[..3]);
            }
            None => {
                h.byte(6);
                h.bytes(&a.octets()[..6]);
            }
        },
    }
    h.finish()
}

/// A stable hash of one address (for counting distinct addresses).
pub fn address_hash(addr: IpAddr) -> u32 {
    let mut h = Fnv::new();
    match addr {
        IpAddr::V4(a) => h.bytes(&a.octets()),
        IpAddr::V6(a) => h.bytes(&a.octets()),
    }
    h.finish()
}

fn combine(parts: &[u32]) -> u64 {
    let (mut hi, mut lo) = (0x9e37_79b9u32, 0x85eb_ca6bu32);
    for &p in parts {
        hi = mix(hi ^ p).rotate_left(5);
        lo = mix(lo.wrapping_add(p)).rotate_left(13) ^ hi;
    }
    let k = (u64::from(hi) << 32) | u64::from(lo);
    k.max(1)
}

impl Fingerprint {
    /// The names' part of the key (never 0).
    fn names_part(&self) -> u32 {
        match mix(self.names) {
            0 => 1,
            h => h,
        }
    }

    /// The `Accept*` values' part of the key.
    fn accept_part(&self) -> u32 {
        let [a, l, e] = self.accept;
        mix(a ^ mix(l ^ mix(e).rotate_left(7)).rotate_left(11))
    }

    /// The key of requests from the same software, doing the same kind of
    /// request after the same kind of history.
    pub fn key(&self, class: Class, prior: Prior) -> u64 {
        combine(&[
            1,
            self.names_part(),
            self.ua,
            self.accept_part(),
            u32::from(self.cookie),
            u32::from(class.code()),
            u32::from(prior == Prior::Assets),
        ])
    }

    /// The key of requests from the same network neighbourhood, doing the
    /// same kind of request after the same kind of history, whatever the
    /// software says.
    pub fn hood(&self, hood: u32, class: Class, prior: Prior) -> u64 {
        combine(&[
            2,
            hood,
            u32::from(self.cookie),
            u32::from(class.code()),
            u32::from(prior == Prior::Assets),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(headers: &[(&str, &str)]) -> Fingerprint {
        let mut b = Builder::default();
        for (n, v) in headers {
            b.header(n.as_bytes(), v.as_bytes());
        }
        b.finish()
    }

    const CHROME: &[(&str, &str)] = &[
        ("host", "shop.example"),
        (
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64) Chrome/152.0.0.0",
        ),
        ("accept", "text/html,application/xhtml+xml"),
        ("accept-encoding", "gzip, deflate, br"),
        ("accept-language", "en-US,en;q=0.9"),
    ];

    #[test]
    fn keys_are_those_of_the_parts_mixed_when_the_fingerprint_was_made() {
        // `finish` keeps the parts and `key` mixes them: the keys are the
        // ones the parts mixed at `finish` gave (the former way).
        let mut rng = crate::testing::XorShift64::new(0xf1f0);
        let pool: [(&[u8], &[u8]); 9] = [
            (b"host", b"shop.example"),
            (
                b"user-agent",
                b"Mozilla/5.0 (X11; Linux x86_64) Chrome/152.0.0.0",
            ),
            (b"user-agent", b"curl/8.5.0"),
            (b"accept", b"text/html,application/xhtml+xml"),
            (b"accept", b"*/*"),
            (b"accept-language", b"en-US,en;q=0.9"),
            (b"accept-encoding", b"gzip, deflate, br"),
            (b"cookie", b"sid=1"),
            (b"x-requested-with", b"XMLHttpRequest"),
        ];
        for _ in 0..3_000 {
            let mut b = Builder::default();
            for _ in 0..rng.next_u64() % 8 {
                let (n, v) = pool[(rng.next_u64() % pool.len() as u64) as usize];
                b.header(n, v);
            }
            let fp = b.finish();
            let names = match mix(b.names) {
                0 => 1,
                h => h,
            };
            let [a, l, e] = b.accept;
            let accept = mix(a ^ mix(l ^ mix(e).rotate_left(7)).rotate_left(11));
            for class in [Class::Page, Class::Sensitive(0), Class::Sensitive(3)] {
                for prior in [Prior::Nothing, Prior::Pages, Prior::Assets] {
                    let old = combine(&[
                        1,
                        names,
                        b.ua,
                        accept,
                        u32::from(b.cookie),
                        u32::from(class.code()),
                        u32::from(prior == Prior::Assets),
                    ]);
                    assert_eq!(fp.key(class, prior), old);
                }
            }
        }
    }

    #[test]
    fn same_software_same_key_whatever_the_values_of_other_headers() {
        let mut other = CHROME.to_vec();
        other[0] = ("host", "other.example");
        let (a, b) = (fp(CHROME), fp(&other));
        assert_eq!(a, b);
        assert_eq!(
            a.key(Class::Sensitive(0), Prior::Nothing),
            b.key(Class::Sensitive(0), Prior::Nothing)
        );
    }

    #[test]
    fn order_language_cookie_prior_and_class_all_count() {
        let base = fp(CHROME);
        let k = |f: &Fingerprint| f.key(Class::Sensitive(0), Prior::Nothing);
        let mut swapped = CHROME.to_vec();
        swapped.swap(3, 4);
        assert_ne!(k(&base), k(&fp(&swapped)), "header order");
        let mut lang = CHROME.to_vec();
        lang[4] = ("accept-language", "de-DE,de;q=0.9");
        assert_ne!(k(&base), k(&fp(&lang)), "Accept-Language");
        let mut cookie = CHROME.to_vec();
        cookie.push(("cookie", "sid=1"));
        assert!(fp(&cookie).cookie);
        assert_ne!(k(&fp(&cookie)), k(&base.clone()), "cookie");
        let mut referer = CHROME.to_vec();
        referer.push(("referer", "https://shop.example/"));
        referer.push(("if-none-match", "\"x\""));
        assert_eq!(k(&fp(&referer)), k(&base), "per-request headers");
        assert_eq!(k(&base), base.key(Class::Sensitive(0), Prior::Pages));
        assert_ne!(
            k(&base),
            base.key(Class::Sensitive(0), Prior::Assets),
            "prior"
        );
        assert_ne!(k(&base), base.key(Class::Page, Prior::Nothing), "class");
    }

    #[test]
    fn neighbourhoods() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert_eq!(
            neighbourhood(ip("198.51.100.7")),
            neighbourhood(ip("198.51.100.200"))
        );
        assert_ne!(
            neighbourhood(ip("198.51.100.7")),
            neighbourhood(ip("198.51.101.7"))
        );
        assert_eq!(
            neighbourhood(ip("::ffff:198.51.100.9")),
            neighbourhood(ip("198.51.100.7"))
        );
        assert_eq!(
            neighbourhood(ip("2001:db8:1:2::1")),
            neighbourhood(ip("2001:db8:1:ff::1"))
        );
        assert_ne!(
            neighbourhood(ip("2001:db8:1::1")),
            neighbourhood(ip("2001:db8:2::1"))
        );
        let f = fp(CHROME);
        let h = neighbourhood(ip("198.51.100.7"));
        assert_ne!(
            f.hood(h, Class::Page, Prior::Nothing),
            f.key(Class::Page, Prior::Nothing)
        );
        assert_ne!(address_hash(ip("10.0.0.1")), address_hash(ip("10.0.0.2")));
    }
}
