//! Everything the module keeps in the nginx shared zone, in one place:
//!
//! - `clients`: the per-client detector state (IPv4 address or IPv6 prefix);
//!   idle records are evicted when the table is full.
//! - `lists`: deny/gray/allow entries added at run time (by detection or by an
//!   operator), with expiry; only expired entries are ever evicted.
//! - `apps`: the learned baseline of each application.
//! - `stats`: counters for the API, metrics and the 30-day list statistics.
//! - `events` and `timeline`: the last detections and the per-hour and
//!   per-bot-type counters the dashboard shows.
//!
//! The zone is laid out once by [`Shared::create`] from regions the caller
//! allocates (the nginx slab pool; the heap in tests) and found again after
//! `nginx -s reload` by [`Shared::attach`]. Nothing here is an nginx type.

#![deny(unsafe_op_in_unsafe_fn)]

use std::mem::size_of;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::detect::{AppBaseline, ClientState};
use crate::events_ring::EventRing;
use crate::model::{AttackClass, BotType};
use crate::table::{ClientKey, Record, Table, TableError};
use crate::timeline::{HourCounter, Timeline};

const MAGIC: u64 = 0x4150_4941_4255_5345; // "APIABUSE"
const VERSION: u32 = 9;
/// Applications with a learned baseline; more are served by eviction of the
/// one idle longest.
pub const APP_SLOTS: usize = 8;
/// Share of the zone given to run-time list entries (1/16: about 100k
/// entries in a 64 MB zone).
const LIST_SHARE: usize = 16;
/// Days of list statistics kept (the API compares the last 30 days with the
/// 30 before).
pub const DAYS: usize = 64;

/// Kind of a list entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ListKind {
    Allow = 1,
    Deny = 2,
    Gray = 3,
    /// Must pass the browser challenge (`crate::challenge`).
    Challenge = 4,
}

impl ListKind {
    pub fn from_u8(v: u8) -> Option<ListKind> {
        match v {
            1 => Some(ListKind::Allow),
            2 => Some(ListKind::Deny),
            3 => Some(ListKind::Gray),
            4 => Some(ListKind::Challenge),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::Allow => "allow",
            ListKind::Deny => "deny",
            ListKind::Gray => "gray",
            ListKind::Challenge => "challenge",
        }
    }
}

/// Who put an entry on a list.
pub const ORIGIN_DETECTION: u8 = 1;
pub const ORIGIN_OPERATOR: u8 = 2;
/// A whole IPv4 /24 or IPv6 /48, listed by detection once [`RANGE_CAP`] of
/// its clients were (see [`Shared::list_detected`]). A record of this
/// origin with no list kind counts the detections of its range.
pub const ORIGIN_RANGE: u8 = 3;

/// Detections listed one by one per IPv4 /24 or IPv6 /48 (while the earlier
/// ones are in force) before the range itself is listed, once: a botnet in
/// one network, or one IPv6 /48 rotating through its /64s, takes at most
/// this many entries plus one.
pub const RANGE_CAP: u32 = 16;
/// Detection fills the list table up to this percentage of its slots; the
/// rest stays for operator entries (the API). The two-choice table finds no
/// room for a new key from about 80 % on.
pub const DETECTION_FILL_PCT: usize = 70;

const RANGE_V4: u128 = 0xfe04 << 112;
const RANGE_V6: u128 = 0xfe06 << 112;
const RANGE_TAG: u128 = 0xffff << 112;

/// The key of the range (IPv4 /24, IPv6 /48) a client key lies in. Range
/// keys sit in a reserved part of the IPv6 space (`fe04::/16`, `fe06::/16`);
/// records there are told apart by their origin, so a client claiming such
/// an address (a forged X-Forwarded-For) never matches a range entry.
pub fn range_of(key: ClientKey) -> Option<ClientKey> {
    let tag = key & RANGE_TAG;
    if tag == RANGE_V4 || tag == RANGE_V6 {
        return None;
    }
    match std::net::Ipv6Addr::from(key).to_ipv4_mapped() {
        Some(v4) => Some(RANGE_V4 | u128::from(u32::from(v4) & 0xffff_ff00)),
        None => Some(RANGE_V6 | (key >> 80)),
    }
}

/// The network a range key stands for, e.g. `203.0.113.0/24`.
pub fn range_net(range: ClientKey) -> Option<ipnetwork::IpNetwork> {
    let low = range & !RANGE_TAG;
    match range & RANGE_TAG {
        RANGE_V4 => ipnetwork::Ipv4Network::new(std::net::Ipv4Addr::from(low as u32), 24)
            .ok()
            .map(Into::into),
        RANGE_V6 => ipnetwork::Ipv6Network::new(std::net::Ipv6Addr::from(low << 80), 48)
            .ok()
            .map(Into::into),
        _ => None,
    }
}

/// The range key of a /24 (IPv4) or /48 (IPv6) network.
pub fn range_key(net: ipnetwork::IpNetwork) -> Option<ClientKey> {
    match net {
        ipnetwork::IpNetwork::V4(n) if n.prefix() == 24 => range_of(crate::table::client_key(
            std::net::IpAddr::V4(n.network()),
            128,
        )),
        ipnetwork::IpNetwork::V6(n) if n.prefix() == 48 => range_of(crate::table::client_key(
            std::net::IpAddr::V6(n.network()),
            128,
        )),
        _ => None,
    }
}

