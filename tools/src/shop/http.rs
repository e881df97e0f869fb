//! Transport-neutral request and response types for the demo shop, and the
//! parsing the shop needs: URL split, percent-decoding, query strings, cookies,
//! and request bodies that may be form-encoded or JSON.
//!
//! The server (`server.rs`, `wire.rs`) fills a [`ShopRequest`] from the wire,
//! so routing and parsing are tested without sockets. Every parser here is
//! total: malformed input yields an error value or a lossy string, never a panic.

use serde::Serialize;

/// Largest request body the shop accepts; bigger ones get 413.
pub const MAX_BODY: usize = 64 * 1024;
/// Cap on parsed form/query pairs, so a hostile body cannot build a huge list.
const MAX_PAIRS: usize = 64;

/// One request as the shop sees it. Header values are empty when absent.
#[derive(Debug, Default, Clone, Copy)]
pub struct ShopRequest<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub accept: &'a str,
    pub content_type: &'a str,
    pub cookie: &'a str,
    pub if_none_match: &'a str,
    pub body: &'a [u8],
}

impl<'a> ShopRequest<'a> {
    pub fn path(&self) -> &'a str {
        split_url(self.url).0
    }

    pub fn query(&self) -> &'a str {
        split_url(self.url).1
    }

    pub fn param(&self, name: &str) -> Option<String> {
        param(self.query(), name)
    }

    pub fn cookie(&self, name: &str) -> Option<&'a str> {
        cookie(self.cookie, name)
    }

    /// A client that asks for JSON and not for HTML (fetch/XHR, SDKs).
    pub fn wants_json(&self) -> bool {
        self.accept.contains("application/json") && !self.accept.contains("text/html")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl ShopResponse {
    pub fn new(status: u16, content_type: &'static str, body: Vec<u8>) -> ShopResponse {
        ShopResponse {
            status,
            content_type,
            headers: Vec::new(),
            body,
        }
    }

    pub fn html(status: u16, body: String) -> ShopResponse {
        Self::new(status, "text/html; charset=utf-8", body.into_bytes())
    }

    pub fn text(status: u16, body: &str) -> ShopResponse {
        Self::new(
            status,
            "text/plain; charset=utf-8",
            body.as_bytes().to_vec(),
        )
    }

    pub fn json<T: Serialize>(status: u16, value: &T) -> ShopResponse {
        match serde_json::to_vec(value) {
            Ok(body) => Self::new(status, "application/json", body),
            Err(_) => Self::text(500, "serialisation failed"),
        }
    }

    /// `{"error": message}` with the given status.
    pub fn error_json(status: u16, message: &str) -> ShopResponse {
        Self::json(status, &serde_json::json!({ "error": message }))
    }

    pub fn with_header(mut self, name: &'static str, value: String) -> ShopResponse {
        self.headers.push((name, value));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `/a/b?x=1#frag` -> (`/a/b`, `x=1`).
pub fn split_url(url: &str) -> (&str, &str) {
    let url = url.split('#').next().unwrap_or("");
    match url.split_once('?') {
        Some((p, q)) => (p, q),
        None => (url, ""),
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decode (and `+` as space for form data); invalid escapes stay
/// literal and invalid UTF-8 becomes U+FFFD, the way browsers are lenient.
pub fn percent_decode(s: &str, plus_as_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let h = bytes.get(i + 1).copied().and_then(hex);
            let l = bytes.get(i + 2).copied().and_then(hex);
            if let (Some(h), Some(l)) = (h, l) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(if plus_as_space && b == b'+' { b' ' } else { b });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encode for a query value or form field (RFC 3986 unreserved kept).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `a=1&b=x+y` -> pairs, decoded, at most [`MAX_PAIRS`].
pub fn parse_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|kv| !kv.is_empty())
        .take(MAX_PAIRS)
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// First value of a query parameter.
pub fn param(query: &str, name: &str) -> Option<String> {
    parse_pairs(query)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Value of one cookie in a `Cookie:` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// Fields of a request body.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The trimmed value of a non-empty field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// Parse a form-encoded or JSON body into flat fields. JSON must be an object;
/// scalar members become text, nested ones are ignored. The error carries the
/// status to answer (400 bad syntax, 415 unsupported type).
pub fn parse_body(content_type: &str, body: &[u8]) -> Result<Fields, (u16, &'static str)> {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "application/json" => {
            let value: serde_json::Value =
                serde_json::from_slice(body).map_err(|_| (400, "invalid JSON"))?;
            let obj = value
                .as_object()
                .ok_or((400, "JSON body must be an object"))?;
            let fields = obj
                .iter()
                .take(MAX_PAIRS)
                .filter_map(|(k, v)| {
                    let text = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Number(n) => n.to_string(),
                        serde_json::Value::Bool(b) => b.to_string(),
                        _ => return None,
                    };
                    Some((k.clone(), text))
                })
                .collect();
            Ok(Fields(fields))
        }
        // A bare POST without a type is treated as a form, like most frameworks.
        "application/x-www-form-urlencoded" | "" => {
            let text = std::str::from_utf8(body).map_err(|_| (400, "body is not UTF-8"))?;
            Ok(Fields(parse_pairs(text.trim_end_matches(['\r', '\n']))))
        }
        _ => Err((
            415,
            "use application/x-www-form-urlencoded or application/json",
        )),
    }
}

/// Escape text for HTML element content and quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_split_and_params() {
        assert_eq!(split_url("/a/b?x=1&y=2#f"), ("/a/b", "x=1&y=2"));
        assert_eq!(split_url("/only"), ("/only", ""));
        assert_eq!(param("q=red+oak&page=2", "q").as_deref(), Some("red oak"));
        assert_eq!(param("q=%E2%82%AC", "q").as_deref(), Some("€"));
        assert_eq!(param("q", "q").as_deref(), Some(""));
        assert_eq!(param("a=1", "q"), None);
    }

    #[test]
    fn percent_decoding_is_lenient() {
        assert_eq!(percent_decode("100%", false), "100%");
        assert_eq!(percent_decode("%zz%4", false), "%zz%4");
        assert_eq!(percent_decode("a%20b+c", false), "a b+c");
        assert_eq!(percent_decode("%ff", false), "\u{fffd}");
        assert_eq!(percent_decode("%41%42", true), "AB");
        assert_eq!(percent_encode("a b&c/é"), "a%20b%26c%2F%C3%A9");
    }

    #[test]
    fn cookies() {
        let h = "theme=dark; sid=abc123;cart=x";
        assert_eq!(cookie(h, "sid"), Some("abc123"));
        assert_eq!(cookie(h, "cart"), Some("x"));
        assert_eq!(cookie(h, "none"), None);
        assert_eq!(cookie("", "sid"), None);
    }

    #[test]
    fn bodies() {
        let f = parse_body(
            "application/x-www-form-urlencoded",
            b"username=demo&password=a%26b",
        );
        assert_eq!(
            f.map(|f| f.get("password").map(str::to_owned)),
            Ok(Some("a&b".into()))
        );
        let j = parse_body(
            "application/json; charset=utf-8",
            br#"{"product_id": 7, "qty": "2", "x": [1]}"#,
        );
        let j = j.unwrap_or_default();
        assert_eq!(j.get("product_id"), Some("7"));
        assert_eq!(j.get("qty"), Some("2"));
        assert_eq!(j.get("x"), None);
        assert_eq!(
            parse_body("application/json", b"{bad"),
            Err((400, "invalid JSON"))
        );
        assert_eq!(
            parse_body("application/json", b"[1,2]").map(|_| ()),
            Err((400, "JSON body must be an object"))
        );
        assert_eq!(
            parse_body("text/xml", b"<a/>").map(|_| ()).map_err(|e| e.0),
            Err(415)
        );
        assert_eq!(
            parse_body("", &[0xff, 0xfe]).map(|_| ()).map_err(|e| e.0),
            Err(400)
        );
        assert_eq!(Fields::default().get("a"), None);
        let blank = parse_body("", b"a=+++").unwrap_or_default();
        assert_eq!(blank.get("a"), None, "whitespace-only counts as missing");
    }

    #[test]
    fn escaping_and_json_preference() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let r = ShopRequest {
            accept: "application/json",
            ..Default::default()
        };
        assert!(r.wants_json());
        let r = ShopRequest {
            accept: "text/html,application/json;q=0.9",
            ..Default::default()
        };
        assert!(!r.wants_json());
    }
}
