//! Helper processes: work that must not run on a worker's event loop (the
//! state file's writes and purges, a profiles compile, the Redis session)
//! runs in a process forked from the worker, never in a thread of it.
//!
//! Why not a thread: the first `pthread_create` switches glibc to its
//! multi-threaded mode for the rest of the process (`__libc_single_threaded`
//! false: locked malloc, and the asynchronous-cancellation dance around
//! every cancellable system call nginx makes: `recv`, `writev`,
//! `epoll_wait`...), which costs every request about 300 instructions (see
//! docs/performance.md, "No threads in workers (session 10)").
//!
//! A helper is a single-threaded copy of its worker. It shares the zone (the
//! worker's shared mappings are inherited), closes the worker's sockets
//! (listening, client and channel: a connection the worker closes must not
//! stay open in the helper), and talks to the worker through two pipes:
//! - *stop*: the worker holds the write end. A byte then the end of the
//!   pipe (the worker asks), or the end alone (the worker died, whatever
//!   killed it, SIGKILL included: the kernel closes its end) is the helper's
//!   cue to finish (a last save, for the state helper) and exit.
//!   `PR_SET_PDEATHSIG` (SIGTERM) and a `getppid` check back this up.
//! - *report*: the helper writes the lines it has for the error log, which
//!   the worker logs from a timer (so they follow `nginx -s reopen`); when
//!   the worker is gone the helper logs them itself, with nginx's functions
//!   (its pid is in the line). The worker sees the helper's exit as the end
//!   of this pipe.
//!
//! Reaping: nginx's SIGCHLD handler in the worker reaps any child
//! (`waitpid(-1)`) and logs `signal 17 (SIGCHLD) received` and `unknown
//! process <pid> exited with code 0` at the notice level. For the exits the
//! worker expects (it asked the helper to stop, a compile finished), the
//! worker blocks SIGCHLD before the helper can exit, reaps it itself and
//! consumes the pending signal, so those exits log nothing; an unexpected
//! death (the helper killed) is nginx's to reap and report, as for any child.

use std::ffi::CString;
use std::os::fd::RawFd;
use std::ptr::addr_of_mut;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ngx::ffi::{ngx_cycle_t, ngx_listening_t, ngx_log_t, ngx_pid, ngx_time_update};

use super::worker::log_line;

/// Frame kind of a report: a line for the error log at this nginx level
/// (1..=8), or [`DONE`].
pub const DONE: u8 = 0xff;
/// Longest line a report carries (a frame stays under PIPE_BUF, so it is
/// written whole or not at all).
const MAX_LINE: usize = 2000;

/// Set by the helper's SIGTERM / SIGINT / SIGQUIT handler.
static STOP: AtomicBool = AtomicBool::new(false);

/// The worker's ends of the pipes of its running helpers, closed in every
/// new helper (a helper must not keep another's stop pipe open). Touched on
/// the worker's event thread only (and in the child right after the fork).
static mut PARENT_FDS: Vec<RawFd> = Vec::new();

/// The worker's handle on one helper.
pub struct Helper {
    pid: libc::pid_t,
    /// Write end of the stop pipe (-1 once closed).
    stop_w: RawFd,
    /// Read end of the report pipe (-1 once the helper is reaped).
    report_r: RawFd,
    /// Bytes of a frame not complete yet.
    partial: Vec<u8>,
    /// Whether the helper sent [`DONE`].
    done: bool,
}

/// The helper's side.
pub struct Link {
    parent: libc::pid_t,
    stop_r: RawFd,
    report_w: RawFd,
    log: *mut ngx_log_t,
    /// Set when the stop pipe ended without the worker's stop byte: the
    /// worker died.
    lost: std::cell::Cell<bool>,
    /// Set when the stop byte came.
    asked: std::cell::Cell<bool>,
}

/// What [`Helper::poll`] found.
pub struct Polled {
    /// The helper's lines, for the error log.
    pub lines: Vec<(usize, String)>,
    /// The helper has exited (and was reaped).
    pub exited: bool,
    /// It said it finished its work before exiting.
    pub done: bool,
}

extern "C" fn on_stop_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

fn pipe() -> Option<(RawFd, RawFd)> {
    let mut fds = [-1; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return None;
    }
    Some((fds[0], fds[1]))
}

/// Whether `fd` becomes readable (data, or its end) within `ms`
/// milliseconds (0: no wait). An interrupted or failed poll counts as not
/// readable: every caller loops or asks again.
fn readable(fd: RawFd, ms: libc::c_int) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd on the stack, for the length of the call.
    unsafe { libc::poll(&mut p, 1, ms) > 0 }
}

