//! The demo shop's data: a deterministic product catalogue and user directory.
//!
//! Everything is derived from the product or user id through a fixed mixing
//! function (SplitMix64), so the shop and the traffic simulator agree on every
//! name, page and search result without sharing a database: the simulator can
//! "click" a product that really is on the listing page it just loaded.

use serde::Serialize;

/// Number of products in the catalogue (ids 1..=PRODUCT_COUNT).
pub const PRODUCT_COUNT: u32 = 1200;
/// Number of users behind `/users/{id}` (ids 1..=USER_COUNT).
pub const USER_COUNT: u32 = 500;
/// Products per listing page.
pub const PAGE_SIZE: u32 = 20;

/// A product category with the static image shown for its products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Category {
    pub slug: &'static str,
    pub name: &'static str,
    nouns: &'static [&'static str],
}

impl Category {
    /// Path of the category's product image under the static root.
    pub fn image(&self) -> String {
        format!("/static/img/{}.svg", self.slug)
    }
}

pub const CATEGORIES: [Category; 8] = [
    Category {
        slug: "coffee",
        name: "Coffee & Tea",
        nouns: &["Mug", "Kettle", "Grinder", "Pour-Over Set", "Teapot"],
    },
    Category {
        slug: "kitchen",
        name: "Kitchen",
        nouns: &[
            "Cutting Board",
            "Chef Knife",
            "Skillet",
            "Spice Rack",
            "Salad Bowl",
        ],
    },
    Category {
        slug: "books",
        name: "Books",
        nouns: &["Notebook", "Field Guide", "Cookbook", "Atlas", "Journal"],
    },
    Category {
        slug: "garden",
        name: "Garden",
        nouns: &["Planter", "Trowel", "Watering Can", "Seed Box", "Pruner"],
    },
    Category {
        slug: "outdoor",
        name: "Outdoor",
        nouns: &[
            "Backpack",
            "Lantern",
            "Water Bottle",
            "Camp Chair",
            "Hammock",
        ],
    },
    Category {
        slug: "audio",
        name: "Audio",
        nouns: &["Headphones", "Speaker", "Turntable", "Radio", "Earbuds"],
    },
    Category {
        slug: "stationery",
        name: "Stationery",
        nouns: &[
            "Fountain Pen",
            "Desk Lamp",
            "Pencil Case",
            "Planner",
            "Stapler",
        ],
    },
    Category {
        slug: "toys",
        name: "Toys",
        nouns: &["Puzzle", "Kite", "Building Set", "Yo-Yo", "Board Game"],
    },
];

const ADJECTIVES: [&str; 16] = [
    "Classic", "Compact", "Rustic", "Modern", "Vintage", "Nordic", "Deluxe", "Handmade", "Travel",
    "Everyday", "Premium", "Minimal", "Sturdy", "Bright", "Quiet", "Folding",
];
const MATERIALS: [&str; 12] = [
    "Oak", "Steel", "Linen", "Ceramic", "Walnut", "Bamboo", "Copper", "Cotton", "Glass", "Slate",
    "Cork", "Leather",
];

/// Search words a person might type: every one matches some products.
pub const SEARCH_WORDS: [&str; 24] = [
    "mug",
    "kettle",
    "oak",
    "steel",
    "lamp",
    "pen",
    "backpack",
    "speaker",
    "puzzle",
    "kite",
    "planter",
    "knife",
    "notebook",
    "walnut",
    "copper",
    "vintage",
    "travel",
    "linen",
    "tea",
    "garden",
    "headphones",
    "journal",
    "bamboo",
    "leather",
];

/// SplitMix64 finaliser: a fixed, well-distributed hash of a 64-bit value.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn pick<T: Copy>(items: &[T], h: u64) -> T {
    // `items` is a non-empty constant table at every call site.
    items[(h % items.len() as u64) as usize]
}

#[derive(Debug, Clone, Serialize)]
pub struct Product {
    pub id: u32,
    pub name: String,
    pub category: &'static str,
    pub category_name: &'static str,
    pub price_cents: u32,
    pub stock: u32,
    pub rating: f32,
    pub description: String,
    pub image: String,
}

