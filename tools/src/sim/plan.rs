//! A client's plan: the requests it will send and when, decided up front from
//! its own seeded random generator, so a run is reproducible whatever the
//! thread scheduling. The runner only replays a plan (waiting out each
//! planned gap) and stops it at the first block.
//!
//! Time: "think" gaps (a person reading, a bot's configured delay) are
//! multiplied by the run's time scale; gaps that a machine makes (a browser
//! fetching a page's assets, network jitter) are not. A legitimate client's
//! gaps (a person's pauses, a partner's or an app's period) are compressed
//! only down to a floor (see [`Clock::person`]): the module sees real time,
//! and a person clicking 15 pages a second is no person, whatever the run's
//! scale.

use rand::Rng;
use std::time::Duration;

/// One planned request.
#[derive(Debug, Clone)]
pub struct Step {
    /// When to send it, from the client's start.
    pub at: Duration,
    /// Which cookie jar to use and fill: one per person behind the client's IP.
    pub jar: u8,
    /// Send the jar's cookies (browsers and cookie-aware bots).
    pub cookies: bool,
    pub method: &'static str,
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// A log-normal sample with the given median: heavy-tailed like human pauses.
pub fn lognormal<R: Rng>(rng: &mut R, median: f64, sigma: f64) -> f64 {
    // Box-Muller; 1 - u keeps the logarithm finite.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    median * (sigma * z).exp()
}

/// The planning clock of one client.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now: Duration,
    scale: f64,
    /// The shortest median gap compression brings a legitimate client to
    /// (0 for bots: a tool can be set as fast as its user likes).
    floor: f64,
}

impl Clock {
    pub fn new(scale: f64) -> Clock {
        Clock {
            now: Duration::ZERO,
            scale,
            floor: 0.0,
        }
    }

    /// A legitimate client's clock (a person, or a partner's or an app's
    /// integration): a gap of median `m` is scaled by `max(scale, floor / m)`
    /// (at most 1), so compression brings its median down to `floor`
    /// seconds and no further, and keeps its shape: the spread and the
    /// heavy tail of a person's pauses, the jitter of a period. A constant
    /// floor would make every pause the same, a machine's rhythm.
    pub fn person(mut self, floor: f64) -> Clock {
        self.floor = if floor.is_finite() {
            floor.max(0.0)
        } else {
            0.0
        };
        self
    }

    pub fn starting_at(scale: f64, offset_secs: f64) -> Clock {
        Clock {
            now: secs(offset_secs * scale),
            scale,
            floor: 0.0,
        }
    }

    /// A scaled pause of `seconds` (human thinking, a bot's delay).
    pub fn wait(&mut self, seconds: f64) {
        self.now += secs(seconds * self.factor(seconds));
    }

    /// The scale for a gap of median `median` seconds on this clock.
    fn factor(&self, median: f64) -> f64 {
        if self.floor > 0.0 && median > 0.0 && self.scale < 1.0 {
            self.scale.max((self.floor / median).min(1.0))
        } else {
            self.scale
        }
    }

    /// A heavy-tailed pause (a person's, or a browser-like bot's delay),
    /// capped so one sample cannot stall a run, scaled as [`Clock::person`]
    /// says: compression may make a slow reader a fast clicker, never a
    /// machine.
    pub fn think<R: Rng>(&mut self, rng: &mut R, median: f64, sigma: f64) {
        let real = lognormal(rng, median, sigma).min(180.0);
        self.now += secs(real * self.factor(median));
    }

