//! What goes to Redis: one key per client, `PREFIX:entry:ADDR`, holding the
//! entry as JSON, with a TTL equal to what is left of its expiry (so Redis
//! forgets expired entries by itself), and the same JSON published on
//! `PREFIX:changes` for the push.
//!
//! A removed entry (an operator's unblock) is written as a tombstone
//! (`"list":null`) that lives [`TOMBSTONE_SECS`]: a node that was away when
//! the unblock happened learns of it when it reconnects, instead of writing
//! its old copy back.
//!
//! ```json
//! {"addr":"192.0.2.7","list":"deny","origin":"detection","bot_type":"scraping",
//!  "confidence":83,"offences":2,"created":1764582000,"expires":1764668400,
//!  "stamp":1807330394112011,"node":"edge-1","instance":8812}
//! ```
//! `expires` 0 is forever. `bot_type` is `null` for operator entries.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::model::BotType;
use crate::shared::{ListKind, ListRecord, ORIGIN_DETECTION, ORIGIN_OPERATOR};
use crate::table::{client_key, key_addr, ClientKey};

/// How long Redis keeps an unblock's tombstone: a node away longer than this
/// and holding the old entry writes it back when it returns.
pub const TOMBSTONE_SECS: u64 = 7 * 86_400;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireEntry {
    pub addr: IpAddr,
    /// `deny`, `gray`, `allow`, or `null` for a removed entry.
    pub list: Option<String>,
    pub origin: String,
    pub bot_type: Option<String>,
    pub confidence: u8,
    pub offences: u32,
    pub created: u32,
    pub expires: u32,
    pub stamp: u64,
    pub node: String,
    pub instance: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    #[error("not an entry: {0}")]
    Json(String),
    #[error("unknown list \"{0}\"")]
    List(String),
    #[error("unknown origin \"{0}\"")]
    Origin(String),
    #[error("unknown bot type \"{0}\"")]
    BotType(String),
}

impl WireEntry {
    pub fn from_record(key: ClientKey, r: &ListRecord, node: &str, instance: u64) -> WireEntry {
        WireEntry {
            addr: key_addr(key),
            list: r.kind().map(|k| k.as_str().to_string()),
            origin: if r.origin == ORIGIN_OPERATOR {
                "operator"
            } else {
                "detection"
            }
            .to_string(),
            bot_type: r.bot().map(|b| b.as_str().to_string()),
            confidence: r.confidence,
            offences: r.offences,
            created: r.created,
            expires: r.expires,
            stamp: r.stamp,
            node: node.to_string(),
            instance,
        }
    }

    /// The key and record this entry stands for on a node whose IPv6 clients
    /// are `v6_prefix` networks.
    pub fn to_record(&self, v6_prefix: u8) -> Result<(ClientKey, ListRecord), WireError> {
        let kind = match self.list.as_deref() {
            None => 0,
            Some("deny") => ListKind::Deny as u8,
            Some("gray") => ListKind::Gray as u8,
            Some("allow") => ListKind::Allow as u8,
            Some("challenge") => ListKind::Challenge as u8,
            Some(other) => return Err(WireError::List(other.to_string())),
        };
        let origin = match self.origin.as_str() {
            "operator" => ORIGIN_OPERATOR,
            "detection" => ORIGIN_DETECTION,
            other => return Err(WireError::Origin(other.to_string())),
        };
        let bot_type = match &self.bot_type {
            None => 0,
            Some(b) => {
                BotType::from_name(b)
                    .ok_or_else(|| WireError::BotType(b.clone()))?
                    .index() as u8
                    + 1
            }
        };
        Ok((
            client_key(self.addr, v6_prefix),
            ListRecord {
                kind,
                origin,
                bot_type,
                confidence: self.confidence.min(100),
                offences: self.offences,
                created: self.created,
                expires: self.expires,
                stamp: self.stamp,
            },
        ))
    }

    pub fn encode(&self) -> String {
        // A struct of strings and numbers always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn decode(text: &[u8]) -> Result<WireEntry, WireError> {
        serde_json::from_slice(text).map_err(|e| WireError::Json(e.to_string()))
    }

    /// Milliseconds Redis should keep the key from `now_ms`: `Some(0)` for
    /// no TTL (forever), `None` when the entry has already expired.
    pub fn ttl_ms(&self, now_ms: u64) -> Option<u64> {
        let until_ms = if self.list.is_none() {
            crate::sync::stamp::millis(self.stamp) + TOMBSTONE_SECS * 1000
        } else if self.expires == 0 {
            return Some(0);
        } else {
            u64::from(self.expires) * 1000
        };
        until_ms.checked_sub(now_ms).filter(|t| *t > 0)
    }
}

/// Names of the keys and channel under one prefix.
#[derive(Clone, Debug)]
pub struct Names {
    pub prefix: String,
}

impl Names {
    pub fn entry_key(&self, addr: IpAddr) -> String {
        format!("{}:entry:{addr}", self.prefix)
    }

    pub fn entry_pattern(&self) -> String {
        format!("{}:entry:*", self.prefix)
    }

