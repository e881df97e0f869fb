//! A compiled table of IP networks with a 64-bit value each, for
//! longest-prefix-first lookups, laid out in a flat array of words so that it
//! can live in a read-only file mapped by every worker (see [`super::image`]).
//!
//! One level per prefix length present, per address family. A level holds its
//! distinct masked networks as a compact array of keys (4 bytes for IPv4,
//! 8 for IPv6 up to /64, 16 beyond), ordered by a hash of the key, and a
//! directory of `2^b` buckets with `2^b <= keys < 2^(b+1)`, each slot the
//! bucket's start and a 32-bit filter of its keys: a lookup masks the
//! address, hashes it, reads one directory slot, and, if the filter lets it
//! through, compares the one or two keys of that bucket. So a lookup costs a few memory accesses
//! per level present (a handful in practice, at most 33 for IPv4 and 129 for
//! IPv6), never more for more networks: 10 and 1,000,000 entries cost the
//! same. Memory is about 15 to 35 bytes per network (key, directory share,
//! value), against 60 or more for a hash map of boxed entries.
//!
//! Before the levels, a per-family summary (see [`Summary`]) answers most
//! lookups of an address on no list with one word: one bit per hashed
//! network prefix, so a large image costs a miss one memory access, not
//! one per prefix length present.
//!
//! The hash has a fixed key so that the same lists always give the same
//! image; the keys come from the operator's file, not from clients, so
//! flooding resistance is not needed (a client's address only chooses which
//! bucket is read).
//!
//! IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) and networks inside
//! `::ffff:0:0/96` are treated as IPv4, so a dual-stack listener matches IPv4
//! entries. IPv6 networks shorter than /96 (even `::/0`) never match IPv4
//! clients: an operator who writes an IPv6 range means IPv6.
//!
//! Reading never trusts the words: [`Table::read`] checks every region and
//! the directory once, and lookups use checked indexing, so a damaged image
//! gives wrong answers at worst, never a crash.

use std::net::IpAddr;

use ipnetwork::IpNetwork;

/// Why a table cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixSetError {
    #[error("too many list entries ({0}); at most 4294967295 are supported")]
    TooMany(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Family {
    V4,
    V6,
}

/// How a level stores its keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Width {
    /// IPv4: the masked address.
    U32,
    /// IPv6 up to /64: the upper half.
    U64,
    /// Longer IPv6 prefixes: both halves, upper first.
    U128,
}

impl Width {
    fn of(family: Family, len: u8) -> Width {
        match (family, len) {
            (Family::V4, _) => Width::U32,
            (Family::V6, 0..=64) => Width::U64,
            _ => Width::U128,
        }
    }

    fn code(self) -> u64 {
        match self {
            Width::U32 => 1,
            Width::U64 => 2,
            Width::U128 => 4,
        }
    }

    fn from_code(c: u64) -> Option<Width> {
        match c {
            1 => Some(Width::U32),
            2 => Some(Width::U64),
            4 => Some(Width::U128),
            _ => None,
        }
    }

    /// Words taken by `n` keys.
    fn words(self, n: usize) -> usize {
        match self {
            Width::U32 => n.div_ceil(2),
            Width::U64 => n,
            Width::U128 => n.saturating_mul(2),
        }
    }
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

/// 128-bit product folded to 64 bits, twice: every input bit reaches every
/// output bit, so masked networks (low bits all zero) still spread over the
/// buckets, which are chosen by the top bits.
fn fold(h: u64, word: u64) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let p = u128::from(h ^ word) * u128::from(K);
    (p as u64) ^ ((p >> 64) as u64)
}

fn hash_key(width: Width, bits: u128) -> u64 {
    const SEED: u64 = 0x6c69_7374_7461_626c;
    let h = match width {
        Width::U32 | Width::U64 => fold(SEED, key_word(width, bits)),
        Width::U128 => fold(fold(SEED, (bits >> 64) as u64), bits as u64),
    };
    fold(h, 0x2545_f491_4f6c_dd1d)
}

/// The single key word of a U32 or U64 level.
fn key_word(width: Width, bits: u128) -> u64 {
    match width {
        Width::U32 => bits as u32 as u64,
        _ => (bits >> 64) as u64,
    }
}

