//! Table tests on heap regions: single-thread semantics, attach checks, and a
//! multi-thread stress test whose exact sums prove the bucket locks.

use super::*;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

/// A heap region with the 64-byte alignment the zone's regions have.
struct Region(Vec<Line>);

#[repr(C, align(64))]
#[derive(Clone, Copy)]
struct Line([u8; 64]);

impl Region {
    fn new(bytes: usize) -> Region {
        Region(vec![Line([0; 64]); bytes.div_ceil(64)])
    }
    fn ptr(&mut self) -> *mut u8 {
        self.0.as_mut_ptr().cast()
    }
    fn len(&self) -> usize {
        self.0.len() * 64
    }
    fn create<T: Record>(&mut self) -> Table<T> {
        let len = self.len();
        // SAFETY: the region is this test's own 64-aligned buffer of `len`
        // bytes, alive as long as the table (both end with the test).
        unsafe { Table::create(self.ptr(), len, 7) }.unwrap()
    }
}

/// A detector-sized record.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Client {
    hits: u64,
    mirror: u64,
    pinned: u8,
    rest: [u8; 239],
}
impl Record for Client {
    const SCHEMA: u32 = 1;
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Small {
    a: u64,
    b: u64,
}
impl Record for Small {
    const SCHEMA: u32 = 2;
}

/// Same size as `Small`, another schema.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct SmallV2 {
    a: u64,
    b: u64,
}
impl Record for SmallV2 {
    const SCHEMA: u32 = 3;
}

fn v4(i: u32) -> ClientKey {
    client_key(
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)),
        DEFAULT_V6_PREFIX,
    )
}

fn any(_: &Client, _: u32) -> bool {
    true
}

fn unpinned(c: &Client, _: u32) -> bool {
    c.pinned == 0
}

#[test]
fn a_64mb_zone_holds_200k_clients() {
    assert_eq!(size_of::<Client>(), 256);
    let zone = 64 << 20;
    let capacity = Table::<Client>::capacity_for(zone);
    let per_record = zone as f64 / capacity as f64;
    println!("64 MB zone: {capacity} records of 256 bytes ({per_record:.1} bytes each)");
    assert!(capacity >= 200_000, "{capacity}");
    assert!(Table::<Client>::bytes_for(capacity) <= zone);
    assert!(Table::<Client>::capacity_for(Table::<Client>::bytes_for(1000)) >= 1000);
    assert_eq!(Table::<Client>::capacity_for(100), 0);
    assert_eq!(Table::<Client>::region_align(), 64);
}

#[test]
fn insert_get_update_remove() {
    let mut region = Region::new(Table::<Client>::bytes_for(1000));
    let t = region.create::<Client>();
    let k = v4(1);
    assert_eq!(t.get(k, |c| c.hits), None);
    assert_eq!(
        t.upsert(k, 10, any, |c, new| {
            c.hits += 1;
            new
        }),
        Some(true)
    );
    assert_eq!(
        t.upsert(k, 11, any, |c, new| {
            c.hits += 1;
            new
        }),
        Some(false)
    );
    assert_eq!(t.get(k, |c| c.hits), Some(2));
    assert_eq!(
        t.update(k, |c| {
            c.hits = 40;
            c.hits
        }),
        Some(40)
    );
    assert_eq!(t.update(v4(2), |c| c.hits), None, "update must not insert");
    assert_eq!(t.stats().used, 1);
    assert!(t.remove(k));
    assert!(!t.remove(k));
    assert_eq!(t.get(k, |c| c.hits), None);
    // A key inserted again starts from a zeroed record.
    assert_eq!(
        t.upsert(k, 12, any, |c, new| (c.hits, new)),
        Some((0, true))
    );
    let s = t.stats();
    assert_eq!(
        (s.used, s.inserts, s.evictions, s.insert_failures),
        (1, 2, 0, 0)
    );
    assert_eq!(s.capacity, t.capacity());
}

#[test]
fn last_seen_follows_upserts_and_never_goes_back() {
    let mut region = Region::new(Table::<Client>::bytes_for(64));
    let t = region.create::<Client>();
    t.upsert(v4(1), 10, any, |_, _| ());
    t.upsert(v4(1), 20, any, |_, _| ());
    t.upsert(v4(1), 15, any, |_, _| ()); // a worker whose cached clock lags
    t.update(v4(1), |c| c.hits = 1);
    let mut seen = Vec::new();
    t.for_each(|k, last, c| seen.push((k, last, c.hits)));
    assert_eq!(seen, vec![(v4(1), 20, 1)]);
}

