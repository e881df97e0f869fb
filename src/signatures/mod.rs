//! Attack signatures: does this request carry an attack, and of which class?
//!
//! The request is split into the fields an application reads (path, query
//! arguments, cookies, input-carrying headers, and the body when nginx holds
//! it in memory: urlencoded, JSON, multipart or XML). Each field is
//! normalised (see [`normalize`]) into a fixed stack buffer and handed to the
//! detectors that make sense for where it came from: a scanner-probe check
//! only on the path, SSRF only where an application would fetch a URL, strict
//! CRLF checks only where line breaks never belong.
//!
//! Cost is bounded and linear: every detector makes a constant number of
//! passes over a field, fields longer than a window are inspected in
//! overlapping windows up to [`MAX_FIELD_BYTES`], and the whole request up to
//! [`MAX_REQUEST_BYTES`]. Nothing is allocated per request; the signatures
//! are constant tables compiled into the binary, except the code-injection
//! anchors' automaton (`code.rs`), built once per process by [`prepare`]
//! (in the master at configuration time, so workers share it from the fork).

mod code;
mod commands;
mod fields;
mod identity;
mod inject;
mod needles;
mod normalize;
mod prefilter;
mod probe;
mod rce;
mod sql_lex;
mod sqli;
mod traversal;
mod xss;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod cut_tests;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

use crate::model::AttackClass;
use fields::{Kind, Visitor};
use inject::CrlfMode;
use normalize::{normalize, Encoding, Normalized, WINDOW};

/// Bytes of a request body inspected (the glue may pass less).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Bytes of the request target (path and query) inspected.
pub const MAX_TARGET_BYTES: usize = 8 * 1024;
/// Bytes of one field inspected, in overlapping windows of 4 KiB.
pub const MAX_FIELD_BYTES: usize = 16 * 1024;
/// Inspection budget of one request: every byte normalised and matched
/// (path, arguments, cookies, headers, body alike) plus [`FIELD_COST`] for
/// each field scanned. Past it the rest of the request is not inspected, so
/// no request costs more than this many bytes of scanning, whatever it holds.
/// 16 KiB keeps the crafted worst cases of `benches/signatures.rs` under 1 ms
/// (48 KiB did not: docs/signatures.md, "Worst cases").
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;
/// Share of [`MAX_REQUEST_BYTES`] the headers and cookies may spend: a
/// request's headers cannot exhaust the budget before its body, and 32 KiB
/// of hostile headers cost what 8 KiB do.
pub const MAX_HEADER_BYTES: usize = 8 * 1024;
/// Budget charged per field scanned on top of its bytes: the fixed cost of
/// running the detectors, so thousands of tiny arguments stay bounded too.
pub const FIELD_COST: usize = 32;
/// Overlap of consecutive windows: a payload shorter than this is always
/// seen whole by one window.
const OVERLAP: usize = 512;
/// Header values shorter than this skip the cache's exact level: classifying
/// their bytes costs less than hashing them (an address, a short token).
const MIN_EXACT_LEN: usize = 16;

/// One request as the nginx glue sees it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Input<'a> {
    /// Raw request target as sent (path + optional `?query`), not decoded
    /// (nginx's `r->unparsed_uri`).
    pub target: &'a [u8],
    /// Selected headers as (lowercase name, value).
    pub headers: &'a [(&'a [u8], &'a [u8])],
    /// Request body if nginx has it in memory (may be truncated).
    pub body: Option<&'a [u8]>,
}

/// Where in the request an attack was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum Location {
    #[default]
    Path,
    Query,
    Cookie,
    Header,
    Body,
}

impl Location {
    pub const fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Cookie => "cookie",
            Location::Header => "header",
            Location::Body => "body",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finding {
    pub class: AttackClass,
    pub location: Location,
}

/// Every class found in a request, with where each was first seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    mask: u16,
    locations: [Location; 11],
}

/// Order in which [`Findings::strongest`] picks a class: the most dangerous
/// and least ambiguous first.
const PRIORITY: [AttackClass; 11] = [
    AttackClass::Rce,
    AttackClass::Xxe,
    AttackClass::Sqli,
    AttackClass::Ssti,
    AttackClass::Traversal,
    AttackClass::RfiSsrf,
    AttackClass::Nosql,
    AttackClass::Ldap,
    AttackClass::Xss,
    AttackClass::Crlf,
    AttackClass::ScannerProbe,
];

impl Findings {
    pub fn is_empty(&self) -> bool {
        self.mask == 0
    }

    pub fn contains(&self, class: AttackClass) -> bool {
        self.mask & (1 << class.index()) != 0
    }

    /// Where `class` was first found.
    pub fn location(&self, class: AttackClass) -> Option<Location> {
        self.contains(class)
            .then(|| self.locations.get(class.index()).copied())
            .flatten()
    }

    /// The classes found, in [`AttackClass::ALL`] order.
    pub fn classes(&self) -> impl Iterator<Item = AttackClass> + '_ {
        AttackClass::ALL
            .iter()
            .copied()
            .filter(|c| self.contains(*c))
    }

    pub fn strongest(&self) -> Option<Finding> {
        if self.mask == 0 {
            // most requests: no walk over the classes
            return None;
        }
        PRIORITY
            .iter()
            .find(|c| self.contains(**c))
            .map(|&class| Finding {
                class,
                location: self.locations[class.index()],
            })
    }

    fn add_mask(&mut self, mask: u16, location: Location) {
        if mask == 0 {
            return;
        }
        for c in AttackClass::ALL {
            if mask & (1 << c.index()) != 0 {
                self.add(*c, location);
            }
        }
    }

    fn add(&mut self, class: AttackClass, location: Location) {
        if !self.contains(class) {
            self.mask |= 1 << class.index();
            if let Some(slot) = self.locations.get_mut(class.index()) {
                *slot = location;
            }
        }
    }
}

pub mod cache;

/// Builds what the signatures build once per process (the code-injection
/// automaton, about 35 M instructions and 2 MB): called at configuration
/// time so that no request pays for it. Without it the first request that
/// reaches those rules builds it.
pub fn prepare() {
    code::prepare();
}

/// The first/strongest attack in the request, if any.
pub fn inspect(input: &Input) -> Option<Finding> {
    inspect_all(input).strongest()
}

/// Every attack class in the request.
pub fn inspect_all(input: &Input) -> Findings {
    let mut buf = [0; WINDOW];
    scan_input(input, &mut buf, None)
}

/// The scan itself, with a scratch buffer the caller may keep between
/// requests and, optionally, a cache of field verdicts.
fn scan_input(
    input: &Input,
    buf: &mut [u8; WINDOW],
    cache: Option<&mut cache::Verdicts>,
) -> Findings {
    scan_with(input, buf, cache, true)
}

/// [`scan_input`], optionally without the [`prefilter`] (tests compare).
fn scan_with(
    input: &Input,
    buf: &mut [u8; WINDOW],
    cache: Option<&mut cache::Verdicts>,
    prefilter: bool,
) -> Findings {
    let mut scan = Scan::new(buf, cache, prefilter);
    scan.request(input);
    scan.found
}

