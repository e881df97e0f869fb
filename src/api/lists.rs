//! The run-time list entries: `GET` pages through them (sorted by address,
//! filtered), `POST` adds or changes one, `DELETE` removes one together with
//! the client's detector state.
//!
//! A page is chosen with one pass over the table keeping the `limit`
//! smallest keys above the cursor in a heap: O(entries × log limit) time and
//! O(limit) memory, and a cursor stays valid while entries come and go.

use std::collections::BinaryHeap;
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use serde::Serialize;

use super::params::Params;
use super::{error, json, Ctx, Reply, Request};
use crate::config::Lifetime;
use crate::engine::rfc3339;
use crate::model::BotType;
use crate::shared::{
    range_key, range_net, ListKind, ListRecord, ORIGIN_DETECTION, ORIGIN_OPERATOR, ORIGIN_RANGE,
};
use crate::table::{client_key, key_addr, ClientKey};

/// Entries on a page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: usize = 100;
/// Most entries on one page.
pub const MAX_LIMIT: usize = 1000;

/// Parameters of a list page.
pub const PAGE_PARAMS: &[&str] = &["limit", "cursor", "list", "origin", "bot_type", "addr"];

/// One entry as the API shows it.
#[derive(Serialize)]
pub struct Entry {
    pub addr: String,
    pub list: &'static str,
    pub origin: &'static str,
    pub bot_type: Option<&'static str>,
    pub confidence: u8,
    pub offences: u32,
    pub created: String,
    pub expires: String,
}

pub fn origin_name(origin: u8) -> &'static str {
    match origin {
        ORIGIN_OPERATOR => "operator",
        ORIGIN_DETECTION => "detection",
        ORIGIN_RANGE => "range",
        _ => "unknown",
    }
}

fn kind_of(name: &str) -> Option<ListKind> {
    [
        ListKind::Deny,
        ListKind::Gray,
        ListKind::Allow,
        ListKind::Challenge,
    ]
    .into_iter()
    .find(|k| k.as_str() == name)
}

fn origin_of(name: &str) -> Option<u8> {
    match name {
        "operator" => Some(ORIGIN_OPERATOR),
        "detection" => Some(ORIGIN_DETECTION),
        "range" => Some(ORIGIN_RANGE),
        _ => None,
    }
}

pub fn expiry(expires: u32) -> String {
    if expires == 0 {
        "forever".into()
    } else {
        rfc3339(u64::from(expires))
    }
}

impl Entry {
    fn new(key: ClientKey, e: &ListRecord) -> Entry {
        Entry {
            addr: entry_addr(key, e),
            list: e.kind().map_or("", ListKind::as_str),
            origin: origin_name(e.origin),
            bot_type: e.bot().map(BotType::as_str),
            confidence: e.confidence,
            offences: e.offences,
            created: rfc3339(u64::from(e.created)),
            expires: expiry(e.expires),
        }
    }
}

/// The address of an entry: the client's, or the network of a range entry.
fn entry_addr(key: ClientKey, e: &ListRecord) -> String {
    match range_net(key).filter(|_| e.origin == ORIGIN_RANGE) {
        Some(net) => net.to_string(),
        None => key_addr(key).to_string(),
    }
}

/// Whether an entry lies in `net` (a range entry: when its network does).
fn within(net: &IpNetwork, key: ClientKey, e: &ListRecord) -> bool {
    match range_net(key).filter(|_| e.origin == ORIGIN_RANGE) {
        Some(r) => net.prefix() <= r.prefix() && net.contains(r.network()),
        None => net.contains(key_addr(key)),
    }
}

/// Which entries a page shows.
struct Filter {
    list: Option<ListKind>,
    origin: Option<u8>,
    bot: Option<BotType>,
    net: Option<IpNetwork>,
}

impl Filter {
    fn from(p: &Params) -> Result<Filter, String> {
        let list = p.parsed("list", kind_of, "deny, gray, allow or challenge")?;
        let origin = p.parsed("origin", origin_of, "operator, detection or range")?;
        let bot = p.parsed("bot_type", BotType::from_name, "a bot type name")?;
        let net = p.parsed(
            "addr",
            |v| v.parse::<IpNetwork>().ok(),
            "an address or a CIDR prefix",
        )?;
        Ok(Filter {
            list,
            origin,
            bot,
            net,
        })
    }

    fn admits(&self, key: ClientKey, e: &ListRecord) -> bool {
        self.list.is_none_or(|l| e.kind() == Some(l))
            && self.origin.is_none_or(|o| e.origin == o)
            && self.bot.is_none_or(|b| e.bot() == Some(b))
            && self.net.is_none_or(|n| within(&n, key, e))
    }
}

/// Counts by list.
#[derive(Default, Serialize)]
pub struct ByList {
    pub deny: u64,
    pub gray: u64,
    pub allow: u64,
    pub challenge: u64,
}

