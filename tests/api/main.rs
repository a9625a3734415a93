//! One integration-test binary (one link step) driving the real service over HTTP and the real
//! `authify` binary.

mod cli;
mod cli_delegates;
mod delegates;
mod discovery;
mod health;
mod helpers;
mod http_errors;
mod jsonapi_client;
mod jsonapi_conformance;
mod jwt;
mod openapi;
mod verify;
