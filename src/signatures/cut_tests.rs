//! Every prefix and suffix of every line of the signature corpus (attacks
//! and benign alike), in every kind of field, is scanned without a panic.
//! A scanner that reads past a match assumes more input after it; cutting
//! real payloads at every byte puts the end of the field at each such
//! place (session 13: `'exec` as a whole value sliced past its end, and
//! the panic left the whole request uninspected).

use super::prefilter::tests::corpus_lines;
use super::{inspect_all, Input};

/// Scans `data` as a query value, a path segment, a form and a JSON body, a
/// cookie and a header; panics naming the input if any scan does.
fn scan_everywhere(data: &[u8]) {
    let result = std::panic::catch_unwind(|| {
        let mut target = b"/s?q=".to_vec();
        target.extend_from_slice(data);
        let mut path = b"/a/".to_vec();
        path.extend_from_slice(data);
        let mut json = b"{\"q\":\"".to_vec();
        json.extend_from_slice(data);
        json.extend_from_slice(b"\"}");
        let mut cookie = b"c=".to_vec();
        cookie.extend_from_slice(data);
        let form: [(&[u8], &[u8]); 2] = [
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"cookie", &cookie),
        ];
        let json_headers: [(&[u8], &[u8]); 2] =
            [(b"content-type", b"application/json"), (b"x-custom", data)];
        let mut form_body = b"a=1&q=".to_vec();
        form_body.extend_from_slice(data);
        for input in [
            Input {
                target: &target,
                headers: &[],
                body: None,
            },
            Input {
                target: &path,
                headers: &[],
                body: None,
            },
            Input {
                target: b"/f",
                headers: &form,
                body: Some(&form_body),
            },
            Input {
                target: b"/j",
                headers: &json_headers,
                body: Some(&json),
            },
        ] {
            let _ = inspect_all(&input);
        }
    });
    if result.is_err() {
        panic!("a scan panicked on {:?}", String::from_utf8_lossy(data));
    }
}

#[test]
fn every_cut_of_every_corpus_line_scans_without_a_panic() {
    let mut cuts = 0usize;
    // Each line, and its pieces as field splitters cut it.
    let mut lines = Vec::new();
    for line in corpus_lines() {
        for sep in [b'&', b'=', b';', b'/', b' ', b','] {
            lines.extend(
                line.split(move |&b| b == sep)
                    .filter(|p| p.len() > 2 && p.len() < line.len())
                    .map(<[u8]>::to_vec),
            );
        }
        lines.push(line);
    }
    lines.sort_unstable();
    lines.dedup();
    for line in lines {
        // Release builds (`cargo test --release`) cut every line at every
        // byte; debug builds (`ci/test.sh`) the lines up to 96 bytes, and
        // the others at every 7th byte.
        let step = if cfg!(debug_assertions) && line.len() > 96 {
            7
        } else {
            1
        };
        for at in (1..line.len()).step_by(step) {
            scan_everywhere(&line[..at]);
            scan_everywhere(&line[at..]);
            cuts += 2;
        }
        // The line's head after each byte that closes an application's
        // string or call (the contexts the scanners read a breakout from),
        // cut at every byte up to 48 (debug builds: 20; a breakout's
        // function name opens the value).
        let head = if cfg!(debug_assertions) { 20 } else { 48 };
        for lead in [b'\'', b'"', b'(', b')', b';', b'@'] {
            let mut v = vec![lead];
            for at in 1..line.len().min(head) {
                v.truncate(1);
                v.extend_from_slice(&line[..at]);
                scan_everywhere(&v);
                cuts += 1;
            }
        }
    }
    assert!(cuts > 50_000, "{cuts} cuts");
}
