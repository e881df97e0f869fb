//! Phase handlers. PREACCESS decides access from the lists, exceptions and
//! attack signs; LOG (status known) feeds the client's detector state and
//! applies the profile's reaction, which takes effect on the client's next
//! request in every worker.

use ngx::core::Status;
use ngx::ffi::{
    ngx_array_push, ngx_conf_t, ngx_http_core_run_phases, ngx_http_finalize_request,
    ngx_http_get_indexed_variable, ngx_http_handler_pt, ngx_http_phases_NGX_HTTP_LOG_PHASE,
    ngx_http_phases_NGX_HTTP_PREACCESS_PHASE, ngx_http_read_client_request_body,
    ngx_http_request_t, ngx_int_t, ngx_uint_t, NGX_DECLINED, NGX_DONE, NGX_HTTP_SPECIAL_RESPONSE,
};
use ngx::http::{HttpModule, HttpModuleLocationConf, HttpModuleMainConf, NgxHttpCoreModule};

use super::conf::{LocConf, MainConf, Mode};
use super::util::{bytes, client_addr, for_each_header, lowcase_key, now_ms};
use super::{worker, zone, Module};
use crate::access::{self, ListTag};
use crate::model::{AttackClass, BotType};
use crate::request::RequestView;
use crate::signatures;
use crate::signatures::cache::{inspect_all_cached_for, ScanCache};
use crate::table::client_key;

/// What the module decided for a request; read by the variables.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ctx {
    pub action: Action,
    pub list: ListTag,
    pub bot: Option<BotType>,
    pub confidence: u8,
    pub attack: Option<AttackClass>,
    pub headers: u16,
    pub header_count: u16,
    pub body: BodyRead,
    /// The request-only fingerprint campaigns are grouped by, its
    /// `Accept*` values hashed only when asked (`finish`). The values are
    /// the request's headers (`'static` stands for the request's life: the
    /// context lives in the request's pool, as the headers do).
    pub fingerprint: crate::request::names::FingerprintParts<'static>,
    /// The endpoint, once PREACCESS or LOG computed it (`super::extract`).
    pub endpoint: Option<super::extract::Memo>,
    /// Hash of `headers_in.user_agent`'s value when the fingerprint hashed
    /// that very header whole (it is at most `MAX_USER_AGENT` bytes).
    pub ua_hash: Option<u32>,
    /// Detection saw the request start; what its answer adds (LOG).
    pub answer: Option<crate::detect::facts::Answer>,
    /// What the client had done before this request (campaigns' feed).
    pub before: Option<(bool, crate::campaign::Prior)>,
    /// The client's place in the zone's client table, computed once for
    /// the request's start and end.
    pub place: crate::table::Place,
}

// The context is allocated from the request's pool, which aligns to
// NGX_ALIGNMENT (a machine word): nothing in it may need more.
const _: () = assert!(std::mem::align_of::<Ctx>() <= std::mem::size_of::<usize>());

/// Where the module is with reading the body (`api_abuse_inspect_body on`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BodyRead {
    #[default]
    NotAsked,
    Reading,
    Done,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Action {
    #[default]
    None,
    Pass,
    Block,
    /// Would have been blocked; `api_abuse monitor` let it through.
    Monitor,
    Exception,
    Allow,
    /// Answered with the challenge (page or JSON error).
    Challenge,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::None => "",
            Action::Pass => "pass",
            Action::Block => "block",
            Action::Monitor => "monitor",
            Action::Exception => "exception",
            Action::Allow => "allow",
            Action::Challenge => "challenge",
        }
    }
}

pub fn register(cf: *mut ngx_conf_t) -> Status {
    // The signatures' one automaton is built here, in the master, so the
    // workers share its pages from the fork instead of each building it.
    crate::signatures::prepare();
    // SAFETY: cf is valid in postconfiguration.
    let Some(cmcf) = NgxHttpCoreModule::main_conf_mut(unsafe { &*cf }) else {
        return Status::NGX_ERROR;
    };
    let pre = &mut cmcf.phases[ngx_http_phases_NGX_HTTP_PREACCESS_PHASE as usize].handlers;
    // SAFETY: the handlers array holds ngx_http_handler_pt; nginx runs a
    // phase's handlers from the last to the first, so putting ours first makes
    // it run after realip's PREACCESS handler (location-level
    // set_real_ip_from) and sees the real client address.
    unsafe {
        let slot = ngx_array_push(pre) as *mut ngx_http_handler_pt;
        if slot.is_null() {
            return Status::NGX_ERROR;
        }
        let elts = pre.elts as *mut ngx_http_handler_pt;
        let n = pre.nelts;
        std::ptr::copy(elts, elts.add(1), n - 1);
        *elts = Some(preaccess_handler);

        let log = &mut cmcf.phases[ngx_http_phases_NGX_HTTP_LOG_PHASE as usize].handlers;
        let slot = ngx_array_push(log) as *mut ngx_http_handler_pt;
        if slot.is_null() {
            return Status::NGX_ERROR;
        }
        *slot = Some(log_handler);
    }
    Status::NGX_OK
}

