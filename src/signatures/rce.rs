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
const ANYWHERE: Needles = Needles::new(&[
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
    b"|sh\n",
    b"| sh",
    b"|bash",
    b"| bash",
    b"xp_cmdshell",
    b"/usr/bin/id",
    b"/bin/cat ",
    b"/bin/ls",
    b"/usr/bin/whoami",
]);

/// PHP and other interpreter functions that run commands, when called with a
/// quoted, variable or empty argument.
const EXEC_CALLS: Needles = Needles::new(&[
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
]);

pub fn detect(n: &Normalized) -> bool {
    let s = n.text;
    if n.has(trig::DOLLAR | trig::SLASH | trig::LT | trig::SPACE | trig::PIPE_AMP | trig::PAREN)
        && ANYWHERE.found_in(s)
    {
        return true;
    }
    if n.has(trig::PAREN) && (shellshock(s) || exec_call(s)) {
        return true;
    }
    // Base64 of `<?php` (`data:;base64,PD9waHA...`), lowercased here.
    if find(s, b"pd9waha").is_some() {
        return true;
    }
    if n.has(trig::PAREN)
        && (n.has(trig::QUOTE) || s.first() == Some(&b';') || n.has(trig::SEMI))
        && code_breakout(s)
    {
        return true;
    }
    if n.has(trig::SEMI | trig::PIPE_AMP | trig::NEWLINE | trig::QUOTE | trig::DOLLAR | trig::BRACE)
    {
        return separators(s);
    }
    false
}

/// `() { :; };` at the start of a value (CGI environment).
fn shellshock(s: &[u8]) -> bool {
    s.starts_with(b"() {") || s.starts_with(b"(){")
}

/// Functions a PHP or JavaScript code injection calls right after breaking
/// out of a string or statement (`';exit(0);//`, `".print_r(1)."`).
const CODE_CALLS: Needles = Needles::new(&[
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
]);

/// A call placed where code, not text, continues: after a statement end or
/// a quote (`';exit(0);//`), or concatenated to a string (`".system('id')."`).
fn code_breakout(s: &[u8]) -> bool {
    CODE_CALLS.any_match(s, |_, at| {
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
                    || s[..j]
                        .iter()
                        .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
            }
            Some(b'.') => k >= 2 && matches!(s[k - 2], b'\'' | b'"'),
            _ => false,
        }
    }) || preg_eval(s)
}

/// `preg_replace('/x/e', ...)`: the `e` modifier evaluates the replacement.
fn preg_eval(s: &[u8]) -> bool {
    let Some(p) = find(s, b"preg_replace(") else {
        return false;
    };
    let args = &s[p..s.len().min(p + 120)];
    find(args, b"/e'").is_some() || find(args, b"/e\"").is_some()
}

fn exec_call(s: &[u8]) -> bool {
    EXEC_CALLS.any_match(s, |f, at| {
        let before = s.get(at.wrapping_sub(1)).copied();
        // `os.system(` is listed on its own; `mysystem(` or `.exec(` on
        // regexes are other functions.
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.') {
            return false;
        }
        let rest = s.get(at + f.len()..).unwrap_or(&[]);
        matches!(rest.first(), Some(b'\'' | b'"' | b'$' | b'`' | b')'))
            || rest.starts_with(b"base64_decode(")
            || rest.starts_with(b"chr(")
    })
}

/// Every separator followed by a command.
fn separators(s: &[u8]) -> bool {
    let mut i = 0;
    let mut backticks = 0;
    while i < s.len() {
        let b = s[i];
        if b == b'`' {
            backticks += 1;
            // A markdown code span (opened after a space, closed later) is
            // text about commands, not a substitution: skip it whole.
            if backticks % 2 == 1 && !backtick_opens(s, i) {
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
            b'|' => (i + 1, true),
            b'`' => (i + 1, backtick_opens(s, i)),
            b'$' if s.get(i + 1) == Some(&b'(') => (i + 2, true),
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
        if command_at(s, start, strong, b == b'{') {
            return true;
        }
        i += 1;
    }
    false
}

/// A backtick substitutes a command unless it opens a markdown code span in
/// prose (preceded by a space).
fn backtick_opens(s: &[u8], i: usize) -> bool {
    i == 0 || !matches!(s.get(i - 1), Some(b' ' | b'\n' | b'`' | b'('))
}

/// Reads a command word at `i` like the shell would; returns whether it is a
/// command with a plausible argument.
fn command_at(s: &[u8], mut i: usize, strong: bool, brace: bool) -> bool {
    while matches!(s.get(i), Some(b' ' | b'\n' | b'(' | b'!')) {
        i += 1;
    }
    // Skip a directory prefix: /bin/, /usr/bin/, c:\windows\system32\.
    let mut word = [0u8; 24];
    let mut len = 0;
    let mut j = i;
    while j < s.len() && j - i < 64 {
        let b = s[j];
        match b {
            b'\'' | b'"' | b'\\' => {}
            b'$' if s.get(j + 1) == Some(&b'@') => j += 1,
            b'/' | b':' => len = 0,
            b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' => {
                if len == word.len() {
                    return false;
                }
                word[len] = b;
                len += 1;
            }
            _ => break,
        }
        j += 1;
    }
    let w = word.get(..len).unwrap_or(&[]);
    let w = w.strip_suffix(b".exe").unwrap_or(w);
    if w.is_empty() {
        return false;
    }
    let next = s.get(j).copied();
    if brace {
        // `{cat,/etc/passwd}` brace expansion.
        return next == Some(b',') && WITH_ARGS.contains(&w);
    }
    let ends = matches!(
        next,
        None | Some(b';' | b'|' | b'&' | b'`' | b')' | b'\n' | b'>' | b'<' | b'#' | b'\'' | b'"')
    );
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
        ] {
            assert!(rce(p), "{p}");
        }
    }

    #[test]
    fn prose() {
        for p in [
            "salt & pepper",
            "bring your ID; id cards only",
            "R&D; sleep well",
            "Use `ls -la` to list files",
            "the system (of record)",
            "Tom & Jerry | Season 1",
            "ping me; cat pictures are cute",
        ] {
            assert!(!rce(p), "{p}");
        }
    }
}
