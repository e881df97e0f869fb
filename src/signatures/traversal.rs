//! Path traversal, local file inclusion, and remote file inclusion / SSRF.
//!
//! Traversal: two or more `../` steps (after `\` is read as `/`, Tomcat's
//! `..;/` as `../` and overlong or full-width dots were decoded), Tomcat's
//! `/..;/` alone, or a well-known system file or stream wrapper anywhere. A
//! single `../` in a relative link is normal and passes.
//!
//! SSRF / RFI: a URL whose scheme only servers fetch (`gopher:`, `dict:`,
//! `file:`, `jar:`...) or whose host is internal: loopback, RFC 1918,
//! link-local and cloud metadata addresses in any notation (decimal, hex,
//! octal, IPv6 loopback and mapped forms), or an out-of-band interaction
//! domain used to confirm blind SSRF; a bare metadata address; a remote URL
//! ending in `?`, the classic trick to cut off the appended `.php`.

use super::needles::Needles;
use super::normalize::{find, trig, Normalized};

const SYSTEM_FILES: Needles = Needles::paths(&[
    b"etc/passwd",
    b"etc/shadow",
    b"etc/group",
    b"etc/hosts",
    b"etc/issue",
    b"etc/motd",
    b"etc/crontab",
    b"proc/self/",
    b"proc/version",
    b"proc/1/",
    b"win.ini",
    b"boot.ini",
    b"system.ini",
    b"windows/system32",
    b"winnt/system32",
    b"web-inf/web.xml",
    b".htpasswd",
    b"var/log/apache",
    b"var/log/nginx",
    b"var/log/httpd",
    b".ssh/id_rsa",
    b".ssh/authorized_keys",
    b".bash_history",
    b"php://",
    b"phar://",
    b"zip://",
    b"expect://",
    b"glob://",
    b"data://text",
    b"compress.zlib://",
    b"compress.bzip2://",
    b"etc/nginx/nginx.conf",
    b"etc/apache2/",
    b"system32/drivers/etc",
    b"inetpub/wwwroot",
    b"boot/grub",
    b"proc/cpuinfo",
]);

/// More system files and directories, by where they live: Unix configuration
/// and logs, web server and PHP configuration, Windows and IIS.
const SYSTEM_FILES_MORE: Needles = Needles::paths(&[
    b"etc/services",
    b"etc/sub",
    b"etc/fstab",
    b"etc/profile",
    b"etc/sudoers",
    b"etc/resolv.conf",
    b"etc/httpd/",
    b"etc/apache/",
    b"etc/mysql/",
    b"etc/ssh/",
    b"etc/php",
    b"etc/my.cnf",
    b"etc/inetd.conf",
    b"etc/syslog.conf",
    b"etc/chrootusers",
    b"etc/master.passwd",
    b"etc/security/",
    b"var/log/",
    b"var/www/",
    b"var/lib/mysql",
    b"var/mail/",
    b"var/spool/",
    b"usr/local/apache",
    b"usr/local/etc/",
    b"apache/logs/",
    b"apache2/logs/",
    b"logs/access_log",
    b"logs/error_log",
    b"logs/access.log",
    b"logs/error.log",
    b"httpd.conf",
    b"php.ini",
    b"my.ini",
    b"my.cnf",
    b".cshrc",
    b".bashrc",
    b".bash_profile",
    b".mysql_history",
    b".ssh/known_hosts",
    b".ssh/id_dsa",
    b"program files",
    b"inetpub/",
    b"inetsrv/",
    b"metabase.xml",
    b"applicationhost.config",
    b"system32/",
    b"windows/repair",
    b"windows/panther",
    b"xampp/",
    b"wamp/",
    b"::$data",
    b"::$index_allocation",
    b"proc/self",
    b"proc/sched_debug",
    b"sys/class/",
    b"dev/tcp/",
    b"boot.ini",
    b"web-inf/",
    // Windows registry hives of a profile.
    b"ntuser.dat",
    b"usrclass.dat",
]);

/// procfs entries that leak the host (`proc/self/` is above).
const PROCFS: Needles = Needles::paths(&[
    b"proc/mounts",
    b"proc/interrupts",
    b"proc/meminfo",
    b"proc/net/",
    b"proc/partitions",
    b"proc/modules",
    b"proc/kcore",
    b"proc/cmdline",
    b"proc/loadavg",
    b"proc/stat",
    b"proc/devices",
    b"proc/filesystems",
    b"proc/kallsyms",
]);

/// Top directories a value names when it is an absolute system path
/// (`/etc/anything`, `c:\windows\...`): an API parameter holds no such path.
const SYSTEM_ROOTS: &[&[u8]] = &[
    b"etc/",
    b"proc/",
    b"usr/bin/",
    b"usr/sbin/",
    b"usr/spool/",
    b"usr/ports/",
    b"usr/local/cpanel",
    b"usr/local/www/",
    b"usr/share/",
    b"bin/",
    b"sbin/",
    b"boot/",
    b"root/",
    b"dev/",
    b"sys/",
    b"var/",
    b"windows/",
    b"winnt/",
];

