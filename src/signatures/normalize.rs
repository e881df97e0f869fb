//! Normalisation of one field before matching.
//!
//! Attack tools hide payloads behind every encoding a web stack will undo:
//! percent-encoding (often twice), `+` for space, HTML entities, `\u`/`\x`
//! escapes, IIS `%uXXXX`, overlong and full-width UTF-8, SQL comments used as
//! spaces and MySQL `/*!50000 ... */` version comments. The detectors match the
//! form the application finally sees, so this module undoes all of them.
//!
//! Everything happens in place in a fixed buffer owned by the caller: every
//! decoding step emits at most as many bytes as it reads, so the write index
//! never overtakes the read index and no allocation is needed. Decoding passes
//! repeat until nothing changes, at most [`MAX_DECODE_PASSES`] times, so the
//! cost stays linear in the field size. The last pass strips comments and null
//! bytes, lowercases ASCII, collapses whitespace runs (to `\n` if the run held a
//! line break, so command and header injection stay visible, else to a space)
//! and records which trigger bytes occur, so detectors whose triggers are absent
//! are skipped without scanning.

/// Normalised bytes inspected per window of a field (one stack buffer).
pub const WINDOW: usize = 4096;

/// Decoding passes per window: enough for double and triple encoding.
pub const MAX_DECODE_PASSES: usize = 4;

/// How a field's raw bytes are encoded by the protocol that carried them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoding {
    /// `+` means space (query strings and urlencoded forms).
    pub plus_is_space: bool,
    /// The bytes are the inside of a JSON string (`\"`, `\\`, `\n`, ...).
    pub json: bool,
}

impl Encoding {
    pub const RAW: Encoding = Encoding {
        plus_is_space: false,
        json: false,
    };
    pub const FORM: Encoding = Encoding {
        plus_is_space: true,
        json: false,
    };
    pub const JSON: Encoding = Encoding {
        plus_is_space: false,
        json: true,
    };
}

/// Trigger bytes present in a normalised field, one bit each.
pub mod trig {
    pub const QUOTE: u32 = 1 << 0; // ' " `
    pub const LT: u32 = 1 << 1; // <
    pub const PAREN: u32 = 1 << 2; // ( )
    pub const SEMI: u32 = 1 << 3; // ;
    pub const PIPE_AMP: u32 = 1 << 4; // | &
    pub const DOLLAR: u32 = 1 << 5; // $
    pub const BRACE: u32 = 1 << 6; // { [
    pub const DOT: u32 = 1 << 7; // .
    pub const SLASH: u32 = 1 << 8; // / \
    pub const NEWLINE: u32 = 1 << 9;
    pub const EQ: u32 = 1 << 10; // =
    pub const COLON: u32 = 1 << 11; // :
    pub const HASH_DASH: u32 = 1 << 12; // # -
    pub const STAR: u32 = 1 << 13; // *
    pub const DIGIT_START: u32 = 1 << 14; // first byte is a digit or '-'
    pub const SPACE: u32 = 1 << 15;
    pub const PERCENT_AT: u32 = 1 << 16; // % @
    pub const NUL: u32 = 1 << 17; // a null byte was dropped
    pub const TRAILING_SPACE: u32 = 1 << 18; // spaces ending the field were dropped
}

/// Trigger bit of each byte value, so the final pass does one load per byte.
const TRIGGERS: [u32; 256] = {
    let mut t = [0u32; 256];
    t[b'\'' as usize] = trig::QUOTE;
    t[b'"' as usize] = trig::QUOTE;
    t[b'`' as usize] = trig::QUOTE;
    t[b'<' as usize] = trig::LT;
    t[b'(' as usize] = trig::PAREN;
    t[b')' as usize] = trig::PAREN;
    t[b';' as usize] = trig::SEMI;
    t[b'|' as usize] = trig::PIPE_AMP;
    t[b'&' as usize] = trig::PIPE_AMP;
    t[b'$' as usize] = trig::DOLLAR;
    t[b'{' as usize] = trig::BRACE;
    t[b'[' as usize] = trig::BRACE;
    t[b'.' as usize] = trig::DOT;
    t[b'/' as usize] = trig::SLASH;
    t[b'\\' as usize] = trig::SLASH;
    t[b'=' as usize] = trig::EQ;
    t[b':' as usize] = trig::COLON;
    t[b'#' as usize] = trig::HASH_DASH;
    t[b'-' as usize] = trig::HASH_DASH;
    t[b'*' as usize] = trig::STAR;
    t[b'%' as usize] = trig::PERCENT_AT;
    t[b'@' as usize] = trig::PERCENT_AT;
    t
};

