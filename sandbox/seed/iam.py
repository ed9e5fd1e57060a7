"""IAM: the EC2 host's role and instance profile, the proxy's role, and the inline
policies that need the proxy's id and the instance's DbiResourceId (as in Terraform)."""

from __future__ import annotations

import json

from stack import PROJECT, REGION, tag_list


def _trust(service: str, condition: dict | None = None) -> str:
    st = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if condition:
        st["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


def roles(c, out: dict) -> None:
    from botocore.exceptions import ClientError

    iam = c.iam
    acct = c.sts.get_caller_identity()["Account"]
    out["account_id"] = acct
    ec2_role = iam.create_role(
        RoleName=f"{PROJECT}-ec2-role", AssumeRolePolicyDocument=_trust("ec2.amazonaws.com"), Tags=tag_list(f"{PROJECT}-ec2-instance-role")
    )["Role"]
    for arn in ("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"):
        try:
            iam.attach_role_policy(RoleName=ec2_role["RoleName"], PolicyArn=arn)
        except ClientError as e:  # moto without managed policies loaded
            out["notes"].append(f"attach {arn.rsplit('/', 1)[1]}: {e.response['Error'].get('Code')}")
    proxy_role = iam.create_role(
        RoleName=f"{PROJECT}-proxy-role",
        AssumeRolePolicyDocument=_trust("rds.amazonaws.com", {"StringEquals": {"aws:SourceAccount": acct}}),
        Tags=tag_list(f"{PROJECT}-rds-proxy-role"),
    )["Role"]
    ip_name = f"{PROJECT}-instance-profile"
    iam.create_instance_profile(InstanceProfileName=ip_name, Tags=tag_list(ip_name))
    iam.add_role_to_instance_profile(InstanceProfileName=ip_name, RoleName=ec2_role["RoleName"])
    out["ec2_role_name"], out["ec2_role_arn"] = ec2_role["RoleName"], ec2_role["Arn"]
    out["proxy_role_name"], out["proxy_role_arn"] = proxy_role["RoleName"], proxy_role["Arn"]
    out["instance_profile_name"] = ip_name


def _policy(statements: list[dict]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def inline_policies(c, out: dict) -> None:
    region_acct = f"{REGION}:{out['account_id']}"
    c.iam.put_role_policy(
        RoleName=out["ec2_role_name"],
        PolicyName=f"{PROJECT}-ec2-instance-policy",
        PolicyDocument=_policy([
            {
                "Effect": "Allow",
                "Action": ["rds-db:connect", "ssm:GetParameters", "ssm:GetParameter"],
                "Resource": [
                    f"arn:aws:rds-db:{region_acct}:dbuser:{out['rds_proxy_prx_id']}/node_app",
                    f"arn:aws:rds-db:{region_acct}:dbuser:{out['rds_proxy_prx_id']}/node_user",
                    f"arn:aws:ssm:{region_acct}:parameter/dev/database/*",
                ],
            }
        ]),
    )
    c.iam.put_role_policy(
        RoleName=out["proxy_role_name"],
        PolicyName=f"{PROJECT}-rds-proxy-policy",
        PolicyDocument=_policy([
            {
                "Effect": "Allow",
                "Action": ["rds-db:connect"],
                "Resource": [
                    f"arn:aws:rds-db:{region_acct}:dbuser:{out['rds_dbi']}/node_app",
                    f"arn:aws:rds-db:{region_acct}:dbuser:{out['rds_dbi']}/node_user",
                ],
            }
        ]),
    )


OPERATOR = "moto"  # moto's STS names any caller whose keys it did not issue arn:…:user/moto
OPERATOR_POLICY = "rdsdeck-operator"


def operator_policy(out: dict) -> str:
    """The operator's permissions: log in through the proxy and directly as any database user, and run
    IAM's policy simulator on the account's users and roles (the doctor's `iam` check)."""
    region_acct = f"{REGION}:{out['account_id']}"
    return _policy([
        {
            "Sid": "DatabaseLogins",
            "Effect": "Allow",
            "Action": "rds-db:connect",
            "Resource": [
                f"arn:aws:rds-db:{region_acct}:dbuser:{out['rds_proxy_prx_id']}/*",
                f"arn:aws:rds-db:{region_acct}:dbuser:{out['rds_dbi']}/*",
            ],
        },
        {
            "Sid": "PolicySimulator",
            "Effect": "Allow",
            "Action": "iam:SimulatePrincipalPolicy",
            "Resource": [f"arn:aws:iam::{out['account_id']}:user/*", f"arn:aws:iam::{out['account_id']}:role/*"],
        },
    ])


def operator(c, out: dict) -> None:
    """The IAM user the sandbox's static keys act as, with its inline policy (`break caller-no-connect`
    deletes it)."""
    c.iam.create_user(UserName=OPERATOR, Tags=tag_list(f"{PROJECT}-operator"))
    c.iam.put_user_policy(UserName=OPERATOR, PolicyName=OPERATOR_POLICY, PolicyDocument=operator_policy(out))
    out["operator_arn"] = f"arn:aws:iam::{out['account_id']}:user/{OPERATOR}"
