//! The shared zone: added by `api_abuse_zone`, laid out from the slab pool on
//! first use, found again after `nginx -s reload` (same name and size), and
//! seeded from the state file when it is new.

use std::ffi::c_void;
use std::path::PathBuf;
use std::ptr::{self, addr_of_mut};

use ngx::core::Pool;
use ngx::ffi::{
    ngx_conf_t, ngx_int_t, ngx_pagesize, ngx_shared_memory_add, ngx_shm_zone_t, ngx_slab_alloc,
    ngx_slab_pool_t, ngx_str_t, NGX_ERROR, NGX_LOG_ALERT, NGX_LOG_ERR, NGX_LOG_NOTICE, NGX_OK,
};

use super::conf::{ConfError, MainConf};
use super::worker::log_line;
use crate::shared::{plan, Regions, Shared};

/// What a configuration cycle knows about its zone.
pub struct ZoneCtx {
    pub name: String,
    pub state_path: Option<PathBuf>,
    pub shared: Option<Shared>,
}

/// The addresses of the zone's regions, kept in the slab pool's `data` so a
/// reloaded configuration finds them.
#[repr(C)]
struct Root {
    header: *mut u8,
    clients: (*mut u8, usize),
    lists: (*mut u8, usize),
    apps: (*mut u8, usize),
}

pub fn add(
    cf: *mut ngx_conf_t,
    name: &[u8],
    size: usize,
    state: Option<PathBuf>,
) -> Result<*mut ngx_shm_zone_t, ConfError> {
    let mut name_str = ngx_str_t {
        len: name.len(),
        data: name.as_ptr().cast_mut(),
    };
    // SAFETY: cf is valid during parsing; the tag is our module, so another
    // module's zone of the same name is refused by nginx.
    let zone = unsafe {
        ngx_shared_memory_add(
            cf,
            &mut name_str,
            size,
            addr_of_mut!(super::ngx_http_api_abuse_module).cast(),
        )
    };
    if zone.is_null() {
        return Err(ConfError::CannotAddZone(
            String::from_utf8_lossy(name).into_owned(),
        ));
    }
    // SAFETY: zone was just returned by nginx.
    let z = unsafe { &mut *zone };
    if !z.data.is_null() {
        return Err(ConfError::ZoneInUse(
            String::from_utf8_lossy(name).into_owned(),
        ));
    }
    // SAFETY: the conf pool lives as long as the cycle that uses the zone.
    let pool = unsafe { Pool::from_ngx_pool((*cf).pool) };
    let ctx = pool.allocate(ZoneCtx {
        name: String::from_utf8_lossy(name).into_owned(),
        state_path: state,
        shared: None,
    });
    if ctx.is_null() {
        return Err(ConfError::NoMemory);
    }
    z.init = Some(init);
    z.data = ctx.cast();
    Ok(zone)
}

/// Whether the zone's state file is to be written (there is one, and a
/// refused file was not left in its place).
pub fn state_writable(mcf: &MainConf) -> bool {
    mcf.state_path.is_some()
        && shared(mcf).is_some_and(|s| {
            s.list_counters()
                .state_kept
                .load(std::sync::atomic::Ordering::Relaxed)
                == 0
        })
}

/// The zone's handle for this process, once the zone is initialised.
pub fn shared(mcf: &MainConf) -> Option<&'static Shared> {
    if mcf.zone.is_null() {
        return None;
    }
    // SAFETY: zone and its ctx live as long as the cycle.
    unsafe {
        let ctx = (*mcf.zone).data.cast::<ZoneCtx>();
        ctx.as_ref().and_then(|c| c.shared.as_ref())
    }
}

unsafe extern "C" fn init(zone: *mut ngx_shm_zone_t, _old: *mut c_void) -> ngx_int_t {
    std::panic::catch_unwind(|| {
        // SAFETY: nginx calls init with the zone it created.
        unsafe { init_zone(&mut *zone) }
    })
    .unwrap_or(NGX_ERROR as ngx_int_t)
}

