//! Each stage alone, then the four together on a zone on the heap.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use super::*;
use crate::config::{Profiles, Reaction};
use crate::model::{AttackClass, BotType, SensitiveKind};
use crate::shared::tests::heap_zone;

const T0: u64 = 1_700_000_000_000;

fn profiles(reaction: &str, duration: &str) -> Profiles {
    let text = format!(
        "[[profile]]\nname = \"shop\"\nreaction = \"{reaction}\"\nduration = \"{duration}\"\n\
         [[profile.sensitive]]\nmethod = \"POST\"\npath = \"/login\"\nkind = \"auth\"\n"
    );
    match Profiles::parse(Path::new("test.toml"), &text) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn login(status: u16) -> RequestView<'static> {
    RequestView {
        method: b"POST",
        path: b"/login",
        user_agent: Some(b"python-requests/2.31"),
        status,
        http_version: 1001,
        ..Default::default()
    }
}

fn detection() -> Detection {
    Detection {
        bot_type: BotType::CredentialStuffing,
        confidence_pct: 90,
    }
}

#[test]
fn extract_reads_the_request_and_the_profile_only() {
    let p = profiles("denylist", "1h");
    let f = extract(&p.profiles[0], &login(401));
    assert_eq!(f.sensitive, Some(SensitiveKind::Auth));
    assert_eq!(f.status, 401);
    assert_eq!(f, extract(&p.profiles[0], &login(401)), "pure");
    let other = extract(
        &p.profiles[0],
        &RequestView {
            method: b"GET",
            ..login(200)
        },
    );
    assert_eq!(other.sensitive, None);
}

#[test]
fn update_returns_the_record_it_wrote() {
    let z = heap_zone(4 << 20);
    let p = profiles("denylist", "1h");
    let f = extract(&p.profiles[0], &login(401));
    let b = AppBaseline::boxed();
    let (copy, obs) = update(&z.shared, 7, &f, &b, T0).expect("inserted");
    assert_eq!(copy.requests(), 1);
    assert_eq!(obs.template, f.endpoint.template);
    let stored = z.shared.clients.get(7, |s| *s).expect("stored");
    assert_eq!(stored, copy);
    let (again, _) = update(&z.shared, 7, &f, &b, T0 + 1000).expect("found");
    assert_eq!(again.requests(), 2);
}

#[test]
fn react_is_the_listing_policy() {
    let p = profiles("denylist", "1h");
    let prof = &p.profiles[0];
    let now = 1_700_000_000;
    let first = react(prof, false, 0, &detection(), now);
    assert_eq!(first.reaction, Reaction::Denylist);
    let e = first.entry.expect("listed");
    assert_eq!(e.kind(), Some(ListKind::Deny));
    assert_eq!(u64::from(e.expires), now + 3600);
    assert_eq!(e.bot(), Some(BotType::CredentialStuffing));
    assert_eq!(e.confidence, 90);
    // A repeat offender stays twice as long per earlier listing, capped.
    let third = react(prof, false, 2, &detection(), now)
        .entry
        .expect("listed");
    assert_eq!(u64::from(third.expires), now + 4 * 3600);
    let capped = react(prof, false, 30, &detection(), now)
        .entry
        .expect("listed");
    assert_eq!(u64::from(capped.expires), now + MAX_REPEAT_SECS);
    // Monitor lists nothing, whatever the profile says.
    let m = react(prof, true, 0, &detection(), now);
    assert_eq!((m.reaction, m.entry), (Reaction::Monitor, None));
    let gray = profiles("graylist", "forever");
    let g = react(&gray.profiles[0], false, 0, &detection(), now);
    let e = g.entry.expect("listed");
    assert_eq!((e.kind(), e.expires), (Some(ListKind::Gray), 0));
}