/// A directory slot: the bucket's first key in the low half, and in the
/// high half a 32-bit filter with one bit per key of the bucket (chosen by
/// the hash's low bits, which the bucket number does not use). A lookup of
/// an absent network usually stops at the filter, after one memory access.
const START: u64 = u32::MAX as u64;

fn filter_bit(h: u64) -> u64 {
    1 << (32 + (h & 31))
}

fn bucket(h: u64, dir_bits: u32) -> usize {
    if dir_bits == 0 {
        0
    } else {
        (h >> (64 - dir_bits)) as usize
    }
}

/// Packs u32s two to a word, low half first.
fn push_u32s(out: &mut Vec<u64>, v: &[u32]) {
    for pair in v.chunks(2) {
        let lo = u64::from(pair[0]);
        let hi = pair.get(1).map_or(0, |x| u64::from(*x));
        out.push(lo | hi << 32);
    }
}

fn u32_at(words: &[u64], off: usize, i: usize) -> Option<u32> {
    let w = words.get(off.checked_add(i / 2)?)?;
    Some((w >> (32 * (i % 2))) as u32)
}

/// One level of a table, as located in the words.
#[derive(Clone, Copy, Debug)]
struct Level {
    mask: u128,
    width: Width,
    dir_bits: u32,
    keys: usize,
    n: usize,
    dir: usize,
    /// Word offset of `n + 1` value starts, when a network has several values.
    starts: Option<usize>,
    /// Index of this level's first value in the table's values.
    base: usize,
}

/// Words of one level descriptor.
const LEVEL_WORDS: usize = 9;
const NONE: u64 = u64::MAX;

/// A table located in an image's words: cheap to copy around, and only
/// meaningful with the words it was read from.
#[derive(Clone, Debug, Default)]
pub struct Table {
    v4: Box<[Level]>,
    v6: Box<[Level]>,
    /// One per family, IPv4 first.
    summaries: [Summary; 2],
    values: usize,
    n_values: usize,
}

/// A family's summary: one bit per network prefix of `prefix` bits that
/// holds any network of the family's first `covered` levels (the longest
/// ones, every one of at least `prefix` bits), chosen by a hash of that
/// prefix. A clear bit says that no network of any of those levels contains
/// the address: one word read answers most misses instead of one directory
/// slot per level, each a cache miss in a large image. The levels shorter
/// than `prefix` (at most a sixteenth of the family's networks, see
/// [`summary_prefix`]) are looked up as before.
#[derive(Clone, Copy, Debug, Default)]
struct Summary {
    covered: usize,
    prefix: u8,
    /// log2 of the bits; the bitmap is `2^bits / 64` words at `at`.
    bits: u32,
    at: usize,
}

/// Words of a summary's descriptor.
const SUMMARY_WORDS: usize = 3;
/// Bits per covered network in a summary (about 12 % of the bits set when
/// every network has a prefix of its own: as many false positives).
const SUMMARY_BITS_PER_NET: u32 = 8;
/// Summary sizes, log2 of the bits: 512 bits (8 words) to 16 Mbit (2 MiB,
/// for two million networks of one family).
const SUMMARY_MIN_BITS: u32 = 9;
const SUMMARY_MAX_BITS: u32 = 24;

/// The summary's prefix length for a family whose levels (longest first)
/// hold `keys` distinct networks each: the shortest length such that the
/// levels shorter than it hold less than a sixteenth of the networks, and
/// at least 8 bits for IPv4 and 16 for IPv6 (a network shorter than that
/// is looked up directly, as the first bits of every address share it).
/// Returns the prefix and how many levels it covers.
fn summary_prefix(family: Family, levels: &[(u8, usize)]) -> (u8, usize) {
    let floor = match family {
        Family::V4 => 8,
        Family::V6 => 16,
    };
    let total: usize = levels.iter().map(|l| l.1).sum();
    let (mut covered, mut held, mut prefix) = (0, 0usize, 0u8);
    for &(len, keys) in levels {
        if len < floor || (total - held) * 16 < total {
            break;
        }
        covered += 1;
        held += keys;
        prefix = len;
    }
    (prefix, covered)
}