/// The request's context, if PREACCESS ran for it.
///
/// # Safety
/// `r` must be a live request.
pub unsafe fn ctx_of<'a>(r: *const ngx_http_request_t) -> Option<&'a Ctx> {
    let idx = Module::module().ctx_index;
    // SAFETY: a live request's `ctx` has a slot per HTTP module, indexed by
    // `ctx_index`; ours is null or the Ctx `ctx_mut` put there, in the
    // request's pool.
    unsafe { (*(*r).ctx.add(idx)).cast::<Ctx>().as_ref() }
}

/// The request's context, made on first use.
///
/// # Safety
/// `r` must be a live request, and no other reference to its Ctx alive.
unsafe fn ctx_mut<'a>(r: *mut ngx_http_request_t) -> Option<&'a mut Ctx> {
    let idx = Module::module().ctx_index;
    // SAFETY: as in `ctx_of`; the new Ctx is allocated from the request's
    // pool (aligned to NGX_ALIGNMENT, see the assertion on `Ctx`), so it
    // lives as long as the request, and is written whole before its address
    // is published (not zeroed first: `write` sets every byte it reads).
    unsafe {
        let slot = (*r).ctx.add(idx);
        if (*slot).is_null() {
            let p = ngx::ffi::ngx_palloc((*r).pool, std::mem::size_of::<Ctx>()).cast::<Ctx>();
            if p.is_null() {
                return None;
            }
            p.write(Ctx::default());
            *slot = p.cast();
        }
        (*slot).cast::<Ctx>().as_mut()
    }
}

struct Confs {
    mcf: &'static MainConf,
    lcf: &'static LocConf,
}

/// One request in a phase handler, with what the handler's stages (the
/// challenge, the campaign check, detection, the campaign feed) read: the
/// request, the zone, the confs, this worker's profiles and the client.
/// Made once per handler run; the request's [`Ctx`] goes beside it, as
/// the stages write it.
#[derive(Clone, Copy)]
pub struct Phase<'a> {
    /// The live request the handler runs for (every stage taking a
    /// `Phase` is `unsafe` for it).
    pub r: *mut ngx_http_request_t,
    pub shared: &'a crate::shared::Shared,
    pub mcf: &'a MainConf,
    pub lcf: &'a LocConf,
    /// `None`: no profiles loaded.
    pub profiles: Option<&'a crate::config::Profiles>,
    /// The client's key in the zone's tables.
    pub key: crate::table::ClientKey,
    pub addr: std::net::IpAddr,
}

/// The module's confs for a request, `None` where the module is off.
///
/// # Safety
/// `r` must be a live request.
unsafe fn confs(r: *mut ngx_http_request_t) -> Option<Confs> {
    // SAFETY: the caller's live request.
    let req = unsafe { &*r };
    let lcf = Module::location_conf(req)?;
    if lcf.mode == Mode::Off || lcf.mode == Mode::Unset {
        return None;
    }
    let mcf = Module::main_conf(req)?;
    Some(Confs { mcf, lcf })
}

extern "C" fn preaccess_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    std::panic::catch_unwind(|| {
        // SAFETY: nginx passes a live request.
        unsafe { preaccess(r) }
    })
    .unwrap_or_else(|_| {
        // SAFETY: as above.
        unsafe { request_panicked(r, "PREACCESS") };
        NGX_DECLINED as ngx_int_t
    })
}

/// A panic caught in a request handler (a bug in the module, never an
/// expected path): the request goes on without the module (nginx serves
/// it as if the module were not there: a module bug must not take the
/// site down), the panic is counted in `api_abuse_request_panics_total`,
/// and an `[alert]` says so for the 1st, 2nd, 4th, 8th... of the zone (the
/// panic's own message, from Rust's hook, is on the line before it: nginx
/// points a worker's stderr at the error log).
///
/// # Safety
/// `r` must be a live request.
#[cold]
#[inline(never)]
unsafe fn request_panicked(r: *mut ngx_http_request_t, phase: &str) {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: the caller's live request.
        let Some(Confs { mcf, .. }) = (unsafe { confs(r) }) else {
            return;
        };
        let Some(shared) = zone::shared(mcf) else {
            return;
        };
        let n = shared.count_panic();
        if n.is_power_of_two() {
            // SAFETY: as above.
            unsafe {
                log_request(
                    r,
                    ngx::ffi::NGX_LOG_ALERT as ngx_uint_t,
                    &format!(
                        "api_abuse: a panic in the {phase} handler was caught, the request was \
                         served without the module ({n} so far in this zone, \
                         api_abuse_request_panics_total; please report it with the line above)"
                    ),
                )
            };
        }
    });
}

