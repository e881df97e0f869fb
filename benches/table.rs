//! Cost of one operation on the shared client table (64 MB zone, 256-byte
//! records), against the naive alternative of a mutex around a hash map.
//!
//! - upsert/hit-cold and upsert/hit-hot: a known client, the per-request case,
//!   with 65,536 clients cycled (cache misses) or 256 (cache-resident);
//! - upsert/insert-evict: a new client in a full table, which reuses the slot
//!   idle longest (the worst per-request case);
//! - get/miss: a client the table does not know (two buckets checked).
//!
//! cargo bench --no-default-features --features standalone --bench table -- --warm-up-time 1 --measurement-time 2

#![warn(clippy::undocumented_unsafe_blocks)]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Mutex;

use criterion::{criterion_group, criterion_main, Criterion};
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
    let mut region = vec![0u128; ZONE / 16];
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

criterion_group!(benches, table_ops);
criterion_main!(benches);