/// The summary bit of an address (family bits) at a summary's prefix.
#[inline]
fn summary_hash(family: Family, prefix: u8, bits: u128) -> u64 {
    const SEED: u64 = 0x7375_6d6d_6172_7921;
    match family {
        Family::V4 => fold(SEED, u64::from((bits as u32) >> (32 - u32::from(prefix)))),
        Family::V6 => {
            let p = bits >> (128 - u32::from(prefix));
            fold(fold(SEED, (p >> 64) as u64), p as u64)
        }
    }
}

impl Summary {
    /// False when no network of the covered levels can contain `bits`.
    #[inline]
    fn may_hold(&self, words: &[u64], family: Family, bits: u128) -> bool {
        if self.covered == 0 {
            return true;
        }
        let h = summary_hash(family, self.prefix, bits) >> (64 - self.bits);
        // A damaged offset reads as "may hold": the levels then decide.
        words
            .get(self.at + (h >> 6) as usize)
            .is_none_or(|w| w & (1 << (h & 63)) != 0)
    }
}

/// One network while the table is built.
struct Item {
    family: Family,
    len: u8,
    bits: u128,
    hash: u64,
    seq: u32,
    value: u64,
}

impl Table {
    /// Appends a table of `networks` to `out` and returns the word offset of
    /// its descriptor. Several values may share one network; they are kept
    /// in the order given.
    pub fn build(
        networks: impl IntoIterator<Item = (IpNetwork, u64)>,
        out: &mut Vec<u64>,
    ) -> Result<usize, PrefixSetError> {
        let networks = networks.into_iter();
        let mut items: Vec<Item> = Vec::with_capacity(networks.size_hint().0);
        for (seq, (net, value)) in networks.enumerate() {
            let seq = u32::try_from(seq).map_err(|_| PrefixSetError::TooMany(seq))?;
            let (family, len, bits) = normalize_net(&net);
            items.push(Item {
                family,
                len,
                bits,
                hash: hash_key(Width::of(family, len), bits),
                seq,
                value,
            });
        }
        // Families apart, longest prefixes first, then by hash (buckets are
        // runs), then by network; equal networks keep their input order.
        items.sort_unstable_by_key(|i| {
            (
                (i.family as u16) << 8 | u16::from(!i.len),
                i.hash,
                i.bits,
                i.seq,
            )
        });

        let values_at = out.len();
        out.extend(items.iter().map(|i| i.value));
        let n_values = items.len();

        let mut descs: [Vec<[u64; LEVEL_WORDS]>; 2] = [Vec::new(), Vec::new()];
        // (length, distinct networks, first item) of each level, per family.
        let mut sizes: [Vec<(u8, usize, usize)>; 2] = [Vec::new(), Vec::new()];
        let mut at = 0;
        while at < items.len() {
            let (family, len) = (items[at].family, items[at].len);
            let end = items[at..]
                .iter()
                .position(|i| (i.family, i.len) != (family, len))
                .map_or(items.len(), |p| at + p);
            let level = &items[at..end];
            let width = Width::of(family, len);

            // Distinct networks and where each one's values start.
            let mut keys: Vec<u128> = Vec::with_capacity(level.len());
            let mut hashes: Vec<u64> = Vec::with_capacity(level.len());
            let mut starts: Vec<u32> = Vec::with_capacity(level.len() + 1);
            for (k, i) in level.iter().enumerate() {
                if keys.last() != Some(&i.bits) || k == 0 {
                    keys.push(i.bits);
                    hashes.push(i.hash);
                    starts.push(k as u32);
                }
            }
            starts.push(level.len() as u32);
            let n = keys.len();
            let dir_bits = if n <= 1 { 0 } else { n.ilog2().min(30) };
            let mut dir = vec![0u64; (1 << dir_bits) + 1];
            for h in &hashes {
                dir[bucket(*h, dir_bits) + 1] += 1;
                dir[bucket(*h, dir_bits)] |= filter_bit(*h);
            }
            for j in 1..dir.len() {
                dir[j] += dir[j - 1] & START;
            }

            let keys_at = out.len();
            match width {
                Width::U32 => {
                    let v: Vec<u32> = keys.iter().map(|k| *k as u32).collect();
                    push_u32s(out, &v);
                }
                Width::U64 => out.extend(keys.iter().map(|k| (k >> 64) as u64)),
                Width::U128 => {
                    for k in &keys {
                        out.push((k >> 64) as u64);
                        out.push(*k as u64);
                    }
                }
            }
            let dir_at = out.len();
            out.extend_from_slice(&dir);
            let starts_at = if n == level.len() {
                NONE
            } else {
                let s = out.len();
                push_u32s(out, &starts);
                s as u64
            };
            sizes[family as usize].push((len, n, at));
            let m = mask(family, len);
            descs[family as usize].push([
                m as u64,
                (m >> 64) as u64,
                width.code(),
                u64::from(dir_bits),
                keys_at as u64,
                n as u64,
                dir_at as u64,
                starts_at,
                at as u64,
            ]);
            at = end;
        }

        let mut summaries = [[0u64; SUMMARY_WORDS]; 2];
        for (family, sizes) in [(Family::V4, &sizes[0]), (Family::V6, &sizes[1])] {
            let lens: Vec<(u8, usize)> = sizes.iter().map(|l| (l.0, l.1)).collect();
            let (prefix, covered) = summary_prefix(family, &lens);
            let nets: usize = lens[..covered].iter().map(|l| l.1).sum();
            let bits = (nets.max(1) * SUMMARY_BITS_PER_NET as usize)
                .next_power_of_two()
                .ilog2()
                .clamp(SUMMARY_MIN_BITS, SUMMARY_MAX_BITS);
            let mut map = vec![0u64; if covered == 0 { 0 } else { 1 << (bits - 6) }];
            let end = sizes.get(covered).map_or_else(
                || {
                    items
                        .iter()
                        .rposition(|i| i.family == family)
                        .map_or(0, |p| p + 1)
                },
                |l| l.2,
            );
            let start = sizes.first().map_or(end, |l| l.2);
            for i in &items[start..end] {
                let h = summary_hash(family, prefix, i.bits) >> (64 - bits);
                map[(h >> 6) as usize] |= 1 << (h & 63);
            }
            let at = out.len();
            out.extend_from_slice(&map);
            summaries[family as usize] = [
                u64::from(prefix) | (covered as u64) << 8,
                u64::from(bits),
                at as u64,
            ];
        }

        let desc_at = out.len();
        out.push(descs[0].len() as u64);
        out.push(descs[1].len() as u64);
        out.push(values_at as u64);
        out.push(n_values as u64);
        for d in descs.iter().flatten() {
            out.extend_from_slice(d);
        }
        for s in &summaries {
            out.extend_from_slice(s);
        }
        Ok(desc_at)
    }

