//! Behavioural bot detection: per-client state, the application's learned
//! baseline, eleven detectors and the per-bot-type vote.
//!
//! The nginx glue drives it from the LOG phase of every request (when the
//! status is known), holding the locks of the client's record and of the
//! application's baseline:
//!
//! ```text
//! let obs = state.observe(&view, sensitive_kind, &baseline, now_ms);
//! let assessment = assess(&state, &baseline, now_ms);
//! match decide(&assessment, tolerance, bot_types_mask) {
//!     Some(detection) => { state.mark_reported(detection.bot_type); /* list, event */ }
//!     None if !listed => baseline.learn(&obs, assessment.lesson(), now_ms),
//!     None => {}
//! }
//! ```
//!
//! Every structure that lives in shared memory ([`ClientState`],
//! [`AppBaseline`]) is `#[repr(C)]`, `Copy`, pointer-free and valid when all
//! zero; nothing reads a clock (time is a parameter) or a per-process random
//! seed. Per-request work is O(1) and does not allocate, except parsing a new
//! User-Agent with woothee, which happens once per User-Agent and worker
//! (the client record and a per-worker cache remember the result).
//! See `docs/detection.md` for the figures, votes and tolerance tables.

pub mod assessment;
pub mod attack_signs;
pub mod bad_user_agent;
pub mod baseline;
pub mod business_logic;
pub mod distinct;
pub mod enumeration;
pub mod facts;
pub mod hash;
pub mod outdated_browser;
pub mod request_interval;
pub mod request_rate;
pub mod request_uniqueness;
pub mod response_codes;
pub mod scoring;
pub mod sensitive;
pub mod spike;
pub mod state;
pub mod suspicious_behaviour;
pub mod template;
pub mod ua_cache;
pub mod wide_scope;

#[cfg(test)]
mod sessions;

pub use assessment::{assess, Assessment};
pub use baseline::AppBaseline;
pub use scoring::{decide, score, Detection, Score};
pub use sensitive::SensitiveSet;
pub use state::{ClientState, Observation};

/// What one detector concluded about a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Fired,
    NotFired,
    /// Too little traffic (or no learned baseline yet) to say anything; the
    /// detector's votes are left out of the confidence.
    NotEnoughData,
}

impl Verdict {
    pub const fn as_str(self) -> &'static str {
        match self {
            Verdict::Fired => "fired",
            Verdict::NotFired => "not_fired",
            Verdict::NotEnoughData => "not_enough_data",
        }
    }
}

/// A detector's verdict with the figure behind it and the threshold it was
/// compared with (both in the detector's own unit, see docs/detection.md).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DetectorResult {
    pub verdict: Verdict,
    pub figure: f32,
    pub threshold: f32,
}

impl DetectorResult {
    pub const fn no_data(threshold: f32) -> Self {
        DetectorResult {
            verdict: Verdict::NotEnoughData,
            figure: 0.0,
            threshold,
        }
    }

    /// `Fired` when `fire` holds, else `NotFired`.
    pub fn judged(fire: bool, figure: f32, threshold: f32) -> Self {
        DetectorResult {
            verdict: if fire {
                Verdict::Fired
            } else {
                Verdict::NotFired
            },
            figure,
            threshold,
        }
    }

    pub fn fired(&self) -> bool {
        self.verdict == Verdict::Fired
    }

    /// The detector had enough data to vote (fired or not).
    pub fn worked(&self) -> bool {
        self.verdict != Verdict::NotEnoughData
    }
}

/// `a / b`, or 0 when `b` is (nearly) zero.
#[inline]
pub(crate) fn ratio(a: f32, b: f32) -> f32 {
    if b > 1e-6 {
        a / b
    } else {
        0.0
    }
}

/// Whether a decayed count reaches a threshold given in whole requests: a
/// burst of N requests spread over a minute decays to a little under N.
#[inline]
pub(crate) fn reaches(count: f32, threshold: f32) -> bool {
    count >= threshold * 0.95
}

#[cfg(test)]
mod layering {
    //! `detect/` is layered: request facts, then the client record, then the
    //! detectors (pure functions of record and baseline), the assessment and
    //! the vote. A module never uses one that uses it, directly or not.

    use std::collections::{BTreeMap, BTreeSet};

    /// Sibling modules a file names outside comments and its tests.
    fn uses(src: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
        let code = src.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        let mut out = BTreeSet::new();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for prefix in ["super::", "crate::detect::"] {
                for (i, _) in line.match_indices(prefix) {
                    let rest = &line[i + prefix.len()..];
                    let group = rest
                        .strip_prefix('{')
                        .map(|g| g.split('}').next().unwrap_or(""));
                    let names = group.unwrap_or(rest);
                    let take = if group.is_some() { usize::MAX } else { 1 };
                    for name in names
                        .split(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                        .filter(|n| !n.is_empty())
                        .take(take)
                    {
                        if modules.contains(name) {
                            out.insert(name.to_string());
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn detect_has_no_import_cycles() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/detect");
        let mut files = BTreeMap::new();
        for e in std::fs::read_dir(&dir).expect("src/detect") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "rs") {
                let name = p.file_stem().expect("stem").to_string_lossy().into_owned();
                files.insert(name, std::fs::read_to_string(&p).expect("read"));
            }
        }
        let modules: BTreeSet<String> = files.keys().filter(|m| *m != "mod").cloned().collect();
        let graph: BTreeMap<&str, BTreeSet<String>> = files
            .iter()
            .filter(|(m, _)| *m != "mod")
            .map(|(m, src)| {
                let mut u = uses(src, &modules);
                u.remove(m);
                (m.as_str(), u)
            })
            .collect();
        assert!(graph["state"].contains("facts"), "the scan sees imports");
        // Depth-first search for a back edge.
        fn visit<'a>(
            m: &'a str,
            g: &'a BTreeMap<&'a str, BTreeSet<String>>,
            path: &mut Vec<&'a str>,
            done: &mut BTreeSet<&'a str>,
        ) {
            if let Some(i) = path.iter().position(|p| *p == m) {
                panic!(
                    "import cycle in detect/: {}",
                    path[i..].join(" -> ") + " -> " + m
                );
            }
            if !done.insert(m) {
                return;
            }
            path.push(m);
            for d in &g[m] {
                visit(d, g, path, done);
            }
            path.pop();
        }
        let mut done = BTreeSet::new();
        for m in graph.keys() {
            visit(m, &graph, &mut Vec::new(), &mut done);
        }
    }
}
