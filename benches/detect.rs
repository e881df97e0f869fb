//! Per-request cost of the detection core: what the LOG phase pays for every
//! request (observe + assess + decide), next to its parts (extract, outside
//! any lock; update, the only part under the client's lock) and to the rare
//! slow path (a User-Agent change, parsed with woothee).
//!
//! Run: `cargo bench --no-default-features --features standalone --bench detect` (short settings: about 20 s).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use ngx_http_api_abuse_module::detect::{
    assess, decide, facts, outdated_browser, template, AppBaseline, ClientState, SensitiveSet,
};
use ngx_http_api_abuse_module::model::{SensitiveKind, Tolerance};
use ngx_http_api_abuse_module::request::{header_bits as h, RequestView};

const CHROME: &[u8] = b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const FIREFOX: &[u8] = b"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";

fn view<'a>(path: &'a [u8], ua: &'static [u8]) -> RequestView<'a> {
    RequestView {
        method: b"GET",
        path,
        query: b"page=2",
        user_agent: Some(ua),
        headers: h::ACCEPT | h::ACCEPT_LANGUAGE | h::ACCEPT_ENCODING | h::COOKIE,
        header_count: 9,
        status: 200,
        http_version: 1001,
        attack: None,
    }
}

fn sensitive() -> SensitiveSet {
    let rules: Vec<(&str, &str, SensitiveKind)> = (0..20)
        .map(|i| {
            (
                "POST",
                [
                    "/api/login",
                    "/api/signup",
                    "/api/cart/**",
                    "/api/v1/*/reserve",
                ][i % 4],
                SensitiveKind::ALL[i % 6],
            )
        })
        .collect();
    SensitiveSet::compile(&rules).unwrap_or_default()
}

/// A trained baseline, so the transition model is consulted on every request.
fn trained() -> Box<AppBaseline> {
    let mut b = AppBaseline::boxed();
    let mut s = ClientState::ZERO;
    let paths: Vec<String> = (0..40)
        .map(|i| format!("/api/section{}/items/{}", i % 8, i))
        .collect();
    for i in 0..3000u64 {
        let p = &paths[(i % 40) as usize];
        let obs = s.observe(&view(p.as_bytes(), CHROME), None, &b, 1_000_000 + i * 3_000);
        let a = assess(&s, &b, 1_000_000 + i * 3_000);
        b.learn(&obs, a.lesson(), 1_000_000 + i * 3_000);
    }
    b
}

fn bench(c: &mut Criterion) {
    let b = trained();
    let set = sensitive();
    let paths: Vec<String> = (0..64)
        .map(|i| format!("/api/products/{}/reviews", 1000 + i))
        .collect();

    let mut g = c.benchmark_group("detect");
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    g.sample_size(30);

    g.bench_function("normalise", |bn| {
        let mut i = 0;
        bn.iter(|| {
            i = (i + 1) % paths.len();
            black_box(template::normalise(b"GET", paths[i].as_bytes()))
        })
    });
    g.bench_function("sensitive_classify_20_rules", |bn| {
        bn.iter(|| black_box(set.classify(b"GET", black_box(b"/api/products/77/reviews"))))
    });

    // The per-request path: same User-Agent (cached class), trained baseline.
    let mut state = ClientState::ZERO;
    let mut now = 50_000_000u64;
    g.bench_function("observe_assess_decide", |bn| {
        let mut i = 0;
        bn.iter(|| {
            i = (i + 1) % paths.len();
            now += 700;
            let v = view(paths[i].as_bytes(), CHROME);
            let kind = set.classify(v.method, v.path);
            let _ = state.observe(&v, kind, &b, now);
            let a = assess(&state, &b, now);
            black_box(decide(&a, Tolerance::Normal, u8::MAX))
        })
    });
    // The two halves of observe: extract (no lock, parses) and update (what
    // runs under the client's lock: counters only).
    g.bench_function("extract_only", |bn| {
        let mut i = 0;
        bn.iter(|| {
            i = (i + 1) % paths.len();
            let v = view(paths[i].as_bytes(), CHROME);
            black_box(facts::extract(&v, set.classify(v.method, v.path)))
        })
    });
    let facts: Vec<_> = paths
        .iter()
        .map(|p| facts::extract(&view(p.as_bytes(), CHROME), None))
        .collect();
    g.bench_function("update_only", |bn| {
        let mut i = 0;
        bn.iter(|| {
            i = (i + 1) % facts.len();
            now += 700;
            black_box(state.update(&facts[i], &b, now))
        })
    });
    g.bench_function("observe_only", |bn| {
        let mut i = 0;
        bn.iter(|| {
            i = (i + 1) % paths.len();
            now += 700;
            black_box(state.observe(&view(paths[i].as_bytes(), CHROME), None, &b, now))
        })
    });
    g.bench_function("assess_only", |bn| {
        bn.iter(|| black_box(assess(&state, &b, now)))
    });
    let a = assess(&state, &b, now);
    g.bench_function("score_one_type", |bn| {
        bn.iter(|| {
            black_box(ngx_http_api_abuse_module::detect::score(
                black_box(&a),
                ngx_http_api_abuse_module::model::BotType::Scraping,
                Tolerance::Normal,
            ))
        })
    });
    g.bench_function("decide_only", |bn| {
        bn.iter(|| black_box(decide(black_box(&a), Tolerance::Normal, u8::MAX)))
    });

    // A NAT address: the User-Agent changes on every request (served from the
    // per-worker cache after the first time).
    g.bench_function("observe_with_ua_change", |bn| {
        let mut i = 0;
        bn.iter(|| {
            i += 1;
            now += 700;
            let ua = if i % 2 == 0 { CHROME } else { FIREFOX };
            black_box(state.observe(&view(paths[i % 64].as_bytes(), ua), None, &b, now))
        })
    });
    // The slow path itself: classify and parse a User-Agent with woothee.
    g.bench_function("parse_user_agent", |bn| {
        bn.iter(|| black_box(outdated_browser::parse(black_box(CHROME))))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