    pub fn channel(&self) -> String {
        format!("{}:changes", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deny() -> ListRecord {
        ListRecord {
            kind: ListKind::Deny as u8,
            origin: ORIGIN_DETECTION,
            bot_type: BotType::ALL[2].index() as u8 + 1,
            confidence: 83,
            offences: 2,
            created: 1_764_582_000,
            expires: 1_764_668_400,
            stamp: 123 << 10 | 5,
        }
    }

    #[test]
    fn entries_round_trip_through_json() {
        let key = client_key("192.0.2.7".parse().unwrap(), 64);
        let w = WireEntry::from_record(key, &deny(), "edge-1", 77);
        let text = w.encode();
        assert!(text.contains("\"addr\":\"192.0.2.7\""), "{text}");
        assert!(text.contains("\"list\":\"deny\""), "{text}");
        let back = WireEntry::decode(text.as_bytes()).unwrap();
        assert_eq!(back, w);
        assert_eq!(back.to_record(64).unwrap(), (key, deny()));
        // an unblock
        let gone = ListRecord { kind: 0, ..deny() };
        let t = WireEntry::from_record(key, &gone, "edge-1", 77);
        assert!(t.encode().contains("\"list\":null"));
        assert_eq!(t.to_record(64).unwrap().1.kind, 0);
    }

    #[test]
    fn ipv6_clients_follow_the_receivers_prefix() {
        let key = client_key("2001:db8:1:2:3::9".parse().unwrap(), 64);
        let w = WireEntry::from_record(key, &deny(), "a", 1);
        assert_eq!(w.addr.to_string(), "2001:db8:1:2::");
        let (k48, _) = w.to_record(48).unwrap();
        assert_eq!(k48, client_key("2001:db8:1::".parse().unwrap(), 48));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(WireEntry::decode(b"").is_err());
        assert!(WireEntry::decode(b"{\"addr\":\"x\"}").is_err());
        let key = client_key("192.0.2.7".parse().unwrap(), 64);
        let mut w = WireEntry::from_record(key, &deny(), "a", 1);
        w.list = Some("black".into());
        assert_eq!(w.to_record(64), Err(WireError::List("black".into())));
        w.list = None;
        w.bot_type = Some("robot".into());
        assert!(matches!(w.to_record(64), Err(WireError::BotType(_))));
        let mut extra: serde_json::Value = serde_json::from_str(&w.encode()).unwrap();
        extra["surprise"] = 1.into();
        assert!(WireEntry::decode(extra.to_string().as_bytes()).is_err());
    }

    #[test]
    fn ttl_follows_the_expiry() {
        let key = client_key("192.0.2.7".parse().unwrap(), 64);
        let mut w = WireEntry::from_record(key, &deny(), "a", 1);
        let exp_ms = u64::from(w.expires) * 1000;
        assert_eq!(w.ttl_ms(exp_ms - 1500), Some(1500));
        assert_eq!(w.ttl_ms(exp_ms), None, "expired: not written");
        w.expires = 0;
        assert_eq!(w.ttl_ms(exp_ms), Some(0), "forever: no TTL");
        w.list = None;
        let now = crate::sync::stamp::millis(w.stamp);
        assert_eq!(w.ttl_ms(now), Some(TOMBSTONE_SECS * 1000));
    }

    #[test]
    fn names() {
        let n = Names {
            prefix: "aa".into(),
        };
        assert_eq!(n.entry_key("::1".parse().unwrap()), "aa:entry:::1");
        assert_eq!(n.entry_pattern(), "aa:entry:*");
        assert_eq!(n.channel(), "aa:changes");
    }
}

/// What a node's full load costs in CPU, without Redis: decode and apply a
/// million entries into a zone (`cargo test --release --no-default-features
/// --lib apply_a_million -- --ignored --nocapture`, run by ci/sync-bench.sh).
#[cfg(test)]
mod bench {
    use super::*;

    #[test]
    #[ignore]
    fn apply_a_million_entries() {
        const N: u32 = 1_000_000;
        let z = crate::shared::tests::heap_zone(1536 << 20);
        let texts: Vec<String> = (0..N)
            .map(|i| {
                let key = client_key(std::net::Ipv4Addr::from(0x0a00_0000 | i).into(), 64);
                let r = ListRecord {
                    kind: ListKind::Deny as u8,
                    origin: ORIGIN_DETECTION,
                    bot_type: 3,
                    confidence: 80,
                    offences: 1,
                    created: 1_800_000_000,
                    expires: 1_900_000_000,
                    stamp: 5 << 10,
                };
                WireEntry::from_record(key, &r, "x", 1).encode()
            })
            .collect();
        let t = std::time::Instant::now();
        let mut applied = 0;
        for text in &texts {
            let w = WireEntry::decode(text.as_bytes()).expect("entry");
            let (key, rec) = w.to_record(64).expect("record");
            applied += usize::from(z.shared.apply_remote(key, 1_800_000_000, rec));
        }
        eprintln!(
            "BENCH apply: {applied} of {N} entries decoded and applied in {:?}",
            t.elapsed()
        );
        assert_eq!(applied, N as usize);
    }
}