impl Product {
    fn generate(id: u32) -> Product {
        let h = mix(u64::from(id) ^ 0x005E_ED0F_CA7A_1065);
        let cat = pick(&CATEGORIES, h);
        let name = format!(
            "{} {} {}",
            pick(&ADJECTIVES, h >> 8),
            pick(&MATERIALS, h >> 16),
            pick(cat.nouns, h >> 24)
        );
        // Prices end in .99 or .49 like a real shop; roughly 5 % are sold out.
        let euros = 4 + (h >> 32) % 180;
        let cents = if (h >> 40) & 1 == 0 { 99 } else { 49 };
        let stock = if (h >> 44) % 20 == 0 {
            0
        } else {
            ((h >> 48) % 120) as u32 + 1
        };
        let rating = 3.0 + ((h >> 56) % 21) as f32 / 10.0;
        let description = format!(
            "A {} {} for {}. Made from {}, built to last, and shipped within two days.",
            pick(&ADJECTIVES, h >> 12).to_lowercase(),
            pick(cat.nouns, h >> 24).to_lowercase(),
            pick(
                &[
                    "every day",
                    "small spaces",
                    "gifts",
                    "long trips",
                    "the whole family"
                ],
                h >> 20
            ),
            pick(&MATERIALS, h >> 16).to_lowercase()
        );
        Product {
            id,
            name,
            category: cat.slug,
            category_name: cat.name,
            price_cents: (euros as u32) * 100 + cents,
            stock,
            rating,
            description,
            image: cat.image(),
        }
    }

    /// The price as text, e.g. `12.49`.
    pub fn price(&self) -> String {
        format!("{}.{:02}", self.price_cents / 100, self.price_cents % 100)
    }
}

/// The whole catalogue, built once at start-up.
pub struct Catalog {
    products: Vec<Product>,
}

impl Default for Catalog {
    fn default() -> Self {
        Self::new()
    }
}

impl Catalog {
    pub fn new() -> Catalog {
        Catalog {
            products: (1..=PRODUCT_COUNT).map(Product::generate).collect(),
        }
    }

    pub fn get(&self, id: u32) -> Option<&Product> {
        self.products.get(usize::try_from(id).ok()?.checked_sub(1)?)
    }

    pub fn all(&self) -> &[Product] {
        &self.products
    }

    /// Products of one category (or all), in id order.
    pub fn filtered<'a>(
        &'a self,
        category: Option<&str>,
    ) -> impl Iterator<Item = &'a Product> + 'a {
        // Resolve to the static slug so the iterator does not borrow the caller's text.
        let slug = category.map(|c| self::category(c).map(|c| c.slug).unwrap_or(""));
        self.products
            .iter()
            .filter(move |p| slug.is_none_or(|c| p.category == c))
    }

    /// Number of listing pages (at least 1, so an empty listing still renders).
    pub fn page_count(&self, category: Option<&str>) -> u32 {
        let n = self.filtered(category).count() as u32;
        n.div_ceil(PAGE_SIZE).max(1)
    }

    /// One listing page (1-based); `None` when the page does not exist.
    pub fn page(&self, page: u32, category: Option<&str>) -> Option<Vec<&Product>> {
        if page == 0 || page > self.page_count(category) {
            return None;
        }
        let skip = ((page - 1) * PAGE_SIZE) as usize;
        Some(
            self.filtered(category)
                .skip(skip)
                .take(PAGE_SIZE as usize)
                .collect(),
        )
    }

    /// Case-insensitive match of every query word against name and category.
    pub fn search(&self, query: &str, limit: usize) -> Vec<&Product> {
        let words: Vec<String> = query
            .split_whitespace()
            .take(8)
            .map(str::to_lowercase)
            .collect();
        if words.is_empty() {
            return Vec::new();
        }
        self.products
            .iter()
            .filter(|p| {
                let hay = format!("{} {}", p.name, p.category_name).to_lowercase();
                words.iter().all(|w| hay.contains(w.as_str()))
            })
            .take(limit)
            .collect()
    }
}

