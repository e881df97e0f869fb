//! The challenge reaction: instead of refusing a client the module is unsure
//! about, ask it to prove a JavaScript-capable browser.
//!
//! A challenged client is a run-time list entry of kind `challenge` (made by
//! a profile with `reaction = "challenge"`, or below its threshold with
//! `challenge_tolerance`). Its requests pass only with a valid pass cookie
//! ([`token`]); without one, a browser asking for HTML gets the page
//! ([`page`]), whose script mints the cookie and reloads, and an API client
//! gets a JSON error with `Retry-After`. Every challenge answered without a
//! valid cookie is counted ([`failures`]); at the profile's
//! `challenge_failures` the client is escalated to the profile's list.
//!
//! Nothing here is an nginx type; the glue is `ngx::challenge`.

pub mod failures;
pub mod page;
pub mod token;

use crate::config::Reaction;
use crate::model::Tolerance;

pub use failures::Failures;
pub use token::{Key, Token, Verdict};

/// The cookie's name without the key's id (the page sets
/// `api_abuse_pass_<id>`, see [`token::key_id`]).
pub const COOKIE_PREFIX: &[u8] = b"api_abuse_pass_";
/// The cookie's full name length.
pub const COOKIE_NAME_LEN: usize = COOKIE_PREFIX.len() + 6;

/// A profile's challenge settings, defaults applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Challenge clients whose confidence crosses this (lower) tolerance's
    /// threshold but not the profile's own (`challenge_tolerance`).
    pub below: Option<Tolerance>,
    /// The list repeated failures lead to: denylist or graylist.
    pub escalate: Reaction,
    /// Challenges answered without a valid cookie before escalating.
    pub failures: u32,
    /// The pass cookie's lifetime, seconds.
    pub lifetime_s: u32,
    /// Proof-of-work bits (0: none).
    pub work: u8,
}

pub const DEFAULT_FAILURES: u32 = 10;
pub const DEFAULT_LIFETIME_S: u32 = 3600;
pub const DEFAULT_WORK: u8 = 10;
/// The longest a pass cookie may live.
pub const MAX_LIFETIME_S: u64 = 30 * 86_400;
pub const MAX_FAILURES: u32 = 10_000;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            below: None,
            escalate: Reaction::Denylist,
            failures: DEFAULT_FAILURES,
            lifetime_s: DEFAULT_LIFETIME_S,
            work: DEFAULT_WORK,
        }
    }
}

/// What the zone's header keeps for challenges: the key (made once per
/// zone, kept across reloads, and across restarts in the state file) and
/// the counters. The failure counts are sized with the zone, beside the list
/// table ([`failures`], `Shared::challenge_failures`).
#[repr(C)]
pub struct ZoneState {
    /// The HMAC key, in four words: set when the zone is made (fresh, or
    /// from the state file) before any worker reads it, read by copy.
    key: [std::sync::atomic::AtomicU64; 4],
    /// Per [`Counter`], in its order (`api_abuse_challenges_total`).
    pub counters: [std::sync::atomic::AtomicU64; Counter::ALL.len()],
}

/// What the challenge counters count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    /// Challenges served (a page or a JSON error).
    Issued,
    /// Challenged clients whose valid cookie came back after a challenge.
    Passed,
    /// Cookies that came back invalid (forged, expired, another address or
    /// User-Agent, no work).
    Invalid,
    /// Clients escalated to the profile's list.
    Escalated,
}

impl Counter {
    pub const ALL: [Counter; 4] = [
        Counter::Issued,
        Counter::Passed,
        Counter::Invalid,
        Counter::Escalated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Counter::Issued => "issued",
            Counter::Passed => "passed",
            Counter::Invalid => "invalid",
            Counter::Escalated => "escalated",
        }
    }
}

impl ZoneState {
    /// The HMAC key of pass cookies.
    pub fn key(&self) -> Key {
        let mut k = [0u8; 32];
        for (c, w) in k.chunks_exact_mut(8).zip(&self.key) {
            c.copy_from_slice(&w.load(std::sync::atomic::Ordering::Relaxed).to_le_bytes());
        }
        k
    }

    /// Sets the key: a fresh zone's, or the one a state file kept.
    pub fn set_key(&self, key: &Key) {
        for (c, w) in key.chunks_exact(8).zip(&self.key) {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            w.store(u64::from_le_bytes(b), std::sync::atomic::Ordering::Relaxed);
        }
    }

