//! What each request header name means to the module, found with one lookup
//! per header: its presence bit for the detectors ([`super::header_bits`]),
//! its part in the campaign fingerprint (`campaign::Builder`) and whether
//! the attack signatures inspect its value.
//!
//! The request path used to match every name against three string lists
//! (presence bits, the fingerprint's per-request headers, the signatures'
//! input headers) and hash it for the fingerprint; [`classify`] dispatches
//! once on the name's length and first byte, compares it with at most a few
//! candidates, and returns the name's fingerprint hash precomputed at
//! compile time for the names it knows (`const_xxh3`, the same function as
//! [`fast_hash`] at run time). The old lists are kept in the tests as the
//! specification: every name in them, and random ones, must classify alike.

use super::header_bits as hb;
use crate::campaign::ValueSlot;
use crate::detect::hash::fast_hash;

/// One header name, classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Name {
    /// Presence bit (0: none). `Connection` gets
    /// [`hb::CONNECTION_CLOSE`] only with the value `close`: see
    /// [`Name::connection`].
    pub bit: u16,
    /// The name is `Connection` (its value decides its bit).
    pub connection: bool,
    /// `fast_hash(name)` when the name counts in the fingerprint's header
    /// names (`None`: a header whose presence changes from one request to
    /// the next of the same software, or that proxies add).
    pub fingerprint: Option<u32>,
    /// What its value feeds in the fingerprint.
    pub slot: ValueSlot,
    /// The attack signatures inspect its value.
    pub inspect: bool,
}

/// Name hash computed at compile time (the same value [`fast_hash`] gives).
const fn h(name: &[u8]) -> Option<u32> {
    let x = xxhash_rust::const_xxh3::xxh3_64(name);
    match (x ^ (x >> 32)) as u32 {
        0 => Some(1),
        v => Some(v),
    }
}

const fn known(bit: u16, fingerprint: Option<u32>, slot: ValueSlot, inspect: bool) -> Name {
    Name {
        bit,
        connection: false,
        fingerprint,
        slot,
        inspect,
    }
}

/// Per-request headers (left out of the fingerprint's names).
const PER: Option<u32> = None;

const HOST: Name = known(0, h(b"host"), ValueSlot::None, true);
const USER_AGENT: Name = known(0, h(b"user-agent"), ValueSlot::UserAgent, true);
const ACCEPT: Name = known(hb::ACCEPT, h(b"accept"), ValueSlot::Accept(0), false);
const ACCEPT_LANGUAGE: Name = known(
    hb::ACCEPT_LANGUAGE,
    h(b"accept-language"),
    ValueSlot::Accept(1),
    false,
);
const ACCEPT_ENCODING: Name = known(
    hb::ACCEPT_ENCODING,
    h(b"accept-encoding"),
    ValueSlot::Accept(2),
    false,
);
const REFERER: Name = known(hb::REFERER, PER, ValueSlot::None, true);
const COOKIE: Name = known(hb::COOKIE, PER, ValueSlot::Cookie, true);
const X_REQUESTED_WITH: Name = known(
    hb::X_REQUESTED_WITH,
    h(b"x-requested-with"),
    ValueSlot::None,
    true,
);
const AUTHORIZATION: Name = known(hb::AUTHORIZATION, PER, ValueSlot::None, false);
const CONTENT_TYPE: Name = known(hb::CONTENT_TYPE, PER, ValueSlot::None, true);
const ORIGIN: Name = known(hb::ORIGIN, PER, ValueSlot::None, true);
const UPGRADE_INSECURE: Name = known(
    hb::UPGRADE_INSECURE,
    h(b"upgrade-insecure-requests"),
    ValueSlot::None,
    false,
);
const CACHE_CONTROL: Name = known(hb::CACHE_CONTROL, PER, ValueSlot::None, false);
const CONNECTION: Name = Name {
    connection: true,
    ..known(0, h(b"connection"), ValueSlot::None, false)
};
const SEC_FETCH_USER: Name = known(hb::SEC_FETCH, PER, ValueSlot::None, false);
const SEC_FETCH_SITE: Name = known(hb::SEC_FETCH, h(b"sec-fetch-site"), ValueSlot::None, false);
const SEC_FETCH_MODE: Name = known(hb::SEC_FETCH, h(b"sec-fetch-mode"), ValueSlot::None, false);
const SEC_FETCH_DEST: Name = known(hb::SEC_FETCH, h(b"sec-fetch-dest"), ValueSlot::None, false);
const SEC_CH_UA: Name = known(hb::SEC_CH_UA, h(b"sec-ch-ua"), ValueSlot::None, false);
const SEC_CH_UA_MOBILE: Name = known(
    hb::SEC_CH_UA,
    h(b"sec-ch-ua-mobile"),
    ValueSlot::None,
    false,
);
const SEC_CH_UA_PLATFORM: Name = known(
    hb::SEC_CH_UA,
    h(b"sec-ch-ua-platform"),
    ValueSlot::None,
    false,
);
/// Per-request headers without a bit of their own.
const PLAIN_PER: Name = known(0, PER, ValueSlot::None, false);
/// Proxies' address headers: per-request, and inspected (`x-`).
const PROXY_X: Name = known(0, PER, ValueSlot::None, true);

