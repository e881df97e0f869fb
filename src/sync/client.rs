//! The sync helper's work, one helper process per nginx instance: a session with
//! Redis follows the zone's journal out and the channel in, and a new session
//! is opened (with backoff) whenever one fails. Nothing here is an nginx
//! type; the glue hands in the zone, the settings and an [`Env`].
//!
//! A session:
//! 1. connects twice (one connection for commands, one subscribed to the
//!    channel), loads the compare-and-set script, subscribes;
//! 2. reads every entry key (`SCAN` + `MGET`) and applies the ones newer than
//!    the zone's (last writer wins by stamp, see [`super::stamp`]);
//! 3. writes back every local entry (and unblock) that Redis lacks or holds
//!    an older copy of: changes made while Redis was unreachable, or all of
//!    them after Redis lost its data;
//! 4. then loops every [`PASS_MS`]: sends the journal's new changes through
//!    the script (which sets the key with its TTL and publishes only if the
//!    change is newer than the key's), and applies what the channel brings,
//!    skipping the zone's own changes (they are already applied: no echo).
//!
//! Changes received from Redis are written to the zone with
//! [`Shared::apply_remote`], which does not journal them, so they are never
//! published again.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use redis::{Commands, Connection, Script};

use super::backoff::Backoff;
use super::journal::{Change, Read};
use super::stamp;
use super::wire::{Names, WireEntry};
use super::Settings;
use crate::shared::{ListRecord, Shared};
use crate::table::ClientKey;

/// How long the helper waits on the channel per pass: the bound on how long
/// a local change waits before it is sent.
pub const PASS_MS: u64 = 20;
/// Liveness check of the command connection when there is nothing to send.
const PING_MS: u64 = 1_000;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);
/// Keys per SCAN step and per MGET, and changes per pipeline.
const BATCH: usize = 1_000;
/// A node keeps an unblock's tombstone this long (Redis keeps it for
/// [`super::wire::TOMBSTONE_SECS`]): long enough to outlast any reordering
/// between a full load and the channel, short enough that tombstones never
/// crowd the list table.
const TOMBSTONE_KEEP: Duration = Duration::from_secs(600);
const TOMBSTONE_SWEEP: Duration = Duration::from_secs(60);
/// A journal slot claimed this long ago and still not written belongs to a
/// writer that died: compare the whole table with Redis instead.
const BUSY_GIVE_UP: Duration = Duration::from_secs(1);

/// Sets the entry key if the change is newer than the key's (or the key is
/// absent), with its TTL (ARGV[3] ms, 0 = none), and publishes it.
/// Redis and Valkey both ship cjson.
pub const SET_IF_NEWER: &str = include_str!("set_if_newer.lua");

/// What the session needs from its host process.
pub trait Env {
    /// True when the session must end (the helper is told to stop).
    fn stopping(&self) -> bool;
    fn error(&self, msg: &str);
    fn notice(&self, msg: &str);
}

/// Runs until `env.stopping()` or until another helper claims the zone.
pub fn run(shared: &Shared, settings: &Settings, v6_prefix: u8, env: &dyn Env) {
    let journal = shared.journal();
    let st = &journal.stats;
    let generation = st.generation.fetch_add(1, ORD) + 1;
    journal.set_node(&settings.node);
    st.enabled.store(1, ORD);
    let mut node = Node {
        shared,
        settings,
        names: Names {
            prefix: settings.prefix.clone(),
        },
        script: Script::new(SET_IF_NEWER),
        v6_prefix,
        generation,
        env,
        instance: journal.instance(),
        busy: std::cell::Cell::new(None),
    };
    let mut backoff = Backoff::new(journal.instance() ^ stamp::now_ms());
    let mut outage = false;
    while !node.must_stop() {
        let result = node.session(&mut backoff, &mut outage);
        if !node.owner() {
            // A successor runs: the statistics are its to write.
            break;
        }
        st.connected.store(0, ORD);
        match result {
            Ok(()) => break,
            Err(e) => {
                st.errors.fetch_add(1, ORD);
                if !outage {
                    outage = true;
                    st.outages.fetch_add(1, ORD);
                    env.error(&format!(
                        "api_abuse: sync with {} failed: {e}; enforcing the lists this node has, retrying",
                        settings.display
                    ));
                }
            }
        }
        let deadline = Instant::now() + Duration::from_millis(backoff.next_ms());
        while Instant::now() < deadline && !node.must_stop() {
            std::thread::sleep(Duration::from_millis(PASS_MS));
        }
    }
}