/// One bucket (both choices coincide), so eviction order is fully visible.
fn one_bucket(region: &mut Region) -> Table<Client> {
    let t = region.create::<Client>();
    assert_eq!(t.capacity(), WAYS);
    t
}

#[test]
fn evicts_the_evictable_slot_idle_longest() {
    let mut region = Region::new(Table::<Client>::bytes_for(WAYS));
    let t = one_bucket(&mut region);
    for i in 0..WAYS as u32 {
        // Inserted out of time order, so "oldest" is not "first slot".
        let now = 100 + (i * 5) % 8;
        t.upsert(v4(i), now, any, |c, _| c.pinned = u8::from(i < 3));
    }
    // Times: i=0..7 -> 100,105,102,107,104,101,106,103. Pinned: 0, 1, 2.
    assert_eq!(t.upsert(v4(100), 200, unpinned, |_, new| new), Some(true));
    assert_eq!(
        t.get(v4(5), |_| ()),
        None,
        "idle longest unpinned (t=101) goes"
    );
    assert!(t.get(v4(0), |_| ()).is_some(), "pinned t=100 stays");
    assert_eq!(t.upsert(v4(101), 200, unpinned, |_, new| new), Some(true));
    assert_eq!(t.get(v4(7), |_| ()), None, "next idle longest (t=103) goes");
    let s = t.stats();
    assert_eq!((s.used, s.evictions), (WAYS as u64, 2));
}

#[test]
fn non_evictable_records_are_never_evicted() {
    let mut region = Region::new(Table::<Client>::bytes_for(WAYS));
    let t = one_bucket(&mut region);
    for i in 0..WAYS as u32 {
        t.upsert(v4(i), i, any, |c, _| c.pinned = 1);
    }
    assert!(t.warn_once_full());
    assert_eq!(t.upsert(v4(99), 1000, unpinned, |_, _| ()), None);
    assert_eq!(t.upsert(v4(98), 1000, unpinned, |_, _| ()), None);
    assert!(!t.warn_once_full(), "warns once");
    for i in 0..WAYS as u32 {
        assert_eq!(t.get(v4(i), |c| c.pinned), Some(1));
    }
    // A key already present is still updated when the table is full.
    assert_eq!(t.upsert(v4(3), 1000, unpinned, |_, new| new), Some(false));
    let s = t.stats();
    assert_eq!(
        (s.used, s.evictions, s.insert_failures),
        (WAYS as u64, 0, 2)
    );
}

#[test]
fn two_choices_fill_the_table_before_failing() {
    let mut region = Region::new(Table::<Small>::bytes_for(8192));
    let t = region.create::<Small>();
    let never = |_: &Small, _: u32| false;
    let mut placed = 0u32;
    while t.upsert(v4(placed), 0, never, |_, _| ()).is_some() {
        placed += 1;
    }
    let load = f64::from(placed) / t.capacity() as f64;
    println!(
        "first failed insert at {:.1} % load ({placed} of {})",
        load * 100.0,
        t.capacity()
    );
    assert!(load > 0.75, "{load}");
    for i in 0..placed {
        assert!(t.get(v4(i), |_| ()).is_some(), "key {i} lost");
    }
}