/// # Safety
/// `r` must be the live request nginx runs the PREACCESS phase for.
///
/// Every `unsafe` block below relies on that alone: the request, its
/// connection, pool, headers and module contexts are valid until nginx
/// finalises it, which cannot happen while this handler runs.
unsafe fn preaccess(r: *mut ngx_http_request_t) -> ngx_int_t {
    let declined = NGX_DECLINED as ngx_int_t;
    // SAFETY: see above.
    if unsafe { (*r).main } != r {
        return declined;
    }
    // SAFETY: see above.
    let Some(Confs { mcf, lcf }) = (unsafe { confs(r) }) else {
        return declined;
    };
    let Some(shared) = zone::shared(mcf) else {
        return declined;
    };
    // SAFETY: see above.
    let Some(addr) = (unsafe { client_addr(r) }) else {
        return declined;
    };
    // SAFETY: see above; the only reference to the Ctx in this handler.
    let Some(ctx) = (unsafe { ctx_mut(r) }) else {
        return declined;
    };
    #[cfg(debug_assertions)]
    // SAFETY: see above.
    unsafe {
        test_panic(r)
    };

    // Read the body first where the location asks for it. nginx reads it
    // asynchronously and runs the phases again from this handler when done.
    // SAFETY: see above.
    if lcf.inspect_body == 1 && ctx.body == BodyRead::NotAsked && unsafe { has_body(r) } {
        ctx.body = BodyRead::Reading;
        // SAFETY: see above; `body_read` resumes the phases when nginx has
        // read the body, and the finalize balances the count the read takes.
        unsafe {
            let rc = ngx_http_read_client_request_body(r, Some(body_read));
            if rc >= NGX_HTTP_SPECIAL_RESPONSE as ngx_int_t {
                return rc;
            }
            ngx_http_finalize_request(r, NGX_DONE as ngx_int_t);
        }
        return NGX_DONE as ngx_int_t;
    }
    if ctx.body == BodyRead::Reading {
        // Re-entered before the body handler ran: keep waiting.
        return NGX_DONE as ngx_int_t;
    }

    // The client's record is a memory miss in a zone larger than the CPU's
    // caches, and detection comes to it last: its bucket is asked for now
    // and its record after the header walk, so the lines arrive while the
    // headers and signatures are worked on (measured in benches/table.rs,
    // `upsert-begin-random-prefetched`).
    let key = client_key(addr, mcf.v6_prefix());
    ctx.place = shared.clients.place(key);
    shared.clients.prefetch_bucket(&ctx.place);

    // SAFETY: see above.
    let (pass, internal) = unsafe { (FirstPass::key(r), (*r).internal() != 0) };
    match FirstPass::of(internal, pass) {
        // Run again after an internal redirect (index, try_files,
        // error_page): nginx cleared the context, but the headers, the
        // client's target and the body it read are the first pass's.
        Some(first) => first.restore(ctx),
        None => {
            let mut scan = HeaderScan::new();
            // SAFETY: see above.
            unsafe { scan_headers(r, &mut scan) };
            shared.clients.prefetch_record(&ctx.place);
            ctx.headers = scan.bits;
            ctx.header_count = scan.count;
            ctx.fingerprint = scan.fp;
            ctx.ua_hash = scan.ua_is_headers_in.then_some(scan.fp.user_agent());
            // SAFETY: see above.
            ctx.attack = unsafe { inspect(r, &scan, addr) };
            if let Some(a) = ctx.attack {
                shared.count_attack(a);
            }
            FirstPass::keep(pass, ctx);
        }
    }

    let now_s = (now_ms() / 1000) as u32;
    // SAFETY: see above.
    let country = unsafe { country(r, mcf) };
    let profiles = worker::profiles();
    let phase = Phase {
        r,
        shared,
        mcf,
        lcf,
        profiles: profiles.as_deref(),
        key,
        addr,
    };
    let runtime = shared.listed(key, now_s);
    let decision = access::decide(
        profiles.as_deref(),
        addr,
        country,
        runtime,
        ctx.attack,
        u64::from(now_s),
    );
    ctx.list = decision.list;
    if decision.bot.is_some() {
        ctx.bot = decision.bot;
        ctx.confidence = decision.confidence;
    }
    ctx.action = match decision.list {
        ListTag::Exception => Action::Exception,
        ListTag::Allow => Action::Allow,
        _ => Action::Pass,
    };
    if let (false, ListTag::Challenge, Some(entry)) = (decision.refuse, decision.list, runtime) {
        let now = u64::from(now_s) * 1000;
        // SAFETY: see above.
        let rc = unsafe { super::challenge::preaccess(&phase, ctx, entry, now) };
        if let Some(rc) = rc {
            return rc;
        }
    }
    let campaign_checked = matches!(
        decision.list,
        ListTag::None | ListTag::Gray | ListTag::Challenge
    );
    // An internal redirect's second pass (index, error_page) is the same
    // request, checked against the campaigns already: the client's record
    // now counts it, so a first visit would look like a second one.
    // SAFETY: see above.
    let redirected = unsafe { (*r).internal() } != 0;
    // Most of the time no campaign is active: the check would answer
    // nothing, so it is not prepared at all.
    let campaigns_active =
        || crate::campaign::react::active_for(shared, lcf.app(), now_s).is_some();
    if !decision.refuse
        && campaign_checked
        && ctx.action != Action::Monitor
        && !redirected
        && campaigns_active()
    {
        // a challenged client is not listed again by a gray or challenge
        // campaign reaction (it already is, at least as strictly)
        let gray = matches!(decision.list, ListTag::Gray | ListTag::Challenge);
        // SAFETY: see above.
        let rc = unsafe { super::campaign::preaccess(&phase, ctx, gray) };
        if let Some(rc) = rc {
            return rc;
        }
    }
    let monitor = lcf.mode == Mode::Monitor;
    let mut decision = decision;
    if matches!(ctx.action, Action::Pass | Action::Monitor) && (!decision.refuse || monitor) {
        // SAFETY: see above.
        let listed = unsafe { detect_start(&phase, ctx) };
        if !internal {
            // A later pass of this request (an index redirect) takes what
            // the client had done before it from here, not from the record
            // that now counts it.
            FirstPass::note_before(pass, ctx.before);
        }
        if listed && !monitor && !decision.refuse {
            // Listed by this very request: it is the first one refused.
            decision = access::decide(
                profiles.as_deref(),
                addr,
                country,
                shared.listed(key, now_s),
                ctx.attack,
                u64::from(now_s),
            );
            ctx.list = decision.list;
            let runtime = shared.listed(key, now_s);
            if let (false, ListTag::Challenge, Some(entry)) =
                (decision.refuse, decision.list, runtime)
            {
                // Challenged by this very request: it gets the challenge.
                let now = u64::from(now_s) * 1000;
                // SAFETY: see above.
                let rc = unsafe { super::challenge::preaccess(&phase, ctx, entry, now) };
                if let Some(rc) = rc {
                    return rc;
                }
            }
        }
    }
    if !decision.refuse {
        return declined;
    }
    let why = match (decision.list, ctx.attack) {
        (ListTag::Gray, Some(a)) => format!("graylisted, request carries {a} attack signs"),
        _ => "denylisted".to_string(),
    };
    if lcf.mode == Mode::Monitor {
        ctx.action = Action::Monitor;
        shared
            .stats()
            .monitored
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        shared.count_refusal(true, u64::from(now_s));
        // SAFETY: see above.
        unsafe {
            log_request(
                r,
                lcf.log_level + 1,
                &format!("api_abuse: client {addr} would be blocked ({why}, monitor mode)"),
            )
        };
        return declined;
    }
    ctx.action = Action::Block;
    let counter = if decision.list == ListTag::Gray {
        &shared.stats().blocked_attack
    } else {
        &shared.stats().blocked_deny
    };
    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    shared.count_refusal(false, u64::from(now_s));
    // SAFETY: see above.
    unsafe {
        log_request(
            r,
            lcf.log_level + 1,
            &format!("api_abuse: client {addr} blocked ({why})"),
        )
    };
    lcf.status as ngx_int_t
}

