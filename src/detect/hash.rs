//! Fixed, seedless hashing for everything the detectors store.
//!
//! Client records and baselines live in shared memory and are read by every
//! nginx worker and written to the state file, so a hash must give the same
//! value in every process and across restarts: no per-process random keys.
//! FNV-1a is small, streaming (segments are hashed as they are found, without
//! building a string) and good enough for sketch indexing once its output goes
//! through a finaliser ([`mix`]).

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// Streaming FNV-1a (32 bit).
#[derive(Clone, Copy, Debug)]
pub struct Fnv(u32);

impl Fnv {
    pub const fn new() -> Self {
        Fnv(FNV_OFFSET)
    }

    #[inline]
    pub fn byte(&mut self, b: u8) {
        self.0 = (self.0 ^ u32::from(b)).wrapping_mul(FNV_PRIME);
    }

    #[inline]
    pub fn bytes(&mut self, bs: &[u8]) {
        for &b in bs {
            self.byte(b);
        }
    }

    /// The hash; never 0, so 0 can mean "none" in stored records.
    #[inline]
    pub fn finish(self) -> u32 {
        let h = mix(self.0);
        if h == 0 {
            1
        } else {
            h
        }
    }
}

impl Default for Fnv {
    fn default() -> Self {
        Self::new()
    }
}

/// Hash of a byte string (see [`Fnv::finish`]).
pub fn hash_bytes(bs: &[u8]) -> u32 {
    let mut h = Fnv::new();
    h.bytes(bs);
    h.finish()
}

/// Hash of a byte string for values that live in memory only (client
/// records, campaign fingerprints, the User-Agent cache), never in the state
/// file: XXH3, which reads eight bytes at a time where FNV-1a takes one, so
/// a 150-byte User-Agent costs tens of instructions instead of hundreds.
/// Seedless, so every worker computes the same value; never 0.
#[inline]
pub fn fast_hash(bs: &[u8]) -> u32 {
    let h = xxhash_rust::xxh3::xxh3_64(bs);
    match (h ^ (h >> 32)) as u32 {
        0 => 1,
        h => h,
    }
}

/// The murmur3 finaliser: spreads FNV's weak low bits over the whole word so
/// that bit positions and sketch columns taken from it are uniform.
#[inline]
pub fn mix(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h
}

/// Combines two hashes into one key (order matters: `a -> b` differs from
/// `b -> a`), used for endpoint transitions.
#[inline]
pub fn pair(a: u32, b: u32) -> u32 {
    mix(a.rotate_left(13) ^ b.wrapping_mul(0x9e37_79b9))
}

/// `a == b`, without a call to `memcmp` for the lengths a cached field
/// usually has (8 to 64 bytes: an address, a token, a cookie, a path, a
/// query string): both ends compared as fixed-size arrays, inline. Every
/// hit of the signatures' exact and per-client caches, and of the
/// detectors' memos, compares bytes, and the call and its dispatch on the
/// length cost more than the compare itself.
#[inline]
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    /// The first and the last `N` bytes (overlapping when shorter than
    /// `2 * N`).
    #[inline(always)]
    fn ends<const N: usize>(a: &[u8], b: &[u8]) -> bool {
        a.first_chunk::<N>() == b.first_chunk::<N>() && a.last_chunk::<N>() == b.last_chunk::<N>()
    }
    if a.len() != b.len() {
        return false;
    }
    match a.len() {
        8..=15 => ends::<8>(a, b),
        16..=31 => ends::<16>(a, b),
        32..=64 => ends::<32>(a, b),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_is_slice_equality() {
        let mut rng = crate::testing::XorShift64::new(0x5a3e_b17e_0000_0001);
        for n in 0..=80usize {
            for _ in 0..200 {
                let a: Vec<u8> = (0..n).map(|_| rng.below(4) as u8).collect();
                let mut b = a.clone();
                assert!(same_bytes(&a, &b));
                if n > 0 {
                    // One bit changed, anywhere: not the same.
                    let i = rng.below(n);
                    b[i] ^= 1 << rng.below(8);
                    assert!(!same_bytes(&a, &b), "{n} {i}");
                    assert_eq!(
                        same_bytes(&a[..n - 1], &b[..n - 1]),
                        a[..n - 1] == b[..n - 1]
                    );
                    assert!(!same_bytes(&a, &a[..n - 1]));
                }
            }
        }
    }

    #[test]
    fn stable_and_never_zero() {
        const FIXED: u32 = 377_729_056;
        // Fixed value: a change here would invalidate every saved state file.
        assert_eq!(hash_bytes(b"/users/{id}"), FIXED);
        assert_ne!(hash_bytes(b"a"), hash_bytes(b"b"));
        assert_ne!(hash_bytes(b""), 0);
        assert_ne!(pair(1, 2), pair(2, 1));
        assert_ne!(fast_hash(b""), 0);
        assert_ne!(fast_hash(b"a"), fast_hash(b"b"));
        assert_eq!(fast_hash(b"same"), fast_hash(b"same"));
    }
}
