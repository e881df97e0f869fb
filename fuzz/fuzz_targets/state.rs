//! The state file, read when a zone is created: any bytes are either
//! refused with a message or loaded, and the zone stays consistent (the
//! status API renders it as valid JSON).
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use ngx_http_api_abuse_module::shared::Shared;
use ngx_http_api_abuse_module::{api, state};
use ngx_http_api_abuse_module_fuzz::{assert_json, heap_zone};

thread_local! {
    static ZONE: &'static Shared = heap_zone(2 << 20);
    static FILE: std::path::PathBuf = std::env::temp_dir()
        .join(format!("api-abuse-fuzz-state.{}", std::process::id()));
}

/// `API_ABUSE_FUZZ_SEED=FILE` writes a state file with list entries of each
/// kind to FILE (how the seeds in corpus/state/ were made).
fn write_seed(shared: &Shared) {
    let Some(out) = std::env::var_os("API_ABUSE_FUZZ_SEED") else {
        return;
    };
    for q in [
        "addr=192.0.2.1&list=deny&duration=1h",
        "addr=2001:db8::1&list=gray",
        "addr=10.0.0.1&list=allow&duration=7d",
    ] {
        api::handle(shared, None, b"POST", q.as_bytes(), true, 64, 1_800_000_000);
    }
    state::save(shared, std::path::Path::new(&out)).expect("seed");
}

fuzz_target!(init: ZONE.with(|z| write_seed(z)), |data: &[u8]| {
    let shared = ZONE.with(|z| *z);
    let path = FILE.with(Clone::clone);
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(data))
        .expect("write the input file");
    match state::load(shared, &path) {
        Ok(Some(msg)) | Err(msg) => assert!(!msg.contains('\n'), "{msg:?}"),
        Ok(None) => panic!("the file exists"),
    }
    let reply = api::handle(shared, None, b"GET", b"", false, 64, 1_800_000_000);
    assert_json("status", &reply.body);
    // The zone written back loads again.
    state::save(shared, &path).expect("save");
    assert!(state::load(shared, &path).is_ok(), "a saved state file is refused");
});
