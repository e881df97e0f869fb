//! SQL injection: shapes, not words.
//!
//! An injection has to leave the literal the application put it in and then
//! continue as SQL. So the detector looks at three places a breakout can
//! start: the very beginning of the value (numeric or unquoted context, plus
//! a leading `)`), and right after the first `'` and the first `"` (string
//! context; later quotes close strings the user opened, which is how prose
//! and search syntax use them). From there it asks for a continuation that
//! only SQL has: a logical operator followed by a predicate that is a
//! comparison, a builtin call or a commented-out bare literal; `union select`;
//! `order by N`; a comment right after the quote; an operator joining a
//! subquery or builtin; a stacked statement. Independently, a few things are
//! injection wherever they appear: `union select`, time-delay and error-based
//! builtins with their argument shapes, catalogue names (`information_schema`,
//! `@@version`), file primitives (`into outfile`, `load_file(`) and stacked
//! statements after `;`.
//!
//! Deliberately not flagged: SQL written as text without a breakout ("how do I
//! SELECT * FROM users WHERE id = 1?" in a forum post), apostrophes in names
//! and phrases, quoted search phrases joined with AND/OR, arithmetic.

use super::needles::Needles;
use super::normalize::{trig, Normalized};
use super::sql_lex::{Kw, Lexer, Tok, T};

/// Tokens a rule looks ahead at most; bounds the work per start position.
const LOOKAHEAD: usize = 12;

pub fn detect(n: &Normalized) -> bool {
    let s = n.text;
    if s.len() < 3 {
        return false;
    }
    if n.has(trig::DIGIT_START | trig::SPACE | trig::PAREN) && context(s, 0, true) {
        return true;
    }
    if n.has(trig::QUOTE) {
        for q in [b'\'', b'"'] {
            if let Some(p) = s.iter().position(|&b| b == q) {
                if context(s, p + 1, false) {
                    return true;
                }
            }
        }
    }
    (n.has(trig::PAREN | trig::SEMI | trig::PERCENT_AT | trig::SPACE)) && anywhere(s)
        || syntax_probe(s)
}

/// A run of quote and punctuation characters holding both quote kinds
/// (`,'(",,`, `.'.,,.".`, `'"><'`): what scanners send to break the
/// syntax of whatever the value lands in. Text joins quotes with letters.
fn syntax_probe(s: &[u8]) -> bool {
    let mut run = 0;
    let (mut single, mut double) = (false, false);
    for &b in s {
        if matches!(
            b,
            b'\'' | b'"' | b'(' | b')' | b',' | b'.' | b'<' | b'>' | b'`'
        ) {
            run += 1;
            single |= b == b'\'';
            double |= b == b'"';
            if run >= 3 && single && double {
                return true;
            }
        } else {
            run = 0;
            single = false;
            double = false;
        }
    }
    false
}

fn kw(t: &Tok) -> Kw {
    match t.t {
        T::Word { kw, .. } => kw,
        _ => Kw::None,
    }
}

fn is_builtin(t: &Tok) -> bool {
    matches!(t.t, T::Word { builtin: true, .. })
}

fn peek<const N: usize>(lx: Lexer) -> ([Option<Tok>; N], Lexer) {
    let mut out = [None; N];
    let mut lx = lx;
    for slot in out.iter_mut() {
        *slot = lx.next();
    }
    (out, lx)
}

/// A breakout at `at`: the value start (`start`) or right after a quote.
fn context(s: &[u8], at: usize, start: bool) -> bool {
    let mut lx = Lexer::new(s, at, true);
    let mut first = lx.next();
    if start {
        // The value itself may be the literal: a number, a word, `-1`.
        match first.map(|t| t.t) {
            Some(T::Num) => first = lx.next(),
            Some(T::Word {
                kw: Kw::None,
                call: false,
                ..
            }) => first = lx.next(),
            Some(T::Arith) => {
                let mut ahead = lx;
                if ahead.next().map(|t| t.t) == Some(T::Num) {
                    lx.next();
                    first = lx.next();
                }
            }
            _ => {}
        }
    }
    let mut closed = false;
    while first.map(|t| t.t) == Some(T::RParen) {
        closed = true;
        first = lx.next();
    }
    let Some(t) = first else { return false };
    continuation(&lx, t, start && !closed && at == 0)
}

