//! A small SQL lexer over a normalised (lowercase) field.
//!
//! It knows just enough SQL to tell an injection's shape from prose: string and
//! number literals, keywords, the builtin functions injections lean on,
//! operators, comments and punctuation. It is a plain iterator over byte
//! offsets (`Copy`), so a detector takes lookahead by copying it; nothing is
//! allocated. In "loose" mode quotes are punctuation instead of string
//! delimiters, for rules that must not depend on where strings start.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kw {
    None,
    Or,
    And,
    Xor,
    Not,
    Union,
    Select,
    From,
    Having,
    Group,
    Order,
    By,
    Limit,
    Into,
    Insert,
    Update,
    Delete,
    Drop,
    Exec,
    Waitfor,
    Like,
    Case,
    When,
    Then,
    Procedure,
    Declare,
    Set,
    Shutdown,
    Object,
    Literal,
    All,
    Distinct,
    Top,
    Exists,
    Where,
    Is,
    Between,
    In,
    Binary,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum T {
    Str,
    Num,
    /// A word; `call` when followed by `(`, `builtin` for SQL functions that
    /// injections use (never ordinary words).
    Word {
        kw: Kw,
        call: bool,
        builtin: bool,
    },
    /// `@@version`, `@var`.
    Var,
    /// `= < > <= >= <> != <=>` and word operators like/rlike/regexp.
    Cmp,
    /// `+ - * / % ^ | &` and `div`/`mod`.
    Arith,
    /// `||` and `&&` (logical in MySQL, concatenation elsewhere).
    Logic,
    LParen,
    RParen,
    Comma,
    Semi,
    /// `--`, `#` or an unterminated `/*`: the rest of the line is ignored.
    Comment,
    /// `::`, PostgreSQL's cast operator.
    Cast,
    Other,
}

#[derive(Clone, Copy, Debug)]
pub struct Tok {
    pub t: T,
    pub start: usize,
    pub end: usize,
}

/// Keyword of a word (a `match` on byte strings compiles to a length switch
/// and a few compares, far cheaper than a table scan per word).
fn keyword(w: &[u8]) -> Kw {
    match w {
        b"or" => Kw::Or,
        b"and" => Kw::And,
        b"xor" => Kw::Xor,
        b"not" => Kw::Not,
        b"union" => Kw::Union,
        b"select" => Kw::Select,
        b"from" => Kw::From,
        b"having" => Kw::Having,
        b"group" => Kw::Group,
        b"order" => Kw::Order,
        b"by" => Kw::By,
        b"limit" => Kw::Limit,
        b"into" => Kw::Into,
        b"insert" => Kw::Insert,
        b"update" => Kw::Update,
        b"delete" => Kw::Delete,
        b"drop" => Kw::Drop,
        b"exec" => Kw::Exec,
        b"execute" => Kw::Exec,
        b"waitfor" => Kw::Waitfor,
        b"like" => Kw::Like,
        b"rlike" => Kw::Like,
        b"regexp" => Kw::Like,
        b"case" => Kw::Case,
        b"when" => Kw::When,
        b"then" => Kw::Then,
        b"procedure" => Kw::Procedure,
        b"declare" => Kw::Declare,
        b"set" => Kw::Set,
        b"shutdown" => Kw::Shutdown,
        b"table" => Kw::Object,
        b"database" => Kw::Object,
        b"schema" => Kw::Object,
        b"view" => Kw::Object,
        b"function" => Kw::Object,
        b"trigger" => Kw::Object,
        b"true" => Kw::Literal,
        b"false" => Kw::Literal,
        b"null" => Kw::Literal,
        b"unknown" => Kw::Literal,
        // Functions SQL lets one call without parentheses: they are values.
        b"current_user" | b"session_user" | b"system_user" | b"current_date" | b"current_time"
        | b"current_timestamp" | b"localtime" | b"localtimestamp" | b"utc_date" | b"utc_time"
        | b"utc_timestamp" => Kw::Literal,
        b"where" => Kw::Where,
        b"is" => Kw::Is,
        b"between" => Kw::Between,
        b"in" => Kw::In,
        b"binary" => Kw::Binary,
        b"all" => Kw::All,
        b"distinct" => Kw::Distinct,
        b"top" => Kw::Top,
        b"exists" => Kw::Exists,
        _ => Kw::None,
    }
}

