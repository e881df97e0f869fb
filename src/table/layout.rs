//! The bytes of a table inside the shared region, and the bucket spinlock.
//!
//! ```text
//! region: [ Header | pad to 64 | Bucket 0 | Bucket 1 | ... | Bucket n-1 ]
//! Bucket: lock u32 | occupied u32 | tags[8] | last_seen[8] | pad  (64 bytes)
//!         (key, record) x 8                     (each on its own lines)
//! ```
//!
//! Everything is `#[repr(C)]`, fixed size and free of pointers, so the master
//! and all workers (which map the region at the same address, but need not)
//! read the same layout, and a reloaded module can check that it still matches.
//!
//! A lookup touches as few cache lines as it can, which is what it costs in
//! a zone far larger than the CPU's caches (each line a miss): the lock
//! word, the occupancy, one tag byte per slot (eight bits of the key's hash)
//! and the last-seen times fill the bucket's first line, and the eight tags
//! are compared in one 64-bit word, so only a slot whose tag matches is
//! opened. Its key sits at the start of its record's lines (a client record
//! of 240 bytes and its key make exactly four), so a hit reads one line of
//! bucket and the record's own lines, where keys scanned ahead of the
//! records used to take three more.

use std::cell::UnsafeCell;
use std::mem::{align_of, size_of};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Slots per bucket. Eight keys plus their timestamps fill three cache lines;
/// more ways would let a fuller table accept inserts, at the cost of scanning
/// more keys on every lookup.
pub const WAYS: usize = 8;

/// "APIABTBL": marks a region laid out by this module.
pub(crate) const MAGIC: u64 = u64::from_le_bytes(*b"APIABTBL");

/// Bumped whenever `Header` or `Bucket` change shape (2: tags, keys next
/// to their records, buckets on cache lines).
pub(crate) const LAYOUT_VERSION: u32 = 2;

/// Buckets start on a cache-line boundary (when the region itself is aligned).
const BUCKETS_OFFSET_ALIGN: usize = 64;

/// Busy-wait rounds before a waiter starts yielding the CPU: a lock is held for
/// tens of nanoseconds, so spinning briefly is cheaper than a context switch,
/// but a holder that was preempted must get the core back.
const SPINS_BEFORE_YIELD: u32 = 128;
/// While yielding, a waiter asks every this many rounds whether the holder
/// still lives (one `kill(pid, 0)`): a worker killed inside a critical
/// section (OOM killer, a crash elsewhere in nginx) must not wedge the
/// others. A few hundred microseconds after the first yield at most.
const YIELDS_PER_HOLDER_CHECK: u32 = 64;

/// Fixed fields at the start of the region. Written once by `create` (magic
/// last); afterwards only the atomics change.
#[repr(C)]
pub(crate) struct Header {
    pub magic: u64,
    pub layout_version: u32,
    pub schema: u32,
    pub record_size: u32,
    pub record_align: u32,
    pub ways: u32,
    pub buckets: u32,
    pub hash_keys: [u64; 2],
    pub used: AtomicU64,
    pub inserts: AtomicU64,
    pub evictions: AtomicU64,
    pub insert_failures: AtomicU64,
    pub warned_full: AtomicU32,
    /// Locks taken over from a dead holder (in what was the header's tail
    /// padding, so older zones read 0 here).
    pub recoveries: AtomicU32,
}

// The recovery counter took the header's tail padding: same size as layout 1.
const _: () = assert!(size_of::<Header>() == 88);

/// One set of `WAYS` slots and the lock that guards them, on whole cache
/// lines (the region is aligned to 64, see [`Geometry`]).
#[repr(C, align(64))]
pub(crate) struct Bucket<T> {
    /// 0: free; otherwise the pid of the process holding the lock.
    lock: AtomicU32,
    slots: UnsafeCell<Slots<T>>,
}

/// The data of a bucket; only touched through a [`Locked`] guard.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct Slots<T> {
    /// Bit `i` set: slot `i` holds a client.
    pub occupied: u32,
    /// A byte of each slot's key hash ([`tag_of`]): a lookup opens only the
    /// slots whose tag matches (meaningless for free slots).
    pub tags: [u8; WAYS],
    pub last_seen: [u32; WAYS],
    /// Up to the end of the bucket's first line, so entries start on a line.
    _pad: [u32; 3],
    pub entries: [Entry<T>; WAYS],
}

