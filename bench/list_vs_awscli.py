#!/usr/bin/env python3
"""Whole-process timing: `rdsdeck list -o json` versus the aws CLI calls an operator runs by hand.

Starts its own sandbox (sandbox/sandbox.py up, moto on a free loopback port), then, N times
(interleaved, after untimed warm-up rounds), times:

  * one run of `rdsdeck list -o json` (exit 0 and a stack with the proxy required), and
  * the equivalent sequence of aws CLI v1 calls, one after another (each must exit 0).

Prints median / p90 per side and the ratio; `--json FILE` also writes the raw numbers.

    $(sandbox/setup-venv)/bin/python bench/list_vs_awscli.py [RDSDECK_BINARY] [-n 15] [--json out.json]

The binary defaults to $CARGO_TARGET_DIR/release/rdsdeck, else target/release/rdsdeck.
Each process runs with a clean environment: PATH, a temp HOME (no ~/.aws), temp XDG dirs,
and the sandbox's env file. awscli v1 ignores AWS_ENDPOINT_URL for rds in us-east-1, so every
aws call gets --endpoint-url explicitly.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import NoReturn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SANDBOX_TIMEOUT_S = 60.0
RUN_TIMEOUT_S = 120.0
PROXY = "dev-node-app"
PARAMETER_PREFIX = "/dev/database/"


def die(msg: str) -> NoReturn:
    print(f"list_vs_awscli: error: {msg}", file=sys.stderr)
    sys.exit(1)


def venv_dir() -> str:
    """The sandbox venv (sandbox/setup-venv is a fast no-op when it is up to date)."""
    out = subprocess.run([os.path.join(ROOT, "sandbox", "setup-venv")], stdin=subprocess.DEVNULL,
                         capture_output=True, text=True)
    if out.returncode != 0:
        die(f"sandbox/setup-venv failed ({out.returncode}):\n{out.stderr}")
    return out.stdout.strip().splitlines()[-1]


def default_binary() -> str:
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    cands = [os.path.join(target, "release", "rdsdeck"), os.path.join(ROOT, "target", "release", "rdsdeck")]
    for c in cands:
        if os.access(c, os.X_OK):
            return c
    die("no release binary (looked at " + ", ".join(cands) + "): run `cargo build --release` or pass its path")


class Sandbox:
    """`sandbox.py up --stdin-lifeline`: closing its stdin stops it."""

    def __init__(self, python: str, workdir: str):
        self.env_file = os.path.join(workdir, "env")
        self.stderr_path = os.path.join(workdir, "sandbox.stderr")
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [python, os.path.join(ROOT, "sandbox", "sandbox.py"), "up", "--stdin-lifeline",
             "--env-file", self.env_file],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, cwd=workdir,
        )
        lines: queue.Queue = queue.Queue()

        def pump():
            for raw in self.proc.stdout:
                lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + SANDBOX_TIMEOUT_S
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                die(f"the sandbox did not print READY within {SANDBOX_TIMEOUT_S:.0f}s:\n{self.stderr()}")
            if line is None:
                self.stop()
                die(f"the sandbox exited before READY:\n{self.stderr()}")
            if line.startswith("READY "):
                break
        self.vars = {}
        with open(line[len("READY "):].strip(), encoding="utf-8") as fh:
            for l in fh:
                l = l.strip()
                if l and not l.startswith("#") and "=" in l:
                    k, v = l.split("=", 1)
                    self.vars[k] = v
        with open(self.vars["RDSDECK_SANDBOX_FACTS"], encoding="utf-8") as fh:
            self.facts = json.load(fh)

    def stderr(self) -> str:
        try:
            with open(self.stderr_path, encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()


def clean_env(home_root: str, sandbox_vars: dict) -> dict:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.path.join(home_root, "home"),
        "XDG_CONFIG_HOME": os.path.join(home_root, "config"),
        "XDG_STATE_HOME": os.path.join(home_root, "state"),
        "LANG": "C.UTF-8",
    }
    for d in ("home", "config", "state"):
        os.makedirs(os.path.join(home_root, d), exist_ok=True)
    env.update(sandbox_vars)
    return env


def timed(argv: list, env: dict) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    try:
        cp = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        die(f"{' '.join(argv)} did not finish within {RUN_TIMEOUT_S:.0f}s")
    return time.perf_counter() - t0, cp


def check(cp: subprocess.CompletedProcess, argv: list) -> None:
    if cp.returncode != 0:
        die(f"{' '.join(argv)} exited {cp.returncode}:\n{cp.stderr.decode('utf-8', 'replace')[-2000:]}")


def aws_sequence(aws: str, endpoint: str, facts: dict) -> list[tuple[str, list]]:
    """What an operator runs to see the same stack, one call after another."""
    vpc = facts["vpc_id"]
    vpc_filter = ["--filters", f"Name=vpc-id,Values={vpc}"]
    calls = [
        ("sts get-caller-identity", ["sts", "get-caller-identity"]),
        ("rds describe-db-proxies", ["rds", "describe-db-proxies"]),
        ("rds describe-db-proxy-target-groups", ["rds", "describe-db-proxy-target-groups", "--db-proxy-name", PROXY]),
        ("rds describe-db-proxy-targets", ["rds", "describe-db-proxy-targets", "--db-proxy-name", PROXY]),
        ("rds describe-db-instances", ["rds", "describe-db-instances"]),
        ("ec2 describe-instances", ["ec2", "describe-instances", *vpc_filter]),
        ("ec2 describe-security-groups", ["ec2", "describe-security-groups", *vpc_filter]),
        ("ec2 describe-subnets", ["ec2", "describe-subnets", *vpc_filter]),
        ("ec2 describe-vpcs", ["ec2", "describe-vpcs", "--vpc-ids", vpc]),
        ("ssm get-parameters-by-path", ["ssm", "get-parameters-by-path", "--path", PARAMETER_PREFIX, "--recursive"]),
        ("secretsmanager list-secrets", ["secretsmanager", "list-secrets"]),
        ("elbv2 describe-load-balancers", ["elbv2", "describe-load-balancers"]),
        ("elbv2 describe-target-groups", ["elbv2", "describe-target-groups"]),
        ("elbv2 describe-target-health",
         ["elbv2", "describe-target-health", "--target-group-arn", facts["alb_target_group_arn"]]),
        ("ecr describe-repositories", ["ecr", "describe-repositories"]),
        ("s3api list-buckets", ["s3api", "list-buckets"]),
    ]
    return [(label, [aws, "--endpoint-url", endpoint, "--output", "json", *args]) for label, args in calls]


def aws_version(aws: str) -> str:
    cp = subprocess.run([aws, "--version"], capture_output=True, text=True)
    return (cp.stdout or cp.stderr).strip()


def p90(xs: list[float]) -> float:
    s = sorted(xs)
    return s[max(0, math.ceil(0.9 * len(s)) - 1)]


def summary(xs: list[float]) -> dict:
    return {"runs": len(xs), "median_s": statistics.median(xs), "p90_s": p90(xs), "min_s": min(xs),
            "max_s": max(xs), "mean_s": statistics.fmean(xs)}


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", nargs="?", help="rdsdeck binary (default: $CARGO_TARGET_DIR/release/rdsdeck)")
    ap.add_argument("-n", "--runs", type=int, default=15, help="timed runs per side (default 15)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("-v", "--verbose", action="store_true", help="also print each aws call's median")
    args = ap.parse_args()
    if args.runs < 1:
        die("--runs must be at least 1")

    binary = os.path.abspath(args.binary) if args.binary else default_binary()
    if not os.access(binary, os.X_OK):
        die(f"{binary} is not an executable")
    venv = venv_dir()
    python, aws = os.path.join(venv, "bin", "python"), os.path.join(venv, "bin", "aws")
    if not os.access(aws, os.X_OK):
        die(f"{aws} not found: the sandbox venv should provide awscli v1 (sandbox/requirements.txt)")

    work = tempfile.mkdtemp(prefix="rdsdeck-bench-")
    sandbox = None
    # SIGTERM/SIGHUP: unwind through `finally` so the sandbox stops.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    try:
        print("starting the sandbox ...", file=sys.stderr, flush=True)
        sandbox = Sandbox(python, work)
        endpoint = sandbox.vars["AWS_ENDPOINT_URL"]
        env = clean_env(os.path.join(work, "clean"), sandbox.vars)
        rdsdeck_argv = [binary, "list", "-o", "json"]
        calls = aws_sequence(aws, endpoint, sandbox.facts)
        print(f"sandbox on {endpoint}; {args.warmup} warm-up round(s), then {args.runs} timed runs per side "
              f"(rdsdeck: 1 process; aws: {len(calls)} processes)", file=sys.stderr, flush=True)

        # Sanity: rdsdeck sees the stack.
        _, cp = timed(rdsdeck_argv, env)
        check(cp, rdsdeck_argv)
        doc = json.loads(cp.stdout)
        if doc.get("stack", {}).get("proxy") != PROXY:
            die(f"rdsdeck did not find the proxy {PROXY}: {doc.get('stack')}")
        failed_kinds = sorted(k for k, v in doc.get("kinds", {}).items() if v.get("status") != "ok")

        rd_times: list[float] = []
        aws_times: list[float] = []
        per_call: dict[str, list[float]] = {label: [] for label, _ in calls}
        for i in range(args.warmup + args.runs):
            measured = i >= args.warmup
            # Interleave the two sides so drift (CPU load, moto state) hits both alike.
            dt, cp = timed(rdsdeck_argv, env)
            check(cp, rdsdeck_argv)
            total = 0.0
            for label, argv in calls:
                t, acp = timed(argv, env)
                check(acp, argv)
                total += t
                if measured:
                    per_call[label].append(t)
            if measured:
                rd_times.append(dt)
                aws_times.append(total)
                print(f"  run {i - args.warmup + 1:>3}/{args.runs}: rdsdeck {dt:7.3f}s   aws x{len(calls)} {total:7.3f}s",
                      file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if sandbox is not None:
            sandbox.stop()
        shutil.rmtree(work, ignore_errors=True)

    rd, aw = summary(rd_times), summary(aws_times)
    ratio_median = aw["median_s"] / rd["median_s"]
    ratio_p90 = aw["p90_s"] / rd["p90_s"]
    rows = [("rdsdeck list -o json", rd), (f"aws CLI, {len(calls)} calls in sequence", aw)]
    w = max(len(r[0]) for r in rows)
    print()
    print(f"{'':<{w}}  {'runs':>4}  {'median':>8}  {'p90':>8}  {'min':>8}  {'max':>8}")
    for name, s in rows:
        print(f"{name:<{w}}  {s['runs']:>4}  {s['median_s']:>7.3f}s  {s['p90_s']:>7.3f}s  "
              f"{s['min_s']:>7.3f}s  {s['max_s']:>7.3f}s")
    print(f"{'ratio aws / rdsdeck':<{w}}  {'':>4}  {ratio_median:>7.1f}x  {ratio_p90:>7.1f}x")
    if failed_kinds:
        print(f"note: kinds that rdsdeck reported as failed: {', '.join(failed_kinds)}")
    if args.verbose:
        print()
        for label, ts in per_call.items():
            print(f"  {label:<40} median {statistics.median(ts):.3f}s")

    if args.json:
        result = {
            "binary": binary,
            "rdsdeck_argv": rdsdeck_argv[1:],
            "aws_calls": [label for label, _ in calls],
            "aws_version": aws_version(aws),
            "host": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
            "warmup": args.warmup,
            "rdsdeck": {**rd, "samples_s": rd_times},
            "aws": {**aw, "samples_s": aws_times},
            "aws_per_call_median_s": {k: statistics.median(v) for k, v in per_call.items()},
            "ratio_median": ratio_median,
            "ratio_p90": ratio_p90,
            "rdsdeck_failed_kinds": failed_kinds,
        }
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
