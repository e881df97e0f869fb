//! The profiles file, server-wide: compiled once per change, mapped by every
//! worker.
//!
//! A profiles file with a million list entries is tens of megabytes compiled;
//! a copy per worker would multiply that by the worker count. So the file is
//! compiled into a read-only image ([`crate::lists::Image`]) written once to
//! a directory private to this nginx (`/dev/shm/nginx-api-abuse.<token>/`,
//! mode 0700, owned by the workers' user), and every worker maps it: the
//! kernel keeps one copy of its pages for the whole server.
//!
//! Who compiles:
//! - at start and on `nginx -s reload`, the master, while it reads nginx.conf
//!   (a broken file fails the configuration, so nginx keeps the running one);
//!   it writes the image once the control zone exists, then frees its copy;
//! - at run time, the first worker that sees the file changed (inode, size,
//!   mtime, checked every second) and wins the `builder` slot of the control
//!   block (compare-and-swap of its pid; a slot held by a dead pid, or for
//!   more than two minutes, is taken over). It compiles in a helper process
//!   (see [`super::helper`]: no thread in a worker), which takes the slot
//!   over under its own pid, writes the image under a new id, publishes it
//!   and exits, so the worker's memory never holds the parsed file. A file
//!   that fails validation (or whose compile dies, e.g. killed by the OOM
//!   killer) is recorded as refused, so it is reported once (by that worker)
//!   and not compiled again until it changes.
//!
//! How the others follow: the control block, in a small shared zone, holds
//! the id of the image in force and the stat of the file it came from.
//! Publishing writes the stat, then the id (release); every worker reads the
//! id once a second (acquire) and, when it differs from the image it holds,
//! maps the new file and swaps it in (`arc-swap`): a `mmap` and a checksum
//! pass over the image, done on the event loop (a few milliseconds for a
//! million entries, once per change). A
//! worker that starts later (a respawn after a crash, a reload) maps the
//! image in force at once. Requests never wait: lookups read the mapping,
//! without locks; the previous image is unmapped when its last reader is done
//! and its file is removed when the next one is published.

use std::ffi::c_void;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::ptr::{self, addr_of_mut};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use arc_swap::cache::Cache;
use arc_swap::ArcSwapOption;
use ngx::core::Pool;
use ngx::ffi::{
    ngx_conf_t, ngx_core_conf_t, ngx_core_module, ngx_cycle_t, ngx_int_t, ngx_log_t,
    ngx_shared_memory_add, ngx_shm_zone_t, ngx_slab_alloc, ngx_slab_pool_t, ngx_str_t,
    ngx_test_config, NGX_ERROR, NGX_LOG_ALERT, NGX_LOG_ERR, NGX_LOG_NOTICE, NGX_OK,
};

use super::conf::ConfError;
use super::helper::Helper;
use super::worker::log_line;
use crate::config::{Profile, Profiles};
use crate::lists::Image;

const ZONE_NAME: &str = "api_abuse:profiles";
/// The control block is a few hundred bytes; nginx's slab pool wants pages.
const ZONE_SIZE: usize = 64 * 1024;
/// A builder that holds the slot this long is presumed stuck.
const BUILDER_TIMEOUT_S: u64 = 120;
/// How soon to look again while a compile or a mapping is under way.
const POLL_MS: usize = 20;
/// How often to look for the image while another worker compiles one.
const WAIT_MS: usize = 100;
/// How often to look at the file and the control block otherwise.
pub const CHECK_MS: usize = 1000;

/// (device, inode, size, mtime in ns) of the file; all zero when it is missing.
type Stamp = [u64; 4];

pub fn stamp(path: &Path) -> Stamp {
    match std::fs::metadata(path) {
        Ok(m) => [
            m.dev(),
            m.ino(),
            m.size(),
            (m.mtime() as u64)
                .wrapping_mul(1_000_000_000)
                .wrapping_add(m.mtime_nsec() as u64),
        ],
        Err(_) => [0; 4],
    }
}

