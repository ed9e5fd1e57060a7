"""What moto lacks and the doctor needs, served by the stand-in beside the Session Manager API
(shared design SANDBOX.md section 5; DOCTOR.md rows 3 and 8):

* `iam:SimulatePrincipalPolicy` (IAM query protocol, XML): the principal's identity policies as moto
  stores them (user or role inline policies, attached managed policies, a user's groups' policies),
  evaluated like IAM's simulator without context values: an explicit Deny wins, then an Allow,
  otherwise an implicit deny; `*` and `?` wildcards in actions (case-insensitive) and resources;
  NotAction / NotResource; a statement with a Condition does not match (no context keys are
  given). The caller must itself be allowed `iam:SimulatePrincipalPolicy` on the principal (AWS
  answers AccessDenied otherwise). Every other IAM action passes through to moto.
* `rds:ModifyDBProxy` (RequireTLS and Auth; moto lacks it): the change is kept here and shown by
  DescribeDBProxies, ModifyDBProxy's answer and every judgement below; an auth item of scheme
  SECRETS without SecretArn is refused as AWS refuses it.
* `rds:DescribeDBProxyTargets`: moto's answer (always AVAILABLE, port 5432) with the target's health
  judged the way the proxy finds it: the instance must be available, the proxy's security groups
  must reach the instance's on its port (ingress rules by group reference or CIDR over the proxy's
  subnets), and the proxy's secret must log in to the sandbox database. The port and endpoint are the
  instance's. Every other RDS action passes through to moto.
* the agent's way out: an instance's SSM agent is online only when its subnet routes 0.0.0.0/0 through
  a NAT or internet gateway, or the VPC has endpoints for ssm, ssmmessages and ec2messages.
* the exported `iam-db-auth-error` log: each login the database's verifier refused becomes a log event
  in CloudWatch Logs (moto), as RDS exports it (the wording is ours; the reasons are the verifier's).
* `authorize(...)` for the sandbox database's token verifier: would RDS accept this caller's token
  for USER at HOST? IAM auth on (the instance's flag; the proxy's IAMAuth for the proxy's name) and
  `rds-db:connect` allowed on `arn:aws:rds-db:REGION:ACCOUNT:dbuser:prx-ID/USER` (the proxy) or
  `…:dbuser:db-RESOURCEID/USER` (the instance) for the principal that owns the access key.

Written from AWS's documentation of these APIs and of policy evaluation, not from moto or AWS code.
"""

from __future__ import annotations

import asyncio
import fnmatch
import ipaddress
import json
import os
import subprocess
import time
import uuid
from urllib.parse import parse_qs
from xml.etree import ElementTree as ET

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
RDS_NS = "http://rds.amazonaws.com/doc/2014-10-31/"


