//! datumctl's tunnel engine: the only code that touches tunnel payload bytes.
//!
//! A Node-API module (napi-rs) that Deno loads lazily from `lib/tunnel/engine.ts`. It exports
//! an `Agent` (the user's side: serves Datum's `iroh-http-proxy/1` stream protocol to local
//! origins behind an allowlist) and a `Gateway` (a stand-in for Datum's edge used by the
//! local stack and the tests), both on iroh and iroh-proxy-utils.
// Our code has no `unsafe`; the napi macros mark their own generated glue `allow(unsafe_code)`.
#![deny(unsafe_code)]

pub mod agent;
pub mod authorizer;
pub mod capture;
pub mod downstream;
pub mod endpoint;
pub mod gateway;
pub mod keys;
pub mod peer_filter;
pub mod requests;
pub mod routes;
pub mod splice;
pub mod stable_port;
pub mod stats;
pub mod upstream;
pub mod wire;
