//! An immutable set of IP networks with values, for longest-prefix-first lookups.
//!
//! One hash map per prefix length present (masked network -> values), per
//! address family. A lookup masks the address once per level and probes that
//! level's map, most specific level first, so its cost depends on how many
//! distinct prefix lengths the set holds (a handful in practice, at most 33 for
//! IPv4 and 129 for IPv6), never on how many networks: 10 and 1,000,000
//! entries cost the same few probes (though once the maps outgrow the CPU
//! cache, each probe is a memory access). A binary trie would cost up to
//! 32/128 dependent pointer loads instead.
//!
//! IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) and networks inside
//! `::ffff:0:0/96` are treated as IPv4, so a dual-stack listener matches IPv4
//! entries. IPv6 networks shorter than /96 (even `::/0`) never match IPv4
//! clients: an operator who writes an IPv6 range means IPv6.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::IpAddr;

use ipnetwork::IpNetwork;

/// Why a set cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixSetError {
    #[error("too many list entries ({0}); at most 4294967295 are supported")]
    TooMany(usize),
}

/// Networks and their values. Build once, share between threads, look up.
pub struct PrefixSet<V> {
    v4: Box<[Level]>,
    v6: Box<[Level]>,
    /// Grouped by network: each map points at one contiguous run.
    values: Box<[V]>,
}

/// All networks of one family and prefix length.
struct Level {
    mask: u128,
    map: HashMap<NetKey, Span, SeededHash>,
}

/// A masked network as two halves (8-byte aligned, so map slots stay 24 bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
struct NetKey([u64; 2]);

impl NetKey {
    fn new(bits: u128) -> NetKey {
        NetKey([bits as u64, (bits >> 64) as u64])
    }
}

impl Hash for NetKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0[0]);
        state.write_u64(self.0[1]);
    }
}

/// One network while the set is built.
struct Item<V> {
    family: Family,
    len: u8,
    bits: u128,
    seq: u32,
    value: V,
}

/// A run of values in `PrefixSet::values`.
#[derive(Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Family {
    V4,
    V6,
}

/// An address or network in its family's bit space (IPv4 in the low 32 bits).
fn normalize_addr(addr: IpAddr) -> (Family, u128) {
    match addr {
        IpAddr::V4(v4) => (Family::V4, u128::from(u32::from(v4))),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => (Family::V4, u128::from(u32::from(v4))),
            None => (Family::V6, u128::from(v6)),
        },
    }
}

/// Family, prefix length within the family, and masked network bits.
fn normalize_net(net: &IpNetwork) -> (Family, u8, u128) {
    let (family, bits) = normalize_addr(net.ip());
    let len = match (family, net) {
        (Family::V4, IpNetwork::V6(v6)) if v6.prefix() < 96 => {
            // A short IPv6 network around ::ffff:0:0/96 stays IPv6.
            let bits = u128::from(v6.ip()) & mask(Family::V6, v6.prefix());
            return (Family::V6, v6.prefix(), bits);
        }
        (Family::V4, IpNetwork::V6(_)) => net.prefix() - 96,
        _ => net.prefix(),
    };
    (family, len, bits & mask(family, len))
}

fn mask(family: Family, len: u8) -> u128 {
    let width = match family {
        Family::V4 => 32,
        Family::V6 => 128,
    };
    let len = u32::from(len).min(width);
    if len == 0 {
        return 0;
    }
    let ones = u128::MAX >> (128 - width);
    (ones << (width - len)) & ones
}

impl<V> PrefixSet<V> {
    /// Builds the set. Several values may share one network; they are kept in
    /// the order given.
    pub fn build(
        networks: impl IntoIterator<Item = (IpNetwork, V)>,
    ) -> Result<Self, PrefixSetError> {
        let networks = networks.into_iter();
        let mut items: Vec<Item<V>> = Vec::with_capacity(networks.size_hint().0);
        for (seq, (net, value)) in networks.enumerate() {
            let seq = u32::try_from(seq).map_err(|_| PrefixSetError::TooMany(seq))?;
            let (family, len, bits) = normalize_net(&net);
            items.push(Item {
                family,
                len,
                bits,
                seq,
                value,
            });
        }
        // Families apart, longest prefixes first, then by network; equal
        // networks keep their input order (`seq`). Unstable sort on a plain
        // key is several times faster than a stable sort on a tuple here.
        items.sort_unstable_by_key(|i| ((i.family as u16) << 8 | u16::from(!i.len), i.bits, i.seq));

        // Networks per level, in sorted order, so each map is sized once.
        let mut sizes: Vec<usize> = Vec::new();
        let mut prev: Option<(Family, u8, u128)> = None;
        for i in &items {
            let k = (i.family, i.len, i.bits);
            match prev {
                Some(p) if p == k => continue,
                Some(p) if (p.0, p.1) == (k.0, k.1) => {
                    if let Some(n) = sizes.last_mut() {
                        *n += 1;
                    }
                }
                _ => sizes.push(1),
            }
            prev = Some(k);
        }

        let hasher = SeededHash::random();
        let mut sizes = sizes.into_iter();
        let mut levels: [Vec<(u8, Level)>; 2] = [Vec::new(), Vec::new()];
        let mut values = Vec::with_capacity(items.len());
        let mut items = items.into_iter().peekable();
        while let Some(Item {
            family,
            len,
            bits,
            value,
            ..
        }) = items.next()
        {
            // Cannot truncate: `seq` fitted in a u32.
            let start = values.len() as u32;
            values.push(value);
            while let Some(i) = items.next_if(|i| (i.family, i.len, i.bits) == (family, len, bits))
            {
                values.push(i.value);
            }
            let span = Span {
                start,
                len: values.len() as u32 - start,
            };
            let levels = &mut levels[family as usize];
            if levels.last().is_none_or(|(l, _)| *l != len) {
                let capacity = sizes.next().unwrap_or(0);
                let map = HashMap::with_capacity_and_hasher(capacity, hasher.clone());
                levels.push((
                    len,
                    Level {
                        mask: mask(family, len),
                        map,
                    },
                ));
            }
            if let Some((_, level)) = levels.last_mut() {
                level.map.insert(NetKey::new(bits), span);
            }
        }
        let [v4, v6] = levels.map(|l| l.into_iter().map(|(_, level)| level).collect());
        Ok(PrefixSet {
            v4,
            v6,
            values: values.into_boxed_slice(),
        })
    }

