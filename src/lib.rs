//! Authify: an authentication service that signs short-lived ECDSA JWTs, publishes the key that
//! verifies them, and manages the people and machines allowed to get them.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod allocator;
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod email;
pub mod error;
pub mod http;
pub mod import;
pub mod runtime;
pub mod service;
pub mod state;
pub mod store;
