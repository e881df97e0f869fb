//! `$api_abuse_*` variables: what the module decided for this request, for
//! `log_format`, `add_header` and headers passed to upstreams.

use std::ptr::addr_of_mut;

use ngx::core::Status;
use ngx::ffi::{
    ngx_conf_t, ngx_http_add_variable, ngx_http_request_t, ngx_http_variable_value_t, ngx_int_t,
    ngx_str_t, ngx_uint_t, NGX_HTTP_VAR_NOCACHEABLE,
};

use super::handlers::{ctx_of, Ctx};

#[derive(Clone, Copy)]
enum Var {
    Action,
    List,
    BotType,
    Confidence,
    Attack,
}

const VARS: [(&str, Var); 5] = [
    ("api_abuse_action", Var::Action),
    ("api_abuse_list", Var::List),
    ("api_abuse_bot_type", Var::BotType),
    ("api_abuse_confidence", Var::Confidence),
    ("api_abuse_attack", Var::Attack),
];

/// Confidence values as text, so the variable needs no allocation.
static PERCENT: [&str; 101] = [
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
    "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32",
    "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46", "47", "48",
    "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60", "61", "62", "63", "64",
    "65", "66", "67", "68", "69", "70", "71", "72", "73", "74", "75", "76", "77", "78", "79", "80",
    "81", "82", "83", "84", "85", "86", "87", "88", "89", "90", "91", "92", "93", "94", "95", "96",
    "97", "98", "99", "100",
];

pub fn register(cf: *mut ngx_conf_t) -> Status {
    for (i, (name, _)) in VARS.iter().enumerate() {
        let mut s = ngx_str_t {
            len: name.len(),
            data: name.as_ptr().cast_mut(),
        };
        // SAFETY: cf is valid in preconfiguration; nginx copies the name.
        let v = unsafe {
            ngx_http_add_variable(cf, addr_of_mut!(s), NGX_HTTP_VAR_NOCACHEABLE as ngx_uint_t)
        };
        if v.is_null() {
            return Status::NGX_ERROR;
        }
        // SAFETY: v is the variable nginx just created.
        unsafe {
            (*v).get_handler = Some(get);
            (*v).data = i;
        }
    }
    Status::NGX_OK
}

fn text(ctx: &Ctx, var: Var) -> &'static str {
    match var {
        Var::Action => ctx.action.as_str(),
        Var::List => ctx.list.as_str(),
        Var::BotType => ctx.bot.map_or("", |b| b.as_str()),
        Var::Confidence => {
            if ctx.bot.is_some() {
                PERCENT[usize::from(ctx.confidence.min(100))]
            } else {
                ""
            }
        }
        Var::Attack => ctx.attack.map_or("", |a| a.as_str()),
    }
}

unsafe extern "C" fn get(
    r: *mut ngx_http_request_t,
    v: *mut ngx_http_variable_value_t,
    data: usize,
) -> ngx_int_t {
    let out = std::panic::catch_unwind(|| {
        let var = VARS.get(data).map(|(_, v)| *v)?;
        // SAFETY: nginx passes the live request.
        let ctx = unsafe { ctx_of(r) }?;
        Some(text(ctx, var))
    })
    .ok()
    .flatten()
    .unwrap_or("");
    // SAFETY: nginx passes the variable value it asks us to fill.
    let v = unsafe { &mut *v };
    v.set_valid(1);
    v.set_no_cacheable(1);
    v.set_not_found(0);
    v.set_len(out.len() as u32);
    v.data = out.as_ptr().cast_mut();
    Status::NGX_OK.into()
}
