//! Runs the attack signatures over the requests `ci/corpora/extract.py`
//! made from public corpora and prints, per source and class, how many were
//! flagged, for the held-back half (reported) and the tuning half.
//!
//! `cargo run --release --no-default-features --features standalone --example signature_eval -- DIR`
//! reads DIR/cases.jsonl and writes DIR/verdicts.jsonl (one line per case:
//! the classes found) for `ci/corpora/report.py`, and DIR/misses-tune.txt
//! (the tuning half's misses and false positives, the only ones to look at).

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
