//! The fast path for clean fields: which classes could fire on a field,
//! read from its raw bytes before anything is normalised.
//!
//! Every detector is gated on trigger bits that normalisation records
//! ([`trig`]): SQL injection needs a space, quote, parenthesis, `;` or `@`
//! (or a number followed by an operator), markup needs `<`, `:`, `=`, a
//! quote or a parenthesis, a command needs a shell metacharacter, a slash or
//! a space, and so on. For a field that normalisation cannot rewrite (no
//! `%`, `&`, `\`, no control or non-ASCII byte, at most one window long) the
//! normalised text is the raw text lowercased, with whitespace collapsed and
//! comments stripped, so its trigger bits are a subset of what one table
//! lookup per raw byte finds here ([`facts`]). A class whose gate cannot
//! open on those bits is dropped before normalisation, and a field left
//! with no class is not normalised, hashed or scanned at all.
//!
//! Detections that are not gated on a trigger are accounted for too: the
//! command and traversal detectors also match bare words (base64 of
//! `<?php` and of `../`, `__proto__`, gadget class names, system file
//! names), so any letter keeps them, and dots keep traversal only as a
//! `..` step. What [`candidates`] keeps is thus always a superset of what
//! the scanners can find. `tests::sound_*` enforce that
//! against the real scanners (corpus attacks, fuzz seeds, their projections
//! onto the alphabets skipped here and seeded random strings): a detector
//! that starts firing on bytes this module treats as inert fails them.
//!
//! Separately, and as before this module existed, a plain token (letters,
//! digits, `-`, `_`, `,`, `~`: identifiers, numbers, UUIDs, sort keys, lists
//! of them) is never inspected: a lone word is not an attack whatever the
//! word is ([`plain_token`]). That is a policy, not a soundness claim: the
//! SQL detector on its own flags a bare `waitfor` value.

use super::normalize::{trig, Encoding, WINDOW};
use crate::model::AttackClass as A;

/// Extra facts above the trigger bits of [`trig`] (which use bits 0..=17).
pub mod fact {
    /// An ASCII letter.
    pub const LETTER: u32 = 1 << 24;
    /// A byte outside the plain-token alphabet `[A-Za-z0-9_,~-]`.
    pub const NOT_TOKEN: u32 = 1 << 25;
    /// A byte normalisation may rewrite: `%`, `&`, `\`, control, non-ASCII.
    pub const ESCAPE: u32 = 1 << 26;
    /// `+` (a space in query strings and forms).
    pub const PLUS: u32 = 1 << 27;
    /// A byte outside an address list's alphabet `[0-9A-Fa-f.:, ]`.
    pub const NOT_ADDRESS: u32 = 1 << 28;
    /// `~` or `!`: tilde and history expansion (`~+`, `~-1`, `!-2`).
    pub const TILDE_BANG: u32 = 1 << 29;
}

use fact::{ESCAPE, LETTER, NOT_ADDRESS, NOT_TOKEN, PLUS, TILDE_BANG};

/// Whether `c` may appear in an address list ([`address_list`]).
const fn address_byte(c: u8) -> bool {
    c.is_ascii_hexdigit() || matches!(c, b'.' | b':' | b',' | b' ')
}

/// Facts of each byte value: one load and one OR per byte.
const CLASS: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_alphabetic() {
            LETTER
        } else if c.is_ascii_digit() || c == b'_' || c == b',' {
            0
        } else if c == b'~' {
            TILDE_BANG
        } else if c == b'-' {
            trig::HASH_DASH
        } else {
            NOT_TOKEN
                | match c {
                    b'\'' | b'"' | b'`' => trig::QUOTE,
                    b'<' => trig::LT,
                    b'(' | b')' => trig::PAREN,
                    b';' => trig::SEMI,
                    b'|' => trig::PIPE_AMP,
                    b'$' => trig::DOLLAR,
                    b'{' | b'[' => trig::BRACE,
                    b'.' => trig::DOT,
                    b'/' => trig::SLASH,
                    b'=' => trig::EQ,
                    b':' => trig::COLON,
                    b'#' => trig::HASH_DASH,
                    b'*' => trig::STAR,
                    b'@' => trig::PERCENT_AT,
                    b' ' | b'\t' | 0x0b | 0x0c => trig::SPACE,
                    b'\r' | b'\n' => trig::NEWLINE,
                    b'+' => PLUS,
                    b'!' => TILDE_BANG,
                    // Decoded or dropped by normalisation: `&` also starts
                    // entities, `%` percent-escapes, `\` backslash escapes.
                    b'%' | b'&' | b'\\' => ESCAPE,
                    0..=0x1f | 0x7f..=0xff => ESCAPE,
                    _ => 0,
                }
        };
        if !address_byte(c) {
            t[b] |= NOT_ADDRESS;
        }
        b += 1;
    }
    t
};

/// The facts of a raw field: one table lookup per byte.
pub fn facts(raw: &[u8]) -> u32 {
    raw.iter().fold(0, |f, &b| f | CLASS[usize::from(b)])
}

/// The facts of one byte ([`facts`] of a field is their union).
#[inline]
pub fn byte_facts(b: u8) -> u32 {
    CLASS[usize::from(b)]
}

/// Letters, digits, `-`, `_`, `,`, `~` only (see the module header).
pub fn plain_token(f: u32) -> bool {
    f & NOT_TOKEN == 0
}

