//! Configuration: the http-level main conf, the per-location conf, their
//! defaults (create sets "unset", merge applies the default) and the directive
//! setters. Every setter validates its value and fails `nginx -t` with an
//! `[emerg]` line that names the directive and the value.

use std::ffi::{c_char, c_void};
use std::path::PathBuf;
use std::ptr;

use ngx::ffi::{
    ngx_command_t, ngx_conf_t, ngx_http_get_variable_index, ngx_int_t, ngx_open_file_t,
    ngx_parse_size, ngx_shm_zone_t, ngx_str_t, ngx_uint_t, NGX_LOG_EMERG, NGX_LOG_ERR,
    NGX_LOG_INFO, NGX_LOG_NOTICE, NGX_LOG_WARN,
};
use ngx::http::{Merge, MergeConfigError};
use ngx::{core::NGX_CONF_ERROR, core::NGX_CONF_OK, ngx_conf_log_error};

/// Smallest zone that holds the fixed parts (header, application baselines,
/// list table) and a useful number of clients.
pub const MIN_ZONE_SIZE: usize = 1024 * 1024;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Unset,
    Off,
    On,
    Monitor,
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
    pub ipv6_prefix: u8,
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
            ipv6_prefix: 0,
            sync: None,
        }
    }
}

#[derive(Debug, Default)]
pub struct LocConf {
    pub mode: Mode,
    pub app: Option<String>,
    /// 0 = unset.
    pub status: u16,
    /// 0 = unset; otherwise an NGX_LOG_* level.
    pub log_level: ngx_uint_t,
    pub inspect_body: Option<bool>,
    /// 0, or what `api_abuse_api` / `api_abuse_metrics` made this location.
    pub api: u8,
    /// Bearer tokens of `api_abuse_api ... token=FILE`.
    pub api_tokens: Option<std::sync::Arc<crate::api::Tokens>>,
    /// The API address `api_abuse_dashboard` gives its page.
    pub dashboard_api: Option<String>,
}

impl Merge for LocConf {
    fn merge(&mut self, prev: &LocConf) -> Result<(), MergeConfigError> {
        if self.mode == Mode::Unset {
            self.mode = if prev.mode == Mode::Unset {
                Mode::Off
            } else {
                prev.mode
            };
        }
        if self.app.is_none() {
            self.app = Some(prev.app.clone().unwrap_or_else(|| "default".to_string()));
        }
        if self.status == 0 {
            self.status = if prev.status == 0 { 403 } else { prev.status };
        }
        if self.log_level == 0 {
            self.log_level = if prev.log_level == 0 {
                NGX_LOG_ERR as ngx_uint_t
            } else {
                prev.log_level
            };
        }
        if self.inspect_body.is_none() {
            self.inspect_body = Some(prev.inspect_body.unwrap_or(false));
        }
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

/// The arguments of the directive being parsed (index 0 is its name).
///
/// # Safety
/// `cf` must be the conf passed to a directive handler.
unsafe fn args<'a>(cf: *mut ngx_conf_t) -> &'a [ngx_str_t] {
    let a = (*cf).args;
    if a.is_null() {
        return &[];
    }
    (*a).as_slice()
}

fn text(s: &ngx_str_t) -> String {
    String::from_utf8_lossy(s.as_bytes()).into_owned()
}

/// Runs a setter body; turns its error into one `[emerg]` line and
/// `NGX_CONF_ERROR`, and never lets a panic reach nginx.
pub(super) fn run_setter(
    cf: *mut ngx_conf_t,
    f: impl FnOnce(&[ngx_str_t]) -> Result<(), String>,
) -> *mut c_char {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: nginx calls directive handlers with a valid cf and args.
        let a = unsafe { args(cf) };
        f(a)
    }));
    let msg = match result {
        Ok(Ok(())) => return NGX_CONF_OK,
        Ok(Err(msg)) => msg,
        Err(_) => "internal error while parsing the directive".to_string(),
    };
    ngx_conf_log_error!(NGX_LOG_EMERG, cf, "{}", msg);
    NGX_CONF_ERROR
}

fn invalid(directive: &str, value: &ngx_str_t, why: &str) -> String {
    format!(
        "invalid value \"{}\" in \"{directive}\" directive, {why}",
        text(value)
    )
}

