//! A per-worker cache of field verdicts. The same User-Agent, Referer,
//! cookie, path or argument arrives thousands of times; each distinct
//! (checks, field) pair is normalised and scanned once, and the verdict (the
//! attack classes it carries, usually none, and the inspection budget its
//! scan used) is reused.
//!
//! Two levels, both per worker, in memory only:
//!
//! - **Exact** ([`Exact`], looked up first, for whole paths, whole query
//!   strings and header values): the field's bytes are kept next to the
//!   verdict and compared in full on a hit, so a hit *is* the same field and
//!   the index hash needs no key strength: rustc-hash's `FxHasher` (seeded
//!   per process; about 48 instructions a request fewer than XXH3 on
//!   `ci/bench.sh`'s mix, docs/performance.md) instead of SipHash, and no
//!   byte-class pass before it. Values aimed at one set can only evict its
//!   entries: those fields then take the hashed level (SipHash-keyed, so
//!   still a hit), bounded as any miss is. A field is admitted when
//!   the hashed level already knew it or on its second miss within a short
//!   memory (a one-word "doorkeeper" per index), so values seen once
//!   (per-client addresses, one-off queries) do not push the hot ones out.
//!   Bytes live in a ring arena, entries in 4-way sets; an entry whose
//!   bytes were overwritten is simply gone.
//! - **Hashed** ([`Verdicts::lookup`]): four-way set-associative, a field
//!   hashes (SipHash with a random key per process, so nobody can aim a
//!   collision at a clean entry) to a bucket of four slots (one 64-byte
//!   line), each holding a full 64-bit hash, the field's length and the
//!   verdict, most recently used first; a new verdict evicts the least
//!   recently used of the four. (Direct-mapped, a thousand product paths and
//!   their probe verdicts missed one lookup in four on conflicts alone.)
//!   Equal hash and length are taken as the same field: with the secret
//!   key, a chance of 2^-64 per pair that nobody outside can steer.
//!
//! Only complete verdicts are stored: a field scanned after a class was
//! already found elsewhere in the request skips that class and is not
//! cached, and nor is a scan cut short by the inspection budget. A hit
//! charges the budget what the scan cost, so a cached request is inspected
//! exactly as far as an uncached one (`tests::same_as_the_full_scan_*`).
//!
//! - **Per client** ([`PerClient`], for the User-Agent, the Cookie header,
//!   address headers such as `X-Forwarded-For`, the Referer and
//!   `X-Requested-With`): the values
//!   a client sends with every request (the Referer with every request of a
//!   page: its scripts, styles and API calls), kept under the client's address (the glue
//!   names the client, [`inspect_all_cached_for`]) as that client's last
//!   value of each kind with its verdict. A hit is an exact byte compare
//!   against one slot found from the address, with no hash of the value;
//!   a miss (another client in the slot, or another value) costs a compare
//!   or two, and a client is only given its slot on one request and has
//!   its values kept from the next on (a doorkeeper, as in the exact
//!   level: a client seen once costs no copy). A Cookie is per client, so the exact level cannot keep it
//!   (it pushed the hot paths out at 200,000 clients); here it only
//!   replaces the previous value of a client whose slot it is. The address
//!   picks the slot (with a per-process seed) and the bytes decide, so a
//!   client that shares or aims at a slot only evicts.
//!
//! Memory per worker: hashed 128 KiB, exact 48 KiB of entries, a 64 KiB
//! arena and 16 KiB of doorkeeper words, per client 696 KiB (1,024 slots
//! of 696 bytes), 952 KiB in all.

use std::hash::{BuildHasher, Hasher};

use super::{scan_input, Findings, Input, WINDOW};
use crate::detect::hash::same_bytes;