/// `..` steps: a run of two to four dots with a separator on both sides is a
/// strong step, on one side a weak one (`%\..%`, encoding leftovers).
fn dot_steps(s: &[u8], is_path: bool) -> bool {
    let (mut strong, mut weak) = (0, 0);
    let mut i = 0;
    while i + 1 < s.len() {
        if s[i] != b'.' || s[i + 1] != b'.' {
            i += 1;
            continue;
        }
        let run = s[i..].iter().take(8).take_while(|&&b| b == b'.').count();
        let mut j = i + run;
        if s.get(j) == Some(&b';') {
            if is_path && s.get(j + 1) == Some(&b'/') && i > 0 && s[i - 1] == b'/' {
                return true;
            }
            j += 1;
        }
        if run <= 4 {
            // A non-ASCII character right after the dots is a best-fit
            // mapped slash (`..%uF025`, `..%uEFC8` on IIS).
            let sep = matches!(s.get(j), Some(b'/' | b'\\' | 0x80..=0xff));
            let prev_sep = i == 0 || matches!(s[i - 1], b'/' | b'\\' | b'=' | b' ');
            match (prev_sep, sep) {
                (true, true) => strong += 1,
                (true, false) | (false, true) => weak += 1,
                _ => {}
            }
            if strong >= 2 || strong + weak >= 3 {
                return true;
            }
        }
        i = j.max(i + 1);
    }
    false
}

/// A value that is an absolute system path (`/etc/services`, `c:\boot.ini`).
fn absolute_system_path(s: &[u8]) -> bool {
    let rest = match s {
        [b'/' | b'\\', rest @ ..] => rest,
        [d, b':', b'/' | b'\\', rest @ ..] if d.is_ascii_alphabetic() => rest,
        _ => return false,
    };
    SYSTEM_ROOTS.iter().any(|root| {
        rest.len() > root.len()
            && rest
                .iter()
                .zip(root.iter())
                .all(|(&a, &b)| a == b || (a == b'\\' && b == b'/'))
    })
}

/// A system file or stream wrapper anywhere in `s` (also used on the
/// de-globbed text of a command).
pub fn system_file(s: &[u8]) -> bool {
    SYSTEM_FILES.found_in(s) || SYSTEM_FILES_MORE.found_in(s) || PROCFS.found_in(s)
}

/// An uploaded file's name never holds a directory step (`../a.php`).
pub fn file_name_steps(s: &[u8]) -> bool {
    find(s, b"../").is_some() || find(s, b"..\\").is_some()
}

/// Leftovers of encodings some decoders still undo (`..2f`, `0x2e0x2e`)
/// and PHP filter chains: matched anywhere, in the dot-file pass. Each is
/// also in [`DOTFILES`] (one needle pass for both); a test keeps them in step.
const ENCODED_STEPS: &[&[u8]] = &[
    b"..2f..2f",
    b"..5c..5c",
    b"..0x2f",
    b"..0x5c",
    b"0x2e0x2e",
    b"convert.iconv.",
    b"convert.base64-",
    b"convert.quoted-printable",
    b"string.rot13",
    b"zlib.inflate",
];
/// Base64 of `../`, `..\`, `/etc/` and `/proc/` at the start of a value,
/// as the normaliser lowercases it.
const BASE64_PATHS: &[&[u8]] = &[
    b"li4vli4v",
    b"li4vzxrj",
    b"li4uli4u",
    b"li5cli5c",
    b"l2v0yy9",
    b"l3byb2mv",
];

/// Files that hold secrets or shell state, matched as a whole name
/// (after a start, `/` or `\`; `my.profile` is not `.profile`).
const DOTFILES: Needles = Needles::paths(&[
    b".htaccess",
    b".htpasswd",
    b".xauthority",
    b".rhosts",
    b".shosts",
    b".sh_history",
    b".history",
    b".logout",
    b".bash_logout",
    b".login",
    b".netrc",
    b".pgpass",
    b".my.cnf",
    b".viminfo",
    b".lesshst",
    b".git-credentials",
    b".npmrc",
    b".env",
    b".boto",
    b".forward",
    b".kshrc",
    b".profile",
    b".docker/",
    b".kube/config",
    b".aws/credentials",
    b".pass",
    b"access_log",
    b"error_log",
    b"access.log",
    b"error.log",
    b"..2f..2f",
    b"..5c..5c",
    b"..0x2f",
    b"..0x5c",
    b"0x2e0x2e",
    b"convert.iconv.",
    b"convert.base64-",
    b"convert.quoted-printable",
    b"string.rot13",
    b"zlib.inflate",
]);

/// Configuration and credential files of web applications, as a whole name.
const CONFIG_STEMS: &[&[u8]] = &[
    b"config",
    b"configuration",
    b"database",
    b"db",
    b"dbconfig",
    b"dbconnect",
    b"connect",
    b"connection",
    b"conn",
    b"passwd",
    b"pass",
    b"password",
    b"passwords",
    b"users",
    b"users.db",
    b"wp-config",
    b"localsettings",
    b"config.inc",
];
const CONFIG_EXTENSIONS: &[&[u8]] = &[
    b"php", b"asp", b"aspx", b"inc", b"dat", b"ini", b"conf", b"cfg", b"cnf", b"mdb",
];

fn at_boundary(s: &[u8], at: usize) -> bool {
    at == 0 || matches!(s[at - 1], b'/' | b'\\' | b'=' | b' ')
}

