//! The status and management API and the Prometheus metrics, rendered from
//! the shared zone and the profiles in force. Nothing here is an nginx type:
//! the glue hands in the method and query string and sends what comes back.
//!
//! - `GET`: JSON with the profiles (and their version), the zone's fill, the
//!   run-time list entries with reasons and expiries, per-bot-type and
//!   per-detector statistics, and deny/graylistings in the last 30 days with
//!   the change against the 30 days before.
//! - `POST ?addr=IP&list=deny|gray|allow[&duration=1h|forever]`: adds or
//!   changes an entry (changing the duration changes the expiry).
//! - `DELETE ?addr=IP`: removes the client's run-time entry and its detector
//!   state, so it is not listed again at once.

use std::fmt::Write;
use std::net::IpAddr;
use std::sync::atomic::Ordering;

use crate::config::{Lifetime, Profiles};
use crate::engine::{json_str, rfc3339, DETECTORS};
use crate::model::{AttackClass, BotType};
use crate::shared::{ListKind, ListRecord, Shared, ORIGIN_OPERATOR};
use crate::table::{client_key, key_addr};

/// A response: status, content type, body.
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

fn json(status: u16, body: String) -> Reply {
    Reply {
        status,
        content_type: "application/json",
        body,
    }
}

fn error(status: u16, msg: &str) -> Reply {
    json(status, format!("{{\"error\":{}}}\n", json_str(msg)))
}

/// Answers one API request. `write` is false for a read-only API location.
pub fn handle(
    shared: &Shared,
    profiles: Option<&Profiles>,
    method: &[u8],
    query: &[u8],
    write: bool,
    v6_prefix: u8,
    now: u64,
) -> Reply {
    match method {
        b"GET" | b"HEAD" if view(query, "events").is_some() => console(crate::console_api::events(
            shared,
            view(query, "events").as_deref(),
            arg(query, "since").as_deref(),
        )),
        b"GET" | b"HEAD" if view(query, "timeline").is_some() => console(
            crate::console_api::timeline(shared, profiles, view(query, "timeline").as_deref(), now),
        ),
        b"GET" | b"HEAD" => json(200, status(shared, profiles, now)),
        b"POST" | b"DELETE" if !write => error(
            403,
            "this API location is read-only (use \"api_abuse_api write\")",
        ),
        b"POST" => match add(shared, query, v6_prefix, now) {
            Ok(msg) => json(200, msg),
            Err(e) => error(400, &e),
        },
        b"DELETE" => {
            let Some(addr) = arg(query, "addr").and_then(|a| a.parse::<IpAddr>().ok()) else {
                return error(400, "DELETE needs ?addr=IP");
            };
            let removed = shared.unlist(client_key(addr, v6_prefix));
            json(200, format!("{{\"addr\":\"{addr}\",\"removed\":{removed},\"detector_state\":\"cleared\"}}\n"))
        }
        _ => error(405, "use GET, POST or DELETE"),
    }
}

fn add(shared: &Shared, query: &[u8], v6_prefix: u8, now: u64) -> Result<String, String> {
    let addr: IpAddr = arg(query, "addr")
        .ok_or("POST needs ?addr=IP&list=deny|gray|allow")?
        .parse()
        .map_err(|_| "addr is not an IP address".to_string())?;
    let kind = match arg(query, "list").as_deref() {
        Some("deny") => ListKind::Deny,
        Some("gray") => ListKind::Gray,
        Some("allow") => ListKind::Allow,
        _ => return Err("list must be deny, gray or allow".into()),
    };
    let life: Lifetime = match arg(query, "duration") {
        Some(d) => d.parse()?,
        None => Lifetime::Forever,
    };
    let now32 = now.min(u64::from(u32::MAX)) as u32;
    let expires = life
        .secs()
        .map_or(0, |s| (now + s).min(u64::from(u32::MAX)) as u32);
    let key = client_key(addr, v6_prefix);
    let entry = ListRecord {
        kind: kind as u8,
        origin: ORIGIN_OPERATOR,
        created: now32,
        expires,
        ..Default::default()
    };
    if !shared.list(key, now32, entry) {
        return Err("the list table is full".into());
    }
    Ok(format!(
        "{{\"addr\":\"{}\",\"list\":\"{}\",\"expires\":{}}}\n",
        key_addr(key),
        kind.as_str(),
        if expires == 0 {
            "\"forever\"".to_string()
        } else {
            format!("\"{}\"", rfc3339(u64::from(expires)))
        }
    ))
}