    /// Values of every network containing `addr`, most specific network first.
    /// Allocates nothing.
    pub fn matches(&self, addr: IpAddr) -> Matches<'_, V> {
        let (family, bits) = normalize_addr(addr);
        let levels = match family {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        };
        Matches {
            levels: levels.iter(),
            bits,
            run: [].iter(),
            values: &self.values,
        }
    }

    /// The most specific value containing `addr` for which `pred` holds.
    pub fn find(&self, addr: IpAddr, mut pred: impl FnMut(&V) -> bool) -> Option<&V> {
        self.matches(addr).find(|v| pred(v))
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        self.matches(addr).next().is_some()
    }

    /// All values, grouped by network (not in input order).
    pub fn values(&self) -> &[V] {
        &self.values
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Distinct prefix lengths, i.e. map probes per lookup (IPv4, IPv6).
    pub fn levels(&self) -> (usize, usize) {
        (self.v4.len(), self.v6.len())
    }
}

impl<V> Default for PrefixSet<V> {
    fn default() -> Self {
        PrefixSet {
            v4: Box::new([]),
            v6: Box::new([]),
            values: Box::new([]),
        }
    }
}

/// Iterator returned by [`PrefixSet::matches`].
pub struct Matches<'a, V> {
    levels: std::slice::Iter<'a, Level>,
    bits: u128,
    run: std::slice::Iter<'a, V>,
    values: &'a [V],
}

impl<'a, V> Iterator for Matches<'a, V> {
    type Item = &'a V;

    fn next(&mut self) -> Option<&'a V> {
        loop {
            if let Some(v) = self.run.next() {
                return Some(v);
            }
            let level = self.levels.next()?;
            if let Some(span) = level.map.get(&NetKey::new(self.bits & level.mask)) {
                let start = span.start as usize;
                let end = start + span.len as usize;
                self.run = self.values.get(start..end).unwrap_or_default().iter();
            }
        }
    }
}

/// Multiply-fold hashing of the two key words with a per-set random seed:
/// a few nanoseconds, where SipHash costs tens. The keys come from the
/// operator's lists, not from clients, so flooding resistance is not needed;
/// the seed only keeps one set's layout from being predictable.
#[derive(Clone)]
struct SeededHash(u64);

impl SeededHash {
    fn random() -> SeededHash {
        SeededHash(std::collections::hash_map::RandomState::new().hash_one(0x6c69_7374u64))
    }
}

impl BuildHasher for SeededHash {
    type Hasher = FoldHasher;
    fn build_hasher(&self) -> FoldHasher {
        FoldHasher(self.0)
    }
}

struct FoldHasher(u64);

