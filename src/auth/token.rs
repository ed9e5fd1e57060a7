//! RDS IAM auth tokens (TOKENS.md): a SigV4 query-string presign of
//! `GET https://<host>:<port>/?Action=connect&DBUser=<user>`, service `rds-db`,
//! 900 s, printed without the scheme. Signed with `aws-sigv4`; the string is
//! assembled here so it matches botocore (and so the aws CLI) byte for byte:
//! the sorted, SigV4-encoded query, then `X-Amz-Security-Token` when there is
//! one, then `X-Amz-Signature`. (TOKENS.md sorts the security token in with
//! the rest; botocore 1.44 appends it after `X-Amz-SignedHeaders`. The
//! signature is the same either way: the order of the printed query is not signed.)

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde::Serialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const SERVICE: &str = "rds-db";
pub const LIFETIME: Duration = Duration::from_secs(900);

/// SigV4's unreserved set: only `A-Za-z0-9-_.~` stay as they are.
const SIGV4: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn enc(s: &str) -> String {
    utf8_percent_encode(s, SIGV4).to_string()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub hostname: String,
    pub port: u16,
    pub region: String,
    pub username: String,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum TokenError {
    #[error("{0} is empty")]
    Empty(&'static str),
    #[error("hostname `{0}` is not a host name (no scheme, path or port: use --port)")]
    BadHost(String),
    #[error("cannot sign: {0}")]
    Sign(String),
    #[error("`{0}` is not an AWS region (e.g. us-east-1)")]
    BadRegion(String),
    #[error("not an RDS auth token: {0}")]
    Malformed(String),
}

/// An AWS region's shape: `us-east-1`, `us-gov-west-1`, `cn-north-1` (a two-letter area, words,
/// a number; at most 30 characters). What a token's credential scope can carry.
pub fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && region.len() <= 30
        && parts[0].len() == 2
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

impl TokenRequest {
    fn validate(&self) -> Result<(), TokenError> {
        if self.hostname.is_empty() {
            return Err(TokenError::Empty("--hostname"));
        }
        if self.username.is_empty() {
            return Err(TokenError::Empty("--username"));
        }
        if self.region.is_empty() {
            return Err(TokenError::Empty("--region"));
        }
        if !is_region(&self.region) {
            return Err(TokenError::BadRegion(self.region.chars().take(40).collect()));
        }
        if self.hostname.contains(['/', ':', '?', '#', '@', ' ']) {
            return Err(TokenError::BadHost(self.hostname.clone()));
        }
        Ok(())
    }
}

/// Signs a token at `now` with `creds` (a session token, if any, is part of the signed query).
pub fn generate(req: &TokenRequest, creds: &Credentials, now: SystemTime) -> Result<String, TokenError> {
    req.validate()?;
    let identity: Identity = creds.clone().into();
    let mut settings = SigningSettings::default();
    settings.expires_in = Some(LIFETIME);
    settings.signature_location = SignatureLocation::QueryParams;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&req.region)
        .name(SERVICE)
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| TokenError::Sign(e.to_string()))?;
    let host = format!("{}:{}", req.hostname, req.port);
    let url = format!("https://{host}/?Action=connect&DBUser={}", enc(&req.username));
    let signable = SignableRequest::new("GET", &url, std::iter::empty(), SignableBody::Bytes(&[]))
        .map_err(|e| TokenError::Sign(e.to_string()))?;
    let (instructions, signature) = sign(signable, &params.into()).map_err(|e| TokenError::Sign(e.to_string()))?.into_parts();
    let mut query: Vec<(String, String)> = vec![("Action".into(), "connect".into()), ("DBUser".into(), enc(&req.username))];
    let late = ["X-Amz-Signature", "X-Amz-Security-Token"];
    query.extend(instructions.params().iter().filter(|(k, _)| !late.contains(k)).map(|(k, v)| (enc(k), enc(v))));
    query.sort();
    if let Some(tok) = creds.session_token() {
        query.push(("X-Amz-Security-Token".into(), enc(tok)));
    }
    let q: Vec<String> = query.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    Ok(format!("{host}/?{}&X-Amz-Signature={signature}", q.join("&")))
}

/// What a token says, without any secret.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TokenInfo {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub region: String,
    pub service: String,
    /// The access key id's last 4 characters.
    pub key_id_last4: String,
    /// `X-Amz-Date`, RFC 3339.
    pub signed_at: String,
    pub expires_at: String,
    pub lifetime_seconds: u64,
    /// Seconds left at inspection time (negative: expired that long ago).
    pub remaining_seconds: i64,
    pub expired: bool,
    pub session_token: bool,
}

fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let dt = chrono::NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%SZ").ok()?;
    let secs = dt.and_utc().timestamp();
    (secs >= 0).then(|| UNIX_EPOCH + Duration::from_secs(secs as u64))
}

fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn inspect(token: &str, now: SystemTime) -> Result<TokenInfo, TokenError> {
    let bad = |m: &str| TokenError::Malformed(m.to_string());
    let token = token.trim();
    let token = token.strip_prefix("https://").unwrap_or(token);
    let (hostport, query) = token.split_once("/?").ok_or_else(|| bad("no `/?` after host:port"))?;
    let (host, port) = hostport.rsplit_once(':').ok_or_else(|| bad("no port after the host"))?;
    let port: u16 = port.parse().map_err(|_| bad("the port is not a number"))?;
    let mut get = std::collections::BTreeMap::new();
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').ok_or_else(|| bad("a query parameter has no `=`"))?;
        // RDS reads one value a parameter: a second one is not a token RDS would take.
        if get.insert(k.to_string(), percent_decode_str(v).decode_utf8_lossy().into_owned()).is_some() {
            return Err(bad(&format!("{k} appears twice")));
        }
    }
    let need = |k: &str| get.get(k).cloned().ok_or_else(|| bad(&format!("no {k}")));
    if need("Action")? != "connect" {
        return Err(bad("Action is not `connect`"));
    }
    let cred = need("X-Amz-Credential")?;
    let parts: Vec<&str> = cred.split('/').collect();
    if parts.len() != 5 || parts[4] != "aws4_request" {
        return Err(bad("X-Amz-Credential is not <key>/<date>/<region>/<service>/aws4_request"));
    }
    if parts[3] != "rds-db" {
        return Err(bad(&format!("signed for the service `{}`, not rds-db: this is not an RDS IAM auth token", parts[3])));
    }
    need("X-Amz-Signature")?;
    let date = need("X-Amz-Date")?;
    let signed = parse_amz_date(&date).ok_or_else(|| bad("X-Amz-Date is not yyyymmddThhmmssZ"))?;
    let lifetime: u64 = need("X-Amz-Expires")?.parse().map_err(|_| bad("X-Amz-Expires is not a number"))?;
    if lifetime == 0 || lifetime > 900 {
        return Err(bad(&format!("X-Amz-Expires is {lifetime} s: RDS takes tokens that live 1 to 900 s")));
    }
    let expires = signed + Duration::from_secs(lifetime);
    let remaining = match expires.duration_since(now) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    let key = parts[0];
    Ok(TokenInfo {
        host: host.to_string(),
        port,
        user: need("DBUser")?,
        region: parts[2].to_string(),
        service: parts[3].to_string(),
        key_id_last4: key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect(),
        signed_at: rfc3339(signed),
        expires_at: rfc3339(expires),
        lifetime_seconds: lifetime,
        remaining_seconds: remaining,
        expired: remaining <= 0,
        session_token: get.contains_key("X-Amz-Security-Token"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(epoch: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(epoch)
    }

    fn creds(akid: &str, secret: &str, session: Option<&str>) -> Credentials {
        Credentials::new(akid, secret, session.map(str::to_string), None, "test")
    }

    fn req(host: &str, user: &str) -> TokenRequest {
        TokenRequest { hostname: host.into(), port: 3306, region: "us-east-1".into(), username: user.into() }
    }

    fn sig(token: &str) -> &str {
        token.rsplit_once("X-Amz-Signature=").unwrap().1
    }

    // 2016-11-07T17:39:33Z
    const BOTO_TIME: u64 = 1478540373;

    #[test]
    fn aws_sdk_rust_vector() {
        let t = generate(&req("prod-instance.us-east-1.rds.amazonaws.com", "peccy"), &creds("akid", "secret", None), at(1724709600)).unwrap();
        assert_eq!(
            t,
            "prod-instance.us-east-1.rds.amazonaws.com:3306/?Action=connect&DBUser=peccy&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=akid%2F20240826%2Fus-east-1%2Frds-db%2Faws4_request&X-Amz-Date=20240826T220000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=dd0cba843009474347af724090233265628ace491ea17ce3eb3da098b983ad89"
        );
    }

    #[test]
    fn botocore_vector() {
        let t = generate(&req("prod-instance.us-east-1.rds.amazonaws.com", "someusername"), &creds("akid", "skid", None), at(BOTO_TIME)).unwrap();
        assert_eq!(sig(&t), "d1138cdbc0ca63eec012ec0fc6c2267e03642168f5884a7795320d4c18374c61");
    }

    #[test]
    fn java_sdk_vector() {
        let t = generate(&req("host.us-east-1.amazonaws.com", "mySQLUser"), &creds("access_key", "secret_key", None), at(BOTO_TIME)).unwrap();
        assert_eq!(sig(&t), "87ab58107ef49f1c311a412f98b7f976b0b5152ffb559f0d36c6c9a0c5e0e362");
    }

    #[test]
    fn session_token_vector() {
        let t = generate(
            &req("prod-instance.us-east-1.rds.amazonaws.com", "peccy"),
            &creds("akid", "secret", Some("AQoDYXdzEJr/+tok==")),
            at(1724709600),
        )
        .unwrap();
        assert!(t.contains("&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Security-Token=AQoDYXdzEJr%2F%2Btok%3D%3D&X-Amz-Signature="), "{t}");
        assert_eq!(sig(&t), "54d3eebf04452955d80b9e5b110d385334d7f9c1c8fcf29cb7bbd3606a8a0899");
    }

    #[test]
    fn user_names_are_escaped_and_bad_input_refused() {
        let t = generate(&req("h", "we ird+user"), &creds("a", "b", None), at(BOTO_TIME)).unwrap();
        assert!(t.contains("DBUser=we%20ird%2Buser&"), "{t}");
        assert_eq!(inspect(&t, at(BOTO_TIME)).unwrap().user, "we ird+user");
        assert!(generate(&req("", "u"), &creds("a", "b", None), at(0)).is_err());
        assert!(generate(&req("h:3306", "u"), &creds("a", "b", None), at(0)).is_err());
        let mut r = req("h", "u");
        r.region.clear();
        assert_eq!(generate(&r, &creds("a", "b", None), at(0)).unwrap_err(), TokenError::Empty("--region"));
    }

    #[test]
    fn inspect_reads_everything_but_secrets() {
        let t = generate(&req("db.example.com", "node_app"), &creds("AKIAEXAMPLE1234", "s", Some("tok")), at(BOTO_TIME)).unwrap();
        let i = inspect(&t, at(BOTO_TIME + 60)).unwrap();
        assert_eq!((i.host.as_str(), i.port, i.user.as_str(), i.region.as_str()), ("db.example.com", 3306, "node_app", "us-east-1"));
        assert_eq!(i.key_id_last4, "1234");
        assert_eq!(i.signed_at, "2016-11-07T17:39:33Z");
        assert_eq!(i.expires_at, "2016-11-07T17:54:33Z");
        assert_eq!(i.remaining_seconds, 840);
        assert!(i.session_token && !i.expired);
        let later = inspect(&t, at(BOTO_TIME + 1000)).unwrap();
        assert!(later.expired);
        assert_eq!(later.remaining_seconds, -100);
        assert!(inspect("nonsense", at(0)).is_err());
        assert!(inspect("h:1/?Action=connect", at(0)).is_err());
    }

    /// What RDS would not take is not called a token: another service's signature, a lifetime over
    /// 900 s, a parameter given twice (which DBUser would count?).
    #[test]
    fn a_region_that_is_not_one_is_refused_before_signing() {
        // Found by fuzz/fuzz_targets/token_inspect.rs: a `/` in the region made a token that its
        // own inspect could not read (the credential scope is `/`-separated).
        let creds = Credentials::new("AKIDEXAMPLE", "secret", None, None, "t");
        for region in ["/", "us/east-1", "us-east-1/x", "US-EAST-1", "local"] {
            let req = TokenRequest { hostname: "db.example".into(), port: 3306, region: region.into(), username: "u".into() };
            assert!(matches!(generate(&req, &creds, SystemTime::now()), Err(TokenError::BadRegion(_))), "{region}");
        }
        for region in ["us-east-1", "us-gov-west-1", "cn-northwest-1", "eu-central-2"] {
            let req = TokenRequest { hostname: "db.example".into(), port: 3306, region: region.into(), username: "u".into() };
            let t = generate(&req, &creds, SystemTime::now()).unwrap();
            assert_eq!(inspect(&t, SystemTime::now()).unwrap().region, region);
        }
    }

    #[test]
    fn inspect_refuses_what_rds_would_not_take() {
        let t = generate(&req("db.example.com", "node_app"), &creds("AKIAEXAMPLE1234", "s", None), at(BOTO_TIME)).unwrap();
        let err = |t: &str| inspect(t, at(BOTO_TIME)).unwrap_err().to_string();
        assert!(err(&t.replace("%2Frds-db%2F", "%2Fs3%2F")).contains("not rds-db"));
        assert!(err(&t.replace("X-Amz-Expires=900", "X-Amz-Expires=3600")).contains("1 to 900"));
        assert!(err(&t.replace("X-Amz-Expires=900", "X-Amz-Expires=0")).contains("1 to 900"));
        assert!(err(&format!("{t}&DBUser=root")).contains("DBUser appears twice"));
        assert!(inspect(&t, at(BOTO_TIME)).is_ok());
    }
}
