"""The database: the RDS instance (IAM auth on, an RDS-managed master secret, log
exports) and the RDS Proxy in front of it (TLS required, IAM auth REQUIRED)."""

from __future__ import annotations

import json

from stack import DB_ID, DB_MASTER_USER, DB_NAME, DB_PORT, PROJECT, PROXY_NAME, SandboxError, tag_list


def instance(c, out: dict) -> None:
    rds = c.rds
    subnet_group = f"{PROJECT}-db-subnet-group"
    rds.create_db_subnet_group(
        DBSubnetGroupName=subnet_group,
        DBSubnetGroupDescription=f"{PROJECT} DB subnet group",
        SubnetIds=out["private_subnet_ids"],
        Tags=tag_list(subnet_group),
    )
    db = rds.create_db_instance(
        DBInstanceIdentifier=DB_ID,
        Engine="mysql",
        EngineVersion="8.4.7",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        StorageType="gp3",
        DBName=DB_NAME,
        MasterUsername=DB_MASTER_USER,
        ManageMasterUserPassword=True,
        EnableIAMDatabaseAuthentication=True,
        EnableCloudwatchLogsExports=["error", "general", "slowquery", "iam-db-auth-error"],
        PubliclyAccessible=False,
        VpcSecurityGroupIds=[out["security_groups"]["rds"]],
        DBSubnetGroupName=subnet_group,
        Port=DB_PORT,
        Tags=tag_list(DB_ID),
    )["DBInstance"]
    secret_arn = (db.get("MasterUserSecret") or {}).get("SecretArn")
    if not secret_arn:
        raise SandboxError("moto returned no MasterUserSecret for the DB instance")
    sec = json.loads(c.secretsmanager.get_secret_value(SecretId=secret_arn)["SecretString"])
    if not {"username", "password"} <= set(sec):
        raise SandboxError(f"master secret lacks username/password: keys {sorted(sec)}")
    secret_full_name = secret_arn.split(":")[6]
    out["rds_dbi"] = db.get("DbiResourceId")
    out["rds_arn"] = db["DBInstanceArn"]
    out["rds_address"] = (db.get("Endpoint") or {}).get("Address")
    out["rds_port"] = (db.get("Endpoint") or {}).get("Port", DB_PORT)
    out["rds_master_secret_arn"] = secret_arn
    out["rds_db_secret_name"] = secret_full_name
    out["secret_name"] = secret_full_name[:-7]  # Terraform: substr(name, 0, len - 7)
    # Log groups RDS creates for the exported logs (empty here).
    for lg in ("error", "general", "slowquery", "iam-db-auth-error"):
        c.logs.create_log_group(logGroupName=f"/aws/rds/instance/{DB_ID}/{lg}")


def proxy(c, out: dict) -> None:
    from botocore.exceptions import ClientError

    rds, notes = c.rds, out["notes"]
    auth = [
        {
            "Description": "End-to-end IAM auth without Secrets Manager",
            "AuthScheme": "SECRETS",
            "SecretArn": out["rds_master_secret_arn"],
            "IAMAuth": "REQUIRED",
            "ClientPasswordAuthType": "MYSQL_NATIVE_PASSWORD",
        }
    ]
    proxy_kwargs = dict(
        DBProxyName=PROXY_NAME,
        EngineFamily="MYSQL",
        Auth=auth,
        RoleArn=out["proxy_role_arn"],
        VpcSubnetIds=out["private_subnet_ids"],
        VpcSecurityGroupIds=[out["security_groups"]["proxy"]],
        RequireTLS=True,
        IdleClientTimeout=1800,
        DebugLogging=False,
        Tags=tag_list(PROXY_NAME),
    )
    try:
        p = rds.create_db_proxy(DefaultAuthScheme="IAM_AUTH", **proxy_kwargs)["DBProxy"]
        out["default_auth_scheme_sent"] = True
    except Exception as e:  # botocore without the parameter, or moto rejecting it
        notes.append(f"DefaultAuthScheme rejected ({type(e).__name__}); proxy created without it")
        p = rds.create_db_proxy(**proxy_kwargs)["DBProxy"]
        out["default_auth_scheme_sent"] = False
    if "DefaultAuthScheme" not in p:
        notes.append("moto does not model DefaultAuthScheme (absent from describe_db_proxies)")
    out["rds_proxy_arn"] = p["DBProxyArn"]
    out["rds_proxy_prx_id"] = p["DBProxyArn"].split(":")[6]
    out["rds_proxy_endpoint"] = p["Endpoint"]
    try:
        rds.modify_db_proxy_target_group(
            DBProxyName=PROXY_NAME,
            TargetGroupName="default",
            ConnectionPoolConfig={"ConnectionBorrowTimeout": 120, "MaxConnectionsPercent": 100, "MaxIdleConnectionsPercent": 50},
        )
    except ClientError as e:
        notes.append(f"modify_db_proxy_target_group failed: {e}")
    rds.register_db_proxy_targets(DBProxyName=PROXY_NAME, TargetGroupName="default", DBInstanceIdentifiers=[DB_ID])