/// What follows a breakout.
fn continuation(lx: &Lexer, t: Tok, bare_start: bool) -> bool {
    let rest = *lx;
    match (t.t, kw(&t)) {
        (T::Word { .. }, Kw::Or | Kw::And | Kw::Xor) | (T::Logic, _) => predicate(rest),
        (T::Word { .. }, Kw::Union) => union_select(rest),
        (T::Word { .. }, Kw::Having) => predicate(rest),
        (T::Word { .. }, Kw::Order | Kw::Group) => {
            let (p, _) = peek::<2>(rest);
            matches!(p, [Some(a), Some(b)] if kw(&a) == Kw::By && b.t == T::Num)
        }
        (T::Word { .. }, Kw::Procedure) => true,
        (T::Word { .. }, Kw::Waitfor) => true,
        (T::Word { .. }, Kw::Into) => {
            let (p, _) = peek::<1>(rest);
            p[0].is_some_and(|a| matches!(lx.text(&a), b"outfile" | b"dumpfile"))
        }
        (T::Semi, _) => stacked(rest) || (!bare_start && next_is(rest, T::Comment)),
        // `admin'--`, `')#`: the rest of the query is commented out. A bare
        // value starting with `--` or `#` is not a breakout.
        (T::Comment, _) => !bare_start && comment_terminates(lx, t),
        (T::Cmp, _) => {
            let (p, _) = peek::<2>(rest);
            match p {
                [Some(a), b] if is_builtin(&a) || subquery(a, b) => true,
                // `'='`, `'<>'x`: only a quote breakout makes these SQL.
                [Some(a), _] if !bare_start && matches!(a.t, T::Str | T::Num) => true,
                _ => false,
            }
        }
        (T::Arith, _) => {
            let (p, _) = peek::<2>(rest);
            matches!(p, [Some(a), b] if is_builtin(&a) || subquery(a, b))
        }
        (T::Word { builtin: true, .. }, _) => !bare_start,
        _ => false,
    }
}

fn next_is(lx: Lexer, t: T) -> bool {
    let mut lx = lx;
    lx.next().is_some_and(|x| x.t == t)
}

/// `--` must end the line or be followed by a space/`-`/`+` to be a MySQL
/// comment; `#` must not start a colour or an anchor.
fn comment_terminates(lx: &Lexer, t: Tok) -> bool {
    let text = lx.text(&t);
    match text.first() {
        Some(b'#') => matches!(text.get(1), None | Some(b' ' | b'-' | b'#' | b'\'' | b'"')),
        Some(b'-') => !matches!(text.get(2), Some(b'0'..=b'9')),
        _ => true,
    }
}

/// `(select ...)`
fn subquery(a: Tok, b: Option<Tok>) -> bool {
    a.t == T::LParen && b.is_some_and(|b| kw(&b) == Kw::Select)
}

/// `union [all|distinct] [(] select <operand>`: "Union Select Committee" is
/// prose, `union select null,` and `union select name from` are SQL.
fn union_select(lx: Lexer) -> bool {
    let mut it = lx.filter(|t| t.t != T::Comment);
    let mut steps = 0;
    while let Some(t) = it.next() {
        steps += 1;
        if steps > 4 {
            return false;
        }
        match kw(&t) {
            Kw::All | Kw::Distinct => {}
            Kw::Select => {
                let (b, c) = (it.next(), it.next());
                return match b {
                    None => true,
                    Some(b)
                        if b.t
                            == T::Word {
                                kw: Kw::None,
                                call: false,
                                builtin: false,
                            } =>
                    {
                        c.is_none_or(|c| {
                            kw(&c) == Kw::From || matches!(c.t, T::Comma | T::Comment | T::RParen)
                        })
                    }
                    Some(b) => select_operand(&lx, b, c),
                };
            }
            _ if t.t == T::LParen => {}
            _ => return false,
        }
    }
    false
}

