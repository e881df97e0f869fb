//! A small nginx test harness: each test gets its own prefix directory with a
//! generated nginx.conf (two workers, the module loaded), starts the real
//! nginx binary the module was built against, talks plain HTTP/1.1 to it over
//! loopback, and on drop stops it by the pid in its own prefix and checks the
//! error log for alerts, emergencies, crashes and panics.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The directory holding the nginx binary built by nginx-sys.
fn nginx_binary() -> PathBuf {
    let dir = PathBuf::from(env!("API_ABUSE_NGINX_BUILD_DIR"));
    for c in [dir.join("nginx"), dir.join("objs/nginx")] {
        if c.exists() {
            return c;
        }
    }
    panic!("nginx binary not found under {}", dir.display());
}

/// The module built by cargo next to the test binary (target/<profile>/).
pub fn module_path() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target dir");
    // `cargo test` refreshes the library in deps/ but only `cargo build`
    // copies it up a level: take the newer one.
    let name = "libngx_http_api_abuse_module.so";
    let candidates = [profile_dir.join("deps").join(name), profile_dir.join(name)];
    candidates
        .into_iter()
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .max()
        .map(|(_, p)| p)
        .expect("module not built")
}

/// Every port handed out by [`free_port`] in this test process.
static PORTS_GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());

/// A free loopback port (bind to :0, then release it), never one handed out
/// before in this process: the kernel may return a port again as soon as it
/// is released, and one nginx given the same port for two servers (`{port}`
/// and `{port2}`) proxies to itself until it runs out of connections.
pub fn free_port() -> u16 {
    let mut given = PORTS_GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

pub struct Nginx {
    pub prefix: PathBuf,
    pub port: u16,
    /// Lines of the error log that are allowed (e.g. an expected [emerg] in a failing `nginx -t`).
    pub allowed: Vec<String>,
    /// How long `stop` waits for a graceful exit before it kills.
    pub stop_timeout: Duration,
    stopped: bool,
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Marks the prefix directories this test process made.
const ROOT_MARK: &str = "ngx-api-abuse-t.";

/// The directory holding this test process's prefixes: a fresh directory in
/// the system's temporary directory (where the `nobody` workers of a root
/// master can reach it, unlike a checkout under a 0700 directory or /root),
/// removed at exit once empty. Prefixes left by test runs that died are
/// swept first, nginx processes included.
fn test_root() -> &'static Path {
    ROOT.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("{ROOT_MARK}{}.{nanos}", std::process::id());
        // The temporary directory first; where this user cannot write there
        // (not root, a /tmp without the sticky-bit 1777), the target
        // directory: without root the workers run as this user, so any
        // directory of its own is reachable.
        let bases = [
            std::env::temp_dir(),
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")),
        ];
        let mut errors = Vec::new();
        let root = bases
            .iter()
            .find_map(|base| {
                sweep_stale_roots(base);
                let root = base.join(&name);
                // create_dir, not create_dir_all: never adopt a directory made by someone else
                match std::fs::create_dir(&root) {
                    Ok(()) => Some(root),
                    Err(e) => {
                        errors.push(format!("{}: {e}", root.display()));
                        None
                    }
                }
            })
            .unwrap_or_else(|| panic!("no directory for the test prefixes: {errors:?}"));
        chmod(&root, 0o755);
        let root = root.canonicalize().expect("canonical test root");
        extern "C" fn at_exit() {
            remove_disposable_prefixes();
        }
        // SAFETY: registers a plain function that only touches files.
        unsafe { libc::atexit(at_exit) };
        root
    })
}

static ROOT: OnceLock<PathBuf> = OnceLock::new();

/// Prefixes to remove at exit (a passing test removes its own at once; a
/// failing one unregisters it to keep it for inspection).
static DISPOSABLE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn remove_disposable_prefixes() {
    let list = std::mem::take(&mut *DISPOSABLE.lock().unwrap_or_else(|e| e.into_inner()));
    for p in list {
        let _ = std::fs::remove_dir_all(p);
    }
    if let Some(root) = ROOT.get() {
        let _ = std::fs::remove_dir(root);
    }
}

/// Removes the roots of test processes that no longer run, after stopping
/// any nginx still running from them.
fn sweep_stale_roots(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(ROOT_MARK)
            .and_then(|r| r.split('.').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        if !meta.is_dir() || meta.uid() != me || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let dir = e.path();
        let pids = nginx_processes_under(&dir);
        kill_all(&pids, libc::SIGKILL);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn chmod(p: &Path, mode: u32) {
    let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode));
}

/// Whether a process of another user (nginx's `nobody` workers) can reach `p`.
fn traversable_by_others(p: &Path) -> bool {
    p.ancestors().all(|a| {
        std::fs::metadata(a)
            .map(|m| m.permissions().mode() & 0o001 != 0)
            .unwrap_or(false)
    })
}

