//! Challenges answered without a valid cookie, per client, in the zone.
//!
//! 64-bit atomic slots, each a 40-bit tag of a client key and a 24-bit
//! count; a key may sit in either of two slots (two-choice hashing), and a
//! new key takes the one with the smaller count. A client's count is lost
//! only when two others claim both its slots, which delays its escalation
//! (never causes one). A client leaves its slot when it passes or is
//! escalated, so only clients in the middle of failing take one: 256 slots
//! (2 KB, so that the smallest zone, 1m, keeps room for its 1,024 clients)
//! hold about a hundred of them at once; past that some escalations come
//! later than `challenge_failures`.
//! No lock: one compare-and-swap per challenge served.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::table::ClientKey;

pub const SLOTS: usize = 256;
const COUNT_BITS: u32 = 24;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;

#[repr(C)]
pub struct Failures {
    slots: [AtomicU64; SLOTS],
}

/// The two slot indexes and the tag (never 0) of `key`.
fn place(key: ClientKey) -> ([usize; 2], u64) {
    let folded = (key as u64) ^ ((key >> 64) as u64).rotate_left(29);
    let h = folded.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let a = (h >> 54) as usize % SLOTS;
    let b = ((h >> 44) as usize & (SLOTS - 1)) ^ 1;
    let b = if b == a { (a + 1) % SLOTS } else { b };
    let tag = (h & ((1 << 40) - 1)) | 1;
    ([a, b], tag << COUNT_BITS)
}

impl Failures {
    /// The slot holding `key`'s count, if any.
    fn find(&self, idx: [usize; 2], tag: u64) -> Option<&AtomicU64> {
        idx.iter()
            .map(|i| &self.slots[*i])
            .find(|s| s.load(Ordering::Relaxed) & !COUNT_MASK == tag)
    }

    /// Counts one challenge served to `key`; returns its count since the
    /// last pass.
    pub fn fail(&self, key: ClientKey) -> u32 {
        let (idx, tag) = place(key);
        loop {
            let slot = self.find(idx, tag).unwrap_or_else(|| {
                let [a, b] = idx.map(|i| &self.slots[i]);
                let count = |s: &AtomicU64| s.load(Ordering::Relaxed) & COUNT_MASK;
                if count(b) < count(a) {
                    b
                } else {
                    a
                }
            });
            let cur = slot.load(Ordering::Relaxed);
            let n = if cur & !COUNT_MASK == tag {
                ((cur & COUNT_MASK) + 1).min(COUNT_MASK)
            } else {
                1
            };
            if slot
                .compare_exchange(cur, tag | n, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                return n as u32;
            }
        }
    }

    /// A valid cookie came back: clears `key`'s count and returns what it
    /// was (0: nothing to clear, no write).
    pub fn pass(&self, key: ClientKey) -> u32 {
        let (idx, tag) = place(key);
        let Some(slot) = self.find(idx, tag) else {
            return 0;
        };
        let cur = slot.load(Ordering::Relaxed);
        if cur & !COUNT_MASK != tag || cur & COUNT_MASK == 0 {
            return 0;
        }
        // an empty slot: the next newcomer takes it first
        match slot.compare_exchange(cur, 0, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => (cur & COUNT_MASK) as u32,
            Err(_) => 0,
        }
    }

    /// Failures counted for `key`.
    pub fn count(&self, key: ClientKey) -> u32 {
        let (idx, tag) = place(key);
        self.find(idx, tag)
            .map_or(0, |s| (s.load(Ordering::Relaxed) & COUNT_MASK) as u32)
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
        let keys: Vec<ClientKey> = (0..100u128)
            .map(|i| (0xffff << 32) | (0xc000_0200 + i))
            .collect();
        for _ in 0..3 {
            for k in &keys {
                f.fail(*k);
            }
        }
        let kept = keys.iter().filter(|k| f.count(**k) == 3).count();
        // 100 clients in 256 two-choice slots: few lose their count
        assert!(kept >= 95, "{kept} of 100");
    }
}
