//! The per-client table that lives in nginx shared memory.
//!
//! nginx hands the module one contiguous region (slab memory shared by the
//! master and all workers, kept across `nginx -s reload`). The table is laid
//! out inside it with offsets only (see [`layout`]), so any process can use it
//! and a reloaded module can re-attach to it.
//!
//! It is a set-associative hash table with two choices: a key hashes (keyed
//! SipHash, seed in the header) to two buckets of [`WAYS`] slots, and lives in
//! one of them. Each bucket has its own spinlock, so a request takes one or two
//! tiny locks and never a zone-wide one; keys never move once placed, so a
//! reader can check the two buckets one after the other. A new key goes to the
//! emptier bucket; when both are full, the slot idle longest among those the
//! caller declares evictable is reused (an approximate LRU over 16 candidates).
//! Two choices let the table fill to about 80 % before the first insert finds
//! no room (with nothing evictable), where single 8-way buckets overflow below
//! half load; size a table of never-evicted entries with that margin.
//!
//! A lookup reads the bucket's first cache line (lock word, occupancy, a
//! tag byte per slot, last-seen times) and opens only slots whose tag
//! matches, each key sitting on its record's first line (see [`layout`]):
//! with a zone far larger than the CPU's caches, the lines a request
//! touches are what it costs.
//!
//! Closures run under a bucket lock: keep them short, and never call back into
//! the same table from one (the bucket lock is not re-entrant).
//!
//! A lock word holds its holder's pid. A worker killed inside a critical
//! section (the OOM killer, a crash anywhere in nginx) would otherwise leave
//! every other worker spinning on that bucket forever; a waiter that has
//! yielded for a while checks the holder with `kill(pid, 0)` and takes over a
//! lock whose holder is gone. A new record is fully written before its slot
//! is marked occupied, so a dead writer leaves at worst one half-updated
//! record: the taker checks every record of the bucket ([`Record::is_valid`])
//! and drops the invalid ones, counts the recovery ([`TableStats::recoveries`])
//! and leaves a note for the error log ([`take_recovery_note`]).

#![deny(unsafe_op_in_unsafe_fn)]

mod key;
mod layout;
#[cfg(test)]
mod tests;

use std::marker::PhantomData;
use std::mem::{align_of, size_of};
use std::ptr::NonNull;
use std::sync::atomic::Ordering;

pub use key::{client_key, key_addr, random_seed, ClientKey, DEFAULT_V6_PREFIX};
pub use layout::WAYS;

use key::{hash_key, hash_keys};
use layout::{
    split_key, tag_of, Bucket, Geometry, Header, Locked, Slots, ALL_SLOTS, LAYOUT_VERSION, MAGIC,
};

/// A record type that may live in shared memory.
///
/// `bytemuck::Pod` checks the layout at compile time: plain data without
/// padding or pointers, valid for any bit pattern, all-zero included (the
/// state of a freshly inserted record), so the same bytes mean the same
/// record in every process and in the state file.
pub trait Record: bytemuck::Pod + Send + 'static {
    /// Version of the record's layout, stored in the zone header. Change it
    /// whenever the fields change, so that a module upgraded by `nginx -s
    /// reload` refuses the old zone instead of misreading it.
    const SCHEMA: u32;

    /// Whether a record read after its writer died mid-update is still
    /// usable (a lock taken over from a dead process, see
    /// [`Table`]'s recovery); an invalid one is dropped.
    fn is_valid(&self) -> bool {
        true
    }
}

/// Locks this process took over from dead holders since the last
/// [`take_recovery_note`]: (dead pid, records dropped), for the glue's alert.
static RECOVERY_NOTE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The last lock recovery of this process not yet logged: the dead holder's
/// pid and how many invalid records its bucket lost.
#[inline]
pub fn take_recovery_note() -> Option<(u32, u32)> {
    if RECOVERY_NOTE.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let v = RECOVERY_NOTE.swap(0, Ordering::Relaxed);
    (v != 0).then_some(((v >> 32) as u32, v as u32))
}

