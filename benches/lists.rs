//! Lookup cost of the manual lists from 10 to 1,000,000 entries (hits and
//! misses), against a linear scan, and the build time of large lists.
//!
//! Entries are random networks, one sixth each of IPv4 /32, /24, /16 and IPv6
//! /48, /64, /128. Hits are random addresses inside random entries; misses
//! come from ranges no entry uses (240.0.0.0/4 and 3000::/4).
//!
//! cargo bench --no-default-features --features standalone --bench lists -- --warm-up-time 1 --measurement-time 2

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use ipnetwork::IpNetwork;
use ngx_http_api_abuse_module::lists::{AddrLists, Entry, ListKind};

const NOW: u64 = 1_700_000_000;
/// Probe addresses per run, cycled through so caches see many entries.
const PROBES: usize = 1 << 16;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn random_net(rng: &mut Rng) -> IpNetwork {
    let r = rng.next();
    let net = match r % 6 {
        k @ 0..=2 => {
            // 1.0.0.0 - 223.255.255.255: never in the miss range.
            let a = 0x0100_0000 + (r >> 8) as u32 % 0xdf00_0000;
            IpNetwork::new(IpAddr::V4(Ipv4Addr::from(a)), [32, 24, 16][k as usize])
        }
        k => {
            // 2000::/4, never in the miss range.
            let bits = (u128::from(rng.next()) << 64 | u128::from(rng.next())) >> 4;
            let a = Ipv6Addr::from(bits | 0x2 << 124);
            IpNetwork::new(IpAddr::V6(a), [48, 64, 128][k as usize - 3])
        }
    };
    net.unwrap_or_else(|e| panic!("{e}"))
}

fn entries(n: usize, rng: &mut Rng) -> Vec<Entry> {
    (0..n)
        .map(|i| Entry {
            net: random_net(rng),
            kind: ListKind::ALL[i % 3],
            expires: (i % 4 == 0).then_some(NOW + 3600),
        })
        .collect()
}

/// A random address inside `net`.
fn inside(net: &IpNetwork, rng: &mut Rng) -> IpAddr {
    match net {
        IpNetwork::V4(n) => {
            let host = (rng.next() as u32)
                .checked_shr(u32::from(n.prefix()))
                .unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(n.network()) | host))
        }
        IpNetwork::V6(n) => {
            let r = u128::from(rng.next()) << 64 | u128::from(rng.next());
            let host = r.checked_shr(u32::from(n.prefix())).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(n.network()) | host))
        }
    }
}

fn hits(entries: &[Entry], rng: &mut Rng) -> Vec<IpAddr> {
    (0..PROBES)
        .map(|_| inside(&entries[rng.next() as usize % entries.len()].net, rng))
        .collect()
}

fn misses(rng: &mut Rng) -> Vec<IpAddr> {
    (0..PROBES)
        .map(|i| {
            let r = rng.next();
            if i % 2 == 0 {
                IpAddr::V4(Ipv4Addr::from(0xf000_0000 | (r as u32 >> 4)))
            } else {
                IpAddr::V6(Ipv6Addr::from(0x3 << 124 | (u128::from(r) << 60)))
            }
        })
        .collect()
}

/// The naive alternative: test every entry.
fn linear(entries: &[Entry], addr: IpAddr) -> Option<ListKind> {
    let active = entries
        .iter()
        .filter(|e| e.is_active(NOW) && e.net.contains(addr));
    active.map(|e| e.kind).min()
}

fn lookups(c: &mut Criterion) {
    let mut rng = Rng(42);
    let mut group = c.benchmark_group("lists/classify");
    for n in [10usize, 1_000, 100_000, 1_000_000] {
        let list = entries(n, &mut rng);
        let lists = AddrLists::new(list.clone()).unwrap_or_else(|e| panic!("{e}"));
        for (name, probes) in [("hit", hits(&list, &mut rng)), ("miss", misses(&mut rng))] {
            group.bench_with_input(BenchmarkId::new(name, n), &probes, |b, probes| {
                let mut i = 0;
                b.iter(|| {
                    i = (i + 1) % PROBES;
                    lists.classify(black_box(probes[i]), NOW).map(|(k, _)| k)
                })
            });
            if n <= 1_000 {
                let id = BenchmarkId::new(format!("linear-scan-{name}"), n);
                group.bench_with_input(id, &probes, |b, probes| {
                    let mut i = 0;
                    b.iter(|| {
                        i = (i + 1) % PROBES;
                        linear(&list, black_box(probes[i]))
                    })
                });
            }
        }
    }
    group.finish();
}

fn build(c: &mut Criterion) {
    let mut rng = Rng(7);
    let mut group = c.benchmark_group("lists/build");
    group.sample_size(10);
    for n in [100_000usize, 1_000_000] {
        let list = entries(n, &mut rng);
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter_batched(|| list.clone(), AddrLists::new, BatchSize::PerIteration)
        });
    }
    group.finish();
}

criterion_group!(benches, lookups, build);
criterion_main!(benches);
