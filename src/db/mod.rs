//! The database side: statement splitting and classification, IAM connections, queries.

pub mod cancel;
pub mod classify;
pub mod connect;
pub mod guard;
pub mod output;
pub(crate) mod packet;
pub mod rows;
pub mod session;
pub mod split;
pub mod wire;
