//! The nginx glue: module table, directives, phase handlers, variables, the
//! shared zone and per-worker timers. Everything here is thin: decisions are
//! made by the plain-Rust modules of the crate.
//!
//! Order follows nginx's own modules: commands, module context, module, then
//! the callbacks.

mod api;
mod body;
mod campaign;
mod challenge;
pub mod conf;
mod dashboard;
mod events;
mod extract;
mod handlers;
mod helper;
mod profiles;
mod saver;
mod sync;
mod util;
mod vars;
pub mod worker;
pub mod zone;

use std::ffi::{c_char, c_void};
use std::mem::offset_of;
use std::path::PathBuf;
use std::ptr::{addr_of, addr_of_mut};

use ngx::core::Status;
use ngx::ffi::{
    ngx_command_t, ngx_conf_set_flag_slot, ngx_conf_set_num_slot, ngx_conf_t, ngx_cycle_t,
    ngx_http_module_t, ngx_int_t, ngx_module_t, ngx_uint_t, NGX_CONF_1MORE, NGX_CONF_FLAG,
    NGX_CONF_NOARGS, NGX_CONF_TAKE1, NGX_CONF_TAKE2, NGX_HTTP_LOC_CONF, NGX_HTTP_LOC_CONF_OFFSET,
    NGX_HTTP_MAIN_CONF, NGX_HTTP_MAIN_CONF_OFFSET, NGX_HTTP_MODULE, NGX_HTTP_SRV_CONF,
    NGX_LOG_EMERG,
};
use ngx::http::{HttpModule, HttpModuleLocationConf, HttpModuleMainConf};
use ngx::ngx_string;

use conf::{LocConf, MainConf};

pub struct Module;

const MAIN: u32 = NGX_HTTP_MAIN_CONF;
const LOC: u32 = NGX_HTTP_LOC_CONF;
const ANY: u32 = NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF;

macro_rules! command {
    ($name:literal, $where:expr, $args:expr, $set:path, $offset:expr) => {
        command!($name, $where, $args, $set, $offset, 0, std::ptr::null_mut())
    };
    // A stock slot: the field it writes, and its `post` (enum values, bounds).
    ($name:literal, $where:expr, $args:expr, $set:path, $offset:expr, $field:expr, $post:expr) => {
        ngx_command_t {
            name: ngx_string!($name),
            type_: ($where | $args) as ngx_uint_t,
            set: Some($set),
            conf: $offset,
            offset: $field,
            post: $post,
        }
    };
}

