//! Challenges answered without a valid cookie, per client, in the zone.
//!
//! A set-associative table of 64-bit atomic slots: [`BUCKETS`] buckets of
//! [`WAYS`] slots (64 bytes each); a client's key hashes to one bucket.
//! A slot is a 32-bit tag of the key, the minute of its last failure (16
//! bits, wrapping) and a 16-bit count. A newcomer takes an empty slot of its
//! bucket, else a lapsed one (no failure for [`LAPSE_MIN`] minutes: a client
//! that gave up), else the one whose last failure is the oldest. A client
//! leaves its slot when it passes or is escalated.
//!
//! Sizing: 4,096 slots, 32 KiB of the zone's header (the smallest zone, 1m,
//! still holds about 3,900 clients). Only clients failing right now hold a
//! slot, at most one each, so the table holds 1,000 of them at once with
//! room to spare (a bucket overflows when more than 8 of them meet in it:
//! 0.1 of the 512 buckets is expected to at 1,000, about 10 at 2,000,
//! about 200 at 4,000; `cargo test --lib challenge::failures` has 1,000
//! exact); when one does, the client whose
//! last failure is the oldest starts counting again, which delays its
//! escalation (it never causes one). A false match of two clients' tags in
//! one bucket (32 bits, 8 ways) is about one in 500 million lookups.
//! No lock: one compare-and-swap per challenge served.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::table::ClientKey;

pub const WAYS: usize = 8;
pub const BUCKETS: usize = 512;
pub const SLOTS: usize = WAYS * BUCKETS;
/// A count lapses after this many minutes without a failure.
pub const LAPSE_MIN: u16 = 60;
const COUNT_MASK: u64 = 0xffff;
const MINUTE_SHIFT: u32 = 16;
const TAG_SHIFT: u32 = 32;

/// 64 bytes; not aligned to a cache line, since the zone's header is not.
#[repr(C)]
struct Bucket([AtomicU64; WAYS]);

#[repr(C)]
pub struct Failures {
    buckets: [Bucket; BUCKETS],
}

const _: () = assert!(std::mem::size_of::<Failures>() == SLOTS * 8);

/// The bucket index and the tag (never 0) of `key`.
fn place(key: ClientKey) -> (usize, u64) {
    let folded = (key as u64) ^ ((key >> 64) as u64).rotate_left(29);
    let h = folded.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let bucket = (h >> 55) as usize % BUCKETS;
    let tag = (h & 0xffff_ffff) | 1;
    (bucket, tag)
}

fn minute(now_s: u64) -> u64 {
    (now_s / 60) & 0xffff
}

fn tag_of(v: u64) -> u64 {
    v >> TAG_SHIFT
}

fn count_of(v: u64) -> u64 {
    v & COUNT_MASK
}

/// Minutes since the slot's last failure (wrapping: a slot untouched for
/// 45 days can look recent once; it then counts from where it was).
fn age(v: u64, now_min: u64) -> u16 {
    (now_min as u16).wrapping_sub(((v >> MINUTE_SHIFT) & 0xffff) as u16)
}

fn lapsed(v: u64, now_min: u64) -> bool {
    v == 0 || age(v, now_min) > LAPSE_MIN
}

impl Failures {
    fn slots(&self, bucket: usize) -> &[AtomicU64; WAYS] {
        &self.buckets[bucket].0
    }

    fn find(&self, bucket: usize, tag: u64) -> Option<&AtomicU64> {
        self.slots(bucket)
            .iter()
            .find(|s| tag_of(s.load(Ordering::Relaxed)) == tag)
    }

    /// Counts one challenge served to `key` at `now_s` (Unix seconds);
    /// returns its count since it last passed (1 after a lapse).
    pub fn fail(&self, key: ClientKey, now_s: u64) -> u32 {
        let (bucket, tag) = place(key);
        let now_min = minute(now_s);
        loop {
            let slot = self.find(bucket, tag).unwrap_or_else(|| {
                let slots = self.slots(bucket);
                // the empty or lapsed slot, else the oldest failure
                slots
                    .iter()
                    .max_by_key(|s| {
                        let v = s.load(Ordering::Relaxed);
                        (lapsed(v, now_min), age(v, now_min))
                    })
                    .unwrap_or(&slots[0])
            });
            let cur = slot.load(Ordering::Relaxed);
            let n = if tag_of(cur) == tag && !lapsed(cur, now_min) {
                (count_of(cur) + 1).min(COUNT_MASK)
            } else {
                1
            };
            let new = (tag << TAG_SHIFT) | (now_min << MINUTE_SHIFT) | n;
            if slot
                .compare_exchange(cur, new, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                return n as u32;
            }
        }
    }

