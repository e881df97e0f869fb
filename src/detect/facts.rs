//! The *extract* stage: everything the detectors need from one request that
//! depends on the request alone (its endpoint template, sensitive kind,
//! User-Agent class and browser facts, header anomaly, status, attack class),
//! computed before any lock is taken.
//!
//! The client's record update ([`ClientState::update`]) then only adds
//! these facts to counters and sets: no parsing, no hashing of request bytes,
//! no allocation, a bounded number of instructions under the client's lock.
//!
//! The User-Agent is capped at [`MAX_USER_AGENT`] bytes before it is hashed
//! and classified, so a 32 KiB header costs what a normal one does; woothee
//! runs on a miss of the per-worker cache ([`ua_cache`]), never under a lock.
//!
//! [`ClientState::update`]: super::state::ClientState::update

use super::bad_user_agent::{self, UaClass};
use super::hash::fast_hash;
use super::template::{self, Endpoint};
use super::{outdated_browser, ua_cache};
use crate::model::{AttackClass, SensitiveKind};
use crate::request::header_bits as h;
use crate::request::RequestView;

/// Bytes of a User-Agent that are hashed and classified. Real browsers send
/// 100-250 bytes; scanner and library names come first.
pub const MAX_USER_AGENT: usize = 512;
// Every capped value fits the verdict cache, which compares the bytes.
const _: () = assert!(MAX_USER_AGENT <= ua_cache::MAX_USER_AGENT);

/// Hash that stands for "no User-Agent header".
pub(crate) const UA_MISSING_HASH: u32 = 1;

/// Bits of [`UserAgent::flags`].
pub(crate) const UA_BROWSER: u8 = 1;
pub(crate) const UA_OUTDATED: u8 = 2;
pub(crate) const UA_CHROMIUM: u8 = 4;

/// What the User-Agent says, as the client record keeps it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserAgent {
    /// Hash of the (capped) value; [`UA_MISSING_HASH`] when absent, never 0.
    pub hash: u32,
    /// [`UaClass`] as u8.
    pub class: u8,
    /// `UA_BROWSER | UA_OUTDATED | UA_CHROMIUM`.
    pub flags: u8,
}

impl UserAgent {
    pub fn class(&self) -> UaClass {
        UaClass::from_u8(self.class)
    }

    pub fn is_browser(&self) -> bool {
        self.flags & UA_BROWSER != 0
    }
}

/// One request, reduced to what the client's record takes in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestFacts {
    pub endpoint: Endpoint,
    pub sensitive: Option<SensitiveKind>,
    pub user_agent: UserAgent,
    /// A client claiming a browser left out what that browser sends.
    pub header_anomaly: bool,
    pub status: u16,
    pub attack: Option<AttackClass>,
}

/// What a request's answer adds to the client's record
/// ([`ClientState::end`](super::state::ClientState::end)), with what the
/// record needs to place it; kept from the start of the request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    /// 0: unknown (the client went away before an answer).
    pub status: u16,
    pub asset: bool,
    /// The request's template, when its path carried an object id.
    pub object_template: Option<u32>,
}

impl RequestFacts {
    /// The answer of this request, once its status is known.
    pub fn answer(&self, status: u16) -> Answer {
        Answer {
            status,
            asset: self.endpoint.asset,
            object_template: self.endpoint.object.map(|_| self.endpoint.template),
        }
    }
}

/// The extract stage for one request (no lock held; allocation-free except
/// woothee's parse on a User-Agent cache miss).
pub fn extract(v: &RequestView<'_>, sensitive: Option<SensitiveKind>) -> RequestFacts {
    extract_with(v, sensitive, template::normalise(v.method, v.path), None)
}

/// [`extract`] with the endpoint of `v` already normalised, and maybe the
/// whole User-Agent value already hashed ([`super::hash::fast_hash`] of a
/// value of at most [`MAX_USER_AGENT`] bytes), as the glue's earlier phase
/// computed them.
pub fn extract_with(
    v: &RequestView<'_>,
    sensitive: Option<SensitiveKind>,
    endpoint: Endpoint,
    ua_hash: Option<u32>,
) -> RequestFacts {
    let user_agent = user_agent_hashed(v.user_agent, ua_hash);
    let header_anomaly =
        user_agent.is_browser() && header_anomaly(v, user_agent.flags & UA_CHROMIUM != 0);
    RequestFacts {
        endpoint,
        sensitive,
        user_agent,
        header_anomaly,
        status: v.status,
        attack: v.attack,
    }
}

/// Detector `suspicious_behaviour`'s header rule: one request from a client
/// claiming to be a browser lacks what that browser
/// would send.
pub fn header_anomaly(v: &RequestView<'_>, chromium: bool) -> bool {
    let needed = h::ACCEPT | h::ACCEPT_LANGUAGE | h::ACCEPT_ENCODING;
    if v.headers & needed != needed {
        return true;
    }
    if v.http_version == 1000 || (v.http_version == 1001 && v.headers & h::CONNECTION_CLOSE != 0) {
        return true;
    }
    chromium && v.http_version >= 2000 && v.headers & h::SEC_FETCH == 0
}

