//! Configuration: the http-level main conf, the per-location conf, their
//! defaults and the directive setters.
//!
//! As in nginx's own modules (`ngx_http_limit_req_module.c` is the model):
//! flags, enums and bounded numbers are nginx's stock slots on fields that
//! create-conf sets to `NGX_CONF_UNSET` and merge-conf defaults
//! (`ngx_conf_merge_value`); only directives with real syntax (a zone spec, a
//! URL, a path, a variable) have their own setter, whose [`ConfError`] is
//! rendered once into an `[emerg]` line that names the directive and the
//! value and fails `nginx -t`.

use std::ffi::{c_char, c_void};
use std::path::PathBuf;
use std::ptr;

use ngx::ffi::{
    ngx_command_t, ngx_conf_enum_t, ngx_conf_num_bounds_t, ngx_conf_set_enum_slot, ngx_conf_t,
    ngx_flag_t, ngx_http_get_variable_index, ngx_int_t, ngx_open_file_t, ngx_parse_size,
    ngx_shm_zone_t, ngx_str_t, ngx_uint_t, NGX_CONF_UNSET, NGX_LOG_EMERG, NGX_LOG_ERR,
    NGX_LOG_INFO, NGX_LOG_NOTICE, NGX_LOG_WARN,
};
use ngx::http::{Merge, MergeConfigError};
use ngx::{core::NGX_CONF_ERROR, core::NGX_CONF_OK, ngx_conf_log_error, ngx_string};

/// Smallest zone that holds the fixed parts (header, application baselines,
/// list table) and a useful number of clients.
pub const MIN_ZONE_SIZE: usize = 1024 * 1024;

/// `NGX_CONF_UNSET` for each field type the stock slots write.
pub const UNSET: ngx_int_t = NGX_CONF_UNSET as ngx_int_t;
pub const UNSET_FLAG: ngx_flag_t = NGX_CONF_UNSET as ngx_flag_t;
pub const UNSET_UINT: ngx_uint_t = NGX_CONF_UNSET as ngx_uint_t;

/// `api_abuse on | off | monitor`. `ngx_conf_set_enum_slot` writes the field
/// as an `ngx_uint_t`: the enum has that layout (`repr(usize)`), `Unset` is
/// `NGX_CONF_UNSET_UINT`, and the slot only ever stores a value of
/// [`MODES`], each of them a variant's discriminant.
// `Unset` is `usize::MAX`, i.e. `NGX_CONF_UNSET_UINT`, on every target,
// 32-bit included (the lint judges the 64-bit value).
#[allow(clippy::enum_clike_unportable_variant)]
#[repr(usize)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Off = 0,
    On = 1,
    Monitor = 2,
    Unset = ngx_uint_t::MAX,
}

const _: () = assert!(Mode::Unset as ngx_uint_t == UNSET_UINT);
const _: () = assert!(std::mem::size_of::<Mode>() == std::mem::size_of::<ngx_uint_t>());

/// An enum directive's values, ended by an empty name as nginx expects.
/// `ngx_conf_set_enum_slot` only reads it; `static mut` because the command
/// table holds it as `*mut c_void`.
pub type EnumValues<const N: usize> = [ngx_conf_enum_t; N];

const fn value(name: ngx_str_t, value: ngx_uint_t) -> ngx_conf_enum_t {
    ngx_conf_enum_t { name, value }
}

const END: ngx_conf_enum_t = value(
    ngx_str_t {
        len: 0,
        data: ptr::null_mut(),
    },
    0,
);

pub static mut MODES: EnumValues<4> = [
    value(ngx_string!("on"), Mode::On as ngx_uint_t),
    value(ngx_string!("off"), Mode::Off as ngx_uint_t),
    value(ngx_string!("monitor"), Mode::Monitor as ngx_uint_t),
    END,
];

/// `api_abuse_log_level`, as `limit_req_log_level`.
pub static mut LOG_LEVELS: EnumValues<5> = [
    value(ngx_string!("info"), NGX_LOG_INFO as ngx_uint_t),
    value(ngx_string!("notice"), NGX_LOG_NOTICE as ngx_uint_t),
    value(ngx_string!("warn"), NGX_LOG_WARN as ngx_uint_t),
    value(ngx_string!("error"), NGX_LOG_ERR as ngx_uint_t),
    END,
];

