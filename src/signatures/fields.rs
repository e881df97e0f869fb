//! Splitting a request into the fields an application reads: query and form
//! arguments, cookies, JSON strings, multipart parts and XML text, without
//! allocating. Each field is handed to a visitor with the encoding that
//! carried it; the visitor returns `false` to stop (budget exhausted).

use super::inject::nosql_operator;
use super::normalize::{find, find_from, Encoding};
use super::prefilter;

/// What a field is, which decides the checks run on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    ArgName,
    ArgValue,
    CookieName,
    CookieValue,
    BodyValue,
    /// A MongoDB operator used as a JSON key or `name[$op]`: already judged.
    NosqlOperator,
    /// A JSON key that reaches an object's prototype (`__proto__`,
    /// `constructor` holding `prototype`): prototype pollution, judged.
    PrototypeKey,
    /// A multipart filename: traversal and markup only.
    FileName,
    /// A header of a multipart part other than its disposition and type.
    PartHeader,
    /// A parameter that names a local directory or include file given a
    /// remote URL (`mosConfig_absolute_path=http://evil/`): remote file
    /// inclusion, judged.
    RemoteInclude,
}

pub trait Visitor {
    fn field(&mut self, kind: Kind, raw: &[u8], enc: Encoding) -> bool;

    /// The text a field carries in base64 ([`base64_text`]): decoded into
    /// the parser's own buffer, so not a view of the input as every
    /// [`Visitor::field`] is. Read as a raw field unless the visitor needs
    /// to tell the two apart (the fuzz targets check that every other
    /// field is a view of its input).
    fn decoded(&mut self, kind: Kind, text: &[u8]) -> bool {
        self.field(kind, text, Encoding::RAW)
    }

    /// The walk's own work on one item that is no field (a JSON key looked
    /// up as an operator), charged to the request's budget; false when it
    /// ran out (thousands of `"$a":` keys end the walk, not the worker).
    fn walked(&mut self) -> bool {
        true
    }
}

/// `a=1&b=2` (query strings and urlencoded forms).
pub fn urlencoded(s: &[u8], v: &mut impl Visitor) -> bool {
    for pair in s.split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(p) => (&pair[..p], Some(&pair[p + 1..])),
            None => (pair, None),
        };
        if let Some(value) = value {
            if bracket_operator(name, value) && !v.field(Kind::NosqlOperator, name, Encoding::FORM)
            {
                return false;
            }
            if remote_include(name, value) && !v.field(Kind::RemoteInclude, name, Encoding::FORM) {
                return false;
            }
            if !v.field(Kind::ArgName, name, Encoding::FORM)
                || !self::value(v, Kind::ArgValue, value, Encoding::FORM)
            {
                return false;
            }
        } else if !self::value(v, Kind::ArgValue, name, Encoding::FORM) {
            // A bare `?payload` is read by apps as a value as often as a name.
            return false;
        }
    }
    true
}