/// What [`Shared::list_detected`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listed {
    /// The client has its own entry.
    Client,
    /// The client's range is listed (just now, or before): this entry.
    Range(ClientKey, ListRecord),
    /// No room: the table is full, or detection reached its share of it.
    Full,
}

/// A run-time list entry.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct ListRecord {
    /// [`ListKind`] as u8; 0 = empty.
    pub kind: u8,
    pub origin: u8,
    /// `BotType::index() + 1`, 0 when not listed by detection.
    pub bot_type: u8,
    pub confidence: u8,
    /// How many times detection listed this client (repeat offenders stay longer).
    pub offences: u32,
    /// Unix seconds.
    pub created: u32,
    /// Unix seconds; 0 = forever.
    pub expires: u32,
    /// Orders changes across a fleet (`crate::sync::stamp`): set by
    /// [`Shared::list`] and [`Shared::unlist`], kept from the origin node for
    /// entries received through `api_abuse_sync`. A record of kind 0 with a
    /// stamp is an unblock remembered so an older copy cannot come back.
    pub stamp: u64,
}

// All-zero is the empty entry.
impl Record for ListRecord {
    const SCHEMA: u32 = 2;

    fn is_valid(&self) -> bool {
        self.kind == 0 || self.kind().is_some()
    }
}

impl ListRecord {
    pub fn kind(&self) -> Option<ListKind> {
        ListKind::from_u8(self.kind)
    }

    pub fn active(&self, now: u32) -> bool {
        self.kind != 0 && (self.expires == 0 || self.expires > now)
    }

    pub fn bot(&self) -> Option<BotType> {
        usize::from(self.bot_type)
            .checked_sub(1)
            .and_then(|i| BotType::ALL.get(i).copied())
    }
}

/// Per-application learned traffic.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub struct AppRecord {
    pub baseline: AppBaseline,
}

// The zero value is "nothing learned".
impl Record for AppRecord {
    const SCHEMA: u32 = 1;

    fn is_valid(&self) -> bool {
        self.baseline.is_valid()
    }
}

// The zero value is a fresh client.
impl Record for ClientState {
    const SCHEMA: u32 = 1;

    fn is_valid(&self) -> bool {
        ClientState::is_valid(self)
    }
}

/// One day of list statistics.
#[repr(C)]
pub struct DayCount {
    /// Days since the Unix epoch this slot counts for.
    pub day: AtomicU32,
    pub deny: AtomicU32,
    pub gray: AtomicU32,
}

/// Counters shared by every worker.
#[repr(C)]
pub struct Stats {
    pub requests: AtomicU64,
    pub blocked_deny: AtomicU64,
    pub blocked_attack: AtomicU64,
    pub monitored: AtomicU64,
    pub passed_exception: AtomicU64,
    pub passed_allow: AtomicU64,
    /// Per [`BotType`], in its order.
    pub detections: [AtomicU64; BotType::COUNT],
    pub listed: [AtomicU64; BotType::COUNT],
    /// Per detector, in [`crate::engine::DETECTORS`] order.
    pub detector_fired: [AtomicU64; crate::engine::DETECTORS.len()],
    /// Per [`AttackClass`], in its order.
    pub attacks: [AtomicU64; AttackClass::COUNT],
    pub days: [DayCount; DAYS],
    /// Panics caught in the request handlers: each such request was served
    /// without the module (see `ngx::handlers::request_panicked`).
    pub panics: AtomicU64,
}

#[repr(C)]
struct Header {
    magic: u64,
    version: u32,
    client_record: u32,
    stats: Stats,
    events: EventRing,
    timeline: Timeline,
    /// Campaign detection per application (see `crate::campaign`).
    campaigns: crate::campaign::Campaigns,
    list_counters: ListCounters,
    /// Run-time list changes for `api_abuse_sync`, and its statistics.
    journal: crate::sync::journal::Journal,
    /// The challenge key and failure counts (see `crate::challenge`).
    challenge: crate::challenge::ZoneState,
}

/// Counters of the run-time list table.
#[repr(C)]
pub struct ListCounters {
    /// Bumped by every change of a list entry: the state file is written
    /// within a second of it moving.
    pub changes: AtomicU64,
    /// Listings refused because the table had no room.
    pub insert_failures: AtomicU64,
    /// Range entries made (less those deleted): lookups check the client's
    /// range only while there is one.
    pub ranges: AtomicU64,
    /// Detections not listed on their own because their range was.
    pub range_covered: AtomicU64,
    /// 1 when a refused state file had to stay in place: it is never
    /// written over, so no state is saved.
    pub state_kept: AtomicU32,
}

/// Regions of the zone: the caller allocates them (slab pool) and keeps the
/// header address as the zone's data pointer.
pub struct Regions {
    pub header: *mut u8,
    pub clients: (*mut u8, usize),
    pub lists: (*mut u8, usize),
    pub apps: (*mut u8, usize),
}

