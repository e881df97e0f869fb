//! Behavioural detection end to end: a scripted bot of each type is listed
//! and then refused by both workers; a human-like session never is; the
//! reaction (denylist, graylist, monitor) and the `api_abuse monitor` mode do
//! what they say; every decision is one JSON line in the events file.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::harness::{http_conf, Nginx};

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

fn profiles(tolerance: &str, reaction: &str) -> String {
    format!(
        "[[profile]]\nname = \"shop\"\napplications = [\"shop\"]\ntolerance = \"{tolerance}\"\n\
         reaction = \"{reaction}\"\nduration = \"1h\"\n\
         sensitive = [\n\
           {{ method = \"POST\", path = \"/login\", kind = \"auth\" }},\n\
           {{ method = \"POST\", path = \"/signup\", kind = \"signup\" }},\n\
           {{ method = \"POST\", path = \"/feedback\", kind = \"feedback\" }},\n\
           {{ method = \"POST\", path = \"/cart\", kind = \"checkout\" }},\n\
         ]\n"
    )
}

/// The protected server proxies to a backend server that answers like a
/// small shop (never 403: a 403 always comes from the module).
fn start(name: &str, profiles: &str, mode: &str) -> Nginx {
    let protected = format!(
        "api_abuse_app shop;\n\
         location / {{ api_abuse {mode}; proxy_pass http://127.0.0.1:{{port2}}; }}"
    );
    let backend = "server { listen 127.0.0.1:{port2};\n\
        location = /login { return 401 '{\"error\":\"bad credentials\"}'; }\n\
        location = /signup { return 201 '{\"ok\":true}'; }\n\
        location = /feedback { return 201 '{\"ok\":true}'; }\n\
        location = /cart { return 200 '{\"items\":1}'; }\n\
        location ~ ^/users/[1-9]$ { return 200 '{\"id\":1}'; }\n\
        location /users/ { return 404 '{\"error\":\"not found\"}'; }\n\
        location ~ ^/(\\.env|\\.git|wp-|phpmyadmin|admin|backup|cgi-bin) { return 404; }\n\
        location / { return 200 'page'; }\n\
    }";
    let body = format!(
        "{}\n{backend}",
        http_conf("abuse:4m", &protected).replace("location / { root html; }", "")
    );
    Nginx::start(name, &body, &[("conf/profiles.toml", profiles)])
}

/// A bot: the request it sends as its i-th.
type Script = Box<dyn Fn(usize) -> Req>;

struct Req {
    method: &'static str,
    path: String,
    body: Option<String>,
    ua: &'static str,
}

fn get(path: String, ua: &'static str) -> Req {
    Req {
        method: "GET",
        path,
        body: None,
        ua,
    }
}

fn post(path: &str, body: String, ua: &'static str) -> Req {
    Req {
        method: "POST",
        path: path.to_string(),
        body: Some(body),
        ua,
    }
}

/// Sends the bot's requests until the module refuses one; the count, if refused.
fn drive(
    n: &Nginx,
    ip: &str,
    max: usize,
    gap: Duration,
    bot: impl Fn(usize) -> Req,
) -> Option<usize> {
    for i in 0..max {
        let r = bot(i);
        let mut headers = vec![
            ("X-Forwarded-For", ip),
            ("User-Agent", r.ua),
            ("Accept", "*/*"),
        ];
        if r.body.is_some() {
            headers.push(("Content-Type", "application/x-www-form-urlencoded"));
        }
        let resp = n.request(r.method, &r.path, &headers, r.body.as_deref());
        if resp.status == 403 {
            return Some(i + 1);
        }
        std::thread::sleep(gap);
    }
    None
}

