//! The state file, read when a zone is created: any bytes are either
//! refused with a one-line reason or decoded; a decoded file is put into the
//! zone, which stays consistent (the status API renders it as valid JSON),
//! and the zone written back decodes again. The input is also tried with a
//! correct checksum appended, so the fuzzer gets past the CRC to the records.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ngx_http_api_abuse_module::shared::Shared;
use ngx_http_api_abuse_module::state;
use ngx_http_api_abuse_module_fuzz::{api_call, assert_json, heap_zone};

thread_local! {
    static ZONE: &'static Shared = heap_zone(2 << 20);
}

const NOW: u32 = 1_800_000_000;

/// `API_ABUSE_FUZZ_SEED=FILE` writes a state file body (without its
/// checksum) with list entries of each kind to FILE (how corpus/state/
/// seed-000 was made).
fn write_seed(shared: &Shared) {
    let Some(out) = std::env::var_os("API_ABUSE_FUZZ_SEED") else {
        return;
    };
    for q in [
        "addr=192.0.2.1&list=deny&duration=1h",
        "addr=2001:db8::1&list=gray",
        "addr=10.0.0.1&list=allow&duration=7d",
    ] {
        api_call(shared, None, b"POST", q.as_bytes(), u64::from(NOW));
    }
    let bytes = state::encode(&state::snapshot(shared));
    std::fs::write(out, &bytes[..bytes.len() - 4]).expect("seed");
}

fuzz_target!(init: ZONE.with(|z| write_seed(z)), |data: &[u8]| {
    let shared = ZONE.with(|z| *z);
    let mut sealed = data.to_vec();
    sealed.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
    for bytes in [data, &sealed] {
        match state::decode(bytes) {
            Ok(snapshot) => {
                let msg = state::apply(shared, &snapshot, NOW);
                assert!(!msg.contains('\n'), "{msg:?}");
            }
            Err(e) => assert!(!e.to_string().contains('\n'), "{e}"),
        }
    }
    let reply = api_call(shared, None, b"GET", b"", u64::from(NOW));
    assert_json("status", &reply.body);
    let again = state::encode(&state::snapshot(shared));
    if let Err(e) = state::decode(&again) {
        panic!("the zone written back is refused: {e}");
    }
});
