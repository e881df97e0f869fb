//! Phase handlers. PREACCESS decides access from the lists, exceptions and
//! attack signs; LOG (status known) feeds the client's detector state and
//! applies the profile's reaction, which takes effect on the client's next
//! request in every worker.

use ngx::core::Status;
use ngx::ffi::{
    ngx_array_push, ngx_conf_t, ngx_http_core_run_phases, ngx_http_finalize_request,
    ngx_http_get_indexed_variable, ngx_http_handler_pt, ngx_http_phases_NGX_HTTP_LOG_PHASE,
    ngx_http_phases_NGX_HTTP_PREACCESS_PHASE, ngx_http_read_client_request_body,
    ngx_http_request_t, ngx_int_t, ngx_list_part_t, ngx_table_elt_t, ngx_uint_t, NGX_DECLINED,
    NGX_DONE, NGX_HTTP_SPECIAL_RESPONSE,
};
use ngx::http::{HttpModule, HttpModuleLocationConf, HttpModuleMainConf, NgxHttpCoreModule};

use super::conf::{LocConf, MainConf, Mode};
use super::util::{bytes, client_addr, now_ms};
use super::{worker, zone, Module};
use crate::access::{self, ListTag};
use crate::model::{AttackClass, BotType};
use crate::request::{header_bits as hb, RequestView};
use crate::signatures;
use crate::signatures::cache::{inspect_all_cached, ScanCache};
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
    /// The request-only fingerprint campaigns are grouped by.
    pub fingerprint: crate::campaign::Fingerprint,
    /// The endpoint, once PREACCESS or LOG computed it (`super::extract`).
    pub endpoint: Option<super::extract::Memo>,
    /// Hash of `headers_in.user_agent`'s value when the fingerprint hashed
    /// that very header whole (it is at most `MAX_USER_AGENT` bytes).
    pub ua_hash: Option<u32>,
    /// Detection saw the request start; what its answer adds (LOG).
    pub answer: Option<crate::detect::facts::Answer>,
    /// What the client had done before this request (campaigns' feed).
    pub before: Option<(bool, crate::campaign::Prior)>,
}

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
        }
    }
}

pub fn register(cf: *mut ngx_conf_t) -> Status {
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
    (*(*r).ctx.add(idx)).cast::<Ctx>().as_ref()
}

unsafe fn ctx_mut<'a>(r: *mut ngx_http_request_t) -> Option<&'a mut Ctx> {
    let idx = Module::module().ctx_index;
    let slot = (*r).ctx.add(idx);
    if (*slot).is_null() {
        let p = ngx::ffi::ngx_pcalloc((*r).pool, std::mem::size_of::<Ctx>()).cast::<Ctx>();
        if p.is_null() {
            return None;
        }
        p.write(Ctx::default());
        *slot = p.cast();
    }
    (*slot).cast::<Ctx>().as_mut()
}

struct Confs {
    mcf: &'static MainConf,
    lcf: &'static LocConf,
}

unsafe fn confs(r: *mut ngx_http_request_t) -> Option<Confs> {
    let req = &*r;
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
    .unwrap_or(NGX_DECLINED as ngx_int_t)
}

