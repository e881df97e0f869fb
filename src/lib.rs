//! ngx_http_api_abuse_module: an nginx dynamic module that detects and blocks
//! bots abusing APIs and web applications.
//!
//! The nginx FFI glue lives in the `ngx` module; everything else is plain Rust that
//! tests without nginx: the profiles file ([`config`]), address lists
//! ([`lists`]), the shared-memory table ([`table`]) and zone ([`shared`]),
//! detection ([`detect`], [`engine`]), attack signatures ([`signatures`]) and
//! the access decision ([`access`]).

// Every unsafe operation sits in its own `unsafe` block, even inside an
// `unsafe fn`, and every block says in a `// SAFETY:` comment why it holds.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod access;
pub mod api;
pub mod campaign;
pub mod challenge;
pub mod config;
pub mod console_api;
pub mod detect;
pub mod engine;
pub mod events_ring;
pub mod lists;
pub mod model;
// The glue references nginx symbols that only exist inside the nginx binary,
// so unit-test executables are built without it.
#[cfg(all(feature = "ngx-glue", not(test)))]
mod ngx;
pub mod request;
pub mod shared;
pub mod signatures;
pub mod state;
pub mod sync;
pub mod table;
#[cfg(test)]
mod testing;
pub mod timeline;