fn dotfile(s: &[u8]) -> bool {
    DOTFILES.any_match(s, |f, at| {
        if ENCODED_STEPS.contains(&f) {
            return true;
        }
        let end = at + f.len();
        let ends = f.ends_with(b"/")
            || s.get(end)
                .is_none_or(|b| !b.is_ascii_alphanumeric() && *b != b'_');
        at_boundary(s, at) && ends
    })
}

/// The last path element is an application's configuration file
/// (`../config.php`, `/inc/config.inc.php`, `passwd.dat`).
fn config_file(s: &[u8]) -> bool {
    let name = s
        .iter()
        .rposition(|&b| b == b'/' || b == b'\\')
        .map_or(s, |p| &s[p + 1..]);
    let Some(dot) = name.iter().rposition(|&b| b == b'.') else {
        return false;
    };
    CONFIG_EXTENSIONS.contains(&&name[dot + 1..]) && CONFIG_STEMS.contains(&&name[..dot])
}

/// `./` repeated (`/./././`, `/.\/\.\`): no path needs more than one.
fn dot_slash_run(s: &[u8]) -> bool {
    let mut run = 0;
    let mut i = 0;
    while i + 1 < s.len() {
        let sep = |b: u8| b == b'/' || b == b'\\';
        if s[i] == b'.' && sep(s[i + 1]) && (i == 0 || sep(s[i - 1])) {
            run += 1;
            if run >= 3 {
                return true;
            }
            i += 2;
            while i < s.len() && sep(s[i]) {
                i += 1;
            }
            continue;
        }
        if !sep(s[i]) {
            run = 0;
        }
        i += 1;
    }
    false
}

/// What a drive path reaches on a Windows server besides users' own files:
/// the system, server software and its logs, the administrator's profile.
const WINDOWS_DIRS: &[&[u8]] = &[
    b"windows",
    b"winnt",
    b"program files",
    b"programfiles",
    b"programdata",
    b"progra~1",
    b"inetpub",
    b"$recycle.bin",
    b"system volume information",
    b"boot.ini",
    b"pagefile.sys",
    b"sysprep",
    b"unattend",
    b"minint",
    b"apache",
    b"xampp",
    b"wamp",
    b"php",
    b"mysql",
    b"nginx",
    b"tomcat",
    b"log",
    b"users/administrator",
    b"users/default",
    b"users/public",
    b"documents and settings/administrator",
];

/// A parameter value that names a file outside the application: it starts
/// by climbing out of the root (`/../`, `/...`), is a Windows drive or
/// backslash-rooted path, or steps up to a configuration file.
fn value_path(s: &[u8]) -> bool {
    // Nothing but navigation (`../`, `..\`, `..;.\.;\.`), or a value that
    // opens with a Windows step (`..\pineapple`): no name or text is that.
    let nav = s.iter().all(|b| matches!(b, b'.' | b'/' | b'\\' | b';'))
        && s.windows(2).any(|w| w == b"..")
        && s.iter().any(|&b| b == b'/' || b == b'\\');
    if nav || s.starts_with(b"..\\") {
        return true;
    }
    // Leading separators and `./` then `..` (`/../`, `/.\..\`, `\\\..`).
    let lead = s.iter().take_while(|&&b| matches!(b, b'/' | b'\\')).count();
    if lead > 0 {
        let mut t = &s[lead..];
        while let [b'.', b'/' | b'\\', rest @ ..] = t {
            t = rest
                .strip_prefix(b"/")
                .or_else(|| rest.strip_prefix(b"\\"))
                .unwrap_or(rest);
        }
        // An absolute path that climbs back (`/AAAA/../`, `\x\..\`):
        // what path-truncation and filter-evasion payloads send; clients
        // send paths already resolved.
        if t.starts_with(b"..")
            || find(t, b"/../").is_some()
            || find(t, b"\\..\\").is_some()
            || t.ends_with(b"/..")
        {
            return true;
        }
        // An absolute path to a log file (log poisoning, `/logs/x.log`).
        let last = s
            .iter()
            .rposition(|&b| b == b'/' || b == b'\\')
            .map_or(s, |p| &s[p + 1..]);
        if !s.contains(&b' ') && (last.ends_with(b".log") || last.ends_with(b"_log")) {
            return true;
        }
    }
    if let [b'a'..=b'z', b':', b'/' | b'\\', rest @ ..] = s {
        if WINDOWS_DIRS.iter().any(|d| {
            rest.len() >= d.len()
                && rest
                    .iter()
                    .zip(d.iter())
                    .all(|(&a, &b)| a == b || (a == b'\\' && b == b'/'))
        }) {
            return true;
        }
    }
    // A Windows environment variable that names the system or a profile
    // directory, opening a path (`%SystemRoot%\win.ini`,
    // `%USERPROFILE%/.aws/credentials`): a file outside the application.
    if let Some(var) = s.strip_prefix(b"%") {
        const VARS: &[&[u8]] = &[
            b"systemroot%",
            b"windir%",
            b"systemdrive%",
            b"userprofile%",
            b"appdata%",
            b"localappdata%",
            b"programdata%",
            b"programfiles%",
            b"allusersprofile%",
            b"homedrive%",
            b"homepath%",
            b"public%",
            b"temp%",
            b"tmp%",
        ];
        if VARS
            .iter()
            .any(|v| var.starts_with(v) && matches!(var.get(v.len()), Some(b'\\' | b'/')))
        {
            return true;
        }
    }
    if let [b'\\', rest @ ..] = s {
        let seg = rest
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            .count();
        if seg > 0 && rest.get(seg) == Some(&b'\\') {
            return true;
        }
    }
    ((s.starts_with(b"../") || s.starts_with(b"..\\")) || !s.contains(&b' ')) && config_file(s)
}

