//! A plain view of one request, filled by the nginx glue and read by the
//! detectors. Nothing here is an nginx type, so detectors test without nginx.

use crate::model::AttackClass;

pub mod names;

/// Presence bits of request headers that tell browsers from scripts.
pub mod header_bits {
    pub const ACCEPT: u16 = 1 << 0;
    pub const ACCEPT_LANGUAGE: u16 = 1 << 1;
    pub const ACCEPT_ENCODING: u16 = 1 << 2;
    pub const REFERER: u16 = 1 << 3;
    pub const COOKIE: u16 = 1 << 4;
    /// Any `Sec-Fetch-*` header (sent by every current Chromium/Firefox/Safari).
    pub const SEC_FETCH: u16 = 1 << 5;
    /// Any `Sec-CH-UA*` client hint (Chromium family).
    pub const SEC_CH_UA: u16 = 1 << 6;
    pub const X_REQUESTED_WITH: u16 = 1 << 7;
    pub const AUTHORIZATION: u16 = 1 << 8;
    pub const CONTENT_TYPE: u16 = 1 << 9;
    pub const ORIGIN: u16 = 1 << 10;
    /// `Connection: close` on an HTTP/1.1 request.
    pub const CONNECTION_CLOSE: u16 = 1 << 11;
    pub const UPGRADE_INSECURE: u16 = 1 << 12;
    pub const CACHE_CONTROL: u16 = 1 << 13;
}

/// One finished request as the LOG phase sees it.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestView<'a> {
    /// Request method, e.g. `b"GET"`.
    pub method: &'a [u8],
    /// Decoded path without the query string (nginx's `r->uri`).
    pub path: &'a [u8],
    /// Raw query string without `?` (nginx's `r->args`), may be empty.
    pub query: &'a [u8],
    /// `User-Agent` value; `None` when the header is missing.
    pub user_agent: Option<&'a [u8]>,
    /// OR of [`header_bits`] for the headers present.
    pub headers: u16,
    /// Number of request header lines.
    pub header_count: u16,
    /// Response status (0 before the response is known).
    pub status: u16,
    /// HTTP version times 1000 (1000, 1001, 2000, 3000).
    pub http_version: u16,
    /// Attack class found in this request by the signatures, if any.
    pub attack: Option<AttackClass>,
}