/// `user[$ne]=x`, `user%5B%24regex%5D=.*` (PHP and Express parse these into
/// operator objects).
fn bracket_operator(name: &[u8], value: &[u8]) -> bool {
    // `[` is there, or percent-encoded: most names have neither.
    // (Names are a few bytes: a plain loop beats a SIMD search's set-up.)
    if !name.iter().any(|&b| b == b'[' || b == b'%') {
        return false;
    }
    let mut buf = [0u8; 64];
    let mut n = 0;
    let mut i = 0;
    // Only the brackets need decoding; names are short.
    while i < name.len() && n < buf.len() {
        let b = match name.get(i..i + 3) {
            Some(b"%5B" | b"%5b") => b'[',
            Some(b"%5D" | b"%5d") => b']',
            Some(b"%24") => b'$',
            _ => name[i],
        };
        i += if b != name[i] { 3 } else { 1 };
        buf[n] = b.to_ascii_lowercase();
        n += 1;
    }
    let name = &buf[..n];
    let mut from = 0;
    while let Some(p) = find_from(name, from, b"[$") {
        let op_start = p + 2;
        let op_len = name[op_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        if name.get(op_start + op_len) == Some(&b']')
            && nosql_operator(&name[op_start..op_start + op_len], value)
        {
            return true;
        }
        from = op_start;
    }
    false
}

/// `%XX`-decoded, lowercased copy of the first `N` bytes of `s` (names and
/// URL prefixes are short).
fn decoded<const N: usize>(s: &[u8]) -> ([u8; N], usize) {
    let mut buf = [0u8; N];
    let (mut i, mut n) = (0, 0);
    while i < s.len() && n < N {
        let hex = |b: u8| (b as char).to_digit(16);
        let b = match (
            s[i],
            s.get(i + 1).and_then(|&b| hex(b)),
            s.get(i + 2).and_then(|&b| hex(b)),
        ) {
            (b'%', Some(h), Some(l)) => {
                i += 3;
                (h * 16 + l) as u8
            }
            (b, _, _) => {
                i += 1;
                b
            }
        };
        buf[n] = b.to_ascii_lowercase();
        n += 1;
    }
    (buf, n)
}

/// Names of parameters that hold a local directory or an include file
/// (`_CONF[path]`, `GALLERY_BASEDIR`, `config[root_dir]`, `appserv_root`,
/// `include`): how PHP applications build the path they `include`.
const INCLUDE_NAMES: &[&[u8]] = &[
    b"path",
    b"dir",
    b"root",
    b"basedir",
    b"basepath",
    b"docroot",
    b"rootdir",
    b"rootpath",
    b"filepath",
    b"include",
    b"includes",
    b"includedir",
];

/// Remote file inclusion: a parameter named like a local directory or
/// include given a remote URL that points at a site root, a directory, a
/// script or ends in `?` (what the application then appends its file name
/// to). A URL to a document (`image_path=https://cdn/x.png`) passes.
fn remote_include(name: &[u8], value: &[u8]) -> bool {
    if value.len() < 8 || !matches!(value[0], b'h' | b'H' | b'f' | b'F') {
        return false;
    }
    let (v, vn) = decoded::<256>(value);
    let v = &v[..vn];
    let Some(rest) = [b"http://" as &[u8], b"https://", b"ftp://", b"ftps://"]
        .iter()
        .find_map(|s| v.strip_prefix(*s))
    else {
        return false;
    };
    let (nb, nn) = decoded::<64>(name);
    let name = nb[..nn].strip_suffix(b"]").unwrap_or(&nb[..nn]);
    let last = name
        .iter()
        .rposition(|&b| b == b'[')
        .map_or(name, |p| &name[p + 1..]);
    // The last word of the name (`absolute_path`, not `redir`).
    let word = last
        .iter()
        .rposition(|&b| matches!(b, b'_' | b'-' | b'.'))
        .map_or(last, |p| &last[p + 1..]);
    // Also a word that ends like one (`mainpath`, `e107path`, `libdir`,
    // `sysFileDir`, `vsDragonRootPath`, `approot`; not `redir`): the
    // parameter names of fuzzdb's RFI list (issue 9, RFI).
    let suffixed = word.len() > 4
        && (word.ends_with(b"path")
            || word.ends_with(b"root")
            || (word.ends_with(b"dir") && !word.ends_with(b"redir")));
    if !INCLUDE_NAMES.contains(&word) && !suffixed {
        return false;
    }
    let path = rest
        .iter()
        .position(|&b| b == b'/' || b == b'?')
        .map_or(&[][..], |p| &rest[p..]);
    let path = path.split(|&b| b == b'#').next().unwrap_or(path);
    let file = path.split(|&b| b == b'?').next().unwrap_or(path);
    path.is_empty()
        || path.ends_with(b"?")
        || file.ends_with(b"/")
        || [
            b".php" as &[u8],
            b".txt",
            b".inc",
            b".asp",
            b".jsp",
            b".pl",
            b".cgi",
        ]
        .iter()
        .any(|e| file.ends_with(e))
}

/// Bytes of text read from one base64 value: payloads are short, and an
/// encoded document is not all decoded.
pub const BASE64_SPAN: usize = 768;

/// The text a value carries in base64 (standard or URL-safe alphabet,
/// padded or not, `%2B %2F %3D` allowed as they arrive in a URL), or
/// `None` for anything else. Applications decode such values (serialized
/// cookies and state, `data=` parameters of SDKs) and scanners send their
/// payloads that way (GoTestWAF's `Base64Flat`), while the value itself is a
/// plain token that no detector would read. Only text counts: decoding
/// stops at the first byte that is not printable ASCII or whitespace, so
/// ids, hashes, keys and images (random bytes: a 9-character token decodes
/// to six printable bytes one time in 300) cost a few bytes of work and are
/// not inspected again. One pass over at most `BASE64_SPAN * 4 / 3` bytes.
pub fn base64_text<'b>(raw: &[u8], out: &'b mut [u8; BASE64_SPAN]) -> Option<&'b [u8]> {
    let n = base64_decode(raw, |i, b| out[i] = b)?;
    Some(&out[..n])
}

/// The decoder of [`base64_text`]: hands each decoded byte to `emit`
/// with its index (below [`BASE64_SPAN`]) and gives the count, or `None`
/// when `raw` carries no text.
#[inline]
fn base64_decode(raw: &[u8], mut emit: impl FnMut(usize, u8)) -> Option<usize> {
    let raw = without_line_end(raw);
    if raw.len() < 8 {
        return None;
    }
    let (mut acc, mut bits, mut n, mut i) = (0u32, 0u32, 0usize, 0usize);
    let (mut std, mut url, mut pad) = (false, false, 0);
    while i < raw.len() && n < BASE64_SPAN {
        let mut c = raw[i];
        i += 1;
        if c == b'%' {
            c = match raw.get(i..i + 2) {
                Some(b"2B" | b"2b") => b'+',
                Some(b"2F" | b"2f") => b'/',
                Some(b"3D" | b"3d") => b'=',
                _ => return None,
            };
            i += 2;
        }
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'/' => {
                std = true;
                if c == b'+' {
                    62
                } else {
                    63
                }
            }
            b'-' | b'_' => {
                url = true;
                if c == b'-' {
                    62
                } else {
                    63
                }
            }
            b'=' => {
                pad += 1;
                continue;
            }
            _ => return None,
        };
        // Padding ends the value; the two alphabets do not mix.
        if pad > 0 || (std && url) {
            return None;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            let b = (acc >> bits) as u8;
            acc &= (1 << bits) - 1;
            // A null byte is dropped, as normalisation drops it (`<scr\0ipt`
            // is `<script` to the detectors either way).
            if b == 0 {
                continue;
            }
            if !(b.is_ascii_graphic() || matches!(b, b' ' | b'\t' | b'\n' | b'\r')) {
                return None;
            }
            emit(n, b);
            n += 1;
        }
    }
    (n >= 6 && pad <= 2).then_some(n)
}

