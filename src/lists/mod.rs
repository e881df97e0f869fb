//! The manual allow / deny / gray lists and the exception networks.
//!
//! Each worker builds these from the profiles file (and rebuilds them when it
//! changes) in ordinary process memory; they are immutable once built, so they
//! are shared between threads and swapped whole. Lookups go through
//! [`PrefixSet`], whose cost does not grow with the number of entries.
//!
//! Precedence, when several active entries contain an address: **allow beats
//! deny beats gray**, whatever their prefix lengths. An allow entry is an
//! operator's explicit promise that a network is legitimate, so it must not be
//! undone by a broader (or narrower) deny written elsewhere; deny beats gray
//! because it is the stronger reaction. Within one kind the most specific
//! entry is reported. Expired entries are ignored (an entry expiring at `t` no
//! longer applies at `t`).
//!
//! Exceptions need no kinds or expiries: use `PrefixSet<S>` directly, with `S`
//! naming where each network came from (`()` if nobody asks).

pub mod prefix;

use std::net::IpAddr;

use ipnetwork::IpNetwork;

pub use prefix::{Matches, PrefixSet, PrefixSetError};

/// Which manual list an entry belongs to, in order of precedence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListKind {
    /// Never blocked, and not scored.
    Allow,
    /// Every request is refused.
    Deny,
    /// Requests carrying attack signs are refused.
    Gray,
}

impl ListKind {
    pub const ALL: &'static [ListKind] = &[ListKind::Allow, ListKind::Deny, ListKind::Gray];

    /// The name used in files, events, variables and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            ListKind::Allow => "allow",
            ListKind::Deny => "deny",
            ListKind::Gray => "gray",
        }
    }

    pub fn from_name(s: &str) -> Option<ListKind> {
        ListKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    pub const fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for ListKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One manual list entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub net: IpNetwork,
    pub kind: ListKind,
    /// Unix seconds from which the entry no longer applies; `None`: never expires.
    pub expires: Option<u64>,
    pub comment: Option<String>,
}

impl Entry {
    pub fn is_active(&self, now_unix: u64) -> bool {
        self.expires.is_none_or(|t| now_unix < t)
    }
}

/// The manual lists of one profiles file.
#[derive(Default)]
pub struct AddrLists {
    /// What `classify` needs from each entry, 16 bytes, grouped by network so
    /// that the entries of one network share a cache line; the full entry is
    /// read only for the winner.
    set: PrefixSet<Decider>,
    /// In input order.
    entries: Box<[Entry]>,
    counts: [usize; 3],
}

#[derive(Clone, Copy)]
struct Decider {
    /// `u64::MAX` for entries that never expire.
    expires: u64,
    index: u32,
    kind: ListKind,
}

