//! The demo shop: routing and the little state a shop keeps (accounts,
//! sessions, carts, a feedback counter), all in memory and bounded.
//!
//! [`Shop::handle`] maps a parsed [`ShopRequest`] to a [`ShopResponse`]; it
//! never panics and never returns 403 (403 belongs to the module in front).
//! Endpoints that browsers and API clients share answer HTML or JSON by the
//! `Accept` header; `/api/...` always answers JSON.

pub mod assets;
pub mod http;
pub mod pages;
pub mod server;
mod state;
pub mod wire;

use crate::catalog::{self, Catalog, PAGE_SIZE};
use assets::Assets;
use http::{parse_body, Fields, ShopRequest, ShopResponse};
use serde_json::json;
use state::{LoginError, SignupError, State};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

/// The one documented demo account.
pub const DEMO_USER: &str = "demo";
pub const DEMO_PASSWORD: &str = "demo-password";

pub struct Shop {
    catalog: Catalog,
    assets: Assets,
    state: Mutex<State>,
    started: Instant,
}

/// A numeric path id: digits only, no sign, no leading garbage.
fn parse_id(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn method_not_allowed(allow: &'static str) -> ShopResponse {
    ShopResponse::text(405, "method not allowed").with_header("Allow", allow.to_owned())
}

impl Shop {
    pub fn new(assets: Assets) -> Shop {
        Shop {
            catalog: Catalog::new(),
            assets,
            state: Mutex::new(State::default()),
            started: Instant::now(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means another handler panicked mid-update; the
        // maps stay structurally valid, so keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn user(&self, req: &ShopRequest) -> Option<String> {
        self.state().session_user(req.cookie("sid")?)
    }

    pub fn handle(&self, req: &ShopRequest) -> ShopResponse {
        let path = req.path();
        let get = matches!(req.method, "GET" | "HEAD");
        let post = req.method == "POST";
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let user = self.user(req);
        let user = user.as_deref();
        match segs.as_slice() {
            [""] if get => ShopResponse::html(200, pages::home(&self.catalog, user)),
            ["health"] if get => ShopResponse::text(200, "ok"),
            ["api", "status"] if get => self.status(),
            ["products"] if get => self.listing(req, req.wants_json(), user),
            ["api", "products"] if get => self.listing(req, true, user),
            ["products", id] if get => self.product(id, req.wants_json(), user),
            ["api", "products", id] if get => self.product(id, true, user),
            ["search"] if get => self.search(req, req.wants_json(), user),
            ["api", "search"] if get => self.search(req, true, user),
            ["users", id] | ["api", "users", id] if get => self.user_json(id),
            ["login"] if get => ShopResponse::html(200, pages::login(None, user)),
            ["login"] if post => self.login(req),
            ["signup"] if get => ShopResponse::html(200, pages::signup(None, user)),
            ["signup"] if post => self.signup(req),
            ["feedback"] if get => ShopResponse::html(200, pages::feedback(None, user)),
            ["feedback"] if post => self.feedback(req, user),
            ["cart"] if get => self.cart_page(req, user),
            ["cart"] if post => self.add_to_cart(req, user),
            ["static", ..] if get => self.asset(req, path),
            ["favicon.ico"] if get => self.asset(req, "/static/favicon.svg"),
            ["login"] | ["signup"] | ["feedback"] | ["cart"] => {
                method_not_allowed("GET, HEAD, POST")
            }
            _ if !get && self.known_get_path(&segs) => method_not_allowed("GET, HEAD"),
            _ => self.not_found(req, user),
        }
    }

    fn known_get_path(&self, segs: &[&str]) -> bool {
        matches!(
            segs,
            [""] | ["health"]
                | ["products", ..]
                | ["search"]
                | ["users", _]
                | ["static", ..]
                | ["api", ..]
        )
    }

    fn not_found(&self, req: &ShopRequest, user: Option<&str>) -> ShopResponse {
        if req.wants_json() || req.path().starts_with("/api/") {
            return ShopResponse::error_json(404, "not found");
        }
        ShopResponse::html(
            404,
            pages::notice(
                "Not found",
                "There is no page at this address.",
                ("/", "Go to the home page"),
                user,
            ),
        )
    }

    fn bad_request(json: bool, message: &str, user: Option<&str>) -> ShopResponse {
        if json {
            return ShopResponse::error_json(400, message);
        }
        ShopResponse::html(
            400,
            pages::notice("Bad request", message, ("/", "Go to the home page"), user),
        )
    }

    fn status(&self) -> ShopResponse {
        let s = self.state();
        ShopResponse::json(
            200,
            &json!({
                "status": "ok",
                "uptime_s": self.started.elapsed().as_secs(),
                "products": self.catalog.all().len(),
                "accounts": s.account_count(),
                "feedback_received": s.feedback_count(),
            }),
        )
    }

    fn listing(&self, req: &ShopRequest, json: bool, user: Option<&str>) -> ShopResponse {
        let page = match req.param("page") {
            None => 1,
            Some(p) => match parse_id(&p) {
                Some(n) => n,
                None => return Self::bad_request(json, "page must be a positive number", user),
            },
        };
        let category = req.param("category").filter(|c| !c.is_empty());
        if let Some(c) = category.as_deref() {
            if catalog::category(c).is_none() {
                return self.not_found(req, user);
            }
        }
        let cat = category.as_deref();
        let pages = self.catalog.page_count(cat);
        let Some(products) = self.catalog.page(page, cat) else {
            return self.not_found(req, user);
        };
        if json {
            let next = (page < pages).then(|| format!("/api/products?page={}", page + 1));
            return ShopResponse::json(
                200,
                &json!({ "page": page, "pages": pages, "per_page": PAGE_SIZE, "next": next, "products": products }),
            );
        }
        ShopResponse::html(200, pages::listing(&products, page, pages, cat, user))
    }

    fn product(&self, id: &str, json: bool, user: Option<&str>) -> ShopResponse {
        match parse_id(id).and_then(|id| self.catalog.get(id)) {
            Some(p) if json => ShopResponse::json(200, p),
            Some(p) => ShopResponse::html(200, pages::product(p, user)),
            None if json => ShopResponse::error_json(404, "no such product"),
            None => ShopResponse::html(
                404,
                pages::notice(
                    "Not found",
                    "No such product.",
                    ("/products?page=1", "Browse products"),
                    user,
                ),
            ),
        }
    }

    fn search(&self, req: &ShopRequest, json: bool, user: Option<&str>) -> ShopResponse {
        let q = req.param("q").unwrap_or_default();
        let q: String = q.chars().take(200).collect();
        let results = self.catalog.search(&q, 40);
        if json {
            return ShopResponse::json(
                200,
                &json!({ "query": q, "count": results.len(), "results": results }),
            );
        }
        ShopResponse::html(200, pages::search(&q, &results, user))
    }

    fn user_json(&self, id: &str) -> ShopResponse {
        match parse_id(id).and_then(catalog::user) {
            Some(u) => ShopResponse::json(200, &u),
            None => ShopResponse::error_json(404, "no such user"),
        }
    }

    /// Parse the body, answering 400/415 the way the client prefers.
    fn fields(req: &ShopRequest) -> Result<(Fields, bool), ShopResponse> {
        let json = req.wants_json() || req.content_type.starts_with("application/json");
        match parse_body(req.content_type, req.body) {
            Ok(f) => Ok((f, json)),
            Err((415, m)) => Err(ShopResponse::error_json(415, m)),
            Err((_, m)) => Err(Self::bad_request(json, m, None)),
        }
    }

    fn login(&self, req: &ShopRequest) -> ShopResponse {
        let (f, json) = match Self::fields(req) {
            Ok(x) => x,
            Err(r) => return r,
        };
        let (Some(user), Some(pass)) = (f.get("username"), f.get("password")) else {
            if json {
                return ShopResponse::error_json(400, "username and password are required");
            }
            return ShopResponse::html(
                400,
                pages::login(Some("Enter a username and a password."), None),
            );
        };
        let login = self.state().login(user, pass);
        match login {
            Ok(sid) => {
                let cookie = format!("sid={sid}; Path=/; HttpOnly; SameSite=Lax");
                let resp = if json {
                    ShopResponse::json(200, &json!({ "ok": true, "user": user }))
                } else {
                    ShopResponse::html(
                        200,
                        pages::notice(
                            "Welcome back",
                            &format!("You are signed in as {user}."),
                            ("/products?page=1", "Continue shopping"),
                            Some(user),
                        ),
                    )
                };
                resp.with_header("Set-Cookie", cookie)
            }
            Err(LoginError::BadCredentials) if json => {
                ShopResponse::error_json(401, "invalid username or password")
            }
            Err(LoginError::BadCredentials) => {
                ShopResponse::html(401, pages::login(Some("Wrong username or password."), None))
            }
        }
    }

    fn signup(&self, req: &ShopRequest) -> ShopResponse {
        let (f, json) = match Self::fields(req) {
            Ok(x) => x,
            Err(r) => return r,
        };
        let result = match (f.get("username"), f.get("email"), f.get("password")) {
            (Some(u), Some(e), Some(p)) => self.state().signup(u, e, p),
            _ => Err(SignupError::Missing),
        };
        let (status, message) = match &result {
            Ok(_) => (
                201,
                "Your account is ready and you are signed in.".to_owned(),
            ),
            Err(e) => (e.status(), e.to_string()),
        };
        let mut resp = if json {
            match &result {
                Ok(_) => ShopResponse::json(201, &json!({ "ok": true, "user": f.get("username") })),
                Err(_) => ShopResponse::error_json(status, &message),
            }
        } else if result.is_ok() {
            ShopResponse::html(
                201,
                pages::notice(
                    "Welcome",
                    &message,
                    ("/products?page=1", "Start shopping"),
                    f.get("username"),
                ),
            )
        } else {
            ShopResponse::html(status, pages::signup(Some(&message), None))
        };
        if let Ok(sid) = result {
            resp = resp.with_header(
                "Set-Cookie",
                format!("sid={sid}; Path=/; HttpOnly; SameSite=Lax"),
            );
        }
        resp
    }

    fn feedback(&self, req: &ShopRequest, user: Option<&str>) -> ShopResponse {
        let (f, json) = match Self::fields(req) {
            Ok(x) => x,
            Err(r) => return r,
        };
        if f.get("text").or_else(|| f.get("message")).is_none() {
            if json {
                return ShopResponse::error_json(400, "text is required");
            }
            return ShopResponse::html(400, pages::feedback(Some("Please write a message."), user));
        }
        let n = self.state().record_feedback();
        if json {
            return ShopResponse::json(201, &json!({ "ok": true, "id": n }));
        }
        ShopResponse::html(
            201,
            pages::notice(
                "Thank you",
                "Your message has been received.",
                ("/", "Back to the shop"),
                user,
            ),
        )
    }

    /// The cart belongs to the session when signed in, else to a `cart` cookie.
    fn cart_key(req: &ShopRequest, user: Option<&str>) -> Option<String> {
        match user {
            Some(_) => req.cookie("sid").map(|s| format!("s:{s}")),
            None => req.cookie("cart").map(|c| format!("c:{c}")),
        }
    }

    fn cart_json(&self, lines: &[(u32, u32)]) -> serde_json::Value {
        let mut total = 0u64;
        let items: Vec<_> = lines
            .iter()
            .filter_map(|&(id, qty)| {
                let p = self.catalog.get(id)?;
                total += u64::from(p.price_cents) * u64::from(qty);
                Some(json!({ "product_id": id, "name": p.name, "qty": qty, "price_cents": p.price_cents }))
            })
            .collect();
        let count: u32 = lines.iter().map(|l| l.1).sum();
        json!({ "items": items, "count": count, "total_cents": total })
    }

    fn add_to_cart(&self, req: &ShopRequest, user: Option<&str>) -> ShopResponse {
        let (f, _) = match Self::fields(req) {
            Ok(x) => x,
            Err(r) => return r,
        };
        let html = req.accept.contains("text/html");
        let Some(id) = f.get("product_id").and_then(parse_id) else {
            return Self::bad_request(!html, "product_id must be a number", user);
        };
        let qty = match f.get("qty").map(parse_id) {
            None => 1,
            Some(Some(q @ 1..=10)) => q,
            Some(_) => return Self::bad_request(!html, "qty must be between 1 and 10", user),
        };
        if self.catalog.get(id).is_none() {
            return self.not_found(
                &ShopRequest {
                    accept: if html {
                        "text/html"
                    } else {
                        "application/json"
                    },
                    ..*req
                },
                user,
            );
        }
        let (key, new_cookie) = match Self::cart_key(req, user) {
            Some(k) => (k, None),
            None => {
                let token = state::token();
                (format!("c:{token}"), Some(token))
            }
        };
        let lines = self.state().add_to_cart(&key, id, qty);
        let mut resp = if html {
            let lines: Vec<_> = lines
                .iter()
                .filter_map(|&(id, q)| Some((self.catalog.get(id)?, q)))
                .collect();
            ShopResponse::html(200, pages::cart(&lines, user))
        } else {
            ShopResponse::json(200, &self.cart_json(&lines))
        };
        if let Some(token) = new_cookie {
            resp = resp.with_header("Set-Cookie", format!("cart={token}; Path=/; SameSite=Lax"));
        }
        resp
    }

    fn cart_page(&self, req: &ShopRequest, user: Option<&str>) -> ShopResponse {
        let lines = Self::cart_key(req, user)
            .map(|k| self.state().cart(&k))
            .unwrap_or_default();
        if req.wants_json() {
            return ShopResponse::json(200, &self.cart_json(&lines));
        }
        let lines: Vec<_> = lines
            .iter()
            .filter_map(|&(id, q)| Some((self.catalog.get(id)?, q)))
            .collect();
        ShopResponse::html(200, pages::cart(&lines, user))
    }

    fn asset(&self, req: &ShopRequest, path: &str) -> ShopResponse {
        let Some(a) = self.assets.get(path) else {
            return ShopResponse::text(404, "not found");
        };
        let resp = if req.if_none_match.split(',').any(|t| t.trim() == a.etag) {
            ShopResponse::new(304, a.content_type, Vec::new())
        } else {
            ShopResponse::new(200, a.content_type, a.body.clone())
        };
        resp.with_header("ETag", a.etag.clone())
            .with_header("Cache-Control", "public, max-age=3600".to_owned())
    }
}

#[cfg(test)]
mod tests;
