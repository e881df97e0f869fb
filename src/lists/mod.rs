//! The manual allow / deny / gray lists and the exception networks.
//!
//! They are compiled from the profiles file into an [`image::Image`]: flat,
//! read-only words that one process writes to a file once and every worker
//! maps, so a server holds one copy whatever its worker count. Lookups go
//! through [`prefix::Table`], whose cost does not grow with the number of
//! entries, and allocate nothing.
//!
//! Precedence, when several active entries contain an address: **allow beats
//! deny beats gray**, whatever their prefix lengths. An allow entry is an
//! operator's explicit promise that a network is legitimate, so it must not be
//! undone by a broader (or narrower) deny written elsewhere; deny beats gray
//! because it is the stronger reaction. Expired entries are ignored (an entry
//! expiring at `t` no longer applies at `t`).

pub mod image;
pub mod prefix;

use std::net::IpAddr;
use std::sync::Arc;

use ipnetwork::IpNetwork;

pub use image::Image;
pub use prefix::PrefixSetError;

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

/// One manual list entry, as read from the file (the file's `comment` is for
/// the people who read it and is not compiled).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub net: IpNetwork,
    pub kind: ListKind,
    /// Unix seconds from which the entry no longer applies; `None`: never expires.
    pub expires: Option<u64>,
}

impl Entry {
    pub fn is_active(&self, now_unix: u64) -> bool {
        self.expires.is_none_or(|t| now_unix < t)
    }

    /// The entry's value in the image: the kind in the top two bits, the
    /// expiry (`NEVER` for none) below.
    pub fn value(&self) -> u64 {
        let expires = self.expires.map_or(NEVER, |t| t.min(NEVER - 1));
        (self.kind.index() as u64) << 62 | expires
    }
}

const NEVER: u64 = (1 << 62) - 1;

fn unpack(v: u64) -> Option<(ListKind, u64)> {
    let kind = *ListKind::ALL.get((v >> 62) as usize)?;
    Some((kind, v & NEVER))
}

/// The deciding entry of a lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// Unix seconds from which it no longer applies; `None`: never expires.
    pub expires: Option<u64>,
}

/// The manual lists of one profiles file: a view of its image.
#[derive(Clone, Default)]
pub struct AddrLists {
    image: Option<Arc<Image>>,
    counts: [usize; 3],
}

impl AddrLists {
    /// Compiles entries into an image of their own in this process's memory
    /// (tests and benchmarks; the module compiles whole files, see
    /// `config::Profiles::compile`).
    pub fn new(entries: impl IntoIterator<Item = Entry>) -> Result<AddrLists, PrefixSetError> {
        let mut b = image::Builder::new();
        b.lists(entries.into_iter().map(|e| (e.net, e.value())))?;
        let img = b.finish(0, b"").map_err(|_| PrefixSetError::TooMany(0))?;
        Ok(AddrLists::of(Arc::new(img)))
    }

    /// The lists of `image`.
    pub fn of(image: Arc<Image>) -> AddrLists {
        // Counted when the image was built: nothing here reads the entries.
        let counts = image.counts();
        AddrLists {
            image: Some(image),
            counts,
        }
    }

    /// The list `addr` is on at `now_unix`, and the deciding entry (see the
    /// module documentation for precedence). Allocates nothing.
    pub fn classify(&self, addr: IpAddr, now_unix: u64) -> Option<(ListKind, Hit)> {
        let img = self.image.as_deref()?;
        let words = img.words();
        if img.lists().surely_misses(words, addr) {
            return None;
        }
        let mut best: Option<(ListKind, u64)> = None;
        for v in img.lists().matches(words, addr) {
            let Some((kind, expires)) = unpack(v) else {
                continue;
            };
            if now_unix >= expires || best.is_some_and(|b| b.0 <= kind) {
                continue;
            }
            best = Some((kind, expires));
            if kind == ListKind::Allow {
                break;
            }
        }
        let (kind, expires) = best?;
        let expires = (expires != NEVER).then_some(expires);
        Some((kind, Hit { expires }))
    }

    /// Entries of every kind, expired ones included.
    pub fn len(&self) -> usize {
        self.counts.iter().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries of one kind, expired ones included.
    pub fn count(&self, kind: ListKind) -> usize {
        self.counts[kind.index()]
    }

    /// The earliest expiry still ahead of `now_unix`, so a caller can tell
    /// when the active set next changes (a scan of every entry).
    pub fn next_expiry(&self, now_unix: u64) -> Option<u64> {
        let img = self.image.as_deref()?;
        img.lists()
            .values(img.words())
            .iter()
            .filter_map(|v| unpack(*v))
            .map(|(_, t)| t)
            .filter(|&t| t != NEVER && t > now_unix)
            .min()
    }
}

/// The exception networks of one profiles file: a view of its image; the
/// value of each network is the index of its source name.
#[derive(Clone, Default)]
pub struct NetSet {
    image: Option<Arc<Image>>,
}

impl NetSet {
    pub fn of(image: Arc<Image>) -> NetSet {
        NetSet { image: Some(image) }
    }

