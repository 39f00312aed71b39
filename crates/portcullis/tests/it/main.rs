//! The integration tests of the `portcullis` binary, one module per area: each
//! starts real servers on `127.0.0.1:0` (SQLite always, PostgreSQL when
//! `PORTCULLIS_TEST_DATABASE_URL` is set) and speaks HTTP or runs the CLI.

#![allow(clippy::unwrap_used)]

mod admin_api;
mod admin_api_conformance;
mod backchannel_logout;
mod clients_for_people;
mod cors;
mod device_grant;
mod discovery_truth;
mod implicit_flow;
mod interop;
mod introspection;
mod invariants;
mod jwt_cli;
mod jwt_verify_attacks;
mod lifecycle;
mod logout;
mod mcp;
mod observability;
mod openidconnect_interop;
mod operations;
mod password_grant;
mod real_browser;
mod registration;
mod revocation;
mod scale_out;
mod sign_in_flow;
mod sign_up;
mod token_cli;
mod token_endpoint;
mod token_exchange;
mod trusted_proxies;
mod users_cli;
