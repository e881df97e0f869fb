//! Cross-site scripting: a small HTML/JS scanner.
//!
//! Markup itself is not an attack (rich-text editors post `<p>`, `<b>`,
//! `<a href="https://...">`, `<img src=...>`), script is. So the scanner walks
//! every tag in the value and flags only what executes: `<script>` (and a
//! closing `</script>` that escapes a script block), any `on*=` event handler,
//! `srcdoc`, `<base href>`, `<meta http-equiv>`, and `style` with CSS
//! expressions or bindings. Outside tags it flags script URLs (`javascript:`
//! even with whitespace inside the scheme, `vbscript:`, `data:text/html`),
//! attribute breakouts (`" onmouseover=...(`) and JavaScript string breakouts
//! (`';alert(1)//`, `"-confirm(1)-"`) that end in a call to a script sink.

use super::needles::Needles;
use super::normalize::{find, trig, Normalized};

/// Bytes of a tag scanned for attributes before giving up.
const TAG_SPAN: usize = 512;

pub fn detect(n: &Normalized) -> bool {
    let s = n.text;
    (n.has(trig::LT) && tags(s))
        || (n.has(trig::COLON) && (script_url(s) || css(s)))
        || (n.has(trig::EQ) && loose_handler(s))
        || (n.has(trig::PAREN) && n.has(trig::QUOTE | trig::LT | trig::SEMI) && js_breakout(s))
        || (n.has(trig::PAREN | trig::QUOTE) && bare_sink_call(s))
}

fn is_name(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b':' || b == b'_'
}

/// Every `<tag ...` in the value.
fn tags(s: &[u8]) -> bool {
    let mut i = 0;
    while let Some(p) = s.get(i..).and_then(|t| t.iter().position(|&b| b == b'<')) {
        let lt = i + p;
        i = lt + 1;
        let closing = s.get(i) == Some(&b'/');
        let name_start = if closing { i + 1 } else { i };
        let mut j = name_start;
        while j < s.len() && is_name(s[j]) {
            j += 1;
        }
        let name = &s[name_start..j];
        if name.is_empty() || !name[0].is_ascii_alphabetic() {
            continue;
        }
        let after = s.get(j).copied();
        // Browsers end a tag name at whitespace (CR, LF, tab: `\n` here), `/`
        // and `>`; `+` reaches them as a space from forms and some decoders.
        let ends = matches!(after, None | Some(b'>' | b' ' | b'/' | b'\n' | b'+'));
        if name == b"script" && ends {
            return true;
        }
        if closing || !ends {
            continue;
        }
        let end = s
            .get(j..)
            .and_then(|t| t.iter().position(|&b| b == b'>' || b == b'<'))
            .map_or(s.len(), |e| j + e);
        let attrs = &s[j..end.min(j + TAG_SPAN)];
        if dangerous_attrs(name, attrs) {
            return true;
        }
    }
    false
}

/// Attributes of one tag: names start after a space, `/` or a closing quote.
fn dangerous_attrs(tag: &[u8], attrs: &[u8]) -> bool {
    let mut k = 0;
    while k < attrs.len() {
        let b = attrs[k];
        if matches!(b, b' ' | b'/' | b'\n' | b'"' | b'\'' | b'+') {
            k += 1;
            continue;
        }
        let start = k;
        while k < attrs.len() && is_name(attrs[k]) {
            k += 1;
        }
        let name = &attrs[start..k];
        let mut v = k;
        while matches!(attrs.get(v), Some(b' ' | b'\n')) {
            v += 1;
        }
        let has_value = attrs.get(v) == Some(&b'=');
        if name.len() > 4 && name.starts_with(b"on") && has_value {
            return true;
        }
        let value_end = value_end(attrs, v + 1);
        let value = attrs.get(v + 1..value_end).unwrap_or(&[]);
        match name {
            b"srcdoc" if has_value => return true,
            b"href" if tag == b"base" && has_value => return true,
            b"http-equiv" if tag == b"meta" => return true,
            b"style" if has_value && css(value) => return true,
            _ => {}
        }
        k = if has_value {
            value_end.max(k + 1)
        } else {
            k.max(start + 1)
        };
    }
    false
}

