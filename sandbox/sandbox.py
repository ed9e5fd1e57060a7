#!/usr/bin/env python3
"""rdsdeck sandbox, AWS part: a private moto server seeded with the rds-iam-auth stack.

Run it with the venv's python (sandbox/setup-venv prints the venv path; when started with
another python this script re-executes itself with that venv's python if it exists).

    sandbox.py up   [--env-file PATH] [--port N] [--stdin-lifeline] [DB OPTIONS]
    sandbox.py run  [--env-file PATH] [--port N] [DB OPTIONS] -- CMD ARGS...
    sandbox.py seed --endpoint URL

DB OPTIONS (the private MariaDB playing RDS Proxy + RDS, sandbox/db/; on by default):
    --no-db | --with-db    skip / start it
    --fresh-db             no IAM users yet (only the master user `admin`): for bootstrap tests
    --with-plain-db        also a second server without TLS (RDSDECK_SANDBOX_PLAIN_DB_PORT)
    --db-port N            the DB's port (default: a free one)

`up` prints `READY <env file>` on stdout once the stack is seeded, then waits for
SIGINT/SIGTERM/SIGHUP (or stdin EOF with --stdin-lifeline) and stops moto.
`run` does the same but runs CMD with the env file's variables, then stops and exits with
CMD's exit code. `seed` only seeds an already running moto.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as _dt
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

REGION = "us-east-1"
EMPTY_REGION = "eu-west-1"  # deliberately left empty: "a region with no proxy"
ACCESS_KEY_ID = "AKIASANDBOXEXAMPLE01"
SECRET_ACCESS_KEY = "sandboxSecretAccessKeyEXAMPLEonlyForMoto01"
SEED = 42
# The database side (sandbox/db/) starts unless --no-db: it overlaps moto's start and seeding
# and adds ~0.5 s to READY (see sandbox/README.md).
DB_DEFAULT = True

PROJECT = "rds-iam-auth"
ENVIRONMENT = "dev"
BASE_TAGS = {"Project": PROJECT, "Environment": ENVIRONMENT, "ManagedBy": "terraform"}

VPC_CIDR = "172.20.0.0/16"
AZS = ["us-east-1a", "us-east-1b"]
# Terraform: cidrsubnet(vpc_cidr, 4, i) for public, cidrsubnet(vpc_cidr, 4, i + len(azs)) for private.
PUBLIC_CIDRS = ["172.20.0.0/20", "172.20.16.0/20"]
PRIVATE_CIDRS = ["172.20.32.0/20", "172.20.48.0/20"]

DB_ID = f"{PROJECT}-db"
DB_NAME = "node_db"
DB_MASTER_USER = "admin"
DB_PORT = 3306
DB_IAM_USER = "node_user"
IAM_ADMIN_USER = "dbadmin"
PROXY_NAME = "dev-node-app"
APP_PORT = 3000
BUCKET = f"{PROJECT}-alb-logs"
ECR_REPO = "nodeapp"
# Ubuntu (Canonical, owner 099720109477) AMI from moto's built-in list.
UBUNTU_AMI = "ami-785db401"
UNRELATED_PARAM = "/other/app/feature-flag"
UNRELATED_SECRET = "other/unrelated"
CERT_DOMAIN = "*.rds-iam-auth.example"


class SandboxError(Exception):
    pass


class Stop(BaseException):
    """Raised from the SIGTERM/SIGHUP handler (SIGINT raises KeyboardInterrupt)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def log(msg: str) -> None:
    try:
        print(f"sandbox: {msg}", file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr closed by whoever started us: keep running
        pass


def say(text: str) -> None:
    """Print to stdout; a reader that went away after READY must not stop the sandbox."""
    try:
        print(text, flush=True)
    except (OSError, ValueError):
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except OSError:
            pass


# --------------------------------------------------------------------------- venv


def _ensure_venv() -> None:
    """Re-exec with the sandbox venv's python when boto3/moto are not importable here."""
    here_bin = os.path.dirname(sys.executable)
    try:
        import boto3  # noqa: F401
        import botocore  # noqa: F401

        if os.path.exists(os.path.join(here_bin, "moto_server")):
            return
    except ImportError:
        pass
    venv = os.environ.get("RDSDECK_VENV") or os.path.expanduser("~/.cache/rdsdeck/venv")
    py = os.path.join(venv, "bin", "python")
    if os.path.exists(py) and os.environ.get("RDSDECK_SANDBOX_REEXEC") != "1":
        os.environ["RDSDECK_SANDBOX_REEXEC"] = "1"
        os.execv(py, [py, os.path.abspath(__file__), *sys.argv[1:]])
    setup = os.path.join(os.path.dirname(os.path.abspath(__file__)), "setup-venv")
    print(
        f"sandbox: boto3/moto_server not available for {sys.executable}; "
        f'run `{setup}` and use "$({setup})/bin/python {sys.argv[0]} ..."',
        file=sys.stderr,
    )
    sys.exit(2)


# --------------------------------------------------------------------------- AWS helpers


def _tags(name: str | None = None, **extra: str) -> dict[str, str]:
    t = dict(BASE_TAGS)
    if name is not None:
        t["Name"] = name
    t.update(extra)
    return t


def _tag_list(name: str | None = None, key: str = "Key", value: str = "Value", **extra: str):
    return [{key: k, value: v} for k, v in _tags(name, **extra).items()]


def _ec2_tag_spec(resource_type: str, name: str):
    return [{"ResourceType": resource_type, "Tags": _tag_list(name)}]


class Clients:
    def __init__(self, endpoint: str, region: str = REGION):
        import boto3
        from botocore.config import Config

        self.session = boto3.session.Session(
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            region_name=region,
        )
        self.endpoint = endpoint
        self.config = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
        )
        self._cache: dict[str, object] = {}

    SERVICES = ("ec2", "sts", "iam", "rds", "secretsmanager", "ssm", "s3", "ecr", "elbv2", "acm", "logs")

    def close(self) -> None:
        """Close keep-alive connections (moto then exits at once on SIGTERM)."""
        for c in self._cache.values():
            try:
                c.close()
            except Exception:
                pass
        self._cache.clear()

    def preload(self) -> "Clients":
        """Build every client now (loads botocore's models: ~0.5 s, overlapped with moto's boot)."""
        for svc in self.SERVICES:
            getattr(self, svc)
        return self

    def __getattr__(self, service: str):
        if service.startswith("_"):
            raise AttributeError(service)
        c = self._cache.get(service)
        if c is None:
            c = self.session.client(service, endpoint_url=self.endpoint, config=self.config)
            self._cache[service] = c
        return c


