#!/usr/bin/env python3
"""Whole-process timing: `rdsdeck token` versus `aws rds generate-db-auth-token`
(PyPI awscli v1), same flags, same static credentials, no network for either.

    $(sandbox/setup-venv)/bin/python bench/token_vs_awscli.py [RDSDECK_BINARY] [-n 30]

Prints median / p90 per side and the ratio; also checks both print a token of
the same shape for the same inputs.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    ap.add_argument("binary", nargs="?", default=os.path.join(target, "release", "rdsdeck"))
    ap.add_argument("-n", type=int, default=30)
    a = ap.parse_args()
    if not os.access(a.binary, os.X_OK):
        sys.exit(f"token_vs_awscli: no binary at {a.binary}: cargo build --release")
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    home = tempfile.mkdtemp()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_EC2_METADATA_DISABLED": "true",
        "XDG_STATE_HOME": home,
        "XDG_CONFIG_HOME": home,
    }
    flags = ["--hostname", "dev-node-app.proxy-c0ffee.us-east-1.rds.amazonaws.com", "--port", "3306",
             "--username", "node_app", "--region", "us-east-1"]
    cmds = {"rdsdeck token": [a.binary, "token", *flags], "aws rds generate-db-auth-token": [aws, "rds", "generate-db-auth-token", *flags]}
    outs = {}
    for name, cmd in cmds.items():
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"{name} failed: {r.stderr}")
        outs[name] = r.stdout.strip()
    shape = [o.split("X-Amz-Date=")[0] for o in outs.values()]
    if shape[0] != shape[1]:
        sys.exit(f"tokens differ in shape:\n{outs}")
    times = {k: [] for k in cmds}
    for i in range(a.n):
        for name, cmd in cmds.items():
            t = time.perf_counter()
            subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times[name].append(time.perf_counter() - t)
    def p90(v):
        return sorted(v)[int(0.9 * (len(v) - 1))]
    print(f"{'':34} {'runs':>5} {'median':>10} {'p90':>10}")
    for name, v in times.items():
        print(f"{name:34} {len(v):>5} {statistics.median(v)*1000:>8.1f}ms {p90(v)*1000:>8.1f}ms")
    r = statistics.median(times["aws rds generate-db-auth-token"]) / statistics.median(times["rdsdeck token"])
    print(f"{'ratio aws / rdsdeck (median)':34} {'':>5} {r:>9.1f}x")


if __name__ == "__main__":
    main()
