//! Credentials-derived authentication: RDS IAM auth tokens, signed (pure, in
//! [`token`]) and signed from the credentials a context carries (here: the one
//! way the CLI, the TUI and database connections get a token).

pub mod token;

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use secrecy::SecretString;
use std::time::SystemTime;

pub use token::{TokenError, TokenInfo, TokenRequest, generate, inspect};

use crate::aws::{AwsContext, AwsSettings};

/// Why a token could not be had.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum SignError {
    /// No credentials (exit 255 in `rdsdeck token`, as the aws CLI).
    #[error("{0}")]
    Credentials(String),
    /// The request itself is wrong (exit 2).
    #[error(transparent)]
    Token(#[from] TokenError),
}

/// The credentials of `provider`, now.
pub async fn credentials(provider: &SharedCredentialsProvider) -> Result<Credentials, SignError> {
    provider.provide_credentials().await.map_err(|e| {
        SignError::Credentials(format!("no AWS credentials to sign a token: {}", aws_smithy_types::error::display::DisplayErrorContext(&e)))
    })
}

/// A token for `req`, signed at `now` with the provider's current credentials.
pub async fn sign(provider: &SharedCredentialsProvider, req: &TokenRequest, now: SystemTime) -> Result<SecretString, SignError> {
    let creds = credentials(provider).await?;
    Ok(SecretString::from(generate(req, &creds, now)?))
}

/// A token signed with the context's credentials.
pub async fn sign_with_context(ctx: &AwsContext, req: &TokenRequest, now: SystemTime) -> Result<SecretString, SignError> {
    let provider = ctx.sdk.credentials_provider().ok_or_else(|| SignError::Credentials("no AWS credentials found".into()))?;
    sign(&provider, req, now).await
}

/// Credentials and region for signing without building a whole context when it is not needed:
/// static keys in the environment (no profile named) are used directly, as the default chain would
/// use them first anyway; anything else goes through the full AWS config chain.
pub async fn credentials_for(aws: &AwsSettings) -> Result<(Credentials, String), SignError> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if aws.profile.is_none()
        && let (Some(id), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"))
        && let Some(region) = aws.region.clone().or_else(|| env("AWS_REGION")).or_else(|| env("AWS_DEFAULT_REGION"))
    {
        return Ok((Credentials::new(id, secret, env("AWS_SESSION_TOKEN"), None, "environment"), region));
    }
    let ctx = AwsContext::load(aws).await.map_err(|e| SignError::Credentials(e.to_string()))?;
    let provider = ctx.sdk.credentials_provider().ok_or_else(|| SignError::Credentials("no AWS credentials found".into()))?;
    Ok((credentials(&provider).await?, ctx.region))
}