/// A handle on the shared zone, valid in every process that maps it.
pub struct Shared {
    header: *mut Header,
    pub clients: Table<ClientState>,
    pub lists: Table<ListRecord>,
    pub apps: Table<AppRecord>,
    /// Beside the list table, in its region (see `challenge::failures`).
    failures: crate::challenge::Failures,
}

// SAFETY: every field is either immutable after creation or accessed through
// atomics and bucket locks.
unsafe impl Send for Shared {}
// SAFETY: as for Send: shared references only reach atomics and data behind
// the tables' bucket locks.
unsafe impl Sync for Shared {}

#[derive(Debug, thiserror::Error)]
pub enum ZoneError {
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("the zone was created by another version of the module")]
    Version,
    #[error("the zone cannot hold the tables: {0}")]
    Space(String),
}

/// Sizes of the regions for a zone with `free` bytes available to allocate.
pub fn plan(free: usize) -> Result<[usize; 4], ZoneError> {
    let header = size_of::<Header>();
    let apps = Table::<AppRecord>::bytes_for(APP_SLOTS);
    // The sync journal (in the header) is paid for by the list share: it
    // holds list changes, and a small zone keeps its clients.
    let journal = size_of::<crate::sync::journal::Journal>();
    let rest = free
        .checked_sub(header - journal + apps)
        .ok_or_else(|| ZoneError::Space(format!("{free} bytes are less than the fixed part")))?;
    let lists = (rest / LIST_SHARE).saturating_sub(journal);
    let clients = rest - rest / LIST_SHARE;
    if Table::<ListRecord>::capacity_for(crate::challenge::failures::split(lists).0) == 0
        || Table::<ClientState>::capacity_for(clients) < 1024
    {
        return Err(ZoneError::Space(format!(
            "{free} bytes hold fewer than 1024 clients"
        )));
    }
    Ok([header, clients, lists, apps])
}

impl Shared {
    /// Lays out a fresh zone.
    ///
    /// # Safety
    /// The regions must be valid, exclusive, aligned to
    /// [`Shared::region_align`], and live as long as every handle.
    pub unsafe fn create(r: &Regions, seed: u64) -> Result<Shared, ZoneError> {
        let header = r.header.cast::<Header>();
        // SAFETY: the caller grants the header region, exclusively, for the
        // duration of the call; all-zero is a valid Header (atomics, counters).
        unsafe { std::ptr::write_bytes(r.header, 0, size_of::<Header>()) };
        let (list_bytes, failure_bytes) = crate::challenge::failures::split(r.lists.1);
        // SAFETY: the caller's guarantees for each region are passed on; the
        // list region's tail (64-aligned, after the list table) holds the
        // challenge failure counts, zeroed here.
        let (clients, lists, apps, failures) = unsafe {
            let tail = r.lists.0.add(list_bytes);
            std::ptr::write_bytes(tail, 0, failure_bytes);
            (
                Table::create(r.clients.0, r.clients.1, seed)?,
                Table::create(r.lists.0, list_bytes, seed.rotate_left(17))?,
                Table::create(r.apps.0, r.apps.1, seed.rotate_left(31))?,
                crate::challenge::Failures::from_raw(tail, failure_bytes),
            )
        };
        // SAFETY: the header was zeroed above and nobody else uses it yet;
        // the magic goes last, so a half-made zone is never attached.
        unsafe {
            (*header).version = VERSION;
            (*header).client_record = size_of::<ClientState>() as u32;
            (*header)
                .journal
                .init(seed.rotate_left(43) ^ crate::table::random_seed());
            (*header).challenge.set_key(&crate::challenge::new_key());
            (*header).magic = MAGIC;
        }
        Ok(Shared {
            header,
            clients,
            lists,
            apps,
            failures,
        })
    }

    /// Finds the zone laid out earlier in the same memory (reload).
    ///
    /// # Safety
    /// As for [`Shared::create`], with regions created by it.
    pub unsafe fn attach(r: &Regions) -> Result<Shared, ZoneError> {
        let header = r.header.cast::<Header>();
        // SAFETY: the caller grants a header region laid out by `create`;
        // these fields are written once there and never change.
        let (magic, version, client_record) =
            unsafe { ((*header).magic, (*header).version, (*header).client_record) };
        if magic != MAGIC || version != VERSION || client_record != size_of::<ClientState>() as u32
        {
            return Err(ZoneError::Version);
        }
        let (list_bytes, failure_bytes) = crate::challenge::failures::split(r.lists.1);
        // SAFETY: the caller's guarantees for each region are passed on,
        // split as `create` split them.
        unsafe {
            Ok(Shared {
                header,
                clients: Table::attach(r.clients.0, r.clients.1)?,
                lists: Table::attach(r.lists.0, list_bytes)?,
                apps: Table::attach(r.apps.0, r.apps.1)?,
                failures: crate::challenge::Failures::from_raw(
                    r.lists.0.add(list_bytes),
                    failure_bytes,
                ),
            })
        }
    }

    pub fn region_align() -> usize {
        Table::<ClientState>::region_align()
            .max(Table::<ListRecord>::region_align())
            .max(Table::<AppRecord>::region_align())
            .max(std::mem::align_of::<Header>())
    }

    pub fn header_size() -> usize {
        size_of::<Header>()
    }

