//! What happened to each client, and the figures computed from it.
//!
//! A client is "blocked" at its first 403 carrying `X-Api-Abuse-Action:
//! block`. "Requests before block" counts the requests that got through
//! before that one (blocked on the 5th request = 4), the number an attacker
//! gets for free. Percentages are over all clients of the row, including any
//! the time cap cut short (reported as `unfinished`), so a cut run can only
//! understate blocking, never overstate it.

use super::clients::{BotKind, Group, HardCase, HumanKind, Variant};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Requests sent (answered or failed), including the blocked one.
    pub sent: u32,
    /// Requests that got through before the first block.
    pub first_block: Option<u32>,
    /// Transport failures (connection refused, timeout, broken response).
    pub errors: u32,
    pub status_5xx: u32,
    /// 403 without the module's header (another layer denied it).
    pub other_403: u32,
    /// Stopped by the time cap or Ctrl-C before its plan ended.
    pub unfinished: bool,
    /// Campaign clients only: each request's wall-clock time (ms since the
    /// Unix epoch) and whether it was refused.
    pub trace: Vec<(u64, bool)>,
}

/// The median of `values` (mean of the middle two for an even count).
pub fn median(values: &mut [u32]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    let upper = f64::from(*values.get(mid)?);
    if values.len() % 2 == 1 {
        return Some(upper);
    }
    Some((f64::from(*values.get(mid - 1)?) + upper) / 2.0)
}

fn pct(part: u32, whole: u32) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (f64::from(part) * 1000.0 / f64::from(whole)).round() / 10.0
    }
}

/// One line of the report.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Row {
    pub clients: u32,
    pub blocked: u32,
    pub blocked_pct: f64,
    /// Median over blocked clients; `null` when none was blocked.
    pub median_requests_before_block: Option<f64>,
    pub requests: u64,
    pub errors: u64,
    pub status_5xx: u64,
    pub other_403: u64,
    pub unfinished: u32,
}

impl Row {
    pub fn from_outcomes<'a>(outcomes: impl Iterator<Item = &'a Outcome>) -> Row {
        let mut row = Row::default();
        let mut before = Vec::new();
        for o in outcomes {
            row.clients += 1;
            row.requests += u64::from(o.sent);
            row.errors += u64::from(o.errors);
            row.status_5xx += u64::from(o.status_5xx);
            row.other_403 += u64::from(o.other_403);
            row.unfinished += u32::from(o.unfinished);
            if let Some(n) = o.first_block {
                row.blocked += 1;
                before.push(n);
            }
        }
        row.blocked_pct = pct(row.blocked, row.clients);
        row.median_requests_before_block = median(&mut before);
        row
    }
}

/// All figures of one tolerance run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub tolerance: String,
    pub human_net: String,
    pub bot_net: String,
    pub seconds: f64,
    /// The run hit the time cap (or was interrupted).
    pub cut_short: bool,
    pub bots: BTreeMap<String, Row>,
    /// Per bot type and disguise, e.g. `scraping/rotating`.
    pub bot_variants: BTreeMap<String, Row>,
    /// Ordinary people: `all`, and `browser` / `sdk`.
    pub humans: BTreeMap<String, Row>,
    pub hard_humans: BTreeMap<String, Row>,
    /// Campaigns (`stuffing`, `scraping`), when run.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub campaigns: BTreeMap<String, super::campaigns::CampaignRow>,
}

