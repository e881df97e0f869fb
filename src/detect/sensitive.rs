//! Sensitive endpoints of an application, from its profile: which requests
//! are logins, sign-ups, feedback posts, checkouts, reservations or other
//! critical operations. The business-logic detector counts them per kind.
//!
//! Pattern syntax (paths are compared segment by segment; repeated and
//! trailing slashes do not matter):
//! - `/api/login`: exactly this path;
//! - `*` or `{name}` as a whole segment: any one segment (`/users/*/password`,
//!   `/users/{id}/password`);
//! - a final `/**`: this prefix and anything below it (`/api/cart/**` matches
//!   `/api/cart` and `/api/cart/1/items`);
//! - a final segment ending in `*`: a prefix of that segment, and anything
//!   below it (`/api/log*` matches `/api/login` and `/api/logout/all`).
//!
//! The method is an HTTP method name (case-insensitive) or `*` for any. Rules
//! are tried in the order given; the first match decides. Compiling allocates,
//! classifying does not.

use crate::model::SensitiveKind;

/// Upper bound on rules per profile: each request is checked against all of
/// them, so the list must stay small.
pub const MAX_RULES: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(Box<[u8]>),
    AnyOne,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tail {
    /// The path has exactly the listed segments.
    Exact,
    /// Any number (zero or more) of further segments.
    Anything,
    /// One more segment starting with these bytes, then anything.
    SegmentPrefix(Box<[u8]>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    /// Upper-case method, `None` for any.
    method: Option<Box<[u8]>>,
    segments: Box<[Segment]>,
    tail: Tail,
    kind: SensitiveKind,
}

/// A compiled list of sensitive-endpoint rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SensitiveSet {
    rules: Vec<Rule>,
    /// The distinct methods of the rules (upper case), and whether a rule
    /// takes any method: most requests are GETs and most sensitive
    /// endpoints are POSTs, so a method no rule names is answered at once.
    methods: Vec<Box<[u8]>>,
    any_method: bool,
}