/// Pids of the nginx processes (master, workers, helpers; running or shutting
/// down, whoever their parent now is) that hold a file under `dir` open: the
/// error log at least, so this finds every process of a prefix's nginx.
fn nginx_processes_under(dir: &Path) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids = Vec::new();
    for e in entries.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if !cmdline.starts_with(b"nginx: ") {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        if fds
            .flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t.starts_with(dir)))
        {
            pids.push(pid);
        }
    }
    pids
}

fn kill_all(pids: &[i32], sig: i32) {
    for &pid in pids {
        // SAFETY: kill has no memory preconditions; the pids are nginx
        // processes of this harness's own prefixes.
        unsafe { libc::kill(pid, sig) };
    }
}

/// Builds the prefix of a test: `http_body` goes inside `http { }`, `{port}` is replaced.
pub fn prepare(name: &str, http_body: &str, files: &[(&str, &str)]) -> (PathBuf, u16) {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let root = test_root();
    let prefix = root.join(format!("{name}-{}", SEQ.fetch_add(1, Ordering::Relaxed)));
    let _ = std::fs::remove_dir_all(&prefix);
    for d in ["logs", "conf", "html", "state"] {
        std::fs::create_dir_all(prefix.join(d)).expect("mkdir");
    }
    DISPOSABLE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(prefix.clone());
    // Workers run as nobody when the tests run as root: everything they must
    // read or write has to be reachable.
    chmod(&prefix, 0o755);
    for d in ["logs", "state", "html", "conf"] {
        chmod(&prefix.join(d), 0o777);
    }
    // SAFETY: geteuid has no preconditions.
    let root_user = unsafe { libc::geteuid() } == 0;
    // A temporary directory others cannot traverse (TMPDIR set to a private
    // one): the workers run as root too rather than fail on every file.
    let user = if root_user && !traversable_by_others(&prefix) {
        "user root;\n"
    } else {
        ""
    };
    std::fs::write(prefix.join("html/index.html"), "<html>hello</html>\n").expect("write");
    for (path, body) in files {
        let p = prefix.join(path);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::write(&p, body).expect("write file");
    }
    let port = free_port();
    let conf = format!(
        "{user}load_module {module};\n\
         worker_processes 2;\n\
         error_log logs/error.log info;\n\
         pid logs/nginx.pid;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n\
             client_body_temp_path logs/body;\n\
             proxy_temp_path logs/proxy;\n\
             {body}\n\
         }}\n",
        module = module_path().display(),
        body = http_body
            .replace("{port}", &port.to_string())
            .replace("{port2}", &free_port().to_string()),
    );
    std::fs::write(prefix.join("conf/nginx.conf"), conf).expect("write conf");
    (prefix, port)
}

pub fn nginx_cmd(prefix: &Path, args: &[&str]) -> std::process::Output {
    Command::new(nginx_binary())
        .arg("-p")
        .arg(prefix)
        .arg("-c")
        .arg("conf/nginx.conf")
        .args(args)
        .output()
        .expect("run nginx")
}

impl Nginx {
    /// Writes the configuration and starts nginx; panics when it fails.
    pub fn start(name: &str, http_body: &str, files: &[(&str, &str)]) -> Nginx {
        let (prefix, port) = prepare(name, http_body, files);
        let mut n = Nginx {
            prefix,
            port,
            allowed: Vec::new(),
            stop_timeout: Duration::from_secs(10),
            stopped: false,
        };
        n.launch();
        n
    }

    /// A handle on a prefix made by [`prepare`] (and changed by the test)
    /// that has not been started yet.
    pub fn from_prefix(prefix: PathBuf, port: u16) -> Nginx {
        Nginx {
            prefix,
            port,
            allowed: Vec::new(),
            stop_timeout: Duration::from_secs(10),
            stopped: true,
        }
    }

    /// SIGKILLs the master and every process of this prefix (a crash or a
    /// power cut: nothing gets to save), and waits until they are gone.
    pub fn kill_hard(&mut self) {
        let master = self.master_pid();
        if let Some(pid) = master {
            kill_all(&[pid], libc::SIGKILL);
        }
        kill_all(&nginx_processes_under(&self.prefix), libc::SIGKILL);
        assert!(self.wait_gone(Duration::from_secs(5)), "nginx did not die");
        self.stopped = true;
    }

