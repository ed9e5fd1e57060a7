"""The seed stack's data: names, CIDRs, ports, the sandbox's credentials, and the
tags every resource carries (the reference Terraform project's, so discovery
sees what it would see on AWS). Nothing here talks to anything."""

from __future__ import annotations

REGION = "us-east-1"
EMPTY_REGION = "eu-west-1"  # deliberately left empty: "a region with no proxy"
ACCESS_KEY_ID = "AKIASANDBOXEXAMPLE01"
SECRET_ACCESS_KEY = "sandboxSecretAccessKeyEXAMPLEonlyForMoto01"
SEED = 42

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


def tags(name: str | None = None, **extra: str) -> dict[str, str]:
    t = dict(BASE_TAGS)
    if name is not None:
        t["Name"] = name
    t.update(extra)
    return t


def tag_list(name: str | None = None, key: str = "Key", value: str = "Value", **extra: str):
    return [{key: k, value: v} for k, v in tags(name, **extra).items()]


def ec2_tag_spec(resource_type: str, name: str):
    return [{"ResourceType": resource_type, "Tags": tag_list(name)}]