/// After a client is listed, both workers refuse it.
fn assert_refused_by_both_workers(n: &Nginx, ip: &str) {
    for _ in 0..24 {
        assert_eq!(n.get("/", &[("X-Forwarded-For", ip)]).status, 403);
    }
    n.eventually(Duration::from_secs(2), || refusing_pids(n, ip).len() >= 2);
    let pids = refusing_pids(n, ip);
    assert_eq!(pids.len(), 2, "both workers refuse {ip}: {pids:?}");
}

fn refusing_pids(n: &Nginx, ip: &str) -> BTreeSet<String> {
    n.access_log()
        .lines()
        .filter(|l| l.starts_with(&format!("{ip} ")) && l.contains(" 403 [block]"))
        .filter_map(|l| l.split_whitespace().nth(1).map(String::from))
        .collect()
}

fn events(n: &Nginx) -> Vec<serde_json::Value> {
    std::fs::read_to_string(n.path("logs/events.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("events are JSON lines"))
        .collect()
}

fn event_for<'a>(ev: &'a [serde_json::Value], ip: &str) -> Option<&'a serde_json::Value> {
    ev.iter().find(|e| e["client"] == ip)
}

#[test]
fn a_bot_of_each_type_is_listed_and_refused_by_both_workers() {
    let n = start("detect-bots", &profiles("normal", "denylist"), "on");
    let fast = Duration::from_millis(2);
    let bots: Vec<(&str, &str, Script)> = vec![
        (
            "credential_stuffing",
            "10.9.0.1",
            Box::new(|i| {
                post(
                    "/login",
                    format!("username=user{i}&password=pw{i}"),
                    "python-requests/2.31.0",
                )
            }),
        ),
        (
            "fake_accounts",
            "10.9.0.2",
            Box::new(|i| {
                post(
                    "/signup",
                    format!("username=new{i}&email=n{i}%40mail.test&password=x"),
                    "python-requests/2.31.0",
                )
            }),
        ),
        (
            "spam",
            "10.9.0.3",
            Box::new(|i| post("/feedback", format!("text=Buy+cheap+pills+now+{i}"), CHROME)),
        ),
        (
            "scalping",
            "10.9.0.4",
            Box::new(|i| post("/cart", format!("product_id={}&qty=1", 7 + i % 2), CHROME)),
        ),
        (
            "vulnerability_scanning",
            "10.9.0.5",
            Box::new(|i| {
                let p = [
                    "/.env",
                    "/.git/config",
                    "/wp-login.php",
                    "/phpmyadmin/",
                    "/admin/config.php",
                    "/backup.zip",
                    "/cgi-bin/test.cgi",
                ];
                get(
                    format!("{}?v={i}", p[i % p.len()]),
                    "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)",
                )
            }),
        ),
        (
            "scraping",
            "10.9.0.6",
            Box::new(|i| get(format!("/products/{}", 100 + i), CHROME)),
        ),
        (
            "bola",
            "10.9.0.7",
            Box::new(|i| get(format!("/users/{}", 1 + i), "okhttp/4.12.0")),
        ),
        (
            "traffic_spike",
            "10.9.0.8",
            Box::new(|i| get(format!("/products?page={}", i % 3), CHROME)),
        ),
    ];
    let mut report = Vec::new();
    for (kind, ip, bot) in &bots {
        let sent = drive(&n, ip, 400, fast, bot);
        report.push((kind, sent));
    }
    let ev = events(&n);
    for ((kind, sent), (_, ip, _)) in report.iter().zip(&bots) {
        assert!(sent.is_some(), "{kind} bot never refused; events: {ev:?}");
        assert_refused_by_both_workers(&n, ip);
        let e = event_for(&ev, ip).unwrap_or_else(|| panic!("no event for {ip}"));
        assert_eq!(e["reaction"], "denylist");
        assert_eq!(e["profile"], "shop");
        assert_eq!(e["application"], "shop");
        assert!(e["confidence"].as_u64().unwrap_or(0) > 0);
        assert!(e["expires"].is_string());
        assert!(e["assessment"]["detectors"].is_object(), "{e}");
        eprintln!(
            "{kind}: refused after {} requests, listed as {}",
            sent.unwrap_or(0),
            e["bot_type"]
        );
    }
    // the bot type that names the obvious cases
    // (an id walk that is mostly answered 200 may be named scraping: both are listed)
    for (ip, kind) in [
        ("10.9.0.1", "credential_stuffing"),
        ("10.9.0.5", "vulnerability_scanning"),
    ] {
        assert_eq!(
            event_for(&ev, ip).map(|e| e["bot_type"].clone()),
            Some(serde_json::json!(kind))
        );
    }
}

