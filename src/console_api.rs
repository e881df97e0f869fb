//! The API's views for the operator's console (the dashboard), next to the
//! status document of [`crate::api`]:
//!
//! - `GET ?events=N[&since=SEQ]`: the last N detections (at most
//!   [`EVENT_SLOTS`]), newest first, each the events-file line as JSON with
//!   its sequence number; `since` returns only events from that sequence on,
//!   so a poller fetches what is new.
//! - `GET ?timeline=H`: detections, refusals and monitor-mode "would block"s
//!   per hour for the last H hours (at most [`HOURS`]); deny- and
//!   graylistings per bot type in the last 30 days against the 30 before;
//!   the profiles file's modification time.

use serde::Serialize;
use serde_json::value::RawValue;

use crate::config::Profiles;
use crate::engine::rfc3339;
use crate::events_ring::EVENT_SLOTS;
use crate::model::BotType;
use crate::shared::Shared;
use crate::timeline::HOURS;

#[derive(Serialize)]
struct Event<'a> {
    seq: u64,
    #[serde(borrow)]
    event: &'a RawValue,
}

#[derive(Serialize)]
struct Events<'a> {
    /// Events pushed since the zone was created (the next `seq`).
    total: u64,
    /// Events not kept (longer than a ring slot, or their slot was busy).
    dropped: u64,
    capacity: usize,
    events: Vec<Event<'a>>,
}

/// `?events=N[&since=SEQ]`
pub fn events(shared: &Shared, limit: Option<&str>, since: Option<&str>) -> Result<String, String> {
    let limit = match limit {
        None | Some("") => EVENT_SLOTS,
        Some(n) => n
            .parse::<usize>()
            .map_err(|_| format!("events must be a number of events (at most {EVENT_SLOTS})"))?
            .min(EVENT_SLOTS),
    };
    let since = match since {
        None | Some("") => 0,
        Some(s) => s
            .parse::<u64>()
            .map_err(|_| "since must be an event sequence number".to_string())?,
    };
    let ring = shared.events();
    let mut lines: Vec<(u64, Vec<u8>)> = Vec::new();
    ring.recent(limit, since, |seq, line| lines.push((seq, line.to_vec())));
    let parsed: Vec<(u64, Box<RawValue>)> = lines
        .into_iter()
        .filter_map(|(seq, l)| {
            let s = String::from_utf8(l).ok()?;
            RawValue::from_string(s).ok().map(|v| (seq, v))
        })
        .collect();
    let doc = Events {
        total: ring.total(),
        dropped: ring.dropped(),
        capacity: EVENT_SLOTS,
        events: parsed
            .iter()
            .map(|(seq, v)| Event {
                seq: *seq,
                event: v,
            })
            .collect(),
    };
    serde_json::to_string(&doc)
        .map(|s| s + "\n")
        .map_err(|e| e.to_string())
}

#[derive(Serialize)]
struct HourView {
    /// Start of the hour, RFC 3339.
    start: String,
    detections: u32,
    refused: u32,
    monitored: u32,
}

#[derive(Serialize)]
struct BotListings {
    denylisted: u64,
    graylisted: u64,
    previous_denylisted: u64,
    previous_graylisted: u64,
    denylisted_change_pct: Option<f64>,
    graylisted_change_pct: Option<f64>,
}

#[derive(Serialize)]
struct ProfilesFile {
    path: String,
    version: String,
    /// Modification time of the file at its path now (RFC 3339).
    modified: Option<String>,
}

#[derive(Serialize)]
struct Timeline {
    module_version: &'static str,
    now: String,
    hours: Vec<HourView>,
    last_30_days_by_bot_type: std::collections::BTreeMap<&'static str, BotListings>,
    profiles_file: Option<ProfilesFile>,
}

fn change(now: u64, before: u64) -> Option<f64> {
    (before > 0).then(|| ((now as f64 - before as f64) * 1000.0 / before as f64).round() / 10.0)
}