/// Hashes and classifies a User-Agent value (`None`: header missing), through
/// the per-worker cache.
pub fn user_agent(ua: Option<&[u8]>) -> UserAgent {
    user_agent_hashed(ua, None)
}

/// [`user_agent`], with `fast_hash` of the value given when known (used
/// only for a value of at most [`MAX_USER_AGENT`] bytes).
pub fn user_agent_hashed(ua: Option<&[u8]>, known: Option<u32>) -> UserAgent {
    let ua = ua.map(|u| &u[..u.len().min(MAX_USER_AGENT)]);
    let hash = match ua {
        None => UA_MISSING_HASH,
        Some(u) => match known
            .filter(|_| u.len() < MAX_USER_AGENT)
            .unwrap_or_else(|| fast_hash(u))
        {
            0 | UA_MISSING_HASH => 2,
            h => h,
        },
    };
    let (class, flags) = ua_cache::get_or(hash, ua.unwrap_or_default(), || classify(ua));
    UserAgent { hash, class, flags }
}

fn classify(ua: Option<&[u8]>) -> (u8, u8) {
    let class = bad_user_agent::classify(ua);
    let info = match (class, ua) {
        (UaClass::Browser, Some(ua)) => outdated_browser::parse(ua),
        _ => None,
    };
    let flags = info.map_or(0, |i| {
        UA_BROWSER
            | if i.outdated { UA_OUTDATED } else { 0 }
            | if i.chromium { UA_CHROMIUM } else { 0 }
    });
    (class as u8, flags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::header_bits as h;

    const CHROME: &[u8] = b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

    #[test]
    fn facts_of_a_browser_request() {
        let v = RequestView {
            method: b"GET",
            path: b"/users/42/orders",
            user_agent: Some(CHROME),
            headers: h::ACCEPT | h::ACCEPT_LANGUAGE | h::ACCEPT_ENCODING,
            status: 200,
            http_version: 1001,
            ..Default::default()
        };
        let f = extract(&v, Some(SensitiveKind::Checkout));
        assert_eq!(f.endpoint, template::normalise(b"GET", b"/users/42/orders"));
        assert!(f.endpoint.object.is_some());
        assert_eq!(f.user_agent.class(), UaClass::Browser);
        assert!(f.user_agent.is_browser());
        assert!(f.user_agent.flags & UA_CHROMIUM != 0);
        assert!(!f.header_anomaly);
        assert_eq!(f.sensitive, Some(SensitiveKind::Checkout));
        let bare = extract(&RequestView { headers: 0, ..v }, None);
        assert!(bare.header_anomaly, "a browser without Accept headers");
    }

    #[test]
    fn the_fingerprints_user_agent_hash_is_this_one() {
        // The glue hands detection the hash the campaign fingerprint took of
        // the User-Agent (`extract_with`): both must hash the value alike.
        let mut b = crate::campaign::Builder::default();
        b.header(b"user-agent", CHROME);
        let fp = b.finish();
        assert_eq!(fp.ua, fast_hash(CHROME));
        assert_eq!(
            user_agent_hashed(Some(CHROME), Some(fp.ua)),
            user_agent(Some(CHROME))
        );
    }

    #[test]
    fn a_user_agent_colliding_with_a_cached_browser_is_classified_on_its_own() {
        // The hash is public and unseeded: a scanner's User-Agent crafted
        // to hash (and measure) like a cached browser's must not take the
        // browser's class. The glue's known hash stands in for the collision.
        let browser = user_agent(Some(CHROME));
        assert_eq!(browser.class(), UaClass::Browser);
        let mut forged = b"sqlmap/1.8.2#stable (https://sqlmap.org) ".to_vec();
        forged.resize(CHROME.len(), b' ');
        let ua = user_agent_hashed(Some(&forged), Some(browser.hash));
        assert_eq!(ua.hash, browser.hash, "the collision the test stands for");
        assert_eq!(ua.class(), UaClass::Scanner);
        assert!(!ua.is_browser());
        // And the browser, asked again, is still a browser.
        assert_eq!(user_agent(Some(CHROME)), browser);
    }

    #[test]
    fn user_agent_is_capped_and_missing_is_distinct() {
        assert_eq!(user_agent(None).hash, UA_MISSING_HASH);
        assert_eq!(user_agent(None).class(), UaClass::Missing);
        let mut long = b"sqlmap/1.7 ".to_vec();
        long.resize(32 * 1024, b'a');
        let capped = user_agent(Some(&long));
        assert_eq!(capped.class(), UaClass::Scanner);
        // Only the first MAX_USER_AGENT bytes count.
        assert_eq!(capped, user_agent(Some(&long[..MAX_USER_AGENT])));
        let mut other = long.clone();
        other[MAX_USER_AGENT + 10] = b'b';
        assert_eq!(capped, user_agent(Some(&other)));
    }
}
