//! A small HTTP/1.1 client over `std::net`, written for the simulator.
//!
//! General-purpose clients normalise what they send: they resolve `..`
//! segments, re-encode quotes and fix header order. A scanner or a browser
//! does neither, so this client writes the request target and the headers
//! byte for byte as planned. It keeps one connection alive per simulated
//! client, retries once when a reused connection turns out to be closed, and
//! reads bodies by Content-Length, chunked encoding or end of stream, bounded.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const IO_TIMEOUT: Duration = Duration::from_secs(15);
const MAX_LINE: u64 = 16 * 1024;
const MAX_HEADERS: usize = 128;
const MAX_BODY: u64 = 16 * 1024 * 1024;

/// Where the simulated traffic goes: a loopback `http://` origin.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    /// `host:port` as given, for the Host header and Referer/Origin URLs.
    pub authority: String,
}

impl Target {
    /// Parse `http://host[:port][/]`. Only loopback addresses are accepted:
    /// the simulator sends attack traffic and must never leave the machine.
    pub fn parse(url: &str) -> Result<Target, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or("target must start with http:// (https is not supported)")?;
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            return Err(format!(
                "target {url:?} must be an origin such as http://127.0.0.1:8080"
            ));
        }
        let with_port = if authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
        {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        let addr = with_port
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {authority}: {e}"))?
            .find(|a| a.ip().is_loopback())
            .ok_or_else(|| {
                format!("refusing target {authority}: only loopback addresses are allowed")
            })?;
        Ok(Target {
            addr,
            authority: authority.to_owned(),
        })
    }

    /// `http://host:port`, the origin used in Referer and Origin headers.
    pub fn origin(&self) -> String {
        format!("http://{}", self.authority)
    }
}

/// One request, exactly as it goes on the wire.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub headers: &'a [(&'a str, String)],
    pub body: &'a [u8],
}

#[derive(Debug, Default, Clone)]
pub struct Response {
    pub status: u16,
    /// Value of `X-Api-Abuse-Action`, if present.
    pub abuse_action: Option<String>,
    pub set_cookies: Vec<String>,
}

impl Response {
    /// The module's block: 403 with `X-Api-Abuse-Action: block`.
    pub fn is_block(&self) -> bool {
        self.status == 403
            && self
                .abuse_action
                .as_deref()
                .is_some_and(|a| a.trim().eq_ignore_ascii_case("block"))
    }
}

pub struct Conn {
    target: Target,
    stream: Option<BufReader<TcpStream>>,
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_owned())
}