    /// (pid, parent pid) of the live processes of this prefix whose title
    /// (`/proc/<pid>/cmdline`) starts with `title`, orphans included.
    pub fn processes_titled(&self, title: &str) -> Vec<(i32, i32)> {
        nginx_processes_under(&self.prefix)
            .into_iter()
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| c.starts_with(title.as_bytes()))
            })
            .filter_map(|pid| {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
                // pid (comm) state ppid ...
                let after = stat.rsplit_once(") ")?.1;
                let mut f = after.split_whitespace();
                let state = f.next()?;
                let ppid = f.next()?.parse().ok()?;
                (state != "Z" && state != "X").then_some((pid, ppid))
            })
            .collect()
    }

    /// Pids of the processes with a thread of this name.
    pub fn pids_with_thread(&self, name: &str) -> Vec<i32> {
        nginx_processes_under(&self.prefix)
            .into_iter()
            .filter(|pid| {
                std::fs::read_dir(format!("/proc/{pid}/task"))
                    .into_iter()
                    .flatten()
                    .flatten()
                    .any(|t| {
                        std::fs::read_to_string(t.path().join("comm"))
                            .is_ok_and(|c| c.trim() == name)
                    })
            })
            .collect()
    }

    pub fn launch(&mut self) {
        let out = nginx_cmd(&self.prefix, &[]);
        assert!(
            out.status.success(),
            "nginx failed to start: {}{}",
            String::from_utf8_lossy(&out.stderr),
            self.error_log()
        );
        self.stopped = false;
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() && self.worker_pids().len() >= 2
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "nginx did not come up on port {}: {}",
            self.port,
            self.error_log()
        );
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.prefix.join(rel)
    }

    pub fn master_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.path("logs/nginx.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Pids of the current worker processes (children of the master).
    pub fn worker_pids(&self) -> Vec<i32> {
        let Some(master) = self.master_pid() else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        let mut pids = Vec::new();
        for e in entries.flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // pid (comm) state ppid ...
            let after = stat.rsplit_once(") ").map(|x| x.1).unwrap_or("");
            let mut f = after.split_whitespace();
            let _state = f.next();
            let ppid: i32 = f.next().and_then(|p| p.parse().ok()).unwrap_or(0);
            let cmdline =
                std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if ppid == master
                && cmdline.contains("worker process")
                && !cmdline.contains("shutting down")
            {
                pids.push(pid);
            }
        }
        pids
    }

    /// `nginx -s reload`, then waits until a new generation of workers runs.
    pub fn reload(&self) {
        let before = self.worker_pids();
        let out = nginx_cmd(&self.prefix, &["-s", "reload"]);
        assert!(
            out.status.success(),
            "reload failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let now = self.worker_pids();
            if now.len() >= 2 && now.iter().all(|p| !before.contains(p)) {
                std::thread::sleep(Duration::from_millis(100));
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "workers were not replaced after reload: {}",
            self.error_log()
        );
    }

    pub fn signal(&self, sig: &str) {
        let out = nginx_cmd(&self.prefix, &["-s", sig]);
        assert!(
            out.status.success(),
            "nginx -s {sig} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stops nginx: `nginx -s quit` (or SIGQUIT to the master when the
    /// signaller fails), waits up to 10 s for every process of this prefix
    /// to exit, then kills whatever is left, workers included, so no test
    /// leaves a process behind.
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let master = self.master_pid();
        let quit = nginx_cmd(&self.prefix, &["-s", "quit"]);
        if !quit.status.success() {
            if let Some(pid) = master {
                kill_all(&[pid], libc::SIGQUIT);
            }
        }
        if self.wait_gone(self.stop_timeout) {
            return;
        }
        let left = nginx_processes_under(&self.prefix);
        eprintln!(
            "nginx in {} did not stop gracefully ({}); killing pids {left:?}",
            self.prefix.display(),
            String::from_utf8_lossy(&quit.stderr).trim()
        );
        // the master first, so it cannot respawn a worker
        if let Some(pid) = master {
            kill_all(&[pid], libc::SIGKILL);
        }
        kill_all(&left, libc::SIGKILL);
        if !self.wait_gone(Duration::from_secs(5)) {
            eprintln!(
                "nginx processes still running: {:?}",
                nginx_processes_under(&self.prefix)
            );
        }
    }

    /// Waits until no nginx process holds a file of this prefix open.
    fn wait_gone(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if nginx_processes_under(&self.prefix).is_empty() {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.path("logs/error.log")).unwrap_or_default()
    }

    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.path("logs/access.log")).unwrap_or_default()
    }

    /// The access log once a line satisfies `pred` (nginx writes a request's
    /// line after the response has gone out), or after 3 s as it is.
    pub fn access_log_with(&self, pred: impl Fn(&str) -> bool) -> String {
        self.eventually(Duration::from_secs(3), || {
            self.access_log().lines().any(&pred)
        });
        self.access_log()
    }

    /// Fails on [alert], [emerg], [crit], crashes and panics in the error log.
    pub fn assert_clean_log(&self) {
        let log = self.error_log();
        for line in log.lines() {
            let bad = [
                "[alert]",
                "[emerg]",
                "[crit]",
                "exited on signal",
                "panicked",
                "AddressSanitizer",
            ]
            .iter()
            .any(|m| line.contains(m));
            if bad && !self.allowed.iter().any(|a| line.contains(a.as_str())) {
                panic!("unexpected line in error log: {line}\n--- full log ---\n{log}");
            }
        }
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        self.request("GET", path, headers, None)
    }

    /// Sends one request on a fresh connection.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Response {
        request(self.port, method, path, headers, body)
    }

    /// Waits up to `timeout` for `f` to hold, polling.
    pub fn eventually(&self, timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if f() {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            self.keep_prefix();
            return;
        }
        let log =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.assert_clean_log()));
        match log {
            Ok(()) => {
                let _ = std::fs::remove_dir_all(&self.prefix);
            }
            Err(e) => {
                self.keep_prefix();
                std::panic::resume_unwind(e);
            }
        }
    }
}