    /// Locates the table whose descriptor is at word `at`, checking that
    /// every part of it lies inside `words` and that its directories are
    /// consistent.
    pub fn read(words: &[u64], at: usize) -> Result<Table, String> {
        let word = |i: usize| -> Result<u64, String> {
            at.checked_add(i)
                .and_then(|i| words.get(i).copied())
                .ok_or_else(|| format!("table descriptor at word {at} is cut short"))
        };
        let count = |w: u64| usize::try_from(w).map_err(|_| "count out of range".to_string());
        let n4 = count(word(0)?)?;
        let n6 = count(word(1)?)?;
        let values = count(word(2)?)?;
        let n_values = count(word(3)?)?;
        if n4 > 33 || n6 > 129 {
            return Err(format!("{n4} IPv4 and {n6} IPv6 levels"));
        }
        inside(words, values, n_values, "values")?;
        let mut levels = Vec::with_capacity(n4 + n6);
        let mut next_base = 0usize;
        for l in 0..n4 + n6 {
            let d = |i: usize| word(4 + l * LEVEL_WORDS + i);
            let width = Width::from_code(d(2)?).ok_or("bad key width")?;
            let dir_bits = u32::try_from(d(3)?).ok().filter(|b| *b <= 30);
            let dir_bits = dir_bits.ok_or("bad directory size")?;
            let level = Level {
                mask: u128::from(d(0)?) | u128::from(d(1)?) << 64,
                width,
                dir_bits,
                keys: count(d(4)?)?,
                n: count(d(5)?)?,
                dir: count(d(6)?)?,
                starts: match d(7)? {
                    NONE => None,
                    s => Some(count(s)?),
                },
                base: count(d(8)?)?,
            };
            inside(words, level.keys, width.words(level.n), "keys")?;
            let slots = (1usize << dir_bits) + 1;
            inside(words, level.dir, slots, "directory")?;
            let mut prev = 0;
            for j in 0..slots {
                let w = words.get(level.dir + j).ok_or("directory")?;
                let v = (w & START) as usize;
                if v < prev || (j == 0 && v != 0) || (j + 1 == slots && v != level.n) {
                    return Err("directory out of order".into());
                }
                prev = v;
            }
            let count_values = match level.starts {
                None => level.n,
                Some(s) => {
                    inside(
                        words,
                        s,
                        level.n.saturating_add(1).div_ceil(2),
                        "value starts",
                    )?;
                    let mut prev = 0;
                    for j in 0..=level.n {
                        let v = u32_at(words, s, j).ok_or("value starts")? as usize;
                        if v < prev || (j == 0 && v != 0) {
                            return Err("value starts out of order".into());
                        }
                        prev = v;
                    }
                    prev
                }
            };
            if level.base != next_base {
                return Err("levels do not cover the values in order".into());
            }
            next_base = level
                .base
                .checked_add(count_values)
                .filter(|b| *b <= n_values)
                .ok_or("level values out of range")?;
            levels.push(level);
        }
        if next_base != n_values {
            return Err("values not covered by the levels".into());
        }
        let v6 = levels.split_off(n4);
        let mut summaries = [Summary::default(); 2];
        for (f, (levels, width)) in [(&levels, 32u8), (&v6, 128)].into_iter().enumerate() {
            let d = |i: usize| word(4 + (n4 + n6) * LEVEL_WORDS + f * SUMMARY_WORDS + i);
            let (head, bits, at) = (d(0)?, d(1)?, count(d(2)?)?);
            let (prefix, covered) = ((head & 0xff) as u8, count(head >> 8)?);
            if covered == 0 {
                continue;
            }
            let bits = u32::try_from(bits)
                .ok()
                .filter(|b| (SUMMARY_MIN_BITS..=SUMMARY_MAX_BITS).contains(b))
                .ok_or("bad summary size")?;
            // Every covered level is at least `prefix` long (the bit of a
            // network is the bit of its addresses).
            let long = levels
                .get(..covered)
                .is_some_and(|l| l.iter().all(|l| l.mask.count_ones() >= u32::from(prefix)));
            if prefix == 0 || prefix > width || !long {
                return Err("bad summary".into());
            }
            inside(words, at, 1 << (bits - 6), "summary")?;
            summaries[f] = Summary {
                covered,
                prefix,
                bits,
                at,
            };
        }
        Ok(Table {
            v4: levels.into_boxed_slice(),
            v6: v6.into_boxed_slice(),
            summaries,
            values,
            n_values,
        })
    }

