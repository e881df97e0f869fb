//! Query-string parameters of an API call, parsed strictly: every name must
//! be one the endpoint knows, none may repeat, and values must be valid
//! percent-encoded UTF-8. A call with a bad parameter is answered 400 before
//! anything is changed.

use percent_encoding::percent_decode_str;

/// The parameters of one call, in the order given.
#[derive(Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

/// Longest parameter name or value echoed in an error message.
const ECHO_MAX: usize = 64;

fn echo(s: &str) -> String {
    match s.char_indices().nth(ECHO_MAX) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

fn decode(raw: &str) -> Result<String, String> {
    let b = raw.as_bytes();
    for (i, c) in b.iter().enumerate() {
        if *c == b'%'
            && !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err(format!("bad percent-encoding in \"{}\"", echo(raw)));
        }
    }
    // '+' is a space in form encoding; none of the API's values has one.
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| format!("\"{}\" is not UTF-8", echo(raw)))
}

impl Params {
    /// Parses `query`, accepting only the names in `allowed`.
    pub fn parse(query: &[u8], allowed: &[&str]) -> Result<Params, String> {
        Params::parse_with(query, allowed, &[])
    }

    /// As [`Params::parse`], where the names in `bare` may also come
    /// without a value (`?events`), which reads as "".
    pub fn parse_with(query: &[u8], allowed: &[&str], bare: &[&str]) -> Result<Params, String> {
        let q = std::str::from_utf8(query).map_err(|_| "the query string is not UTF-8")?;
        let mut pairs: Vec<(String, String)> = Vec::new();
        for piece in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            let k = decode(k)?;
            if !allowed.contains(&k.as_str()) {
                return Err(if allowed.is_empty() {
                    format!("unknown parameter \"{}\" (this call takes none)", echo(&k))
                } else {
                    format!(
                        "unknown parameter \"{}\" (expected {})",
                        echo(&k),
                        allowed.join(", ")
                    )
                });
            }
            if pairs.iter().any(|(seen, _)| *seen == k) {
                return Err(format!("parameter \"{k}\" given twice"));
            }
            let v = decode(v)?;
            if v.is_empty() && !bare.contains(&k.as_str()) {
                return Err(format!("parameter \"{k}\" is empty"));
            }
            pairs.push((k, v));
        }
        Ok(Params { pairs })
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name` parsed by `f`, `None` when absent.
    pub fn parsed<T>(
        &self,
        name: &str,
        f: impl FnOnce(&str) -> Option<T>,
        expected: &str,
    ) -> Result<Option<T>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => f(v)
                .map(Some)
                .ok_or_else(|| format!("{name} must be {expected} (got \"{}\")", echo(v))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_parsing() {
        let p = Params::parse(b"addr=2001%3Adb8%3A%3A1&list=deny", &["addr", "list"]).unwrap();
        assert_eq!(p.get("addr"), Some("2001:db8::1"));
        assert_eq!(p.get("list"), Some("deny"));
        assert_eq!(p.get("duration"), None);
        assert!(Params::parse(b"", &[]).unwrap().get("x").is_none());
        for bad in [
            &b"addr=1&addr=2"[..],
            b"adr=1",
            b"addr=%zz",
            b"addr=%e9",
            b"addr=",
            b"addr",
            b"\xff=1",
        ] {
            assert!(
                Params::parse(bad, &["addr"]).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let p = Params::parse_with(b"events&since=3", &["events", "since"], &["events"]).unwrap();
        assert_eq!((p.get("events"), p.get("since")), (Some(""), Some("3")));
        assert!(Params::parse_with(b"since", &["events", "since"], &["events"]).is_err());
        let long = format!("{}=1", "x".repeat(500));
        let e = Params::parse(long.as_bytes(), &["addr"]).unwrap_err();
        assert!(e.len() < 200, "{e}");
    }

    #[test]
    fn typed_values() {
        let p = Params::parse(b"limit=20&cursor=zz", &["limit", "cursor"]).unwrap();
        assert_eq!(
            p.parsed("limit", |v| v.parse::<u32>().ok(), "a number"),
            Ok(Some(20))
        );
        assert!(p
            .parsed("cursor", |v| v.parse::<u32>().ok(), "a number")
            .is_err());
        assert_eq!(
            p.parsed("x", |v| v.parse::<u32>().ok(), "a number"),
            Ok(None)
        );
    }
}