/// Shared by the master and every worker, in the control zone.
#[repr(C)]
struct Control {
    /// Names the image directory of this server.
    token: AtomicU64,
    /// Last image id handed out.
    next_id: AtomicU64,
    /// Id of the image in force; 0: none published.
    generation: AtomicU64,
    /// Of the file the image in force was compiled from.
    stamp: [AtomicU64; 4],
    /// Profiles version of the image in force.
    version: AtomicU64,
    /// Of the last file refused.
    failed: [AtomicU64; 4],
    /// Pid of the worker compiling a change, 0: none.
    builder: AtomicU32,
    builder_since: AtomicU64,
}

impl Control {
    fn load_stamp(s: &[AtomicU64; 4]) -> Stamp {
        [0, 1, 2, 3].map(|i| s[i].load(Ordering::Acquire))
    }

    fn store_stamp(s: &[AtomicU64; 4], v: Stamp) {
        for (a, v) in s.iter().zip(v) {
            a.store(v, Ordering::Release);
        }
    }

    /// The image in force and the stamp of its file, read consistently
    /// (`None` while a publication is under way).
    fn published(&self) -> Option<(u64, Stamp)> {
        let g = self.generation.load(Ordering::Acquire);
        let s = Control::load_stamp(&self.stamp);
        (self.generation.load(Ordering::Acquire) == g).then_some((g, s))
    }

    /// Takes the builder slot for `me`.
    fn claim(&self, me: u32, now: u64) -> bool {
        let holder = match self
            .builder
            .compare_exchange(0, me, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                self.builder_since.store(now, Ordering::Release);
                return true;
            }
            Err(h) => h,
        };
        let stuck =
            now.saturating_sub(self.builder_since.load(Ordering::Acquire)) > BUILDER_TIMEOUT_S;
        if !stuck && alive(holder) {
            return false;
        }
        let won = self
            .builder
            .compare_exchange(holder, me, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if won {
            self.builder_since.store(now, Ordering::Release);
        }
        won
    }

    fn release(&self, me: u32) {
        let _ = self
            .builder
            .compare_exchange(me, 0, Ordering::AcqRel, Ordering::Acquire);
    }
}

/// Only "no such process" means dead: EPERM is a live process of another user.
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks for existence.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn image_name(id: u64) -> String {
    format!("{id:016x}.img")
}

/// Where the images of the server named by `token` live: shared memory when
/// the system has it (`/dev/shm`), the temporary directory otherwise.
fn image_dir(token: u64) -> PathBuf {
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    base.join(format!("nginx-api-abuse.{token:016x}"))
}

/// Writes `image`, makes it the one in force and removes the previous file.
fn publish(control: &Control, dir: &Path, image: &Image, from: Stamp) -> std::io::Result<u64> {
    let id = control.next_id.fetch_add(1, Ordering::AcqRel) + 1;
    image.write(dir, &image_name(id))?;
    let prev = control.generation.load(Ordering::Acquire);
    Control::store_stamp(&control.stamp, from);
    control.version.store(image.version(), Ordering::Release);
    control.generation.store(id, Ordering::Release);
    if prev != 0 && prev != id {
        let _ = std::fs::remove_file(dir.join(image_name(prev)));
    }
    Ok(id)
}

/// Hands the memory a compile freed back to the system (glibc keeps freed
/// heap otherwise, and a parse of a large file frees hundreds of megabytes).
fn trim() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only releases free memory.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// What a configuration cycle knows about the profiles file; in the conf
/// pool, so workers inherit it.
pub struct Ctx {
    path: PathBuf,
    /// Compiled while reading nginx.conf; written and dropped by the zone's
    /// init. Kept (and inherited by the workers) only if it cannot be written.
    compiled: Option<(Arc<Image>, Stamp)>,
    cycle: *mut ngx_cycle_t,
    control: *const Control,
    dir: Option<PathBuf>,
}