#[test]
fn report_builds_the_event_and_log_lines() {
    let p = profiles("denylist", "1h");
    let b = AppBaseline::boxed();
    let mut s = ClientState::ZERO;
    for i in 0..20 {
        s.observe(&login(401), Some(SensitiveKind::Auth), &b, T0 + i * 500);
    }
    let a = assess(&s, &b, T0 + 10_000);
    let view = RequestView {
        path: b"/login\"x",
        ..login(401)
    };
    let r = Report {
        client: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9)),
        app: b"shop",
        profile: &p.profiles[0],
        view: &view,
        detection: detection(),
        assessment: &a,
        reaction: Reaction::Denylist,
        expires: Expiry::At(T0 / 1000 + 3600),
    };
    let out = report(&r, T0);
    assert!(out.event.ends_with('\n'));
    let v: serde_json::Value = serde_json::from_str(&out.event).expect("one JSON line");
    assert_eq!(v["client"], "203.0.113.9");
    assert_eq!(v["application"], "shop");
    assert_eq!(v["profile"], "shop");
    assert_eq!(v["bot_type"], "credential_stuffing");
    assert_eq!(v["confidence"], 90);
    assert_eq!(v["reaction"], "denylist");
    assert_eq!(v["expires"], rfc3339(T0 / 1000 + 3600));
    assert_eq!(v["listing"], "client");
    assert_eq!(v["request"]["path"], "/login\"x");
    assert_eq!(v["request"]["status"], 401);
    assert_eq!(
        v["assessment"]["detectors"].as_object().map(|o| o.len()),
        Some(11)
    );
    assert_eq!(
        out.summary,
        "api_abuse: client 203.0.113.9 detected as credential_stuffing with 90% confidence \
         by profile \"shop\", denylisted for 3600s"
    );
    let monitor = report(
        &Report {
            reaction: Reaction::Monitor,
            expires: Expiry::NotListed,
            ..r
        },
        T0,
    );
    let v: serde_json::Value = serde_json::from_str(&monitor.event).expect("json");
    assert!(v["expires"].is_null());
    assert_eq!(v["listing"], "not listed: monitor");
    assert!(monitor.summary.ends_with("not listed (monitor)"));
    let full = report(
        &Report {
            expires: Expiry::TableFull,
            ..r
        },
        T0,
    );
    let v: serde_json::Value = serde_json::from_str(&full.event).expect("json");
    assert!(v["expires"].is_null());
    assert_eq!(v["listing"], "not listed: table full");
    assert!(
        full.summary.ends_with("not listed: table full"),
        "{}",
        full.summary
    );
    let range = crate::shared::range_of(crate::table::client_key(r.client, 64)).unwrap();
    let ranged = report(
        &Report {
            expires: Expiry::Range(range, T0 / 1000 + 60),
            ..r
        },
        T0,
    );
    let v: serde_json::Value = serde_json::from_str(&ranged.event).expect("json");
    assert_eq!(v["listing"], "range 203.0.113.0/24");
    assert!(
        ranged
            .summary
            .ends_with("denylisted as range 203.0.113.0/24 for 60s"),
        "{}",
        ranged.summary
    );
}

#[test]
fn observe_detects_lists_once_and_reports() {
    let z = heap_zone(4 << 20);
    let p = profiles("denylist", "1h");
    let mut learner = Learner::new();
    let client = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));
    let mut outcomes = Vec::new();
    for i in 0..60 {
        let view = RequestView {
            attack: (i % 2 == 0).then_some(AttackClass::Sqli),
            ..login(401)
        };
        if let Some(o) = observe(
            &Context {
                shared: &z.shared,
                profile: &p.profiles[0],
                app: b"shop",
                key: 9,
                client,
                monitor: false,
                now_ms: T0 + i * 700,
            },
            &mut learner,
            &view,
        ) {
            outcomes.push(o);
        }
    }
    assert!(!outcomes.is_empty(), "a credential stuffer is detected");
    // Each detection lists the client again; the entry names the latest.
    let listed = z.shared.listed(9, (T0 / 1000) as u32 + 60).expect("listed");
    assert_eq!(listed.bot(), outcomes.last().map(|o| o.bot));
    assert_eq!(z.shared.offences(9), outcomes.len() as u32);
    let mut bots: Vec<_> = outcomes.iter().map(|o| o.bot).collect();
    bots.sort();
    bots.dedup();
    assert_eq!(
        bots.len(),
        outcomes.len(),
        "each bot type reported once: {bots:?}"
    );
    let stats = z.shared.stats();
    let detections: u64 = stats
        .detections
        .iter()
        .map(|c| c.load(std::sync::atomic::Ordering::Relaxed))
        .sum();
    assert_eq!(detections, outcomes.len() as u64);
}