/// A predicate after AND/OR: a comparison involving a literal or the same
/// operand twice, a builtin call, a subquery, or a bare literal that is then
/// commented out. "tom and jerry" or "1 and 2" are not predicates.
fn predicate(lx: Lexer) -> bool {
    let (p, _) = peek::<LOOKAHEAD>(lx);
    let mut i = 0;
    while p
        .get(i)
        .copied()
        .flatten()
        .is_some_and(|t| kw(&t) == Kw::Not || t.t == T::Arith)
    {
        i += 1;
    }
    let Some(a) = p.get(i).copied().flatten() else {
        return false;
    };
    if is_builtin(&a) || matches!(kw(&a), Kw::Exists | Kw::Select) {
        return true;
    }
    if a.t == T::LParen {
        // `(1=1`, `(select`, `('a'='a`
        return p.get(i + 1).copied().flatten().is_some_and(|b| {
            kw(&b) == Kw::Select || b.t == T::Num || b.t == T::Str || is_builtin(&b)
        });
    }
    let literal = |t: &Tok| matches!(t.t, T::Num | T::Str | T::Var) || kw(t) == Kw::Literal;
    let operand = literal(&a)
        || matches!(
            a.t,
            T::Word {
                kw: Kw::None,
                call: false,
                ..
            }
        );
    if !operand {
        return false;
    }
    match (
        p.get(i + 1).copied().flatten(),
        p.get(i + 2).copied().flatten(),
    ) {
        (Some(op), Some(b)) if op.t == T::Cmp || kw(&op) == Kw::Exists => {
            literal(&a)
                || literal(&b)
                || is_builtin(&b)
                || b.t == T::LParen
                || lx.text(&a) == lx.text(&b)
        }
        (Some(op), Some(b)) if kw(&op) == Kw::Not && b.t == T::Cmp => true,
        (Some(end), _) if literal(&a) => matches!(end.t, T::Comment | T::Semi),
        _ => false,
    }
}

/// A statement after `;` that only SQL has.
fn stacked(lx: Lexer) -> bool {
    let (p, _) = peek::<3>(lx);
    let [Some(a), b, c] = p else { return false };
    let b_kw = b.map_or(Kw::None, |t| kw(&t));
    match kw(&a) {
        Kw::Select => b.is_some_and(|b| select_operand(&lx, b, c)),
        Kw::Insert => b_kw == Kw::Into,
        Kw::Delete => b_kw == Kw::From,
        Kw::Drop => b_kw == Kw::Object,
        Kw::Update => c.is_some_and(|c| kw(&c) == Kw::Set),
        Kw::Exec => b.is_some_and(|b| {
            let w = lx.text(&b);
            b.t == T::Var
                || b.t == T::LParen
                || w.starts_with(b"xp_")
                || w.starts_with(b"sp_")
                || w.starts_with(b"master.")
        }),
        Kw::Declare => b.is_some_and(|b| b.t == T::Var),
        Kw::Shutdown => b.is_none_or(|b| matches!(b.t, T::Comment | T::Semi)),
        Kw::Waitfor => true,
        _ => is_builtin(&a),
    }
}

/// After SELECT: something only a query selects (a literal, builtin, `*`,
/// variable, subquery) or `name FROM`.
fn select_operand(lx: &Lexer, b: Tok, c: Option<Tok>) -> bool {
    match b.t {
        T::Num | T::Var | T::LParen | T::Str => true,
        T::Arith => lx.text(&b) == b"*",
        T::Word { builtin: true, .. } => true,
        T::Word {
            kw: Kw::Literal | Kw::Case | Kw::Top | Kw::Distinct,
            ..
        } => true,
        T::Word { kw: Kw::None, .. } => c.is_some_and(|c| kw(&c) == Kw::From || c.t == T::Comma),
        _ => false,
    }
}

/// Names that exist only in database catalogues and attack tooling.
const CATALOGUE: Needles = Needles::new(&[
    b"information_schema",
    b"@@version",
    b"@@datadir",
    b"@@hostname",
    b"@@basedir",
    b"sysobjects",
    b"syscolumns",
    b"sqlite_master",
    b"pg_shadow",
    b"mysql.user",
    b"xp_cmdshell",
    b"sp_oacreate",
    b"sp_executesql",
    b"all_tab_columns",
    b"dbms_pipe.",
    b"dbms_lock.sleep",
    b"utl_inaddr.",
    b"utl_http.",
    b"ctxsys.drithsx",
    b"into outfile",
    b"into dumpfile",
    b"load_file(",
    b"waitfor delay",
    b"waitfor time",
    b"pg_sleep(",
    b"extractvalue(",
    b"updatexml(",
    b"gtid_subset(",
    b"randomblob(",
    b"concat(0x",
    b"procedure analyse(",
    b"convert(int,",
    b"exp(~(",
    b"floor(rand(",
    // XPath injection: axes, node tests and the functions probes compare.
    b"::node()",
    b"::text()",
    b"count(/",
    b"name()='",
    b"name()=\"",
    b"string-length(name(",
    b"pg_catalog.",
    b"msysaccessobjects",
    b"sqlite_compileoption",
]);

