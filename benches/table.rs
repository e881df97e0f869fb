//! Cost of one operation on the shared client table (64 MB zone, 256-byte
//! records), against the naive alternative of a mutex around a hash map.
//!
//! - upsert/hit-cold and upsert/hit-hot: a known client, the per-request case,
//!   with 65,536 clients cycled (cache misses) or 256 (cache-resident);
//! - upsert/insert-evict: a new client in a full table, which reuses the slot
//!   idle longest (the worst per-request case);
//! - get/miss: a client the table does not know (two buckets checked);
//! - table-1m/upsert-random: the real record ([`ClientState`], 240 bytes)
//!   in a table sized for 1,000,000 clients (the `K1M` sweep's zone), a
//!   known client drawn at random on every call: each call is a cache and
//!   TLB miss for the bucket and the record, as with a large zone in nginx;
//! - table-1m-hugepages: the same on transparent huge pages (`MADV_HUGEPAGE`,
//!   as the module asks for its zone): the record is still a cache miss, the
//!   TLB miss mostly goes;
//! - upsert-begin-random-prefetched: the record update with the request
//!   path's prefetches of the bucket and the record ahead of it.
//!
//! cargo bench --no-default-features --features standalone --bench table -- --warm-up-time 1 --measurement-time 2

#![warn(clippy::undocumented_unsafe_blocks)]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Mutex;

use criterion::{criterion_group, criterion_main, Criterion};
use ngx_http_api_abuse_module::detect::{facts, AppBaseline, ClientState};
use ngx_http_api_abuse_module::request::RequestView;
use ngx_http_api_abuse_module::table::{Record, Table};

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Client {
    hits: u64,
    rest: [u8; 248],
}

impl Record for Client {
    const SCHEMA: u32 = 1;
}

const ZONE: usize = 64 << 20;

/// Memory aligned as the zone's regions are (64 bytes).
#[repr(C, align(64))]
#[derive(Clone, Copy)]
struct Line([u8; 64]);
/// Known clients probed in the cold benchmarks, cycled through: their buckets
/// are mostly out of cache, so these measure memory latency.
const PROBES: u32 = 1 << 16;
/// Clients in the hot benchmark: few enough to stay in cache, so it measures
/// the code (hash, lock, scan).
const HOT: u32 = 256;

fn key(i: u32) -> u128 {
    // Spread like real addresses: IPv4-mapped, scattered over the space.
    0xffff_0000_0000 | u128::from(i.wrapping_mul(0x9e37_79b1))
}

fn evictable(_: &Client, _: u32) -> bool {
    true
}

fn table_ops(c: &mut Criterion) {
    let mut region = vec![Line([0; 64]); ZONE / 64];
    // SAFETY: the region outlives the table, which is used by this thread only.
    let table = unsafe { Table::<Client>::create(region.as_mut_ptr().cast(), ZONE, 1) }
        .unwrap_or_else(|e| panic!("{e}"));
    let capacity = table.capacity() as u32;
    for i in 0..capacity {
        table.upsert(key(i), i / 1000, evictable, |c, _| c.hits = 1);
    }
    let s = table.stats();
    println!(
        "table: capacity {}, used {}, evictions while filling {}",
        s.capacity, s.used, s.evictions
    );

    let mut group = c.benchmark_group("table");
    let mut i = 0u32;
    let mut now = capacity;
    for (name, probes) in [("upsert/hit-cold", PROBES), ("upsert/hit-hot", HOT)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) % probes;
                table.upsert(black_box(key(capacity - i)), now, evictable, |c, new| {
                    c.hits += 1;
                    new
                })
            })
        });
    }
    let mut fresh = capacity;
    group.bench_function("upsert/insert-evict", |b| {
        b.iter(|| {
            fresh = fresh.wrapping_add(1);
            now += 1;
            table.upsert(black_box(key(fresh)), now / 1000, evictable, |c, new| {
                c.hits = 1;
                new
            })
        })
    });
    group.bench_function("get/miss", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            table.get(black_box(key(i) ^ 1 << 100), |c| c.hits)
        })
    });

    let map = Mutex::new(HashMap::<u128, Client>::with_capacity(capacity as usize));
    for i in 0..capacity {
        if let Ok(mut m) = map.lock() {
            m.insert(
                key(i),
                Client {
                    hits: 1,
                    rest: [0; 248],
                },
            );
        }
    }
    group.bench_function("baseline-mutex-hashmap/upsert-hit", |b| {
        b.iter(|| {
            i = (i + 1) % PROBES;
            let mut m = map.lock().unwrap_or_else(|e| e.into_inner());
            let c = m.entry(black_box(key(capacity - i))).or_insert(Client {
                hits: 0,
                rest: [0; 248],
            });
            c.hits += 1;
            c.hits
        })
    });
    group.finish();
    let s = table.stats();
    println!(
        "table after: used {}, evictions {}, insert failures {}",
        s.used, s.evictions, s.insert_failures
    );
}