pub fn traversal(n: &Normalized, is_path: bool) -> bool {
    let s = n.text;
    // A null byte in text (`file.php%00`, `../x%00.png`) cuts the string an
    // application passes to the file system: null-byte poisoning.
    if n.has(trig::NUL) && !s.is_empty() {
        return true;
    }
    if !n.has(trig::DOT | trig::SLASH | trig::COLON) {
        return BASE64_PATHS.iter().any(|p| s.starts_with(p));
    }
    if n.has(trig::DOT) && dot_steps(s, is_path) {
        return true;
    }
    if !is_path && (absolute_system_path(s) || value_path(s) || relative_etc(s)) {
        return true;
    }
    // A request path that is a Unix configuration file (`/etc/shells`):
    // no site serves pages from `/etc/`.
    let rooted = s.iter().take_while(|&&b| b == b'/').count();
    if is_path && rooted > 0 && s[rooted..].starts_with(b"etc/") && s.len() > rooted + 4 {
        return true;
    }
    if BASE64_PATHS.iter().any(|p| s.starts_with(p)) {
        return true;
    }
    (system_file(s) && !named_in_prose(s)) || dotfile(s) || dot_slash_run(s)
}

/// Configuration files that documentation tells people to edit, by their
/// absolute path: named once inside a sentence they are text, not a file
/// read (session 11: "edit /etc/hosts to add the name").
const DOCUMENTED_FILES: &[&[u8]] = &[
    b"/etc/hosts",
    b"/etc/resolv.conf",
    b"/etc/fstab",
    b"/etc/profile",
    b"/etc/motd",
    b"/etc/crontab",
];

/// `s` names one [`DOCUMENTED_FILES`] path as a word of a sentence: the
/// path once, after a space or at the start and followed by a space, the
/// end or punctuation; at least three other words of two letters or more;
/// no directory step, URL, shell separator or substitution anywhere; and
/// no other system file before or after it. `/etc/hosts`, `../../etc/hosts`,
/// `file:///etc/hosts`, "x;cat /etc/hosts" and "see /etc/passwd" stay
/// flagged.
fn named_in_prose(s: &[u8]) -> bool {
    if memchr::memchr(b' ', s).is_none()
        || find(s, b"..").is_some()
        || find(s, b"://").is_some()
        || s.iter()
            .any(|b| matches!(b, b';' | b'|' | b'&' | b'`' | b'$' | b'<' | b'>'))
    {
        return false;
    }
    let Some(at) = find(s, b"/etc/") else {
        return false;
    };
    if find(&s[at + 5..], b"etc/").is_some() || (at > 0 && s[at - 1] != b' ') {
        return false;
    }
    let Some(file) = DOCUMENTED_FILES.iter().find(|f| s[at..].starts_with(f)) else {
        return false;
    };
    let end = at + file.len();
    if !s.get(end).is_none_or(|b| {
        matches!(
            b,
            b' ' | b'.' | b',' | b')' | b'\'' | b'"' | b':' | b'!' | b'?'
        )
    }) {
        return false;
    }
    let words = s[..at]
        .split(|&b| b == b' ')
        .chain(s[end..].split(|&b| b == b' '))
        .filter(|w| w.iter().filter(|b| b.is_ascii_alphabetic()).count() >= 2)
        .count();
    words >= 3 && !system_file(&s[..at]) && !system_file(&s[end..])
}

/// A value that is a path into `etc/` written relative to the root
/// (`etc/mysql/my.cnf`, `etc/pam.d`, `etc/vsftpd.chroot_list`: CRS
/// 930120's OS files, which the application puts after its own `/`). The
/// IANA time zones under `Etc/` (`Etc/UTC`, `Etc/GMT+5`, `Etc/Zulu`) are
/// no files, and a phrase ("etc/other notes") has a space.
fn relative_etc(s: &[u8]) -> bool {
    let Some(rest) = s.strip_prefix(b"etc/") else {
        return false;
    };
    const ZONES: [&[u8]; 6] = [b"utc", b"uct", b"gmt", b"universal", b"zulu", b"greenwich"];
    rest.first().is_some_and(u8::is_ascii_alphabetic)
        && !s.contains(&b' ')
        && !ZONES.iter().any(|z| rest.starts_with(z))
}

/// Schemes a browser never sends to a web API in a parameter.
const SERVER_SCHEMES: &[&[u8]] = &[
    b"gopher", b"dict", b"file", b"jar", b"netdoc", b"ldap", b"ldaps", b"tftp", b"sftp", b"smb",
    b"rmi", b"iiop", b"ssrf",
];