class Denied(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _member_list(form: dict, name: str) -> list[str]:
    keys = sorted((k for k in form if k.startswith(f"{name}.member.")), key=lambda k: int(k.rsplit(".", 1)[1]))
    return [form[k][0] for k in keys]


def _matches(pattern: str, value: str, case: bool) -> bool:
    if not case:
        pattern, value = pattern.lower(), value.lower()
    # fnmatch's [..] classes are not IAM syntax: escape them.
    pattern = pattern.replace("[", "[[]")
    return fnmatch.fnmatchcase(value, pattern)


def _as_list(v) -> list[str]:
    return [v] if isinstance(v, str) else list(v or [])


def statement_applies(st: dict, action: str, resource: str) -> bool:
    if "Condition" in st:
        return False
    if "Action" in st:
        ok_action = any(_matches(p, action, case=False) for p in _as_list(st["Action"]))
    else:
        ok_action = not any(_matches(p, action, case=False) for p in _as_list(st.get("NotAction")))
    if not ok_action:
        return False
    if "Resource" in st:
        return any(_matches(p, resource, case=True) for p in _as_list(st["Resource"]))
    return not any(_matches(p, resource, case=True) for p in _as_list(st.get("NotResource")))


def decide(policies: list[tuple[str, str, dict]], action: str, resource: str) -> tuple[str, list[dict]]:
    """(decision, matched statements) for one action on one resource over (policy id, type, document)."""
    allow, deny = [], []
    for pid, ptype, doc in policies:
        sts = doc.get("Statement")
        for st in sts if isinstance(sts, list) else [sts or {}]:
            if statement_applies(st, action, resource):
                (deny if st.get("Effect") == "Deny" else allow).append({"SourcePolicyId": pid, "SourcePolicyType": ptype})
    if deny:
        return "explicitDeny", deny
    if allow:
        return "allowed", allow
    return "implicitDeny", []


class IamRds:
    def __init__(self, moto: str, db_host: str, db_port: int, region: str = "us-east-1"):
        self.moto = moto
        self.db_host, self.db_port = db_host, db_port
        cfg = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=20)
        session = boto3.session.Session(aws_access_key_id="AKIASTANDINREADER000", aws_secret_access_key="x", region_name=region)
        self.iam = session.client("iam", endpoint_url=moto, config=cfg)
        self.rds = session.client("rds", endpoint_url=moto, config=cfg)
        self.ec2 = session.client("ec2", endpoint_url=moto, config=cfg)
        self.sm = session.client("secretsmanager", endpoint_url=moto, config=cfg)
        self.logs = session.client("logs", endpoint_url=moto, config=cfg)
        self.region = region
        # ModifyDBProxy, which moto lacks: what was changed, by proxy name (RequireTLS, Auth).
        self.proxy_changes: dict[str, dict] = {}
        self.client_bin = None
        for d in os.environ.get("PATH", "/usr/bin").split(os.pathsep) + ["/usr/bin"]:
            for n in ("mariadb", "mysql"):
                if os.access(os.path.join(d, n), os.X_OK):
                    self.client_bin = self.client_bin or os.path.join(d, n)

    # ----------------------------------------------------------------- policies

    def caller_arn(self, access_key: str) -> str:
        """The principal moto says owns an access key (its STS answer for unknown keys: user/moto)."""
        # A session per call: boto3's default session is not safe across the executor's threads.
        session = boto3.session.Session(aws_access_key_id=access_key, aws_secret_access_key="x", region_name=self.region)
        sts = session.client("sts", endpoint_url=self.moto, config=Config(retries={"max_attempts": 1}))
        return iam_arn(sts.get_caller_identity()["Arn"])

    def policies(self, principal_arn: str) -> list[tuple[str, str, dict]]:
        """(policy id, type, document) of every identity policy of a user or role; Denied(404) if none such."""
        kind, _, rest = principal_arn.split(":", 5)[5].partition("/")
        name = rest.rsplit("/", 1)[-1]
        out: list[tuple[str, str, dict]] = []
        try:
            if kind == "user":
                user = self.iam.get_user(UserName=name)["User"]
                if user["Arn"] != principal_arn:
                    raise Denied(404, "NoSuchEntity", f"The user with ARN {principal_arn} cannot be found.")
                for p in self.iam.list_user_policies(UserName=name)["PolicyNames"]:
                    out.append((p, "user", self.iam.get_user_policy(UserName=name, PolicyName=p)["PolicyDocument"]))
                out += self._attached(self.iam.list_attached_user_policies(UserName=name)["AttachedPolicies"])
                for g in self.iam.list_groups_for_user(UserName=name)["Groups"]:
                    gn = g["GroupName"]
                    for p in self.iam.list_group_policies(GroupName=gn)["PolicyNames"]:
                        out.append((p, "group", self.iam.get_group_policy(GroupName=gn, PolicyName=p)["PolicyDocument"]))
                    out += self._attached(self.iam.list_attached_group_policies(GroupName=gn)["AttachedPolicies"])
            elif kind == "role":
                role = self.iam.get_role(RoleName=name)["Role"]
                if role["Arn"] != principal_arn:
                    # IAM matches the whole ARN, path included.
                    raise Denied(404, "NoSuchEntity", f"The role with ARN {principal_arn} cannot be found.")
                for p in self.iam.list_role_policies(RoleName=name)["PolicyNames"]:
                    out.append((p, "role", self.iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]))
                out += self._attached(self.iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"])
            else:
                raise Denied(400, "InvalidInput", f"PolicySourceArn {principal_arn} is not a user or role ARN")
        except ClientError as e:
            if e.response["Error"]["Code"] == "NoSuchEntity":
                raise Denied(404, "NoSuchEntity", f"The {kind} with name {name} cannot be found.") from None
            raise
        return [(pid, t, json.loads(d) if isinstance(d, str) else d) for pid, t, d in out]

    def _attached(self, attached: list[dict]) -> list[tuple[str, str, dict]]:
        out = []
        for a in attached:
            try:
                v = self.iam.get_policy(PolicyArn=a["PolicyArn"])["Policy"]["DefaultVersionId"]
                doc = self.iam.get_policy_version(PolicyArn=a["PolicyArn"], VersionId=v)["PolicyVersion"]["Document"]
            except ClientError:
                continue
            out.append((a["PolicyArn"], "IAM Policy", doc))
        return out

    def simulate(self, form: dict, access_key: str) -> str:
        source = form.get("PolicySourceArn", [""])[0]
        actions = _member_list(form, "ActionNames")
        resources = _member_list(form, "ResourceArns") or ["*"]
        if not source or not actions:
            raise Denied(400, "ValidationError", "PolicySourceArn and ActionNames are required")
        caller = self.caller_arn(access_key)
        decision, _ = decide(self.policies(caller), "iam:SimulatePrincipalPolicy", source)
        if decision != "allowed":
            raise Denied(403, "AccessDenied",
                         f"User: {caller} is not authorized to perform: iam:SimulatePrincipalPolicy on resource: {source}"
                         + (" with an explicit deny" if decision == "explicitDeny" else " because no identity-based policy allows the iam:SimulatePrincipalPolicy action"))
        policies = self.policies(source)
        root = ET.Element("SimulatePrincipalPolicyResponse", xmlns=IAM_NS)
        result = ET.SubElement(root, "SimulatePrincipalPolicyResult")
        ET.SubElement(result, "IsTruncated").text = "false"
        results = ET.SubElement(result, "EvaluationResults")
        for a in actions:
            for r in resources:
                d, matched = decide(policies, a, r)
                m = ET.SubElement(results, "member")
                ET.SubElement(m, "EvalActionName").text = a
                ET.SubElement(m, "EvalResourceName").text = r
                ET.SubElement(m, "EvalDecision").text = d
                ms = ET.SubElement(m, "MatchedStatements")
                for s in matched:
                    x = ET.SubElement(ms, "member")
                    ET.SubElement(x, "SourcePolicyId").text = s["SourcePolicyId"]
                    ET.SubElement(x, "SourcePolicyType").text = s["SourcePolicyType"]
                ET.SubElement(m, "MissingContextValues")
        meta = ET.SubElement(root, "ResponseMetadata")
        ET.SubElement(meta, "RequestId").text = str(uuid.uuid4())
        return ET.tostring(root, encoding="unicode")

    # ----------------------------------------------------------------- target health

    def _instance(self, ident: str) -> dict | None:
        try:
            return self.rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
        except (ClientError, IndexError):
            return None

    def proxies(self) -> list[dict]:
        """moto's proxies with the changes ModifyDBProxy made."""
        out = self.rds.describe_db_proxies()["DBProxies"]
        for p in out:
            p.update(self.proxy_changes.get(p["DBProxyName"], {}))
        return out

    def _proxy(self, name: str) -> dict | None:
        return next((p for p in self.proxies() if p["DBProxyName"] == name), None)

    # ----------------------------------------------------------------- ModifyDBProxy

    def modify_proxy(self, form: dict) -> dict:
        """Record RequireTLS / Auth changes (the rest of ModifyDBProxy is refused, not ignored)."""
        name = form.get("DBProxyName", [""])[0]
        if self._proxy(name) is None:
            raise Denied(404, "DBProxyNotFoundFault", f"DBProxy {name} not found.")
        known = {"Action", "Version", "DBProxyName", "RequireTLS", "DefaultAuthScheme"}
        extra = [k for k in form if k not in known and not k.startswith("Auth.member.")]
        if extra:
            raise Denied(400, "InvalidParameterCombination", f"the sandbox's ModifyDBProxy takes RequireTLS and Auth only, not {', '.join(sorted(extra))}")
        change: dict = {}  # applied only once every part is valid (a refused call changes nothing)
        if "RequireTLS" in form:
            change["RequireTLS"] = form["RequireTLS"][0].lower() == "true"
        if "DefaultAuthScheme" in form:
            scheme = form["DefaultAuthScheme"][0]
            if scheme not in ("IAM_AUTH", "NONE"):
                raise Denied(400, "InvalidParameterValue", f"DefaultAuthScheme {scheme} is not one of IAM_AUTH, NONE")
            change["DefaultAuthScheme"] = scheme
        items: dict[int, dict] = {}
        for k, v in form.items():
            if k.startswith("Auth.member."):
                _, _, n, field = k.split(".", 3)
                items.setdefault(int(n), {})[field] = v[0]
        if items:
            auth = [items[n] for n in sorted(items)]
            for a in auth:
                if a.get("AuthScheme", "SECRETS") == "SECRETS" and not a.get("SecretArn"):
                    # AWS's answer to an auth item without a secret (the seed's "hidden API challenge").
                    raise Denied(400, "InvalidParameterValue", "SecretArn is required for AuthScheme SECRETS")
                if a.get("IAMAuth", "DISABLED") not in ("DISABLED", "REQUIRED", "ENABLED"):
                    raise Denied(400, "InvalidParameterValue", f"IAMAuth {a.get('IAMAuth')} is not one of DISABLED, REQUIRED, ENABLED")
            change["Auth"] = auth
        self.proxy_changes.setdefault(name, {}).update(change)
        return self._proxy(name) or {}

    def rewrite_proxies(self, xml: bytes) -> bytes:
        """DescribeDBProxies with the recorded changes applied."""
        root = ET.fromstring(xml)
        ns = {"r": RDS_NS}
        for m in root.findall(".//r:DBProxies/r:member", ns):
            change = self.proxy_changes.get(m.findtext("r:DBProxyName", namespaces=ns) or "")
            if change:
                _apply_proxy_change(m, change)
        ET.register_namespace("", RDS_NS)
        return ET.tostring(root, encoding="utf-8")

    def modify_response(self, describe_xml: bytes, name: str) -> bytes:
        """ModifyDBProxy's answer: the proxy as DescribeDBProxies now shows it."""
        root = ET.fromstring(self.rewrite_proxies(describe_xml))
        ns = {"r": RDS_NS}
        member = next((m for m in root.findall(".//r:DBProxies/r:member", ns) if m.findtext("r:DBProxyName", namespaces=ns) == name), None)
        out = ET.Element(f"{{{RDS_NS}}}ModifyDBProxyResponse")
        result = ET.SubElement(out, f"{{{RDS_NS}}}ModifyDBProxyResult")
        proxy = ET.SubElement(result, f"{{{RDS_NS}}}DBProxy")
        for child in list(member) if member is not None else []:
            proxy.append(child)
        meta = ET.SubElement(out, f"{{{RDS_NS}}}ResponseMetadata")
        ET.SubElement(meta, f"{{{RDS_NS}}}RequestId").text = str(uuid.uuid4())
        ET.register_namespace("", RDS_NS)
        return ET.tostring(out, encoding="utf-8")

    def _reaches(self, proxy: dict, db: dict) -> bool:
        """Do the proxy's security groups reach the instance's on its port (ingress side)?"""
        port = db.get("Endpoint", {}).get("Port", 3306)
        src_groups = set(proxy.get("VpcSecurityGroupIds", []))
        subnets = proxy.get("VpcSubnetIds", [])
        cidrs = [ipaddress.ip_network(s["CidrBlock"]) for s in self.ec2.describe_subnets(SubnetIds=subnets)["Subnets"]] if subnets else []
        dst = [g["VpcSecurityGroupId"] for g in db.get("VpcSecurityGroups", [])]
        if not dst:
            return False
        for g in self.ec2.describe_security_groups(GroupIds=dst)["SecurityGroups"]:
            for p in g.get("IpPermissions", []):
                proto = p.get("IpProtocol", "-1")
                if proto not in ("-1", "tcp", "6"):
                    continue
                if proto != "-1" and not (p.get("FromPort", 0) <= port <= p.get("ToPort", 65535)):
                    continue
                if any(pair.get("GroupId") in src_groups for pair in p.get("UserIdGroupPairs", [])):
                    return True
                for r in p.get("IpRanges", []):
                    net = ipaddress.ip_network(r["CidrIp"], strict=False)
                    if cidrs and all(c.subnet_of(net) for c in cidrs if c.version == net.version):
                        return True
        return False

    def _secret_logs_in(self, proxy: dict) -> tuple[bool, str]:
        arns = [a.get("SecretArn") for a in proxy.get("Auth", []) if a.get("SecretArn")]
        if not arns and proxy.get("DefaultAuthScheme") == "IAM_AUTH":
            return True, "end-to-end IAM: no secret needed"
        if not arns:
            return False, "the proxy has no secret for the database"
        try:
            sec = json.loads(self.sm.get_secret_value(SecretId=arns[0])["SecretString"])
            user, password = sec["username"], sec["password"]
        except (ClientError, ValueError, KeyError, TypeError) as e:
            return False, f"the proxy cannot read its secret: {type(e).__name__}"
        if not self.db_port or not self.client_bin:
            return True, "no sandbox database: not tried"
        env = {**os.environ, "MYSQL_PWD": password}
        try:
            cp = subprocess.run([self.client_bin, "--no-defaults", "--protocol=TCP", f"--host={self.db_host}",
                                 f"--port={self.db_port}", f"--user={user}", "--ssl", "--batch", "--skip-column-names",
                                 "--connect-timeout=5", "-e", "SELECT 1"], env=env, capture_output=True, timeout=15)
        except (OSError, subprocess.TimeoutExpired) as e:
            return False, f"{type(e).__name__}"
        return cp.returncode == 0, cp.stderr.decode(errors="replace").strip()[:200]

    def health(self, proxy_name: str, ident: str) -> tuple[dict, dict | None]:
        """(TargetHealth, the instance) for one RDS_INSTANCE target."""
        db = self._instance(ident)
        proxy = self._proxy(proxy_name)
        if db is None or proxy is None:
            return {"State": "UNAVAILABLE", "Reason": "CONNECTION_FAILED", "Description": "DBProxy Target is not found"}, db
        if db.get("DBInstanceStatus") != "available":
            return {"State": "UNAVAILABLE", "Reason": "CONNECTION_FAILED",
                    "Description": f"The DB instance is {db.get('DBInstanceStatus')}"}, db
        if not self._reaches(proxy, db):
            return {"State": "UNAVAILABLE", "Reason": "CONNECTION_FAILED",
                    "Description": "Database handshake failed: the proxy cannot reach the database on its port"}, db
        if proxy.get("DefaultAuthScheme") != "IAM_AUTH" and proxy.get("RoleArn"):
            for arn in [a.get("SecretArn") for a in proxy.get("Auth", []) if a.get("SecretArn")]:
                try:
                    decision, _ = decide(self.policies(iam_arn(proxy["RoleArn"])), "secretsmanager:GetSecretValue", arn)
                except Denied as e:
                    decision = e.message
                if decision != "allowed":
                    return {"State": "UNAVAILABLE", "Reason": "AUTH_FAILURE",
                            "Description": f"The proxy's role cannot read its secret {arn} ({decision})"}, db
        ok, why = self._secret_logs_in(proxy)
        if not ok:
            return {"State": "UNAVAILABLE", "Reason": "AUTH_FAILURE",
                    "Description": f"The proxy's secret does not log in to the database ({why})"}, db
        return {"State": "AVAILABLE"}, db

    def rewrite_targets(self, xml: bytes, proxy_name: str) -> bytes:
        root = ET.fromstring(xml)
        ns = {"r": RDS_NS}
        for m in root.findall(".//r:Targets/r:member", ns):
            if (m.findtext("r:Type", namespaces=ns) or "") != "RDS_INSTANCE":
                continue
            ident = m.findtext("r:RdsResourceId", namespaces=ns) or ""
            th, db = self.health(proxy_name, ident)
            old = m.find("r:TargetHealth", ns)
            if old is not None:
                m.remove(old)
            el = ET.SubElement(m, f"{{{RDS_NS}}}TargetHealth")
            for k, v in th.items():
                ET.SubElement(el, f"{{{RDS_NS}}}{k}").text = v
            if db is not None:
                ep = db.get("Endpoint", {})
                for k, v in (("Port", str(ep.get("Port", 3306))), ("Endpoint", ep.get("Address", ""))):
                    e = m.find(f"r:{k}", ns)
                    if e is None:
                        e = ET.SubElement(m, f"{{{RDS_NS}}}{k}")
                    e.text = v
        ET.register_namespace("", RDS_NS)
        return ET.tostring(root, encoding="utf-8")

    # ----------------------------------------------------------------- the agent's way out

    SSM_SERVICES = ("ssm", "ssmmessages", "ec2messages")

    def agent_reaches_ssm(self, instance_id: str) -> tuple[bool, str]:
        """Can the instance's agent reach Session Manager? A default route through a NAT gateway or an
        internet gateway from its subnet, or interface VPC endpoints for ssm, ssmmessages and
        ec2messages in its VPC (DOCTOR.md row 5)."""
        try:
            i = self.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
        except (ClientError, IndexError, KeyError):
            return False, f"{instance_id} not found"
        subnet, vpc = i.get("SubnetId"), i.get("VpcId")
        tables = self.ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["RouteTables"]
        if not tables:
            tables = self.ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                             {"Name": "association.main", "Values": ["true"]}])["RouteTables"]
        for t in tables:
            for r in t.get("Routes", []):
                if r.get("DestinationCidrBlock") == "0.0.0.0/0" and r.get("State", "active") == "active" and (
                        r.get("NatGatewayId") or str(r.get("GatewayId", "")).startswith("igw-")):
                    return True, f"default route via {r.get('NatGatewayId') or r.get('GatewayId')}"
        have = {e["ServiceName"].rsplit(".", 1)[-1] for e in self.ec2.describe_vpc_endpoints(
            Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"] if e.get("State", "available").lower() in ("available", "pending")}
        missing = [x for x in self.SSM_SERVICES if x not in have]
        if missing:
            return False, f"no route out of {subnet} and no VPC endpoint for {', '.join(missing)}"
        return True, "VPC endpoints for ssm, ssmmessages, ec2messages"

    # ----------------------------------------------------------------- the exported auth log

    def _put_log(self, group: str, stream: str, message: str) -> None:
        try:
            self.logs.create_log_group(logGroupName=group)
        except ClientError as e:
            if e.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise
        try:
            self.logs.create_log_stream(logGroupName=group, logStreamName=stream)
        except ClientError as e:
            if e.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise
        self.logs.put_log_events(logGroupName=group, logStreamName=stream,
                                 logEvents=[{"timestamp": int(time.time() * 1000), "message": message}])

    def export_auth_failure(self, user: str, reason: str, host: str = "") -> None:
        """One refused IAM login as RDS exports it to `/aws/rds/instance/ID/iam-db-auth-error` (for every
        instance that exports that log: the sandbox has one database playing them all), and, for a login
        at a proxy's endpoint, as the proxy logs it to `/aws/rds/proxy/NAME`."""
        for p in self.proxies():
            if host and p.get("Endpoint") == host:
                self._put_log(f"/aws/rds/proxy/{p['DBProxyName']}", "default",
                              f"[WARN] [proxyEndpoint=default] IAM authentication failed for user {user[:64]!r}: credentials were refused ({reason[:200]})")
        for d in self.rds.describe_db_instances()["DBInstances"]:
            if "iam-db-auth-error" not in d.get("EnabledCloudwatchLogsExports", []):
                continue
            group, stream = f"/aws/rds/instance/{d['DBInstanceIdentifier']}/iam-db-auth-error", d["DBInstanceIdentifier"]
            try:
                self.logs.create_log_stream(logGroupName=group, logStreamName=stream)
            except ClientError as e:
                if e.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                    continue
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            message = f"{stamp} [ERROR] IAM authentication failed for user {user[:64]!r}: {reason[:300]}"
            self.logs.put_log_events(logGroupName=group, logStreamName=stream,
                                     logEvents=[{"timestamp": int(time.time() * 1000), "message": message}])

    # ----------------------------------------------------------------- the verifier's question

    def authorize(self, access_key: str, user: str, host: str) -> tuple[bool, str]:
        """Would RDS accept a valid token of this access key's owner for USER at HOST?"""
        resource_id, behind = None, []
        for p in self.proxies():
            if p.get("Endpoint") == host:
                auth = p.get("Auth", [])
                takes_iam = p.get("DefaultAuthScheme") == "IAM_AUTH" or any(a.get("IAMAuth") in ("REQUIRED", "ENABLED") for a in auth)
                if not takes_iam or any(a.get("IAMAuth") == "DISABLED" for a in auth):
                    return False, f"the proxy {p['DBProxyName']} does not take IAM authentication (IAMAuth DISABLED)"
                resource_id = p["DBProxyArn"].rsplit(":", 1)[1]
                targets = self.rds.describe_db_proxy_targets(DBProxyName=p["DBProxyName"])["Targets"]
                behind = [t.get("RdsResourceId") for t in targets if t.get("Type") == "RDS_INSTANCE"]
                if not behind:
                    return False, f"the proxy {p['DBProxyName']} has no registered target"
                if p.get("DefaultAuthScheme") == "IAM_AUTH" and p.get("RoleArn"):
                    # End-to-end IAM: the proxy logs in to each target with its own role's token.
                    for d in self.rds.describe_db_instances()["DBInstances"]:
                        if d["DBInstanceIdentifier"] not in behind:
                            continue
                        arn = f"arn:aws:rds-db:{self.region}:{p['DBProxyArn'].split(':')[4]}:dbuser:{d['DbiResourceId']}/{user}"
                        try:
                            decision, _ = decide(self.policies(iam_arn(p["RoleArn"])), "rds-db:connect", arn)
                        except Denied as e:
                            decision = e.message
                        if decision != "allowed":
                            return False, f"the proxy's role {p['RoleArn']} may not rds-db:connect on {arn} ({decision})"
                for ident in behind:
                    th, _ = self.health(p["DBProxyName"], ident)
                    if th["State"] != "AVAILABLE":
                        # The proxy has no database connection to give: AWS answers 9501 or 2013.
                        return False, f"the proxy's target {ident} is {th['State']} {th.get('Reason', '')}: {th.get('Description', '')}"
        for d in self.rds.describe_db_instances()["DBInstances"]:
            if d.get("Endpoint", {}).get("Address") == host:
                resource_id = d["DbiResourceId"]
                behind = [d["DBInstanceIdentifier"]]
            if d["DBInstanceIdentifier"] in behind and not d.get("IAMDatabaseAuthenticationEnabled"):
                # Through the proxy too: the instance itself must have IAM auth on (error 1524 direct).
                return False, f"IAM database authentication is off on {d['DBInstanceIdentifier']}"
        if resource_id is None:
            return False, f"{host} is not an endpoint of this account"
        principal = self.caller_arn(access_key)
        account = principal.split(":")[4]
        arn = f"arn:aws:rds-db:{self.region}:{account}:dbuser:{resource_id}/{user}"
        try:
            decision, _ = decide(self.policies(principal), "rds-db:connect", arn)
        except Denied as e:
            return False, e.message
        if decision != "allowed":
            return False, f"{principal} is not allowed rds-db:connect on {arn} ({decision})"
        return True, "ok"


def _apply_proxy_change(m: ET.Element, change: dict) -> None:
    ns = {"r": RDS_NS}
    for key in ("RequireTLS", "DefaultAuthScheme"):
        if key in change:
            e = m.find(f"r:{key}", ns)
            if e is None:
                e = ET.SubElement(m, f"{{{RDS_NS}}}{key}")
            v = change[key]
            e.text = ("true" if v else "false") if isinstance(v, bool) else v
    if "Auth" in change:
        old = m.find("r:Auth", ns)
        if old is not None:
            m.remove(old)
        auth = ET.SubElement(m, f"{{{RDS_NS}}}Auth")
        for a in change["Auth"]:
            item = ET.SubElement(auth, f"{{{RDS_NS}}}member")
            for k, v in a.items():
                ET.SubElement(item, f"{{{RDS_NS}}}{k}").text = v


def iam_arn(arn: str) -> str:
    """STS's caller ARN as the IAM principal: assumed-role/NAME/SESSION → role/NAME; moto's sts user → iam user."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return arn
    res = parts[5]
    if res.startswith("assumed-role/"):
        return f"arn:aws:iam::{parts[4]}:role/{res.split('/')[1]}"
    if parts[2] == "sts" and res.startswith("user/"):
        return f"arn:aws:iam::{parts[4]}:{res}"
    return arn


def form_of(body: bytes) -> dict:
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)


def access_key_of(auth_header: str) -> str:
    # AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, ...
    for part in auth_header.replace(",", " ").split():
        if part.startswith("Credential="):
            return part[len("Credential="):].split("/", 1)[0]
    return ""


def error_xml(ns: str, code: str, message: str) -> str:
    root = ET.Element("ErrorResponse", xmlns=ns)
    err = ET.SubElement(root, "Error")
    ET.SubElement(err, "Type").text = "Sender"
    ET.SubElement(err, "Code").text = code
    ET.SubElement(err, "Message").text = message
    ET.SubElement(root, "RequestId").text = str(uuid.uuid4())
    return ET.tostring(root, encoding="unicode")


async def in_thread(fn, *a):
    return await asyncio.get_running_loop().run_in_executor(None, fn, *a)
