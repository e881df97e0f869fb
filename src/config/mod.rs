//! The hot-swapped profiles file: parse, validate, compile.
//!
//! The file is TOML (see the README for every key). Loading is all-or-nothing:
//! a file that fails validation produces one [`ConfigError`] naming the file,
//! line, column and field, and the caller keeps the profiles it had. A compiled
//! [`Profiles`] is immutable; the nginx glue publishes it with `arc-swap`.

mod error;
mod file;
mod values;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub use error::ConfigError;
pub use file::Reaction;
pub use values::{Country, Lifetime, Net};

use crate::lists::{AddrLists, Entry, ListKind, PrefixSet};
use crate::model::{BotType, Tolerance};

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
    /// value is the source name (`"addrs"` for the inline list).
    pub nets: PrefixSet<u16>,
    pub source_names: Vec<String>,
    pub countries: Vec<Country>,
}

impl Exceptions {
    /// The name of the exception that covers `addr`, if any.
    pub fn source_of(&self, addr: std::net::IpAddr) -> Option<&str> {
        let idx = *self.nets.find(addr, |_| true)?;
        self.source_names.get(usize::from(idx)).map(String::as_str)
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
}

impl Profiles {
    /// Reads and compiles the file at `path`.
    pub fn load(path: &Path) -> Result<Profiles, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(path, format!("cannot be read: {e}")))?;
        Self::parse(path, &text)
    }

    /// Compiles `text`; relative `sources` files are resolved against the
    /// directory of `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Profiles, ConfigError> {
        let raw: file::File = toml::from_str(text).map_err(|e| match e.span() {
            Some(span) => ConfigError::at(path, text, span.start, e.message()),
            None => ConfigError::new(path, e.message()),
        })?;

        let lists = compile_lists(raw.lists)
            .map_err(|e| ConfigError::new(path, format!("[lists]: {e}")))?;
        let exceptions = compile_exceptions(path, text, raw.exceptions)?;

        let mut seen = HashSet::new();
        let mut profiles = Vec::with_capacity(raw.profile.len());
        for p in raw.profile {
            let name_at = p.name.span().start;
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
            let sensitive = crate::detect::SensitiveSet::compile(&specs).map_err(|msg| {
                let at = p.sensitive.first().map_or(name_at, |s| s.span().start);
                ConfigError::at(
                    path,
                    text,
                    at,
                    format!("profile \"{name}\": sensitive: {msg}"),
                )
            })?;
            profiles.push(Profile {
                name,
                enabled: p.enabled,
                applications: p.applications,
                tolerance: p.tolerance,
                bot_types,
                reaction: p.reaction,
                duration: p.duration,
                sensitive,
            });
        }

        Ok(Profiles {
            path: path.to_path_buf(),
            version: fnv1a(text.as_bytes()),
            lists,
            exceptions,
            profiles,
        })
    }

    /// The first enabled profile, in file order, that covers `app`.
    pub fn profile_for(&self, app: &[u8]) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.enabled && p.covers(app))
    }

    pub fn enabled_count(&self) -> usize {
        self.profiles.iter().filter(|p| p.enabled).count()
    }
}

fn compile_lists(raw: file::Lists) -> Result<AddrLists, crate::lists::PrefixSetError> {
    let mut entries = Vec::with_capacity(raw.allow.len() + raw.deny.len() + raw.gray.len());
    for (kind, items) in [
        (ListKind::Allow, raw.allow),
        (ListKind::Deny, raw.deny),
        (ListKind::Gray, raw.gray),
    ] {
        for item in items {
            let (net, expires, comment) = match item {
                file::ListItem::Plain(n) => (n, None, None),
                file::ListItem::Detailed(d) => (d.addr, d.expires.map(|e| e.0), d.comment),
            };
            entries.push(Entry {
                net: net.0,
                kind,
                expires,
                comment,
            });
        }
    }
    AddrLists::new(entries)
}

fn compile_exceptions(
    path: &Path,
    text: &str,
    raw: file::Exceptions,
) -> Result<Exceptions, ConfigError> {
    let mut names = vec!["addrs".to_string()];
    let mut nets: Vec<_> = raw.addrs.iter().map(|n| (n.0, 0u16)).collect();
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
            nets.push((net.0, idx));
        }
        names.push(src.name);
    }
    let nets =
        PrefixSet::build(nets).map_err(|e| ConfigError::new(path, format!("[exceptions]: {e}")))?;
    Ok(Exceptions {
        nets,
        source_names: names,
        countries: raw.countries,
    })
}

/// FNV-1a, 64 bit: a stable fingerprint of the file for its version number.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests;
