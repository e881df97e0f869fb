//! The last detections, kept in the shared zone so that every worker (and the
//! dashboard, whichever worker answers it) sees the same recent events.
//!
//! A fixed ring of [`EVENT_SLOTS`] slots of [`SLOT_BYTES`] bytes each holds
//! the events-file line itself: the JSON is already built for the events
//! file, so keeping it costs one copy and no allocation, and the API serves
//! exactly what the file says.
//!
//! Concurrency: a writer claims the next sequence number with one
//! `fetch_add` on the ring's head, then takes its slot with a
//! compare-and-swap of the slot's sequence word from an even (settled) to an
//! odd (being written) value, copies the line in, and publishes the even
//! value `2 * seq + 2`. A slot already being written (only possible when
//! more than [`EVENT_SLOTS`] detections race) makes the newer writer drop its
//! copy rather than wait: the request path never spins on the ring. Readers
//! are seqlock readers: copy, then check that the slot's sequence did not
//! move; a torn copy is skipped. Payload words are atomics, so a racing
//! copy is merely stale, never undefined behaviour.

use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

/// Events kept. 64 recent detections are what an operator scrolls through;
/// the events file keeps the full history.
pub const EVENT_SLOTS: usize = 64;
/// Bytes per slot, header included. An event line with every detector's
/// figures is 1.5-2 KB; its request path is capped at 256 bytes.
pub const SLOT_BYTES: usize = 4096;
const WORDS: usize = (SLOT_BYTES - 16) / 8;
/// The longest line a slot holds.
pub const MAX_LINE: usize = WORDS * 8;

#[repr(C)]
struct Slot {
    /// `2 * seq + 1` while being written, `2 * seq + 2` once written, 0 never.
    seq: AtomicU64,
    len: AtomicU32,
    _pad: u32,
    data: [AtomicU64; WORDS],
}

/// The ring, laid out in shared memory (all-zero is an empty ring).
#[repr(C)]
pub struct EventRing {
    /// Sequence number of the next event.
    head: AtomicU64,
    /// Events not kept: longer than a slot, or their slot was busy.
    dropped: AtomicU64,
    slots: [Slot; EVENT_SLOTS],
}