/// An address list as proxies and clients send them in headers
/// (`X-Forwarded-For: 203.0.113.7, 2001:db8::1`, `X-Real-IP`, ports
/// after a colon): hex digits, dots, colons, commas and spaces only, and no
/// `..` (a traversal step). No detector but SSRF's fires on a header value
/// made of these bytes: the only words they spell are hex words (`dead`,
/// `cafe`), and every other gate they open (a colon for markup and SQL
/// casts, a space for SQL, a dot for sink references) needs a letter,
/// quote or bracket outside the alphabet to become a match. SSRF does fire
/// (a metadata address, `169.254.169.254`), so it is kept where a header
/// is checked for it ([`ADDRESS_KEEPS`]). `tests::sound_*` hold the real
/// scanners to that (random lists, corpus projections, every header
/// kind). Such a value skips [`candidates`]' gate arithmetic (facts `f`).
/// One hex word is read by a scanner: a Java serialization stream written
/// in hex (`aced0005...` opening the value, `code::serialized_java`), so a
/// value that opens with it is no address list (found by the `body` fuzz
/// target's corpus through `tests::sound_on_corpus_and_fuzz_seeds`).
#[inline]
pub fn address_list(raw: &[u8], f: u32) -> bool {
    f & NOT_ADDRESS == 0 && !has_dot_dot(raw) && !hex_java_stream(raw)
}

/// Whether `raw` opens (after blanks) with the hex of a Java stream's
/// magic, `AC ED 00 05`, and is long enough to carry more of the stream.
#[inline]
fn hex_java_stream(raw: &[u8]) -> bool {
    let t = raw.trim_ascii_start();
    t.len() >= 16 && t[..8].eq_ignore_ascii_case(b"aced0005")
}

/// The classes an [`address_list`] header value keeps.
pub const ADDRESS_KEEPS: u16 = bit(A::RfiSsrf);

/// A superset of the trigger bits normalisation will record for `raw`,
/// with the [`fact`] bits; `None` when normalisation could rewrite it (an
/// escape byte, or longer than one window).
fn triggers(raw: &[u8], enc: Encoding, f: u32) -> Option<u32> {
    if f & ESCAPE != 0 || raw.len() > WINDOW {
        return None;
    }
    let mut f = f;
    if f & PLUS != 0 && enc.plus_is_space {
        f |= trig::SPACE;
    }
    // `/*...*/` becomes a space; a stripped comment (`/**/`, `<!---->`) can
    // leave a digit or `-` first.
    if f & trig::STAR != 0 && f & trig::SLASH != 0 {
        f |= trig::SPACE | trig::DIGIT_START;
    }
    if f & trig::LT != 0 {
        f |= trig::DIGIT_START;
    }
    let first = raw
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c));
    if first.is_some_and(|&b| b.is_ascii_digit() || b == b'-') {
        f |= trig::DIGIT_START;
    }
    Some(f)
}

const fn bit(c: A) -> u16 {
    1 << c as u16
}

/// Trigger bits that open at least one gate of each class's detector.
const GATES: [(A, u32); 10] = [
    (
        A::Xss,
        trig::LT | trig::COLON | trig::EQ | trig::PAREN | trig::QUOTE | trig::BRACE,
    ),
    // Commands, code and deserialisation gadgets also come as bare words
    // (`__proto__`, `xmldecoder`, base64 of `<?php`): any letter.
    (
        A::Rce,
        trig::DOLLAR
            | trig::SLASH
            | trig::LT
            | trig::SPACE
            | trig::PIPE_AMP
            | trig::PAREN
            | trig::SEMI
            | trig::NEWLINE
            | trig::QUOTE
            | trig::BRACE
            | trig::COLON
            | LETTER
            // Tilde and history expansion (`~+`, `~-1`, `!-2`).
            | TILDE_BANG,
    ),
    // System files by name and base64 of `../` need letters.
    (A::Traversal, trig::NUL | trig::SLASH | trig::COLON | LETTER),
    (A::RfiSsrf, trig::DOT | trig::COLON | trig::SLASH),
    (A::Ssti, trig::BRACE | trig::LT | trig::DOLLAR | trig::PAREN),
    (A::Xxe, trig::LT),
    // XPath injection needs a quote, a parenthesis or an axis's `::`;
    // metacharacter-only fragments a `*`, escaped ones (`\28`) a `\`.
    (
        A::Ldap,
        trig::PAREN | trig::QUOTE | trig::COLON | trig::STAR | trig::SLASH,
    ),
    // Dots count only with letters (`this.password`, `db.x.find(`) or a
    // quote (`'=='`), below: an address list in a header is no NoSQL.
    (A::Nosql, trig::DOLLAR | trig::PIPE_AMP | trig::SEMI),
    (A::Crlf, trig::NEWLINE),
    (
        A::Sqli,
        trig::SPACE | trig::NEWLINE | trig::PAREN | trig::QUOTE | trig::SEMI | trig::PERCENT_AT,
    ),
];

/// The classes whose gate the bits `x << 8k` open, at `OPENS[k][x]`: a
/// gate opens on any one of its bits, so the classes the facts `f` open
/// are the union over its four bytes ([`opened`]), four loads instead of a
/// test per class.
const OPENS: [[u16; 256]; 4] = {
    let mut t = [[0u16; 256]; 4];
    let mut k = 0;
    while k < 4 {
        let mut x = 0;
        while x < 256 {
            let bits = (x as u32) << (8 * k);
            let mut g = 0;
            while g < GATES.len() {
                if bits & GATES[g].1 != 0 {
                    t[k][x] |= bit(GATES[g].0);
                }
                g += 1;
            }
            x += 1;
        }
        k += 1;
    }
    t
};

