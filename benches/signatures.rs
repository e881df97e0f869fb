//! Cost of attack-signature inspection per request: a typical API request
//! (path with ids, four arguments, User-Agent/Referer/Cookie, small JSON
//! body), the same request carrying an injection, a 64 KiB JSON body, and
//! crafted worst cases at the documented limits (64 KiB body, 32 KiB of
//! headers, 8 KiB target, thousands of arguments): each must stay under
//! 1 ms (issue 7, item 4).
//!
//! Run with `cargo bench --no-default-features --features standalone --bench signatures`.

#![warn(clippy::undocumented_unsafe_blocks)]

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ngx_http_api_abuse_module::signatures::cache::{inspect_all_cached, ScanCache};
use ngx_http_api_abuse_module::signatures::{inspect, inspect_all, Input};

const UA: &[u8] = b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const BODY_LIMIT: usize = 64 * 1024;
const TARGET_LIMIT: usize = 8 * 1024;

fn headers(cookie: &[u8]) -> [(&[u8], &[u8]); 5] {
    [
        (b"user-agent", UA),
        (
            b"referer",
            b"https://shop.example.com/products?category=shoes&page=2",
        ),
        (b"cookie", cookie),
        (b"content-type", b"application/json"),
        (b"x-request-id", b"7f3c9a1e-55b2-4c1d-9e8f-0a1b2c3d4e5f"),
    ]
}

fn big_json() -> Vec<u8> {
    let mut body = b"{\"items\": [".to_vec();
    let mut i = 0;
    while body.len() < BODY_LIMIT - 200 {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(
            format!(
                r#"{{"id": {i}, "sku": "SKU-{i:06}", "name": "Item {i} - O'Brien's \"best\" pick", "price": 19.99, "tags": ["red", "sale"], "note": "ships in 2-3 days; see https://example.com/faq?id={i}"}}"#
            )
            .as_bytes(),
        );
        i += 1;
    }
    body.extend_from_slice(b"]}");
    body
}

/// `prefix` followed by `unit` repeated up to `limit` bytes.
fn repeat(prefix: &[u8], unit: &[u8], limit: usize) -> Vec<u8> {
    let mut v = prefix.to_vec();
    while v.len() + unit.len() <= limit {
        v.extend_from_slice(unit);
    }
    v
}

/// Crafted inputs, each at a documented limit.
struct Worst {
    name: &'static str,
    target: Vec<u8>,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    body: Option<Vec<u8>>,
}