/// Why a region cannot hold, or does not hold, a table of this record type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("shared memory at {addr:#x} is not aligned to {align} bytes")]
    Misaligned { addr: usize, align: usize },
    #[error("shared zone of {len} bytes is too small for the client table (needs {need})")]
    TooSmall { len: usize, need: usize },
    #[error("record type of {size} bytes is too large for the client table")]
    RecordTooLarge { size: usize },
    #[error("shared zone holds no client table")]
    NotATable,
    #[error(
        "shared zone was laid out by another module version (layout {found}, expected {expected})"
    )]
    Layout { found: u32, expected: u32 },
    #[error(
        "shared zone holds records of schema {found} ({found_size} bytes), \
         this module uses schema {expected} ({expected_size} bytes)"
    )]
    Schema {
        found: u32,
        found_size: u32,
        expected: u32,
        expected_size: u32,
    },
    #[error("shared zone table has {found} buckets, a zone of this size has {expected}")]
    SizeChanged { found: u32, expected: u32 },
}

/// Counters kept in the header (shared by all processes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableStats {
    /// Slots in the table.
    pub capacity: usize,
    /// Slots holding a record.
    pub used: u64,
    /// Records created (including those that replaced an evicted one).
    pub inserts: u64,
    /// Records dropped to make room for a new key.
    pub evictions: u64,
    /// Inserts refused because no candidate slot was free or evictable.
    pub insert_failures: u64,
    /// Bucket locks taken over from a dead process.
    pub recoveries: u64,
}

/// What [`Table::upsert_uncounted`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upserted {
    /// The key had a record.
    Found,
    /// A new record, in a free slot.
    Inserted,
    /// A new record, in the slot of an evicted one.
    Replaced,
}

impl Upserted {
    /// What this adds to the table's statistics.
    pub fn counts(self) -> Counts {
        match self {
            Upserted::Found => Counts::default(),
            Upserted::Inserted => Counts {
                inserts: 1,
                evictions: 0,
            },
            Upserted::Replaced => Counts {
                inserts: 1,
                evictions: 1,
            },
        }
    }
}

/// Inserts and evictions not yet in the header ([`Table::add_counts`]);
/// `evictions <= inserts` (an eviction is part of an insert).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub inserts: u64,
    pub evictions: u64,
}

/// The buckets a key may live in ([`Table::place`]); used with the table
/// and key it was computed for, anything else is computed again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Place {
    a: u32,
    b: u32,
    /// The key's tag in either bucket.
    tag: u8,
    /// The key, as two halves: a `u128` would make the place (and the
    /// nginx request context that keeps it, allocated 8-aligned from the
    /// request's pool) 16-aligned.
    of: [u64; 2],
    /// The table's header address: one table per region in a process.
    table: usize,
}

const _: () = assert!(align_of::<Place>() <= 8);

/// A handle to a table inside a shared region. Cheap to copy; every copy (in
/// every process) sees the same records.
pub struct Table<T> {
    header: NonNull<Header>,
    buckets: NonNull<Bucket<T>>,
    nbuckets: usize,
    hash_keys: [u64; 2],
    _records: PhantomData<T>,
}

// SAFETY: the handle only points at shared memory whose mutable parts are
// atomics or guarded by the bucket locks, and records are plain data.
unsafe impl<T: Record> Send for Table<T> {}
// SAFETY: as for Send: through `&Table` records are only reached under their
// bucket's lock, and the header's counters are atomics.
unsafe impl<T: Record> Sync for Table<T> {}

// Like `std::sync::Mutex`: a closure that panics leaves its bucket unlocked
// and structurally valid (a new key is fully placed before the closure runs),
// so handles may be used across `catch_unwind` in the nginx glue.
impl<T> std::panic::RefUnwindSafe for Table<T> {}
impl<T> std::panic::UnwindSafe for Table<T> {}