    /// Values of every network containing `addr`, most specific network
    /// first. Allocates nothing.
    pub fn matches<'a>(&'a self, words: &'a [u64], addr: IpAddr) -> Matches<'a> {
        let (family, bits) = normalize_addr(addr);
        let (levels, summary) = match family {
            Family::V4 => (&self.v4[..], &self.summaries[0]),
            Family::V6 => (&self.v6[..], &self.summaries[1]),
        };
        // No network of the covered (longest) levels holds the address:
        // only the shorter levels are left to look at.
        let levels = if summary.may_hold(words, family, bits) {
            levels
        } else {
            levels.get(summary.covered..).unwrap_or_default()
        };
        Matches {
            levels: levels.iter(),
            bits,
            run: 0..0,
            words,
            values: self.values,
        }
    }

    /// True when the summary alone says that no network of the table
    /// contains `addr` (every level of its family covered, its bit clear,
    /// or no level at all): what most lookups of a client on no list
    /// answer, without setting up [`Table::matches`]. False: look.
    #[inline]
    pub fn surely_misses(&self, words: &[u64], addr: IpAddr) -> bool {
        let (family, bits) = normalize_addr(addr);
        let (levels, summary) = match family {
            Family::V4 => (&self.v4[..], &self.summaries[0]),
            Family::V6 => (&self.v6[..], &self.summaries[1]),
        };
        levels.is_empty()
            || (summary.covered == levels.len() && !summary.may_hold(words, family, bits))
    }