/// Bounds of `api_abuse_status`, checked by [`check_bounds`] after
/// `ngx_conf_set_num_slot` (nginx's own check names neither the directive
/// nor the value).
pub static mut STATUS_BOUNDS: ngx_conf_num_bounds_t = bounds(400, 599);

/// Bounds of `api_abuse_ipv6_prefix`.
pub static mut IPV6_PREFIX_BOUNDS: ngx_conf_num_bounds_t = bounds(16, 128);

const fn bounds(low: ngx_int_t, high: ngx_int_t) -> ngx_conf_num_bounds_t {
    ngx_conf_num_bounds_t {
        post_handler: Some(check_bounds),
        low,
        high,
    }
}

pub struct MainConf {
    pub zone: *mut ngx_shm_zone_t,
    pub zone_name: String,
    pub state_path: Option<PathBuf>,
    pub profiles_path: Option<PathBuf>,
    /// The control zone of the profiles file (see `super::profiles`).
    pub profiles_zone: *mut ngx_shm_zone_t,
    pub events: *mut ngx_open_file_t,
    /// Index of the variable that holds the client's country code, or -1.
    pub country_var: ngx_int_t,
    /// `api_abuse_ipv6_prefix`: 16-128 once `init_main_conf` has run.
    pub ipv6_prefix: ngx_int_t,
    /// `api_abuse_sync`: where the fleet shares its run-time lists.
    pub sync: Option<crate::sync::Settings>,
}

impl Default for MainConf {
    fn default() -> Self {
        MainConf {
            zone: ptr::null_mut(),
            zone_name: String::new(),
            state_path: None,
            profiles_path: None,
            profiles_zone: ptr::null_mut(),
            events: ptr::null_mut(),
            country_var: -1,
            ipv6_prefix: UNSET,
            sync: None,
        }
    }
}

impl MainConf {
    /// Applies the defaults (`ngx_conf_init_value`), from `init_main_conf`.
    pub fn init(&mut self) {
        init_value(&mut self.ipv6_prefix, UNSET, 64);
    }

    /// The prefix length IPv6 clients are tracked and listed by.
    pub fn v6_prefix(&self) -> u8 {
        // Bounded to 16-128 by the directive, 64 by default.
        u8::try_from(self.ipv6_prefix).unwrap_or(64)
    }
}

#[derive(Debug)]
pub struct LocConf {
    pub mode: Mode,
    pub app: Option<String>,
    /// `api_abuse_status`: 400-599.
    pub status: ngx_int_t,
    /// `api_abuse_log_level`: an NGX_LOG_* level.
    pub log_level: ngx_uint_t,
    /// `api_abuse_inspect_body`: 0 or 1.
    pub inspect_body: ngx_flag_t,
    /// 0, or what `api_abuse_api` / `api_abuse_metrics` made this location.
    pub api: u8,
    /// Bearer tokens of `api_abuse_api ... token=FILE`.
    pub api_tokens: Option<std::sync::Arc<crate::api::Tokens>>,
    /// The API address `api_abuse_dashboard` gives its page.
    pub dashboard_api: Option<String>,
}

impl Default for LocConf {
    fn default() -> Self {
        LocConf {
            mode: Mode::Unset,
            app: None,
            status: UNSET,
            log_level: UNSET_UINT,
            inspect_body: UNSET_FLAG,
            api: 0,
            api_tokens: None,
            dashboard_api: None,
        }
    }
}

/// `ngx_conf_init_value`.
fn init_value<T: Copy + PartialEq>(conf: &mut T, unset: T, default: T) {
    if *conf == unset {
        *conf = default;
    }
}

/// `ngx_conf_merge_value`: this level's value, else the enclosing level's,
/// else the default.
fn merge_value<T: Copy + PartialEq>(conf: &mut T, prev: T, unset: T, default: T) {
    if *conf == unset {
        *conf = if prev == unset { default } else { prev };
    }
}