impl<T> Clone for Table<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Table<T> {}

impl<T: Record> Table<T> {
    /// Bytes a region needs to hold at least `capacity` records.
    pub fn bytes_for(capacity: usize) -> usize {
        let geo = Geometry::of::<T>();
        let buckets = capacity.div_ceil(WAYS).max(1);
        geo.bytes_for_buckets(buckets).unwrap_or(usize::MAX)
    }

    /// Records that fit in a region of `region_bytes` (0 if it is too small).
    pub fn capacity_for(region_bytes: usize) -> usize {
        Geometry::of::<T>().buckets_in(region_bytes) * WAYS
    }

    /// Alignment the region must have: 64, buckets start on cache lines
    /// (more only for records aligned to more).
    pub fn region_align() -> usize {
        Geometry::of::<T>().align
    }

    /// Lays out a fresh, empty table in `region` (zeroing it), with bucket
    /// placement keyed by `seed` (use [`random_seed`]).
    ///
    /// # Safety
    /// `region` must be valid for reads and writes of `len` bytes, shared by
    /// every process that uses the table, not used for anything else, and live
    /// as long as any handle. No other process may use it during the call.
    pub unsafe fn create(region: *mut u8, len: usize, seed: u64) -> Result<Table<T>, TableError> {
        let geo = Geometry::of::<T>();
        let region = check_region(region, geo.align)?;
        let record_size =
            u32::try_from(size_of::<T>()).map_err(|_| TableError::RecordTooLarge {
                size: size_of::<T>(),
            })?;
        let nbuckets = geo.buckets_in(len);
        if nbuckets == 0 {
            let need = geo.bytes_for_buckets(1).unwrap_or(usize::MAX);
            return Err(TableError::TooSmall { len, need });
        }
        let used_len = geo.bytes_for_buckets(nbuckets).unwrap_or(len);
        // SAFETY: the caller grants `len` writable bytes, and `used_len <= len`.
        // Zero bytes are a valid header, unlocked empty buckets and records.
        unsafe { std::ptr::write_bytes(region.as_ptr(), 0, used_len) };
        let header = region.cast::<Header>();
        // SAFETY: aligned (checked above), inside the region, no other users yet.
        unsafe {
            let h = &mut *header.as_ptr();
            h.layout_version = LAYOUT_VERSION;
            h.schema = T::SCHEMA;
            h.record_size = record_size;
            h.record_align = align_of::<T>() as u32;
            h.ways = WAYS as u32;
            h.buckets = nbuckets as u32;
            h.hash_keys = hash_keys(seed);
            std::sync::atomic::fence(Ordering::Release);
            h.magic = MAGIC;
        }
        // SAFETY: the header was just written as a table of `T`.
        unsafe { Self::attach(region.as_ptr(), len) }
    }

    /// Re-attaches to a table that [`Table::create`] laid out in this region
    /// earlier (after `nginx -s reload`), checking that the layout, the record
    /// schema and the size still match.
    ///
    /// # Safety
    /// As for [`Table::create`], except that other processes may be using the
    /// table concurrently.
    pub unsafe fn attach(region: *mut u8, len: usize) -> Result<Table<T>, TableError> {
        let geo = Geometry::of::<T>();
        let region = check_region(region, geo.align)?;
        if len < geo.buckets_offset {
            let need = geo.bytes_for_buckets(1).unwrap_or(usize::MAX);
            return Err(TableError::TooSmall { len, need });
        }
        let header = region.cast::<Header>();
        // SAFETY: aligned and inside the region; the fields read here are
        // written once by `create` and never change afterwards.
        let h = unsafe { header.as_ref() };
        if h.magic != MAGIC {
            return Err(TableError::NotATable);
        }
        if h.layout_version != LAYOUT_VERSION || h.ways != WAYS as u32 {
            return Err(TableError::Layout {
                found: h.layout_version,
                expected: LAYOUT_VERSION,
            });
        }
        if h.schema != T::SCHEMA
            || h.record_size as usize != size_of::<T>()
            || h.record_align as usize != align_of::<T>()
        {
            return Err(TableError::Schema {
                found: h.schema,
                found_size: h.record_size,
                expected: T::SCHEMA,
                expected_size: size_of::<T>() as u32,
            });
        }
        let expected = geo.buckets_in(len);
        if h.buckets as usize != expected || expected == 0 {
            return Err(TableError::SizeChanged {
                found: h.buckets,
                expected: expected as u32,
            });
        }
        // SAFETY: `buckets_offset < len`, so the pointer stays inside the region.
        let buckets = unsafe { region.add(geo.buckets_offset) }.cast::<Bucket<T>>();
        Ok(Table {
            header,
            buckets,
            nbuckets: expected,
            hash_keys: h.hash_keys,
            _records: PhantomData,
        })
    }