/// # Safety
/// `zone` must be one `add` registered, being initialised by nginx: its
/// `data` is our `ZoneCtx`, its memory a slab pool.
unsafe fn init_zone(zone: &mut ngx_shm_zone_t) -> ngx_int_t {
    // SAFETY: `add` set `data` to a ZoneCtx in the cycle's pool.
    let ctx = unsafe { &mut *zone.data.cast::<ZoneCtx>() };
    let log = zone.shm.log;
    let pool = zone.shm.addr.cast::<ngx_slab_pool_t>();
    // SAFETY: nginx lays a slab pool at the start of every shared zone
    // before calling init; only the master runs init, single-threaded.
    let root = unsafe { (*pool).data.cast::<Root>() };
    if !root.is_null() {
        // SAFETY: a non-null pool `data` is the Root `create` wrote in this
        // same memory for an earlier cycle (reload: same name and size), and
        // its regions are the ones Shared::create laid out.
        let attached = unsafe { Shared::attach(&regions(&*root)) };
        return match attached {
            Ok(s) => {
                ctx.shared = Some(s);
                NGX_OK as ngx_int_t
            }
            Err(e) => {
                log_line(
                    log,
                    NGX_LOG_ALERT as usize,
                    &format!(
                        "api_abuse: zone \"{}\": {e}; use a new zone name or restart nginx",
                        ctx.name
                    ),
                );
                NGX_ERROR as ngx_int_t
            }
        };
    }

    // The client table is sized by trial (the slab pool's page bookkeeping
    // makes the usable size hard to know exactly): silence the pool's own
    // "no memory" [crit] lines while trying.
    // SAFETY: the zone's own slab pool, not yet used by anyone but us.
    let created = unsafe {
        let log_nomem = (*pool).log_nomem();
        (*pool).set_log_nomem(0);
        let created = create(pool, &ctx.name);
        (*pool).set_log_nomem(log_nomem);
        created
    };
    match created {
        Ok((root, shared)) => {
            // SAFETY: as above; a reload finds the Root here.
            unsafe { (*pool).data = root.cast() };
            if let Some(path) = &ctx.state_path {
                match crate::state::load(&shared, path) {
                    Ok(Some(report)) => log_line(
                        log,
                        NGX_LOG_NOTICE as usize,
                        &format!(
                            "api_abuse: zone \"{}\": state loaded from \"{}\": {report}",
                            ctx.name,
                            path.display()
                        ),
                    ),
                    Ok(None) => {}
                    Err(e) => {
                        // kept in the zone, so a reload remembers it too
                        let kept = refuse_state(log, &ctx.name, path, &e);
                        shared
                            .list_counters()
                            .state_kept
                            .store(u32::from(kept), std::sync::atomic::Ordering::Relaxed);
                    }
                }
            }
            let cap = shared.clients.capacity();
            log_line(
                log,
                NGX_LOG_NOTICE as usize,
                &format!(
                    "api_abuse: zone \"{}\" holds {cap} clients and {} list entries",
                    ctx.name,
                    shared.lists.capacity()
                ),
            );
            ctx.shared = Some(shared);
            NGX_OK as ngx_int_t
        }
        Err(e) => {
            log_line(
                log,
                NGX_LOG_ALERT as usize,
                &format!("api_abuse: zone \"{}\": {e}", ctx.name),
            );
            NGX_ERROR as ngx_int_t
        }
    }
}

/// Logs the one line about a refused state file and renames it aside;
/// returns true when it had to stay where it is.
fn refuse_state(
    log: *mut ngx::ffi::ngx_log_t,
    zone: &str,
    path: &std::path::Path,
    why: &crate::state::Refused,
) -> bool {
    // SAFETY: nginx sets ngx_test_config once, before any zone is created.
    let testing = unsafe { ngx::ffi::ngx_test_config } != 0;
    let (kept, what) = if testing {
        // `nginx -t` only checks: the file is left for the real start to
        // refuse and rename, so a config test never moves an operator's file.
        (true, "it would be renamed aside at start".to_string())
    } else if why.set_aside() {
        match crate::state::set_aside(path) {
            Ok(to) => (
                false,
                format!(
                    "renamed to \"{}\"; starting with an empty zone",
                    to.display()
                ),
            ),
            Err(e) => (
                true,
                format!("cannot rename it aside ({e}): it is left alone and no state is saved"),
            ),
        }
    } else {
        (true, "it is left alone and no state is saved".to_string())
    };
    log_line(
        log,
        NGX_LOG_ERR as usize,
        &format!(
            "api_abuse: zone \"{zone}\": state file \"{}\" refused: {why}; {what}",
            path.display()
        ),
    );
    kept
}

fn regions(root: &Root) -> Regions {
    Regions {
        header: root.header,
        clients: root.clients,
        lists: root.lists,
        apps: root.apps,
    }
}

/// Allocates and lays out the regions. The slab pool's page bookkeeping makes
/// the usable size hard to know in advance, so a region that does not fit is
/// retried smaller.
///
/// # Safety
/// `pool` must be a fresh zone's slab pool, used by no other process yet.
unsafe fn create(pool: *mut ngx_slab_pool_t, name: &str) -> Result<(*mut Root, Shared), String> {
    let align = Shared::region_align();
    let alloc = |size: usize| -> *mut u8 {
        // Slab allocations of a page or more are page aligned, smaller ones
        // aligned to their power-of-two size; asking for at least `align`
        // bytes rounded up keeps every region aligned.
        // SAFETY: the caller's pool; ngx_slab_alloc takes its mutex.
        let p =
            unsafe { ngx_slab_alloc(pool, size.max(align).next_multiple_of(align)) }.cast::<u8>();
        if p as usize % align != 0 {
            return ptr::null_mut();
        }
        p
    };
    let root = alloc(std::mem::size_of::<Root>()).cast::<Root>();
    if root.is_null() {
        return Err("zone too small".into());
    }
    // SAFETY: a plain read of the pool's free page count and of a global
    // nginx sets at start.
    let free = unsafe { (*pool).pfree * ngx_pagesize };
    let [header, clients, lists, apps] = plan(free).map_err(|e| e.to_string())?;
    let h = alloc(header);
    let a = alloc(apps);
    let l = alloc(lists);
    if h.is_null() || a.is_null() || l.is_null() {
        return Err("zone too small for its fixed part".into());
    }
    let mut size = clients;
    let c = loop {
        let c = alloc(size);
        if !c.is_null() {
            break c;
        }
        size -= size / 32;
        if size < clients / 2 {
            return Err(format!("zone \"{name}\": cannot allocate the client table"));
        }
    };
    let regions = Regions {
        header: h,
        clients: (c, size),
        lists: (l, lists),
        apps: (a, apps),
    };
    let seed = crate::table::random_seed();
    // SAFETY: four distinct, aligned slab allocations of the sizes given,
    // in a zone that lives until the last process detaches.
    let shared = unsafe { Shared::create(&regions, seed) }.map_err(|e| e.to_string())?;
    // SAFETY: `root` is a slab allocation sized and aligned for a Root.
    unsafe {
        root.write(Root {
            header: h,
            clients: (c, size),
            lists: (l, lists),
            apps: (a, apps),
        })
    };
    Ok((root, shared))
}