/// `api_abuse_profiles`: reads and compiles the file (a broken file fails
/// the configuration) and adds the control zone.
pub fn add(cf: *mut ngx_conf_t, path: PathBuf) -> Result<*mut ngx_shm_zone_t, ConfError> {
    let from = stamp(&path);
    let image = Profiles::compile(&path)?;
    trim();
    let mut name = ngx_str_t {
        len: ZONE_NAME.len(),
        data: ZONE_NAME.as_ptr().cast_mut(),
    };
    // SAFETY: cf is valid during parsing; the tag is our module.
    let zone = unsafe {
        ngx_shared_memory_add(
            cf,
            &mut name,
            ZONE_SIZE,
            addr_of_mut!(super::ngx_http_api_abuse_module).cast(),
        )
    };
    if zone.is_null() {
        return Err(ConfError::CannotAddZone(ZONE_NAME.to_string()));
    }
    // SAFETY: the conf pool lives as long as the cycle that uses the zone.
    let pool = unsafe { Pool::from_ngx_pool((*cf).pool) };
    let ctx = pool.allocate(Ctx {
        path,
        compiled: Some((Arc::new(image), from)),
        // SAFETY: cf is valid.
        cycle: unsafe { (*cf).cycle },
        control: ptr::null(),
        dir: None,
    });
    if ctx.is_null() {
        return Err(ConfError::NoMemory);
    }
    // SAFETY: zone was just returned by nginx.
    let z = unsafe { &mut *zone };
    z.init = Some(init);
    z.data = ctx.cast();
    Ok(zone)
}

fn ctx_of(zone: *mut ngx_shm_zone_t) -> Option<&'static mut Ctx> {
    // SAFETY: the zone and its ctx live as long as the cycle.
    unsafe { zone.as_ref()?.data.cast::<Ctx>().as_mut() }
}

unsafe extern "C" fn init(zone: *mut ngx_shm_zone_t, _old: *mut c_void) -> ngx_int_t {
    std::panic::catch_unwind(|| {
        // SAFETY: nginx calls init with the zone it created.
        unsafe { init_zone(zone) }
    })
    .unwrap_or(NGX_ERROR as ngx_int_t)
}

/// In the master, after nginx.conf is read: finds or creates the control
/// block, then writes and publishes the image compiled from the file.
///
/// # Safety
/// `zone` must be the control zone `add` registered, being initialised by
/// nginx in the master.
unsafe fn init_zone(zone: *mut ngx_shm_zone_t) -> ngx_int_t {
    let Some(ctx) = ctx_of(zone) else {
        return NGX_ERROR as ngx_int_t;
    };
    // SAFETY: the caller's zone; nginx lays a slab pool at the start of its
    // memory before init, and only the master, single-threaded, runs init.
    let (log, pool) = unsafe { ((*zone).shm.log, (*zone).shm.addr.cast::<ngx_slab_pool_t>()) };
    let mut fresh = false;
    // SAFETY: as above.
    if unsafe { (*pool).data.is_null() } {
        // SAFETY: the zone's own pool (ngx_slab_alloc locks it).
        let p = unsafe { ngx_slab_alloc(pool, std::mem::size_of::<Control>()) }.cast::<Control>();
        if p.is_null() {
            return NGX_ERROR as ngx_int_t;
        }
        // SAFETY: p is a fresh allocation, aligned for Control (slab chunks
        // are aligned to their power-of-two size); all-zero atomics are
        // valid. Publishing it in the pool's `data` lets a reload find it.
        unsafe {
            p.write(std::mem::zeroed());
            (*p).token
                .store(crate::table::random_seed(), Ordering::Release);
            (*pool).data = p.cast();
        }
        fresh = true;
    }
    // SAFETY: `data` is the Control written above or by an earlier cycle in
    // this same zone (a reload keeps the zone of the same name and size); it
    // lives as long as the zone, i.e. as long as the server.
    let control = unsafe { &*(*pool).data.cast::<Control>() };
    ctx.control = control;
    // SAFETY: a plain read of a global nginx sets before parsing.
    if unsafe { ngx_test_config } != 0 {
        // `nginx -t`: the file was validated; write nothing.
        ctx.compiled = None;
        return NGX_OK as ngx_int_t;
    }
    let dir = image_dir(control.token.load(Ordering::Acquire));
    // SAFETY: the cycle being started, alive while its zones initialise.
    if let Err(e) = unsafe { prepare_dir(&dir, fresh, ctx.cycle) } {
        log_line(
            log,
            NGX_LOG_ALERT as usize,
            &format!(
                "api_abuse: cannot prepare the profiles image directory \"{}\": {e}; every worker keeps its own copy of the lists and changes of the file need a reload",
                dir.display()
            ),
        );
        return NGX_OK as ngx_int_t;
    }
    ctx.dir = Some(dir.clone());
    let Some((image, from)) = ctx.compiled.take() else {
        return NGX_OK as ngx_int_t;
    };
    let unchanged = control
        .published()
        .is_some_and(|(g, s)| g != 0 && s == from)
        && control.version.load(Ordering::Acquire) == image.version();
    if unchanged {
        trim();
        return NGX_OK as ngx_int_t;
    }
    match publish(control, &dir, &image, from) {
        Ok(id) => {
            log_line(
                log,
                NGX_LOG_NOTICE as usize,
                &format!(
                    "api_abuse: profiles file \"{}\" compiled: {} list entries, image \"{}\" of {} bytes, version {:016x}",
                    ctx.path.display(),
                    crate::lists::AddrLists::of(image.clone()).len(),
                    dir.join(image_name(id)).display(),
                    image.size(),
                    image.version()
                ),
            );
            drop(image);
            trim();
        }
        Err(e) => {
            log_line(
                log,
                NGX_LOG_ALERT as usize,
                &format!(
                    "api_abuse: cannot write the profiles image to \"{}\": {e}; every worker keeps its own copy of the lists",
                    dir.display()
                ),
            );
            ctx.compiled = Some((image, from));
        }
    }
    NGX_OK as ngx_int_t
}