/// End of an attribute value starting at `i` (quoted or bare).
fn value_end(a: &[u8], mut i: usize) -> usize {
    while a.get(i) == Some(&b' ') {
        i += 1;
    }
    match a.get(i) {
        Some(&q @ (b'"' | b'\'')) => a
            .get(i + 1..)
            .and_then(|t| t.iter().position(|&b| b == q))
            .map_or(a.len(), |e| i + 2 + e),
        _ => a
            .get(i..)
            .and_then(|t| t.iter().position(|&b| b == b' ' || b == b'\n'))
            .map_or(a.len(), |e| i + e),
    }
}

/// Matches `word` at `s[i..]` allowing whitespace between its letters, as
/// browsers strip tabs and newlines inside URL schemes; returns the end.
fn spaced_match(s: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    let mut j = i;
    for (n, &c) in word.iter().enumerate() {
        if n > 0 {
            while matches!(s.get(j), Some(b' ' | b'\n')) {
                j += 1;
            }
        }
        if s.get(j) != Some(&c) {
            return None;
        }
        j += 1;
    }
    Some(j)
}

/// `javascript:alert(1)`, `vbscript:msgbox`, `data:text/html,...`.
fn script_url(s: &[u8]) -> bool {
    for (i, &b) in s.iter().enumerate() {
        let scheme_end = match b {
            b'j' => spaced_match(s, i, b"javascript"),
            b'v' => spaced_match(s, i, b"vbscript"),
            b'l' => spaced_match(s, i, b"livescript"),
            b'd' => {
                let rest = &s[i..];
                const DATA: &[&[u8]] = &[
                    b"data:text/html",
                    b"data:text/javascript",
                    b"data:application/javascript",
                    b"data:application/x-javascript",
                    b"data:application/xhtml",
                    b"data:text/xml",
                ];
                if DATA.iter().any(|d| rest.starts_with(d)) {
                    return true;
                }
                None
            }
            _ => None,
        };
        let Some(mut j) = scheme_end else { continue };
        while s.get(j) == Some(&b' ') {
            j += 1;
        }
        if s.get(j) != Some(&b':') {
            continue;
        }
        // The body must do something: a call, a template call or an
        // assignment ("javascript: the good parts" is a book title).
        let body = &s[j + 1..s.len().min(j + 1 + 256)];
        if calls(body) || body.contains(&b'=') {
            return true;
        }
    }
    false
}

/// `name(` or `` name` `` with no space between: how script calls look.
fn calls(body: &[u8]) -> bool {
    body.windows(2).any(|w| {
        (w[0].is_ascii_alphanumeric() || w[0] == b'_' || w[0] == b']' || w[0] == b')')
            && (w[1] == b'(' || w[1] == b'`')
    })
}

/// CSS that executes: `expression(`, `-moz-binding`, `behavior:url(`.
fn css(s: &[u8]) -> bool {
    if find(s, b"-moz-binding").is_some() || find(s, b"behavior:").is_some() {
        return true;
    }
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| find(t, b"expression(")) {
        let at = from + p;
        let before = s[..at].iter().rev().find(|&&b| b != b' ');
        if matches!(before, Some(b':')) {
            return true;
        }
        from = at + 1;
    }
    false
}

/// `" onmouseover=alert(1)`, `' autofocus onfocus=confirm(1) x='` without a
/// tag: an event handler after a quote or slash whose value runs script.
fn loose_handler(s: &[u8]) -> bool {
    // After a quote or slash any call breaks out; without one (an unquoted
    // attribute, `x onerror=alert(1)`) only a call to a script sink does.
    let first_quote = s.iter().position(|&b| b == b'"' || b == b'\'' || b == b'/');
    let quoted = first_quote.is_some();
    let mut i = first_quote.unwrap_or(0);
    while let Some(p) = s.get(i..).and_then(|t| find(t, b"on")) {
        let at = i + p;
        i = at + 2;
        if !matches!(
            s.get(at.wrapping_sub(1)),
            Some(b' ' | b'/' | b'"' | b'\'' | b'\n' | b'+')
        ) {
            continue;
        }
        let mut j = at + 2;
        while j < s.len() && s[j].is_ascii_lowercase() {
            j += 1;
        }
        if j - at < 5 || j - at > 24 {
            continue;
        }
        while matches!(s.get(j), Some(b' ' | b'\n')) {
            j += 1;
        }
        if s.get(j) != Some(&b'=') {
            continue;
        }
        let value = &s[j + 1..s.len().min(j + 200)];
        if quoted && (calls(value) || value.contains(&b'`')) {
            return true;
        }
        if !quoted && SINKS.found_in(value) && (calls(value) || value.contains(&b'`')) {
            return true;
        }
    }
    false
}