impl Scan<'_> {
    /// Every field of `input`, in order, until the budget runs out.
    fn request(&mut self, input: &Input) {
        let scan = self;
        let target = &input.target[..input.target.len().min(MAX_TARGET_BYTES)];
        let (path, query) = match memchr::memchr(b'?', target) {
            Some(q) => (&target[..q], Some(&target[q + 1..])),
            None => (target, None),
        };
        // The path and the query string repeat whole (API paths, paging): each
        // is cached as one verdict.
        scan.part(cache::WHOLE_PATH_TAG, path, true, |scan| scan.path(path));
        if let Some(q) = query {
            scan.location = Location::Query;
            scan.part(cache::WHOLE_QUERY_TAG, q, false, |scan| {
                if probe::query(q) {
                    scan.found.add(A::ScannerProbe, Location::Query);
                }
                if !scan.prefilter || !prefilter::plain_pairs(q, b'&') {
                    fields::urlencoded(q, scan);
                }
            });
        }
        let mut content_type: &[u8] = &[];
        // Headers (cookies included) spend at most their own share, so no
        // number of them can leave the body uninspected.
        let after_headers = scan.budget.saturating_sub(MAX_HEADER_BYTES);
        scan.budget -= after_headers;
        for &(name, value) in input.headers {
            match known_header(name) {
                Known::Cookie => {
                    // Not in the exact level: a Cookie header is per client,
                    // and a client's next request is usually too far away
                    // for it (measured: a loss at 200,000 clients). The
                    // per-client level keeps it instead.
                    scan.location = Location::Cookie;
                    scan.per_client(cache::ClientField::Cookie, value, |scan| {
                        if !scan.prefilter || !prefilter::plain_pairs(value, b';') {
                            fields::cookies(value, scan);
                        }
                    });
                }
                Known::ContentType => {
                    content_type = value;
                    // A media type never holds `{` (neither its tokens nor a
                    // boundary's characters): one that does carries an
                    // expression, Struts' OGNL `%{(#_='multipart/form-data')..}`
                    // (CVE-2017-5638), and is read as a header.
                    if memchr::memchr(b'{', value).is_some() {
                        scan.location = Location::Header;
                        scan.run(value, Encoding::RAW, HEADER);
                    }
                }
                Known::Skipped => {}
                // The usual ones, before the search for a file name below and
                // with the checks `header_checks` gives them (a test keeps the
                // two in step), without lowercasing the name again.
                Known::Address => {
                    scan.location = Location::Header;
                    scan.per_client(cache::ClientField::Address, value, |scan| {
                        scan.run(value, Encoding::RAW, HEADER);
                    });
                }
                // The value and its query arguments as one verdict: the
                // same Referer comes with every request from a page.
                Known::Referer => {
                    scan.location = Location::Header;
                    scan.per_client(cache::ClientField::Referer, value, |scan| {
                        scan.part(cache::REFERER_TAG, value, false, |scan| {
                            if scan.run(value, Encoding::RAW, HEADER_PAGE) {
                                scan.referer_arguments(value);
                            }
                        });
                    });
                }
                Known::Url => {
                    scan.location = Location::Header;
                    if name == b"user-agent" {
                        scan.per_client(cache::ClientField::UserAgent, value, |scan| {
                            scan.user_agent(value);
                        });
                    } else {
                        scan.per_client(cache::ClientField::RequestedWith, value, |scan| {
                            scan.run(value, Encoding::RAW, HEADER_URL);
                        });
                    }
                }
                // `X-File-Name`, `X-Filename`, `X_Filename`: uploads name their file here.
                Known::No
                    if normalize::find(name, b"file").is_some()
                        && normalize::find(name, b"name").is_some() =>
                {
                    scan.location = Location::Header;
                    scan.run(value, Encoding::RAW, FILE_NAME);
                }
                Known::No => {
                    scan.location = Location::Header;
                    scan.header(name, value);
                }
            }
        }
        scan.budget += after_headers;
        if let Some(body) = input.body {
            scan.location = Location::Body;
            scan.body(&body[..body.len().min(MAX_BODY_BYTES)], content_type);
        }
    }
}

/// The headers [`Scan::request`] knows by name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Known {
    Cookie,
    ContentType,
    /// Not inspected: `content-length`, `authorization`, `host`.
    Skipped,
    /// Addresses and URLs by design ([`HEADER`]): `origin`,
    /// `x-forwarded-for`, `x-real-ip`.
    Address,
    /// `referer`: as [`Known::Address`], and its query arguments too.
    Referer,
    /// [`HEADER_URL`]: `user-agent`, `x-requested-with`.
    Url,
    No,
}

/// Which known header a lowercase `name` is: by length and first byte,
/// then one fixed-size comparison (a chain of slice patterns compared each
/// name with every literal in turn).
#[inline]
fn known_header(name: &[u8]) -> Known {
    fn is<const N: usize>(name: &[u8], literal: &[u8; N]) -> bool {
        <&[u8; N]>::try_from(name).is_ok_and(|n| n == literal)
    }
    let Some(&first) = name.first() else {
        return Known::No;
    };
    match (name.len(), first) {
        (4, b'h') if is(name, b"host") => Known::Skipped,
        (6, b'c') if is(name, b"cookie") => Known::Cookie,
        (6, b'o') if is(name, b"origin") => Known::Address,
        (7, b'r') if is(name, b"referer") => Known::Referer,
        (9, b'x') if is(name, b"x-real-ip") => Known::Address,
        (10, b'u') if is(name, b"user-agent") => Known::Url,
        (12, b'c') if is(name, b"content-type") => Known::ContentType,
        (13, b'a') if is(name, b"authorization") => Known::Skipped,
        (14, b'c') if is(name, b"content-length") => Known::Skipped,
        (15, b'x') if is(name, b"x-forwarded-for") => Known::Address,
        (16, b'x') if is(name, b"x-requested-with") => Known::Url,
        _ => Known::No,
    }
}

/// Which detectors run on a field.
#[derive(Clone, Copy)]
struct Checks {
    classes: u16,
    crlf: CrlfMode,
    is_path: bool,
    /// An uploaded file's name (multipart `filename=`, `X-File-Name`).
    is_file_name: bool,
    /// SSRF narrowed to cloud metadata addresses (`169.254.169.254`,
    /// `metadata.google.internal`...) and Java's fetching wrappers: fields
    /// where a private or loopback URL is ordinary (a cookie's return URL,
    /// a developer's `Referer`) but those never are.
    metadata_only: bool,
    /// A value an application hands on whole (query, form, cookie and body
    /// values; not names, keys, paths or headers): a bare probe command
    /// there is read even as a plain token (`rce::probe_command`).
    whole_value: bool,
}

const fn bits(classes: &[AttackClass]) -> u16 {
    let mut m = 0u16;
    let mut i = 0;
    while i < classes.len() {
        m |= 1 << classes[i] as u16;
        i += 1;
    }
    m
}

impl Checks {
    /// Identifies the checks and decoding a verdict was computed with.
    fn tag(&self, enc: Encoding) -> u32 {
        u32::from(self.classes)
            | (self.crlf as u32) << 16
            | u32::from(self.is_path) << 18
            | u32::from(self.is_file_name) << 21
            | u32::from(self.metadata_only) << 22
            | u32::from(self.whole_value) << 23
            | u32::from(enc.plus_is_space) << 19
            | u32::from(enc.json) << 20
    }
}

