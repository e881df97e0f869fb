//! A per-worker cache of header verdicts. The same User-Agent, Referer or
//! cookie arrives thousands of times; scanning it once per distinct value
//! takes the headers off the per-request bill.
//!
//! Direct-mapped: a value hashes (keyed SipHash, a random key per process, so
//! nobody can aim a collision at a clean entry) to one slot holding the full
//! hash, the length and the classes found. A collision just rescans.

use std::hash::{BuildHasher, Hasher};

use super::{inspect_all, Findings, Input, Location};
use crate::model::AttackClass;

/// Slots in the cache (a power of two); 24 bytes each.
pub const SLOTS: usize = 4096;
/// Values longer than this are scanned every time (and are rare).
pub const MAX_CACHED_LEN: usize = 2048;

#[derive(Clone, Copy, Default)]
struct Slot {
    hash: u64,
    len: u32,
    /// Bit per AttackClass found, plus bit 15 = occupied.
    mask: u16,
}

const OCCUPIED: u16 = 1 << 15;

pub struct HeaderCache {
    slots: Box<[Slot]>,
    keys: std::collections::hash_map::RandomState,
    pub hits: u64,
    pub misses: u64,
}

impl Default for HeaderCache {
    fn default() -> Self {
        HeaderCache {
            slots: vec![Slot::default(); SLOTS].into_boxed_slice(),
            keys: std::collections::hash_map::RandomState::new(),
            hits: 0,
            misses: 0,
        }
    }
}

impl HeaderCache {
    /// Classes found in one header, from the cache or by scanning it.
    fn header(&mut self, name: &[u8], value: &[u8]) -> u16 {
        if value.len() > MAX_CACHED_LEN {
            return scan_header(name, value);
        }
        let mut h = self.keys.build_hasher();
        h.write(name);
        h.write_u8(0);
        h.write(value);
        let hash = h.finish();
        let idx = (hash as usize) & (SLOTS - 1);
        let slot = self.slots[idx];
        if slot.mask & OCCUPIED != 0 && slot.hash == hash && slot.len as usize == value.len() {
            self.hits += 1;
            return slot.mask & !OCCUPIED;
        }
        self.misses += 1;
        let mask = scan_header(name, value);
        self.slots[idx] = Slot {
            hash,
            len: value.len() as u32,
            mask: mask | OCCUPIED,
        };
        mask
    }
}

fn scan_header(name: &[u8], value: &[u8]) -> u16 {
    let h = [(name, value)];
    inspect_all(&Input {
        target: b"",
        headers: &h,
        body: None,
    })
    .mask
}

/// Like [`super::inspect_all`], with input-carrying headers (all but
/// `content-type`, which steers the body parser) answered from `cache`.
pub fn inspect_all_cached(input: &Input, cache: &mut HeaderCache) -> Findings {
    let mut rest: [(&[u8], &[u8]); 2] = [(b"", b""); 2];
    let mut n = 0;
    let mut header_mask = 0u16;
    let mut cookie_mask = 0u16;
    for &(name, value) in input.headers {
        if name == b"content-type" {
            if n < rest.len() {
                rest[n] = (name, value);
                n += 1;
            }
            continue;
        }
        let m = cache.header(name, value);
        if name == b"cookie" {
            cookie_mask |= m;
        } else {
            header_mask |= m;
        }
    }
    let mut found = inspect_all(&Input {
        target: input.target,
        headers: &rest[..n],
        body: input.body,
    });
    for c in AttackClass::ALL {
        let bit = 1 << c.index();
        if cookie_mask & bit != 0 {
            found.add(*c, Location::Cookie);
        }
        if header_mask & bit != 0 {
            found.add(*c, Location::Header);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const UA: &[u8] = b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

    #[test]
    fn same_verdicts_as_the_full_scan() {
        let mut cache = HeaderCache::default();
        let cases: [&[(&[u8], &[u8])]; 4] = [
            &[
                (b"user-agent", UA),
                (b"referer", b"https://shop.example/p/1"),
            ],
            &[(b"user-agent", b"() { :; }; /bin/bash -c id")],
            &[(b"cookie", b"sid=abc; pref=' or 1=1--")],
            &[
                (b"content-type", b"application/json"),
                (b"x-forwarded-host", b"a.example"),
            ],
        ];
        for _ in 0..3 {
            for h in cases {
                let input = Input {
                    target: b"/api/x?q=1",
                    headers: h,
                    body: Some(br#"{"a":{"$ne":null}}"#),
                };
                assert_eq!(
                    inspect_all_cached(&input, &mut cache).mask,
                    inspect_all(&input).mask
                );
            }
        }
        assert!(
            cache.hits >= 8,
            "repeated headers come from the cache: {}",
            cache.hits
        );
    }

    #[test]
    fn location_is_kept() {
        let mut cache = HeaderCache::default();
        let h: [(&[u8], &[u8]); 1] = [(b"cookie", b"x=<script>alert(1)</script>")];
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
