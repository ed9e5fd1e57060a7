//! The AWS context: one `SdkConfig` built from flags, config and the usual AWS
//! environment (profiles, SSO, assume-role, `AWS_ENDPOINT_URL[_<SERVICE>]`),
//! and the translation of SDK errors into advice.

use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};
use aws_credential_types::provider::{ProvideCredentials, error::CredentialsError};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::time::Duration;

/// Who we are, from STS.
#[derive(Debug, Clone, serde::Serialize, Default, PartialEq)]
pub struct Identity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

/// What the user asked for; `None` means "whatever the AWS environment says".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AwsSettings {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub timeout: Option<Duration>,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum AwsError {
    #[error("no AWS credentials found{0}: run `aws configure` or `aws sso login`, set AWS_PROFILE, or pass --profile")]
    NoCredentials(String),
    #[error("AWS profile `{0}` is not defined in ~/.aws/config or ~/.aws/credentials: check the name (`aws configure list-profiles`) or pass another --profile")]
    UnknownProfile(String),
    #[error("credentials could not be loaded: {0}")]
    Credentials(String),
    #[error("no AWS region: pass --region, set AWS_REGION, or add `region` to the profile")]
    NoRegion,
    #[error("{0}")]
    Call(String),
}

/// A loaded context: the SDK config and what it resolved to.
#[derive(Clone, Debug)]
pub struct AwsContext {
    pub sdk: SdkConfig,
    pub profile: String,
    pub region: String,
    /// The endpoint override in effect, if any (flag or `AWS_ENDPOINT_URL`).
    pub endpoint: Option<String>,
    pub timeout: Duration,
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl AwsContext {
    /// Builds the SDK config and checks that credentials can be had.
    pub async fn load(s: &AwsSettings) -> Result<AwsContext, AwsError> {
        let timeout = s.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3).min(timeout))
                    .operation_attempt_timeout(timeout)
                    .operation_timeout(timeout)
                    .build(),
            )
            // A local endpoint (the sandbox) answers at once or not at all: no retries.
            .retry_config(RetryConfig::standard().with_max_attempts(if is_local(s.endpoint_url.as_deref()) { 1 } else { 3 }));
        if let Some(p) = &s.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &s.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(u) = &s.endpoint_url {
            loader = loader.endpoint_url(u);
        }
        let named = s.profile.clone().or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()));
        // A named profile must exist, even when environment credentials would win.
        if let Some(p) = &named
            && p != "default"
            && !profile_names().iter().any(|n| n == p)
        {
            return Err(AwsError::UnknownProfile(p.clone()));
        }
        let sdk = loader.load().await;
        let profile = named.unwrap_or_else(|| "default".to_string());
        let region = sdk.region().map(|r| r.to_string()).ok_or(AwsError::NoRegion)?;
        let endpoint = s
            .endpoint_url
            .clone()
            .or_else(|| sdk.endpoint_url().map(str::to_string))
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok().filter(|u| !u.is_empty()));
        let provider = sdk.credentials_provider().ok_or_else(|| AwsError::NoCredentials(String::new()))?;
        let creds = tokio::time::timeout(timeout, provider.provide_credentials()).await;
        match creds {
            Err(_) => return Err(AwsError::Credentials(format!("timed out after {}s", timeout.as_secs()))),
            Ok(Err(e)) => return Err(credentials_error(&e, &profile, s.profile.is_some())),
            Ok(Ok(_)) => {}
        }
        Ok(AwsContext { sdk, profile, region, endpoint, timeout })
    }

    pub async fn identity(&self) -> Result<Identity, String> {
        self.identity_and_clock().await.0
    }

    /// Who am I, and how far the local clock is ahead of AWS's (seconds, from the answer's `Date`
    /// header; `None` when the answer had none). SigV4 refuses requests about 5 minutes off, and a
    /// token's 15 minutes start at its `X-Amz-Date`.
    pub async fn identity_and_clock(&self) -> (Result<Identity, String>, Option<i64>) {
        let date = DateHeader::default();
        let sent = aws_sdk_sts::Client::new(&self.sdk).get_caller_identity().customize().interceptor(date.clone()).send().await;
        let skew = date.0.lock().ok().and_then(|d| d.clone()).and_then(|d| chrono::DateTime::parse_from_rfc2822(&d).ok()).map(|server| {
            chrono::Utc::now().timestamp() - server.timestamp()
        });
        let identity = sent.map_err(|e| explain(&e)).map(|out| Identity {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
            user_id: out.user_id().unwrap_or_default().to_string(),
        });
        (identity, skew)
    }
}

/// Keeps the `Date` header of an answer (an interceptor on one call).
#[derive(Debug, Clone, Default)]
struct DateHeader(std::sync::Arc<std::sync::Mutex<Option<String>>>);

impl aws_smithy_runtime_api::client::interceptors::Intercept for DateHeader {
    fn name(&self) -> &'static str {
        "rdsdeck-date-header"
    }

    fn read_before_deserialization(
        &self,
        ctx: &aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        _cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        if let (Some(d), Ok(mut slot)) = (ctx.response().headers().get("date"), self.0.lock()) {
            *slot = Some(d.to_string());
        }
        Ok(())
    }
}