fn worst_cases() -> Vec<Worst> {
    let json = |name, body: Vec<u8>| Worst {
        name,
        target: b"/api/v1/import".to_vec(),
        headers: vec![(b"content-type".to_vec(), b"application/json".to_vec())],
        body: Some(body),
    };
    let form = |name, body: Vec<u8>| Worst {
        name,
        target: b"/api/v1/form".to_vec(),
        headers: vec![(
            b"content-type".to_vec(),
            b"application/x-www-form-urlencoded".to_vec(),
        )],
        body: Some(body),
    };
    let query = |name, q: Vec<u8>| Worst {
        name,
        target: [b"/search?".as_slice(), &q].concat()[..TARGET_LIMIT.min(q.len() + 8)].to_vec(),
        headers: vec![(b"user-agent".to_vec(), UA.to_vec())],
        body: None,
    };
    let many_headers = (0..400)
        .map(|i| {
            (
                format!("x-custom-{i}").into_bytes(),
                repeat(b"", b"a'(<$%;", 70),
            )
        })
        .collect::<Vec<_>>();
    let multipart = {
        let mut b = Vec::new();
        while b.len() < BODY_LIMIT - 200 {
            b.extend_from_slice(
                b"--xx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n'\"<{{$\r\n",
            );
        }
        b.extend_from_slice(b"--xx--\r\n");
        b
    };
    vec![
        json("json_dollar_keys", repeat(b"{", b"\"$a\":", BODY_LIMIT)),
        json(
            "json_dollar_keys_nested",
            repeat(b"", b"{\"$a\":", BODY_LIMIT),
        ),
        json("json_deep_nesting", repeat(b"", b"[", BODY_LIMIT)),
        json("json_quotes", repeat(b"", b"\"", BODY_LIMIT)),
        json(
            "json_escapes",
            repeat(b"{\"a\":\"", b"\\u0027\\\"", BODY_LIMIT),
        ),
        json("json_many_strings", repeat(b"[", b"\"a'b\",", BODY_LIMIT)),
        form("form_braces", repeat(b"q=", b"{", BODY_LIMIT)),
        form("form_bracket_dollar", repeat(b"q=", b"[$a:", BODY_LIMIT)),
        form("form_many_args", repeat(b"", b"a[$ne]=1&", BODY_LIMIT)),
        form("form_percent", repeat(b"q=", b"%25", BODY_LIMIT)),
        form("form_entities", repeat(b"q=", b"&amp;lt;", BODY_LIMIT)),
        form("form_long_token", repeat(b"q=", b"a", BODY_LIMIT)),
        form("form_quotes_parens", repeat(b"q=", b"'(\"", BODY_LIMIT)),
        form("form_sql_words", repeat(b"q=", b" or 1 union ", BODY_LIMIT)),
        form("form_tags", repeat(b"q=", b"<a ", BODY_LIMIT)),
        form("form_shell", repeat(b"q=", b";a|", BODY_LIMIT)),
        // Every window has a comment in markup: the XSS scanner's second,
        // comment-kept view runs on each (normalize.rs `hid_markup`).
        form(
            "form_comments_in_markup",
            repeat(b"q=", b"<a /*<b*/ ", BODY_LIMIT),
        ),
        // CSS escapes and comments in style attributes: the CSS view.
        form(
            "form_css_escapes",
            repeat(b"q=", b"<a style='\\65/**/", BODY_LIMIT),
        ),
        form(
            "form_document_dots",
            repeat(b"q=", b"document . ", BODY_LIMIT),
        ),
        // Line breaks before header-like words (the CRLF scan per break),
        // quotes before XPath operators and calls (the XPath scan).
        form("form_line_breaks", repeat(b"q=", b"%0aa: ", BODY_LIMIT)),
        // RCE, fifth round: cmd.exe's reading of `for` loops (`rce::cmd_reading`),
        // shell-only expansions left open, computed calls and pipes into a
        // shell after prose (each pipe reads back to the one before).
        form("form_cmd_for", repeat(b"q=", b"f^or %a in(", BODY_LIMIT)),
        form(
            "form_shell_expansions",
            repeat(b"q=", b"$((a ", BODY_LIMIT),
        ),
        form("form_param_expansions", repeat(b"q=", b"${a:", BODY_LIMIT)),
        // Bash's `$[..]` arithmetic left open after every `$`, and variables
        // run after separators (rce.rs, eighth round).
        form("form_arith_expansions", repeat(b"q=", b"$[1+", BODY_LIMIT)),
        form("form_variable_runs", repeat(b"q=a=", b"1;$a ", BODY_LIMIT)),
        // cmd `if` after every separator, and assignments before words.
        form("form_cmd_if", repeat(b"q=", b";if a==b ", BODY_LIMIT)),
        form("form_assignments", repeat(b"q=", b";a=b c=d ", BODY_LIMIT)),
        form("form_computed_calls", repeat(b"q=", b"')('a' ", BODY_LIMIT)),
        form(
            "form_pipes_to_sh",
            repeat(b"q=", b"a b c | sh ", BODY_LIMIT),
        ),
        // Spaced-out tags and namespace prefixes after every `<`, computed
        // globals, `url(` and attribute names after a quote (xss.rs, fifth
        // round).
        form(
            "form_spaced_tags",
            repeat(b"q=", b"< x: s c r i p<f o r ", BODY_LIMIT),
        ),
        // Statements as values: each field opens with `insert` and scans
        // for `values (` (sqli.rs, fifth round).
        form(
            "form_sql_statements",
            repeat(b"", b"q=insert values values x&", BODY_LIMIT),
        ),
        form(
            "form_xss_probes",
            repeat(b"q=", b"'; self[ url( 'formaction srcdoc ", BODY_LIMIT),
        ),
        form(
            "form_xpath_quotes",
            repeat(b"q=", b"' or name( /child::", BODY_LIMIT),
        ),
        // Values that decode from base64 to text (`'"(<$;|{{`), one long
        // and many short; line breaks written out as text; a multipart
        // body recognised by its shape, without a content type.
        form(
            "form_base64_text",
            repeat(b"q=", b"JyIoPCQ7fHt7", BODY_LIMIT),
        ),
        form(
            "form_base64_fields",
            repeat(b"", b"q=JyIoPCQ7fHt7&", BODY_LIMIT),
        ),
        form("form_written_breaks", repeat(b"q=", b"\\na: ", BODY_LIMIT)),
        Worst {
            name: "untyped_multipart_parts",
            target: b"/upload".to_vec(),
            headers: vec![],
            body: Some(multipart.clone()),
        },
        Worst {
            name: "multipart_parts",
            target: b"/upload".to_vec(),
            headers: vec![(
                b"content-type".to_vec(),
                b"multipart/form-data; boundary=xx".to_vec(),
            )],
            body: Some(multipart),
        },
        Worst {
            name: "xml_tags",
            target: b"/soap".to_vec(),
            headers: vec![(b"content-type".to_vec(), b"text/xml".to_vec())],
            body: Some(repeat(
                b"<?xml version=\"1.0\"?>",
                b"<a b=\"'\">{{",
                BODY_LIMIT,
            )),
        },
        query("query_braces", repeat(b"q=", b"{", TARGET_LIMIT)),
        query("query_bracket_dollar", repeat(b"q=", b"[$a:", TARGET_LIMIT)),
        query("query_many_args", repeat(b"", b"a=1&", TARGET_LIMIT)),
        query("query_percent", repeat(b"q=", b"%", TARGET_LIMIT)),
        query("query_entities", repeat(b"q=", b"&#", TARGET_LIMIT)),
        Worst {
            name: "path_dots",
            target: repeat(b"/", b"../.;/%2e", TARGET_LIMIT),
            headers: vec![],
            body: None,
        },
        Worst {
            name: "headers_400_hostile",
            target: b"/".to_vec(),
            headers: many_headers,
            body: None,
        },
        // Loops with no scan behind them: the walk over 16,000 plain
        // arguments, 13,000 plain JSON keys, 1,000 plain headers (32 KiB).
        form("form_plain_args", repeat(b"", b"a=1&", BODY_LIMIT)),
        json("json_plain_keys", repeat(b"{", b"\"a\":1,", BODY_LIMIT)),
        // Session 12: keys with a space are read as values; plain tokens
        // of a Java name's length and first letter are looked up whole
        // (as values, names and JSON keys, before the plain-token skip).
        json("json_spaced_keys", repeat(b"{", b"\"a b\":1,", BODY_LIMIT)),
        json(
            "json_token_keys",
            repeat(b"{", b"\"prototypeserializationfactorx\":1,", BODY_LIMIT),
        ),
        form(
            "form_java_tokens",
            repeat(b"", b"prototypeserializationfactorx=ognlutilx&", BODY_LIMIT),
        ),
        Worst {
            name: "headers_1000_plain",
            target: b"/".to_vec(),
            headers: (0..1000)
                .map(|i| (format!("x-h-{i}").into_bytes(), b"0123456789abcdef0123".to_vec()))
                .collect(),
            body: None,
        },
        // Scanner identity (issue 9): 400 User-Agent headers, each a run of
        // short tool names glued to letters (a candidate every 5 bytes).
        Worst {
            name: "user_agents_400_tool_prefixes",
            target: b"/".to_vec(),
            headers: (0..400)
                .map(|_| (b"user-agent".to_vec(), repeat(b"", b"nmapx", 200)))
                .collect(),
            body: None,
        },
        // Every path segment gets the SQL check of its own.
        Worst {
            name: "path_segments",
            target: repeat(b"/", b"a'b/", TARGET_LIMIT),
            headers: vec![],
            body: None,
        },
        // `name=value` segments (issue 9, SQLi): each value read again.
        Worst {
            name: "path_segment_values",
            target: repeat(b"/", b"a=b'(/", TARGET_LIMIT),
            headers: vec![],
            body: None,
        },
        // An absolute-form target: the SSRF check on the whole target first.
        Worst {
            name: "absolute_target",
            target: repeat(b"http://169.254.169.254/", b"a'(", TARGET_LIMIT),
            headers: vec![],
            body: None,
        },
        // Parts whose file names get the upload checks.
        Worst {
            name: "multipart_file_names",
            target: b"/upload".to_vec(),
            headers: vec![(
                b"content-type".to_vec(),
                b"multipart/form-data; boundary=xx".to_vec(),
            )],
            body: Some(repeat(
                b"",
                b"--xx\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a'(<$;|.txt\"\r\n\r\nx\r\n",
                BODY_LIMIT,
            )),
        },
        // Sixth round: every path segment is base64 of text that opens
        // most gates (`a'(<$%;b`), so each is decoded and scanned as a value.
        Worst {
            name: "path_base64_segments",
            target: repeat(b"/", b"YScoPCQlO2I/", TARGET_LIMIT),
            headers: vec![],
            body: None,
        },
        // A Referer whose query arguments are each read as a value.
        Worst {
            name: "referer_arguments",
            target: b"/".to_vec(),
            headers: vec![(
                b"referer".to_vec(),
                repeat(b"https://a.example/?", b"a='(<$;&", 8 * 1024),
            )],
            body: None,
        },
        // XPath location paths with predicates, each read to its end.
        Worst {
            name: "form_xpath_predicates",
            target: b"/api/v1/form".to_vec(),
            headers: vec![(
                b"content-type".to_vec(),
                b"application/x-www-form-urlencoded".to_vec(),
            )],
            body: Some(repeat(b"", b"q=//a/b[1]/c[x y z]/d[a-b c-d('&", BODY_LIMIT)),
        },
        // Issue 9, small classes: schema locations read to their closing
        // quote, LDAP extensible matches looked back from every `:=`, and
        // JSON strings of `\u00XX` escapes read back for base64.
        Worst {
            name: "xml_schema_locations",
            target: b"/soap".to_vec(),
            headers: vec![(b"content-type".to_vec(), b"text/xml".to_vec())],
            body: Some(repeat(
                b"<?xml version=\"1.0\"?>",
                b"<a xsi:schemaLocation=\"a b c d e f:// g\">",
                BODY_LIMIT,
            )),
        },
        // Session 13: processing instructions read whole, each a short
        // field with quotes and parentheses that flags nothing.
        Worst {
            name: "xml_processing_instructions",
            target: b"/soap".to_vec(),
            headers: vec![(b"content-type".to_vec(), b"text/xml".to_vec())],
            body: Some(repeat(b"<?xml version=\"1.0\"?>", b"<?x a='1' (b)?>", BODY_LIMIT)),
        },
        form("form_ldap_extensible", repeat(b"q=", b"a:b:1.2.3:=", BODY_LIMIT)),
        json(
            "json_escaped_base64",
            repeat(b"{\"a\": \"", b"\\u004a\\u0079\\u0049\\u006f", BODY_LIMIT),
        ),
        Worst {
            name: "cookie_many",
            target: b"/".to_vec(),
            headers: vec![(b"cookie".to_vec(), repeat(b"", b"a='(;", 32 * 1024))],
            body: None,
        },
        // Seventh round (issue 9): spaced PHP variables, SQLite dot
        // commands, cmd substrings, MathML links and disguised hosts in
        // every tag, bracket placeholders after tag names.
        form("form_spaced_variables", repeat(b"q=", b"$ { a $ {", BODY_LIMIT)),
        form("form_sqlite_dots", repeat(b"q=", b";.shell .system ", BODY_LIMIT)),
        form("form_cmd_substrings", repeat(b"q=", b"%a:~1,%:~", BODY_LIMIT)),
        form(
            "form_math_hosts",
            repeat(b"q=<math>", b"<a b=http://0.1.0x ", BODY_LIMIT),
        ),
        form("form_bracket_tags", repeat(b"q=", b"<img[a]]on]onx=", BODY_LIMIT)),
        // Code injection (code.rs): every `(` read back to a long name and a
        // line comment before it; pipe opens, SpEL types, OGNL statics and
        // lookups that never complete.
        form(
            "form_code_calls",
            repeat(b"q=", b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa #a\n(", BODY_LIMIT),
        ),
        form(
            "form_code_lookups",
            repeat(b"q=", b"open('a','b' t(java.a @java.a.b ${a send(:a ", BODY_LIMIT),
        ),
        // code.rs's one pass: an anchor at every few bytes, each rule's
        // look-around read in full (a bracketed name's call, a comment line
        // to a call, quoted pipe arguments, a Ruby object's method).
        form(
            "form_code_anchors",
            repeat(b"q=", b"(system)a exec #aa open('|' io . a o:+1 ${ab ", BODY_LIMIT),
        ),
        // Session 10 (issue 9): a long name, `-`, then `;exit(` at every
        // few bytes (each hit once read the name again), fork-bomb shapes,
        // joined PHP names read back from every `)(`, and the heaviest
        // shell field ended by a line break (read twice: with and without).
        form("form_code_call_hits", {
            let mut v = b"q=".to_vec();
            v.extend(std::iter::repeat_n(b'a', 2000));
            // `-` ends the name: no hit is a call after a bare token.
            v.push(b'-');
            repeat(&v, b";exit(", BODY_LIMIT)
        }),
        form(
            "form_fork_bombs",
            repeat(b"q=", b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa(){ aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa|", BODY_LIMIT),
        ),
        form(
            "form_joined_calls",
            repeat(b"q=", b"(a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a)(", BODY_LIMIT),
        ),
        form("form_shell_line_end", {
            let mut v = repeat(b"q=", b";a|", BODY_LIMIT - 3);
            v.extend_from_slice(b"%0A");
            v
        }),
        // Session 11: every `|if [ ` opens a shell conditional whose
        // `then` is searched for in the next 160 bytes, none found.
        form("form_shell_ifs", repeat(b"q=", b"|if+[+", BODY_LIMIT)),
        // Every line's `ps` reads its argument's first 32 bytes for what a
        // shell drops from a word (`a''u''x`), none found.
        form(
            "form_spelled_arguments",
            repeat(b"q=", b"%0Aps+aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", BODY_LIMIT),
        ),
    ]
}

/// CPU time of this thread: on a shared machine wall time mostly measures
/// the other processes, CPU time what the scan itself costs.
struct CpuTime;

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a pointer to a timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl Measurement for CpuTime {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, i: u64) -> u64 {
        thread_cpu_ns() - i
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (div, unit) = if typical >= 1e6 {
            (1e6, "ms cpu")
        } else if typical >= 1e3 {
            (1e3, "µs cpu")
        } else {
            (1.0, "ns cpu")
        };
        values.iter_mut().for_each(|v| *v /= div);
        unit
    }
    fn scale_throughputs(&self, _: f64, _: &Throughput, values: &mut [f64]) -> &'static str {
        values.iter_mut().for_each(|v| *v = 0.0);
        "-"
    }
    fn scale_for_machines(&self, _: &mut [f64]) -> &'static str {
        "ns cpu"
    }
}