static mut COMMANDS: [ngx_command_t; 15] = [
    command!(
        "api_abuse_zone",
        MAIN,
        NGX_CONF_1MORE,
        conf::set_zone,
        NGX_HTTP_MAIN_CONF_OFFSET
    ),
    command!(
        "api_abuse_profiles",
        MAIN,
        NGX_CONF_TAKE1,
        conf::set_profiles,
        NGX_HTTP_MAIN_CONF_OFFSET
    ),
    command!(
        "api_abuse_events",
        MAIN,
        NGX_CONF_TAKE1,
        conf::set_events,
        NGX_HTTP_MAIN_CONF_OFFSET
    ),
    command!(
        "api_abuse_country",
        MAIN,
        NGX_CONF_TAKE1,
        conf::set_country,
        NGX_HTTP_MAIN_CONF_OFFSET
    ),
    command!(
        "api_abuse_ipv6_prefix",
        MAIN,
        NGX_CONF_TAKE1,
        ngx_conf_set_num_slot,
        NGX_HTTP_MAIN_CONF_OFFSET,
        offset_of!(MainConf, ipv6_prefix),
        addr_of_mut!(conf::IPV6_PREFIX_BOUNDS).cast()
    ),
    command!(
        "api_abuse",
        ANY,
        NGX_CONF_TAKE1,
        conf::set_enum,
        NGX_HTTP_LOC_CONF_OFFSET,
        offset_of!(LocConf, mode),
        addr_of_mut!(conf::MODES).cast()
    ),
    command!(
        "api_abuse_app",
        ANY,
        NGX_CONF_TAKE1,
        conf::set_app,
        NGX_HTTP_LOC_CONF_OFFSET
    ),
    command!(
        "api_abuse_status",
        ANY,
        NGX_CONF_TAKE1,
        ngx_conf_set_num_slot,
        NGX_HTTP_LOC_CONF_OFFSET,
        offset_of!(LocConf, status),
        addr_of_mut!(conf::STATUS_BOUNDS).cast()
    ),
    command!(
        "api_abuse_log_level",
        ANY,
        NGX_CONF_TAKE1,
        conf::set_enum,
        NGX_HTTP_LOC_CONF_OFFSET,
        offset_of!(LocConf, log_level),
        addr_of_mut!(conf::LOG_LEVELS).cast()
    ),
    command!(
        "api_abuse_inspect_body",
        ANY,
        NGX_CONF_FLAG,
        ngx_conf_set_flag_slot,
        NGX_HTTP_LOC_CONF_OFFSET,
        offset_of!(LocConf, inspect_body),
        std::ptr::null_mut()
    ),
    command!(
        "api_abuse_api",
        LOC,
        NGX_CONF_NOARGS | NGX_CONF_TAKE1 | NGX_CONF_TAKE2,
        api::set_api,
        NGX_HTTP_LOC_CONF_OFFSET
    ),
    command!(
        "api_abuse_metrics",
        LOC,
        NGX_CONF_NOARGS,
        api::set_metrics,
        NGX_HTTP_LOC_CONF_OFFSET
    ),
    command!(
        "api_abuse_dashboard",
        LOC,
        NGX_CONF_NOARGS | NGX_CONF_TAKE1,
        dashboard::set_dashboard,
        NGX_HTTP_LOC_CONF_OFFSET
    ),
    command!(
        "api_abuse_sync",
        MAIN,
        NGX_CONF_1MORE,
        conf::set_sync,
        NGX_HTTP_MAIN_CONF_OFFSET
    ),
    ngx_command_t::empty(),
];

static MODULE_CTX: ngx_http_module_t = ngx_http_module_t {
    preconfiguration: Some(Module::preconfiguration),
    postconfiguration: Some(Module::postconfiguration),
    create_main_conf: Some(Module::create_main_conf),
    init_main_conf: Some(Module::init_main_conf),
    create_srv_conf: None,
    merge_srv_conf: None,
    create_loc_conf: Some(Module::create_loc_conf),
    merge_loc_conf: Some(merge_loc_conf),
};

// The table `load_module` looks for. nginx's own build system
// (`./configure --add-dynamic-module=`) generates it, so that build uses the
// `ngx-glue` feature alone.
#[cfg(feature = "module")]
ngx::ngx_modules!(ngx_http_api_abuse_module);

#[used]
#[allow(non_upper_case_globals)]
#[no_mangle]
pub static mut ngx_http_api_abuse_module: ngx_module_t = ngx_module_t {
    ctx: addr_of!(MODULE_CTX) as _,
    // SAFETY: only the address is taken; nginx reads the table, nothing
    // writes it.
    commands: unsafe { addr_of_mut!(COMMANDS[0]) },
    type_: NGX_HTTP_MODULE as _,
    init_process: Some(init_process),
    exit_process: Some(exit_process),
    exit_master: Some(exit_master),
    ..ngx_module_t::default()
};