fn credentials_error(e: &CredentialsError, profile: &str, explicit: bool) -> AwsError {
    let text = DisplayErrorContext(e).to_string();
    if text.contains("was not defined") || text.contains("could not be found") && text.contains("profile") {
        return AwsError::UnknownProfile(profile.to_string());
    }
    // The default chain ends at the instance metadata service; off EC2 its
    // failure only means "no credentials anywhere".
    if text.contains("IMDS") || text.contains("169.254.169.254") {
        return AwsError::NoCredentials(if explicit { format!(" for profile `{profile}`") } else { String::new() });
    }
    match e {
        CredentialsError::CredentialsNotLoaded(_) => AwsError::NoCredentials(if explicit {
            format!(" for profile `{profile}`")
        } else {
            String::new()
        }),
        _ => AwsError::Credentials(first_line(&text)),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).chars().take(400).collect()
}

fn is_local(url: Option<&str>) -> bool {
    let url = url.map(str::to_string).or_else(|| std::env::var("AWS_ENDPOINT_URL").ok()).unwrap_or_default();
    is_loopback_url(&url)
}

/// An endpoint URL on this machine (the sandbox, a local stand-in): never AWS itself.
pub fn is_loopback_url(url: &str) -> bool {
    url.contains("://127.") || url.contains("://localhost") || url.contains("://[::1]")
}

/// Turns an SDK error into one line that says what happened and what to do.
pub fn explain<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e {
        SdkError::TimeoutError(_) => "timed out: the endpoint did not answer in time (check the network or --endpoint-url)".into(),
        SdkError::DispatchFailure(d) => {
            let text = DisplayErrorContext(e).to_string();
            if d.is_timeout() {
                "timed out connecting: the endpoint did not answer (check the network or --endpoint-url)".into()
            } else if text.contains("Connection refused") || text.contains("connection refused") {
                "cannot reach the AWS endpoint: connection refused (is the endpoint/sandbox running? check --endpoint-url / AWS_ENDPOINT_URL)".into()
            } else if text.contains("dns error") || text.contains("failed to lookup") {
                "cannot resolve the AWS endpoint's host name (check the region and the network)".into()
            } else {
                format!("cannot reach the AWS endpoint: {}", first_line(&text))
            }
        }
        SdkError::ServiceError(ctx) => {
            let err = ctx.err();
            let code = err.code().unwrap_or("");
            let msg = err.message().unwrap_or("");
            let status = format!("{:?}", ctx.raw());
            if code.is_empty() && msg.is_empty() {
                if status.contains("500") || status.contains("501") {
                    return "the endpoint answered HTTP 500: this API is not implemented there (moto lacks it) or failed".into();
                }
                return format!("the API failed: {}", first_line(&DisplayErrorContext(e).to_string()));
            }
            let advice = match code {
                "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "AuthorizationError" => {
                    " — the identity lacks this permission (see README: required IAM permissions)"
                }
                "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => " — credentials expired: refresh them (e.g. `aws sso login`)",
                "InvalidClientTokenId" | "UnrecognizedClientException" | "SignatureDoesNotMatch" => {
                    " — the credentials are not valid for this account/endpoint"
                }
                _ => "",
            };
            format!("{code}: {msg}{advice}")
        }
        SdkError::ResponseError(r) if format!("{:?}", r.raw()).contains("500") => {
            "the endpoint answered HTTP 500: this API is not implemented there (moto lacks it) or failed".into()
        }
        SdkError::ResponseError(_) => {
            format!("the endpoint's answer could not be read (not an AWS API?): {}", first_line(&DisplayErrorContext(e).to_string()))
        }
        _ => first_line(&DisplayErrorContext(e).to_string()),
    }
}

/// Profile names from the shared config and credentials files, for completion.
pub fn profile_names() -> Vec<String> {
    let home = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf());
    let config = std::env::var_os("AWS_CONFIG_FILE")
        .map(Into::into)
        .or_else(|| home.as_ref().map(|h| h.join(".aws/config")));
    let creds = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
        .map(Into::into)
        .or_else(|| home.as_ref().map(|h| h.join(".aws/credentials")));
    let mut names: Vec<String> = Vec::new();
    for (path, is_config) in [(config, true), (creds, false)] {
        let Some(text) = path.and_then(|p: std::path::PathBuf| std::fs::read_to_string(p).ok()) else { continue };
        for line in text.lines() {
            let l = line.trim();
            if let Some(h) = l.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                let h = h.trim();
                let name = if is_config {
                    if h == "default" { Some(h) } else { h.strip_prefix("profile ").map(str::trim) }
                } else {
                    Some(h)
                };
                if let Some(n) = name.filter(|n| !n.is_empty())
                    && !names.iter().any(|x| x == n)
                {
                    names.push(n.to_string());
                }
            }
        }
    }
    names.sort();
    names
}

/// Commercial regions, for completion of `:region`.
pub const REGIONS: &[&str] = &[
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1", "eu-west-1", "eu-west-2",
    "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "ap-south-1",
    "ap-south-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
    "ap-southeast-3", "ap-southeast-4", "ap-east-1", "me-south-1", "me-central-1", "af-south-1", "il-central-1",
];
