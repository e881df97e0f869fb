//! A per-worker cache of field verdicts. The same User-Agent, Referer,
//! cookie, path or argument arrives thousands of times; each distinct
//! (checks, field) pair is normalised and scanned once, and the verdict (the
//! attack classes it carries, usually none) is reused.
//!
//! Four-way set-associative: a field hashes (SipHash with a random key per
//! process, so nobody can aim a collision at a clean entry) to a bucket of
//! four slots (one 64-byte line), each holding a full 64-bit hash, the
//! field's length and the classes found, most recently used first; a new
//! verdict evicts the least recently used of the four. (Direct-mapped, a
//! thousand product paths and their probe verdicts missed one lookup in
//! four on conflicts alone.) A collision only costs a rescan. Only complete verdicts are stored: a field scanned after
//! a class was already found elsewhere in the request skips that class and is
//! not cached.

use std::hash::{BuildHasher, Hasher};

use super::{scan_input, Findings, Input, WINDOW};

/// Slots in the cache (a power of two); 16 bytes each, 128 KiB per worker.
pub const SLOTS: usize = 8192;
/// Slots per bucket.
const WAYS: usize = 4;
/// Fields longer than this are scanned every time.
pub const MAX_CACHED_LEN: usize = 1024;
/// Tag of the scanner-probe check on a whole path.
pub(super) const PROBE_TAG: u32 = 1 << 31;

#[derive(Clone, Copy, Default)]
struct Slot {
    hash: u64,
    len: u32,
    /// Bit per AttackClass found, plus [`OCCUPIED`].
    mask: u32,
}

const OCCUPIED: u32 = 1 << 31;

/// One cache line of slots.
#[derive(Clone, Copy, Default)]
#[repr(align(64))]
struct Bucket([Slot; WAYS]);

pub(super) enum Lookup {
    Hit(u16),
    /// Not cached; store the verdict under this key once computed.
    Miss(Key),
    TooLong,
}

pub(super) struct Key {
    hash: u64,
    len: u32,
}

/// The verdicts, keyed by checks and field bytes.
pub struct Verdicts {
    buckets: Box<[Bucket]>,
    keys: std::collections::hash_map::RandomState,
    /// The field hashed last in this scan (address, length, hash): a path is
    /// looked up for its own checks and for the probe check.
    last: Option<(usize, usize, u64)>,
    pub hits: u64,
    pub misses: u64,
}

impl Default for Verdicts {
    fn default() -> Self {
        Verdicts {
            buckets: vec![Bucket::default(); SLOTS / WAYS].into_boxed_slice(),
            keys: std::collections::hash_map::RandomState::new(),
            last: None,
            hits: 0,
            misses: 0,
        }
    }
}

impl Verdicts {
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
            .position(|s| s.mask & OCCUPIED != 0 && s.hash == hash && s.len == len)
        {
            let slot = bucket[way];
            // Most recently used first.
            bucket[..=way].rotate_right(1);
            self.hits += 1;
            return Lookup::Hit(slot.mask as u16);
        }
        self.misses += 1;
        Lookup::Miss(Key { hash, len })
    }

    fn bucket(&mut self, hash: u64) -> &mut [Slot; WAYS] {
        &mut self.buckets[(hash as usize) & (SLOTS / WAYS - 1)].0
    }

    pub(super) fn store(&mut self, key: Key, mask: u16) {
        let bucket = self.bucket(key.hash);
        bucket.rotate_right(1);
        bucket[0] = Slot {
            hash: key.hash,
            len: key.len,
            mask: u32::from(mask) | OCCUPIED,
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
}