def _self_signed_cert(domain: str) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = _dt.datetime.now(_dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(days=1))
        .not_valid_after(now + _dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ),
    )


# --------------------------------------------------------------------------- seed


def seed(endpoint: str, clients: Clients | None = None) -> dict:
    """Create the rds-iam-auth stack in us-east-1. Returns the facts (ids, arns, notes)."""
    own = clients is None or clients.endpoint != endpoint
    c = Clients(endpoint) if own else clients
    try:
        return _seed(c)
    finally:
        if own:
            c.close()


def _seed(c: Clients) -> dict:
    from botocore.exceptions import ClientError

    out: dict = {"notes": []}
    notes: list[str] = out["notes"]
    timings: list[tuple[str, float]] = []
    t_last = time.monotonic()

    def step(label: str) -> None:
        nonlocal t_last
        now = time.monotonic()
        timings.append((label, now - t_last))
        t_last = now

    # ---- VPC and network
    ec2 = c.ec2
    vpc_id = ec2.create_vpc(
        CidrBlock=VPC_CIDR, TagSpecifications=_ec2_tag_spec("vpc", f"{PROJECT}-vpc")
    )["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    out["vpc_id"] = vpc_id
    step("vpc")

    igw_id = ec2.create_internet_gateway(
        TagSpecifications=_ec2_tag_spec("internet-gateway", f"{PROJECT}-igw")
    )["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    out["igw_id"] = igw_id

    public, private = [], []
    for i, az in enumerate(AZS):
        sid = ec2.create_subnet(
            VpcId=vpc_id,
            CidrBlock=PUBLIC_CIDRS[i],
            AvailabilityZone=az,
            TagSpecifications=_ec2_tag_spec("subnet", f"{PROJECT}-public-subnet-{i + 1}"),
        )["Subnet"]["SubnetId"]
        ec2.modify_subnet_attribute(SubnetId=sid, MapPublicIpOnLaunch={"Value": True})
        public.append(sid)
    for i, az in enumerate(AZS):
        sid = ec2.create_subnet(
            VpcId=vpc_id,
            CidrBlock=PRIVATE_CIDRS[i],
            AvailabilityZone=az,
            TagSpecifications=_ec2_tag_spec("subnet", f"{PROJECT}-private-subnet-{i + 1}"),
        )["Subnet"]["SubnetId"]
        private.append(sid)
    out["public_subnet_ids"], out["private_subnet_ids"] = public, private

    eip = ec2.allocate_address(
        Domain="vpc", TagSpecifications=_ec2_tag_spec("elastic-ip", f"{PROJECT}-nat-eip")
    )
    nat_id = ec2.create_nat_gateway(
        SubnetId=public[0],
        AllocationId=eip["AllocationId"],
        TagSpecifications=_ec2_tag_spec("natgateway", f"{PROJECT}-nat-gw"),
    )["NatGateway"]["NatGatewayId"]
    out["nat_gateway_id"] = nat_id

    rt_pub = ec2.create_route_table(
        VpcId=vpc_id, TagSpecifications=_ec2_tag_spec("route-table", f"{PROJECT}-public-rt")
    )["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt_pub, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
    rt_priv = ec2.create_route_table(
        VpcId=vpc_id, TagSpecifications=_ec2_tag_spec("route-table", f"{PROJECT}-private-rt")
    )["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt_priv, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat_id)
    for sid in public:
        ec2.associate_route_table(RouteTableId=rt_pub, SubnetId=sid)
    for sid in private:
        ec2.associate_route_table(RouteTableId=rt_priv, SubnetId=sid)
    out["route_table_ids"] = {"public": rt_pub, "private": rt_priv}
    step("network")

    # ---- security groups
    sg_desc = {
        "ec2": "EC2 Instance Security Group",
        "proxy": "RDS Proxy Security Group",
        "rds": "RDS Security Group",
        "alb": "Application Load Balancer Security Group",
    }
    sg = {}
    for key, desc in sg_desc.items():
        name = f"{PROJECT}-{key}-sg"
        sg[key] = ec2.create_security_group(
            GroupName=name,
            Description=desc,
            VpcId=vpc_id,
            TagSpecifications=_ec2_tag_spec("security-group", name),
        )["GroupId"]

    def from_sg(port: int, src: str, desc: str):
        return {
            "IpProtocol": "tcp",
            "FromPort": port,
            "ToPort": port,
            "UserIdGroupPairs": [{"GroupId": sg[src], "Description": desc}],
        }

    ec2.authorize_security_group_ingress(
        GroupId=sg["proxy"],
        IpPermissions=[from_sg(DB_PORT, "ec2", "Allow Incoming request on 3306 from EC2 Instance")],
    )
    ec2.authorize_security_group_ingress(
        GroupId=sg["rds"],
        IpPermissions=[from_sg(DB_PORT, "proxy", "Allow Incoming request on 3306 from RDS Proxy")],
    )
    ec2.authorize_security_group_ingress(
        GroupId=sg["ec2"],
        IpPermissions=[from_sg(APP_PORT, "alb", "Allow Incoming request on 3000 from ALB Security Group")],
    )
    ec2.authorize_security_group_ingress(
        GroupId=sg["alb"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": p,
                "ToPort": p,
                "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": d}],
            }
            for p, d in ((443, "Allow Incoming request on https port 443"), (80, "Allow Incoming request on http port 80"))
        ],
    )
    # Egress: each SG keeps the default allow-all rule that moto (like AWS) creates.
    out["security_groups"] = sg
    step("security groups")

    # ---- IAM
    iam = c.iam
    acct = c.sts.get_caller_identity()["Account"]
    out["account_id"] = acct

    def trust(service: str, condition: dict | None = None) -> str:
        st = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        if condition:
            st["Condition"] = condition
        return json.dumps({"Version": "2012-10-17", "Statement": [st]})

    ec2_role = iam.create_role(
        RoleName=f"{PROJECT}-ec2-role",
        AssumeRolePolicyDocument=trust("ec2.amazonaws.com"),
        Tags=_tag_list(f"{PROJECT}-ec2-instance-role"),
    )["Role"]
    for arn in (
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    ):
        try:
            iam.attach_role_policy(RoleName=ec2_role["RoleName"], PolicyArn=arn)
        except ClientError as e:  # moto without managed policies loaded
            notes.append(f"attach {arn.rsplit('/', 1)[1]}: {e.response['Error'].get('Code')}")
    proxy_role = iam.create_role(
        RoleName=f"{PROJECT}-proxy-role",
        AssumeRolePolicyDocument=trust(
            "rds.amazonaws.com", {"StringEquals": {"aws:SourceAccount": acct}}
        ),
        Tags=_tag_list(f"{PROJECT}-rds-proxy-role"),
    )["Role"]
    ip_name = f"{PROJECT}-instance-profile"
    iam.create_instance_profile(InstanceProfileName=ip_name, Tags=_tag_list(ip_name))
    iam.add_role_to_instance_profile(InstanceProfileName=ip_name, RoleName=ec2_role["RoleName"])
    out["ec2_role_arn"] = ec2_role["Arn"]
    out["proxy_role_arn"] = proxy_role["Arn"]
    out["instance_profile_name"] = ip_name
    step("iam")

    # ---- EC2 instance (private subnet 1)
    inst = ec2.run_instances(
        ImageId=UBUNTU_AMI,
        InstanceType="t3.micro",
        MinCount=1,
        MaxCount=1,
        SubnetId=private[0],
        SecurityGroupIds=[sg["ec2"]],
        IamInstanceProfile={"Name": ip_name},
        BlockDeviceMappings=[
            {
                "DeviceName": "/dev/sda1",
                "Ebs": {"VolumeSize": 10, "VolumeType": "gp3", "DeleteOnTermination": True},
            }
        ],
        TagSpecifications=_ec2_tag_spec("instance", f"{PROJECT}-node-app"),
    )["Instances"][0]
    out["ec2_instance_id"] = inst["InstanceId"]
    out["ec2_instance_private_ip"] = inst.get("PrivateIpAddress")
    step("ec2 instance")

    # ---- RDS instance
    rds = c.rds
    subnet_group = f"{PROJECT}-db-subnet-group"
    rds.create_db_subnet_group(
        DBSubnetGroupName=subnet_group,
        DBSubnetGroupDescription=f"{PROJECT} DB subnet group",
        SubnetIds=private,
        Tags=_tag_list(subnet_group),
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
        VpcSecurityGroupIds=[sg["rds"]],
        DBSubnetGroupName=subnet_group,
        Port=DB_PORT,
        Tags=_tag_list(DB_ID),
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
    step("rds instance")

    # ---- RDS Proxy
    auth = [
        {
            "Description": "End-to-end IAM auth without Secrets Manager",
            "AuthScheme": "SECRETS",
            "SecretArn": secret_arn,
            "IAMAuth": "REQUIRED",
            "ClientPasswordAuthType": "MYSQL_NATIVE_PASSWORD",
        }
    ]
    proxy_kwargs = dict(
        DBProxyName=PROXY_NAME,
        EngineFamily="MYSQL",
        Auth=auth,
        RoleArn=proxy_role["Arn"],
        VpcSubnetIds=private,
        VpcSecurityGroupIds=[sg["proxy"]],
        RequireTLS=True,
        IdleClientTimeout=1800,
        DebugLogging=False,
        Tags=_tag_list(PROXY_NAME),
    )
    try:
        proxy = rds.create_db_proxy(DefaultAuthScheme="IAM_AUTH", **proxy_kwargs)["DBProxy"]
        out["default_auth_scheme_sent"] = True
    except Exception as e:  # botocore without the parameter, or moto rejecting it
        notes.append(f"DefaultAuthScheme rejected ({type(e).__name__}); proxy created without it")
        proxy = rds.create_db_proxy(**proxy_kwargs)["DBProxy"]
        out["default_auth_scheme_sent"] = False
    if "DefaultAuthScheme" not in proxy:
        notes.append("moto does not model DefaultAuthScheme (absent from describe_db_proxies)")
    out["rds_proxy_arn"] = proxy["DBProxyArn"]
    out["rds_proxy_prx_id"] = proxy["DBProxyArn"].split(":")[6]
    out["rds_proxy_endpoint"] = proxy["Endpoint"]
    try:
        rds.modify_db_proxy_target_group(
            DBProxyName=PROXY_NAME,
            TargetGroupName="default",
            ConnectionPoolConfig={
                "ConnectionBorrowTimeout": 120,
                "MaxConnectionsPercent": 100,
                "MaxIdleConnectionsPercent": 50,
            },
        )
    except ClientError as e:
        notes.append(f"modify_db_proxy_target_group failed: {e}")
    rds.register_db_proxy_targets(
        DBProxyName=PROXY_NAME, TargetGroupName="default", DBInstanceIdentifiers=[DB_ID]
    )
    step("rds proxy")

    # ---- SSM parameters
    ssm = c.ssm
    params = [
        ("/dev/database/dbname", DB_NAME, "parameter for dev database name"),
        ("/dev/database/endpoint", proxy["Endpoint"], "parameter for dev database endpoint"),
        ("/dev/database/username", DB_IAM_USER, "DB user with AWSAuthentication Plugin"),
        ("/dev/database/port", str(DB_PORT), "parameter for dev database port"),
        ("/dev/database/region", REGION, "parameter for dev database region"),
    ]
    for name, value, desc in params:
        ssm.put_parameter(Name=name, Value=value, Type="String", Description=desc, Tags=_tag_list(None))
    # Not part of the stack (no stack tags): discovery must ignore it.
    ssm.put_parameter(Name=UNRELATED_PARAM, Value="on", Type="String", Description="unrelated")
    c.secretsmanager.create_secret(
        Name=UNRELATED_SECRET,
        SecretString=json.dumps({"token": "not-part-of-the-stack"}),
        Description="unrelated secret, not part of the rds-iam-auth stack",
    )
    step("ssm + secrets")

    # ---- IAM inline policies (need the proxy id / DbiResourceId, as in Terraform)
    region_acct = f"{REGION}:{acct}"
    iam.put_role_policy(
        RoleName=ec2_role["RoleName"],
        PolicyName=f"{PROJECT}-ec2-instance-policy",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["rds-db:connect", "ssm:GetParameters", "ssm:GetParameter"],
                        "Resource": [
                            f"arn:aws:rds-db:{region_acct}:dbuser:{out['rds_proxy_prx_id']}/node_app",
                            f"arn:aws:rds-db:{region_acct}:dbuser:{out['rds_proxy_prx_id']}/node_user",
                            f"arn:aws:ssm:{region_acct}:parameter/dev/database/*",
                        ],
                    }
                ],
            }
        ),
    )
    iam.put_role_policy(
        RoleName=proxy_role["RoleName"],
        PolicyName=f"{PROJECT}-rds-proxy-policy",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["rds-db:connect"],
                        "Resource": [
                            f"arn:aws:rds-db:{region_acct}:dbuser:{out['rds_dbi']}/node_app",
                            f"arn:aws:rds-db:{region_acct}:dbuser:{out['rds_dbi']}/node_user",
                        ],
                    }
                ],
            }
        ),
    )
    step("iam policies")

    # ---- S3, ECR
    s3 = c.s3
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": _tag_list(f"{PROJECT}-alb-logs")})
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_public_access_block(
        Bucket=BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    out["s3_bucket_name"] = BUCKET
    out["s3_bucket_arn"] = f"arn:aws:s3:::{BUCKET}"
    repo = c.ecr.create_repository(
        repositoryName=ECR_REPO,
        imageScanningConfiguration={"scanOnPush": True},
        imageTagMutability="MUTABLE",
        tags=_tag_list(f"{PROJECT}-ecr-node-app"),
    )["repository"]
    out["ecr_repo_name"] = ECR_REPO
    out["repository_url"] = repo["repositoryUri"]
    step("s3 + ecr")

    # ---- ALB
    elb = c.elbv2
    lb = elb.create_load_balancer(
        Name=f"{PROJECT}-alb",
        Subnets=public,
        SecurityGroups=[sg["alb"]],
        Scheme="internet-facing",
        Type="application",
        IpAddressType="ipv4",
        Tags=_tag_list(f"{PROJECT}-alb"),
    )["LoadBalancers"][0]
    out["alb_arn"] = lb["LoadBalancerArn"]
    out["alb_dns_name"] = lb["DNSName"]
    try:
        elb.modify_load_balancer_attributes(
            LoadBalancerArn=lb["LoadBalancerArn"],
            Attributes=[
                {"Key": "access_logs.s3.enabled", "Value": "true"},
                {"Key": "access_logs.s3.bucket", "Value": BUCKET},
                {"Key": "access_logs.s3.prefix", "Value": "alb_access_logs"},
            ],
        )
    except ClientError as e:
        notes.append(f"ALB access-log attributes rejected: {e}")
    tg = elb.create_target_group(
        Name=f"{PROJECT}-tg",
        Protocol="HTTP",
        Port=APP_PORT,
        VpcId=vpc_id,
        TargetType="instance",
        HealthCheckEnabled=True,
        HealthCheckProtocol="HTTP",
        HealthCheckPort="traffic-port",
        HealthCheckPath="/health",
        HealthCheckIntervalSeconds=30,
        HealthCheckTimeoutSeconds=5,
        HealthyThresholdCount=3,
        UnhealthyThresholdCount=5,
        Tags=_tag_list(f"{PROJECT}-tg"),
    )["TargetGroups"][0]
    elb.register_targets(
        TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": inst["InstanceId"], "Port": APP_PORT}]
    )
    out["alb_target_group_arn"] = tg["TargetGroupArn"]
    listeners = {}
    try:
        cert_pem, key_pem = _self_signed_cert(CERT_DOMAIN)
        cert_arn = c.acm.import_certificate(
            Certificate=cert_pem, PrivateKey=key_pem, Tags=_tag_list(f"{PROJECT}-cert")
        )["CertificateArn"]
        out["acm_certificate_arn"] = cert_arn
        listeners["https"] = elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"],
            Protocol="HTTPS",
            Port=443,
            SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
            Certificates=[{"CertificateArn": cert_arn}],
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
        )["Listeners"][0]["ListenerArn"]
        http_action = {
            "Type": "redirect",
            "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
        }
    except ClientError as e:
        notes.append(f"HTTPS listener not possible in moto ({e}); HTTP:80 forwards instead")
        http_action = {"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}
    listeners["http"] = elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=[http_action]
    )["Listeners"][0]["ListenerArn"]
    out["alb_listener_arns"] = listeners
    step("alb")

    out["seed_timings"] = {k: round(v, 3) for k, v in timings}
    return out


