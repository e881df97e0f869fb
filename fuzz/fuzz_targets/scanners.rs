//! Each class scanner on its own, over one normalised window: no panic, no
//! hang, whatever the bytes (first byte: scanner number, bit 6 plus-is-space,
//! bit 7 JSON string).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ngx_http_api_abuse_module::signatures::fuzzing::scan;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, raw)) = data.split_first() else {
        return;
    };
    let _ = scan(sel & 0x3f, raw, sel & 0x40 != 0, sel & 0x80 != 0);
});