impl RunReport {
    pub fn new(
        tolerance: &str,
        human_net: String,
        bot_net: String,
        seconds: f64,
        results: &[(Group, Outcome)],
    ) -> RunReport {
        let rows = |f: &dyn Fn(Group) -> bool| {
            Row::from_outcomes(results.iter().filter(|(g, _)| f(*g)).map(|(_, o)| o))
        };
        let mut bots = BTreeMap::new();
        let mut bot_variants = BTreeMap::new();
        for kind in BotKind::ALL {
            let row = rows(&|g| matches!(g, Group::Bot(k, _) if k == kind));
            if row.clients > 0 {
                bots.insert(kind.as_str().to_owned(), row);
            }
            for v in Variant::ALL {
                let row = rows(&|g| g == Group::Bot(kind, v));
                if row.clients > 0 {
                    bot_variants.insert(format!("{}/{}", kind.as_str(), v.as_str()), row);
                }
            }
        }
        bots.insert("all".to_owned(), rows(&|g| g.is_bot()));
        let mut humans = BTreeMap::new();
        humans.insert("all".to_owned(), rows(&|g| matches!(g, Group::Human(_))));
        for k in [HumanKind::Browser, HumanKind::Sdk] {
            humans.insert(k.as_str().to_owned(), rows(&|g| g == Group::Human(k)));
        }
        let mut hard_humans = BTreeMap::new();
        for c in HardCase::ALL {
            let row = rows(&|g| g == Group::Hard(c));
            if row.clients > 0 {
                hard_humans.insert(c.as_str().to_owned(), row);
            }
        }
        let mut campaigns = BTreeMap::new();
        for k in super::campaigns::CampaignKind::ALL {
            let mut of = results
                .iter()
                .filter(|(g, _)| *g == Group::Campaign(k))
                .map(|(_, o)| o)
                .peekable();
            if of.peek().is_some() {
                campaigns.insert(
                    k.as_str().to_owned(),
                    super::campaigns::CampaignRow::from_outcomes(of),
                );
            }
        }
        let cut_short = results.iter().any(|(_, o)| o.unfinished);
        RunReport {
            tolerance: tolerance.to_owned(),
            human_net,
            bot_net,
            seconds,
            cut_short,
            bots,
            bot_variants,
            humans,
            hard_humans,
            campaigns,
        }
    }

