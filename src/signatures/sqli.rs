//! SQL injection: shapes, not words.
//!
//! An injection has to leave the literal the application put it in and then
//! continue as SQL. So the detector looks at three places a breakout can
//! start: the very beginning of the value (numeric or unquoted context, plus
//! a leading `)`), and right after the first `'` and the first `"` (string
//! context; later quotes close strings the user opened, which is how prose
//! and search syntax use them). From there it asks for a continuation that
//! only SQL has: a logical operator followed by a predicate (two expressions
//! of a small bounded grammar compared, where one holds a literal or a call
//! or both are the same: `1+2=3+4`, `pi()=pi()`; `IS NULL`; `BETWEEN`), a
//! builtin call or a commented-out bare literal; `union select`;
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
use super::sql_lex::{self, Kw, Lexer, Tok, T};

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
            let Some(p) = s.iter().position(|&b| b == q) else {
                continue;
            };
            if context(s, p + 1, false) {
                return true;
            }
            // `a''12' and ...`: a doubled quote is a quote inside the string;
            // the breakout is the first single one after it.
            if s.get(p + 1) == Some(&q) {
                let mut k = p;
                while s.get(k) == Some(&q) && s.get(k + 1) == Some(&q) {
                    k += 2;
                }
                if let Some(e) = s[k..].iter().position(|&b| b == q) {
                    if context(s, k + e + 1, false) {
                        return true;
                    }
                }
            }
        }
    }
    (n.has(trig::PAREN | trig::SEMI | trig::PERCENT_AT | trig::SPACE)) && anywhere(s)
        || syntax_probe(s)
        || (n.has(trig::PAREN | trig::COLON | trig::PERCENT_AT) && sql_value(s))
        || (n.has(trig::QUOTE) && string_comparison(s))
        // `'||UTL_HTTP.REQUEST`: a catalogue or package name reached with
        // no space, parenthesis or `;` (Oracle's packages are dotted).
        // A value opening with Oracle's `||` (`||UTL_HTTP.REQUEST`) is the
        // same concatenation after a quote the application supplies.
        || ((n.has(trig::QUOTE) || s.starts_with(b"||")) && n.has(trig::DOT) && CATALOGUE.found_in(s))
        || (n.has(trig::QUOTE) && dangling_logic(s))
        || (n.has(trig::QUOTE) && json_expression(s))
        || (n.has(trig::PAREN) && identity_call(s))
        || (n.has(trig::SPACE) && statement_value(s))
}

/// Function names of MySQL, PostgreSQL, SQL Server, Oracle and SQLite that
/// the builtin list (`sql_lex::builtin`, which the predicate rules use)
/// leaves out: only a value that is one of them opened and left open
/// (`COS(`, `atan2(`, `json_extract(`) counts, the probe of which function
/// names a filter lets through. Sorted, for binary search.
const SQL_FUNCTIONS: &[&[u8]] = &[
    b"abs",
    b"acos",
    b"adddate",
    b"addtime",
    b"aes_decrypt",
    b"aes_encrypt",
    b"array_agg",
    b"array_to_string",
    b"asin",
    b"atan",
    b"atan2",
    b"avg",
    b"bin",
    b"bit_and",
    b"bit_count",
    b"bit_length",
    b"bit_or",
    b"bit_xor",
    b"ceil",
    b"ceiling",
    b"char_length",
    b"character_length",
    b"charindex",
    b"coercibility",
    b"collation",
    b"connection_id",
    b"conv",
    b"convert_tz",
    b"cos",
    b"cot",
    b"crc32",
    b"curdate",
    b"current_database",
    b"current_date",
    b"current_schema",
    b"current_setting",
    b"current_time",
    b"current_timestamp",
    b"curtime",
    b"date_add",
    b"date_format",
    b"date_sub",
    b"dateadd",
    b"datediff",
    b"datename",
    b"datepart",
    b"dayofmonth",
    b"dayofweek",
    b"dayofyear",
    b"dbms_xmlgen",
    b"degrees",
    b"des_decrypt",
    b"des_encrypt",
    b"difference",
    b"encode",
    b"encrypt",
    b"export_set",
    b"field",
    b"find_in_set",
    b"format_bytes",
    b"found_rows",
    b"from_base64",
    b"from_days",
    b"from_unixtime",
    b"geometrycollection",
    b"get_lock",
    b"inet6_aton",
    b"inet6_ntoa",
    b"inet_aton",
    b"inet_ntoa",
    b"insert",
    b"is_free_lock",
    b"is_used_lock",
    b"isnumeric",
    b"json_agg",
    b"json_array",
    b"json_build_array",
    b"json_build_object",
    b"json_contains",
    b"json_depth",
    b"json_extract",
    b"json_length",
    b"json_object",
    b"json_quote",
    b"json_search",
    b"json_set",
    b"json_type",
    b"json_unquote",
    b"json_valid",
    b"jsonb_build_object",
    b"jsonb_path_query",
    b"last_day",
    b"last_insert_id",
    b"lcase",
    b"len",
    b"listagg",
    b"ln",
    b"load_extension",
    b"localtimestamp",
    b"log10",
    b"log2",
    b"lpad",
    b"ltrim",
    b"make_date",
    b"makedate",
    b"master_pos_wait",
    b"microsecond",
    b"name_const",
    b"nvl",
    b"nvl2",
    b"oct",
    b"octet_length",
    b"pg_ls_dir",
    b"pg_read_binary_file",
    b"pg_stat_file",
    b"pi",
    b"pow",
    b"power",
    b"quarter",
    b"quote",
    b"quotename",
    b"radians",
    b"regexp_instr",
    b"regexp_like",
    b"regexp_replace",
    b"regexp_substr",
    b"release_lock",
    b"replicate",
    b"reverse",
    b"right",
    b"round",
    b"row_count",
    b"rpad",
    b"rtrim",
    b"sec_to_time",
    b"sha2",
    b"sign",
    b"sin",
    b"soundex",
    b"sqlite_compileoption_get",
    b"sqlite_source_id",
    b"sqrt",
    b"std",
    b"stddev",
    b"str_to_date",
    b"strftime",
    b"string_agg",
    b"stuff",
    b"substring_index",
    b"sys_context",
    b"sys_eval",
    b"sys_exec",
    b"tan",
    b"time_format",
    b"time_to_sec",
    b"timediff",
    b"timestampadd",
    b"timestampdiff",
    b"to_base64",
    b"to_date",
    b"to_days",
    b"to_number",
    b"to_seconds",
    b"trunc",
    b"truncate",
    b"ucase",
    b"uncompressed_length",
    b"unix_timestamp",
    b"utc_date",
    b"utc_time",
    b"utc_timestamp",
    b"uuid",
    b"uuid_short",
    b"validate_password_strength",
    b"var_pop",
    b"var_samp",
    b"weight_string",
    b"xmlagg",
    b"xmlelement",
    b"xpath_string",
    b"yearweek",
    b"zeroblob",
];