    /// Runs `f` on the record of `key` under its bucket lock, inserting a
    /// zeroed record first if the key is absent (`f` then gets `true`), and
    /// stamps the record's last-seen time with `now` (seconds).
    ///
    /// When both candidate buckets are full, the slot idle longest among those
    /// for which `evictable(record, now)` holds is reused; if none is, the key
    /// is not inserted and `None` is returned (see [`Table::warn_once_full`]).
    pub fn upsert<R>(
        &self,
        key: ClientKey,
        now: u32,
        evictable: impl Fn(&T, u32) -> bool,
        f: impl FnOnce(&mut T, bool) -> R,
    ) -> Option<R> {
        self.upsert_at(self.place(key), key, now, evictable, f)
    }

    /// Where `key` lives (its two candidate buckets): the keyed hash of the
    /// key, computed once for the several operations of one request on the
    /// same record ([`Table::upsert_at`], [`Table::update_at`]).
    pub fn place(&self, key: ClientKey) -> Place {
        let (a, b, tag) = self.candidates(key);
        Place {
            a: a as u32,
            b: b as u32,
            tag,
            of: split_key(key),
            table: self.header.as_ptr() as usize,
        }
    }

    /// Asks the CPU to start fetching the first line of `place`'s first
    /// bucket (its lock word and tags), without touching it: in a zone far
    /// larger than the CPU's caches that line is a memory miss, which the
    /// request path overlaps with its header scan by calling this first.
    /// A hint only: nothing is read, and a stale place does nothing.
    #[inline]
    pub fn prefetch_bucket(&self, place: &Place) {
        if place.table != self.header.as_ptr() as usize {
            return;
        }
        prefetch_lines(
            (self.bucket(place.a as usize) as *const Bucket<T>).cast(),
            64,
        );
    }

    /// Asks the CPU to start fetching the record lines of the slots of
    /// `place`'s first bucket whose tag is the key's (one slot, nearly
    /// always), so that the record is in cache when [`Table::upsert_at`]
    /// comes to it. Best done a little after [`Table::prefetch_bucket`]:
    /// it reads the bucket's first line. It takes the bucket lock only if
    /// it is free (one compare-and-swap; a busy bucket is skipped, never
    /// waited for) and holds it while reading that one line; the records
    /// themselves are not read.
    #[inline]
    pub fn prefetch_record(&self, place: &Place) {
        if place.table != self.header.as_ptr() as usize {
            return;
        }
        let bucket = self.bucket(place.a as usize);
        let mut first: Option<*const u8> = None;
        let mut second: Option<*const u8> = None;
        if let Some(mut guard) = bucket.try_lock() {
            let slots = guard.slots();
            let mut m = layout::tag_matches(slots.tags, place.tag);
            while m != 0 {
                let i = (m.trailing_zeros() / 8) as usize;
                m &= m - 1;
                if slots.occupied & (1 << i) == 0 {
                    continue;
                }
                // Only the address: the entry is not read here.
                let at = std::ptr::addr_of!(slots.entries[i]).cast::<u8>();
                if first.is_none() {
                    first = Some(at);
                } else {
                    second = Some(at);
                    break;
                }
            }
        }
        for at in [first, second].into_iter().flatten() {
            prefetch_lines(at, size_of::<layout::Entry<T>>());
        }
    }