    pub fn count(&self, c: Counter) {
        self.counters[c as usize].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn get(&self, c: Counter) -> u64 {
        self.counters[c as usize].load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// A fresh random key (the operating system's generator).
pub fn new_key() -> Key {
    let mut k = [0u8; 32];
    if getrandom::getrandom(&mut k).is_err() {
        // Never seen on Linux; the hasher's keys are random too.
        for (i, c) in k.chunks_mut(8).enumerate() {
            let v = crate::table::random_seed() ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            c.copy_from_slice(&v.to_le_bytes());
        }
    }
    k
}

/// How a challenged client's request ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A valid cookie: the request goes on. `after` challenges were served
    /// before it (0: an ordinary request of a client that had passed).
    Pass { after: u32 },
    /// The HTML page (a GET or HEAD asking for text/html).
    Page,
    /// The JSON error with `Retry-After`.
    Json,
}

/// Whether a request gets the page: a browser navigation (GET or HEAD)
/// that accepts HTML.
pub fn wants_page(method: &[u8], accept: Option<&[u8]>) -> bool {
    (method == b"GET" || method == b"HEAD")
        && accept.is_some_and(|a| memchr::memmem::find(a, b"text/html").is_some())
}

/// The value of cookie `name` in a `Cookie` header value.
pub fn cookie_value<'a>(header: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    header.split(|b| *b == b';').find_map(|pair| {
        let pair = pair.trim_ascii();
        let rest = pair.strip_prefix(name)?;
        rest.strip_prefix(b"=")
    })
}

/// Seconds an API client is told to wait: until the challenge entry ends
/// (`expires`, 0 = forever), at least one second, at most a day.
pub fn retry_after(expires: u32, now: u64) -> u64 {
    match expires {
        0 => 86_400,
        t => u64::from(t).saturating_sub(now).clamp(1, 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_go_to_browser_navigations_only() {
        let html = Some(&b"text/html,application/xhtml+xml,*/*;q=0.8"[..]);
        assert!(wants_page(b"GET", html));
        assert!(wants_page(b"HEAD", html));
        assert!(!wants_page(b"POST", html));
        assert!(!wants_page(b"GET", Some(b"application/json")));
        assert!(!wants_page(b"GET", Some(b"*/*")));
        assert!(!wants_page(b"GET", None));
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let h = b"a=1; api_abuse_pass_abcdef=tok.5;b=2";
        assert_eq!(
            cookie_value(h, b"api_abuse_pass_abcdef"),
            Some(&b"tok.5"[..])
        );
        assert_eq!(cookie_value(h, b"b"), Some(&b"2"[..]));
        assert_eq!(cookie_value(h, b"api_abuse_pass_abcde"), None);
        assert_eq!(cookie_value(b"", b"a"), None);
    }

    #[test]
    fn retry_after_is_bounded() {
        assert_eq!(retry_after(0, 100), 86_400);
        assert_eq!(retry_after(160, 100), 60);
        assert_eq!(retry_after(50, 100), 1);
        assert_eq!(retry_after(u32::MAX, 100), 86_400);
    }

    #[test]
    fn keys_are_random() {
        assert_ne!(new_key(), new_key());
        assert_ne!(new_key(), [0; 32]);
    }
}

/// An events-file line about a challenge: `challenge_issued` (the first
/// challenge served since the client last passed), `challenge_passed` (a
/// valid cookie came back after challenges), `challenge_escalated`.
#[derive(serde::Serialize)]
pub struct Event<'a> {
    pub time: String,
    pub event: &'static str,
    pub client: String,
    pub application: &'a str,
    /// The profile whose challenge settings applied (`null`: none covers
    /// the application, defaults applied).
    pub profile: Option<&'a str>,
    /// From the challenge entry (`null`: an operator's entry).
    pub bot_type: Option<&'static str>,
    pub confidence: u8,
    /// Challenges served without a valid cookie coming back.
    pub failures: u32,
    /// Escalations: the list, and when the entry ends (`"forever"` or an
    /// RFC 3339 time; `null` when the list table had no room).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

impl Event<'_> {
    /// The line, newline included.
    pub fn line(&self) -> String {
        let mut s = serde_json::to_string(self).unwrap_or_default();
        s.push('\n');
        s
    }
}