    /// Every value, grouped by network (not in input order).
    pub fn values<'a>(&self, words: &'a [u64]) -> &'a [u64] {
        words
            .get(self.values..self.values + self.n_values)
            .unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.n_values
    }

    pub fn is_empty(&self) -> bool {
        self.n_values == 0
    }

    /// Distinct prefix lengths, i.e. buckets read per lookup (IPv4, IPv6).
    pub fn levels(&self) -> (usize, usize) {
        (self.v4.len(), self.v6.len())
    }
}

fn inside(words: &[u64], off: usize, len: usize, what: &str) -> Result<(), String> {
    match off.checked_add(len) {
        Some(end) if end <= words.len() => Ok(()),
        _ => Err(format!("{what} lie outside the image")),
    }
}

impl Level {
    /// The range of values (relative to the table's) of the network of this
    /// level containing `bits`.
    fn find(&self, words: &[u64], bits: u128) -> Option<std::ops::Range<usize>> {
        let masked = bits & self.mask;
        let h = hash_key(self.width, masked);
        let j = bucket(h, self.dir_bits);
        let slot = *words.get(self.dir + j)?;
        if slot & filter_bit(h) == 0 {
            return None;
        }
        let lo = (slot & START) as usize;
        let hi = (*words.get(self.dir + j + 1)? & START) as usize;
        let i = (lo..hi).find(|&i| match self.width {
            Width::U32 => u32_at(words, self.keys, i) == Some(masked as u32),
            Width::U64 => words.get(self.keys + i) == Some(&((masked >> 64) as u64)),
            Width::U128 => {
                words.get(self.keys + 2 * i) == Some(&((masked >> 64) as u64))
                    && words.get(self.keys + 2 * i + 1) == Some(&(masked as u64))
            }
        })?;
        let (start, end) = match self.starts {
            None => (i, i + 1),
            Some(s) => (
                u32_at(words, s, i)? as usize,
                u32_at(words, s, i + 1)? as usize,
            ),
        };
        Some(self.base + start..self.base + end)
    }
}

/// Iterator returned by [`Table::matches`].
pub struct Matches<'a> {
    levels: std::slice::Iter<'a, Level>,
    bits: u128,
    run: std::ops::Range<usize>,
    words: &'a [u64],
    values: usize,
}