/// `raw` without the line breaks that end it, literal or percent-encoded
/// (`%0A`, `%0D%0A`): what `base64` and most encoders append to their
/// output, so a value pasted or piped from one carries them.
fn without_line_end(mut raw: &[u8]) -> &[u8] {
    loop {
        raw = match raw {
            [rest @ .., b'\n' | b'\r'] => rest,
            [rest @ .., b'%', b'0', b'A' | b'a' | b'D' | b'd'] => rest,
            _ => return raw,
        };
    }
}

/// Whether `value` carries text in base64 ([`base64_text`]) that the scan
/// would read: decoded text that is itself a plain token
/// (`prefilter::plain_token`) is skipped by the scan as the value is, so it
/// does not count. Nothing is written; the decoded bytes' facts are only
/// gathered (`prefilter::plain_pairs` asks it of every long value).
pub fn base64_scanned(value: &[u8]) -> bool {
    let mut facts = 0;
    base64_decode(value, |_, b| facts |= prefilter::byte_facts(b))
        .is_some_and(|_| !prefilter::plain_token(facts))
}

/// A value, and the text it carries in base64 if it is such a value
/// ([`base64_text`]), read with the same checks.
fn value(v: &mut impl Visitor, kind: Kind, raw: &[u8], enc: Encoding) -> bool {
    if !v.field(kind, raw, enc) {
        return false;
    }
    let mut buf = [0u8; BASE64_SPAN];
    let mut unescaped = [0u8; JSON_BASE64_BYTES];
    let raw = match enc.json {
        true => json_ascii(raw, &mut unescaped).unwrap_or(raw),
        false => raw,
    };
    match base64_text(raw, &mut buf) {
        Some(text) => v.decoded(kind, text),
        None => true,
    }
}

/// Bytes of a JSON string read back from its escapes for base64: enough
/// for `BASE64_SPAN` decoded bytes.
const JSON_BASE64_BYTES: usize = BASE64_SPAN * 4 / 3 + 4;

/// A JSON string whose escapes are all ASCII `\uXXXX`, `\/`, `\n` or `\r`, unescaped
/// (at most `JSON_BASE64_BYTES`), so that base64 written that way is read
/// as base64: GoTestWAF's `JSONRequest` escapes every character of its
/// (base64-encoded) payload as `\u00XX`. `None` when the string has no
/// backslash or another escape (no base64 value has one).
fn json_ascii<'b>(raw: &[u8], out: &'b mut [u8; JSON_BASE64_BYTES]) -> Option<&'b [u8]> {
    if !raw.contains(&b'\\') {
        return None;
    }
    let (mut i, mut n) = (0, 0);
    while i < raw.len() && n < out.len() {
        let mut c = raw[i];
        i += 1;
        if c == b'\\' {
            match raw.get(i) {
                Some(b'/') => i += 1,
                // An encoder's trailing line break (`base64_text` drops it).
                Some(&e @ (b'n' | b'r')) => {
                    i += 1;
                    out[n] = if e == b'n' { b'\n' } else { b'\r' };
                    n += 1;
                    continue;
                }
                Some(b'u') => {
                    let hex = raw.get(i + 1..i + 5)?;
                    let hex = std::str::from_utf8(hex).ok()?;
                    c = u8::try_from(u16::from_str_radix(hex, 16).ok()?)
                        .ok()
                        .filter(u8::is_ascii)?;
                    i += 5;
                    out[n] = c;
                    n += 1;
                    continue;
                }
                _ => return None,
            }
            c = b'/';
        }
        // No base64 value holds anything else (prose with a `\n` stops
        // here, at its first space).
        if !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_' | b'=' | b'%')) {
            return None;
        }
        out[n] = c;
        n += 1;
    }
    Some(&out[..n])
}

/// `a=1; b=2` (the Cookie header).
pub fn cookies(s: &[u8], v: &mut impl Visitor) -> bool {
    for pair in s.split(|&b| b == b';') {
        let pair = pair.trim_ascii();
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(p) => (&pair[..p], &pair[p + 1..]),
            None => (&pair[..0], pair),
        };
        if bracket_operator(name, value) && !v.field(Kind::NosqlOperator, name, Encoding::RAW) {
            return false;
        }
        if (!name.is_empty() && !v.field(Kind::CookieName, name, Encoding::RAW))
            || !self::value(v, Kind::CookieValue, value, Encoding::RAW)
        {
            return false;
        }
    }
    true
}

/// Bytes after an operator key read as its operand: the operands that
/// matter (`null`, `""`, `{}`, `undefined`) are short.
pub const OPERAND_SPAN: usize = 16;