fn close(fd: RawFd) {
    if fd >= 0 {
        // SAFETY: closes a descriptor this module opened and owns.
        unsafe { libc::close(fd) };
    }
}

/// Forks a helper named `name` (its thread name, and the process title
/// `nginx: api_abuse <name> helper`) that runs `work` and exits. On the
/// worker's event thread only. `None` when no process could be had.
///
/// `work` runs in the child: a copy of this process with one thread; it must
/// not return into nginx (the child exits right after it).
pub fn spawn(cycle: *mut ngx_cycle_t, name: &str, work: impl FnOnce(&Link)) -> Option<Helper> {
    let (stop_r, stop_w) = pipe()?;
    let Some((report_r, report_w)) = pipe() else {
        close(stop_r);
        close(stop_w);
        return None;
    };
    // SAFETY: plain reads of the live cycle's log (set before init_process).
    let log = unsafe { (*cycle).log };
    // SAFETY: fork in a process with a single thread (the point of this
    // module); glibc's fork runs the atfork handlers (the table's cached pid
    // is forgotten in the child, so the locks it takes carry its own pid).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        for fd in [stop_r, stop_w, report_r, report_w] {
            close(fd);
        }
        return None;
    }
    if pid == 0 {
        // SAFETY: in the child, which owns its copies of every descriptor.
        unsafe { become_helper(cycle, name, &[stop_w, report_r]) };
        let link = Link {
            // SAFETY: getppid has no preconditions.
            parent: unsafe { libc::getppid() },
            stop_r,
            report_w,
            log,
            lost: std::cell::Cell::new(false),
            asked: std::cell::Cell::new(false),
        };
        // SAFETY: setting the report pipe non-blocking: a full pipe drops a
        // line rather than stall the helper.
        unsafe { libc::fcntl(report_w, libc::F_SETFL, libc::O_NONBLOCK) };
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&link))).is_ok();
        // SAFETY: _exit ends the child without running nginx's or Rust's
        // exit paths (the worker's atexit handlers and buffers are not ours).
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    close(stop_r);
    close(report_w);
    // SAFETY: on the worker's event thread (the caller's guarantee).
    unsafe { (*addr_of_mut!(PARENT_FDS)).extend([stop_w, report_r]) };
    Some(Helper {
        pid,
        stop_w,
        report_r,
        partial: Vec::new(),
        done: false,
    })
}

/// In the child: drops what belongs to the worker, sets signals, title and
/// pid up for a helper.
///
/// # Safety
/// Right after the fork, in the child; `cycle` is the worker's live cycle.
unsafe fn become_helper(cycle: *mut ngx_cycle_t, name: &str, mine: &[RawFd]) {
    // SAFETY: the child is single-threaded and owns its copies of every
    // descriptor and static; the cycle is the worker's, copied whole.
    unsafe {
        for fd in mine {
            close(*fd);
        }
        for fd in std::mem::take(&mut *addr_of_mut!(PARENT_FDS)) {
            close(fd);
        }
        // The worker's sockets: listening, connections (clients, upstreams,
        // the channel to the master).
        let c = &*cycle;
        if !c.connections.is_null() {
            for i in 0..c.connection_n {
                let conn = &mut *c.connections.add(i);
                if conn.fd != -1 {
                    close(conn.fd);
                    conn.fd = -1;
                }
            }
        }
        let ls = c.listening.elts.cast::<ngx_listening_t>();
        if !ls.is_null() {
            for i in 0..c.listening.nelts {
                close((*ls.add(i)).fd);
            }
        }
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = on_stop_signal as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut act.sa_mask);
        for s in [libc::SIGTERM, libc::SIGINT, libc::SIGQUIT] {
            libc::sigaction(s, &act, std::ptr::null_mut());
        }
        act.sa_sigaction = libc::SIG_IGN;
        for s in [
            libc::SIGHUP,
            libc::SIGUSR1,
            libc::SIGUSR2,
            libc::SIGWINCH,
            libc::SIGIO,
            libc::SIGALRM,
            libc::SIGPIPE,
        ] {
            libc::sigaction(s, &act, std::ptr::null_mut());
        }
        act.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(libc::SIGCHLD, &act, std::ptr::null_mut());
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
        let comm = CString::new(format!("api-abuse-{name}")).unwrap_or_default();
        libc::prctl(libc::PR_SET_NAME, comm.as_ptr());
        let title = CString::new(format!("api_abuse {name} helper")).unwrap_or_default();
        ngx::ffi::ngx_setproctitle(title.as_ptr().cast_mut());
        ngx_pid = libc::getpid();
    }
}