/// The classes at least one of whose gates the facts `f` open.
fn opened(f: u32) -> u16 {
    let byte = |k: usize| usize::from((f >> (8 * k)) as u8);
    OPENS[0][byte(0)] | OPENS[1][byte(1)] | OPENS[2][byte(2)] | OPENS[3][byte(3)]
}

/// Trigger bits that, after a leading number or `-`, can make the SQL
/// lexer see an operator, comparison or comment continuing it; a leading
/// literal followed only by dots, dashes, letters and digits is one token.
const SQL_AFTER_NUMBER: u32 = !(trig::DIGIT_START
    | trig::DOT
    | trig::HASH_DASH
    | LETTER
    | PLUS
    | ESCAPE
    | NOT_ADDRESS
    | TILDE_BANG);

/// The classes of `wanted` that could fire on `raw` read with `enc` (`f`
/// from [`facts`]); every other class is certain not to.
pub fn candidates(raw: &[u8], enc: Encoding, f: u32, wanted: u16) -> u16 {
    match triggers(raw, enc, f) {
        Some(f) => gated(raw, f, wanted),
        None => wanted,
    }
}

/// The classes of `wanted` that could fire on one window as normalised
/// (`text`, its trigger bits `triggers`): the same gates as [`candidates`],
/// asked about the bytes the detectors will read rather than the raw ones,
/// so a field longer than a window, or one whose escapes decoded into
/// plain text, is gated too. `triggers` brings what the text no longer
/// shows (a dropped null byte). A `%`, `&`, `\`, control or non-ASCII byte
/// left in the text keeps every class, as in a raw field: detectors read
/// escapes written as text (`\r\n`, `%0a`).
pub fn after_normalize(text: &[u8], triggers: u32, wanted: u16) -> u16 {
    match self::triggers(text, Encoding::RAW, facts(text) | triggers) {
        Some(f) => gated(text, f, wanted),
        None => wanted,
    }
}

/// [`candidates`] past the raw-bytes step: `f` the trigger and fact bits
/// of `raw`.
fn gated(raw: &[u8], f: u32, wanted: u16) -> u16 {
    let mut may = opened(f);
    if f & trig::DIGIT_START != 0 && f & SQL_AFTER_NUMBER & !NOT_TOKEN != 0 {
        may |= bit(A::Sqli);
    }
    if raw.len() < 3 {
        may &= !bit(A::Sqli);
    }
    // Sink references (`window.alert`) are letters and dots, UTF-7 markup
    // (`+ADw-script+AD4-`) letters and dashes.
    if f & LETTER != 0 && f & (trig::DOT | trig::HASH_DASH) != 0 {
        may |= bit(A::Xss);
    }
    if f & trig::DOT != 0 && f & (LETTER | trig::QUOTE) != 0 {
        may |= bit(A::Nosql);
    }
    // Oracle's concatenation into a package call (`||UTL_HTTP.REQUEST`)
    // opening the value: SQL without a space or quote.
    if f & trig::DOT != 0 && raw.starts_with(b"||") {
        may |= bit(A::Sqli);
    }
    // A PostgreSQL cast (`password::int`) is SQL without a space or quote.
    if f & trig::COLON != 0 && raw.windows(2).any(|w| w == b"::") {
        may |= bit(A::Sqli);
    }
    // Traversal on dots and digits alone: only a `..` step.
    if wanted & bit(A::Traversal) != 0
        && may & bit(A::Traversal) == 0
        && f & trig::DOT != 0
        && has_dot_dot(raw)
    {
        may |= bit(A::Traversal);
    }
    may & wanted
}

/// Whether `raw` holds `..`, eight bytes at a time (an address list has a
/// dot every few bytes): windows overlap by one byte, so each pair of
/// neighbours lies inside one.
fn has_dot_dot(raw: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const LOW7: u64 = 0x7f * ONES;
    const HIGH: u64 = 0x80 * ONES;
    if raw.len() < 8 {
        return raw.windows(2).any(|w| w == b"..");
    }
    let mut at = 0;
    loop {
        let word = <[u8; 8]>::try_from(&raw[at..at + 8]).map_or(0, u64::from_le_bytes);
        let x = word ^ (u64::from(b'.') * ONES);
        // The high bit of each byte that is not a dot (exact: no carries).
        let not_dot = (((x & LOW7) + LOW7) | x) & HIGH;
        let dots = !not_dot & HIGH;
        if dots & (dots >> 8) != 0 {
            return true;
        }
        if at + 8 >= raw.len() {
            return false;
        }
        at = (at + 7).min(raw.len() - 8);
    }
}

/// Whether any `/`-separated segment of `path` (facts `f`) could be SQL
/// injection. A segment's bytes are some of the path's, without the `/`, and
/// it may start with a digit, so its facts are within
/// `(f - SLASH) | DIGIT_START`; [`candidates`] only grows with more facts
/// and with a longer field, so asking it about the whole path with those
/// facts answers for every segment at once.
pub fn segments_need_sql(path: &[u8], f: u32) -> bool {
    let seg = (f & !trig::SLASH) | trig::DIGIT_START;
    candidates(path, Encoding::RAW, seg, bit(A::Sqli)) != 0
}