#[test]
fn claim_reports_a_detection_once() {
    let z = heap_zone(4 << 20);
    let p = profiles("denylist", "1h");
    let f = extract(&p.profiles[0], &login(200));
    let b = AppBaseline::boxed();
    update(&z.shared, 3, &f, &b, T0);
    assert!(claim(&z.shared, 3, BotType::Scraping));
    assert!(
        !claim(&z.shared, 3, BotType::Scraping),
        "another worker won"
    );
    assert!(claim(&z.shared, 3, BotType::Spam));
}

#[test]
fn workers_learn_through_deltas_merged_into_the_zone() {
    let z = heap_zone(4 << 20);
    let p = profiles("denylist", "1h");
    let prof = &p.profiles[0];
    let (mut w1, mut w2) = (Learner::new(), Learner::new());
    let key = app_key(b"shop");
    // Two workers, each with its own clients, all ordinary people.
    for (n, w) in [(0u128, &mut w1), (1000u128, &mut w2)] {
        for c in 0..40u128 {
            for i in 0..12u64 {
                let t = T0 + i * 5_000 + (c as u64) * 13;
                let path = format!("/products/{}", i % 3);
                let view = RequestView {
                    method: b"GET",
                    path: path.as_bytes(),
                    user_agent: Some(
                        b"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                    ),
                    headers: crate::request::header_bits::ACCEPT
                        | crate::request::header_bits::ACCEPT_LANGUAGE
                        | crate::request::header_bits::ACCEPT_ENCODING,
                    status: 200,
                    http_version: 1001,
                    ..Default::default()
                };
                observe(
                    &Context {
                        shared: &z.shared,
                        profile: prof,
                        app: b"shop",
                        key: n + c,
                        client: IpAddr::V4(Ipv4Addr::LOCALHOST),
                        monitor: false,
                        now_ms: t,
                    },
                    w,
                    &view,
                );
            }
        }
    }
    // Nothing reached the zone yet: the deltas are the workers' own.
    let zone_requests = |z: &crate::shared::tests::HeapZone| {
        z.shared
            .apps
            .get(key, |a| a.baseline.trained_requests())
            .unwrap_or(0.0)
    };
    assert_eq!(zone_requests(&z), 0.0);
    w1.sync(&z.shared, T0 + 70_000);
    let after_one = zone_requests(&z);
    assert!(after_one > 0.0);
    w2.sync(&z.shared, T0 + 70_000);
    let after_both = zone_requests(&z);
    assert!(after_both > after_one);
    // Worker 2's view now holds both workers' teaching; worker 1's after its
    // next merge.
    let view2 = w2
        .app(&z.shared, key, b"shop", T0 + 70_000)
        .baseline()
        .trained_requests();
    assert_eq!(view2, after_both);
    w1.sync(&z.shared, T0 + 71_000);
    let view1 = w1
        .app(&z.shared, key, b"shop", T0 + 71_000)
        .baseline()
        .trained_requests();
    assert_eq!(view1, after_both);
}

#[test]
fn a_merge_of_the_taught_cells_leaves_zone_and_view_as_the_full_merge() {
    // One worker teaching seconds of few and of many (past `TAUGHT`)
    // endpoint lessons, next to a reference that records the same lessons
    // into a plain delta and merges it whole: after every merge the zone's
    // baseline and the worker's view hold the reference's bytes.
    use crate::detect::baseline::Lesson;
    let z = heap_zone(4 << 20);
    let key = app_key(b"shop");
    let mut w = Learner::new();
    let mut reference = AppBaseline::boxed();
    let mut ref_delta = AppBaseline::boxed();
    let mut rng = crate::testing::XorShift64::new(0x1ea4);
    let mut t = T0;
    for second in 0..40u64 {
        let lessons = if second % 5 == 4 {
            learner::TAUGHT as u64 + 50
        } else {
            rng.next_u64() % 60
        };
        let mut dirty = false;
        for _ in 0..lessons {
            let obs = Observation {
                template: (rng.next_u64() % 500) as u32 + 1,
                prev_template: (rng.next_u64() % 500) as u32,
                asset: rng.next_u64() % 3 == 0,
                learn_endpoint: rng.next_u64() % 6 != 0,
                minute_sample: [0, 0, (rng.next_u64() % 90) as u16][(rng.next_u64() % 3) as usize],
            };
            let lesson = Lesson {
                rate: rng.next_u64() % 4 != 0,
                endpoints: rng.next_u64() % 5 != 0,
            };
            w.app(&z.shared, key, b"shop", t).teach(&obs, lesson);
            dirty |= ref_delta.record(&obs, lesson);
        }
        t += if second % 7 == 6 { 3_600_000 } else { 1_000 };
        w.sync(&z.shared, t);
        // The worker merges only a delta that holds something.
        if dirty {
            reference.merge(&ref_delta, t);
            ref_delta.reset();
        }
        let zone = z.shared.apps.get(key, |a| a.baseline).unwrap();
        assert_eq!(
            bytemuck::bytes_of(&zone),
            bytemuck::bytes_of(&*reference),
            "{second}"
        );
        let view = *w.app(&z.shared, key, b"shop", t).baseline();
        assert_eq!(
            bytemuck::bytes_of(&view),
            bytemuck::bytes_of(&*reference),
            "{second}"
        );
    }
    assert!(reference.is_trained());
}

/// Counts this thread's heap allocations (the whole test binary's allocator;
/// other threads are not counted).
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub struct Counting;

    thread_local! {
        static COUNT: Cell<u64> = const { Cell::new(0) };
    }

    // SAFETY: forwards to the system allocator unchanged.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
            // SAFETY: the caller's contract is passed on.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: the caller's contract is passed on.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static ALLOC: Counting = Counting;

    pub fn allocations() -> u64 {
        COUNT.with(Cell::get)
    }
}

