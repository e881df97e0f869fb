//! HTML pages of the demo shop: one layout (header, navigation, footer) and a
//! function per page. Every piece of dynamic text goes through [`escape`], the
//! search box echoes what the visitor typed, and scanners will type `<script>`.

use super::http::{escape, percent_encode};
use crate::catalog::{Catalog, Product, CATEGORIES};
use std::fmt::Write;

pub const SHOP_NAME: &str = "Larkspur Goods";

/// Wrap a page body in the common layout. `user` is the signed-in username.
pub fn layout(title: &str, user: Option<&str>, body: &str) -> String {
    let account = match user {
        Some(u) => format!(
            r#"<span class="who">Signed in as <b>{}</b></span>"#,
            escape(u)
        ),
        None => {
            r#"<a href="/login">Log in</a> <a class="button" href="/signup">Sign up</a>"#.to_owned()
        }
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {shop}</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/css/shop.css">
<script src="/static/js/shop.js" defer></script>
</head>
<body>
<header class="top">
  <a class="brand" href="/"><img src="/static/img/logo.svg" alt="" width="32" height="32">{shop}</a>
  <nav><a href="/products?page=1">Products</a> <a href="/cart">Cart <span id="cart-count"></span></a> <a href="/feedback">Feedback</a></nav>
  <form class="search" action="/search" method="get"><input type="search" name="q" placeholder="Search products" aria-label="Search"><button>Search</button></form>
  <div class="account">{account}</div>
</header>
<main>
{body}
</main>
<footer>{shop} is a demo shop. Nothing here is for sale; it exists to be protected by ngx_http_api_abuse_module.</footer>
</body>
</html>
"#,
        title = escape(title),
        shop = SHOP_NAME,
    )
}

fn card(out: &mut String, p: &Product) {
    let stock = if p.stock == 0 {
        r#"<span class="out">Sold out</span>"#.to_owned()
    } else {
        format!("{} in stock", p.stock)
    };
    let _ = write!(
        out,
        r#"<li class="card"><a href="/products/{id}"><img src="{img}" alt="" width="96" height="96"><span class="name">{name}</span></a><span class="price">€{price}</span><span class="stock">{stock}</span></li>"#,
        id = p.id,
        img = p.image,
        name = escape(&p.name),
        price = p.price(),
    );
}