impl Merge for LocConf {
    fn merge(&mut self, prev: &LocConf) -> Result<(), MergeConfigError> {
        merge_value(&mut self.mode, prev.mode, Mode::Unset, Mode::Off);
        if self.app.is_none() {
            self.app = Some(prev.app.clone().unwrap_or_else(|| "default".to_string()));
        }
        merge_value(&mut self.status, prev.status, UNSET, 403);
        merge_value(
            &mut self.log_level,
            prev.log_level,
            UNSET_UINT,
            NGX_LOG_ERR as ngx_uint_t,
        );
        merge_value(&mut self.inspect_body, prev.inspect_body, UNSET_FLAG, 0);
        // The API and metrics are never refused by the module itself (an
        // operator must not list themselves out of the API); protect them
        // with allow/deny and tokens.
        if self.api != 0 {
            self.mode = Mode::Off;
        }
        Ok(())
    }
}

impl LocConf {
    pub fn app(&self) -> &[u8] {
        self.app.as_deref().unwrap_or("default").as_bytes()
    }
}

/// Why a directive with its own setter was refused. Rendered once, by
/// [`run_setter`], into the `[emerg]` line.
#[derive(Debug, thiserror::Error)]
pub enum ConfError {
    #[error("\"{0}\" directive is duplicate")]
    Duplicate(&'static str),
    #[error("invalid value \"{value}\" in \"{directive}\" directive, {why}")]
    Invalid {
        directive: &'static str,
        value: String,
        why: &'static str,
    },
    #[error("invalid parameter \"{value}\" in \"{directive}\" directive, {why}")]
    InvalidParameter {
        directive: &'static str,
        value: String,
        why: &'static str,
    },
    #[error(
        "\"{0}\" directive is duplicate or mixed with \"api_abuse_api\" / \"api_abuse_metrics\""
    )]
    Mixed(&'static str),
    #[error("zone \"{zone}\" is too small in \"api_abuse_zone\" directive: {why}")]
    ZoneTooSmall { zone: String, why: String },
    #[error("shared zone \"{0}\" cannot be added")]
    CannotAddZone(String),
    #[error("shared zone \"{0}\" is already used by \"api_abuse_zone\"")]
    ZoneInUse(String),
    #[error("cannot open events file \"{0}\"")]
    EventsFile(String),
    #[error("\"{0}\" is only allowed inside a location")]
    NotInLocation(&'static str),
    #[error("\"api_abuse_sync\": {0}")]
    Sync(String),
    #[error(transparent)]
    Profiles(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Tokens(#[from] crate::api::tokens::TokenError),
    #[error("out of memory")]
    NoMemory,
}

impl ConfError {
    /// `invalid value "V" in "D" directive, WHY`.
    pub fn invalid(directive: &'static str, value: &ngx_str_t, why: &'static str) -> ConfError {
        ConfError::Invalid {
            directive,
            value: text(value),
            why,
        }
    }
}

/// The arguments of the directive being parsed (index 0 is its name).
///
/// # Safety
/// `cf` must be the conf passed to a directive handler.
unsafe fn args<'a>(cf: *mut ngx_conf_t) -> &'a [ngx_str_t] {
    // SAFETY: the caller passes a conf nginx is parsing with; its `args`
    // array holds the directive's words until the handler returns.
    unsafe {
        let a = (*cf).args;
        if a.is_null() {
            return &[];
        }
        (*a).as_slice()
    }
}

/// Argument `i`, or an empty string (nginx checks the count before calling).
pub(super) fn arg(a: &[ngx_str_t], i: usize) -> ngx_str_t {
    a.get(i).copied().unwrap_or(ngx_str_t {
        len: 0,
        data: ptr::null_mut(),
    })
}

fn text(s: &ngx_str_t) -> String {
    String::from_utf8_lossy(super::util::bytes(s)).into_owned()
}

/// Runs a setter body; turns its error into one `[emerg]` line and
/// `NGX_CONF_ERROR`, and never lets a panic reach nginx.
pub(super) fn run_setter(
    cf: *mut ngx_conf_t,
    f: impl FnOnce(&[ngx_str_t]) -> Result<(), ConfError>,
) -> *mut c_char {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: nginx calls directive handlers with a valid cf and args.
        let a = unsafe { args(cf) };
        f(a)
    }));
    let msg = match result {
        Ok(Ok(())) => return NGX_CONF_OK,
        Ok(Err(e)) => e.to_string(),
        Err(_) => "internal error while parsing the directive".to_string(),
    };
    ngx_conf_log_error!(NGX_LOG_EMERG, cf, "{}", msg);
    NGX_CONF_ERROR
}

