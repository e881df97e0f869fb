//! The field parsers (query/form, cookies, JSON, multipart, XML, raw text):
//! every field handed on is a view of the input (text decoded from base64
//! excepted: it is marked, and shorter), a stop request is obeyed,
//! and the whole request scan over a body of that type does not panic.
//! Input: parser number byte, then `content-type` up to the first newline,
//! then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ngx_http_api_abuse_module::signatures::fuzzing::{parse_fields, BASE64_SPAN, DECODED};
use ngx_http_api_abuse_module::signatures::{inspect_all, Input};
use ngx_http_api_abuse_module_fuzz::{assert_within, split};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let [content_type, body] = split::<2>(rest, b'\n');
    let mut seen = 0usize;
    let stop_after = usize::from(which >> 4);
    let finished = parse_fields(which, body, content_type, &mut |kind, raw, _, _| {
        if kind & DECODED == 0 {
            assert_within(body, raw);
        } else {
            // Text decoded from base64: at most BASE64_SPAN bytes, fewer
            // than the input it came from.
            assert!(raw.len() <= BASE64_SPAN && raw.len() < body.len());
        }
        seen += 1;
        stop_after == 0 || seen < stop_after
    });
    if stop_after != 0 && seen >= stop_after {
        assert!(!finished, "parser went on after the visitor said stop");
        assert_eq!(seen, stop_after, "parser called the visitor after stop");
    }
    let headers: [(&[u8], &[u8]); 1] = [(b"content-type", content_type)];
    let _ = inspect_all(&Input {
        target: b"/upload",
        headers: &headers,
        body: Some(body),
    });
});
