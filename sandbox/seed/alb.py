"""The load balancer: the internet-facing ALB in the public subnets, its target
group with the app host, and its listeners (HTTPS with an imported certificate
when moto allows it, HTTP redirecting to it)."""

from __future__ import annotations

import datetime as _dt

from stack import APP_PORT, BUCKET, CERT_DOMAIN, PROJECT, tag_list


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


def load_balancer(c, out: dict) -> None:
    from botocore.exceptions import ClientError

    elb, notes = c.elbv2, out["notes"]
    lb = elb.create_load_balancer(
        Name=f"{PROJECT}-alb",
        Subnets=out["public_subnet_ids"],
        SecurityGroups=[out["security_groups"]["alb"]],
        Scheme="internet-facing",
        Type="application",
        IpAddressType="ipv4",
        Tags=tag_list(f"{PROJECT}-alb"),
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
        VpcId=out["vpc_id"],
        TargetType="instance",
        HealthCheckEnabled=True,
        HealthCheckProtocol="HTTP",
        HealthCheckPort="traffic-port",
        HealthCheckPath="/health",
        HealthCheckIntervalSeconds=30,
        HealthCheckTimeoutSeconds=5,
        HealthyThresholdCount=3,
        UnhealthyThresholdCount=5,
        Tags=tag_list(f"{PROJECT}-tg"),
    )["TargetGroups"][0]
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": out["ec2_instance_id"], "Port": APP_PORT}])
    out["alb_target_group_arn"] = tg["TargetGroupArn"]
    listeners = {}
    try:
        cert_pem, key_pem = _self_signed_cert(CERT_DOMAIN)
        cert_arn = c.acm.import_certificate(Certificate=cert_pem, PrivateKey=key_pem, Tags=tag_list(f"{PROJECT}-cert"))["CertificateArn"]
        out["acm_certificate_arn"] = cert_arn
        listeners["https"] = elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"],
            Protocol="HTTPS",
            Port=443,
            SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
            Certificates=[{"CertificateArn": cert_arn}],
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
        )["Listeners"][0]["ListenerArn"]
        http_action = {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}
    except ClientError as e:
        notes.append(f"HTTPS listener not possible in moto ({e}); HTTP:80 forwards instead")
        http_action = {"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}
    listeners["http"] = elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=[http_action]
    )["Listeners"][0]["ListenerArn"]
    out["alb_listener_arns"] = listeners
