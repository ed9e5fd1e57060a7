"""The app's configuration: the SSM parameters under /dev/database/ that point
it at the proxy, and one parameter and one secret that are not the stack's
(discovery must leave them out)."""

from __future__ import annotations

import json

from stack import DB_IAM_USER, DB_NAME, DB_PORT, REGION, UNRELATED_PARAM, UNRELATED_SECRET, tag_list


def parameters(c, out: dict) -> None:
    params = [
        ("/dev/database/dbname", DB_NAME, "parameter for dev database name"),
        ("/dev/database/endpoint", out["rds_proxy_endpoint"], "parameter for dev database endpoint"),
        ("/dev/database/username", DB_IAM_USER, "DB user with AWSAuthentication Plugin"),
        ("/dev/database/port", str(DB_PORT), "parameter for dev database port"),
        ("/dev/database/region", REGION, "parameter for dev database region"),
    ]
    for name, value, desc in params:
        c.ssm.put_parameter(Name=name, Value=value, Type="String", Description=desc, Tags=tag_list(None))
    # Not part of the stack (no stack tags): discovery must ignore it.
    c.ssm.put_parameter(Name=UNRELATED_PARAM, Value="on", Type="String", Description="unrelated")
    c.secretsmanager.create_secret(
        Name=UNRELATED_SECRET,
        SecretString=json.dumps({"token": "not-part-of-the-stack"}),
        Description="unrelated secret, not part of the rds-iam-auth stack",
    )
