//! Campaign glue: the PREACCESS check and the LOG-phase feed of
//! `crate::campaign::react`, with the request's fields taken from nginx.

use std::sync::atomic::Ordering::Relaxed;

use ngx::ffi::ngx_int_t;

use super::conf::{MainConf, Mode};
use super::events::write as write_event;
use super::handlers::{log_request, Action, Ctx, Phase};
use super::util::{bytes, now_ms};
use crate::campaign::react;
use crate::campaign::Prior;
use crate::engine::Context;
use crate::shared::Shared;
use crate::table::ClientKey;

/// The status to refuse the request with, when it matches an active
/// campaign of its application and the profile refuses.
///
/// `graylisted`: the client is gray- or challenge-listed already.
///
/// # Safety
/// `phase.r` must be a live request.
pub unsafe fn preaccess(phase: &Phase<'_>, ctx: &mut Ctx, graylisted: bool) -> Option<ngx_int_t> {
    let Phase {
        r,
        shared,
        mcf,
        lcf,
        profiles,
        key,
        addr,
    } = *phase;
    let app = lcf.app();
    let profile = profiles?.profile_for(app)?;
    // SAFETY: the caller passes a live request.
    let req = unsafe { &*r };
    let monitor = lcf.mode == Mode::Monitor;
    let fingerprint = ctx.fingerprint.finish();
    let cx = Context {
        shared,
        profile,
        app,
        key,
        client: addr,
        monitor,
        now_ms: now_ms(),
    };
    let hit = react::check(
        &cx,
        &fingerprint,
        (bytes(&req.method_name), bytes(&req.uri)),
        || {
            // SAFETY: r is the live request of this handler.
            let (endpoint, sensitive) = unsafe { super::extract::endpoint(r, ctx, profile) };
            react::Target {
                sensitive,
                asset: endpoint.asset,
            }
        },
        graylisted,
    )?;
    ctx.bot = Some(hit.bot);
    ctx.confidence = 100;
    let now_s = now_ms() / 1000;
    if let Some((line, summary)) = &hit.event {
        publish(shared, mcf, line, now_s);
        // SAFETY: a live request (its connection's log).
        unsafe { log_request(r, lcf.log_level, summary) };
    }
    if monitor {
        ctx.action = Action::Monitor;
        shared.stats().monitored.fetch_add(1, Relaxed);
        shared.count_refusal(true, now_s);
        return None;
    }
    if hit.challenge {
        let now = now_s.min(u64::from(u32::MAX)) as u32;
        if let Some(entry) = shared
            .listed(key, now)
            .filter(|e| e.kind() == Some(crate::shared::ListKind::Challenge))
        {
            // SAFETY: the caller's live request, its headers not sent.
            return unsafe { super::challenge::preaccess(phase, ctx, entry, now_s * 1000) };
        }
    }
    if !hit.refuse {
        return None;
    }
    ctx.action = Action::Block;
    shared.stats().blocked_deny.fetch_add(1, Relaxed);
    shared.count_refusal(false, now_s);
    // SAFETY: as above.
    unsafe {
        log_request(
            r,
            lcf.log_level + 1,
            &format!("api_abuse: client {addr} blocked (campaign)"),
        )
    };
    Some(lcf.status as ngx_int_t)
}

/// What the client did before this request: read before the request is
/// observed.
pub fn before(shared: &Shared, key: ClientKey, now_ms: u64) -> (bool, Prior) {
    shared
        .clients
        .get(key, |s| (true, react::prior_of(Some(s), now_ms)))
        .unwrap_or((false, Prior::Nothing))
}

/// [`before`] for an internal redirect, whose request the client's record
/// counted already (its context, with what [`before`] said, is gone).
pub fn before_redirect(shared: &Shared, key: ClientKey, now_ms: u64) -> (bool, Prior) {
    shared
        .clients
        .get(key, |s| {
            if s.requests() <= 1 {
                // this request was the client's first
                (false, Prior::Nothing)
            } else {
                (true, react::prior_of(Some(s), now_ms))
            }
        })
        .unwrap_or((false, Prior::Nothing))
}

/// Counts a finished request towards its application's campaign rates
/// (`profile`: the one that covers it; `counted`: what it counts towards,
/// see [`react::counts`]).
///
/// # Safety
/// `phase.r` must be a live request.
pub unsafe fn log(
    phase: &Phase<'_>,
    profile: &crate::config::Profile,
    ctx: &Ctx,
    counted: react::Counted,
) {
    let Phase {
        r,
        shared,
        mcf,
        lcf,
        key,
        addr,
        ..
    } = *phase;
    let cx = Context {
        shared,
        profile,
        app: lcf.app(),
        key,
        client: addr,
        monitor: lcf.mode == Mode::Monitor,
        now_ms: now_ms(),
    };
    if let Some((line, summary)) = react::feed(&cx, || ctx.fingerprint.finish(), counted) {
        publish(shared, mcf, &line, now_ms() / 1000);
        // SAFETY: a live request (its connection's log).
        unsafe { log_request(r, lcf.log_level, &summary) };
    }
}

/// An event line to the events file, the console's recent events and the
/// hourly detection counter.
fn publish(shared: &Shared, mcf: &MainConf, line: &str, now_s: u64) {
    write_event(mcf, line);
    shared.events().push(line.as_bytes());
    shared
        .timeline()
        .count(crate::timeline::HourCounter::Detection, now_s);
}
