#!/usr/bin/env python3
"""Writes src/stack/api/model.json: the part of AWS's service models (botocore's
service-2.json, installed with the sandbox's venv) that `rdsdeck describe`
needs to read the describe calls' raw responses the way the AWS CLI reads
them: for each operation its output shape (and result wrapper), and every shape
reachable from it with its members' names, wire names (locationName) and types.

    $(sandbox/setup-venv)/bin/python tools/describe_model.py > src/stack/api/model.json

Run it again after adding an operation to OPERATIONS; the file is data, not code.
"""
import json
import sys

import botocore.session

# service → operations `rdsdeck describe` calls
OPERATIONS = {
    "rds": ["DescribeDBProxies", "DescribeDBProxyTargetGroups", "DescribeDBProxyTargets", "DescribeDBInstances"],
    "ec2": ["DescribeInstances", "DescribeSecurityGroups", "DescribeSubnets", "DescribeVpcs"],
    "ssm": ["GetParametersByPath", "GetParameters"],
    "secretsmanager": ["ListSecrets"],
    "elbv2": ["DescribeLoadBalancers"],
    "ecr": ["DescribeRepositories"],
    "s3": ["ListBuckets"],
}


def main():
    session = botocore.session.get_session()
    out = {}
    for service, ops in OPERATIONS.items():
        model = session.get_service_model(service)
        raw = session.get_component("data_loader").load_service_model(service, "service-2")
        shapes = raw["shapes"]
        keep = {}

        def walk(name):
            if name in keep:
                return
            s = shapes[name]
            t = s["type"]
            entry = {"type": t}
            keep[name] = entry
            if t == "structure":
                members = []
                for m, ref in s.get("members", {}).items():
                    member = {"name": m, "shape": ref["shape"]}
                    if "locationName" in ref:
                        member["wire"] = ref["locationName"]
                    if ref.get("location") in ("header", "headers", "statusCode"):
                        member["location"] = ref["location"]
                    members.append(member)
                    walk(ref["shape"])
                entry["members"] = members
            elif t == "list":
                ref = s["member"]
                entry["member"] = ref["shape"]
                if "locationName" in ref:
                    entry["wire"] = ref["locationName"]
                if s.get("flattened"):
                    entry["flattened"] = True
                walk(ref["shape"])
            elif t == "map":
                for side in ("key", "value"):
                    entry[side] = s[side]["shape"]
                    if "locationName" in s[side]:
                        entry[side + "_wire"] = s[side]["locationName"]
                    walk(s[side]["shape"])
                if s.get("flattened"):
                    entry["flattened"] = True

        operations = {}
        for op in ops:
            o = raw["operations"][op]["output"]
            operations[op] = {"output": o["shape"]}
            if "resultWrapper" in o:
                operations[op]["wrapper"] = o["resultWrapper"]
            walk(o["shape"])
        out[service] = {"protocol": model.protocol, "operations": operations, "shapes": dict(sorted(keep.items()))}
    json.dump(out, sys.stdout, indent=None, separators=(",", ":"), sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
