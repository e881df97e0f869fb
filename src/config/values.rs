//! Value types of the profiles file that validate themselves while the TOML is
//! deserialised, so a bad address, duration or date is reported by the TOML
//! parser with its exact line and column.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, UNIX_EPOCH};

use ipnetwork::IpNetwork;
use serde::de::{self, Deserializer};
use serde::Deserialize;

/// An IPv4 or IPv6 address or CIDR; host bits are cleared (`10.1.2.3/8` is `10.0.0.0/8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Net(pub IpNetwork);

impl FromStr for Net {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let net = IpNetwork::from_str(s)
            .map_err(|e| format!("\"{s}\" is not an IP address or CIDR ({e})"))?;
        // `network()` gives the first address; rebuilding with it drops host bits.
        let clean = IpNetwork::new(net.network(), net.prefix())
            .map_err(|e| format!("\"{s}\" is not a valid CIDR ({e})"))?;
        Ok(Net(clean))
    }
}

impl<'de> Deserialize<'de> for Net {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

/// How long a reaction lasts: a duration such as `30m`, `24h`, `7d`, or `forever`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifetime {
    For(Duration),
    Forever,
}

impl Default for Lifetime {
    fn default() -> Self {
        Lifetime::For(Duration::from_secs(24 * 3600))
    }
}

impl Lifetime {
    /// Seconds, `None` for forever.
    pub fn secs(self) -> Option<u64> {
        match self {
            Lifetime::For(d) => Some(d.as_secs()),
            Lifetime::Forever => None,
        }
    }
}

impl FromStr for Lifetime {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "forever" {
            return Ok(Lifetime::Forever);
        }
        let d = humantime::parse_duration(s).map_err(|e| {
            format!("\"{s}\" is not a duration like \"30m\", \"24h\", \"7d\" or \"forever\" ({e})")
        })?;
        if d.as_secs() == 0 {
            return Err(format!("duration \"{s}\" must be at least one second"));
        }
        Ok(Lifetime::For(d))
    }
}

impl<'de> Deserialize<'de> for Lifetime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

/// A point in time written as RFC 3339 (`2026-12-31T00:00:00Z`), kept as Unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expiry(pub u64);

impl FromStr for Expiry {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let t = humantime::parse_rfc3339_weak(s).map_err(|e| {
            format!("\"{s}\" is not an RFC 3339 time like \"2026-12-31T00:00:00Z\" ({e})")
        })?;
        let secs = t
            .duration_since(UNIX_EPOCH)
            .map_err(|_| format!("\"{s}\" is before 1970"))?;
        Ok(Expiry(secs.as_secs()))
    }
}

impl<'de> Deserialize<'de> for Expiry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

/// An ISO 3166-1 alpha-2 country code, stored upper case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Country(pub [u8; 2]);

impl FromStr for Country {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Ok(Country([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => Err(format!("\"{s}\" is not a two-letter ISO 3166 country code")),
        }
    }
}

impl<'de> Deserialize<'de> for Country {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.0).unwrap_or("??"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nets() {
        assert_eq!(
            Net::from_str("10.1.2.3/8").unwrap().0.to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(Net::from_str("192.0.2.1").unwrap().0.prefix(), 32);
        assert_eq!(Net::from_str("2001:db8::/48").unwrap().0.prefix(), 48);
        assert!(Net::from_str("300.1.1.1").is_err());
        assert!(Net::from_str("10.0.0.0/33").is_err());
        assert!(Net::from_str("").is_err());
    }

    #[test]
    fn lifetimes() {
        assert_eq!(Lifetime::from_str("forever").unwrap(), Lifetime::Forever);
        assert_eq!(Lifetime::from_str("24h").unwrap().secs(), Some(86400));
        assert_eq!(Lifetime::from_str("7d").unwrap().secs(), Some(7 * 86400));
        assert_eq!(Lifetime::from_str("30m").unwrap().secs(), Some(1800));
        assert!(Lifetime::from_str("soon").is_err());
        assert!(Lifetime::from_str("0s").is_err());
    }

    #[test]
    fn expiries_and_countries() {
        assert_eq!(Expiry::from_str("1970-01-02T00:00:00Z").unwrap().0, 86400);
        assert!(Expiry::from_str("tomorrow").is_err());
        assert_eq!(Country::from_str("nl").unwrap().to_string(), "NL");
        assert!(Country::from_str("NLD").is_err());
    }
}
