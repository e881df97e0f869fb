//! The normaliser: whatever the bytes, the output fits the window, never
//! grows, and is in the canonical form the class scanners rely on (ASCII
//! lowercase, no NUL or control bytes, whitespace runs collapsed to one
//! space or line break, no leading space).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ngx_http_api_abuse_module::signatures::fuzzing::{normalize_field, window};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, raw)) = data.split_first() else {
        return;
    };
    let (text, _triggers) = normalize_field(raw, flags & 1 != 0, flags & 2 != 0);
    assert!(
        text.len() <= raw.len().min(window()),
        "normalised text grew"
    );
    assert!(
        !text.iter().any(u8::is_ascii_uppercase),
        "uppercase left: {text:?}"
    );
    assert!(
        !text.iter().any(|&b| (b < 0x20 && b != b'\n') || b == 0x7f),
        "control byte left: {text:?}"
    );
    assert!(text.first() != Some(&b' '), "leading space: {text:?}");
    assert!(
        !text
            .windows(2)
            .any(|w| matches!(w[0], b' ' | b'\n') && matches!(w[1], b' ' | b'\n')),
        "whitespace run left: {text:?}"
    );
});
