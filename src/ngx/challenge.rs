//! Challenge glue: the PREACCESS branch for a client whose run-time entry is
//! `challenge` (see `crate::challenge`). A valid pass cookie lets the request
//! go on; otherwise the client gets the page or the JSON error, is counted,
//! and is escalated to its profile's list after `challenge_failures`.

use std::sync::atomic::Ordering::Relaxed;

use ngx::ffi::{
    ngx_http_discard_request_body, ngx_http_finalize_request, ngx_http_request_t, ngx_int_t,
    ngx_list_part_t, ngx_list_push, ngx_pnalloc, ngx_table_elt_t, NGX_DONE,
    NGX_HTTP_SPECIAL_RESPONSE,
};

use super::conf::Mode;
use super::events::write as write_event;
use super::handlers::{Action, Ctx, Phase};
use super::util::{add_header, bytes, send};
use crate::challenge::{self, page, token, Counter, Event, Verdict};
use crate::config::{Lifetime, Reaction};
use crate::engine::{list_kind, rfc3339};
use crate::shared::{ListRecord, Listed, Shared, ORIGIN_DETECTION};
use crate::table::ClientKey;

/// The status of the page (a browser shows it; nothing caches it).
pub const PAGE_STATUS: u16 = 403;
/// The status of the JSON error, with `Retry-After`.
pub const JSON_STATUS: u16 = 429;

/// What the handler does with a challenged client's request: `None`, go on
/// (a valid cookie, monitor mode, or escalated to the graylist); `Some(rc)`,
/// return `rc` (answered, or refused after escalating to the denylist).
///
/// `entry` is the client's run-time list entry.
///
/// # Safety
/// `phase.r` must be a live request whose headers have not been sent.
pub unsafe fn preaccess(
    phase: &Phase<'_>,
    ctx: &mut Ctx,
    entry: ListRecord,
    now_ms: u64,
) -> Option<ngx_int_t> {
    let Phase {
        r,
        shared,
        mcf,
        lcf,
        profiles,
        key,
        addr,
    } = *phase;
    let now_s = now_ms / 1000;
    let app = lcf.app();
    let profile = profiles.and_then(|p| p.profile_for(app));
    let settings = profile.map_or_else(challenge::Settings::default, |p| p.challenge);
    let zone = shared.challenge();
    let zone_key = zone.key();
    let name = cookie_name(&zone_key);
    // SAFETY: the caller passes a live request; its headers and method
    // live as long as it does.
    let (ua, method, (accept, cookie)) = unsafe {
        let req = &*r;
        let ua = req
            .headers_in
            .user_agent
            .as_ref()
            .map_or(&[][..], |h| bytes(&h.value));
        (ua, bytes(&req.method_name), scan(r, &name))
    };
    // Formats into nginx's stack buffer once the level is known to be
    // logged: a challenge served allocates nothing for its log line.
    let log = |level: ngx::ffi::ngx_uint_t, args: std::fmt::Arguments<'_>| {
        // SAFETY: as above, the live request and its connection's log.
        let l = unsafe { (*(*r).connection).log };
        if !l.is_null() {
            ngx::ngx_log_error!(level, l, "{}", args);
        }
    };
    let verdict = cookie.map(|c| token::verify(&zone_key, key, ua, c, now_s, settings.work));
    let event = |what: &'static str, failures: u32, listed: Option<(&'static str, String)>| {
        let app = String::from_utf8_lossy(app);
        let e = Event {
            time: rfc3339(now_s),
            event: what,
            client: addr.to_string(),
            application: &app,
            profile: profile.map(|p| p.name.as_str()),
            bot_type: entry.bot().map(|b| b.as_str()),
            confidence: entry.confidence,
            failures,
            list: listed.as_ref().map(|l| l.0),
            expires: listed.map(|l| l.1),
        };
        let line = e.line();
        write_event(mcf, &line);
        shared.events().push(line.as_bytes());
    };

    if let Some(Verdict::Valid(_)) = verdict {
        let after = shared.challenge_failures().pass(key);
        if after > 0 {
            zone.count(Counter::Passed);
            event("challenge_passed", after, None);
            log(
                lcf.log_level + 1,
                format_args!("api_abuse: client {addr} passed the challenge ({after} served)"),
            );
        }
        return None;
    }
    if verdict.is_some() {
        zone.count(Counter::Invalid);
    }
    let why = match verdict {
        None => "no pass cookie",
        Some(Verdict::Expired) => "pass cookie expired",
        Some(Verdict::Forged) => "pass cookie not valid for this client",
        Some(Verdict::NoWork) => "pass cookie without the work",
        Some(Verdict::Malformed) => "pass cookie malformed",
        Some(Verdict::Valid(_)) => "",
    };
    if lcf.mode == Mode::Monitor {
        ctx.action = Action::Monitor;
        shared.stats().monitored.fetch_add(1, Relaxed);
        shared.count_refusal(true, now_s);
        log(
            lcf.log_level + 1,
            format_args!("api_abuse: client {addr} would be challenged ({why}, monitor mode)"),
        );
        return None;
    }

    let failures = shared.challenge_failures().fail(key, now_s);
    if failures == 1 {
        event("challenge_issued", failures, None);
    }
    if failures >= settings.failures {
        shared.challenge_failures().pass(key);
        zone.count(Counter::Escalated);
        let escalated = escalate(shared, key, entry, settings.escalate, profile, now_s);
        let (list, expires, summary) = match escalated {
            Some(expires) => {
                let until = match expires {
                    0 => "forever".to_string(),
                    t => rfc3339(u64::from(t)),
                };
                let list = list_kind(settings.escalate).map_or("", |k| k.as_str());
                (list, until.clone(), format!("{list}listed until {until}"))
            }
            None => ("", String::new(), "not listed: table full".to_string()),
        };
        event(
            "challenge_escalated",
            failures,
            (!list.is_empty()).then_some((list, expires)),
        );
        log(
            lcf.log_level,
            format_args!(
                "api_abuse: client {addr} escalated after {failures} challenges without a valid \
                 cookie, {}",
                summary
            ),
        );
        if escalated.is_some() && settings.escalate == Reaction::Denylist {
            ctx.action = Action::Block;
            shared.stats().blocked_deny.fetch_add(1, Relaxed);
            shared.count_refusal(false, now_s);
            return Some(lcf.status as ngx_int_t);
        }
        if escalated.is_some() {
            // graylisted: refused only for attack signs, checked already
            return None;
        }
    }

    ctx.action = Action::Challenge;
    zone.count(Counter::Issued);
    let html = challenge::wants_page(method, accept);
    log(
        lcf.log_level + 1,
        format_args!(
            "api_abuse: client {addr} challenged ({why}, {} {failures} of {})",
            if html { "page" } else { "JSON error" },
            settings.failures
        ),
    );
    // SAFETY: the live request, its headers not sent yet; the responses
    // are sent once, then the request is finalized once.
    unsafe {
        if ngx_http_discard_request_body(r) != 0 {
            return Some(ngx::ffi::NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t);
        }
        let rc = if html {
            respond_page(r, &zone_key, &name, key, ua, &settings, now_s)
        } else {
            respond_json(r, challenge::retry_after(entry.expires, now_s))
        };
        if rc >= NGX_HTTP_SPECIAL_RESPONSE as ngx_int_t {
            return Some(rc);
        }
        ngx_http_finalize_request(r, rc);
    }
    Some(NGX_DONE as ngx_int_t)
}

