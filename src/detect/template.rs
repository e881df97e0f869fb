//! Endpoint normalisation: `/users/42/orders` -> `/users/{id}/orders`.
//!
//! Detectors reason about endpoints (templates), not about the millions of
//! concrete paths: scraping `/products/1..N` is one template walked N times.
//! A segment becomes `{id}` when it looks like an identifier: a number, a
//! UUID, a hex id of 8+ digits, an e-mail address, a long token
//! (base64/base64url-ish, 16+ chars with a digit, or 32+ chars), or a slug that
//! ends in a long number (`blue-widget-12345`). A short extension is kept
//! (`/users/42.json` -> `/users/{id}.json`).
//!
//! Everything is computed in one pass over the path bytes with streaming
//! hashes, without allocating; [`write_template`] renders the template as text
//! for events and tests.

use super::hash::{hash_bytes, Fnv};

/// What the detectors keep of one request's endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Endpoint {
    /// Hash of method + normalised template; never 0.
    pub template: u32,
    /// Hash of method + the concrete path (ids included): one resource.
    pub resource: u32,
    /// The last identifier segment of the path, if any.
    pub object: Option<ObjectId>,
    /// Number of non-empty path segments.
    pub depth: u8,
    /// A static asset (stylesheet, script, image, font, media).
    pub asset: bool,
}

/// One object identifier found in a path (for enumeration/BOLA).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectId {
    /// Hash of the identifier text; never 0.
    pub hash: u32,
    /// Its value when the identifier is a plain decimal number.
    pub number: Option<u64>,
}

/// The asset extensions, as [`is_asset_extension`] matches them (a test
/// keeps the two in step).
#[cfg(test)]
const ASSET_EXTENSIONS: &[&[u8]] = &[
    b"css", b"js", b"mjs", b"map", b"png", b"jpg", b"jpeg", b"gif", b"svg", b"webp", b"avif",
    b"ico", b"bmp", b"woff", b"woff2", b"ttf", b"otf", b"eot", b"mp4", b"webm", b"mp3", b"ogg",
];

/// An identifier segment: `{id}` (and its extension) into the template hash,
/// the identifier itself as the request's object.
#[inline(always)]
fn identifier_segment(template: &mut Fnv, id: &[u8], ext: &[u8]) -> ObjectId {
    template.bytes(b"{id}");
    if !ext.is_empty() {
        template.byte(b'.');
        template.bytes(ext);
    }
    ObjectId {
        hash: hash_bytes(id),
        number: parse_number(id),
    }
}

/// Normalises one request's endpoint.
///
/// One pass over the path: each byte is looked up once in [`CLASS`] and
/// folded into the segment's identifier figures (for the whole segment and,
/// at its last dot, for the stem before an extension) and the resource hash;
/// only a segment that is not an identifier is read a second time, into the
/// template hash. Same result as `identifier` applied to every segment.
pub fn normalise(method: &[u8], path: &[u8]) -> Endpoint {
    let mut template = Fnv::new();
    template.bytes(method);
    template.byte(b' ');
    let mut resource = template;
    let mut object = None;
    let mut depth = 0u8;
    let mut asset = false;
    let mut start = 0usize;
    while start < path.len() {
        // Skip slashes: repeated and trailing ones make no new endpoint.
        if path[start] == b'/' {
            start += 1;
            continue;
        }
        let seg_and_rest = &path[start..];
        resource.byte(b'/');
        if let Some(len) = plain_name(seg_and_rest, &mut template, &mut resource) {
            // The common case (`api`, `products`): a name, hashed into both
            // hashes in the pass that found it is one.
            start += len;
            depth = depth.saturating_add(1);
            if start >= path.len() || path[start..].iter().all(|&b| b == b'/') {
                asset = false;
            }
            continue;
        }
        if let Some((len, digits)) = number(seg_and_rest) {
            // The common identifier (`42`, `42.json`): the rules' answer is
            // known from its shape.
            let seg = &seg_and_rest[..len];
            resource.bytes(seg);
            let (id, ext) = (&seg[..digits], seg.get(digits + 1..).unwrap_or_default());
            template.byte(b'/');
            object = Some(identifier_segment(&mut template, id, ext));
            start += len;
            depth = depth.saturating_add(1);
            if start >= path.len() || path[start..].iter().all(|&b| b == b'/') {
                asset = !ext.is_empty() && is_asset_extension(ext);
            }
            continue;
        }
        let shape = Shape::of(seg_and_rest, &mut resource);
        let seg = &seg_and_rest[..shape.len];
        start += shape.len;
        depth = depth.saturating_add(1);
        template.byte(b'/');
        match shape.identifier(seg) {
            Some((id, ext)) => object = Some(identifier_segment(&mut template, id, ext)),
            None => template.bytes(seg),
        }
        if start >= path.len() || path[start..].iter().all(|&b| b == b'/') {
            // The last segment.
            asset = shape.ext_ok() && is_asset_extension(&seg[shape.ext_start()..]);
        }
    }
    Endpoint {
        template: template.finish(),
        resource: resource.finish(),
        object,
        depth,
        asset,
    }
}

