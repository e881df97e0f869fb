//! The hot-swapped profiles file: parse, validate, compile.
//!
//! The file is TOML (see the README for every key). Loading is all-or-nothing:
//! a file that fails validation produces one [`ConfigError`] naming the file,
//! line, column and field, and the caller keeps the profiles it had.
//!
//! A valid file is compiled into an [`Image`] (lists, exception networks and
//! a JSON document with the rest), and a [`Profiles`] is opened from an image:
//! the module compiles a changed file once, writes the image to a file and
//! every worker opens the mapped file (see `ngx::profiles`); tests and
//! `Profiles::parse` open the image in memory. A [`Profiles`] is immutable.

mod error;
mod file;
mod values;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use error::ConfigError;
pub use file::Reaction;
pub use values::{Country, Lifetime, Net};

use crate::lists::{image, AddrLists, Entry, Image, ListKind, NetSet};
use crate::model::{BotType, SensitiveKind, Tolerance};

/// One `[[profile]]`, validated.
pub struct Profile {
    pub name: String,
    pub enabled: bool,
    /// Application names (from `api_abuse_app`); empty means every application.
    pub applications: Vec<String>,
    pub tolerance: Tolerance,
    /// Bit `BotType::index()` set for each bot type the profile acts on.
    pub bot_types: u16,
    pub reaction: Reaction,
    pub duration: Lifetime,
    pub sensitive: crate::detect::SensitiveSet,
    /// `reaction = "challenge"` and `challenge_*` keys, defaults applied.
    pub challenge: crate::challenge::Settings,
}

impl Profile {
    pub fn covers(&self, app: &[u8]) -> bool {
        self.applications.is_empty() || self.applications.iter().any(|a| a.as_bytes() == app)
    }

    pub fn acts_on(&self, bot: BotType) -> bool {
        self.bot_types & (1 << bot.index()) != 0
    }
}

/// Exceptions: never blocked, whatever they send.
#[derive(Default)]
pub struct Exceptions {
    /// Addresses and CIDRs from `addrs`, and from every `sources` file; the
    /// value is the index of the source name (`"addrs"` for the inline list).
    pub nets: NetSet,
    pub source_names: Vec<String>,
    pub countries: Vec<Country>,
}

impl Exceptions {
    /// The name of the exception that covers `addr`, if any.
    pub fn source_of(&self, addr: std::net::IpAddr) -> Option<&str> {
        let idx = self.nets.find(addr)?;
        self.source_names
            .get(usize::try_from(idx).ok()?)
            .map(String::as_str)
    }

    pub fn country_excepted(&self, code: &[u8]) -> bool {
        match code {
            [a, b] => {
                let c = [a.to_ascii_uppercase(), b.to_ascii_uppercase()];
                self.countries.iter().any(|x| x.0 == c)
            }
            _ => false,
        }
    }
}

/// A whole profiles file, compiled and ready to publish.
#[derive(Default)]
pub struct Profiles {
    pub path: PathBuf,
    /// FNV-1a of the file's bytes, shown by the API and in events.
    pub version: u64,
    pub lists: AddrLists,
    pub exceptions: Exceptions,
    pub profiles: Vec<Profile>,
    /// The image the lists are read from.
    image: Option<Arc<Image>>,
}

/// Everything but the networks, as stored in an image.
#[derive(serde::Serialize, serde::Deserialize)]
struct Meta {
    path: PathBuf,
    profiles: Vec<ProfileMeta>,
    sources: Vec<String>,
    countries: Vec<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ProfileMeta {
    name: String,
    enabled: bool,
    applications: Vec<String>,
    tolerance: String,
    bot_types: u16,
    reaction: String,
    /// Seconds; `None`: forever.
    duration: Option<u64>,
    /// (method, path pattern, kind)
    sensitive: Vec<(String, String, String)>,
    #[serde(default)]
    challenge: ChallengeMeta,
}

/// `crate::challenge::Settings` as stored in an image.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct ChallengeMeta {
    below: Option<String>,
    escalate: Option<String>,
    failures: Option<u32>,
    lifetime: Option<u32>,
    work: Option<u8>,
}