/// A slot's key and record, side by side: the key compare of a lookup
/// reads the line the record starts on.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct Entry<T> {
    /// Keys as two little-endian halves, so the bucket needs only 8-byte
    /// alignment inside.
    pub key: [u64; 2],
    pub record: T,
}

// The lock word and the slots' metadata make the first line; entries follow.
const _: () = assert!(
    std::mem::offset_of!(Bucket<[u64; 30]>, slots)
        + std::mem::offset_of!(Slots<[u64; 30]>, entries)
        == 64
);
// A 240-byte record (the client record) and its key: four whole lines.
const _: () = assert!(size_of::<Entry<[u64; 30]>>() == 256);
const _: () = assert!(size_of::<Bucket<[u64; 30]>>() == 64 + 8 * 256);

/// All slot bits of a bucket.
pub(crate) const ALL_SLOTS: u32 = (1 << WAYS) - 1;

/// The tag of a key, from its placement hash: the low byte, which the
/// multiply-shift that picks the buckets hardly uses (so keys of one
/// bucket still differ in it).
#[inline]
pub(crate) fn tag_of(hash: u64) -> u8 {
    hash as u8
}

/// Bit 7 of byte `i` set where `tags[i] == tag`, and nowhere else: the
/// exact zero-byte test of `tags ^ tag x 8` (no false positives, unlike the
/// shorter `(x - 0x01..) & !x & 0x80..`).
#[inline]
pub(crate) fn tag_matches(tags: [u8; WAYS], tag: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = u64::from_le_bytes(tags) ^ (0x0101_0101_0101_0101 * u64::from(tag));
    !(((x & LOW7) + LOW7) | x | LOW7)
}

impl<T> Slots<T> {
    /// Indices of occupied slots, lowest first.
    pub fn occupied_slots(&self) -> impl Iterator<Item = usize> {
        let mut bits = self.occupied & ALL_SLOTS;
        std::iter::from_fn(move || {
            let i = bits.trailing_zeros() as usize;
            bits &= bits.wrapping_sub(1);
            (i < WAYS).then_some(i)
        })
    }

    /// The slot holding `key`, whose tag is `tag`: only occupied slots with
    /// that tag are opened.
    #[inline]
    pub fn find(&self, key: u128, tag: u8) -> Option<usize> {
        let want = split_key(key);
        let mut m = tag_matches(self.tags, tag);
        while m != 0 {
            let i = (m.trailing_zeros() / 8) as usize;
            m &= m - 1;
            if self.occupied & (1 << i) != 0 && self.entries.get(i)?.key == want {
                return Some(i);
            }
        }
        None
    }

    pub fn record(&mut self, i: usize) -> &mut T {
        &mut self.entries[i].record
    }

    pub fn free_slot(&self) -> Option<usize> {
        let i = (!self.occupied & ALL_SLOTS).trailing_zeros() as usize;
        (i < WAYS).then_some(i)
    }

    pub fn len(&self) -> u32 {
        (self.occupied & ALL_SLOTS).count_ones()
    }

    pub fn key(&self, i: usize) -> u128 {
        join_key(self.entries[i].key)
    }
}

pub(crate) fn split_key(key: u128) -> [u64; 2] {
    [key as u64, (key >> 64) as u64]
}

fn join_key(halves: [u64; 2]) -> u128 {
    u128::from(halves[0]) | (u128::from(halves[1]) << 64)
}