fn grid(products: &[&Product]) -> String {
    let mut out = String::from(r#"<ul class="grid">"#);
    for p in products {
        card(&mut out, p);
    }
    out.push_str("</ul>");
    out
}

pub fn home(catalog: &Catalog, user: Option<&str>) -> String {
    let mut cats = String::from(r#"<ul class="categories">"#);
    for c in CATEGORIES {
        let _ = write!(
            cats,
            r#"<li><a href="/products?category={slug}&amp;page=1"><img src="{img}" alt="" width="64" height="64">{name}</a></li>"#,
            slug = c.slug,
            img = c.image(),
            name = escape(c.name),
        );
    }
    cats.push_str("</ul>");
    let picks: Vec<&Product> = [3u32, 58, 144, 271, 402, 777, 931, 1108]
        .iter()
        .filter_map(|&id| catalog.get(id))
        .collect();
    let body = format!(
        r#"<section class="hero"><h1>Useful things, made well</h1><p>{n} products across {c} categories. <a href="/products?page=1">Browse the catalogue</a> or search above.</p></section>
<h2>Categories</h2>{cats}<h2>Staff picks</h2>{picks}"#,
        n = catalog.all().len(),
        c = CATEGORIES.len(),
        picks = grid(&picks),
    );
    layout("Home", user, &body)
}

pub fn listing(
    products: &[&Product],
    page: u32,
    pages: u32,
    category: Option<&str>,
    user: Option<&str>,
) -> String {
    let cat_param = category
        .map(|c| format!("category={}&amp;", percent_encode(c)))
        .unwrap_or_default();
    let link =
        |n: u32, text: &str| format!(r#"<a href="/products?{cat_param}page={n}">{text}</a>"#);
    let mut pager = String::from(r#"<nav class="pager">"#);
    if page > 1 {
        pager.push_str(&link(page - 1, "← Previous"));
    }
    let first = page.saturating_sub(3).max(1);
    for n in first..=(first + 6).min(pages) {
        if n == page {
            let _ = write!(pager, r#"<span class="current">{n}</span>"#);
        } else {
            pager.push_str(&link(n, &n.to_string()));
        }
    }
    if page < pages {
        pager.push_str(&link(page + 1, "Next →"));
    }
    pager.push_str("</nav>");
    let heading = match category.and_then(crate::catalog::category) {
        Some(c) => escape(c.name),
        None => "All products".to_owned(),
    };
    let body = format!(
        "<h1>{heading}</h1><p>Page {page} of {pages}</p>{}{pager}",
        grid(products)
    );
    layout(&format!("{heading}, page {page}"), user, &body)
}

pub fn product(p: &Product, user: Option<&str>) -> String {
    let page = (p.id - 1) / crate::catalog::PAGE_SIZE + 1;
    let buy = if p.stock == 0 {
        r#"<p class="out">Sold out</p>"#.to_owned()
    } else {
        format!(
            r#"<form class="add" action="/cart" method="post" data-product="{id}"><input type="hidden" name="product_id" value="{id}"><label>Quantity <input type="number" name="qty" value="1" min="1" max="10"></label><button>Add to cart</button></form>"#,
            id = p.id
        )
    };
    let body = format!(
        r#"<article class="product"><img src="{img}" alt="" width="240" height="240"><div><h1>{name}</h1><p class="meta"><a href="/products?category={cat}&amp;page=1">{catname}</a> · rated {rating:.1} / 5</p><p class="price">€{price}</p><p>{desc}</p><p>{stock} in stock</p>{buy}<p class="nav">{prev} <a href="/products?page={page}">Back to page {page}</a> {next}</p></div></article>"#,
        img = p.image,
        name = escape(&p.name),
        cat = p.category,
        catname = escape(p.category_name),
        rating = p.rating,
        price = p.price(),
        desc = escape(&p.description),
        stock = p.stock,
        prev = if p.id > 1 {
            format!(r#"<a href="/products/{}">← Previous</a>"#, p.id - 1)
        } else {
            String::new()
        },
        next = if p.id < crate::catalog::PRODUCT_COUNT {
            format!(r#"<a href="/products/{}">Next →</a>"#, p.id + 1)
        } else {
            String::new()
        },
    );
    layout(&p.name, user, &body)
}

pub fn search(query: &str, results: &[&Product], user: Option<&str>) -> String {
    let body = if query.trim().is_empty() {
        "<h1>Search</h1><p>Type a word such as <a href=\"/search?q=mug\">mug</a> or <a href=\"/search?q=oak\">oak</a>.</p>".to_owned()
    } else if results.is_empty() {
        format!(
            "<h1>No results for “{}”</h1><p>Try another word.</p>",
            escape(query)
        )
    } else {
        format!(
            "<h1>Results for “{}”</h1><p>{} shown</p>{}",
            escape(query),
            results.len(),
            grid(results)
        )
    };
    layout("Search", user, &body)
}

/// A form page with an optional message (error or success) above the form.
fn form_page(
    title: &str,
    action: &str,
    fields: &str,
    note: &str,
    message: Option<&str>,
    user: Option<&str>,
) -> String {
    let msg = message
        .map(|m| format!(r#"<p class="message">{}</p>"#, escape(m)))
        .unwrap_or_default();
    let body = format!(
        r#"<h1>{t}</h1>{msg}<form class="panel" action="{action}" method="post">{fields}<button>{t}</button></form><p class="note">{note}</p>"#,
        t = escape(title)
    );
    layout(title, user, &body)
}

pub fn login(message: Option<&str>, user: Option<&str>) -> String {
    form_page(
        "Log in",
        "/login",
        r#"<label>Username <input name="username" autocomplete="username" required></label><label>Password <input type="password" name="password" autocomplete="current-password" required></label>"#,
        "Demo account: <code>demo</code> / <code>demo-password</code>. No account? <a href=\"/signup\">Sign up</a>.",
        message,
        user,
    )
}

pub fn signup(message: Option<&str>, user: Option<&str>) -> String {
    form_page(
        "Sign up",
        "/signup",
        r#"<label>Username <input name="username" autocomplete="username" required></label><label>Email <input type="email" name="email" autocomplete="email" required></label><label>Password <input type="password" name="password" autocomplete="new-password" minlength="8" required></label>"#,
        "Usernames: 3 to 32 letters, digits, dot, dash or underscore. Passwords: at least 8 characters.",
        message,
        user,
    )
}

pub fn feedback(message: Option<&str>, user: Option<&str>) -> String {
    form_page(
        "Send feedback",
        "/feedback",
        r#"<label>Email (optional) <input type="email" name="email"></label><label>Message <textarea name="text" rows="6" required></textarea></label>"#,
        "We read every message.",
        message,
        user,
    )
}

/// A plain page with a heading, a sentence and a link onwards.
pub fn notice(title: &str, text: &str, link: (&str, &str), user: Option<&str>) -> String {
    let body = format!(
        r#"<h1>{}</h1><p>{}</p><p><a href="{}">{}</a></p>"#,
        escape(title),
        escape(text),
        link.0,
        escape(link.1)
    );
    layout(title, user, &body)
}

pub fn cart(lines: &[(&Product, u32)], user: Option<&str>) -> String {
    if lines.is_empty() {
        return notice(
            "Your cart",
            "Your cart is empty.",
            ("/products?page=1", "Browse products"),
            user,
        );
    }
    let mut rows = String::new();
    let mut total = 0u64;
    for (p, qty) in lines {
        total += u64::from(p.price_cents) * u64::from(*qty);
        let _ = write!(
            rows,
            r#"<tr><td><a href="/products/{}">{}</a></td><td>{}</td><td>€{}</td></tr>"#,
            p.id,
            escape(&p.name),
            qty,
            p.price()
        );
    }
    let body = format!(
        r#"<h1>Your cart</h1><table class="cart"><tr><th>Product</th><th>Qty</th><th>Price</th></tr>{rows}</table><p class="price">Total €{}.{:02}</p>"#,
        total / 100,
        total % 100
    );
    layout("Your cart", user, &body)
}
