//! A per-worker cache of User-Agent verdicts.
//!
//! Classifying a User-Agent is cheap, but parsing it with woothee costs tens
//! of microseconds (regular expressions). The client record caches the last
//! User-Agent's result, which covers the usual client; an address shared by
//! several people alternates between User-Agents on every request. This
//! direct-mapped table (1024 entries, 8 KiB per worker, filled in place, never
//! allocated) remembers recent User-Agents of all clients. It lives in the
//! worker, not in shared memory: the result depends only on the User-Agent
//! text, so workers need not agree on what they cached.

use std::cell::RefCell;

const SLOTS: usize = 1024;

#[derive(Clone, Copy)]
struct Entry {
    hash: u32,
    len: u16,
    class: u8,
    flags: u8,
}

const EMPTY: Entry = Entry {
    hash: 0,
    len: 0,
    class: 0,
    flags: 0,
};

thread_local! {
    static CACHE: RefCell<[Entry; SLOTS]> = const { RefCell::new([EMPTY; SLOTS]) };
}

/// The cached `(class, flags)` of a User-Agent with this hash and length, or
/// `compute()`'s result, cached.
pub fn get_or(hash: u32, len: usize, compute: impl FnOnce() -> (u8, u8)) -> (u8, u8) {
    let len = len.min(usize::from(u16::MAX)) as u16;
    let slot = (hash >> 3) as usize % SLOTS;
    let hit = CACHE.with(|c| {
        c.try_borrow()
            .ok()
            .and_then(|t| t.get(slot).copied())
            .filter(|e| e.hash == hash && e.len == len && hash != 0)
    });
    if let Some(e) = hit {
        return (e.class, e.flags);
    }
    let (class, flags) = compute();
    CACHE.with(|c| {
        if let Ok(mut t) = c.try_borrow_mut() {
            if let Some(e) = t.get_mut(slot) {
                *e = Entry {
                    hash,
                    len,
                    class,
                    flags,
                };
            }
        }
    });
    (class, flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_once() {
        let mut calls = 0;
        for _ in 0..3 {
            let r = get_or(0xdead_beef, 40, || {
                calls += 1;
                (4, 1)
            });
            assert_eq!(r, (4, 1));
        }
        assert_eq!(calls, 1);
        // Same hash, other length: another User-Agent.
        assert_eq!(get_or(0xdead_beef, 41, || (2, 0)), (2, 0));
    }
}
