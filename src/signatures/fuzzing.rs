//! Entry points for the fuzz targets in `fuzz/` (cargo feature `fuzzing`):
//! the field parsers, the normaliser and each class scanner are private to
//! the signatures module, and a fuzzer needs to reach them one by one. Not
//! an API; nothing in the module uses it.

pub use super::fields::BASE64_SPAN;
use super::fields::{self, Kind, Visitor};
use super::inject::{self, CrlfMode};
use super::normalize::{normalize, Encoding, WINDOW};
use super::{probe, rce, sqli, traversal, xss};

/// The body and header parsers, by number: 0 query/form, 1 cookies, 2 JSON,
/// 3 multipart (with `content_type`), 4 XML text, 5 raw text.
pub const PARSERS: u8 = 6;

/// Marks the kind number of a field that is text decoded from base64 (in
/// the parser's buffer, not a view of the input): `kind | DECODED`.
pub const DECODED: u8 = 0x80;

/// Sees one field: (kind number, raw bytes, plus-is-space, JSON string);
/// returns false to stop.
pub type FieldFn<'f> = dyn FnMut(u8, &[u8], bool, bool) -> bool + 'f;

/// Runs parser `which` over `s`; `field` sees each field as (kind number,
/// raw bytes, plus-is-space, JSON string) and returns false to stop.
pub fn parse_fields(which: u8, s: &[u8], content_type: &[u8], field: &mut FieldFn<'_>) -> bool {
    struct F<'f, 'g>(&'f mut FieldFn<'g>);
    impl Visitor for F<'_, '_> {
        fn field(&mut self, kind: Kind, raw: &[u8], enc: Encoding) -> bool {
            (self.0)(kind as u8, raw, enc.plus_is_space, enc.json)
        }
        fn decoded(&mut self, kind: Kind, text: &[u8]) -> bool {
            (self.0)(kind as u8 | DECODED, text, false, false)
        }
    }
    let mut v = F(field);
    match which % PARSERS {
        0 => fields::urlencoded(s, &mut v),
        1 => fields::cookies(s, &mut v),
        2 => fields::json(s, &mut v),
        3 => fields::multipart(s, content_type, &mut v),
        4 => fields::xml_text(s, &mut v),
        _ => fields::raw_text(s, &mut v),
    }
}

/// The normalised text of one window of `raw` and its trigger bits.
pub fn normalize_field(raw: &[u8], plus_is_space: bool, json: bool) -> (Vec<u8>, u32) {
    let mut buf = [0u8; WINDOW];
    let n = normalize(
        raw,
        Encoding {
            plus_is_space,
            json,
        },
        &mut buf,
    );
    (n.text.to_vec(), n.triggers)
}

/// Class scanners, by number, in the order of `AttackClass::ALL` except
/// that traversal and CRLF come in their variants: 0 sqli, 1 xss, 2 rce,
/// 3 traversal (field), 4 traversal (path), 5 SSRF, 6 SSTI, 7 XXE, 8 LDAP,
/// 9 NoSQL, 10-12 CRLF (strict, value, body), 13 scanner probe (path).
pub const SCANNERS: u8 = 14;

/// Normalises one window of `raw` and runs scanner `which` on it.
pub fn scan(which: u8, raw: &[u8], plus_is_space: bool, json: bool) -> bool {
    let mut buf = [0u8; WINDOW];
    let n = normalize(
        raw,
        Encoding {
            plus_is_space,
            json,
        },
        &mut buf,
    );
    match which % SCANNERS {
        0 => sqli::detect(&n),
        1 => xss::detect(&n),
        2 => rce::detect(&n),
        3 => traversal::traversal(&n, false),
        4 => traversal::traversal(&n, true),
        5 => traversal::ssrf(&n),
        6 => inject::ssti(&n),
        7 => inject::xxe(&n),
        8 => inject::ldap(&n),
        9 => inject::nosql(&n),
        10 => inject::crlf(&n, CrlfMode::Strict),
        11 => inject::crlf(&n, CrlfMode::Value),
        12 => inject::crlf(&n, CrlfMode::Body),
        _ => probe::probe(n.text),
    }
}

/// The window size the normaliser works in.
pub const fn window() -> usize {
    WINDOW
}