# --------------------------------------------------------------------------- outputs


def terraform_outputs(f: dict) -> dict:
    """`terraform output -json` of the reference project, from the seeded facts."""

    def o(v, typ="string", sensitive=False):
        return {"sensitive": sensitive, "type": typ, "value": v}

    return {
        "vpc_id": o(f["vpc_id"]),
        "rds_dbi": o(f["rds_dbi"]),
        "rds_proxy_prx_id": o(f["rds_proxy_prx_id"]),
        "rds_proxy_arn": o(f["rds_proxy_arn"]),
        "rds_proxy_endpoint": o(f["rds_proxy_endpoint"]),
        "rds_master_secret_arn": o(f["rds_master_secret_arn"]),
        "rds_proxy_iam_role_arn": o(f["proxy_role_arn"]),
        "ec2_security_group": o(f["security_groups"]["ec2"]),
        "rds_security_group": o(f["security_groups"]["rds"]),
        "rds_proxy_security_group": o(f["security_groups"]["proxy"]),
        "rds_db_secret_name": o(f["rds_db_secret_name"]),
        "secret_name": o(f["secret_name"]),
        "rds_address": o(f["rds_address"]),
        "ecr_repo_name": o(f["ecr_repo_name"]),
        "repository_url": o(f["repository_url"]),
        "ec2_instance_profile_name": o(f["instance_profile_name"]),
        "ec2_instance_id": o(f["ec2_instance_id"]),
        "ec2_instance_private_ip": o(f["ec2_instance_private_ip"]),
        "alb_security_group": o(f["security_groups"]["alb"]),
        "s3_bucket_name": o(f["s3_bucket_name"]),
        "s3_bucket_arn": o(f["s3_bucket_arn"]),
        "alb_dns_name": o(f["alb_dns_name"]),
        "alb_target_group_arn": o(f["alb_target_group_arn"]),
    }


