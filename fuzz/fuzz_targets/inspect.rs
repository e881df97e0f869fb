//! The whole request scan, with and without the per-worker verdict cache:
//! the cache must never change a verdict. Input: the request target on the
//! first line, then `name: value` header lines, an empty line, the body.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use ngx_http_api_abuse_module::signatures::cache::{inspect_all_cached, ScanCache};
use ngx_http_api_abuse_module::signatures::{inspect_all, Input, MAX_REQUEST_BYTES};

thread_local! {
    static CACHE: RefCell<ScanCache> = RefCell::new(ScanCache::default());
}

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(p) => (&data[..p], Some(&data[p + 2..])),
        None => (data, None),
    };
    let mut lines = head.split(|&b| b == b'\n');
    let target = lines.next().unwrap_or_default();
    let mut lower: Vec<Vec<u8>> = Vec::new();
    let mut values: Vec<&[u8]> = Vec::new();
    for line in lines.take(32) {
        let Some(c) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        lower.push(line[..c].to_ascii_lowercase());
        values.push(line[c + 1..].trim_ascii());
    }
    let headers: Vec<(&[u8], &[u8])> = lower
        .iter()
        .map(Vec::as_slice)
        .zip(values.iter().copied())
        .collect();
    let input = Input {
        target,
        headers: &headers,
        body,
    };
    let plain = inspect_all(&input);
    let cached = CACHE.with(|c| inspect_all_cached(&input, &mut c.borrow_mut()));
    // Twice: the second run answers from the cache.
    let again = CACHE.with(|c| inspect_all_cached(&input, &mut c.borrow_mut()));
    if data.len() < MAX_REQUEST_BYTES {
        assert_eq!(plain, cached, "the verdict cache changed a verdict");
        assert_eq!(plain, again, "a cached verdict differs from the scan");
    }
});