/// A console view (`?events=N`, `?timeline=H`): its value, `""` when the
/// parameter has none, `None` when it is absent.
fn view(query: &[u8], name: &str) -> Option<String> {
    let bare = std::str::from_utf8(query)
        .ok()?
        .split('&')
        .any(|kv| kv == name);
    if bare {
        Some(String::new())
    } else {
        arg(query, name)
    }
}

fn console(r: Result<String, String>) -> Reply {
    match r {
        Ok(body) => json(200, body),
        Err(e) => error(400, &e),
    }
}

/// The value of `name` in a query string (percent-decoding `%3A` and friends).
fn arg(query: &[u8], name: &str) -> Option<String> {
    let q = std::str::from_utf8(query).ok()?;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).and_then(|c| hex(*c)),
            b.get(i + 2).and_then(|c| hex(*c)),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(if c == b'+' { b' ' } else { c });
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn change_pct(now: u64, before: u64) -> String {
    if before == 0 {
        "null".into()
    } else {
        format!(
            "{:.1}",
            (now as f64 - before as f64) * 100.0 / before as f64
        )
    }
}

fn status(shared: &Shared, profiles: Option<&Profiles>, now: u64) -> String {
    let mut o = String::with_capacity(4096);
    let st = shared.stats();
    let ld = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    o.push_str("{\"profiles\":");
    match profiles {
        None => o.push_str("null"),
        Some(p) => {
            let _ = write!(o, "{{\"path\":{},\"version\":\"{:016x}\",\"list_entries\":{{\"allow\":{},\"deny\":{},\"gray\":{}}},\"profiles\":[",
                json_str(&p.path.display().to_string()), p.version,
                p.lists.count(crate::lists::ListKind::Allow), p.lists.count(crate::lists::ListKind::Deny), p.lists.count(crate::lists::ListKind::Gray));
            for (i, pr) in p.profiles.iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                let bots: Vec<String> = BotType::ALL
                    .iter()
                    .filter(|b| pr.acts_on(**b))
                    .map(|b| format!("\"{b}\""))
                    .collect();
                let apps: Vec<String> = pr.applications.iter().map(|a| json_str(a)).collect();
                let _ = write!(o, "{{\"name\":{},\"enabled\":{},\"applications\":[{}],\"tolerance\":\"{}\",\"bot_types\":[{}],\"reaction\":\"{}\",\"duration\":{}}}",
                    json_str(&pr.name), pr.enabled, apps.join(","), pr.tolerance, bots.join(","), pr.reaction.as_str(),
                    pr.duration.secs().map_or("\"forever\"".to_string(), |s| s.to_string()));
            }
            o.push_str("]}");
        }
    }
    let cs = shared.clients.stats();
    let _ = write!(
        o,
        ",\"zone\":{{\"clients\":{},\"client_capacity\":{},\"evictions\":{},\"list_capacity\":{}}}",
        cs.used,
        cs.capacity,
        cs.evictions,
        shared.lists.capacity()
    );
    let _ = write!(
        o,
        ",\"sync\":{}",
        crate::sync::status_json(shared, now * 1000)
    );
    o.push_str(",\"lists\":[");
    let mut first = true;
    let now32 = now.min(u64::from(u32::MAX)) as u32;
    shared.lists.for_each(|k, _, e| {
        if !e.active(now32) {
            return;
        }
        if !first {
            o.push(',');
        }
        first = false;
        let _ = write!(o, "{{\"addr\":\"{}\",\"list\":\"{}\",\"origin\":\"{}\",\"bot_type\":{},\"confidence\":{},\"offences\":{},\"created\":\"{}\",\"expires\":{}}}",
            key_addr(k), e.kind().map_or("", |k| k.as_str()),
            if e.origin == ORIGIN_OPERATOR { "operator" } else { "detection" },
            e.bot().map_or("null".to_string(), |b| format!("\"{b}\"")), e.confidence, e.offences,
            rfc3339(u64::from(e.created)),
            if e.expires == 0 { "\"forever\"".to_string() } else { format!("\"{}\"", rfc3339(u64::from(e.expires))) });
    });
    let _ = write!(o, "],\"statistics\":{{\"requests\":{},\"blocked_denylist\":{},\"blocked_attack\":{},\"monitored\":{}",
        ld(&st.requests), ld(&st.blocked_deny), ld(&st.blocked_attack), ld(&st.monitored));
    for (name, arr) in [("detections", &st.detections), ("listed", &st.listed)] {
        let _ = write!(o, ",\"{name}\":{{");
        for (i, b) in BotType::ALL.iter().enumerate() {
            let _ = write!(o, "{}\"{b}\":{}", if i > 0 { "," } else { "" }, ld(&arr[i]));
        }
        o.push('}');
    }
    o.push_str(",\"detectors_fired\":{");
    for (i, d) in DETECTORS.iter().enumerate() {
        let _ = write!(
            o,
            "{}\"{d}\":{}",
            if i > 0 { "," } else { "" },
            ld(&st.detector_fired[i])
        );
    }
    o.push_str("},\"attacks\":{");
    for (i, a) in AttackClass::ALL.iter().enumerate() {
        let _ = write!(
            o,
            "{}\"{a}\":{}",
            if i > 0 { "," } else { "" },
            ld(&st.attacks[i])
        );
    }
    let today = (now / 86_400) as u32;
    let ((dn, gn), (db, gb)) = shared.listings(today, 30);
    let _ = writeln!(o, "}},\"last_30_days\":{{\"denylisted\":{dn},\"graylisted\":{gn},\"previous_denylisted\":{db},\"previous_graylisted\":{gb},\"denylisted_change_pct\":{},\"graylisted_change_pct\":{}}}}}}}",
        change_pct(dn, db), change_pct(gn, gb));
    o
}

