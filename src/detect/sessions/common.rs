//! Shared pieces of the synthetic sessions: a deterministic PRNG, the
//! request record, User-Agents, header sets and the shop's sensitive endpoints.

use crate::detect::SensitiveSet;
use crate::model::{AttackClass, SensitiveKind};
use crate::request::header_bits as h;

/// A tiny deterministic PRNG (xorshift64*), so every run is the same.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Log-normal think time around `median_ms`.
    pub fn think(&mut self, median_ms: f64, sigma: f64) -> u64 {
        let z: f64 = (0..12).map(|_| self.unit()).sum::<f64>() - 6.0;
        (median_ms * (sigma * z).exp()).clamp(30.0, 600_000.0) as u64
    }
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

pub const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0.0.0",
];
pub const LIBRARIES: &[&str] = &[
    "python-requests/2.31.0",
    "curl/8.5.0",
    "Go-http-client/1.1",
    "okhttp/4.12.0",
];
pub const SCANNERS: &[&str] = &[
    "sqlmap/1.8",
    "Mozilla/5.00 (Nikto/2.5.0)",
    "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
];
pub const BROWSER_HEADERS: u16 =
    h::ACCEPT | h::ACCEPT_LANGUAGE | h::ACCEPT_ENCODING | h::COOKIE | h::SEC_FETCH;
pub const SCRIPT_HEADERS: u16 = h::ACCEPT | h::ACCEPT_ENCODING;

#[derive(Clone, Debug)]
pub struct Req {
    pub t: u64,
    pub method: &'static str,
    pub path: String,
    pub status: u16,
    pub ua: &'static str,
    pub headers: u16,
    pub attack: Option<AttackClass>,
}

pub fn sensitive() -> SensitiveSet {
    SensitiveSet::compile(&[
        ("POST", "/api/login", SensitiveKind::Auth),
        ("POST", "/api/signup", SensitiveKind::Signup),
        ("POST", "/api/feedback", SensitiveKind::Feedback),
        ("POST", "/api/cart/**", SensitiveKind::Checkout),
        ("POST", "/api/reserve/*", SensitiveKind::Reserve),
    ])
    .unwrap_or_default()
}
