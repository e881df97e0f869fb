use std::net::IpAddr;
use std::path::Path;

use super::*;
use crate::lists::ListKind;
use crate::model::{BotType, SensitiveKind};

fn parse(text: &str) -> Result<Profiles, ConfigError> {
    Profiles::parse(Path::new("/etc/nginx/profiles.toml"), text)
}

fn err(text: &str) -> String {
    match parse(text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn issue_example_parses() {
    let p = parse(
        r#"
        [lists]
        deny  = ["192.0.2.10", "198.51.100.0/24", "2001:db8:bad::/48", { addr = "192.0.2.77", expires = "2026-12-31T00:00:00Z", comment = "manual" }]
        gray  = ["203.0.113.0/24"]
        allow = ["10.1.2.3"]
        [exceptions]
        addrs = ["192.0.2.200"]
        countries = ["NL"]
        "#,
    )
    .unwrap();
    assert_eq!(p.lists.len(), 6);
    assert_eq!(
        p.lists.classify(ip("198.51.100.5"), 0).map(|x| x.0),
        Some(ListKind::Deny)
    );
    assert_eq!(
        p.lists.classify(ip("203.0.113.1"), 0).map(|x| x.0),
        Some(ListKind::Gray)
    );
    let (_, e) = p.lists.classify(ip("192.0.2.77"), 0).unwrap();
    assert_eq!(e.expires, Some(1_798_675_200), "2026-12-31T00:00:00Z");
    assert!(
        p.lists.classify(ip("192.0.2.77"), 1_900_000_000).is_none(),
        "expired"
    );
    assert_eq!(p.exceptions.source_of(ip("192.0.2.200")), Some("addrs"));
    assert!(p.exceptions.country_excepted(b"nl"));
    assert!(!p.exceptions.country_excepted(b"DE"));
    assert!(p.profiles.is_empty());
    assert!(p.profile_for(b"shop").is_none());
}

#[test]
fn full_profile_model() {
    let p = parse(
        r#"
        [[profile]]
        name = "shop"
        applications = ["shop", "api"]
        tolerance = "high"
        bot_types = ["scraping", "credential_stuffing"]
        reaction = "graylist"
        duration = "forever"
        [[profile.sensitive]]
        method = "POST"
        path = "/login"
        kind = "auth"

        [[profile]]
        name = "off"
        enabled = false

        [[profile]]
        name = "rest"
        "#,
    )
    .unwrap();
    assert_eq!(p.profiles.len(), 3);
    let shop = &p.profiles[0];
    assert!(shop.acts_on(BotType::Scraping) && !shop.acts_on(BotType::Spam));
    assert_eq!(shop.reaction, Reaction::Graylist);
    assert_eq!(shop.duration, Lifetime::Forever);
    assert_eq!(
        shop.sensitive.classify(b"POST", b"/login"),
        Some(SensitiveKind::Auth)
    );
    assert_eq!(shop.sensitive.classify(b"GET", b"/login"), None);
    assert_eq!(p.profile_for(b"api").map(|p| p.name.as_str()), Some("shop"));
    // the disabled profile is skipped; "rest" has no applications and covers all
    assert_eq!(
        p.profile_for(b"blog").map(|p| p.name.as_str()),
        Some("rest")
    );
    assert_eq!(p.enabled_count(), 2);
    let rest = &p.profiles[2];
    assert_eq!(rest.duration.secs(), Some(86400));
    assert_eq!(rest.reaction, Reaction::Denylist);
    assert!(BotType::ALL.iter().all(|b| rest.acts_on(*b)));
}

#[test]
fn errors_name_line_column_and_field() {
    let e = err("[lists]\ndeny = [\"192.0.2.1\", \"10.0.0.0/40\"]\n");
    assert!(
        e.starts_with("profiles file \"/etc/nginx/profiles.toml\", line 2"),
        "{e}"
    );
    assert!(e.contains("10.0.0.0/40"), "{e}");

    let e = err("[lists]\ndenny = []\n");
    assert!(
        e.contains("line 2") && e.contains("unknown field `denny`"),
        "{e}"
    );

    let e = err("[[profile]]\nname = \"a\"\nduration = \"soon\"\n");
    assert!(
        e.contains("line 3") && e.contains("\"soon\" is not a duration"),
        "{e}"
    );

    let e = err("[[profile]]\nname = \"a\"\nreaction = \"ban\"\n");
    assert!(e.contains("line 3") && e.contains("ban"), "{e}");

    let e = err("[[profile]]\nname = \"a\"\nbot_types = [\"robots\"]\n");
    assert!(e.contains("line 3") && e.contains("robots"), "{e}");

    let e = err("[[profile]]\nname = \"a\"\n[[profile]]\nname = \"a\"\n");
    assert!(
        e.contains("line 4") && e.contains("duplicate profile name \"a\""),
        "{e}"
    );

    let e = err("[exceptions]\ncountries = [\"Netherlands\"]\n");
    assert!(e.contains("line 2") && e.contains("two-letter"), "{e}");

    let e = err("[lists]\ndeny = [{ addr = \"192.0.2.1\", expires = \"tomorrow\" }]\n");
    assert!(e.contains("RFC 3339"), "{e}");

    let e = err(
        "[[profile]]\nname = \"a\"\n[[profile.sensitive]]\npath = \"/login\"\nkind = \"login\"\n",
    );
    assert!(e.contains("line 5") && e.contains("login"), "{e}");

    let e = err("this is not toml");
    assert!(e.contains("line 1"), "{e}");
}

#[test]
fn missing_file_is_an_error() {
    let e = Profiles::load(Path::new("/nonexistent/profiles.toml"))
        .err()
        .unwrap();
    assert!(e.to_string().contains("cannot be read"));
}

#[test]
fn exception_sources_from_files() {
    let dir = std::env::temp_dir().join(format!("aa-src-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("crawlers.txt"),
        "# search engine\n66.249.64.0/19\n2001:4860:4801::/48 # v6\n\n",
    )
    .unwrap();
    std::fs::write(dir.join("bad.txt"), "1.2.3.4\nnope\n").unwrap();
    let path = dir.join("profiles.toml");
    let p = Profiles::parse(
        &path,
        "[exceptions]\nsources = [{ name = \"googlebot\", file = \"crawlers.txt\" }]\n",
    )
    .unwrap();
    assert_eq!(p.exceptions.source_of(ip("66.249.66.1")), Some("googlebot"));
    assert_eq!(
        p.exceptions.source_of(ip("2001:4860:4801::5")),
        Some("googlebot")
    );
    assert_eq!(p.exceptions.source_of(ip("66.249.96.1")), None);
    let e = Profiles::parse(
        &path,
        "[exceptions]\nsources = [{ name = \"x\", file = \"bad.txt\" }]\n",
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("bad.txt\" line 2"), "{e}");
    let e = Profiles::parse(
        &path,
        "[exceptions]\nsources = [{ name = \"x\", file = \"none.txt\" }]\n",
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("cannot read"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn version_changes_with_content() {
    let a = parse("[lists]\ndeny = [\"192.0.2.1\"]\n").unwrap();
    let b = parse("[lists]\ndeny = [\"192.0.2.2\"]\n").unwrap();
    assert_ne!(a.version, b.version);
}

#[test]
fn unknown_key_inside_lists() {
    let e = err("[lists]\ndeny = [\"192.0.2.20\"]\nbogus = 1\n");
    assert!(
        e.contains("unknown field `bogus`") && e.contains("line 3"),
        "{e}"
    );
}

#[test]
fn challenge_keys() {
    let p = parse(
        r#"
        [[profile]]
        name = "shop"
        reaction = "challenge"
        challenge_failures = 3
        challenge_lifetime = "30m"
        challenge_work = 8
        challenge_escalate = "graylist"

        [[profile]]
        name = "api"
        tolerance = "high"
        reaction = "graylist"
        challenge_tolerance = "normal"

        [[profile]]
        name = "plain"
        "#,
    )
    .unwrap();
    let shop = &p.profiles[0];
    assert_eq!(shop.reaction, Reaction::Challenge);
    let c = shop.challenge;
    assert_eq!(
        (c.below, c.escalate, c.failures, c.lifetime_s, c.work),
        (None, Reaction::Graylist, 3, 1800, 8)
    );
    let api = &p.profiles[1].challenge;
    assert_eq!(api.below, Some(crate::model::Tolerance::Normal));
    // escalation follows a graylist profile unless told otherwise
    assert_eq!(api.escalate, Reaction::Graylist);
    assert_eq!(
        p.profiles[2].challenge,
        crate::challenge::Settings::default()
    );
}

#[test]
fn challenge_key_errors_name_their_line() {
    let cases = [
        ("challenge_tolerance = \"normal\"\n", "must be lower than"),
        (
            "tolerance = \"low\"\nchallenge_tolerance = \"low\"\n",
            "must be lower than",
        ),
        (
            "reaction = \"challenge\"\nchallenge_tolerance = \"low\"\n",
            "remove it",
        ),
        (
            "reaction = \"monitor\"\nchallenge_tolerance = \"low\"\n",
            "remove it",
        ),
        (
            "challenge_escalate = \"monitor\"\n",
            "\"denylist\" or \"graylist\"",
        ),
        (
            "challenge_escalate = \"challenge\"\n",
            "\"denylist\" or \"graylist\"",
        ),
        ("challenge_failures = 0\n", "between 1 and"),
        ("challenge_lifetime = \"forever\"\n", "at most 30d"),
        ("challenge_lifetime = \"31d\"\n", "at most 30d"),
        ("challenge_work = 21\n", "between 0 and 20"),
        ("challenge_work = -1\n", "between 0 and 20"),
        ("challenge_tolerance = \"lowest\"\n", "lowest"),
        ("challenge_after = 3\n", "unknown field `challenge_after`"),
    ];
    for (keys, want) in cases {
        let text = format!("[[profile]]\nname = \"a\"\n{keys}");
        let e = err(&text);
        let line = text.lines().count();
        assert!(
            e.contains(&format!("line {line},")) && e.contains(want),
            "{keys:?}: {e}"
        );
    }
}