/// `?timeline=H`
pub fn timeline(
    shared: &Shared,
    profiles: Option<&Profiles>,
    hours: Option<&str>,
    now: u64,
) -> Result<String, String> {
    let n = match hours {
        None | Some("") => 24,
        Some(h) => h
            .parse::<usize>()
            .map_err(|_| format!("timeline must be a number of hours (at most {HOURS})"))?
            .min(HOURS),
    };
    let t = shared.timeline();
    let (recent, before) = t.listings_by_bot((now / 86_400) as u32, 30);
    let by_bot = BotType::ALL
        .iter()
        .map(|b| {
            let (r, p) = (recent[b.index()], before[b.index()]);
            (
                b.as_str(),
                BotListings {
                    denylisted: r.0,
                    graylisted: r.1,
                    previous_denylisted: p.0,
                    previous_graylisted: p.1,
                    denylisted_change_pct: change(r.0, p.0),
                    graylisted_change_pct: change(r.1, p.1),
                },
            )
        })
        .collect();
    let doc = Timeline {
        module_version: env!("CARGO_PKG_VERSION"),
        now: rfc3339(now),
        hours: t
            .hours(now, n)
            .into_iter()
            .map(|h| HourView {
                start: rfc3339(u64::from(h.hour) * 3600),
                detections: h.detections,
                refused: h.refused,
                monitored: h.monitored,
            })
            .collect(),
        last_30_days_by_bot_type: by_bot,
        profiles_file: profiles.map(|p| ProfilesFile {
            path: p.path.display().to_string(),
            version: format!("{:016x}", p.version),
            modified: std::fs::metadata(&p.path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| rfc3339(d.as_secs())),
        }),
    };
    serde_json::to_string(&doc)
        .map(|s| s + "\n")
        .map_err(|e| e.to_string())
}

/// The dashboard page: HTML, CSS and JavaScript in one file, compiled in.
const PAGE: &str = include_str!("dashboard/index.html");
/// Where the page learns the API's address.
const API_MARK: &str = "@API_URI@";

/// The dashboard page talking to the API at `api` (checked by
/// [`safe_api_uri`] when the configuration was read).
pub fn dashboard_page(api: &str) -> String {
    PAGE.replacen(API_MARK, api, 1)
}

/// True for an API address the dashboard may be given: a path or a relative
/// reference of URL-safe characters only, since it is written into the page.
pub fn safe_api_uri(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 256
        && !v.starts_with("//")
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._~-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashboard_api_uri_is_checked() {
        assert!(safe_api_uri("/api-abuse/"));
        assert!(safe_api_uri("./"));
        assert!(safe_api_uri("../api/v1.2/"));
        for bad in [
            "",
            "//evil.example/",
            "/a\"b",
            "/a<b",
            "javascript:x",
            "/a b",
        ] {
            assert!(!safe_api_uri(bad), "{bad}");
        }
        let page = dashboard_page("/x/");
        assert!(page.contains("content=\"/x/\"") && !page.contains(API_MARK));
    }

    #[test]
    fn dashboard_page_is_self_contained() {
        // nothing fetched from anywhere: no external scripts, styles, fonts
        for needle in [
            "https://",
            "<script src",
            "<link",
            "@import",
            "url(",
            "<img",
            "<iframe",
        ] {
            assert!(
                !PAGE.contains(needle),
                "the page must not reference {needle}"
            );
        }
        let http: Vec<&str> = PAGE
            .match_indices("http://")
            .map(|(i, _)| &PAGE[i..i + 27])
            .collect();
        assert_eq!(
            http,
            ["http://www.w3.org/2000/svg\""],
            "only the SVG namespace name"
        );
    }

    #[test]
    fn change_is_rounded_to_a_tenth() {
        assert_eq!(change(15, 10), Some(50.0));
        assert_eq!(change(1, 3), Some(-66.7));
        assert_eq!(change(4, 0), None);
    }
}