#[test]
fn attach_sees_the_same_records_and_checks_the_layout() {
    let mut region = Region::new(Table::<Small>::bytes_for(512));
    let len = region.len();
    let t = region.create::<Small>();
    t.upsert(v4(9), 5, |_, _| true, |r, _| r.a = 77);
    // SAFETY: the same region, same length, as the table created above.
    let again = unsafe { Table::<Small>::attach(region.ptr(), len) }.unwrap();
    assert_eq!(again.get(v4(9), |r| r.a), Some(77));
    assert_eq!(again.stats(), t.stats());
    assert_eq!(again.capacity(), t.capacity());

    let p = region.ptr();
    // SAFETY: the test's region: a valid table, read as another schema.
    let schema = unsafe { Table::<SmallV2>::attach(p, len) }.err();
    assert!(matches!(
        schema,
        Some(TableError::Schema {
            found: 2,
            expected: 3,
            ..
        })
    ));
    // SAFETY: the test's region: a valid table, read with another record size.
    let size = unsafe { Table::<Client>::attach(p, len) }.err();
    assert!(matches!(
        size,
        Some(TableError::Schema {
            found_size: 16,
            expected_size: 256,
            ..
        })
    ));
    // SAFETY: half the region is still inside it.
    let resized = unsafe { Table::<Small>::attach(p, len / 2) }.err();
    assert!(matches!(resized, Some(TableError::SizeChanged { .. })));
    // SAFETY: 4 bytes in and 16 shorter stays inside the region.
    let misaligned = unsafe { Table::<Small>::attach(p.wrapping_add(4), len - 16) }.err();
    assert!(matches!(
        misaligned,
        Some(TableError::Misaligned { align: 64, .. })
    ));
    // SAFETY: attach refuses a null or misaligned address before reading it.
    let null = unsafe { Table::<Small>::attach(std::ptr::null_mut(), len) }.err();
    assert!(matches!(null, Some(TableError::Misaligned { addr: 0, .. })));
    // SAFETY: 64 bytes of the test's region (refused as too small).
    let tiny = unsafe { Table::<Small>::create(p, 64, 1) }.err();
    assert!(matches!(tiny, Some(TableError::TooSmall { len: 64, .. })));

    let mut blank = Region::new(len);
    let bp = blank.ptr();
    assert_eq!(
        // SAFETY: the test's zeroed buffer of `len` bytes.
        unsafe { Table::<Small>::attach(bp, len) }.err(),
        Some(TableError::NotATable)
    );
}

#[test]
fn create_wipes_an_old_table() {
    let mut region = Region::new(Table::<Small>::bytes_for(512));
    let t = region.create::<Small>();
    t.upsert(v4(1), 1, |_, _| true, |_, _| ());
    let t = region.create::<Small>();
    assert_eq!(t.get(v4(1), |_| ()), None);
    assert_eq!(t.stats().used, 0);
}

#[test]
fn a_panicking_closure_releases_the_lock() {
    let mut region = Region::new(Table::<Small>::bytes_for(64));
    let t = region.create::<Small>();
    let all = |_: &Small, _: u32| true;
    for k in [v4(1), v4(2)] {
        let r = std::panic::catch_unwind(|| t.upsert(k, 1, all, |_, _| panic!("detector bug")));
        assert!(r.is_err());
        let r = std::panic::catch_unwind(|| t.update(k, |_| panic!("detector bug")));
        assert!(r.is_err());
    }
    for i in 0..t.nbuckets {
        assert!(!t.bucket(i).is_locked(), "bucket {i} left locked");
    }
    // The record inserted before the panic exists, zeroed.
    assert_eq!(
        t.upsert(v4(1), 2, all, |r, new| (r.a, new)),
        Some((0, false))
    );
}

#[test]
fn retain_and_for_each() {
    let mut region = Region::new(Table::<Small>::bytes_for(1024));
    let t = region.create::<Small>();
    for i in 0..500 {
        t.upsert(v4(i), i, |_, _| false, |r, _| r.a = u64::from(i));
    }
    let removed = t.retain(|_, last_seen, r| {
        r.b = 1;
        last_seen >= 100
    });
    assert_eq!(removed, 100);
    assert_eq!(t.stats().used, 400);
    let mut keys = HashSet::new();
    t.for_each(|k, last_seen, r| {
        assert_eq!(r.a, u64::from(last_seen));
        assert_eq!(r.b, 1);
        // `for_each` runs unlocked, so using the table here must not deadlock.
        assert!(t.get(k, |_| ()).is_some());
        assert!(keys.insert(k));
    });
    assert_eq!(keys.len(), 400);
    assert!(!keys.contains(&v4(99)) && keys.contains(&v4(100)));
}