/// Hosts that are internal, metadata, or out-of-band interaction catchers.
const HOST_NAMES: &[&[u8]] = &[
    b"localhost",
    b"localhost.localdomain",
    b"ip6-localhost",
    b"ip6-loopback",
    b"ipv6-localhost",
    b"localhost4",
    b"localhost6",
    b"localhost4.localdomain4",
    b"localhost6.localdomain6",
    b"metadata.google.internal",
    b"metadata",
    b"metadata.azure.com",
    b"instance-data",
    b"kubernetes.default",
    b"kubernetes.default.svc",
];
const HOST_SUFFIXES: &[&[u8]] = &[
    b".localhost",
    b".internal",
    b".nip.io",
    b".xip.io",
    b".sslip.io",
    b".localtest.me",
    b".lvh.me",
    b".oast.fun",
    b".oast.pro",
    b".oast.me",
    b".oast.live",
    b".oast.site",
    b".oast.online",
    b".interact.sh",
    b".burpcollaborator.net",
    b".oastify.com",
    b".dnslog.cn",
    b".ceye.io",
    b".requestbin.net",
    b".pipedream.net",
    b".canarytokens.com",
    b".svc.cluster.local",
];

/// The last bytes of [`HOST_NAMES`] and [`HOST_SUFFIXES`].
const NAME_ENDS: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < HOST_NAMES.len() {
        t[HOST_NAMES[i][HOST_NAMES[i].len() - 1] as usize] = true;
        i += 1;
    }
    let mut i = 0;
    while i < HOST_SUFFIXES.len() {
        t[HOST_SUFFIXES[i][HOST_SUFFIXES[i].len() - 1] as usize] = true;
        i += 1;
    }
    t
};

/// Bytes of a URL read after its `//` (`http://http://...` stays linear).
const URL_SPAN: usize = 2048;

/// A cloud metadata address, bare or in a URL, or Java's `jar:`/`netdoc:`
/// (which wrap a URL the server fetches): SSRF in any field, even those
/// where loopback and private URLs are ordinary (cookies, argument names,
/// `Referer`).
pub fn metadata_address(n: &Normalized) -> bool {
    // Metadata addresses count bare; Java's `jar:` and `netdoc:` wrap a URL
    // that the server fetches.
    const BARE: Needles = Needles::new(&[
        b"169.254.169.254",
        b"169.254.170.2",
        b"192.0.0.192",
        b"metadata.packet.net",
        b"metadata.tencentyun.com",
        b"100.100.100.200",
        b"metadata.google.internal",
        b"jar:http",
        b"jar:file",
        b"netdoc:",
    ]);
    n.has(trig::DOT | trig::COLON) && (BARE.found_in(n.text) || container_host(n.text))
}

/// A URL, with or without its scheme, whose host is a name that only
/// resolves inside a container or a cluster (`host.docker.internal/`,
/// `http://kubernetes.default.svc.cluster.local/`): the host and the
/// cluster's API as a workload reaches them, never a page a browser was
/// on, so it counts in the fields that take loopback URLs as ordinary
/// (session 12: a cookie's return URL, CRS 934190). Read at the value's
/// start only.
fn container_host(s: &[u8]) -> bool {
    let rest = [b"http://" as &[u8], b"https://"]
        .iter()
        .find_map(|p| s.strip_prefix(*p))
        .unwrap_or(s);
    let end = rest
        .iter()
        .take(256)
        .position(|&b| matches!(b, b'/' | b':' | b'?' | b'#'))
        .unwrap_or(rest.len());
    if end > 255 {
        return false;
    }
    let host = rest[..end].strip_suffix(b".").unwrap_or(&rest[..end]);
    [
        b"docker.internal" as &[u8],
        b"containers.internal",
        b"svc.cluster.local",
        b"kubernetes.default",
        b"kubernetes.default.svc",
    ]
    .iter()
    .any(|h| {
        host.strip_suffix(*h)
            .is_some_and(|p| p.is_empty() || p.ends_with(b"."))
    })
}

pub fn ssrf(n: &Normalized) -> bool {
    let s = n.text;
    if metadata_address(n) {
        return true;
    }
    if !n.has(trig::COLON | trig::SLASH) {
        return false;
    }
    if schemeless_internal(s) || unc_path(s) || trailing_query_url(s) {
        return true;
    }
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|t| find(t, b"//")) {
        let at = from + p;
        from = at + 2;
        let scheme = scheme_before(s, at);
        if scheme.is_empty() && at != 0 {
            continue;
        }
        if !scheme.is_empty() && SERVER_SCHEMES.contains(&scheme) {
            return true;
        }
        if !matches!(
            scheme,
            b"" | b"http" | b"https" | b"ftp" | b"ftps" | b"ssh" | b"ws" | b"wss"
        ) {
            continue;
        }
        let auth_end = s[from..]
            .iter()
            .take(URL_SPAN)
            .position(|&b| matches!(b, b'/' | b'?' | b'#' | b' ' | b'\\'))
            .map_or(s.len().min(from + URL_SPAN), |e| from + e);
        let authority = &s[from..auth_end];
        // userinfo@host: the host is after the last `@`.
        let host_port = authority
            .iter()
            .rposition(|&b| b == b'@')
            .map_or(authority, |a| &authority[a + 1..]);
        if internal_host(strip_port(host_port)) {
            return true;
        }
        // RFI: `http://evil/shell.txt?` lets the app append its suffix harmlessly.
        let url_end = s[from..]
            .iter()
            .take(URL_SPAN)
            .position(|&b| b == b' ')
            .map_or(s.len().min(from + URL_SPAN), |e| from + e);
        if !scheme.is_empty() && s.get(url_end.wrapping_sub(1)) == Some(&b'?') {
            return true;
        }
        // RFI: a script fetched from an address, not a name
        // (`http://66.240.183.75/crash.php`).
        let host = strip_port(host_port);
        let literal = host.first() == Some(&b'[')
            || ipv4(host).is_some()
            || host.iter().filter(|&&b| b == b':').count() >= 2;
        if !scheme.is_empty() && literal && script_path(&s[auth_end..url_end]) {
            return true;
        }
        // A URL to a public address alone (CRS 931100 flags
        // `http://203.0.113.9/`) passes by decision: DNS-over-HTTPS
        // resolvers, webhooks and health checks are configured that way
        // in API bodies; with a script path it is flagged above.
    }
    false
}