/// One page of entries.
#[derive(Serialize)]
pub struct Page {
    /// The entries, by address.
    pub lists: Vec<Entry>,
    /// Entries matching the filter, on every page.
    pub matched: u64,
    /// The same, by list.
    pub matched_by_list: ByList,
    /// Pass as `cursor` for the next page; absent on the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The page asked for by `p` (whose names are checked by the caller).
pub fn page(ctx: &Ctx<'_>, p: &Params, now: u64) -> Result<Page, String> {
    let filter = Filter::from(p)?;
    let limit = p
        .parsed(
            "limit",
            |v| {
                v.parse::<usize>()
                    .ok()
                    .filter(|l| (1..=MAX_LIMIT).contains(l))
            },
            "a number from 1 to 1000",
        )?
        .unwrap_or(DEFAULT_LIMIT);
    let cursor = p.parsed(
        "cursor",
        |v| {
            (v.len() == 32)
                .then(|| u128::from_str_radix(v, 16).ok())
                .flatten()
        },
        "a cursor returned by an earlier page",
    )?;
    let now32 = now.min(u64::from(u32::MAX)) as u32;
    let mut matched = 0u64;
    let mut by_list = ByList::default();
    // the limit + 1 smallest keys above the cursor (one more tells whether
    // another page follows)
    let mut heap: BinaryHeap<(ClientKey, Keyed)> = BinaryHeap::with_capacity(limit + 2);
    ctx.shared.lists.for_each(|k, _, e| {
        if !e.active(now32) || !filter.admits(k, e) {
            return;
        }
        matched += 1;
        match e.kind() {
            Some(ListKind::Deny) => by_list.deny += 1,
            Some(ListKind::Gray) => by_list.gray += 1,
            Some(ListKind::Allow) => by_list.allow += 1,
            Some(ListKind::Challenge) => by_list.challenge += 1,
            None => {}
        }
        if cursor.is_some_and(|c| k <= c) {
            return;
        }
        heap.push((k, Keyed(*e)));
        if heap.len() > limit + 1 {
            heap.pop();
        }
    });
    let mut rows = heap.into_sorted_vec();
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = more
        .then(|| rows.last().map(|(k, _)| format!("{k:032x}")))
        .flatten();
    Ok(Page {
        lists: rows.iter().map(|(k, e)| Entry::new(*k, &e.0)).collect(),
        matched,
        matched_by_list: by_list,
        next_cursor,
    })
}

/// A record ordered by nothing (the heap orders by key alone; keys are unique).
struct Keyed(ListRecord);

impl PartialEq for Keyed {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Keyed {}
impl PartialOrd for Keyed {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Keyed {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

/// `GET lists`: one page, nothing else.
pub fn get(ctx: &Ctx<'_>, req: &Request<'_>) -> Reply {
    let page = Params::parse(req.query, PAGE_PARAMS).and_then(|p| page(ctx, &p, req.now));
    match page {
        Ok(page) => json(200, &page),
        Err(e) => error(400, &e),
    }
}

#[derive(Serialize)]
struct Added {
    addr: String,
    list: &'static str,
    expires: String,
}

/// `POST ?addr=IP&list=deny|gray|allow[&duration=1h|forever]`
pub fn post(ctx: &Ctx<'_>, req: &Request<'_>) -> Reply {
    match add(ctx, req) {
        Ok(a) => json(200, &a),
        Err((status, e)) => error(status, &e),
    }
}

fn add(ctx: &Ctx<'_>, req: &Request<'_>) -> Result<Added, (u16, String)> {
    let bad = |e: String| (400, e);
    let p = Params::parse(req.query, &["addr", "list", "duration"]).map_err(bad)?;
    let addr: IpAddr = p
        .parsed("addr", |v| v.parse().ok(), "an IP address")
        .map_err(bad)?
        .ok_or_else(|| bad("POST needs ?addr=IP&list=deny|gray|allow".into()))?;
    let kind = p
        .parsed("list", kind_of, "deny, gray, allow or challenge")
        .map_err(bad)?
        .ok_or_else(|| bad("POST needs list=deny|gray|allow".into()))?;
    let life: Lifetime = match p.get("duration") {
        Some(d) => d.parse().map_err(bad)?,
        None => Lifetime::Forever,
    };
    let now32 = req.now.min(u64::from(u32::MAX)) as u32;
    let expires = life
        .secs()
        .map_or(0, |s| (req.now + s).min(u64::from(u32::MAX)) as u32);
    let key = client_key(addr, ctx.v6_prefix);
    let entry = ListRecord {
        kind: kind as u8,
        origin: ORIGIN_OPERATOR,
        created: now32,
        expires,
        ..Default::default()
    };
    if !ctx.shared.list(key, now32, entry) {
        return Err((503, "the list table is full".into()));
    }
    Ok(Added {
        addr: key_addr(key).to_string(),
        list: kind.as_str(),
        expires: expiry(expires),
    })
}

#[derive(Serialize)]
struct Removed {
    addr: String,
    removed: bool,
    detector_state: &'static str,
}

/// `DELETE ?addr=IP`, or `?addr=NET/24` / `NET/48` for a range entry.
pub fn delete(ctx: &Ctx<'_>, req: &Request<'_>) -> Reply {
    let addr = Params::parse(req.query, &["addr"]).and_then(|p| {
        p.parsed(
            "addr",
            |v| match v.parse::<IpAddr>() {
                Ok(a) => Some(Err(a)),
                Err(_) => v.parse::<IpNetwork>().ok().and_then(range_key).map(Ok),
            },
            "an IP address, or an IPv4 /24 or IPv6 /48 range",
        )?
        .ok_or_else(|| "DELETE needs ?addr=IP".to_string())
    });
    let addr = match addr {
        Ok(Err(a)) => a,
        Ok(Ok(range)) => {
            let removed = ctx.shared.unlist_range(range);
            return json(
                200,
                &Removed {
                    addr: range_net(range).map_or_else(String::new, |n| n.to_string()),
                    removed,
                    detector_state: "kept",
                },
            );
        }
        Err(e) => return error(400, &e),
    };
    let key = client_key(addr, ctx.v6_prefix);
    let removed = ctx.shared.unlist(key);
    json(
        200,
        &Removed {
            addr: key_addr(key).to_string(),
            removed,
            detector_state: "cleared",
        },
    )
}
