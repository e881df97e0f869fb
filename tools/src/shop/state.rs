//! The shop's mutable state: accounts, sessions, carts and a feedback counter.
//!
//! Bots will sign up, log in and fill carts by the thousand, so every map has a
//! hard cap: sessions and carts drop an arbitrary old entry when full, and
//! signups are refused (503) once the account table is full. Passwords are
//! kept only as a keyed hash; this is a demo, not an identity provider.

use super::{DEMO_PASSWORD, DEMO_USER};
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;

const MAX_ACCOUNTS: usize = 200_000;
const MAX_SESSIONS: usize = 100_000;
const MAX_CARTS: usize = 100_000;
const MAX_CART_LINES: usize = 50;
const MAX_LINE_QTY: u32 = 99;

/// A fresh random session or cart token (128 bits, hex).
pub fn token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

#[derive(Debug, PartialEq, Eq)]
pub enum LoginError {
    BadCredentials,
}

#[derive(Debug, PartialEq, Eq)]
pub enum SignupError {
    Missing,
    BadUsername,
    BadEmail,
    BadPassword,
    Taken,
    Full,
}

impl SignupError {
    pub fn status(&self) -> u16 {
        match self {
            SignupError::Taken => 409,
            SignupError::Full => 503,
            _ => 400,
        }
    }
}

impl fmt::Display for SignupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignupError::Missing => "username, email and password are required",
            SignupError::BadUsername => "username must be 3 to 32 letters, digits, '.', '-' or '_'",
            SignupError::BadEmail => "email address is not valid",
            SignupError::BadPassword => "password must be 8 to 128 characters",
            SignupError::Taken => "this username is already taken",
            SignupError::Full => "signups are closed for now",
        })
    }
}

