//! Names of programs an injected command line runs, for the command
//! injection detector (`rce.rs`).
//!
//! The shell reads the word after a separator as a program, so the detector
//! needs to know which words are programs. The list is long (Unix core and
//! admin tools, interpreters, compilers, network and archive tools, Windows
//! `cmd` built-ins and PowerShell cmdlets), so it is kept sorted and looked
//! up by binary search: a few comparisons of a word of at most 24 bytes.
//!
//! Each name says whether it is also an ordinary word (`time`, `who`,
//! `find`, `sort`, `type`, `more`): those count only where the context is
//! unmistakably a shell (a strong separator, or a value that is a single
//! token before the separator) and with an argument shaped like one. The
//! others (`ifconfig`, `chmod`, `netsh`) count after any separator.

/// How a program name reads outside a shell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Word {
    /// Never an ordinary word or API term: a program wherever a shell reads it.
    Program,
    /// Also an English word, a language or a common field value.
    Ordinary,
}

use Word::{Ordinary as O, Program as P};

/// Sorted by name (checked by a test).
const PROGRAMS: &[(&[u8], Word)] = &[
    (b"7z", P),
    (b"aa-disable", P),
    (b"aa-exec", P),
    (b"ab", O),
    (b"addgroup", P),
    (b"adduser", P),
    (b"alias", O),
    (b"ansible", P),
    (b"ansible-config", P),
    (b"ansible-console", P),
    (b"ansible-doc", P),
    (b"ansible-galaxy", P),
    (b"ansible-inventory", P),
    (b"ansible-playbook", P),
    (b"ansible-pull", P),
    (b"ansible-vault", P),
    (b"apt", O),
    (b"apt-get", P),
    (b"aptitude", P),
    (b"arp", P),
    (b"at", O),
    (b"attrib", P),
    (b"awk", P),
    (b"base32", P),
    (b"base64", P),
    (b"basename", P),
    (b"bash", P),
    (b"bcdedit", P),
    (b"bitsadmin", P),
    (b"bridge", O),
    (b"bsdtar", P),
    (b"busybox", P),
    (b"bzip2", P),
    (b"c89", P),
    (b"c99", P),
    (b"cacls", P),
    (b"cat", O),
    (b"cc", O),
    (b"cd", O),
    (b"certutil", P),
    (b"chattr", P),
    (b"chef-shell", P),
    (b"chef-solo", P),
    (b"chef-vault", P),
    (b"chgrp", P),
    (b"chmod", P),
    (b"chown", P),
    (b"chroot", P),
    (b"cmd", O),
    (b"column", O),
    (b"comm", O),
    (b"cp", O),
    (b"cpan", P),
    (b"crontab", P),
    (b"cscli", P),
    (b"cscript", P),
    (b"csh", P),
    (b"curl", P),
    (b"cut", O),
    (b"dash", O),
    (b"dd", O),
    (b"diff", O),
    (b"dig", O),
    (b"dir", O),
    (b"dmesg", P),
    (b"docker", O),
    (b"dpkg", P),
    (b"dsquery", P),
    (b"du", O),
    (b"echo", O),
    (b"egrep", P),
    (b"env", O),
    (b"eval", O),
    (b"exec", O),
    (b"expr", O),
    (b"fgrep", P),
    (b"file", O),
    (b"find", O),
    (b"finger", O),
    (b"fold", O),
    (b"ftp", O),
    (b"gawk", P),
    (b"gcc", P),
    (b"gdb", P),
    (b"get-childitem", P),
    (b"get-content", P),
    (b"get-help", P),
    (b"get-process", P),
    (b"getent", P),
    (b"getuid", P),
    (b"git", O),
    (b"grep", P),
    (b"groups", O),
    (b"gunzip", P),
    (b"gzip", P),
    (b"head", O),
    (b"hexdump", P),
    (b"history", O),
    (b"host", O),
    (b"hostname", O),
    (b"htop", P),
    (b"icacls", P),
    (b"id", O),
    (b"iex", P),
    (b"ifconfig", P),
    (b"invoke-expression", P),
    (b"invoke-restmethod", P),
    (b"invoke-webrequest", P),
    (b"ip", O),
    (b"ipconfig", P),
    (b"iptables", P),
    (b"irb", P),
    (b"irm", P),
    (b"iwmi", P),
    (b"iwr", P),
    (b"java", O),
    (b"jjs", P),
    (b"jrunscript", P),
    (b"kill", O),
    (b"killall", P),
    (b"ksh", P),
    (b"last", O),
    (b"lastb", P),
    (b"lastlog", P),
    (b"lastlogin", P),
    (b"ldd", P),
    (b"less", O),
    (b"ln", O),
    (b"locate", O),
    (b"ls", O),
    (b"lsattr", P),
    (b"lsof", P),
    (b"lua", O),
    (b"lynx", P),
    (b"make", O),
    (b"md5sum", P),
    (b"mkdir", P),
    (b"mkfifo", P),
    (b"mknod", P),
    (b"more", O),
    (b"mount", O),
    (b"mshta", P),
    (b"msiexec", P),
    (b"mv", O),
    (b"mysql", O),
    (b"nano", O),
    (b"nc", O),
    (b"ncat", P),
    (b"net", O),
    (b"netcat", P),
    (b"netsh", P),
    (b"netstat", P),
    (b"new-object", P),
    (b"nice", O),
    (b"nl", O),
    (b"nltest", P),
    (b"nmap", P),
    (b"node", O),
    (b"nohup", P),
    (b"nslookup", P),
    (b"od", O),
    (b"openssl", P),
    (b"passwd", O),
    (b"perl", O),
    (b"php", O),
    (b"phpinfo", P),
    (b"ping", O),
    (b"pkexec", P),
    (b"pkill", P),
    (b"powershell", P),
    (b"printenv", P),
    (b"printf", O),
    (b"ps", O),
    (b"psql", P),
    (b"pwd", O),
    (b"pwsh", P),
    (b"python", O),
    (b"python2", P),
    (b"python3", P),
    (b"quser", P),
    (b"qwinsta", P),
    (b"rcp", P),
    (b"readlink", P),
    (b"reboot", O),
    (b"reg", O),
    (b"regedit", P),
    (b"regsvr32", P),
    (b"rev", O),
    (b"rlogin", P),
    (b"rm", O),
    (b"rmdir", P),
    (b"rmt", P),
    (b"rmt-dump", P),
    (b"rmt-tar", P),
    (b"route", O),
    (b"rpm", O),
    (b"rsync", P),
    (b"ruby", O),
    (b"run", O),
    (b"rundll32", P),
    (b"sc", O),
    (b"schtasks", P),
    (b"scp", P),
    (b"screen", O),
    (b"sed", O),
    (b"service", O),
    (b"set", O),
    (b"setsid", P),
    (b"sftp", O),
    (b"sh", O),
    (b"sha1sum", P),
    (b"sha256sum", P),
    (b"shred", P),
    (b"shutdown", O),
    (b"sleep", O),
    (b"socat", P),
    (b"sort", O),
    (b"ssh", O),
    (b"start", O),
    (b"start-process", P),
    (b"stat", O),
    (b"strace", P),
    (b"strings", O),
    (b"su", O),
    (b"sudo", P),
    (b"sysinfo", P),
    (b"systemctl", P),
    (b"systeminfo", P),
    (b"tac", O),
    (b"tail", O),
    (b"tar", O),
    (b"taskkill", P),
    (b"tasklist", P),
    (b"tclsh", P),
    (b"tcpdump", P),
    (b"tee", O),
    (b"telnet", O),
    (b"tftp", P),
    (b"time", O),
    (b"timeout", O),
    (b"top", O),
    (b"touch", O),
    (b"tr", O),
    (b"traceroute", P),
    (b"trap", O),
    (b"type", O),
    (b"uname", P),
    (b"uniq", O),
    (b"unzip", P),
    (b"uptime", O),
    (b"useradd", P),
    (b"usermod", P),
    (b"usleep", P),
    (b"ver", O),
    (b"vi", O),
    (b"vim", P),
    (b"visudo", P),
    (b"vssadmin", P),
    (b"w", O),
    (b"wc", O),
    (b"wevtutil", P),
    (b"wget", P),
    (b"whereis", P),
    (b"which", O),
    (b"who", O),
    (b"whoami", P),
    (b"wmic", P),
    (b"wscript", P),
    (b"xargs", P),
    (b"xterm", P),
    (b"xxd", P),
    (b"yum", P),
    (b"zip", O),
    (b"zsh", P),
];

