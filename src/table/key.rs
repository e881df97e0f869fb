//! Client keys and the keyed hash that places them in buckets.
//!
//! A client is one IPv4 address or one IPv6 prefix (a /64 by default: a single
//! host or home network usually owns a whole /64, so per-address keys would let
//! one client rotate through 2^64 identities). Both families share one 128-bit
//! key space: IPv4 is stored as the IPv4-mapped IPv6 address `::ffff:a.b.c.d`,
//! so a dual-stack listener that reports `::ffff:1.2.3.4` and a plain IPv4
//! listener that reports `1.2.3.4` land on the same record.
//!
//! Bucket placement uses SipHash-1-3 keyed from the seed stored in the zone
//! header. The seed lives in shared memory, not in per-process state, because
//! the master and every worker must place a key in the same bucket; it is
//! random per zone so a client cannot pick addresses that all fall into the
//! bucket of a victim and push the victim's record out.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One client: an IPv4-mapped IPv4 address, or an IPv6 address masked to a prefix.
pub type ClientKey = u128;

/// IPv6 prefix length that makes one client by default.
pub const DEFAULT_V6_PREFIX: u8 = 64;

/// The key of the client that sent from `addr`. IPv6 addresses (other than
/// IPv4-mapped ones) are masked to `v6_prefix` bits; values above 128 mean 128.
pub fn client_key(addr: IpAddr, v6_prefix: u8) -> ClientKey {
    match addr {
        IpAddr::V4(v4) => v4_key(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4_key(v4),
            None => u128::from(v6) & prefix_mask(v6_prefix),
        },
    }
}

/// The address a key stands for: IPv4 for mapped keys, else the IPv6 network
/// address (the prefix length is the caller's `v6_prefix`).
pub fn key_addr(key: ClientKey) -> IpAddr {
    let v6 = Ipv6Addr::from(key);
    match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    }
}

fn v4_key(v4: Ipv4Addr) -> ClientKey {
    u128::from(v4.to_ipv6_mapped())
}

/// The top `len` bits set (all of them for `len >= 128`).
pub(crate) fn prefix_mask(len: u8) -> u128 {
    match len {
        0 => 0,
        l if l >= 128 => u128::MAX,
        l => u128::MAX << (128 - u32::from(l)),
    }
}

/// A fresh random seed for [`super::Table::create`], drawn from the OS through
/// std's `RandomState` (so no extra dependency is needed).
pub fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x6170_695f_6162_7573); // any input: the state's random keys do the work
    h.finish()
}

/// Expands a 64-bit seed into the two SipHash keys (splitmix64 steps), so that
/// related seeds (0, 1, 2...) still give unrelated keys.
pub(crate) fn hash_keys(seed: u64) -> [u64; 2] {
    fn splitmix(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let mut state = seed;
    [splitmix(&mut state), splitmix(&mut state)]
}

/// SipHash-1-3 of the 16 little-endian bytes of `key`.
pub(crate) fn hash_key(keys: [u64; 2], key: ClientKey) -> u64 {
    siphash16::<1, 3>(keys, key)
}

/// SipHash-c-d (Aumasson and Bernstein, 2012) specialised to a 16-byte message:
/// two full words, then the final block that carries only the length.
fn siphash16<const C: usize, const D: usize>(k: [u64; 2], msg: u128) -> u64 {
    let mut v = [
        k[0] ^ 0x736f_6d65_7073_6575,
        k[1] ^ 0x646f_7261_6e64_6f6d,
        k[0] ^ 0x6c79_6765_6e65_7261,
        k[1] ^ 0x7465_6462_7974_6573,
    ];
    let last = 16u64 << 56;
    for m in [msg as u64, (msg >> 64) as u64, last] {
        v[3] ^= m;
        for _ in 0..C {
            sip_round(&mut v);
        }
        v[0] ^= m;
    }
    v[2] ^= 0xff;
    for _ in 0..D {
        sip_round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

fn sip_round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_and_mapped_ipv6_share_a_key() {
        let k = client_key(ip("192.0.2.7"), 64);
        assert_eq!(k, client_key(ip("::ffff:192.0.2.7"), 64));
        assert_eq!(k, client_key(ip("::ffff:192.0.2.7"), 128));
        assert_eq!(k, 0xffff_c000_0207);
        assert_ne!(k, client_key(ip("192.0.2.8"), 64));
        assert_eq!(key_addr(k), ip("192.0.2.7"));
    }

    #[test]
    fn ipv6_is_masked_to_the_prefix() {
        let a = client_key(ip("2001:db8:1:2:aaaa::1"), 64);
        let b = client_key(ip("2001:db8:1:2:ffff:1:2:3"), 64);
        assert_eq!(a, b);
        assert_eq!(key_addr(a), ip("2001:db8:1:2::"));
        assert_ne!(a, client_key(ip("2001:db8:1:3::1"), 64));
        assert_eq!(
            client_key(ip("2001:db8::1"), 128),
            u128::from(ip6("2001:db8::1"))
        );
        assert_eq!(
            client_key(ip("2001:db8::1"), 200),
            u128::from(ip6("2001:db8::1"))
        );
        assert_eq!(client_key(ip("2001:db8::1"), 0), 0);
        assert_eq!(
            key_addr(client_key(ip("2001:db8:7::1"), 48)),
            ip("2001:db8:7::")
        );
    }

    fn ip6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    #[allow(deprecated)] // std's SipHasher is deprecated, and documented as SipHash-2-4
    fn siphash_matches_the_reference() {
        use std::hash::Hasher;
        for (k0, k1, msg) in [
            (0u64, 0u64, 0u128),
            (
                0x0706_0504_0302_0100,
                0x0f0e_0d0c_0b0a_0908,
                0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100,
            ),
            (u64::MAX, 12345, u128::MAX),
            (42, 0, 0xffff_c000_0207),
        ] {
            let mut reference = std::hash::SipHasher::new_with_keys(k0, k1);
            reference.write(&msg.to_le_bytes());
            assert_eq!(siphash16::<2, 4>([k0, k1], msg), reference.finish());
        }
        // The published SipHash-2-4 vector for key 00..0f and message 00..0f.
        let msg = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100u128;
        let expected = u64::from_le_bytes([0xdb, 0x9b, 0xc2, 0x57, 0x7f, 0xcc, 0x2a, 0x3f]);
        assert_eq!(
            siphash16::<2, 4>([0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908], msg),
            expected
        );
    }

    #[test]
    fn seeds_give_distinct_keys_and_hashes() {
        let (a, b) = (hash_keys(0), hash_keys(1));
        assert_ne!(a, b);
        assert_ne!(hash_key(a, 1), hash_key(b, 1));
        assert_eq!(hash_key(a, 1), hash_key(hash_keys(0), 1));
        assert_ne!(random_seed(), random_seed());
    }

    #[test]
    fn prefix_masks() {
        assert_eq!(prefix_mask(0), 0);
        assert_eq!(prefix_mask(1), 1 << 127);
        assert_eq!(prefix_mask(64), (u64::MAX as u128) << 64);
        assert_eq!(prefix_mask(128), u128::MAX);
        assert_eq!(prefix_mask(255), u128::MAX);
    }
}
