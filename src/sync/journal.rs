//! The change journal: a fixed ring in the shared zone that every worker
//! appends a run-time list change to, and the node's sync helper reads.
//!
//! Writers (a detection on the request path, the management API) claim a
//! sequence number with one `fetch_add` on the ring's head and fill the slot
//! it maps to, seqlock style: the slot's `seq` is cleared, the payload written,
//! then `seq` set to the claimed number plus one. The reader (one sync helper
//! per nginx instance) follows its own cursor and accepts a slot only when its
//! `seq` is exactly the one expected before and after copying the payload.
//! Nothing waits for anything: a writer never blocks (O(1), no allocation,
//! no lock), and a reader that finds a slot still being written tries again
//! on its next pass. Only list changes are journalled, which are rare next to
//! requests, so the shared head is not a contended line.
//!
//! When writers get more than [`SLOTS`] changes ahead of the reader (a burst
//! while Redis is down, say), the oldest changes are overwritten; the reader
//! sees it (the head is more than a ring ahead of its cursor) and falls back
//! to comparing the whole list table with Redis, which misses nothing (see
//! [`super::client`]).
//!
//! The same header region keeps the node's sync statistics, which the API and
//! metrics report, and the per-zone stamp clock used to order changes across
//! the fleet (see [`super::stamp`]).

use std::sync::atomic::{fence, AtomicU64, AtomicU8, Ordering};

use crate::shared::ListRecord;
use crate::table::ClientKey;

/// Changes the ring holds (48 bytes each: 12 KB, taken from the zone's list
/// share so a 1 MB zone keeps its 1024 clients). At the sync helper's 20 ms
/// pass this is 12,800 changes a second before a burst overflows it and a
/// full comparison with Redis is done instead (correct, only slower).
pub const SLOTS: usize = 256;

/// Longest node name kept in the zone for the API.
pub const NODE_NAME_MAX: usize = 64;

#[repr(C)]
struct Slot {
    seq: AtomicU64,
    key: [AtomicU64; 2],
    rec: [AtomicU64; 3],
}

/// Sync statistics of this node, shared by every worker (all relaxed counters).
#[repr(C)]
pub struct SyncStats {
    /// 1 when a sync helper runs for this zone.
    pub enabled: AtomicU64,
    /// 1 while connected to Redis.
    pub connected: AtomicU64,
    /// Unix milliseconds of the last successful exchange with Redis.
    pub last_success_ms: AtomicU64,
    /// Changes written to Redis (own changes only).
    pub sent: AtomicU64,
    /// Changes received from other nodes and applied.
    pub received: AtomicU64,
    /// Changes received that lost to a newer local one (last writer wins).
    pub stale: AtomicU64,
    /// Failed connections and commands.
    pub errors: AtomicU64,
    /// Times Redis became unreachable.
    pub outages: AtomicU64,
    /// Milliseconds between a received change's stamp and its application here.
    pub lag_ms: AtomicU64,
    /// Entries read from Redis by the last full load.
    pub loaded: AtomicU64,
    /// Milliseconds the last full load took.
    pub load_ms: AtomicU64,
    /// Times the journal overflowed and the whole table was compared instead.
    pub resyncs: AtomicU64,
    /// Claimed by each new sync helper; an older helper that sees another
    /// value stops (the successor after a reload or respawn takes over).
    pub generation: AtomicU64,
    node_len: AtomicU8,
    node: [AtomicU8; NODE_NAME_MAX],
}

/// The journal region of the zone header. All-zero is a valid empty journal.
#[repr(C)]
pub struct Journal {
    head: AtomicU64,
    /// The reader's cursor, kept here so a successor helper continues where
    /// its predecessor stopped.
    cursor: AtomicU64,
    /// Last stamp handed out (see [`super::stamp`]).
    last_stamp: AtomicU64,
    /// Random tag of this zone: the low bits of its stamps, and how its own
    /// changes are recognised when Redis sends them back.
    instance: AtomicU64,
    pub stats: SyncStats,
    slots: [Slot; SLOTS],
}

/// One journalled change: the entry as it is now (kind 0: removed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub key: ClientKey,
    pub rec: ListRecord,
}

/// What the reader found at its cursor.
#[derive(Debug, PartialEq, Eq)]
pub enum Read {
    Change(Change),
    /// Nothing new.
    Empty,
    /// The next slot is claimed and still being written (or its writer died
    /// mid-write: a reader that keeps seeing this gives up on the slot).
    Busy,
    /// Changes were overwritten before they were read: compare the table.
    Lost,
}