/// Detection at the start of the request: the client's record counts it
/// now, before it is answered, so the other requests of a tool with many
/// connections see it; a detection lists the client at once. True when
/// this request's detection listed (or tried to list) the client.
///
/// # Safety
/// `phase.r` must be the live request of a PREACCESS run.
unsafe fn detect_start(phase: &Phase<'_>, ctx: &mut Ctx) -> bool {
    let Phase {
        r,
        shared,
        mcf,
        lcf,
        profiles,
        key,
        addr,
    } = *phase;
    let Some(profile) = profiles.and_then(|p| super::profiles::profile_for(p, lcf.app())) else {
        return false;
    };
    // SAFETY: the caller's live request.
    let req = unsafe { &*r };
    // SAFETY: `user_agent` is null or one of the request's headers.
    let ua = unsafe { req.headers_in.user_agent.as_ref() }.map(|h| bytes(&h.value));
    let view = RequestView {
        method: bytes(&req.method_name),
        path: bytes(&req.uri),
        query: bytes(&req.args),
        user_agent: ua,
        headers: ctx.headers,
        header_count: ctx.header_count,
        status: 0,
        http_version: u16::try_from(req.http_version).unwrap_or(0),
        attack: ctx.attack,
    };
    // SAFETY: the caller's live request.
    let (endpoint, sensitive) = unsafe { super::extract::endpoint(r, ctx, profile) };
    let facts = crate::engine::extract_with(&view, sensitive, endpoint, ctx.ua_hash);
    ctx.answer = Some(facts.answer(0));
    if req.internal() != 0 {
        // An internal redirect (index, error_page) of a request already
        // counted: only its answer is still to come.
        if ctx.before.is_none() {
            ctx.before = Some(super::campaign::before_redirect(shared, key, now_ms()));
        }
        return false;
    }
    let now = now_ms();
    // Computed (and prefetched) by `preaccess` for this key.
    let place = ctx.place;
    let cx = crate::engine::Context {
        shared,
        profile,
        app: lcf.app(),
        key,
        client: addr,
        monitor: lcf.mode == Mode::Monitor,
        now_ms: now,
    };
    let started = crate::engine::learner::with_worker(|learner| {
        crate::engine::begin_at(&cx, learner, place, &view, &facts)
    });
    let outcome = match started {
        Some(s) => {
            ctx.before = Some(s.before);
            s.outcome
        }
        None => {
            ctx.before = Some(super::campaign::before(shared, key, now));
            None
        }
    };
    // SAFETY: the caller's live request (for its connection's log).
    unsafe { log_recovery(r) };
    if crate::engine::take_full_note() {
        // SAFETY: as above.
        unsafe {
            log_request(
                r,
                ngx::ffi::NGX_LOG_WARN as ngx_uint_t,
                &format!(
                    "api_abuse: zone is full, evicting the clients idle longest (capacity {})",
                    shared.clients.capacity()
                ),
            )
        };
    }
    let Some(det) = outcome else {
        return false;
    };
    ctx.bot = Some(det.bot);
    ctx.confidence = det.confidence;
    super::events::write(mcf, &det.event);
    // SAFETY: as above.
    unsafe { log_request(r, lcf.log_level, &det.summary) };
    true
}