/// `ngx_conf_set_enum_slot` (field at `cmd.offset`, values in `cmd.post`)
/// whose refusal names the directive and its values: the stock slot says
/// only `invalid value "X"`.
pub unsafe extern "C" fn set_enum(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    let known = std::panic::catch_unwind(|| {
        // SAFETY: nginx passes the directive being parsed and its command,
        // whose `post` is one of our `EnumValues` tables (see mod.rs).
        let (a, cmd) = unsafe { (args(cf), &*cmd) };
        // SAFETY: as above; the table ends with an empty name.
        let values = unsafe { enum_values(cmd.post) };
        let v = a.get(1).map(super::util::bytes).unwrap_or_default();
        if values
            .iter()
            .any(|e| super::util::bytes(&e.name).eq_ignore_ascii_case(v))
        {
            return true;
        }
        let names: Vec<String> = values
            .iter()
            .map(|e| format!("\"{}\"", text(&e.name)))
            .collect();
        let choices = match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        ngx_conf_log_error!(
            NGX_LOG_EMERG,
            cf,
            "invalid value \"{}\" in \"{}\" directive, it must be {choices}",
            String::from_utf8_lossy(v),
            text(&cmd.name)
        );
        false
    });
    if !known.unwrap_or(false) {
        return NGX_CONF_ERROR;
    }
    // SAFETY: the arguments nginx passed, for the slot they were meant for;
    // the value is one of the table's, so the slot stores a valid one.
    unsafe { ngx_conf_set_enum_slot(cf, cmd, conf) }
}

/// The entries of an `EnumValues` table, without its terminator.
///
/// # Safety
/// `post` must point to an array of `ngx_conf_enum_t` ended by an empty name,
/// alive for `'a`.
unsafe fn enum_values<'a>(post: *mut c_void) -> &'a [ngx_conf_enum_t] {
    let first = post.cast::<ngx_conf_enum_t>();
    let mut n = 0;
    // SAFETY: the caller guarantees the terminator, so every entry read up
    // to it is inside the array.
    unsafe {
        while (*first.add(n)).name.len != 0 {
            n += 1;
        }
        std::slice::from_raw_parts(first, n)
    }
}

/// Post handler of `ngx_conf_set_num_slot`: the value must lie within the
/// `ngx_conf_num_bounds_t` it is attached to.
unsafe extern "C" fn check_bounds(
    cf: *mut ngx_conf_t,
    post: *mut c_void,
    data: *mut c_void,
) -> *mut c_char {
    let ok = std::panic::catch_unwind(|| {
        // SAFETY: nginx calls the post handler with the command's `post`
        // (one of our bounds) and the field it just wrote (an ngx_int_t).
        let (b, n) = unsafe {
            (
                &*post.cast::<ngx_conf_num_bounds_t>(),
                *data.cast::<ngx_int_t>(),
            )
        };
        if (b.low..=b.high).contains(&n) {
            return true;
        }
        // SAFETY: called while the directive's arguments are being parsed.
        let a = unsafe { args(cf) };
        let (name, value) = match a {
            [name, value, ..] => (text(name), text(value)),
            _ => (String::new(), n.to_string()),
        };
        ngx_conf_log_error!(
            NGX_LOG_EMERG,
            cf,
            "invalid value \"{value}\" in \"{name}\" directive, it must be between {} and {}",
            b.low,
            b.high
        );
        false
    });
    if ok.unwrap_or(false) {
        NGX_CONF_OK
    } else {
        NGX_CONF_ERROR
    }
}

