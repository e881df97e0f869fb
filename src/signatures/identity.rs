//! Scanner identity: a User-Agent that names an attack tool.
//!
//! Vulnerability scanners, fuzzers and injection tools announce themselves
//! in their default User-Agent (`sqlmap/1.7.4#stable (https://sqlmap.org)`,
//! `Mozilla/5.00 (Nikto/2.1.6)`, `Fuzz Faster U Fool v2.0.0`, `Nuclei -
//! Open-source project (github.com/projectdiscovery/nuclei)`), and a request
//! that carries such a name is sent by the tool whatever its payload: the
//! OWASP CRS refuses it at paranoia level 1 (rule 913100). Filed under
//! `scanner_probe`, so a graylisted client is refused for it like for any
//! attack sign, and the vulnerability-scanning bot type counts it.
//!
//! The list holds only the names those tools send by default (facts of the
//! field), not HTTP libraries: `curl`, `python-requests`, `Go-http-client`,
//! `okhttp` are how SDKs and integrations talk, and tools that send a
//! browser's User-Agent (ZAP, Burp, XSStrike) are not named here at all.
//! Short names that occur inside ordinary words (`nmap`, `dirb`, `ffuf`)
//! count only standing alone. The `bad_user_agent` detector classifies the
//! same names as scanners (a test keeps the two in step); this list is the
//! narrower one, since a signature refuses on one request.
//!
//! Cost: the first 256 bytes of the value lowercased into a stack buffer
//! and one pass of a compiled needle list.

use super::needles::Needles;

/// Names that stand for the tool wherever they appear.
const TOOLS: Needles = Needles::new(&[
    b"sqlmap",
    b"nikto",
    b"nuclei",
    b"fuzz faster u fool",
    b"wfuzz",
    b"gobuster",
    b"dirbuster",
    b"feroxbuster",
    b"nmap scripting engine",
    b"masscan",
    b"zgrab",
    b"wpscan",
    b"acunetix",
    b"netsparker",
    b"openvas",
    b"nessus",
    b"w3af",
    b"skipfish",
    b"arachni",
    b"commix",
    b"whatweb",
    b"jaeles",
    b"interactsh",
    b"havij",
    b"sqlninja",
    b"zmeu",
    b"morfeus",
    b"jorgee",
    b"burpcollaborator",
]);

/// Names that are also pieces of words: a tool only between non-letters.
const ALONE: Needles = Needles::new(&[b"nmap", b"dirb", b"ffuf"]);

/// Bytes of a User-Agent read: the names sit in the first few dozen.
const SPAN: usize = 256;

/// Whether a User-Agent value names an attack tool.
pub fn scanner_user_agent(ua: &[u8]) -> bool {
    let mut buf = [0u8; SPAN];
    let n = ua.len().min(SPAN);
    for (d, s) in buf.iter_mut().zip(&ua[..n]) {
        *d = s.to_ascii_lowercase();
    }
    let s = &buf[..n];
    TOOLS.found_in(s)
        || ALONE.any_match(s, |w, p| {
            let before = p.checked_sub(1).map(|i| s[i]);
            let after = s.get(p + w.len()).copied();
            !before.is_some_and(|b| b.is_ascii_alphanumeric())
                && !after.is_some_and(|b| b.is_ascii_alphanumeric())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::bad_user_agent::{classify, UaClass};

    const TOOLS_UA: &[&str] = &[
        "sqlmap/1.7.4#stable (https://sqlmap.org)",
        "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:Port Check)",
        "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
        "Fuzz Faster U Fool v2.0.0",
        "Wfuzz/3.1.0",
        "gobuster/3.6",
        "DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)",
        "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
        "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
        "Mozilla/5.0 zgrab/0.x",
        "WPScan v3.8.22 (https://wpscan.com/wordpress-security-scanner)",
        "Microsoft WinRM Client OpenVASVT",
        "commix/v3.8-stable (https://commixproject.com)",
        "WhatWeb/0.5.5",
        "Mozilla/5.0 Jorgee",
        "ZmEu",
        "Havij",
        "Morfeus Fucking Scanner",
        "ffuf/2.1.0",
        "dirb",
    ];

    #[test]
    fn attack_tools_are_named() {
        for ua in TOOLS_UA {
            assert!(scanner_user_agent(ua.as_bytes()), "{ua}");
            // The detector calls each of these a scanner too.
            assert_eq!(classify(Some(ua.as_bytes())), UaClass::Scanner, "{ua}");
        }
    }

    #[test]
    fn browsers_and_libraries_are_not() {
        for ua in [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
            "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
            "curl/8.5.0",
            "python-requests/2.31.0",
            "Go-http-client/1.1",
            "Go-http-client/2.0",
            "okhttp/4.12.0",
            "axios/1.6.8",
            "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
            "Wget/1.21.4",
            "Apache-HttpClient/4.5.14 (Java/17.0.9)",
            "PostmanRuntime/7.37.3",
            "Stripe/v1 RubyBindings/10.14.0",
            "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            // Product names that contain a short tool name.
            "Dirbot/1.0 (Dirbaum Inc.)",
            "FFUFI-Sync/2.3",
            "Mozilla/5.0 (compatible; Pinmapper/1.2)",
            "Mozilla/5.0 (Macintosh) Nesspresso/1.0",
        ] {
            assert!(!scanner_user_agent(ua.as_bytes()), "{ua}");
        }
    }

    #[test]
    fn long_values_are_read_only_in_part() {
        let mut ua = vec![b'a'; 10_000];
        ua.extend_from_slice(b" sqlmap/1.0");
        assert!(!scanner_user_agent(&ua));
        assert!(scanner_user_agent(b"SQLMAP/1.0"));
    }
}
