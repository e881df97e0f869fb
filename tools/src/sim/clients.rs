//! The simulated population: who each client is (its label), which address it
//! sends from, and the shared context every plan is built in.
//!
//! Labels are the ground truth the report is computed against. Bot type names
//! are the module's own (`crate::model::BotType` in the module crate), so a
//! row of the report and a line of the module's events file say the same.

use crate::catalog::Catalog;
use std::net::Ipv4Addr;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BotKind {
    TrafficSpike,
    CredentialStuffing,
    FakeAccounts,
    Spam,
    Scalping,
    VulnerabilityScanning,
    Scraping,
    Bola,
}

impl BotKind {
    pub const ALL: [BotKind; 8] = [
        BotKind::CredentialStuffing,
        BotKind::FakeAccounts,
        BotKind::Spam,
        BotKind::Scalping,
        BotKind::Scraping,
        BotKind::VulnerabilityScanning,
        BotKind::Bola,
        BotKind::TrafficSpike,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BotKind::TrafficSpike => "traffic_spike",
            BotKind::CredentialStuffing => "credential_stuffing",
            BotKind::FakeAccounts => "fake_accounts",
            BotKind::Spam => "spam",
            BotKind::Scalping => "scalping",
            BotKind::VulnerabilityScanning => "vulnerability_scanning",
            BotKind::Scraping => "scraping",
            BotKind::Bola => "bola",
        }
    }

    pub fn from_name(s: &str) -> Option<BotKind> {
        BotKind::ALL.into_iter().find(|b| b.as_str() == s)
    }
}

/// How a bot disguises itself; every bot type comes in all four.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Variant {
    /// A tool or scanner User-Agent, requests back to back.
    Plain,
    /// An API-client User-Agent and evenly spaced requests (a cron-like loop).
    Paced,
    /// One real browser identity with its full header set, randomised gaps.
    Browser,
    /// A new browser User-Agent on every request, sparse headers, random gaps.
    Rotating,
}

impl Variant {
    pub const ALL: [Variant; 4] = [
        Variant::Plain,
        Variant::Paced,
        Variant::Browser,
        Variant::Rotating,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Plain => "plain",
            Variant::Paced => "paced",
            Variant::Browser => "browser",
            Variant::Rotating => "rotating",
        }
    }
}

/// Ordinary people: browsing in a browser, or now and then scripting the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HumanKind {
    Browser,
    Sdk,
}

impl HumanKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HumanKind::Browser => "browser",
            HumanKind::Sdk => "sdk",
        }
    }
}

/// Legitimate clients that look automated in one way or another; reported
/// apart because they are where false positives hide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HardCase {
    Nat,
    PowerUser,
    MobileApp,
    Monitor,
    PartnerApi,
}

impl HardCase {
    pub const ALL: [HardCase; 5] = [
        HardCase::Nat,
        HardCase::PowerUser,
        HardCase::MobileApp,
        HardCase::Monitor,
        HardCase::PartnerApi,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HardCase::Nat => "nat",
            HardCase::PowerUser => "power_user",
            HardCase::MobileApp => "mobile_app",
            HardCase::Monitor => "monitor",
            HardCase::PartnerApi => "partner_api",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    Human(HumanKind),
    Hard(HardCase),
    Bot(BotKind, Variant),
    /// One address of a campaign (reported apart from bots and people).
    Campaign(super::campaigns::CampaignKind),
}

impl Group {
    pub fn is_bot(self) -> bool {
        matches!(self, Group::Bot(..))
    }
}

/// One simulated client (one source address).
#[derive(Debug, Clone)]
pub struct ClientSpec {
    pub index: usize,
    pub group: Group,
    pub ip: Ipv4Addr,
    pub seed: u64,
}

/// What every plan is built from.
#[derive(Clone)]
pub struct Ctx {
    /// `http://host:port`, for Referer and Origin.
    pub origin: String,
    pub scale: f64,
    /// The shortest pause of a person, in seconds (`--person-min-pause`).
    pub person_floor: f64,
    pub catalog: Arc<Catalog>,
    pub human_cap: usize,
    pub bot_cap: usize,
    pub nat_size: usize,
    /// Differs per invocation, so accounts that people sign up for stay unique
    /// against a shop that outlives one simulation.
    pub nonce: u32,
}

/// The address of the `i`-th client in the `10.<net>.0.0/16` range.
pub fn address(net: u8, i: usize) -> Option<Ipv4Addr> {
    let x = u8::try_from(i / 254).ok()?;
    let y = u8::try_from(i % 254 + 1).ok()?;
    Some(Ipv4Addr::new(10, net, x, y))
}

/// The address of the `i`-th bot in `10.<net>.0.0/16`: each of the first
/// 256 bots in its own /24, so that the module's range listing (many
/// detections in one /24 list the whole /24) does not refuse later bots at
/// their first request: the bot figures are per client.
pub fn bot_address(net: u8, i: usize) -> Option<Ipv4Addr> {
    let x = u8::try_from(i % 256).ok()?;
    let y = u8::try_from(i / 256 + 1).ok().filter(|y| *y < 255)?;
    Some(Ipv4Addr::new(10, net, x, y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bots_each_in_their_own_24() {
        assert_eq!(bot_address(103, 0), Some(Ipv4Addr::new(10, 103, 0, 1)));
        assert_eq!(bot_address(103, 255), Some(Ipv4Addr::new(10, 103, 255, 1)));
        assert_eq!(bot_address(103, 256), Some(Ipv4Addr::new(10, 103, 0, 2)));
        assert_eq!(bot_address(103, 256 * 254), None);
    }

    #[test]
    fn names_round_trip() {
        for b in BotKind::ALL {
            assert_eq!(BotKind::from_name(b.as_str()), Some(b));
        }
        assert_eq!(BotKind::from_name("ddos"), None);
    }

    #[test]
    fn addresses_are_distinct_and_bounded() {
        assert_eq!(address(3, 0), Some(Ipv4Addr::new(10, 3, 0, 1)));
        assert_eq!(address(3, 253), Some(Ipv4Addr::new(10, 3, 0, 254)));
        assert_eq!(address(3, 254), Some(Ipv4Addr::new(10, 3, 1, 1)));
        assert_eq!(
            address(3, 254 * 256 - 1),
            Some(Ipv4Addr::new(10, 3, 255, 254))
        );
        assert_eq!(address(3, 254 * 256), None);
    }
}