/// Threads hammer shared keys (exact sums and two fields that must stay equal
/// prove mutual exclusion) while others insert and remove their own keys
/// (no key may ever appear twice, `used` must match the records).
#[test]
fn concurrent_upserts_are_exact() {
    const THREADS: u64 = 4;
    const ROUNDS: u64 = 50_000;
    const SHARED: u32 = 48;
    let mut region = Region::new(Table::<Client>::bytes_for(4096));
    let t = region.create::<Client>();
    let start = std::sync::Barrier::new(THREADS as usize);
    std::thread::scope(|s| {
        for id in 0..THREADS {
            let start = &start;
            s.spawn(move || {
                start.wait();
                for round in 0..ROUNDS {
                    let shared = v4((round as u32 * 7 + id as u32) % SHARED);
                    let done = t.upsert(shared, round as u32, any, |c, _| {
                        // Read, work, write: a race in here loses increments.
                        let (h, m) = (c.hits, c.mirror);
                        for b in &mut c.rest[..32] {
                            *b = std::hint::black_box(b.wrapping_add(1));
                        }
                        c.hits = h + 1;
                        c.mirror = m + 1;
                    });
                    assert!(done.is_some());
                    let own = v4(10_000 + id as u32 * 1000 + (round % 200) as u32);
                    if round % 3 == 0 {
                        t.remove(own);
                    } else {
                        t.upsert(own, round as u32, any, |c, _| c.pinned = 1);
                    }
                }
            });
        }
    });
    let (mut total, mut present) = (0, 0);
    let mut keys = HashSet::new();
    t.for_each(|k, _, c| {
        assert!(keys.insert(k), "key {k:#x} stored twice");
        assert_eq!(c.hits, c.mirror, "lost update on {k:#x}");
        total += c.hits;
        present += 1;
    });
    assert_eq!(total, THREADS * ROUNDS);
    assert_eq!(t.stats().used, present);
    assert_eq!(t.stats().evictions, 0);
}

/// A pid that no process has: a child that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let pid = child.id();
    child.wait().expect("wait");
    pid
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Checked {
    value: u64,
    valid: u64,
}
impl Record for Checked {
    const SCHEMA: u32 = 4;
    fn is_valid(&self) -> bool {
        self.valid == 0 || self.valid == 1
    }
}

#[test]
fn a_lock_whose_holder_died_is_taken_over_and_checked() {
    // One bucket: every key lives in it.
    let geo = Geometry::of::<Checked>();
    let mut r = Region::new(geo.bytes_for_buckets(1).unwrap_or(0));
    let t: Table<Checked> = r.create();
    assert_eq!(t.nbuckets, 1);
    t.upsert(5, 1, |_, _| true, |c, _| c.value = 10);
    // Another record, left half-written by the holder that died.
    t.upsert(6, 1, |_, _| true, |c, _| c.valid = 77);
    let dead = dead_pid();
    t.bucket(0).abandon_to(dead);
    let before = t.stats();
    let started = std::time::Instant::now();
    // Without recovery this would spin forever.
    assert_eq!(t.get(5, |c| c.value), Some(10));
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert!(!t.bucket(0).is_locked());
    let after = t.stats();
    assert_eq!(after.recoveries, before.recoveries + 1);
    assert_eq!(take_recovery_note(), Some((dead, 1)));
    assert!(t.get(6, |_| ()).is_none(), "the invalid record is dropped");
    assert_eq!(after.used, before.used - 1);
    assert_eq!(take_recovery_note(), None, "one note per recovery");
}

#[test]
fn a_living_holder_is_waited_for() {
    let mut r = Region::new(4096);
    let t: Table<Checked> = r.create();
    t.upsert(5, 1, |_, _| true, |c, _| c.value = 1);
    let (a, _, _) = t.candidates(5);
    assert!(t.get(5, |_| ()).is_some());
    // Held by this very process (another thread, say): never taken over.
    t.bucket(a).abandon_to(layout::process_id());
    let t2 = t;
    let waiter = std::thread::spawn(move || t2.get(5, |c| c.value));
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!waiter.is_finished(), "waits for a living holder");
    assert_eq!(t.stats().recoveries, 0);
    // The holder releases.
    t.bucket(a).abandon_to(0);
    assert_eq!(waiter.join().ok().flatten(), Some(1));
}