/// `api_abuse_zone NAME:SIZE [state=PATH]`
pub extern "C" fn set_zone(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    run_setter(cf, |a| {
        // SAFETY: the command has NGX_HTTP_MAIN_CONF_OFFSET, so nginx passes
        // the MainConf create_main_conf made for this module.
        let mcf = unsafe { &mut *conf.cast::<MainConf>() };
        if !mcf.zone.is_null() {
            return Err(ConfError::Duplicate("api_abuse_zone"));
        }
        let spec = &arg(a, 1);
        let raw = spec.as_bytes();
        let colon = raw.iter().rposition(|b| *b == b':').ok_or_else(|| {
            ConfError::invalid(
                "api_abuse_zone",
                spec,
                "it must be NAME:SIZE, e.g. abuse:64m",
            )
        })?;
        let (name, size) = (&raw[..colon], &raw[colon + 1..]);
        if name.is_empty() {
            return Err(ConfError::invalid(
                "api_abuse_zone",
                spec,
                "the zone name is empty",
            ));
        }
        let mut size_str = ngx_str_t {
            len: size.len(),
            data: size.as_ptr().cast_mut(),
        };
        // SAFETY: size_str points into the argument, which outlives the call.
        let bytes = unsafe { ngx_parse_size(&mut size_str) };
        if bytes < 0 {
            return Err(ConfError::invalid(
                "api_abuse_zone",
                spec,
                "the size must be like 64m",
            ));
        }
        let bytes = bytes as usize;
        if bytes < MIN_ZONE_SIZE {
            return Err(ConfError::ZoneTooSmall {
                zone: String::from_utf8_lossy(name).into_owned(),
                why: format!(
                    "{bytes} bytes, at least {}k are needed",
                    MIN_ZONE_SIZE / 1024
                ),
            });
        }
        // Lay the zone out on paper now, so `nginx -t` refuses a zone that
        // cannot hold the tables (the slab pool keeps about 1/8 for itself).
        if let Err(e) = crate::shared::plan(bytes - bytes / 8) {
            return Err(ConfError::ZoneTooSmall {
                zone: String::from_utf8_lossy(name).into_owned(),
                why: e.to_string(),
            });
        }
        for extra in a.iter().skip(2) {
            let e = extra.as_bytes();
            if let Some(path) = e.strip_prefix(b"state=") {
                if path.is_empty() {
                    return Err(ConfError::invalid(
                        "api_abuse_zone",
                        extra,
                        "state= needs a path",
                    ));
                }
                mcf.state_path = Some(super::resolve_conf_path(cf, &String::from_utf8_lossy(path)));
            } else {
                return Err(ConfError::invalid(
                    "api_abuse_zone",
                    extra,
                    "only state=PATH may follow NAME:SIZE",
                ));
            }
        }
        mcf.zone_name = String::from_utf8_lossy(name).into_owned();
        mcf.zone = super::zone::add(cf, name, bytes, mcf.state_path.clone())?;
        Ok(())
    })
}

/// `api_abuse_sync redis://[user:password@]HOST:PORT[/DB] [prefix=NAME]
/// [password_file=FILE] [node=NAME]`
pub extern "C" fn set_sync(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    run_setter(cf, |a| {
        // SAFETY: the command has NGX_HTTP_MAIN_CONF_OFFSET, so nginx passes
        // the MainConf create_main_conf made for this module.
        let mcf = unsafe { &mut *conf.cast::<MainConf>() };
        if mcf.sync.is_some() {
            return Err(ConfError::Duplicate("api_abuse_sync"));
        }
        let args: Vec<String> = a.iter().skip(1).map(text).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let settings = crate::sync::settings::parse(
            &args,
            |p| std::fs::read_to_string(super::resolve_conf_path(cf, &p.to_string_lossy())),
            &crate::sync::settings::hostname(),
        )
        .map_err(ConfError::Sync)?;
        mcf.sync = Some(settings);
        Ok(())
    })
}