/// A normalised field: the bytes and the trigger bits found in them.
pub struct Normalized<'b> {
    pub text: &'b [u8],
    pub triggers: u32,
    /// A comment was removed from markup: a `/* ... */` (SQL whitespace) in
    /// a field holding a `<`, or an HTML comment holding one. What it hid
    /// only [`normalize_markup`]'s view shows the XSS scanner.
    pub hid_markup: bool,
    /// An HTML character reference (`&#x3c;`, `&lt`) or a JavaScript
    /// escape (`\x3c`, `\u003c`; not a JSON string's own escapes, which
    /// serialisers write for `<`) was decoded: the sender encoded markup
    /// for a parser that undoes it.
    pub char_refs: bool,
}

impl Normalized<'_> {
    pub fn has(&self, bits: u32) -> bool {
        self.triggers & bits != 0
    }
}

/// Copies `raw` (at most [`WINDOW`] bytes of it) into `buf` and normalises it.
pub fn normalize<'b>(raw: &[u8], enc: Encoding, buf: &'b mut [u8; WINDOW]) -> Normalized<'b> {
    normalize_with(raw, enc, buf, false)
}

/// As [`normalize`], but comments stay as text: the view of the markup a
/// SQL comment hides (`GIF89a/*<svg/onload=alert(1)>*/`, which a browser
/// renders since `/*` means nothing in HTML) or an HTML comment holds
/// (`<!--<img src=x onerror=..>-->`, sent to break out of a comment the
/// page already has, or to slip past filters that parse comments
/// differently). Callers use it only when [`Normalized::hid_markup`] is
/// set, so ordinary fields pay nothing.
pub fn normalize_markup<'b>(
    raw: &[u8],
    enc: Encoding,
    buf: &'b mut [u8; WINDOW],
) -> Normalized<'b> {
    normalize_with(raw, enc, buf, true)
}

fn normalize_with<'b>(
    raw: &[u8],
    enc: Encoding,
    buf: &'b mut [u8; WINDOW],
    keep_comments: bool,
) -> Normalized<'b> {
    let mut len = raw.len().min(WINDOW);
    buf[..len].copy_from_slice(&raw[..len]);
    // Most fields carry no escape at all: skip the decoding passes.
    let escapes = raw[..len]
        .iter()
        .any(|&b| matches!(b, b'%' | b'&' | b'\\' | b'+'));
    let mut char_refs = false;
    for pass in 0..MAX_DECODE_PASSES {
        if !escapes {
            break;
        }
        let (n, changed, refs) = decode_pass(&mut buf[..len], enc, pass == 0);
        len = n;
        char_refs |= refs;
        if !changed {
            break;
        }
    }
    let (len, triggers, hid_markup) = finish(&mut buf[..len], keep_comments);
    Normalized {
        text: &buf[..len],
        triggers,
        hid_markup,
        char_refs,
    }
}

fn hex(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'a'..=b'f' => Some(u32::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u32::from(b - b'A' + 10)),
        _ => None,
    }
}

/// Reads `n` hex digits at `s[i..]`.
fn hex_n(s: &[u8], i: usize, n: usize) -> Option<u32> {
    let mut v = 0u32;
    for k in 0..n {
        v = v * 16 + hex(*s.get(i + k)?)?;
    }
    Some(v)
}

