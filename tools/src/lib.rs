//! Tools around ngx_http_api_abuse_module: the demo shop that the demo nginx
//! protects (`demo-shop`) and the labeled traffic simulator that measures how
//! many bots the module blocks and how many people it wrongly blocks
//! (`abuse-sim`). Both binaries share the deterministic catalogue, so the
//! simulator's people click links that really exist.

pub mod catalog;
pub mod shop;
pub mod sim;
