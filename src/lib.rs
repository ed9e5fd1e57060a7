//! rdsdeck: a terminal ops console for the RDS Proxy + IAM auth "zero-secret" stack.
//!
//! Core modules (`aws`, `stack`, `config`, `settings`) carry no terminal code;
//! `tui` is a thin shell over them and `cli` prints what they return.

pub mod auth;
pub mod bootstrap;
pub mod aws;
pub mod cli;
pub mod config;
pub mod db;
pub mod settings;
pub mod ssm;
pub mod stack;
pub mod target;
pub mod tls;
pub mod tui;
