"""Storage: the ALB's access-log bucket (versioned, encrypted, private) and the app's ECR repository."""

from __future__ import annotations

from stack import BUCKET, ECR_REPO, PROJECT, tag_list


def bucket(c, out: dict) -> None:
    s3 = c.s3
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": tag_list(f"{PROJECT}-alb-logs")})
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
    )
    s3.put_public_access_block(
        Bucket=BUCKET,
        PublicAccessBlockConfiguration={"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True},
    )
    out["s3_bucket_name"] = BUCKET
    out["s3_bucket_arn"] = f"arn:aws:s3:::{BUCKET}"


def repository(c, out: dict) -> None:
    repo = c.ecr.create_repository(
        repositoryName=ECR_REPO,
        imageScanningConfiguration={"scanOnPush": True},
        imageTagMutability="MUTABLE",
        tags=tag_list(f"{PROJECT}-ecr-node-app"),
    )["repository"]
    out["ecr_repo_name"] = ECR_REPO
    out["repository_url"] = repo["repositoryUri"]