unsafe fn preaccess(r: *mut ngx_http_request_t) -> ngx_int_t {
    let declined = NGX_DECLINED as ngx_int_t;
    if (*r).main != r {
        return declined;
    }
    let Some(Confs { mcf, lcf }) = confs(r) else {
        return declined;
    };
    let Some(shared) = zone::shared(mcf) else {
        return declined;
    };
    let Some(addr) = client_addr(r) else {
        return declined;
    };
    let Some(ctx) = ctx_mut(r) else {
        return declined;
    };

    // Read the body first where the location asks for it. nginx reads it
    // asynchronously and runs the phases again from this handler when done.
    if lcf.inspect_body == 1 && ctx.body == BodyRead::NotAsked && has_body(r) {
        ctx.body = BodyRead::Reading;
        let rc = ngx_http_read_client_request_body(r, Some(body_read));
        if rc >= NGX_HTTP_SPECIAL_RESPONSE as ngx_int_t {
            return rc;
        }
        ngx_http_finalize_request(r, NGX_DONE as ngx_int_t);
        return NGX_DONE as ngx_int_t;
    }
    if ctx.body == BodyRead::Reading {
        // Re-entered before the body handler ran: keep waiting.
        return NGX_DONE as ngx_int_t;
    }

    let scan = scan_headers(r);
    ctx.headers = scan.bits;
    ctx.header_count = scan.count;
    ctx.fingerprint = scan.fp.finish();
    ctx.ua_hash = scan.ua_is_headers_in.then_some(ctx.fingerprint.ua);
    ctx.attack = inspect(r, &scan);
    if let Some(a) = ctx.attack {
        shared.count_attack(a);
    }

    let now_s = (now_ms() / 1000) as u32;
    let key = client_key(addr, mcf.v6_prefix());
    let country = country(r, mcf);
    let profiles = worker::profiles();
    let decision = access::decide(
        profiles.as_deref(),
        addr,
        country,
        shared.listed(key, now_s),
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
    // An internal redirect's second pass (index, error_page) is the same
    // request, checked against the campaigns already: the client's record
    // now counts it, so a first visit would look like a second one.
    if !decision.refuse
        && (*r).internal() == 0
        && matches!(decision.list, ListTag::None | ListTag::Gray)
    {
        let gray = decision.list == ListTag::Gray;
        let p = profiles.as_deref();
        if let Some(rc) = super::campaign::preaccess(r, shared, mcf, lcf, p, key, addr, ctx, gray) {
            return rc;
        }
    }
    let monitor = lcf.mode == Mode::Monitor;
    let mut decision = decision;
    if matches!(ctx.action, Action::Pass | Action::Monitor) && (!decision.refuse || monitor) {
        let listed = detect_start(r, shared, mcf, lcf, key, addr, ctx);
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
        log_request(
            r,
            lcf.log_level + 1,
            &format!("api_abuse: client {addr} would be blocked ({why}, monitor mode)"),
        );
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
    log_request(
        r,
        lcf.log_level + 1,
        &format!("api_abuse: client {addr} blocked ({why})"),
    );
    lcf.status as ngx_int_t
}

/// Detection at the start of the request: the client's record counts it
/// now, before it is answered, so the other requests of a tool with many
/// connections see it; a detection lists the client at once. True when
/// this request's detection listed (or tried to list) the client.
#[allow(clippy::too_many_arguments)]
unsafe fn detect_start(
    r: *mut ngx_http_request_t,
    shared: &crate::shared::Shared,
    mcf: &MainConf,
    lcf: &LocConf,
    key: crate::table::ClientKey,
    addr: std::net::IpAddr,
    ctx: &mut Ctx,
) -> bool {
    let profiles = worker::profiles();
    let Some(profile) = profiles.as_deref().and_then(|p| p.profile_for(lcf.app())) else {
        return false;
    };
    let req = &*r;
    let ua = req.headers_in.user_agent.as_ref().map(|h| bytes(&h.value));
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
    let (endpoint, sensitive) = super::extract::endpoint(r, ctx, profile);
    let facts = crate::engine::extract_with(&view, sensitive, endpoint, ctx.ua_hash);
    ctx.answer = Some(facts.answer(0));
    if req.internal() != 0 {
        // An internal redirect (index, error_page) of a request already
        // counted: only its answer is still to come.
        ctx.before = Some(super::campaign::before_redirect(shared, key, now_ms()));
        return false;
    }
    let now = now_ms();
    ctx.before = Some(super::campaign::before(shared, key, now));
    let outcome = crate::engine::learner::with_worker(|learner| {
        crate::engine::begin(
            shared,
            learner,
            profile,
            lcf.app(),
            key,
            addr,
            &view,
            &facts,
            lcf.mode == Mode::Monitor,
            now,
        )
    })
    .flatten();
    log_recovery(r);
    if crate::engine::take_full_note() {
        log_request(
            r,
            ngx::ffi::NGX_LOG_WARN as ngx_uint_t,
            &format!(
                "api_abuse: zone is full, evicting the clients idle longest (capacity {})",
                shared.clients.capacity()
            ),
        );
    }
    let Some(det) = outcome else {
        return false;
    };
    ctx.bot = Some(det.bot);
    ctx.confidence = det.confidence;
    super::events::write(mcf, &det.event);
    log_request(r, lcf.log_level, &det.summary);
    true
}

unsafe fn has_body(r: *mut ngx_http_request_t) -> bool {
    (*r).request_body.is_null()
        && ((*r).headers_in.content_length_n > 0 || (*r).headers_in.chunked() != 0)
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
    (*r).write_event_handler = Some(ngx_http_core_run_phases);
    ngx_http_core_run_phases(r);
}

extern "C" fn log_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: nginx passes a live request.
        unsafe { log_phase(r) }
    });
    NGX_DECLINED as ngx_int_t
}