    pub fn stats(&self) -> &Stats {
        // SAFETY: the header lives as long as the zone; Stats is all atomics.
        unsafe { &(*self.header).stats }
    }

    /// The change journal and sync statistics (`api_abuse_sync`).
    pub fn journal(&self) -> &crate::sync::journal::Journal {
        // SAFETY: the header lives as long as the zone; Journal is all atomics.
        unsafe { &(*self.header).journal }
    }

    pub fn campaigns(&self) -> &crate::campaign::Campaigns {
        // SAFETY: as for `stats`: all atomics, valid when zero.
        unsafe { &(*self.header).campaigns }
    }

    /// The challenge key, failure counts and counters.
    /// Challenges served without a valid cookie, per client.
    pub fn challenge_failures(&self) -> &crate::challenge::Failures {
        &self.failures
    }

    pub fn challenge(&self) -> &crate::challenge::ZoneState {
        // SAFETY: the key is written once in `create`, before the zone is
        // published; the rest is atomics.
        unsafe { &(*self.header).challenge }
    }

    /// The last detections (events-file lines), shared by every worker.
    pub fn events(&self) -> &EventRing {
        // SAFETY: as for `stats`: the ring is atomics only.
        unsafe { &(*self.header).events }
    }

    /// Per-hour and per-bot-type counters.
    pub fn timeline(&self) -> &Timeline {
        // SAFETY: as for `stats`.
        unsafe { &(*self.header).timeline }
    }

    /// Counts a refused request (or, in monitor mode, one that would have
    /// been) in the hourly counters.
    pub fn count_refusal(&self, monitored: bool, now: u64) {
        let what = if monitored {
            HourCounter::Monitored
        } else {
            HourCounter::Refusal
        };
        self.timeline().count(what, now);
    }

    pub fn list_counters(&self) -> &ListCounters {
        // SAFETY: the header lives as long as the zone; all atomics.
        unsafe { &(*self.header).list_counters }
    }

    /// The run-time list entry of `key` in force at `now`: the client's
    /// own, else its range's.
    pub fn listed(&self, key: ClientKey, now: u32) -> Option<ListRecord> {
        // Most requests on most sites meet an empty run-time list: skip the
        // two bucket probes (and their cache misses) then.
        if self.lists.is_empty() {
            return None;
        }
        let own = self
            .lists
            .get(key, |e| *e)
            .filter(|e| e.active(now) && e.origin != ORIGIN_RANGE);
        if own.is_some() || self.list_counters().ranges.load(Ordering::Relaxed) == 0 {
            return own;
        }
        self.range_entry(range_of(key)?, now)
    }

    /// The range entry of range key `r` in force at `now`.
    pub fn range_entry(&self, r: ClientKey, now: u32) -> Option<ListRecord> {
        self.lists
            .get(r, |e| *e)
            .filter(|e| e.active(now) && e.origin == ORIGIN_RANGE)
    }

    /// Slots detection may fill (see [`DETECTION_FILL_PCT`]).
    pub fn detection_limit(&self) -> usize {
        self.lists.capacity() * DETECTION_FILL_PCT / 100
    }

    /// Lists a client detected as a bot: within detection's share of the
    /// table, and per range (see [`RANGE_CAP`]): a client whose range is
    /// listed gets no entry of its own, and the detection that reaches the
    /// cap lists the range instead of the client.
    pub fn list_detected(&self, key: ClientKey, now: u32, entry: ListRecord) -> Listed {
        let c = self.list_counters();
        let range = range_of(key);
        if let Some(r) = range.filter(|_| c.ranges.load(Ordering::Relaxed) > 0) {
            if let Some(e) = self.range_entry(r, now) {
                c.range_covered.fetch_add(1, Ordering::Relaxed);
                return Listed::Range(r, e);
            }
        }
        if self.lists.len() as usize >= self.detection_limit()
            && self.lists.get(key, |_| ()).is_none()
        {
            c.insert_failures.fetch_add(1, Ordering::Relaxed);
            return Listed::Full;
        }
        if let Some(r) = range {
            if let Some(e) = self.count_in_range(r, now, entry) {
                c.ranges.fetch_add(1, Ordering::Relaxed);
                c.changes.fetch_add(1, Ordering::Relaxed);
                self.count_day(now / 86_400, entry.kind());
                return Listed::Range(r, e);
            }
        }
        if self.list(key, now, entry) {
            Listed::Client
        } else {
            Listed::Full
        }
    }

    /// Counts a detection in range `r`; returns the range entry when this
    /// one reached the cap and listed the range.
    fn count_in_range(&self, r: ClientKey, now: u32, entry: ListRecord) -> Option<ListRecord> {
        // the counter lasts as long as the entries it counts
        let until = if entry.expires == 0 {
            u32::MAX
        } else {
            entry.expires
        };
        self.lists
            .upsert(
                r,
                now,
                |e, t| !(e.active(t) || (e.origin == ORIGIN_RANGE && e.expires >= t)),
                |e, _| {
                    if (e.origin != ORIGIN_RANGE && e.origin != 0) || e.kind != 0 {
                        return None;
                    }
                    if e.origin == 0 || e.expires < now {
                        *e = ListRecord {
                            origin: ORIGIN_RANGE,
                            created: now,
                            ..Default::default()
                        };
                    }
                    e.offences += 1;
                    e.expires = e.expires.max(until);
                    if e.offences < RANGE_CAP {
                        return None;
                    }
                    *e = ListRecord {
                        origin: ORIGIN_RANGE,
                        offences: e.offences,
                        created: now,
                        ..entry
                    };
                    Some(*e)
                },
            )
            .flatten()
    }

