//! Directives: a bad value fails `nginx -t` with an [emerg] that names the
//! directive and the value; good configurations load.

use crate::harness::{nginx_cmd, prepare};

/// Runs `nginx -t` on a configuration and returns (success, stderr).
fn test_conf(name: &str, http: &str, profiles: Option<&str>) -> (bool, String) {
    let files: Vec<(&str, &str)> = profiles
        .map(|p| vec![("conf/profiles.toml", p)])
        .unwrap_or_default();
    let (prefix, _) = prepare(name, http, &files);
    let out = nginx_cmd(&prefix, &["-t"]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn server(directives: &str) -> String {
    format!(
        "api_abuse_zone abuse:2m;\n\
         server {{ listen 127.0.0.1:{{port}}; {directives} location / {{ root html; }} }}"
    )
}

#[test]
fn good_configuration_passes() {
    let (ok, err) = test_conf(
        "conf-good",
        &format!(
            "api_abuse_profiles conf/profiles.toml;\napi_abuse_events logs/events.jsonl;\n\
             api_abuse_ipv6_prefix 56;\n{}",
            server("api_abuse monitor; api_abuse_app shop; api_abuse_status 429; api_abuse_log_level warn; api_abuse_inspect_body on;")
        ),
        Some("[lists]\ndeny = [\"192.0.2.1\"]\n"),
    );
    assert!(ok, "{err}");
}

#[test]
fn bad_values_name_directive_and_value() {
    let cases: &[(&str, String, &str)] = &[
        (
            "conf-mode",
            server("api_abuse maybe;"),
            "invalid value \"maybe\" in \"api_abuse\" directive",
        ),
        (
            "conf-status",
            server("api_abuse on; api_abuse_status 200;"),
            "invalid value \"200\" in \"api_abuse_status\" directive",
        ),
        (
            "conf-status2",
            server("api_abuse on; api_abuse_status abc;"),
            "invalid value \"abc\" in \"api_abuse_status\" directive",
        ),
        (
            "conf-level",
            server("api_abuse_log_level loud;"),
            "invalid value \"loud\" in \"api_abuse_log_level\" directive",
        ),
        (
            "conf-app",
            server("api_abuse_app \"a b\";"),
            "invalid value \"a b\" in \"api_abuse_app\" directive",
        ),
        (
            "conf-body",
            server("api_abuse_inspect_body yes;"),
            "invalid value \"yes\" in \"api_abuse_inspect_body\" directive",
        ),
        (
            "conf-zone-size",
            "api_abuse_zone abuse:64k;\nserver { listen 127.0.0.1:{port}; }".to_string(),
            "zone \"abuse\" is too small in \"api_abuse_zone\" directive",
        ),
        (
            "conf-zone-syntax",
            "api_abuse_zone abuse;\nserver { listen 127.0.0.1:{port}; }".to_string(),
            "invalid value \"abuse\" in \"api_abuse_zone\" directive",
        ),
        (
            "conf-zone-param",
            "api_abuse_zone abuse:2m foo=bar;\nserver { listen 127.0.0.1:{port}; }".to_string(),
            "invalid value \"foo=bar\" in \"api_abuse_zone\" directive",
        ),
        (
            "conf-no-zone",
            "server { listen 127.0.0.1:{port}; api_abuse on; }".to_string(),
            "\"api_abuse\" is enabled but no \"api_abuse_zone\"",
        ),
        (
            "conf-prefix",
            format!("api_abuse_ipv6_prefix 200;\n{}", server("")),
            "invalid value \"200\" in \"api_abuse_ipv6_prefix\" directive",
        ),
        (
            "conf-country",
            format!("api_abuse_country country;\n{}", server("")),
            "invalid value \"country\" in \"api_abuse_country\" directive",
        ),
    ];
    for (name, conf, expect) in cases {
        let (ok, err) = test_conf(name, conf, None);
        assert!(!ok, "{name}: nginx -t should fail");
        assert!(
            err.contains("[emerg]") && err.contains(expect),
            "{name}: expected {expect:?} in:\n{err}"
        );
    }
}

#[test]
fn broken_or_missing_profiles_fail_the_config_test() {
    let conf = format!(
        "api_abuse_profiles conf/profiles.toml;\n{}",
        server("api_abuse on;")
    );
    let (ok, err) = test_conf(
        "conf-prof-bad",
        &conf,
        Some("[[profile]]\nname = \"a\"\ntolerance = \"medium\"\n"),
    );
    assert!(!ok);
    assert!(
        err.contains("profiles.toml\", line 3, column 13") && err.contains("medium"),
        "{err}"
    );

    let (ok, err) = test_conf(
        "conf-prof-dup",
        &conf,
        Some("[[profile]]\nname = \"a\"\n[[profile]]\nname = \"a\"\n"),
    );
    assert!(!ok);
    assert!(
        err.contains("duplicate profile name \"a\"") && err.contains("line 4"),
        "{err}"
    );

    let (ok, err) = test_conf("conf-prof-missing", &conf, None);
    assert!(!ok);
    assert!(err.contains("cannot be read"), "{err}");
}
