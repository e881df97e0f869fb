//! The request headers as the module reads them: the User-Agent
//! classifiers (bad user-agent signatures, woothee's browser parse), the
//! browser header-anomaly check, and the attack signatures over the
//! input-carrying headers and cookies. Input: `name: value` lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ngx_http_api_abuse_module::detect::{bad_user_agent, outdated_browser, suspicious_behaviour};
use ngx_http_api_abuse_module::request::{header_bits as hb, RequestView};
use ngx_http_api_abuse_module::signatures::{inspect_all, Input};

fuzz_target!(|data: &[u8]| {
    let mut names: Vec<Vec<u8>> = Vec::new();
    let mut values: Vec<&[u8]> = Vec::new();
    for line in data.split(|&b| b == b'\n').take(64) {
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(c) => (&line[..c], line[c + 1..].trim_ascii()),
            None => (line, &line[line.len()..]),
        };
        names.push(name.to_ascii_lowercase());
        values.push(value);
    }
    let mut bits = 0u16;
    let mut ua = None;
    let mut inspect: Vec<(&[u8], &[u8])> = Vec::new();
    for (name, &value) in names.iter().zip(&values) {
        bits |= match name.as_slice() {
            b"accept" => hb::ACCEPT,
            b"accept-language" => hb::ACCEPT_LANGUAGE,
            b"accept-encoding" => hb::ACCEPT_ENCODING,
            b"cookie" => hb::COOKIE,
            b"connection" if value.eq_ignore_ascii_case(b"close") => hb::CONNECTION_CLOSE,
            n if n.starts_with(b"sec-fetch-") => hb::SEC_FETCH,
            _ => 0,
        };
        if name == b"user-agent" {
            ua = Some(value);
        }
        inspect.push((name, value));
    }
    let class = bad_user_agent::classify(ua);
    let _ = bad_user_agent::evaluate(class, u32::from(data.first().copied().unwrap_or(0)));
    let browser = ua.and_then(outdated_browser::parse);
    let view = RequestView {
        method: b"GET",
        path: b"/",
        user_agent: ua,
        headers: bits,
        header_count: names.len() as u16,
        http_version: [1000, 1001, 2000, 3000][data.len() % 4],
        ..RequestView::default()
    };
    let _ = suspicious_behaviour::header_anomaly(&view, browser.is_some_and(|b| b.chromium));
    let _ = inspect_all(&Input {
        target: b"/",
        headers: &inspect,
        body: None,
    });
});
