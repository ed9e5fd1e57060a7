"""The network: the VPC, public and private subnets, the NAT and routes, and the
security groups with the rules on the 3306 path (EC2 -> proxy -> RDS)."""

from __future__ import annotations

from stack import (APP_PORT, AZS, DB_PORT, PRIVATE_CIDRS, PROJECT, PUBLIC_CIDRS, VPC_CIDR,
                   ec2_tag_spec)


def vpc(c, out: dict) -> None:
    ec2 = c.ec2
    vpc_id = ec2.create_vpc(CidrBlock=VPC_CIDR, TagSpecifications=ec2_tag_spec("vpc", f"{PROJECT}-vpc"))["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    out["vpc_id"] = vpc_id


def subnets_and_routes(c, out: dict) -> None:
    ec2, vpc_id = c.ec2, out["vpc_id"]
    igw_id = ec2.create_internet_gateway(
        TagSpecifications=ec2_tag_spec("internet-gateway", f"{PROJECT}-igw")
    )["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    out["igw_id"] = igw_id

    def subnets(kind: str, cidrs: list[str]) -> list[str]:
        ids = []
        for i, az in enumerate(AZS):
            sid = ec2.create_subnet(
                VpcId=vpc_id,
                CidrBlock=cidrs[i],
                AvailabilityZone=az,
                TagSpecifications=ec2_tag_spec("subnet", f"{PROJECT}-{kind}-subnet-{i + 1}"),
            )["Subnet"]["SubnetId"]
            if kind == "public":
                ec2.modify_subnet_attribute(SubnetId=sid, MapPublicIpOnLaunch={"Value": True})
            ids.append(sid)
        return ids

    public, private = subnets("public", PUBLIC_CIDRS), subnets("private", PRIVATE_CIDRS)
    out["public_subnet_ids"], out["private_subnet_ids"] = public, private

    eip = ec2.allocate_address(Domain="vpc", TagSpecifications=ec2_tag_spec("elastic-ip", f"{PROJECT}-nat-eip"))
    nat_id = ec2.create_nat_gateway(
        SubnetId=public[0],
        AllocationId=eip["AllocationId"],
        TagSpecifications=ec2_tag_spec("natgateway", f"{PROJECT}-nat-gw"),
    )["NatGateway"]["NatGatewayId"]
    out["nat_gateway_id"] = nat_id

    rt_pub = ec2.create_route_table(
        VpcId=vpc_id, TagSpecifications=ec2_tag_spec("route-table", f"{PROJECT}-public-rt")
    )["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt_pub, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
    rt_priv = ec2.create_route_table(
        VpcId=vpc_id, TagSpecifications=ec2_tag_spec("route-table", f"{PROJECT}-private-rt")
    )["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt_priv, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat_id)
    for sid in public:
        ec2.associate_route_table(RouteTableId=rt_pub, SubnetId=sid)
    for sid in private:
        ec2.associate_route_table(RouteTableId=rt_priv, SubnetId=sid)
    out["route_table_ids"] = {"public": rt_pub, "private": rt_priv}


def security_groups(c, out: dict) -> None:
    ec2 = c.ec2
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
            GroupName=name, Description=desc, VpcId=out["vpc_id"], TagSpecifications=ec2_tag_spec("security-group", name)
        )["GroupId"]

    def from_sg(port: int, src: str, desc: str):
        return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "UserIdGroupPairs": [{"GroupId": sg[src], "Description": desc}]}

    ec2.authorize_security_group_ingress(
        GroupId=sg["proxy"], IpPermissions=[from_sg(DB_PORT, "ec2", "Allow Incoming request on 3306 from EC2 Instance")]
    )
    ec2.authorize_security_group_ingress(
        GroupId=sg["rds"], IpPermissions=[from_sg(DB_PORT, "proxy", "Allow Incoming request on 3306 from RDS Proxy")]
    )
    ec2.authorize_security_group_ingress(
        GroupId=sg["ec2"], IpPermissions=[from_sg(APP_PORT, "alb", "Allow Incoming request on 3000 from ALB Security Group")]
    )
    ec2.authorize_security_group_ingress(
        GroupId=sg["alb"],
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": p, "ToPort": p, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": d}]}
            for p, d in ((443, "Allow Incoming request on https port 443"), (80, "Allow Incoming request on http port 80"))
        ],
    )
    # Egress: each SG keeps the default allow-all rule that moto (like AWS) creates.
    out["security_groups"] = sg