use AttackClass as A;
const PATH: Checks = Checks {
    classes: bits(&[
        A::Sqli,
        A::Xss,
        A::Rce,
        A::Traversal,
        A::RfiSsrf,
        A::Ssti,
        A::Crlf,
        // Path parameters (`/users/{name}`) reach queries and parsers too.
        A::Ldap,
        A::Nosql,
        A::Xxe,
    ]),
    crlf: CrlfMode::Strict,
    is_path: true,
    is_file_name: false,
    metadata_only: false,
    whole_value: false,
};
const NAME: Checks = Checks {
    classes: bits(&[
        A::Sqli,
        A::Xss,
        A::Rce,
        A::Traversal,
        A::RfiSsrf,
        A::Ssti,
        A::Crlf,
        A::Nosql,
    ]),
    crlf: CrlfMode::Strict,
    is_path: false,
    is_file_name: false,
    metadata_only: true,
    whole_value: false,
};
const VALUE: Checks = Checks {
    classes: bits(&[
        A::Sqli,
        A::Xss,
        A::Rce,
        A::Traversal,
        A::RfiSsrf,
        A::Ssti,
        A::Xxe,
        A::Ldap,
        A::Nosql,
        A::Crlf,
    ]),
    crlf: CrlfMode::Value,
    is_path: false,
    is_file_name: false,
    metadata_only: false,
    whole_value: true,
};
const COOKIE: Checks = Checks {
    classes: VALUE.classes,
    crlf: CrlfMode::Strict,
    is_path: false,
    is_file_name: false,
    metadata_only: true,
    whole_value: true,
};
const HEADER: Checks = Checks {
    classes: bits(&[
        A::Sqli,
        A::Xss,
        A::Rce,
        A::Traversal,
        A::Ssti,
        A::Crlf,
        A::Ldap,
        A::Nosql,
        A::Xxe,
    ]),
    crlf: CrlfMode::Strict,
    is_path: false,
    is_file_name: false,
    metadata_only: false,
    whole_value: false,
};
/// A header that does not carry addresses by design: SSRF too.
const HEADER_URL: Checks = Checks {
    classes: HEADER.classes | bits(&[A::RfiSsrf]),
    ..HEADER
};
/// `Referer` (and its arguments): the URL of the client's own page, a
/// loopback one included, but never a metadata address.
const HEADER_PAGE: Checks = Checks {
    metadata_only: true,
    ..HEADER_URL
};
const BODY: Checks = Checks {
    classes: VALUE.classes,
    crlf: CrlfMode::Body,
    is_path: false,
    is_file_name: false,
    metadata_only: false,
    whole_value: true,
};
const FILE_NAME: Checks = Checks {
    classes: bits(&[A::Traversal, A::Xss, A::Rce]),
    crlf: CrlfMode::Strict,
    is_path: false,
    is_file_name: true,
    metadata_only: false,
    whole_value: false,
};

struct Scan<'a> {
    found: Findings,
    budget: usize,
    location: Location,
    buf: &'a mut [u8; WINDOW],
    cache: Option<&'a mut cache::Verdicts>,
    /// Skip classes the field's bytes cannot carry (off only in tests).
    prefilter: bool,
    /// The budget ran out: what is found from here on is not complete.
    exhausted: bool,
    /// Inside a part cached whole ([`Scan::part`]): its fields skip the
    /// exact level (the part is kept there instead).
    in_part: bool,
    /// Bytes handed to the normaliser and then the detectors: every one of
    /// them is charged to `budget` (the tests hold the two together).
    touched: usize,
}

impl<'a> Scan<'a> {
    fn new(
        buf: &'a mut [u8; WINDOW],
        cache: Option<&'a mut cache::Verdicts>,
        prefilter: bool,
    ) -> Self {
        Scan {
            found: Findings::default(),
            budget: MAX_REQUEST_BYTES,
            location: Location::Path,
            buf,
            cache,
            prefilter,
            exhausted: false,
            in_part: false,
            touched: 0,
        }
    }

