//! The product's vocabulary, shared by the profiles file, the detectors, the
//! attack signatures and the nginx glue: bot types, tolerance levels, kinds of
//! sensitive endpoints and attack classes. Each has one stable lowercase name
//! used in the profiles file, the events file, variables and metrics.

use serde::Deserialize;

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
        #[repr(u8)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order (the index is `self as usize`).
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// How many values there are (the size of arrays indexed by them).
            pub const COUNT: usize = Self::ALL.len();

            /// The name used in files, events, variables and metrics.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the name used in files; `None` for anything else.
            pub fn from_name(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }

            pub const fn index(self) -> usize { self as usize }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum!(
    /// The kinds of automated threat the module scores every client for.
    BotType {
        TrafficSpike = "traffic_spike",
        CredentialStuffing = "credential_stuffing",
        FakeAccounts = "fake_accounts",
        Spam = "spam",
        Scalping = "scalping",
        VulnerabilityScanning = "vulnerability_scanning",
        Scraping = "scraping",
        Bola = "bola",
    }
);

named_enum!(
    /// How much evidence a profile wants before it acts: `low` tolerance to bots
    /// blocks more of them and accepts some false positives, `high` never drops a
    /// legitimate request and lets more bots through.
    Tolerance {
        Low = "low",
        Normal = "normal",
        High = "high",
    }
);

named_enum!(
    /// What a sensitive endpoint of an application does; the business-logic
    /// detector counts requests per kind.
    SensitiveKind {
        Auth = "auth",
        Signup = "signup",
        Feedback = "feedback",
        Checkout = "checkout",
        Reserve = "reserve",
        Critical = "critical",
    }
);

named_enum!(
    /// Classes of attack signature found in a request (`$api_abuse_attack`).
    AttackClass {
        Sqli = "sqli",
        Xss = "xss",
        Rce = "rce",
        Traversal = "traversal",
        RfiSsrf = "rfi_ssrf",
        Ssti = "ssti",
        Xxe = "xxe",
        Ldap = "ldap",
        Nosql = "nosql",
        Crlf = "crlf",
        ScannerProbe = "scanner_probe",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for b in BotType::ALL {
            assert_eq!(BotType::from_name(b.as_str()), Some(*b));
        }
        for (i, a) in AttackClass::ALL.iter().enumerate() {
            assert_eq!(a.index(), i);
        }
        assert_eq!(Tolerance::from_name("medium"), None);
    }
}
