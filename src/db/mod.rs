//! The database side: statement splitting and classification, IAM connections, queries.

pub mod classify;
pub mod connect;
pub mod exec;
pub mod output;
pub mod pool;
pub mod rows;
pub mod session;
pub mod split;
pub mod wire;
