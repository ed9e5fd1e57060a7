"""Seeding the sandbox's moto with the rds-iam-auth stack, one module per kind of
resource (network, iam, compute, database, config, storage, alb), in the order
Terraform would create them; and the outputs derived from what was created
(`terraform output -json`, the seed's rds.conf)."""

from __future__ import annotations

import time

from stack import ACCESS_KEY_ID, DB_NAME, IAM_ADMIN_USER, REGION, SECRET_ACCESS_KEY

from . import alb, compute, config, database, iam, network, storage

# (label for the timings, step): each step reads the facts earlier ones wrote.
STEPS = [
    ("vpc", network.vpc),
    ("network", network.subnets_and_routes),
    ("security groups", network.security_groups),
    ("iam", iam.roles),
    ("ec2 instance", compute.app_host),
    ("rds instance", database.instance),
    ("rds proxy", database.proxy),
    ("ssm + secrets", config.parameters),
    ("iam policies", iam.inline_policies),
    ("operator", iam.operator),
    ("s3", storage.bucket),
    ("ecr", storage.repository),
    ("alb", alb.load_balancer),
]


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


def seed(endpoint: str, clients: Clients | None = None) -> dict:
    """Create the rds-iam-auth stack in us-east-1. Returns the facts (ids, arns, notes)."""
    own = clients is None or clients.endpoint != endpoint
    c = Clients(endpoint) if own else clients
    try:
        out: dict = {"notes": []}
        timings = {}
        for label, step in STEPS:
            t = time.monotonic()
            step(c, out)
            timings[label] = round(time.monotonic() - t, 3)
        out["seed_timings"] = timings
        return out
    finally:
        if own:
            c.close()


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
