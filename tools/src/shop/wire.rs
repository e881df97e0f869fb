//! HTTP/1.1 on the wire for the demo shop: reading a request head and body
//! with hard limits, and writing a response.
//!
//! Limits: request line and each header line 8 KB, 100 headers, body
//! [`MAX_BODY`] by Content-Length (chunked request bodies get 411: nginx and
//! browsers send a length for the small forms this shop takes). Every failure
//! maps to a status to answer and closes the connection, since the next
//! request's start is unknown.

use super::http::{ShopResponse, MAX_BODY};
use std::io::{self, BufRead, Read, Write};
use std::time::{SystemTime, UNIX_EPOCH};

const MAX_LINE: u64 = 8 * 1024;
const MAX_HEADERS: usize = 100;

/// A parsed request head.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Head {
    pub method: String,
    pub target: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// Whether the client wants the connection kept open after this request.
    pub fn keep_alive(&self) -> bool {
        let c = self.header("Connection").to_ascii_lowercase();
        if self.minor == 0 {
            c.contains("keep-alive")
        } else {
            !c.contains("close")
        }
    }

    /// The declared body length, or the status that refuses it.
    pub fn body_length(&self) -> Result<usize, (u16, &'static str)> {
        if !self.header("Transfer-Encoding").is_empty() {
            return Err((411, "send a Content-Length"));
        }
        let mut length: Option<usize> = None;
        for (k, v) in &self.headers {
            if k.eq_ignore_ascii_case("Content-Length") {
                let n: usize = v.trim().parse().map_err(|_| (400, "bad Content-Length"))?;
                if length.is_some_and(|l| l != n) {
                    return Err((400, "conflicting Content-Length"));
                }
                length = Some(n);
            }
        }
        match length {
            Some(n) if n > MAX_BODY => Err((413, "request body too large (limit 64 KB)")),
            Some(n) => Ok(n),
            None => Ok(0),
        }
    }
}

fn read_line<R: BufRead>(r: &mut R) -> Result<Option<String>, (u16, &'static str)> {
    let mut buf = Vec::new();
    match r.by_ref().take(MAX_LINE).read_until(b'\n', &mut buf) {
        Ok(0) => return Ok(None),
        Ok(_) => {}
        Err(_) => return Err((408, "request timeout")),
    }
    if buf.last() != Some(&b'\n') {
        return Err((431, "request line or header too long"));
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| (400, "request head is not valid UTF-8"))
}

/// Read a request head; `Ok(None)` when the client closed cleanly between requests.
pub fn read_head<R: BufRead>(r: &mut R) -> Result<Option<Head>, (u16, &'static str)> {
    // Tolerate empty lines before a request (RFC 9112, section 2.2).
    let line = loop {
        match read_line(r)? {
            None => return Ok(None),
            Some(l) if l.is_empty() => continue,
            Some(l) => break l,
        }
    };
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err((400, "malformed request line"));
    };
    let minor = match version {
        "HTTP/1.1" => 1,
        "HTTP/1.0" => 0,
        _ => return Err((505, "HTTP version not supported")),
    };
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    if !token(method) || target.is_empty() || target.bytes().any(|b| b.is_ascii_control()) {
        return Err((400, "malformed request line"));
    }
    let mut head = Head {
        method: method.to_owned(),
        target: target.to_owned(),
        minor,
        headers: Vec::new(),
    };
    loop {
        let line = read_line(r)?.ok_or((400, "connection closed in the request head"))?;
        if line.is_empty() {
            return Ok(Some(head));
        }
        if head.headers.len() >= MAX_HEADERS {
            return Err((431, "too many headers"));
        }
        let (name, value) = line.split_once(':').ok_or((400, "malformed header"))?;
        if !token(name) {
            return Err((400, "malformed header name"));
        }
        head.headers
            .push((name.to_owned(), value.trim().to_owned()));
    }
}

/// Read exactly `n` body bytes.
pub fn read_body<R: Read>(r: &mut R, n: usize) -> Result<Vec<u8>, (u16, &'static str)> {
    let mut body = vec![0; n];
    r.read_exact(&mut body)
        .map_err(|_| (400, "request body truncated"))?;
    Ok(body)
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// RFC 9110 IMF-fixdate for a Unix time, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(unix: u64) -> String {
    let days = unix / 86_400;
    let secs = unix % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm), valid for all dates after 1970.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[(days % 7) as usize],
        day,
        MONTHS[(month - 1).clamp(0, 11) as usize],
        year,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Write a response; the body is left out for HEAD (its length is still sent).
pub fn write_response<W: Write>(
    w: &mut W,
    resp: &ShopResponse,
    head_only: bool,
    keep_alive: bool,
) -> io::Result<()> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut out = Vec::with_capacity(256 + resp.body.len());
    write!(
        out,
        "HTTP/1.1 {} {}\r\nServer: demo-shop\r\nDate: {}\r\n",
        resp.status,
        reason(resp.status),
        http_date(now)
    )?;
    write!(
        out,
        "Content-Type: {}\r\nContent-Length: {}\r\n",
        resp.content_type,
        resp.body.len()
    )?;
    for (k, v) in &resp.headers {
        // Header values come from the shop itself; never let one split the head.
        if !v.bytes().any(|b| b == b'\r' || b == b'\n') {
            write!(out, "{k}: {v}\r\n")?;
        }
    }
    write!(
        out,
        "Connection: {}\r\n\r\n",
        if keep_alive { "keep-alive" } else { "close" }
    )?;
    if !head_only && resp.status != 304 {
        out.extend_from_slice(&resp.body);
    }
    w.write_all(&out)?;
    w.flush()
}

