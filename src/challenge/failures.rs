//! Challenges answered without a valid cookie, per client, in the zone.
//!
//! A set-associative table of 64-bit atomic slots: buckets of [`WAYS`]
//! slots (64 bytes each); a client's key hashes to one bucket. A slot is a
//! 32-bit tag of the key, the minute of its last failure (16 bits,
//! wrapping) and a 16-bit count. A newcomer takes an empty slot of its
//! bucket, else a lapsed one (no failure for [`LAPSE_MIN`] minutes: a
//! client that gave up), else the one whose last failure is the oldest. A
//! client leaves its slot when it passes or is escalated.
//!
//! Sizing: the table is sized with the zone, from the run-time list
//! table's share ([`SHARE_OF_LISTS`]): every client failing a challenge
//! holds a challenge list entry, so there is about one slot per list entry
//! (a 64m zone: 86,304 slots beside 75,040 list entries; 4m: 4,384 beside
//! 3,808; the smallest, 1m, 112 beside 96). Only clients failing right
//! now hold a slot: at one failing client per four slots a bucket overflows
//! rarely (4,096 slots and 1,000 clients at once: 0.1 of the 512 buckets is
//! expected to, and `cargo test --lib challenge::failures` has all 1,000
//! exact; at one per two slots about 2 % of the buckets do). When one does,
//! the client whose last failure is the oldest starts counting again, which
//! delays its escalation (it never causes one). A false match of two
//! clients' tags in one bucket (32 bits, 8 ways) is about one in 500
//! million lookups. No lock: one compare-and-swap per challenge served.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::table::ClientKey;

pub const WAYS: usize = 8;
/// The part of the list table's region the failure counts take (one slot
/// of 8 bytes per list entry of about 40).
pub const SHARE_OF_LISTS: usize = 6;
/// A count lapses after this many minutes without a failure.
pub const LAPSE_MIN: u16 = 60;
const COUNT_MASK: u64 = 0xffff;
const MINUTE_SHIFT: u32 = 16;
const TAG_SHIFT: u32 = 32;

/// 64 bytes; 64-aligned where the zone puts it.
#[repr(C)]
pub struct Bucket([AtomicU64; WAYS]);

/// A view of the zone's failure slots.
pub struct Failures {
    buckets: *const Bucket,
    len: usize,
}

/// Splits the list table's region of `total` bytes: (list table bytes,
/// failure slot bytes), the second part starting 64-aligned.
pub fn split(total: usize) -> (usize, usize) {
    let slots = (total / SHARE_OF_LISTS) & !(size_of::<Bucket>() - 1);
    let lists = (total - slots) & !(size_of::<Bucket>() - 1);
    (lists, total - lists)
}

/// The bucket index and the tag (never 0) of `key`, in `len` buckets.
fn place(key: ClientKey, len: usize) -> (usize, u64) {
    let folded = (key as u64) ^ ((key >> 64) as u64).rotate_left(29);
    let h = folded.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let bucket = ((h >> 32) as usize) % len.max(1);
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

static EMPTY: Bucket = Bucket([const { AtomicU64::new(0) }; WAYS]);

impl Failures {
    /// The view of `bytes` bytes at `mem` (all-zero is empty).
    ///
    /// # Safety
    /// `mem` must be 8-aligned, valid for `bytes` bytes, used for nothing
    /// else, and live as long as the view.
    pub unsafe fn from_raw(mem: *mut u8, bytes: usize) -> Failures {
        Failures {
            buckets: mem.cast_const().cast::<Bucket>(),
            len: bytes / size_of::<Bucket>(),
        }
    }

    /// Slots in the table.
    pub fn capacity(&self) -> usize {
        self.len * WAYS
    }

    fn slots(&self, bucket: usize) -> &[AtomicU64; WAYS] {
        if bucket >= self.len {
            // no table (a region too small): nothing is ever kept
            return &EMPTY.0;
        }
        // SAFETY: `from_raw`'s contract: `len` buckets of atomics live at
        // `buckets` as long as the view; the index was checked.
        unsafe { &(*self.buckets.add(bucket)).0 }
    }

    fn find(&self, bucket: usize, tag: u64) -> Option<&AtomicU64> {
        self.slots(bucket)
            .iter()
            .find(|s| tag_of(s.load(Ordering::Relaxed)) == tag)
    }

    /// Counts one challenge served to `key` at `now_s` (Unix seconds);
    /// returns its count since it last passed (1 after a lapse).
    pub fn fail(&self, key: ClientKey, now_s: u64) -> u32 {
        if self.len == 0 {
            return 1;
        }
        let (bucket, tag) = place(key, self.len);
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
        let (bucket, tag) = place(key, self.len);
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
        let (bucket, tag) = place(key, self.len);
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

    const BUCKETS: usize = 512;
    const SLOTS: usize = BUCKETS * WAYS;

    /// A table of 4,096 slots (a zone of about 4m) on the heap, all-zero
    /// as in a fresh zone.
    struct Heap {
        _mem: Vec<Bucket>,
        f: Failures,
    }
    // SAFETY: the view only reaches the atomics of the owned vector.
    unsafe impl Send for Heap {}
    // SAFETY: as above.
    unsafe impl Sync for Heap {}

    impl std::ops::Deref for Heap {
        type Target = Failures;
        fn deref(&self) -> &Failures {
            &self.f
        }
    }

    fn zeroed() -> Heap {
        let mut mem: Vec<Bucket> = (0..BUCKETS)
            .map(|_| Bucket(std::array::from_fn(|_| AtomicU64::new(0))))
            .collect();
        // SAFETY: the vector's memory, owned by the Heap as long as the view.
        let f = unsafe { Failures::from_raw(mem.as_mut_ptr().cast(), BUCKETS * 64) };
        Heap { _mem: mem, f }
    }

    /// IPv4-mapped keys of `n` addresses spread like a proxy pool's.
    fn keys(n: u32) -> Vec<ClientKey> {
        (0..n)
            .map(|i| (0xffff << 32) | u128::from(0x6440_0000 + i * 257))
            .collect()
    }

    #[test]
    fn the_lists_region_is_split_aligned() {
        for total in [0, 63, 5_700, 57_344, 4 << 20, (4 << 20) + 17] {
            let (lists, slots) = split(total);
            assert_eq!(lists + slots, total);
            assert_eq!(lists % 64, 0);
            assert!(slots <= total / SHARE_OF_LISTS + 64, "{total}");
        }
        // no room: nothing kept, nothing escalated early
        // SAFETY: a zero-length view reads nothing.
        let none = unsafe { Failures::from_raw(std::ptr::null_mut(), 0) };
        assert_eq!(
            (none.fail(1, NOW), none.fail(1, NOW), none.count(1, NOW)),
            (1, 1, 0)
        );
        assert_eq!(none.pass(1), 0);
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
        let f: Arc<Heap> = Arc::new(zeroed());
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
        assert_eq!(f.capacity(), SLOTS);
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