fn pack(r: &ListRecord) -> [u64; 3] {
    [
        u64::from(r.kind)
            | u64::from(r.origin) << 8
            | u64::from(r.bot_type) << 16
            | u64::from(r.confidence) << 24
            | u64::from(r.offences) << 32,
        u64::from(r.created) | u64::from(r.expires) << 32,
        r.stamp,
    ]
}

fn unpack(w: [u64; 3]) -> ListRecord {
    ListRecord {
        kind: w[0] as u8,
        origin: (w[0] >> 8) as u8,
        bot_type: (w[0] >> 16) as u8,
        confidence: (w[0] >> 24) as u8,
        offences: (w[0] >> 32) as u32,
        created: w[1] as u32,
        expires: (w[1] >> 32) as u32,
        stamp: w[2],
    }
}

impl Journal {
    /// Sets the zone's tag once, when the zone is laid out.
    pub fn init(&self, instance: u64) {
        self.instance.store(instance | 1, Ordering::Relaxed);
    }

    pub fn instance(&self) -> u64 {
        self.instance.load(Ordering::Relaxed)
    }

    /// Appends a change. Never blocks, never allocates.
    pub fn push(&self, key: ClientKey, rec: &ListRecord) {
        let seq = self.head.fetch_add(1, Ordering::AcqRel);
        let slot = &self.slots[(seq % SLOTS as u64) as usize];
        slot.seq.store(0, Ordering::Relaxed);
        fence(Ordering::Release);
        slot.key[0].store(key as u64, Ordering::Relaxed);
        slot.key[1].store((key >> 64) as u64, Ordering::Relaxed);
        for (w, v) in slot.rec.iter().zip(pack(rec)) {
            w.store(v, Ordering::Relaxed);
        }
        slot.seq.store(seq + 1, Ordering::Release);
    }

    /// Changes appended and not yet read.
    pub fn pending(&self) -> u64 {
        self.head
            .load(Ordering::Acquire)
            .saturating_sub(self.cursor.load(Ordering::Relaxed))
    }

    /// Skips everything appended so far (the caller compares the whole table
    /// instead); returns the new cursor.
    pub fn skip_all(&self) -> u64 {
        let head = self.head.load(Ordering::Acquire);
        self.cursor.store(head, Ordering::Relaxed);
        head
    }

    /// The change at the cursor, without consuming it (call [`Journal::advance`]
    /// once it is safely in Redis).
    pub fn peek(&self, at: u64) -> Read {
        let head = self.head.load(Ordering::Acquire);
        if at >= head {
            return Read::Empty;
        }
        if head - at > SLOTS as u64 {
            return Read::Lost;
        }
        let slot = &self.slots[(at % SLOTS as u64) as usize];
        let seq = slot.seq.load(Ordering::Acquire);
        if seq != at + 1 {
            // Being written, or already overwritten by a writer that lapped us.
            return if seq > at + 1 { Read::Lost } else { Read::Busy };
        }
        let key = u128::from(slot.key[0].load(Ordering::Relaxed))
            | u128::from(slot.key[1].load(Ordering::Relaxed)) << 64;
        let w = [
            slot.rec[0].load(Ordering::Relaxed),
            slot.rec[1].load(Ordering::Relaxed),
            slot.rec[2].load(Ordering::Relaxed),
        ];
        fence(Ordering::Acquire);
        if slot.seq.load(Ordering::Relaxed) != seq {
            return Read::Lost;
        }
        Read::Change(Change {
            key,
            rec: unpack(w),
        })
    }

    pub fn cursor(&self) -> u64 {
        self.cursor.load(Ordering::Relaxed)
    }

    pub fn advance(&self, to: u64) {
        self.cursor.store(to, Ordering::Relaxed);
    }

