//! A per-worker cache of User-Agent verdicts.
//!
//! Classifying a User-Agent is cheap, but parsing it with woothee costs tens
//! of microseconds (regular expressions). The client record caches the last
//! User-Agent's result, which covers the usual client; an address shared by
//! several people alternates between User-Agents on every request. This
//! direct-mapped table (1024 entries) remembers recent User-Agents of all
//! clients. It lives in the worker, not in shared memory: the result depends
//! only on the User-Agent text, so workers need not agree on what they cached.
//!
//! The hash picks the slot and filters, but a hit also needs the stored
//! value's bytes to equal the request's: the hash is public and unseeded
//! ([`super::hash::fast_hash`]), so a User-Agent crafted to collide with a
//! cached browser's must not take the browser's class (and hide a scanner
//! from `bad_user_agent`). Values are at most
//! [`MAX_USER_AGENT`](super::facts::MAX_USER_AGENT) bytes; the comparison is
//! one `memcmp` of a value the request already has in cache. The bytes live
//! in one block per worker (1024 x 512 bytes, 512 KiB of address space,
//! allocated when the worker starts ([`prepare`], so that no request
//! allocates; on the first lookup in tests and tools) and touched only where
//! values are stored), never reallocated.

use std::cell::RefCell;

const SLOTS: usize = 1024;
/// The longest value cached: the extract stage's cap
/// ([`MAX_USER_AGENT`](super::facts::MAX_USER_AGENT), checked there).
pub const MAX_USER_AGENT: usize = 512;

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

struct Cache {
    entries: [Entry; SLOTS],
    /// `SLOTS` values of `MAX_USER_AGENT` bytes; empty until [`prepare`]
    /// (or the first store of this thread).
    bytes: Vec<u8>,
}

thread_local! {
    static CACHE: RefCell<Cache> = const {
        RefCell::new(Cache { entries: [EMPTY; SLOTS], bytes: Vec::new() })
    };
}

/// Allocates this worker's value block (the nginx glue's `init_process`):
/// zeroed pages from the allocator (`calloc`, an anonymous mapping at this
/// size), so nothing is touched until a value is stored.
pub fn prepare() {
    CACHE.with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            if c.bytes.is_empty() {
                c.bytes = vec![0; SLOTS * MAX_USER_AGENT];
            }
        }
    });
}

/// The cached `(class, flags)` of the User-Agent `ua` (at most
/// [`MAX_USER_AGENT`] bytes; longer values are computed, never cached) with
/// this hash, or `compute()`'s result, cached. `hash` is never 0 and
/// separates a missing header from an empty one (both pass an empty `ua`).
pub fn get_or(hash: u32, ua: &[u8], compute: impl FnOnce() -> (u8, u8)) -> (u8, u8) {
    if ua.len() > MAX_USER_AGENT || hash == 0 {
        return compute();
    }
    let len = ua.len() as u16;
    let slot = (hash >> 3) as usize % SLOTS;
    let hit = CACHE.with(|c| {
        let c = c.try_borrow().ok()?;
        let e = c.entries.get(slot).copied()?;
        let at = slot * MAX_USER_AGENT;
        (e.hash == hash && e.len == len && c.bytes.get(at..at + ua.len()) == Some(ua)).then_some(e)
    });
    if let Some(e) = hit {
        return (e.class, e.flags);
    }
    let (class, flags) = compute();
    CACHE.with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            let c = &mut *c;
            if c.bytes.is_empty() {
                c.bytes = vec![0; SLOTS * MAX_USER_AGENT];
            }
            let at = slot * MAX_USER_AGENT;
            if let (Some(e), Some(b)) =
                (c.entries.get_mut(slot), c.bytes.get_mut(at..at + ua.len()))
            {
                b.copy_from_slice(ua);
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
    fn prepare_allocates_once_and_keeps_entries() {
        prepare();
        let ptr = CACHE.with(|c| c.borrow().bytes.as_ptr());
        assert_eq!(get_or(0x5151_5151, b"curl/8.0", || (2, 0)), (2, 0));
        prepare();
        assert_eq!(get_or(0x5151_5151, b"curl/8.0", || unreachable!()), (2, 0));
        assert_eq!(CACHE.with(|c| c.borrow().bytes.as_ptr()), ptr);
        assert_eq!(
            CACHE.with(|c| c.borrow().bytes.len()),
            SLOTS * MAX_USER_AGENT
        );
    }

    #[test]
    fn computes_once() {
        let mut calls = 0;
        let ua = [b'a'; 40];
        for _ in 0..3 {
            let r = get_or(0xdead_beef, &ua, || {
                calls += 1;
                (4, 1)
            });
            assert_eq!(r, (4, 1));
        }
        assert_eq!(calls, 1);
        // Same hash, other length: another User-Agent.
        assert_eq!(get_or(0xdead_beef, &[b'a'; 41], || (2, 0)), (2, 0));
    }

    #[test]
    fn a_colliding_value_is_classified_on_its_own() {
        // Same hash and length as a cached browser, other bytes: what a
        // crafted collision of the public hash would look like.
        let browser = b"Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0";
        let scanner = b"sqlmap/1.8.2#stable (https://sqlmap.org)     ";
        assert_eq!(browser.len(), scanner.len());
        assert_eq!(get_or(0x1234_5678, browser, || (1, 1)), (1, 1));
        assert_eq!(get_or(0x1234_5678, scanner, || (3, 0)), (3, 0));
        // Each value is now known by its own bytes.
        assert_eq!(get_or(0x1234_5678, scanner, || unreachable!()), (3, 0));
        assert_eq!(get_or(0x1234_5678, browser, || (1, 1)), (1, 1));
        assert_eq!(get_or(0x1234_5678, browser, || unreachable!()), (1, 1));
    }

    #[test]
    fn longest_values_are_cached_and_longer_ones_computed() {
        let ua = vec![b'x'; MAX_USER_AGENT];
        assert_eq!(get_or(0x0bad_cafe, &ua, || (2, 0)), (2, 0));
        assert_eq!(get_or(0x0bad_cafe, &ua, || unreachable!()), (2, 0));
        let longer = vec![b'x'; MAX_USER_AGENT + 1];
        let mut calls = 0;
        for _ in 0..2 {
            get_or(0x0bad_cafe, &longer, || {
                calls += 1;
                (2, 0)
            });
        }
        assert_eq!(calls, 2);
    }
}
