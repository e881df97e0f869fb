//! Routing tests: each answer the simulator and the module depend on
//! (statuses, JSON vs HTML, cookies) checked through `Shop::handle`.

use super::http::{ShopRequest, ShopResponse};
use super::*;

fn shop() -> Shop {
    let mut assets = Assets::default();
    assets.insert("/static/css/shop.css", b"body{}".to_vec());
    assets.insert("/static/favicon.svg", b"<svg/>".to_vec());
    Shop::new(assets)
}

fn get(shop: &Shop, url: &str, accept: &str) -> ShopResponse {
    shop.handle(&ShopRequest {
        method: "GET",
        url,
        accept,
        ..Default::default()
    })
}

fn post(shop: &Shop, url: &str, ctype: &str, body: &str) -> ShopResponse {
    shop.handle(&ShopRequest {
        method: "POST",
        url,
        content_type: ctype,
        body: body.as_bytes(),
        ..Default::default()
    })
}

fn json(r: &ShopResponse) -> serde_json::Value {
    serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null)
}

fn sid(r: &ShopResponse) -> String {
    let c = r.header("Set-Cookie").unwrap_or("");
    c.split(';').next().unwrap_or("").to_owned()
}

const FORM: &str = "application/x-www-form-urlencoded";

#[test]
fn pages_and_health() {
    let s = shop();
    assert_eq!(get(&s, "/", "text/html").status, 200);
    let h = get(&s, "/health", "*/*");
    assert_eq!((h.status, h.body.as_slice()), (200, &b"ok"[..]));
    assert_eq!(json(&get(&s, "/api/status", "*/*"))["status"], "ok");
    for url in [
        "/login",
        "/signup",
        "/feedback",
        "/cart",
        "/search?q=mug",
        "/search",
    ] {
        assert_eq!(get(&s, url, "text/html").status, 200, "{url}");
    }
    assert_eq!(get(&s, "/nope", "text/html").status, 404);
    assert_eq!(get(&s, "/.env", "*/*").status, 404);
    assert_eq!(
        s.handle(&ShopRequest {
            method: "DELETE",
            url: "/products/1",
            ..Default::default()
        })
        .status,
        405
    );
    assert_eq!(
        s.handle(&ShopRequest {
            method: "PUT",
            url: "/login",
            ..Default::default()
        })
        .status,
        405
    );
}

#[test]
fn listing_pages() {
    let s = shop();
    let r = get(&s, "/products?page=2", "text/html");
    let html = String::from_utf8_lossy(&r.body);
    assert_eq!(r.status, 200);
    assert!(
        html.contains("/products?page=3") && html.contains("/products?page=1"),
        "prev/next links"
    );
    assert!(html.contains("/products/21\"") && html.contains("/products/40\""));
    assert!(!html.contains("/products/41\""));
    assert_eq!(get(&s, "/products", "text/html").status, 200);
    assert_eq!(get(&s, "/products?page=0", "text/html").status, 404);
    assert_eq!(get(&s, "/products?page=61", "text/html").status, 404);
    assert_eq!(get(&s, "/products?page=abc", "text/html").status, 400);
    assert_eq!(get(&s, "/products?page=-1", "text/html").status, 400);
    assert_eq!(
        get(&s, "/products?category=garden&page=1", "text/html").status,
        200
    );
    assert_eq!(
        get(&s, "/products?category=weapons", "text/html").status,
        404
    );
    let api = json(&get(&s, "/api/products?page=60", "*/*"));
    assert_eq!(api["products"].as_array().map(Vec::len), Some(20));
    assert_eq!(api["next"], serde_json::Value::Null);
    assert_eq!(
        json(&get(&s, "/api/products", "*/*"))["next"],
        "/api/products?page=2"
    );
}

#[test]
fn product_html_and_json() {
    let s = shop();
    let r = get(&s, "/products/7", "text/html,application/xhtml+xml");
    assert_eq!(
        (r.status, r.content_type),
        (200, "text/html; charset=utf-8")
    );
    let r = get(&s, "/products/7", "application/json");
    assert_eq!(json(&r)["id"], 7);
    assert_eq!(json(&get(&s, "/api/products/1200", "*/*"))["id"], 1200);
    for bad in [
        "/products/0",
        "/products/1201",
        "/products/x",
        "/products/+7",
        "/api/products/99999999999",
    ] {
        assert_eq!(get(&s, bad, "*/*").status, 404, "{bad}");
    }
    let sqli = get(&s, "/products/1'%20OR%20'1'='1", "*/*");
    assert_eq!(sqli.status, 404);
}

#[test]
fn search_escapes_and_answers_json() {
    let s = shop();
    let r = get(
        &s,
        "/search?q=%3Cscript%3Ealert(1)%3C/script%3E",
        "text/html",
    );
    let html = String::from_utf8_lossy(&r.body);
    assert!(!html.contains("<script>alert"), "query must be escaped");
    assert!(html.contains("&lt;script&gt;"));
    let j = json(&get(&s, "/api/search?q=mug", "*/*"));
    assert!(j["count"].as_u64().unwrap_or(0) > 0);
}

