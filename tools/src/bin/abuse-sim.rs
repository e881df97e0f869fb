//! `abuse-sim`: labeled traffic simulator for ngx_http_api_abuse_module.
//! See `docs/simulator.md` and `abuse-sim --help`.

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    api_abuse_tools::sim::main(&args)
}