    /// The candidates of `place` when it is `key`'s place in this table
    /// (the same table), else computed again.
    fn candidates_at(&self, place: Place, key: ClientKey) -> (usize, usize, u8) {
        if place.of == split_key(key) && place.table == self.header.as_ptr() as usize {
            (place.a as usize, place.b as usize, place.tag)
        } else {
            self.candidates(key)
        }
    }

    /// [`Table::upsert`] with the key's [`Place`] already computed.
    pub fn upsert_at<R>(
        &self,
        place: Place,
        key: ClientKey,
        now: u32,
        evictable: impl Fn(&T, u32) -> bool,
        f: impl FnOnce(&mut T, bool) -> R,
    ) -> Option<R> {
        let (r, done) = self.upsert_uncounted(place, key, now, evictable, f)?;
        self.add_counts(done.counts());
        Some(r)
    }

    /// [`Table::upsert_at`] without counting an insert or an eviction in
    /// the header's statistics (the zone-wide [`TableStats`]): says what it
    /// did instead, for a caller that adds its counts later
    /// ([`Table::add_counts`]). The request path counts per worker and adds
    /// once a second, so that the header's line is not written by every new
    /// client of every worker. Refused inserts are still counted at once.
    pub fn upsert_uncounted<R>(
        &self,
        place: Place,
        key: ClientKey,
        now: u32,
        evictable: impl Fn(&T, u32) -> bool,
        f: impl FnOnce(&mut T, bool) -> R,
    ) -> Option<(R, Upserted)> {
        let (a, b, tag) = self.candidates_at(place, key);
        // Known clients are the common case: one lock when found in `a`.
        let mut first = self.lock(a);
        if let Some(slot) = first.slots().find(key, tag) {
            return Some((found(first.slots(), slot, now, f), Upserted::Found));
        }
        // Not in `a`: take `b` as well while `a` is still held, so that no
        // other process can insert the key in between and neither bucket
        // needs a second look (a new client then costs two locks, not
        // four). Locks nest only in index order, or when the second one is
        // free at once (`try_lock` never waits): no two inserters can wait
        // for each other. Otherwise `a` is released, both are taken in
        // order, and `a` is looked at again.
        let mut second = None;
        if a != b {
            let nested = if a < b {
                Some(self.lock(b))
            } else {
                self.try_lock(b)
            };
            second = match nested {
                Some(guard) => Some(guard),
                None => {
                    drop(first);
                    let later = self.lock(b);
                    first = self.lock(a);
                    if let Some(slot) = first.slots().find(key, tag) {
                        drop(later);
                        return Some((found(first.slots(), slot, now, f), Upserted::Found));
                    }
                    Some(later)
                }
            };
            if let Some(guard) = second.as_mut() {
                if let Some(slot) = guard.slots().find(key, tag) {
                    drop(first);
                    return Some((found(guard.slots(), slot, now, f), Upserted::Found));
                }
            }
        }
        // `first` is always bucket `a`, the preferred one on ties.
        let mut both: [Option<&mut Slots<T>>; 2] =
            [Some(first.slots()), second.as_mut().map(Locked::slots)];
        let Some((which, slot, evicted)) = choose_slot(&both, now, &evictable) else {
            self.header()
                .insert_failures
                .fetch_add(1, Ordering::Relaxed);
            return None;
        };
        let slots = both.get_mut(which)?.as_deref_mut()?;
        slots.tags[slot] = tag;
        slots.last_seen[slot] = now;
        let entry = &mut slots.entries[slot];
        entry.key = split_key(key);
        entry.record = T::zeroed();
        // Occupied last: a process killed before this line leaves a free slot.
        slots.occupied |= 1 << slot;
        let done = if evicted {
            Upserted::Replaced
        } else {
            Upserted::Inserted
        };
        Some((f(slots.record(slot), true), done))
    }