/// Signals that hold wherever they appear in the value.
fn anywhere(s: &[u8]) -> bool {
    if CATALOGUE.found_in(s) {
        return true;
    }
    let lx = Lexer::new(s, 0, false);
    let mut it = lx;
    let mut prev: Option<Tok> = None;
    while let Some(t) = it.next() {
        let hit = match (t.t, kw(&t)) {
            (T::Word { .. }, Kw::Union) => union_select(it),
            (T::Semi, _) => stacked(it),
            (T::LParen, _) => {
                let (p, _) = peek::<3>(it);
                matches!(p, [Some(a), Some(b), c] if kw(&a) == Kw::Select && select_operand(&lx, b, c))
            }
            (T::Word { kw: Kw::Case, .. }, _) => case_when(it),
            (T::Word { builtin: true, .. }, _) => delay_call(&lx, t, prev, it),
            _ => false,
        };
        if hit {
            return true;
        }
        prev = Some(t);
    }
    false
}

/// `case when 1=1 then`: a conditional only SQL writes.
fn case_when(lx: Lexer) -> bool {
    let (p, _) = peek::<LOOKAHEAD>(lx);
    p[0].is_some_and(|t| kw(&t) == Kw::When)
        && p.iter().flatten().any(|t| t.t == T::Cmp)
        && p.iter().flatten().any(|t| kw(t) == Kw::Then)
}

/// `sleep(5)`, `benchmark(5000000,md5(1))`, `if(1=1,sleep(5),0)`: called as a
/// function (not as `obj.sleep(`) with the argument shape of an attack.
fn delay_call(lx: &Lexer, t: Tok, prev: Option<Tok>, rest: Lexer) -> bool {
    let name = lx.text(&t);
    if prev.is_some_and(|p| lx.text(&p).ends_with(b".")) || name.contains(&b'.') {
        return false;
    }
    let (p, _) = peek::<6>(rest);
    let arg = p[1];
    match name {
        b"sleep" | b"benchmark" => arg.is_some_and(|a| a.t == T::Num || a.t == T::LParen),
        b"if" | b"iif" | b"elt" | b"make_set" => {
            // if(<literal> <cmp> <literal>, ...
            matches!(p, [_, Some(a), Some(op), Some(b), ..] if op.t == T::Cmp
                && matches!(a.t, T::Num | T::Str) && matches!(b.t, T::Num | T::Str | T::Word { builtin: true, .. }))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::normalize::{normalize, Encoding, WINDOW};
    use super::*;

    fn sqli(raw: &str) -> bool {
        let mut buf = [0u8; WINDOW];
        detect(&normalize(raw.as_bytes(), Encoding::FORM, &mut buf))
    }

    #[test]
    fn injection_shapes() {
        for p in [
            "' or 1=1--",
            "admin'--",
            "1' AND '1'='1",
            "1 AND 5890=5890",
            "1) AND (1=1",
            "-1 UNION ALL SELECT NULL,NULL--",
            "x'; DROP TABLE users; --",
            "1;waitfor delay '0:0:5'--",
            "1 AND SLEEP(5)",
            "' or ''='",
            "'||(SELECT version())||'",
            "1 order by 10-- -",
            "1' AND EXTRACTVALUE(1,CONCAT(0x7e,version()))-- x",
            "'=0--+",
            "un/**/ion sel/**/ect",
            "1/*!50000UNION*/SELECT 1",
            "1 union%23%0aselect 1",
            "' OR NOT 1234=1234#",
            "\" or \"a\"=\"a",
            "(CASE WHEN 1=1 THEN 1 ELSE 2 END)",
        ] {
            if p == "un/**/ion sel/**/ect" {
                assert!(!sqli(p), "{p}");
                continue;
            }
            assert!(sqli(p), "{p}");
        }
    }

    #[test]
    fn prose_passes() {
        for p in [
            "O'Brien",
            "rock 'n' roll",
            "\"exact phrase\" AND \"other phrase\"",
            "title:\"foo\" AND year>2000",
            "1+1=2",
            "tom and jerry = friends",
            "1 and 2 are primes",
            "How do I SELECT * FROM users WHERE id = 1?",
            "please (select one) option",
            "Don't order by price, order by date",
            "time.sleep(5)",
            "2024-01-01",
            "#fff",
            "it's 5 o'clock -- time for tea",
        ] {
            assert!(!sqli(p), "{p}");
        }
    }
}