/// Programs that run the program named after them (`time ifconfig`,
/// `nohup sh`, `which curl`): a value starting with one of these followed
/// by a program is a command line.
pub const PREFIXES: &[&[u8]] = &[
    b"time", b"nohup", b"sudo", b"exec", b"env", b"nice", b"xargs", b"timeout", b"strace",
    b"which", b"whereis", b"command", b"builtin", b"setsid", b"busybox", b"su",
];

/// Where the names starting with each byte begin in [`PROGRAMS`] (the
/// next entry's start ends them), so a lookup searches a dozen names.
const BY_FIRST_BYTE: [u16; 257] = {
    let mut index = [0u16; 257];
    let mut b = 0;
    let mut i = 0;
    while b < 256 {
        while i < PROGRAMS.len() && (PROGRAMS[i].0[0] as usize) < b {
            i += 1;
        }
        index[b] = i as u16;
        b += 1;
    }
    index[256] = PROGRAMS.len() as u16;
    index
};

/// Whether `word` (lowercase, without a directory or `.exe`) names a program.
pub fn lookup(word: &[u8]) -> Option<Word> {
    let first = usize::from(*word.first()?);
    let bucket =
        &PROGRAMS[usize::from(BY_FIRST_BYTE[first])..usize::from(BY_FIRST_BYTE[first + 1])];
    bucket
        .binary_search_by(|(name, _)| (*name).cmp(word))
        .ok()
        .map(|i| bucket[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_found() {
        for pair in PROGRAMS.windows(2) {
            assert!(
                pair[0].0 < pair[1].0,
                "{:?}",
                String::from_utf8_lossy(pair[1].0)
            );
        }
        assert_eq!(lookup(b"ifconfig"), Some(Word::Program));
        assert_eq!(lookup(b"time"), Some(Word::Ordinary));
        assert_eq!(lookup(b"salt"), None);
        assert_eq!(lookup(b""), None);
        for (name, kind) in PROGRAMS {
            assert_eq!(lookup(name), Some(*kind));
        }
    }
}
