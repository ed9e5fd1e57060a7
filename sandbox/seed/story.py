"""A day in the life of the stack, as CloudWatch would hold it (the pulse view's and the doctor's logs).

Deterministic: every value is a function of the minute (counted back from the start, minute-aligned)
and a fixed seed. The story, in minutes before the start:

* a daily rhythm: more traffic in the afternoon, quieter at night;
* DEPLOY_AGO (180): a deploy goes out with a task role that lacks `rds-db:connect`. For BURST (14)
  minutes every new connection of the new app fails IAM auth (ClientConnectionsSetupFailedAuth,
  IamDbAuthConnectionFailure, ...InsufficientPermissions), the old instances keep their pooled
  connections, clients retry: ClientConnections spikes about 4x, the proxy pins and borrows more,
  latency climbs, the instance's CPU peaks; availability dips for 3 minutes;
* DEPLOY_AGO - 25: the role is fixed, everything settles back.

Resolution as CloudWatch keeps it for what the view asks: 1-minute points for the last 3 hours,
5-minute points to 24 hours, hourly points to 7 days (about 8,600 data points in all).
Matching log events: the instance's `iam-db-auth-error` and `error` logs, the proxy's log, and slow
queries during the spike. Three alarms with their state.
"""

from __future__ import annotations

import datetime as dt
import math
import random

from stack import DB_ID, PROXY_NAME

DEPLOY_AGO = 180
BURST = 14
RECOVERED_AGO = DEPLOY_AGO - 25
SEED = 1701

# (namespace dimension, metric, unit)
PROXY_METRICS = [
    ("ClientConnections", "Count"),
    ("DatabaseConnections", "Count"),
    ("DatabaseConnectionsCurrentlyBorrowed", "Count"),
    ("DatabaseConnectionsCurrentlySessionPinned", "Count"),
    ("ClientConnectionsSetupFailedAuth", "Count"),
    ("QueryRequests", "Count"),
    ("QueryDatabaseResponseLatency", "Microseconds"),
    ("AvailabilityPercentage", "Percent"),
]
INSTANCE_METRICS = [
    ("CPUUtilization", "Percent"),
    ("DatabaseConnections", "Count"),
    ("FreeableMemory", "Bytes"),
    ("IamDbAuthConnectionRequests", "Count"),
    ("IamDbAuthConnectionSuccess", "Count"),
    ("IamDbAuthConnectionFailure", "Count"),
    ("IamDbAuthConnectionFailureInvalidToken", "Count"),
    ("IamDbAuthConnectionFailureInsufficientPermissions", "Count"),
    ("IamDbAuthConnectionFailureThrottling", "Count"),
]


def _phase(ago: int) -> tuple[float, float]:
    """(incident 0..1 with a ramp, auth burst 0/1) at `ago` minutes before the start."""
    since = DEPLOY_AGO - ago  # minutes since the deploy
    if since < 0 or ago < RECOVERED_AGO:
        return 0.0, 0.0
    ramp = min(1.0, (since + 1) / 4) * (1.0 if ago > RECOVERED_AGO + 5 else (ago - RECOVERED_AGO) / 5)
    return max(0.0, ramp), 1.0 if since < BURST else 0.0


def values(ago: int, start: dt.datetime, rng: random.Random) -> dict[tuple[str, str], float]:
    """Every series' value at `ago` minutes before `start`: {(scope, metric): value}."""
    t = start - dt.timedelta(minutes=ago)
    hour = t.hour + t.minute / 60
    day = 0.65 + 0.35 * math.sin((hour - 9) / 24 * 2 * math.pi)  # peak mid-afternoon UTC
    j = lambda spread: 1 + rng.uniform(-spread, spread)  # noqa: E731
    inc, burst = _phase(ago)
    clients = 42 * day * j(0.08) * (1 + 3.2 * inc)
    failed = (28 + rng.randint(0, 9)) * burst
    iam_requests = 38 * day * j(0.1) * (1 + 1.5 * inc) + failed
    out = {
        ("proxy", "ClientConnections"): round(clients),
        ("proxy", "DatabaseConnections"): round(11 * day * j(0.1) * (1 + 4 * inc)),
        ("proxy", "DatabaseConnectionsCurrentlyBorrowed"): round(6 * day * j(0.15) * (1 + 3 * inc)),
        ("proxy", "DatabaseConnectionsCurrentlySessionPinned"): round(max(0.0, rng.uniform(-0.4, 1.2) + 22 * inc)),
        ("proxy", "ClientConnectionsSetupFailedAuth"): failed,
        ("proxy", "QueryRequests"): round(930 * day * j(0.06) * (1 - 0.35 * inc)),
        ("proxy", "QueryDatabaseResponseLatency"): round(1750 * j(0.1) * (1 + 4.2 * inc)),
        ("proxy", "AvailabilityPercentage"): 100.0 if not (DEPLOY_AGO - 9 >= ago > DEPLOY_AGO - 12) else 92.0,
        ("instance", "CPUUtilization"): round(17 * day * j(0.1) + 64 * inc, 2),
        ("instance", "DatabaseConnections"): round(13 * day * j(0.08) * (1 + 3.6 * inc)),
        ("instance", "FreeableMemory"): round((412 - 96 * inc) * j(0.01) * 1024 * 1024),
        ("instance", "IamDbAuthConnectionRequests"): round(iam_requests),
        ("instance", "IamDbAuthConnectionSuccess"): round(iam_requests - failed),
        ("instance", "IamDbAuthConnectionFailure"): failed,
        ("instance", "IamDbAuthConnectionFailureInvalidToken"): 2 if burst and ago % 5 == 0 else 0,
        ("instance", "IamDbAuthConnectionFailureInsufficientPermissions"): max(0, failed - (2 if burst and ago % 5 == 0 else 0)),
        ("instance", "IamDbAuthConnectionFailureThrottling"): 0,
    }
    return out