#[test]
fn the_request_path_does_not_allocate() {
    let z = heap_zone(8 << 20);
    let p = profiles("denylist", "1h");
    let prof = &p.profiles[0];
    let mut learner = Learner::new();
    let uas: [&[u8]; 3] = [
        b"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        b"okhttp/4.12.0",
    ];
    let paths: Vec<String> = (0..50)
        .map(|i| format!("/api/v1/products/{i}.json"))
        .collect();
    let run = |learner: &mut Learner, from: u64, to: u64| {
        for i in from..to {
            let view = RequestView {
                method: b"GET",
                path: paths[(i % 50) as usize].as_bytes(),
                query: b"page=2",
                user_agent: Some(uas[(i % 3) as usize]),
                headers: crate::request::header_bits::ACCEPT
                    | crate::request::header_bits::ACCEPT_LANGUAGE
                    | crate::request::header_bits::ACCEPT_ENCODING,
                status: 200,
                http_version: 1001,
                ..Default::default()
            };
            let key = u128::from(i % 5000) + 1;
            let out = observe(
                &Context {
                    shared: &z.shared,
                    profile: prof,
                    app: b"shop",
                    key,
                    client: IpAddr::V4(Ipv4Addr::LOCALHOST),
                    monitor: false,
                    now_ms: T0 + i * 37,
                },
                learner,
                &view,
            );
            assert!(out.is_none(), "people, not bots");
        }
    };
    // The first request of the application in this worker allocates its
    // view and delta, and woothee parses each User-Agent once.
    let start = counting::allocations();
    run(&mut learner, 0, 100);
    let before = counting::allocations();
    assert!(before > start, "the counter counts");
    run(&mut learner, 100, 20_100);
    assert_eq!(
        counting::allocations() - before,
        0,
        "allocations on 20,000 requests"
    );
}

/// The credential stuffer of [`stuff`]: client `key` at 203.0.113.10 in
/// the application "shop", from `from` on.
fn stuffer<'a>(
    z: &'a crate::shared::tests::HeapZone,
    profile: &'a Profile,
    monitor: bool,
    key: ClientKey,
    from: u64,
) -> Context<'a> {
    Context {
        shared: &z.shared,
        profile,
        app: b"shop",
        key,
        client: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 10)),
        monitor,
        now_ms: from,
    }
}