/// Classifies a lowercase header name (as nginx keeps it).
#[inline]
pub fn classify(name: &[u8]) -> Name {
    let Some(&first) = name.first() else {
        return other(name);
    };
    match (name.len(), first) {
        (4, b'h') if name == b"host" => HOST,
        (10, b'u') if name == b"user-agent" => USER_AGENT,
        (6, b'a') if name == b"accept" => ACCEPT,
        (15, b'a') if name == b"accept-language" => ACCEPT_LANGUAGE,
        (15, b'a') if name == b"accept-encoding" => ACCEPT_ENCODING,
        (13, b'a') if name == b"authorization" => AUTHORIZATION,
        (7, b'r') if name == b"referer" => REFERER,
        (6, b'c') if name == b"cookie" => COOKIE,
        (10, b'c') if name == b"connection" => CONNECTION,
        (12, b'c') if name == b"content-type" => CONTENT_TYPE,
        (13, b'c') if name == b"cache-control" => CACHE_CONTROL,
        (14, b'c') if name == b"content-length" => PLAIN_PER,
        (6, b'o') if name == b"origin" => ORIGIN,
        (25, b'u') if name == b"upgrade-insecure-requests" => UPGRADE_INSECURE,
        (6, b'p') if name == b"pragma" => PLAIN_PER,
        (8, b'p') if name == b"priority" => PLAIN_PER,
        (9, b'f') if name == b"forwarded" => PLAIN_PER,
        (3, b'v') if name == b"via" => PLAIN_PER,
        (14, b's') if name == b"sec-fetch-site" => SEC_FETCH_SITE,
        (14, b's') if name == b"sec-fetch-mode" => SEC_FETCH_MODE,
        (14, b's') if name == b"sec-fetch-dest" => SEC_FETCH_DEST,
        (14, b's') if name == b"sec-fetch-user" => SEC_FETCH_USER,
        (9, b's') if name == b"sec-ch-ua" => SEC_CH_UA,
        (16, b's') if name == b"sec-ch-ua-mobile" => SEC_CH_UA_MOBILE,
        (18, b's') if name == b"sec-ch-ua-platform" => SEC_CH_UA_PLATFORM,
        (16, b'x') if name == b"x-requested-with" => X_REQUESTED_WITH,
        (15, b'x') if name == b"x-forwarded-for" => PROXY_X,
        (17, b'x') if name == b"x-forwarded-proto" => PROXY_X,
        (9, b'x') if name == b"x-real-ip" => PROXY_X,
        _ => other(name),
    }
}

/// A name without an entry of its own: the prefix rules, then a run-time
/// hash.
#[cold]
fn other(name: &[u8]) -> Name {
    if name.starts_with(b"if-") {
        return PLAIN_PER;
    }
    let bit = if name.starts_with(b"sec-fetch-") {
        hb::SEC_FETCH
    } else if name.starts_with(b"sec-ch-ua") {
        hb::SEC_CH_UA
    } else {
        0
    };
    known(
        bit,
        Some(fast_hash(name)),
        ValueSlot::None,
        name.starts_with(b"x-"),
    )
}