    /// The one way a field's bytes reach the detectors: normalised into the
    /// scratch window (`markup`: the comment-kept view) and counted.
    fn normalize(&mut self, raw: &[u8], enc: Encoding, markup: bool) -> Normalized<'_> {
        self.touched += raw.len().min(normalize::WINDOW);
        if markup {
            normalize::normalize_markup(raw, enc, self.buf)
        } else {
            normalize(raw, enc, self.buf)
        }
    }

    /// Takes a cached verdict: its classes, and its cost from the budget.
    /// False, and nothing taken, when the budget cannot cover the cost: the
    /// caller then scans and runs out where an uncached scan would.
    fn charge(&mut self, v: cache::Verdict) -> bool {
        let cost = usize::from(v.cost);
        if cost > self.budget {
            return false;
        }
        self.budget -= cost;
        // most verdicts are clean: no call
        if v.mask != 0 {
            self.found.add_mask(v.mask, self.location);
        }
        true
    }

    /// Runs `scan` on `raw` (the path, the query string, a Referer), with the
    /// verdict of the whole part kept in the cache's exact level: a part
    /// seen before is not split, hashed per field or byte-classified. With
    /// `hashed` the part is also kept in the hashed level (a path: its
    /// SipHash is shared with the path's own lookups). Cached only when
    /// nothing was found before it (so no class was skipped) and the budget
    /// lasted.
    #[inline]
    fn part(&mut self, tag: u32, raw: &[u8], hashed: bool, scan: impl FnOnce(&mut Self)) {
        let cacheable = self.found.mask == 0 && !self.exhausted;
        let (mut admit, mut key) = (None, None);
        if let (true, Some(c)) = (cacheable, self.cache.as_deref_mut()) {
            match c.exact.lookup(tag, raw) {
                cache::ExactLookup::Hit(v) if self.charge(v) => return,
                cache::ExactLookup::Hit(_) => {}
                cache::ExactLookup::Miss(a) => admit = a,
            }
        }
        if let (true, true, Some(c)) = (cacheable, hashed, self.cache.as_deref_mut()) {
            match c.lookup(tag, raw) {
                cache::Lookup::Hit(v) if self.charge(v) => {
                    if let (Some(a), Some(c)) = (admit, self.cache.as_deref_mut()) {
                        c.exact.admit(a, raw, v);
                    }
                    return;
                }
                cache::Lookup::Hit(_) | cache::Lookup::TooLong => {}
                cache::Lookup::Miss(k) => key = Some(k),
            }
        }
        let budget = self.budget;
        self.in_part = true;
        scan(self);
        self.in_part = false;
        let verdict = cache::Verdict::new(self.found.mask, budget - self.budget);
        if let (true, false, Some(v), Some(c)) = (
            cacheable,
            self.exhausted,
            verdict,
            self.cache.as_deref_mut(),
        ) {
            if let Some(k) = key {
                c.store(k, v);
            }
            if let Some(a) = admit.filter(|a| a.seen) {
                c.exact.admit(a, raw, v);
            }
        }
    }

    /// Runs `scan` on `raw`, a value the client sends with every request
    /// (User-Agent, Cookie, an address header), with its verdict kept in
    /// the cache's per-client level: the client's last value of the kind,
    /// found from the client's address and compared whole. Cached, as in
    /// [`Scan::part`], only when nothing was found before it and the
    /// budget lasted.
    fn per_client(&mut self, field: cache::ClientField, raw: &[u8], scan: impl FnOnce(&mut Self)) {
        let cacheable = self.found.mask == 0 && !self.exhausted;
        if let (true, Some(c)) = (cacheable, self.cache.as_deref_mut()) {
            if let Some(v) = c.per_client.lookup(field, raw) {
                if self.charge(v) {
                    return;
                }
            }
        }
        let budget = self.budget;
        scan(self);
        let verdict = cache::Verdict::new(self.found.mask, budget - self.budget);
        if let (true, false, Some(v), Some(c)) = (
            cacheable,
            self.exhausted,
            verdict,
            self.cache.as_deref_mut(),
        ) {
            c.per_client.keep(field, raw, v);
        }
    }

    fn path(&mut self, raw: &[u8]) {
        // Absolute-form targets (`GET http://169.254.169.254/`) are proxy probes.
        let mut path = raw;
        let absolute = matches!(raw.first(), Some(b'h' | b'H'));
        for scheme in [b"http://" as &[u8], b"https://"] {
            if absolute
                && raw.len() > scheme.len()
                && raw[..scheme.len()].eq_ignore_ascii_case(scheme)
            {
                self.run(
                    raw,
                    Encoding::RAW,
                    Checks {
                        classes: bits(&[A::RfiSsrf]),
                        ..PATH
                    },
                );
                let rest = &raw[scheme.len()..];
                path = rest
                    .iter()
                    .position(|&b| b == b'/')
                    .map_or(&[], |p| &rest[p..]);
            }
        }
        self.run(path, Encoding::RAW, PATH);
        self.path_base64(path);
        // The probe check reads the path's first window once more, cached
        // or not: it is charged the same either way.
        let cost = path.len().min(normalize::WINDOW);
        if cost > self.budget {
            self.budget = 0;
            self.exhausted = true;
            return;
        }
        self.budget -= cost;
        let probe_bit = 1 << A::ScannerProbe.index();
        let probed = match self
            .cache
            .as_deref_mut()
            .map(|c| c.lookup(cache::PROBE_TAG, path))
        {
            Some(cache::Lookup::Hit(v)) => v.mask & probe_bit != 0,
            other => {
                let n = self.normalize(path, Encoding::RAW, false);
                let hit = probe::probe(n.text);
                if let (Some(cache::Lookup::Miss(key)), Some(c)) =
                    (other, self.cache.as_deref_mut())
                {
                    let mask = if hit { probe_bit } else { 0 };
                    c.store(key, cache::Verdict { mask, cost: 0 });
                }
                hit
            }
        };
        if probed {
            self.found.add(A::ScannerProbe, Location::Path);
        }
        // Injections in a path segment (`/items/1 AND 1=1`) start at the
        // segment, not at the path: the SQL detector looks at value starts.
        // No segment can hold one when the path's bytes cannot (see
        // `prefilter::segments_need_sql`).
        if !self.found.contains(A::Sqli)
            && (!self.prefilter || prefilter::segments_need_sql(path, prefilter::facts(path)))
        {
            let segment = Checks {
                classes: bits(&[A::Sqli]),
                ..PATH
            };
            for seg in path.split(|&b| b == b'/').filter(|s| s.len() > 2) {
                // A `name=value` segment (matrix parameters, `;id=`, and
                // frameworks that map `/payload=..` to an argument): the
                // value starts after the `=` (issue 9, SQLi); the name
                // before it is a plain name, so only the value is read.
                self.run(segment_value(seg).unwrap_or(seg), Encoding::RAW, segment);
            }
        }
        // Session 12: a command in a path segment (`/api/run/;id`,
        // `/files/sleep%2015`, GoTestWAF's `URLPath`) starts at the
        // segment, as a value does: the rules that read a whole value or
        // its start read each segment that holds more than identifier
        // bytes (plain ones are skipped by the prefilter anyway).
        if !self.found.contains(A::Rce)
            && path
                .iter()
                .any(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.')))
        {
            let segment = Checks {
                classes: bits(&[A::Rce]),
                ..PATH
            };
            for seg in path.split(|&b| b == b'/').filter(|s| s.len() > 1) {
                if !self.run(seg, Encoding::RAW, segment) || self.found.contains(A::Rce) {
                    break;
                }
            }
        }
    }

    /// Text a path carries in base64 (`fields::base64_text`), read as a
    /// value: the path after its leading `/` as one value (standard base64
    /// keeps its `/` raw in a path: GoTestWAF's `URLPath` placement with
    /// `Base64Flat`), and each segment of a longer path (URL-safe ids and
    /// state in a segment, `/v1/export/eyJ...`). A segment of random
    /// base64 stops decoding at its first byte that is not text.
    fn path_base64(&mut self, path: &[u8]) {
        let mut text = [0u8; fields::BASE64_SPAN];
        let whole = path.strip_prefix(b"/").unwrap_or(path);
        if let Some(t) = fields::base64_text(whole, &mut text) {
            if !self.run(t, Encoding::RAW, VALUE) {
                return;
            }
        }
        if !whole.contains(&b'/') {
            return;
        }
        for seg in whole.split(|&b| b == b'/') {
            if let Some(t) = fields::base64_text(seg, &mut text) {
                if !self.run(t, Encoding::RAW, VALUE) {
                    return;
                }
            }
        }
    }

    /// The arguments of a Referer's query, each value read as a value with
    /// the header's checks: an injection there starts at the value, not at
    /// the header (`Referer: https://shop.example/p?id=1' AND 1=1--`),
    /// which is how scanners that fuzz the Referer send it and how
    /// analytics code parses it. Plain token values are skipped as
    /// everywhere.
    fn referer_arguments(&mut self, value: &[u8]) {
        let Some(q) = memchr::memchr(b'?', value) else {
            return;
        };
        let query = &value[q + 1..];
        let query = &query[..memchr::memchr(b'#', query).unwrap_or(query.len())];
        if self.prefilter && prefilter::plain_pairs(query, b'&') {
            return;
        }
        for pair in query.split(|&b| b == b'&') {
            let arg = pair
                .iter()
                .position(|&b| b == b'=')
                .map_or(pair, |p| &pair[p + 1..]);
            if !arg.is_empty() && !self.run(arg, Encoding::FORM, HEADER_PAGE) {
                return;
            }
        }
    }

    /// The tool's own name in the User-Agent (issue 9, [`identity`]): one
    /// pass over at most 256 bytes, its verdict kept in the cache's exact
    /// level as any repeated value's (the same User-Agent comes with every
    /// request of a client; the pass cost about 2,400 instructions a
    /// request on `ci/bench.sh`'s mix). Not charged to the budget, cached
    /// or not.
    fn scanner_identity(&mut self, value: &[u8]) {
        let probe = 1 << A::ScannerProbe.index();
        let mut admit = None;
        if let Some(c) = self.cache.as_deref_mut() {
            match c.exact.lookup(cache::IDENTITY_TAG, value) {
                cache::ExactLookup::Hit(v) => {
                    if v.mask & probe != 0 {
                        self.found.add(A::ScannerProbe, Location::Header);
                    }
                    return;
                }
                cache::ExactLookup::Miss(a) => admit = a,
            }
        }
        let named = identity::scanner_user_agent(value);
        if named {
            self.found.add(A::ScannerProbe, Location::Header);
        }
        if let (Some(a), Some(c)) = (admit.filter(|a| a.seen), self.cache.as_deref_mut()) {
            let mask = if named { probe } else { 0 };
            c.exact.admit(a, value, cache::Verdict { mask, cost: 0 });
        }
    }

    /// The User-Agent: the scanner-identity check and the header scan
    /// ([`HEADER_URL`]), their verdicts kept as one in the exact level, so
    /// the value every request carries is hashed and compared once, not
    /// once per check. Whenever that one verdict cannot answer (a class
    /// already found, a short value, a budget that cannot cover its cost)
    /// each check goes its own way as before.
    fn user_agent(&mut self, value: &[u8]) {
        let whole = self.found.mask & HEADER_URL.classes == 0 && value.len() >= MIN_EXACT_LEN;
        let mut admit = None;
        if let (true, Some(c)) = (whole, self.cache.as_deref_mut()) {
            match c.exact.lookup(cache::USER_AGENT_TAG, value) {
                cache::ExactLookup::Hit(v) if self.charge(v) => return,
                cache::ExactLookup::Hit(_) => {}
                cache::ExactLookup::Miss(a) => admit = a,
            }
        }
        let Some(a) = admit else {
            self.scanner_identity(value);
            self.run(value, Encoding::RAW, HEADER_URL);
            return;
        };
        let named = identity::scanner_user_agent(value);
        let (before, budget) = (self.found.mask, self.budget);
        let (complete, known) =
            self.run_pending(value, Encoding::RAW, HEADER_URL, HEADER_URL.classes, true);
        let probe = 1 << A::ScannerProbe.index();
        if named {
            self.found.add(A::ScannerProbe, Location::Header);
        }
        let mask = (self.found.mask & !before & !probe) | if named { probe } else { 0 };
        if let (true, true, Some(v), Some(c)) = (
            a.seen || known,
            complete,
            cache::Verdict::new(mask, budget - self.budget),
            self.cache.as_deref_mut(),
        ) {
            c.exact.admit(a, value, v);
        }
    }

    fn header(&mut self, name: &[u8], value: &[u8]) {
        let checks = header_checks(name);
        if self.run(value, Encoding::RAW, checks) {
            // The text a base64 value carries (`fields::base64_text`).
            let mut text = [0u8; fields::BASE64_SPAN];
            if let Some(t) = fields::base64_text(value, &mut text) {
                self.run(t, Encoding::RAW, checks);
            }
        }
    }

    fn body(&mut self, body: &[u8], content_type: &[u8]) {
        let ct = lower_prefix::<128>(content_type);
        let ct = ct.as_slice();
        let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
        if normalize::find(ct, b"json").is_some() || (ct.is_empty() && fields::looks_json(body)) {
            fields::json(body, self);
        } else if normalize::find(ct, b"x-www-form-urlencoded").is_some()
            || (ct.is_empty() && looks_urlencoded(body))
        {
            fields::urlencoded(body, self);
        } else if normalize::find(ct, b"multipart/").is_some() {
            fields::multipart(body, content_type, self);
        } else if normalize::find(ct, b"xml").is_some()
            || (first == Some(b'<') && fields::opens_markup(body))
        {
            self.run(
                body,
                Encoding::RAW,
                Checks {
                    classes: bits(&[A::Xxe]),
                    ..BODY
                },
            );
            fields::xml_text(body, self);
        } else {
            fields::raw_text(body, self);
        }
    }

    /// Normalises `raw` window by window and runs the enabled detectors.
    /// A header value seen before is answered by the cache's exact level
    /// before its bytes are even classified.
    fn run(&mut self, raw: &[u8], enc: Encoding, checks: Checks) -> bool {
        let pending = checks.classes & !self.found.mask;
        if raw.is_empty() || pending == 0 {
            return self.budget > 0;
        }
        let complete_checks = pending == checks.classes;
        let mut admit = None;
        if complete_checks
            && self.location == Location::Header
            && !self.in_part
            && raw.len() >= MIN_EXACT_LEN
        {
            if let Some(c) = self.cache.as_deref_mut() {
                match c.exact.lookup(checks.tag(enc), raw) {
                    cache::ExactLookup::Hit(v) if self.charge(v) => return true,
                    cache::ExactLookup::Hit(_) => {}
                    cache::ExactLookup::Miss(a) => admit = a,
                }
            }
        }
        let (before, budget) = (self.found.mask, self.budget);
        let (complete, known) = self.run_pending(raw, enc, checks, pending, complete_checks);
        let admit = admit.filter(|a| a.seen || known);
        if let (Some(a), true, Some(c)) = (admit, complete, self.cache.as_deref_mut()) {
            if let Some(v) = cache::Verdict::new(self.found.mask & !before, budget - self.budget) {
                c.exact.admit(a, raw, v);
            }
        }
        complete
    }

    /// [`Scan::run`] past the exact level: the prefilter, then the hashed
    /// level and the scan. Whether it completed, and whether the hashed
    /// level knew the field.
    #[inline]
    fn run_pending(
        &mut self,
        raw: &[u8],
        enc: Encoding,
        checks: Checks,
        pending: u16,
        complete_checks: bool,
    ) -> (bool, bool) {
        match self.prefiltered(raw, enc, checks, pending) {
            None => (true, false),
            Some(pending) => self.run_hashed(raw, enc, checks, pending, complete_checks),
        }
    }

    /// The classes of `pending` that could fire on `raw`, `None` when none
    /// can (see [`prefilter`]). Inlined into [`Scan::run`]: most fields
    /// that reach it end here.
    #[inline]
    fn prefiltered(
        &mut self,
        raw: &[u8],
        enc: Encoding,
        checks: Checks,
        pending: u16,
    ) -> Option<u16> {
        // Identifiers, numbers, UUIDs, tokens and comma-separated lists of
        // them are not inspected (see `prefilter`), and a field whose bytes
        // cannot open the gate of any pending class is not normalised,
        // hashed or scanned.
        // Before the plain-token skip (issue 9, RCE): an upload named as a
        // PHP session file (`sess_<id>`) is a token.
        if checks.is_file_name
            && pending & (1 << A::Rce.index()) != 0
            && rce::session_file_name(raw)
        {
            self.found.add(A::Rce, self.location);
        }
        let facts = prefilter::facts(raw);
        if prefilter::plain_token(facts) {
            // The one plain token that is SQL by itself (issue 9, SQLi): a
            // catalogue name as the whole value (`tempdb`, CRS 942140).
            if pending & (1 << A::Sqli.index()) != 0 && sqli::catalogue_token(raw) {
                self.found.add(A::Sqli, self.location);
            }
            // And the plain tokens that are Java attacks by themselves
            // (session 12): gadget names, serialization streams.
            if pending & (1 << A::Rce.index()) != 0
                && (rce::attack_token(raw) || (checks.whole_value && rce::probe_command(raw)))
            {
                self.found.add(A::Rce, self.location);
            }
            return None;
        }
        let mut pending = pending;
        if self.prefilter
            && self.location == Location::Header
            && prefilter::address_list(raw, facts)
        {
            pending &= prefilter::ADDRESS_KEEPS;
            if pending == 0 {
                return None;
            }
        }
        let pending = if self.prefilter {
            prefilter::candidates(raw, enc, facts, pending)
        } else {
            pending
        };
        (pending != 0).then_some(pending)
    }

    /// [`Scan::run`] past the exact level and the prefilter (`pending`: the
    /// classes left): the hashed level, the scan. Whether it completed, and
    /// whether the hashed level knew the field. Out of line: [`Scan::run`]
    /// stays small for the fields the exact level or the prefilter answer.
    #[inline(never)]
    fn run_hashed(
        &mut self,
        raw: &[u8],
        enc: Encoding,
        checks: Checks,
        pending: u16,
        complete_checks: bool,
    ) -> (bool, bool) {
        // A field seen before with the same checks: its verdict is known.
        // Only complete verdicts are cached (nothing skipped as already found).
        let mut key = None;
        if complete_checks {
            if let Some(c) = self.cache.as_deref_mut() {
                match c.lookup(checks.tag(enc), raw) {
                    cache::Lookup::Hit(v) if self.charge(v) => return (true, true),
                    cache::Lookup::Hit(_) | cache::Lookup::TooLong => {}
                    cache::Lookup::Miss(k) => key = Some(k),
                }
            }
        }
        let (before, budget) = (self.found.mask, self.budget);
        let complete = self.run_windows(raw, enc, checks, pending);
        if let (true, Some(k), Some(c)) = (complete, key, self.cache.as_deref_mut()) {
            if let Some(v) = cache::Verdict::new(self.found.mask & !before, budget - self.budget) {
                c.store(k, v);
            }
        }
        (complete, false)
    }

    /// Normalises `raw` window by window and runs the `pending` detectors;
    /// false when the request's inspection budget ran out.
    fn run_windows(&mut self, raw: &[u8], enc: Encoding, checks: Checks, pending: u16) -> bool {
        let limit = raw.len().min(MAX_FIELD_BYTES);
        let gate = self.prefilter;
        let mut start = 0;
        loop {
            let end = (start + WINDOW).min(limit);
            let chunk = &raw[start..end];
            let cost = chunk.len() + FIELD_COST;
            if cost > self.budget {
                self.budget = 0;
                self.exhausted = true;
                return false;
            }
            self.budget -= cost;
            let n = self.normalize(chunk, enc, false);
            // The gates again, on the bytes the detectors read: a long
            // field or one with escapes skipped the raw prefilter.
            let gated = if gate {
                prefilter::after_normalize(n.text, n.triggers, pending)
            } else {
                pending
            };
            let mut hits = detect(&n, gated, checks);
            // Markup a `/* */` comment hid from the SQL-stripped view.
            // It reads the window again: charged as a window of its own.
            let xss = 1 << A::Xss.index();
            if n.hid_markup && pending & xss & !hits != 0 {
                if chunk.len() > self.budget {
                    self.found.add_mask(hits, self.location);
                    self.budget = 0;
                    self.exhausted = true;
                    return false;
                }
                self.budget -= chunk.len();
                let m = self.normalize(chunk, enc, true);
                if xss::detect(&m) {
                    hits |= xss;
                }
            }
            self.found.add_mask(hits, self.location);
            if end >= limit {
                return true;
            }
            start = end - OVERLAP;
        }
    }
}