/// A credential stuffer's `n` requests from `from.now_ms` on, `gap_ms`
/// apart.
fn stuff(learner: &mut Learner, from: Context<'_>, n: u64, gap_ms: u64) -> Vec<Outcome> {
    (0..n)
        .filter_map(|i| {
            let cx = Context {
                now_ms: from.now_ms + i * gap_ms,
                ..from
            };
            observe(&cx, learner, &login(401))
        })
        // A fast stuffer may also be reported once as another type.
        .filter(|o| o.bot == BotType::CredentialStuffing)
        .collect()
}

#[test]
fn a_graylisted_client_that_goes_on_is_listed_again_when_its_entry_expires() {
    let z = heap_zone(4 << 20);
    let p = profiles("graylist", "10m");
    let mut l = Learner::new();
    // every 5 s for 9 minutes: detected once, then still graylisted
    let first = stuff(
        &mut l,
        stuffer(&z, &p.profiles[0], false, 21, T0),
        108,
        5_000,
    );
    assert_eq!(first.len(), 1, "one detection while listed");
    let offences = z.shared.offences(21);
    let entry = z
        .shared
        .listed(21, (T0 / 1000) as u32 + 540)
        .expect("listed");
    // the entry expires; the client is still at it, in the same session
    // (never 30 minutes silent)
    let again = stuff(
        &mut l,
        stuffer(&z, &p.profiles[0], false, 21, T0 + 540_000),
        300,
        5_000,
    );
    assert_eq!(again.len(), 1, "listed again after expiry");
    assert!(z.shared.offences(21) > offences, "a repeat offender");
    let e = z
        .shared
        .listed(21, entry.expires + 1)
        .expect("listed again");
    assert!(e.created >= entry.expires, "{e:?} after {entry:?}");
}

#[test]
fn a_monitor_only_detection_does_not_keep_an_enforcing_profile_from_listing() {
    let z = heap_zone(4 << 20);
    let monitor = profiles("monitor", "1h");
    let deny = profiles("denylist", "1h");
    let mut l = Learner::new();
    // a monitor profile: one event, nothing listed, no second event
    let m = stuff(
        &mut l,
        stuffer(&z, &monitor.profiles[0], false, 22, T0),
        40,
        700,
    );
    assert_eq!(m.len(), 1);
    assert!(z.shared.listed(22, (T0 / 1000) as u32 + 30).is_none());
    // the same client in an enforcing location: listed at once
    let d = stuff(
        &mut l,
        stuffer(&z, &deny.profiles[0], false, 22, T0 + 28_000),
        3,
        700,
    );
    assert_eq!(d.len(), 1);
    assert!(z.shared.listed(22, (T0 / 1000) as u32 + 31).is_some());
    // `api_abuse monitor` (a monitor location) likewise
    let m = stuff(
        &mut l,
        stuffer(&z, &deny.profiles[0], true, 23, T0),
        40,
        700,
    );
    assert_eq!(m.len(), 1);
    assert!(z.shared.listed(23, (T0 / 1000) as u32 + 30).is_none());
    let d = stuff(
        &mut l,
        stuffer(&z, &deny.profiles[0], false, 23, T0 + 28_000),
        3,
        700,
    );
    assert_eq!(d.len(), 1);
    assert!(z.shared.listed(23, (T0 / 1000) as u32 + 31).is_some());
}

#[test]
fn a_listing_that_failed_is_retried() {
    let z = heap_zone(2 << 20);
    let now = (T0 / 1000) as u32;
    // the list table full of live entries
    let forever = ListRecord {
        kind: ListKind::Deny as u8,
        ..Default::default()
    };
    // (set-associative: full once inserts keep failing)
    let (mut k, mut misses) = (1_000_000u128, 0);
    while misses < 5_000 {
        misses = if z.shared.list(k, now, forever) {
            0
        } else {
            misses + 1
        };
        k += 1;
    }
    let p = profiles("denylist", "1h");
    let mut l = Learner::new();
    let failed = stuff(&mut l, stuffer(&z, &p.profiles[0], false, 24, T0), 40, 700);
    assert_eq!(failed.len(), 1, "detected, not listed");
    assert!(z.shared.listed(24, now + 30).is_none());
    // room again (an operator removed entries)
    for old in 1_000_000u128..k {
        z.shared.unlist(old);
    }
    // no retry for a minute, then listed
    let soon = stuff(
        &mut l,
        stuffer(&z, &p.profiles[0], false, 24, T0 + 28_000),
        10,
        1000,
    );
    assert!(soon.is_empty());
    let from = T0 + 28_000 + RELIST_RETRY_SECS * 1000;
    let later = stuff(
        &mut l,
        stuffer(&z, &p.profiles[0], false, 24, from),
        5,
        1000,
    );
    assert_eq!(later.len(), 1);
    assert!(z.shared.listed(24, now + 100).is_some());
}