/// A query string (`sep` `&`) or Cookie header (`sep` `;`) whose names
/// and values are all plain tokens: every field the splitters in `fields`
/// would cut from it is skipped by [`plain_token`] (and none has a `[` or
/// `%` to make a bracket operator), so the splitting itself can be skipped.
/// Cookie pairs are trimmed of whitespace as `fields::cookies` does. The
/// splitters also read a value's text in base64 (`fields::base64_text`):
/// a value that decodes to text which is not itself a plain token (what a
/// hex session id decodes to usually is) takes the long way too. One pass
/// over the bytes; only values of 8 bytes or more are decoded, and the
/// decoding stops at its first byte that is not text.
pub fn plain_pairs(s: &[u8], sep: u8) -> bool {
    let cookie = sep == b';';
    let token_end = |mut i: usize| {
        while i < s.len() && CLASS[usize::from(s[i])] & NOT_TOKEN == 0 {
            i += 1;
        }
        i
    };
    let mut i = 0;
    loop {
        if cookie {
            while s.get(i) == Some(&b' ') {
                i += 1;
            }
        }
        // The name, then the value after the pair's first `=` (a pair
        // without one is all value); anything but the separator after
        // them, a space inside or after a cookie pair included, takes the
        // long way.
        let mut value = i;
        i = token_end(i);
        // A Java attack token as a name or value (`rce::attack_token`).
        if i - value >= 8 && super::rce::attack_token(&s[value..i]) {
            return false;
        }
        if s.get(i) == Some(&b'=') {
            value = i + 1;
            i = token_end(value);
            if i - value >= 5
                && (super::rce::attack_token(&s[value..i])
                    || super::rce::probe_command(&s[value..i]))
            {
                return false;
            }
        }
        if i - value >= 8 && super::fields::base64_scanned(&s[value..i]) {
            return false;
        }
        // A catalogue name as the value (`table=pg_catalog`) is the one
        // plain token the SQL check reads (`sqli::catalogue_token`).
        if i - value >= 4 && super::sqli::catalogue_token(&s[value..i]) {
            return false;
        }
        match s.get(i) {
            None => return true,
            Some(&b) if b == sep => i += 1,
            Some(_) => return false,
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::fields::{cookies, urlencoded, Kind, Visitor};
    use super::super::normalize::{normalize, Encoding, WINDOW};
    use super::super::{
        detect, Checks, Scan, BODY, BODY_FORM, COOKIE, FILE_NAME, HEADER, HEADER_URL, NAME, PATH,
        VALUE,
    };
    use super::*;

    /// Every (checks, encoding) a field is scanned with in `mod.rs`.
    fn kinds() -> Vec<(&'static str, Checks, Encoding)> {
        let segment = Checks {
            classes: bit(A::Sqli),
            ..PATH
        };
        let absolute = Checks {
            classes: bit(A::RfiSsrf),
            ..PATH
        };
        vec![
            ("path", PATH, Encoding::RAW),
            ("path segment", segment, Encoding::RAW),
            ("absolute target", absolute, Encoding::RAW),
            ("argument name", NAME, Encoding::FORM),
            ("cookie name", NAME, Encoding::RAW),
            ("multipart name", NAME, Encoding::RAW),
            ("argument value", VALUE, Encoding::FORM),
            ("form value", BODY_FORM, Encoding::FORM),
            ("cookie value", COOKIE, Encoding::RAW),
            ("header", HEADER, Encoding::RAW),
            ("json string", BODY, Encoding::JSON),
            ("body text", BODY, Encoding::RAW),
            ("file name", FILE_NAME, Encoding::RAW),
        ]
    }

    /// What the real scanners find in one field, without any prefilter.
    fn scanners(raw: &[u8], enc: Encoding, checks: Checks) -> u16 {
        let mut buf = [0u8; WINDOW];
        let mut scan = Scan::new(&mut buf, None, false);
        scan.run_windows(raw, enc, checks, checks.classes);
        scan.found.mask
    }

    /// Records the fields the splitters cut.
    #[derive(Default)]
    struct Fields(Vec<(Kind, Vec<u8>)>);

    impl Visitor for Fields {
        fn field(&mut self, kind: Kind, raw: &[u8], _: Encoding) -> bool {
            self.0.push((kind, raw.to_vec()));
            true
        }
    }

    /// The whole-field shortcuts: a path whose segments are skipped, a
    /// query or cookie header whose splitting is skipped.
    fn check_shortcuts(s: &[u8]) -> usize {
        let mut skipped = 0;
        if !segments_need_sql(s, facts(s)) {
            skipped += 1;
            let segment = Checks {
                classes: bit(A::Sqli),
                ..PATH
            };
            for seg in s.split(|&b| b == b'/').filter(|s| s.len() > 2) {
                assert_eq!(
                    scanners(seg, Encoding::RAW, segment),
                    0,
                    "segment {:?} of {:?} skipped",
                    String::from_utf8_lossy(seg),
                    String::from_utf8_lossy(s)
                );
            }
        }
        for sep in [b'&', b';'] {
            if plain_pairs(s, sep) {
                skipped += 1;
                let mut fields = Fields::default();
                if sep == b'&' {
                    urlencoded(s, &mut fields);
                } else {
                    cookies(s, &mut fields);
                }
                for (kind, raw) in fields.0 {
                    assert!(
                        !matches!(kind, Kind::NosqlOperator | Kind::RemoteInclude)
                            && plain_token(facts(&raw)),
                        "{kind:?} {:?} of {:?} skipped",
                        String::from_utf8_lossy(&raw),
                        String::from_utf8_lossy(s)
                    );
                }
            }
        }
        skipped
    }

    /// Asserts that no class the gate on the normalised window drops is
    /// found by the detectors on that window (escapes included).
    fn check_after(s: &[u8], kinds: &[(&str, Checks, Encoding)]) -> usize {
        let mut skipped = 0;
        let mut buf = [0u8; WINDOW];
        for (what, checks, enc) in kinds {
            let n = normalize(s, *enc, &mut buf);
            let kept = after_normalize(n.text, n.triggers, checks.classes);
            if kept == checks.classes {
                continue;
            }
            skipped += 1;
            let found = detect(&n, checks.classes, *checks);
            assert_eq!(
                found & !kept,
                0,
                "gate after normalisation dropped a class the detectors find ({what}): {:?} as {:?} found {found:#x} kept {kept:#x}",
                String::from_utf8_lossy(s),
                String::from_utf8_lossy(n.text)
            );
        }
        skipped
    }

    /// Every (checks, encoding) a header value is scanned with: the
    /// [`address_list`] skip applies to these.
    fn header_kinds() -> [(&'static str, Checks, Encoding); 3] {
        [
            ("header", HEADER, Encoding::RAW),
            ("header url", HEADER_URL, Encoding::RAW),
            ("referer argument", HEADER, Encoding::FORM),
        ]
    }

    /// Asserts that the scanners find nothing in an [`address_list`]
    /// value, in any header kind; 1 when `s` is one.
    fn check_address(s: &[u8]) -> usize {
        if !address_list(s, facts(s)) {
            return 0;
        }
        for (what, checks, enc) in header_kinds() {
            assert_eq!(
                scanners(s, enc, checks) & !ADDRESS_KEEPS,
                0,
                "address list skipped but found ({what}): {:?}",
                String::from_utf8_lossy(s)
            );
        }
        1
    }

    /// Asserts that no class the prefilter drops is found by the scanners.
    fn check(s: &[u8], kinds: &[(&str, Checks, Encoding)]) -> usize {
        let f = facts(s);
        let mut skipped = check_shortcuts(s) + check_after(s, kinds) + check_address(s);
        if plain_token(f) {
            return skipped;
        }
        for (what, checks, enc) in kinds {
            let kept = candidates(s, *enc, f, checks.classes);
            if kept == checks.classes {
                continue;
            }
            skipped += 1;
            let found = scanners(s, *enc, *checks);
            assert_eq!(
                found & !kept,
                0,
                "prefilter dropped a class the scanners find ({what}): {:?} found {found:#x} kept {kept:#x}",
                String::from_utf8_lossy(s)
            );
        }
        skipped
    }

    /// The corpus's attack and benign strings, with their raw separators
    /// (also the cache's tests' input).
    pub(in crate::signatures) fn corpus_lines() -> Vec<Vec<u8>> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/signatures");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).expect("corpus directory") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).expect("corpus file");
            for line in text.lines().filter(|l| !l.starts_with('#')) {
                let data = line.split_once('\t').map_or(line, |(_, d)| d);
                if !data.trim().is_empty() {
                    out.push(data.as_bytes().to_vec());
                }
            }
        }
        out
    }

    fn fuzz_seeds() -> Vec<Vec<u8>> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus");
        let mut out = Vec::new();
        for target in std::fs::read_dir(dir).expect("fuzz corpus directory") {
            let target = target.expect("entry").path();
            for seed in std::fs::read_dir(&target).expect("fuzz target directory") {
                // The seeds in git only (`seed-*`): what a fuzz run adds to
                // the directory (out of git, rewritten while it runs) would
                // make the test depend on the machine. Run the test once
                // after a fuzz run with this filter removed to hold the
                // prefilter to the fuzzers' finds too.
                let path = seed.expect("entry").path();
                if !path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("seed-"))
                {
                    continue;
                }
                let bytes = std::fs::read(path).expect("seed");
                // Seeds are whole requests: their lines and their fields.
                for line in bytes.split(|&b| b == b'\n').take(200) {
                    out.push(line.iter().copied().take(WINDOW).collect());
                }
            }
        }
        out
    }

    /// A string, its pieces as the field splitters cut them, and its
    /// decoded form (the payload a client could send without encoding).
    fn variants(s: &[u8]) -> Vec<Vec<u8>> {
        let mut out = vec![s.to_vec()];
        for sep in [b'&', b'=', b';', b'?', b'/', b' ', b','] {
            out.extend(
                s.split(move |&b| b == sep)
                    .filter(|p| p.len() > 2)
                    .map(<[u8]>::to_vec),
            );
        }
        let mut buf = [0u8; WINDOW];
        out.push(normalize(s, Encoding::FORM, &mut buf).text.to_vec());
        out
    }

    /// Alphabets the prefilter lets through, so payloads reduced to them
    /// test whatever keyword detection survives without the usual bytes.
    fn alphabets() -> Vec<Vec<u8>> {
        let alnum: Vec<u8> = (b'0'..=b'9')
            .chain(b'a'..=b'z')
            .chain(b'A'..=b'Z')
            .collect();
        let with = |extra: &[u8]| [alnum.as_slice(), extra].concat();
        let mut all = vec![
            with(b"._-"),
            with(b"/._-"),
            with(b":/._-"),
            with(b"._-,~"),
            with(b"._-#"),
            with(b"/.-_=:"),
            with(b" ._-,;()/"),
            with(b"._-,;=/:"),
            b"0123456789.,: ".to_vec(),
            b"0123456789.:abcdef".to_vec(),
            b"0123456789abcdefABCDEF.:, ".to_vec(),
        ];
        // Everything printable but one trigger's bytes.
        let printable: Vec<u8> = (0x20..0x7f).collect();
        for drop in [
            &b"'\"`"[..],
            b"<",
            b"()",
            b";",
            b"|&",
            b"$",
            b"{[",
            b".",
            b"/\\",
            b"=",
            b":",
            b" +",
        ] {
            all.push(
                printable
                    .iter()
                    .copied()
                    .filter(|b| !drop.contains(b))
                    .collect(),
            );
        }
        all
    }

    fn project(s: &[u8], alphabet: &[u8]) -> Vec<u8> {
        s.iter().copied().filter(|b| alphabet.contains(b)).collect()
    }

    #[test]
    fn sound_on_corpus_and_fuzz_seeds() {
        let kinds = kinds();
        let alphabets = alphabets();
        let mut inputs = corpus_lines();
        inputs.extend(fuzz_seeds());
        let mut seen = std::collections::HashSet::new();
        for s in &inputs {
            for v in variants(s) {
                for a in &alphabets {
                    seen.insert(project(&v, a));
                }
                seen.insert(v);
            }
        }
        let (mut strings, mut skipped) = (0usize, 0usize);
        for s in seen.iter().filter(|s| !s.is_empty()) {
            strings += 1;
            skipped += check(s, &kinds);
        }
        assert!(
            strings > 10_000 && skipped > 10_000,
            "{strings} strings, {skipped} skips"
        );
    }

    /// Runs of bytes of the corpus lines that `keep` accepts, deduplicated.
    fn runs(lines: &[Vec<u8>], keep: impl Fn(u8) -> bool) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = lines
            .iter()
            .flat_map(|l| {
                l.split(|&b| !keep(b))
                    .filter(|w| !w.is_empty())
                    .map(<[u8]>::to_vec)
                    .collect::<Vec<_>>()
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Random strings of the corpus's words and operator runs (`||`,
    /// `'=`, `${`, `../`), numbers and separators from random subsets of
    /// the printable bytes (seeded: the same strings on every run).
    #[test]
    fn sound_on_random_strings() {
        let kinds = kinds();
        let mut lines = corpus_lines();
        let mut buf = [0u8; WINDOW];
        let decoded: Vec<Vec<u8>> = lines
            .iter()
            .map(|l| normalize(l, Encoding::FORM, &mut buf).text.to_vec())
            .collect();
        lines.extend(decoded);
        let words = runs(&lines, |b| b.is_ascii_alphanumeric() || b == b'_');
        let ops = runs(&lines, |b| {
            b.is_ascii_graphic() && !b.is_ascii_alphanumeric() && !matches!(b, b'%' | b'&' | b'\\')
        });
        let printable: Vec<u8> = (0x20..0x7f)
            .filter(|b| !matches!(b, b'%' | b'&' | b'\\'))
            .collect();
        let mut state_rng = crate::testing::XorShift64::new(0x9e37_79b9_7f4a_7c15);
        let mut next = move |n: usize| state_rng.below(n);
        let mut skipped = 0;
        for _ in 0..20_000 {
            let seps: Vec<u8> = (0..1 + next(4))
                .map(|_| printable[next(printable.len())])
                .collect();
            let mut s = Vec::new();
            for _ in 0..1 + next(8) {
                match next(5) {
                    0 | 1 => s.extend_from_slice(&words[next(words.len())]),
                    2 => s.extend_from_slice(&ops[next(ops.len())]),
                    3 => s.push(seps[next(seps.len())]),
                    _ => s.extend((0..1 + next(4)).map(|_| b"0123456789.-"[next(12)])),
                }
            }
            skipped += check(&s, &kinds);
        }
        assert!(skipped > 10_000, "{skipped} skips");
    }

    /// Every `N op N op N` with one- and two-byte operators: where a
    /// leading number can start an injection without a space (`1||1=1`),
    /// which random strings hardly ever hit.
    #[test]
    fn sound_on_number_operator_sequences() {
        let kinds = kinds();
        let punct: Vec<u8> = (0x21..0x7f)
            .filter(|b: &u8| !b.is_ascii_alphanumeric() && !matches!(b, b'%' | b'&' | b'\\'))
            .chain([b'&'])
            .collect();
        let mut ops: Vec<Vec<u8>> = punct.iter().map(|&b| vec![b]).collect();
        for &a in &punct {
            for &b in &punct {
                ops.push(vec![a, b]);
            }
        }
        let mut skipped = 0;
        for first in &ops {
            for second in ops.iter().filter(|o| o.len() == 1) {
                for (a, b) in [(first, second), (second, first)] {
                    let s = [b"1".as_slice(), a, b"1", b, b"1"].concat();
                    skipped += check(&s, &kinds);
                }
            }
        }
        assert!(skipped > 1000, "{skipped} skips");
    }

    /// Address lists and anything else spelt with their bytes: random
    /// strings of `[0-9A-Fa-f.:, ]` (hex words such as `dead`, `cafe`,
    /// `face`, colons doubled as in IPv6, dots and commas anywhere) and
    /// well-formed lists of IPv4 and IPv6 addresses with ports; the
    /// scanners must find nothing where [`address_list`] skips, and real
    /// lists must be skipped.
    #[test]
    fn sound_on_address_lists() {
        const ALPHABET: &[u8] = b"0123456789abcdefABCDEF.:, ";
        const WORDS: [&[u8]; 12] = [
            b"dead", b"beef", b"cafe", b"face", b"fade", b"bad", b"decade", b"ace", b"add", b"dab",
            b"fee", b"ebb",
        ];
        let mut state_rng = crate::testing::XorShift64::new(0xadd2_e55e_5000_0001);
        let mut next = move |n: usize| state_rng.below(n);
        let mut skipped = 0;
        for _ in 0..20_000 {
            let mut s = Vec::new();
            for _ in 0..1 + next(12) {
                match next(4) {
                    0 if next(50) == 0 => s.extend_from_slice(b"aced0005"),
                    0 => s.extend_from_slice(WORDS[next(WORDS.len())]),
                    1 => s.extend((0..1 + next(3)).map(|_| b".:, "[next(4)])),
                    _ => s.extend((0..1 + next(6)).map(|_| ALPHABET[next(ALPHABET.len())])),
                }
            }
            skipped += check_address(&s);
        }
        assert!(skipped > 10_000, "{skipped} skips");
        let lists: [&[u8]; 6] = [
            b"203.0.113.7",
            b"203.0.113.7, 198.51.100.23, 10.0.0.1",
            b"2001:db8::1",
            b"2001:db8:cafe::17, 203.0.113.7:8080",
            b"::1",
            b"fe80::1ff:fe23:4567:890a",
        ];
        for l in lists {
            assert_eq!(check_address(l), 1, "{:?}", String::from_utf8_lossy(l));
        }
        for not in [
            &b"1..2"[..],
            b"10.0.0.1/8",
            b"[::1]:80",
            b"unknown, 1.2.3.4",
            // A Java stream in hex, which the code scanner reads.
            b"aced0005aced0005f",
            b" ACED00057372001a",
        ] {
            assert!(
                !address_list(not, facts(not)),
                "{:?}",
                String::from_utf8_lossy(not)
            );
        }
    }

    /// Lists of tokens whose values are base64 (session ids, hashes,
    /// encoded words and encoded attacks): the split is skipped only when
    /// every decoded text is a plain token too (`check_shortcuts`), and an
    /// encoded attack is always split.
    #[test]
    fn sound_on_base64_values() {
        use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
        use base64::Engine;
        let lines = corpus_lines();
        let words = runs(&lines, |b| b.is_ascii_alphanumeric() || b == b'_');
        let mut state_rng = crate::testing::XorShift64::new(0x0ddc_0ffe_e0dd_f00d);
        let mut next = move |n: usize| state_rng.below(n);
        let mut values: Vec<Vec<u8>> = Vec::new();
        for _ in 0..20_000 {
            let alphabet: &[u8] = match next(3) {
                0 => b"0123456789abcdef",
                1 => b"0123456789ABCDEF",
                _ => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            };
            let len = 8 + next(40);
            values.push((0..len).map(|_| alphabet[next(alphabet.len())]).collect());
        }
        for w in words.iter().chain(&lines) {
            values.push(STANDARD_NO_PAD.encode(w).into_bytes());
            values.push(URL_SAFE_NO_PAD.encode(w).into_bytes());
        }
        let (mut skipped, mut split) = (0, 0);
        for v in &values {
            let v = String::from_utf8_lossy(v);
            for (s, sep) in [
                (format!("sid={v}; theme=light"), b';'),
                (format!("fields=id,name&token={v}&page=2"), b'&'),
            ] {
                let s = s.as_bytes();
                skipped += check_shortcuts(s);
                // Every list here is of tokens: it is split only for the
                // text a value carries.
                if !plain_pairs(s, sep) {
                    split += 1;
                }
            }
        }
        for line in lines
            .iter()
            .filter(|l| !plain_token(facts(l)) && l.len() >= 6)
        {
            let v = STANDARD_NO_PAD.encode(line);
            let s = format!("sid={v}; theme=light");
            assert!(
                !plain_pairs(s.as_bytes(), b';'),
                "an encoded attack is split: {}",
                String::from_utf8_lossy(line)
            );
        }
        assert!(
            skipped > 30_000 && split > 1_000,
            "{skipped} skipped, {split} split"
        );
    }

    /// `plain_pairs` against the splitters themselves on random lists of
    /// separators, `=`, spaces, tokens and base64: whenever it skips a
    /// list, every field cut from it is a plain token.
    #[test]
    fn plain_pairs_is_what_the_splitters_cut() {
        let pieces: [&[u8]; 14] = [
            b"a",
            b"Zq",
            b"0",
            b"=",
            b"=",
            b";",
            b"&",
            b" ",
            b"-_,~",
            b"%",
            b"[",
            b"e30",
            b"JyBvciAxPTE",
            b"8f3a2c9e1b7d4a60",
        ];
        let mut state_rng = crate::testing::XorShift64::new(0x5eed_5eed_1234_5678);
        let mut next = move |n: usize| state_rng.below(n);
        let mut skipped = 0;
        for _ in 0..50_000 {
            let s: Vec<u8> = (0..1 + next(10))
                .flat_map(|_| pieces[next(pieces.len())].iter().copied())
                .collect();
            for sep in [b'&', b';'] {
                let mut fields = Fields::default();
                if sep == b'&' {
                    urlencoded(&s, &mut fields);
                } else {
                    cookies(&s, &mut fields);
                }
                let plain = fields.0.iter().all(|(kind, raw)| {
                    !matches!(kind, Kind::NosqlOperator | Kind::RemoteInclude)
                        && plain_token(facts(raw))
                });
                let shown = String::from_utf8_lossy(&s);
                if plain_pairs(&s, sep) {
                    skipped += 1;
                    assert!(plain, "{shown:?} skipped, {:?}", fields.0);
                }
            }
        }
        assert!(skipped > 5_000, "{skipped} skipped");
    }

    #[test]
    fn dot_dot_as_windows_find_it() {
        let mut state_rng = crate::testing::XorShift64::new(0x1357_9bdf_2468_ace0);
        for _ in 0..100_000 {
            let state = state_rng.next_u64();
            let len = (state % 40) as usize;
            let s: Vec<u8> = (0..len)
                .map(|i| b"..a/\xfe\x00"[((state >> (i + 8)) % 6) as usize])
                .collect();
            assert_eq!(has_dot_dot(&s), s.windows(2).any(|w| w == b".."), "{s:?}");
        }
    }

    /// The byte tables open exactly the gates the list names.
    #[test]
    fn opened_is_the_gates() {
        let reference = |f: u32| {
            GATES
                .iter()
                .filter(|(_, gate)| f & gate != 0)
                .fold(0u16, |m, (class, _)| m | bit(*class))
        };
        let mut f = 0x2545_f491u32;
        for i in 0..200_000u32 {
            f ^= f << 13;
            f ^= f >> 17;
            f ^= f << 5;
            // Sparse values too: real facts have a few bits set.
            let v = if i % 2 == 0 {
                f
            } else {
                f & f.rotate_left(7) & f.rotate_left(19)
            };
            assert_eq!(opened(v), reference(v), "{v:#x}");
        }
        for b in 0..32 {
            assert_eq!(opened(1 << b), reference(1 << b), "bit {b}");
        }
    }

    #[test]
    fn what_it_skips() {
        let header = |s: &[u8]| candidates(s, Encoding::RAW, facts(s), HEADER.classes);
        let path = |s: &[u8]| candidates(s, Encoding::RAW, facts(s), PATH.classes);
        // An address list, a language list, a date: nothing to scan.
        assert_eq!(header(b"172.16.3.4"), 0);
        assert_eq!(header(b"10.0.0.1,172.16.3.4"), 0);
        assert_eq!(header(b"2026-12-01"), 0);
        // A path: only the classes that work on slashes, dots and words.
        let kept = path(b"/api/v1/products/591.json");
        assert_eq!(kept & (bit(A::Sqli) | bit(A::Ssti) | bit(A::Crlf)), 0);
        assert_ne!(kept & bit(A::Traversal), 0);
        // Escapes, non-ASCII and control bytes keep everything.
        for s in [
            &b"a%27b"[..],
            b"a&lt;b",
            b"a\\x27",
            "caf\u{e9}".as_bytes(),
            b"a\x01b",
        ] {
            assert_eq!(header(s), HEADER.classes, "{s:?}");
        }
        // `+` is a space in forms only; comments turn into spaces.
        let value = |s: &[u8], enc| candidates(s, enc, facts(s), bit(A::Sqli));
        assert_eq!(value(b"1+or", Encoding::RAW), 0);
        assert_ne!(value(b"1+or", Encoding::FORM), 0);
        assert_ne!(value(b"1/**/or", Encoding::RAW), 0);
        assert!(plain_pairs(b"fields=id,name&sort=-price&page=2&x", b'&'));
        assert!(plain_pairs(b"sid=0a1b; theme=light", b';'));
        // A session id in hex decodes to a plain token, if to text at all.
        assert!(plain_pairs(b"sid=e6b0189c46772c0a; theme=light", b';'));
        assert!(plain_pairs(b"token=aGVsbG93b3JsZA&page=2", b'&'));
        // Text in base64 that the scan reads (`' or 1=1`), wherever the
        // value is in the list, with or without a name.
        for (s, sep) in [
            (&b"sid=JyBvciAxPTE; theme=light"[..], b';'),
            (b"theme=light;  JyBvciAxPTE", b';'),
            (b"JyBvciAxPTE", b'&'),
            (b"page=2&q=JyBvciAxPTE&x=1", b'&'),
        ] {
            assert!(!plain_pairs(s, sep), "{s:?}");
        }
        for (s, sep) in [
            (&b"q=a=b"[..], b'&'),
            (b"q=a b", b'&'),
            (b"q[$ne]=1", b'&'),
            (b"a b=c", b';'),
            (b"a=b ;c=d", b';'),
            (b"sid=a.b", b';'),
        ] {
            assert!(!plain_pairs(s, sep), "{s:?}");
        }
        assert!(plain_token(facts(b"created_at,-price,~x")));
        assert!(!plain_token(facts(b"a.b")));
    }
}