/// Values that are SQL by themselves without breaking out of anything, in
/// shapes no other text has: a builtin opened and left open (`hex(`,
/// `concat (`, `COALESCE(`: the probe of which function names get
/// through), a PostgreSQL cast of a name or call to a SQL type
/// (`password::int`, `starts_with(password,'a')::int`, the error-based
/// extraction of PostgreSQL), and a JSON operator applied to a cast
/// document (`'{"a":1}'::jsonb #>> '{a}'`); T-SQL variable declarations.
fn sql_value(s: &[u8]) -> bool {
    let lx = Lexer::new(s, 0, true);
    let (p, _) = peek::<3>(lx);
    if let [Some(a), Some(b), None] = p {
        let name = lx.text(&a);
        if matches!(a.t, T::Word { .. })
            && b.t == T::LParen
            && (sql_lex::builtin(name) || SQL_FUNCTIONS.binary_search(&name).is_ok())
        {
            return true;
        }
    }
    // T-SQL: `declare @x`, `DECLARE @b int`, `exec (@q)`: variables only
    // a batch has.
    if let [Some(a), Some(b), c] = p {
        match kw(&a) {
            Kw::Declare if b.t == T::Var => {
                return c.is_none_or(|c| {
                    matches!(c.t, T::Semi | T::Comment)
                        || cast_kind(lx.text(&c)) == Cast::Sql
                        || matches!(lx.text(&c), b"nvarchar" | b"table" | b"cursor" | b"as")
                })
            }
            Kw::Exec if b.t == T::LParen => return c.is_some_and(|c| c.t == T::Var),
            _ => {}
        }
    }
    let mut cur = lx;
    let Some(e) = expr(&mut cur, 0) else {
        return false;
    };
    let (p, _) = peek::<2>(cur);
    match e.cast {
        Cast::Sql | Cast::Bool => {
            matches!(e.kind, T::Word { .. } | T::LParen)
                && p[0].is_none_or(|t| {
                    matches!(t.t, T::Comment | T::Semi) || lx.text(&t) == b"precision"
                })
        }
        // `'[..]'::jsonb - 1` is one expression of more than the cast.
        Cast::Json => {
            e.tokens > 3
                || matches!(p, [Some(op), Some(b)] if matches!(op.t, T::Cmp | T::Arith)
                && matches!(b.t, T::Str | T::Num))
        }
        _ => false,
    }
}