impl Visitor for Scan<'_> {
    fn field(&mut self, kind: Kind, raw: &[u8], enc: Encoding) -> bool {
        let location = self.location;
        let checks = match kind {
            Kind::NosqlOperator => {
                self.found.add(A::Nosql, location);
                return true;
            }
            Kind::PrototypeKey => {
                self.found.add(A::Rce, location);
                return true;
            }
            Kind::RemoteInclude => {
                self.found.add(A::RfiSsrf, location);
                return true;
            }
            Kind::ArgName | Kind::CookieName => NAME,
            Kind::ArgValue if location == Location::Body => BODY_FORM,
            Kind::ArgValue => VALUE,
            Kind::CookieValue => COOKIE,
            Kind::BodyValue => BODY,
            Kind::FileName => FILE_NAME,
            Kind::PartHeader => HEADER,
        };
        self.run(raw, enc, checks)
    }

    fn walked(&mut self) -> bool {
        if FIELD_COST > self.budget {
            self.budget = 0;
            self.exhausted = true;
            return false;
        }
        self.budget -= FIELD_COST;
        true
    }
}

/// Urlencoded form bodies: multi-line text areas are normal there.
const BODY_FORM: Checks = Checks {
    crlf: CrlfMode::Body,
    ..VALUE
};

/// Runs the detectors in `pending` on one normalised window.
fn detect(n: &Normalized, pending: u16, checks: Checks) -> u16 {
    let on = |c: AttackClass| pending & (1 << c.index()) != 0;
    let mut hits = 0u16;
    let mut hit = |c: AttackClass, f: &dyn Fn() -> bool| {
        if on(c) && f() {
            hits |= 1 << c.index();
        }
    };
    hit(A::Sqli, &|| sqli::detect(n));
    hit(A::Xss, &|| xss::detect(n));
    hit(A::Rce, &|| {
        rce::detect(n)
            || (checks.is_file_name && n.has(normalize::trig::DOT) && rce::script_file_name(n.text))
    });
    hit(A::Traversal, &|| {
        traversal::traversal(n, checks.is_path)
            || (checks.is_file_name && traversal::file_name_steps(n.text))
    });
    hit(A::RfiSsrf, &|| {
        if checks.metadata_only {
            traversal::metadata_address(n)
        } else {
            traversal::ssrf(n)
        }
    });
    hit(A::Ssti, &|| inject::ssti(n));
    hit(A::Xxe, &|| inject::xxe(n));
    hit(A::Ldap, &|| inject::ldap(n));
    hit(A::Nosql, &|| inject::nosql(n));
    hit(A::Crlf, &|| inject::crlf(n, checks.crlf));
    hits
}