impl Profiles {
    /// Reads and compiles the file at `path`, in memory.
    pub fn load(path: &Path) -> Result<Profiles, ConfigError> {
        let image = Self::compile(path)?;
        Profiles::open(Arc::new(image)).map_err(|e| ConfigError::new(path, e))
    }

    /// Compiles `text`, in memory; relative `sources` files are resolved
    /// against the directory of `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Profiles, ConfigError> {
        let image = Self::compile_text(path, text)?;
        Profiles::open(Arc::new(image)).map_err(|e| ConfigError::new(path, e))
    }

    /// Reads and validates the file at `path` and compiles it into an image.
    pub fn compile(path: &Path) -> Result<Image, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(path, format!("cannot be read: {e}")))?;
        Self::compile_text(path, &text)
    }

    /// Validates `text` and compiles it into an image.
    pub fn compile_text(path: &Path, text: &str) -> Result<Image, ConfigError> {
        let raw: file::File = toml::from_str(text).map_err(|e| match e.span() {
            Some(span) => ConfigError::at(path, text, span.start, e.message()),
            None => ConfigError::new(path, e.message()),
        })?;

        let mut builder = image::Builder::new();
        builder
            .lists(list_entries(raw.lists).map(|e| (e.net, e.value())))
            .map_err(|e| ConfigError::new(path, format!("[lists]: {e}")))?;
        let countries = raw.exceptions.countries.clone();
        let (nets, sources) = exception_nets(path, text, raw.exceptions)?;
        builder
            .exceptions(nets)
            .map_err(|e| ConfigError::new(path, format!("[exceptions]: {e}")))?;

        let mut seen = HashSet::new();
        let mut profiles = Vec::with_capacity(raw.profile.len());
        for p in raw.profile {
            let name_at = p.name.span().start;
            let challenge = challenge_settings(path, text, p.name.get_ref(), &p)?;
            let name = p.name.into_inner();
            if name.trim().is_empty() {
                return Err(ConfigError::at(
                    path,
                    text,
                    name_at,
                    "profile name is empty",
                ));
            }
            if !seen.insert(name.clone()) {
                return Err(ConfigError::at(
                    path,
                    text,
                    name_at,
                    format!("duplicate profile name \"{name}\""),
                ));
            }
            let bot_types = match p.bot_types {
                file::BotTypes::All => BotType::ALL.iter().fold(0, |m, b| m | 1 << b.index()),
                file::BotTypes::Some(list) => {
                    if list.is_empty() {
                        return Err(ConfigError::at(
                            path,
                            text,
                            name_at,
                            format!("profile \"{name}\": bot_types is empty (use \"all\" or name at least one)"),
                        ));
                    }
                    list.iter().fold(0, |m, b| m | 1 << b.index())
                }
            };
            let specs: Vec<_> = p
                .sensitive
                .iter()
                .map(|s| {
                    let v = s.get_ref();
                    (v.method.as_str(), v.path.as_str(), v.kind)
                })
                .collect();
            crate::detect::SensitiveSet::compile(&specs).map_err(|msg| {
                let at = p.sensitive.first().map_or(name_at, |s| s.span().start);
                ConfigError::at(
                    path,
                    text,
                    at,
                    format!("profile \"{name}\": sensitive: {msg}"),
                )
            })?;
            profiles.push(ProfileMeta {
                challenge: ChallengeMeta {
                    below: challenge.below.map(|t| t.as_str().to_string()),
                    escalate: Some(challenge.escalate.as_str().to_string()),
                    failures: Some(challenge.failures),
                    lifetime: Some(challenge.lifetime_s),
                    work: Some(challenge.work),
                },
                sensitive: specs
                    .iter()
                    .map(|(m, p, k)| (m.to_string(), p.to_string(), k.as_str().to_string()))
                    .collect(),
                name,
                enabled: p.enabled,
                applications: p.applications,
                tolerance: p.tolerance.as_str().to_string(),
                bot_types,
                reaction: p.reaction.as_str().to_string(),
                duration: p.duration.secs(),
            });
        }
        let meta = Meta {
            path: path.to_path_buf(),
            profiles,
            sources,
            countries: countries
                .iter()
                .map(|c| String::from_utf8_lossy(&c.0).into_owned())
                .collect(),
        };
        let json = serde_json::to_vec(&meta).map_err(|e| ConfigError::new(path, e.to_string()))?;
        builder
            .finish(fnv1a(text.as_bytes()), &json)
            .map_err(|e| ConfigError::new(path, format!("cannot compile: {e}")))
    }

    /// Opens compiled profiles; the lists stay in `image` (mapped or not).
    pub fn open(image: Arc<Image>) -> Result<Profiles, String> {
        let meta: Meta =
            serde_json::from_slice(&image.meta()).map_err(|e| format!("profiles image: {e}"))?;
        let bad = |what: &str, v: &str| format!("profiles image: bad {what} \"{v}\"");
        let mut profiles = Vec::with_capacity(meta.profiles.len());
        for p in meta.profiles {
            let mut specs = Vec::with_capacity(p.sensitive.len());
            for (m, path, k) in &p.sensitive {
                let kind = SensitiveKind::from_name(k).ok_or_else(|| bad("kind", k))?;
                specs.push((m.as_str(), path.as_str(), kind));
            }
            let sensitive = crate::detect::SensitiveSet::compile(&specs)?;
            let defaults = crate::challenge::Settings::default();
            let c = &p.challenge;
            let challenge = crate::challenge::Settings {
                below: match &c.below {
                    Some(t) => Some(Tolerance::from_name(t).ok_or_else(|| bad("tolerance", t))?),
                    None => None,
                },
                escalate: match &c.escalate {
                    Some(r) => Reaction::from_name(r).ok_or_else(|| bad("reaction", r))?,
                    None => defaults.escalate,
                },
                failures: c.failures.unwrap_or(defaults.failures),
                lifetime_s: c.lifetime.unwrap_or(defaults.lifetime_s),
                work: c.work.unwrap_or(defaults.work),
            };
            profiles.push(Profile {
                challenge,
                tolerance: Tolerance::from_name(&p.tolerance)
                    .ok_or_else(|| bad("tolerance", &p.tolerance))?,
                reaction: Reaction::from_name(&p.reaction)
                    .ok_or_else(|| bad("reaction", &p.reaction))?,
                duration: p.duration.map_or(Lifetime::Forever, |s| {
                    Lifetime::For(std::time::Duration::from_secs(s))
                }),
                name: p.name,
                enabled: p.enabled,
                applications: p.applications,
                bot_types: p.bot_types,
                sensitive,
            });
        }
        let countries = meta
            .countries
            .iter()
            .map(|c| c.parse::<Country>())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Profiles {
            path: meta.path,
            version: image.version(),
            lists: AddrLists::of(image.clone()),
            exceptions: Exceptions {
                nets: NetSet::of(image.clone()),
                source_names: meta.sources,
                countries,
            },
            profiles,
            image: Some(image),
        })
    }

    /// The image these profiles are read from.
    pub fn image(&self) -> Option<&Arc<Image>> {
        self.image.as_ref()
    }

    /// The first enabled profile, in file order, that covers `app`.
    pub fn profile_for(&self, app: &[u8]) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.enabled && p.covers(app))
    }

    pub fn enabled_count(&self) -> usize {
        self.profiles.iter().filter(|p| p.enabled).count()
    }
}