/// A body is announced and not read yet.
///
/// # Safety
/// `r` must be a live request.
unsafe fn has_body(r: *mut ngx_http_request_t) -> bool {
    // SAFETY: the caller's live request.
    let req = unsafe { &*r };
    req.request_body.is_null()
        && (req.headers_in.content_length_n > 0 || req.headers_in.chunked() != 0)
}

/// The body has been read (or the read failed): run the phases again, from
/// the PREACCESS handler that asked for it.
unsafe extern "C" fn body_read(r: *mut ngx_http_request_t) {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: nginx passes the live request whose body it read.
        unsafe {
            if let Some(ctx) = ctx_mut(r) {
                ctx.body = BodyRead::Done;
            }
            (*r).set_preserve_body(1);
        }
    });
    // SAFETY: as above: the request is live until the phases finalise it.
    unsafe {
        (*r).write_event_handler = Some(ngx_http_core_run_phases);
        ngx_http_core_run_phases(r);
    }
}

extern "C" fn log_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    if std::panic::catch_unwind(|| {
        // SAFETY: nginx passes a live request.
        unsafe { log_phase(r) }
    })
    .is_err()
    {
        // SAFETY: as above.
        unsafe { request_panicked(r, "LOG") };
    }
    NGX_DECLINED as ngx_int_t
}

/// Logs a lock this worker took over from a dead process (one [alert] per
/// recovery, see `table`).
///
/// # Safety
/// `r` must be a live request.
#[inline]
unsafe fn log_recovery(r: *mut ngx_http_request_t) {
    if let Some(note) = crate::table::take_recovery_note() {
        // SAFETY: the caller's live request.
        unsafe { log_recovery_note(r, note) };
    }
}

/// # Safety
/// `r` must be a live request.
#[cold]
unsafe fn log_recovery_note(r: *mut ngx_http_request_t, (pid, dropped): (u32, u32)) {
    // SAFETY: the caller's live request.
    unsafe {
        log_request(
            r,
            ngx::ffi::NGX_LOG_ALERT as ngx_uint_t,
            &format!(
                "api_abuse: took over a shared-zone lock held by process {pid}, which died \
                 inside it; {dropped} damaged records dropped"
            ),
        )
    };
}

/// # Safety
/// `r` must be the live request nginx runs the LOG phase for.
///
/// Every `unsafe` block below relies on that alone: the request and all it
/// points to stay valid until this phase is over.
unsafe fn log_phase(r: *mut ngx_http_request_t) {
    // Recoveries in PREACCESS or a timer since the last request.
    // SAFETY: see above.
    unsafe { log_recovery(r) };
    // SAFETY: see above.
    let Some(Confs { mcf, lcf }) = (unsafe { confs(r) }) else {
        return;
    };
    let Some(shared) = zone::shared(mcf) else {
        return;
    };
    // SAFETY: see above.
    let Some(addr) = (unsafe { client_addr(r) }) else {
        return;
    };
    crate::engine::count_request();
    // A request that ended before the access check (a 400 for a malformed
    // request line, a `return` in the rewrite phase) is not scored: nginx may
    // have answered it before the realip module ran, so its address can be
    // a trusted proxy's rather than the client's, and listing a proxy would
    // refuse everyone behind it.
    // SAFETY: see above.
    let Some(ctx) = (unsafe { ctx_of(r) }) else {
        return;
    };
    match ctx.action {
        Action::Exception | Action::Allow | Action::Block | Action::Challenge => return,
        _ => {}
    }
    let profiles = worker::profiles();
    let Some(profiles) = profiles.as_deref() else {
        return;
    };
    let app = lcf.app();
    let Some(profile) = super::profiles::profile_for(profiles, app) else {
        return;
    };

    // SAFETY: see above.
    let req = unsafe { &*r };
    let status = u16::try_from(req.headers_out.status).unwrap_or(0);
    let key = client_key(addr, mcf.v6_prefix());
    #[cfg(debug_assertions)]
    // SAFETY: see above.
    unsafe {
        test_park(r)
    };
    // The request was counted when it started (`detect_start`); its answer
    // completes it for the client's next verdicts.
    if let Some(answer) = ctx.answer {
        crate::engine::end_at(
            shared,
            key,
            ctx.place,
            &crate::detect::facts::Answer { status, ..answer },
        );
        // SAFETY: see above.
        unsafe { log_recovery(r) };
    }
    let before = ctx
        .before
        .unwrap_or_else(|| super::campaign::before(shared, key, now_ms()));
    // SAFETY: see above.
    let (endpoint, sensitive) = unsafe { super::extract::endpoint_of(r, ctx, profile) };
    let target = crate::campaign::react::Target {
        sensitive,
        asset: endpoint.asset,
    };
    // SAFETY: see above; the header values live in the request's pool.
    let ua = unsafe { req.headers_in.user_agent.as_ref() }.map(|h| bytes(&h.value));
    // Most requests count towards no campaign rate: the zone is not read.
    let Some(counted) = crate::campaign::react::counts(target, status, before, ua) else {
        return;
    };
    let phase = Phase {
        r,
        shared,
        mcf,
        lcf,
        profiles: Some(profiles),
        key,
        addr,
    };
    // SAFETY: see above.
    unsafe { super::campaign::log(&phase, profile, ctx, counted) };
}