const ORD: std::sync::atomic::Ordering = std::sync::atomic::Ordering::Relaxed;

struct Node<'a> {
    shared: &'a Shared,
    settings: &'a Settings,
    names: Names,
    script: Script,
    v6_prefix: u8,
    generation: u64,
    env: &'a dyn Env,
    instance: u64,
    /// The journal slot last found still being written, and since when.
    busy: std::cell::Cell<Option<(u64, Instant)>>,
}

fn now_s() -> u32 {
    (stamp::now_ms() / 1000).min(u64::from(u32::MAX)) as u32
}

impl Node<'_> {
    fn owner(&self) -> bool {
        self.shared.journal().stats.generation.load(ORD) == self.generation
    }

    fn must_stop(&self) -> bool {
        self.env.stopping() || !self.owner()
    }

    fn connect(&self) -> redis::RedisResult<Connection> {
        let client = redis::Client::open(self.settings.info.clone())?;
        let con = client.get_connection_with_timeout(CONNECT_TIMEOUT)?;
        con.set_write_timeout(Some(COMMAND_TIMEOUT))?;
        con.set_read_timeout(Some(COMMAND_TIMEOUT))?;
        Ok(con)
    }

    fn session(&mut self, backoff: &mut Backoff, outage: &mut bool) -> redis::RedisResult<()> {
        let journal = self.shared.journal();
        let st = &journal.stats;
        let mut cmd = self.connect()?;
        let mut sub_con = self.connect()?;
        self.script.load(&mut cmd)?;
        let mut sub = sub_con.as_pubsub();
        sub.subscribe(self.names.channel())?;
        sub.set_read_timeout(Some(Duration::from_millis(PASS_MS)))?;
        // From here every new change goes out through the journal; the
        // comparison below covers everything before.
        let mut cursor = journal.skip_all();
        let (loaded, wrote) = self.reconcile(&mut cmd)?;
        st.connected.store(1, ORD);
        st.last_success_ms.store(stamp::now_ms(), ORD);
        backoff.reset();
        self.env.notice(&format!(
            "api_abuse: sync with {} {}: {loaded} entries loaded, {wrote} written, node \"{}\"",
            self.settings.display,
            if *outage { "restored" } else { "connected" },
            self.settings.node
        ));
        *outage = false;
        let mut last_ping = Instant::now();
        let mut last_sweep = Instant::now();
        loop {
            if last_sweep.elapsed() >= TOMBSTONE_SWEEP {
                last_sweep = Instant::now();
                let keep_ms = TOMBSTONE_KEEP.as_millis() as u64;
                self.shared
                    .forget_tombstones(stamp::now_ms().saturating_sub(keep_ms));
            }
            if self.must_stop() {
                return Ok(());
            }
            let (changes, next, lost) = self.drain(cursor);
            if lost {
                st.resyncs.fetch_add(1, ORD);
                cursor = journal.skip_all();
                self.reconcile(&mut cmd)?;
            } else if !changes.is_empty() {
                self.send(&mut cmd, &changes)?;
                cursor = next;
                journal.advance(cursor);
                st.sent.fetch_add(changes.len() as u64, ORD);
                st.last_success_ms.store(stamp::now_ms(), ORD);
                last_ping = Instant::now();
            } else if last_ping.elapsed() >= Duration::from_millis(PING_MS) {
                redis::cmd("PING").query::<String>(&mut cmd)?;
                st.last_success_ms.store(stamp::now_ms(), ORD);
                last_ping = Instant::now();
            }
            // The channel: wait up to one pass for the first message, then
            // take what has already arrived.
            for _ in 0..BATCH {
                match sub.get_message() {
                    Ok(msg) => self.receive(msg.get_payload_bytes()),
                    Err(e) if e.is_timeout() => break,
                    Err(e) => return Err(e),
                }
            }
        }
    }

    /// Up to [`BATCH`] journalled changes from `cursor`; the cursor after
    /// them; whether changes were lost.
    fn drain(&self, cursor: u64) -> (Vec<Change>, u64, bool) {
        let journal = self.shared.journal();
        let mut out = Vec::new();
        let mut at = cursor;
        while out.len() < BATCH {
            match journal.peek(at) {
                Read::Change(c) => {
                    out.push(c);
                    at += 1;
                }
                Read::Empty => break,
                Read::Busy => {
                    // A writer holds the slot for a few instructions; one
                    // that died there would stall the journal for good.
                    let now = Instant::now();
                    match self.busy.get() {
                        Some((seq, since)) if seq == at => {
                            if now.duration_since(since) > BUSY_GIVE_UP {
                                self.busy.set(None);
                                return (Vec::new(), at, true);
                            }
                        }
                        _ => self.busy.set(Some((at, now))),
                    }
                    break;
                }
                Read::Lost => return (Vec::new(), at, true),
            }
        }
        (out, at, false)
    }

    /// Writes changes through the script in one pipeline.
    fn send(&self, cmd: &mut Connection, changes: &[Change]) -> redis::RedisResult<usize> {
        let now = stamp::now_ms();
        let channel = self.names.channel();
        let mut pipe = redis::pipe();
        let mut n = 0;
        for c in changes {
            let w = WireEntry::from_record(c.key, &c.rec, &self.settings.node, self.instance);
            let Some(ttl) = w.ttl_ms(now) else { continue };
            pipe.cmd("EVALSHA")
                .arg(self.script.get_hash())
                .arg(1)
                .arg(self.names.entry_key(w.addr))
                .arg(w.stamp)
                .arg(w.encode())
                .arg(ttl)
                .arg(&channel);
            n += 1;
        }
        if n == 0 {
            return Ok(0);
        }
        let applied: Vec<i64> = pipe.query(cmd)?;
        Ok(applied.iter().filter(|v| **v == 1).count())
    }

    /// Applies one entry from Redis; returns its key if it decoded.
    fn apply(&self, text: &[u8], live: bool) -> Option<(ClientKey, u64)> {
        let st = &self.shared.journal().stats;
        let w = match WireEntry::decode(text) {
            Ok(w) => w,
            Err(_) => {
                st.errors.fetch_add(1, ORD);
                return None;
            }
        };
        let Ok((key, rec)) = w.to_record(self.v6_prefix) else {
            st.errors.fetch_add(1, ORD);
            return None;
        };
        if live && w.instance == self.instance {
            return Some((key, rec.stamp));
        }
        if self.shared.apply_remote(key, now_s(), rec) {
            st.received.fetch_add(1, ORD);
            if live {
                st.lag_ms.store(
                    stamp::now_ms().saturating_sub(stamp::millis(rec.stamp)),
                    ORD,
                );
            }
        } else {
            st.stale.fetch_add(1, ORD);
        }
        Some((key, rec.stamp))
    }

    fn receive(&self, payload: &[u8]) {
        self.apply(payload, true);
        self.shared
            .journal()
            .stats
            .last_success_ms
            .store(stamp::now_ms(), ORD);
    }

    /// Loads every entry from Redis into the zone, then writes back the
    /// local entries Redis lacks or holds older. Returns (loaded, written).
    fn reconcile(&self, cmd: &mut Connection) -> redis::RedisResult<(u64, usize)> {
        let started = Instant::now();
        let mut seen: HashMap<ClientKey, u64> = HashMap::new();
        let mut scan: u64 = 0;
        let pattern = self.names.entry_pattern();
        let mut loaded = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(scan)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(BATCH)
                .query(cmd)?;
            if !keys.is_empty() {
                let values: Vec<Option<Vec<u8>>> = cmd.mget(&keys)?;
                for v in values.iter().flatten() {
                    if let Some((key, stamp)) = self.apply(v, false) {
                        loaded += 1;
                        let s = seen.entry(key).or_insert(0);
                        *s = (*s).max(stamp);
                    }
                }
            }
            if self.must_stop() {
                return Ok((loaded, 0));
            }
            scan = next;
            if scan == 0 {
                break;
            }
        }
        let st = &self.shared.journal().stats;
        st.loaded.store(loaded, ORD);
        st.load_ms.store(started.elapsed().as_millis() as u64, ORD);
        let mut out: Vec<Change> = Vec::new();
        self.shared.lists.for_each(|key, _, rec: &ListRecord| {
            if rec.stamp != 0 && seen.get(&key).is_none_or(|s| *s < rec.stamp) {
                out.push(Change { key, rec: *rec });
            }
        });
        let mut wrote = 0;
        for chunk in out.chunks(BATCH) {
            wrote += self.send(cmd, chunk)?;
        }
        st.sent.fetch_add(wrote as u64, ORD);
        Ok((loaded, wrote))
    }
}
