"""Break the running sandbox on purpose, one link at a time, and mend it (the doctor's scenarios).

    sandbox.py break SCENARIO --env-file F      # F: the env file of a running `sandbox.py up`
    sandbox.py fix SCENARIO --env-file F
    sandbox.py break --list

Each scenario changes the real thing the way an operator or a bad deploy would: a security-group
rule through EC2's API, a flag through RDS's, a parameter, the database user through SQL, the proxy's
secret, the operator's IAM policy, the SSM agent (the stand-in's fault). The doctor must name it
from what AWS's APIs and the database show, not from this file. What a fix needs to restore (a
revoked rule, the old secret) is kept in `F.broken.json` (mode 0600) until fixed.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import urllib.request

from seed import Clients
from seed.iam import OPERATOR, OPERATOR_POLICY, operator_policy
from stack import DB_ID, DB_NAME, PROXY_NAME, SandboxError

APP_PRIVILEGES = "SELECT, CREATE, INSERT, UPDATE, DELETE"


class Ctx:
    def __init__(self, env_file: str):
        self.env_file = os.path.abspath(env_file)
        try:
            self.env = dict(line.rstrip("\n").split("=", 1) for line in open(self.env_file, encoding="utf-8") if "=" in line)
        except OSError as e:
            raise SandboxError(f"{env_file}: {e.strerror}: is `sandbox.py up --env-file {env_file}` running?") from None
        self.facts = json.load(open(self.env["RDSDECK_SANDBOX_FACTS"], encoding="utf-8"))
        self.c = Clients(self.env["RDSDECK_SANDBOX_ENDPOINT"])
        # RDS through the stand-in: it keeps what ModifyDBProxy changes (moto lacks the call).
        self.rds = self.c.session.client("rds", endpoint_url=self.env["AWS_ENDPOINT_URL_RDS"], config=self.c.config)
        self.state_path = self.env_file + ".broken.json"
        try:
            self.state = json.load(open(self.state_path, encoding="utf-8"))
        except (OSError, ValueError):
            self.state = {}

    def save(self) -> None:
        fd = os.open(self.state_path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(self.state, fh, indent=2)
        os.replace(self.state_path + ".tmp", self.state_path)

    # -- the pieces

    def param(self, name: str) -> str:
        return self.c.ssm.get_parameter(Name=f"/dev/database/{name}")["Parameter"]["Value"]

    def put_param(self, name: str, value: str) -> None:
        self.c.ssm.put_parameter(Name=f"/dev/database/{name}", Value=value, Type="String", Overwrite=True)

    def sql(self, text: str) -> None:
        db = self.facts.get("database")
        if not db:
            raise SandboxError("this sandbox runs without the database (--no-db): no user to break")
        client = "mariadb" if subprocess.run(["sh", "-c", "command -v mariadb"], capture_output=True).returncode == 0 else "mysql"
        cp = subprocess.run([client, "--no-defaults", f"--socket={db['main']['socket']}", "-uroot", "--batch"],
                            input=text.encode(), capture_output=True, timeout=30)
        if cp.returncode != 0:
            raise SandboxError(f"SQL failed: {cp.stderr.decode(errors='replace').strip()}")

    def faults(self, **changes) -> None:
        url = self.env["RDSDECK_SANDBOX_SSM_ENDPOINT"] + "/sandbox/faults"
        with urllib.request.urlopen(url, timeout=10) as r:
            now = json.loads(r.read())
        now.update(changes)
        req = urllib.request.Request(url, data=json.dumps(now).encode(), headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()

    def rule(self, group: str, source: str) -> dict:
        """The ingress permission of `group` on 3306 that names `source` (as stored, description included)."""
        sg = self.c.ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]
        for p in sg.get("IpPermissions", []):
            pairs = [x for x in p.get("UserIdGroupPairs", []) if x.get("GroupId") == source]
            if pairs and p.get("FromPort") == 3306:
                return {"IpProtocol": p["IpProtocol"], "FromPort": 3306, "ToPort": 3306,
                        "UserIdGroupPairs": [{k: v for k, v in x.items() if k in ("GroupId", "Description")} for x in pairs]}
        raise SandboxError(f"{group} has no rule on 3306 from {source}: already broken?")

    def app_user(self) -> str:
        return self.param("username")

    def proxy(self) -> dict:
        return self.rds.describe_db_proxies(DBProxyName=PROXY_NAME)["DBProxies"][0]


def _revoke(ctx: Ctx, key: str, group: str, source: str) -> None:
    perm = ctx.rule(group, source)
    ctx.c.ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=[perm])
    ctx.state[key] = perm


def _authorize(ctx: Ctx, key: str, group: str, source: str) -> None:
    perm = ctx.state.pop(key, None) or {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "UserIdGroupPairs": [{"GroupId": source}]}
    try:
        ctx.rule(group, source)
        return  # already there
    except SandboxError:
        pass
    ctx.c.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[perm])


def _sg(ctx: Ctx, name: str) -> str:
    return ctx.facts["security_groups"][name]


def _auth_block(ctx: Ctx, iam_auth: str) -> list[dict]:
    out = []
    for a in ctx.proxy().get("Auth", []):
        item = {k: a[k] for k in ("AuthScheme", "SecretArn", "ClientPasswordAuthType", "Description", "UserName") if a.get(k)}
        item["IAMAuth"] = iam_auth
        out.append(item)
    return out


def _secret_arn(ctx: Ctx) -> str:
    return next(a["SecretArn"] for a in ctx.proxy().get("Auth", []) if a.get("SecretArn"))


def _break_secret(ctx: Ctx) -> None:
    arn = _secret_arn(ctx)
    old = ctx.c.secretsmanager.get_secret_value(SecretId=arn)["SecretString"]
    ctx.state.setdefault("secret", old)  # broken twice: the first, good one is what a fix restores
    doc = json.loads(old)
    doc["password"] = secrets.token_urlsafe(18)  # no longer the database's
    ctx.c.secretsmanager.put_secret_value(SecretId=arn, SecretString=json.dumps(doc))


def _fix_secret(ctx: Ctx) -> None:
    if "secret" in ctx.state:
        ctx.c.secretsmanager.put_secret_value(SecretId=_secret_arn(ctx), SecretString=ctx.state.pop("secret"))


def _route_out(ctx: Ctx) -> dict | None:
    rt = ctx.facts["route_table_ids"]["private"]
    table = ctx.c.ec2.describe_route_tables(RouteTableIds=[rt])["RouteTables"][0]
    return next((r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"), None)


def _break_egress(ctx: Ctx) -> None:
    rt = ctx.facts["route_table_ids"]["private"]
    if _route_out(ctx) is not None:
        ctx.c.ec2.delete_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0")


def _fix_egress(ctx: Ctx) -> None:
    if _route_out(ctx) is None:
        ctx.c.ec2.create_route(RouteTableId=ctx.facts["route_table_ids"]["private"], DestinationCidrBlock="0.0.0.0/0",
                               NatGatewayId=ctx.facts["nat_gateway_id"])


PROXY_ROLE_POLICY = "rds-iam-auth-rds-proxy-policy"


def _break_proxy_role(ctx: Ctx) -> None:
    role = ctx.facts["proxy_role_name"]
    doc = ctx.c.iam.get_role_policy(RoleName=role, PolicyName=PROXY_ROLE_POLICY)["PolicyDocument"]
    ctx.state["proxy-role-policy"] = doc if isinstance(doc, str) else json.dumps(doc)
    ctx.c.iam.delete_role_policy(RoleName=role, PolicyName=PROXY_ROLE_POLICY)


def _fix_proxy_role(ctx: Ctx) -> None:
    doc = ctx.state.pop("proxy-role-policy", None)
    if doc:
        ctx.c.iam.put_role_policy(RoleName=ctx.facts["proxy_role_name"], PolicyName=PROXY_ROLE_POLICY, PolicyDocument=doc)


def _policy_without(ctx: Ctx, sid: str) -> None:
    doc = json.loads(operator_policy(ctx.facts))
    doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") != sid]
    ctx.c.iam.put_user_policy(UserName=OPERATOR, PolicyName=OPERATOR_POLICY, PolicyDocument=json.dumps(doc))


def _policy_whole(ctx: Ctx) -> None:
    ctx.c.iam.put_user_policy(UserName=OPERATOR, PolicyName=OPERATOR_POLICY, PolicyDocument=operator_policy(ctx.facts))


def _user(ctx: Ctx) -> str:
    u = ctx.app_user()
    if not u.replace("_", "").isalnum():
        raise SandboxError(f"unexpected user name {u!r}")
    return f"'{u}'@'%'"


# name: (what breaks, break, fix)
SCENARIOS = {
    "proxy-sg": ("the proxy's security group no longer admits the app host on 3306",
                 lambda x: _revoke(x, "proxy-sg", _sg(x, "proxy"), _sg(x, "ec2")),
                 lambda x: _authorize(x, "proxy-sg", _sg(x, "proxy"), _sg(x, "ec2"))),
    "db-sg": ("the database's security group no longer admits the proxy on 3306",
              lambda x: _revoke(x, "db-sg", _sg(x, "rds"), _sg(x, "proxy")),
              lambda x: _authorize(x, "db-sg", _sg(x, "rds"), _sg(x, "proxy"))),
    "instance-iam-off": ("IAM database authentication off on the instance",
                         lambda x: x.c.rds.modify_db_instance(DBInstanceIdentifier=DB_ID, EnableIAMDatabaseAuthentication=False, ApplyImmediately=True),
                         lambda x: x.c.rds.modify_db_instance(DBInstanceIdentifier=DB_ID, EnableIAMDatabaseAuthentication=True, ApplyImmediately=True)),
    "proxy-iam-disabled": ("the proxy's auth block says IAMAuth DISABLED",
                           lambda x: x.rds.modify_db_proxy(DBProxyName=PROXY_NAME, Auth=_auth_block(x, "DISABLED")),
                           lambda x: x.rds.modify_db_proxy(DBProxyName=PROXY_NAME, Auth=_auth_block(x, "REQUIRED"))),
    "proxy-tls-off": ("the proxy no longer requires TLS",
                      lambda x: x.rds.modify_db_proxy(DBProxyName=PROXY_NAME, RequireTLS=False),
                      lambda x: x.rds.modify_db_proxy(DBProxyName=PROXY_NAME, RequireTLS=True)),
    "endpoint-instance": ("the app's endpoint parameter names the instance, not the proxy",
                          lambda x: x.put_param("endpoint", x.facts["rds_address"]),
                          lambda x: x.put_param("endpoint", x.facts["rds_proxy_endpoint"])),
    "port-param": ("the app's port parameter says 3307",
                   lambda x: x.put_param("port", "3307"),
                   lambda x: x.put_param("port", "3306")),
    "user-no-plugin": ("the app's database user logs in with a password, not AWSAuthenticationPlugin",
                       lambda x: x.sql(f"ALTER USER {_user(x)} IDENTIFIED BY '{secrets.token_hex(16)}';"),
                       lambda x: x.sql(f"ALTER USER {_user(x)} IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS';")),
    "user-no-ssl": ("the app's database user without REQUIRE SSL",
                    lambda x: x.sql(f"ALTER USER {_user(x)} REQUIRE NONE;"),
                    lambda x: x.sql(f"ALTER USER {_user(x)} REQUIRE SSL;")),
    "user-no-grants": ("the app's database user without grants on the app's database",
                       lambda x: x.sql(f"REVOKE ALL PRIVILEGES ON `{DB_NAME}`.* FROM {_user(x)};"),
                       lambda x: x.sql(f"GRANT {APP_PRIVILEGES} ON `{DB_NAME}`.* TO {_user(x)};")),
    "agent-offline": ("the app host's SSM agent stopped answering (PingStatus ConnectionLost)",
                      lambda x: x.faults(agent_offline=True),
                      lambda x: x.faults(agent_offline=False)),
    "no-egress": ("the app host's private subnet loses its NAT route: its agent cannot reach Session Manager",
                  _break_egress, _fix_egress),
    "target-unhealthy": ("the proxy's secret no longer holds the database's password (target AUTH_FAILURE)",
                         _break_secret, _fix_secret),
    "proxy-role-no-connect": ("the proxy's role loses rds-db:connect on the instance (end-to-end IAM)",
                              _break_proxy_role, _fix_proxy_role),
    "caller-no-connect": ("your IAM identity lost rds-db:connect",
                          lambda x: _policy_without(x, "DatabaseLogins"), _policy_whole),
    "caller-no-simulate": ("your IAM identity may not run the policy simulator (the doctor says what to add)",
                           lambda x: _policy_without(x, "PolicySimulator"), _policy_whole),
}


def apply(env_file: str, name: str, fix: bool) -> str:
    if name not in SCENARIOS:
        raise SandboxError(f"no scenario {name!r}; one of: {', '.join(SCENARIOS)}")
    ctx = Ctx(env_file)
    what, brk, mend = SCENARIOS[name]
    try:
        (mend if fix else brk)(ctx)
    finally:
        ctx.c.close()
    broken = set(ctx.state.get("broken", []))
    (broken.discard if fix else broken.add)(name)
    ctx.state["broken"] = sorted(broken)
    ctx.save()
    return f"{'fixed' if fix else 'broke'} {name}: {what}"