    /// A stamp later than every stamp handed out by this zone and than
    /// `floor` (the stamp of the entry being replaced), from `now_ms`.
    pub fn next_stamp(&self, now_ms: u64, floor: u64) -> u64 {
        let tag = self.instance() & super::stamp::TAG_MASK;
        let mut last = self.last_stamp.load(Ordering::Relaxed);
        loop {
            let next = super::stamp::after(now_ms, last.max(floor), tag);
            match self.last_stamp.compare_exchange_weak(
                last,
                next,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }

    /// Records the node's name for the API (truncated to [`NODE_NAME_MAX`]).
    pub fn set_node(&self, name: &str) {
        let b = name.as_bytes();
        let n = b.len().min(NODE_NAME_MAX);
        for (slot, v) in self.stats.node.iter().zip(&b[..n]) {
            slot.store(*v, Ordering::Relaxed);
        }
        self.stats.node_len.store(n as u8, Ordering::Release);
    }

    pub fn node(&self) -> String {
        let n = usize::from(self.stats.node_len.load(Ordering::Acquire)).min(NODE_NAME_MAX);
        let b: Vec<u8> = self.stats.node[..n]
            .iter()
            .map(|v| v.load(Ordering::Relaxed))
            .collect();
        String::from_utf8_lossy(&b).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal() -> Box<Journal> {
        // SAFETY: Journal is atomics only; all-zero is its empty state.
        unsafe { Box::new(std::mem::zeroed()) }
    }

    fn rec(stamp: u64) -> ListRecord {
        ListRecord {
            kind: 2,
            origin: 1,
            bot_type: 3,
            confidence: 90,
            offences: 7,
            created: 11,
            expires: u32::MAX,
            stamp,
        }
    }

    #[test]
    fn pack_round_trip() {
        let r = rec(u64::MAX - 5);
        assert_eq!(unpack(pack(&r)), r);
    }

    #[test]
    fn changes_are_read_in_order_then_empty() {
        let j = journal();
        assert_eq!(j.peek(0), Read::Empty);
        for i in 0..10u64 {
            j.push(u128::from(i) << 70 | 5, &rec(i));
        }
        assert_eq!(j.pending(), 10);
        let mut at = j.cursor();
        while let Read::Change(c) = j.peek(at) {
            assert_eq!(c.key, u128::from(at) << 70 | 5);
            assert_eq!(c.rec.stamp, at);
            at += 1;
            j.advance(at);
        }
        assert_eq!(at, 10);
        assert_eq!(j.pending(), 0);
    }

    #[test]
    fn overrun_is_reported_not_misread() {
        let j = journal();
        for i in 0..(SLOTS as u64 + 3) {
            j.push(1, &rec(i));
        }
        assert_eq!(j.peek(0), Read::Lost);
        assert_eq!(j.skip_all(), SLOTS as u64 + 3);
        assert_eq!(j.peek(j.cursor()), Read::Empty);
        j.push(2, &rec(99));
        assert!(matches!(j.peek(j.cursor()), Read::Change(c) if c.key == 2 && c.rec.stamp == 99));
    }

    #[test]
    fn concurrent_writers_lose_nothing_within_a_ring() {
        let j: &'static Journal = Box::leak(journal());
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                std::thread::spawn(move || {
                    for i in 0..60u64 {
                        j.push(u128::from(t * 1000 + i), &rec(t * 1000 + i));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let mut seen = Vec::new();
        let mut at = 0;
        while let Read::Change(c) = j.peek(at) {
            assert_eq!(c.key, u128::from(c.rec.stamp), "payload torn");
            seen.push(c.rec.stamp);
            at += 1;
        }
        seen.sort_unstable();
        assert_eq!(seen.len(), 240);
        seen.dedup();
        assert_eq!(seen.len(), 240);
    }

    #[test]
    fn a_slot_claimed_but_not_written_is_busy() {
        let j = journal();
        // a writer that claimed a slot and died before publishing it
        j.head.fetch_add(1, Ordering::AcqRel);
        j.push(3, &rec(1));
        assert_eq!(j.peek(0), Read::Busy);
        assert!(matches!(j.peek(1), Read::Change(c) if c.key == 3));
    }

    #[test]
    fn stamps_increase_and_beat_the_floor() {
        let j = journal();
        j.init(0x2a5);
        let a = j.next_stamp(1_000, 0);
        let b = j.next_stamp(1_000, 0);
        assert!(b > a);
        let far = super::super::stamp::after(5_000, 0, 7);
        let c = j.next_stamp(1_000, far);
        assert!(c > far, "a local change supersedes the entry it replaces");
        assert_eq!(
            c & super::super::stamp::TAG_MASK,
            0x2a5 & super::super::stamp::TAG_MASK
        );
    }

    #[test]
    fn node_name() {
        let j = journal();
        assert_eq!(j.node(), "");
        j.set_node("edge-1");
        assert_eq!(j.node(), "edge-1");
        j.set_node(&"x".repeat(100));
        assert_eq!(j.node().len(), NODE_NAME_MAX);
    }
}