impl<T> Bucket<T> {
    /// Takes the bucket lock (test-and-test-and-set: waiters spin on a plain
    /// load so the cache line stays shared until the holder releases it). The
    /// lock word holds the holder's pid; a waiter that finds the holder dead
    /// takes the lock over, and the guard says so ([`Locked::recovered`]) so
    /// the caller checks the slots before using them.
    /// The lock if it is free now (one compare-and-swap, no waiting and no
    /// recovery).
    pub fn try_lock(&self) -> Option<Locked<'_, T>> {
        self.lock
            .compare_exchange(0, process_id(), Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| Locked {
                bucket: self,
                recovered: None,
            })
    }

    pub fn lock(&self) -> Locked<'_, T> {
        let me = process_id();
        let mut spins = 0u32;
        loop {
            if self
                .lock
                .compare_exchange_weak(0, me, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return Locked {
                    bucket: self,
                    recovered: None,
                };
            }
            loop {
                let holder = self.lock.load(Ordering::Relaxed);
                if holder == 0 {
                    break;
                }
                if spins < SPINS_BEFORE_YIELD {
                    spins += 1;
                    std::hint::spin_loop();
                    continue;
                }
                std::thread::yield_now();
                spins = spins.wrapping_add(1);
                if spins % YIELDS_PER_HOLDER_CHECK == 0
                    && holder != me
                    && !process_alive(holder)
                    && self
                        .lock
                        .compare_exchange(holder, me, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
                {
                    return Locked {
                        bucket: self,
                        recovered: Some(holder),
                    };
                }
            }
        }
    }

    #[cfg(test)]
    pub fn is_locked(&self) -> bool {
        self.lock.load(Ordering::Relaxed) != 0
    }

    /// Test hook: leaves the lock held by `pid`, as if that process had died
    /// inside the critical section.
    #[cfg(test)]
    pub fn abandon_to(&self, pid: u32) {
        self.lock.store(pid, Ordering::Release);
    }
}

/// This process's pid, cached (`getpid` is a system call) and forgotten in a
/// forked child, so nginx workers forked from the master see their own.
pub(crate) fn process_id() -> u32 {
    static PID: AtomicU32 = AtomicU32::new(0);
    static AT_FORK: std::sync::Once = std::sync::Once::new();
    extern "C" fn forget() {
        PID.store(0, Ordering::Relaxed);
    }
    let pid = PID.load(Ordering::Relaxed);
    if pid != 0 {
        return pid;
    }
    AT_FORK.call_once(|| {
        // SAFETY: registers a handler that only stores to an atomic, which
        // is async-signal-safe as fork requires.
        unsafe { libc::pthread_atfork(None, None, Some(forget)) };
    });
    let pid = std::process::id();
    PID.store(pid, Ordering::Relaxed);
    pid
}

/// Whether a process with this pid exists (`kill(pid, 0)`: EPERM means it
/// exists but belongs to another user).
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks for the process; nothing is sent.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Holds a bucket lock; releasing it in `Drop` keeps the bucket usable when a
/// closure run under the lock panics and unwinds.
pub(crate) struct Locked<'a, T> {
    bucket: &'a Bucket<T>,
    /// The dead process whose lock this guard took over.
    recovered: Option<u32>,
}

impl<T> Locked<'_, T> {
    /// `Some(pid)` when the lock was taken over from a dead holder: the slots
    /// may hold a half-written record.
    pub fn recovered(&self) -> Option<u32> {
        self.recovered
    }

    pub fn slots(&mut self) -> &mut Slots<T> {
        // SAFETY: the lock word is ours until `drop`, and every access to
        // `slots` goes through a guard, so this is the only reference.
        unsafe { &mut *self.bucket.slots.get() }
    }
}

impl<T> Drop for Locked<'_, T> {
    fn drop(&mut self) {
        self.bucket.lock.store(0, Ordering::Release);
    }
}

/// Where the buckets start and how far apart they are, for records of type `T`.
pub(crate) struct Geometry {
    pub buckets_offset: usize,
    pub bucket_size: usize,
    pub align: usize,
}

impl Geometry {
    pub const fn of<T>() -> Geometry {
        let bucket_align = align_of::<Bucket<T>>();
        let offset_align = if bucket_align > BUCKETS_OFFSET_ALIGN {
            bucket_align
        } else {
            BUCKETS_OFFSET_ALIGN
        };
        let align = if bucket_align > align_of::<Header>() {
            bucket_align
        } else {
            align_of::<Header>()
        };
        Geometry {
            buckets_offset: size_of::<Header>().div_ceil(offset_align) * offset_align,
            bucket_size: size_of::<Bucket<T>>(),
            align,
        }
    }

    /// Buckets that fit in `len` bytes (capped so the count fits the header).
    pub fn buckets_in(&self, len: usize) -> usize {
        let n = len.saturating_sub(self.buckets_offset) / self.bucket_size;
        n.min(u32::MAX as usize)
    }

    pub fn bytes_for_buckets(&self, buckets: usize) -> Option<usize> {
        buckets
            .checked_mul(self.bucket_size)?
            .checked_add(self.buckets_offset)
    }
}
