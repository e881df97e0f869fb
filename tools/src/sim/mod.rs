//! `abuse-sim`: a labeled traffic simulator for ngx_http_api_abuse_module.
//!
//! It replays people and bots, each as its own client address (sent as
//! `X-Forwarded-For`, which the demo nginx trusts from 127.0.0.1), against the
//! protected site, once per tolerance, and reports per bot type how many bots
//! were blocked and how fast, and how many people were wrongly blocked. The
//! labels are known because the simulator wrote the traffic: that is the
//! ground truth the module is measured against.

pub mod args;
pub mod bots;
pub mod browsers;
pub mod campaigns;
pub mod client;
pub mod clients;
pub mod humans;
pub mod plan;
pub mod profiles;
pub mod runner;
pub mod stats;
#[cfg(test)]
pub mod testkit;

use crate::catalog::{mix, Catalog};
use args::Options;
use client::{Conn, Request, Target};
use clients::{address, ClientSpec, Ctx, Group, HardCase, HumanKind, Variant};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use runner::Runner;
use stats::RunReport;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Every client of one run. The same seed gives the same clients and plans in
/// every run (only the addresses change), so tolerances are compared on
/// identical traffic. Long-running clients go first so a run ends sooner.
pub fn population(o: &Options, run: usize) -> Result<Vec<ClientSpec>, String> {
    let human_net = o
        .net_base
        .checked_add(u8::try_from(run).map_err(|_| "too many runs")?)
        .ok_or("address range overflow")?;
    let bot_net = human_net.checked_add(100).ok_or("address range overflow")?;
    let ip = |net: u8, i: usize| {
        address(net, i).ok_or_else(|| format!("client {i} does not fit in 10.{net}.0.0/16"))
    };
    let seed = |n: u64| mix(o.seed ^ mix(n));
    let mut first = Vec::new();
    let mut rest = Vec::new();
    for i in 0..o.humans {
        let kind = if i % 10 == 3 {
            HumanKind::Sdk
        } else {
            HumanKind::Browser
        };
        rest.push(ClientSpec {
            index: i,
            group: Group::Human(kind),
            ip: ip(human_net, i)?,
            seed: seed(i as u64),
        });
    }
    let mut h = o.humans;
    for case in HardCase::ALL {
        for _ in 0..o.hard_per_case {
            first.push(ClientSpec {
                index: h,
                group: Group::Hard(case),
                ip: ip(human_net, h)?,
                seed: seed(h as u64),
            });
            h += 1;
        }
    }
    let mut b = 0;
    for kind in &o.bot_types {
        for j in 0..o.bots_per_type {
            let variant = Variant::ALL[j % Variant::ALL.len()];
            let group = Group::Bot(*kind, variant);
            rest.push(ClientSpec {
                index: b,
                group,
                ip: clients::bot_address(bot_net, b)
                    .ok_or_else(|| format!("bot {b} does not fit in 10.{bot_net}.0.0/16"))?,
                seed: seed(1_000_000 + b as u64),
            });
            b += 1;
        }
    }
    rest.shuffle(&mut StdRng::seed_from_u64(o.seed));
    first.extend(rest);
    Ok(first)
}

fn preflight(target: &Target) -> Result<(), String> {
    let mut conn = Conn::new(target.clone());
    let headers = [("User-Agent", "abuse-sim-preflight".to_owned())];
    let req = Request {
        method: "GET",
        path: "/health",
        headers: &headers,
        body: b"",
    };
    match conn.send(&req, &[]) {
        Ok(r) if r.status == 200 => Ok(()),
        Ok(r) => {
            eprintln!(
                "abuse-sim: warning: GET /health on {} answered {} (continuing)",
                target.origin(),
                r.status
            );
            Ok(())
        }
        Err(e) => Err(format!(
            "cannot reach {}: {e} (is nginx or demo-shop running?)",
            target.origin()
        )),
    }
}