/// The length of the segment at the start of `bytes` (up to the next `/`)
/// when it can only be a name: no dot or `@`, shorter than the 32 bytes of
/// the longest-token rule, and either no digit or (`v1`, `2fa`, `mp3`)
/// shorter than 8 bytes, not all digits, with fewer than 4 digits at the
/// end. Every identifier rule then fails: a number needs all digits, a hex
/// id 8 bytes or more, a token with a digit 16, a slug 4 trailing digits, a
/// UUID 36 bytes, an e-mail an `@`; and without a dot there is no
/// extension, so it is not an asset either. The name (after a `/`) is then
/// hashed into `template` and `resource` (which has its `/` already), in
/// the same pass. `None`: the segment needs the full rules (a segment that
/// starts with a digit is sent there at once: most are numbers), and
/// neither hash changed.
#[inline]
fn plain_name(bytes: &[u8], template: &mut Fnv, resource: &mut Fnv) -> Option<usize> {
    let (mut t, mut r) = (*template, *resource);
    t.byte(b'/');
    let mut len = bytes.len();
    let (mut digits, mut trailing) = (0usize, 0usize);
    for (i, &b) in bytes.iter().take(32).enumerate() {
        let c = CLASS[usize::from(b)];
        if c & (DIGIT | SPECIAL) != 0 {
            if c & SPECIAL != 0 {
                if b != b'/' {
                    return None;
                }
                len = i;
                break;
            }
            if i == 0 {
                return None;
            }
            digits += 1;
            trailing += 1;
        } else {
            trailing = 0;
        }
        t.byte(b);
        r.byte(b);
    }
    if len >= 32 || (digits > 0 && (len >= 8 || trailing >= 4)) {
        return None;
    }
    (*template, *resource) = (t, r);
    Some(len)
}

/// The segment at the start of `bytes` when it is decimal digits, alone or
/// with one dot and an extension of one to five letters and digits, not all
/// digits (`42`, `42.json`): its length and the number of digits. All
/// digits is an identifier whole; with such an extension the segment has a
/// dot, so no rule takes it whole (a dot is neither hex nor a token byte,
/// nor in a UUID, and there is no `@`), and its stem is all digits. `None`:
/// the segment needs the full rules.
#[inline]
fn number(bytes: &[u8]) -> Option<(usize, usize)> {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    match bytes.get(digits) {
        None | Some(b'/') => return Some((digits, digits)),
        Some(b'.') => {}
        Some(_) => return None,
    }
    let ext = &bytes[digits + 1..];
    let n = ext.iter().take(6).take_while(|&&b| b != b'/').count();
    let ext = &ext[..n];
    let ok = (1..=5).contains(&n)
        && ext.iter().all(u8::is_ascii_alphanumeric)
        && !ext.iter().all(u8::is_ascii_digit);
    ok.then_some((digits + 1 + n, digits))
}

/// Byte classes for the identifier rules (see [`is_identifier`]).
const DIGIT: u8 = 1;
const HEX: u8 = 2;
const TOKEN: u8 = 4;
const ALNUM: u8 = 8;
/// `@`, `.` and `/`: the bytes the scan looks at one by one.
const SPECIAL: u8 = 16;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        let mut k = 0;
        if c.is_ascii_digit() {
            k |= DIGIT;
        }
        if c.is_ascii_hexdigit() {
            k |= HEX;
        }
        if c.is_ascii_alphanumeric() {
            k |= ALNUM | TOKEN;
        }
        if matches!(c, b'-' | b'_' | b'~' | b'=' | b'+') {
            k |= TOKEN;
        }
        if matches!(c, b'@' | b'.' | b'/') {
            k |= SPECIAL;
        }
        t[b] = k;
        b += 1;
    }
    t
};