/// Lists the client on the escalation list; its expiry (0 = forever), or
/// `None` when there was no room.
fn escalate(
    shared: &Shared,
    key: ClientKey,
    entry: ListRecord,
    to: Reaction,
    profile: Option<&crate::config::Profile>,
    now_s: u64,
) -> Option<u32> {
    let kind = list_kind(to)?;
    let duration = profile.map_or_else(Lifetime::default, |p| p.duration);
    let expires = duration.secs().map_or(0, |s| {
        now_s.saturating_add(s).min(u64::from(u32::MAX)) as u32
    });
    let rec = ListRecord {
        kind: kind as u8,
        origin: ORIGIN_DETECTION,
        bot_type: entry.bot_type,
        confidence: entry.confidence,
        offences: 0,
        created: now_s.min(u64::from(u32::MAX)) as u32,
        expires,
        stamp: 0,
    };
    match shared.list_detected(key, now_s as u32, rec) {
        Listed::Client => Some(expires),
        Listed::Range(_, e) => Some(e.expires),
        Listed::Full => None,
    }
}

/// `api_abuse_pass_<key id>`.
fn cookie_name(key: &challenge::Key) -> [u8; challenge::COOKIE_NAME_LEN] {
    let mut name = [0u8; challenge::COOKIE_NAME_LEN];
    let p = challenge::COOKIE_PREFIX.len();
    name[..p].copy_from_slice(challenge::COOKIE_PREFIX);
    name[p..].copy_from_slice(&token::key_id(key));
    name
}