/// A value that is a URL ending in `?`, however few slashes it has
/// (`http:/evil.example/x.txt?`, `file:x?`): the remote include's trick
/// of making the application's own suffix a query (CRS 931120). A scheme
/// word without its colon (`https?`) is a question.
fn trailing_query_url(s: &[u8]) -> bool {
    if s.last() != Some(&b'?') || s.len() > URL_SPAN || s.contains(&b' ') {
        return false;
    }
    [&b"http:"[..], b"https:", b"ftp:", b"ftps:", b"file:"]
        .iter()
        .any(|scheme| s.starts_with(scheme) && s.len() > scheme.len() + 1)
}

/// A value that starts with an internal host name and no scheme
/// (`host.docker.internal/`, `localhost:8080/admin`): what URL fetchers
/// complete with `http://`. Bare private IPs pass (documented).
fn schemeless_internal(s: &[u8]) -> bool {
    let end = s
        .iter()
        .take(256)
        .position(|&b| b == b'/' || b == b':')
        .unwrap_or(s.len());
    if end == s.len() && end > 255 {
        return false;
    }
    let host = &s[..end];
    let tail_ok = match s.get(end) {
        None => false,
        Some(b'/') => true,
        Some(_) => s.get(end + 1).is_some_and(u8::is_ascii_digit),
    };
    tail_ok
        && host.iter().any(u8::is_ascii_alphabetic)
        && ipv4(host).is_none()
        && internal_host(host)
}

/// A UNC path (`\\host\share\x.php`): Windows fetches it over SMB, the
/// remote file inclusion of PHP on Windows and an NTLM hash leak. The host
/// may be an IPv6 literal, bare or bracketed (`\\::1\c$\`,
/// `\\[fe80::1]\share`), or a `.ipv6-literal.net` name.
fn unc_path(s: &[u8]) -> bool {
    let Some(rest) = s.strip_prefix(b"\\\\") else {
        return false;
    };
    let host = rest
        .iter()
        .take_while(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']')
        })
        .count();
    host > 0 && rest.get(host) == Some(&b'\\')
}

/// A URL path naming a server-side script.
fn script_path(p: &[u8]) -> bool {
    let p = p.split(|&b| b == b'?' || b == b'#').next().unwrap_or(p);
    [
        b".php" as &[u8],
        b".asp",
        b".aspx",
        b".jsp",
        b".txt",
        b".pl",
        b".cgi",
        b".sh",
    ]
    .iter()
    .any(|e| p.ends_with(e))
}

/// The scheme letters right before `://` (empty if none).
fn scheme_before(s: &[u8], slashes: usize) -> &[u8] {
    if slashes == 0 || s.get(slashes - 1) != Some(&b':') {
        return &[];
    }
    let end = slashes - 1;
    let start = s[..end]
        .iter()
        .rposition(|b| !(b.is_ascii_alphanumeric() || *b == b'.' || *b == b'+' || *b == b'-'))
        .map_or(0, |p| p + 1);
    &s[start..end]
}

/// The host of `host:port`. A name or an IPv4 address holds no `:`, so the
/// host ends at the first one: `127.1.1.1:80:\@@evil/`, the URL parsers'
/// disagreement that SSRF filters are bypassed with, is read as the loopback
/// address a lenient client connects to.
fn strip_port(h: &[u8]) -> &[u8] {
    if h.first() == Some(&b'[') {
        return h.iter().position(|&b| b == b']').map_or(h, |e| &h[..=e]);
    }
    let Some(c) = h.iter().position(|&b| b == b':') else {
        return h;
    };
    // A bare IPv6 address (`2001:db8::1`, no brackets) is kept whole, so
    // its first group is never read as a decimal IPv4 address.
    if h[..c].iter().all(u8::is_ascii_hexdigit) && h[c + 1..].contains(&b':') {
        return h;
    }
    &h[..c]
}

