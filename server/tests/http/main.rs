//! HTTP tests against the real router on 127.0.0.1:0. Each test runs on SQLite, and again on
//! PostgreSQL when `TEST_POSTGRES_URL` is set.

// A failed expectation is how a test fails.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod admin;
mod admin_audit;
mod admin_lens;
mod api_tokens;
mod audit;
mod audit_chain;
mod auth;
mod breach;
mod capabilities;
mod cli;
mod confirmation;
mod deletion;
mod export;
mod faults;
mod feedback;
mod hooks;
mod impersonation;
mod jobs;
mod jwt;
mod jwt_interop;
mod live;
mod lockout;
mod mfa;
mod oauth;
mod openapi;
mod operator;
mod organizations;
mod passkeys;
mod processes;
mod providers;
mod rate_limit;
mod reauth;
mod recovery;
mod required_steps;
mod security;
mod security_page;
mod sessions;
mod settings;
mod smtp;
mod testing_helpers;