pub fn category(slug: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.slug == slug)
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: u32,
    pub username: String,
    pub display_name: String,
    pub country: &'static str,
    pub member_since: String,
    pub orders: u32,
}

const FIRST: [&str; 16] = [
    "anna", "ben", "chloe", "david", "emma", "farid", "grace", "hiro", "ines", "jonas", "kira",
    "liam", "maya", "noah", "olga", "pavel",
];
const LAST: [&str; 12] = [
    "berg", "costa", "dubois", "evans", "fischer", "garcia", "hansen", "ito", "jensen", "kowalski",
    "lopez", "moreau",
];

/// The user directory behind `/users/{id}`: ids 1..=USER_COUNT exist.
pub fn user(id: u32) -> Option<User> {
    if id == 0 || id > USER_COUNT {
        return None;
    }
    let h = mix(u64::from(id) ^ 0x00A1_1CE5_0000);
    let first = pick(&FIRST, h);
    let last = pick(&LAST, h >> 8);
    let mut display = String::new();
    for (i, part) in [first, last].iter().enumerate() {
        if i > 0 {
            display.push(' ');
        }
        let mut chars = part.chars();
        if let Some(c) = chars.next() {
            display.extend(c.to_uppercase());
            display.push_str(chars.as_str());
        }
    }
    Some(User {
        id,
        username: format!("{first}.{last}{}", id),
        display_name: display,
        country: pick(
            &["DE", "FR", "US", "GB", "JP", "BR", "PL", "ES", "IN", "SE"],
            h >> 16,
        ),
        member_since: format!(
            "20{:02}-{:02}-{:02}",
            15 + (h >> 24) % 11,
            1 + (h >> 32) % 12,
            1 + (h >> 40) % 28
        ),
        orders: ((h >> 48) % 40) as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_deterministic_and_complete() {
        let a = Catalog::new();
        let b = Catalog::new();
        assert_eq!(a.all().len(), PRODUCT_COUNT as usize);
        assert_eq!(
            a.get(17).map(|p| p.name.clone()),
            b.get(17).map(|p| p.name.clone())
        );
        assert!(a.get(0).is_none());
        assert!(a.get(PRODUCT_COUNT + 1).is_none());
        assert_eq!(a.get(PRODUCT_COUNT).map(|p| p.id), Some(PRODUCT_COUNT));
        // Every category is used, so every product image is reachable.
        for c in CATEGORIES {
            assert!(a.filtered(Some(c.slug)).count() > 50, "{}", c.slug);
        }
    }

    #[test]
    fn pages_cover_the_catalogue_exactly() {
        let c = Catalog::new();
        let pages = c.page_count(None);
        assert_eq!(pages, PRODUCT_COUNT.div_ceil(PAGE_SIZE));
        assert_eq!(c.page(1, None).map(|p| p[0].id), Some(1));
        assert!(c.page(0, None).is_none());
        assert!(c.page(pages + 1, None).is_none());
        let total: usize = (1..=pages)
            .filter_map(|p| c.page(p, None))
            .map(|p| p.len())
            .sum();
        assert_eq!(total, PRODUCT_COUNT as usize);
        let coffee = c.page(1, Some("coffee")).unwrap_or_default();
        assert!(coffee.iter().all(|p| p.category == "coffee"));
    }

    #[test]
    fn every_search_word_finds_something() {
        let c = Catalog::new();
        for w in SEARCH_WORDS {
            assert!(!c.search(w, 10).is_empty(), "{w}");
        }
        assert!(c.search("   ", 10).is_empty());
        assert!(c.search("zzzz-nothing", 10).is_empty());
        let both = c.search("OAK mug", 50);
        assert!(both
            .iter()
            .all(|p| p.name.contains("Oak") && p.name.contains("Mug")));
    }

    #[test]
    fn users_exist_only_in_range() {
        assert!(user(0).is_none());
        assert!(user(USER_COUNT + 1).is_none());
        let u = user(1).map(|u| u.username);
        assert_eq!(u, user(1).map(|u| u.username));
        assert!(user(USER_COUNT).is_some());
    }
}
