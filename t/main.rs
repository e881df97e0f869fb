//! Integration tests: the real nginx with the module, two workers, real HTTP.

#![warn(clippy::undocumented_unsafe_blocks)]

mod harness;
mod redis;

mod api;
mod challenge;
mod config;
mod dashboard;
mod detection;
mod helpers;
mod lists;
mod locks;
mod logrotate;
mod profiles;
mod signatures;
mod state;
mod sync;
mod zone;