impl Iterator for Matches<'_> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        loop {
            if let Some(i) = self.run.next() {
                if let Some(v) = self.words.get(self.values + i) {
                    return Some(*v);
                }
                continue;
            }
            let level = self.levels.next()?;
            if let Some(run) = level.find(self.words, self.bits) {
                self.run = run;
            }
        }
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

    struct Set {
        words: Vec<u64>,
        table: Table,
        names: Vec<String>,
    }

    impl Set {
        fn all(&self, addr: &str) -> Vec<String> {
            self.table
                .matches(&self.words, ip(addr))
                .map(|v| self.names[v as usize].clone())
                .collect()
        }

        fn contains(&self, addr: &str) -> bool {
            self.table.matches(&self.words, ip(addr)).next().is_some()
        }
    }

    fn set(nets: &[&str]) -> Set {
        let mut words = vec![0; 3];
        let at = Table::build(
            nets.iter().enumerate().map(|(i, s)| (net(s), i as u64)),
            &mut words,
        )
        .unwrap();
        let table = Table::read(&words, at).unwrap();
        Set {
            words,
            table,
            names: nets.iter().map(|s| s.to_string()).collect(),
        }
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
            s.all("10.1.2.3"),
            ["10.1.2.3/32", "10.1.2.0/24", "10.1.0.0/16", "10.0.0.0/8"]
        );
        assert_eq!(
            s.all("10.1.2.4"),
            ["10.1.2.0/24", "10.1.0.0/16", "10.0.0.0/8"]
        );
        assert_eq!(s.all("10.200.0.1"), ["10.0.0.0/8"]);
        assert!(s.all("12.0.0.1").is_empty());
        assert_eq!(s.table.levels(), (4, 0));
        assert_eq!(s.table.len(), 5);
    }

    #[test]
    fn host_bits_in_entries_are_ignored() {
        let s = set(&["192.0.2.77/24", "2001:db8::1/32"]);
        assert!(s.contains("192.0.2.1"));
        assert!(s.contains("2001:db8:ffff::9"));
        assert!(!s.contains("2001:db9::"));
    }

    #[test]
    fn ipv4_mapped_addresses_and_networks_are_ipv4() {
        let s = set(&["198.51.100.0/24", "::ffff:203.0.113.0/120", "::/0"]);
        assert_eq!(s.all("::ffff:198.51.100.9"), ["198.51.100.0/24"]);
        assert_eq!(s.all("203.0.113.5"), ["::ffff:203.0.113.0/120"]);
        // `::/0` means every IPv6 client, not IPv4 ones.
        assert!(s.all("192.0.2.1").is_empty());
        assert_eq!(s.all("2001:db8::1"), ["::/0"]);
        assert_eq!(s.table.levels(), (1, 1));
    }

    #[test]
    fn families_do_not_mix() {
        // 0.0.0.0/0 must not match IPv6; ::/96 (IPv4-compatible) is plain IPv6.
        let s = set(&["0.0.0.0/0", "::/96"]);
        assert_eq!(s.all("1.2.3.4"), ["0.0.0.0/0"]);
        assert_eq!(s.all("::1.2.3.4"), ["::/96"]);
        assert!(s.all("2001:db8::").is_empty());
    }

    #[test]
    fn shared_networks_keep_every_value_in_order() {
        let s = set(&["10.0.0.0/8", "10.9.9.9/8", "10.0.0.1/32", "10.1.0.0/16"]);
        assert_eq!(
            s.all("10.0.0.1"),
            ["10.0.0.1/32", "10.0.0.0/8", "10.9.9.9/8"]
        );
        assert_eq!(
            s.all("10.1.0.1"),
            ["10.1.0.0/16", "10.0.0.0/8", "10.9.9.9/8"]
        );
    }

    #[test]
    fn ipv6_prefixes_and_edges() {
        let s = set(&[
            "2001:db8:1::/48",
            "2001:db8:1:2::/64",
            "2001:db8:1:2::1/128",
            "::1/128",
        ]);
        assert_eq!(s.all("2001:db8:1:2::1").len(), 3);
        assert_eq!(
            s.all("2001:db8:1:2::2"),
            ["2001:db8:1:2::/64", "2001:db8:1::/48"]
        );
        assert_eq!(s.all("2001:db8:1:ffff::"), ["2001:db8:1::/48"]);
        assert_eq!(s.all("::1"), ["::1/128"]);
        assert!(s.all("2001:db8:2::").is_empty());
        let empty = set(&[]);
        assert!(empty.table.is_empty() && !empty.contains("::1"));
        assert!(Table::default().is_empty());
    }

    /// A damaged descriptor or directory is refused when read; damaged keys
    /// or values give wrong answers, never a panic.
    #[test]
    fn damaged_words_are_refused_or_harmless() {
        let s = set(&["10.0.0.0/8", "10.1.0.0/16", "2001:db8::/32", "10.1.0.0/16"]);
        let at = s.words.len() - (4 + 3 * LEVEL_WORDS + 2 * SUMMARY_WORDS);
        for i in 0..s.words.len() {
            for bad in [0, 1, u64::MAX, s.words[i] ^ 0x8000_0000] {
                let mut w = s.words.clone();
                w[i] = bad;
                if let Ok(t) = Table::read(&w, at) {
                    for a in ["10.1.2.3", "2001:db8::1", "11.0.0.1", "::"] {
                        let _ = t.matches(&w, ip(a)).count();
                    }
                }
            }
        }
        assert!(Table::read(&s.words[..at + 5], at).is_err());
        assert!(Table::read(&s.words, s.words.len()).is_err());
    }

    /// A list of long prefixes, as deny lists are (hosts and /24s, /64s and
    /// hosts): the summary answers most misses alone, and every answer is
    /// the brute-force one, inside the networks, next to them and far away.
    #[test]
    fn the_summary_answers_misses_alone_and_never_hides_a_network() {
        let mut x_rng = crate::testing::XorShift64::new(0x5eed_0f5a_3d00);
        let mut rnd = move || x_rng.next_u64();
        let mut nets: Vec<IpNetwork> = (0..4000)
            .map(|_| {
                let r = rnd();
                if r % 2 == 0 {
                    let a = std::net::Ipv4Addr::from(0x0a00_0000 | (r >> 40) as u32);
                    IpNetwork::new(IpAddr::V4(a), [32, 32, 32, 24][(r >> 8) as usize % 4]).unwrap()
                } else {
                    let hi = 0x2001_0db8_0000_0000u128 | u128::from(rnd() >> 32);
                    let a = std::net::Ipv6Addr::from(hi << 64 | u128::from(r));
                    IpNetwork::new(IpAddr::V6(a), [128, 64][(r >> 8) as usize % 2]).unwrap()
                }
            })
            .collect();
        // A few short networks stay outside the summary, and still match.
        nets.push(net("172.16.0.0/12"));
        nets.push(net("2001:db8::/32"));
        let mut words = Vec::new();
        let at = Table::build(
            nets.iter().enumerate().map(|(i, n)| (*n, i as u64)),
            &mut words,
        )
        .unwrap();
        let t = Table::read(&words, at).unwrap();
        assert_eq!((t.summaries[0].prefix, t.summaries[1].prefix), (24, 64));
        let (mut misses, mut answered) = (0, 0);
        for k in 0..6000 {
            let r = rnd();
            let n = nets[(r % nets.len() as u64) as usize];
            let probe = match k % 3 {
                0 => n.network(),
                1 => match n {
                    IpNetwork::V4(n) => IpAddr::V4((u32::from(n.network()) ^ 0x100).into()),
                    IpNetwork::V6(n) => IpAddr::V6((u128::from(n.network()) ^ 1 << 64).into()),
                },
                _ if r % 2 == 0 => IpAddr::V4(std::net::Ipv4Addr::from((r >> 32) as u32)),
                _ => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(rnd()) << 64 | 1)),
            };
            let mut got: Vec<usize> = t.matches(&words, probe).map(|v| v as usize).collect();
            let mut want: Vec<usize> = (0..nets.len())
                .filter(|&i| nets[i].contains(probe))
                .collect();
            got.sort_unstable();
            want.sort_unstable();
            assert_eq!(got, want, "{probe}");
            assert!(
                !t.surely_misses(&words, probe) || want.is_empty(),
                "{probe}"
            );
            let (family, bits) = normalize_addr(probe);
            let summary = &t.summaries[family as usize];
            let long_match = want.iter().any(|&i| nets[i].prefix() >= summary.prefix);
            if !long_match {
                misses += 1;
                answered += usize::from(!summary.may_hold(&words, family, bits));
            }
        }
        assert!(answered * 10 >= misses * 8, "{answered} of {misses}");
    }

    /// Every network of a large random set is found from an address inside it,
    /// against a brute-force check on a sample.
    #[test]
    fn agrees_with_brute_force() {
        let mut x_rng = crate::testing::XorShift64::new(0x1234_5678_9abc_def0);
        let mut rnd = move || x_rng.next_u64();
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
        let mut words = Vec::new();
        let at = Table::build(
            nets.iter().enumerate().map(|(i, n)| (*n, i as u64)),
            &mut words,
        )
        .unwrap();
        let t = Table::read(&words, at).unwrap();
        for _ in 0..2000 {
            let r = rnd();
            let probe = if r % 2 == 0 {
                IpAddr::V4(std::net::Ipv4Addr::from((r >> 32) as u32 & 0x0fff_ffff))
            } else {
                let n = nets[(r % nets.len() as u64) as usize];
                n.network()
            };
            let mut got: Vec<usize> = t.matches(&words, probe).map(|v| v as usize).collect();
            let mut want: Vec<usize> = (0..nets.len())
                .filter(|&i| nets[i].contains(probe))
                .collect();
            got.sort_unstable();
            want.sort_unstable();
            assert_eq!(got, want, "{probe}");
        }
    }
}