/// What the identifier rules need of a byte string, gathered in one pass.
#[derive(Clone, Copy, Default)]
struct Figures {
    len: usize,
    digits: usize,
    /// AND of the bytes' classes: `HEX`, `TOKEN` and `ALNUM` of every byte.
    all: u8,
    /// Digits at the end.
    trailing: usize,
    /// Position of the first `@`.
    at: Option<usize>,
    dot_after_at: bool,
}

impl Figures {
    fn is_identifier(&self, bytes: &[u8]) -> bool {
        let len = self.len;
        if len == 0 {
            return false;
        }
        let (hex, token) = (self.all & HEX != 0, self.all & TOKEN != 0);
        self.digits == len
            || (len == 36 && is_uuid(bytes))
            || (self.at.is_some_and(|p| p > 0) && self.dot_after_at)
            || (len >= 8 && hex && self.digits > 0)
            || (token && (len >= 32 || (len >= 16 && self.digits > 0)))
            || (token && self.trailing >= 4)
    }
}

/// One segment's figures: of the whole segment, and of its stem before the
/// last dot (with what follows that dot), for `42.json`.
struct Shape {
    len: usize,
    whole: Figures,
    /// The figures of the stem when the segment has a dot (not at 0).
    stem: Option<Figures>,
    /// The extension after the last dot is short, alphanumeric and not all
    /// digits (meaningful with `stem` only).
    ext_ok: bool,
    ext_len: usize,
}

impl Shape {
    /// Reads one segment from the start of `bytes` (up to the next `/`),
    /// hashing it into `resource` on the way.
    #[inline]
    fn of(bytes: &[u8], resource: &mut Fnv) -> Shape {
        let mut f = Figures {
            all: 0xff,
            ..Figures::default()
        };
        let mut stem = None;
        let mut last_dot = None;
        let mut len = bytes.len();
        for (i, &b) in bytes.iter().enumerate() {
            let c = CLASS[usize::from(b)];
            if c & SPECIAL != 0 {
                match b {
                    b'/' => {
                        len = i;
                        break;
                    }
                    b'.' => {
                        // The stem's figures: everything before this dot.
                        if i > 0 {
                            stem = Some(Figures { len: i, ..f });
                        }
                        last_dot = Some(i);
                        if f.at.is_some() {
                            f.dot_after_at = true;
                        }
                    }
                    _ => {
                        if f.at.is_none() {
                            f.at = Some(i);
                        }
                    }
                }
            }
            resource.byte(b);
            f.all &= c;
            let digit = usize::from(c & DIGIT);
            f.digits += digit;
            f.trailing = (f.trailing + 1) * digit;
        }
        f.len = len;
        let seg = &bytes[..len];
        let ext = last_dot.map_or(&[][..], |d| &seg[d + 1..]);
        let ext_ok = (1..=5).contains(&ext.len()) && {
            let all = ext.iter().fold(0xff, |a, &b| a & CLASS[usize::from(b)]);
            all & ALNUM != 0 && all & DIGIT == 0
        };
        Shape {
            len,
            whole: f,
            stem,
            ext_ok,
            ext_len: ext.len(),
        }
    }

    /// The segment has a stem and a short alphanumeric, not all-digit
    /// extension.
    fn ext_ok(&self) -> bool {
        self.stem.is_some() && self.ext_ok
    }

    fn ext_start(&self) -> usize {
        self.len - self.ext_len
    }

    /// As [`identifier`].
    fn identifier<'a>(&self, seg: &'a [u8]) -> Option<(&'a [u8], &'a [u8])> {
        if self.whole.is_identifier(seg) {
            return Some((seg, &[]));
        }
        let stem = self.stem.filter(|_| self.ext_ok())?;
        let (s, ext) = (&seg[..stem.len], &seg[self.ext_start()..]);
        stem.is_identifier(s).then_some((s, ext))
    }
}

