//! Command-line options of `abuse-sim`. `--smoke` first sets small defaults
//! (a handful of clients, done in well under 20 s); options given explicitly
//! override them whatever their position.

use super::clients::BotKind;
use super::profiles::TOLERANCES;
use std::path::PathBuf;

pub const USAGE: &str = "usage: abuse-sim [options]

  --target URL          protected site (default http://127.0.0.1:8080; loopback only)
  --profiles PATH       module profiles file; its tolerance is switched per run and restored
  --tolerance LIST      comma list of low,normal,high (default with --profiles: all three)
  --humans N            ordinary visitors per run (default 200; 1 in 10 scripts the API)
  --hard-per-case N     clients per hard human case: nat, power_user, mobile_app,
                        monitor, partner_api (default 2)
  --nat-size N          people behind each NAT address (default 20)
  --bots-per-type M     bots per bot type, cycling plain/paced/browser/rotating (default 20)
  --bot-types LIST      comma list of bot types (default all eight)
  --seed S              random seed; same seed = same traffic (default 1)
  --concurrency C       clients in flight at once (default 64)
  --time-scale F        multiply think times and bot delays by F (default 0.05);
                        the module sees the compressed gaps too
  --person-min-pause S  legitimate clients' gaps (people's pauses, partners' and
                        apps' periods) are compressed to a median of S seconds
                        at most (default 1, smoke 0)
  --max-seconds T       time cap for the whole invocation (default 1200)
  --human-cap N         request cap per person (default 200)
  --bot-cap N           request cap per bot (default 300)
  --reload-wait SECS    wait after rewriting the profiles (default 1.5)
  --net-base B          second octet of the first run's human range (default 1):
                        run r uses 10.(B+r).x.y for humans, 10.(B+100+r).x.y for bots
  --campaigns LIST      also run campaigns in the background: stuffing (300 addresses
                        x 4 logins), scraping (200 addresses x 12 product pages),
                        flash (a launch-day crowd of 250 new people and app users:
                        the false-positive guard)
  --campaign-delay SECS start them this long after the run (default 20)
  --campaign-concurrency C  the campaigns' connections at once (default 32)
  --json FILE           also write the figures as JSON
  --smoke               a tiny run for integration tests (< 20 s; with --profiles
                        and no --tolerance, one run at normal)
  -h, --help            this text";

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub target: String,
    pub profiles: Option<PathBuf>,
    pub tolerances: Vec<String>,
    pub humans: usize,
    pub hard_per_case: usize,
    pub nat_size: usize,
    pub bots_per_type: usize,
    pub bot_types: Vec<BotKind>,
    pub seed: u64,
    pub concurrency: usize,
    pub time_scale: f64,
    pub person_min_pause: f64,
    pub max_seconds: f64,
    pub human_cap: usize,
    pub bot_cap: usize,
    pub reload_wait: f64,
    pub net_base: u8,
    pub json: Option<PathBuf>,
    pub smoke: bool,
    pub campaigns: Vec<super::campaigns::CampaignKind>,
    pub campaign_delay: f64,
    pub campaign_concurrency: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            target: "http://127.0.0.1:8080".into(),
            profiles: None,
            tolerances: Vec::new(),
            humans: 200,
            hard_per_case: 2,
            nat_size: 20,
            bots_per_type: 20,
            bot_types: BotKind::ALL.to_vec(),
            seed: 1,
            concurrency: 64,
            time_scale: 0.05,
            person_min_pause: 1.0,
            max_seconds: 1200.0,
            human_cap: 200,
            bot_cap: 300,
            reload_wait: 1.5,
            net_base: 1,
            json: None,
            smoke: false,
            campaigns: Vec::new(),
            campaign_delay: 20.0,
            campaign_concurrency: 32,
        }
    }
}

