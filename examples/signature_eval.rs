//! Runs the attack signatures over the requests `ci/corpora/extract.py`
//! made from public corpora and prints, per source and class, how many were
//! flagged, for the held-back half (reported) and the tuning half.
//!
//! `cargo run --release --no-default-features --features standalone --example signature_eval -- DIR`
//! reads DIR/cases.jsonl and writes DIR/verdicts.jsonl (one line per case:
//! the classes found) for `ci/corpora/report.py`, and DIR/misses-tune.txt
//! (the tuning half's misses and false positives, the only ones to look at)
//! and DIR/fp-tune.txt (each tuning-half false positive narrowed down to the
//! field flagged on its own: `source, classes, field, value`).

use ngx_http_api_abuse_module::model::AttackClass;
use ngx_http_api_abuse_module::signatures::{inspect_all, Input};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: signature_eval DIR | -");
    if dir == "-" {
        // One request target per line on stdin: print the classes found.
        for line in std::io::stdin().lock().lines() {
            let line = line.unwrap();
            let found = inspect_all(&Input {
                target: line.as_bytes(),
                headers: &[],
                body: None,
            });
            let classes: Vec<&str> = AttackClass::ALL
                .iter()
                .filter(|k| found.contains(**k))
                .map(|k| k.as_str())
                .collect();
            println!("{classes:?}\t{line}");
        }
        return;
    }
    let cases = std::fs::File::open(format!("{dir}/cases.jsonl")).expect("DIR/cases.jsonl");
    let mut verdicts =
        std::io::BufWriter::new(std::fs::File::create(format!("{dir}/verdicts.jsonl")).unwrap());
    let mut misses =
        std::io::BufWriter::new(std::fs::File::create(format!("{dir}/misses-tune.txt")).unwrap());
    // The tuning half's false positives, each narrowed down to the one field
    // (query argument, header, JSON string, form field) that is flagged alone.
    let mut fps =
        std::io::BufWriter::new(std::fs::File::create(format!("{dir}/fp-tune.txt")).unwrap());
    // (half, src, class) -> (cases, flagged)
    let mut table: BTreeMap<(String, String, String), (u64, u64)> = BTreeMap::new();
    for line in std::io::BufReader::new(cases).lines() {
        let line = line.unwrap();
        let c: serde_json::Value = serde_json::from_str(&line).unwrap();
        let s = |k: &str| c[k].as_str().unwrap_or("").to_string();
        let headers: Vec<(Vec<u8>, Vec<u8>)> = c["headers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|h| {
                        (
                            h[0].as_str()
                                .unwrap_or("")
                                .to_ascii_lowercase()
                                .into_bytes(),
                            h[1].as_str().unwrap_or("").as_bytes().to_vec(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let hv: Vec<(&[u8], &[u8])> = headers
            .iter()
            .map(|(n, v)| (n.as_slice(), v.as_slice()))
            .collect();
        let target = s("target");
        let body = c["body"].as_str().map(str::as_bytes);
        let found = inspect_all(&Input {
            target: target.as_bytes(),
            headers: &hv,
            body,
        });
        let classes: Vec<&str> = AttackClass::ALL
            .iter()
            .filter(|k| found.contains(**k))
            .map(|k| k.as_str())
            .collect();
        let flagged = !classes.is_empty();
        let (half, src, class) = (s("half"), s("src"), s("class"));
        writeln!(
            verdicts,
            "{}",
            serde_json::json!({"flagged": flagged, "classes": classes})
        )
        .unwrap();
        let attack = class != "benign";
        if half == "tune" && flagged != attack {
            writeln!(
                misses,
                "{src}\t{class}\t{}\t{:?}\t{}",
                if attack { "MISS" } else { "FP" },
                classes,
                s("payload").replace('\n', "\\n")
            )
            .unwrap();
        }
        if half == "tune" && flagged && !attack {
            for (classes, place, value) in locate(target.as_bytes(), &hv, body) {
                writeln!(
                    fps,
                    "{src}\t{classes:?}\t{place}\t{}",
                    value.replace('\n', "\\n")
                )
                .unwrap();
            }
        }
        let e = table.entry((half, src, class)).or_default();
        e.0 += 1;
        e.1 += u64::from(flagged);
    }
    println!("| half | source | class | cases | flagged | rate |");
    println!("|---|---|---|---:|---:|---:|");
    for ((half, src, class), (n, f)) in &table {
        println!(
            "| {half} | {src} | {class} | {n} | {f} | {:.1} % |",
            100.0 * *f as f64 / *n as f64
        );
    }
}

fn class_names(found: &ngx_http_api_abuse_module::signatures::Findings) -> Vec<&'static str> {
    AttackClass::ALL
        .iter()
        .filter(|k| found.contains(**k))
        .map(|k| k.as_str())
        .collect()
}

/// The fields of a flagged request that are flagged on their own: the path,
/// each query argument, each header, and each JSON string or form field of
/// the body (with the request's content type). If no single field is, the
/// whole request is reported.
fn locate(
    target: &[u8],
    headers: &[(&[u8], &[u8])],
    body: Option<&[u8]>,
) -> Vec<(Vec<&'static str>, String, String)> {
    let mut out = Vec::new();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut try_one = |place: String, value: String, input: &Input| {
        let found = inspect_all(input);
        if !found.is_empty() {
            out.push((class_names(&found), place, value));
        }
    };
    let (path, query) = match target.iter().position(|&b| b == b'?') {
        Some(i) => (&target[..i], Some(&target[i + 1..])),
        None => (target, None),
    };
    let none: [(&[u8], &[u8]); 0] = [];
    try_one(
        "path".into(),
        text(path),
        &Input {
            target: path,
            headers: &none,
            body: None,
        },
    );
    for arg in query.unwrap_or(b"").split(|&b| b == b'&') {
        let t = [b"/?".as_slice(), arg].concat();
        let name = text(arg.split(|&b| b == b'=').next().unwrap_or(b""));
        try_one(
            format!("query:{name}"),
            text(arg),
            &Input {
                target: &t,
                headers: &none,
                body: None,
            },
        );
    }
    let ct: Vec<(&[u8], &[u8])> = headers
        .iter()
        .filter(|(n, _)| *n == b"content-type")
        .copied()
        .collect();
    for h in headers.iter().filter(|(n, _)| *n != b"content-type") {
        try_one(
            format!("header:{}", text(h.0)),
            text(h.1),
            &Input {
                target: b"/",
                headers: std::slice::from_ref(h),
                body: None,
            },
        );
    }
    if let Some(b) = body {
        let ctype = ct.first().map(|h| text(h.1)).unwrap_or_default();
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(b) {
            let mut leaves = Vec::new();
            json_strings(&v, "$".into(), &mut leaves);
            for (place, s) in leaves {
                let one = match place.strip_suffix("(key)") {
                    Some(_) => serde_json::to_vec(&serde_json::json!({ s.as_str(): 1 })),
                    None => serde_json::to_vec(&serde_json::json!({ "v": s })),
                }
                .unwrap();
                try_one(
                    format!("json:{place}"),
                    s,
                    &Input {
                        target: b"/",
                        headers: &ct,
                        body: Some(&one),
                    },
                );
            }
        } else if ctype.contains("urlencoded") {
            for pair in b.split(|&c| c == b'&') {
                let name = text(pair.split(|&c| c == b'=').next().unwrap_or(b""));
                try_one(
                    format!("form:{name}"),
                    text(pair),
                    &Input {
                        target: b"/",
                        headers: &ct,
                        body: Some(pair),
                    },
                );
            }
        } else if let Some(boundary) = ctype.split("boundary=").nth(1) {
            // Each part alone, as a body of its own with the same boundary.
            let delim = format!("--{}", boundary.trim_matches('"'));
            let raw = text(b);
            for part in raw.split(delim.as_str()).filter(|p| p.len() > 4) {
                let one = format!("{delim}{part}{delim}--\r\n");
                let name = part
                    .split("name=\"")
                    .nth(1)
                    .and_then(|n| n.split('"').next())
                    .unwrap_or("")
                    .to_string();
                try_one(
                    format!("multipart:{name}"),
                    part.chars().take(300).collect(),
                    &Input {
                        target: b"/",
                        headers: &ct,
                        body: Some(one.as_bytes()),
                    },
                );
            }
        } else {
            try_one(
                format!("body:{ctype}"),
                text(&b[..b.len().min(300)]),
                &Input {
                    target: b"/",
                    headers: &ct,
                    body: Some(b),
                },
            );
        }
    }
    if out.is_empty() {
        let found = inspect_all(&Input {
            target,
            headers,
            body,
        });
        out.push((class_names(&found), "request".into(), text(target)));
    }
    out
}

fn json_strings(v: &serde_json::Value, at: String, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::String(s) => out.push((at, s.clone())),
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                json_strings(x, format!("{at}[{i}]"), out);
            }
        }
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                // Keys are inspected too (operators, markup): report them as strings.
                out.push((format!("{at}.{k}(key)"), k.clone()));
                json_strings(x, format!("{at}.{k}"), out);
            }
        }
        _ => {}
    }
}