impl SensitiveSet {
    /// Compiles `(method, path pattern, kind)` rules; the error names the rule
    /// (1-based) and what is wrong with it.
    pub fn compile(rules: &[(&str, &str, SensitiveKind)]) -> Result<SensitiveSet, String> {
        if rules.len() > MAX_RULES {
            return Err(format!(
                "too many sensitive endpoints: {} (at most {MAX_RULES})",
                rules.len()
            ));
        }
        let mut out = Vec::with_capacity(rules.len());
        for (i, (method, pattern, kind)) in rules.iter().enumerate() {
            let rule = compile_rule(method, pattern, *kind).map_err(|e| {
                format!("sensitive endpoint {} (\"{method} {pattern}\"): {e}", i + 1)
            })?;
            out.push(rule);
        }
        let mut methods: Vec<Box<[u8]>> = Vec::new();
        for m in out.iter().filter_map(|r| r.method.as_ref()) {
            if !methods.contains(m) {
                methods.push(m.clone());
            }
        }
        let any_method = out.iter().any(|r| r.method.is_none());
        Ok(SensitiveSet {
            rules: out,
            methods,
            any_method,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// The kind of the first rule matching this request, if any.
    pub fn classify(&self, method: &[u8], path: &[u8]) -> Option<SensitiveKind> {
        if !self.any_method && !self.methods.iter().any(|m| m.eq_ignore_ascii_case(method)) {
            return None;
        }
        self.rules
            .iter()
            .find(|r| r.matches(method, path))
            .map(|r| r.kind)
    }
}

impl Rule {
    /// Walks the path in place: a literal is compared where it must start
    /// (no split, no copy), so most rules fail within a few bytes. Same
    /// answer as matching `template::segments` one by one
    /// ([`Rule::matches_by_segments`]).
    fn matches(&self, method: &[u8], path: &[u8]) -> bool {
        if let Some(m) = &self.method {
            if !m.eq_ignore_ascii_case(method) {
                return false;
            }
        }
        let mut pos = 0usize;
        for want in self.segments.iter() {
            pos = skip_slashes(path, pos);
            let rest = path.get(pos..).unwrap_or_default();
            if rest.is_empty() {
                return false;
            }
            match want {
                Segment::AnyOne => {
                    pos += memchr::memchr(b'/', rest).unwrap_or(rest.len());
                }
                Segment::Literal(lit) => {
                    let n = lit.len();
                    if !rest.starts_with(lit) || rest.get(n).is_some_and(|&b| b != b'/') {
                        return false;
                    }
                    pos += n;
                }
            }
        }
        let rest = path.get(skip_slashes(path, pos)..).unwrap_or_default();
        match &self.tail {
            Tail::Exact => rest.is_empty(),
            Tail::Anything => true,
            // A prefix holds no `/`, so it is a prefix of the segment too.
            Tail::SegmentPrefix(p) => !rest.is_empty() && rest.starts_with(p),
        }
    }

    /// The matching as first written (the tests' specification).
    #[cfg(test)]
    fn matches_by_segments(&self, method: &[u8], path: &[u8]) -> bool {
        if let Some(m) = &self.method {
            if !m.eq_ignore_ascii_case(method) {
                return false;
            }
        }
        let mut segs = super::template::segments(path);
        for want in self.segments.iter() {
            match (want, segs.next()) {
                (_, None) => return false,
                (Segment::AnyOne, Some(_)) => {}
                (Segment::Literal(lit), Some(got)) => {
                    if **lit != *got {
                        return false;
                    }
                }
            }
        }
        match &self.tail {
            Tail::Exact => segs.next().is_none(),
            Tail::Anything => true,
            Tail::SegmentPrefix(p) => segs.next().is_some_and(|s| s.starts_with(p)),
        }
    }
}

fn compile_rule(method: &str, pattern: &str, kind: SensitiveKind) -> Result<Rule, String> {
    let method = method.trim();
    let method = match method {
        "*" => None,
        "" => return Err("the method is empty (use `*` for any method)".into()),
        m if m.bytes().all(|b| b.is_ascii_alphabetic()) && m.len() <= 16 => {
            Some(m.to_ascii_uppercase().into_bytes().into_boxed_slice())
        }
        m => return Err(format!("`{m}` is not an HTTP method name")),
    };
    if !pattern.starts_with('/') {
        return Err("the path pattern must start with `/`".into());
    }
    if pattern.contains(['?', '#']) {
        return Err("the path pattern must not contain a query (`?`) or fragment (`#`)".into());
    }
    let parts: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let mut segments = Vec::with_capacity(parts.len());
    let mut tail = Tail::Exact;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if *part == "**" {
            if !last {
                return Err("`**` is allowed only as the last segment".into());
            }
            tail = Tail::Anything;
        } else if *part == "*" || is_placeholder(part) {
            segments.push(Segment::AnyOne);
        } else if let Some(prefix) = part.strip_suffix('*') {
            if !last {
                return Err(format!(
                    "`{part}`: a prefix wildcard is allowed only in the last segment"
                ));
            }
            check_literal(prefix)?;
            tail = Tail::SegmentPrefix(prefix.as_bytes().into());
        } else {
            check_literal(part)?;
            segments.push(Segment::Literal(part.as_bytes().into()));
        }
    }
    Ok(Rule {
        method,
        segments: segments.into_boxed_slice(),
        tail,
        kind,
    })
}

fn is_placeholder(part: &str) -> bool {
    part.len() > 2
        && part.starts_with('{')
        && part.ends_with('}')
        && part[1..part.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn skip_slashes(path: &[u8], mut pos: usize) -> usize {
    while path.get(pos) == Some(&b'/') {
        pos += 1;
    }
    pos
}

fn check_literal(part: &str) -> Result<(), String> {
    if part.contains(['*', '{', '}']) {
        return Err(format!(
            "`{part}`: `*` and `{{name}}` must be a whole segment (or a final `prefix*`)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use SensitiveKind::*;

    fn set() -> SensitiveSet {
        SensitiveSet::compile(&[
            ("POST", "/api/login", Auth),
            ("post", "/api/users/{id}/password", Critical),
            ("*", "/api/signup/**", Signup),
            ("POST", "/api/feedback*", Feedback),
            ("PUT", "/api/cart/*", Checkout),
        ])
        .unwrap_or_default()
    }

    #[test]
    fn matching() {
        let s = set();
        assert_eq!(s.len(), 5);
        assert_eq!(s.classify(b"POST", b"/api/login"), Some(Auth));
        assert_eq!(s.classify(b"POST", b"/api//login/"), Some(Auth));
        assert_eq!(s.classify(b"GET", b"/api/login"), None);
        assert_eq!(s.classify(b"POST", b"/api/login/x"), None);
        assert_eq!(
            s.classify(b"POST", b"/api/users/7/password"),
            Some(Critical)
        );
        assert_eq!(s.classify(b"POST", b"/api/users/password"), None);
        assert_eq!(s.classify(b"GET", b"/api/signup"), Some(Signup));
        assert_eq!(s.classify(b"PATCH", b"/api/signup/a/b"), Some(Signup));
        assert_eq!(s.classify(b"POST", b"/api/feedbacks/1"), Some(Feedback));
        assert_eq!(s.classify(b"POST", b"/api/feedback"), Some(Feedback));
        assert_eq!(s.classify(b"PUT", b"/api/cart/9"), Some(Checkout));
        assert_eq!(s.classify(b"PUT", b"/api/cart"), None);
        assert_eq!(s.classify(b"PUT", b"/api/cart/9/x"), None);
    }

    #[test]
    fn errors_name_the_problem() {
        let e = |m: &str, p: &str| {
            SensitiveSet::compile(&[(m, p, Auth)])
                .err()
                .unwrap_or_default()
        };
        assert!(e("POST", "api/login").contains("start with `/`"));
        assert!(e("PO ST", "/a").contains("not an HTTP method"));
        assert!(e("", "/a").contains("method is empty"));
        assert!(e("GET", "/a/**/b").contains("`**`"));
        assert!(e("GET", "/a*/b").contains("last segment"));
        assert!(e("GET", "/a/b*c").contains("whole segment"));
        assert!(e("GET", "/a?x=1").contains("query"));
        assert!(e("GET", "/a").is_empty());
        let many = vec![("GET", "/a", Auth); MAX_RULES + 1];
        assert!(SensitiveSet::compile(&many).is_err());
    }

    #[test]
    fn the_method_prefilter_answers_as_the_rules_do() {
        let posts = SensitiveSet::compile(&[
            ("POST", "/api/login", Auth),
            ("post", "/api/cart/*", Checkout),
            ("PUT", "/api/users/*", Critical),
        ])
        .unwrap_or_default();
        let paths: [&[u8]; 5] = [b"/api/login", b"/api/cart/9", b"/api/users/7", b"/", b"/x"];
        for s in [set(), posts] {
            for m in [
                &b"GET"[..],
                b"get",
                b"POST",
                b"Post",
                b"PUT",
                b"PATCH",
                b"",
                b"POSTX",
            ] {
                for p in paths {
                    let by_rules = s.rules.iter().find(|r| r.matches(m, p)).map(|r| r.kind);
                    assert_eq!(s.classify(m, p), by_rules, "{m:?} {p:?}");
                }
            }
        }
    }

    #[test]
    fn the_path_walk_matches_as_segment_by_segment() {
        let s = SensitiveSet::compile(&[
            ("*", "/api/login", Auth),
            ("*", "/api/users/{id}/password", Critical),
            ("*", "/api/signup/**", Signup),
            ("*", "/api/feedback*", Feedback),
            ("*", "/api/*/x", Checkout),
            ("*", "/", Critical),
            ("*", "/**", Critical),
            ("*", "/a*", Auth),
            ("*", "/*", Auth),
        ])
        .unwrap_or_default();
        let words: [&[u8]; 16] = [
            b"api",
            b"apix",
            b"login",
            b"logins",
            b"users",
            b"7",
            b"password",
            b"signup",
            b"signupx",
            b"feedback",
            b"feedbacks",
            b"feed",
            b"x",
            b"a",
            b"ab",
            b"",
        ];
        let mut seed_rng = crate::testing::XorShift64::new(0x9e37_79b9_7f4a_7c15);
        let mut next = || seed_rng.next_u64();
        let mut path = Vec::new();
        for _ in 0..50_000 {
            path.clear();
            for _ in 0..next() % 5 {
                let slashes = 1 + (next() % 2) as usize;
                path.extend(std::iter::repeat_n(b'/', slashes));
                path.extend_from_slice(words[(next() % words.len() as u64) as usize]);
            }
            if next() % 4 == 0 {
                path.push(b'/');
            }
            for r in &s.rules {
                assert_eq!(
                    r.matches(b"GET", &path),
                    r.matches_by_segments(b"GET", &path),
                    "{r:?} {:?}",
                    String::from_utf8_lossy(&path)
                );
            }
        }
    }

    #[test]
    fn first_rule_wins_and_root() {
        let s = SensitiveSet::compile(&[("*", "/**", Critical), ("POST", "/login", Auth)])
            .unwrap_or_default();
        assert_eq!(s.classify(b"POST", b"/login"), Some(Critical));
        assert_eq!(s.classify(b"GET", b"/"), Some(Critical));
    }
}