#[test]
fn a_removed_entry_lets_detection_start_over() {
    let z = heap_zone(4 << 20);
    let p = profiles("denylist", "1h");
    let mut l = Learner::new();
    assert_eq!(
        stuff(&mut l, stuffer(&z, &p.profiles[0], false, 25, T0), 40, 700).len(),
        1
    );
    assert!(z.shared.unlist(25), "an operator unblocks it");
    // its state went with the entry: no instant re-listing, but a client
    // that goes on is detected again from fresh evidence
    let after = stuff(
        &mut l,
        stuffer(&z, &p.profiles[0], false, 25, T0 + 30_000),
        40,
        700,
    );
    assert_eq!(after.len(), 1);
    assert!(
        z.shared.offences(25) <= 2,
        "the entry and its count were removed"
    );
}

fn stuff_login(z: &crate::shared::tests::HeapZone, p: &Profiles, n: u64) -> Vec<Outcome> {
    let mut learner = Learner::new();
    let client = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));
    (0..n)
        .filter_map(|i| {
            observe(
                &Context {
                    shared: &z.shared,
                    profile: &p.profiles[0],
                    app: b"shop",
                    key: 9,
                    client,
                    monitor: false,
                    now_ms: T0 + i * 700,
                },
                &mut learner,
                &login(401),
            )
        })
        .collect()
}

#[test]
fn a_challenge_profile_lists_the_client_as_challenged() {
    let z = heap_zone(4 << 20);
    let p = profiles("challenge", "2h");
    let outcomes = stuff_login(&z, &p, 60);
    assert!(!outcomes.is_empty(), "a credential stuffer is detected");
    let v: serde_json::Value = serde_json::from_str(&outcomes[0].event).expect("json");
    assert_eq!(v["reaction"], "challenge");
    assert!(
        outcomes[0].summary.contains("challenged for 7200s"),
        "{}",
        outcomes[0].summary
    );
    let e = z.shared.listed(9, (T0 / 1000) as u32 + 60).expect("listed");
    assert_eq!(e.kind(), Some(ListKind::Challenge));
}

#[test]
fn challenge_tolerance_challenges_below_the_threshold_then_lists() {
    let text =
        "[[profile]]\nname = \"shop\"\ntolerance = \"high\"\nchallenge_tolerance = \"low\"\n\
                [[profile.sensitive]]\nmethod = \"POST\"\npath = \"/login\"\nkind = \"auth\"\n";
    let p = Profiles::parse(Path::new("test.toml"), text).expect("valid");
    let z = heap_zone(4 << 20);
    let outcomes = stuff_login(&z, &p, 200);
    let reactions: Vec<String> = outcomes
        .iter()
        .map(|o| {
            let v: serde_json::Value = serde_json::from_str(&o.event).expect("json");
            format!("{}:{}", v["reaction"].as_str().unwrap_or(""), o.bot)
        })
        .collect();
    assert!(
        reactions
            .first()
            .is_some_and(|r| r.starts_with("challenge:")),
        "the low tolerance's threshold is met first: {reactions:?}"
    );
    let first: serde_json::Value = serde_json::from_str(&outcomes[0].event).expect("json");
    assert_eq!(
        first["tolerance"], "low",
        "the tolerance whose threshold was crossed"
    );
    let first_bot = outcomes[0].bot;
    // the same bot type is challenged once, and still denylisted at the
    // profile's own threshold
    let again = reactions
        .iter()
        .filter(|r| **r == format!("challenge:{first_bot}"))
        .count();
    assert_eq!(again, 1, "{reactions:?}");
    assert!(
        reactions.iter().any(|r| r.starts_with("denylist:")),
        "{reactions:?}"
    );
    let e = z
        .shared
        .listed(9, (T0 / 1000) as u32 + 200)
        .expect("listed");
    assert_eq!(e.kind(), Some(ListKind::Deny));
}