/// Slots in the hashed level (a power of two); 16 bytes each, 128 KiB.
pub const SLOTS: usize = 8192;
/// Slots per bucket (both levels).
const WAYS: usize = 4;
/// Fields longer than this are scanned every time.
pub const MAX_CACHED_LEN: usize = 1024;
/// Tag of the scanner-probe check on a whole path.
pub(super) const PROBE_TAG: u32 = 1 << 31;
/// Tag of a whole path: its own checks, its segments' and the probe check.
pub(super) const WHOLE_PATH_TAG: u32 = 1 << 30 | 1;
/// Tag of a whole query string, every argument in it.
pub(super) const WHOLE_QUERY_TAG: u32 = 1 << 30 | 2;
/// Tag of the scanner-identity check on a User-Agent.
pub(super) const IDENTITY_TAG: u32 = 1 << 30 | 3;
/// Tag of a User-Agent's scanner-identity check and header scan together.
pub(super) const USER_AGENT_TAG: u32 = 1 << 30 | 4;
/// Tag of a Referer's header scan and its query arguments together.
pub(super) const REFERER_TAG: u32 = 1 << 30 | 5;

/// What a field's scan found and what it cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Verdict {
    /// Bit per AttackClass found.
    pub mask: u16,
    /// Inspection budget the scan used (bytes normalised plus field costs).
    pub cost: u16,
}

/// Largest cost a verdict records (15 bits of a hashed slot).
const MAX_COST: usize = 0x7fff;

impl Verdict {
    /// `None` when the cost does not fit (such a scan is not cached).
    pub(super) fn new(mask: u16, cost: usize) -> Option<Verdict> {
        (cost <= MAX_COST).then_some(Verdict {
            mask,
            cost: cost as u16,
        })
    }
}

#[derive(Clone, Copy, Default)]
struct Slot {
    hash: u64,
    len: u32,
    /// The verdict's mask (bits 0..16), cost (16..31) and [`OCCUPIED`].
    word: u32,
}

const OCCUPIED: u32 = 1 << 31;

/// One cache line of slots.
#[derive(Clone, Copy, Default)]
#[repr(align(64))]
struct Bucket([Slot; WAYS]);

pub(super) enum Lookup {
    Hit(Verdict),
    /// Not cached; store the verdict under this key once computed.
    Miss(Key),
    TooLong,
}

pub(super) struct Key {
    hash: u64,
    len: u32,
}

/// Sets of the exact level, 4 ways each: 2,048 entries of 24 bytes.
const EXACT_SETS: usize = 512;
/// Bytes of the exact level's ring arena.
const ARENA: usize = 64 * 1024;
/// Longest field the exact level keeps.
pub(super) const MAX_EXACT_LEN: usize = 512;
/// Doorkeeper words (4 bytes each).
const DOORS: usize = 4096;

#[derive(Clone, Copy, Default)]
struct Entry {
    /// Where the field's bytes start, counted in bytes ever written to the
    /// arena (so an overwritten entry is recognised: see [`Exact::intact`]).
    pos: u64,
    check: u32,
    tag: u32,
    /// 0: empty.
    len: u16,
    verdict: Verdict,
}

/// The exact level (see the module header).
pub(super) struct Exact {
    sets: Box<[[Entry; WAYS]]>,
    arena: Box<[u8]>,
    /// Bytes ever written to the arena, padding included.
    head: u64,
    doors: Box<[u32]>,
    seed: u64,
    hits: u64,
}

pub(super) enum ExactLookup {
    Hit(Verdict),
    /// Not kept (`None`: empty or too long to be). Admit the verdict once
    /// computed if [`Admit::seen`] or if the hashed level knew the field.
    Miss(Option<Admit>),
}

pub(super) struct Admit {
    hash: u64,
    tag: u32,
    /// A second miss in a short while (the doorkeeper's word matched).
    pub seen: bool,
}

impl Exact {
    fn new(seed: u64) -> Self {
        Exact {
            sets: vec![[Entry::default(); WAYS]; EXACT_SETS].into_boxed_slice(),
            arena: vec![0; ARENA].into_boxed_slice(),
            head: 0,
            doors: vec![0; DOORS].into_boxed_slice(),
            seed,
            hits: 0,
        }
    }

    fn intact(&self, e: &Entry) -> bool {
        e.len != 0 && self.head - e.pos <= ARENA as u64
    }

    fn bytes(&self, e: &Entry) -> &[u8] {
        let at = (e.pos % ARENA as u64) as usize;
        &self.arena[at..at + usize::from(e.len)]
    }

    #[inline(always)]
    fn matches(&self, e: &Entry, hash: u64, tag: u32, field: &[u8]) -> bool {
        e.check == (hash >> 32) as u32
            && e.tag == tag
            && usize::from(e.len) == field.len()
            && self.intact(e)
            && same_bytes(self.bytes(e), field)
    }

