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

const ASSET_EXTENSIONS: &[&[u8]] = &[
    b"css", b"js", b"mjs", b"map", b"png", b"jpg", b"jpeg", b"gif", b"svg", b"webp", b"avif",
    b"ico", b"bmp", b"woff", b"woff2", b"ttf", b"otf", b"eot", b"mp4", b"webm", b"mp3", b"ogg",
];

/// Normalises one request's endpoint.
pub fn normalise(method: &[u8], path: &[u8]) -> Endpoint {
    let mut template = Fnv::new();
    let mut resource = Fnv::new();
    template.bytes(method);
    resource.bytes(method);
    template.byte(b' ');
    resource.byte(b' ');
    let mut object = None;
    let mut depth = 0u8;
    let mut last_segment: &[u8] = &[];
    for seg in segments(path) {
        depth = depth.saturating_add(1);
        last_segment = seg;
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
    Endpoint {
        template: template.finish(),
        resource: resource.finish(),
        object,
        depth,
        asset: is_asset(last_segment),
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

fn is_asset(last_segment: &[u8]) -> bool {
    let (_, ext) = split_extension(last_segment);
    !ext.is_empty() && ASSET_EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext))
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
    fn assets() {
        assert!(normalise(b"GET", b"/s/app.min.JS").asset);
        assert!(normalise(b"GET", b"/fonts/x.woff2").asset);
        assert!(!normalise(b"GET", b"/api/items.json").asset);
        assert!(!normalise(b"GET", b"/css").asset);
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
