"""The app host: one EC2 instance in private subnet 1, reached only through Session Manager."""

from __future__ import annotations

from stack import PROJECT, UBUNTU_AMI, ec2_tag_spec


def app_host(c, out: dict) -> None:
    inst = c.ec2.run_instances(
        ImageId=UBUNTU_AMI,
        InstanceType="t3.micro",
        MinCount=1,
        MaxCount=1,
        SubnetId=out["private_subnet_ids"][0],
        SecurityGroupIds=[out["security_groups"]["ec2"]],
        IamInstanceProfile={"Name": out["instance_profile_name"]},
        BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 10, "VolumeType": "gp3", "DeleteOnTermination": True}}],
        TagSpecifications=ec2_tag_spec("instance", f"{PROJECT}-node-app"),
    )["Instances"][0]
    out["ec2_instance_id"] = inst["InstanceId"]
    out["ec2_instance_private_ip"] = inst.get("PrivateIpAddress")