/// Writes a code point as UTF-8 at `s[w..]`; callers guarantee the escape it
/// replaces was at least as long, so this never overtakes the reader.
fn put_char(s: &mut [u8], w: usize, cp: u32) -> usize {
    let c = char::from_u32(cp).unwrap_or('\u{fffd}');
    let mut tmp = [0u8; 4];
    let enc = c.encode_utf8(&mut tmp).as_bytes();
    for (k, b) in enc.iter().enumerate() {
        if let Some(slot) = s.get_mut(w + k) {
            *slot = *b;
        }
    }
    w + enc.len()
}

/// One decoding pass in place; returns the new length, whether anything
/// was decoded and whether a character reference or JavaScript escape was.
fn decode_pass(s: &mut [u8], enc: Encoding, first: bool) -> (usize, bool, bool) {
    let (mut r, mut w, mut changed, mut refs) = (0usize, 0usize, false, false);
    while r < s.len() {
        let b = s[r];
        let json = enc.json && first;
        // Each arm yields (bytes consumed, Some(code point) or None for raw byte).
        let decoded: Option<(usize, u32, bool)> = match b {
            b'%' => percent(s, r),
            b'&' => entity(s, r).map(|(n, cp)| {
                refs = true;
                (n, cp, true)
            }),
            b'\\' => backslash(s, r, json).inspect(|_| refs |= !json),
            b'+' if first && enc.plus_is_space => Some((1, u32::from(b' '), false)),
            _ => None,
        };
        match decoded {
            // `raw` marks a byte value (from %XX or \xXX) that must be written
            // as the byte itself, not as a code point.
            Some((n, v, as_char)) => {
                if as_char {
                    w = put_char(s, w, v);
                } else {
                    s[w] = v as u8;
                    w += 1;
                }
                r += n;
                changed = true;
            }
            None => {
                s[w] = b;
                w += 1;
                r += 1;
            }
        }
    }
    (w, changed, refs)
}

/// `%XX` (a byte) or `%uXXXX` (an IIS code point).
fn percent(s: &[u8], i: usize) -> Option<(usize, u32, bool)> {
    if let Some(v) = hex_n(s, i + 1, 2) {
        return Some((3, v, false));
    }
    if matches!(s.get(i + 1), Some(b'u' | b'U')) {
        return hex_n(s, i + 2, 4).map(|v| (6, v, true));
    }
    None
}

/// `\xXX`, `\uXXXX`, `\u{...}` and, inside JSON strings, the JSON escapes.
fn backslash(s: &[u8], i: usize, json: bool) -> Option<(usize, u32, bool)> {
    let next = *s.get(i + 1)?;
    match next {
        b'x' | b'X' => hex_n(s, i + 2, 2).map(|v| (4, v, false)),
        b'u' | b'U' => {
            if let Some(v) = hex_n(s, i + 2, 4) {
                return Some((6, v, true));
            }
            if s.get(i + 2) == Some(&b'{') {
                let mut v = 0u32;
                for k in 3..10 {
                    match s.get(i + k) {
                        Some(b'}') if k > 3 => return Some((k + 1, v, true)),
                        Some(&d) => v = v * 16 + hex(d)?,
                        None => return None,
                    }
                }
            }
            None
        }
        b'"' | b'\\' | b'/' if json => Some((2, u32::from(next), false)),
        b'n' if json => Some((2, u32::from(b'\n'), false)),
        b'r' if json => Some((2, u32::from(b'\r'), false)),
        b't' if json => Some((2, u32::from(b'\t'), false)),
        b'b' | b'f' if json => Some((2, u32::from(b' '), false)),
        _ => None,
    }
}