/// Logs a line with the request's connection log (client, server, request).
///
/// # Safety
/// `r` must be a live request.
pub(super) unsafe fn log_request(r: *mut ngx_http_request_t, level: ngx_uint_t, msg: &str) {
    // SAFETY: a live request has a live connection, and it a log.
    let log = unsafe { (*(*r).connection).log };
    worker::log_line(log, level, msg);
}

/// The country code from the `api_abuse_country` variable.
///
/// # Safety
/// `r` must be a live request.
unsafe fn country<'a>(r: *mut ngx_http_request_t, mcf: &MainConf) -> Option<&'a [u8]> {
    let idx = ngx_uint_t::try_from(mcf.country_var).ok()?;
    // SAFETY: the caller's live request; `idx` is what
    // ngx_http_get_variable_index returned for this configuration. The value
    // is null or nginx's, whose `data` holds `len` bytes for the request's life.
    unsafe {
        let v = ngx_http_get_indexed_variable(r, idx).as_ref()?;
        if v.not_found() != 0 || v.valid() == 0 || v.data.is_null() {
            return None;
        }
        Some(std::slice::from_raw_parts(v.data, v.len() as usize))
    }
}

/// Which request a PREACCESS pass is for, and the body it could see:
/// (request address, connection number, the connection's request count,
/// start time in ms, `request_body`, its first buffer link). The
/// connection number is unique in a worker, and every request on a
/// connection (every HTTP/2 or HTTP/3 stream too) has its own count.
type PassKey = [usize; 6];

/// What the header walk and the attack signatures found in a request's
/// first PREACCESS pass. An internal redirect clears the module contexts
/// and runs the phases again; the headers, `unparsed_uri` (what the
/// signatures read: the client's target, not the rewritten URI) and, with
/// the same `request_body`, the body are unchanged, so both answers are
/// too. This worker keeps the last request's, and the next pass of that
/// very request takes them instead of walking and scanning again (and the
/// attack is counted once per request, not per pass).
#[derive(Clone, Copy)]
struct FirstPass {
    key: PassKey,
    headers: u16,
    header_count: u16,
    /// Its values are the request's: read only in a later pass of the
    /// same request (`of` compares the key).
    fingerprint: crate::request::names::FingerprintParts<'static>,
    ua_hash: Option<u32>,
    attack: Option<AttackClass>,
    /// What the client had done before the request (campaigns' feed), when
    /// the first pass ran detection.
    before: Option<(bool, crate::campaign::Prior)>,
}

/// `a == b`, folded word by word: six words compared inline (a slice
/// compare called `memcmp` for them on every request).
#[inline]
fn same_pass(a: &PassKey, b: &PassKey) -> bool {
    a.iter().zip(b).fold(0, |d, (x, y)| d | (x ^ y)) == 0
}

/// The last first pass of this worker (touched on its event thread only).
static mut FIRST_PASS: Option<FirstPass> = None;

impl FirstPass {
    /// # Safety
    /// `r` must be a live request.
    unsafe fn key(r: *mut ngx_http_request_t) -> PassKey {
        // SAFETY: the caller's live request, with its connection; the body
        // pointers are only compared, never followed beyond `bufs`.
        unsafe {
            let req = &*r;
            let c = &*req.connection;
            let rb = req.request_body;
            let bufs = rb.as_ref().map_or(0, |b| b.bufs as usize);
            let start = (req.start_sec as usize)
                .wrapping_mul(1000)
                .wrapping_add(req.start_msec);
            [
                r as usize,
                c.number as usize,
                c.requests,
                start,
                rb as usize,
                bufs,
            ]
        }
    }