impl Nginx {
    /// Keeps a failed test's prefix (logs, state, conf) for inspection.
    fn keep_prefix(&self) {
        DISPOSABLE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|p| p != &self.prefix);
        eprintln!("test prefix kept: {}", self.prefix.display());
    }
}

pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Response {
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    if let Some(b) = body {
        req.push_str(b);
    }
    s.write_all(req.as_bytes()).expect("send");
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse_response(&raw)
}

pub fn parse_response(raw: &[u8]) -> Response {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Response {
        status,
        headers,
        body: body.to_string(),
    }
}

/// The header to act as client `ip` through realip.
pub fn xff(ip: &str) -> [(&str, &str); 1] {
    [("X-Forwarded-For", ip)]
}

/// Writes `text` to `path` so that its mtime surely changes.
pub fn rewrite(path: &Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).expect("write");
    let _ = Command::new("chmod").arg("0644").arg(&tmp).status();
    std::fs::rename(&tmp, path).expect("rename");
}

/// The usual http-level configuration of the tests: zone, profiles, events,
/// realip from loopback, an access log with the module's variables, and one
/// server with `server_extra` inside it.
pub fn http_conf(zone: &str, server_extra: &str) -> String {
    format!(
        "api_abuse_zone {zone} state=state/api_abuse.state;\n\
         api_abuse_profiles conf/profiles.toml;\n\
         api_abuse_events logs/events.jsonl;\n\
         set_real_ip_from 127.0.0.1;\n\
         real_ip_header X-Forwarded-For;\n\
         log_format t '$remote_addr $pid $status [$api_abuse_action] [$api_abuse_list] [$api_abuse_bot_type] [$api_abuse_attack]';\n\
         access_log logs/access.log t;\n\
         server {{\n\
             listen 127.0.0.1:{{port}} reuseport;\n\
             api_abuse on;\n\
             location / {{ root html; }}\n\
             {server_extra}\n\
         }}\n"
    )
}

/// A server without the module's directives.
#[cfg(test)]
const PLAIN: &str = "server { listen 127.0.0.1:{port}; location / { root html; } }";

#[test]
fn harness_stop_leaves_no_process_when_the_signaller_fails() {
    let mut n = Nginx::start("harness-signaller", PLAIN, &[]);
    let pids = nginx_processes_under(&n.prefix);
    assert!(pids.len() >= 3, "master and two workers: {pids:?}");
    // `nginx -s quit` now fails on the configuration: SIGQUIT to the master
    std::fs::write(n.path("conf/nginx.conf"), "this is not nginx syntax").expect("write");
    n.allowed.push("unexpected end of file".into());
    n.stop();
    assert_eq!(nginx_processes_under(&n.prefix), Vec::<i32>::new());
}

#[test]
fn harness_stop_kills_master_and_workers_that_ignore_quit() {
    let mut n = Nginx::start("harness-stuck", PLAIN, &[]);
    n.stop_timeout = Duration::from_secs(1);
    let workers = n.worker_pids();
    let master = n.master_pid().expect("master");
    // a stopped master never forwards the quit; its workers never exit
    kill_all(&[master], libc::SIGSTOP);
    n.stop();
    assert_eq!(nginx_processes_under(&n.prefix), Vec::<i32>::new());
    for w in workers {
        assert!(
            !Path::new(&format!("/proc/{w}/cmdline")).exists() || {
                let c = std::fs::read(format!("/proc/{w}/cmdline")).unwrap_or_default();
                !c.starts_with(b"nginx: ")
            }
        );
    }
}

/// A profiles file denying `n` addresses of 10.0.0.0/8, and 192.0.2.20.
pub fn big_profiles(n: u32) -> String {
    let mut big = String::from("[lists]\ndeny = [\n");
    for i in 0..n {
        big.push_str(&format!(
            "\"10.{}.{}.{}\",\n",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        ));
    }
    big.push_str("\"192.0.2.20\"]\n");
    big
}