/// Creates the directory for the images (0700, owned by the workers' user,
/// who write later images and remove old ones) and holds a lock on it for the
/// server's life. On a fresh start, directories of servers that are gone
/// (nobody holds their lock) are removed.
///
/// # Safety
/// `cycle` must be a live cycle whose configuration is parsed.
unsafe fn prepare_dir(dir: &Path, fresh: bool, cycle: *mut ngx_cycle_t) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if fresh {
        sweep(dir.parent().unwrap_or(Path::new("/")));
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        // A reload finds the directory of the first start; a fresh start
        // must make its own (the token is random: someone else's directory
        // of that name is refused).
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && !fresh => {}
        Err(e) => return Err(e),
    }
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() {
        return Err(std::io::Error::other("not a directory"));
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // SAFETY: the caller's live cycle.
        if let Some((uid, gid)) = unsafe { worker_user(cycle) } {
            let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes())
                .map_err(std::io::Error::other)?;
            // SAFETY: `c` is a NUL-terminated path that outlives the call.
            if unsafe { libc::chown(c.as_ptr(), uid, gid) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
    }
    if fresh {
        // The lock is taken under a name the sweep never opens, then renamed
        // into place: another server starting at the same moment must not
        // find a `lock` nobody holds yet and remove this directory.
        let pending = dir.join("lock.new");
        let lock = std::fs::File::create(&pending)?;
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a descriptor `lock` owns and keeps open.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            std::fs::rename(&pending, dir.join("lock"))?;
            // Held (and inherited by the workers) until the server is gone.
            std::mem::forget(lock);
        }
    }
    Ok(())
}