    /// The first pass of the request `key` names, when this pass follows
    /// an internal redirect (`None`: this is the first, or this worker kept
    /// another request's since).
    fn of(internal: bool, key: PassKey) -> Option<FirstPass> {
        if !internal {
            return None;
        }
        // SAFETY: on the worker's event thread (request handlers), one call
        // at a time; a copy is read.
        let kept = unsafe { *std::ptr::addr_of!(FIRST_PASS) };
        kept.filter(|f| same_pass(&f.key, &key))
    }

    /// Keeps this pass's answers for a later pass of the same request.
    fn keep(key: PassKey, ctx: &Ctx) {
        let pass = FirstPass {
            key,
            headers: ctx.headers,
            header_count: ctx.header_count,
            fingerprint: ctx.fingerprint,
            ua_hash: ctx.ua_hash,
            attack: ctx.attack,
            before: None,
        };
        // SAFETY: as in `of`; no reference to FIRST_PASS is alive.
        unsafe { *std::ptr::addr_of_mut!(FIRST_PASS) = Some(pass) };
    }

    /// Adds the first pass's `before` (known once detection ran) to the
    /// kept answers of the request `key` names.
    fn note_before(key: PassKey, before: Option<(bool, crate::campaign::Prior)>) {
        // SAFETY: as in `of`; the only reference to FIRST_PASS, for this
        // statement.
        if let Some(kept) = unsafe { &mut *std::ptr::addr_of_mut!(FIRST_PASS) } {
            if same_pass(&kept.key, &key) {
                kept.before = before;
            }
        }
    }

    fn restore(self, ctx: &mut Ctx) {
        ctx.headers = self.headers;
        ctx.header_count = self.header_count;
        ctx.fingerprint = self.fingerprint;
        ctx.ua_hash = self.ua_hash;
        ctx.attack = self.attack;
        ctx.before = self.before;
    }
}

/// Headers that carry input, kept for the attack signatures.
const MAX_INSPECTED_HEADERS: usize = 24;

/// A header kept for the signatures: its lowercase name and its value.
type Inspected = (&'static [u8], &'static [u8]);

struct HeaderScan {
    bits: u16,
    count: u16,
    /// The first `n` are written (see [`HeaderScan::inspected`]); the rest
    /// is never read, so the array is not initialised up front (24 pairs of
    /// slices: a hundred stores per request).
    inspect: [std::mem::MaybeUninit<Inspected>; MAX_INSPECTED_HEADERS],
    n: usize,
    fp: crate::request::names::FingerprintParts<'static>,
    /// The last User-Agent header the fingerprint hashed is
    /// `headers_in.user_agent`, short enough for detection to use its hash.
    ua_is_headers_in: bool,
}

/// One pass over the request headers: presence bits for the detectors and
/// the input-carrying headers for the signatures.
///
/// Fills `scan` in place: returned by value, its 800 bytes were copied
/// once more per request. The figures are gathered in locals (registers)
/// and stored once, after the walk.
///
/// # Safety
/// `r` must be a live request, and the scan not kept beyond it.
unsafe fn scan_headers(r: *mut ngx_http_request_t, scan: &mut HeaderScan) {
    // SAFETY: the caller's live request. The scan lives only while this
    // PREACCESS run does, so the `'static` given to the header slices never
    // outlives the headers themselves.
    let ua_header = unsafe { (*r).headers_in.user_agent.cast_const() };
    let (mut bits, mut count, mut n) = (0u16, 0u16, 0usize);
    let mut fp = crate::request::names::FingerprintParts::default();
    let mut ua_is_headers_in = false;
    // SAFETY: as above.
    unsafe {
        for_each_header::<'static>(r, |h| {
            count = count.saturating_add(1);
            let name: &'static [u8] = lowcase_key(h);
            let value: &'static [u8] = bytes(&h.value);
            // One lookup per name: its bit, its part in the fingerprint and
            // whether the signatures read it.
            let class = crate::request::names::classify(name);
            fp.header(&class, value);
            if class.slot == crate::campaign::ValueSlot::UserAgent {
                ua_is_headers_in = std::ptr::eq(h, ua_header)
                    && value.len() <= crate::detect::facts::MAX_USER_AGENT;
            }
            bits |= class.bit_with(value);
            if class.inspect {
                if let Some(slot) = scan.inspect.get_mut(n) {
                    slot.write((name, value));
                    n += 1;
                }
            }
        })
    };
    scan.bits = bits;
    scan.count = count;
    scan.n = n;
    scan.fp = fp;
    scan.ua_is_headers_in = ua_is_headers_in;
}

impl HeaderScan {
    fn new() -> HeaderScan {
        HeaderScan {
            bits: 0,
            count: 0,
            inspect: [const { std::mem::MaybeUninit::uninit() }; MAX_INSPECTED_HEADERS],
            n: 0,
            fp: crate::request::names::FingerprintParts::default(),
            ua_is_headers_in: false,
        }
    }

