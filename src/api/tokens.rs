//! Bearer tokens of an `api_abuse_api ... token=FILE` location.
//!
//! The file holds one token a line (blank lines and `#` comments ignored);
//! it is read when the configuration is (as root, before the workers drop
//! privileges), so it can be readable by root alone. A call must carry
//! `Authorization: Bearer <token>` with one of them.
//!
//! The comparison takes the same time whatever the presented token: each
//! stored token and the presented one are padded to [`MAX_TOKEN`] bytes and
//! compared whole with `subtle`, lengths included, against every stored
//! token with no early exit. Tokens are never written to any log: errors
//! name the file and the line only.

use std::path::{Path, PathBuf};

use subtle::{Choice, ConstantTimeEq};

/// Shortest token accepted: 16 characters of a random token are 80+ bits.
pub const MIN_TOKEN: usize = 16;
/// Longest token accepted.
pub const MAX_TOKEN: usize = 256;

/// The tokens of one location.
pub struct Tokens {
    padded: Vec<([u8; MAX_TOKEN], u64)>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} tokens)", self.padded.len())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("cannot read token file \"{0}\": {1}")]
    Read(PathBuf, std::io::Error),
    #[error("token file \"{0}\" holds no token")]
    Empty(PathBuf),
    #[error("token file \"{path}\", line {line}: {why}")]
    Line {
        path: PathBuf,
        line: usize,
        why: &'static str,
    },
}

/// RFC 6750's token68 characters, `=` padding only at the end.
fn token68(t: &[u8]) -> bool {
    let body = t.iter().rposition(|c| *c != b'=').map_or(0, |i| i + 1);
    body > 0
        && t[..body]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"-._~+/".contains(c))
}

fn pad(t: &[u8]) -> [u8; MAX_TOKEN] {
    let mut p = [0u8; MAX_TOKEN];
    let n = t.len().min(MAX_TOKEN);
    p[..n].copy_from_slice(&t[..n]);
    p
}

impl Tokens {
    pub fn load(path: &Path) -> Result<Tokens, TokenError> {
        let text = std::fs::read(path).map_err(|e| TokenError::Read(path.to_path_buf(), e))?;
        Tokens::parse(&text).map_err(|e| match e {
            None => TokenError::Empty(path.to_path_buf()),
            Some((line, why)) => TokenError::Line {
                path: path.to_path_buf(),
                line,
                why,
            },
        })
    }

    /// Parses a token file; the error is `None` for a file without tokens,
    /// else the line number and what is wrong with it.
    pub fn parse(text: &[u8]) -> Result<Tokens, Option<(usize, &'static str)>> {
        let mut padded = Vec::new();
        for (i, line) in text.split(|c| *c == b'\n').enumerate() {
            let t = line.trim_ascii();
            if t.is_empty() || t.starts_with(b"#") {
                continue;
            }
            let why = if t.len() < MIN_TOKEN {
                "token shorter than 16 characters"
            } else if t.len() > MAX_TOKEN {
                "token longer than 256 characters"
            } else if !token68(t) {
                "token has characters other than A-Z a-z 0-9 - . _ ~ + / and trailing ="
            } else {
                padded.push((pad(t), t.len() as u64));
                continue;
            };
            return Err(Some((i + 1, why)));
        }
        if padded.is_empty() {
            return Err(None);
        }
        Ok(Tokens { padded })
    }

    pub fn len(&self) -> usize {
        self.padded.len()
    }

    pub fn is_empty(&self) -> bool {
        self.padded.is_empty()
    }

    /// Whether an `Authorization` header value carries one of the tokens.
    pub fn admits(&self, authorization: Option<&[u8]>) -> bool {
        let Some(value) = authorization else {
            return false;
        };
        let value = trim_ows(value);
        let Some(sp) = value.iter().position(|c| *c == b' ') else {
            return false;
        };
        if !value[..sp].eq_ignore_ascii_case(b"bearer") {
            return false;
        }
        let presented = trim_ows(&value[sp..]);
        if presented.is_empty() || presented.len() > MAX_TOKEN {
            return false;
        }
        let p = pad(presented);
        let plen = presented.len() as u64;
        let mut ok = Choice::from(0);
        for (t, len) in &self.padded {
            ok |= t.ct_eq(&p) & len.ct_eq(&plen);
        }
        ok.into()
    }
}

/// `v` without HTTP's optional whitespace (spaces and tabs, RFC 9110
/// 5.6.3) around it: a CR, LF or other control byte is part of the value,
/// so `\r\rBearer <token>` is no bearer header (nginx never passes one,
/// but the API answers what its caller gives it; found by the `api` fuzz
/// target).
fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "k7Jd93hQ0aLm2xZp";
    const B: &str = "Zm9vYmFyYmF6cXV4cXV1eA==";

    #[test]
    fn file_format() {
        let t = Tokens::parse(format!("# ops team\n{A}\n\n  {B}  \r\n").as_bytes()).unwrap();
        assert_eq!(t.len(), 2);
        assert!(matches!(Tokens::parse(b"# nothing\n\n"), Err(None)));
        assert_eq!(
            Tokens::parse(b"short").err(),
            Some(Some((1, "token shorter than 16 characters")))
        );
        let e = Tokens::parse(format!("{A}\nhas a space in it!!\n").as_bytes()).err();
        assert_eq!(e.flatten().map(|x| x.0), Some(2));
        assert!(Tokens::parse("x".repeat(300).as_bytes()).is_err());
        assert!(Tokens::parse(b"================").is_err());
    }

    #[test]
    fn bearer_header() {
        let t = Tokens::parse(format!("{A}\n{B}\n").as_bytes()).unwrap();
        assert!(t.admits(Some(format!("Bearer {A}").as_bytes())));
        assert!(t.admits(Some(format!("bearer   {B} ").as_bytes())));
        assert!(!t.admits(None));
        assert!(!t.admits(Some(A.as_bytes())), "no scheme");
        assert!(!t.admits(Some(format!("Basic {A}").as_bytes())));
        assert!(!t.admits(Some(format!("Bearer {A}x").as_bytes())), "longer");
        assert!(
            !t.admits(Some(format!("Bearer {}", &A[..15]).as_bytes())),
            "prefix"
        );
        assert!(!t.admits(Some(b"Bearer ")));
        assert!(
            t.admits(Some(format!("\t Bearer \t{A}\t").as_bytes())),
            "OWS"
        );
        for bad in [
            format!("\r\rBearer {A}"),
            format!("Bearer {A}\r\n"),
            format!("Bearer \x0c{A}"),
        ] {
            assert!(!t.admits(Some(bad.as_bytes())), "{bad:?}");
        }
        assert!(!t.admits(Some(format!("Bearer {}", "a".repeat(400)).as_bytes())));
        // padding bytes never match: a token is not its zero-padded form
        assert!(!t.admits(Some(format!("Bearer {A}\0").as_bytes())));
    }
}