#[test]
fn users_api() {
    let s = shop();
    assert_eq!(json(&get(&s, "/users/1", "*/*"))["id"], 1);
    assert_eq!(get(&s, "/users/500", "*/*").status, 200);
    assert_eq!(get(&s, "/api/users/42", "*/*").status, 200);
    for bad in ["/users/0", "/users/501", "/users/abc", "/users/"] {
        let r = get(&s, bad, "*/*");
        assert_eq!(
            (r.status, r.content_type),
            (404, "application/json"),
            "{bad}"
        );
    }
}

#[test]
fn login_flow() {
    let s = shop();
    assert_eq!(
        post(&s, "/login", FORM, "username=demo&password=nope").status,
        401
    );
    assert_eq!(post(&s, "/login", FORM, "username=demo").status, 400);
    assert_eq!(
        post(&s, "/login", "application/json", "{\"username\":").status,
        400
    );
    let ok = post(&s, "/login", FORM, "username=demo&password=demo-password");
    assert_eq!(ok.status, 200);
    let cookie = sid(&ok);
    assert!(cookie.starts_with("sid="));
    let page = s.handle(&ShopRequest {
        method: "GET",
        url: "/",
        cookie: &cookie,
        ..Default::default()
    });
    assert!(String::from_utf8_lossy(&page.body).contains("Signed in as <b>demo</b>"));
    let j = post(
        &s,
        "/login",
        "application/json",
        r#"{"username":"demo","password":"demo-password"}"#,
    );
    assert_eq!((j.status, json(&j)["ok"].as_bool()), (200, Some(true)));
    let j = post(
        &s,
        "/login",
        "application/json",
        r#"{"username":"demo","password":"x"}"#,
    );
    assert_eq!((j.status, j.content_type), (401, "application/json"));
    assert_eq!(
        post(&s, "/login", "multipart/form-data; boundary=x", "").status,
        415
    );
}

#[test]
fn signup_and_feedback() {
    let s = shop();
    let body = "username=ana_1&email=ana%40example.org&password=longenough";
    assert_eq!(post(&s, "/signup", FORM, body).status, 201);
    assert_eq!(post(&s, "/signup", FORM, body).status, 409);
    assert_eq!(post(&s, "/signup", FORM, "username=x2&email=").status, 400);
    assert_eq!(
        post(&s, "/signup", "application/json", "not json").status,
        400
    );
    assert_eq!(
        post(&s, "/login", FORM, "username=ana_1&password=longenough").status,
        200
    );
    assert_eq!(post(&s, "/feedback", FORM, "text=Great+shop").status, 201);
    assert_eq!(
        post(&s, "/feedback", "application/json", r#"{"message":"hi"}"#).status,
        201
    );
    assert_eq!(post(&s, "/feedback", FORM, "text=").status, 400);
    assert_eq!(json(&get(&s, "/api/status", "*/*"))["feedback_received"], 2);
}

#[test]
fn cart() {
    let s = shop();
    let r = post(
        &s,
        "/cart",
        "application/json",
        r#"{"product_id": 12, "qty": 2}"#,
    );
    assert_eq!(r.status, 200);
    assert_eq!(json(&r)["count"], 2);
    let cookie = sid(&r);
    assert!(cookie.starts_with("cart="));
    let again = s.handle(&ShopRequest {
        method: "POST",
        url: "/cart",
        content_type: FORM,
        cookie: &cookie,
        body: b"product_id=12",
        ..Default::default()
    });
    assert_eq!(json(&again)["count"], 3);
    assert!(
        again.header("Set-Cookie").is_none(),
        "existing cart is reused"
    );
    assert_eq!(post(&s, "/cart", FORM, "product_id=5000").status, 404);
    assert_eq!(post(&s, "/cart", FORM, "product_id=abc").status, 400);
    assert_eq!(post(&s, "/cart", FORM, "product_id=3&qty=0").status, 400);
    assert_eq!(post(&s, "/cart", FORM, "product_id=3&qty=11").status, 400);
    assert_eq!(post(&s, "/cart", FORM, "qty=1").status, 400);
}

#[test]
fn static_assets_and_revalidation() {
    let s = shop();
    let r = get(&s, "/static/css/shop.css", "text/css");
    assert_eq!(r.status, 200);
    let etag = r.header("ETag").unwrap_or("").to_owned();
    let cached = s.handle(&ShopRequest {
        method: "GET",
        url: "/static/css/shop.css",
        if_none_match: &etag,
        ..Default::default()
    });
    assert_eq!((cached.status, cached.body.len()), (304, 0));
    assert_eq!(get(&s, "/static/../Cargo.toml", "*/*").status, 404);
    assert_eq!(get(&s, "/static/%2e%2e/x", "*/*").status, 404);
    assert_eq!(get(&s, "/favicon.ico", "*/*").content_type, "image/svg+xml");
}

#[test]
fn never_403_on_hostile_input() {
    let s = shop();
    let nasty = [
        "/",
        "//",
        "/%00",
        "/products?page=%",
        "/search?q=%",
        "/users/1%00",
        "/api/../../etc/passwd",
        "/products/1?id=1'%20OR%20'1'='1",
        "/\u{fffd}",
        "",
        "?",
        "/api/products?page=99999999999999",
    ];
    for url in nasty {
        for method in ["GET", "POST", "HEAD", "BREW", ""] {
            let r = s.handle(&ShopRequest {
                method,
                url,
                body: b"\xff\x00{",
                content_type: "application/json",
                ..Default::default()
            });
            assert!(
                r.status != 403 && r.status < 500,
                "{method} {url:?} -> {}",
                r.status
            );
        }
    }
}