/// Named entities browsers decode that matter for markup and script.
const ENTITIES: &[(&[u8], u8)] = &[
    (b"lt", b'<'),
    (b"gt", b'>'),
    (b"amp", b'&'),
    (b"quot", b'"'),
    (b"apos", b'\''),
    (b"colon", b':'),
    (b"semi", b';'),
    (b"lpar", b'('),
    (b"rpar", b')'),
    (b"sol", b'/'),
    (b"bsol", b'\\'),
    (b"tab", b'\t'),
    (b"newline", b'\n'),
    (b"nbsp", b' '),
    (b"equals", b'='),
    (b"excl", b'!'),
    (b"grave", b'`'),
    (b"lsqb", b'['),
    (b"rsqb", b']'),
    (b"lcub", b'{'),
    (b"rcub", b'}'),
    (b"num", b'#'),
    (b"dollar", b'$'),
    (b"percnt", b'%'),
    (b"plus", b'+'),
    (b"ast", b'*'),
    (b"comma", b','),
    (b"period", b'.'),
    (b"vert", b'|'),
];

/// `&#DDD;`, `&#xHH;` (semicolon optional, as browsers accept) or a named entity.
fn entity(s: &[u8], i: usize) -> Option<(usize, u32)> {
    if s.get(i + 1) == Some(&b'#') {
        let (start, radix) = match s.get(i + 2) {
            Some(b'x' | b'X') => (i + 3, 16),
            _ => (i + 2, 10),
        };
        let mut j = start;
        let mut v: u32 = 0;
        // Leading zeros are legal and used for padding (`&#0000060`).
        while let Some(&d) = s.get(j) {
            let dv = if radix == 16 {
                hex(d)
            } else {
                d.is_ascii_digit().then(|| u32::from(d - b'0'))
            };
            match dv {
                Some(dv) if j - start < 12 => v = v.saturating_mul(radix).saturating_add(dv),
                _ => break,
            }
            j += 1;
        }
        if j == start {
            return None;
        }
        if s.get(j) == Some(&b';') {
            j += 1;
        }
        return Some((j - i, v.min(0x10ffff)));
    }
    let mut j = i + 1;
    while j < s.len() && j - i <= 8 && s[j].is_ascii_alphabetic() {
        j += 1;
    }
    let name = s.get(i + 1..j)?;
    let semi = s.get(j) == Some(&b';');
    for (n, c) in ENTITIES {
        if name.eq_ignore_ascii_case(n) {
            let legacy = matches!(*n, b"lt" | b"gt" | b"amp" | b"quot");
            if semi {
                return Some((j + 1 - i, u32::from(*c)));
            }
            if legacy {
                return Some((j - i, u32::from(*c)));
            }
        }
    }
    None
}

/// Maps look-alike encodings of ASCII to ASCII: overlong UTF-8 (`%c0%ae`),
/// full-width forms (U+FF01..U+FF5E), a few slashes, and the typographic
/// quotes and primes (`‘ ’ ‛ ′ ʼ` as `'`, `“ ” „ ‟ ″` as `"`): what an
/// application that transliterates its input to ASCII before it builds a
/// query (`iconv` with `//TRANSLIT`, `unidecode`, Windows' best-fit code
/// pages) turns them into, and how payload lists copied through a word
/// processor spell them (`’ or ‘1’=’1`). Prose typed with smart punctuation
/// so reads as the same prose typed with straight quotes. Returns (bytes
/// read, byte) or None.
fn lookalike(s: &[u8], i: usize) -> Option<(usize, u8)> {
    let b0 = *s.get(i)?;
    if b0 < 0xc0 {
        return None;
    }
    let b1 = *s.get(i + 1)?;
    match (b0, b1) {
        // IIS read the continuation byte's low six bits whatever its top
        // two: `%c0%2e`, `%c0%2f`, `%c1%1c` are `.`, `/`, `\`.
        (0xc0, 0x2e) => return Some((2, b'.')),
        (0xc0, 0x2f) => return Some((2, b'/')),
        (0xc1, 0x1c) => return Some((2, b'\\')),
        (0xc2, 0xa0) => return Some((2, b' ')),
        // U+02BC MODIFIER LETTER APOSTROPHE.
        (0xca, 0xbc) => return Some((2, b'\'')),
        _ => {}
    }
    if let Some(x) = overlong_ascii(s, i) {
        return Some(x);
    }
    let b2 = *s.get(i + 2)?;
    if b0 & 0xf0 == 0xe0 && b1 & 0xc0 == 0x80 && b2 & 0xc0 == 0x80 {
        let cp = (u32::from(b0 & 0x0f) << 12) | (u32::from(b1 & 0x3f) << 6) | u32::from(b2 & 0x3f);
        return match cp {
            0xff01..=0xff5e => Some((3, (cp - 0xfee0) as u8)),
            0x2215 => Some((3, b'/')),
            0x2216 | 0xfe68 => Some((3, b'\\')),
            // U+560A/U+560D end in 0x0a/0x0d: servers that truncate code points
            // to bytes turn them into LF/CR, a known header-injection trick.
            0x560a | 0x560d => Some((3, b'\n')),
            0x2028 | 0x2029 => Some((3, b'\n')),
            0x2018 | 0x2019 | 0x201b | 0x2032 => Some((3, b'\'')),
            0x201c | 0x201d | 0x201e | 0x201f | 0x2033 => Some((3, b'"')),
            _ => None,
        };
    }
    None
}