    /// An unscaled machine gap (asset fetches, network jitter), in milliseconds.
    pub fn machine<R: Rng>(&mut self, rng: &mut R, min_ms: u64, max_ms: u64) {
        self.now += Duration::from_millis(rng.random_range(min_ms..=max_ms.max(min_ms)));
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(if s.is_finite() && s > 0.0 { s } else { 0.0 })
}

/// Merge several people's plans (behind one NAT address) into one timeline.
pub fn merge(mut plans: Vec<Vec<Step>>) -> Vec<Step> {
    let mut all: Vec<Step> = plans.iter_mut().flat_map(std::mem::take).collect();
    // Stable: one person's steps at the same instant keep their order.
    all.sort_by_key(|s| s.at);
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn lognormal_median_and_tail() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut v: Vec<f64> = (0..20_000).map(|_| lognormal(&mut rng, 5.0, 1.0)).collect();
        v.sort_by(f64::total_cmp);
        let median = v[v.len() / 2];
        assert!((4.5..5.5).contains(&median), "median {median}");
        let p99 = v[v.len() * 99 / 100];
        assert!(p99 > 40.0, "heavy tail: p99 {p99}");
        assert!(v.iter().all(|x| x.is_finite() && *x > 0.0));
    }

    #[test]
    fn clock_scales_thinking_but_not_machine_gaps() {
        let mut rng = StdRng::seed_from_u64(2);
        let mut c = Clock::new(0.1);
        c.wait(10.0);
        assert_eq!(c.now, Duration::from_secs(1));
        c.machine(&mut rng, 5, 5);
        assert_eq!(c.now, Duration::from_millis(1005));
        c.wait(-3.0);
        c.wait(f64::NAN);
        assert_eq!(c.now, Duration::from_millis(1005));
        assert_eq!(Clock::starting_at(0.5, 4.0).now, Duration::from_secs(2));
    }

    #[test]
    fn a_legit_clients_gaps_are_compressed_down_to_the_floor_keeping_their_shape() {
        let gaps = |mut c: Clock, median: f64| {
            let mut rng = StdRng::seed_from_u64(3);
            let mut v: Vec<f64> = (0..4_000)
                .map(|_| {
                    let before = c.now;
                    c.think(&mut rng, median, 0.7);
                    (c.now - before).as_secs_f64()
                })
                .collect();
            v.sort_by(f64::total_cmp);
            (v[v.len() / 10], v[v.len() / 2], v[v.len() * 9 / 10])
        };
        // a bot's delay is scaled freely
        let (_, m, _) = gaps(Clock::new(0.05), 1.0);
        assert!((0.045..0.055).contains(&m), "{m}");
        // a reader (5 s) is brought to a 1 s median, with the same spread
        let (lo, m, hi) = gaps(Clock::new(0.05).person(1.0), 5.0);
        assert!((0.9..1.1).contains(&m), "{m}");
        assert!(hi / lo > 5.0, "the spread is kept: {lo}..{hi}");
        // a fast clicker (1 s) is not compressed at all
        let real = gaps(Clock::new(1.0), 1.0);
        assert_eq!(gaps(Clock::new(0.05).person(1.0), 1.0), real);
        // nor anyone at real time, nor slowed down
        assert_eq!(
            gaps(Clock::new(1.0).person(1.0), 5.0),
            gaps(Clock::new(1.0), 5.0)
        );
        let (_, m, _) = gaps(Clock::new(0.05).person(1.0), 0.5);
        assert!((0.45..0.55).contains(&m), "{m}");
        // a period: 2 s brought to 1 s
        let mut c = Clock::new(0.05).person(1.0);
        c.wait(2.0);
        assert_eq!(c.now, Duration::from_secs(1));
    }

    #[test]
    fn merge_orders_by_time() {
        let step = |ms: u64, jar: u8| Step {
            at: Duration::from_millis(ms),
            jar,
            cookies: true,
            method: "GET",
            path: "/".into(),
            headers: Vec::new(),
            body: Vec::new(),
        };
        let merged = merge(vec![
            vec![step(0, 0), step(50, 0)],
            vec![step(10, 1), step(50, 1), step(60, 1)],
        ]);
        let order: Vec<(u128, u8)> = merged.iter().map(|s| (s.at.as_millis(), s.jar)).collect();
        assert_eq!(order, vec![(0, 0), (10, 1), (50, 0), (50, 1), (60, 1)]);
    }
}