/// A challenged client's request: the cookie looked up and verified, the
/// failure counted, the token minted and the page (or the JSON error)
/// written into the caller's buffer, without a heap allocation.
#[test]
fn the_challenge_path_does_not_allocate() {
    use crate::challenge::{cookie_value, page, token};
    let z = heap_zone(4 << 20);
    let zone = z.shared.challenge();
    let ua = b"Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0";
    let t = token::mint(&zone.key(), 9, ua, 1_800_003_600);
    let n = token::solve(&t, 8);
    let header = format!(
        "a=1; api_abuse_pass_abcdef={}.{n}",
        std::str::from_utf8(&t.0).unwrap()
    );
    let mut buf = [0u8; page::PAGE_MAX];
    let before = counting::allocations();
    for _ in 0..100 {
        let c = cookie_value(header.as_bytes(), b"api_abuse_pass_abcdef").expect("cookie");
        let v = token::verify(&zone.key(), 9, ua, c, 1_800_000_000, 8);
        assert!(matches!(v, token::Verdict::Valid(_)));
        let _ = z.shared.challenge_failures().fail(9, 1_800_000_000);
        let _ = z.shared.challenge_failures().pass(9);
        let t = token::mint(&zone.key(), 9, ua, 1_800_003_600);
        let _ = page::page(&mut buf, b"api_abuse_pass_abcdef", &t, 10, 3600).expect("fits");
        let _ = page::json(&mut buf, 3600).expect("fits");
        zone.count(crate::challenge::Counter::Issued);
    }
    assert_eq!(counting::allocations() - before, 0);
}

#[test]
fn a_request_nothing_can_be_decided_on_teaches_what_a_full_assessment_would() {
    // `detect` skips the detectors and the vote while the session is too
    // short for any tolerance; what it teaches the baseline must be what
    // the full assessment's lesson teaches, for every observation.
    use crate::detect::facts::extract;
    let mut learned = AppBaseline::boxed();
    let mut seed_rng = crate::testing::XorShift64::new(0x2545_f491_4f6c_dd1d);
    let mut next = move || seed_rng.next_u64();
    let paths = ["/", "/a", "/b/1", "/login", "/app.js", "/c/2/d"];
    let uas: [&[u8]; 3] = [
        b"curl/8.0",
        b"sqlmap/1.7",
        b"Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
    ];
    let (mut checked, mut rate_checked, mut endpoint_checked) = (0, 0, 0);
    for client in 0..300u64 {
        let mut s = ClientState::ZERO;
        let mut t = T0 + client * 7_919;
        for _ in 0..45 {
            t += match next() % 4 {
                0 => 5,
                1 => 800,
                2 => 20_000,
                _ => 61_000,
            };
            let v = RequestView {
                method: if next() % 5 == 0 { b"POST" } else { b"GET" },
                path: paths[(next() % paths.len() as u64) as usize].as_bytes(),
                user_agent: Some(uas[(next() % 3) as usize]),
                status: [200, 401, 404][(next() % 3) as usize],
                http_version: 1001,
                ..Default::default()
            };
            let f = extract(&v, None);
            let obs = s.update(&f, &learned, t);
            // Give the baseline something learned, so the rate detector works.
            learned.learn(&obs, crate::detect::baseline::Lesson::ALL, t);
            let full = assess(&s, &learned, t).lesson();
            let early = early_lesson(&s, &obs, &learned, t);
            let (mut a, mut b) = (AppBaseline::boxed(), AppBaseline::boxed());
            assert_eq!(a.record(&obs, full), b.record(&obs, early));
            assert_eq!(bytemuck::bytes_of(&*a), bytemuck::bytes_of(&*b), "{obs:?}");
            checked += 1;
            rate_checked += usize::from(obs.minute_sample > 0);
            endpoint_checked += usize::from(obs.learn_endpoint);
        }
    }
    assert!(checked > 10_000 && rate_checked > 500 && endpoint_checked > 500);
}