/// Prometheus text exposition of the same statistics.
pub fn metrics(shared: &Shared) -> Reply {
    let st = shared.stats();
    let ld = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let mut o = String::with_capacity(4096);
    let counter = |o: &mut String, name: &str, help: &str| {
        let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} counter");
    };
    counter(
        &mut o,
        "api_abuse_requests_total",
        "Requests seen by the module.",
    );
    let _ = writeln!(o, "api_abuse_requests_total {}", ld(&st.requests));
    counter(
        &mut o,
        "api_abuse_blocked_total",
        "Requests refused, by reason.",
    );
    let _ = writeln!(
        o,
        "api_abuse_blocked_total{{reason=\"denylist\"}} {}",
        ld(&st.blocked_deny)
    );
    let _ = writeln!(
        o,
        "api_abuse_blocked_total{{reason=\"attack\"}} {}",
        ld(&st.blocked_attack)
    );
    counter(
        &mut o,
        "api_abuse_monitored_total",
        "Requests that would have been refused in monitor mode.",
    );
    let _ = writeln!(o, "api_abuse_monitored_total {}", ld(&st.monitored));
    counter(
        &mut o,
        "api_abuse_detections_total",
        "Clients detected, by bot type.",
    );
    for (i, b) in BotType::ALL.iter().enumerate() {
        let _ = writeln!(
            o,
            "api_abuse_detections_total{{bot_type=\"{b}\"}} {}",
            ld(&st.detections[i])
        );
    }
    counter(
        &mut o,
        "api_abuse_detector_fired_total",
        "Detectors that fired in a detection.",
    );
    for (i, d) in DETECTORS.iter().enumerate() {
        let _ = writeln!(
            o,
            "api_abuse_detector_fired_total{{detector=\"{d}\"}} {}",
            ld(&st.detector_fired[i])
        );
    }
    counter(
        &mut o,
        "api_abuse_attacks_total",
        "Requests carrying attack signs, by class.",
    );
    for (i, a) in AttackClass::ALL.iter().enumerate() {
        let _ = writeln!(
            o,
            "api_abuse_attacks_total{{class=\"{a}\"}} {}",
            ld(&st.attacks[i])
        );
    }
    let cs = shared.clients.stats();
    let _ = writeln!(o, "# HELP api_abuse_clients Client records in the zone.\n# TYPE api_abuse_clients gauge\napi_abuse_clients {}", cs.used);
    let _ = writeln!(o, "# HELP api_abuse_client_capacity Client records the zone holds.\n# TYPE api_abuse_client_capacity gauge\napi_abuse_client_capacity {}", cs.capacity);
    counter(
        &mut o,
        "api_abuse_client_evictions_total",
        "Idle client records evicted because the zone was full.",
    );
    let _ = writeln!(o, "api_abuse_client_evictions_total {}", cs.evictions);
    counter(
        &mut o,
        "api_abuse_lock_recoveries_total",
        "Shared-zone locks taken over from a worker that died holding them.",
    );
    let recoveries =
        cs.recoveries + shared.lists.stats().recoveries + shared.apps.stats().recoveries;
    let _ = writeln!(o, "api_abuse_lock_recoveries_total {recoveries}");
    crate::sync::metrics(shared, &mut o);
    Reply {
        status: 200,
        content_type: "text/plain; version=0.0.4",
        body: o,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_args() {
        assert_eq!(
            arg(b"addr=2001%3Adb8%3A%3A1&list=deny", "addr").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(arg(b"list=deny", "addr"), None);
        assert_eq!(percent_decode("a+b%2"), "a b%2");
    }

    #[test]
    fn change() {
        assert_eq!(change_pct(15, 10), "50.0");
        assert_eq!(change_pct(5, 0), "null");
    }
}