fn bench(c: &mut Criterion<CpuTime>) {
    let cookie: &[u8] =
        b"session=9f86d081884c7d659a2feaa0c55ad015; theme=dark; _ga=GA1.2.1234567890.1700000000";
    let h = headers(cookie);
    let body: &[u8] = br#"{"quantity": 2, "comment": "Please gift-wrap it, it's for Mary's birthday!", "coupon": "SPRING-24"}"#;
    let typical = Input {
        target: b"/api/v1/users/48213/orders/77?page=2&per_page=50&sort=-created_at&q=red+shoes",
        headers: &h,
        body: Some(body),
    };
    let attack = Input { target: b"/api/v1/users/48213/orders/77?page=2&per_page=50&sort=-created_at&q=1%27+AND+SLEEP(5)--+x", headers: &h, body: Some(body) };
    let big = big_json();
    let large = Input {
        target: b"/api/v1/import",
        headers: &h,
        body: Some(&big),
    };

    let mut g = c.benchmark_group("signatures");
    g.sample_size(20)
        .measurement_time(std::time::Duration::from_secs(2))
        .warm_up_time(std::time::Duration::from_millis(500));
    g.bench_function("typical_api_request", |b| {
        b.iter(|| inspect(black_box(&typical)))
    });
    // As a worker sees it: the verdict cache warm with the headers and the
    // query, a path with an object id it has not seen (every request misses).
    let mut cache = ScanCache::default();
    let mut id = 0u64;
    let mut target = Vec::with_capacity(128);
    g.bench_function("typical_api_request_cached_new_id", |b| {
        b.iter(|| {
            id += 1;
            target.clear();
            target.extend_from_slice(format!("/api/v1/users/48213/orders/{id}?page=2&per_page=50&sort=-created_at&q=red+shoes").as_bytes());
            let input = Input { target: &target, headers: &h, body: None };
            inspect_all_cached(black_box(&input), &mut cache)
        })
    });
    g.bench_function("typical_request_with_sqli", |b| {
        b.iter(|| inspect(black_box(&attack)))
    });
    g.bench_function("json_body_64k", |b| b.iter(|| inspect(black_box(&large))));
    g.finish();

    let mut g = c.benchmark_group("worst_case");
    g.sample_size(10)
        .measurement_time(std::time::Duration::from_secs(1))
        .warm_up_time(std::time::Duration::from_millis(300));
    for w in worst_cases() {
        let hdrs: Vec<(&[u8], &[u8])> = w
            .headers
            .iter()
            .map(|(n, v)| (n.as_slice(), v.as_slice()))
            .collect();
        let input = Input {
            target: &w.target,
            headers: &hdrs,
            body: w.body.as_deref(),
        };
        // The whole scan, every class (what a worker does for an unknown client).
        g.bench_function(w.name, |b| b.iter(|| inspect_all(black_box(&input))));
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(CpuTime);
    targets = bench
}
criterion_main!(benches);
