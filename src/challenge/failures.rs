//! Challenges answered without a valid cookie, per client, in the zone.
//!
//! One 64-bit atomic slot per hash of the client key: a 40-bit tag of the key
//! and a 24-bit count. Two clients challenged at once whose keys share a
//! slot reset each other's count, which only delays an escalation (never
//! causes one); 4,096 slots keep that rare for the clients under challenge
//! at any one time. No lock: a compare-and-swap per challenge served.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::table::ClientKey;

pub const SLOTS: usize = 4096;
const COUNT_BITS: u32 = 24;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;

#[repr(C)]
pub struct Failures {
    slots: [AtomicU64; SLOTS],
}

/// The slot index and the tag (never 0) of `key`.
fn place(key: ClientKey) -> (usize, u64) {
    let folded = (key as u64) ^ ((key >> 64) as u64).rotate_left(29);
    let h = folded.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let idx = (h >> 52) as usize % SLOTS;
    let tag = (h & ((1 << 40) - 1)) | 1;
    (idx, tag << COUNT_BITS)
}

impl Failures {
    /// Counts one challenge served to `key`; returns its count since the
    /// last pass.
    pub fn fail(&self, key: ClientKey) -> u32 {
        let (i, tag) = place(key);
        let slot = &self.slots[i];
        let mut cur = slot.load(Ordering::Relaxed);
        loop {
            let n = if cur & !COUNT_MASK == tag {
                ((cur & COUNT_MASK) + 1).min(COUNT_MASK)
            } else {
                1
            };
            match slot.compare_exchange_weak(cur, tag | n, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return n as u32,
                Err(seen) => cur = seen,
            }
        }
    }

    /// A valid cookie came back: clears `key`'s count and returns what it
    /// was (0: nothing to clear, no write).
    pub fn pass(&self, key: ClientKey) -> u32 {
        let (i, tag) = place(key);
        let slot = &self.slots[i];
        let cur = slot.load(Ordering::Relaxed);
        if cur & !COUNT_MASK != tag || cur & COUNT_MASK == 0 {
            return 0;
        }
        match slot.compare_exchange(cur, tag, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => (cur & COUNT_MASK) as u32,
            Err(_) => 0,
        }
    }

    /// Failures counted for `key`.
    pub fn count(&self, key: ClientKey) -> u32 {
        let (i, tag) = place(key);
        let cur = self.slots[i].load(Ordering::Relaxed);
        if cur & !COUNT_MASK == tag {
            (cur & COUNT_MASK) as u32
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zeroed() -> Box<Failures> {
        // all-zero is the empty state, as in a fresh zone
        let slots = std::array::from_fn(|_| AtomicU64::new(0));
        Box::new(Failures { slots })
    }

    #[test]
    fn counts_until_a_pass() {
        let f = zeroed();
        assert_eq!(f.pass(1), 0);
        assert_eq!(f.fail(1), 1);
        assert_eq!(f.fail(1), 2);
        assert_eq!(f.count(1), 2);
        assert_eq!(f.count(2), 0, "another client");
        assert_eq!(f.pass(1), 2);
        assert_eq!(f.pass(1), 0);
        assert_eq!(f.fail(1), 1);
    }

    #[test]
    fn many_clients_keep_their_counts() {
        let f = zeroed();
        let keys: Vec<ClientKey> = (0..500u128)
            .map(|i| (0xffff << 32) | (0xc000_0200 + i))
            .collect();
        for _ in 0..3 {
            for k in &keys {
                f.fail(*k);
            }
        }
        let kept = keys.iter().filter(|k| f.count(**k) == 3).count();
        // 500 clients in 4,096 slots: a few collide
        assert!(kept >= 440, "{kept} of 500");
    }
}