/// The checks of a header an application reads. Headers that carry the
/// client's own or a proxy's addresses and URLs (a developer's `Referer:
/// http://localhost:3000/`) are never judged for SSRF, except a `Referer`
/// for metadata addresses ([`HEADER_PAGE`]); any other is.
fn header_checks(name: &[u8]) -> Checks {
    let lower = lower_prefix::<32>(name);
    let name = lower.as_slice();
    if name == b"referer" {
        return HEADER_PAGE;
    }
    let addresses = matches!(
        name,
        b"origin"
            | b"forwarded"
            | b"via"
            | b"x-real-ip"
            | b"true-client-ip"
            | b"x-client-ip"
            | b"cf-connecting-ip"
    ) || name.starts_with(b"x-forwarded-")
        || name.starts_with(b"x-original-");
    if addresses {
        HEADER
    } else {
        HEADER_URL
    }
}

/// A body sent without a content type that reads as `name=value&...`
/// (frameworks parse those as forms).
fn looks_urlencoded(body: &[u8]) -> bool {
    let name = body
        .iter()
        .take(64)
        .take_while(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']' | b'%' | b'$')
        })
        .count();
    name > 0 && body.get(name) == Some(&b'=')
}

/// A lowercase copy of the first `N` bytes of `s` (content types are short).
fn lower_prefix<const N: usize>(s: &[u8]) -> LowerBuf<N> {
    let mut b = LowerBuf {
        buf: [0; N],
        len: s.len().min(N),
    };
    for (d, c) in b.buf.iter_mut().zip(s) {
        *d = c.to_ascii_lowercase();
    }
    b
}