impl Options {
    fn smoke() -> Options {
        Options {
            humans: 6,
            hard_per_case: 1,
            nat_size: 4,
            bots_per_type: 4,
            concurrency: 64,
            time_scale: 0.01,
            // A plumbing check, not a measurement: people as compressed as
            // everything else, so it ends in seconds.
            person_min_pause: 0.0,
            max_seconds: 18.0,
            human_cap: 30,
            bot_cap: 60,
            smoke: true,
            ..Options::default()
        }
    }

    /// The labels of the runs: tolerances, or one run with the file as it is.
    pub fn runs(&self) -> Vec<String> {
        if self.tolerances.is_empty() {
            vec!["as-configured".to_owned()]
        } else {
            self.tolerances.clone()
        }
    }
}

fn number<T: std::str::FromStr>(
    name: &str,
    v: &str,
    ok: impl Fn(&T) -> bool,
    range: &str,
) -> Result<T, String> {
    v.parse::<T>()
        .ok()
        .filter(|x| ok(x))
        .ok_or_else(|| format!("{name} must be {range}, got {v:?}"))
}

/// Parse the arguments (without the program name). `Err("")` asks for help.
pub fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = if args.iter().any(|a| a == "--smoke") {
        Options::smoke()
    } else {
        Options::default()
    };
    let mut tolerance_given = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--smoke" {
            continue;
        }
        if a == "-h" || a == "--help" {
            return Err(String::new());
        }
        let v = it
            .next()
            .ok_or_else(|| format!("{a} needs a value (see --help)"))?;
        match a.as_str() {
            "--target" => o.target = v.clone(),
            "--profiles" => o.profiles = Some(PathBuf::from(v)),
            "--tolerance" => {
                tolerance_given = true;
                o.tolerances = Vec::new();
                for t in v.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                    if !TOLERANCES.contains(&t) {
                        return Err(format!("unknown tolerance {t:?} (use low, normal, high)"));
                    }
                    o.tolerances.push(t.to_owned());
                }
            }
            "--humans" => o.humans = number(a, v, |n: &usize| *n <= 20_000, "0..=20000")?,
            "--hard-per-case" => o.hard_per_case = number(a, v, |n: &usize| *n <= 100, "0..=100")?,
            "--nat-size" => {
                o.nat_size = number(a, v, |n: &usize| (1..=250).contains(n), "1..=250")?
            }
            "--bots-per-type" => {
                o.bots_per_type = number(a, v, |n: &usize| *n <= 5_000, "0..=5000")?
            }
            "--bot-types" => {
                o.bot_types = Vec::new();
                for t in v.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                    let kind =
                        BotKind::from_name(t).ok_or_else(|| format!("unknown bot type {t:?}"))?;
                    if !o.bot_types.contains(&kind) {
                        o.bot_types.push(kind);
                    }
                }
            }
            "--seed" => o.seed = number(a, v, |_: &u64| true, "a number")?,
            "--concurrency" => {
                o.concurrency = number(a, v, |n: &usize| (1..=1024).contains(n), "1..=1024")?
            }
            "--time-scale" => {
                o.time_scale = number(a, v, |f: &f64| *f > 0.0 && *f <= 10.0, "in (0, 10]")?
            }
            "--person-min-pause" => {
                o.person_min_pause = number(a, v, |f: &f64| (0.0..=60.0).contains(f), "in [0, 60]")?
            }
            "--max-seconds" => {
                o.max_seconds = number(a, v, |f: &f64| *f > 0.0 && *f <= 86_400.0, "in (0, 86400]")?
            }
            "--human-cap" => {
                o.human_cap = number(a, v, |n: &usize| (1..=10_000).contains(n), "1..=10000")?
            }
            "--bot-cap" => {
                o.bot_cap = number(a, v, |n: &usize| (1..=100_000).contains(n), "1..=100000")?
            }
            "--reload-wait" => {
                o.reload_wait = number(a, v, |f: &f64| (0.0..=60.0).contains(f), "0..=60 seconds")?
            }
            "--net-base" => o.net_base = number(a, v, |n: &u8| *n <= 150, "0..=150")?,
            "--json" => o.json = Some(PathBuf::from(v)),
            "--campaigns" => {
                o.campaigns = Vec::new();
                for t in v.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                    let k = super::campaigns::CampaignKind::from_name(t).ok_or_else(|| {
                        format!("unknown campaign {t:?} (use stuffing, scraping, flash)")
                    })?;
                    if !o.campaigns.contains(&k) {
                        o.campaigns.push(k);
                    }
                }
            }
            "--campaign-delay" => {
                o.campaign_delay = number(
                    a,
                    v,
                    |f: &f64| (0.0..=3600.0).contains(f),
                    "0..=3600 seconds",
                )?
            }
            "--campaign-concurrency" => {
                o.campaign_concurrency =
                    number(a, v, |n: &usize| (1..=1024).contains(n), "1..=1024")?
            }
            other => return Err(format!("unknown option {other} (see --help)")),
        }
    }
    if o.profiles.is_some() && !tolerance_given {
        // A smoke test checks the plumbing once; a real run compares all three.
        let all: &[&str] = if o.smoke { &["normal"] } else { &TOLERANCES };
        o.tolerances = all.iter().map(|t| (*t).to_owned()).collect();
    }
    if o.profiles.is_none() && !o.tolerances.is_empty() {
        return Err("--tolerance needs --profiles (the file whose tolerance it switches)".into());
    }
    if tolerance_given && o.tolerances.is_empty() {
        return Err("--tolerance needs at least one of low, normal, high".into());
    }
    let runs = o.runs().len();
    if usize::from(o.net_base) + 100 + runs > 256 {
        return Err(format!(
            "--net-base {} leaves no room for {runs} runs' bot ranges",
            o.net_base
        ));
    }
    let hard = o.hard_per_case * super::clients::HardCase::ALL.len();
    if o.humans + hard > 254 * 256 || o.bots_per_type * o.bot_types.len() > 254 * 256 {
        return Err("too many clients for one /16 address range".into());
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn defaults_and_overrides() {
        let o = parse(&[]).unwrap_or_default();
        assert_eq!(o, Options::default());
        assert_eq!(o.runs(), vec!["as-configured"]);
        let o = parse(&args(
            "--humans 10 --seed 9 --time-scale 0.2 --bot-types scraping,bola,scraping",
        ))
        .unwrap_or_default();
        assert_eq!((o.humans, o.seed, o.time_scale), (10, 9, 0.2));
        assert_eq!(o.bot_types, vec![BotKind::Scraping, BotKind::Bola]);
    }

    #[test]
    fn smoke_defaults_yield_to_explicit_options() {
        let o = parse(&args("--humans 3 --smoke")).unwrap_or_default();
        assert!(o.smoke);
        assert_eq!(o.humans, 3);
        assert_eq!(o.bot_cap, Options::smoke().bot_cap);
        let o = parse(&args("--smoke --profiles p.toml")).unwrap_or_default();
        assert_eq!(o.runs(), vec!["normal"]);
    }

    #[test]
    fn tolerances_need_profiles() {
        let o = parse(&args("--profiles p.toml")).unwrap_or_default();
        assert_eq!(o.tolerances, vec!["low", "normal", "high"]);
        let o = parse(&args("--profiles p.toml --tolerance high,low")).unwrap_or_default();
        assert_eq!(o.runs(), vec!["high", "low"]);
        assert!(parse(&args("--tolerance low")).is_err());
        assert!(parse(&args("--profiles p --tolerance medium")).is_err());
        assert!(parse(&args("--profiles p --tolerance ,")).is_err());
    }

    #[test]
    fn rejects_bad_values() {
        for bad in [
            "--humans",
            "--humans x",
            "--time-scale 0",
            "--time-scale -1",
            "--concurrency 0",
            "--nat-size 300",
            "--bot-types ddos",
            "--frobnicate 1",
            "--net-base 150 --profiles p --tolerance low,low,low,low,low,low,low",
            "--max-seconds nan",
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad}");
        }
        assert_eq!(parse(&args("--help")), Err(String::new()));
    }
}