/// Builtins that SQL injections call and ordinary text does not.
pub fn builtin(w: &[u8]) -> bool {
    matches!(
        w,
        b"sleep"
            | b"benchmark"
            | b"pg_sleep"
            | b"if"
            | b"iif"
            | b"ascii"
            | b"substring"
            | b"substr"
            | b"mid"
            | b"char"
            | b"chr"
            | b"nchar"
            | b"concat"
            | b"concat_ws"
            | b"group_concat"
            | b"version"
            | b"database"
            | b"user"
            | b"current_user"
            | b"system_user"
            | b"session_user"
            | b"schema"
            | b"count"
            | b"length"
            | b"ord"
            | b"hex"
            | b"unhex"
            | b"extractvalue"
            | b"updatexml"
            | b"load_file"
            | b"now"
            | b"sysdate"
            | b"rand"
            | b"floor"
            | b"exp"
            | b"cast"
            | b"convert"
            | b"coalesce"
            | b"ifnull"
            | b"isnull"
            | b"nullif"
            | b"elt"
            | b"make_set"
            | b"gtid_subset"
            | b"randomblob"
            | b"db_name"
            | b"user_name"
            | b"host_name"
            | b"is_srvrolemember"
            | b"xmltype"
            | b"upper"
            | b"lower"
            | b"instr"
            | b"locate"
            | b"position"
            | b"unicode"
            | b"json_keys"
            | b"exists"
            | b"waitfor"
            | b"dbms_pipe.receive_message"
            | b"utl_inaddr.get_host_address"
            | b"utl_inaddr.get_host_name"
            | b"dbms_lock.sleep"
            | b"pg_read_file"
            | b"lo_import"
            | b"xp_cmdshell"
            | b"openrowset"
            | b"opendatasource"
            | b"bitand"
            | b"least"
            | b"greatest"
            | b"decode"
            | b"to_char"
            | b"sqlite_version"
            | b"typeof"
            | b"glob"
            | b"char_length"
            | b"md5"
            | b"sha1"
            | b"strcmp"
            | b"compress"
            | b"uncompress"
            | b"lo_get"
            | b"lo_export"
            | b"unistr"
    )
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

#[derive(Clone, Copy)]
pub struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
    strings: bool,
}

impl<'a> Lexer<'a> {
    /// Lexes `s` from `at`; `strings` makes quotes delimit string literals.
    pub fn new(s: &'a [u8], at: usize, strings: bool) -> Self {
        Lexer {
            s,
            i: at.min(s.len()),
            strings,
        }
    }

    /// The same lexer moved to `at` (a token's start, to read it again).
    pub fn rewind(&self, at: usize) -> Self {
        Lexer::new(self.s, at, self.strings)
    }