#[test]
fn a_quiet_client_is_decided_on_and_teaches_as_the_full_assessment_would() {
    // `detect` skips the other detectors and the vote for a record on which
    // no core detector fires (`scoring::quiet`): no tolerance may detect
    // such a record, and what it teaches must be the full lesson's.
    use crate::detect::facts::extract;
    use crate::detect::scoring::quiet;
    use crate::model::Tolerance;
    let mut learned = AppBaseline::boxed();
    let mut seed_rng = crate::testing::XorShift64::new(0x9e37_79b9_7f4a_7c15);
    let mut next = move || seed_rng.next_u64();
    let paths = ["/", "/a", "/b/1", "/b/2", "/login", "/app.js", "/c/2/d"];
    let uas: [&[u8]; 4] = [
        b"curl/8.0",
        b"sqlmap/1.7",
        b"Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
        b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    ];
    let (mut quiet_seen, mut loud_seen, mut detected, mut endpoints) = (0, 0, 0, 0);
    for client in 0..400u64 {
        let mut s = ClientState::ZERO;
        let mut t = T0 + client * 7_919;
        // Each client leans one way: mostly 200s, or failures, or a burst.
        let lean = next() % 4;
        for i in 0..60u64 {
            t += match (lean, next() % 4) {
                (3, _) => 20,
                (2, _) => 900,
                (_, 0) => 5,
                (_, 1) => 800,
                (_, 2) => 5_000,
                _ => 61_000,
            };
            let path = paths[(next() % paths.len() as u64) as usize];
            let status = match lean {
                1 => [200, 401, 401][(next() % 3) as usize],
                2 => [200, 404, 404][(next() % 3) as usize],
                _ => [200, 200, 200, 200, 401, 404][(next() % 6) as usize],
            };
            let ids = format!("/items/{}", client * 1000 + i);
            let v = RequestView {
                method: if next() % 5 == 0 { b"POST" } else { b"GET" },
                path: if lean == 2 && next() % 10 != 0 {
                    ids.as_bytes()
                } else {
                    path.as_bytes()
                },
                user_agent: Some(uas[(client % 4) as usize]),
                status,
                http_version: 1001,
                attack: (next() % 40 == 0).then_some(AttackClass::Sqli),
                ..Default::default()
            };
            let kind = (path == "/login").then_some(SensitiveKind::Auth);
            let f = extract(&v, kind);
            let obs = s.update(&f, &learned, t);
            learned.learn(&obs, crate::detect::baseline::Lesson::ALL, t);
            let a = assess(&s, &learned, t);
            let any = [Tolerance::Low, Tolerance::Normal, Tolerance::High]
                .iter()
                .any(|tol| decide(&a, *tol, u8::MAX).is_some());
            detected += usize::from(any);
            if !quiet(&s, &learned) {
                loud_seen += 1;
                continue;
            }
            quiet_seen += 1;
            assert!(!any, "a quiet record was detected: {s:?}");
            let quick = quiet_lesson(&s, &obs, &learned, t);
            let (mut x, mut y) = (AppBaseline::boxed(), AppBaseline::boxed());
            assert_eq!(x.record(&obs, a.lesson()), y.record(&obs, quick));
            assert_eq!(bytemuck::bytes_of(&*x), bytemuck::bytes_of(&*y), "{obs:?}");
            endpoints += usize::from(obs.learn_endpoint);
        }
    }
    assert!(
        quiet_seen > 5_000 && loud_seen > 2_000 && detected > 500 && endpoints > 1_000,
        "{quiet_seen} quiet, {loud_seen} not, {detected} detected, {endpoints} taught endpoints"
    );
}

#[test]
fn min_requests_is_the_lowest_tolerance_the_profile_votes_with() {
    use crate::detect::scoring::rule;
    use crate::model::Tolerance;
    let mut all = profiles("denylist", "1h");
    let p = &mut all.profiles[0];
    for t in [Tolerance::Low, Tolerance::Normal, Tolerance::High] {
        p.tolerance = t;
        p.challenge.below = None;
        assert_eq!(min_requests(p), rule(t).min_requests);
        p.challenge.below = Some(Tolerance::Low);
        assert_eq!(min_requests(p), rule(Tolerance::Low).min_requests);
    }
}