/// An overlong UTF-8 form of an ASCII byte, 2 to 6 bytes long (`c0 ae`,
/// `e0 80 ae`, `f0 80 80 ae`, `f8 80 80 80 ae`, `fc 80 80 80 80 ae` are all
/// `.`): strict decoders refuse them, lax ones (old IIS, Tomcat, JREs
/// before 1.4.2, hand-written ones that mask the bits without checking
/// the range) return the ASCII byte, so a path or filter check before
/// them is bypassed. The lead byte names the length (RFC 2279's 5- and
/// 6-byte forms included); every continuation byte must be `10xxxxxx`, and
/// the code point they spell below 0x80, which only an overlong form can.
fn overlong_ascii(s: &[u8], i: usize) -> Option<(usize, u8)> {
    let b0 = *s.get(i)?;
    let (len, lead) = match b0 {
        0xc0 | 0xc1 => (2, u32::from(b0 & 0x1f)),
        0xe0 => (3, 0),
        0xf0 => (4, 0),
        0xf8 => (5, 0),
        0xfc => (6, 0),
        _ => return None,
    };
    let tail = s.get(i + 1..i + len)?;
    let mut cp = lead;
    for &c in tail {
        if c & 0xc0 != 0x80 {
            return None;
        }
        cp = (cp << 6) | u32::from(c & 0x3f);
    }
    // `cp < 0x80` fits a byte: the form is overlong by construction.
    u8::try_from(cp)
        .ok()
        .filter(|b| b.is_ascii())
        .map(|b| (len, b))
}

/// Bytes [`finish`] copies as they are, lowercased: printable ASCII but the
/// comment bytes `/`, `*` and `<`.
const PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x21;
    while b < 0x7f {
        t[b] = !matches!(b as u8, b'/' | b'*' | b'<');
        b += 1;
    }
    t
};

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)
}