#[test]
fn a_human_browsing_session_is_never_refused() {
    let n = start("detect-human", &profiles("normal", "denylist"), "on");
    let ip = "10.8.0.1";
    let headers = [
        ("X-Forwarded-For", ip),
        ("User-Agent", CHROME),
        ("Accept", "text/html,application/xhtml+xml"),
        ("Accept-Language", "en-US,en;q=0.9"),
        ("Accept-Encoding", "gzip, deflate, br"),
        ("Sec-Fetch-Mode", "navigate"),
        ("Sec-CH-UA", "\"Chromium\";v=\"131\""),
    ];
    let pages = [
        "/",
        "/products?page=1",
        "/products/12",
        "/products/15",
        "/search?q=red+shoes",
        "/products/33",
        "/products?page=2",
        "/products/40",
    ];
    // Think times are short for a person (about a second) so the test stays
    // quick; assets are loaded with the first page, then come from the cache.
    let mut think = 700u64;
    for (i, page) in pages.iter().enumerate() {
        assert_eq!(n.get(page, &headers).status, 200, "page {page}");
        if i == 0 {
            for asset in [
                "/static/app.css",
                "/static/app.js",
                "/static/logo.svg",
                "/favicon.ico",
            ] {
                assert_eq!(n.get(asset, &headers).status, 200);
            }
        }
        if i == 3 {
            // mistypes the password once, then logs in
            let form = [
                headers.as_slice(),
                &[("Content-Type", "application/x-www-form-urlencoded")],
            ]
            .concat();
            assert_eq!(
                n.request("POST", "/login", &form, Some("username=ann&password=wrong"))
                    .status,
                401
            );
            assert_eq!(
                n.request("POST", "/cart", &form, Some("product_id=15&qty=1"))
                    .status,
                200
            );
        }
        std::thread::sleep(Duration::from_millis(think));
        think = 700 + (think * 7919) % 900;
    }
    assert!(
        events(&n).is_empty(),
        "no detection for a human: {:?}",
        events(&n)
    );
}

#[test]
fn graylist_reaction_refuses_only_attack_signed_requests() {
    let n = start("detect-gray", &profiles("normal", "graylist"), "on");
    let ip = "10.9.1.1";
    let sent = drive(&n, ip, 400, Duration::from_millis(2), |i| {
        post("/login", format!("username=u{i}&password=p"), "curl/8.5.0")
    });
    // graylisted: the clean login attempts go on being answered by the backend
    assert!(
        sent.is_none(),
        "a graylisted client is not refused for clean requests"
    );
    let ev = events(&n);
    let e = event_for(&ev, ip).expect("credential stuffer detected");
    assert_eq!(e["reaction"], "graylist");
    assert_eq!(n.get("/", &[("X-Forwarded-For", ip)]).status, 200);
    assert_eq!(
        n.get("/?id=1%27%20or%20%271%27=%271", &[("X-Forwarded-For", ip)])
            .status,
        403
    );
    // the variables name the list and the attack (the bot type is the last one detected)
    let log = n.access_log();
    assert!(
        log.lines().any(|l| l.starts_with(ip)
            && l.contains("403 [block] [gray] [")
            && l.ends_with("[sqli]")),
        "{log}"
    );
}

