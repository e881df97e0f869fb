//! The access decision made in the PREACCESS phase, before the request is
//! served: exceptions and the allowlist always pass, the denylist is refused,
//! the graylist is refused only for requests that carry attack signs.
//!
//! Precedence, strongest first: exception, allow (file or run time), deny,
//! gray. Entries of the profiles file and run-time entries (detection, API)
//! are considered together.

use std::net::IpAddr;

use crate::config::Profiles;
use crate::lists::ListKind as FileKind;
use crate::model::{AttackClass, BotType};
use crate::shared::{ListKind, ListRecord};

/// What the request matched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ListTag {
    #[default]
    None,
    Exception,
    Allow,
    Deny,
    Gray,
    /// Under challenge: passes with a valid pass cookie (`crate::challenge`).
    Challenge,
}

impl ListTag {
    pub fn as_str(self) -> &'static str {
        match self {
            ListTag::None => "",
            ListTag::Exception => "exception",
            ListTag::Allow => "allow",
            ListTag::Deny => "deny",
            ListTag::Gray => "gray",
            ListTag::Challenge => "challenge",
        }
    }
}

/// The decision for one request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Access {
    pub list: ListTag,
    /// The request must be refused (in `monitor` mode: would be).
    pub refuse: bool,
    /// Bot type and confidence behind a run-time entry, if any.
    pub bot: Option<BotType>,
    pub confidence: u8,
}

/// Decides for a client at `addr`.
///
/// `country` is the value of the `api_abuse_country` variable, `runtime` the
/// client's run-time list entry in force, `attack` the attack class found in
/// the request.
pub fn decide(
    profiles: Option<&Profiles>,
    addr: IpAddr,
    country: Option<&[u8]>,
    runtime: Option<ListRecord>,
    attack: Option<AttackClass>,
    now_unix: u64,
) -> Access {
    let mut tag = ListTag::None;
    if let Some(p) = profiles {
        if p.exceptions.source_of(addr).is_some()
            || country.is_some_and(|c| p.exceptions.country_excepted(c))
        {
            return Access {
                list: ListTag::Exception,
                ..Access::default()
            };
        }
        tag = match p.lists.classify(addr, now_unix).map(|(k, _)| k) {
            Some(FileKind::Allow) => ListTag::Allow,
            Some(FileKind::Deny) => ListTag::Deny,
            Some(FileKind::Gray) => ListTag::Gray,
            None => ListTag::None,
        };
    }
    let (mut bot, mut confidence) = (None, 0);
    if let Some(rt) = runtime {
        let rt_tag = match rt.kind() {
            Some(ListKind::Allow) => ListTag::Allow,
            Some(ListKind::Deny) => ListTag::Deny,
            Some(ListKind::Gray) => ListTag::Gray,
            Some(ListKind::Challenge) => ListTag::Challenge,
            None => ListTag::None,
        };
        if rank(rt_tag) > rank(tag) {
            tag = rt_tag;
            bot = rt.bot();
            confidence = rt.confidence;
        }
    }
    let refuse = match tag {
        ListTag::Deny => true,
        // a challenged client is at least graylisted: attack signs are
        // refused whatever its cookie
        ListTag::Gray | ListTag::Challenge => attack.is_some(),
        _ => false,
    };
    Access {
        list: tag,
        refuse,
        bot,
        confidence,
    }
}

fn rank(t: ListTag) -> u8 {
    match t {
        ListTag::None => 0,
        ListTag::Gray => 1,
        ListTag::Challenge => 2,
        ListTag::Deny => 3,
        ListTag::Allow => 4,
        ListTag::Exception => 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn profiles(text: &str) -> Profiles {
        Profiles::parse(Path::new("/t/profiles.toml"), text).expect("valid")
    }

    const FILE: &str = r#"
        [lists]
        deny  = ["192.0.2.10", "198.51.100.0/24", "2001:db8:bad::/48",
                 { addr = "192.0.2.77", expires = "2000-01-01T00:00:00Z", comment = "expired" }]
        gray  = ["203.0.113.0/24"]
        allow = ["198.51.100.7"]
        [exceptions]
        addrs = ["192.0.2.200"]
        countries = ["NL"]
    "#;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn file_lists_and_precedence() {
        let p = profiles(FILE);
        let now = 1_800_000_000;
        let d = |a: &str, att| decide(Some(&p), ip(a), None, None, att, now);
        assert_eq!(d("192.0.2.10", None).list, ListTag::Deny);
        assert!(d("192.0.2.10", None).refuse);
        assert!(d("198.51.100.99", None).refuse);
        assert!(d("2001:db8:bad:1::5", None).refuse);
        assert!(!d("2001:db8:bae::5", None).refuse);
        // allow beats deny
        assert_eq!(d("198.51.100.7", None).list, ListTag::Allow);
        assert!(!d("198.51.100.7", None).refuse);
        // expired entries are gone
        assert!(!d("192.0.2.77", None).refuse);
        // gray refuses only attack-signed requests
        assert!(!d("203.0.113.5", None).refuse);
        assert!(d("203.0.113.5", Some(AttackClass::Sqli)).refuse);
        // exceptions, by address and by country
        assert_eq!(d("192.0.2.200", None).list, ListTag::Exception);
        let nl = decide(Some(&p), ip("192.0.2.10"), Some(b"nl"), None, None, now);
        assert_eq!(nl.list, ListTag::Exception);
        assert!(!nl.refuse);
    }

    #[test]
    fn runtime_entries() {
        let p = profiles(FILE);
        let deny = ListRecord {
            kind: ListKind::Deny as u8,
            bot_type: 7,
            confidence: 90,
            ..Default::default()
        };
        let a = decide(Some(&p), ip("10.0.0.1"), None, Some(deny), None, 1);
        assert!(a.refuse);
        assert_eq!(a.bot, Some(BotType::Scraping));
        // a file allow entry beats a run-time deny
        let a = decide(Some(&p), ip("198.51.100.7"), None, Some(deny), None, 1);
        assert!(!a.refuse);
        // exceptions beat everything
        let a = decide(Some(&p), ip("192.0.2.200"), None, Some(deny), None, 1);
        assert_eq!(a.list, ListTag::Exception);
        // no profiles file: run-time lists still apply
        assert!(decide(None, ip("10.0.0.1"), None, Some(deny), None, 1).refuse);
    }

    #[test]
    fn challenged_clients() {
        let p = profiles(FILE);
        let challenge = ListRecord {
            kind: ListKind::Challenge as u8,
            bot_type: 7,
            confidence: 60,
            ..Default::default()
        };
        let a = decide(Some(&p), ip("10.0.0.1"), None, Some(challenge), None, 1);
        assert_eq!(a.list, ListTag::Challenge);
        assert!(!a.refuse, "the challenge decides, with the cookie");
        let a = decide(
            Some(&p),
            ip("10.0.0.1"),
            None,
            Some(challenge),
            Some(AttackClass::Sqli),
            1,
        );
        assert!(a.refuse, "attack signs are refused as for the graylist");
        // a file gray entry does not soften a challenge; a deny entry wins
        let a = decide(Some(&p), ip("203.0.113.5"), None, Some(challenge), None, 1);
        assert_eq!(a.list, ListTag::Challenge);
        let a = decide(Some(&p), ip("192.0.2.10"), None, Some(challenge), None, 1);
        assert!(a.refuse);
    }
}