/// Logs a lock this worker took over from a dead process (one [alert] per
/// recovery, see `table`).
unsafe fn log_recovery(r: *mut ngx_http_request_t) {
    if let Some((pid, dropped)) = crate::table::take_recovery_note() {
        log_request(
            r,
            ngx::ffi::NGX_LOG_ALERT as ngx_uint_t,
            &format!(
                "api_abuse: took over a shared-zone lock held by process {pid}, which died \
                 inside it; {dropped} damaged records dropped"
            ),
        );
    }
}

unsafe fn log_phase(r: *mut ngx_http_request_t) {
    // Recoveries in PREACCESS or a timer since the last request.
    log_recovery(r);
    let Some(Confs { mcf, lcf }) = confs(r) else {
        return;
    };
    let Some(shared) = zone::shared(mcf) else {
        return;
    };
    let Some(addr) = client_addr(r) else { return };
    crate::engine::count_request();
    // A request that ended before the access check (a 400 for a malformed
    // request line, a `return` in the rewrite phase) is not scored: nginx may
    // have answered it before the realip module ran, so its address can be
    // a trusted proxy's rather than the client's, and listing a proxy would
    // refuse everyone behind it.
    let Some(mut ctx) = ctx_of(r).copied() else {
        return;
    };
    match ctx.action {
        Action::Exception | Action::Allow | Action::Block => return,
        _ => {}
    }
    let profiles = worker::profiles();
    let Some(profiles) = profiles.as_deref() else {
        return;
    };
    let app = lcf.app();
    let Some(profile) = profiles.profile_for(app) else {
        return;
    };

    let req = &*r;
    let status = u16::try_from(req.headers_out.status).unwrap_or(0);
    let key = client_key(addr, mcf.v6_prefix());
    #[cfg(debug_assertions)]
    test_park(r);
    // The request was counted when it started (`detect_start`); its answer
    // completes it for the client's next verdicts.
    if let Some(answer) = ctx.answer {
        crate::engine::end(
            shared,
            key,
            &crate::detect::facts::Answer { status, ..answer },
        );
        log_recovery(r);
    }
    let before = ctx
        .before
        .unwrap_or_else(|| super::campaign::before(shared, key, now_ms()));
    let (endpoint, sensitive) = super::extract::endpoint(r, &mut ctx, profile);
    super::campaign::log(
        r,
        shared,
        mcf,
        lcf,
        profile,
        key,
        addr,
        &ctx,
        crate::campaign::react::Target {
            sensitive,
            asset: endpoint.asset,
        },
        status,
        before,
    );
}

pub(super) unsafe fn log_request(r: *mut ngx_http_request_t, level: ngx_uint_t, msg: &str) {
    let log = (*(*r).connection).log;
    worker::log_line(log, level, msg);
}

/// The country code from the `api_abuse_country` variable.
unsafe fn country<'a>(r: *mut ngx_http_request_t, mcf: &MainConf) -> Option<&'a [u8]> {
    let idx = ngx_uint_t::try_from(mcf.country_var).ok()?;
    let v = ngx_http_get_indexed_variable(r, idx);
    if v.is_null() || (*v).not_found() != 0 || (*v).valid() == 0 || (*v).data.is_null() {
        return None;
    }
    Some(std::slice::from_raw_parts((*v).data, (*v).len() as usize))
}

/// Headers that carry input, kept for the attack signatures.
const MAX_INSPECTED_HEADERS: usize = 24;

struct HeaderScan {
    bits: u16,
    count: u16,
    inspect: [(&'static [u8], &'static [u8]); MAX_INSPECTED_HEADERS],
    n: usize,
    fp: crate::campaign::Builder,
    /// The last User-Agent header the fingerprint hashed is
    /// `headers_in.user_agent`, short enough for detection to use its hash.
    ua_is_headers_in: bool,
}

