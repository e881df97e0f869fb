//! `GET` on the API's root: the whole picture in one document. Its `lists`
//! part is the first page of run-time entries (the same parameters as the
//! `lists` endpoint select and page it).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::lists::{self, Entry, PAGE_PARAMS};
use super::params::Params;
use super::{error, json, Ctx, Reply, Request};
use crate::config::Profiles;
use crate::engine::DETECTORS;
use crate::lists::ListKind as FileListKind;
use crate::model::{AttackClass, BotType};

/// Named counters, serialised as a JSON object in this order.
pub struct Counts(pub Vec<(&'static str, u64)>);

impl Serialize for Counts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

fn counts(names: impl Iterator<Item = &'static str>, values: &[AtomicU64]) -> Counts {
    Counts(
        names
            .zip(values)
            .map(|(n, v)| (n, v.load(Ordering::Relaxed)))
            .collect(),
    )
}

#[derive(Serialize)]
struct ProfileDoc {
    name: String,
    enabled: bool,
    applications: Vec<String>,
    tolerance: String,
    bot_types: Vec<&'static str>,
    reaction: &'static str,
    /// Seconds, or "forever".
    duration: serde_json::Value,
}

#[derive(Serialize)]
struct FileListCounts {
    allow: usize,
    deny: usize,
    gray: usize,
}

#[derive(Serialize)]
struct ProfilesDoc {
    path: String,
    version: String,
    list_entries: FileListCounts,
    profiles: Vec<ProfileDoc>,
}

impl ProfilesDoc {
    fn new(p: &Profiles) -> ProfilesDoc {
        ProfilesDoc {
            path: p.path.display().to_string(),
            version: format!("{:016x}", p.version),
            list_entries: FileListCounts {
                allow: p.lists.count(FileListKind::Allow),
                deny: p.lists.count(FileListKind::Deny),
                gray: p.lists.count(FileListKind::Gray),
            },
            profiles: p
                .profiles
                .iter()
                .map(|pr| ProfileDoc {
                    name: pr.name.clone(),
                    enabled: pr.enabled,
                    applications: pr.applications.clone(),
                    tolerance: pr.tolerance.to_string(),
                    bot_types: BotType::ALL
                        .iter()
                        .filter(|b| pr.acts_on(**b))
                        .map(|b| b.as_str())
                        .collect(),
                    reaction: pr.reaction.as_str(),
                    duration: pr
                        .duration
                        .secs()
                        .map_or_else(|| "forever".into(), serde_json::Value::from),
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct ZoneDoc {
    clients: u64,
    client_capacity: usize,
    evictions: u64,
    list_capacity: usize,
    /// Slots of the list table in use (entries, expired ones not yet
    /// reused, range counts).
    list_used: u64,
    /// Slots detection may fill; the rest is kept for operator entries.
    list_detection_limit: usize,
    list_insert_failures: u64,
    list_ranges: u64,
    list_range_covered: u64,
}

#[derive(Serialize)]
struct Statistics {
    requests: u64,
    blocked_denylist: u64,
    blocked_attack: u64,
    monitored: u64,
    detections: Counts,
    listed: Counts,
    detectors_fired: Counts,
    attacks: Counts,
    last_30_days: Last30,
}

#[derive(Serialize)]
struct Last30 {
    denylisted: u64,
    graylisted: u64,
    previous_denylisted: u64,
    previous_graylisted: u64,
    /// Percent; null when the 30 days before had none.
    denylisted_change_pct: Option<f64>,
    graylisted_change_pct: Option<f64>,
}

#[derive(Serialize)]
struct Status {
    profiles: Option<ProfilesDoc>,
    zone: ZoneDoc,
    lists: Vec<Entry>,
    lists_matched: u64,
    lists_matched_by_list: lists::ByList,
    #[serde(skip_serializing_if = "Option::is_none")]
    lists_next_cursor: Option<String>,
    statistics: Statistics,
    /// `api_abuse_sync` state of this node; null without it.
    sync: Option<crate::sync::SyncStatus>,
}

pub fn change_pct(now: u64, before: u64) -> Option<f64> {
    (before != 0).then(|| {
        let pct = (now as f64 - before as f64) * 100.0 / before as f64;
        (pct * 10.0).round() / 10.0
    })
}

pub fn get(ctx: &Ctx<'_>, req: &Request<'_>) -> Reply {
    let page = Params::parse(req.query, PAGE_PARAMS).and_then(|p| lists::page(ctx, &p, req.now));
    let page = match page {
        Ok(p) => p,
        Err(e) => return error(400, &e),
    };
    let shared = ctx.shared;
    let st = shared.stats();
    let ld = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let cs = shared.clients.stats();
    let today = (req.now / 86_400) as u32;
    let ((dn, gn), (db, gb)) = shared.listings(today, 30);
    let doc = Status {
        profiles: ctx.profiles.map(ProfilesDoc::new),
        zone: ZoneDoc {
            clients: cs.used,
            client_capacity: cs.capacity,
            evictions: cs.evictions,
            list_capacity: shared.lists.capacity(),
            list_used: shared.lists.len(),
            list_detection_limit: shared.detection_limit(),
            list_insert_failures: ld(&shared.list_counters().insert_failures),
            list_ranges: ld(&shared.list_counters().ranges),
            list_range_covered: ld(&shared.list_counters().range_covered),
        },
        sync: crate::sync::status(shared, req.now * 1000),
        lists: page.lists,
        lists_matched: page.matched,
        lists_matched_by_list: page.matched_by_list,
        lists_next_cursor: page.next_cursor,
        statistics: Statistics {
            requests: ld(&st.requests),
            blocked_denylist: ld(&st.blocked_deny),
            blocked_attack: ld(&st.blocked_attack),
            monitored: ld(&st.monitored),
            detections: counts(BotType::ALL.iter().map(|b| b.as_str()), &st.detections),
            listed: counts(BotType::ALL.iter().map(|b| b.as_str()), &st.listed),
            detectors_fired: counts(DETECTORS.iter().copied(), &st.detector_fired),
            attacks: counts(AttackClass::ALL.iter().map(|a| a.as_str()), &st.attacks),
            last_30_days: Last30 {
                denylisted: dn,
                graylisted: gn,
                previous_denylisted: db,
                previous_graylisted: gb,
                denylisted_change_pct: change_pct(dn, db),
                graylisted_change_pct: change_pct(gn, gb),
            },
        },
    };
    json(200, &doc)
}
