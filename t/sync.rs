//! `api_abuse_sync`: several nginx instances, each with its own zone, share
//! their run-time list decisions through a real redis-server (started by the
//! test, see t/redis.rs). Denies, detections and unblocks reach every node;
//! Redis going away is not an outage; restarted, reloaded and fresh nodes
//! learn the fleet's decisions; expiry holds everywhere.

use std::time::{Duration, Instant};

use crate::harness::{http_conf, xff, Nginx};
use crate::redis::Redis;

const PROFILES: &str = "[[profile]]\nname = \"all\"\ntolerance = \"low\"\nduration = \"1h\"\n";
const NIKTO: &str = "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)";
const PREFIX: &str = "t";

/// One node: the usual test server, a write API, metrics, and an
/// application behind proxy_pass whose backend answers 404 (for scanners).
fn conf(node: &str, url: &str) -> String {
    let extra = "location = /api-abuse/ { api_abuse off; api_abuse_api write; allow 127.0.0.1; deny all; }\n\
                 location = /metrics { api_abuse off; api_abuse_metrics; }\n\
                 location /app/ { proxy_pass http://127.0.0.1:{port2}; }";
    format!(
        "api_abuse_sync {url} prefix={PREFIX} node={node};\n{}\n\
         server {{ listen 127.0.0.1:{{port2}}; location / {{ return 404; }} }}\n",
        http_conf("abuse:4m", extra)
    )
}

fn node(test: &str, name: &str, redis: &Redis) -> Nginx {
    let n = Nginx::start(
        &format!("{test}-{name}"),
        &conf(name, &redis.url()),
        &[("conf/profiles.toml", PROFILES)],
    );
    assert!(
        poll(Duration::from_secs(10), || sync_state(&n)["connected"]
            == true),
        "node {name} connects: {}",
        n.error_log()
    );
    n
}

fn api(n: &Nginx, method: &str, query: &str) -> serde_json::Value {
    let r = n.request(method, &format!("/api-abuse/{query}"), &[], None);
    assert_eq!(r.status, 200, "{method} {query}: {}", r.body);
    serde_json::from_str(&r.body).expect("JSON")
}

fn sync_state(n: &Nginx) -> serde_json::Value {
    let r = n.request("GET", "/api-abuse/", &[], None);
    serde_json::from_str::<serde_json::Value>(&r.body)
        .map_or(serde_json::Value::Null, |v| v["sync"].clone())
}

fn entry(n: &Nginx, addr: &str) -> Option<serde_json::Value> {
    api(n, "GET", "")["lists"]
        .as_array()?
        .iter()
        .find(|e| e["addr"] == addr)
        .cloned()
}

fn status(n: &Nginx, ip: &str) -> u16 {
    n.get("/", &xff(ip)).status
}