fn valid_username(u: &str) -> bool {
    (3..=32).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

fn valid_email(e: &str) -> bool {
    match e.split_once('@') {
        Some((local, domain)) => {
            e.len() <= 254
                && !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !e.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// Drop one arbitrary entry when a map is at its cap.
fn make_room<V>(map: &mut HashMap<String, V>, cap: usize) {
    if map.len() >= cap {
        if let Some(k) = map.keys().next().cloned() {
            map.remove(&k);
        }
    }
}

#[derive(Default)]
pub struct State {
    accounts: HashMap<String, u64>,
    sessions: HashMap<String, String>,
    carts: HashMap<String, Vec<(u32, u32)>>,
    feedback: u64,
    hasher: RandomState,
}

impl State {
    fn hash(&self, user: &str, password: &str) -> u64 {
        self.hasher.hash_one((user, password))
    }

    fn new_session(&mut self, user: &str) -> String {
        make_room(&mut self.sessions, MAX_SESSIONS);
        let sid = token();
        self.sessions.insert(sid.clone(), user.to_owned());
        sid
    }

    pub fn session_user(&self, sid: &str) -> Option<String> {
        self.sessions.get(sid).cloned()
    }

    /// Check credentials; on success open a session and return its id.
    pub fn login(&mut self, user: &str, password: &str) -> Result<String, LoginError> {
        let ok = if user == DEMO_USER {
            password == DEMO_PASSWORD
        } else {
            let key = user.to_ascii_lowercase();
            self.accounts
                .get(&key)
                .is_some_and(|&h| h == self.hash(&key, password))
        };
        if !ok {
            return Err(LoginError::BadCredentials);
        }
        Ok(self.new_session(user))
    }

    /// Create an account and sign it in.
    pub fn signup(
        &mut self,
        user: &str,
        email: &str,
        password: &str,
    ) -> Result<String, SignupError> {
        if !valid_username(user) {
            return Err(SignupError::BadUsername);
        }
        if !valid_email(email) {
            return Err(SignupError::BadEmail);
        }
        if !(8..=128).contains(&password.len()) {
            return Err(SignupError::BadPassword);
        }
        let key = user.to_ascii_lowercase();
        if key == DEMO_USER || self.accounts.contains_key(&key) {
            return Err(SignupError::Taken);
        }
        if self.accounts.len() >= MAX_ACCOUNTS {
            return Err(SignupError::Full);
        }
        let h = self.hash(&key, password);
        self.accounts.insert(key, h);
        Ok(self.new_session(user))
    }

    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// Count a feedback message; returns its number.
    pub fn record_feedback(&mut self) -> u64 {
        self.feedback += 1;
        self.feedback
    }

    pub fn feedback_count(&self) -> u64 {
        self.feedback
    }

    /// Add `qty` of a product; returns the cart's lines after the change.
    pub fn add_to_cart(&mut self, key: &str, product: u32, qty: u32) -> Vec<(u32, u32)> {
        if !self.carts.contains_key(key) {
            make_room(&mut self.carts, MAX_CARTS);
        }
        let lines = self.carts.entry(key.to_owned()).or_default();
        if let Some(line) = lines.iter_mut().find(|l| l.0 == product) {
            line.1 = (line.1 + qty).min(MAX_LINE_QTY);
        } else if lines.len() < MAX_CART_LINES {
            lines.push((product, qty.min(MAX_LINE_QTY)));
        }
        lines.clone()
    }

    pub fn cart(&self, key: &str) -> Vec<(u32, u32)> {
        self.carts.get(key).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_accepts_demo_and_signed_up_users_only() {
        let mut s = State::default();
        assert_eq!(s.login("demo", "wrong"), Err(LoginError::BadCredentials));
        let sid = s.login("demo", DEMO_PASSWORD).unwrap_or_default();
        assert_eq!(s.session_user(&sid).as_deref(), Some("demo"));
        assert_eq!(
            s.login("alice", "secret-pass"),
            Err(LoginError::BadCredentials)
        );
        assert!(s.signup("alice", "a@example.org", "secret-pass").is_ok());
        assert!(s.login("ALICE", "secret-pass").is_ok());
        assert_eq!(
            s.login("alice", "secret-pasS"),
            Err(LoginError::BadCredentials)
        );
    }

    #[test]
    fn signup_validation() {
        let mut s = State::default();
        assert_eq!(
            s.signup("ab", "a@b.co", "12345678"),
            Err(SignupError::BadUsername)
        );
        assert_eq!(
            s.signup("bob smith", "a@b.co", "12345678"),
            Err(SignupError::BadUsername)
        );
        assert_eq!(
            s.signup("bob", "bob@localhost", "12345678"),
            Err(SignupError::BadEmail)
        );
        assert_eq!(
            s.signup("bob", "bob@@x.io", "12345678"),
            Err(SignupError::BadEmail)
        );
        assert_eq!(
            s.signup("bob", "bob@x.io", "short"),
            Err(SignupError::BadPassword)
        );
        assert_eq!(
            s.signup("Demo", "bob@x.io", "12345678"),
            Err(SignupError::Taken)
        );
        assert!(s.signup("bob", "bob@x.io", "12345678").is_ok());
        assert_eq!(
            s.signup("BOB", "bob2@x.io", "12345678"),
            Err(SignupError::Taken)
        );
        assert_eq!(s.account_count(), 1);
        assert_eq!(SignupError::Taken.status(), 409);
        assert_eq!(SignupError::Missing.status(), 400);
    }

    #[test]
    fn carts_merge_and_stay_bounded() {
        let mut s = State::default();
        s.add_to_cart("k", 5, 2);
        let lines = s.add_to_cart("k", 5, 3);
        assert_eq!(lines, vec![(5, 5)]);
        for _ in 0..30 {
            s.add_to_cart("k", 5, 10);
        }
        assert_eq!(s.cart("k"), vec![(5, MAX_LINE_QTY)]);
        for id in 0..100 {
            s.add_to_cart("k", id + 100, 1);
        }
        assert_eq!(s.cart("k").len(), MAX_CART_LINES);
        assert!(s.cart("other").is_empty());
    }

    #[test]
    fn make_room_evicts_only_at_cap() {
        let mut m: HashMap<String, u8> = HashMap::new();
        m.insert("a".into(), 1);
        make_room(&mut m, 2);
        assert_eq!(m.len(), 1);
        m.insert("b".into(), 2);
        make_room(&mut m, 2);
        assert_eq!(m.len(), 1);
    }
}