/// Whether `ext` (at most 5 bytes, see `Shape::ext_ok`) is a static asset's
/// extension (stylesheet, script, image, font, media), in any case. The
/// extension, lowercased, is packed into one word and compared with the
/// packed names: a few comparisons instead of a byte compare per name.
fn is_asset_extension(ext: &[u8]) -> bool {
    if ext.len() > 5 {
        return false;
    }
    // The length above the five bytes: `css` is not `css` and a NUL.
    let mut word = (ext.len() as u64) << 40;
    for (i, b) in ext.iter().enumerate() {
        word |= u64::from(b.to_ascii_lowercase()) << (8 * i);
    }
    matches!(
        word,
        CSS | JS
            | MJS
            | MAP
            | PNG
            | JPG
            | JPEG
            | GIF
            | SVG
            | WEBP
            | AVIF
            | ICO
            | BMP
            | WOFF
            | WOFF2
            | TTF
            | OTF
            | EOT
            | MP4
            | WEBM
            | MP3
            | OGG
    )
}

/// An extension packed as [`is_asset_extension`] packs it.
const fn packed(ext: &[u8]) -> u64 {
    let (mut word, mut i) = ((ext.len() as u64) << 40, 0);
    while i < ext.len() {
        word |= (ext[i] as u64) << (8 * i);
        i += 1;
    }
    word
}

const CSS: u64 = packed(b"css");
const JS: u64 = packed(b"js");
const MJS: u64 = packed(b"mjs");
const MAP: u64 = packed(b"map");
const PNG: u64 = packed(b"png");
const JPG: u64 = packed(b"jpg");
const JPEG: u64 = packed(b"jpeg");
const GIF: u64 = packed(b"gif");
const SVG: u64 = packed(b"svg");
const WEBP: u64 = packed(b"webp");
const AVIF: u64 = packed(b"avif");
const ICO: u64 = packed(b"ico");
const BMP: u64 = packed(b"bmp");
const WOFF: u64 = packed(b"woff");
const WOFF2: u64 = packed(b"woff2");
const TTF: u64 = packed(b"ttf");
const OTF: u64 = packed(b"otf");
const EOT: u64 = packed(b"eot");
const MP4: u64 = packed(b"mp4");
const WEBM: u64 = packed(b"webm");
const MP3: u64 = packed(b"mp3");
const OGG: u64 = packed(b"ogg");

/// Sets of [`Recent`] (a power of two), each of [`RECENT_WAYS`] slots.
const RECENT_SETS: usize = 1024;
const RECENT_WAYS: usize = 2;
/// Longer paths are not remembered (most API and page paths are shorter).
const RECENT_PATH: usize = 64;

/// A memo of the endpoints of recent paths, for one worker.
///
/// [`normalise`] and the profile's sensitive-endpoint match are pure
/// functions of the method, the path and the profile, and cost about a
/// thousand instructions a request together; a site's traffic repeats its
/// paths (pages, assets, API collections, popular objects). This table
/// (1024 sets of two slots, about 300 KiB in the worker's static memory,
/// filled in place, never allocated) answers a path seen recently with one
/// hash of it (FxHash) and a comparison of the bytes: the whole key is kept and
/// compared, so a crafted hash collision only costs a miss, never another
/// path's answer. Two ways per set, the least recently used one replaced:
/// a direct-mapped table of the same size lets two busy paths that share a
/// slot evict each other on every request (on the benchmark's mix of about
/// a thousand paths, 21 % of lookups missed that way with 1024 slots). A
/// path longer than 64 bytes or a method longer than 7 is computed each
/// time. `context` names what else the answer depends on (the profile and
/// its generation): another context is a miss.
pub struct Recent<V: Copy> {
    sets: [[Slot<V>; RECENT_WAYS]; RECENT_SETS],
    /// The way of each set used last (the other one is replaced).
    last: [u8; RECENT_SETS],
}

#[derive(Clone, Copy)]
struct Slot<V: Copy> {
    hash: u64,
    context: (usize, u64),
    /// The method packed with its length (see [`method_word`]); 0: empty.
    method: u64,
    len: u8,
    path: [u8; RECENT_PATH],
    value: Option<V>,
}

impl<V: Copy> Slot<V> {
    const EMPTY: Slot<V> = Slot {
        hash: 0,
        context: (0, 0),
        method: 0,
        len: 0,
        path: [0; RECENT_PATH],
        value: None,
    };

    #[inline]
    fn answers(&self, hash: u64, word: u64, context: (usize, u64), path: &[u8]) -> Option<V> {
        if self.hash == hash
            && self.method == word
            && self.context == context
            && usize::from(self.len) == path.len()
            && super::hash::same_bytes(&self.path[..path.len()], path)
        {
            return self.value;
        }
        None
    }
}