/// Polls every 10 ms until `f` holds or `timeout` passes.
fn poll(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// How long until every node answers `want` for `ip` (panics after `limit`).
fn reaches(nodes: &[&Nginx], ip: &str, want: u16, limit: Duration) -> Duration {
    let t = Instant::now();
    assert!(
        poll(limit, || nodes.iter().all(|n| status(n, ip) == want)),
        "{ip} not {want} on every node within {limit:?}"
    );
    t.elapsed()
}

fn error_lines(n: &Nginx, needle: &str) -> usize {
    n.error_log()
        .lines()
        .filter(|l| l.contains("[error]") && l.contains(needle))
        .count()
}

#[test]
fn denies_detections_and_unblocks_reach_every_node() {
    let redis = Redis::start("sync-fleet");
    let a = node("sync-fleet", "a", &redis);
    let b = node("sync-fleet", "b", &redis);
    let c = node("sync-fleet", "c", &redis);

    // An operator's deny on a.
    api(&a, "POST", "?addr=192.0.2.10&list=deny&duration=1h");
    let took = reaches(&[&b, &c], "192.0.2.10", 403, Duration::from_secs(1));
    eprintln!("deny reached b and c in {took:?}");
    let e = entry(&b, "192.0.2.10").expect("b lists it");
    assert_eq!(
        (e["list"].as_str(), e["origin"].as_str()),
        (Some("deny"), Some("operator"))
    );
    let key = redis
        .entry(PREFIX, "192.0.2.10")
        .expect("one key per entry");
    assert_eq!(key["node"], "a");
    let ttl = redis.pttl(&format!("{PREFIX}:entry:192.0.2.10"));
    assert!(
        (3_590_000..=3_600_000).contains(&ttl),
        "TTL is the expiry: {ttl}"
    );

    // A detection on a, enforced on b and c.
    let ip = "192.0.2.20";
    let probes = [
        "/.env",
        "/.git/config",
        "/wp-login.php",
        "/phpmyadmin/",
        "/admin/config.php",
        "/backup.zip",
    ];
    let mut refused = false;
    for i in 0..200 {
        let path = format!("/app{}?v={i}", probes[i % probes.len()]);
        if a.get(&path, &[("X-Forwarded-For", ip), ("User-Agent", NIKTO)])
            .status
            == 403
        {
            refused = true;
            break;
        }
    }
    assert!(refused, "the scanner is detected on a");
    reaches(&[&b, &c], ip, 403, Duration::from_secs(1));
    let e = entry(&c, ip).expect("c lists the detection");
    assert_eq!(e["origin"], "detection");
    assert_eq!(e["bot_type"], "vulnerability_scanning");
    assert!(e["confidence"].as_u64().unwrap_or(0) > 0, "{e}");
    assert_eq!(e["offences"], 1);
    assert_eq!(
        entry(&a, ip).map(|e| e["expires"].clone()),
        Some(e["expires"].clone())
    );

    // An unblock on b clears every node (and the scanner is not relisted at once on a).
    let r = api(&b, "DELETE", &format!("?addr={ip}"));
    assert_eq!(r["removed"], true);
    reaches(&[&a, &c], ip, 200, Duration::from_secs(1));
    assert!(entry(&a, ip).is_none());
    assert_eq!(
        redis.entry(PREFIX, ip).map(|v| v["list"].clone()),
        Some(serde_json::Value::Null),
        "a tombstone"
    );
    let path = "/app/.env?again";
    assert_eq!(
        a.get(path, &[("X-Forwarded-For", ip), ("User-Agent", NIKTO)])
            .status,
        404,
        "detector state cleared on a"
    );

    // Statistics are per node and say whose they are.
    let (sa, sb) = (sync_state(&a), sync_state(&b));
    assert_eq!(
        (sa["node"].as_str(), sb["node"].as_str()),
        (Some("a"), Some("b"))
    );
    assert!(sa["sent"].as_u64().unwrap() >= 2, "{sa}");
    assert!(sb["received"].as_u64().unwrap() >= 2, "{sb}");
    assert_eq!(sa["errors"], 0, "{sa}");
    let m = b.get("/metrics", &[]).body;
    assert!(m.contains("api_abuse_sync_connected{node=\"b\"} 1"), "{m}");
    assert!(
        m.contains("api_abuse_sync_received_total{node=\"b\"}"),
        "{m}"
    );
}

#[test]
fn redis_going_away_is_not_an_outage() {
    let mut redis = Redis::start("sync-outage");
    let a = node("sync-outage", "a", &redis);
    let b = node("sync-outage", "b", &redis);
    api(&a, "POST", "?addr=192.0.2.31&list=deny");
    reaches(&[&b], "192.0.2.31", 403, Duration::from_secs(1));

    // Mid-traffic: Redis dies.
    let traffic = {
        let port = a.port;
        std::thread::spawn(move || {
            let mut took = Vec::with_capacity(150);
            for i in 0..150 {
                let t = Instant::now();
                let ip = format!("198.51.100.{}", i + 1);
                let r = crate::harness::request(port, "GET", "/", &xff(&ip), None);
                assert_eq!(r.status, 200);
                took.push(t.elapsed());
                std::thread::sleep(Duration::from_millis(10));
            }
            took
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    redis.kill();
    assert!(poll(Duration::from_secs(3), || sync_state(&a)["connected"]
        == false));
    assert!(poll(Duration::from_secs(3), || sync_state(&b)["connected"]
        == false));
    // Changes made meanwhile: a lists a client, b unblocks the one a listed before.
    api(&a, "POST", "?addr=192.0.2.30&list=deny");
    assert_eq!(
        status(&a, "192.0.2.30"),
        403,
        "a enforces its own change at once"
    );
    api(&b, "DELETE", "?addr=192.0.2.31");
    assert_eq!(status(&b, "192.0.2.31"), 200);
    assert_eq!(status(&a, "192.0.2.31"), 403, "a cannot know yet");
    // A request path that waited on Redis would be slow on every request
    // after the kill; a busy machine makes one or two slow at random. So: a
    // few slow ones are tolerated, a run of them is not.
    let took = traffic.join().expect("traffic");
    let slow = took
        .iter()
        .filter(|t| **t > Duration::from_millis(300))
        .count();
    let worst = took.iter().max().copied().unwrap_or_default();
    assert!(
        slow <= 3 && worst < Duration::from_secs(5),
        "no request waited on Redis: {slow} of {} over 300 ms, worst {worst:?}",
        took.len()
    );
    // Several reconnection attempts, one [error] per node for the outage.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        sync_state(&a)["errors"].as_u64().unwrap() >= 2,
        "retries: {}",
        sync_state(&a)
    );
    assert_eq!(error_lines(&a, "sync with"), 1, "{}", a.error_log());
    assert_eq!(error_lines(&b, "sync with"), 1, "{}", b.error_log());

    // Redis comes back empty (no persistence): both nodes write what they
    // have and changed, and each learns the other's change.
    redis.launch();
    reaches(&[&b], "192.0.2.30", 403, Duration::from_secs(10));
    reaches(&[&a], "192.0.2.31", 200, Duration::from_secs(5));
    assert!(
        poll(Duration::from_secs(2), || a
            .error_log()
            .contains("restored")),
        "{}",
        a.error_log()
    );
    assert_eq!(sync_state(&a)["outages"], 1);
    assert!(
        redis.entry(PREFIX, "192.0.2.30").is_some(),
        "written back to Redis"
    );

    // A node started fresh learns the fleet's decisions.
    let c = node("sync-outage", "c", &redis);
    assert_eq!(status(&c, "192.0.2.30"), 403);
    assert_eq!(status(&c, "192.0.2.31"), 200);
    assert!(
        sync_state(&c)["loaded"].as_u64().unwrap() >= 2,
        "{}",
        sync_state(&c)
    );
}

#[test]
fn restarted_and_reloaded_nodes_follow_and_expiry_holds() {
    let redis = Redis::start("sync-life");
    let a = node("sync-life", "a", &redis);
    let mut b = node("sync-life", "b", &redis);

    // Expiry is honoured everywhere, and Redis forgets the key by itself.
    api(&a, "POST", "?addr=192.0.2.40&list=deny&duration=2s");
    reaches(&[&a, &b], "192.0.2.40", 403, Duration::from_secs(1));
    let ttl = redis.pttl(&format!("{PREFIX}:entry:192.0.2.40"));
    assert!((0..=2_000).contains(&ttl), "TTL {ttl}");
    reaches(&[&a, &b], "192.0.2.40", 200, Duration::from_secs(4));
    assert!(poll(Duration::from_secs(2), || redis
        .entry(PREFIX, "192.0.2.40")
        .is_none()));

    // After a reload, b's new worker takes over the sync.
    b.reload();
    assert!(poll(Duration::from_secs(5), || sync_state(&b)["connected"]
        == true));
    api(&a, "POST", "?addr=192.0.2.41&list=gray");
    assert!(poll(Duration::from_secs(1), || entry(&b, "192.0.2.41")
        .is_some_and(|e| e["list"] == "gray")));
    api(&b, "POST", "?addr=192.0.2.43&list=deny");
    reaches(&[&a], "192.0.2.43", 403, Duration::from_secs(1));
    assert_eq!(
        b.error_log().matches("api_abuse: sync with").count()
            - b.error_log().matches("[error]").count(),
        2,
        "one connect before, one after the reload: {}",
        b.error_log()
    );

    // Restarted without its state file, b learns from Redis what changed
    // while it was down, and what it had before.
    b.stop();
    let _ = std::fs::remove_file(b.path("state/api_abuse.state"));
    api(&a, "POST", "?addr=192.0.2.42&list=deny");
    api(&a, "DELETE", "?addr=192.0.2.43");
    b.launch();
    assert!(poll(Duration::from_secs(10), || sync_state(&b)
        ["connected"]
        == true));
    assert_eq!(status(&b, "192.0.2.42"), 403);
    assert_eq!(status(&b, "192.0.2.43"), 200);
    assert_eq!(
        entry(&b, "192.0.2.41").map(|e| e["list"].clone()),
        Some("gray".into())
    );
}

// Benchmarks (ignored by `cargo test`; ci/sync-bench.sh runs them): figures
// for docs/fleet.md, printed, not timed assertions.

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

#[test]
#[ignore]
fn bench_propagation_of_1000_changes_across_a_redis_restart() {
    let mut redis = Redis::start("sync-bench-prop");
    let a = node("sync-bench-prop", "a", &redis);
    let b = node("sync-bench-prop", "b", &redis);
    let mut took = Vec::with_capacity(1000);
    let ip = |i: usize| format!("10.77.{}.{}", i / 250, i % 250 + 1);
    for i in 0..1000 {
        if i == 500 {
            redis.kill();
            std::thread::sleep(Duration::from_millis(300));
            redis.launch();
        }
        let t = Instant::now();
        api(
            &a,
            "POST",
            &format!("?addr={}&list=deny&duration=1h", ip(i)),
        );
        assert!(
            poll(Duration::from_secs(30), || status(&b, &ip(i)) == 403),
            "change {i} lost"
        );
        took.push(t.elapsed());
    }
    let lost = (0..1000).filter(|i| status(&b, &ip(*i)) != 403).count();
    took.sort();
    eprintln!(
        "BENCH propagation: 1000 changes, Redis killed and restarted at change 500: p50 {:?} p90 {:?} p99 {:?} max {:?}, lost {lost}",
        percentile(&took, 0.5),
        percentile(&took, 0.9),
        percentile(&took, 0.99),
        took[took.len() - 1]
    );
    eprintln!("BENCH node a: {}", sync_state(&a));
    assert_eq!(lost, 0);
}

fn used_memory(redis: &Redis) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query(&mut redis.con())
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
#[ignore]
fn bench_a_node_loads_a_million_entries() {
    const N: usize = 1_000_000;
    let redis = Redis::start("sync-bench-load");
    let before = used_memory(&redis);
    let mut con = redis.con();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let t = Instant::now();
    for chunk in (0..N).collect::<Vec<_>>().chunks(10_000) {
        let mut pipe = redis::pipe();
        for &i in chunk {
            let addr = format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255);
            let json = format!(
                "{{\"addr\":\"{addr}\",\"list\":\"deny\",\"origin\":\"detection\",\"bot_type\":\"scraping\",\"confidence\":80,\"offences\":1,\"created\":{now},\"expires\":{},\"stamp\":{},\"node\":\"x\",\"instance\":1}}",
                now + 86_400,
                (now * 1000) << 10 | 5
            );
            pipe.cmd("SET")
                .arg(format!("{PREFIX}:entry:{addr}"))
                .arg(json)
                .arg("PX")
                .arg(86_400_000)
                .ignore();
        }
        pipe.query::<()>(&mut con).unwrap();
    }
    let fill = t.elapsed();
    let after = used_memory(&redis);
    eprintln!(
        "BENCH redis: {N} entries written in {fill:?}; used_memory {} MB (+{} MB, {} bytes per entry)",
        after >> 20,
        (after - before) >> 20,
        (after - before) / N as u64
    );
    let body = conf("fresh", &redis.url()).replace("abuse:4m", "abuse:1536m");
    let t = Instant::now();
    let n = Nginx::start(
        "sync-bench-load-node",
        &body,
        &[("conf/profiles.toml", PROFILES)],
    );
    let up = t.elapsed();
    assert!(
        poll(Duration::from_secs(300), || sync_state(&n)["connected"]
            == true),
        "{}",
        n.error_log()
    );
    let s = sync_state(&n);
    eprintln!(
        "BENCH load: nginx up in {up:?}, connected after {:?}; {s}",
        t.elapsed()
    );
    assert_eq!(s["loaded"].as_u64(), Some(N as u64));
    assert_eq!(status(&n, "10.3.2.1"), 403);
    assert_eq!(status(&n, "10.15.66.63"), 403);
}