    /// Bytes of the field from `a` to `b`.
    pub fn span(&self, a: usize, b: usize) -> &'a [u8] {
        self.s.get(a..b).unwrap_or(&[])
    }

    /// At most `n` bytes of the field from `a`.
    pub fn span_upto(&self, a: usize, n: usize) -> &'a [u8] {
        self.span(a, self.s.len().min(a.saturating_add(n)))
    }

    /// Whether token `t` is a string literal left open at the end of the
    /// field (the application's own quote closes it).
    pub fn open_string(&self, t: &Tok) -> bool {
        t.t == T::Str
            && t.end == self.s.len()
            && (t.end - t.start == 1 || self.s[t.end - 1] != self.s[t.start])
    }

    pub fn text(&self, t: &Tok) -> &'a [u8] {
        self.s.get(t.start..t.end).unwrap_or(&[])
    }

    fn at(&self, k: usize) -> u8 {
        self.s.get(k).copied().unwrap_or(0)
    }

    fn skip_space(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\n') {
            self.i += 1;
        }
    }

    fn string(&mut self, q: u8) -> T {
        self.i += 1;
        while self.i < self.s.len() {
            let b = self.s[self.i];
            if b == b'\\' {
                self.i += 2;
                continue;
            }
            self.i += 1;
            if b == q {
                // A doubled quote is an escaped quote inside the literal.
                if self.at(self.i) == q {
                    self.i += 1;
                    continue;
                }
                break;
            }
        }
        self.i = self.i.min(self.s.len());
        T::Str
    }

    /// A number ends where SQL ends it: `1union` is `1` then `union`, as
    /// MySQL reads it; hex `0x7e`, decimals and exponents (`1e1`) stay whole.
    fn number(&mut self, start: usize) -> T {
        if self.at(self.i) == b'0' && self.at(self.i + 1) == b'x' {
            self.i += 2;
            while self.at(self.i).is_ascii_hexdigit() {
                self.i += 1;
            }
            return T::Num;
        }
        while self.at(self.i).is_ascii_digit() || self.at(self.i) == b'.' {
            self.i += 1;
        }
        let e = self.at(self.i);
        let sign = matches!(self.at(self.i + 1), b'+' | b'-');
        let digit = self.at(self.i + 1 + usize::from(sign));
        if e == b'e' && digit.is_ascii_digit() {
            self.i += 1 + usize::from(sign);
            while self.at(self.i).is_ascii_digit() {
                self.i += 1;
            }
        }
        // A digit glued to letters that SQL would not split (`3rd`, a hash
        // `5f3a`) is a name, as MySQL reads it, not a number.
        if is_word_byte(self.at(self.i)) && !self.keyword_follows() {
            return self.word(start);
        }
        T::Num
    }

    /// A keyword right after a number (`1union`, `1and`, `1e1and`).
    fn keyword_follows(&self) -> bool {
        let mut j = self.i;
        while j < self.s.len() && self.s[j].is_ascii_alphabetic() {
            j += 1;
        }
        let w = &self.s[self.i..j];
        matches!(
            keyword(w),
            Kw::Union
                | Kw::And
                | Kw::Or
                | Kw::Xor
                | Kw::Select
                | Kw::From
                | Kw::Order
                | Kw::Group
                | Kw::Having
                | Kw::Limit
                | Kw::Where
        ) && !is_word_byte(self.at(j))
    }

    fn word(&mut self, start: usize) -> T {
        while self.i < self.s.len() && (is_word_byte(self.s[self.i]) || self.s[self.i] == b'.') {
            self.i += 1;
        }
        let w = &self.s[start..self.i];
        let mut j = self.i;
        while matches!(self.at(j), b' ' | b'\n') {
            j += 1;
        }
        let call = self.at(j) == b'(';
        let kw = keyword(w);
        if matches!(w, b"div" | b"mod") {
            return T::Arith;
        }
        if kw == Kw::Like {
            return T::Cmp;
        }
        let builtin = call && builtin(w);
        T::Word { kw, call, builtin }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Tok;

    fn next(&mut self) -> Option<Tok> {
        self.skip_space();
        let start = self.i;
        let b = *self.s.get(start)?;
        let n1 = self.at(start + 1);
        let t = match b {
            b'\'' | b'"' | b'`' if self.strings => self.string(b),
            b'0'..=b'9' => self.number(start),
            b'.' if n1.is_ascii_digit() => self.number(start),
            // PostgreSQL's JSON and containment operators: `@>`, `<@`, `->`,
            // `->>`, `#>`, `#>>`, `?|`, `?&`, `?`, `@@`.
            b'@' if matches!(n1, b'>' | b'@')
                && matches!(self.at(start + 2), b' ' | b'\'' | b'>') =>
            {
                self.two(T::Cmp)
            }
            b'<' if n1 == b'@' => self.two(T::Cmp),
            b'-' if n1 == b'>' => {
                self.i += if self.at(start + 2) == b'>' { 3 } else { 2 };
                T::Cmp
            }
            b'#' if n1 == b'>' => {
                self.i += if self.at(start + 2) == b'>' { 3 } else { 2 };
                T::Cmp
            }
            // `#-` (delete at a path) before its path literal: `'{..}'::jsonb
            // #- '{a,0}'`; otherwise `#` opens a MySQL comment.
            b'#' if n1 == b'-'
                && (self.at(start + 2) == b'\''
                    || (self.at(start + 2) == b' ' && self.at(start + 3) == b'\'')) =>
            {
                self.two(T::Cmp)
            }
            b'?' if matches!(n1, b'|' | b'&') => self.two(T::Cmp),
            b'?' if matches!(n1, b' ' | b'\'') => self.one(T::Cmp),
            // `'x'::jsonb`, `password::int`: a PostgreSQL cast.
            b':' if n1 == b':' => self.two(T::Cast),
            b'@' => {
                self.i += 1;
                while self.i < self.s.len()
                    && (is_word_byte(self.s[self.i]) || self.s[self.i] == b'@')
                {
                    self.i += 1;
                }
                // MySQL's scoped system variables: `@@global.version_compile_os`,
                // `@@session.sql_mode` are one variable.
                let name = &self.s[start..self.i];
                if self.at(self.i) == b'.'
                    && (name.eq_ignore_ascii_case(b"@@global")
                        || name.eq_ignore_ascii_case(b"@@session")
                        || name.eq_ignore_ascii_case(b"@@local"))
                {
                    self.i += 1;
                    while self.i < self.s.len() && is_word_byte(self.s[self.i]) {
                        self.i += 1;
                    }
                }
                T::Var
            }
            b'-' if n1 == b'-' => self.comment(),
            b'#' => self.comment(),
            b'/' if n1 == b'*' => {
                self.i = self.s.len();
                T::Comment
            }
            b'(' => self.one(T::LParen),
            b')' => self.one(T::RParen),
            b',' => self.one(T::Comma),
            b';' => self.one(T::Semi),
            b'|' if n1 == b'|' => self.two(T::Logic),
            b'&' if n1 == b'&' => self.two(T::Logic),
            b'<' if n1 == b'=' && self.at(start + 2) == b'>' => {
                self.i += 3;
                T::Cmp
            }
            b'<' | b'>' | b'!' if matches!(n1, b'=' | b'>') => self.two(T::Cmp),
            b'<' if n1 == b'<' => self.two(T::Arith),
            // Unary `!` (MySQL's NOT): `'or!1=`.
            b'!' => self.one(T::Arith),
            b'=' if n1 == b'=' => self.two(T::Other),
            b'=' | b'<' | b'>' => self.one(T::Cmp),
            b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b'|' | b'&' | b'~' => self.one(T::Arith),
            _ if is_word_byte(b) => {
                self.i += 1;
                self.word(start)
            }
            _ => self.one(T::Other),
        };
        Some(Tok {
            t,
            start,
            end: self.i,
        })
    }
}

