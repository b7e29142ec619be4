//! One integration test binary: each test starts the real server on port 0 with a fresh data dir.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

mod audit;
mod auth;
mod bootstrap;
mod browser;
mod claims;
mod cleanup;
mod cli;
mod clients;
mod cluster;
mod configuration;
mod console;
mod console_browser;
mod developer;
mod device;
mod dpop;
mod errors;
mod escalation;
mod exchange;
mod fapi;
mod first_day;
mod flows;
mod gateways;
mod hardening;
mod imports;
mod keys;
mod manage;
mod mtls;
mod par;
mod permissions;
mod policies;
mod privacy;
mod readme;
mod registration;
mod rejections;
mod servers;
mod services;
mod snapshots;
mod system;
mod tenant;
mod tls;
mod tokens;
mod upstream;
mod workspace;