impl Hasher for FoldHasher {
    fn write_u64(&mut self, word: u64) {
        // 128-bit product folded to 64 bits: every input bit reaches every
        // output bit, so masked networks (low bits all zero) still spread.
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        let p = u128::from(self.0 ^ word) * u128::from(K);
        self.0 = (p as u64) ^ ((p >> 64) as u64);
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNetwork {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn set(nets: &[&str]) -> PrefixSet<String> {
        PrefixSet::build(nets.iter().map(|s| (net(s), s.to_string()))).unwrap()
    }

    fn all(s: &PrefixSet<String>, addr: &str) -> Vec<String> {
        s.matches(ip(addr)).cloned().collect()
    }

    #[test]
    fn most_specific_first_across_lengths() {
        let s = set(&[
            "10.0.0.0/8",
            "10.1.0.0/16",
            "10.1.2.3/32",
            "10.1.2.0/24",
            "11.0.0.0/8",
        ]);
        assert_eq!(
            all(&s, "10.1.2.3"),
            ["10.1.2.3/32", "10.1.2.0/24", "10.1.0.0/16", "10.0.0.0/8"]
        );
        assert_eq!(
            all(&s, "10.1.2.4"),
            ["10.1.2.0/24", "10.1.0.0/16", "10.0.0.0/8"]
        );
        assert_eq!(all(&s, "10.200.0.1"), ["10.0.0.0/8"]);
        assert!(all(&s, "12.0.0.1").is_empty());
        assert_eq!(s.levels(), (4, 0));
        assert_eq!(s.len(), 5);
    }

    #[test]
    fn host_bits_in_entries_are_ignored() {
        let s = set(&["192.0.2.77/24", "2001:db8::1/32"]);
        assert!(s.contains(ip("192.0.2.1")));
        assert!(s.contains(ip("2001:db8:ffff::9")));
        assert!(!s.contains(ip("2001:db9::")));
    }

    #[test]
    fn ipv4_mapped_addresses_and_networks_are_ipv4() {
        let s = set(&["198.51.100.0/24", "::ffff:203.0.113.0/120", "::/0"]);
        assert_eq!(all(&s, "::ffff:198.51.100.9"), ["198.51.100.0/24"]);
        assert_eq!(all(&s, "203.0.113.5"), ["::ffff:203.0.113.0/120"]);
        // `::/0` means every IPv6 client, not IPv4 ones.
        assert!(all(&s, "192.0.2.1").is_empty());
        assert_eq!(all(&s, "2001:db8::1"), ["::/0"]);
        assert_eq!(s.levels(), (1, 1));
    }

    #[test]
    fn families_do_not_mix() {
        // 0.0.0.0/0 must not match IPv6; ::/96 (IPv4-compatible) is plain IPv6.
        let s = set(&["0.0.0.0/0", "::/96"]);
        assert_eq!(all(&s, "1.2.3.4"), ["0.0.0.0/0"]);
        assert_eq!(all(&s, "::1.2.3.4"), ["::/96"]);
        assert!(all(&s, "2001:db8::").is_empty());
    }

    #[test]
    fn shared_networks_keep_every_value_in_order() {
        let items = [
            (net("10.0.0.0/8"), 1),
            (net("10.9.9.9/8"), 2),
            (net("10.0.0.1/32"), 3),
        ];
        let s = PrefixSet::build(items).unwrap();
        assert_eq!(
            s.matches(ip("10.0.0.1")).copied().collect::<Vec<_>>(),
            [3, 1, 2]
        );
        assert_eq!(s.find(ip("10.0.0.1"), |v| *v < 3), Some(&1));
        assert_eq!(s.find(ip("10.0.0.1"), |v| *v > 5), None);
    }

    #[test]
    fn ipv6_prefixes_and_edges() {
        let s = set(&[
            "2001:db8:1::/48",
            "2001:db8:1:2::/64",
            "2001:db8:1:2::1/128",
            "::1/128",
        ]);
        assert_eq!(all(&s, "2001:db8:1:2::1").len(), 3);
        assert_eq!(
            all(&s, "2001:db8:1:2::2"),
            ["2001:db8:1:2::/64", "2001:db8:1::/48"]
        );
        assert_eq!(all(&s, "2001:db8:1:ffff::"), ["2001:db8:1::/48"]);
        assert_eq!(all(&s, "::1"), ["::1/128"]);
        assert!(all(&s, "2001:db8:2::").is_empty());
        let empty = PrefixSet::<u8>::build([]).unwrap();
        assert!(empty.is_empty() && !empty.contains(ip("::1")));
        assert!(PrefixSet::<u8>::default().is_empty());
    }

    /// Every network of a large random set is found from an address inside it,
    /// against a brute-force check on a sample.
    #[test]
    fn agrees_with_brute_force() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let nets: Vec<IpNetwork> = (0..5000)
            .map(|_| {
                let r = rnd();
                if r % 2 == 0 {
                    let a = std::net::Ipv4Addr::from((r >> 32) as u32 & 0x0fff_ffff);
                    IpNetwork::new(IpAddr::V4(a), [8, 16, 20, 24, 32][(r % 5) as usize]).unwrap()
                } else {
                    let a = std::net::Ipv6Addr::from(u128::from(rnd()) << 64 | u128::from(r));
                    IpNetwork::new(IpAddr::V6(a), [16, 32, 48, 64, 128][(r % 5) as usize]).unwrap()
                }
            })
            .collect();
        let s = PrefixSet::build(nets.iter().enumerate().map(|(i, n)| (*n, i))).unwrap();
        for _ in 0..2000 {
            let r = rnd();
            let probe = if r % 2 == 0 {
                IpAddr::V4(std::net::Ipv4Addr::from((r >> 32) as u32 & 0x0fff_ffff))
            } else {
                let n = nets[(r % nets.len() as u64) as usize];
                n.network()
            };
            let mut got: Vec<usize> = s.matches(probe).copied().collect();
            let mut want: Vec<usize> = (0..nets.len())
                .filter(|&i| nets[i].contains(probe))
                .collect();
            got.sort_unstable();
            want.sort_unstable();
            assert_eq!(got, want, "{probe}");
        }
    }
}