    /// Adds inserts and evictions counted elsewhere ([`Table::upsert_uncounted`])
    /// to the header's statistics.
    pub fn add_counts(&self, c: Counts) {
        let h = self.header();
        if c.inserts > 0 {
            h.inserts.fetch_add(c.inserts, Ordering::Relaxed);
            // Every insert that did not replace a record took a free slot.
            h.used
                .fetch_add(c.inserts.saturating_sub(c.evictions), Ordering::Relaxed);
        }
        if c.evictions > 0 {
            h.evictions.fetch_add(c.evictions, Ordering::Relaxed);
        }
    }

    /// Runs `f` on the record of `key`, if present. Does not touch last-seen.
    pub fn get<R>(&self, key: ClientKey, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.update(key, |record| f(record))
    }

    /// Runs `f` on the record of `key` under its lock, if present; does not
    /// insert and does not touch last-seen.
    pub fn update<R>(&self, key: ClientKey, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.update_at(self.place(key), key, f)
    }

    /// [`Table::update`] with the key's [`Place`] already computed.
    pub fn update_at<R>(
        &self,
        place: Place,
        key: ClientKey,
        f: impl FnOnce(&mut T) -> R,
    ) -> Option<R> {
        let (a, b, tag) = self.candidates_at(place, key);
        for i in distinct(a, b) {
            let mut guard = self.lock(i);
            let slots = guard.slots();
            if let Some(slot) = slots.find(key, tag) {
                return Some(f(slots.record(slot)));
            }
        }
        None
    }

    /// Deletes the record of `key`; `false` if there was none.
    pub fn remove(&self, key: ClientKey) -> bool {
        let (a, b, tag) = self.candidates(key);
        for i in distinct(a, b) {
            let mut guard = self.lock(i);
            let slots = guard.slots();
            if let Some(slot) = slots.find(key, tag) {
                slots.occupied &= !(1 << slot);
                self.header().used.fetch_sub(1, Ordering::Relaxed);
                return true;
            }
        }
        false
    }

    /// Calls `f(key, last_seen, record)` for every record, bucket by bucket.
    /// Each bucket is copied out under its lock and `f` runs unlocked, so `f`
    /// may take its time and may use the table. Not a snapshot of the whole
    /// table: records may change between buckets.
    pub fn for_each(&self, mut f: impl FnMut(ClientKey, u32, &T)) {
        for i in 0..self.nbuckets {
            let copy: Slots<T> = {
                let mut guard = self.lock(i);
                let slots = guard.slots();
                if slots.occupied == 0 {
                    continue;
                }
                *slots
            };
            for slot in copy.occupied_slots() {
                f(
                    copy.key(slot),
                    copy.last_seen[slot],
                    &copy.entries[slot].record,
                );
            }
        }
    }

    /// Keeps only the records for which `f(key, last_seen, record)` returns
    /// true (it may also change them), bucket by bucket under each bucket's
    /// lock. Returns how many were removed.
    pub fn retain(&self, mut f: impl FnMut(ClientKey, u32, &mut T) -> bool) -> usize {
        let mut removed = 0;
        for i in 0..self.nbuckets {
            let mut guard = self.lock(i);
            let slots = guard.slots();
            for slot in slots.occupied_slots() {
                let key = slots.key(slot);
                if !f(key, slots.last_seen[slot], slots.record(slot)) {
                    slots.occupied &= !(1 << slot);
                    // Counted at once, so a later panic in `f` cannot skew `used`.
                    self.header().used.fetch_sub(1, Ordering::Relaxed);
                    removed += 1;
                }
            }
        }
        removed
    }