/// A run of quote and punctuation characters holding both quote kinds
/// (`,'(",,`, `.'.,,.".`, `'"><'`): what scanners send to break the
/// syntax of whatever the value lands in. Text joins quotes with letters.
fn syntax_probe(s: &[u8]) -> bool {
    let mut run = 0;
    let (mut single, mut double) = (false, false);
    for &b in s {
        // `'\"`: which quote the escape protects.
        if matches!(
            b,
            b'\'' | b'"' | b'(' | b')' | b',' | b'.' | b'<' | b'>' | b'`' | b'\\'
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
    if start {
        let mut ahead = lx;
        if ahead.next().is_some_and(|t| kw(&t) == Kw::Select) && select_statement(ahead) {
            return true;
        }
        // The value itself may be the literal: a number, a word, `-1`, or
        // an expression of them (`1*(hope)`, `-9-(2)`, `pi()`).
        let mut ahead = lx;
        if let Some(e) = expr(&mut ahead, 0) {
            if e.tokens > 1 || e.kind != T::LParen {
                lx = ahead;
            }
        }
    } else {
        // `1'+'12' and ...`, `1'*column is null`: the value closes the
        // string and goes on with arithmetic on it first.
        let mut ahead = lx;
        if ahead.next().is_some_and(|t| t.t == T::Arith) {
            let mut after = ahead;
            if expr(&mut after, 0).is_some() {
                let mut next = after;
                // Not a comparison: `9"&page=1` is a URL's query string.
                if next
                    .next()
                    .is_some_and(|t| is_logical(&t) || kw(&t) == Kw::Is)
                {
                    lx = after;
                }
            }
        }
    }
    let mut first = lx.next();
    let mut closed = false;
    while first.map(|t| t.t) == Some(T::RParen) {
        closed = true;
        first = lx.next();
    }
    // At the value start a line comment followed by more lines is only
    // whitespace to the server: sqlmap's `1#\nAND 1=1`, `#\nOR 1=1`,
    // `-- x\nUNION SELECT`. (After a quote, `continuation` reads the
    // comment itself.)
    while start && first.is_some_and(|c| c.t == T::Comment && lx.span(c.end, c.end + 1) == b"\n") {
        first = lx.next();
    }
    let Some(t) = first else { return false };
    let bare_start = start && !closed && at == 0;
    continuation(&lx, t, bare_start) || (!start && operator_between_quotes(&lx, at, t))
}

fn is_logical(t: &Tok) -> bool {
    t.t == T::Logic || matches!(kw(t), Kw::Or | Kw::And | Kw::Xor)
}

/// `A' - 'B`, `' OR '`, `'||'`, `' DIV '`: right after the breakout an
/// operator and a string left open for the application's closing quote. A
/// quote in text is followed by letters, not by an operator and a quote.
fn operator_between_quotes(lx: &Lexer, at: usize, t: Tok) -> bool {
    let op = matches!(t.t, T::Arith | T::Logic | T::Cmp)
        || matches!(kw(&t), Kw::Or | Kw::And | Kw::Xor | Kw::Not);
    // Spaced on both sides (`' - '`): a quoted symbol in a search phrase
    // (`"&"`, `"LIKE" stamp`, `9"&page=1`) hugs its quotes.
    let spaced = |i: usize| matches!(lx.span(i, i + 1), b" " | b"\n");
    // One word at most on either side: a probe, not a phrase.
    let word = |a: usize, b: usize| !lx.span(a, b).iter().any(|&c| c == b' ' || c == b'\n');
    if !op || !spaced(at) || !spaced(t.end) || !word(0, at) {
        return false;
    }
    let quote = lx.span(at - 1, at);
    let mut rest = *lx;
    let mut next = rest.next();
    // `NOT LIKE`, `SOUNDS LIKE`, `NOT REGEXP`: a word operator of two words.
    if next.is_some_and(|n| n.t == T::Cmp || matches!(lx.text(&n), b"sounds")) {
        next = rest.next();
        if next.is_some_and(|n| n.t == T::Cmp) {
            next = rest.next();
        }
    }
    next.is_some_and(|n| {
        lx.open_string(&n) && word(n.start, n.end) && lx.span(n.start, n.start + 1) == quote
    })
}

/// What follows a breakout.
fn continuation(lx: &Lexer, t: Tok, bare_start: bool) -> bool {
    let rest = *lx;
    match (t.t, kw(&t)) {
        (T::Word { .. }, Kw::Or | Kw::And | Kw::Xor) | (T::Logic, _) => {
            predicate(rest) || lone_condition(lx, t, bare_start)
        }
        (T::Word { .. }, Kw::Union) => union_select(rest),
        (T::Word { .. }, Kw::Having) => predicate(rest),
        // `' where 1=1`: a condition on literals ("error near 'WHERE id='"
        // quotes a query).
        (T::Word { .. }, Kw::Where) => {
            let mut r = rest;
            r.next()
                .is_some_and(|a| matches!(a.t, T::Num | T::Str | T::LParen))
                && predicate(rest)
        }
        (T::Word { .. }, Kw::Order | Kw::Group) => {
            let (p, after) = peek::<2>(rest);
            match p {
                [Some(a), Some(b)] if kw(&a) == Kw::By => {
                    // `order by 10`, `order by ifnull(..)`, `group by x having`
                    b.t == T::Num
                        || is_builtin(&b)
                        || (!bare_start && next_kw(after, Kw::Having))
                        // ` group by userid having 1=1--`: the value itself
                        // is the clause, its condition on literals.
                        || (bare_start && {
                            let mut r = after;
                            r.next().is_some_and(|h| kw(&h) == Kw::Having) && predicate(r)
                        })
                }
                _ => false,
            }
        }
        // `'; exec sp_..`, `' insert into`: a statement right after the quote.
        (T::Word { .. }, Kw::Exec | Kw::Insert | Kw::Delete | Kw::Drop | Kw::Declare)
            if !bare_start =>
        {
            stacked(lx.rewind(t.start))
        }
        // `exec master..xp_cmdshell`, `exec sp_configure`, `execute xp_dirtree`
        // as the value: the procedures of SQL Server's own databases.
        (T::Word { .. }, Kw::Exec) => {
            let (p, _) = peek::<1>(rest);
            p[0].is_some_and(|b| {
                let w = lx.text(&b);
                w.starts_with(b"xp_")
                    || w.starts_with(b"sp_")
                    || w.starts_with(b"master.")
                    || w.starts_with(b"msdb.")
            })
        }
        (T::Word { .. }, Kw::Procedure) => true,
        // `' grant connect to x; --`, `'create user x identified by 'p'`:
        // account statements right after the quote.
        // (A guard, so that other words fall through to the arms below.)
        (T::Word { kw: Kw::None, .. }, _) if !bare_start && account_statement(lx, t) => true,
        (T::Word { .. }, Kw::Waitfor) => true,
        (T::Word { .. }, Kw::Into) => {
            let (p, _) = peek::<1>(rest);
            p[0].is_some_and(|a| matches!(lx.text(&a), b"outfile" | b"dumpfile"))
        }
        (T::Semi, _) => {
            stacked(rest)
                // `; or '1'='1'`: a condition after the statement's end.
                || {
                    let mut r = rest;
                    r.next().is_some_and(|a| {
                        matches!(kw(&a), Kw::Or | Kw::And) && predicate(r)
                    })
                }
                || (!bare_start && next_is(rest, T::Comment))
                // `admin';`, `root@example.com'/* x */;`: the statement
                // ended right after the application's string, which held
                // one token (a search's "DRESS WITH HAT 18';" is prose).
                || (!bare_start && {
                    let mut r = rest;
                    let before = lx.span(0, t.start).trim_ascii_end();
                    r.next().is_none()
                        && before.ends_with(b"'")
                        && !before[..before.len() - 1].contains(&b' ')
                })
                // `';select name`: right after the quote any select list.
                || (!bare_start && {
                    let (p, _) = peek::<2>(rest);
                    p[0].is_some_and(|a| kw(&a) == Kw::Select)
                        && p[1].is_some_and(|b| matches!(b.t, T::Word { kw: Kw::None, .. }))
                        && lx.span(0, t.start).trim_ascii_end().ends_with(b"'")
                })
        }
        // `admin'--`, `')#`: the rest of the query is commented out. A bare
        // value starting with `--` or `#` is not a breakout.
        // After a phrase of three words or more the quote is prose's
        // ("BAMBOO CHARCOAL SOAP 1 '#", "... DRESSES' --INFANT -CHILD").
        // `#` also opens a hashtag or a number in prose ("FOO BAR'# BLAH",
        // "BAR'# BLAH"): before it one word only and nothing after it but
        // more comment marks (`admin'#`, `1')#--`). `--` glued to a word is
        // a search's exclusion (`CCBCUSTOMDRESSES' --INFANT`).
        (T::Comment, _) => {
            let words = lx.span(0, t.start).trim_ascii_end();
            let words = &words[..words.len().saturating_sub(1)];
            let spaces = words.iter().filter(|&&b| b == b' ').count();
            let text = lx.text(&t);
            // sqlmap's `--RaNdOm\nAND--x\n9227=9227`: the query goes on
            // after the comment's line.
            let more_lines = lx.span(t.end, t.end + 1) == b"\n";
            let ok = match text.first() {
                Some(b'#') => {
                    spaces == 0
                        && (more_lines
                            || text[1..]
                                .iter()
                                .all(|b| matches!(b, b'#' | b'-' | b' ' | b';')))
                }
                Some(b'-') => {
                    spaces <= 2 && (more_lines || !text.get(2).is_some_and(u8::is_ascii_alphabetic))
                }
                _ => spaces <= 2,
            };
            !bare_start && comment_terminates(lx, t) && ok
        }
        (T::Cmp, _) => {
            let (p, _) = peek::<2>(rest);
            match p {
                [Some(a), b] if is_builtin(&a) || subquery(a, b) => true,
                // `'='`, `'<>'x`: only a quote breakout makes these SQL. A
                // quoted word (`"like" stamp`) is a search phrase.
                [Some(a), _]
                    if !bare_start
                        && matches!(a.t, T::Str | T::Num)
                        && !lx.text(&t).first().is_some_and(u8::is_ascii_alphabetic) =>
                {
                    true
                }
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

/// `grant <privilege>[, ..] [on ..] to <name>` or `create|alter user <name>
/// identified by`: statements that make an account or give it rights,
/// read after a quote only (`t` is the word after it). Privileges are
/// Oracle's, MySQL's and SQL Server's; "grant access to" is prose.
fn account_statement(lx: &Lexer, t: Tok) -> bool {
    let (p, _) = peek::<LOOKAHEAD>(*lx);
    match lx.text(&t) {
        b"grant" => {
            let Some(first) = p[0] else { return false };
            matches!(
                lx.text(&first),
                b"connect"
                    | b"resource"
                    | b"dba"
                    | b"sysdba"
                    | b"all"
                    | b"execute"
                    | b"file"
                    | b"super"
                    | b"control"
                    | b"impersonate"
            ) && p[1..].iter().flatten().any(|w| lx.text(w) == b"to")
        }
        b"create" | b"alter" => {
            matches!(p, [Some(u), Some(_), Some(i), Some(b), ..]
                if matches!(lx.text(&u), b"user" | b"login")
                    && lx.text(&i) == b"identified"
                    && lx.text(&b) == b"by")
        }
        _ => false,
    }
}

/// `AND 1`, `' or 1`, `9999 or true`: a logical operator and one literal,
/// then the end of the value or a comment: the boolean probe. Opening the
/// value (no left operand) or after a quote any number or boolean; after a
/// leading number only `true`/`false` ("10 or 12" is a quantity).
fn lone_condition(lx: &Lexer, t: Tok, bare_start: bool) -> bool {
    let (p, _) = peek::<2>(*lx);
    let Some(a) = p[0] else { return false };
    if p[1].is_some_and(|b| b.t != T::Comment) {
        return false;
    }
    let before = lx.span(0, t.start).trim_ascii();
    // `' or "`: the value is a quote, the operator and the other quote
    // ("'and'" is a quoted word).
    if a.t == T::Str {
        let other = lx.span(a.start, a.start + 1);
        return !bare_start
            && p[1].is_none()
            && lx.span(a.start.saturating_sub(1), a.start) == b" "
            && matches!((before, other), (b"'", b"\"") | (b"\"", b"'"));
    }
    let boolean = matches!(lx.text(&a), b"true" | b"false");
    // The probe's literals are one digit (`AND 0`, `' or 1`): "or 1960".
    let digit = a.t == T::Num && a.end - a.start == 1;
    (digit || boolean) && (!bare_start || before.is_empty() || boolean)
}

/// `' OR`, `") and`, `'||`: the value is a quote that ends the
/// application's string, an optional `)`, and a logical operator left for
/// the rest of the query: the first half of a tautology, as scanners send
/// it (`&apos; OR` once the entity is read). A word before the quote
/// ("rock 'n' or") is text.
fn dangling_logic(s: &[u8]) -> bool {
    let s = s.trim_ascii();
    let Some(rest) = s.strip_prefix(b"'").or_else(|| s.strip_prefix(b"\"")) else {
        return false;
    };
    let rest = rest.strip_prefix(b")").unwrap_or(rest).trim_ascii_start();
    matches!(rest, b"or" | b"and" | b"xor" | b"||" | b"&&")
}

/// PostgreSQL's JSON operators, longest first.
const JSON_OPERATORS: [&[u8]; 12] = [
    b"->>", b"#>>", b"->", b"#>", b"#-", b"@>", b"<@", b"@?", b"@@", b"?|", b"?&", b"?",
];

fn json_operator(s: &[u8]) -> usize {
    JSON_OPERATORS
        .iter()
        .find(|o| s.starts_with(o))
        .map_or(0, |o| o.len())
}

/// A quoted JSON document (`'{`, `"[`), a quoted JSON path (`'$.a`,
/// `'$[0]`) or an `array[` of keys: what a JSON operator takes.
fn json_operand(s: &[u8]) -> bool {
    matches!(
        s,
        [b'\'' | b'"', b'{' | b'[', ..] | [b'\'' | b'"', b'$', b'.' | b'[', ..]
    ) || s.starts_with(b"array[")
}

/// JSON-based SQL (the WAF bypass of Claroty's Team82, CRS 942550): a
/// quoted JSON document, cast or not, compared by a PostgreSQL JSON
/// operator with another operand (`'{"a":1}' @> '{"a":1}'`,
/// `'{..}'::jsonb @? '$.a[*] ? (@ > 2)'`, `'{..}'::jsonb ?| array['a']`),
/// or a value that opens with such an operator and its operand (`@>
/// '{"a":1}'`, `<@ '$.a'`: the tail of one). A JSON document in text is
/// not followed by an operator.
fn json_expression(s: &[u8]) -> bool {
    let s = s.trim_ascii();
    let lead = json_operator(s);
    if lead >= 2 && json_operand(s[lead..].trim_ascii_start()) {
        return true;
    }
    let Some(&q) = s.first().filter(|&&b| b == b'\'' || b == b'"') else {
        return false;
    };
    if !matches!(s.get(1), Some(b'{' | b'[')) {
        return false;
    }
    let Some(close) = s[1..].iter().take(256).position(|&b| b == q) else {
        return false;
    };
    if !matches!(s[close], b'}' | b']') {
        return false;
    }
    let r = s[close + 2..].trim_ascii_start();
    let r = r
        .strip_prefix(b"::jsonb")
        .or_else(|| r.strip_prefix(b"::json"))
        .unwrap_or(r)
        .trim_ascii_start();
    let op = json_operator(r);
    op > 0 && {
        let r = r[op..].trim_ascii_start();
        matches!(r.first(), Some(b'\'' | b'"')) || r.starts_with(b"array[")
    }
}

/// A value that is a niladic call reading the server's identity
/// (`database()`, `db_name()`, `version()`, `current_user()`): the probe
/// of whether the call reaches the query, as a function left open is.
fn identity_call(s: &[u8]) -> bool {
    let Some(name) = s.trim_ascii().strip_suffix(b")") else {
        return false;
    };
    let Some(name) = name.trim_ascii_end().strip_suffix(b"(") else {
        return false;
    };
    matches!(
        name.trim_ascii(),
        b"database"
            | b"db_name"
            | b"schema"
            | b"current_database"
            | b"current_schema"
            | b"version"
            | b"user"
            | b"current_user"
            | b"session_user"
            | b"system_user"
            | b"suser_sname"
            | b"connection_id"
            | b"last_insert_id"
    )
}

/// `'x'!='y`, `"a"="a`, `'1'='1`: a value that is two strings compared, the
/// second left open for the application's closing quote.
fn string_comparison(s: &[u8]) -> bool {
    let Some(&q) = s.first().filter(|&&b| b == b'\'' || b == b'"') else {
        return false;
    };
    let Some(close) = s[1..].iter().take(32).position(|&b| b == q) else {
        return false;
    };
    let rest = s[close + 2..].trim_ascii_start();
    let ops: [&[u8]; 7] = [b"!=", b"<>", b"<=", b">=", b"=", b"<", b">"];
    let Some(op) = ops.iter().find(|o| rest.starts_with(o)) else {
        return false;
    };
    let rest = rest[op.len()..].trim_ascii_start();
    rest.len() <= 33
        && rest.first() == Some(&q)
        && !rest[1..].contains(&q)
        && !rest[1..].contains(&b' ')
        && !s[1..close + 1].contains(&b' ')
}

/// A value that is a schema or administration statement by itself:
/// `ALTER TABLE t CHANGE ..`, `CREATE TABLE t (`, `CREATE FUNCTION f (..)
/// RETURNS`, `REPLACE t (a) VALUES (`, `BACKUP DATABASE x TO DISK`, `AS x
/// WHERE 1=1` (a select list continued). The name alone ("create table for
/// six") is prose.
fn statement_value(s: &[u8]) -> bool {
    let lx = Lexer::new(s, 0, true);
    let (p, _) = peek::<4>(lx);
    let w = |t: &Tok| lx.text(t);
    // `select pg_sleep`, `select benchmark`: a delay named, cut off.
    if let [Some(a), Some(b), None, _] = p {
        return kw(&a) == Kw::Select && matches!(w(&b), b"sleep" | b"pg_sleep" | b"benchmark");
    }
    let [Some(a), Some(b), Some(c), d] = p else {
        return false;
    };
    match (w(&a), w(&b)) {
        (b"alter", b"table") => d.is_some_and(|d| {
            matches!(
                w(&d),
                b"add" | b"drop" | b"change" | b"modify" | b"rename" | b"alter" | b"engine"
            )
        }),
        (b"create", b"table") => {
            d.is_some_and(|d| d.t == T::LParen)
                || (w(&c) == b"if" && d.is_some_and(|d| w(&d) == b"not"))
        }
        (b"create", b"function" | b"procedure" | b"trigger") => {
            d.is_some_and(|d| d.t == T::LParen)
                && find_word(s, b"returns" as &[u8]) | find_word(s, b"begin")
        }
        (b"replace" | b"insert", _) => values_list(s),
        (b"backup", b"database" | b"log") => find_word(s, b"to"),
        (b"as", _) if matches!(c.t, T::Word { kw: Kw::Where, .. }) => {
            let mut r = lx;
            r.next();
            r.next();
            r.next();
            predicate(r)
        }
        _ => false,
    }
}

/// `values (`: the row list of an insert.
fn values_list(s: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = s
        .get(from..)
        .and_then(|t| super::normalize::find(t, b"values"))
    {
        let at = from + p;
        from = at + 6;
        if at > 0 && s[at - 1].is_ascii_alphanumeric() {
            continue;
        }
        if s[from..].trim_ascii_start().starts_with(b"(") {
            return true;
        }
    }
    false
}

/// Whether `w` occurs in `s` as a whole word.
fn find_word(s: &[u8], w: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| super::normalize::find(t, w)) {
        let at = from + p;
        from = at + 1;
        let glued = |k: Option<&u8>| k.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
        if !glued(at.checked_sub(1).and_then(|k| s.get(k))) && !glued(s.get(at + w.len())) {
            return true;
        }
    }
    false
}

fn next_kw(lx: Lexer, k: Kw) -> bool {
    let mut lx = lx;
    lx.next().is_some_and(|x| kw(&x) == k)
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
    // `union+select`: a `+` left where a form decoder would see a space.
    let mut it = lx.filter(|t| t.t != T::Comment && !(t.t == T::Arith && lx.text(t) == b"+"));
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

/// A predicate after AND/OR: a comparison of two expressions where one
/// holds a literal or a call or both are the same (`1+2=3+4`, `pi()=pi()`,
/// `'a'='a'`, `x=x`), `IS [NOT] NULL`, `BETWEEN`, `IN (`, a builtin call, a
/// subquery or `EXISTS(`, or a bare literal that is then commented out.
/// "tom and jerry" or "1 and 2" are not predicates.
fn predicate(lx: Lexer) -> bool {
    predicate_at(lx, 0)
}

fn predicate_at(lx: Lexer, depth: u8) -> bool {
    let mut cur = lx;
    let mut ahead = cur;
    let mut first = ahead.next();
    while first.is_some_and(|t| kw(&t) == Kw::Not) {
        cur = ahead;
        first = ahead.next();
    }
    let Some(f) = first else { return false };
    if is_builtin(&f) || kw(&f) == Kw::Exists {
        return true;
    }
    // `and select 1`, `or select @@version`; "script and select tags are
    // removed" is prose.
    if kw(&f) == Kw::Select {
        let (p, _) = peek::<2>(ahead);
        return matches!(p, [Some(b), c] if select_operand(&lx, b, c));
    }
    if f.t == T::LParen && depth < 3 {
        // `(1=1`, `(select`, `('a'='a`, `(pi()=pi())`
        let mut inner = ahead;
        if inner.next().is_some_and(|b| {
            kw(&b) == Kw::Select || b.t == T::Num || b.t == T::Str || is_builtin(&b)
        }) || predicate_at(ahead, depth + 1)
        {
            return true;
        }
    }
    let Some(a) = expr(&mut cur, 0) else {
        return false;
    };
    let mut ahead = cur;
    let Some(op) = ahead.next() else {
        // `' or ''-'`, `" or ""^"`: literals joined by an operator up to the
        // string the application's quote closes; `and f(x)::bool`.
        return (a.tokens > 2 && a.open) || a.cast == Cast::Bool;
    };
    match (op.t, kw(&op)) {
        (T::Cmp, _) => {
            let mut r = ahead;
            let Some(b) = expr(&mut r, 0) else {
                return false;
            };
            a.literal
                || b.literal
                || a.call
                || b.call
                || lx.span(a.start, a.end) == lx.span(b.start, b.end)
                || next_is(r, T::Comment)
        }
        (_, Kw::Is | Kw::Between) => true,
        // `in (1,2)`, `in (select`; "oranges in (season)" is prose.
        (_, Kw::In) => {
            let (p, _) = peek::<2>(ahead);
            matches!(p, [Some(l), Some(v)] if l.t == T::LParen
                && (matches!(v.t, T::Num | T::Str | T::Var) || kw(&v) == Kw::Select))
        }
        (_, Kw::Not) => {
            let mut r = ahead;
            r.next()
                .is_some_and(|t| t.t == T::Cmp || matches!(kw(&t), Kw::Between | Kw::In))
        }
        _ if lx.text(&op) == b"sounds" => next_is(ahead, T::Cmp),
        // `'||f(x)||'`: concatenation of a call (Oracle, PostgreSQL).
        // `1'||'asd'||'`: a string concatenated up to the application's quote.
        (T::Logic, _) => {
            a.call
                || (a.literal && lx.text(&op) == b"||" && {
                    let mut r = ahead;
                    r.next().is_some_and(|t| lx.open_string(&t)) && r.next().is_none()
                })
        }
        (T::Comment | T::Semi, _) => (a.literal && a.tokens == 1) || a.cast == Cast::Bool,
        _ => false,
    }
}

/// Tokens one expression may span; bounds the work per start position.
const EXPR_TOKENS: usize = 32;

/// What an expression holds, for the predicate rules.
#[derive(Clone, Copy)]
struct Expr {
    start: usize,
    end: usize,
    tokens: usize,
    /// A number, string, variable, `null`/`true`, or a subquery.
    literal: bool,
    /// A function call anywhere in it.
    call: bool,
    /// The kind of its first operand's token.
    kind: T,
    /// It ends with a string left open at the end of the field.
    open: bool,
    /// The type of a PostgreSQL cast in it (`x::int`), if any.
    cast: Cast,
}

/// What a `::type` cast turns an operand into.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cast {
    None,
    /// `::bool`, `::boolean`: a condition.
    Bool,
    /// `::json`, `::jsonb`: a document the JSON operators apply to.
    Json,
    /// Another SQL type (`::int`, `::text`, `::double precision`...).
    Sql,
    /// A word that is no SQL type (`std::string`).
    Other,
}

fn cast_kind(ty: &[u8]) -> Cast {
    match ty {
        b"bool" | b"boolean" => Cast::Bool,
        b"json" | b"jsonb" => Cast::Json,
        b"int" | b"int2" | b"int4" | b"int8" | b"integer" | b"bigint" | b"smallint" | b"text"
        | b"varchar" | b"char" | b"numeric" | b"decimal" | b"float" | b"float4" | b"float8"
        | b"real" | b"double" | b"bytea" | b"regclass" | b"regproc" | b"oid" | b"xml" | b"inet"
        | b"uuid" | b"money" => Cast::Sql,
        _ => Cast::Other,
    }
}

/// `operand (arith operand)*`, operands being literals, column names,
/// calls and parenthesised groups, with unary `- + ! ~ NOT BINARY`. On
/// success `lx` is left after the expression; the work is bounded by
/// [`EXPR_TOKENS`].
fn expr(lx: &mut Lexer, depth: u8) -> Option<Expr> {
    let mut cur = *lx;
    let mut budget = EXPR_TOKENS;
    let mut out: Option<Expr> = None;
    while let Some(o) = operand(&mut cur, depth, &mut budget) {
        out = Some(match out {
            None => o,
            Some(e) => Expr {
                end: o.end,
                tokens: e.tokens + o.tokens + 1,
                literal: e.literal || o.literal,
                call: e.call || o.call,
                open: o.open,
                cast: if o.cast == Cast::None { e.cast } else { o.cast },
                ..e
            },
        });
        *lx = cur;
        let mut ahead = cur;
        match ahead.next() {
            Some(t) if t.t == T::Arith && budget > 0 => {
                budget -= 1;
                cur = ahead;
            }
            _ => break,
        }
    }
    out
}

fn operand(cur: &mut Lexer, depth: u8, budget: &mut usize) -> Option<Expr> {
    let mut t = cur.next()?;
    let start = t.start;
    let mut tokens = 1;
    while (t.t == T::Arith && matches!(cur.text(&t), b"-" | b"+" | b"!" | b"~"))
        || (matches!(kw(&t), Kw::Not | Kw::Binary) && !matches!(t.t, T::Word { call: true, .. }))
    {
        *budget = budget.checked_sub(1)?;
        tokens += 1;
        t = cur.next()?;
    }
    *budget = budget.checked_sub(1)?;
    let mut e = Expr {
        start,
        end: t.end,
        tokens,
        literal: false,
        call: false,
        kind: t.t,
        open: cur.open_string(&t),
        cast: Cast::None,
    };
    match t.t {
        T::Num | T::Str | T::Var => e.literal = true,
        T::Word {
            kw: Kw::Literal, ..
        } if !matches!(t.t, T::Word { call: true, .. }) => e.literal = true,
        T::Word {
            kw: Kw::None | Kw::Object | Kw::Binary | Kw::Literal | Kw::Insert,
            call,
            ..
        } => {
            if call {
                cur.next()?;
                e.call = true;
                group(cur, &mut e, depth, budget)?;
            }
        }
        T::LParen => group(cur, &mut e, depth, budget)?,
        _ => return None,
    }
    // `'{"a":1}'::jsonb`, `password::int`: casts are part of the operand.
    loop {
        let mut ahead = *cur;
        match (ahead.next(), ahead.next()) {
            (Some(c), Some(ty)) if c.t == T::Cast && matches!(ty.t, T::Word { .. }) => {
                *budget = budget.checked_sub(2)?;
                e.tokens += 2;
                e.end = ty.end;
                e.cast = cast_kind(cur.text(&ty));
                *cur = ahead;
            }
            _ => break,
        }
    }
    Some(e)
}

/// The rest of a parenthesised group or argument list, up to its `)` (or
/// the end of the field: the application may close it).
fn group(cur: &mut Lexer, e: &mut Expr, depth: u8, budget: &mut usize) -> Option<()> {
    let mut level = 1u32;
    for t in cur.by_ref() {
        *budget = budget.checked_sub(1)?;
        e.tokens += 1;
        e.end = t.end;
        match t.t {
            T::LParen => level += 1,
            T::RParen => {
                level -= 1;
                if level == 0 {
                    return Some(());
                }
            }
            T::Num | T::Str | T::Var => e.literal = true,
            T::Word { call: true, .. } => e.call = true,
            T::Word {
                kw: Kw::Select | Kw::Literal,
                ..
            } => e.literal = true,
            T::Comment | T::Semi => return (depth == 0).then_some(()),
            _ => {}
        }
    }
    Some(())
}

/// A value that is a query by itself: `select 1,2 from t`, `select
/// @@version`, `select sin(id),2 from bar where`, `select * from users`,
/// `select version();`. "select the best option from the list", "select
/// one, two from the menu" and "select 2 items" are prose.
fn select_statement(lx: Lexer) -> bool {
    let mut cur = lx;
    let mut ahead = cur;
    if ahead
        .next()
        .is_some_and(|t| matches!(kw(&t), Kw::All | Kw::Distinct))
    {
        cur = ahead;
    }
    let (mut strong, mut called) = (false, false);
    // sqlmap's column counts reach 20 and more (`select 1,2,...,18 from`).
    for _ in 0..32 {
        let mut ahead = cur;
        match ahead.next() {
            Some(t) if t.t == T::Arith && lx.text(&t) == b"*" => {
                strong = true;
                cur = ahead;
            }
            _ => {
                let Some(e) = expr(&mut cur, 0) else {
                    return false;
                };
                strong |= e.literal || e.call;
                // `select current_user;`: a niladic function, not a number.
                called |=
                    e.call || e.kind == T::Var || (e.literal && matches!(e.kind, T::Word { .. }));
            }
        }
        let mut ahead = cur;
        match ahead.next() {
            Some(t) if t.t == T::Comma => cur = ahead,
            Some(t) if kw(&t) == Kw::From => return strong,
            None => return called,
            Some(t) if matches!(t.t, T::Comment | T::Semi) => return called,
            _ => return false,
        }
    }
    false
}

/// A statement after `;` that only SQL has.
fn stacked(lx: Lexer) -> bool {
    // One token decides for most statements (`;a|;a|...` lexes each once).
    let mut rest = lx;
    let Some(a) = rest.next() else { return false };
    match kw(&a) {
        Kw::Select
        | Kw::Insert
        | Kw::Delete
        | Kw::Drop
        | Kw::Update
        | Kw::Exec
        | Kw::Declare
        | Kw::Shutdown => {}
        // `;replace t (id) values (..)`, judged below.
        _ if lx.text(&a) == b"replace" => {}
        // `; begin declare @v varchar(8000) ..`: T-SQL's and PL/SQL's block
        // opens the statement that decides.
        // `;BEGIN USER_LOCK.SLEEP(5); END`: or a packaged procedure called
        // in the block.
        _ if lx.text(&a) == b"begin" => {
            let mut r = rest;
            return stacked(rest)
                || r.next().is_some_and(|p| {
                    matches!(p.t, T::Word { call: true, .. }) && lx.text(&p).contains(&b'.')
                });
        }
        Kw::Waitfor => return true,
        // `;if(1=1,sleep(5),0)`; C# and JavaScript have `;if (user is null)`.
        _ if matches!(lx.text(&a), b"if" | b"iif") => return delay_call(&lx, a, None, rest),
        _ => return is_builtin(&a),
    }
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
        // `;replace t (id) values (..)`: MySQL's insert-or-update.
        _ if lx.text(&a) == b"replace" => values_list(lx.span_upto(a.end, 256)),
        Kw::Waitfor => true,
        // `;if(1=1,sleep(5),0)`; C# and JavaScript have `;if (user is null)`.
        _ if matches!(lx.text(&a), b"if" | b"iif") => {
            let mut rest = lx;
            rest.next();
            delay_call(&lx, a, None, rest)
        }
        _ => is_builtin(&a),
    }
}

/// After SELECT: something only a query selects (a literal, builtin, `*`,
/// variable, subquery) or `name FROM`.
fn select_operand(lx: &Lexer, b: Tok, c: Option<Tok>) -> bool {
    match b.t {
        T::Num | T::Var | T::LParen | T::Str => true,
        T::Arith => {
            lx.text(&b) == b"*"
                || c.is_some_and(|c| matches!(c.t, T::Num | T::Word { call: true, .. }))
        }
        T::Word { builtin: true, .. } => true,
        // `union select aes_decrypt(..)`, `(select max(dbname) from ..)`
        T::Word { call: true, .. } => true,
        T::Word {
            kw: Kw::Literal | Kw::Case | Kw::Top | Kw::Distinct | Kw::All,
            ..
        } => true,
        T::Word { kw: Kw::None, .. } => c.is_some_and(|c| kw(&c) == Kw::From || c.t == T::Comma),
        _ => false,
    }
}

/// Catalogue names that are a whole value by themselves (CRS 942140:
/// `tempdb`, `INFORMATION_SCHEMA`, `sql_table=pg_catalog`): the schema,
/// system-table and system-database names of MySQL, PostgreSQL, SQL Server,
/// Access and SQLite, which only a database's own catalogue uses, and which
/// an injection enumerates. Such a value is a plain token, which nothing
/// else inspects (`prefilter::plain_token`); sample databases
/// (`northwind`, a company name in examples) and column names
/// (`schema_name`) are not listed. Sorted, lowercase.
const CATALOGUE_TOKENS: &[&[u8]] = &[
    b"all_tab_columns",
    b"information_schema",
    b"msdb",
    b"msysaccessobjects",
    b"msysaccessstorage",
    b"msysaccessxml",
    b"msysaces",
    b"msysmodules",
    b"msysmodules2",
    b"msysobjects",
    b"msysqueries",
    b"msysrelationships",
    b"pg_authid",
    b"pg_catalog",
    b"pg_shadow",
    b"pg_toast",
    b"sqlite_master",
    b"sqlite_schema",
    b"sqlite_temp_master",
    b"sysaux",
    b"syscolumns",
    b"sysdatabases",
    b"sysobjects",
    b"tempdb",
];

/// The letters (as `1 << (byte & 31)`) that the names of
/// [`CATALOGUE_TOKENS`] have first and second.
const CATALOGUE_LEADS: [u32; 2] = {
    let mut m = [0u32; 2];
    let mut i = 0;
    while i < CATALOGUE_TOKENS.len() {
        m[0] |= 1 << (CATALOGUE_TOKENS[i][0] & 31);
        m[1] |= 1 << (CATALOGUE_TOKENS[i][1] & 31);
        i += 1;
    }
    m
};

/// Whether a plain token is one of [`CATALOGUE_TOKENS`] (any case). A
/// length test first: called for plain tokens before they are skipped.
pub fn catalogue_token(raw: &[u8]) -> bool {
    const MAX: usize = 18;
    if !(4..=MAX).contains(&raw.len()) {
        return false;
    }
    // Most plain tokens (`XMLHttpRequest`, ids, words) fail on their first
    // two letters: each must be one that some catalogue name has there.
    let letter = |b: u8| 1u32 << (b.to_ascii_lowercase() & 31);
    if CATALOGUE_LEADS[0] & letter(raw[0]) == 0 || CATALOGUE_LEADS[1] & letter(raw[1]) == 0 {
        return false;
    }
    let mut low = [0u8; MAX];
    for (d, s) in low.iter_mut().zip(raw) {
        *d = s.to_ascii_lowercase();
    }
    CATALOGUE_TOKENS.binary_search(&&low[..raw.len()]).is_ok()
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
    // File and large-object primitives, Oracle dynamic SQL.
    b"lo_import(",
    b"lo_export(",
    b"lo_get(",
    b"pg_read_file(",
    b"pg_ls_dir(",
    b"execute immediate",
]);

/// Signals that hold wherever they appear in the value.
fn anywhere(s: &[u8]) -> bool {
    if CATALOGUE.found_in(s) {
        return true;
    }
    // Every signal below opens at a `;`, a `(` (a call or a subquery) or
    // the word `union` or `case`: a field with none of them is not lexed.
    if memchr::memchr2(b';', b'(', s).is_none()
        && super::normalize::find(s, b"union").is_none()
        && super::normalize::find(s, b"case").is_none()
    {
        return false;
    }
    let lx = Lexer::new(s, 0, false);
    let mut it = lx;
    let mut prev: Option<Tok> = None;
    while let Some(t) = it.next() {
        let hit = match (t.t, kw(&t)) {
            (T::Word { .. }, Kw::Union) => union_select(it),
            (T::Semi, _) => stacked(it),
            // Only a `(` that opens `select` is read ahead: peeking at
            // every `(` lexed each token of `((((` four times.
            (T::LParen, _) if select_follows(s, t.end) => {
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

/// Whether the token after `at` is `select` (spaces and line breaks
/// skipped, as the lexer skips them).
fn select_follows(s: &[u8], at: usize) -> bool {
    let rest = s.get(at..).unwrap_or(&[]);
    let skip = rest
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\n'))
        .count();
    rest[skip..].starts_with(b"select")
        && !rest
            .get(skip + 6)
            .is_some_and(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'.' | 0x80..))
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
    // Four tokens: `if(1=1` and `ascii(user()` are the longest shapes read.
    let (p, _) = peek::<4>(rest);
    let arg = p[1];
    match name {
        b"sleep" | b"benchmark" => arg.is_some_and(|a| matches!(a.t, T::Num | T::LParen | T::Str)),
        // `length(version())`, `ascii(substring(user(),1,1))`: the server's
        // identity read inside another function, how blind injection
        // extracts it character by character.
        b"if" | b"iif" | b"elt" | b"make_set" => {
            // if(<literal> <cmp> <literal>, ...
            matches!(p, [_, Some(a), Some(op), Some(b), ..] if op.t == T::Cmp
                && matches!(a.t, T::Num | T::Str) && matches!(b.t, T::Num | T::Str | T::Word { builtin: true, .. }))
        }
        _ if p[0].is_some_and(|t| t.t == T::LParen) => p[1].is_some_and(|a| {
            matches!(
                lx.text(&a),
                b"version"
                    | b"user"
                    | b"database"
                    | b"db_name"
                    | b"schema"
                    | b"current_user"
                    | b"system_user"
                    | b"session_user"
            ) && p[2].is_some_and(|l| l.t == T::LParen)
                && p[3].is_some_and(|r| r.t == T::RParen)
        }),
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
    fn sql_functions_sorted() {
        assert!(SQL_FUNCTIONS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn catalogue_tokens() {
        assert!(CATALOGUE_TOKENS.windows(2).all(|w| w[0] < w[1]));
        for t in [
            "tempdb",
            "msdb",
            "INFORMATION_SCHEMA",
            "pg_catalog",
            "MSysAccessObjects",
            "sqlite_master",
        ] {
            assert!(catalogue_token(t.as_bytes()), "{t}");
        }
        for t in [
            "schema_name",
            "northwind",
            "temp",
            "pg_catalogs",
            "catalog",
            "tempdb2",
            "",
        ] {
            assert!(!catalogue_token(t.as_bytes()), "{t}");
        }
    }

    #[test]
    fn injection_shapes() {
        for p in [
            "' or 1=1--",
            "' OR",
            "&apos; OR",
            "\") and",
            "'||UTL_HTTP.REQUEST",
            "'{\"a\":1}' @> '{\"a\":1}'",
            "'{\"a\":[1,2,3]}'::jsonb @? '$.a[*] ? (@ > 2)'",
            "'{\"a\":1}'::jsonb ?| array['a','b']",
            "@> '{\"a\":1}'",
            "<@ '$.a'",
            "database()",
            "db_name ( )",
            "x'||utl_inaddr.get_host_address",
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
            "1#\nAND 1=1",
            "#\nOR 1=1",
            "admin';",
            "root@example.com'/* comment */;",
            "exec master..xp_cmdshell",
            "EXEC sp_configure 'show advanced options'",
            ";replace into users (id) values (1)",
            "'[\"a\", {\"b\":1}]'::jsonb #- '{1,b}'",
            "COS(",
            "insert(",
            "json_extract (",
            // SecLists' Generic-SQLi and MSSQL lists (session 18).
            "||UTL_HTTP.REQUEST",
            "; begin declare @var varchar(8000) set @var='",
            ";BEGIN USER_LOCK.SLEEP(5); END",
            "' AND @@global.version_compile_os--",
            // A builtin right after the quote still counts after the rule above.
            "2010-01-01' sleep(20.to_i) '",
            " group by userid having 1=1--",
            "; or '1'='1'",
            "'create user name identified by 'pass123' --",
            "' grant connect to name; grant resource to name; --",
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
            "DRESS WITH HAT 18';",
            "say 'hi';",
            "exec meeting at noon",
            "# Heading\nor 2 items = fine",
            "#- 'quoted' note",
            "rock 'n' or",
            "'either' or 'or'",
            "'utl_http' is an Oracle package",
            "see 'pg_catalog'",
            "'{\"a\":1}' is the body",
            "use '{\"a\":1}' or '[1]'",
            "? '{\"a\":1}'",
            "my database() helper",
            "user(s)",
            "room #- 'B'",
            "cos(x) + sin(y)",
            "round(2.5)",
            "||",
            "a ; or b",
            "x; begin the day",
            "group by owner having many items",
            "Mary's grant connect to the network",
            "'grant access to bob'",
            "'create user accounts for the team'",
            "Bob' grant all the wishes",
        ] {
            assert!(!sqli(p), "{p}");
        }
    }
}