/// One pass over the request headers: presence bits for the detectors and
/// the input-carrying headers for the signatures.
unsafe fn scan_headers(r: *mut ngx_http_request_t) -> HeaderScan {
    let mut scan = HeaderScan {
        bits: 0,
        count: 0,
        inspect: [(&[], &[]); MAX_INSPECTED_HEADERS],
        n: 0,
        fp: crate::campaign::Builder::default(),
        ua_is_headers_in: false,
    };
    let ua_header = (*r).headers_in.user_agent.cast_const();
    let mut part: *const ngx_list_part_t = &(*r).headers_in.headers.part;
    while !part.is_null() {
        let elts = (*part).elts as *const ngx_table_elt_t;
        for i in 0..(*part).nelts {
            let h = &*elts.add(i);
            scan.count = scan.count.saturating_add(1);
            let name: &'static [u8] = if h.lowcase_key.is_null() {
                &[]
            } else {
                std::slice::from_raw_parts(h.lowcase_key, h.key.len)
            };
            let value: &'static [u8] = std::slice::from_raw_parts(
                if h.value.data.is_null() {
                    [].as_ptr()
                } else {
                    h.value.data
                },
                if h.value.data.is_null() {
                    0
                } else {
                    h.value.len
                },
            );
            scan.fp.header(name, value);
            if name == b"user-agent" {
                scan.ua_is_headers_in = std::ptr::eq(h, ua_header)
                    && value.len() <= crate::detect::facts::MAX_USER_AGENT;
            }
            scan.bits |= match name {
                b"accept" => hb::ACCEPT,
                b"accept-language" => hb::ACCEPT_LANGUAGE,
                b"accept-encoding" => hb::ACCEPT_ENCODING,
                b"referer" => hb::REFERER,
                b"cookie" => hb::COOKIE,
                b"x-requested-with" => hb::X_REQUESTED_WITH,
                b"authorization" => hb::AUTHORIZATION,
                b"content-type" => hb::CONTENT_TYPE,
                b"origin" => hb::ORIGIN,
                b"upgrade-insecure-requests" => hb::UPGRADE_INSECURE,
                b"cache-control" => hb::CACHE_CONTROL,
                b"connection" if value.eq_ignore_ascii_case(b"close") => hb::CONNECTION_CLOSE,
                n if n.starts_with(b"sec-fetch-") => hb::SEC_FETCH,
                n if n.starts_with(b"sec-ch-ua") => hb::SEC_CH_UA,
                _ => 0,
            };
            let carries_input = matches!(
                name,
                b"user-agent" | b"referer" | b"cookie" | b"origin" | b"content-type" | b"host"
            ) || name.starts_with(b"x-");
            if carries_input && scan.n < MAX_INSPECTED_HEADERS {
                scan.inspect[scan.n] = (name, value);
                scan.n += 1;
            }
        }
        part = (*part).next;
    }
    scan
}

/// Verdicts of fields this worker has seen (User-Agent, Referer, cookies,
/// paths and arguments repeat across requests) and its scratch buffer.
static mut SCAN_CACHE: Option<ScanCache> = None;

/// Attack signs in the request: target, input-carrying headers and, when
/// nginx holds it in memory, the body.
unsafe fn inspect(r: *mut ngx_http_request_t, scan: &HeaderScan) -> Option<AttackClass> {
    let req = &*r;
    let body = super::body::in_memory(r);
    let input = signatures::Input {
        target: bytes(&req.unparsed_uri),
        headers: &scan.inspect[..scan.n],
        body,
    };
    // SAFETY: a worker handles requests on one thread; the cache is its own.
    let cache = (*std::ptr::addr_of_mut!(SCAN_CACHE)).get_or_insert_with(ScanCache::default);
    inspect_all_cached(&input, cache)
        .strongest()
        .map(|f| f.class)
}

/// Debug builds, and only with `env API_ABUSE_TEST_HOOKS=park;` in
/// nginx.conf: a request carrying `X-Api-Abuse-Test-Park` parks this worker
/// inside the client's critical section, so the dead-worker test can kill a
/// worker that holds a bucket lock.
#[cfg(debug_assertions)]
unsafe fn test_park(r: *mut ngx_http_request_t) {
    static ENABLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if !*ENABLED
        .get_or_init(|| std::env::var_os("API_ABUSE_TEST_HOOKS").is_some_and(|v| v == "park"))
    {
        return;
    }
    let mut part: *const ngx_list_part_t = &(*r).headers_in.headers.part;
    while !part.is_null() {
        let elts = (*part).elts as *const ngx_table_elt_t;
        for i in 0..(*part).nelts {
            let h = &*elts.add(i);
            if !h.lowcase_key.is_null()
                && std::slice::from_raw_parts(h.lowcase_key, h.key.len) == b"x-api-abuse-test-park"
            {
                log_request(
                    r,
                    ngx::ffi::NGX_LOG_NOTICE as ngx_uint_t,
                    &format!(
                        "api_abuse: test hook: parking worker pid {} inside a client lock",
                        std::process::id()
                    ),
                );
                crate::engine::test_hooks::park_next_update();
                return;
            }
        }
        part = (*part).next;
    }
}