    /// Maps every page of the table into this process, writable, ahead of
    /// use (`madvise(MADV_POPULATE_WRITE)`, Linux 5.14 and later; elsewhere
    /// nothing happens). The region's pages exist (the table was zeroed
    /// when created), but each process takes a page fault on its first
    /// touch of each of them: a zone sized for 200,000 clients is some
    /// 20,000 pages, so a worker that meets new clients would otherwise
    /// fault on most of its early requests, and two workers fault twice as
    /// often as one. Called once per worker at start; a few milliseconds
    /// for a 64 MB zone. Contents are not changed.
    pub fn prefault(&self) {
        let start = self.header.as_ptr() as usize;
        let end = self.buckets.as_ptr() as usize + self.nbuckets * size_of::<Bucket<T>>();
        // The region lies in one page-granular shared mapping, so the pages
        // it starts and ends in are mapped as a whole.
        const PAGE: usize = 4096;
        let from = start & !(PAGE - 1);
        let len = end.div_ceil(PAGE) * PAGE - from;
        // SAFETY: the range covers only pages of the mapping that holds the
        // table (see above); MADV_POPULATE_WRITE faults them in without
        // changing a byte, and fails harmlessly (EINVAL) where unsupported.
        let _ = unsafe { libc::madvise(from as *mut libc::c_void, len, libc::MADV_POPULATE_WRITE) };
    }

    /// Slots in the table.
    pub fn capacity(&self) -> usize {
        self.nbuckets * WAYS
    }

    pub fn stats(&self) -> TableStats {
        let h = self.header();
        TableStats {
            capacity: self.capacity(),
            // Removals are counted at once and inserts may be added up to
            // a second later (`add_counts`): the difference may dip below
            // zero for that long.
            used: (h.used.load(Ordering::Relaxed) as i64).clamp(0, self.capacity() as i64) as u64,
            inserts: h.inserts.load(Ordering::Relaxed),
            evictions: h.evictions.load(Ordering::Relaxed),
            insert_failures: h.insert_failures.load(Ordering::Relaxed),
            recoveries: u64::from(h.recoveries.load(Ordering::Relaxed)),
        }
    }

    /// Slots holding a record (one relaxed load: cheap enough to skip a
    /// lookup in an empty table).
    pub fn len(&self) -> u64 {
        self.header().used.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether any record was ever evicted (one relaxed load, for the
    /// per-request "zone is full" check).
    #[inline]
    pub fn evicted(&self) -> bool {
        self.header().evictions.load(Ordering::Relaxed) > 0
    }

    /// `true` for the first caller only (across all processes and reloads of
    /// this zone), so "zone is full" reaches the error log once.
    pub fn warn_once_full(&self) -> bool {
        self.header().warned_full.swap(1, Ordering::Relaxed) == 0
    }

    fn header(&self) -> &Header {
        // SAFETY: checked by `attach`; lives as long as the region.
        unsafe { self.header.as_ref() }
    }

    /// Takes bucket `i`'s lock; after taking it over from a dead process,
    /// drops the records that process may have left half-written.
    fn lock(&self, i: usize) -> Locked<'_, T> {
        let mut guard = self.bucket(i).lock();
        if let Some(dead) = guard.recovered() {
            let slots = guard.slots();
            slots.occupied &= ALL_SLOTS;
            let mut dropped = 0u32;
            for slot in slots.occupied_slots() {
                if !slots.entries[slot].record.is_valid() {
                    slots.occupied &= !(1 << slot);
                    self.header().used.fetch_sub(1, Ordering::Relaxed);
                    dropped += 1;
                }
            }
            self.header().recoveries.fetch_add(1, Ordering::Relaxed);
            RECOVERY_NOTE.store(
                u64::from(dead) << 32 | u64::from(dropped),
                Ordering::Relaxed,
            );
        }
        guard
    }

    /// Takes bucket `i`'s lock if it is free at once: never waits, so it
    /// may be taken while holding a lock of a higher index. A lock held by
    /// a dead process is not free: [`Table::lock`] recovers it.
    fn try_lock(&self, i: usize) -> Option<Locked<'_, T>> {
        self.bucket(i).try_lock()
    }