struct LowerBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> LowerBuf<N> {
    fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// The value of a `name=value` path segment: after the first `=`, when
/// what comes before it is a name (letters, digits, `_ - . ;`) and the
/// value is longer than two bytes.
fn segment_value(seg: &[u8]) -> Option<&[u8]> {
    let eq = memchr::memchr(b'=', seg)?;
    let name_ok = eq > 0
        && seg[..eq]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b';'));
    let v = &seg[eq + 1..];
    (name_ok && v.len() > 2).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_and_locations() {
        let headers: &[(&[u8], &[u8])] = &[
            (b"user-agent", b"() { :; }; /bin/bash -c id"),
            (b"cookie", b"sid=abc; q=1' or '1'='1"),
        ];
        let input = Input {
            target: b"/.env?x=%3Cscript%3E",
            headers,
            body: Some(br#"{"u": {"$ne": null}}"#),
        };
        let all = inspect_all(&input);
        assert_eq!(all.location(A::ScannerProbe), Some(Location::Path));
        assert_eq!(all.location(A::Xss), Some(Location::Query));
        assert_eq!(all.location(A::Rce), Some(Location::Header));
        assert_eq!(all.location(A::Sqli), Some(Location::Cookie));
        assert_eq!(all.location(A::Nosql), Some(Location::Body));
        assert_eq!(
            inspect(&input),
            Some(Finding {
                class: A::Rce,
                location: Location::Header
            })
        );
        let clean = Input {
            target: b"/api/v1/users/42?page=2&sort=name",
            headers: &[(b"user-agent", b"curl/8.5.0")],
            body: None,
        };
        assert_eq!(inspect(&clean), None);
    }

    /// Random requests built from the bytes detectors care about must never
    /// panic (a panic kills an nginx worker).
    #[test]
    fn never_panics_on_hostile_bytes() {
        const ALPHABET: &[u8] =
            b"%&#;:/\\.'\"`<>=()[]{}$|*-+!?@ \r\n\t\x00\xc0\xae\xef\xbc\x8eaAxu0123456789";
        let mut state_rng = crate::testing::XorShift64::new(0x1234_5678_9abc_def0);
        let mut next = || state_rng.next_u64();
        for round in 0..4000 {
            let len = (next() % 300) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            let headers: &[(&[u8], &[u8])] = &[
                (b"cookie", &bytes),
                (b"user-agent", &bytes),
                (
                    b"content-type",
                    [
                        b"application/json" as &[u8],
                        b"multipart/form-data; boundary=a",
                        b"text/xml",
                        b"",
                    ][round % 4],
                ),
            ];
            let _ = inspect_all(&Input {
                target: &bytes,
                headers,
                body: Some(&bytes),
            });
        }
    }

    /// The walk's shortcut for the usual headers gives them the checks
    /// `header_checks` would, and knows no other name.
    #[test]
    fn usual_headers_get_their_own_checks() {
        for (name, known) in [
            (&b"referer"[..], Known::Referer),
            (b"origin", Known::Address),
            (b"x-forwarded-for", Known::Address),
            (b"x-real-ip", Known::Address),
            (b"user-agent", Known::Url),
            (b"x-requested-with", Known::Url),
            (b"cookie", Known::Cookie),
            (b"content-type", Known::ContentType),
            (b"content-length", Known::Skipped),
            (b"authorization", Known::Skipped),
            (b"host", Known::Skipped),
        ] {
            let shown = String::from_utf8_lossy(name);
            assert_eq!(known_header(name), known, "{shown}");
            let checks = match known {
                Known::Address => HEADER,
                Known::Referer => HEADER_PAGE,
                Known::Url => HEADER_URL,
                _ => continue,
            };
            let got = header_checks(name);
            assert_eq!(got.tag(Encoding::RAW), checks.tag(Encoding::RAW), "{shown}");
            // A name of the same length and first byte is not it.
            let mut near = name.to_vec();
            *near.last_mut().unwrap() ^= 1;
            assert_eq!(known_header(&near), Known::No, "{shown}");
        }
        for name in [
            &b""[..],
            b"x",
            b"accept",
            b"x-file-name",
            b"cookie2",
            b"Cookie",
        ] {
            assert_eq!(known_header(name), Known::No, "{name:?}");
        }
    }

    /// `unit` repeated up to `limit` bytes after `prefix`.
    fn repeat(prefix: &[u8], unit: &[u8], limit: usize) -> Vec<u8> {
        let mut v = prefix.to_vec();
        while v.len() + unit.len() <= limit {
            v.extend_from_slice(unit);
        }
        v
    }

    /// A request as the tests build it: name, target, headers, body.
    type Request = (
        &'static str,
        Vec<u8>,
        Vec<(Vec<u8>, Vec<u8>)>,
        Option<Vec<u8>>,
    );

    /// Requests at the documented limits (8 KiB target, 32 KiB of headers,
    /// 64 KiB body, thousands of arguments), hostile and benign.
    fn at_the_limits() -> Vec<Request> {
        let form = |b: &[u8]| b.to_vec();
        let ct = |v: &[u8]| vec![(b"content-type".to_vec(), v.to_vec())];
        let urlenc = b"application/x-www-form-urlencoded";
        let headers: Vec<_> = (0..400)
            .map(|i| {
                (
                    format!("x-custom-{i}").into_bytes(),
                    repeat(b"", b"a'(<$%;", 70),
                )
            })
            .collect();
        let mut cookie_and_headers = headers.clone();
        cookie_and_headers.truncate(100);
        cookie_and_headers.push((b"cookie".to_vec(), repeat(b"", b"a='(;", 4096)));
        cookie_and_headers.push((b"user-agent".to_vec(), repeat(b"", b"() { :; }; ", 2048)));
        vec![
            (
                "hostile query",
                repeat(b"/s?q=", b"'(\"", 8192),
                vec![],
                None,
            ),
            (
                "2,000 arguments",
                repeat(b"/s?", b"a=1&", 8192),
                vec![],
                None,
            ),
            (
                "1,000 hostile arguments",
                repeat(b"/s?", b"a=<%&", 8192),
                vec![],
                None,
            ),
            (
                "hostile path",
                repeat(b"/", b"../.;/%2e", 8192),
                vec![],
                None,
            ),
            (
                "absolute target",
                repeat(b"http://169.254.169.254/", b"a", 8192),
                vec![],
                None,
            ),
            ("400 hostile headers", b"/".to_vec(), headers, None),
            (
                "cookie and headers",
                b"/.env".to_vec(),
                cookie_and_headers,
                None,
            ),
            (
                "form of braces",
                b"/f".to_vec(),
                ct(urlenc),
                Some(repeat(b"q=", b"{", 65536)),
            ),
            (
                "form in markup comments",
                b"/f".to_vec(),
                ct(urlenc),
                Some(repeat(b"q=", b"<a /*<b*/ ", 65536)),
            ),
            (
                "7,000 operator arguments",
                b"/f".to_vec(),
                ct(urlenc),
                Some(repeat(b"", b"a[$ne]=1&", 65536)),
            ),
            (
                "16,000 plain arguments",
                b"/f".to_vec(),
                ct(urlenc),
                Some(repeat(b"", b"a=1&", 65536)),
            ),
            (
                "json keys",
                b"/j".to_vec(),
                ct(b"application/json"),
                Some(repeat(b"{", b"\"$a\":", 65536)),
            ),
            (
                "json strings",
                b"/j".to_vec(),
                ct(b"application/json"),
                Some(repeat(b"[", b"\"a'b\",", 65536)),
            ),
            (
                "multipart",
                b"/u".to_vec(),
                ct(b"multipart/form-data; boundary=xx"),
                Some(repeat(
                    b"",
                    b"--xx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n'\"<{{$\r\n",
                    65536,
                )),
            ),
            (
                "xml",
                b"/x".to_vec(),
                ct(b"text/xml"),
                Some(repeat(b"<?xml version=\"1.0\"?>", b"<a b=\"'\">{{", 65536)),
            ),
            (
                "text",
                b"/t".to_vec(),
                vec![],
                Some(form(&repeat(b"", b"a; b|", 65536))),
            ),
        ]
    }

    /// The budget pays for every byte any detector reads: whatever a
    /// request at the limits holds, the bytes handed to the normaliser (the
    /// XSS scanner's second view and the probe check included) are at most
    /// what was charged, and the charge at most the budget; a verdict cache
    /// charges a repeated request exactly what its first scan cost.
    #[test]
    fn every_byte_scanned_is_charged_at_the_limits() {
        let mut cache = cache::Verdicts::default();
        for (name, target, headers, body) in at_the_limits() {
            let hdrs: Vec<(&[u8], &[u8])> = headers
                .iter()
                .map(|(n, v)| (n.as_slice(), v.as_slice()))
                .collect();
            let input = Input {
                target: &target,
                headers: &hdrs,
                body: body.as_deref(),
            };
            let mut charged = Vec::new();
            for round in 0..3 {
                let mut buf = [0; WINDOW];
                let mut scan = Scan::new(&mut buf, (round > 0).then_some(&mut cache), true);
                scan.request(&input);
                let used = MAX_REQUEST_BYTES - scan.budget;
                assert!(
                    scan.touched <= used,
                    "{name} (round {round}): {} bytes read, {used} charged",
                    scan.touched
                );
                charged.push((used, scan.found));
            }
            assert!(
                charged.iter().all(|c| *c == charged[0]),
                "{name}: cached and uncached scans differ: {charged:?}"
            );
            // Not vacuous: the hostile ones spend most of the budget (plain
            // tokens are walked, not scanned; `"$a":` keys are charged).
            if !["2,000 arguments", "16,000 plain arguments"].contains(&name) {
                assert!(charged[0].0 > MAX_REQUEST_BYTES / 2, "{name}: {charged:?}");
            }
        }
    }

    /// 32 KiB of hostile headers spend their share, not the body's.
    #[test]
    fn headers_cannot_starve_the_body() {
        let value = repeat(b"", b"a'(<$%;", 70);
        let mut headers: Vec<(&[u8], &[u8])> =
            vec![(b"content-type", b"application/x-www-form-urlencoded")];
        let names: Vec<Vec<u8>> = (0..400)
            .map(|i| format!("x-custom-{i}").into_bytes())
            .collect();
        headers.extend(names.iter().map(|n| (n.as_slice(), value.as_slice())));
        let input = Input {
            target: b"/f",
            headers: &headers,
            body: Some(b"q=1' union select password from users--"),
        };
        let mut buf = [0; WINDOW];
        let mut scan = Scan::new(&mut buf, None, true);
        scan.request(&input);
        assert_eq!(scan.found.location(A::Sqli), Some(Location::Body));
        // The path, the headers' share, the body's one field.
        assert!(MAX_REQUEST_BYTES - scan.budget <= MAX_HEADER_BYTES + 256);
    }

    #[test]
    fn long_fields_are_windowed_and_budgeted() {
        let mut value = vec![b'a'; 10_000];
        value.extend_from_slice(b"%20' or 1=1--");
        let mut target = b"/s?q=x%20".to_vec();
        target.extend_from_slice(&value);
        let input = Input {
            target: &target[..MAX_TARGET_BYTES.min(target.len())],
            headers: &[],
            body: None,
        };
        assert!(inspect(&input).is_none(), "past the target cap");
        let body = [b"q=".as_slice(), &value].concat();
        let headers: &[(&[u8], &[u8])] = &[(b"content-type", b"application/x-www-form-urlencoded")];
        let input = Input {
            target: b"/",
            headers,
            body: Some(&body),
        };
        assert_eq!(inspect(&input).map(|f| f.class), Some(A::Sqli));
    }

    /// Session 12: Java attack tokens, superglobal and class keys and
    /// container hosts, in every place a request carries them (a plain
    /// token skips the prefilter's classes, a plain query or Cookie
    /// header is not split, a plain JSON key is not read).
    #[test]
    fn session_twelve_tokens_and_keys() {
        let rce = |target: &[u8], headers: &[(&[u8], &[u8])], body: Option<&[u8]>| {
            !inspect_all(&Input {
                target,
                headers,
                body,
            })
            .is_empty()
        };
        let json: &[(&[u8], &[u8])] = &[(b"content-type", b"application/json")];
        for t in [
            "javassist",
            "OgnlContext",
            "classLoader",
            "rO0ABXNyABFqYXZh",
        ] {
            assert!(rce(format!("/q?x={t}").as_bytes(), &[], None), "{t}");
            assert!(rce(format!("/q?{t}=1").as_bytes(), &[], None), "{t}");
            let cookie = format!("a=b; x={t}");
            assert!(rce(b"/", &[(b"cookie", cookie.as_bytes())], None), "{t}");
            let body = format!(r#"{{"x": "{t}"}}"#);
            assert!(rce(b"/", json, Some(body.as_bytes())), "{t}");
            let body = format!(r#"{{"{t}": 1}}"#);
            assert!(rce(b"/", json, Some(body.as_bytes())), "{t}");
        }
        for key in ["$_GET", "sun.reflect", "freemarker.core", "uname -a"] {
            let body = format!(r#"{{"{key}": 1}}"#);
            assert!(rce(b"/", json, Some(body.as_bytes())), "{key}");
        }
        let cookie: &[(&[u8], &[u8])] = &[(b"cookie", b"redirect=host.docker.internal/")];
        assert!(rce(b"/", cookie, None));
        for (target, body) in [
            ("/q?x=classloaders&loader=class", None),
            ("/q?x=ro0abc123456789", None),
            (
                "/",
                Some(r#"{"$set": {"a": 1}, "$inc": {"n": 1}, "first name": "Ann"}"#),
            ),
            ("/", Some(r#"{"config.url": "x", "java": "17"}"#)),
        ] {
            assert!(
                !rce(target.as_bytes(), json, body.map(str::as_bytes)),
                "{target} {body:?}"
            );
        }
        let cookie: &[(&[u8], &[u8])] = &[(b"cookie", b"back=http://localhost:3000/")];
        assert!(!rce(b"/", cookie, None));
        // A bare probe command as a whole value, not as a name or a path.
        for t in ["/q?x=whoami", "/q?a=1&x=IPCONFIG"] {
            assert!(rce(t.as_bytes(), &[], None), "{t}");
        }
        assert!(rce(b"/", json, Some(br#"{"cmd": "uname"}"#)));
        let cookie: &[(&[u8], &[u8])] = &[(b"cookie", b"a=b; c=netstat")];
        assert!(rce(b"/", cookie, None));
        for t in [
            "/api/whoami",
            "/q?uname=john",
            "/q?x=Netstat",
            "/q?host=hostname",
        ] {
            assert!(!rce(t.as_bytes(), &[], None), "{t}");
        }
        assert!(!rce(b"/", json, Some(br#"{"whoami": true}"#)));
        // A path segment read as a value by the command rules.
        for t in ["/api/run/;id", "/files/sleep%2015/x", "/x/%60id%60"] {
            assert!(rce(t.as_bytes(), &[], None), "{t}");
        }
        for t in [
            "/files/My%20Report%20(final).pdf",
            "/wiki/C++/x",
            "/users/o'brien",
            "/search/ls%20command%20tutorial",
        ] {
            assert!(!rce(t.as_bytes(), &[], None), "{t}");
        }
    }

    #[test]
    fn session_thirteen_code_bodies() {
        let flagged = |headers: &[(&[u8], &[u8])], body: &str| {
            !inspect_all(&Input {
                target: b"/upload",
                headers,
                body: Some(body.as_bytes()),
            })
            .is_empty()
        };
        let plain: &[(&[u8], &[u8])] = &[(b"content-type", b"text/plain")];
        let xml: &[(&[u8], &[u8])] = &[(b"content-type", b"application/xml")];
        // Code a body of another type opens with (`php://input` reads it).
        for body in [
            "<?php system('id'); ?>",
            "<?= `id` ?>",
            "<%= 7*7 %>",
            "<(id)",
        ] {
            assert!(flagged(plain, body), "{body}");
            assert!(flagged(&[], body), "{body}");
        }
        // A PHP instruction inside an XML document.
        for body in [
            "<?xml version=\"1.0\"?><a><?php system($_GET['c']); ?></a>",
            "<a>x</a><? passthru('id'); ?>",
        ] {
            assert!(flagged(xml, body), "{body}");
        }
        // The declaration, other applications' instructions and ordinary
        // markup in any body.
        for (headers, body) in [
            (
                xml,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a><b>x</b></a>",
            ),
            (
                xml,
                "<?xml version='1.0'?><?mso-application progid=\"Excel.Sheet\"?><a>1</a>",
            ),
            (plain, "<p>Hello <b>world</b></p>"),
            (plain, "<3 thanks for the help"),
            (plain, "<?xml version=\"1.0\"?><note>hi</note>"),
        ] {
            assert!(!flagged(headers, body), "{body}");
        }
    }
}
