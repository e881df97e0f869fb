//! The demo shop's HTTP server: one accept loop and a small, fixed pool of
//! worker threads, each serving one connection at a time.
//!
//! Keep-alive is fair and bounded: a worker keeps a connection only while no
//! other connection is waiting. After a response it answers `Connection:
//! close` if one is; while idle it checks every [`IDLE_POLL`] and lets the
//! idle connection go. An idle connection is dropped after [`IDLE_TIMEOUT`]
//! anyway, and one connection serves at most [`MAX_REQUESTS_PER_CONNECTION`].
//! So long-lived clients (an app polling, nginx's upstream keepalive pool,
//! which may hold more connections than there are workers) never starve new
//! ones, and the thread count never grows.

use super::http::{ShopRequest, ShopResponse};
use super::wire::{read_body, read_head, write_continue, write_response};
use super::Shop;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, ErrorKind};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// How often an idle keep-alive connection checks for waiting connections.
const IDLE_POLL: Duration = Duration::from_millis(50);
/// Time allowed for the rest of a request once its first byte has arrived.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_REQUESTS_PER_CONNECTION: usize = 1000;
/// Accepted connections waiting for a worker; beyond this, 503 at once.
const MAX_PENDING: usize = 1024;

pub struct Options {
    pub threads: usize,
    pub access_log: bool,
    /// Time taken to answer each request, as a real application's database
    /// and templates take (`--latency`): a tool's concurrent requests are
    /// then really in flight together. Zero by default.
    pub latency: Duration,
}

#[derive(Default)]
struct Pending {
    conns: Mutex<VecDeque<TcpStream>>,
    ready: Condvar,
}

impl Pending {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<TcpStream>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queue a connection; gives it back when the queue is full.
    fn push(&self, s: TcpStream) -> Result<(), TcpStream> {
        let mut q = self.lock();
        if q.len() >= MAX_PENDING {
            return Err(s);
        }
        q.push_back(s);
        self.ready.notify_one();
        Ok(())
    }

    fn pop(&self) -> TcpStream {
        let mut q = self.lock();
        loop {
            if let Some(s) = q.pop_front() {
                return s;
            }
            q = self.ready.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

fn refuse(mut stream: TcpStream, status: u16, message: &str) {
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let _ = write_response(
        &mut stream,
        &ShopResponse::text(status, message),
        false,
        false,
    );
}

/// Wait for the next request to start on a kept-alive connection. False when
/// the client closed, stayed idle too long, or another connection needs the
/// worker more.
fn await_request(reader: &mut BufReader<TcpStream>, pending: &Pending) -> bool {
    if !reader.buffer().is_empty() {
        return true; // pipelined
    }
    if reader.get_ref().set_read_timeout(Some(IDLE_POLL)).is_err() {
        return false;
    }
    let idle_since = Instant::now();
    let ready = loop {
        match reader.fill_buf() {
            Ok(buf) => break !buf.is_empty(),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                if idle_since.elapsed() >= IDLE_TIMEOUT || !pending.is_empty() {
                    break false;
                }
            }
            Err(_) => break false,
        }
    };
    ready
        && reader
            .get_ref()
            .set_read_timeout(Some(REQUEST_TIMEOUT))
            .is_ok()
}

fn serve_connection(
    shop: &Shop,
    stream: TcpStream,
    pending: &Pending,
    access_log: bool,
    latency: Duration,
) {
    if stream.set_read_timeout(Some(REQUEST_TIMEOUT)).is_err()
        || stream.set_write_timeout(Some(WRITE_TIMEOUT)).is_err()
    {
        return;
    }
    let _ = stream.set_nodelay(true);
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    for served in 1..=MAX_REQUESTS_PER_CONNECTION {
        if served > 1 && !await_request(&mut reader, pending) {
            return;
        }
        let head = match read_head(&mut reader) {
            Ok(Some(h)) => h,
            // Closed or idle between requests: nothing to answer.
            Ok(None) | Err((408, _)) => return,
            Err((status, msg)) => return refuse(writer, status, msg),
        };
        let length = match head.body_length() {
            Ok(n) => n,
            Err((status, msg)) => return refuse(writer, status, msg),
        };
        if length > 0
            && head.header("Expect").eq_ignore_ascii_case("100-continue")
            && write_continue(&mut writer).is_err()
        {
            return;
        }
        let body = match read_body(&mut reader, length) {
            Ok(b) => b,
            Err((status, msg)) => return refuse(writer, status, msg),
        };
        let view = ShopRequest {
            method: &head.method,
            url: &head.target,
            accept: head.header("Accept"),
            content_type: head.header("Content-Type"),
            cookie: head.header("Cookie"),
            if_none_match: head.header("If-None-Match"),
            body: &body,
        };
        if !latency.is_zero() {
            thread::sleep(latency);
        }
        // The router is written not to panic; should it ever, the worker
        // answers 500 and lives on instead of leaving the pool smaller.
        let resp = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| shop.handle(&view)))
            .unwrap_or_else(|_| ShopResponse::text(500, "internal error"));
        let keep = head.keep_alive() && served < MAX_REQUESTS_PER_CONNECTION && pending.is_empty();
        if access_log {
            let client = match head.header("X-Forwarded-For") {
                "" => writer
                    .peer_addr()
                    .map(|a| a.ip().to_string())
                    .unwrap_or_default(),
                xff => xff.to_owned(),
            };
            let target: String = head.target.chars().take(200).collect();
            println!(
                "{client} {} {target} {} {}",
                head.method,
                resp.status,
                resp.body.len()
            );
        }
        if write_response(&mut writer, &resp, head.method == "HEAD", keep).is_err() || !keep {
            return;
        }
    }
}

/// Bind the listening socket (`--listen`), so callers learn the port early.
pub fn bind(listen: &str) -> Result<TcpListener, String> {
    TcpListener::bind(listen).map_err(|e| format!("cannot listen on {listen}: {e}"))
}

/// Serve on `listener` until the process is killed.
pub fn serve(listener: TcpListener, shop: Arc<Shop>, opts: &Options) -> Result<(), String> {
    let pending = Arc::new(Pending::default());
    for i in 0..opts.threads.max(1) {
        let (shop, pending, log) = (Arc::clone(&shop), Arc::clone(&pending), opts.access_log);
        let latency = opts.latency;
        thread::Builder::new()
            .name(format!("shop-{i}"))
            .spawn(move || loop {
                let stream = pending.pop();
                serve_connection(&shop, stream, &pending, log, latency);
            })
            .map_err(|e| format!("cannot start worker thread: {e}"))?;
    }
    for conn in listener.incoming() {
        match conn {
            Ok(stream) => {
                if let Err(stream) = pending.push(stream) {
                    refuse(stream, 503, "busy, try again");
                }
            }
            Err(e) => {
                // Out of descriptors and the like: back off instead of spinning.
                eprintln!("demo-shop: accept failed: {e}");
                thread::sleep(Duration::from_millis(50));
            }
        }
    }
    Ok(())
}
