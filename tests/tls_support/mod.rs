//! The old path of `tests/support/tls.rs`, for the test files that still include this folder with
//! `#[path = "tls_support/mod.rs"]` (`tests/ws_tls_proxy.rs`, which loads `support/ws_peer.rs`
//! itself, so not the whole `support` module here). Other tests use `mod support;` and
//! `support::tls`; this folder goes once none include it.

#[path = "../support/rest.rs"]
mod rest;
#[path = "../support/tls.rs"]
mod tls;

pub use tls::*;
