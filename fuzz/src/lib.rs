//! Helpers shared by the fuzz targets: a shared zone on the heap (the same
//! layout code as in nginx's slab pool) and a small splitter that turns one
//! fuzz input into the fields of a request, so corpus seeds stay readable
//! text files.

use std::alloc::{alloc_zeroed, Layout};

use ngx_http_api_abuse_module::shared::{plan, Regions, Shared};

/// A zone of `bytes` on the heap, leaked (one per fuzz process).
pub fn heap_zone(bytes: usize) -> &'static Shared {
    let [h, c, l, a] = plan(bytes).expect("plan");
    let align = Shared::region_align().max(16);
    let region = |n: usize| {
        let layout = Layout::from_size_align(n.max(1), align).expect("layout");
        // SAFETY: the size is non-zero; the memory is leaked on purpose.
        let p = unsafe { alloc_zeroed(layout) };
        assert!(!p.is_null());
        p
    };
    let regions = Regions {
        header: region(h),
        clients: (region(c), c),
        lists: (region(l), l),
        apps: (region(a), a),
    };
    // SAFETY: the regions are fresh, aligned, exclusive and never freed.
    let shared = unsafe { Shared::create(&regions, 42) }.expect("create");
    Box::leak(Box::new(shared))
}

/// Splits `data` at the first `n - 1` occurrences of `sep`; missing parts
/// are empty.
pub fn split<const N: usize>(data: &[u8], sep: u8) -> [&[u8]; N] {
    let mut out = [&data[..0]; N];
    let mut rest = data;
    for slot in out.iter_mut().take(N - 1) {
        match rest.iter().position(|&b| b == sep) {
            Some(p) => {
                *slot = &rest[..p];
                rest = &rest[p + 1..];
            }
            None => {
                *slot = rest;
                rest = &rest[rest.len()..];
            }
        }
    }
    out[N - 1] = rest;
    out
}

/// Asserts that `part` is a sub-slice of `whole` (parsers hand out views of
/// their input, never of anything else).
pub fn assert_within(whole: &[u8], part: &[u8]) {
    let (w, p) = (whole.as_ptr() as usize, part.as_ptr() as usize);
    assert!(
        part.is_empty() || (p >= w && p + part.len() <= w + whole.len()),
        "field outside its input"
    );
}

/// Asserts `s` is one valid JSON document (the module writes its JSON by hand).
pub fn assert_json(what: &str, s: &str) {
    if let Err(e) = serde_json::from_str::<serde_json::Value>(s) {
        panic!("{what} is not valid JSON ({e}): {s}");
    }
}

/// One API call without a token, at the location itself.
pub fn api_call(
    shared: &Shared,
    profiles: Option<&ngx_http_api_abuse_module::config::Profiles>,
    method: &[u8],
    query: &[u8],
    now: u64,
) -> ngx_http_api_abuse_module::api::Reply {
    use ngx_http_api_abuse_module::api::{handle, Ctx, Request};
    let ctx = Ctx {
        shared,
        profiles,
        tokens: None,
        write: true,
        v6_prefix: 64,
    };
    handle(
        &ctx,
        &Request {
            method,
            endpoint: b"",
            query,
            authorization: None,
            host: None,
            origin: None,
            fetch_site: None,
            now,
        },
    )
}