/// Every string in a JSON document; keys only when they are operators or
/// carry markup/quote characters. Tolerates truncation and invalid JSON.
pub fn json(s: &[u8], v: &mut impl Visitor) -> bool {
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'"' {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut j = start;
        while j < s.len() && s[j] != b'"' {
            j += if s[j] == b'\\' { 2 } else { 1 };
        }
        let end = j.min(s.len());
        let text = &s[start..end];
        i = end + 1;
        let mut k = i;
        while k < s.len() && s[k].is_ascii_whitespace() {
            k += 1;
        }
        let is_key = s.get(k) == Some(&b':');
        if is_key {
            if let Some(op) = text.strip_prefix(b"$") {
                if !v.walked() {
                    return false;
                }
                let vstart = k + 1;
                // Operands that matter are short (`null`, `""`, `{}`): a
                // bounded look keeps `{"$a":{"$a":...` linear.
                let vend = s[vstart.min(s.len())..]
                    .iter()
                    .take(OPERAND_SPAN)
                    .position(|&b| b == b',' || b == b'}')
                    .map_or((vstart + OPERAND_SPAN).min(s.len()), |e| vstart + e);
                if (nosql_operator(op, s.get(vstart..vend).unwrap_or(&[]))
                    || empty_branch(op, s.get(vstart..).unwrap_or(&[])))
                    && !v.field(Kind::NosqlOperator, text, Encoding::JSON)
                {
                    return false;
                }
            }
            let proto = text == b"__proto__"
                || (text == b"constructor"
                    && find(&s[k..s.len().min(k + 24)], b"\"prototype\"").is_some());
            if proto && !v.field(Kind::PrototypeKey, text, Encoding::JSON) {
                return false;
            }
            let plain = text.iter().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'$' | b' ')
            });
            // Dotted class names (`java.lang.Runtime`) and `__proto__` are
            // what polymorphic deserializers and prototype pollution read
            // from keys.
            let class_like =
                text.iter().filter(|&&b| b == b'.').count() >= 2 || find(text, b"__").is_some();
            // Session 12: keys are read as values when they hold what
            // only an attack names there: a JDK package with one dot
            // (`sun.reflect`), a PHP superglobal or a shell variable
            // (`$_GET`, `$GLOBALS`, `$IFS`; MongoDB's operators are
            // lowercase), a Java attack token (`classLoader`), or a
            // space (`{"uname -a": 1}`: the value rules' own ground).
            let value_like = || {
                [
                    b"sun." as &[u8],
                    b"java.",
                    b"javax.",
                    b"jdk.",
                    b"freemarker.",
                ]
                .iter()
                .any(|p| text.starts_with(p))
                    || (text.first() == Some(&b'$')
                        && text
                            .get(1)
                            .is_some_and(|b| b.is_ascii_uppercase() || *b == b'_'))
                    || text.contains(&b' ')
                    || super::rce::attack_token(text)
            };
            if plain && !class_like && !value_like() {
                continue;
            }
        }
        if !text.is_empty() && !self::value(v, Kind::BodyValue, text, Encoding::JSON) {
            return false;
        }
    }
    true
}

/// `"$or": [{}, ...]` (also `$and`, `$nor`): a branch with no condition
/// matches every document. Read within `OPERAND_SPAN` bytes, whitespace
/// skipped.
fn empty_branch(op: &[u8], after: &[u8]) -> bool {
    if !matches!(op, b"or" | b"and" | b"nor") {
        return false;
    }
    let mut shape = after
        .iter()
        .take(OPERAND_SPAN)
        .copied()
        .filter(|b| !b.is_ascii_whitespace());
    shape.next() == Some(b'[') && shape.next() == Some(b'{') && shape.next() == Some(b'}')
}

/// Parts of a `multipart/form-data` body; file contents are skipped, their
/// names are not.
pub fn multipart(s: &[u8], content_type: &[u8], v: &mut impl Visitor) -> bool {
    let Some(b) = find(content_type, b"boundary=").map(|p| &content_type[p + 9..]) else {
        return raw_text(s, v);
    };
    let b = b.split(|&c| c == b';').next().unwrap_or(b).trim_ascii();
    let b = b
        .strip_prefix(b"\"")
        .and_then(|x| x.strip_suffix(b"\""))
        .unwrap_or(b);
    parts(s, b, v)
}

/// The boundary of a body that is multipart by its shape: a first line of
/// `--` and a boundary (RFC 2046: at most 70 characters, no space at its
/// end), then a part header. Sent without a content type (or without its
/// `boundary=`), such a body is still split by frameworks that sniff it,
/// and by nothing that reads it as one text field.
pub fn sniffed_boundary(s: &[u8]) -> Option<&[u8]> {
    let rest = s.strip_prefix(b"--")?;
    let eol = rest.iter().take(72).position(|&b| b == b'\n')?;
    let b = rest[..eol].strip_suffix(b"\r").unwrap_or(&rest[..eol]);
    let bchar = |c: &u8| c.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(c);
    if b.is_empty() || b.len() > 70 || b.ends_with(b" ") || !b.iter().all(bchar) {
        return None;
    }
    rest[eol + 1..]
        .get(..20)
        .is_some_and(|h| h.eq_ignore_ascii_case(b"content-disposition:"))
        .then_some(b)
}