/// A value that is itself a call of a dialog or eval sink, as injected
/// into a script context: `alert(1)`, `(confirm)(1)`, `prompt\`1\``,
/// `confirm.call(null,1)`, `eval(atob("..."))`.
fn bare_sink_call(s: &[u8]) -> bool {
    let mut i = 0;
    while matches!(s.get(i), Some(b'(' | b' ' | b'[' | b'{' | b'}' | b';')) {
        i += 1;
    }
    let rest = &s[i..];
    [b"alert" as &[u8], b"prompt", b"confirm", b"eval"]
        .iter()
        .filter_map(|w| rest.strip_prefix(*w))
        .any(|after| {
            let after = after.strip_prefix(b")").unwrap_or(after);
            after.starts_with(b"(")
                || after.starts_with(b"`")
                || after.starts_with(b".call(")
                || after.starts_with(b".apply(")
                || after.starts_with(b".bind(")
        })
}

/// Script sinks an injected string calls.
const SINKS: Needles = Needles::new(&[
    b"alert",
    b"prompt",
    b"confirm",
    b"eval",
    b"settimeout",
    b"setinterval",
    b"fetch",
    b"atob",
    b"fromcharcode",
    b"document.write",
    b"print",
    b"import",
    b"function",
]);

/// `';alert(1)//`, `"-prompt(1)-"`, `</title><svg>`, `\";confirm(1)//`: a sink
/// call right after a quote and JavaScript punctuation.
fn js_breakout(s: &[u8]) -> bool {
    SINKS.any_match(s, |sink, at| {
        let after = s.get(at + sink.len()).copied();
        if !matches!(after, Some(b'(' | b'`'))
            || s.get(at.wrapping_sub(1))
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            return false;
        }
        // Walk back over JavaScript punctuation to the quote that broke out.
        let mut k = at;
        let mut punct = false;
        while k > 0 {
            let b = s[k - 1];
            match b {
                b'\'' | b'"' | b'`' | b'>' => return punct || b == b'>' || k - 1 == 0,
                b';' | b'+' | b'-' | b'*' | b'/' | b'|' | b'&' | b'^' | b'%' | b',' | b'('
                | b')' | b'=' | b'{' | b'}' | b'!' | b'~' | b'?' | b':' => punct = true,
                b' ' | b'\n' | b'\\' => {}
                _ => return false,
            }
            k -= 1;
        }
        false
    })
}

#[cfg(test)]
mod tests {
    use super::super::normalize::{normalize, Encoding, WINDOW};
    use super::*;

    fn xss(raw: &str) -> bool {
        let mut buf = [0u8; WINDOW];
        detect(&normalize(raw.as_bytes(), Encoding::FORM, &mut buf))
    }

    #[test]
    fn payloads() {
        for p in [
            "<script>alert(1)</script>",
            "\"><svg/onload=confirm(1)>",
            "<img src=x onerror=alert(1)>",
            "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
            "javascript:alert(document.cookie)",
            "';alert(String.fromCharCode(88,83,83))//",
            "\"-prompt(1)-\"",
            "<div style=\"width:expression(alert(1))\">",
            "\" autofocus onfocus=alert(1) x=\"",
            "<iframe srcdoc=\"&lt;script&gt;alert(1)&lt;/script&gt;\">",
            "<object data=\"data:text/html;base64,PHNjcmlwdD4=\">",
            "</title><script>alert(1)</script>",
            "%253Cscript%253Ealert(1)%253C/script%253E",
        ] {
            assert!(xss(p), "{p}");
        }
    }

    #[test]
    fn benign_markup_and_text() {
        for p in [
            "<p>Hello <b>world</b></p>",
            "<a href=\"https://example.com/x?a=1\">link</a>",
            "<img src=\"https://cdn.example.com/a.png\" alt=\"cat\">",
            "javascript: the good parts",
            "x < y and y > z",
            "I <3 you",
            "please confirm (yes/no)",
            "call on=monday",
            "Use `alert()` in the console",
        ] {
            assert!(!xss(p), "{p}");
        }
    }
}