def rds_conf(f: dict) -> str:
    return (
        f'RDS_ENDPOINT="{f["rds_address"]}"\n'
        f'REGION="{REGION}"\n'
        f'MASTER_SECRET_NAME="{f["secret_name"]}"\n'
        f'DB_NAME="{DB_NAME}"\n'
        f'IAM_ADMIN_USER="{IAM_ADMIN_USER}"\n'
    )


def _write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def env_vars(endpoint: str, env_file: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_EC2_METADATA_DISABLED": "true",
        "RDSDECK_SANDBOX": "1",
        "RDSDECK_SANDBOX_ENDPOINT": endpoint,
        "RDSDECK_SANDBOX_TF_OUTPUT": f"{env_file}.terraform-output.json",
        "RDSDECK_SANDBOX_RDS_CONF": f"{env_file}.rds.conf",
        "RDSDECK_SANDBOX_FACTS": f"{env_file}.facts.json",
        "RDSDECK_SANDBOX_MOTO_LOG": f"{env_file}.moto.log",
    }
    env.update(extra or {})
    return env


def write_env_files(env_file: str, endpoint: str, facts: dict,
                    extra: dict[str, str] | None = None) -> dict[str, str]:
    env = env_vars(endpoint, env_file, extra)
    _write_atomic(env["RDSDECK_SANDBOX_TF_OUTPUT"], json.dumps(terraform_outputs(facts), indent=2) + "\n")
    _write_atomic(env["RDSDECK_SANDBOX_RDS_CONF"], rds_conf(facts))
    _write_atomic(env["RDSDECK_SANDBOX_FACTS"], json.dumps(facts, indent=2, sort_keys=True) + "\n")
    body = "".join(f"{k}={v}\n" for k, v in env.items())
    _write_atomic(env_file, body)
    return env