/// Final pass: look-alikes, comments, nulls, case, whitespace, triggers;
/// also whether a removed C comment held a `<`.
fn finish(s: &mut [u8], keep_comments: bool) -> (usize, u32, bool) {
    let (mut r, mut w, mut trig_bits) = (0usize, 0usize, 0u32);
    let mut hid_markup = false;
    let mut field_lt: Option<bool> = None;
    let mut in_version_comment = false;
    let (mut no_comment_end, mut no_html_comment_end) = (false, false);
    let (mut no_dash_comment_end, mut no_bang_comment_end) = (false, false);
    let mut pending_space: Option<u8> = None;
    while r < s.len() {
        // Runs of plain printable ASCII (no look-alike, comment opener or
        // closer, space or control byte) are what most fields are made of:
        // copied lowercased with their trigger bits, as the full step below
        // would, without its checks.
        if w > 0 && pending_space.is_none() {
            while let Some(&b) = s.get(r).filter(|&&b| PLAIN[usize::from(b)]) {
                let b = b.to_ascii_lowercase();
                trig_bits |= TRIGGERS[usize::from(b)];
                s[w] = b;
                w += 1;
                r += 1;
            }
            if r >= s.len() {
                break;
            }
        }
        let (n, mut b) = match lookalike(s, r) {
            Some(x) => x,
            None => (1, s[r]),
        };
        if b == b'/' && !keep_comments && s.get(r + n) == Some(&b'*') {
            let body = r + n + 1;
            if s.get(body) == Some(&b'!') {
                // MySQL executes the inside of /*!NNNNN ... */: keep it.
                let mut j = body + 1;
                while j < s.len() && s[j].is_ascii_digit() {
                    j += 1;
                }
                in_version_comment = true;
                pending_space.get_or_insert(b' ');
                r = j;
                continue;
            }
            // Once a search for the end failed, no later opener has one:
            // searching again for every `/*` would be quadratic.
            if !no_comment_end {
                if let Some(end) = find_from(s, body, b"*/") {
                    // Also a comment anywhere in markup: CSS reads
                    // `ex/**/pression(` as one word, this view as two.
                    hid_markup |=
                        *field_lt.get_or_insert_with(|| memchr::memchr(b'<', s).is_some());
                    pending_space.get_or_insert(b' ');
                    r = end + 2;
                    continue;
                }
                no_comment_end = true;
            }
        }
        if in_version_comment && b == b'*' && s.get(r + 1) == Some(&b'/') {
            in_version_comment = false;
            pending_space.get_or_insert(b' ');
            r += 2;
            continue;
        }
        // `<!--[if ...]>` is an IE conditional comment: its inside is markup
        // that runs, so it stays; so does a server-side include directive
        // (`<!--#exec cmd="id"-->`).
        if b == b'<'
            && !keep_comments
            && !no_html_comment_end
            && s.get(r + 1..r + 4) == Some(b"!--")
            && !matches!(s.get(r + 4), Some(b'[' | b'#'))
        {
            // HTML ends a comment at `-->` or `--!>`, and `<!-->`, `<!--->`
            // are whole empty comments: ending it later would hide the
            // markup after (`<!-- --!><script>`). Each terminator is searched
            // for until it is known to be absent, so the cost stays linear.
            let early = match s.get(r + 4) {
                Some(b'>') => Some(r + 5),
                Some(b'-') if s.get(r + 5) == Some(&b'>') => Some(r + 6),
                _ => None,
            };
            let search = |absent: &mut bool, needle: &[u8]| {
                if *absent {
                    return None;
                }
                let e = find_from(s, r + 4, needle);
                *absent = e.is_none();
                e.map(|e| e + needle.len())
            };
            let end = early.or_else(|| {
                let dash = search(&mut no_dash_comment_end, b"-->");
                let bang = search(&mut no_bang_comment_end, b"--!>");
                match (dash, bang) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            });
            if let Some(end) = end {
                hid_markup |= memchr::memchr(b'<', &s[r + 4..end]).is_some();
                r = end;
                continue;
            }
            no_html_comment_end = true;
        }
        r += n;
        if b == 0 {
            trig_bits |= trig::NUL;
            continue;
        }
        // SUB (Ctrl-Z, `%1a`), the DOS end-of-file byte, ends a line the
        // way a line break does: command-injection tools send it as a
        // separator (`x%1aid`). Other control bytes are dropped.
        if ((b < 0x20 && !is_space(b)) || b == 0x7f) && b != 0x1a {
            continue;
        }
        if is_space(b) || b == 0x1a {
            let nl = b == b'\n' || b == b'\r' || b == 0x1a;
            if nl {
                pending_space = Some(b'\n');
            } else {
                pending_space.get_or_insert(b' ');
            }
            continue;
        }
        if let Some(sp) = pending_space.take() {
            if w > 0 || sp == b'\n' {
                s[w] = sp;
                w += 1;
                trig_bits |= if sp == b'\n' {
                    trig::NEWLINE
                } else {
                    trig::SPACE
                };
            }
        }
        b = b.to_ascii_lowercase();
        trig_bits |= TRIGGERS[usize::from(b)];
        if w == 0 && (b.is_ascii_digit() || b == b'-') {
            trig_bits |= trig::DIGIT_START;
        }
        s[w] = b;
        w += 1;
    }
    // Spaces that ended the field (`whoami `: a command typed up to its
    // arguments, rce.rs) are dropped, but said.
    if pending_space == Some(b' ') && w > 0 {
        trig_bits |= trig::TRAILING_SPACE;
    }
    // A trailing line break is a classic header-injection ending.
    if pending_space == Some(b'\n') && w > 0 && w < s.len() {
        s[w] = b'\n';
        w += 1;
        trig_bits |= trig::NEWLINE;
    }
    (w, trig_bits, hid_markup)
}

