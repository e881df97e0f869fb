//! Cost of attack-signature inspection per request: a typical API request
//! (path with ids, four arguments, User-Agent/Referer/Cookie, small JSON
//! body), the same request carrying an injection, and a 64 KiB JSON body.
//!
//! Run with `cargo bench --bench signatures`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ngx_http_api_abuse_module::signatures::cache::{inspect_all_cached, ScanCache};
use ngx_http_api_abuse_module::signatures::{inspect, Input};

const UA: &[u8] = b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

fn headers(cookie: &[u8]) -> [(&[u8], &[u8]); 5] {
    [
        (b"user-agent", UA),
        (
            b"referer",
            b"https://shop.example.com/products?category=shoes&page=2",
        ),
        (b"cookie", cookie),
        (b"content-type", b"application/json"),
        (b"x-request-id", b"7f3c9a1e-55b2-4c1d-9e8f-0a1b2c3d4e5f"),
    ]
}

fn big_json() -> Vec<u8> {
    let mut body = b"{\"items\": [".to_vec();
    let mut i = 0;
    while body.len() < 64 * 1024 - 200 {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(
            format!(
                r#"{{"id": {i}, "sku": "SKU-{i:06}", "name": "Item {i} - O'Brien's \"best\" pick", "price": 19.99, "tags": ["red", "sale"], "note": "ships in 2-3 days; see https://example.com/faq?id={i}"}}"#
            )
            .as_bytes(),
        );
        i += 1;
    }
    body.extend_from_slice(b"]}");
    body
}

fn bench(c: &mut Criterion) {
    let cookie: &[u8] =
        b"session=9f86d081884c7d659a2feaa0c55ad015; theme=dark; _ga=GA1.2.1234567890.1700000000";
    let h = headers(cookie);
    let body: &[u8] = br#"{"quantity": 2, "comment": "Please gift-wrap it, it's for Mary's birthday!", "coupon": "SPRING-24"}"#;
    let typical = Input {
        target: b"/api/v1/users/48213/orders/77?page=2&per_page=50&sort=-created_at&q=red+shoes",
        headers: &h,
        body: Some(body),
    };
    let attack = Input { target: b"/api/v1/users/48213/orders/77?page=2&per_page=50&sort=-created_at&q=1%27+AND+SLEEP(5)--+x", headers: &h, body: Some(body) };
    let big = big_json();
    let large = Input {
        target: b"/api/v1/import",
        headers: &h,
        body: Some(&big),
    };

    let mut g = c.benchmark_group("signatures");
    g.sample_size(50)
        .measurement_time(std::time::Duration::from_secs(3))
        .warm_up_time(std::time::Duration::from_secs(1));
    g.throughput(Throughput::Elements(1));
    g.bench_function("typical_api_request", |b| {
        b.iter(|| inspect(black_box(&typical)))
    });
    // As a worker sees it: the verdict cache warm with the headers and the
    // query, a path with an object id it has not seen (every request misses).
    let mut cache = ScanCache::default();
    let mut id = 0u64;
    let mut target = Vec::with_capacity(128);
    g.bench_function("typical_api_request_cached_new_id", |b| {
        b.iter(|| {
            id += 1;
            target.clear();
            target.extend_from_slice(format!("/api/v1/users/48213/orders/{id}?page=2&per_page=50&sort=-created_at&q=red+shoes").as_bytes());
            let input = Input { target: &target, headers: &h, body: None };
            inspect_all_cached(black_box(&input), &mut cache)
        })
    });
    g.bench_function("typical_request_with_sqli", |b| {
        b.iter(|| inspect(black_box(&attack)))
    });
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.bench_function("json_body_64k", |b| b.iter(|| inspect(black_box(&large))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