# --------------------------------------------------------------------------- moto process


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load_libc():
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return None


# Loaded up front: the preexec hook runs between fork and exec while other threads (the DB
# preparation) may hold the import lock, so it must not import anything.
_LIBC = _load_libc()


def _pdeathsig() -> None:
    """Child-side: get SIGKILLed when the sandbox process dies (Linux), even by SIGKILL.

    (Strictly: when the *thread* that spawned the child exits, so spawn from the main thread.)
    """
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _post(url: str, timeout: float = 5.0) -> bytes:
    req = urllib.request.Request(url, data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


class Moto:
    def __init__(self, log_path: str):
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, port: int, timeout: float = 30.0, while_booting=None) -> None:
        exe = os.path.join(os.path.dirname(sys.executable), "moto_server")
        if not os.path.exists(exe):
            raise SandboxError(f"{exe} not found: run sandbox/setup-venv and use its python")
        if port and not _port_is_free(port):
            raise SandboxError(f"port {port} on 127.0.0.1 is already in use")
        attempts = 5 if port == 0 else 1
        last = ""
        for attempt in range(attempts):
            self.port = port or _free_port()
            logf = open(self.log_path, "ab" if attempt else "wb")
            env = {k: v for k, v in os.environ.items() if not k.startswith("MOTO_")}
            env["MOTO_PORT"] = str(self.port)
            # So the EC2 role can attach AmazonSSMManagedInstanceCore & co. like the real stack.
            env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
            env.setdefault("PYTHONUNBUFFERED", "1")
            self.proc = subprocess.Popen(
                [exe, "-H", "127.0.0.1", "-p", str(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_pdeathsig,
                env=env,
                close_fds=True,
            )
            logf.close()
            if while_booting is not None:
                while_booting(self.endpoint)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    body = _post(f"{self.endpoint}/moto-api/reset", timeout=2)
                    if b'"ok"' not in body:
                        raise SandboxError(f"{self.endpoint} is not moto (reset answered {body[:80]!r})")
                    if self.proc.poll() is None:
                        _post(f"{self.endpoint}/moto-api/seed?a={SEED}", timeout=5)
                        return
                    last = f"port {self.port} answered but moto exited: {body[:80]!r}"
                    break
                except (urllib.error.URLError, ConnectionError, OSError) as e:
                    last = str(e)
                    time.sleep(0.05)
            rc = self.proc.poll()
            if rc is None:
                self.stop()
                raise SandboxError(f"moto_server did not answer on {self.endpoint} within {timeout}s ({last})")
            last = f"moto_server exited with {rc} on port {self.port} (see {self.log_path})"
            self.proc = None
        raise SandboxError(last)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and (self.ssm is None or self.ssm.poll() is None)

    ssm: subprocess.Popen | None = None

    def start_ssm(self, facts: dict, db_env: dict, log_path: str, timeout: float = 20.0) -> dict[str, str]:
        """The Session Manager stand-in (ssm/standin.py) in front of moto's SSM: the session API
        and the data-channel agent. Returns its env vars."""
        ready = log_path + ".port"
        try:
            os.unlink(ready)
        except FileNotFoundError:
            pass
        argv = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "ssm", "standin.py"), "--moto", self.endpoint,
                "--db-host", db_env.get("RDSDECK_SANDBOX_DB_HOST", "localhost"),
                "--db-port", db_env.get("RDSDECK_SANDBOX_DB_PORT", "0"), "--ready-file", ready]
        for alias in (facts.get("rds_proxy_endpoint"), facts.get("rds_address")):
            if alias:
                argv += ["--alias", alias]
        if facts.get("ec2_instance_id"):
            argv += ["--instance", facts["ec2_instance_id"]]
        logf = open(log_path, "wb")
        self.ssm = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                    start_new_session=True, preexec_fn=_pdeathsig, close_fds=True)
        logf.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ssm.poll() is not None:
                raise SandboxError(f"the SSM stand-in exited with {self.ssm.returncode} (see {log_path})")
            if os.path.exists(ready):
                port = open(ready).read().strip()
                url = f"http://127.0.0.1:{port}"
                return {"AWS_ENDPOINT_URL_SSM": url, "RDSDECK_SANDBOX_SSM_ENDPOINT": url, "RDSDECK_SANDBOX_SSM_LOG": log_path}
            time.sleep(0.05)
        raise SandboxError(f"the SSM stand-in did not start within {timeout}s (see {log_path})")

    def stop(self) -> None:
        """Kill moto's whole process group (and the SSM stand-in's) and reap them.

        SIGKILL straight away: moto keeps nothing worth flushing, and after seeding its
        SIGTERM path (sys.exit + interpreter teardown) takes ~0.7 s for nothing.
        """
        q, self.ssm = self.ssm, None
        if q is not None:
            try:
                os.killpg(q.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            q.wait(timeout=10)
        p, self.proc = self.proc, None
        if p is None:
            return
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log(f"moto_server (pid {p.pid}) did not die after SIGKILL")


# --------------------------------------------------------------------------- commands


def _install_stop_handlers() -> None:
    def handler(signum, _frame):
        raise Stop(signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def _new_db(args):
    """The database side (sandbox/db/), prepared in the background while moto starts."""
    if not args.db:
        return None
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "db"))
    import sandboxdb

    try:
        db = sandboxdb.SandboxDB(
            python=sys.executable,
            credentials=[{"access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET_ACCESS_KEY}],
            region=REGION,
            plain=args.with_plain_db,
        )
    except sandboxdb.DBError as e:
        raise SandboxError(str(e)) from None
    db.prepare_async()
    return db


def _start_db(db, c: Clients, facts: dict, args) -> dict[str, str]:
    """Start the prepared DB, load it, point the stack's SSM parameters at it. Main thread only."""
    import sandboxdb

    t0 = time.monotonic()
    sec = json.loads(c.secretsmanager.get_secret_value(SecretId=facts["rds_master_secret_arn"])["SecretString"])
    try:
        db.start(sec["username"], sec["password"], fresh=args.fresh_db, port=args.db_port)
    except sandboxdb.DBError as e:
        raise SandboxError(str(e)) from None
    # The app (and rdsdeck) find the database through these: the "proxy" is now localhost:PORT.
    for name, value in (("/dev/database/endpoint", db.main.host), ("/dev/database/port", str(db.main.port))):
        c.ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
    facts["database"] = db.facts()
    facts["database"]["ssm"] = {"/dev/database/endpoint": db.main.host, "/dev/database/port": str(db.main.port)}
    facts["database"]["timings"]["after_seed_s"] = round(time.monotonic() - t0, 3)
    return db.env()


def _start(args) -> tuple[Moto, object, str, dict, dict]:
    env_file = os.path.abspath(args.env_file)
    os.makedirs(os.path.dirname(env_file), exist_ok=True)
    # No stale env file from an earlier run may survive a failed start.
    for path in [env_file] + [v for k, v in env_vars("", env_file).items() if k != "RDSDECK_SANDBOX_MOTO_LOG" and v.startswith(env_file)]:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    moto = Moto(f"{env_file}.moto.log")
    t0 = time.monotonic()
    clients: list[Clients] = []
    db = None
    try:
        db = _new_db(args)
        moto.start(args.port, while_booting=lambda ep: clients.append(Clients(ep).preload()))
        t_up = time.monotonic() - t0
        db_env: dict[str, str] = {}
        try:
            if not clients:
                clients.append(Clients(moto.endpoint))
            facts = seed(moto.endpoint, clients[-1])
            t_seeded = time.monotonic() - t0
            if db is not None:
                db_env = _start_db(db, clients[-1], facts, args)
            db_env.update(moto.start_ssm(facts, db_env, f"{env_file}.ssm.log"))
        finally:
            for c in clients:
                c.close()
        facts["endpoint"] = moto.endpoint
        facts["moto_pid"] = moto.proc.pid if moto.proc else None
        facts["timing"] = {"moto_ready_s": round(t_up, 3), "seeded_s": round(t_seeded, 3),
                           "total_s": round(time.monotonic() - t0, 3)}
        env = write_env_files(env_file, moto.endpoint, facts, db_env)
        if not moto.alive():
            raise SandboxError(f"moto_server died during seeding (see {moto.log_path})")
        if db is not None and not db.alive():
            raise SandboxError(f"the sandbox database died while starting (see {db.main.error_log})")
    except BaseException:
        moto.stop()
        if db is not None:
            db.stop()
        raise
    log(f"moto on {moto.endpoint} (pid {facts['moto_pid']}), seeded in {facts['timing']['total_s']}s")
    if db is not None:
        m = facts["database"]["main"]
        log(f"database on localhost:{m['port']} (pid {m['pid']}, TLS, IAM via AWSAuthenticationPlugin"
            + (", fresh: master user only" if args.fresh_db else "")
            + (f"; plain no-TLS server on localhost:{facts['database']['plain']['port']}" if db.plain else "")
            + ")")
    for n in facts.get("notes", []):
        log(f"note: {n}")
    return moto, db, env_file, env, facts


def _stop_all(moto: Moto, db) -> None:
    moto.stop()
    if db is not None:
        db.stop()


def cmd_up(args) -> int:
    _install_stop_handlers()
    moto, db, env_file, env, _facts = _start(args)
    try:
        say(f"READY {env_file}")
        db_lines = ""
        if db is not None:
            db_lines = (
                f"    # the database (RDS Proxy stand-in) on localhost:{env['RDSDECK_SANDBOX_DB_PORT']}, TLS + IAM tokens:\n"
                '    TOKEN=$(aws rds generate-db-auth-token --hostname localhost --port "$RDSDECK_SANDBOX_DB_PORT" --username node_app)\n'
                '    mariadb --protocol=TCP -h localhost -P "$RDSDECK_SANDBOX_DB_PORT" --ssl-ca "$RDSDECK_SANDBOX_DB_CA" \\\n'
                '        --ssl-verify-server-cert -u node_app -p"$TOKEN" node_db\n'
            )
        say(
            "\nThe rdsdeck sandbox is running (moto, us-east-1 seeded; eu-west-1 empty"
            + (", plus the database" if db is not None else "") + ").\n"
            "In another shell:\n"
            f"    set -a; . {env_file}; set +a\n"
            "    rdsdeck            # e.g. target/release/rdsdeck\n"
            f"    aws --endpoint-url {moto.endpoint} rds describe-db-proxies   # venv's aws CLI\n"
            + db_lines
            + ("Stops when stdin closes or on Ctrl-C / SIGTERM.\n" if args.stdin_lifeline else "Ctrl-C (or SIGTERM/SIGHUP) stops it.\n")
        )
        fds = [sys.stdin.fileno()] if args.stdin_lifeline else []
        while True:
            r, _, _ = select.select(fds, [], [], 0.5)
            if r:
                try:
                    data = os.read(fds[0], 4096)
                except OSError:
                    data = b""
                if not data:
                    log("stdin closed: stopping")
                    break
            if not moto.alive():
                log(f"moto_server exited unexpectedly (see {moto.log_path})")
                return 1
            if db is not None and not db.alive():
                log(f"the sandbox database exited unexpectedly (see {db.main.error_log})")
                return 1
    except (KeyboardInterrupt, Stop):
        log("stopping")
    finally:
        _stop_all(moto, db)
    return 0


def cmd_run(args) -> int:
    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        raise SandboxError("run: missing command (sandbox.py run -- CMD ARGS...)")
    _install_stop_handlers()
    moto, db, _env_file, env, _facts = _start(args)
    child: subprocess.Popen | None = None
    try:
        full_env = dict(os.environ)
        full_env.update(env)
        # Like a shell: Ctrl-C goes to the foreground command; we wait for it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            child = subprocess.Popen(cmd, env=full_env)
        except OSError as e:
            log(f"cannot run {cmd[0]}: {e}")
            return 127

        def forward(signum, _frame):
            if child and child.poll() is None:
                child.send_signal(signum)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGHUP, forward)
        rc = child.wait()
        return 128 - rc if rc < 0 else rc
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        _stop_all(moto, db)


def cmd_seed(args) -> int:
    endpoint = args.endpoint.rstrip("/")
    if args.reset:
        _post(f"{endpoint}/moto-api/reset")
        _post(f"{endpoint}/moto-api/seed?a={SEED}")
    facts = seed(endpoint)
    print(json.dumps(facts, indent=2, sort_keys=True))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="sandbox.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--env-file", default=os.path.join(".sandbox", "env"),
                       help="where to write the env file (default .sandbox/env under the CWD)")
        p.add_argument("--port", type=int, default=0, help="moto port (0 = a free port, the default)")
        g = p.add_mutually_exclusive_group()
        g.add_argument("--with-db", "--db", dest="db", action="store_true", default=DB_DEFAULT,
                       help="start the sandbox database (MariaDB playing RDS Proxy + RDS)"
                       + (" (the default)" if DB_DEFAULT else ""))
        g.add_argument("--no-db", dest="db", action="store_false",
                       help="AWS APIs only, no database" + ("" if DB_DEFAULT else " (the default)"))
        p.add_argument("--fresh-db", action="store_true",
                       help="database without the IAM users (only the master user): for bootstrap tests")
        p.add_argument("--with-plain-db", action="store_true",
                       help="also start a database server without TLS (RDSDECK_SANDBOX_PLAIN_DB_PORT)")
        p.add_argument("--db-port", type=int, default=0, help="database port (0 = a free port, the default)")

    p_up = sub.add_parser("up", help="start moto, seed it, wait")
    common(p_up)
    p_up.add_argument("--stdin-lifeline", action="store_true", help="also stop when stdin reaches EOF")
    p_run = sub.add_parser("run", help="start moto, seed it, run CMD with its env, stop")
    common(p_run)
    p_run.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    p_seed = sub.add_parser("seed", help="seed an already running moto")
    p_seed.add_argument("--endpoint", required=True, help="e.g. http://127.0.0.1:5000")
    p_seed.add_argument("--reset", action="store_true",
                        help=f"POST /moto-api/reset and /moto-api/seed?a={SEED} first")
    args = ap.parse_args(argv)
    if args.command in ("up", "run") and not args.db and (args.fresh_db or args.with_plain_db or args.db_port):
        ap.error("--fresh-db, --with-plain-db and --db-port need the database (drop --no-db)")

    try:
        return {"up": cmd_up, "run": cmd_run, "seed": cmd_seed}[args.command](args)
    except (KeyboardInterrupt, Stop):
        log("interrupted")
        return 130
    except SandboxError as e:
        log(f"error: {e}")
        return 1
    except Exception as e:  # botocore errors during seeding, etc.
        log(f"error: {type(e).__name__}: {e}")
        return 1


if __name__ == "__main__":
    _ensure_venv()
    os.environ.pop("RDSDECK_SANDBOX_REEXEC", None)
    sys.exit(main())