/// Read one CRLF- or LF-terminated line, at most MAX_LINE bytes; `None` at EOF.
fn read_line<R: BufRead>(r: &mut R) -> io::Result<Option<String>> {
    let mut buf = Vec::new();
    let n = r.by_ref().take(MAX_LINE).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') {
        return Err(bad("header line too long or truncated"));
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

/// Discard exactly `n` bytes.
fn skip<R: Read>(r: &mut R, n: u64) -> io::Result<()> {
    if n > MAX_BODY {
        return Err(bad("response body too large"));
    }
    let copied = io::copy(&mut r.take(n), &mut io::sink())?;
    if copied < n {
        // Not UnexpectedEof: that kind means "closed before any answer" (retryable).
        return Err(bad("response body truncated"));
    }
    Ok(())
}

fn skip_chunked<R: BufRead>(r: &mut R) -> io::Result<()> {
    let mut total = 0u64;
    loop {
        let line = read_line(r)?.ok_or_else(|| bad("chunked body truncated"))?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size = u64::from_str_radix(size, 16).map_err(|_| bad("bad chunk size"))?;
        if size == 0 {
            // Trailer fields, then the empty line.
            while let Some(l) = read_line(r)? {
                if l.is_empty() {
                    return Ok(());
                }
            }
            return Ok(());
        }
        total = total.saturating_add(size);
        if total > MAX_BODY {
            return Err(bad("response body too large"));
        }
        skip(r, size)?;
        read_line(r)?;
    }
}

/// Outcome of one attempt: the error says whether a retry is safe.
enum Failure {
    /// The reused connection was already closed by the server: nothing was processed.
    Stale(io::Error),
    Other(io::Error),
}

impl Conn {
    pub fn new(target: Target) -> Conn {
        Conn {
            target,
            stream: None,
        }
    }

    fn connect(&self) -> io::Result<BufReader<TcpStream>> {
        let s = TcpStream::connect_timeout(&self.target.addr, CONNECT_TIMEOUT)?;
        s.set_read_timeout(Some(IO_TIMEOUT))?;
        s.set_write_timeout(Some(IO_TIMEOUT))?;
        s.set_nodelay(true)?;
        Ok(BufReader::new(s))
    }

    fn encode(&self, req: &Request, extra: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::with_capacity(512 + req.body.len());
        let _ = write!(
            out,
            "{} {} HTTP/1.1\r\nHost: {}\r\n",
            req.method, req.path, self.target.authority
        );
        for (k, v) in req.headers {
            let _ = write!(out, "{k}: {v}\r\n");
        }
        for (k, v) in extra {
            let _ = write!(out, "{k}: {v}\r\n");
        }
        if !req.body.is_empty() || matches!(req.method, "POST" | "PUT" | "PATCH") {
            let _ = write!(out, "Content-Length: {}\r\n", req.body.len());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(req.body);
        out
    }

    /// Send one request and read the whole response. `extra` headers go after
    /// the planned ones (X-Forwarded-For, Cookie).
    pub fn send(&mut self, req: &Request, extra: &[(&str, &str)]) -> io::Result<Response> {
        let wire = self.encode(req, extra);
        let reused = self.stream.is_some();
        match self.attempt(req.method, &wire) {
            Ok(r) => Ok(r),
            Err(Failure::Stale(_)) if reused => match self.attempt(req.method, &wire) {
                Ok(r) => Ok(r),
                Err(Failure::Stale(e) | Failure::Other(e)) => Err(e),
            },
            Err(Failure::Stale(e) | Failure::Other(e)) => Err(e),
        }
    }

    fn attempt(&mut self, method: &str, wire: &[u8]) -> Result<Response, Failure> {
        let mut stream = match self.stream.take() {
            Some(s) => s,
            None => self.connect().map_err(Failure::Other)?,
        };
        if let Err(e) = stream.get_mut().write_all(wire) {
            return Err(Failure::Stale(e));
        }
        let (resp, keep) = match read_response(&mut stream, method) {
            Ok(x) => x,
            Err(e)
                if e.kind() == io::ErrorKind::ConnectionReset
                    || e.kind() == io::ErrorKind::UnexpectedEof =>
            {
                return Err(Failure::Stale(e))
            }
            Err(e) => return Err(Failure::Other(e)),
        };
        if keep {
            self.stream = Some(stream);
        }
        Ok(resp)
    }
}

/// Read one response; returns it and whether the connection stays usable.
fn read_response<R: BufRead>(r: &mut R, method: &str) -> io::Result<(Response, bool)> {
    loop {
        let status_line = read_line(r)?
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed"))?;
        let mut parts = status_line.split_whitespace();
        let version = parts.next().unwrap_or("");
        if !version.starts_with("HTTP/1.") {
            return Err(bad("not an HTTP/1.x response"));
        }
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("bad status code"))?;
        let mut resp = Response {
            status,
            ..Default::default()
        };
        let mut length: Option<u64> = None;
        let mut chunked = false;
        let mut keep = version != "HTTP/1.0";
        let mut count = 0;
        loop {
            let line = read_line(r)?.ok_or_else(|| bad("headers truncated"))?;
            if line.is_empty() {
                break;
            }
            count += 1;
            if count > MAX_HEADERS {
                return Err(bad("too many response headers"));
            }
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => {
                    length = Some(value.parse().map_err(|_| bad("bad Content-Length"))?)
                }
                "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
                "connection" => {
                    let v = value.to_ascii_lowercase();
                    if v.contains("close") {
                        keep = false;
                    } else if v.contains("keep-alive") {
                        keep = true;
                    }
                }
                "set-cookie" => resp.set_cookies.push(value.to_owned()),
                "x-api-abuse-action" => resp.abuse_action = Some(value.to_owned()),
                _ => {}
            }
        }
        if (100..200).contains(&status) {
            continue;
        }
        if method == "HEAD" || status == 204 || status == 304 {
            return Ok((resp, keep));
        }
        if chunked {
            skip_chunked(r)?;
        } else if let Some(n) = length {
            skip(r, n)?;
        } else {
            // Delimited by end of stream.
            io::copy(&mut r.take(MAX_BODY), &mut io::sink())?;
            keep = false;
        }
        return Ok((resp, keep));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn parse(raw: &str, method: &str) -> io::Result<(Response, bool)> {
        read_response(&mut Cursor::new(raw.as_bytes().to_vec()), method)
    }

    #[test]
    fn target_parsing() {
        let t = Target::parse("http://127.0.0.1:8080/");
        assert_eq!(
            t.as_ref().map(|t| t.origin()).ok(),
            Some("http://127.0.0.1:8080".to_owned())
        );
        assert_eq!(
            Target::parse("http://localhost")
                .map(|t| t.addr.port())
                .ok(),
            Some(80)
        );
        assert!(Target::parse("https://127.0.0.1").is_err());
        assert!(Target::parse("http://127.0.0.1:8080/api").is_err());
        assert!(
            Target::parse("http://10.1.2.3:80").is_err(),
            "never a non-loopback target"
        );
        assert!(Target::parse("http://").is_err());
    }

    #[test]
    fn reads_length_chunked_and_close_delimited() {
        let (r, keep) = parse(
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: sid=1; Path=/\r\n\r\nok",
            "GET",
        )
        .unwrap_or_default();
        assert_eq!((r.status, keep, r.set_cookies.len()), (200, true, 1));
        let chunked = "HTTP/1.1 403 Forbidden\r\nX-Api-Abuse-Action: block\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nTrailer: 1\r\n\r\n";
        let (r, keep) = parse(chunked, "GET").unwrap_or_default();
        assert!(r.is_block() && keep);
        let (r, keep) = parse("HTTP/1.0 200 OK\r\n\r\nrest of stream", "GET").unwrap_or_default();
        assert_eq!((r.status, keep), (200, false));
        let (r, _) = parse(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
            "POST",
        )
        .unwrap_or_default();
        assert_eq!(r.status, 201);
        let (r, keep) = parse(
            "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nConnection: close\r\n\r\n",
            "HEAD",
        )
        .unwrap_or_default();
        assert_eq!((r.status, keep), (200, false));
    }

    #[test]
    fn rejects_broken_responses() {
        assert!(parse("", "GET").is_err());
        assert!(parse("SSH-2.0-OpenSSH\r\n", "GET").is_err());
        assert!(parse("HTTP/1.1 abc OK\r\n\r\n", "GET").is_err());
        assert!(parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "GET").is_err());
        assert!(parse(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "GET"
        )
        .is_err());
        assert!(parse(
            "HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n",
            "GET"
        )
        .is_err());
        let long = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "a".repeat(20_000));
        assert!(parse(&long, "GET").is_err());
    }

    #[test]
    fn block_needs_the_header() {
        let plain = Response {
            status: 403,
            ..Default::default()
        };
        assert!(!plain.is_block());
        let block = Response {
            status: 403,
            abuse_action: Some("Block".into()),
            ..Default::default()
        };
        assert!(block.is_block());
        let monitor = Response {
            status: 200,
            abuse_action: Some("block".into()),
            ..Default::default()
        };
        assert!(!monitor.is_block());
    }

    #[test]
    fn request_bytes_are_verbatim() {
        let t = Target::parse("http://127.0.0.1:9").map(Conn::new);
        let Ok(c) = t else { return };
        let headers = [("User-Agent", "x".to_owned())];
        let req = Request {
            method: "GET",
            path: "/products?id=1'%20OR%20'1'='1",
            headers: &headers,
            body: b"",
        };
        let wire = String::from_utf8_lossy(&c.encode(&req, &[("X-Forwarded-For", "10.1.0.1")]))
            .into_owned();
        assert_eq!(
            wire,
            "GET /products?id=1'%20OR%20'1'='1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nUser-Agent: x\r\nX-Forwarded-For: 10.1.0.1\r\n\r\n"
        );
    }
}
