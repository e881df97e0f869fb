//! The attack-signature scan of `ci/bench.sh`'s request mix, as one nginx
//! worker runs it: the same clients (User-Agent, cookie, `X-Forwarded-For`),
//! the same page / script / API requests with product ids, through the
//! worker's verdict cache (`inspect_all_cached_for`, the client named by
//! its address as the glue does). It prints the CPU time per
//! request; under callgrind it gives the instructions per request of the
//! scan alone, without nginx:
//!
//! ```sh
//! cargo bench --no-default-features --features standalone --bench signature_mix --no-run
//! valgrind --tool=callgrind --toggle-collect='*signature_mix::counted*' \
//!     target/release/deps/signature_mix-<hash> 300 20000 20000
//! # instructions per request = the collected total / 20000
//! ```
//!
//! Arguments (all optional): clients (300, as `ci/bench.sh callgrind`; the
//! capacity runs use 200,000), warm-up requests (20,000), counted requests
//! (20,000), and 0 to leave the client unnamed (no per-client level).

use ngx_http_api_abuse_module::signatures::cache::{
    inspect_all_cached, inspect_all_cached_for, ScanCache,
};

/// No client named: [`inspect_all_cached`] (the fourth argument 0).
const ANONYMOUS: u128 = u128::MAX;
use ngx_http_api_abuse_module::signatures::{Findings, Input};

const UAS: [&str; 4] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
];
const SORTS: [&str; 4] = ["price", "-price", "name", "created_at"];

/// A small deterministic generator (xorshift64*), so every run is the same.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) % n
    }
}

/// One request of the mix: its target and the headers the glue hands to
/// the scan (the input-carrying ones, in the order a browser sends them).
struct Request {
    /// The client's address as the glue names it to the scan
    /// (`inspect_all_cached_for`): the IPv4 number.
    client: u128,
    target: String,
    headers: Vec<(&'static [u8], Vec<u8>)>,
}

struct Mix {
    rng: Rng,
    clients: u64,
    sent: Vec<u32>,
}

impl Mix {
    fn next(&mut self) -> Request {
        let c = 1 + self.rng.below(self.clients);
        let n = &mut self.sent[c as usize];
        *n += 1;
        let mut r = 1 + self.rng.below(100);
        if *n == 1 {
            r = 1;
        } else if *n == 2 {
            r = 9;
        }
        let a = (c * 7919) % 1_048_576;
        let ip = format!("172.{}.{}.{}", 16 + a / 65536, (a / 256) % 256, a % 256);
        let cookie = format!(
            "sid={:08x}{:08x}; theme=light",
            (c * 2_654_435_761) % 4_294_967_296,
            (c * 40503) % 4_294_967_296
        );
        let ua = UAS[(c % 4) as usize].as_bytes().to_vec();
        let mut headers: Vec<(&'static [u8], Vec<u8>)> = vec![(b"host", b"shop.example".to_vec())];
        let target = if r <= 8 {
            "/".to_string()
        } else if r <= 16 {
            headers.push((b"referer", b"https://shop.example/".to_vec()));
            "/static/app.js".to_string()
        } else {
            headers.push((b"referer", b"https://shop.example/".to_vec()));
            headers.push((b"x-requested-with", b"XMLHttpRequest".to_vec()));
            let product = 1 + (c * 31 + 257 * self.rng.below(4)) % 1000;
            format!(
                "/api/v1/products/{product}.json?fields=id,name,price&currency=EUR&sort={}&page={}",
                SORTS[self.rng.below(4) as usize],
                1 + self.rng.below(3)
            )
        };
        headers.push((b"user-agent", ua));
        headers.push((b"cookie", cookie.into_bytes()));
        headers.push((b"x-forwarded-for", ip.into_bytes()));
        let client =
            u128::from((172u32 << 24) | ((16 + a / 65536) as u32) << 16 | (a % 65536) as u32);
        Request {
            client,
            target,
            headers,
        }
    }
}

/// A request as the scan takes it: client, target and (name, value) headers.
type Scanned<'a> = (u128, &'a [u8], Vec<(&'a [u8], &'a [u8])>);
type Inputs<'a> = [Scanned<'a>];

/// The requests as the scan takes them (built before anything is counted).
fn inputs(reqs: &[Request]) -> Vec<Scanned<'_>> {
    reqs.iter()
        .map(|r| {
            let h = r.headers.iter().map(|(n, v)| (*n, v.as_slice())).collect();
            (r.client, r.target.as_bytes(), h)
        })
        .collect()
}

/// The counted part (callgrind's `--toggle-collect` target).
#[inline(never)]
fn counted(reqs: &Inputs, cache: &mut ScanCache) -> usize {
    scan_all(reqs, cache)
}

#[inline(never)]
fn warm_up(reqs: &Inputs, cache: &mut ScanCache) -> usize {
    scan_all(reqs, cache)
}

fn scan_all(reqs: &Inputs, cache: &mut ScanCache) -> usize {
    reqs.iter()
        .filter(|(client, target, headers)| {
            let input = Input {
                target,
                headers,
                body: None,
            };
            let found: Findings = if *client == ANONYMOUS {
                inspect_all_cached(&input, cache)
            } else {
                inspect_all_cached_for(&input, cache, *client)
            };
            !std::hint::black_box(found).is_empty()
        })
        .count()
}

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a pointer to a timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn main() {
    // `cargo bench` passes `--bench`; only numbers are ours.
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let clients = args.first().copied().unwrap_or(300).max(1);
    let warm = args.get(1).copied().unwrap_or(20_000) as usize;
    let count = args.get(2).copied().unwrap_or(20_000) as usize;
    // 0: the client is not named (no per-client level), to compare.
    let named = args.get(3).copied().unwrap_or(1) != 0;
    let mut mix = Mix {
        rng: Rng(7),
        clients,
        sent: vec![0; clients as usize + 1],
    };
    let mut cache = ScanCache::default();
    let warmup: Vec<Request> = (0..warm).map(|_| mix.next()).collect();
    let reqs: Vec<Request> = (0..count).map(|_| mix.next()).collect();
    let (mut warmup, mut reqs) = (inputs(&warmup), inputs(&reqs));
    if !named {
        for r in warmup.iter_mut().chain(reqs.iter_mut()) {
            r.0 = ANONYMOUS;
        }
    }
    warm_up(&warmup, &mut cache);
    let (h0, m0, e0, c0) = (
        cache.verdicts.hits,
        cache.verdicts.misses,
        cache.verdicts.exact_hits(),
        cache.verdicts.client_hits(),
    );
    let t = thread_cpu_ns();
    let flagged = counted(&reqs, &mut cache);
    let ns = thread_cpu_ns() - t;
    println!(
        "signature_mix: {clients} clients, {count} requests: {:.0} ns cpu per request, \
         per-client hits {}, exact hits {}, hashed hits {} misses {}, flagged {flagged}",
        ns as f64 / count.max(1) as f64,
        cache.verdicts.client_hits() - c0,
        cache.verdicts.exact_hits() - e0,
        cache.verdicts.hits - h0,
        cache.verdicts.misses - m0,
    );
}