/// The method's bytes and length in one word; `None` beyond 7 bytes.
fn method_word(method: &[u8]) -> Option<u64> {
    if method.len() > 7 {
        return None;
    }
    let mut word = (method.len() as u64 + 1) << 56;
    for (i, &b) in method.iter().enumerate() {
        word |= u64::from(b) << (8 * i);
    }
    Some(word)
}

impl<V: Copy> Recent<V> {
    pub const fn new() -> Recent<V> {
        Recent {
            sets: [[Slot::EMPTY; RECENT_WAYS]; RECENT_SETS],
            last: [0; RECENT_SETS],
        }
    }

    /// The remembered value for `(context, method, path)`, or `compute()`'s,
    /// remembered.
    pub fn get_or(
        &mut self,
        context: (usize, u64),
        method: &[u8],
        path: &[u8],
        compute: impl FnOnce() -> V,
    ) -> V {
        let Some(word) = method_word(method).filter(|_| path.len() <= RECENT_PATH) else {
            return compute();
        };
        let hash = Self::hash(context, word, path);
        let i = hash as usize & (RECENT_SETS - 1);
        let set = &mut self.sets[i];
        for (way, slot) in set.iter().enumerate() {
            if let Some(v) = slot.answers(hash, word, context, path) {
                self.last[i] = way as u8;
                return v;
            }
        }
        let v = compute();
        let way = usize::from(self.last[i] == 0);
        let slot = &mut set[way];
        slot.hash = hash;
        slot.method = word;
        slot.context = context;
        slot.len = path.len() as u8;
        slot.path[..path.len()].copy_from_slice(path);
        slot.value = Some(v);
        self.last[i] = way as u8;
        v
    }

    /// Where a key lives (its low bits pick the set). The whole key is
    /// kept and compared, so the hash needs no strength, only spread:
    /// rustc-hash's `FxHasher` (about 40 instructions fewer a lookup than
    /// XXH3 on a 30-byte path), seeded by the context, whose profile
    /// address differs from process to process.
    fn hash(context: (usize, u64), word: u64, path: &[u8]) -> u64 {
        use std::hash::Hasher;
        let seed = word
            ^ (context.0 as u64).rotate_left(29)
            ^ context.1.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut h = rustc_hash::FxHasher::with_seed(seed as usize);
        h.write(path);
        h.finish()
    }
}

impl<V: Copy> Default for Recent<V> {
    fn default() -> Self {
        Recent::new()
    }
}

/// Renders the template of `path` (for events, debugging and tests).
pub fn write_template(path: &[u8], out: &mut String) {
    let mut any = false;
    for seg in segments(path) {
        any = true;
        out.push('/');
        if let Some((_, ext)) = identifier(seg) {
            out.push_str("{id}");
            if !ext.is_empty() {
                out.push('.');
                out.push_str(&String::from_utf8_lossy(ext));
            }
        } else {
            out.push_str(&String::from_utf8_lossy(seg));
        }
    }
    if !any {
        out.push('/');
    }
}

/// Non-empty segments: repeated and trailing slashes do not make new endpoints.
pub fn segments(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(|&b| b == b'/').filter(|s| !s.is_empty())
}

/// The identifier in a segment and the extension after it, if the segment
/// is one (`42`, `42.json`, `alice@example.com`).
fn identifier(seg: &[u8]) -> Option<(&[u8], &[u8])> {
    if is_identifier(seg) {
        return Some((seg, &[]));
    }
    let (stem, ext) = split_extension(seg);
    (!ext.is_empty() && is_identifier(stem)).then_some((stem, ext))
}

/// A short alphanumeric extension is split off (`42.json`); a numeric one
/// (`1.2.3`) stays part of the stem.
fn split_extension(seg: &[u8]) -> (&[u8], &[u8]) {
    match seg.iter().rposition(|&b| b == b'.') {
        Some(dot) if dot > 0 => {
            let (stem, ext) = (&seg[..dot], &seg[dot + 1..]);
            let ext_ok = (1..=5).contains(&ext.len()) && ext.iter().all(u8::is_ascii_alphanumeric);
            if ext_ok && !ext.iter().all(u8::is_ascii_digit) {
                (stem, ext)
            } else {
                (seg, &[])
            }
        }
        _ => (seg, &[]),
    }
}