#[test]
fn monitor_reaction_and_monitor_mode_list_nobody() {
    for (name, reaction, mode) in [
        ("detect-monitor-reaction", "monitor", "on"),
        ("detect-monitor-mode", "denylist", "monitor"),
    ] {
        let n = start(name, &profiles("normal", reaction), mode);
        let ip = "10.9.2.1";
        let sent = drive(&n, ip, 200, Duration::from_millis(2), |i| {
            post("/login", format!("username=u{i}&password=p"), "curl/8.5.0")
        });
        assert!(sent.is_none(), "{name}: nothing is refused");
        let ev = events(&n);
        let e =
            event_for(&ev, ip).unwrap_or_else(|| panic!("{name}: detection still writes an event"));
        assert_eq!(e["reaction"], "monitor", "{name}");
        assert!(e["expires"].is_null(), "{name}");
    }
}

#[test]
fn tolerance_moves_the_trade_off() {
    // The same moderately fast scraper, under low and high tolerance: low
    // acts at least as early as high.
    let mut counts = Vec::new();
    for t in ["low", "high"] {
        let n = start(
            &format!("detect-tolerance-{t}"),
            &profiles(t, "denylist"),
            "on",
        );
        let sent = drive(&n, "10.9.3.1", 400, Duration::from_millis(5), |i| {
            get(format!("/products/{}", 500 + i), CHROME)
        });
        counts.push(sent.unwrap_or(usize::MAX));
    }
    assert!(
        counts[0] <= counts[1],
        "low tolerance acts no later than high: {counts:?}"
    );
    assert!(counts[0] < usize::MAX, "low tolerance catches the scraper");
}

#[test]
fn requests_refused_before_the_access_check_never_list_the_proxy() {
    // Malformed requests are answered 400 by nginx before the realip module
    // runs, under the address of the trusted proxy (here loopback). Scoring
    // them would list the proxy and refuse everyone behind it.
    let n = start("detect-proxy", &profiles("low", "denylist"), "on");
    for i in 0..60 {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", n.port)).expect("connect");
        let line = if i % 2 == 0 {
            "TRACE /\r\n\r\n".to_string()
        } else {
            format!("GET /%{i}%zz HTTP/1.1\r\n\r\n")
        };
        s.write_all(line.as_bytes()).expect("send");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
    }
    assert_eq!(
        n.get("/", &[]).status,
        200,
        "the proxy's own requests still pass"
    );
    assert_eq!(n.get("/", &[("X-Forwarded-For", "10.9.4.1")]).status, 200);
    assert!(
        event_for(&events(&n), "127.0.0.1").is_none(),
        "{:?}",
        events(&n)
    );
}

/// Browser headers, in Chrome's order, for a page or a form post.
fn chrome_headers<'a>(ip: &'a str, cookie: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut h = vec![
        ("X-Forwarded-For", ip),
        (
            "sec-ch-ua",
            "\"Chromium\";v=\"131\", \"Google Chrome\";v=\"131\"",
        ),
        ("sec-ch-ua-mobile", "?0"),
        ("User-Agent", CHROME),
        (
            "Accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        ),
        ("Sec-Fetch-Site", "same-origin"),
        ("Sec-Fetch-Mode", "navigate"),
        ("Sec-Fetch-Dest", "document"),
        ("Accept-Encoding", "gzip, deflate, br, zstd"),
        ("Accept-Language", "en-US,en;q=0.9"),
    ];
    if let Some(c) = cookie {
        h.push(("Cookie", c));
    }
    h
}

/// A person: the login page, its assets, then the login post.
fn person_logs_in(n: &Nginx, ip: &str) -> Vec<u16> {
    let h = chrome_headers(ip, None);
    let mut statuses = vec![n.get("/login", &h).status];
    for asset in ["/static/app.css", "/static/app.js", "/static/logo.png"] {
        statuses.push(n.get(asset, &h).status);
    }
    let mut p = h.clone();
    p.push(("Content-Type", "application/x-www-form-urlencoded"));
    statuses.push(
        n.request("POST", "/login", &p, Some("username=demo&password=typo"))
            .status,
    );
    statuses
}

