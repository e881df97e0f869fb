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
            "invalid value \"maybe\" in \"api_abuse\" directive, it must be \"on\", \"off\" or \"monitor\"",
        ),
        (
            "conf-status",
            server("api_abuse on; api_abuse_status 200;"),
            "invalid value \"200\" in \"api_abuse_status\" directive",
        ),
        (
            "conf-status-high",
            server("api_abuse on; api_abuse_status 600;"),
            "invalid value \"600\" in \"api_abuse_status\" directive, it must be between 400 and 599",
        ),
        // nginx's own wording for a number that is not one (ngx_conf_set_num_slot)
        (
            "conf-status2",
            server("api_abuse on; api_abuse_status abc;"),
            "\"api_abuse_status\" directive invalid number",
        ),
        (
            "conf-status-negative",
            server("api_abuse on; api_abuse_status -403;"),
            "\"api_abuse_status\" directive invalid number",
        ),
        (
            "conf-level",
            server("api_abuse_log_level loud;"),
            "invalid value \"loud\" in \"api_abuse_log_level\" directive, it must be \"info\", \"notice\", \"warn\" or \"error\"",
        ),
        // a level nginx knows, but not one of the directive's
        (
            "conf-level-debug",
            server("api_abuse_log_level debug;"),
            "invalid value \"debug\" in \"api_abuse_log_level\" directive",
        ),
        (
            "conf-app",
            server("api_abuse_app \"a b\";"),
            "invalid value \"a b\" in \"api_abuse_app\" directive",
        ),
        (
            "conf-body",
            server("api_abuse_inspect_body yes;"),
            "invalid value \"yes\" in \"api_abuse_inspect_body\" directive, it must be \"on\" or \"off\"",
        ),
        (
            "conf-body-args",
            server("api_abuse_inspect_body on off;"),
            "invalid number of arguments in \"api_abuse_inspect_body\" directive",
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
            "invalid value \"200\" in \"api_abuse_ipv6_prefix\" directive, it must be between 16 and 128",
        ),
        (
            "conf-prefix-low",
            format!("api_abuse_ipv6_prefix 8;\n{}", server("")),
            "invalid value \"8\" in \"api_abuse_ipv6_prefix\" directive, it must be between 16 and 128",
        ),
        (
            "conf-prefix-nan",
            format!("api_abuse_ipv6_prefix /64;\n{}", server("")),
            "\"api_abuse_ipv6_prefix\" directive invalid number",
        ),
        (
            "conf-prefix-context",
            server("api_abuse_ipv6_prefix 64;"),
            "\"api_abuse_ipv6_prefix\" directive is not allowed here",
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

#[test]
fn duplicate_directives_fail_the_config_test() {
    // Twice at the same level is an error; at different levels it is an
    // override (see `settings_inherit_and_default`).
    let cases: &[(&str, String, &str)] = &[
        (
            "conf-dup-mode",
            server("api_abuse on; api_abuse monitor;"),
            "api_abuse",
        ),
        (
            "conf-dup-status",
            server("api_abuse_status 429; api_abuse_status 429;"),
            "api_abuse_status",
        ),
        (
            "conf-dup-level",
            server("api_abuse_log_level warn; api_abuse_log_level info;"),
            "api_abuse_log_level",
        ),
        (
            "conf-dup-body",
            server("api_abuse_inspect_body on; api_abuse_inspect_body off;"),
            "api_abuse_inspect_body",
        ),
        (
            "conf-dup-app",
            server("api_abuse_app a; api_abuse_app b;"),
            "api_abuse_app",
        ),
        (
            "conf-dup-prefix",
            format!(
                "api_abuse_ipv6_prefix 56;\napi_abuse_ipv6_prefix 48;\n{}",
                server("")
            ),
            "api_abuse_ipv6_prefix",
        ),
        (
            "conf-dup-zone",
            format!("api_abuse_zone other:2m;\n{}", server("")),
            "api_abuse_zone",
        ),
    ];
    for (name, conf, directive) in cases {
        let (ok, err) = test_conf(name, conf, None);
        assert!(!ok, "{name}: nginx -t should fail");
        let expect = format!("\"{directive}\" directive is duplicate");
        assert!(
            err.contains("[emerg]") && err.contains(&expect),
            "{name}: expected {expect:?} in:\n{err}"
        );
    }
}

/// The error-log line of the request for `path`.
fn log_line_of(log: &str, path: &str) -> String {
    let needle = format!("request: \"GET {path} ");
    log.lines()
        .find(|l| l.contains(&needle) && l.contains("api_abuse: client"))
        .unwrap_or_else(|| panic!("no line for {path} in:\n{log}"))
        .to_string()
}

#[test]
fn settings_inherit_and_default() {
    use crate::harness::Nginx;
    const PROFILES: &str = "[lists]\ndeny = [\"192.0.2.10\"]\ngray = [\"203.0.113.0/24\"]\n";
    const DENIED: [(&str, &str); 1] = [("X-Forwarded-For", "192.0.2.10")];
    // A graylisted client's POST whose body alone carries an attack: refused
    // only where the body is inspected.
    let attack = |n: &Nginx, path: &str| {
        n.request(
            "POST",
            path,
            &[
                ("X-Forwarded-For", "203.0.113.5"),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            Some("id=1%20UNION%20SELECT%20password%20FROM%20users--"),
        )
        .status
    };
    let common = "api_abuse_zone abuse:2m;\n\
                  api_abuse_profiles conf/profiles.toml;\n\
                  set_real_ip_from 127.0.0.1;\n\
                  real_ip_header X-Forwarded-For;\n\
                  server { listen 127.0.0.1:{port2}; location / { return 200 \"backend\\n\"; } }\n";
    let backend = "proxy_pass http://127.0.0.1:{port2};";

    // Set at http, inherited by a location, overridden by others.
    let n = Nginx::start(
        "conf-inherit",
        &format!(
            "{common}\
             api_abuse on;\n\
             api_abuse_status 429;\n\
             api_abuse_log_level warn;\n\
             api_abuse_inspect_body on;\n\
             server {{\n\
                 listen 127.0.0.1:{{port}};\n\
                 add_header X-Action \"[$api_abuse_action]\" always;\n\
                 location /inherit/ {{ {backend} }}\n\
                 location /override/ {{ api_abuse_status 451; api_abuse_log_level error; api_abuse_inspect_body off; {backend} }}\n\
                 location /monitor/ {{ api_abuse monitor; {backend} }}\n\
                 location /off/ {{ api_abuse off; {backend} }}\n\
             }}\n"
        ),
        &[("conf/profiles.toml", PROFILES)],
    );
    assert_eq!(n.get("/inherit/", &DENIED).status, 429);
    assert_eq!(attack(&n, "/inherit/login"), 429);
    assert_eq!(n.get("/override/", &DENIED).status, 451);
    assert_eq!(attack(&n, "/override/login"), 200, "body not inspected");
    let r = n.get("/monitor/", &DENIED);
    assert_eq!((r.status, r.header("X-Action")), (200, Some("[monitor]")));
    let r = n.get("/off/", &DENIED);
    assert_eq!((r.status, r.header("X-Action")), (200, Some("[]")));
    // each refused request is logged one level below api_abuse_log_level
    let log = n.error_log();
    assert!(log_line_of(&log, "/inherit/").contains("[notice]"), "{log}");
    assert!(log_line_of(&log, "/override/").contains("[warn]"), "{log}");
    assert!(log_line_of(&log, "/monitor/").contains("[notice]"), "{log}");
    n.assert_clean_log();
    drop(n);

    // Unset everywhere: off, then 403, error level and no body reading
    // where only `api_abuse on` is given.
    let n = Nginx::start(
        "conf-defaults",
        &format!(
            "{common}\
             server {{\n\
                 listen 127.0.0.1:{{port}};\n\
                 add_header X-Action \"[$api_abuse_action]\" always;\n\
                 location /unset/ {{ {backend} }}\n\
                 location /on/ {{ api_abuse on; {backend} }}\n\
             }}\n"
        ),
        &[("conf/profiles.toml", PROFILES)],
    );
    let r = n.get("/unset/", &DENIED);
    assert_eq!((r.status, r.header("X-Action")), (200, Some("[]")));
    assert_eq!(n.get("/on/", &DENIED).status, 403);
    assert_eq!(attack(&n, "/on/login"), 200, "body not inspected");
    let log = n.error_log();
    assert!(log_line_of(&log, "/on/").contains("[warn]"), "{log}");
    n.assert_clean_log();
}