    /// A valid cookie came back (or the client was escalated): frees
    /// `key`'s slot and returns its count (0: nothing to clear, no write).
    pub fn pass(&self, key: ClientKey) -> u32 {
        let (bucket, tag) = place(key);
        let Some(slot) = self.find(bucket, tag) else {
            return 0;
        };
        let cur = slot.load(Ordering::Relaxed);
        if tag_of(cur) != tag || count_of(cur) == 0 {
            return 0;
        }
        match slot.compare_exchange(cur, 0, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => count_of(cur) as u32,
            Err(_) => 0,
        }
    }

    /// Failures counted for `key` at `now_s`.
    pub fn count(&self, key: ClientKey, now_s: u64) -> u32 {
        let (bucket, tag) = place(key);
        self.find(bucket, tag)
            .map(|s| s.load(Ordering::Relaxed))
            .filter(|v| !lapsed(*v, minute(now_s)))
            .map_or(0, |v| count_of(v) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const NOW: u64 = 1_800_000_000;

    fn zeroed() -> Box<Failures> {
        // all-zero is the empty state, as in a fresh zone
        Box::new(Failures {
            buckets: std::array::from_fn(|_| Bucket(std::array::from_fn(|_| AtomicU64::new(0)))),
        })
    }

    /// IPv4-mapped keys of `n` addresses spread like a proxy pool's.
    fn keys(n: u32) -> Vec<ClientKey> {
        (0..n)
            .map(|i| (0xffff << 32) | u128::from(0x6440_0000 + i * 257))
            .collect()
    }

    #[test]
    fn counts_until_a_pass() {
        let f = zeroed();
        assert_eq!(f.pass(1), 0);
        assert_eq!(f.fail(1, NOW), 1);
        assert_eq!(f.fail(1, NOW + 1), 2);
        assert_eq!(f.count(1, NOW + 2), 2);
        assert_eq!(f.count(2, NOW), 0, "another client");
        assert_eq!(f.pass(1), 2);
        assert_eq!(f.pass(1), 0);
        assert_eq!(f.fail(1, NOW), 1);
    }

    #[test]
    fn a_count_lapses_after_an_hour_without_failures() {
        let f = zeroed();
        for i in 0..5 {
            f.fail(7, NOW + i * 600);
        }
        assert_eq!(f.count(7, NOW + 2_400), 5);
        let later = NOW + 2_400 + (u64::from(LAPSE_MIN) + 2) * 60;
        assert_eq!(f.count(7, later), 0);
        assert_eq!(f.fail(7, later), 1, "starts again");
    }

    #[test]
    fn a_thousand_concurrent_failing_clients_keep_their_counts() {
        // 8 threads, each failing 125 clients round-robin ten times, as many
        // clients in the middle of failing at once: every count is exact.
        let f: Arc<Failures> = Arc::from(zeroed());
        let all = keys(1_000);
        let threads: Vec<_> = all
            .chunks(125)
            .map(|chunk| {
                let (f, chunk) = (Arc::clone(&f), chunk.to_vec());
                std::thread::spawn(move || {
                    for round in 0..10u64 {
                        for k in &chunk {
                            f.fail(*k, NOW + round);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            assert!(t.join().is_ok());
        }
        let exact = all.iter().filter(|k| f.count(**k, NOW + 10) == 10).count();
        assert_eq!(exact, 1_000, "{exact} of 1,000");
        // the largest bucket has room to spare
        let fullest = (0..BUCKETS)
            .map(|b| {
                f.slots(b)
                    .iter()
                    .filter(|s| s.load(Ordering::Relaxed) != 0)
                    .count()
            })
            .max();
        assert!(fullest.is_some_and(|n| n < WAYS), "{fullest:?}");
    }

    #[test]
    fn past_the_table_the_oldest_failure_gives_way_and_nobody_escalates_early() {
        let f = zeroed();
        let all = keys(8_000);
        for round in 0..3u64 {
            for k in &all {
                f.fail(*k, NOW + round * 60);
            }
        }
        // 8,000 at once, twice the slots: counts are lost (escalations
        // come later), never raised beyond the failures served
        let counts: Vec<u32> = all.iter().map(|k| f.count(*k, NOW + 180)).collect();
        assert!(counts.iter().all(|c| *c <= 3));
        assert!(counts.iter().filter(|c| **c > 0).count() <= SLOTS);
        // clients that gave up an hour ago make room for new ones
        let newcomers = keys(9_000)[8_000..].to_vec();
        let later = NOW + 180 + (u64::from(LAPSE_MIN) + 2) * 60;
        for round in 0..3 {
            for k in &newcomers {
                f.fail(*k, later + round);
            }
        }
        assert!(newcomers.iter().all(|k| f.count(*k, later + 3) == 3));
    }
}