impl Name {
    /// The presence bit with the header's value (`Connection: close`).
    #[inline]
    pub fn bit_with(&self, value: &[u8]) -> u16 {
        if self.connection && value.eq_ignore_ascii_case(b"close") {
            hb::CONNECTION_CLOSE
        } else {
            self.bit
        }
    }
}

/// The campaign fingerprint as the request path's header walk leaves it:
/// the names folded and the User-Agent hashed (detection's User-Agent
/// cache takes that hash on every request), while the three `Accept*`
/// values are only kept, to be hashed by [`FingerprintParts::finish`] when
/// a campaign check or the campaign feed needs the whole fingerprint. Most
/// requests need it nowhere (no campaign active, no campaign evidence in
/// LOG): they skip three value hashes. The result is
/// [`crate::campaign::Builder`]'s for the same headers (a value's last
/// occurrence counts, as there).
#[derive(Clone, Copy, Debug, Default)]
pub struct FingerprintParts<'a> {
    names: crate::campaign::Builder,
    ua: u32,
    accept: [Option<&'a [u8]>; 3],
}

impl<'a> FingerprintParts<'a> {
    /// One header, classified (`class` is [`classify`]'s for its name).
    #[inline]
    pub fn header(&mut self, class: &Name, value: &'a [u8]) {
        match class.slot {
            ValueSlot::UserAgent => {
                self.ua = fast_hash(value);
                self.names
                    .header_parts(class.fingerprint, ValueSlot::None, value);
            }
            ValueSlot::Accept(i) => {
                if let Some(a) = self.accept.get_mut(usize::from(i)) {
                    *a = Some(value);
                }
                self.names
                    .header_parts(class.fingerprint, ValueSlot::None, value);
            }
            slot => self.names.header_parts(class.fingerprint, slot, value),
        }
    }

    /// The User-Agent value's hash (0: no User-Agent), the fingerprint's
    /// `ua`.
    pub fn user_agent(&self) -> u32 {
        self.ua
    }