impl EventRing {
    /// Keeps `line` (one JSON object; a trailing newline is dropped).
    pub fn push(&self, line: &[u8]) {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        if line.len() > MAX_LINE {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let seq = self.head.fetch_add(1, Ordering::Relaxed);
        let slot = &self.slots[(seq % EVENT_SLOTS as u64) as usize];
        let before = slot.seq.load(Ordering::Relaxed);
        // Odd: another writer holds the slot; newer: a later event already
        // took it (this writer was preempted for a whole lap of the ring).
        if before & 1 == 1
            || before > 2 * seq
            || slot
                .seq
                .compare_exchange(before, 2 * seq + 1, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        for (i, chunk) in line.chunks(8).enumerate() {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            slot.data[i].store(u64::from_le_bytes(w), Ordering::Relaxed);
        }
        slot.len.store(line.len() as u32, Ordering::Relaxed);
        slot.seq.store(2 * seq + 2, Ordering::Release);
    }

    /// Events not kept since the zone was created.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Events pushed since the zone was created.
    pub fn total(&self) -> u64 {
        self.head.load(Ordering::Relaxed)
    }

    /// Calls `f(seq, line)` for up to `limit` of the most recent events,
    /// newest first, skipping any with a sequence number below `since`.
    pub fn recent(&self, limit: usize, since: u64, mut f: impl FnMut(u64, &[u8])) {
        let head = self.head.load(Ordering::Acquire);
        let oldest = head.saturating_sub(EVENT_SLOTS as u64).max(since);
        let mut buf = vec![0u8; MAX_LINE];
        let mut seen = 0;
        let mut seq = head;
        while seq > oldest && seen < limit {
            seq -= 1;
            let slot = &self.slots[(seq % EVENT_SLOTS as u64) as usize];
            let s1 = slot.seq.load(Ordering::Acquire);
            if s1 != 2 * seq + 2 {
                continue; // being written, or already overwritten
            }
            let len = (slot.len.load(Ordering::Relaxed) as usize).min(MAX_LINE);
            for (i, w) in slot.data[..len.div_ceil(8)].iter().enumerate() {
                let b = w.load(Ordering::Relaxed).to_le_bytes();
                let n = (len - i * 8).min(8);
                buf[i * 8..i * 8 + n].copy_from_slice(&b[..n]);
            }
            fence(Ordering::Acquire);
            if slot.seq.load(Ordering::Relaxed) != s1 {
                continue;
            }
            seen += 1;
            f(seq, &buf[..len]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> Box<EventRing> {
        // SAFETY: EventRing is atomics only; all-zero is the empty ring.
        unsafe { Box::new_zeroed().assume_init() }
    }

    fn lines(r: &EventRing, limit: usize, since: u64) -> Vec<(u64, String)> {
        let mut v = Vec::new();
        r.recent(limit, since, |s, l| {
            v.push((s, String::from_utf8_lossy(l).into_owned()))
        });
        v
    }

    #[test]
    fn keeps_the_newest_first_and_wraps() {
        let r = ring();
        assert!(lines(&r, 10, 0).is_empty());
        for i in 0..(EVENT_SLOTS + 5) {
            r.push(format!("{{\"n\":{i}}}\n").as_bytes());
        }
        let all = lines(&r, 1000, 0);
        assert_eq!(all.len(), EVENT_SLOTS);
        assert_eq!(
            all[0],
            (
                (EVENT_SLOTS + 4) as u64,
                format!("{{\"n\":{}}}", EVENT_SLOTS + 4)
            )
        );
        assert_eq!(all.last().map(|x| x.0), Some(5));
        assert_eq!(lines(&r, 3, 0).len(), 3);
        let since = lines(&r, 1000, (EVENT_SLOTS + 2) as u64);
        assert_eq!(
            since.len(),
            3,
            "only events from sequence number `since` on"
        );
        assert_eq!(r.total(), (EVENT_SLOTS + 5) as u64);
    }

    #[test]
    fn long_lines_are_dropped_not_cut() {
        let r = ring();
        let exact = "x".repeat(MAX_LINE);
        r.push(exact.as_bytes());
        r.push("y".repeat(MAX_LINE + 1).as_bytes());
        let got = lines(&r, 10, 0);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1.len(), MAX_LINE);
        assert_eq!(r.dropped(), 1);
        // odd lengths round-trip
        r.push(b"abc");
        assert_eq!(lines(&r, 1, 0)[0].1, "abc");
    }

    #[test]
    fn concurrent_writers_and_readers_never_tear() {
        let r: &'static EventRing = Box::leak(ring());
        let writers: Vec<_> = (0..4)
            .map(|w| {
                std::thread::spawn(move || {
                    for i in 0..5000 {
                        let body = format!("{w}-{i}-{}", "z".repeat(i % 300));
                        r.push(body.as_bytes());
                    }
                })
            })
            .collect();
        let reader = std::thread::spawn(move || {
            let mut checked = 0;
            for _ in 0..200 {
                r.recent(EVENT_SLOTS, 0, |_, l| {
                    let s = std::str::from_utf8(l).expect("utf8");
                    let mut parts = s.splitn(3, '-');
                    let (_, i, tail) = (parts.next(), parts.next(), parts.next());
                    let i: usize = i.and_then(|i| i.parse().ok()).expect("index");
                    assert_eq!(tail.map(str::len), Some(i % 300), "torn line {s}");
                    checked += 1;
                });
            }
            checked
        });
        for w in writers {
            w.join().expect("writer");
        }
        assert!(reader.join().expect("reader") > 0);
        assert_eq!(r.total(), 20_000);
    }
}