#[test]
fn a_stuffing_campaign_over_many_addresses_is_refused_people_pass() {
    let n = start("detect-campaign", &profiles("normal", "denylist"), "on");
    // Ordinary traffic first: people who browse and log in (some fail).
    for i in 0..15 {
        let s = person_logs_in(&n, &format!("10.20.0.{}", i + 1));
        assert!(s.iter().all(|s| *s != 403), "{s:?}");
    }
    // 120 addresses, each in its own /24 (a residential pool), 3 login
    // posts each with one browser's full headers, no page view first.
    let mut outcomes = Vec::new();
    let mut people_refused = 0;
    for round in 0..3 {
        for a in 0..120 {
            let ip = format!("100.64.{a}.7");
            let mut h = chrome_headers(&ip, None);
            h.push(("Content-Type", "application/x-www-form-urlencoded"));
            let body = format!("username=user{a}x{round}%40mail.test&password=123456");
            let s = n.request("POST", "/login", &h, Some(&body)).status;
            outcomes.push(s == 403);
            if a % 12 == 0 {
                // people keep logging in during the campaign
                let s = person_logs_in(&n, &format!("10.21.{round}.{}", a + 1));
                people_refused += s.iter().filter(|s| **s == 403).count();
            }
        }
    }
    assert_eq!(
        people_refused, 0,
        "people logging in during the campaign pass"
    );
    let after: Vec<bool> = outcomes[100..].to_vec();
    let refused = after.iter().filter(|r| **r).count();
    assert!(
        refused * 100 >= after.len() * 90,
        "{refused} of {} campaign requests refused after the first 100",
        after.len()
    );
    let ev = events(&n);
    let started: Vec<_> = ev
        .iter()
        .filter(|e| e["event"] == "campaign_started")
        .collect();
    assert_eq!(started.len(), 1, "{started:?}");
    let c = &started[0]["campaign"];
    assert_eq!(started[0]["bot_type"], "credential_stuffing");
    assert_eq!(c["grouped_by"], "fingerprint");
    assert!(c["addresses_at_start"].as_u64().unwrap_or(0) >= 10, "{c}");
    let listed: Vec<_> = ev
        .iter()
        .filter(|e| e["campaign"]["id"] == c["id"] && e["client"].is_string())
        .collect();
    assert!(listed.len() >= 100, "{} addresses listed", listed.len());
    assert_eq!(listed[0]["reaction"], "denylist");
    assert!(listed[0]["expires"].is_string());
    // Listed addresses are refused by both workers, for anything.
    assert_refused_by_both_workers(&n, "100.64.119.7");
    // Nobody from the people's ranges was ever listed.
    assert!(ev.iter().all(|e| !e["client"]
        .as_str()
        .is_some_and(|c| c.starts_with("10.20.") || c.starts_with("10.21."))));
}

