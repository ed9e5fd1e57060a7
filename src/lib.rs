//! rdsdeck: a terminal ops console for the RDS Proxy + IAM auth "zero-secret" stack.
//!
//! The core (`aws`, `stack`, `target`, `auth`, `db`, `bootstrap`, `ssm`, `config`,
//! `settings`, `tls`) carries no terminal code, never prints and never knows clap;
//! `cli` and `tui` are the front ends over it (`tests/architecture.rs` checks this).

pub mod auth;
pub mod bootstrap;
pub mod aws;
pub mod cli;
pub mod config;
pub mod db;
pub mod doctor;
pub mod files;
pub mod pulse;
pub mod redact;
pub mod settings;
pub mod ssm;
pub mod stack;
pub mod target;
pub mod tour;
pub mod tls;
pub mod tui;
pub mod untrusted;