/// Whether a path segment is an object identifier rather than a fixed name.
pub fn is_identifier(seg: &[u8]) -> bool {
    // One pass gathers what every rule below needs (this runs for every
    // segment of every request).
    let (mut digits, mut hex, mut token, mut trailing) = (0usize, true, true, 0usize);
    let (mut at, mut dot_after_at) = (None, false);
    for (i, &b) in seg.iter().enumerate() {
        if b.is_ascii_digit() {
            digits += 1;
            trailing += 1;
            continue;
        }
        trailing = 0;
        hex &= b.is_ascii_hexdigit();
        token &= b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'~' | b'=' | b'+');
        match b {
            b'@' if at.is_none() => at = Some(i),
            b'.' if at.is_some() => dot_after_at = true,
            _ => {}
        }
    }
    let len = seg.len();
    if len == 0 {
        return false;
    }
    digits == len
        || (len == 36 && is_uuid(seg))
        || (at.is_some_and(|p| p > 0) && dot_after_at)
        || (len >= 8 && hex && digits > 0)
        || (token && (len >= 32 || (len >= 16 && digits > 0)))
        // Slugs and prefixed ids: `blue-widget-12345`, `ord_98765`.
        || (token && trailing >= 4)
}

fn is_uuid(seg: &[u8]) -> bool {
    seg.len() == 36
        && seg.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

fn parse_number(seg: &[u8]) -> Option<u64> {
    if seg.is_empty() || seg.len() > 19 || !seg.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(seg.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(path: &str) -> String {
        let mut s = String::new();
        write_template(path.as_bytes(), &mut s);
        s
    }

    #[test]
    fn identifiers_become_id() {
        assert_eq!(template("/users/42/orders"), "/users/{id}/orders");
        assert_eq!(
            template("/o/123e4567-e89b-12d3-a456-426614174000"),
            "/o/{id}"
        );
        assert_eq!(template("/objs/507f1f77bcf86cd799439011"), "/objs/{id}");
        assert_eq!(template("/u/alice@example.com/x"), "/u/{id}/x");
        assert_eq!(template("/t/eyJhbGciOiJIUzI1NiJ9abc"), "/t/{id}");
        assert_eq!(template("/p/blue-widget-12345"), "/p/{id}");
        assert_eq!(template("/users/42.json"), "/users/{id}.json");
    }

    #[test]
    fn names_stay() {
        assert_eq!(template("/api/v1/users/"), "/api/v1/users");
        assert_eq!(template("//api//login"), "/api/login");
        assert_eq!(template("/"), "/");
        assert_eq!(template("/static/app.css"), "/static/app.css");
        assert_eq!(template("/deadbeef"), "/deadbeef"); // no digit: a word, not an id
        assert_eq!(template("/2fa/setup"), "/2fa/setup");
        assert_eq!(template("/v1.2.3/x"), "/v1.2.3/x");
    }

    #[test]
    fn hashes_follow_templates() {
        let a = normalise(b"GET", b"/users/42/orders");
        let b = normalise(b"GET", b"/users/43/orders/");
        let c = normalise(b"POST", b"/users/42/orders");
        assert_eq!(a.template, b.template);
        assert_ne!(a.resource, b.resource);
        assert_ne!(a.template, c.template);
        assert_eq!(a.object.and_then(|o| o.number), Some(42));
        assert_eq!(a.depth, 3);
        assert!(!a.asset);
    }

    #[test]
    fn the_asset_match_is_the_list() {
        for e in ASSET_EXTENSIONS {
            assert!(is_asset_extension(e));
            assert!(is_asset_extension(&e.to_ascii_uppercase()));
        }
        for e in [
            &b"json"[..],
            b"html",
            b"jsx",
            b"c",
            b"",
            b"woff22",
            b"cs",
            b"css\0",
            b"\0css",
            b"woff\0",
            b"mp",
        ] {
            assert!(!is_asset_extension(e));
        }
    }

    #[test]
    fn assets() {
        assert!(normalise(b"GET", b"/s/app.min.JS").asset);
        assert!(normalise(b"GET", b"/fonts/x.woff2").asset);
        assert!(!normalise(b"GET", b"/api/items.json").asset);
        assert!(!normalise(b"GET", b"/css").asset);
    }

    /// The straightforward normaliser (one `split`, `identifier` per
    /// segment, two hashes), kept as the specification of the fast one.
    fn reference(method: &[u8], path: &[u8]) -> Endpoint {
        let mut template = Fnv::new();
        let mut resource = Fnv::new();
        template.bytes(method);
        resource.bytes(method);
        template.byte(b' ');
        resource.byte(b' ');
        let (mut object, mut depth, mut last) = (None, 0u8, &[][..]);
        for seg in segments(path) {
            depth = depth.saturating_add(1);
            last = seg;
            template.byte(b'/');
            resource.byte(b'/');
            resource.bytes(seg);
            if let Some((id, ext)) = identifier(seg) {
                template.bytes(b"{id}");
                if !ext.is_empty() {
                    template.byte(b'.');
                    template.bytes(ext);
                }
                object = Some(ObjectId {
                    hash: hash_bytes(id),
                    number: parse_number(id),
                });
            } else {
                template.bytes(seg);
            }
        }
        let (_, ext) = split_extension(last);
        Endpoint {
            template: template.finish(),
            resource: resource.finish(),
            object,
            depth,
            asset: !ext.is_empty() && ASSET_EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext)),
        }
    }

    #[test]
    fn same_as_the_reference() {
        let fixed: &[&[u8]] = &[
            b"",
            b"/",
            b"//",
            b"/users/42/orders",
            b"/users/42.json",
            b"/s/app.min.JS",
            b"/o/123e4567-e89b-12d3-a456-426614174000",
            b"/o/123e4567-e89b-12d3-a456-426614174000.png",
            b"/u/alice@example.com/x",
            b"/u/@a.b",
            b"/u/a@b",
            b"/u/a@.b",
            b"/x/.json",
            b"/x/a.",
            b"/x/..",
            b"/v1.2.3/x",
            b"/p/blue-widget-12345",
            b"/p/ord_98765.css",
            b"/t/eyJhbGciOiJIUzI1NiJ9abc",
            b"/deadbeef",
            b"/deadbeef1",
            b"/a/b/c/d/e/f/g",
            b"/x/12345678901234567890",
            b"/x/1.23456",
            b"/x/1234.JSON",
            b"/x/a@b.c@d.e",
            b"/x/abc.de.fgh",
            b"/api/v1/products/123.json",
            b"/x/123.",
            b"/x/123./y",
            b"/x/123.abcde",
            b"/x/123.abcdef",
            b"/x/123.12",
            b"/x/0.css/",
            b"/x/7.a/b",
            b"/x/12.3a.b",
            b"/abcdefghijklmnopqrstuvwxyzabcdef/x",
            b"/abcdefghijklmnopqrstuvwxyzabcde",
            b"/api/v1/x",
            b"/v2",
            b"/a1",
            b"/ab1234",
            b"/abc123",
            b"/x12345/y",
            b"/a1b2c3d",
            b"/a1b2c3d4",
            b"/a1b2c3d4/x",
            b"/1a",
            b"/2fa/mp3",
            b"/-1234",
            b"/%1234",
            b"\xff/\xfe",
        ];
        for p in fixed {
            assert_eq!(
                normalise(b"GET", p),
                reference(b"GET", p),
                "{:?}",
                String::from_utf8_lossy(p)
            );
        }
        // Random paths over the bytes the rules look at.
        const ALPHABET: &[u8] = b"/./.@09a1f2z8Z-_~=+%x\xff5555";
        let mut seed_rng = crate::testing::XorShift64::new(0x2545_f491_4f6c_dd1d);
        let mut next = || seed_rng.next_u64();
        let mut path = Vec::new();
        for _ in 0..200_000 {
            path.clear();
            let len = (next() % 48) as usize;
            for _ in 0..len {
                path.push(ALPHABET[(next() % ALPHABET.len() as u64) as usize]);
            }
            if next() % 8 == 0 {
                // A UUID-shaped segment, sometimes with an extension.
                path.extend_from_slice(b"/123e4567-e89b-12d3-a456-42661417400");
                path.push(ALPHABET[(next() % ALPHABET.len() as u64) as usize]);
                if next() % 2 == 0 {
                    path.extend_from_slice(b".js");
                }
            }
            assert_eq!(
                normalise(b"POST", &path),
                reference(b"POST", &path),
                "{:?}",
                String::from_utf8_lossy(&path)
            );
        }
        // Names (the fast path) around the 32-byte token rule: letters and
        // token punctuation, now and then a digit, dot or `@`.
        const NAMES: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_~=+%\xff";
        for _ in 0..100_000 {
            path.clear();
            for _ in 0..1 + next() % 3 {
                path.extend_from_slice(b"/");
                let len = match next() % 3 {
                    0 => 28 + (next() % 8) as usize,
                    _ => (next() % 12) as usize,
                };
                for _ in 0..len {
                    let b = match next() % 40 {
                        0 => b'7',
                        1 => b'.',
                        2 => b'@',
                        _ => NAMES[(next() % NAMES.len() as u64) as usize],
                    };
                    path.push(b);
                }
            }
            assert_eq!(
                normalise(b"GET", &path),
                reference(b"GET", &path),
                "{:?}",
                String::from_utf8_lossy(&path)
            );
        }
        for len in 30..=34 {
            let p = [b"/".as_slice(), &vec![b'q'; len], b"/x.css"].concat();
            assert_eq!(normalise(b"GET", &p), reference(b"GET", &p), "{len}");
        }
    }

    #[test]
    fn recent_paths_are_answered_as_computed() {
        let mut recent = Recent::new();
        let paths: &[&[u8]] = &[
            b"/api/v1/products/123.json",
            b"/api/v1/products/124.json",
            b"/",
            b"",
            b"/static/app.js",
            &[b'a'; 64],
            &[b'a'; 65],
        ];
        for round in 0..3 {
            for p in paths {
                for m in [&b"GET"[..], b"POST", b"PROPFIND", b""] {
                    for ctx in [(1, 1), (1, 2), (2, 1)] {
                        // Asked twice in a row: computed once when it can
                        // be remembered (at most once in later rounds),
                        // twice when not.
                        let mut calls = 0;
                        for _ in 0..2 {
                            let got = recent.get_or(ctx, m, p, || {
                                calls += 1;
                                normalise(m, p)
                            });
                            assert_eq!(got, normalise(m, p), "{round}");
                        }
                        let kept = p.len() <= 64 && m.len() <= 7;
                        match (kept, round) {
                            (false, _) => assert_eq!(calls, 2),
                            (true, 0) => assert_eq!(calls, 1),
                            (true, _) => assert!(calls <= 1),
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn recent_keeps_the_whole_key() {
        // Paths that share a slot replace each other; a path is never
        // answered with another's value, whatever the slot holds.
        let mut recent: Recent<u32> = Recent::new();
        let mut seed = 7u64;
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let n = (seed >> 40) % 3000;
            let path = format!("/p/{n}");
            let got = recent.get_or((0, 0), b"GET", path.as_bytes(), || n as u32);
            assert_eq!(got, n as u32);
        }
    }

    #[test]
    fn recent_keeps_two_paths_of_one_set() {
        // Two busy paths whose hashes choose the same set both stay: asked
        // in turn, each is computed once.
        let word = method_word(b"GET").unwrap();
        let set =
            |p: &str| Recent::<u32>::hash((0, 0), word, p.as_bytes()) as usize & (RECENT_SETS - 1);
        let a = "/p/0".to_string();
        let b = (1..)
            .map(|n| format!("/p/{n}"))
            .find(|p| set(p) == set(&a))
            .unwrap();
        let c = (1..)
            .map(|n| format!("/q/{n}"))
            .find(|p| set(p) == set(&a))
            .unwrap();
        let mut recent: Recent<u32> = Recent::new();
        let mut calls = 0;
        for _ in 0..10 {
            for (p, v) in [(&a, 1), (&b, 2)] {
                let got = recent.get_or((0, 0), b"GET", p.as_bytes(), || {
                    calls += 1;
                    v
                });
                assert_eq!(got, v);
            }
        }
        assert_eq!(calls, 2);
        // A third path replaces the one used least recently (`a`), and
        // `b` is still answered without computing.
        assert_eq!(recent.get_or((0, 0), b"GET", c.as_bytes(), || 3), 3);
        assert_eq!(recent.get_or((0, 0), b"GET", b.as_bytes(), || 0), 2);
        assert_eq!(recent.get_or((0, 0), b"GET", a.as_bytes(), || 9), 9);
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let long = vec![b'9'; 5000];
        let e = normalise(b"GET", &long);
        assert_eq!(e.object.and_then(|o| o.number), None);
        let _ = normalise(b"", b"/\xff\xfe/.../@/.");
        let _ = normalise(b"GET", b"/.x/x./@a.");
    }
}
