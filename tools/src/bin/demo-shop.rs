//! `demo-shop`: the small web shop that the demo nginx proxies to.
//!
//! Usage: `demo-shop [--listen 127.0.0.1:8081] [--static DIR] [--threads N] [--latency MS] [--access-log]`

use api_abuse_tools::shop::assets::Assets;
use api_abuse_tools::shop::server::{bind, serve, Options};
use api_abuse_tools::shop::Shop;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

const USAGE: &str =
    "usage: demo-shop [--listen ADDR:PORT] [--static DIR] [--threads N] [--latency MS] [--access-log]

  --listen ADDR:PORT  where to listen (default 127.0.0.1:8081)
  --static DIR        static assets served under /static/ (default nginx-conf/demo/static)
  --threads N         worker threads (default 16)
  --latency MS        take MS milliseconds to answer each request (default 0)
  --access-log        print one line per request to stdout

Demo account: demo / demo-password";

const DEFAULT_STATIC: &str = "nginx-conf/demo/static";

struct Args {
    listen: String,
    static_dir: PathBuf,
    opts: Options,
}

fn parse() -> Result<Args, String> {
    let mut listen = "127.0.0.1:8081".to_owned();
    let mut opts = Options {
        threads: 16,
        access_log: false,
        latency: std::time::Duration::ZERO,
    };
    let mut static_dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--listen" => listen = value("--listen")?,
            "--static" => static_dir = Some(PathBuf::from(value("--static")?)),
            "--threads" => {
                opts.threads = value("--threads")?
                    .parse()
                    .ok()
                    .filter(|n| (1..=256).contains(n))
                    .ok_or("--threads must be 1..=256")?
            }
            "--latency" => {
                opts.latency = value("--latency")?
                    .parse()
                    .ok()
                    .filter(|n| *n <= 60_000)
                    .map(std::time::Duration::from_millis)
                    .ok_or("--latency must be 0..=60000 (milliseconds)")?
            }
            "--access-log" => opts.access_log = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    // Without --static, look in the working directory first (running from the
    // repo root), then next to the sources this binary was built from.
    let static_dir = static_dir.unwrap_or_else(|| {
        let cwd = PathBuf::from(DEFAULT_STATIC);
        if cwd.is_dir() {
            cwd
        } else {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(DEFAULT_STATIC)
        }
    });
    Ok(Args {
        listen,
        static_dir,
        opts,
    })
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("demo-shop: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let assets = match Assets::load(&args.static_dir) {
        Ok(a) => a,
        Err(e) => {
            eprintln!(
                "demo-shop: cannot read static dir {}: {e}",
                args.static_dir.display()
            );
            return ExitCode::from(1);
        }
    };
    let result = bind(&args.listen).and_then(|listener| {
        eprintln!(
            "demo-shop: listening on http://{} ({} static files from {}, {} threads)",
            args.listen,
            assets.len(),
            args.static_dir.display(),
            args.opts.threads
        );
        serve(listener, Arc::new(Shop::new(assets)), &args.opts)
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo-shop: {e}");
            ExitCode::from(1)
        }
    }
}
