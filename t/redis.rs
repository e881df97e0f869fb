//! A real redis-server for the sync tests: started on a free loopback port
//! as a child process the test owns, its data directory inside the test's
//! own directory, no persistence (so a restart starts empty, like a Redis
//! that lost its data), stopped by its PID.

#![allow(dead_code)]

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::free_port;

pub struct Redis {
    pub port: u16,
    pub dir: PathBuf,
    child: Option<Child>,
}

impl Redis {
    pub fn start(name: &str) -> Redis {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("t")
            .join(format!("{name}-redis-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir redis dir");
        let mut r = Redis {
            port: free_port(),
            dir,
            child: None,
        };
        r.launch();
        r
    }

    /// Starts redis-server on this port (again, after [`Redis::kill`]).
    pub fn launch(&mut self) {
        assert!(self.child.is_none(), "redis already running");
        let log = std::fs::File::create(self.dir.join("redis.log")).expect("log");
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port"])
            .arg(self.port.to_string())
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("redis-server (ci/deps.sh installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() && self.try_con().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not come up on port {}", self.port);
    }

    /// Kills the server (SIGKILL: no goodbye to the clients).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn try_con(&self) -> Option<redis::Connection> {
        let client = redis::Client::open(self.url()).ok()?;
        let mut c = client
            .get_connection_with_timeout(Duration::from_secs(1))
            .ok()?;
        redis::cmd("PING").query::<String>(&mut c).ok()?;
        Some(c)
    }

    pub fn con(&self) -> redis::Connection {
        self.try_con().expect("connect to the test redis")
    }

    /// The JSON value of an entry key, if any.
    pub fn entry(&self, prefix: &str, addr: &str) -> Option<serde_json::Value> {
        let v: Option<String> = redis::cmd("GET")
            .arg(format!("{prefix}:entry:{addr}"))
            .query(&mut self.con())
            .ok()?;
        v.and_then(|s| serde_json::from_str(&s).ok())
    }

    /// The TTL of a key in milliseconds (-1 none, -2 missing).
    pub fn pttl(&self, key: &str) -> i64 {
        redis::cmd("PTTL")
            .arg(key)
            .query(&mut self.con())
            .unwrap_or(-2)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}