/// Sleep up to `d`, waking early on a stop request.
fn pause(d: Duration, stop: &AtomicBool) {
    let end = Instant::now() + d;
    while Instant::now() < end && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Run every tolerance and return one report per run (the library entry point).
pub fn simulate(o: &Options, stop: &AtomicBool) -> Result<Vec<RunReport>, String> {
    let target = Target::parse(&o.target)?;
    preflight(&target)?;
    let mut guard = match &o.profiles {
        Some(p) => Some(profiles::ProfilesGuard::open(p)?),
        None => None,
    };
    let nonce = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0);
    let catalog = Arc::new(Catalog::new());
    let runs = o.runs();
    let hard_deadline = Instant::now() + Duration::from_secs_f64(o.max_seconds);
    let mut reports = Vec::new();
    eprintln!(
        "abuse-sim: {} -> {} run(s) of {} people (+{} hard cases), {} bots per type x {} types; time scale {} \
         (a 10 s human pause lasts {:.2} s, legitimate clients' median gaps no shorter than {} s: the module sees the compressed gaps too)",
        target.origin(),
        runs.len(),
        o.humans,
        o.hard_per_case * HardCase::ALL.len(),
        o.bots_per_type,
        o.bot_types.len(),
        o.time_scale,
        (10.0 * o.time_scale).max(o.person_min_pause.min(10.0)),
        o.person_min_pause
    );
    for (r, tolerance) in runs.iter().enumerate() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if let Some(g) = &guard {
            g.apply(tolerance)?;
            eprintln!("abuse-sim: profiles set to tolerance = \"{tolerance}\"; waiting {:.1} s for the module", o.reload_wait);
            pause(Duration::from_secs_f64(o.reload_wait), stop);
        }
        // Split what is left of the time cap evenly over the remaining runs.
        let left = hard_deadline.saturating_duration_since(Instant::now());
        let deadline = Instant::now() + left / u32::try_from(runs.len() - r).unwrap_or(1);
        let specs = population(o, r)?;
        let ctx = Ctx {
            origin: target.origin(),
            scale: o.time_scale,
            person_floor: o.person_min_pause,
            catalog: Arc::clone(&catalog),
            human_cap: o.human_cap,
            bot_cap: o.bot_cap,
            nat_size: o.nat_size,
            nonce: nonce.wrapping_add(7919 * r as u32),
        };
        let human_net = format!("10.{}.0.0/16", usize::from(o.net_base) + r);
        let bot_net = format!("10.{}.0.0/16", usize::from(o.net_base) + 100 + r);
        let runner = Runner {
            target: &target,
            concurrency: o.concurrency,
            deadline,
            stop,
        };
        let started = Instant::now();
        let campaign_specs =
            campaigns::population(&o.campaigns, usize::from(o.net_base) + r, o.seed)?;
        let results = if campaign_specs.is_empty() {
            runner.run(specs, &ctx, tolerance)
        } else {
            // The campaigns run in the background of the people and bots,
            // on their own connections, starting once the module has seen
            // some ordinary traffic.
            let pool = Runner {
                target: &target,
                concurrency: o.campaign_concurrency,
                deadline,
                stop,
            };
            std::thread::scope(|s| {
                let background = s.spawn(|| {
                    pause(Duration::from_secs_f64(o.campaign_delay), stop);
                    pool.run(campaign_specs, &ctx, "campaigns")
                });
                let mut all = runner.run(specs, &ctx, tolerance);
                all.extend(background.join().unwrap_or_default());
                all
            })
        };
        let report = RunReport::new(
            tolerance,
            human_net,
            bot_net,
            started.elapsed().as_secs_f64(),
            &results,
        );
        println!("{}", report.table(o.nat_size));
        reports.push(report);
    }
    if let Some(g) = guard.as_mut() {
        g.restore()?;
        eprintln!("abuse-sim: profiles file restored");
    }
    Ok(reports)
}

fn write_json(o: &Options, reports: &[RunReport]) -> Result<(), String> {
    let Some(path) = &o.json else { return Ok(()) };
    let value = serde_json::json!({
        "target": o.target,
        "seed": o.seed,
        "time_scale": o.time_scale,
        "person_min_pause": o.person_min_pause,
        "humans": o.humans,
        "hard_per_case": o.hard_per_case,
        "nat_size": o.nat_size,
        "bots_per_type": o.bots_per_type,
        "bot_types": o.bot_types.iter().map(|b| b.as_str()).collect::<Vec<_>>(),
        "human_cap": o.human_cap,
        "bot_cap": o.bot_cap,
        "smoke": o.smoke,
        "campaigns": o.campaigns.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "runs": reports,
    });
    let text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
    std::fs::write(path, text + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Entry point of the `abuse-sim` binary.
pub fn main(args: &[String]) -> ExitCode {
    let o = match args::parse(args) {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            println!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("abuse-sim: {e}\n\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // SIGINT and SIGTERM end the run early; results so far are still
    // reported and the profiles file is restored.
    if let Err(e) = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed)) {
        eprintln!("abuse-sim: warning: no signal handler ({e}); an interrupted run leaves the profiles backup");
    }
    match simulate(&o, &stop).and_then(|reports| write_json(&o, &reports)) {
        Ok(()) if stop.load(Ordering::Relaxed) => ExitCode::from(130),
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("abuse-sim: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clients::BotKind;

    #[test]
    fn population_is_labeled_addressed_and_stable() {
        let o = Options {
            humans: 30,
            hard_per_case: 2,
            bots_per_type: 5,
            ..Options::default()
        };
        let p0 = population(&o, 0).unwrap_or_default();
        let p1 = population(&o, 1).unwrap_or_default();
        assert_eq!(p0.len(), 30 + 10 + 40);
        let ips: std::collections::HashSet<_> = p0.iter().map(|c| c.ip).collect();
        assert_eq!(ips.len(), p0.len(), "one address per client");
        for c in &p0 {
            let net = c.ip.octets()[1];
            assert_eq!(net, if c.group.is_bot() { 101 } else { 1 }, "{:?}", c.group);
        }
        assert!(p1
            .iter()
            .all(|c| c.ip.octets()[1] == if c.group.is_bot() { 102 } else { 2 }));
        // Same clients and seeds in every run, so tolerances see the same traffic.
        let key = |p: &[ClientSpec]| p.iter().map(|c| (c.group, c.seed)).collect::<Vec<_>>();
        assert_eq!(key(&p0), key(&p1));
        assert!(
            matches!(p0[0].group, Group::Hard(_)),
            "long-running clients start first"
        );
        let sdk = p0
            .iter()
            .filter(|c| c.group == Group::Human(HumanKind::Sdk))
            .count();
        assert_eq!(sdk, 3);
        let variants: std::collections::HashSet<_> = p0
            .iter()
            .filter_map(|c| match c.group {
                Group::Bot(BotKind::Scraping, v) => Some(v),
                _ => None,
            })
            .collect();
        assert_eq!(variants.len(), 4);
    }
}