/// The `100 Continue` interim response.
pub fn write_continue<W: Write>(w: &mut W) -> io::Result<()> {
    w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn head(raw: &str) -> Result<Option<Head>, (u16, &'static str)> {
        read_head(&mut Cursor::new(raw.as_bytes().to_vec()))
    }

    #[test]
    fn parses_a_request_head() {
        let h = head("\r\nPOST /login?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-Forwarded-For: 10.1.0.1\r\n\r\nhello");
        let h = h.ok().flatten().unwrap_or_default();
        assert_eq!(
            (h.method.as_str(), h.target.as_str(), h.minor),
            ("POST", "/login?x=1", 1)
        );
        assert_eq!(h.header("content-length"), "5");
        assert_eq!(h.body_length(), Ok(5));
        assert!(h.keep_alive());
        assert_eq!(head(""), Ok(None), "clean close between requests");
    }

    #[test]
    fn keep_alive_rules() {
        let h = |raw: &str| head(raw).ok().flatten().map(|h| h.keep_alive());
        assert_eq!(h("GET / HTTP/1.0\r\n\r\n"), Some(false));
        assert_eq!(
            h("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"),
            Some(true)
        );
        assert_eq!(
            h("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"),
            Some(false)
        );
    }

    #[test]
    fn rejects_malformed_heads() {
        let status = |raw: &str| head(raw).err().map(|e| e.0);
        assert_eq!(status("GET /\r\n\r\n"), Some(400));
        assert_eq!(status("GET / HTTP/2.0\r\n\r\n"), Some(505));
        assert_eq!(status("G(T / HTTP/1.1\r\n\r\n"), Some(400));
        assert_eq!(status("GET /a b HTTP/1.1\r\n\r\n"), Some(400));
        assert_eq!(status("GET / HTTP/1.1\r\nNoColon\r\n\r\n"), Some(400));
        assert_eq!(status("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"), Some(400));
        assert_eq!(
            status("GET / HTTP/1.1\r\nHost: a\r\n"),
            Some(400),
            "truncated head"
        );
        assert_eq!(
            status(&format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(9000))),
            Some(431)
        );
        let many: String = (0..101).map(|i| format!("X-{i}: 1\r\n")).collect();
        assert_eq!(status(&format!("GET / HTTP/1.1\r\n{many}\r\n")), Some(431));
        assert_eq!(status("GET /\u{0} HTTP/1.1\r\n\r\n"), Some(400));
        assert_eq!(
            read_head(&mut Cursor::new(b"GET /\xff HTTP/1.1\r\n\r\n".to_vec()))
                .err()
                .map(|e| e.0),
            Some(400)
        );
    }

    #[test]
    fn body_length_rules() {
        let len = |hdrs: &str| {
            head(&format!("POST / HTTP/1.1\r\n{hdrs}\r\n"))
                .ok()
                .flatten()
                .map(|h| h.body_length())
        };
        assert_eq!(len(""), Some(Ok(0)));
        assert_eq!(len("Content-Length: 65536\r\n"), Some(Ok(65536)));
        assert_eq!(
            len("Content-Length: 65537\r\n")
                .and_then(|r| r.err())
                .map(|e| e.0),
            Some(413)
        );
        assert_eq!(
            len("Content-Length: -1\r\n")
                .and_then(|r| r.err())
                .map(|e| e.0),
            Some(400)
        );
        assert_eq!(
            len("Content-Length: 3\r\nContent-Length: 4\r\n")
                .and_then(|r| r.err())
                .map(|e| e.0),
            Some(400)
        );
        assert_eq!(
            len("Content-Length: 3\r\nContent-Length: 3\r\n"),
            Some(Ok(3))
        );
        assert_eq!(
            len("Transfer-Encoding: chunked\r\n")
                .and_then(|r| r.err())
                .map(|e| e.0),
            Some(411)
        );
        assert_eq!(
            read_body(&mut Cursor::new(b"abc".to_vec()), 5)
                .err()
                .map(|e| e.0),
            Some(400)
        );
    }

    #[test]
    fn dates_and_responses() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(1_795_240_009), "Sat, 21 Nov 2026 05:46:49 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        let resp =
            ShopResponse::text(200, "ok").with_header("X-Evil", "a\r\nSet-Cookie: x=1".into());
        let mut out = Vec::new();
        assert!(write_response(&mut out, &resp, true, false).is_ok());
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(
            text.contains("Content-Length: 2\r\n") && text.ends_with("Connection: close\r\n\r\n"),
            "{text}"
        );
        assert!(!text.contains("X-Evil"));
    }
}