/// Position of `needle` in `hay` at or after `from`.
pub fn find_from(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let tail = hay.get(from..)?;
    find(tail, needle).map(|p| p + from)
}

/// Position of `needle` in `hay` (naive search; inputs are capped windows and
/// needles are short, and the first-byte skip keeps it near memchr speed).
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    // Needles are short keywords and fields short: a memchr for the first
    // byte, then a compare, beats building a substring searcher per call.
    let (&first, rest) = needle.split_first()?;
    let last = hay.len().checked_sub(needle.len())?;
    memchr::memchr_iter(first, &hay[..=last]).find(|&i| hay[i + 1..i + needle.len()] == *rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(raw: &str, enc: Encoding) -> String {
        let mut buf = [0u8; WINDOW];
        let n = normalize(raw.as_bytes(), enc, &mut buf);
        String::from_utf8_lossy(n.text).into_owned()
    }

    #[test]
    fn decodes_layers() {
        assert_eq!(norm("%2527%2520OR%25201%3D1", Encoding::FORM), "' or 1=1");
        assert_eq!(norm("a+b%2Bc", Encoding::FORM), "a b+c");
        assert_eq!(norm("a+b", Encoding::RAW), "a+b");
        assert_eq!(norm("&lt;ScRiPt&gt;", Encoding::RAW), "<script>");
        assert_eq!(norm("&#x3C;&#0000060&#60;img", Encoding::RAW), "<<<img");
        assert_eq!(norm("\\u003csvg\\x3e", Encoding::RAW), "<svg>");
        assert_eq!(norm("%u0027%uff1c", Encoding::RAW), "'<");
        assert_eq!(norm("a\\\"b\\nc", Encoding::JSON), "a\"b\nc");
        assert_eq!(norm("%26lt%3Bb%26gt%3B", Encoding::RAW), "<b>");
    }

    #[test]
    fn typographic_quotes_are_ascii_quotes() {
        assert_eq!(norm("’ or ‘1’=’1", Encoding::RAW), "' or '1'='1");
        assert_eq!(norm("%E2%80%99%20or%201=1", Encoding::FORM), "' or 1=1");
        assert_eq!(norm("1′) and '1′='1", Encoding::RAW), "1') and '1'='1");
        assert_eq!(
            norm("“x” „y“ ″z″ aʼb", Encoding::RAW),
            "\"x\" \"y\" \"z\" a'b"
        );
        // Other punctuation of the same block is left alone.
        assert_eq!(norm("a–b — c…", Encoding::RAW), "a–b — c…");
    }

    #[test]
    fn strips_comments_nulls_and_whitespace() {
        assert_eq!(norm("UNION/**/SELECT", Encoding::RAW), "union select");
        assert_eq!(
            norm("/*!50000UNION*/ SELECT", Encoding::RAW),
            "union select"
        );
        assert_eq!(norm("<scr<!-- x -->ipt>", Encoding::RAW), "<script>");
        // HTML's other comment ends keep the markup after them visible.
        assert_eq!(norm("<!-- x --!><b>", Encoding::RAW), "<b>");
        assert_eq!(norm("<!--><b>-->", Encoding::RAW), "<b>-->");
        assert_eq!(norm("<!---><b>", Encoding::RAW), "<b>");
        assert_eq!(norm("a%00b \t c", Encoding::RAW), "ab c");
        assert_eq!(
            norm("x%0d%0a%0d%0aSet-Cookie", Encoding::RAW),
            "x\nset-cookie"
        );
        assert_eq!(norm("%c0%ae%c0%ae%c0%af", Encoding::RAW), "../");
        assert_eq!(norm("/* not closed", Encoding::RAW), "/* not closed");
    }

    #[test]
    fn overlong_utf8_of_every_length_is_its_ascii() {
        // `/` as 2-, 3-, 4-, 5- and 6-byte overlong forms, and IIS's masked
        // continuation byte.
        for slash in [
            "%c0%af",
            "%e0%80%af",
            "%f0%80%80%af",
            "%f8%80%80%80%af",
            "%fc%80%80%80%80%af",
            "%c0%2f",
            "%25c0%25af",
        ] {
            assert_eq!(
                norm(&format!("..{slash}etc"), Encoding::RAW),
                "../etc",
                "{slash}"
            );
        }
        assert_eq!(norm("%c1%9c%c1%1c", Encoding::RAW), "\\\\");
        assert_eq!(norm("%e0%81%80", Encoding::RAW), "@");
        assert_eq!(norm("%c1%81", Encoding::RAW), "a");
        // IIS `%u` code points, also past the BMP's ASCII: full-width forms.
        assert_eq!(
            norm("..%u2215..%u002f%uff0e%uFF0E%U005C", Encoding::RAW),
            "../../..\\"
        );
        // Not overlong: the shortest form of a code point stays (é, ࠀ,
        // U+10000), and a lead without its continuation bytes is a byte.
        assert_eq!(norm("%c3%a9", Encoding::RAW), "\u{e9}");
        assert_eq!(norm("%e0%a0%80", Encoding::RAW), "\u{800}");
        assert_eq!(norm("%f0%90%80%80", Encoding::RAW), "\u{10000}");
        let mut buf = [0u8; WINDOW];
        for raw in [
            &b"\xf0\x80\x80"[..],
            b"\xfc\x80\x80\x80\x80",
            b"\xe0\x80",
            b"\xf0\x80\x80\x41",
        ] {
            let n = normalize(raw, Encoding::RAW, &mut buf);
            assert!(
                !n.text.contains(&b'/') && n.text.len() <= raw.len(),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn markup_view_keeps_c_comments() {
        let mut buf = [0u8; WINDOW];
        let n = normalize(b"GIF89a/*<svg onload=x>*/1", Encoding::RAW, &mut buf);
        assert!(n.hid_markup);
        assert_eq!(n.text, b"gif89a 1");
        let n = normalize(b"UNION/**/SELECT /* a < b */", Encoding::RAW, &mut buf);
        assert!(n.hid_markup);
        let n = normalize(b"UNION/**/SELECT", Encoding::RAW, &mut buf);
        assert!(!n.hid_markup);
        let m = normalize_markup(b"x/*%3Cb%3E*/", Encoding::RAW, &mut buf);
        assert_eq!(m.text, b"x/*<b>*/");
    }

    #[test]
    fn never_grows_and_handles_truncated_escapes() {
        for raw in [
            "%",
            "%2",
            "%u12",
            "&#",
            "&#x",
            "\\u{",
            "\\x4",
            "&",
            "&#99999999999999;",
        ] {
            let out = norm(raw, Encoding::FORM);
            assert!(out.len() <= raw.len() + 3, "{raw} -> {out}");
        }
        let big = "%41".repeat(WINDOW);
        assert_eq!(norm(&big, Encoding::RAW).len(), WINDOW / 3 + 1);
    }

    #[test]
    fn trigger_bits() {
        let mut buf = [0u8; WINDOW];
        let n = normalize(b"1 or 'a'", Encoding::RAW, &mut buf);
        assert!(n.has(trig::QUOTE) && n.has(trig::DIGIT_START) && !n.has(trig::LT));
    }
}