def _minutes() -> list[int]:
    """The minutes (ago) that get a point: every minute to 3 h, every 5 to 24 h, hourly to 7 days."""
    return list(range(0, 180)) + list(range(180, 1440, 5)) + list(range(1440, 7 * 1440, 60))


def seed_story(c, start: dt.datetime, account: str, role_arn: str, instance_id: str) -> dict:
    """Puts the metrics, the log events and the alarms. Returns facts about the story."""
    start = start.replace(second=0, microsecond=0)
    rng = random.Random(SEED)
    units = {("proxy", m): u for m, u in PROXY_METRICS} | {("instance", m): u for m, u in INSTANCE_METRICS}
    dims = {"proxy": [{"Name": "ProxyName", "Value": PROXY_NAME}], "instance": [{"Name": "DBInstanceIdentifier", "Value": DB_ID}]}
    data = []
    for ago in _minutes():
        ts = start - dt.timedelta(minutes=ago)
        for (scope, metric), v in values(ago, start, rng).items():
            data.append({"MetricName": metric, "Dimensions": dims[scope], "Timestamp": ts, "Value": float(v), "Unit": units[(scope, metric)]})
    for k in range(0, len(data), 1000):
        c.cloudwatch.put_metric_data(Namespace="AWS/RDS", MetricData=data[k:k + 1000])

    deploy = start - dt.timedelta(minutes=DEPLOY_AGO)
    ms = lambda t: int(t.timestamp() * 1000)  # noqa: E731
    session = f"arn:aws:sts::{account}:assumed-role/{role_arn.rsplit('/', 1)[-1]}-v2/{instance_id}"
    iam_events, proxy_events, error_events, slow_events = [], [], [], []
    for m in range(BURST):
        for k in range(3):  # a few of each minute's failures, as examples
            t = deploy + dt.timedelta(minutes=m, seconds=7 + 17 * k)
            iam_events.append({"timestamp": ms(t), "message": (
                f"{t:%Y-%m-%dT%H:%M:%SZ} [ERROR] IAM authentication failed for user 'node_user': {session} is not "
                f"authorized to perform rds-db:connect on arn:aws:rds-db:us-east-1:{account}:dbuser:prx-*/node_user")})
            proxy_events.append({"timestamp": ms(t), "message": (
                f"[WARN] [proxyEndpoint=default] [clientConnection=10.0.{m}.{k}] IAM authentication failed for user "
                "'node_user': credentials were refused (the IAM policy does not allow rds-db:connect)")})
    error_events.append({"timestamp": ms(deploy - dt.timedelta(seconds=40)), "message":
                         f"{deploy - dt.timedelta(seconds=40):%Y-%m-%d %H:%M:%S} 0 [Note] Aborted connection 8812 to db: 'node_db' user: 'node_user' host: '10.0.1.10' (Got an error reading communication packets)"})
    for m in range(4, 22, 3):
        t = deploy + dt.timedelta(minutes=m, seconds=31)
        slow_events.append({"timestamp": ms(t), "message": (
            f"# Time: {t:%y%m%d %H:%M:%S}\n# User@Host: node_user[node_user] @ [10.0.1.10]\n# Query_time: {3.1 + m / 10:.2f}  "
            "Lock_time: 0.000  Rows_sent: 20  Rows_examined: 412331\nSELECT o.* FROM orders o WHERE o.note LIKE '%refund%' ORDER BY o.id DESC LIMIT 20;")})
    logs = c.logs
    for group, stream, events in (
        (f"/aws/rds/instance/{DB_ID}/iam-db-auth-error", DB_ID, iam_events),
        (f"/aws/rds/instance/{DB_ID}/error", DB_ID, error_events),
        (f"/aws/rds/instance/{DB_ID}/slowquery", DB_ID, slow_events),
        (f"/aws/rds/proxy/{PROXY_NAME}", "default", proxy_events),
    ):
        try:
            logs.create_log_group(logGroupName=group)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        try:
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=sorted(events, key=lambda e: e["timestamp"]))

    alarms = [
        ("rds-iam-auth-proxy-auth-failures", "ClientConnectionsSetupFailedAuth", dims["proxy"], "Sum", 5.0, "OK",
         "Threshold Crossed: 5 datapoints were not greater than the threshold (5.0) since the role was fixed"),
        ("rds-iam-auth-db-cpu-high", "CPUUtilization", dims["instance"], "Average", 80.0, "OK",
         "Threshold Crossed: 3 datapoints were not greater than the threshold (80.0)"),
        ("rds-iam-auth-proxy-pinned", "DatabaseConnectionsCurrentlySessionPinned", dims["proxy"], "Maximum", 0.5, "ALARM",
         "Threshold Crossed: 1 datapoint [1.0] was greater than the threshold (0.5)"),
    ]
    for name, metric, d, stat, threshold, state, reason in alarms:
        c.cloudwatch.put_metric_alarm(AlarmName=name, MetricName=metric, Namespace="AWS/RDS", Dimensions=d, Statistic=stat,
                                      Period=60, EvaluationPeriods=5, Threshold=threshold, ComparisonOperator="GreaterThanThreshold")
        c.cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)
    return {"start": start.isoformat(), "deploy": deploy.isoformat(), "burst_minutes": BURST, "points": len(data),
            "auth_failure_events": len(iam_events), "alarms": [a[0] for a in alarms]}