    /// The value of the most specific network containing `addr`.
    pub fn find(&self, addr: IpAddr) -> Option<u64> {
        let img = self.image.as_deref()?;
        let words = img.words();
        if img.exceptions().surely_misses(words, addr) {
            return None;
        }
        img.exceptions().matches(words, addr).next()
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        self.find(addr).is_some()
    }

    pub fn len(&self) -> usize {
        self.image.as_deref().map_or(0, |i| i.exceptions().len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn decision(lists: &AddrLists, addr: &str, now: u64) -> Option<(ListKind, Option<u64>)> {
        lists.classify(ip(addr), now).map(|(k, h)| (k, h.expires))
    }

    use ListKind::{Allow, Deny, Gray};

    #[test]
    fn allow_beats_deny_beats_gray_whatever_the_prefix() {
        // Expiries far ahead tell the entries apart.
        let t = |n: u64| Some(2_000_000_000 + n);
        let lists = AddrLists::new([
            entry("10.0.0.0/8", Allow, t(1)),
            entry("10.1.2.3/32", Deny, t(2)),
            entry("192.0.2.0/24", Deny, t(3)),
            entry("192.0.2.7/32", Gray, t(4)),
            entry("192.0.2.128/25", Deny, t(5)),
            entry("2001:db8::/32", Gray, None),
        ])
        .unwrap();
        assert_eq!(decision(&lists, "10.1.2.3", 0), Some((Allow, t(1))));
        assert_eq!(decision(&lists, "192.0.2.7", 0), Some((Deny, t(3))));
        // Within one kind the most specific entry decides.
        assert_eq!(decision(&lists, "192.0.2.200", 0), Some((Deny, t(5))));
        assert_eq!(decision(&lists, "2001:db8:5::1", 0), Some((Gray, None)));
        assert_eq!(decision(&lists, "::ffff:192.0.2.1", 0), Some((Deny, t(3))));
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
    fn counts_per_kind_come_back_from_a_mapped_image() {
        let mut b = image::Builder::new();
        let entries = [
            entry("10.0.0.0/8", Allow, None),
            entry("192.0.2.0/24", Deny, Some(9)),
            entry("192.0.2.7/32", Deny, None),
            entry("2001:db8::/32", Gray, None),
        ];
        b.lists(entries.iter().map(|e| (e.net, e.value()))).unwrap();
        let img = b.finish(1, b"{}").unwrap();
        let dir = std::env::temp_dir().join(format!("api-abuse-counts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        img.write(&dir, "c.img").unwrap();
        let lists = AddrLists::of(Arc::new(Image::open(&dir.join("c.img")).unwrap()));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            (lists.count(Allow), lists.count(Deny), lists.count(Gray)),
            (1, 2, 1)
        );
        assert_eq!(lists.len(), 4);
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
        assert!(entry("10.0.0.0/8", Allow, Some(100)).is_active(99));
        assert!(!entry("10.0.0.0/8", Allow, Some(100)).is_active(100));
    }

    #[test]
    fn one_network_in_several_lists() {
        let lists = AddrLists::new([
            entry("10.0.0.0/8", Gray, None),
            entry("10.0.0.0/8", Allow, Some(100)),
            entry("10.0.0.0/8", Deny, Some(200)),
        ])
        .unwrap();
        assert_eq!(decision(&lists, "10.1.2.3", 0).map(|d| d.0), Some(Allow));
        assert_eq!(decision(&lists, "10.1.2.3", 150).map(|d| d.0), Some(Deny));
        assert_eq!(decision(&lists, "10.1.2.3", 250).map(|d| d.0), Some(Gray));
    }

    #[test]
    fn lists_are_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<AddrLists>();
        shared::<NetSet>();
        shared::<Image>();
    }

    #[test]
    fn names_round_trip() {
        for &k in ListKind::ALL {
            assert_eq!(ListKind::from_name(k.as_str()), Some(k));
            assert_eq!(ListKind::ALL[k.index()], k);
        }
        assert_eq!(ListKind::from_name("black"), None);
        assert!(AddrLists::default().is_empty());
        assert!(AddrLists::default().classify(ip("::1"), 0).is_none());
        assert!(NetSet::default().is_empty() && !NetSet::default().contains(ip("::1")));
    }

    #[test]
    fn exceptions_in_an_image() {
        let mut b = image::Builder::new();
        b.exceptions([
            (ip("203.0.113.0").into(), 4),
            ("2001:db8::/48".parse().unwrap(), 9),
        ])
        .unwrap();
        let ex = NetSet::of(Arc::new(b.finish(1, b"{}").unwrap()));
        assert_eq!(ex.find(ip("203.0.113.0")), Some(4));
        assert!(!ex.contains(ip("203.0.113.1")));
        assert_eq!(ex.find(ip("2001:db8::5")), Some(9));
        assert_eq!(ex.len(), 2);
    }
}