    fn bucket(&self, i: usize) -> &Bucket<T> {
        debug_assert!(i < self.nbuckets);
        // SAFETY: every caller passes `i < nbuckets`, and `attach` checked that
        // `nbuckets` buckets fit in the region.
        unsafe { &*self.buckets.as_ptr().add(i) }
    }

    /// The two buckets `key` may live in, from independent halves of its hash
    /// (multiply-shift maps a 32-bit half onto `0..nbuckets` without division),
    /// and its tag in them.
    fn candidates(&self, key: ClientKey) -> (usize, usize, u8) {
        let h = hash_key(self.hash_keys, key);
        let n = self.nbuckets as u64;
        let a = ((h & 0xffff_ffff) * n) >> 32;
        let b = ((h >> 32) * n) >> 32;
        (a as usize, b as usize, tag_of(h))
    }
}

/// A key found in `slots` at `slot`: its last-seen time moves on and `f`
/// runs on its record.
fn found<T, R>(
    slots: &mut Slots<T>,
    slot: usize,
    now: u32,
    f: impl FnOnce(&mut T, bool) -> R,
) -> R {
    slots.last_seen[slot] = slots.last_seen[slot].max(now);
    f(slots.record(slot), false)
}

/// `a`, then `b` unless it is the same bucket.
fn distinct(a: usize, b: usize) -> impl Iterator<Item = usize> {
    std::iter::once(a).chain((a != b).then_some(b))
}

/// Where a new key goes: a free slot in the emptier bucket (the first on ties),
/// else the evictable slot idle longest. Returns (bucket, slot, evicted).
fn choose_slot<T>(
    both: &[Option<&mut Slots<T>>; 2],
    now: u32,
    evictable: &impl Fn(&T, u32) -> bool,
) -> Option<(usize, usize, bool)> {
    let mut free: Option<(u32, usize, usize)> = None;
    for (which, slots) in both.iter().enumerate() {
        let Some(slots) = slots else { continue };
        if let Some(slot) = slots.free_slot() {
            if free.is_none_or(|(len, _, _)| slots.len() < len) {
                free = Some((slots.len(), which, slot));
            }
        }
    }
    if let Some((_, which, slot)) = free {
        return Some((which, slot, false));
    }
    let mut oldest: Option<(u32, usize, usize)> = None;
    for (which, slots) in both.iter().enumerate() {
        let Some(slots) = slots else { continue };
        for slot in slots.occupied_slots() {
            let seen = slots.last_seen[slot];
            if oldest.is_none_or(|(t, _, _)| seen < t)
                && evictable(&slots.entries[slot].record, now)
            {
                oldest = Some((seen, which, slot));
            }
        }
    }
    oldest.map(|(_, which, slot)| (which, slot, true))
}

fn check_region(region: *mut u8, align: usize) -> Result<NonNull<u8>, TableError> {
    let addr = region as usize;
    match NonNull::new(region) {
        Some(p) if addr % align == 0 => Ok(p),
        _ => Err(TableError::Misaligned { addr, align }),
    }
}

/// A prefetch hint for the `len` bytes from `at`, one per cache line: the
/// CPU starts loading them and the caller goes on. Never faults, whatever
/// the address (x86-64 `prefetcht0`); elsewhere no hint is given.
#[inline(always)]
fn prefetch_lines(at: *const u8, len: usize) {
    #[cfg(target_arch = "x86_64")]
    for offset in (0..len).step_by(64) {
        // SAFETY: a prefetch is a hint: it reads nothing the program sees
        // and does not fault on any address; `wrapping_add` keeps the
        // pointer arithmetic defined whatever `at` is.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                at.wrapping_add(offset).cast(),
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (at, len);
}