/// `api_abuse_zone NAME:SIZE [state=PATH]`
pub extern "C" fn set_zone(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    run_setter(cf, |a| {
        // SAFETY: conf is our main conf, allocated by create_main_conf.
        let mcf = unsafe { &mut *conf.cast::<MainConf>() };
        if !mcf.zone.is_null() {
            return Err("\"api_abuse_zone\" directive is duplicate".into());
        }
        let spec = a.get(1).ok_or("\"api_abuse_zone\" needs NAME:SIZE")?;
        let raw = spec.as_bytes();
        let colon = raw.iter().rposition(|b| *b == b':').ok_or_else(|| {
            invalid(
                "api_abuse_zone",
                spec,
                "it must be NAME:SIZE, e.g. abuse:64m",
            )
        })?;
        let (name, size) = (&raw[..colon], &raw[colon + 1..]);
        if name.is_empty() {
            return Err(invalid("api_abuse_zone", spec, "the zone name is empty"));
        }
        let mut size_str = ngx_str_t {
            len: size.len(),
            data: size.as_ptr().cast_mut(),
        };
        // SAFETY: size_str points into the argument, which outlives the call.
        let bytes = unsafe { ngx_parse_size(&mut size_str) };
        if bytes < 0 {
            return Err(invalid("api_abuse_zone", spec, "the size must be like 64m"));
        }
        let bytes = bytes as usize;
        if bytes < MIN_ZONE_SIZE {
            return Err(format!(
                "zone \"{}\" is too small in \"api_abuse_zone\" directive: {} bytes, at least {}k are needed",
                String::from_utf8_lossy(name),
                bytes,
                MIN_ZONE_SIZE / 1024
            ));
        }
        // Lay the zone out on paper now, so `nginx -t` refuses a zone that
        // cannot hold the tables (the slab pool keeps about 1/8 for itself).
        if let Err(e) = crate::shared::plan(bytes - bytes / 8) {
            return Err(format!(
                "zone \"{}\" is too small in \"api_abuse_zone\" directive: {e}",
                String::from_utf8_lossy(name)
            ));
        }
        for extra in a.iter().skip(2) {
            let e = extra.as_bytes();
            if let Some(path) = e.strip_prefix(b"state=") {
                if path.is_empty() {
                    return Err(invalid("api_abuse_zone", extra, "state= needs a path"));
                }
                mcf.state_path = Some(super::resolve_conf_path(cf, &String::from_utf8_lossy(path)));
            } else {
                return Err(invalid(
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
        // SAFETY: conf is our main conf.
        let mcf = unsafe { &mut *conf.cast::<MainConf>() };
        if mcf.sync.is_some() {
            return Err("\"api_abuse_sync\" directive is duplicate".into());
        }
        let args: Vec<String> = a.iter().skip(1).map(text).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let settings = crate::sync::settings::parse(
            &args,
            |p| std::fs::read_to_string(super::resolve_conf_path(cf, &p.to_string_lossy())),
            &crate::sync::settings::hostname(),
        )
        .map_err(|e| format!("\"api_abuse_sync\": {e}"))?;
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
        // SAFETY: conf is our main conf.
        let mcf = unsafe { &mut *conf.cast::<MainConf>() };
        if mcf.profiles_path.is_some() {
            return Err("\"api_abuse_profiles\" directive is duplicate".into());
        }
        let path = a.get(1).map(text).unwrap_or_default();
        if path.is_empty() {
            return Err("\"api_abuse_profiles\" needs a path".into());
        }
        let path = super::resolve_conf_path(cf, &path);
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
        // SAFETY: conf is our main conf.
        let mcf = unsafe { &mut *conf.cast::<MainConf>() };
        if !mcf.events.is_null() {
            return Err("\"api_abuse_events\" directive is duplicate".into());
        }
        let mut name = *a.get(1).ok_or("\"api_abuse_events\" needs a path")?;
        if name.len == 0 {
            return Err("\"api_abuse_events\" needs a path".into());
        }
        // SAFETY: cf is valid; ngx_conf_open_file registers the file in the
        // cycle so nginx opens it, and reopens it on `nginx -s reopen`.
        let file = unsafe { ngx::ffi::ngx_conf_open_file((*cf).cycle, &mut name) };
        if file.is_null() {
            return Err(format!("cannot open events file \"{}\"", text(&name)));
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
        // SAFETY: conf is our main conf.
        let mcf = unsafe { &mut *conf.cast::<MainConf>() };
        let v = a.get(1).ok_or("\"api_abuse_country\" needs a $variable")?;
        let bytes = v.as_bytes();
        if bytes.len() < 2 || bytes[0] != b'$' {
            return Err(invalid(
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
            return Err(invalid("api_abuse_country", v, "unknown variable"));
        }
        mcf.country_var = idx;
        Ok(())
    })
}

/// `api_abuse_ipv6_prefix BITS`
pub extern "C" fn set_ipv6_prefix(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    run_setter(cf, |a| {
        // SAFETY: conf is our main conf.
        let mcf = unsafe { &mut *conf.cast::<MainConf>() };
        let v = a.get(1).ok_or("\"api_abuse_ipv6_prefix\" needs a number")?;
        let bits: u8 = text(v)
            .parse()
            .ok()
            .filter(|b| (16..=128).contains(b))
            .ok_or_else(|| {
                invalid(
                    "api_abuse_ipv6_prefix",
                    v,
                    "it must be a prefix length from 16 to 128",
                )
            })?;
        mcf.ipv6_prefix = bits;
        Ok(())
    })
}

/// `api_abuse on | off | monitor`
pub extern "C" fn set_mode(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    run_setter(cf, |a| {
        // SAFETY: conf is our location conf.
        let lcf = unsafe { &mut *conf.cast::<LocConf>() };
        if lcf.mode != Mode::Unset {
            return Err("\"api_abuse\" directive is duplicate".into());
        }
        let v = a.get(1).ok_or("\"api_abuse\" needs a value")?;
        lcf.mode = match v.as_bytes() {
            b"on" => Mode::On,
            b"off" => Mode::Off,
            b"monitor" => Mode::Monitor,
            _ => {
                return Err(invalid(
                    "api_abuse",
                    v,
                    "it must be \"on\", \"off\" or \"monitor\"",
                ))
            }
        };
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
        // SAFETY: conf is our location conf.
        let lcf = unsafe { &mut *conf.cast::<LocConf>() };
        if lcf.app.is_some() {
            return Err("\"api_abuse_app\" directive is duplicate".into());
        }
        let v = a.get(1).ok_or("\"api_abuse_app\" needs a name")?;
        let ok = !v.is_empty()
            && v.len <= 64
            && v.as_bytes()
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(b));
        if !ok {
            return Err(invalid(
                "api_abuse_app",
                v,
                "it must be 1-64 letters, digits, \"-\", \"_\" or \".\"",
            ));
        }
        lcf.app = Some(text(v));
        Ok(())
    })
}

/// `api_abuse_status CODE`
pub extern "C" fn set_status(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    run_setter(cf, |a| {
        // SAFETY: conf is our location conf.
        let lcf = unsafe { &mut *conf.cast::<LocConf>() };
        if lcf.status != 0 {
            return Err("\"api_abuse_status\" directive is duplicate".into());
        }
        let v = a.get(1).ok_or("\"api_abuse_status\" needs a status code")?;
        lcf.status = text(v)
            .parse()
            .ok()
            .filter(|c| (400..=599).contains(c))
            .ok_or_else(|| {
                invalid(
                    "api_abuse_status",
                    v,
                    "it must be a status code from 400 to 599",
                )
            })?;
        Ok(())
    })
}

/// `api_abuse_log_level info | notice | warn | error`
pub extern "C" fn set_log_level(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    run_setter(cf, |a| {
        // SAFETY: conf is our location conf.
        let lcf = unsafe { &mut *conf.cast::<LocConf>() };
        if lcf.log_level != 0 {
            return Err("\"api_abuse_log_level\" directive is duplicate".into());
        }
        let v = a.get(1).ok_or("\"api_abuse_log_level\" needs a level")?;
        lcf.log_level = match v.as_bytes() {
            b"info" => NGX_LOG_INFO,
            b"notice" => NGX_LOG_NOTICE,
            b"warn" => NGX_LOG_WARN,
            b"error" => NGX_LOG_ERR,
            _ => {
                return Err(invalid(
                    "api_abuse_log_level",
                    v,
                    "it must be \"info\", \"notice\", \"warn\" or \"error\"",
                ))
            }
        } as ngx_uint_t;
        Ok(())
    })
}

/// `api_abuse_inspect_body on | off`
pub extern "C" fn set_inspect_body(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    run_setter(cf, |a| {
        // SAFETY: conf is our location conf.
        let lcf = unsafe { &mut *conf.cast::<LocConf>() };
        if lcf.inspect_body.is_some() {
            return Err("\"api_abuse_inspect_body\" directive is duplicate".into());
        }
        let v = a
            .get(1)
            .ok_or("\"api_abuse_inspect_body\" needs on or off")?;
        lcf.inspect_body = Some(match v.as_bytes() {
            b"on" => true,
            b"off" => false,
            _ => {
                return Err(invalid(
                    "api_abuse_inspect_body",
                    v,
                    "it must be \"on\" or \"off\"",
                ))
            }
        });
        Ok(())
    })
}