#[test]
fn a_client_that_goes_on_is_listed_again_after_its_entry_expires() {
    let text = profiles("normal", "graylist").replace("duration = \"1h\"", "duration = \"2s\"");
    let n = start("detect-relist", &text, "on");
    let ip = "10.9.5.1";
    let stuffer = |i: usize| {
        post(
            "/login",
            format!("username=u{i}&password=p{i}"),
            "python-requests/2.31.0",
        )
    };
    // graylisted: clean requests still pass, so the client goes on
    assert_eq!(drive(&n, ip, 60, Duration::from_millis(5), stuffer), None);
    let listed = |n: &Nginx| {
        events(n)
            .into_iter()
            .filter(|e| e["client"] == ip && e["reaction"] == "graylist")
            .count()
    };
    assert!(listed(&n) >= 1, "graylisted once");
    let once = listed(&n);
    // The entry expires (2 s, doubled for each type detected since: a
    // repeat offender); the client is still at it.
    let secs_of_day = |t: &serde_json::Value| -> i64 {
        let t = t.as_str().unwrap_or("");
        t.get(11..19)
            .map(|hms| {
                hms.split(':')
                    .filter_map(|x| x.parse::<i64>().ok())
                    .fold(0, |acc, x| acc * 60 + x)
            })
            .unwrap_or(0)
    };
    let ev = events(&n);
    let last = ev.iter().rev().find(|e| e["client"] == ip).expect("event");
    let wait = (secs_of_day(&last["expires"]) - secs_of_day(&last["time"])).rem_euclid(86_400);
    assert!(wait <= 16, "{last}");
    std::thread::sleep(Duration::from_millis(wait as u64 * 1000 + 1100));
    assert_eq!(drive(&n, ip, 30, Duration::from_millis(5), stuffer), None);
    assert!(
        n.eventually(Duration::from_secs(2), || listed(&n) > once),
        "listed again after the entry expired: {:?}",
        events(&n)
    );
}

// ---------------------------------------------------------------------------
// Concurrent tools: many requests in flight at once. Detection counts a
// request when it starts (PREACCESS), so the 2nd..40th concurrent requests
// see the first ones before any of them is answered.

/// A backend that takes `delay` to answer every request (a real
/// application's latency, so that a tool's requests really are in flight
/// together), one thread per connection. It answers like a small site: a
/// few pages that link to each other and to assets, 404 for anything else.
fn slow_backend(delay: Duration) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || serve_one(conn, delay));
        }
    });
    port
}

fn serve_one(mut conn: std::net::TcpStream, delay: Duration) {
    use std::io::{Read, Write};
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    std::thread::sleep(delay);
    let (status, kind, body) = site_page(&path);
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.write_all(reply.as_bytes());
}

/// The small site: `/`, `/c/{n}` category pages (n < 40) and `/p/{n}`
/// product pages (n < 400) link to each other, to two shared assets and to
/// one image per product.
fn site_page(path: &str) -> (&'static str, &'static str, String) {
    let num = |prefix: &str, max: u32| {
        path.strip_prefix(prefix)
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|n| *n < max)
    };
    let page = |links: Vec<String>, imgs: Vec<String>| {
        let mut b = String::from(
            "<html><head><link rel=\"stylesheet\" href=\"/static/site.css\">\
             <script src=\"/static/app.js\"></script>\
             <link rel=\"icon\" href=\"/static/favicon.png\"></head><body>\
             <img src=\"/static/logo.png\">",
        );
        for i in imgs {
            b.push_str(&format!("<img src=\"{i}\">"));
        }
        for l in links {
            b.push_str(&format!("<a href=\"{l}\">{l}</a> "));
        }
        b.push_str("</body></html>");
        ("200 OK", "text/html", b)
    };
    // Thumbnails on the listings, a gallery on each product page.
    let thumbs = |p: u32| format!("/img/{p}-s.png");
    if path == "/" {
        let imgs = (0..8).map(|c| thumbs(c * 10)).collect();
        return page((0..8).map(|c| format!("/c/{c}")).collect(), imgs);
    }
    if let Some(c) = num("/c/", 40) {
        let mut links: Vec<String> = (0..10).map(|i| format!("/p/{}", c * 10 + i)).collect();
        links.push(format!("/c/{}", (c + 1) % 40));
        links.push("/".into());
        let imgs = (0..10).map(|i| thumbs(c * 10 + i)).collect();
        return page(links, imgs);
    }
    if let Some(p) = num("/p/", 400) {
        let links = vec![
            format!("/p/{}", (p + 1) % 400),
            format!("/c/{}", p / 10),
            "/".into(),
        ];
        let imgs = (1..=3).map(|g| format!("/img/{p}-{g}.png")).collect();
        return page(links, imgs);
    }
    if path.starts_with("/static/") || path.starts_with("/img/") && path.ends_with(".png") {
        return ("200 OK", "image/png", "png".repeat(50));
    }
    (
        "404 Not Found",
        "text/html",
        "<html>not found</html>".into(),
    )
}