    #[inline(always)]
    pub(super) fn lookup(&mut self, tag: u32, field: &[u8]) -> ExactLookup {
        if field.is_empty() || field.len() > MAX_EXACT_LEN {
            return ExactLookup::Miss(None);
        }
        let mut h = rustc_hash::FxHasher::with_seed(self.seed as usize);
        h.write(field);
        let hash = h.finish() ^ u64::from(tag).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let set = hash as usize & (EXACT_SETS - 1);
        // Most hits are on the most recently used way.
        let front = &self.sets[set][0];
        if self.matches(front, hash, tag, field) {
            self.hits += 1;
            return ExactLookup::Hit(front.verdict);
        }
        self.lookup_rest(set, hash, tag, field)
    }

    /// [`Exact::lookup`] past the first way.
    #[inline(never)]
    fn lookup_rest(&mut self, set: usize, hash: u64, tag: u32, field: &[u8]) -> ExactLookup {
        let found = (1..WAYS).find(|&w| self.matches(&self.sets[set][w], hash, tag, field));
        if let Some(way) = found {
            let ways = &mut self.sets[set];
            let verdict = ways[way].verdict;
            ways[..=way].rotate_right(1);
            self.hits += 1;
            return ExactLookup::Hit(verdict);
        }
        // Admitted on a second miss: a field seen once is not kept.
        let door = &mut self.doors[(hash >> 20) as usize & (DOORS - 1)];
        let word = hash as u32 | 1;
        let seen = *door == word;
        *door = if seen { 0 } else { word };
        ExactLookup::Miss(Some(Admit { hash, tag, seen }))
    }

    /// Keeps `field`'s verdict (the field `admit` was given for).
    pub(super) fn admit(&mut self, admit: Admit, field: &[u8], verdict: Verdict) {
        let len = field.len();
        let mut at = (self.head % ARENA as u64) as usize;
        if at + len > ARENA {
            self.head += (ARENA - at) as u64;
            at = 0;
        }
        self.arena[at..at + len].copy_from_slice(field);
        let entry = Entry {
            pos: self.head,
            check: (admit.hash >> 32) as u32,
            tag: admit.tag,
            len: len as u16,
            verdict,
        };
        self.head += len as u64;
        let ways = &mut self.sets[admit.hash as usize & (EXACT_SETS - 1)];
        ways.rotate_right(1);
        ways[0] = entry;
    }
}

/// Slots of the per-client level (a power of two).
const CLIENT_SLOTS: usize = 1024;
/// Bytes a per-client slot keeps: a User-Agent, a Cookie header, an
/// address header, a Referer and an `X-Requested-With` of up to
/// [`ClientField::span`]'s length each.
const CLIENT_BYTES: usize = 656;

/// The values the per-client level keeps, one of each per client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ClientField {
    UserAgent,
    Cookie,
    /// `X-Forwarded-For`, `X-Real-IP`, `Origin` (one value: a client that
    /// sends two of them keeps the last).
    Address,
    /// The page a client's requests come from: the same for the page's
    /// scripts, styles, images and API calls.
    Referer,
    /// `X-Requested-With`: the same token (`XMLHttpRequest`, an app's
    /// package name) on every API call of a page's scripts or of an app.
    /// Shorter than the exact level's minimum, it was classified byte by
    /// byte on every request (about 160 instructions).
    RequestedWith,
}