#[test]
fn a_new_key_whose_second_bucket_is_busy_waits_in_order_and_is_stored_once() {
    // A new key whose second bucket has the lower index: `a` is held, `b`
    // is tried and found busy, so `a` is let go and both are taken in
    // index order. Both orders, with `b` free and with `b` busy.
    let mut r = Region::new(Table::<Small>::bytes_for(64 * WAYS));
    let t: Table<Small> = r.create();
    let mut keys = (0u32..).map(|i| 0x0a00_0000_u128 + u128::from(i));
    let mut pick = |want: fn(usize, usize) -> bool| loop {
        let k = keys.next().unwrap_or_default();
        let (a, b, _) = t.candidates(k);
        if want(a, b) {
            return (k, a, b);
        }
    };
    for want in [(|a, b| a < b) as fn(usize, usize) -> bool, |a, b| a > b] {
        let (k, _, _) = pick(want);
        assert_eq!(
            t.upsert(
                k,
                1,
                |_, _| true,
                |c, new| {
                    c.a += 1;
                    new
                }
            ),
            Some(true)
        );
        assert_eq!(
            t.upsert(
                k,
                2,
                |_, _| true,
                |c, new| {
                    c.a += 1;
                    new
                }
            ),
            Some(false)
        );
        let (k, a, b2) = pick(want);
        // Held by this process (another thread, say) until released.
        t.bucket(b2).abandon_to(layout::process_id());
        let t2 = t;
        let waiter = std::thread::spawn(move || {
            t2.upsert(
                k,
                3,
                |_, _| true,
                |c, new| {
                    c.a += 1;
                    new
                },
            )
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(
            !waiter.is_finished(),
            "waits for the living holder of bucket {b2}"
        );
        // `a` is not held while waiting when `b` is the lower bucket.
        if a > b2 {
            assert!(!t.bucket(a).is_locked());
        }
        t.bucket(b2).abandon_to(0);
        assert_eq!(waiter.join().ok().flatten(), Some(true));
        assert_eq!(t.get(k, |c| c.a), Some(1));
        assert!(!t.bucket(a).is_locked() && !t.bucket(b2).is_locked());
    }
    let mut seen = HashSet::new();
    t.for_each(|k, _, _| assert!(seen.insert(k)));
    assert_eq!(seen.len(), 4);
}

#[test]
fn a_place_is_used_only_with_its_own_table_and_key() {
    let (mut r1, mut r2) = (Region::new(64 * 1024), Region::new(24 * 1024));
    let (t1, t2): (Table<Small>, Table<Small>) = (r1.create(), r2.create());
    let (k, other) = (
        client_key(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 64),
        99u128,
    );
    let p = t1.place(k);
    assert_eq!(
        t1.upsert_at(
            p,
            k,
            1,
            |_, _| true,
            |s, new| {
                s.a += 1;
                new
            }
        ),
        Some(true)
    );
    assert_eq!(t1.update_at(p, k, |s| s.a), Some(1));
    assert_eq!(
        t1.update(k, |s| s.a),
        Some(1),
        "the same buckets as without a place"
    );
    // Another table's place, or another key's, is computed again: the record
    // is found where a plain lookup finds it, never inserted twice.
    t2.upsert(k, 1, |_, _| true, |s, _| s.a = 5);
    assert_eq!(t2.update_at(p, k, |s| s.a), Some(5));
    assert_eq!(
        t2.upsert_at(p, k, 1, |_, _| true, |_, new| new),
        Some(false)
    );
    assert_eq!(t1.update_at(t1.place(other), k, |s| s.a), Some(1));
    assert_eq!(t1.stats().used, 1);
    assert_eq!(t2.stats().used, 1);
}

#[test]
fn tag_matches_marks_exactly_the_equal_bytes() {
    // Every tag against arrays that hold it, its neighbours (one bit
    // apart, where borrow-based zero tests give false positives) and 0.
    let mut rng_rng = crate::testing::XorShift64::new(0x9e37_79b9_7f4a_7c15);
    for tag in 0..=255u8 {
        for _ in 0..64 {
            let rng = rng_rng.next_u64();
            let mut tags = rng.to_le_bytes();
            for (i, t) in tags.iter_mut().enumerate() {
                match (rng >> (8 * i + 3)) % 5 {
                    0 => *t = tag,
                    1 => *t = tag ^ 1,
                    2 => *t = tag.wrapping_add(1),
                    3 => *t = 0,
                    _ => {}
                }
            }
            let m = layout::tag_matches(tags, tag);
            for (i, t) in tags.iter().enumerate() {
                let marked = (m >> (8 * i)) & 0xff;
                assert_eq!(marked, if *t == tag { 0x80 } else { 0 }, "{tags:?} {tag}");
            }
        }
    }
}

#[test]
fn keys_with_equal_tags_in_one_bucket_are_told_apart() {
    // One bucket: every key lands in it, and 8 keys share few tag values
    // often enough over many rounds; each must still find its own record.
    let mut region = Region::new(Table::<Client>::bytes_for(WAYS));
    let t = region.create::<Client>();
    for round in 0..200u32 {
        let keys: Vec<u128> = (0..WAYS as u32).map(|i| v4(round * 16 + i)).collect();
        for (i, k) in keys.iter().enumerate() {
            t.upsert(*k, round, any, |c, _| c.hits = i as u64);
        }
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(t.get(*k, |c| c.hits), Some(i as u64));
        }
        for k in &keys {
            assert!(t.remove(*k));
        }
    }
}

#[test]
fn uncounted_upserts_say_what_they_did_and_are_added_later() {
    let mut region = Region::new(Table::<Client>::bytes_for(WAYS));
    let t = one_bucket(&mut region);
    let mut pending = Counts::default();
    let mut add = |done: Upserted| {
        let c = done.counts();
        pending.inserts += c.inserts;
        pending.evictions += c.evictions;
    };
    for i in 0..WAYS as u32 + 3 {
        let (new, done) = t
            .upsert_uncounted(t.place(v4(i)), v4(i), i, any, |_, new| new)
            .unwrap();
        assert!(new);
        let want = if i < WAYS as u32 {
            Upserted::Inserted
        } else {
            Upserted::Replaced
        };
        assert_eq!(done, want, "{i}");
        add(done);
    }
    let (new, done) = t
        .upsert_uncounted(
            t.place(v4(WAYS as u32)),
            v4(WAYS as u32),
            50,
            any,
            |_, new| new,
        )
        .unwrap();
    assert_eq!((new, done), (false, Upserted::Found));
    add(done);
    // Nothing in the header yet.
    let s = t.stats();
    assert_eq!((s.used, s.inserts, s.evictions), (0, 0, 0));
    t.add_counts(pending);
    let s = t.stats();
    assert_eq!(
        (s.used, s.inserts, s.evictions),
        (WAYS as u64, WAYS as u64 + 3, 3),
        "as if counted at once"
    );
    // A removal counted at once before the inserts were added does not
    // show as a huge count.
    let mut region = Region::new(Table::<Client>::bytes_for(WAYS));
    let t = one_bucket(&mut region);
    t.upsert_uncounted(t.place(v4(1)), v4(1), 1, any, |_, _| ())
        .unwrap();
    assert!(t.remove(v4(1)));
    assert_eq!(t.stats().used, 0);
    t.add_counts(Upserted::Inserted.counts());
    assert_eq!(t.stats().used, 0);
    assert_eq!(t.stats().inserts, 1);
}

#[test]
fn prefault_changes_nothing() {
    let mut region = Region::new(Table::<Client>::bytes_for(64 * WAYS));
    let t: Table<Client> = region.create();
    for i in 0..100 {
        t.upsert(v4(i), i, any, |c, _| c.hits = u64::from(i) + 1);
    }
    let before = t.stats();
    t.prefault();
    assert_eq!(t.stats(), before);
    for i in 0..100 {
        assert_eq!(t.get(v4(i), |c| c.hits), Some(u64::from(i) + 1));
    }
}

#[test]
fn prefetches_change_nothing_and_never_wait_for_a_held_bucket() {
    let mut r = Region::new(4096);
    let t: Table<Checked> = r.create();
    t.upsert(5, 1, |_, _| true, |c, _| c.value = 1);
    let place = t.place(5);
    let (a, _, _) = t.candidates(5);
    // Free bucket: the lock is taken and given back.
    t.prefetch_bucket(&place);
    t.prefetch_record(&place);
    assert!(!t.bucket(a).is_locked());
    // Held by a living process (this one, as another worker would): the
    // prefetch returns at once and leaves the holder's lock alone.
    t.bucket(a).abandon_to(layout::process_id());
    let started = std::time::Instant::now();
    t.prefetch_record(&place);
    assert!(started.elapsed() < std::time::Duration::from_millis(100));
    assert!(t.bucket(a).is_locked(), "the holder keeps its lock");
    t.bucket(a).abandon_to(0);
    // A place of another table, and a key not in this one: nothing happens.
    let mut other = Region::new(4096);
    let u: Table<Checked> = other.create();
    t.prefetch_record(&u.place(5));
    t.prefetch_bucket(&u.place(5));
    t.prefetch_record(&t.place(99));
    assert_eq!(t.get(5, |c| c.value), Some(1));
    assert!(t.get(99, |_| ()).is_none());
    assert_eq!(t.stats().used, 1);
}