/// Clients of the large-zone benchmark (the `K1M` sweep's count).
const MILLION: u32 = 1_000_000;

/// Anonymous memory for a large table, with transparent huge pages asked
/// for (`MADV_HUGEPAGE`, as the module asks for its zone) or refused
/// (`MADV_NOHUGEPAGE`), whatever the system's default: the two runs of
/// [`table_million`] differ only in the pages behind the same table.
struct Region {
    ptr: *mut u8,
    len: usize,
}

impl Region {
    fn new(len: usize, huge: bool) -> Region {
        // SAFETY: a fresh private anonymous mapping; checked below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert!(ptr != libc::MAP_FAILED, "mmap of {len} bytes failed");
        let advice = if huge {
            libc::MADV_HUGEPAGE
        } else {
            libc::MADV_NOHUGEPAGE
        };
        // SAFETY: the mapping just made, whole.
        let rc = unsafe { libc::madvise(ptr, len, advice) };
        assert_eq!(rc, 0, "madvise failed");
        Region {
            ptr: ptr.cast(),
            len,
        }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, no longer used (the table that
        // used it is dropped first: it is declared after the region).
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

fn table_million(c: &mut Criterion) {
    for (name, huge) in [("table-1m", false), ("table-1m-hugepages", true)] {
        table_million_on(c, name, huge);
    }
}

fn table_million_on(c: &mut Criterion, name: &str, huge: bool) {
    // Sized as the module sizes a zone: 80 % load at the wanted count.
    let bytes = Table::<ClientState>::bytes_for(MILLION as usize * 5 / 4);
    let region = Region::new(bytes.next_multiple_of(2 << 20), huge);
    // SAFETY: the region outlives the table, which is used by this thread only.
    let table = unsafe { Table::<ClientState>::create(region.ptr, region.len, 7) }
        .unwrap_or_else(|e| panic!("{e}"));
    for i in 0..MILLION {
        table.upsert(key(i), 1, |_, _| true, |_, _| ());
    }
    let s = table.stats();
    println!(
        "{name}: {} MB, capacity {}, used {}, evictions while filling {}, {}",
        bytes >> 20,
        s.capacity,
        s.used,
        s.evictions,
        huge_pages_note()
    );
    let mut group = c.benchmark_group(name);
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    group.bench_function("upsert-random", |b| {
        b.iter(|| {
            // xorshift64: a fresh random known client on every call.
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let i = (((rng >> 32) * u64::from(MILLION)) >> 32) as u32;
            table.upsert(
                black_box(key(i)),
                2,
                |_, _| true,
                |s, new| new || s.requests() == 0,
            )
        })
    });
    // The same with what the request path does under the lock: the
    // record update of one request (every field of the record is read).
    let baseline = AppBaseline::boxed();
    let view = RequestView {
        method: b"GET",
        path: b"/api/v1/products/42.json",
        user_agent: Some(b"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"),
        status: 200,
        http_version: 1001,
        ..Default::default()
    };
    let facts = facts::extract(&view, None);
    let mut now_ms = 10_000_000u64;
    group.bench_function("upsert-begin-random", |b| {
        b.iter(|| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let i = (((rng >> 32) * u64::from(MILLION)) >> 32) as u32;
            now_ms += 1;
            table.upsert(
                black_box(key(i)),
                (now_ms / 1000) as u32,
                |_, _| true,
                |s, _| s.begin(&facts, &baseline, now_ms).minute_sample,
            )
        })
    });
    // The same, with the request path's two prefetches: the bucket's line
    // asked for two requests ahead and the record's lines one ahead, as the
    // PREACCESS handler asks for them before its header walk and before the
    // signature scan (a software pipeline standing in for that work).
    let mut ahead = [0u32; 2];
    group.bench_function("upsert-begin-random-prefetched", |b| {
        b.iter(|| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let next = (((rng >> 32) * u64::from(MILLION)) >> 32) as u32;
            let (i, soon) = (ahead[0], ahead[1]);
            ahead = [soon, next];
            table.prefetch_bucket(&table.place(key(next)));
            table.prefetch_record(&table.place(key(soon)));
            now_ms += 1;
            table.upsert(
                black_box(key(i)),
                (now_ms / 1000) as u32,
                |_, _| true,
                |s, _| s.begin(&facts, &baseline, now_ms).minute_sample,
            )
        })
    });
    group.finish();
}

/// What the kernel reports of anonymous huge pages in this process (the
/// advice is a request: `enabled` set to `never` refuses it).
fn huge_pages_note() -> String {
    let kb = std::fs::read_to_string("/proc/self/smaps_rollup")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("AnonHugePages:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_string())
        })
        .unwrap_or_else(|| "?".into());
    format!("AnonHugePages of the process {kb} kB")
}

criterion_group!(benches, table_ops, table_million);
criterion_main!(benches);