impl ClientField {
    /// Where the value lives in a slot's bytes, and its longest length.
    const fn span(self) -> (usize, usize) {
        match self {
            ClientField::UserAgent => (0, 192),
            ClientField::Cookie => (192, 192),
            ClientField::Address => (384, 48),
            ClientField::Referer => (432, 192),
            ClientField::RequestedWith => (624, 32),
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

// The spans tile the slot's bytes, in order.
const _: () = {
    let (ua, cookie, addr, referer, requested) = (
        ClientField::UserAgent.span(),
        ClientField::Cookie.span(),
        ClientField::Address.span(),
        ClientField::Referer.span(),
        ClientField::RequestedWith.span(),
    );
    assert!(ua.0 == 0 && cookie.0 == ua.0 + ua.1 && addr.0 == cookie.0 + cookie.1);
    assert!(referer.0 == addr.0 + addr.1 && requested.0 == referer.0 + referer.1);
    assert!(requested.0 + requested.1 == CLIENT_BYTES);
};

#[derive(Clone, Copy, Default)]
struct Kept {
    /// 0: nothing kept.
    len: u16,
    verdict: Verdict,
}

#[derive(Clone, Copy)]
struct ClientSlot {
    /// The client's seeded hash (0: empty).
    client: u64,
    kept: [Kept; CLIENT_FIELDS],
    bytes: [u8; CLIENT_BYTES],
}

/// Kinds of [`ClientField`].
const CLIENT_FIELDS: usize = 5;

const _: () = assert!(std::mem::size_of::<ClientSlot>() == 696);

/// The per-client level (see the module header).
pub(super) struct PerClient {
    slots: Box<[ClientSlot]>,
    seed: u64,
    /// This scan's slot and client, when the caller named one and the
    /// slot was already the client's (see [`PerClient::begin`]).
    current: Option<(usize, u64)>,
    hits: u64,
}

impl PerClient {
    fn new(seed: u64) -> Self {
        let empty = ClientSlot {
            client: 0,
            kept: [Kept::default(); CLIENT_FIELDS],
            bytes: [0; CLIENT_BYTES],
        };
        PerClient {
            slots: vec![empty; CLIENT_SLOTS].into_boxed_slice(),
            seed,
            current: None,
            hits: 0,
        }
    }

    /// The next scan is `client`'s (`None`: no client, the level is off).
    /// A client whose slot is not yet its own only claims it: its values
    /// are kept from its next request on, so a client seen once (most of
    /// them at 200,000 clients) costs no copy, only this word.
    fn begin(&mut self, client: Option<u128>) {
        self.current = None;
        let Some(c) = client else {
            return;
        };
        let mut h = rustc_hash::FxHasher::with_seed(self.seed as usize);
        h.write_u128(c);
        let h = h.finish();
        // FxHasher's high bits are its best mixed.
        let (i, id) = ((h >> 32) as usize & (CLIENT_SLOTS - 1), h | 1);
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        if slot.client == id {
            self.current = Some((i, id));
        } else {
            slot.client = id;
            slot.kept = [Kept::default(); CLIENT_FIELDS];
        }
    }

    /// The client's verdict for `raw`, when `raw` is the value of this
    /// kind the client sent last.
    /// (`current` names a slot only while it is the client's: only
    /// [`PerClient::begin`] gives a slot to another client, and it clears
    /// `current` first, so the slot's owner is not compared again here.)
    #[inline(always)]
    pub(super) fn lookup(&mut self, field: ClientField, raw: &[u8]) -> Option<Verdict> {
        let (i, _) = self.current?;
        let slot = self.slots.get(i)?;
        let kept = slot.kept[field.index()];
        if kept.len == 0 || usize::from(kept.len) != raw.len() {
            return None;
        }
        let (at, _) = field.span();
        if !same_bytes(slot.bytes.get(at..at + raw.len())?, raw) {
            return None;
        }
        self.hits += 1;
        Some(kept.verdict)
    }

    /// Keeps `raw`'s verdict as the client's value of this kind (nothing
    /// when no client is named or the value is too long to keep).
    pub(super) fn keep(&mut self, field: ClientField, raw: &[u8], verdict: Verdict) {
        let Some((i, client)) = self.current else {
            return;
        };
        let (at, cap) = field.span();
        if raw.is_empty() || raw.len() > cap {
            return;
        }
        let Some(slot) = self.slots.get_mut(i).filter(|s| s.client == client) else {
            return;
        };
        slot.bytes[at..at + raw.len()].copy_from_slice(raw);
        slot.kept[field.index()] = Kept {
            len: raw.len() as u16,
            verdict,
        };
    }
}

/// The verdicts, keyed by checks and field bytes.
pub struct Verdicts {
    pub(super) exact: Exact,
    pub(super) per_client: PerClient,
    buckets: Box<[Bucket]>,
    keys: std::collections::hash_map::RandomState,
    /// The field hashed last in this scan (address, length, hash): a path is
    /// looked up for its own checks and for the probe check.
    last: Option<(usize, usize, u64)>,
    /// Lookups of the hashed level.
    pub hits: u64,
    pub misses: u64,
}

impl Default for Verdicts {
    fn default() -> Self {
        let keys = std::collections::hash_map::RandomState::new();
        Verdicts {
            exact: Exact::new(keys.hash_one(0x5eed_u64)),
            per_client: PerClient::new(keys.hash_one(0xc11e_u64)),
            buckets: vec![Bucket::default(); SLOTS / WAYS].into_boxed_slice(),
            keys,
            last: None,
            hits: 0,
            misses: 0,
        }
    }
}

impl Verdicts {
    /// Hits of the exact level.
    pub fn exact_hits(&self) -> u64 {
        self.exact.hits
    }

    /// Hits of the per-client level.
    pub fn client_hits(&self) -> u64 {
        self.per_client.hits
    }

    pub(super) fn lookup(&mut self, tag: u32, field: &[u8]) -> Lookup {
        if field.len() > MAX_CACHED_LEN {
            return Lookup::TooLong;
        }
        let at = field.as_ptr() as usize;
        let hash = match self.last {
            Some((a, n, h)) if a == at && n == field.len() => h,
            _ => {
                let mut h = self.keys.build_hasher();
                h.write(field);
                let h = h.finish();
                self.last = Some((at, field.len(), h));
                h
            }
        };
        // The field's keyed hash, made distinct per tag by an odd multiple
        // (a bijection): equal keys need equal fields, as before.
        let hash = hash ^ u64::from(tag).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let len = field.len() as u32;
        let bucket = self.bucket(hash);
        if let Some(way) = bucket
            .iter()
            .position(|s| s.word & OCCUPIED != 0 && s.hash == hash && s.len == len)
        {
            let slot = bucket[way];
            // Most recently used first.
            bucket[..=way].rotate_right(1);
            self.hits += 1;
            return Lookup::Hit(Verdict {
                mask: slot.word as u16,
                cost: ((slot.word >> 16) & MAX_COST as u32) as u16,
            });
        }
        self.misses += 1;
        Lookup::Miss(Key { hash, len })
    }

    fn bucket(&mut self, hash: u64) -> &mut [Slot; WAYS] {
        &mut self.buckets[(hash as usize) & (SLOTS / WAYS - 1)].0
    }

    pub(super) fn store(&mut self, key: Key, verdict: Verdict) {
        let bucket = self.bucket(key.hash);
        bucket.rotate_right(1);
        bucket[0] = Slot {
            hash: key.hash,
            len: key.len,
            word: u32::from(verdict.mask) | u32::from(verdict.cost) << 16 | OCCUPIED,
        };
    }
}

/// What a worker keeps between requests: the verdicts and the scratch
/// buffer (no 4 KiB clearing per request).
pub struct ScanCache {
    pub verdicts: Verdicts,
    buf: Box<[u8; WINDOW]>,
}

impl Default for ScanCache {
    fn default() -> Self {
        ScanCache {
            verdicts: Verdicts::default(),
            buf: Box::new([0; WINDOW]),
        }
    }
}

/// [`super::inspect_all`] with the verdicts of fields seen before reused.
pub fn inspect_all_cached(input: &Input, cache: &mut ScanCache) -> Findings {
    cache.verdicts.per_client.begin(None);
    scan(input, cache)
}

/// [`inspect_all_cached`] for a request from `client` (its address, as
/// a number): the per-client level keeps its User-Agent, Cookie and
/// address header verdicts too.
pub fn inspect_all_cached_for(input: &Input, cache: &mut ScanCache, client: u128) -> Findings {
    cache.verdicts.per_client.begin(Some(client));
    scan(input, cache)
}

fn scan(input: &Input, cache: &mut ScanCache) -> Findings {
    // An address names the same bytes only within one request.
    cache.verdicts.last = None;
    scan_input(input, &mut cache.buf, Some(&mut cache.verdicts))
}

#[cfg(test)]
mod tests {
    use super::super::{inspect_all, Location};
    use super::*;

    const UA: &[u8] = b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

    #[test]
    fn same_verdicts_as_the_full_scan() {
        let mut cache = ScanCache::default();
        type Case<'a> = (&'a [u8], &'a [(&'a [u8], &'a [u8])]);
        let cases: [Case; 5] = [
            (
                b"/api/items/7?q=red+shoes&sort=price",
                &[
                    (b"user-agent", UA),
                    (b"referer", b"https://shop.example/p/1"),
                ],
            ),
            (
                b"/api/x?q=1",
                &[(b"user-agent", b"() { :; }; /bin/bash -c id")],
            ),
            (
                b"/api/x?id=1%27%20or%201=1--",
                &[(b"cookie", b"sid=abc; pref=' or 1=1--")],
            ),
            (
                b"/.git/config",
                &[
                    (b"content-type", b"application/json"),
                    (b"x-forwarded-host", b"a.example"),
                ],
            ),
            (
                b"/search?q=%3Cscript%3Ealert(1)%3C/script%3E",
                &[(b"user-agent", UA)],
            ),
        ];
        for _ in 0..3 {
            for (target, h) in cases {
                let input = Input {
                    target,
                    headers: h,
                    body: Some(br#"{"a":{"$ne":null}}"#),
                };
                let (a, b) = (inspect_all_cached(&input, &mut cache), inspect_all(&input));
                assert_eq!(a.mask, b.mask, "{}", String::from_utf8_lossy(target));
                assert_eq!(a.strongest(), b.strongest());
            }
        }
        assert!(
            cache.verdicts.hits >= 10,
            "repeated fields come from the cache: {}",
            cache.verdicts.hits
        );
    }

    #[test]
    fn location_is_kept_on_a_hit() {
        let mut cache = ScanCache::default();
        let h: [(&[u8], &[u8]); 1] = [(b"cookie", b"x=<script>alert(1)</script>")];
        for _ in 0..2 {
            let f = inspect_all_cached(
                &Input {
                    target: b"/",
                    headers: &h,
                    body: None,
                },
                &mut cache,
            );
            assert_eq!(f.strongest().map(|f| f.location), Some(Location::Cookie));
        }
    }
    /// The corpus's attack and benign strings, with their raw separators.
    fn corpus() -> Vec<Vec<u8>> {
        crate::signatures::prefilter::tests::corpus_lines()
    }

    /// An owned request: target and headers.
    type Req = (Vec<u8>, Vec<(&'static [u8], Vec<u8>)>);

    /// `s` placed where each cached level and shortcut sees it: the path,
    /// a query string, header values (exact level), a cookie.
    fn shapes(s: &[u8], clean: &[u8]) -> Vec<Req> {
        let cat = |a: &[u8], b: &[u8]| [a, b].concat();
        let h = |v: &[u8]| -> Vec<(&'static [u8], Vec<u8>)> {
            vec![
                (b"user-agent", UA.to_vec()),
                (b"referer", v.to_vec()),
                (b"x-client-data", cat(b"v=1;", v)),
            ]
        };
        vec![
            (cat(b"/p/", s), h(clean)),
            (cat(b"/api/items?q=", s), h(clean)),
            (cat(b"/api/items?", s), h(clean)),
            (clean.to_vec(), h(s)),
            (cat(b"/", clean), vec![(b"cookie", cat(b"a=", s))]),
            (cat(s, b"?page=2"), vec![(b"user-agent", s.to_vec())]),
        ]
    }

    /// Every request through one cache, three times in a row and the
    /// whole list twice (so fields pass the exact level's doorkeeper and
    /// hit), against the scan without a cache: the same classes at the same
    /// locations.
    fn check_same(reqs: &[Req], cache: &mut ScanCache) {
        check_same_as(reqs, cache, |_| None);
    }

    /// [`check_same`] with the request at `i` from `client(i)` (`None`:
    /// no client named, as [`inspect_all_cached`]).
    fn check_same_as(reqs: &[Req], cache: &mut ScanCache, client: impl Fn(usize) -> Option<u128>) {
        for round in 0..2 {
            for (i, (target, headers)) in reqs.iter().enumerate() {
                let h: Vec<(&[u8], &[u8])> =
                    headers.iter().map(|(n, v)| (*n, v.as_slice())).collect();
                let input = Input {
                    target,
                    headers: &h,
                    body: None,
                };
                let full = inspect_all(&input);
                for _ in 0..3 {
                    let cached = match client(i) {
                        Some(c) => inspect_all_cached_for(&input, cache, c),
                        None => inspect_all_cached(&input, cache),
                    };
                    assert_eq!(
                        cached,
                        full,
                        "round {round}: {:?} {:?}",
                        String::from_utf8_lossy(target),
                        h.iter()
                            .map(|(_, v)| String::from_utf8_lossy(&v[..v.len().min(60)]))
                            .collect::<Vec<_>>()
                    );
                }
            }
        }
    }

    /// A scanner's User-Agent is found on every request through the
    /// exact level, first seen, admitted and hit; a browser's is not, and a
    /// scanner name after a cached browser prefix is its own value.
    #[test]
    fn scanner_identity_through_the_exact_level() {
        let mut cache = ScanCache::default();
        let browser: &[u8] =
            b"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
        let tool: &[u8] = b"sqlmap/1.7.4#stable (https://sqlmap.org)";
        let spoof = [browser, b" Nikto/2.1.6"].concat();
        let reqs: Vec<Req> = [browser, tool, &spoof]
            .iter()
            .map(|ua| {
                (
                    b"/api/items?page=2".to_vec(),
                    vec![(&b"user-agent"[..], ua.to_vec())],
                )
            })
            .collect();
        check_same(&reqs, &mut cache);
        let before = cache.verdicts.exact_hits();
        for _ in 0..3 {
            for (ua, named) in [(browser, false), (tool, true), (&spoof[..], true)] {
                let input = Input {
                    target: b"/api/items?page=2",
                    headers: &[(b"user-agent", ua)],
                    body: None,
                };
                let found = inspect_all_cached(&input, &mut cache);
                assert_eq!(
                    found.contains(crate::model::AttackClass::ScannerProbe),
                    named
                );
            }
        }
        assert!(cache.verdicts.exact_hits() >= before + 9, "hits");
    }

    /// The per-client level on the corpus: each attack and clean string
    /// as a User-Agent, a Cookie, an `X-Forwarded-For` value and a Referer, the
    /// requests shared out among a few clients (so a client's values
    /// change from clean to attack and back, and clients share slots),
    /// through the other levels too; the same findings as without a cache.
    #[test]
    fn per_client_same_as_the_full_scan_on_the_corpus() {
        let lines = corpus();
        let mut reqs: Vec<Req> = Vec::new();
        for (i, s) in lines.iter().enumerate() {
            let clean = &lines[(i * 7 + 3) % lines.len()];
            let page: &[u8] = b"https://shop.example/";
            let ip: &[u8] = b"203.0.113.9";
            let sid: &[u8] = b"sid=e6b0189c46772c0a; theme=light";
            let xhr: &[u8] = b"XMLHttpRequest";
            for (ua, cookie, xff, referer, requested) in [
                (s.as_slice(), clean.as_slice(), ip, page, xhr),
                (UA, s.as_slice(), ip, page, xhr),
                (UA, clean.as_slice(), s.as_slice(), page, xhr),
                (UA, sid, ip, s.as_slice(), xhr),
                (UA, sid, ip, page, s.as_slice()),
                (UA, sid, ip, page, xhr),
            ] {
                reqs.push((
                    b"/api/v1/products/7.json?page=2".to_vec(),
                    vec![
                        (b"user-agent", ua.to_vec()),
                        (b"referer", referer.to_vec()),
                        (b"cookie", cookie.to_vec()),
                        (b"x-forwarded-for", xff.to_vec()),
                        (b"x-requested-with", requested.to_vec()),
                    ],
                ));
            }
        }
        for clients in [1u128, 3, 5000] {
            let mut cache = ScanCache::default();
            check_same_as(&reqs, &mut cache, |i| Some(i as u128 % clients));
            assert!(
                cache.verdicts.client_hits() > 1_000,
                "{clients} clients: the per-client level answers: {} hits",
                cache.verdicts.client_hits()
            );
        }
    }

    /// A client's value seen clean, then an attack in the same place and
    /// of the same length: found, whatever the level kept.
    #[test]
    fn per_client_value_changed_is_scanned() {
        let mut cache = ScanCache::default();
        let clean: &[u8] = b"sid=e6b0189c46772c0a; theme=light";
        let attack: &[u8] = b"sid=e6b0189c4' or 1=1--heme=light";
        assert_eq!(clean.len(), attack.len());
        let sequence = [
            (clean, false),
            (clean, false),
            (clean, false),
            (attack, true),
            (clean, false),
            (clean, false),
        ];
        for (cookie, found) in sequence {
            let h: [(&[u8], &[u8]); 2] = [(b"user-agent", UA), (b"cookie", cookie)];
            let input = Input {
                target: b"/api/items?page=2",
                headers: &h,
                body: None,
            };
            let f = inspect_all_cached_for(&input, &mut cache, 7);
            assert_eq!(
                f.contains(crate::model::AttackClass::Sqli),
                found,
                "{cookie:?}"
            );
            if found {
                assert_eq!(f.strongest().map(|f| f.location), Some(Location::Cookie));
            }
        }
        // The first request claims the slot, the second keeps its values,
        // the third hits both; then the User-Agent hits on every request
        // and the cookie again once kept anew.
        assert!(
            cache.verdicts.client_hits() >= 5,
            "{}",
            cache.verdicts.client_hits()
        );
    }

    #[test]
    fn same_as_the_full_scan_on_the_corpus() {
        let mut cache = ScanCache::default();
        let lines = corpus();
        let mut reqs = Vec::new();
        for (i, s) in lines.iter().enumerate() {
            // A clean neighbour from elsewhere in the corpus keeps the
            // cached parts mixed with attacks.
            let clean = &lines[(i * 7 + 3) % lines.len()];
            reqs.extend(shapes(s, clean));
        }
        check_same(&reqs, &mut cache);
        assert!(
            cache.verdicts.exact_hits() > 10_000,
            "the exact level answers: {} hits",
            cache.verdicts.exact_hits()
        );
    }

    /// Random strings from the bytes detectors care about (seeded), and
    /// requests long enough to run out of inspection budget: a hit charges
    /// what the scan cost, so later fields are inspected exactly as far.
    #[test]
    fn same_as_the_full_scan_on_random_and_long_requests() {
        const ALPHABET: &[u8] = b"%&#;:/\\.'\"`<>=()[]{}$|*-+!?@ \r\n\tsleporiund0123456789abcxyz";
        let mut state_rng = crate::testing::XorShift64::new(0x0bad_5eed_1234_5678);
        let mut next = move |n: usize| state_rng.below(n);
        let mut reqs = Vec::new();
        for _ in 0..1500 {
            let len = 1 + next(120);
            let s: Vec<u8> = (0..len).map(|_| ALPHABET[next(ALPHABET.len())]).collect();
            reqs.extend(shapes(&s, b"/api/v1/products/17.json"));
        }
        // Budget: dozens of cacheable header values of about 500 bytes
        // with scannable bytes, then a payload the budget may not reach.
        for n in [30usize, 34, 36, 40] {
            let filler = b"a b(c) ".repeat(60 + n);
            let mut headers: Vec<(&'static [u8], Vec<u8>)> = (0..n)
                .map(|i| {
                    (
                        b"x-note" as &'static [u8],
                        [&filler[..], &[b'0' + i as u8]].concat(),
                    )
                })
                .collect();
            headers.push((b"x-last", b"1' or '1'='1".to_vec()));
            reqs.push((b"/a/b?page=2".to_vec(), headers));
        }
        let mut cache = ScanCache::default();
        check_same(&reqs, &mut cache);
        // The same through the per-client level, a few clients sharing
        // the requests (budget-limited ones included).
        check_same_as(&reqs, &mut cache, |i| Some(i as u128 % 7));
        // Far more distinct values than the arena holds: overwritten entries
        // must drop out, never answer for other bytes.
        let mut wide = Vec::new();
        for i in 0..6000u32 {
            let v = format!("Mozilla/5.0 (client {i}; x{}) Gecko/20100101", i * 7919);
            let q = format!("/api/v1/items/{i}?sort=name&q={}", i % 97);
            wide.push((
                q.into_bytes(),
                vec![(b"user-agent" as &'static [u8], v.into_bytes())],
            ));
        }
        check_same(&wide, &mut cache);
        assert!(
            cache.verdicts.exact.head > 4 * ARENA as u64,
            "the arena wrapped"
        );
    }
}