/// The protected nginx (two workers) in front of [`slow_backend`].
fn start_proxied(name: &str, profiles: &str, backend: u16) -> Nginx {
    let protected = format!(
        "api_abuse_app shop;\n\
         location / {{ proxy_pass http://127.0.0.1:{backend}; }}"
    );
    let body = http_conf("abuse:4m", &protected).replace("location / { root html; }", "");
    Nginx::start(name, &body, &[("conf/profiles.toml", profiles)])
}

/// One request on its own connection; the status (0: network failure).
fn fetch(port: u16, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let r = crate::harness::parse_response(&raw);
    (r.status, r.body)
}

/// What a concurrent tool run saw: requests answered by the site (they got
/// through) and refused, in all.
#[derive(Debug, Default)]
struct Run {
    passed: usize,
    refused: usize,
}

/// The next path to send (`None`: nothing yet), and what to do with a page.
type NextPath = std::sync::Arc<dyn Fn(usize) -> Option<String> + Send + Sync>;
type OnPage = std::sync::Arc<dyn Fn(&str, &str) + Send + Sync>;

/// `threads` workers take the next request index from one counter and stop
/// at their first refusal, or when `next` has nothing more to send.
fn run_concurrent(
    port: u16,
    threads: usize,
    max: usize,
    headers: Vec<(&'static str, String)>,
    next: NextPath,
    on_page: OnPage,
) -> Run {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;
    let counter = Arc::new(AtomicUsize::new(0));
    let passed = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (counter, passed, refused) = (counter.clone(), passed.clone(), refused.clone());
            let (headers, next, on_page) = (headers.clone(), next.clone(), on_page.clone());
            std::thread::spawn(move || {
                let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let mut idle = 0;
                loop {
                    let i = counter.fetch_add(1, SeqCst);
                    if i >= max {
                        return;
                    }
                    let Some(path) = next(i) else {
                        // a crawler waiting for pages still in flight
                        counter.fetch_sub(1, SeqCst);
                        idle += 1;
                        if idle > 200 {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    };
                    idle = 0;
                    let (status, body) = fetch(port, &path, &h);
                    if status == 403 {
                        refused.fetch_add(1, SeqCst);
                        return;
                    }
                    passed.fetch_add(1, SeqCst);
                    on_page(&path, &body);
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    Run {
        passed: passed.load(SeqCst),
        refused: refused.load(SeqCst),
    }
}

/// A directory brute-forcer's word list: common names with and without
/// extensions, a few of which exist.
fn word_list() -> Vec<String> {
    let words = [
        "admin",
        "backup",
        "config",
        "login",
        "old",
        "test",
        "dev",
        "api",
        "private",
        "uploads",
        "images",
        "includes",
        "tmp",
        "logs",
        "db",
        "data",
        "files",
        "cgi-bin",
        "secret",
        "panel",
        "dashboard",
        "server-status",
        "phpinfo",
        "install",
        "setup",
        "wp-admin",
        "console",
        "manager",
        "portal",
        "staging",
        "archive",
        "export",
        "internal",
        "debug",
        "cache",
        "assets",
        "vendor",
        "node_modules",
        "src",
        "git",
        "svn",
        "env",
        "site",
        "web",
        "www",
    ];
    let exts = ["", ".php", ".bak", ".zip", ".txt", ".old"];
    let mut out = Vec::new();
    for e in exts {
        for w in words {
            out.push(format!("/{w}{e}"));
        }
    }
    out
}

#[test]
fn a_directory_brute_forcer_with_40_connections_is_refused_within_30_requests() {
    let backend = slow_backend(Duration::from_millis(150));
    let n = start_proxied("detect-dirbust", &profiles("normal", "denylist"), backend);
    // A generic User-Agent (neither a known scanner nor a browser): only
    // its behaviour can give it away.
    let words = std::sync::Arc::new(word_list());
    let run = run_concurrent(
        n.port,
        40,
        words.len(),
        vec![
            ("X-Forwarded-For", "10.9.6.1".into()),
            ("User-Agent", "Mozilla/5.0 (compatible; dirscan/0.9)".into()),
            ("Accept", "*/*".into()),
        ],
        std::sync::Arc::new(move |i| words.get(i).cloned()),
        std::sync::Arc::new(|_, _| {}),
    );
    eprintln!("40-connection brute-forcer: {run:?}");
    assert!(run.refused > 0, "never refused: {run:?}");
    assert!(
        run.passed <= 30,
        "{} requests got through before the refusals (at most 30)",
        run.passed
    );
    assert_refused_by_both_workers(&n, "10.9.6.1");
}

/// Links (`href`, `src`) of a page, same site only.
fn links(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for part in body.split(attr).skip(1) {
            if let Some(l) = part.split('"').next() {
                if l.starts_with('/') {
                    out.push(l.to_string());
                }
            }
        }
    }
    out
}

#[test]
fn a_mirror_with_4_connections_is_refused_within_30_requests() {
    use std::collections::{HashSet, VecDeque};
    use std::sync::{Arc, Mutex};
    let backend = slow_backend(Duration::from_millis(100));
    let n = start_proxied("detect-mirror", &profiles("normal", "denylist"), backend);
    // wget --mirror --page-requisites: breadth first, every page's assets,
    // each URL once.
    let queue = Arc::new(Mutex::new((
        VecDeque::from(["/".to_string()]),
        HashSet::new(),
    )));
    let q = queue.clone();
    let next = Arc::new(move |_| {
        let mut g = q.lock().unwrap_or_else(|e| e.into_inner());
        g.0.pop_front()
    });
    let q = queue.clone();
    let on_page = Arc::new(move |path: &str, body: &str| {
        let mut g = q.lock().unwrap_or_else(|e| e.into_inner());
        g.1.insert(path.to_string());
        for l in links(body) {
            if g.1.insert(l.clone()) {
                g.0.push_back(l);
            }
        }
    });
    let run = run_concurrent(
        n.port,
        4,
        600,
        vec![
            ("X-Forwarded-For", "10.9.7.1".into()),
            ("User-Agent", "Wget/1.21.3".into()),
            ("Accept", "*/*".into()),
            ("Accept-Encoding", "identity".into()),
        ],
        next,
        on_page,
    );
    eprintln!("4-connection mirror: {run:?}");
    assert!(run.refused > 0, "never refused: {run:?}");
    assert!(
        run.passed <= 30,
        "{} requests got through before the refusals (at most 30)",
        run.passed
    );
}

#[test]
fn a_detection_at_request_start_names_that_request_with_a_null_status() {
    // Detections are made when a request starts (PREACCESS), before it is
    // answered: the event names the request that revealed the bot, whose
    // status is unknown then (`null`), and a denylist refuses that very
    // request.
    let n = start("detect-event-status", &profiles("normal", "denylist"), "on");
    let ip = "10.9.7.1";
    let refused_at = drive(&n, ip, 200, Duration::ZERO, |i| {
        get(format!("/users/{}", 1000 + i), "python-requests/2.32")
    })
    .expect("the walk is refused");
    let ev = events(&n);
    let e = event_for(&ev, ip).unwrap_or_else(|| panic!("{ev:?}"));
    assert_eq!(e["request"]["method"], "GET");
    assert_eq!(
        e["request"]["path"],
        format!("/users/{}", 1000 + refused_at - 1),
        "the refused request"
    );
    assert!(e["request"]["status"].is_null(), "{e}");
    assert_eq!(e["reaction"], "denylist");
}