impl AddrLists {
    /// Builds the lookup structures: about a quarter to half a second for a
    /// million entries, so large lists should be built off the event loop.
    pub fn new(entries: impl IntoIterator<Item = Entry>) -> Result<AddrLists, PrefixSetError> {
        let entries: Box<[Entry]> = entries.into_iter().collect();
        let mut counts = [0; 3];
        let mut deciders = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            let index = u32::try_from(i).map_err(|_| PrefixSetError::TooMany(entries.len()))?;
            counts[e.kind.index()] += 1;
            let expires = e.expires.unwrap_or(u64::MAX);
            deciders.push((
                e.net,
                Decider {
                    expires,
                    index,
                    kind: e.kind,
                },
            ));
        }
        let set = PrefixSet::build(deciders)?;
        Ok(AddrLists {
            set,
            entries,
            counts,
        })
    }

    /// The list `addr` is on at `now_unix`, and the deciding entry (see the
    /// module documentation for precedence). Allocates nothing.
    pub fn classify(&self, addr: IpAddr, now_unix: u64) -> Option<(ListKind, &Entry)> {
        let mut best: Option<Decider> = None;
        for d in self.set.matches(addr) {
            if now_unix >= d.expires || best.is_some_and(|b| b.kind <= d.kind) {
                continue;
            }
            best = Some(*d);
            if d.kind == ListKind::Allow {
                break;
            }
        }
        let best = best?;
        let entry = self.entries.get(best.index as usize)?;
        Some((best.kind, entry))
    }

    /// Entries of every kind, expired ones included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries of one kind, expired ones included.
    pub fn count(&self, kind: ListKind) -> usize {
        self.counts[kind.index()]
    }

    /// Every entry, in the order given to [`AddrLists::new`].
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The earliest expiry still ahead of `now_unix`, so a caller can tell
    /// when the active set next changes.
    pub fn next_expiry(&self, now_unix: u64) -> Option<u64> {
        self.entries
            .iter()
            .filter_map(|e| e.expires)
            .filter(|&t| t > now_unix)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(net: &str, kind: ListKind, expires: Option<u64>) -> Entry {
        Entry {
            net: net.parse().unwrap(),
            kind,
            expires,
            comment: Some(net.to_string()),
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn decision(lists: &AddrLists, addr: &str, now: u64) -> Option<(ListKind, String)> {
        lists
            .classify(ip(addr), now)
            .map(|(k, e)| (k, e.comment.clone().unwrap_or_default()))
    }

    use ListKind::{Allow, Deny, Gray};

    #[test]
    fn allow_beats_deny_beats_gray_whatever_the_prefix() {
        let lists = AddrLists::new([
            entry("10.0.0.0/8", Allow, None),
            entry("10.1.2.3/32", Deny, None),
            entry("192.0.2.0/24", Deny, None),
            entry("192.0.2.7/32", Gray, None),
            entry("192.0.2.128/25", Deny, None),
            entry("2001:db8::/32", Gray, None),
        ])
        .unwrap();
        assert_eq!(
            decision(&lists, "10.1.2.3", 0),
            Some((Allow, "10.0.0.0/8".into()))
        );
        assert_eq!(
            decision(&lists, "192.0.2.7", 0),
            Some((Deny, "192.0.2.0/24".into()))
        );
        // Within one kind the most specific entry decides.
        assert_eq!(
            decision(&lists, "192.0.2.200", 0),
            Some((Deny, "192.0.2.128/25".into()))
        );
        assert_eq!(
            decision(&lists, "2001:db8:5::1", 0),
            Some((Gray, "2001:db8::/32".into()))
        );
        assert_eq!(
            decision(&lists, "::ffff:192.0.2.1", 0),
            Some((Deny, "192.0.2.0/24".into()))
        );
        assert_eq!(decision(&lists, "198.51.100.1", 0), None);
        assert_eq!(
            (
                lists.len(),
                lists.count(Allow),
                lists.count(Deny),
                lists.count(Gray)
            ),
            (6, 1, 3, 2)
        );
    }

    #[test]
    fn expired_entries_are_ignored() {
        let lists = AddrLists::new([
            entry("10.0.0.0/8", Allow, Some(100)),
            entry("10.1.0.0/16", Deny, Some(200)),
            entry("10.1.2.0/24", Gray, None),
        ])
        .unwrap();
        assert_eq!(decision(&lists, "10.1.2.3", 99).map(|d| d.0), Some(Allow));
        assert_eq!(decision(&lists, "10.1.2.3", 100).map(|d| d.0), Some(Deny));
        assert_eq!(decision(&lists, "10.1.2.3", 200).map(|d| d.0), Some(Gray));
        assert_eq!(decision(&lists, "10.9.0.1", 150), None);
        assert_eq!(lists.next_expiry(0), Some(100));
        assert_eq!(lists.next_expiry(100), Some(200));
        assert_eq!(lists.next_expiry(200), None);
        let kinds: Vec<ListKind> = lists.entries().iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [Allow, Deny, Gray], "input order");
        assert!(lists.entries()[0].is_active(99) && !lists.entries()[0].is_active(100));
    }

    #[test]
    fn lists_are_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<AddrLists>();
        shared::<PrefixSet<()>>();
    }

    #[test]
    fn names_round_trip() {
        for &k in ListKind::ALL {
            assert_eq!(ListKind::from_name(k.as_str()), Some(k));
            assert_eq!(ListKind::ALL[k.index()], k);
        }
        assert_eq!(ListKind::from_name("black"), None);
        assert!(AddrLists::default().is_empty());
    }

    #[test]
    fn exceptions_as_a_plain_prefix_set() {
        let ex = PrefixSet::build([
            (ip("203.0.113.0").into(), "office"),
            ("2001:db8::/48".parse().unwrap(), "vpn"),
        ])
        .unwrap();
        assert_eq!(ex.find(ip("203.0.113.0"), |_| true), Some(&"office"));
        assert!(!ex.contains(ip("203.0.113.1")));
        assert_eq!(ex.matches(ip("2001:db8::5")).next(), Some(&"vpn"));
    }
}