    /// The headers kept for the signatures.
    fn inspected(&self) -> &[Inspected] {
        let n = self.n.min(MAX_INSPECTED_HEADERS);
        // SAFETY: `scan_headers` wrote the first `n` elements (it counts
        // only what it wrote); `MaybeUninit<T>` has `T`'s layout.
        unsafe { std::slice::from_raw_parts(self.inspect.as_ptr().cast::<Inspected>(), n) }
    }
}

/// Verdicts of fields this worker has seen (User-Agent, Referer, cookies,
/// paths and arguments repeat across requests) and its scratch buffer.
static mut SCAN_CACHE: Option<ScanCache> = None;

/// Allocates this worker's scan cache (under 1 MB, most of it the
/// per-client slots) when the worker starts, so that no request allocates it.
pub(super) fn prepare_scan_cache() {
    // SAFETY: called from init_process, on the worker's one thread, before
    // it handles any request; `inspect` is the only other place that
    // touches the cache, on the same thread.
    unsafe { &mut *std::ptr::addr_of_mut!(SCAN_CACHE) }.get_or_insert_with(ScanCache::default);
}

/// Attack signs in the request: target, input-carrying headers and, when
/// nginx holds it in memory, the body. `addr` (the client, after realip)
/// names the client for the scan's per-client verdicts.
///
/// # Safety
/// `r` must be a live request, on the worker's event thread.
unsafe fn inspect(
    r: *mut ngx_http_request_t,
    scan: &HeaderScan,
    addr: std::net::IpAddr,
) -> Option<AttackClass> {
    // SAFETY: the caller's live request.
    let (req, body) = unsafe { (&*r, super::body::in_memory(r)) };
    let input = signatures::Input {
        target: bytes(&req.unparsed_uri),
        headers: scan.inspected(),
        body,
    };
    // SAFETY: a worker handles requests on one thread, and only this and
    // `prepare_scan_cache` (at worker start) touch the cache, so no other
    // reference to it is alive.
    let cache =
        unsafe { &mut *std::ptr::addr_of_mut!(SCAN_CACHE) }.get_or_insert_with(ScanCache::default);
    let client = match addr {
        std::net::IpAddr::V4(a) => u128::from(u32::from(a)),
        // Apart from every IPv4 number (an IPv4-mapped address arrives as V4).
        std::net::IpAddr::V6(a) => u128::from(a) | 1 << 127,
    };
    inspect_all_cached_for(&input, cache, client)
        .strongest()
        .map(|f| f.class)
}

/// Debug builds, and only with `env API_ABUSE_TEST_HOOKS=panic;` in
/// nginx.conf: a request carrying `X-Api-Abuse-Test-Panic` panics in the
/// PREACCESS handler, so a test can show what a bug there does (the
/// request is served, counted and logged: [`request_panicked`]).
///
/// # Safety
/// `r` must be a live request.
#[cfg(debug_assertions)]
unsafe fn test_panic(r: *mut ngx_http_request_t) {
    static ENABLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    // SAFETY: the caller's live request.
    if unsafe { test_hook(r, &ENABLED, "panic", b"x-api-abuse-test-panic") } {
        panic!("api_abuse: test hook: a panic in the PREACCESS handler");
    }
}

/// Whether the test hook `hook` is on (`env API_ABUSE_TEST_HOOKS=<hook>;`,
/// read once into `enabled`) and request `r` carries its lowercase
/// `header`.
///
/// # Safety
/// `r` must be a live request.
#[cfg(debug_assertions)]
unsafe fn test_hook(
    r: *mut ngx_http_request_t,
    enabled: &std::sync::OnceLock<bool>,
    hook: &str,
    header: &[u8],
) -> bool {
    if !*enabled.get_or_init(|| std::env::var_os("API_ABUSE_TEST_HOOKS").is_some_and(|v| v == hook))
    {
        return false;
    }
    // SAFETY: the caller's live request.
    let mut headers = unsafe { super::util::headers_in(r) };
    headers.any(|h| lowcase_key(h) == header)
}

/// Debug builds, and only with `env API_ABUSE_TEST_HOOKS=park;` in
/// nginx.conf: a request carrying `X-Api-Abuse-Test-Park` parks this worker
/// inside the client's critical section, so the dead-worker test can kill a
/// worker that holds a bucket lock.
///
/// # Safety
/// `r` must be a live request.
#[cfg(debug_assertions)]
unsafe fn test_park(r: *mut ngx_http_request_t) {
    static ENABLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    // SAFETY: the caller's live request.
    if unsafe { test_hook(r, &ENABLED, "park", b"x-api-abuse-test-park") } {
        // SAFETY: as above.
        unsafe {
            log_request(
                r,
                ngx::ffi::NGX_LOG_NOTICE as ngx_uint_t,
                &format!(
                    "api_abuse: test hook: parking worker pid {} inside a client lock",
                    std::process::id()
                ),
            )
        };
        crate::engine::test_hooks::park_next_update();
    }
}
