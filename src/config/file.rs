//! The shape of the profiles file, as serde types. Every table denies unknown
//! keys: a typo is a validation error, never a silently ignored setting.

use serde::Deserialize;
use toml::Spanned;

use super::values::{Country, Expiry, Lifetime, Net};
use crate::model::{BotType, SensitiveKind, Tolerance};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    #[serde(default)]
    pub lists: Lists,
    #[serde(default)]
    pub exceptions: Exceptions,
    #[serde(default)]
    pub profile: Vec<Profile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lists {
    #[serde(default)]
    pub allow: Vec<ListItem>,
    #[serde(default)]
    pub deny: Vec<ListItem>,
    #[serde(default)]
    pub gray: Vec<ListItem>,
}

/// `"192.0.2.10"` or `{ addr = "192.0.2.0/24", expires = "...", comment = "..." }`.
#[derive(Debug)]
pub enum ListItem {
    Plain(Net),
    Detailed(ListItemDetailed),
}

// Hand-written rather than `untagged`, so that the error of a bad address
// inside the item reaches the operator instead of "did not match any variant".
impl<'de> Deserialize<'de> for ListItem {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ListItem;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an IP or CIDR string, or a table { addr, expires, comment }")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<ListItem, E> {
                s.parse().map(ListItem::Plain).map_err(E::custom)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, m: A) -> Result<ListItem, A::Error> {
                ListItemDetailed::deserialize(serde::de::value::MapAccessDeserializer::new(m))
                    .map(ListItem::Detailed)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListItemDetailed {
    pub addr: Net,
    pub expires: Option<Expiry>,
    /// For the people who read the file; not compiled.
    #[allow(dead_code)]
    pub comment: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exceptions {
    #[serde(default)]
    pub addrs: Vec<Net>,
    #[serde(default)]
    pub countries: Vec<Country>,
    #[serde(default)]
    pub sources: Vec<Source>,
}

/// A named source type: a file with one IP or CIDR per line (`#` comments), e.g.
/// the published address ranges of a search engine's crawler.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub name: String,
    pub file: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: Spanned<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub applications: Vec<String>,
    #[serde(default = "normal")]
    pub tolerance: Tolerance,
    #[serde(default)]
    pub bot_types: BotTypes,
    #[serde(default)]
    pub reaction: Reaction,
    #[serde(default)]
    pub duration: Lifetime,
    #[serde(default)]
    pub sensitive: Vec<Spanned<Sensitive>>,
    /// See `crate::challenge::Settings`.
    pub challenge_tolerance: Option<Spanned<Tolerance>>,
    pub challenge_escalate: Option<Spanned<Reaction>>,
    pub challenge_failures: Option<Spanned<i64>>,
    pub challenge_lifetime: Option<Spanned<Lifetime>>,
    pub challenge_work: Option<Spanned<i64>>,
}

fn yes() -> bool {
    true
}

fn normal() -> Tolerance {
    Tolerance::Normal
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reaction {
    #[default]
    Denylist,
    Graylist,
    Monitor,
    /// Prove a JavaScript-capable browser (see `crate::challenge`).
    Challenge,
}

impl Reaction {
    pub fn as_str(self) -> &'static str {
        match self {
            Reaction::Denylist => "denylist",
            Reaction::Graylist => "graylist",
            Reaction::Monitor => "monitor",
            Reaction::Challenge => "challenge",
        }
    }

    pub fn from_name(s: &str) -> Option<Reaction> {
        [
            Reaction::Denylist,
            Reaction::Graylist,
            Reaction::Monitor,
            Reaction::Challenge,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// `"all"` or a list of bot type names.
#[derive(Debug, Default)]
pub enum BotTypes {
    #[default]
    All,
    Some(Vec<BotType>),
}

impl<'de> Deserialize<'de> for BotTypes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = BotTypes;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("\"all\" or a list of bot types")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<BotTypes, E> {
                if s == "all" {
                    Ok(BotTypes::All)
                } else {
                    Err(E::custom(format!(
                        "bot_types must be \"all\" or a list of bot types, not \"{s}\""
                    )))
                }
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, s: A) -> Result<BotTypes, A::Error> {
                Vec::<BotType>::deserialize(serde::de::value::SeqAccessDeserializer::new(s))
                    .map(BotTypes::Some)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sensitive {
    #[serde(default = "any_method")]
    pub method: String,
    pub path: String,
    pub kind: SensitiveKind,
}

fn any_method() -> String {
    "*".to_string()
}