/// Parts of a multipart body delimited by `--boundary`.
fn parts(s: &[u8], b: &[u8], v: &mut impl Visitor) -> bool {
    let mut delim = [0u8; 74];
    if b.is_empty() || b.len() + 2 > delim.len() {
        return raw_text(s, v);
    }
    delim[..2].copy_from_slice(b"--");
    delim[2..2 + b.len()].copy_from_slice(b);
    let delim = &delim[..2 + b.len()];
    let mut pos = match find(s, delim) {
        Some(p) => p + delim.len(),
        None => return raw_text(s, v),
    };
    while pos < s.len() {
        let next = find_from(s, pos, delim).unwrap_or(s.len());
        let part = &s[pos..next];
        pos = next + delim.len();
        // Parsers that accept bare LF line ends (PHP, several frameworks)
        // read the part too.
        let Some((h, sep)) = find(part, b"\r\n\r\n")
            .map(|h| (h, 4))
            .or_else(|| find(part, b"\n\n").map(|h| (h, 2)))
        else {
            continue;
        };
        let (headers, body) = (&part[..h], &part[h + sep..]);
        let body = body.strip_suffix(b"\r\n").unwrap_or(body);
        if !part_headers(headers, v) {
            return false;
        }
        if let Some(f) = find(headers, b"filename=") {
            let name = headers[f + 9..]
                .split(|&c| c == b';' || c == b'\r' || c == b'\n')
                .next()
                .unwrap_or(&[]);
            if !v.field(Kind::FileName, name, Encoding::RAW) {
                return false;
            }
            continue;
        }
        if !body.is_empty() && !self::value(v, Kind::BodyValue, body, Encoding::RAW) {
            return false;
        }
    }
    true
}

/// The field name a part carries (`name="..."`, read as an argument name)
/// and any header besides the disposition and content type.
fn part_headers(headers: &[u8], v: &mut impl Visitor) -> bool {
    for line in headers.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (line[..colon].trim_ascii(), line[colon + 1..].trim_ascii());
        if name.eq_ignore_ascii_case(b"content-disposition") {
            if let Some(p) = find(value, b"name=").filter(|&p| p == 0 || value[p - 1] != b'e') {
                let rest = &value[p + 5..];
                let field = match rest.strip_prefix(b"\"") {
                    Some(q) => q.split(|&c| c == b'"').next().unwrap_or(q),
                    None => rest.split(|&c| c == b';').next().unwrap_or(rest),
                };
                if !v.field(Kind::ArgName, field, Encoding::RAW) {
                    return false;
                }
            }
        } else if !name.eq_ignore_ascii_case(b"content-type")
            && !name.eq_ignore_ascii_case(b"content-transfer-encoding")
            && !v.field(Kind::PartHeader, value, Encoding::RAW)
        {
            return false;
        }
    }
    true
}

/// Attribute values of one XML start tag (`<a b="v">` gives `v`), except
/// namespace declarations and schema locations, which are URLs by design.
fn xml_attributes(tag: &[u8], v: &mut impl Visitor) -> bool {
    let mut i = 0;
    while let Some(eq) = tag[i..].iter().position(|&b| b == b'=').map(|p| i + p) {
        let name_end = tag[..eq]
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map_or(0, |p| p + 1);
        let name_start = tag[..name_end]
            .iter()
            .rposition(|b| b.is_ascii_whitespace())
            .map_or(0, |p| p + 1);
        let name = &tag[name_start..name_end];
        let mut k = eq + 1;
        while tag.get(k).is_some_and(u8::is_ascii_whitespace) {
            k += 1;
        }
        let Some(&q @ (b'"' | b'\'')) = tag.get(k) else {
            i = eq + 1;
            continue;
        };
        let end = tag[k + 1..]
            .iter()
            .position(|&b| b == q)
            .map_or(tag.len(), |e| k + 1 + e);
        let value = &tag[k + 1..end];
        let schema = name.starts_with(b"xmlns")
            || name.ends_with(b"schemaLocation")
            || name.ends_with(b"noNamespaceSchemaLocation");
        if !schema && !value.is_empty() && !self::value(v, Kind::BodyValue, value, Encoding::RAW) {
            return false;
        }
        i = end.min(tag.len() - 1) + 1;
        if i >= tag.len() {
            break;
        }
    }
    true
}

/// Local names (any namespace prefix) of the XHTML and SVG elements that
/// run script or carry event handlers a browser fires without a click.
const ACTIVE_ELEMENTS: &[&[u8]] = &[
    b"script", b"svg", b"img", b"image", b"iframe", b"animate", b"set", b"handler", b"body",
    b"html", b"object", b"embed",
];

/// Whether a start tag (without `<`) is of an [`ACTIVE_ELEMENTS`] element.
fn active_element(tag: &[u8]) -> bool {
    let name_len = tag
        .iter()
        .take_while(|b| !b.is_ascii_whitespace() && !matches!(b, b'/' | b'>'))
        .count();
    let name = &tag[..name_len];
    let local = name
        .iter()
        .rposition(|&b| b == b':')
        .map_or(name, |p| &name[p + 1..]);
    ACTIVE_ELEMENTS
        .iter()
        .any(|e| local.eq_ignore_ascii_case(e))
}