impl HttpModule for Module {
    fn module() -> &'static ngx_module_t {
        // SAFETY: the module static lives for the whole process.
        unsafe { &*addr_of!(ngx_http_api_abuse_module) }
    }

    unsafe extern "C" fn preconfiguration(cf: *mut ngx_conf_t) -> ngx_int_t {
        guard(Status::NGX_ERROR, || vars::register(cf))
    }

    unsafe extern "C" fn postconfiguration(cf: *mut ngx_conf_t) -> ngx_int_t {
        guard(Status::NGX_ERROR, || handlers::register(cf))
    }

    unsafe extern "C" fn init_main_conf(cf: *mut ngx_conf_t, conf: *mut c_void) -> *mut c_char {
        guard_conf(|| {
            // SAFETY: nginx passes the main conf create_main_conf made for
            // this module, a `MainConf`.
            let mcf = unsafe { &mut *conf.cast::<MainConf>() };
            mcf.init();
            if mcf.sync.is_some() && mcf.zone.is_null() {
                ngx::ngx_conf_log_error!(
                    NGX_LOG_EMERG,
                    cf,
                    "\"api_abuse_sync\" needs an \"api_abuse_zone\" in the http block"
                );
                return ngx::core::NGX_CONF_ERROR;
            }
            ngx::core::NGX_CONF_OK
        })
    }
}

/// Merges location settings, and refuses `api_abuse on|monitor` without a zone.
unsafe extern "C" fn merge_loc_conf(
    cf: *mut ngx_conf_t,
    prev: *mut c_void,
    conf: *mut c_void,
) -> *mut c_char {
    guard_conf(|| {
        // SAFETY: nginx passes two location confs create_loc_conf made for
        // this module (`LocConf`), the enclosing level's and this one's.
        let rv = unsafe { Module::merge_loc_conf(cf, prev, conf) };
        if !rv.is_null() {
            return rv;
        }
        // SAFETY: as above, and the conf nginx is parsing with.
        let (lcf, cf_ref) = unsafe { (&*conf.cast::<LocConf>(), &*cf) };
        let has_zone = Module::main_conf(cf_ref).is_some_and(|m| !m.zone.is_null());
        if lcf.mode != conf::Mode::Off && !has_zone {
            ngx::ngx_conf_log_error!(
                NGX_LOG_EMERG,
                cf,
                "\"api_abuse\" is enabled but no \"api_abuse_zone\" is defined in the http block"
            );
            return ngx::core::NGX_CONF_ERROR;
        }
        ngx::core::NGX_CONF_OK
    })
}

// SAFETY: `MainConf` is the type this module's create_main_conf allocates
// (the trait's default, from `Default`), so the slot holds one.
unsafe impl HttpModuleMainConf for Module {
    type MainConf = MainConf;
}

// SAFETY: likewise, `LocConf` is what create_loc_conf allocates.
unsafe impl HttpModuleLocationConf for Module {
    type LocationConf = LocConf;
}

extern "C" fn init_process(cycle: *mut ngx_cycle_t) -> ngx_int_t {
    guard(Status::NGX_OK, || worker::init_process(cycle))
}

extern "C" fn exit_process(cycle: *mut ngx_cycle_t) {
    let _ = guard(Status::NGX_OK, || {
        worker::exit_process(cycle);
        Status::NGX_OK
    });
}

extern "C" fn exit_master(cycle: *mut ngx_cycle_t) {
    let _ = guard(Status::NGX_OK, || {
        if let Some(mcf) = worker::main_conf(cycle) {
            profiles::exit_master(mcf.profiles_zone);
        }
        Status::NGX_OK
    });
}

/// Runs `f`; a panic becomes `on_panic` instead of unwinding into nginx.
fn guard(on_panic: Status, f: impl FnOnce() -> Status) -> ngx_int_t {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or(on_panic)
        .into()
}

/// `guard` for configuration callbacks: a panic fails the configuration.
fn guard_conf(f: impl FnOnce() -> *mut c_char) -> *mut c_char {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(ngx::core::NGX_CONF_ERROR)
}

/// Resolves a path from nginx.conf the way nginx does: relative to the prefix
/// given with `-p`.
fn resolve_conf_path(cf: *mut ngx_conf_t, path: &str) -> PathBuf {
    let p = PathBuf::from(path);
    if p.is_absolute() {
        return p;
    }
    // SAFETY: cf and its cycle are valid during configuration parsing.
    let prefix = unsafe { (*(*cf).cycle).prefix };
    PathBuf::from(String::from_utf8_lossy(prefix.as_bytes()).into_owned()).join(p)
}