    /// Removes a range entry (and its count).
    pub fn unlist_range(&self, r: ClientKey) -> bool {
        let was_range = self
            .lists
            .get(r, |e| e.origin == ORIGIN_RANGE && e.kind != 0)
            .unwrap_or(false);
        let had = self.lists.remove(r);
        if had {
            self.list_counters().changes.fetch_add(1, Ordering::Relaxed);
            if was_range {
                let _ = self.list_counters().ranges.fetch_update(
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                    |n| n.checked_sub(1),
                );
            }
        }
        had && was_range
    }

    /// Drops records no longer in force (expired entries, with their
    /// offence history, and range counts whose entries all expired) when
    /// detection has reached its share of the table. Walks every bucket:
    /// for the maintenance thread, never a request.
    pub fn purge_lists(&self, now: u32) -> usize {
        if (self.lists.len() as usize) < self.detection_limit() {
            return 0;
        }
        let removed = self.lists.retain(|_, _, e| {
            e.active(now) || (e.origin == ORIGIN_RANGE && e.kind == 0 && e.expires >= now)
        });
        if removed > 0 {
            self.list_counters().changes.fetch_add(1, Ordering::Relaxed);
        }
        removed
    }

    /// Puts `key` on a list. Returns false when the list table is full of
    /// entries that have not expired.
    pub fn list(&self, key: ClientKey, now: u32, entry: ListRecord) -> bool {
        let day = now / 86_400;
        let kind = entry.kind();
        let now_ms = crate::sync::stamp::now_ms();
        let journal = self.journal();
        let done = self
            .lists
            .upsert(
                key,
                now,
                |e, t| !e.active(t),
                |e, _| {
                    // a client key in the range key space never replaces a range
                    if e.origin == ORIGIN_RANGE && entry.origin != ORIGIN_RANGE {
                        return None;
                    }
                    let offences = if entry.origin == ORIGIN_DETECTION {
                        e.offences + 1
                    } else {
                        e.offences
                    };
                    let stamp = journal.next_stamp(now_ms, e.stamp);
                    *e = ListRecord {
                        offences,
                        stamp,
                        ..entry
                    };
                    Some(*e)
                },
            )
            .flatten();
        let counters = self.list_counters();
        if done.is_none() {
            counters.insert_failures.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(rec) = done {
            journal.push(key, &rec);
            counters.changes.fetch_add(1, Ordering::Relaxed);
            self.count_day(day, kind);
            if let (Some(bot), Some(k @ (ListKind::Deny | ListKind::Gray))) = (entry.bot(), kind) {
                self.timeline()
                    .count_listing(bot, k == ListKind::Gray, u64::from(now));
            }
        }
        done.is_some()
    }

    /// Applies an entry received from another node (`api_abuse_sync`) if it
    /// is newer than what this zone holds for `key` (last writer wins by
    /// stamp); a removal also forgets the client's detector state. Not
    /// journalled, so it is never sent back. Returns whether it was applied.
    pub fn apply_remote(&self, key: ClientKey, now: u32, rec: ListRecord) -> bool {
        let applied = self
            .lists
            .upsert(
                key,
                now,
                |e, t| !e.active(t),
                |e, _| {
                    if rec.stamp > e.stamp && e.origin != ORIGIN_RANGE {
                        *e = rec;
                        true
                    } else {
                        false
                    }
                },
            )
            .unwrap_or(false);
        if applied {
            // the state file follows remote changes too
            self.list_counters().changes.fetch_add(1, Ordering::Relaxed);
        }
        if applied && rec.kind == 0 {
            self.clients.remove(key);
        }
        applied
    }

    /// Drops the unblock tombstones stamped before `before_ms`; returns how many.
    pub fn forget_tombstones(&self, before_ms: u64) -> usize {
        self.lists.retain(|_, _, e| {
            !(e.kind == 0
                && e.origin == 0
                && e.stamp != 0
                && crate::sync::stamp::millis(e.stamp) < before_ms)
        })
    }

    /// Offences recorded for `key` (listed by detection before, even if expired).
    pub fn offences(&self, key: ClientKey) -> u32 {
        self.lists.get(key, |e| e.offences).unwrap_or(0)
    }

    /// Removes `key` from the run-time lists and forgets its detector state,
    /// so it is not listed again at once.
    pub fn unlist(&self, key: ClientKey) -> bool {
        if self.journal().stats.enabled.load(Ordering::Relaxed) == 0 {
            // No fleet to tell: nothing to remember.
            let had = self.lists.remove(key);
            self.clients.remove(key);
            if had {
                self.list_counters().changes.fetch_add(1, Ordering::Relaxed);
            }
            return had;
        }
        let now_ms = crate::sync::stamp::now_ms();
        let now = (now_ms / 1000).min(u64::from(u32::MAX)) as u32;
        let journal = self.journal();
        // With `api_abuse_sync`, what remains is a tombstone (kind 0, not
        // active, so evictable): it carries the removal's stamp, so an older
        // copy arriving from another node cannot bring the entry back. The
        // sync helper process drops it after a while (`forget_tombstones`); Redis
        // keeps its own for days.
        let (had, rec) = self
            .lists
            .upsert(
                key,
                now,
                |e, t| !e.active(t),
                |e, _| {
                    let had = e.kind != 0;
                    let stamp = journal.next_stamp(now_ms, e.stamp);
                    *e = ListRecord {
                        stamp,
                        created: now,
                        ..Default::default()
                    };
                    (had, *e)
                },
            )
            .unwrap_or_else(|| {
                let stamp = journal.next_stamp(now_ms, 0);
                (
                    false,
                    ListRecord {
                        stamp,
                        ..Default::default()
                    },
                )
            });
        journal.push(key, &rec);
        self.clients.remove(key);
        if had {
            self.list_counters().changes.fetch_add(1, Ordering::Relaxed);
        }
        had
    }

    fn count_day(&self, day: u32, kind: Option<ListKind>) {
        let slot = &self.stats().days[day as usize % DAYS];
        let seen = slot.day.load(Ordering::Relaxed);
        if seen != day {
            // A new day reuses the slot of 64 days ago; a racing worker may
            // lose one count at midnight, which the statistics tolerate.
            if slot
                .day
                .compare_exchange(seen, day, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                slot.deny.store(0, Ordering::Relaxed);
                slot.gray.store(0, Ordering::Relaxed);
            }
        }
        match kind {
            Some(ListKind::Deny) => slot.deny.fetch_add(1, Ordering::Relaxed),
            Some(ListKind::Gray) => slot.gray.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
    }

    /// Deny- and graylistings in the `days` days up to `today` (inclusive)
    /// and in the `days` days before them.
    pub fn listings(&self, today: u32, days: u32) -> ((u64, u64), (u64, u64)) {
        let mut recent = (0, 0);
        let mut before = (0, 0);
        for slot in &self.stats().days {
            let d = slot.day.load(Ordering::Relaxed);
            let (deny, gray) = (
                u64::from(slot.deny.load(Ordering::Relaxed)),
                u64::from(slot.gray.load(Ordering::Relaxed)),
            );
            if d <= today && today - d < days {
                recent.0 += deny;
                recent.1 += gray;
            } else if d <= today && today - d < 2 * days {
                before.0 += deny;
                before.1 += gray;
            }
        }
        (recent, before)
    }

    /// Counts a panic caught in a request handler; the total so far.
    pub fn count_panic(&self) -> u64 {
        self.stats().panics.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn count_attack(&self, class: AttackClass) {
        if let Some(c) = self.stats().attacks.get(class.index()) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A zone on the heap: the same layout code as in nginx's slab pool.
    pub struct HeapZone {
        _mem: Vec<Vec<Line>>,
        pub shared: Shared,
        pub regions: Regions,
    }

    /// Heap memory aligned as the slab pool's regions are (see
    /// [`Shared::region_align`]).
    #[repr(C, align(64))]
    #[derive(Clone, Copy)]
    pub struct Line([u8; 64]);

    pub fn heap_zone(bytes: usize) -> HeapZone {
        let [h, c, l, a] = plan(bytes).expect("plan");
        let mut mem: Vec<Vec<Line>> = [h, c, l, a]
            .iter()
            .map(|n| vec![Line([0; 64]); n / 64 + 1])
            .collect();
        let ptr = |v: &mut Vec<Line>| v.as_mut_ptr().cast::<u8>();
        let regions = Regions {
            header: ptr(&mut mem[0]),
            clients: (ptr(&mut mem[1]), c),
            lists: (ptr(&mut mem[2]), l),
            apps: (ptr(&mut mem[3]), a),
        };
        // SAFETY: the vectors outlive the handle (kept in HeapZone).
        let shared = unsafe { Shared::create(&regions, 42) }.expect("create");
        HeapZone {
            _mem: mem,
            shared,
            regions,
        }
    }

    #[test]
    fn lists_offences_and_statistics() {
        let z = heap_zone(4 << 20);
        let s = &z.shared;
        let now = 20_000 * 86_400;
        let deny = ListRecord {
            kind: ListKind::Deny as u8,
            origin: ORIGIN_DETECTION,
            bot_type: 1,
            confidence: 80,
            expires: now + 60,
            ..Default::default()
        };
        assert!(s.listed(7, now).is_none());
        assert!(s.list(7, now, deny));
        assert_eq!(
            s.listed(7, now).map(|e| e.kind()),
            Some(Some(ListKind::Deny))
        );
        assert!(s.listed(7, now + 61).is_none(), "expired");
        assert_eq!(s.offences(7), 1);
        assert!(s.list(
            7,
            now + 100,
            ListRecord {
                expires: now + 200,
                ..deny
            }
        ));
        assert_eq!(s.offences(7), 2, "repeat offender");
        // the client's detector state goes with the entry
        s.clients
            .upsert(7, now, |_, _| true, |c, _| c.mark_reported(BotType::Spam));
        assert!(s.clients.get(7, |_| ()).is_some());
        assert!(s.unlist(7));
        assert!(s.clients.get(7, |_| ()).is_none());
        assert!(s.listed(7, now).is_none());
        let ((d, g), _) = s.listings(now / 86_400, 30);
        assert_eq!((d, g), (2, 0));
    }

    fn detected(expires: u32) -> ListRecord {
        ListRecord {
            kind: ListKind::Deny as u8,
            origin: ORIGIN_DETECTION,
            bot_type: 1,
            confidence: 90,
            expires,
            ..Default::default()
        }
    }

    fn v4(a: u8, b: u8, c: u8, d: u8) -> ClientKey {
        crate::table::client_key(std::net::Ipv4Addr::new(a, b, c, d).into(), 64)
    }

    #[test]
    fn a_range_is_listed_once_after_its_cap() {
        let z = heap_zone(2 << 20);
        let s = &z.shared;
        let now = 1_000_000;
        for i in 0..RANGE_CAP - 1 {
            let k = v4(203, 0, 113, i as u8);
            assert_eq!(s.list_detected(k, now, detected(now + 60)), Listed::Client);
        }
        let outside = v4(203, 0, 114, 1);
        assert!(s.listed(outside, now).is_none());
        let last = v4(203, 0, 113, 200);
        let Listed::Range(r, e) = s.list_detected(last, now, detected(now + 60)) else {
            panic!("the cap lists the range");
        };
        assert_eq!(range_net(r).unwrap().to_string(), "203.0.113.0/24");
        assert_eq!((e.origin, e.kind()), (ORIGIN_RANGE, Some(ListKind::Deny)));
        // every address of the range is refused, none outside
        assert!(s.listed(v4(203, 0, 113, 250), now).is_some());
        assert!(s.listed(outside, now).is_none());
        // further detections in it take no entry
        let before = s.lists.len();
        assert!(matches!(
            s.list_detected(v4(203, 0, 113, 251), now, detected(now + 60)),
            Listed::Range(..)
        ));
        assert_eq!(s.lists.len(), before);
        assert_eq!(s.list_counters().ranges.load(Ordering::Relaxed), 1);
        assert!(
            s.listed(v4(203, 0, 113, 250), now + 61).is_none(),
            "expires"
        );
        assert!(s.unlist_range(r));
        assert!(s.listed(v4(203, 0, 113, 250), now).is_none());
        assert_eq!(s.list_counters().ranges.load(Ordering::Relaxed), 0);

        // IPv6: one /48 rotating through its /64s
        let v6 = |i: u16| {
            crate::table::client_key(
                std::net::Ipv6Addr::new(0x2001, 0xdb8, 7, i, 0, 0, 0, 1).into(),
                64,
            )
        };
        let got: Vec<Listed> = (0..RANGE_CAP as u16 + 5)
            .map(|i| s.list_detected(v6(i), now, detected(0)))
            .collect();
        assert_eq!(
            got.iter().filter(|l| **l == Listed::Client).count(),
            RANGE_CAP as usize - 1
        );
        let Listed::Range(r6, _) = got[RANGE_CAP as usize - 1] else {
            panic!("{got:?}")
        };
        assert_eq!(range_net(r6).unwrap().to_string(), "2001:db8:7::/48");
        assert_eq!(range_key(range_net(r6).unwrap()), Some(r6));
        assert!(s.listed(v6(9999), now + 1_000_000).is_some(), "forever");
    }

    #[test]
    fn a_forged_address_in_the_range_key_space_never_takes_a_range() {
        let z = heap_zone(2 << 20);
        let s = &z.shared;
        let now = 1_000_000;
        for i in 0..RANGE_CAP {
            s.list_detected(v4(198, 51, 100, i as u8), now, detected(now + 60));
        }
        let r = range_of(v4(198, 51, 100, 1)).unwrap();
        // a "client" whose address is the range key itself
        assert_eq!(range_of(r), None);
        assert!(!s.list(r, now, detected(now + 60)), "the range entry stays");
        assert!(
            s.listed(r, now).is_none(),
            "and a client never sees it as its own"
        );
        assert!(s.range_entry(r, now).is_some());
    }

    #[test]
    fn detection_leaves_room_for_operators() {
        let z = heap_zone(1 << 20);
        let s = &z.shared;
        let now = 1_000_000;
        let limit = s.detection_limit();
        let mut listed = 0;
        let mut full = 0;
        // distinct /24s, so no range is involved
        for i in 0..(s.lists.capacity() as u32) {
            let k = v4(10, (i >> 8) as u8, i as u8, 1);
            match s.list_detected(k, now, detected(now + 60)) {
                Listed::Client => listed += 1,
                Listed::Full => full += 1,
                Listed::Range(..) => panic!("no range"),
            }
        }
        assert!(full > 0);
        assert!(
            s.lists.len() as usize <= limit + 1,
            "{} > {limit}",
            s.lists.len()
        );
        // Each client of a new /24 brings its range's counter: clients get
        // half of detection's share, or one more with an odd share.
        assert!(
            listed * 2 >= limit,
            "{listed} of {limit}: range counters take half"
        );
        assert_eq!(
            s.list_counters().insert_failures.load(Ordering::Relaxed),
            full
        );
        // operators still get in
        let op = ListRecord {
            kind: ListKind::Deny as u8,
            origin: ORIGIN_OPERATOR,
            ..Default::default()
        };
        for i in 0..50u8 {
            assert!(s.list(v4(192, 0, 2, i), now, op), "operator entry {i}");
        }
        // once entries expire, maintenance makes room again
        assert!(s.purge_lists(now + 61) > 0);
        assert_eq!(
            s.list_detected(v4(172, 16, 0, 1), now + 61, detected(now + 120)),
            Listed::Client
        );
    }

    #[test]
    fn changes_are_journalled_and_remote_ones_merge_by_stamp() {
        use crate::sync::journal::Read;
        let z = heap_zone(4 << 20);
        let s = &z.shared;
        let j = s.journal();
        j.stats.enabled.store(1, Ordering::Relaxed);
        let now = 1_800_000_000;
        let deny = ListRecord {
            kind: ListKind::Deny as u8,
            origin: ORIGIN_OPERATOR,
            ..Default::default()
        };
        assert!(s.list(5, now, deny));
        let Read::Change(c) = j.peek(0) else {
            panic!("journalled")
        };
        assert_eq!((c.key, c.rec.kind), (5, ListKind::Deny as u8));
        assert!(c.rec.stamp != 0);
        // an older remote copy loses, a newer one wins and is not journalled
        let older = ListRecord {
            kind: ListKind::Gray as u8,
            stamp: c.rec.stamp - 1,
            ..deny
        };
        assert!(!s.apply_remote(5, now, older));
        let newer = ListRecord {
            stamp: c.rec.stamp + (1 << 10),
            ..older
        };
        assert!(s.apply_remote(5, now, newer));
        assert_eq!(s.listed(5, now).map(|e| e.kind), Some(ListKind::Gray as u8));
        assert_eq!(j.pending(), 1, "remote changes are not sent back");
        // a local change supersedes the remote entry it replaces
        assert!(s.list(5, now, deny));
        assert!(s.lists.get(5, |e| e.stamp).unwrap() > newer.stamp);
        // an unblock leaves a tombstone that an older copy cannot undo
        s.clients.upsert(5, now, |_, _| true, |_, _| ());
        assert!(s.unlist(5));
        assert!(s.clients.get(5, |_| ()).is_none());
        assert!(s.listed(5, now).is_none());
        let Read::Change(gone) = j.peek(2) else {
            panic!("unblock journalled")
        };
        assert_eq!(gone.rec.kind, 0);
        assert!(!s.apply_remote(5, now, newer));
        assert!(s.listed(5, now).is_none());
        // a remote unblock clears the detector state too
        assert!(s.apply_remote(6, now, ListRecord { stamp: 10, ..deny }));
        s.clients.upsert(6, now, |_, _| true, |_, _| ());
        assert!(s.apply_remote(
            6,
            now,
            ListRecord {
                stamp: 11,
                ..Default::default()
            }
        ));
        assert!(s.listed(6, now).is_none() && s.clients.get(6, |_| ()).is_none());
        // tombstones are forgotten after a while, and not kept at all without sync
        assert_eq!(s.forget_tombstones(u64::MAX), 2);
        assert!(s.lists.get(5, |_| ()).is_none());
        j.stats.enabled.store(0, Ordering::Relaxed);
        assert!(s.list(7, now, deny));
        assert!(s.unlist(7));
        assert!(s.lists.get(7, |_| ()).is_none());
    }

    #[test]
    fn attach_finds_the_same_zone() {
        let z = heap_zone(2 << 20);
        let now = 1000;
        let gray = ListRecord {
            kind: ListKind::Gray as u8,
            ..Default::default()
        };
        assert!(z.shared.list(9, now, gray));
        // SAFETY: same regions, still alive.
        let again = unsafe { Shared::attach(&z.regions) }.expect("attach");
        assert!(again.listed(9, now).is_some());
    }

    #[test]
    fn state_file_round_trip() {
        let z = heap_zone(2 << 20);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as u32)
            .unwrap_or(0);
        let deny = ListRecord {
            kind: ListKind::Deny as u8,
            expires: now + 3600,
            ..Default::default()
        };
        let old = ListRecord {
            kind: ListKind::Deny as u8,
            expires: now - 10,
            ..Default::default()
        };
        assert!(z.shared.list(1, now, deny));
        assert!(z.shared.list(2, now - 100, old));
        let path = std::env::temp_dir().join(format!("aa-state-{}", std::process::id()));
        crate::state::save(&z.shared, &path).expect("save");
        let fresh = heap_zone(2 << 20);
        let report = crate::state::load(&fresh.shared, &path)
            .expect("load")
            .expect("file");
        assert!(
            report.starts_with("1 list entries (1 expired dropped)"),
            "{report}"
        );
        assert!(fresh.shared.listed(1, now).is_some());
        assert!(fresh.shared.listed(2, now).is_none());
        std::fs::write(&path, b"garbage").unwrap();
        assert!(crate::state::load(&fresh.shared, &path).is_err());
        let _ = std::fs::remove_file(&path);
        assert!(crate::state::load(&fresh.shared, &path)
            .expect("missing is fine")
            .is_none());
    }
}