/// Text nodes, CDATA sections and attribute values of an XML document
/// (namespace and schema attributes are URLs by design and skipped).
pub fn xml_text(s: &[u8], v: &mut impl Visitor) -> bool {
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'<' {
            if s.get(i..i + 9)
                .is_some_and(|t| t.eq_ignore_ascii_case(b"<![cdata["))
            {
                let end = find_from(s, i + 9, b"]]>").unwrap_or(s.len());
                if !v.field(Kind::BodyValue, &s[i + 9..end], Encoding::RAW) {
                    return false;
                }
                i = end + 3;
                continue;
            }
            let end = find_from(s, i, b">").unwrap_or(s.len());
            let tag = &s[i + 1..end];
            if !matches!(tag.first(), Some(b'?' | b'!' | b'/')) && !xml_attributes(tag, v) {
                return false;
            }
            // Session 13: a processing instruction for anything but XML
            // itself (`<?php system('id'); ?>`, `<?= ... ?>`, `<? ... ?>`)
            // is code for the interpreter that reads the document as a
            // template, and is read whole; the declaration and the style
            // sheet and schema PIs are XML's own.
            if tag.first() == Some(&b'?')
                && !xml_own_instruction(&tag[1..])
                && !v.field(
                    Kind::BodyValue,
                    &s[i..(end + 1).min(s.len())],
                    Encoding::RAW,
                )
            {
                return false;
            }
            // An element that runs script in the XHTML or SVG a document
            // embeds (`<x:script xmlns:x="http://www.w3.org/1999/xhtml">`,
            // `<svg onload=...>`): the start tag itself is a field, so the
            // markup scanner reads it whole.
            if active_element(tag)
                && !v.field(
                    Kind::BodyValue,
                    &s[i..(end + 1).min(s.len())],
                    Encoding::RAW,
                )
            {
                return false;
            }
            i = end + 1;
            continue;
        }
        let end = find_from(s, i, b"<").unwrap_or(s.len());
        // Whitespace between elements is skipped; a text node is passed
        // whole, since a line break that opens it can be an injection
        // (`<to>\r\nBcc: ...</to>`).
        let text = &s[i..end];
        if !text.trim_ascii().is_empty() && !value(v, Kind::BodyValue, text, Encoding::RAW) {
            return false;
        }
        i = end;
    }
    true
}

/// A processing instruction's text after `<?` that is XML's own: the
/// declaration (`xml` and a space), `xml-stylesheet`, `xml-model`.
fn xml_own_instruction(pi: &[u8]) -> bool {
    let name = pi
        .iter()
        .take_while(|b| !b.is_ascii_whitespace() && **b != b'?')
        .count();
    let target = &pi[..name];
    (target.eq_ignore_ascii_case(b"xml") && name < pi.len() && pi[name].is_ascii_whitespace())
        || target.eq_ignore_ascii_case(b"xml-stylesheet")
        || target.eq_ignore_ascii_case(b"xml-model")
}

/// Whether a body that opens with `<` (after spaces) is markup: a tag
/// name, `<!`, `</` or the XML declaration follow. A body of another
/// type that opens `<?php`, `<%=` or `<(` is one text field instead
/// (session 13: `php://input` reads it as code).
pub fn opens_markup(s: &[u8]) -> bool {
    let Some(at) = s.iter().position(|b| !b.is_ascii_whitespace()) else {
        return false;
    };
    match s.get(at + 1) {
        Some(b) if b.is_ascii_alphabetic() || matches!(b, b'!' | b'/' | b'_' | b':') => true,
        Some(b'?') => s.get(at + 2..).is_some_and(xml_own_instruction),
        _ => false,
    }
}