/// An IPv6 literal (without its brackets) that reaches the server itself or
/// its network: loopback and unspecified in any spelling (`::1`,
/// `0000::1`, `0:0:0:0:0:0:0:1`), link-local, unique-local, and an IPv4
/// address embedded as mapped or compatible (`::ffff:127.0.0.1`,
/// `::ffff:7f00:1`) that is itself internal. A zone (`fe80::1%25eth0`) is
/// dropped first. `std`'s parser reads every textual form without
/// allocating.
fn internal_ipv6(v6: &[u8]) -> bool {
    let v6 = v6.iter().position(|&b| b == b'%').map_or(v6, |z| &v6[..z]);
    if v6.len() > 45 {
        return false;
    }
    let Some(ip) = std::str::from_utf8(v6)
        .ok()
        .and_then(|t| t.parse::<std::net::Ipv6Addr>().ok())
    else {
        return false;
    };
    let seg = ip.segments();
    if ip.is_loopback() || ip.is_unspecified() {
        return true;
    }
    // fe80::/10 link-local, fc00::/7 unique-local.
    if seg[0] & 0xffc0 == 0xfe80 || seg[0] & 0xfe00 == 0xfc00 {
        return true;
    }
    // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated).
    if seg[..5].iter().all(|&x| x == 0) && (seg[5] == 0xffff || seg[5] == 0) {
        let v4 = (u32::from(seg[6]) << 16) | u32::from(seg[7]);
        return internal_ipv4(v4);
    }
    false
}

fn internal_ipv4(ip: u32) -> bool {
    let a = (ip >> 24) as u8;
    let b = (ip >> 16) as u8;
    a == 127
        || a == 10
        || a == 0
        || (a == 192 && b == 168)
        || (a == 172 && (16..32).contains(&b))
        || (a == 169 && b == 254)
        || ip == 0x6464_64c8
}

/// A name whose last four labels are an internal dotted-quad address
/// (`example.com.127.0.0.1`): no public name ends in a numeric label, so it
/// is a probe of a filter that checks the front of the host and a resolver
/// or a lenient parser that reads its end.
fn internal_address_suffix(h: &[u8]) -> bool {
    let mut dots = 0;
    for (i, &b) in h.iter().enumerate().rev() {
        if b == b'.' {
            dots += 1;
            if dots == 4 {
                let quad = &h[i + 1..];
                return quad.iter().all(|b| b.is_ascii_digit() || *b == b'.')
                    && h[..i].iter().any(u8::is_ascii_alphabetic)
                    && ipv4(quad).is_some_and(internal_ipv4);
            }
        } else if !b.is_ascii_digit() {
            return false;
        }
    }
    false
}

fn internal_host(h: &[u8]) -> bool {
    let h = h.strip_suffix(b".").unwrap_or(h);
    if h.is_empty() {
        return false;
    }
    // Most hosts end in a byte no listed name ends in: one table lookup
    // instead of 35 comparisons (addresses, `example.org`).
    if NAME_ENDS[usize::from(h[h.len() - 1])]
        && (HOST_NAMES.contains(&h)
            || HOST_SUFFIXES
                .iter()
                .any(|sfx| h.ends_with(sfx) || h == &sfx[1..]))
    {
        return true;
    }
    if let Some(v6) = h.strip_prefix(b"[") {
        let v6 = v6.strip_suffix(b"]").unwrap_or(v6);
        return internal_ipv6(v6);
    }
    match ipv4(h) {
        Some(ip) => internal_ipv4(ip),
        None => internal_address_suffix(h),
    }
}

/// Parses an IPv4 host the way `inet_aton` does (1 to 4 parts, decimal, hex
/// `0x` or octal `0`), since that is how SSRF filters are bypassed.
fn ipv4(h: &[u8]) -> Option<u32> {
    let mut parts = [0u64; 4];
    let mut n = 0;
    for part in h.split(|&b| b == b'.') {
        if n == 4 || part.is_empty() {
            return None;
        }
        parts[n] = number(part)?;
        n += 1;
    }
    let v = match n {
        1 => parts[0],
        2 if parts[0] < 256 => (parts[0] << 24) | parts[1],
        3 if parts[0] < 256 && parts[1] < 256 => (parts[0] << 24) | (parts[1] << 16) | parts[2],
        4 if parts.iter().all(|&p| p < 256) => {
            (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]
        }
        _ => return None,
    };
    u32::try_from(v).ok()
}