/// The challenge keys of a profile, validated: each error names its line.
fn challenge_settings(
    path: &Path,
    text: &str,
    name: &str,
    p: &file::Profile,
) -> Result<crate::challenge::Settings, ConfigError> {
    use crate::challenge::{Settings, MAX_FAILURES, MAX_LIFETIME_S};
    let fail = |at: usize, msg: String| {
        ConfigError::at(path, text, at, format!("profile \"{name}\": {msg}"))
    };
    let mut s = Settings::default();
    if let Some(t) = &p.challenge_tolerance {
        let at = t.span().start;
        let t = *t.get_ref();
        if !matches!(p.reaction, Reaction::Denylist | Reaction::Graylist) {
            return Err(fail(
                at,
                format!(
                    "challenge_tolerance challenges the clients just below a denylist or graylist \
                     reaction's threshold; with reaction = \"{}\" remove it{}",
                    p.reaction.as_str(),
                    if p.reaction == Reaction::Challenge {
                        " (the profile's tolerance is the challenge's)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        if t >= p.tolerance {
            return Err(fail(
                at,
                format!(
                    "challenge_tolerance = \"{}\" must be lower than the profile's tolerance \"{}\" \
                     (low < normal < high)",
                    t.as_str(),
                    p.tolerance.as_str()
                ),
            ));
        }
        s.below = Some(t);
    }
    if matches!(p.reaction, Reaction::Graylist) {
        s.escalate = Reaction::Graylist;
    }
    if let Some(r) = &p.challenge_escalate {
        if !matches!(r.get_ref(), Reaction::Denylist | Reaction::Graylist) {
            return Err(fail(
                r.span().start,
                format!(
                    "challenge_escalate must be \"denylist\" or \"graylist\", not \"{}\"",
                    r.get_ref().as_str()
                ),
            ));
        }
        s.escalate = *r.get_ref();
    }
    if let Some(n) = &p.challenge_failures {
        let v = *n.get_ref();
        if !(1..=i64::from(MAX_FAILURES)).contains(&v) {
            return Err(fail(
                n.span().start,
                format!("challenge_failures = {v} is not between 1 and {MAX_FAILURES}"),
            ));
        }
        s.failures = v as u32;
    }
    if let Some(l) = &p.challenge_lifetime {
        match l.get_ref().secs() {
            Some(secs) if secs <= MAX_LIFETIME_S => s.lifetime_s = secs as u32,
            _ => {
                return Err(fail(
                    l.span().start,
                    format!(
                        "challenge_lifetime must be a duration of at most {}d (the pass cookie's lifetime)",
                        MAX_LIFETIME_S / 86_400
                    ),
                ))
            }
        }
    }
    if let Some(w) = &p.challenge_work {
        let v = *w.get_ref();
        let max = crate::challenge::token::MAX_WORK;
        if !(0..=i64::from(max)).contains(&v) {
            return Err(fail(
                w.span().start,
                format!("challenge_work = {v} is not between 0 and {max} (bits of proof of work)"),
            ));
        }
        s.work = v as u8;
    }
    Ok(s)
}

fn list_entries(raw: file::Lists) -> impl Iterator<Item = Entry> {
    [
        (ListKind::Allow, raw.allow),
        (ListKind::Deny, raw.deny),
        (ListKind::Gray, raw.gray),
    ]
    .into_iter()
    .flat_map(|(kind, items)| {
        items.into_iter().map(move |item| {
            let (net, expires) = match item {
                file::ListItem::Plain(n) => (n, None),
                file::ListItem::Detailed(d) => (d.addr, d.expires.map(|e| e.0)),
            };
            Entry {
                net: net.0,
                kind,
                expires,
            }
        })
    })
}

/// An exception network and the index of its source name.
type SourceNet = (ipnetwork::IpNetwork, u64);

/// The exception networks and the source names.
fn exception_nets(
    path: &Path,
    text: &str,
    raw: file::Exceptions,
) -> Result<(Vec<SourceNet>, Vec<String>), ConfigError> {
    let mut names = vec!["addrs".to_string()];
    let mut nets: Vec<_> = raw.addrs.iter().map(|n| (n.0, 0u64)).collect();
    let base = path.parent().unwrap_or(Path::new("."));
    for src in raw.sources {
        let at = src.file.span().start;
        let file = base.join(src.file.get_ref());
        if names.contains(&src.name) {
            return Err(ConfigError::at(
                path,
                text,
                at,
                format!("duplicate exception source name \"{}\"", src.name),
            ));
        }
        let idx = u16::try_from(names.len())
            .map_err(|_| ConfigError::at(path, text, at, "too many exception sources"))?;
        let body = std::fs::read_to_string(&file).map_err(|e| {
            ConfigError::at(
                path,
                text,
                at,
                format!(
                    "exception source \"{}\": cannot read \"{}\": {e}",
                    src.name,
                    file.display()
                ),
            )
        })?;
        for (n, line) in body.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let net: Net = line.parse().map_err(|e| {
                ConfigError::at(
                    path,
                    text,
                    at,
                    format!(
                        "exception source \"{}\": \"{}\" line {}: {e}",
                        src.name,
                        file.display(),
                        n + 1
                    ),
                )
            })?;
            nets.push((net.0, u64::from(idx)));
        }
        names.push(src.name);
    }
    Ok((nets, names))
}

/// FNV-1a, 64 bit: a stable fingerprint of the file for its version number.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests;