    /// The whole fingerprint.
    pub fn finish(&self) -> crate::campaign::Fingerprint {
        let mut b = self.names;
        for (i, v) in (0u8..).zip(self.accept) {
            if let Some(v) = v {
                b.header_parts(None, ValueSlot::Accept(i), v);
            }
        }
        crate::campaign::Fingerprint {
            ua: self.ua,
            ..b.finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The presence bits as first written (the glue's header walk).
    fn reference_bit(name: &[u8], value: &[u8]) -> u16 {
        match name {
            b"accept" => hb::ACCEPT,
            b"accept-language" => hb::ACCEPT_LANGUAGE,
            b"accept-encoding" => hb::ACCEPT_ENCODING,
            b"referer" => hb::REFERER,
            b"cookie" => hb::COOKIE,
            b"x-requested-with" => hb::X_REQUESTED_WITH,
            b"authorization" => hb::AUTHORIZATION,
            b"content-type" => hb::CONTENT_TYPE,
            b"origin" => hb::ORIGIN,
            b"upgrade-insecure-requests" => hb::UPGRADE_INSECURE,
            b"cache-control" => hb::CACHE_CONTROL,
            b"connection" if value.eq_ignore_ascii_case(b"close") => hb::CONNECTION_CLOSE,
            n if n.starts_with(b"sec-fetch-") => hb::SEC_FETCH,
            n if n.starts_with(b"sec-ch-ua") => hb::SEC_CH_UA,
            _ => 0,
        }
    }

    /// The signatures' input headers as first written.
    fn reference_inspect(name: &[u8]) -> bool {
        matches!(
            name,
            b"user-agent" | b"referer" | b"cookie" | b"origin" | b"content-type" | b"host"
        ) || name.starts_with(b"x-")
    }

    const NAMES: &[&str] = &[
        "host",
        "user-agent",
        "accept",
        "accept-language",
        "accept-encoding",
        "accept-charset",
        "referer",
        "cookie",
        "x-requested-with",
        "authorization",
        "content-type",
        "content-length",
        "origin",
        "upgrade-insecure-requests",
        "cache-control",
        "connection",
        "pragma",
        "priority",
        "forwarded",
        "via",
        "te",
        "dnt",
        "sec-fetch-site",
        "sec-fetch-mode",
        "sec-fetch-dest",
        "sec-fetch-user",
        "sec-fetch-other",
        "sec-fetch-",
        "sec-fetch",
        "sec-ch-ua",
        "sec-ch-ua-mobile",
        "sec-ch-ua-platform",
        "sec-ch-ua-arch",
        "sec-ch-u",
        "sec-gpc",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-real-ip",
        "x-api-key",
        "x-",
        "x",
        "if-none-match",
        "if-modified-since",
        "if-",
        "if",
        "keep-alive",
        "range",
        "",
        "h",
        "hosts",
        "user-agent2",
        "acceptx",
        "refere",
        "cookies",
        "connectio",
    ];

    fn check(name: &[u8]) {
        let n = classify(name);
        for value in [&b"close"[..], b"Close", b"keep-alive", b""] {
            assert_eq!(
                n.bit_with(value),
                reference_bit(name, value),
                "{:?} {:?}",
                String::from_utf8_lossy(name),
                String::from_utf8_lossy(value)
            );
            // The fingerprint: the same as the Builder's own reading.
            let mut a = crate::campaign::Builder::default();
            a.header(name, value);
            let mut b = crate::campaign::Builder::default();
            b.header_parts(n.fingerprint, n.slot, value);
            assert_eq!(
                a.finish(),
                b.finish(),
                "{:?}",
                String::from_utf8_lossy(name)
            );
        }
        assert_eq!(n.inspect, reference_inspect(name), "{name:?}");
        if let Some(hash) = n.fingerprint {
            assert_eq!(hash, fast_hash(name), "{name:?}");
        }
    }

    #[test]
    fn same_as_the_lists_it_replaces() {
        for name in NAMES {
            check(name.as_bytes());
        }
    }

    #[test]
    fn random_names_classify_alike() {
        // Names built from the known ones' pieces, to hit their lengths and
        // first bytes with other contents.
        let alphabet = b"acefhiklnorstuwx-";
        let mut seed_rng = crate::testing::XorShift64::new(0x9e37_79b9_7f4a_7c15);
        let mut next = || seed_rng.next_u64();
        for _ in 0..20_000 {
            let base = NAMES[(next() % NAMES.len() as u64) as usize].as_bytes();
            let mut name = base.to_vec();
            match next() % 4 {
                0 if !name.is_empty() => {
                    let i = (next() % name.len() as u64) as usize;
                    name[i] = alphabet[(next() % alphabet.len() as u64) as usize];
                }
                1 => name.push(alphabet[(next() % alphabet.len() as u64) as usize]),
                2 => {
                    name.pop();
                }
                _ => {
                    let len = 1 + (next() % 20) as usize;
                    name = (0..len)
                        .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                        .collect();
                }
            }
            check(&name);
        }
    }

    #[test]
    fn deferred_parts_give_the_builders_fingerprint() {
        let mut rng = crate::testing::XorShift64::new(0x5151_2026_1202_0808);
        let mut next = || rng.next_u64();
        let values: [&[u8]; 5] = [
            b"",
            b"*/*",
            b"en-US,en;q=0.9",
            b"gzip, br",
            b"Mozilla/5.0 x",
        ];
        for _ in 0..5_000 {
            let n = (next() % 14) as usize;
            let headers: Vec<(&[u8], &[u8])> = (0..n)
                .map(|_| {
                    let name = NAMES[(next() % NAMES.len() as u64) as usize].as_bytes();
                    (name, values[(next() % values.len() as u64) as usize])
                })
                .collect();
            let mut whole = crate::campaign::Builder::default();
            let mut parts = FingerprintParts::default();
            for &(name, value) in &headers {
                whole.header(name, value);
                parts.header(&classify(name), value);
            }
            let whole = whole.finish();
            assert_eq!(parts.finish(), whole, "{headers:?}");
            assert_eq!(parts.user_agent(), whole.ua, "{headers:?}");
        }
    }
}
