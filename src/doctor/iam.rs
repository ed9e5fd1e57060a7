//! Does IAM allow the logins? The caller and the app host's role must `rds-db:connect` as the database
//! user on the resource the login goes to (`prx-…` through the proxy); the proxy's role must read its
//! secret (scheme SECRETS) or `rds-db:connect` on the instance (`db-…`, end-to-end IAM). Asked of
//! IAM's policy simulator (`iam:SimulatePrincipalPolicy`), which evaluates the principal's identity
//! policies as IAM would; when that call is denied, the check says so and gives the statement that
//! lets the caller ask.

use serde::Serialize;

use crate::aws::AwsContext;

/// One principal's answer for one action on one resource.
#[derive(Debug, Clone, Serialize)]
pub struct Permission {
    /// "you", "the app host's role" or "the proxy's role".
    pub who: &'static str,
    /// The IAM principal asked about (a user or role ARN).
    pub principal: String,
    /// `rds-db:connect` or `secretsmanager:GetSecretValue`.
    pub action: &'static str,
    /// `arn:aws:rds-db:REGION:ACCOUNT:dbuser:prx-ID/USER` (or `db-RESOURCEID/USER`), or the secret's ARN.
    pub resource: String,
    /// The simulator's decision (`allowed`, `implicitDeny`, `explicitDeny`) and the policies that
    /// matched, or why it could not be asked.
    pub answer: Result<(String, Vec<String>), String>,
}

/// The IAM principal behind a caller ARN from STS: `assumed-role/NAME/SESSION` is `role/NAME`
/// (a role's path is not in the STS ARN: the simulator then needs it from GetRole); `None` for
/// the account's root user, which IAM policies do not limit.
pub fn principal(sts_arn: &str) -> Option<String> {
    let parts: Vec<&str> = sts_arn.splitn(6, ':').collect();
    let [_, partition, _service, _, account, res] = parts.as_slice() else { return Some(sts_arn.to_string()) };
    if *res == "root" {
        return None;
    }
    if let Some(rest) = res.strip_prefix("assumed-role/") {
        let role = rest.split('/').next().unwrap_or(rest);
        return Some(format!("arn:{partition}:iam::{account}:role/{role}"));
    }
    // moto names an unknown caller arn:aws:sts::ACCOUNT:user/moto; IAM's users are arn:aws:iam::….
    Some(format!("arn:{partition}:iam::{account}:{res}"))
}

/// The `rds-db:connect` resource for a user through the proxy (`prx-…`, the proxy ARN's last part)
/// or on the instance (`db-…`, its DbiResourceId).
pub fn dbuser_arn(region: &str, account: &str, resource_id: &str, user: &str) -> String {
    format!("arn:aws:rds-db:{region}:{account}:dbuser:{resource_id}/{user}")
}

/// The statement a principal needs, as a policy document.
pub fn allow_policy(action: &str, resource: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]
    })
    .to_string()
}

/// The command that gives `principal` the statement, as an inline policy named `policy_name`.
pub fn put_policy_command(principal: &str, policy_name: &str, policy: &str) -> String {
    let name = principal.rsplit('/').next().unwrap_or(principal);
    let (verb, flag) = if principal.contains(":role/") { ("put-role-policy", "--role-name") } else { ("put-user-policy", "--user-name") };
    format!("aws iam {verb} {flag} {name} --policy-name {policy_name} --policy-document '{policy}'")
}

/// The inline policy name a fix uses for an action.
pub fn policy_name(action: &str) -> &'static str {
    if action == "rds-db:connect" { "rdsdeck-db-connect" } else { "rdsdeck-proxy-secret" }
}

/// The role of an instance profile (by name), for the app host.
pub async fn profile_role(ctx: &AwsContext, profile: &str) -> Result<String, String> {
    let out = aws_sdk_iam::Client::new(&ctx.sdk)
        .get_instance_profile()
        .instance_profile_name(profile)
        .send()
        .await
        .map_err(|e| crate::aws::explain(&e))?;
    out.instance_profile()
        .and_then(|p| p.roles().first())
        .map(|r| r.arn().to_string())
        .ok_or_else(|| format!("the instance profile {profile} has no role"))
}

/// The role's full ARN (with its path: IAM Identity Center roles live under
/// `/aws-reserved/sso.amazonaws.com/…`), which the simulator needs; the STS ARN has no path. When
/// GetRole is not allowed, the ARN without a path is tried.
pub async fn with_path(ctx: &AwsContext, principal: String) -> String {
    let Some((head, name)) = principal.split_once(":role/") else { return principal };
    if name.contains('/') {
        return principal;
    }
    match aws_sdk_iam::Client::new(&ctx.sdk).get_role().role_name(name).send().await {
        Ok(r) => r.role().map(|r| r.arn().to_string()).unwrap_or_else(|| format!("{head}:role/{name}")),
        Err(_) => principal,
    }
}

/// Asks the simulator about one principal.
pub async fn simulate(ctx: &AwsContext, principal: &str, action: &str, resource: &str) -> Result<(String, Vec<String>), String> {
    let out = aws_sdk_iam::Client::new(&ctx.sdk)
        .simulate_principal_policy()
        .policy_source_arn(principal)
        .action_names(action)
        .resource_arns(resource)
        .send()
        .await
        .map_err(|e| crate::aws::explain(&e))?;
    let r = out.evaluation_results().first().ok_or("the simulator returned no result")?;
    let matched = r.matched_statements().iter().filter_map(|s| s.source_policy_id().map(str::to_string)).collect();
    Ok((r.eval_decision().as_str().to_string(), matched))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sts_arns_become_the_principals_iam_knows() {
        assert_eq!(principal("arn:aws:sts::1:assumed-role/Ops/alice@x").as_deref(), Some("arn:aws:iam::1:role/Ops"));
        assert_eq!(principal("arn:aws:iam::1:user/bob").as_deref(), Some("arn:aws:iam::1:user/bob"));
        assert_eq!(principal("arn:aws:sts::1:user/moto").as_deref(), Some("arn:aws:iam::1:user/moto"));
        assert_eq!(principal("arn:aws-us-gov:sts::1:assumed-role/R/s").as_deref(), Some("arn:aws-us-gov:iam::1:role/R"));
        assert_eq!(principal("arn:aws:iam::1:root"), None);
    }

    #[test]
    fn the_fix_names_the_principal_kind() {
        let p = allow_policy("rds-db:connect", "arn:aws:rds-db:us-east-1:1:dbuser:prx-a/u");
        assert!(p.contains(r#""Action":"rds-db:connect""#), "{p}");
        assert!(put_policy_command("arn:aws:iam::1:role/app", "x", &p).starts_with("aws iam put-role-policy --role-name app --policy-name x "));
        assert!(put_policy_command("arn:aws:iam::1:user/path/bob", "x", &p).starts_with("aws iam put-user-policy --user-name bob "));
    }
}