/// Removes image directories nobody holds the lock of.
fn sweep(base: &Path) {
    use std::os::fd::AsRawFd;
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for e in entries.flatten() {
        if !e
            .file_name()
            .to_string_lossy()
            .starts_with("nginx-api-abuse.")
        {
            continue;
        }
        let Ok(lock) = std::fs::File::open(e.path().join("lock")) else {
            continue;
        };
        // SAFETY: plain flock on an open descriptor.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// The user and group of the workers (`user` directive), when nginx runs as
/// root and switches to them.
///
/// # Safety
/// `cycle` must be a live cycle whose configuration is parsed.
unsafe fn worker_user(cycle: *mut ngx_cycle_t) -> Option<(libc::uid_t, libc::gid_t)> {
    // SAFETY: a parsed cycle's `conf_ctx` has one slot per core module,
    // indexed by `index`; the core module's slot is its ngx_core_conf_t
    // (null only if it was never created).
    unsafe {
        let conf_ctx = (*cycle).conf_ctx;
        if conf_ctx.is_null() {
            return None;
        }
        let ccf = (*conf_ctx.add(ngx_core_module.index)).cast::<ngx_core_conf_t>();
        let ccf = ccf.as_ref()?;
        (ccf.user != libc::uid_t::MAX).then_some((ccf.user, ccf.group))
    }
}

/// The master removes the image directory when it exits.
pub fn exit_master(zone: *mut ngx_shm_zone_t) {
    if let Some(dir) = ctx_of(zone).and_then(|c| c.dir.as_ref()) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

// ---------------------------------------------------------------------------
// In each worker.

static CURRENT: ArcSwapOption<Profiles> = ArcSwapOption::const_empty();

/// This worker's handle on [`CURRENT`]: checking it is one relaxed load and
/// a compare, where `ArcSwapOption::load` takes and releases a debt slot
/// (about a hundred instructions, twice per request).
type Cached = Cache<&'static ArcSwapOption<Profiles>, Option<Arc<Profiles>>>;
static mut CACHED: Option<Cached> = None;

/// The profiles in force in this process. On the worker's event thread
/// only (the request handlers and timers).
///
/// A clone of the `Arc`, not a reference into the cache: a handler that
/// nginx re-enters (a body read, a finalisation that runs the LOG phase)
/// may reload the cache while the outer call still uses what it got.
pub fn current() -> Option<Arc<Profiles>> {
    // SAFETY: CACHED and SEEN are touched only here and in `generation`, on
    // the worker's event thread (the caller's guarantee), and no reference
    // to them outlives the call.
    let (cache, seen) = unsafe { (&mut *addr_of_mut!(CACHED), &mut *addr_of_mut!(SEEN)) };
    let p = cache.get_or_insert_with(|| Cache::new(&CURRENT)).load();
    let at = p.as_ref().map_or(0, |p| Arc::as_ptr(p) as usize);
    if at != seen.0 {
        *seen = (at, seen.1 + 1);
    }
    p.clone()
}

/// The address of the profiles [`current`] last gave, and how many times
/// that changed. The cache holds those profiles until it loads the next, so
/// a new `Profiles` never has the address of the one it replaces: the count
/// changes with every swap.
static mut SEEN: (usize, u64) = (0, 0);

/// Changes whenever this worker's profiles do (see [`SEEN`]): what a
/// per-worker memo of a profile's answers is keyed by. On the worker's
/// event thread only.
pub fn generation() -> u64 {
    // SAFETY: as in `current`.
    unsafe { (*addr_of_mut!(SEEN)).1 }
}

/// The last answer of [`profile_for`] in this worker.
#[derive(Clone, Copy)]
struct Covering {
    /// Address and version of the profiles it was found in (0: none yet).
    profiles: (usize, u64),
    /// Address and length of the application name: a location's name lives
    /// in the configuration, which a worker keeps for its whole life.
    app: (usize, usize),
    index: Option<usize>,
}

static mut COVERING: Covering = Covering {
    profiles: (0, 0),
    app: (0, 0),
    index: None,
};

/// `profiles.profile_for(app)`, remembered for the next request of the same
/// application (both phases of every request ask; the search compares the
/// name with every profile's applications). On the worker's event thread
/// only.
///
/// Keyed by the profiles' address and version (a hash of the file): a new
/// `Profiles` at the address of a freed one is either the same file, with
/// the same answer, or has another version. What is kept is an index, so a
/// wrong key could at worst give a wrong profile, never a dangling one.
pub fn profile_for<'p>(profiles: &'p Profiles, app: &[u8]) -> Option<&'p Profile> {
    let key = (std::ptr::from_ref(profiles) as usize, profiles.version);
    let app_key = (app.as_ptr() as usize, app.len());
    // SAFETY: COVERING is touched only here, on the worker's event thread
    // (the caller's guarantee), one call at a time.
    let memo = unsafe { &mut *addr_of_mut!(COVERING) };
    if memo.profiles != key || memo.app != app_key {
        *memo = Covering {
            profiles: key,
            app: app_key,
            index: profiles
                .profiles
                .iter()
                .position(|p| p.enabled && p.covers(app)),
        };
    }
    memo.index.and_then(|i| profiles.profiles.get(i))
}

type Compiled = Result<(u64, String), String>;

/// A compile under way in a helper process.
struct Building {
    helper: Helper,
    /// Of the file being compiled.
    from: Stamp,
    /// Whether SIGCHLD was held already when the helper was started.
    held: bool,
}

struct Worker {
    ctx: &'static Ctx,
    /// Id of the image this worker holds.
    mine: u64,
    /// An id that failed to map, so it is reported once.
    refused: u64,
    building: Option<Building>,
}

static mut WORKER: Option<Worker> = None;

fn open_image(dir: &Path, id: u64) -> Result<Profiles, String> {
    let image = Image::open(&dir.join(image_name(id)))?;
    Profiles::open(Arc::new(image))
}

/// At worker start: takes the image in force (the current file's, after a
/// hot swap too), or the master's copy if it could not be written.
///
/// # Safety
/// Once, on the worker's event thread, before any request.
pub unsafe fn init_worker(zone: *mut ngx_shm_zone_t, log: *mut ngx_log_t) -> bool {
    let Some(ctx) = ctx_of(zone) else {
        return false;
    };
    let mut w = Worker {
        ctx,
        mine: 0,
        refused: 0,
        building: None,
    };
    // SAFETY: `control` is null or the zone's Control, which lives as long
    // as the server (see init_zone).
    let control = unsafe { ctx.control.as_ref() };
    let published = control.and_then(Control::published).map_or(0, |p| p.0);
    let opened = match (&ctx.dir, published) {
        (Some(dir), id) if id != 0 => match open_image(dir, id) {
            Ok(p) => Some((id, p)),
            Err(e) => {
                log_line(log, NGX_LOG_ERR as usize, &format!("api_abuse: {e}"));
                w.refused = id;
                None
            }
        },
        _ => None,
    };
    match opened {
        Some((id, p)) => {
            CURRENT.store(Some(Arc::new(p)));
            w.mine = id;
        }
        None => {
            if let Some((image, _)) = &ctx.compiled {
                match Profiles::open(image.clone()) {
                    Ok(p) => CURRENT.store(Some(Arc::new(p))),
                    Err(e) => log_line(log, NGX_LOG_ERR as usize, &format!("api_abuse: {e}")),
                }
            }
        }
    }
    // SAFETY: WORKER is only touched on the worker's event thread (here,
    // before any request, and in `tick`), so no reference to it is alive.
    unsafe { *addr_of_mut!(WORKER) = Some(w) };
    true
}

/// Once a second (and every few milliseconds while work is under way):
/// finishes a compile or a mapping, maps a newly published image, and
/// compiles the file when it changed and nobody else does. Returns when to
/// look again.
///
/// # Safety
/// On the worker's event thread.
pub unsafe fn tick(log: *mut ngx_log_t) -> usize {
    // The cache lets go of profiles a swap replaced, even in a worker that
    // serves no request.
    drop(current());
    // SAFETY: on the event thread (the caller's guarantee), the only one
    // that touches WORKER; no other reference to it is alive.
    let Some(w) = (unsafe { &mut *addr_of_mut!(WORKER) }).as_mut() else {
        return CHECK_MS;
    };
    // SAFETY: null or the zone's Control, alive as long as the server.
    let control = unsafe { w.ctx.control.as_ref() };
    let (Some(control), Some(dir)) = (control, w.ctx.dir.as_ref()) else {
        return CHECK_MS;
    };

    if let Some(b) = w.building.as_mut() {
        let got = b.helper.poll();
        for (level, line) in &got.lines {
            log_line(log, *level, line);
        }
        if got.exited {
            super::helper::release_sigchld(b.held);
            if !got.done {
                // Killed (the OOM killer, say) or crashed mid-compile: free
                // the slot and do not try this file again until it changes.
                let pid = b.helper.pid() as u32;
                Control::store_stamp(&control.failed, b.from);
                control.release(pid);
                control.release(std::process::id());
                log_line(
                    log,
                    NGX_LOG_ERR as usize,
                    &format!(
                        "api_abuse: the process compiling the profiles file \"{}\" (pid {pid}) died; keeping the profiles in force",
                        w.ctx.path.display()
                    ),
                );
            }
            w.building = None;
        }
    }

    let Some((published, from)) = control.published() else {
        return POLL_MS;
    };
    if published != 0 && published != w.mine && published != w.refused {
        let started = Instant::now();
        match open_image(dir, published) {
            Ok(p) => {
                log_line(
                    log,
                    NGX_LOG_NOTICE as usize,
                    &format!(
                        "api_abuse: profiles file \"{}\" reloaded: {} profiles ({} enabled), {} list entries, version {:016x}, mapped in {} ms",
                        p.path.display(),
                        p.profiles.len(),
                        p.enabled_count(),
                        p.lists.len(),
                        p.version,
                        started.elapsed().as_millis()
                    ),
                );
                CURRENT.store(Some(Arc::new(p)));
                w.mine = published;
            }
            Err(e) => {
                log_line(
                    log,
                    NGX_LOG_ERR as usize,
                    &format!("api_abuse: {e}; keeping the profiles in force"),
                );
                w.refused = published;
            }
        }
    }

    if w.building.is_none() {
        let now = stamp(&w.ctx.path);
        let failed = Control::load_stamp(&control.failed);
        let me = std::process::id();
        if now != from && now != failed && control.claim(me, unix_now()) {
            let (path, dir) = (w.ctx.path.clone(), dir.clone());
            // SAFETY: the control block lives in shared memory for the
            // server's life; the helper, a copy of this process, only uses
            // its atomics.
            let control: &'static Control = unsafe { &*(control as *const Control) };
            // SIGCHLD is held until the helper is reaped (see super::helper).
            let held = super::helper::hold_sigchld();
            // SAFETY: a plain read of nginx's pointer to the worker's live
            // cycle.
            let cycle = unsafe { ngx::ffi::ngx_cycle };
            match super::helper::spawn(cycle, "profiles", move |link| {
                // The slot under the helper's own pid: if it dies, the
                // others see a dead holder and may take over.
                let child = std::process::id();
                let me = if control
                    .builder
                    .compare_exchange(me, child, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    child
                } else {
                    me
                };
                match compile(control, &path, &dir, now, me) {
                    Ok((_, line)) => link.say(NGX_LOG_NOTICE, &line),
                    Err(line) => link.say(NGX_LOG_ERR, &line),
                }
                link.done();
            }) {
                Some(helper) => {
                    w.building = Some(Building {
                        helper,
                        from: now,
                        held,
                    })
                }
                None => {
                    super::helper::release_sigchld(held);
                    control.release(me);
                }
            }
        }
    }
    if w.building.is_some() {
        POLL_MS
    } else if control.builder.load(Ordering::Acquire) != 0 {
        // Another worker is compiling: pick its image up soon after.
        WAIT_MS
    } else {
        CHECK_MS
    }
}

/// In the compile helper: compiles the file, writes and publishes the
/// image. Returns the log line.
fn compile(control: &Control, path: &Path, dir: &Path, from: Stamp, me: u32) -> Compiled {
    let started = Instant::now();
    let result = Profiles::compile(path);
    let out = match result {
        Ok(image) => match publish(control, dir, &image, from) {
            Ok(id) => Ok((
                id,
                format!(
                    "api_abuse: profiles file \"{}\" compiled in {} ms: image \"{}\" of {} bytes, version {:016x}",
                    path.display(),
                    started.elapsed().as_millis(),
                    dir.join(image_name(id)).display(),
                    image.size(),
                    image.version()
                ),
            )),
            Err(e) => {
                Control::store_stamp(&control.failed, from);
                Err(format!(
                    "api_abuse: cannot write the profiles image to \"{}\": {e}; keeping the profiles in force",
                    dir.display()
                ))
            }
        },
        Err(e) => {
            Control::store_stamp(&control.failed, from);
            Err(format!("api_abuse: {e}; keeping the profiles in force"))
        }
    };
    control.release(me);
    out
}
