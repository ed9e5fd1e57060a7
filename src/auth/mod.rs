//! Credentials-derived authentication: RDS IAM auth tokens.

pub mod token;

pub use token::{TokenError, TokenInfo, TokenRequest, generate, inspect};