/// `api_abuse_profiles PATH`
pub extern "C" fn set_profiles(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    run_setter(cf, |a| {
        // SAFETY: the command has NGX_HTTP_MAIN_CONF_OFFSET, so nginx passes
        // the MainConf create_main_conf made for this module.
        let mcf = unsafe { &mut *conf.cast::<MainConf>() };
        if mcf.profiles_path.is_some() {
            return Err(ConfError::Duplicate("api_abuse_profiles"));
        }
        let path = arg(a, 1);
        if path.is_empty() {
            return Err(ConfError::invalid(
                "api_abuse_profiles",
                &path,
                "it must be a path",
            ));
        }
        let path = super::resolve_conf_path(cf, &text(&path));
        // `nginx -s reopen|quit|reload|stop` parses nginx.conf only to find
        // the pid file: the file is not read there, so signals work whatever
        // state it is in (the master validates it again on reload).
        if !is_signaller() {
            // Refusing a broken file at `nginx -t` / start / reload keeps the
            // running configuration, which is the operator's "last good" one.
            mcf.profiles_zone = super::profiles::add(cf, path.clone())?;
        }
        mcf.profiles_path = Some(path);
        Ok(())
    })
}

/// True in the short-lived process of `nginx -s SIGNAL`.
pub(super) fn is_signaller() -> bool {
    // SAFETY: plain read of a process global nginx sets before parsing.
    unsafe { ngx::ffi::ngx_process == ngx::ffi::NGX_PROCESS_SIGNALLER as ngx_uint_t }
}

/// `api_abuse_events PATH`
pub extern "C" fn set_events(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    run_setter(cf, |a| {
        // SAFETY: the command has NGX_HTTP_MAIN_CONF_OFFSET, so nginx passes
        // the MainConf create_main_conf made for this module.
        let mcf = unsafe { &mut *conf.cast::<MainConf>() };
        if !mcf.events.is_null() {
            return Err(ConfError::Duplicate("api_abuse_events"));
        }
        let mut name = arg(a, 1);
        if name.is_empty() {
            return Err(ConfError::invalid(
                "api_abuse_events",
                &name,
                "it must be a path",
            ));
        }
        // SAFETY: cf is valid; ngx_conf_open_file registers the file in the
        // cycle so nginx opens it, and reopens it on `nginx -s reopen`.
        let file = unsafe { ngx::ffi::ngx_conf_open_file((*cf).cycle, &mut name) };
        if file.is_null() {
            return Err(ConfError::EventsFile(text(&name)));
        }
        mcf.events = file;
        Ok(())
    })
}

/// `api_abuse_country $variable`
pub extern "C" fn set_country(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    run_setter(cf, |a| {
        // SAFETY: the command has NGX_HTTP_MAIN_CONF_OFFSET, so nginx passes
        // the MainConf create_main_conf made for this module.
        let mcf = unsafe { &mut *conf.cast::<MainConf>() };
        let v = &arg(a, 1);
        let bytes = v.as_bytes();
        if bytes.len() < 2 || bytes[0] != b'$' {
            return Err(ConfError::invalid(
                "api_abuse_country",
                v,
                "it must be a variable such as $geoip2_data_country_code",
            ));
        }
        let mut name = ngx_str_t {
            len: v.len - 1,
            data: v.data.wrapping_add(1),
        };
        // SAFETY: cf valid, name points into the argument.
        let idx = unsafe { ngx_http_get_variable_index(cf, &mut name) };
        if idx < 0 {
            return Err(ConfError::invalid(
                "api_abuse_country",
                v,
                "unknown variable",
            ));
        }
        mcf.country_var = idx;
        Ok(())
    })
}

/// `api_abuse_app NAME`
pub extern "C" fn set_app(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    run_setter(cf, |a| {
        // SAFETY: the command has NGX_HTTP_LOC_CONF_OFFSET, so nginx passes
        // the LocConf create_loc_conf made for this level.
        let lcf = unsafe { &mut *conf.cast::<LocConf>() };
        if lcf.app.is_some() {
            return Err(ConfError::Duplicate("api_abuse_app"));
        }
        let v = &arg(a, 1);
        let ok = !v.is_empty()
            && v.len <= 64
            && v.as_bytes()
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(b));
        if !ok {
            return Err(ConfError::invalid(
                "api_abuse_app",
                v,
                "it must be 1-64 letters, digits, \"-\", \"_\" or \".\"",
            ));
        }
        lcf.app = Some(text(v));
        Ok(())
    })
}
