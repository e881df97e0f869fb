//! A per-worker cache of field verdicts. The same User-Agent, Referer,
//! cookie, path or argument arrives thousands of times; each distinct
//! (checks, field) pair is normalised and scanned once, and the verdict (the
//! attack classes it carries, usually none) is reused.
//!
//! Direct-mapped: a field hashes (SipHash with a random key per process, so
//! nobody can aim a collision at a clean entry) to one slot holding the full
//! 64-bit hash, the field's length and the classes found. A collision only
//! costs a rescan. Only complete verdicts are stored: a field scanned after
//! a class was already found elsewhere in the request skips that class and is
//! not cached.

use std::hash::{BuildHasher, Hasher};

use super::{scan_input, Findings, Input, WINDOW};

/// Slots in the cache (a power of two); 16 bytes each, 64 KiB per worker.
pub const SLOTS: usize = 4096;
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
    slots: Box<[Slot]>,
    keys: std::collections::hash_map::RandomState,
    pub hits: u64,
    pub misses: u64,
}

impl Default for Verdicts {
    fn default() -> Self {
        Verdicts {
            slots: vec![Slot::default(); SLOTS].into_boxed_slice(),
            keys: std::collections::hash_map::RandomState::new(),
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
        let mut h = self.keys.build_hasher();
        h.write_u32(tag);
        h.write(field);
        let hash = h.finish();
        let len = field.len() as u32;
        let slot = self.slots[(hash as usize) & (SLOTS - 1)];
        if slot.mask & OCCUPIED != 0 && slot.hash == hash && slot.len == len {
            self.hits += 1;
            return Lookup::Hit(slot.mask as u16);
        }
        self.misses += 1;
        Lookup::Miss(Key { hash, len })
    }

    pub(super) fn store(&mut self, key: Key, mask: u16) {
        self.slots[(key.hash as usize) & (SLOTS - 1)] = Slot {
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