fn number(p: &[u8]) -> Option<u64> {
    let (digits, radix) = if let Some(hex) = p.strip_prefix(b"0x") {
        (hex, 16)
    } else if p.len() > 1 && p[0] == b'0' {
        (&p[1..], 8)
    } else {
        (p, 10)
    };
    if digits.is_empty() || digits.len() > 12 {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        let dv = (d as char).to_digit(radix)?;
        v = v * u64::from(radix) + u64::from(dv);
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::super::normalize::{normalize, Encoding, WINDOW};
    use super::*;

    #[test]
    fn every_encoded_step_is_in_the_dotfile_pass() {
        for e in ENCODED_STEPS {
            // inside a word, where a dot-file name would not match
            let s = [b"xx".as_slice(), e, b"yy"].concat();
            assert!(dotfile(&s), "{}", String::from_utf8_lossy(e));
        }
    }

    fn check(raw: &str, f: fn(&Normalized) -> bool) -> bool {
        let mut buf = [0u8; WINDOW];
        f(&normalize(raw.as_bytes(), Encoding::FORM, &mut buf))
    }
    fn trav(n: &Normalized) -> bool {
        traversal(n, false)
    }

    #[test]
    fn container_hosts_where_loopback_is_ordinary() {
        for v in [
            "host.docker.internal/",
            "http://gateway.docker.internal:2375/containers/json",
            "kubernetes.default.svc/api",
            "https://kubernetes.default.svc.cluster.local/api/v1/secrets",
            "redis.cache.svc.cluster.local:6379",
            "host.containers.internal/",
        ] {
            assert!(check(v, metadata_address), "{v}");
        }
        for v in [
            "http://localhost:3000/",
            "localhost/",
            "the docker.internal docs",
            "https://shop.example/docker.internal/",
            "mydocker.internal/",
        ] {
            assert!(!check(v, metadata_address), "{v}");
        }
        assert!(check("localhost4.localdomain4/", ssrf));
    }

    #[test]
    fn documented_files_in_prose() {
        let trav = |raw: &str| {
            let mut buf = [0u8; WINDOW];
            traversal(&normalize(raw.as_bytes(), Encoding::FORM, &mut buf), false)
        };
        for p in [
            "edit /etc/hosts to add the name",
            "add the line to your /etc/hosts file.",
            "check /etc/resolv.conf, then restart",
        ] {
            assert!(!trav(p), "{p}");
        }
        for p in [
            "/etc/hosts",
            "../../etc/hosts",
            "file:///etc/hosts",
            "x;cat /etc/hosts",
            "see /etc/passwd for users",
            "edit /etc/hosts and /etc/shadow now",
            "edit /etc/hosts then read win.ini please",
            "/etc/hosts please now",
        ] {
            assert!(trav(p), "{p}");
        }
    }

    #[test]
    fn traversal_cases() {
        for p in [
            "../../etc/hosts",
            "..%252f..%252f..%252fboot.ini",
            "%c0%ae%c0%ae/%c0%ae%c0%ae/x",
            "....//....//x",
            "..\\..\\windows\\win.ini",
            "php://filter/convert.base64-encode/resource=index",
            "%SystemRoot%\\win.ini",
            "%25windir%25%5csystem32%5cdrivers%5cetc%5chosts",
            "%USERPROFILE%/.aws/credentials",
            "users/default/ntuser.dat",
            "..\\..\\Users\\bob\\NTUSER.DAT",
            "etc/mysql/my.cnf",
            "etc/pam.d",
            "ETC/vsftpd.chroot_list",
        ] {
            assert!(check(p, trav), "{p}");
        }
        for p in [
            "%TEMP% is full",
            "100%/day",
            "../images/a.png",
            "v1.2..1.3",
            "see ... and ...",
            "/docs/a.b/c",
            "etc/and so on",
            "Etc/UTC",
            "Etc/GMT+5",
            "Etc/Zulu",
            "Etc/GMT-3",
            "Etc/Greenwich",
            "netc/x",
        ] {
            assert!(!check(p, trav), "{p}");
        }
    }

    #[test]
    fn ssrf_cases() {
        for p in [
            "http://169.254.169.254/latest/meta-data/",
            "http://127.1/admin",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://[::1]:8080/",
            "http://user@localhost:22/",
            "gopher://127.0.0.1:6379/_INFO",
            "file:///etc/passwd",
            "http://10.0.0.5/",
            "https://abc.oast.fun",
            "http://evil.example/shell.txt?",
            "metadata.google.internal",
            "ftps://203.0.113.9/x.php",
            "http:/evil.example/x.txt?",
            "ftp:evil.example/x??",
            "\\\\::1\\c$\\users\\default\\ntuser.dat",
            "\\\\[fe80::1]\\share\\x.php",
            "\\\\evil.example\\share\\x.php",
            "http://[0000::1]:80/",
            "http://[0:0:0:0:0:0:0:1]/",
            "http://[::ffff:7f00:1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[fe80::1%25eth0]/",
            "http://example.com.127.0.0.1",
            "https://example.com.10.0.0.7/x",
            "http://127.1.1.1:80:\\@@127.2.2.2:80/",
        ] {
            assert!(check(p, ssrf), "{p}");
        }
        // A lone `[` as the host once sliced out of bounds.
        for p in ["[/", "http://[/", "[:1", "http://[", "//["] {
            let _ = check(p, ssrf);
        }
        for p in [
            "https://example.com/a?b=1",
            "https://cdn.example.org/img.png",
            "10.0.0.5",
            "ftp://ftp.debian.org/debian/",
            "http://8.8.8.8/",
            "https://8.8.8.8/dns-query",
            "http://203.0.113.5:8080/health",
            "ssh://[2001:db8::1]/",
            "http://[2001:db8::1]:8080/",
            "http://[::ffff:8.8.8.8]/",
            "https://v1.2.3.4.example.com/",
            "https://api.example.com.203.0.113.9/",
            "http://2001:db8::1/x",
            "the resolver at http://8.8.8.8/ answers",
            "ssh://git@github.com/o/r.git",
            "https?",
            "file?",
            "is it http: or https?",
            "C:\\Users\\alice\\Documents\\ntuser notes.txt",
            "a\\\\b",
        ] {
            assert!(!check(p, ssrf), "{p}");
        }
    }
}