impl Link {
    /// Waits up to `d` for the worker to ask for the end (its stop pipe
    /// closed, the worker gone, or a stop signal). True: time to finish.
    pub fn wait_stop(&self, d: Duration) -> bool {
        let deadline = Instant::now() + d;
        loop {
            if self.stopping() {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            if readable(self.stop_r, left.as_millis().clamp(1, 1000) as libc::c_int) {
                self.read_stop();
                return true;
            }
        }
    }

    /// Whether the worker that started this helper is gone.
    pub fn orphaned(&self) -> bool {
        // SAFETY: getppid has no preconditions.
        self.lost.get() || unsafe { libc::getppid() != self.parent }
    }

    /// The stop pipe is readable: the worker's stop byte, or its end.
    fn read_stop(&self) {
        if self.asked.get() || self.lost.get() {
            return;
        }
        let mut b = [0u8; 1];
        // SAFETY: reads one byte into a local buffer.
        match unsafe { libc::read(self.stop_r, b.as_mut_ptr().cast(), 1) } {
            1 => self.asked.set(true),
            0 => self.lost.set(true),
            _ => {}
        }
    }

    /// The pid of the worker that started this helper.
    pub fn worker(&self) -> libc::pid_t {
        self.parent
    }

    /// Whether the helper must finish now (never blocks).
    pub fn stopping(&self) -> bool {
        if STOP.load(Ordering::Relaxed) || self.asked.get() || self.lost.get() {
            return true;
        }
        if self.orphaned() {
            return true;
        }
        if readable(self.stop_r, 0) {
            self.read_stop();
            return true;
        }
        false
    }

    /// A line for the error log at nginx `level`: sent to the worker, or
    /// logged here when the worker cannot take it.
    pub fn say(&self, level: u32, line: &str) {
        let text = &line.as_bytes()[..line.len().min(MAX_LINE)];
        let mut frame = Vec::with_capacity(3 + text.len());
        frame.push(level as u8);
        frame.extend_from_slice(&(text.len() as u16).to_le_bytes());
        frame.extend_from_slice(text);
        if !self.send(&frame) {
            // SAFETY: the helper is single-threaded; the time cache and the
            // log are its own copies.
            unsafe { ngx_time_update() };
            log_line(self.log, level as usize, line);
        }
    }

    /// Tells the worker the work is done (then exit).
    pub fn done(&self) {
        self.send(&[DONE, 0, 0]);
    }

    fn send(&self, frame: &[u8]) -> bool {
        // SAFETY: writes a buffer this function owns to the report pipe
        // (frames are under PIPE_BUF: written whole or not at all).
        let n = unsafe { libc::write(self.report_w, frame.as_ptr().cast(), frame.len()) };
        n == frame.len() as isize
    }
}

impl Helper {
    pub fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// Reads what the helper reported and whether it has exited, without
    /// waiting. An exited helper is reaped here (see the module doc).
    pub fn poll(&mut self) -> Polled {
        let mut out = Polled {
            lines: Vec::new(),
            exited: false,
            done: false,
        };
        if self.report_r < 0 {
            out.exited = true;
            out.done = self.done;
            return out;
        }
        let mut buf = [0u8; 4096];
        loop {
            if !readable(self.report_r, 0) {
                break;
            }
            // SAFETY: reads into a buffer this function owns.
            let n = unsafe { libc::read(self.report_r, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                if n == 0
                    || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
                {
                    out.exited = true;
                    break;
                }
                continue;
            }
            self.partial.extend_from_slice(&buf[..n as usize]);
        }
        self.parse(&mut out.lines);
        if out.exited {
            self.reap();
        }
        out.done = self.done;
        out
    }

    fn parse(&mut self, lines: &mut Vec<(usize, String)>) {
        let mut at = 0;
        while self.partial.len() >= at + 3 {
            let kind = self.partial[at];
            let len = u16::from_le_bytes([self.partial[at + 1], self.partial[at + 2]]) as usize;
            if self.partial.len() < at + 3 + len {
                break;
            }
            let text = &self.partial[at + 3..at + 3 + len];
            if kind == DONE {
                self.done = true;
            } else {
                lines.push((kind as usize, String::from_utf8_lossy(text).into_owned()));
            }
            at += 3 + len;
        }
        self.partial.drain(..at);
    }

    /// Asks the helper to finish (the stop byte, then the pipe closed),
    /// without waiting.
    pub fn ask_stop(&mut self) {
        if self.stop_w >= 0 {
            // SAFETY: one byte from a static buffer to our pipe (empty: the
            // byte always fits).
            unsafe { libc::write(self.stop_w, b"q".as_ptr().cast(), 1) };
            forget_parent_fd(self.stop_w);
            close(self.stop_w);
            self.stop_w = -1;
        }
    }

    /// Asks the helper to finish and waits up to `wait` for it to exit,
    /// logging what it reports to `log`. True when it exited in time (and
    /// was reaped quietly: SIGCHLD is held while waiting).
    pub fn stop(&mut self, wait: Duration, log: *mut ngx_log_t) -> bool {
        let held = hold_sigchld();
        self.ask_stop();
        let deadline = Instant::now() + wait;
        let mut exited = false;
        while !exited {
            let got = self.poll();
            for (level, line) in &got.lines {
                log_line(log, *level, line);
            }
            exited = got.exited;
            let left = deadline.saturating_duration_since(Instant::now());
            if exited || left.is_zero() {
                break;
            }
            readable(self.report_r, left.as_millis().clamp(1, 100) as libc::c_int);
        }
        release_sigchld(held);
        exited
    }

    /// After the report pipe's end: waits for the exiting helper (a matter
    /// of the kernel finishing its exit) and closes the pipe.
    ///
    /// The kernel closes an exiting process's files before it becomes a
    /// zombie, so right after the pipe's end `waitpid` can still find it
    /// running for a few microseconds. The wait is on a pidfd (Linux 5.3:
    /// readable once the process has exited), at most 200 ms; without
    /// pidfds, `waitpid` is asked again every millisecond for as long.
    fn reap(&mut self) {
        if self.report_r < 0 {
            return;
        }
        forget_parent_fd(self.report_r);
        close(self.report_r);
        self.report_r = -1;
        // SAFETY: pidfd_open takes a pid and flags and returns a new
        // descriptor or -1 (ESRCH once the child is reaped, ENOSYS on old
        // kernels); no memory is passed.
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, self.pid, 0) } as RawFd;
        let deadline = Instant::now() + Duration::from_millis(200);
        loop {
            let mut status = 0;
            // SAFETY: waits for our own child only; no pointer but `status`.
            let r = unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) };
            let left = deadline.saturating_duration_since(Instant::now());
            // r == pid: reaped; -1: already reaped by nginx's handler
            if r != 0 || left.is_zero() {
                close(pidfd);
                return;
            }
            if pidfd >= 0 {
                readable(pidfd, left.as_millis().clamp(1, 200) as libc::c_int);
            } else {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.ask_stop();
        if self.report_r >= 0 {
            forget_parent_fd(self.report_r);
            close(self.report_r);
        }
    }
}