impl Lexer<'_> {
    fn one(&mut self, t: T) -> T {
        self.i += 1;
        t
    }

    fn two(&mut self, t: T) -> T {
        self.i += 2;
        t
    }

    /// A line comment: skips to the end of the line (normalisation keeps line
    /// breaks as `\n`), which is how `union#\nselect` hides its space.
    fn comment(&mut self) -> T {
        while self.i < self.s.len() && self.s[self.i] != b'\n' {
            self.i += 1;
        }
        T::Comment
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexes_injection() {
        let s = b"1' or sleep(5)-- x";
        let toks: Vec<T> = Lexer::new(s, 2, true).map(|t| t.t).collect();
        assert_eq!(toks.len(), 6);
        assert_eq!(
            toks[0],
            T::Word {
                kw: Kw::Or,
                call: false,
                builtin: false
            }
        );
        assert_eq!(
            toks[1],
            T::Word {
                kw: Kw::None,
                call: true,
                builtin: true
            }
        );
        assert_eq!(toks[5], T::Comment);
        let strs: Vec<T> = Lexer::new(b"'a''b' = \"c", 0, true).map(|t| t.t).collect();
        assert_eq!(strs, vec![T::Str, T::Cmp, T::Str]);
        assert_eq!(Lexer::new(b"'a'", 0, false).count(), 3);
    }
}