/// The `Accept` header and the value of the pass cookie, in one pass over
/// the request headers (every `Cookie` header: HTTP/2 sends several).
///
/// # Safety
/// `r` must be a live request; the slices live as long as it does.
unsafe fn scan<'a>(
    r: *mut ngx_http_request_t,
    name: &[u8],
) -> (Option<&'a [u8]>, Option<&'a [u8]>) {
    let (mut accept, mut cookie) = (None, None);
    // SAFETY: the header list of a live request: parts chained by `next`,
    // each with `nelts` elements, keys and values valid for the request.
    unsafe {
        let mut part: *const ngx_list_part_t = &(*r).headers_in.headers.part;
        while !part.is_null() {
            let elts = (*part).elts as *const ngx_table_elt_t;
            for i in 0..(*part).nelts {
                let h = &*elts.add(i);
                if h.lowcase_key.is_null() || h.value.data.is_null() {
                    continue;
                }
                let key = std::slice::from_raw_parts(h.lowcase_key, h.key.len);
                let value: &'a [u8] = std::slice::from_raw_parts(h.value.data, h.value.len);
                match key {
                    b"accept" => accept = Some(value),
                    b"cookie" if cookie.is_none() => cookie = challenge::cookie_value(value, name),
                    _ => {}
                }
            }
            part = (*part).next;
        }
    }
    (accept, cookie)
}

/// # Safety
/// `r` must be a live request whose headers have not been sent.
unsafe fn respond_page(
    r: *mut ngx_http_request_t,
    key: &challenge::Key,
    name: &[u8],
    client: ClientKey,
    ua: &[u8],
    settings: &challenge::Settings,
    now_s: u64,
) -> ngx_int_t {
    let expires = now_s + u64::from(settings.lifetime_s);
    let t = token::mint(key, client, ua, expires);
    let mut body = [0u8; page::PAGE_MAX];
    let Some(n) = page::page(&mut body, name, &t, settings.work, settings.lifetime_s) else {
        return ngx::ffi::NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };
    // SAFETY: the caller's live request, headers not sent.
    unsafe {
        if add_header(r, "Cache-Control", "no-store").is_none()
            || add_header(r, "Content-Security-Policy", page::CSP).is_none()
            || add_header(r, "X-Content-Type-Options", "nosniff").is_none()
            || add_header(r, "Referrer-Policy", "no-referrer").is_none()
        {
            return ngx::ffi::NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
        }
        send(r, PAGE_STATUS, "text/html; charset=utf-8", &body[..n])
    }
}

/// # Safety
/// `r` must be a live request whose headers have not been sent.
unsafe fn respond_json(r: *mut ngx_http_request_t, retry_after: u64) -> ngx_int_t {
    let mut body = [0u8; page::JSON_MAX];
    let Some(n) = page::json(&mut body, retry_after) else {
        return ngx::ffi::NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };
    let mut digits = [0u8; 20];
    let len = {
        use std::io::Write;
        let mut w = &mut digits[..];
        let _ = write!(w, "{retry_after}");
        20 - w.len()
    };
    // SAFETY: the caller's live request, headers not sent.
    unsafe {
        if add_header(r, "Cache-Control", "no-store").is_none()
            || pool_header(r, "Retry-After", &digits[..len]).is_none()
        {
            return ngx::ffi::NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
        }
        send(r, JSON_STATUS, "application/json", &body[..n])
    }
}

/// Adds a response header whose value is copied into the request's pool.
///
/// # Safety
/// `r` must be a live request whose headers have not been sent.
unsafe fn pool_header(r: *mut ngx_http_request_t, name: &'static str, value: &[u8]) -> Option<()> {
    // SAFETY: the live request's pool and header list; the copy has room
    // for `value`; the new element is zeroed first (nginx 1.23+ has a `next`
    // link that must be null) and lives as long as the request.
    unsafe {
        let data = ngx_pnalloc((*r).pool, value.len().max(1)).cast::<u8>();
        if data.is_null() {
            return None;
        }
        std::ptr::copy_nonoverlapping(value.as_ptr(), data, value.len());
        let h = ngx_list_push(&mut (*r).headers_out.headers).cast::<ngx_table_elt_t>();
        if h.is_null() {
            return None;
        }
        std::ptr::write_bytes(h, 0, 1);
        let h = &mut *h;
        h.hash = 1;
        h.key.len = name.len();
        h.key.data = name.as_ptr().cast_mut();
        h.value.len = value.len();
        h.value.data = data;
    }
    Some(())
}