fn forget_parent_fd(fd: RawFd) {
    // SAFETY: on the worker's event thread, like every use of PARENT_FDS.
    unsafe { (*addr_of_mut!(PARENT_FDS)).retain(|f| *f != fd) };
}

/// Blocks SIGCHLD (so a helper's expected exit does not reach nginx's
/// handler). Returns whether it was blocked already.
pub fn hold_sigchld() -> bool {
    // SAFETY: plain signal-mask calls on the (only) thread.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        libc::sigprocmask(libc::SIG_BLOCK, &set, &mut old);
        libc::sigismember(&old, libc::SIGCHLD) == 1
    }
}

/// Undoes [`hold_sigchld`] (unless it was held already): consumes a pending
/// SIGCHLD that the reaped helpers raised, and raises it again if some other
/// child is waiting to be reaped, so nginx's handler sees that one.
pub fn release_sigchld(was_held: bool) {
    if was_held {
        return;
    }
    // SAFETY: plain signal calls on the (only) thread; `info` and the
    // timespec are locals.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        let mut info: libc::siginfo_t = std::mem::zeroed();
        libc::sigtimedwait(&set, &mut info, &zero);
        let mut other: libc::siginfo_t = std::mem::zeroed();
        let waiting = libc::waitid(
            libc::P_ALL,
            0,
            &mut other,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        ) == 0
            && other.si_pid() != 0;
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        // Another child's exit was folded into the signal just consumed (or
        // raised before the hold): hand it to nginx's handler.
        if waiting {
            libc::raise(libc::SIGCHLD);
        }
    }
}