    /// The human-readable table.
    pub fn table(&self, nat_size: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n== tolerance {} ({:.1} s; humans {}, bots {}){}",
            self.tolerance,
            self.seconds,
            self.human_net,
            self.bot_net,
            if self.cut_short {
                "; CUT SHORT by the time cap or an interrupt, see 'unfin'"
            } else {
                ""
            }
        );
        let _ = writeln!(
            out,
            "{:<24} {:>7} {:>7} {:>7} {:>12} {:>9} {:>6} {:>6}",
            "bot type", "clients", "blocked", "%", "median req", "requests", "errors", "unfin"
        );
        let median = |m: Option<f64>| m.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into());
        let order = BotKind::ALL
            .iter()
            .map(|k| k.as_str())
            .chain(std::iter::once("all"));
        for name in order {
            if let Some(r) = self.bots.get(name) {
                let label = if name == "all" { "ALL BOTS" } else { name };
                let _ = writeln!(
                    out,
                    "{:<24} {:>7} {:>7} {:>7.1} {:>12} {:>9} {:>6} {:>6}",
                    label,
                    r.clients,
                    r.blocked,
                    r.blocked_pct,
                    median(r.median_requests_before_block),
                    r.requests,
                    r.errors,
                    r.unfinished
                );
            }
        }
        let _ = writeln!(
            out,
            "\n{:<24} {:>7} {:>7} {:>7} {:>12} {:>9} {:>6} {:>6}",
            "humans", "clients", "blocked", "%", "median req", "requests", "errors", "unfin"
        );
        let mut human_rows: Vec<(String, &Row)> = Vec::new();
        for k in ["all", "browser", "sdk"] {
            if let Some(r) = self.humans.get(k) {
                human_rows.push((
                    if k == "all" {
                        "ALL HUMANS".into()
                    } else {
                        format!("  {k}")
                    },
                    r,
                ));
            }
        }
        for c in HardCase::ALL {
            if let Some(r) = self.hard_humans.get(c.as_str()) {
                let label = if c == HardCase::Nat {
                    format!("hard: nat ({nat_size}/IP)")
                } else {
                    format!("hard: {}", c.as_str())
                };
                human_rows.push((label, r));
            }
        }
        for (label, r) in human_rows {
            let _ = writeln!(
                out,
                "{:<24} {:>7} {:>7} {:>7.1} {:>12} {:>9} {:>6} {:>6}",
                label,
                r.clients,
                r.blocked,
                r.blocked_pct,
                median(r.median_requests_before_block),
                r.requests,
                r.errors,
                r.unfinished
            );
        }
        if !self.campaigns.is_empty() {
            let _ = writeln!(
                out,
                "\n{:<24} {:>9} {:>9} {:>8} {:>12} {:>10} {:>9} {:>6}",
                "campaign",
                "addresses",
                "requests",
                "refused",
                "after 100",
                "refused %",
                "addr ref",
                "errors"
            );
            for (name, c) in &self.campaigns {
                let _ = writeln!(
                    out,
                    "{:<24} {:>9} {:>9} {:>8} {:>12} {:>10.1} {:>9} {:>6}",
                    name,
                    c.addresses,
                    c.requests,
                    c.refused,
                    format!("{}/{}", c.refused_after_100, c.requests_after_100),
                    c.refused_after_100_pct,
                    c.addresses_refused,
                    c.errors
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocked(after: u32) -> Outcome {
        Outcome {
            sent: after + 1,
            first_block: Some(after),
            ..Default::default()
        }
    }

    #[test]
    fn median_odd_even_empty() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [7]), Some(7.0));
        assert_eq!(median(&mut [9, 1, 5]), Some(5.0));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(2.5));
        assert_eq!(median(&mut [u32::MAX, u32::MAX]), Some(f64::from(u32::MAX)));
    }

    #[test]
    fn percentages_round_to_one_decimal() {
        assert_eq!(pct(1, 3), 33.3);
        assert_eq!(pct(2, 3), 66.7);
        assert_eq!(pct(0, 0), 0.0);
        assert_eq!(pct(5, 5), 100.0);
    }

    #[test]
    fn rows_count_blocks_and_medians_over_blocked_only() {
        let outcomes = [
            blocked(10),
            blocked(20),
            Outcome {
                sent: 300,
                ..Default::default()
            },
            Outcome {
                sent: 12,
                errors: 2,
                unfinished: true,
                ..Default::default()
            },
        ];
        let r = Row::from_outcomes(outcomes.iter());
        assert_eq!((r.clients, r.blocked, r.blocked_pct), (4, 2, 50.0));
        assert_eq!(r.median_requests_before_block, Some(15.0));
        assert_eq!(
            (r.requests, r.errors, r.unfinished),
            (11 + 21 + 300 + 12, 2, 1)
        );
        assert_eq!(
            Row::from_outcomes([].iter()).median_requests_before_block,
            None
        );
    }

    #[test]
    fn report_groups_by_label() {
        let results = vec![
            (Group::Bot(BotKind::Scraping, Variant::Plain), blocked(30)),
            (
                Group::Bot(BotKind::Scraping, Variant::Rotating),
                Outcome {
                    sent: 300,
                    ..Default::default()
                },
            ),
            (Group::Bot(BotKind::Bola, Variant::Paced), blocked(40)),
            (
                Group::Human(HumanKind::Browser),
                Outcome {
                    sent: 50,
                    ..Default::default()
                },
            ),
            (Group::Human(HumanKind::Sdk), blocked(3)),
            (
                Group::Hard(HardCase::Monitor),
                Outcome {
                    sent: 90,
                    ..Default::default()
                },
            ),
        ];
        let r = RunReport::new(
            "normal",
            "10.1.0.0/16".into(),
            "10.101.0.0/16".into(),
            1.0,
            &results,
        );
        assert_eq!(
            r.bots.get("scraping").map(|r| (r.clients, r.blocked)),
            Some((2, 1))
        );
        assert_eq!(
            r.bots.get("all").map(|r| (r.clients, r.blocked)),
            Some((3, 2))
        );
        assert_eq!(
            r.bots
                .get("all")
                .and_then(|r| r.median_requests_before_block),
            Some(35.0)
        );
        assert!(
            !r.bots.contains_key("spam"),
            "types not simulated are left out"
        );
        assert_eq!(
            r.bot_variants.get("scraping/rotating").map(|r| r.blocked),
            Some(0)
        );
        assert_eq!(
            r.humans.get("all").map(|r| (r.clients, r.blocked)),
            Some((2, 1))
        );
        assert_eq!(r.humans.get("sdk").map(|r| r.blocked_pct), Some(100.0));
        assert_eq!(r.hard_humans.get("monitor").map(|r| r.blocked), Some(0));
        assert!(!r.cut_short);
        let table = r.table(20);
        assert!(
            table.contains("scraping")
                && table.contains("ALL BOTS")
                && table.contains("hard: monitor")
        );
        let json = serde_json::to_value(&r).unwrap_or_default();
        assert_eq!(json["bots"]["bola"]["median_requests_before_block"], 40.0);
        assert_eq!(
            json["bots"]["scraping"]["median_requests_before_block"],
            30.0
        );
        assert!(json["hard_humans"]["monitor"]["median_requests_before_block"].is_null());
    }
}
