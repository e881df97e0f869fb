//! Replays client plans against the target with a fixed number of threads.
//!
//! Each thread takes the next client from a shared queue, builds its plan from
//! the client's seed, and sends it over one keep-alive connection with the
//! client's `X-Forwarded-For` and cookies, waiting each planned gap after the
//! previous answer.
//! A client stops at its first block, after five transport errors in a row,
//! at the run's deadline, or on Ctrl-C; nothing here can run unbounded.

use super::bots;
use super::client::{Conn, Request, Target};
use super::clients::{ClientSpec, Ctx, Group};
use super::humans;
use super::plan::Step;
use super::stats::Outcome;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

const MAX_CONSECUTIVE_ERRORS: u32 = 5;
const MAX_COOKIES: usize = 32;

/// Cookies of one person (name -> value), as a browser would keep them for
/// one site; attributes other than deletion are irrelevant here.
#[derive(Debug, Default, Clone)]
pub struct Jar(Vec<(String, String)>);

impl Jar {
    pub fn update(&mut self, set_cookies: &[String]) {
        for sc in set_cookies {
            let mut parts = sc.split(';');
            let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else {
                continue;
            };
            let (name, value) = (name.trim(), value.trim());
            if name.is_empty() {
                continue;
            }
            let expired = parts.any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
            self.0.retain(|(n, _)| n != name);
            if !expired && !value.is_empty() && self.0.len() < MAX_COOKIES {
                self.0.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    pub fn header(&self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        Some(
            self.0
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }
}

/// Build a client's plan from its label and seed.
pub fn plan_for(spec: &ClientSpec, ctx: &Ctx) -> Vec<Step> {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    match spec.group {
        Group::Human(k) => humans::human(k, ctx, &mut rng),
        Group::Hard(c) => humans::hard(c, ctx, &mut rng),
        Group::Bot(k, v) => bots::bot(k, v, ctx, &mut rng),
        Group::Campaign(k) => super::campaigns::plan(k, ctx, &mut rng),
    }
}

/// Sleep until `due`; false if the deadline or a stop request comes first.
fn wait_until(due: Instant, deadline: Instant, stop: &AtomicBool) -> bool {
    loop {
        let now = Instant::now();
        if stop.load(Ordering::Relaxed) || now >= deadline {
            return false;
        }
        if now >= due {
            return true;
        }
        let nap = (due - now)
            .min(deadline - now)
            .min(Duration::from_millis(100));
        thread::sleep(nap);
    }
}

pub struct Runner<'a> {
    pub target: &'a Target,
    pub concurrency: usize,
    pub deadline: Instant,
    pub stop: &'a AtomicBool,
}

impl Runner<'_> {
    /// Send one client's plan; the outcome is what the report counts.
    pub fn execute(&self, spec: &ClientSpec, steps: &[Step]) -> Outcome {
        let mut out = Outcome::default();
        // Each gap is kept as planned, counted from the previous answer: a
        // slow server delays a person, it never makes them burst to catch up.
        let mut last_done = Instant::now();
        let mut last_at = Duration::ZERO;
        let mut conn = Conn::new(self.target.clone());
        let mut jars: Vec<Jar> = Vec::new();
        let ip = spec.ip.to_string();
        let mut consecutive = 0;
        // A pool tool goes on after a refusal; its every request is traced.
        let campaign = matches!(spec.group, Group::Campaign(_));
        for step in steps {
            let due = last_done + step.at.saturating_sub(last_at);
            last_at = step.at;
            if !wait_until(due, self.deadline, self.stop) {
                out.unfinished = true;
                break;
            }
            let jar_index = usize::from(step.jar);
            if jars.len() <= jar_index {
                jars.resize_with(jar_index + 1, Jar::default);
            }
            let cookie = if step.cookies {
                jars.get(jar_index).and_then(Jar::header)
            } else {
                None
            };
            let mut extra: Vec<(&str, &str)> = vec![("X-Forwarded-For", ip.as_str())];
            if let Some(c) = cookie.as_deref() {
                extra.push(("Cookie", c));
            }
            let req = Request {
                method: step.method,
                path: &step.path,
                headers: &step.headers,
                body: &step.body,
            };
            out.sent += 1;
            let result = conn.send(&req, &extra);
            last_done = Instant::now();
            if campaign {
                let ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64);
                let refused = result.as_ref().is_ok_and(|r| r.is_block());
                out.trace.push((ms, refused));
                if refused {
                    out.first_block.get_or_insert(out.sent - 1);
                    continue;
                }
            }
            match result {
                Ok(resp) => {
                    consecutive = 0;
                    if resp.is_block() {
                        out.first_block = Some(out.sent - 1);
                        break;
                    }
                    out.other_403 += u32::from(resp.status == 403);
                    out.status_5xx += u32::from(resp.status >= 500);
                    if step.cookies {
                        if let Some(jar) = jars.get_mut(jar_index) {
                            jar.update(&resp.set_cookies);
                        }
                    }
                }
                Err(_) => {
                    out.errors += 1;
                    consecutive += 1;
                    if consecutive >= MAX_CONSECUTIVE_ERRORS {
                        break;
                    }
                }
            }
        }
        out
    }

    /// Run every client; results come back in the order clients finished.
    pub fn run(&self, specs: Vec<ClientSpec>, ctx: &Ctx, label: &str) -> Vec<(Group, Outcome)> {
        let total = specs.len();
        let queue = Mutex::new(VecDeque::from(specs));
        let results = Mutex::new(Vec::with_capacity(total));
        let done = AtomicUsize::new(0);
        let blocked = AtomicUsize::new(0);
        let started = Instant::now();
        thread::scope(|scope| {
            for _ in 0..self.concurrency.clamp(1, total.max(1)) {
                scope.spawn(|| loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                    let Some(spec) = next else { break };
                    let outcome =
                        if Instant::now() >= self.deadline || self.stop.load(Ordering::Relaxed) {
                            Outcome {
                                unfinished: true,
                                ..Default::default()
                            }
                        } else {
                            self.execute(&spec, &plan_for(&spec, ctx))
                        };
                    if outcome.first_block.is_some() {
                        blocked.fetch_add(1, Ordering::Relaxed);
                    }
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((spec.group, outcome));
                    done.fetch_add(1, Ordering::Relaxed);
                });
            }
            // Progress on stderr, so the table on stdout stays clean.
            let mut last = Instant::now();
            while done.load(Ordering::Relaxed) < total {
                thread::sleep(Duration::from_millis(100));
                if last.elapsed() >= Duration::from_secs(10) {
                    last = Instant::now();
                    eprintln!(
                        "abuse-sim: [{label}] {:>5.0} s: {}/{} clients done, {} blocked so far",
                        started.elapsed().as_secs_f64(),
                        done.load(Ordering::Relaxed),
                        total,
                        blocked.load(Ordering::Relaxed)
                    );
                }
            }
        });
        results.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jar_sets_replaces_and_deletes() {
        let mut j = Jar::default();
        assert_eq!(j.header(), None);
        j.update(&["sid=abc; Path=/; HttpOnly".into(), "cart=x; Path=/".into()]);
        assert_eq!(j.header().as_deref(), Some("sid=abc; cart=x"));
        j.update(&["sid=def".into()]);
        assert_eq!(j.header().as_deref(), Some("cart=x; sid=def"));
        j.update(&[
            "cart=gone; Max-Age=0".into(),
            "junk".into(),
            "=novalue".into(),
        ]);
        assert_eq!(j.header().as_deref(), Some("sid=def"));
        let many: Vec<String> = (0..100).map(|i| format!("c{i}=1")).collect();
        j.update(&many);
        assert_eq!(j.0.len(), MAX_COOKIES);
    }

    #[test]
    fn wait_respects_deadline_and_stop() {
        let stop = AtomicBool::new(false);
        let now = Instant::now();
        assert!(wait_until(now, now + Duration::from_secs(1), &stop));
        assert!(!wait_until(
            now + Duration::from_secs(5),
            now + Duration::from_millis(20),
            &stop
        ));
        stop.store(true, Ordering::Relaxed);
        assert!(!wait_until(now, now + Duration::from_secs(1), &stop));
    }
}