/// Whether a body without a content type is JSON: an object, or an array
/// whose first element is a JSON value (`[{`, `["a"`, `[1`, `[]`). A form
/// body that opens with a bracketed name (`[$ne]=1`, `[user]=x`) is not.
pub fn looks_json(s: &[u8]) -> bool {
    let mut it = s.iter().copied().filter(|b| !b.is_ascii_whitespace());
    match it.next() {
        Some(b'{') => true,
        Some(b'[') => matches!(
            it.next(),
            None | Some(b'{' | b'[' | b']' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n')
        ),
        _ => false,
    }
}

/// A body of unknown type: a multipart body by its shape (see
/// [`sniffed_boundary`]), else one text field.
pub fn raw_text(s: &[u8], v: &mut impl Visitor) -> bool {
    if let Some(b) = sniffed_boundary(s) {
        return parts(s, b, v);
    }
    // Text with `%XX` escapes and no literal space was form-encoded by
    // whoever sent it (`%27+union+select+1`): its `+` are spaces.
    let window = &s[..s.len().min(super::normalize::WINDOW)];
    let form_encoded = !window
        .iter()
        .any(|b| b.is_ascii_whitespace() && *b != b'\n')
        && window.contains(&b'+')
        && window
            .windows(3)
            .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit());
    let enc = if form_encoded {
        Encoding::FORM
    } else {
        Encoding::RAW
    };
    value(v, Kind::BodyValue, s, enc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect(Vec<(Kind, String)>);
    impl Visitor for Collect {
        fn field(&mut self, kind: Kind, raw: &[u8], _: Encoding) -> bool {
            self.0
                .push((kind, String::from_utf8_lossy(raw).into_owned()));
            true
        }
    }

    #[test]
    fn splits() {
        let mut c = Collect::default();
        urlencoded(b"a=1&user[$ne]=&x", &mut c);
        assert_eq!(c.0.len(), 6);
        assert_eq!(c.0[2].0, Kind::NosqlOperator);
        for (q, rfi) in [
            ("mosConfig_absolute_path=https://foo.bar", true),
            ("_CONF%5Bpath%5D=http%3A%2F%2Fevil.example%2F", true),
            ("config[root_dir]=ftp://evil.example/x.txt?", true),
            ("include=http://evil.example/shell.php", true),
            ("image_path=https://cdn.example.com/a/logo.png", false),
            ("redirect=https://evil.example/", false),
            ("redir=https://shop.example/", false),
            ("mainpath=http://evil.example/shell.txt", true),
            ("_PSL[classdir]=http://evil.example/", true),
            ("sysFileDir=http://evil.example/x.inc", true),
            ("asset_redir=https://shop.example/", false),
            ("thumbnailpath=https://cdn.example.com/t/1.png", false),
            ("path=/var/www", false),
        ] {
            let mut c = Collect::default();
            urlencoded(q.as_bytes(), &mut c);
            assert_eq!(c.0[0].0 == Kind::RemoteInclude, rfi, "{q}");
        }
        let mut c = Collect::default();
        json(
            br#"{"name": "O\"Brien", "q": {"$gt": ""}, "n": 5, "k<x": 1}"#,
            &mut c,
        );
        let kinds: Vec<Kind> = c.0.iter().map(|f| f.0).collect();
        assert_eq!(
            kinds,
            vec![Kind::BodyValue, Kind::NosqlOperator, Kind::BodyValue]
        );
        assert_eq!(c.0[0].1, "O\\\"Brien");
        let mut c = Collect::default();
        let body = b"--xx\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Note: <b>\r\n\r\nhello\r\n--xx\r\nContent-Disposition: form-data; name=\"f\"; filename=\"../a.php\"\r\nContent-Type: image/png\r\n\r\nBINARY\r\n--xx--\r\n";
        multipart(body, b"multipart/form-data; boundary=xx", &mut c);
        assert_eq!(
            c.0,
            vec![
                (Kind::ArgName, "a".to_string()),
                (Kind::PartHeader, "<b>".to_string()),
                (Kind::BodyValue, "hello".to_string()),
                (Kind::ArgName, "f".to_string()),
                (Kind::FileName, "\"../a.php\"".to_string()),
            ]
        );
        let mut c = Collect::default();
        xml_text(
            b"<?xml version=\"1.0\"?><a xmlns:x=\"http://x\" x:schemaLocation=\"http://s\"><b id='7' note = \"it's\">text</b><![CDATA[<x>]]></a>",
            &mut c,
        );
        assert_eq!(
            c.0.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
            vec!["7", "it's", "text", "<x>"]
        );
        let mut c = Collect::default();
        xml_text(
            b"<r><x:script xmlns:x=\"http://www.w3.org/1999/xhtml\">a</x:script><order onHold=\"1\"/></r>",
            &mut c,
        );
        assert_eq!(
            c.0.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
            vec![
                "<x:script xmlns:x=\"http://www.w3.org/1999/xhtml\">",
                "a",
                "1"
            ]
        );
    }

    /// Bodies sent without a content type are split by their shape: a
    /// multipart body by its first boundary line, a form that opens with
    /// a bracketed operator name as a form, not as a JSON array.
    #[test]
    fn untyped_bodies_are_sniffed() {
        use super::super::{inspect_all, Input};
        use crate::model::AttackClass as A;
        for (body, json) in [
            (&b"{\"a\": 1}"[..], true),
            (b" [ {\"a\": 1} ]", true),
            (b"[\"a\", 2]", true),
            (b"[1,2]", true),
            (b"[]", true),
            (b"[$ne]=1", false),
            (b"[user]=alice", false),
            (b"name=x", false),
        ] {
            assert_eq!(looks_json(body), json, "{}", String::from_utf8_lossy(body));
        }
        assert_eq!(
            sniffed_boundary(b"--gtw\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx"),
            Some(&b"gtw"[..])
        );
        assert_eq!(
            sniffed_boundary(b"------WebKitFormBoundary7MA4YWxk\ncontent-disposition: form-data"),
            Some(&b"----WebKitFormBoundary7MA4YWxk"[..])
        );
        assert_eq!(sniffed_boundary(b"-- a comment\nContent-Type: x"), None);
        assert_eq!(sniffed_boundary(b"--\nContent-Disposition: x"), None);
        assert_eq!(sniffed_boundary(b"--x; rm -rf\nhello"), None);
        let mut c = Collect::default();
        raw_text(
            b"--b\r\nContent-Disposition: form-data; name=\"q\"\r\n\r\nhello\r\n--b--\r\n",
            &mut c,
        );
        assert_eq!(
            c.0,
            vec![
                (Kind::ArgName, "q".to_string()),
                (Kind::BodyValue, "hello".to_string())
            ]
        );
        let untyped = |body: &[u8]| {
            inspect_all(&Input {
                target: b"/api/post",
                headers: &[],
                body: Some(body),
            })
        };
        // The part's value is read as a value, the file's bytes are not.
        let part = b"--gtw\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{\"$where\": \"sleep(5000)\"}\r\n--gtw--\r\n";
        assert!(untyped(part).contains(A::Nosql));
        let file = b"--gtw\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\n' or 1=1 -- <script>\r\n--gtw--\r\n";
        assert!(untyped(file).is_empty());
        assert!(untyped(b"[$ne]=1").contains(A::Nosql));
        assert!(untyped(b"user[$ne]=1&pass[$ne]=1").contains(A::Nosql));
        assert!(untyped(b"[1, 2, 3]").is_empty());
        assert!(untyped(b"[{\"price\": \"$5\"}]").is_empty());
    }

    /// Text carried in base64 is read as well as the value; random tokens
    /// and binary data are not decoded past their first bytes.
    #[test]
    fn base64_values_carry_text() {
        use super::super::{inspect_all, Input};
        use crate::model::AttackClass as A;
        let text = |raw: &[u8]| {
            let mut buf = [0u8; BASE64_SPAN];
            base64_text(raw, &mut buf).map(|t| String::from_utf8_lossy(t).into_owned())
        };
        // GoTestWAF's Base64Flat (padding removed), standard, URL-safe, in a URL.
        assert_eq!(text(b"JyBvciAxPTE").as_deref(), Some("' or 1=1"));
        assert_eq!(text(b"JyBvciAxPTEtLQ==").as_deref(), Some("' or 1=1--"));
        assert_eq!(
            text(b"L2V0Yy9tYXN0ZXIucGFzc3dk").as_deref(),
            Some("/etc/master.passwd")
        );
        assert_eq!(text(b"PD94bWw%2BPC8%2B").as_deref(), Some("<?xml></>"));
        // An encoder's line break at the end, literal or in a URL.
        assert_eq!(text(b"JyBvciAxPTEtLQ==\n").as_deref(), Some("' or 1=1--"));
        assert_eq!(
            text(b"L2V0Yy9tYXN0ZXIucGFzc3dk%0D%0A").as_deref(),
            Some("/etc/master.passwd")
        );
        assert_eq!(
            text(b"JyBvciAxPTE%0Ax").as_deref(),
            None,
            "a break inside ends nothing"
        );
        assert_eq!(text(b"%0A%0A%0A%0A%0A%0A").as_deref(), None);
        assert_eq!(text(b"Pz8_Pz8_Pz8_").as_deref(), Some("?????????"));
        assert_eq!(
            text(b"PHNjcgBpcHQ+YWxlcnQoMSk8L3NjcmlwdD4").as_deref(),
            Some("<script>alert(1)</script>"),
            "a null byte is dropped, as normalisation drops it"
        );
        for token in [
            &b"8f3a2c9e1b7d4a60"[..],
            b"550e8400-e29b-41d4-a716-446655440000",
            b"username",
            b"1234567890",
            b"iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB",
            b"YWJj",
            b"abc+def-ghij",
            b"SGVsbG8=d29ybGQ",
            b"q=a&b=c",
        ] {
            assert_eq!(text(token), None, "{}", String::from_utf8_lossy(token));
        }
        let get = |target: &[u8], cookie: &[u8]| {
            inspect_all(&Input {
                target,
                headers: &[
                    (b"cookie", cookie),
                    (b"x-data", b"Li4vLi4vLi4vZXRjL3Bhc3N3ZA"),
                ],
                body: None,
            })
        };
        let found = get(b"/get?q=JyBvciAxPTEtLQ", b"sid=e30");
        assert!(found.contains(A::Sqli) && found.contains(A::Traversal));
        // In a JSON string written with `\u00XX` escapes (GoTestWAF's
        // JSONRequest): `../../etc/passwd`.
        let json = inspect_all(&Input {
            target: b"/",
            headers: &[(b"content-type", b"application/json")],
            body: Some(
                br#"{"test": true, "a": "\u004c\u0069\u0034\u0076\u004c\u0069\u0034\u0076\u005a\u0058\u0052\u006a\u004c\u0033\u0042\u0068\u0063\u0033\u004e\u0033\u005a\u0041"}"#,
            ),
        });
        assert!(json.contains(A::Traversal), "{json:?}");
        let mut out = [0u8; JSON_BASE64_BYTES];
        assert_eq!(json_ascii(br"a\/b\u0041", &mut out), Some(&b"a/bA"[..]));
        assert_eq!(json_ascii(br"ab", &mut out), None);
        assert_eq!(json_ascii(br"a\nb", &mut out), Some(&b"a\nb"[..]));
        assert_eq!(json_ascii(br"a\tb", &mut out), None);
        assert_eq!(json_ascii(br"a\u00e9", &mut out), None);
        assert_eq!(json_ascii(br"a\u00", &mut out), None);
        let found = get(b"/get?q=1", b"sid=eyIkbmUiOiBudWxsfQ");
        assert!(found.contains(A::Nosql), "{{\"$ne\": null}} in a cookie");
        let clean = inspect_all(&Input {
            target: b"/get?q=aGVsbG8gd29ybGQ&id=8f3a2c9e1b7d4a60",
            headers: &[(b"cookie", b"sid=eyJ1c2VyIjogImFsaWNlIn0")],
            body: Some(br#"{"avatar": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB", "note": "SGVsbG8sIE8nQnJpZW4h"}"#),
        });
        assert!(clean.is_empty(), "{clean:?}");
    }
}
