"""CloudWatch over Smithy RPC v2 CBOR, which moto 5.2 does not speak (it answers the query protocol).

The AWS SDKs now call CloudWatch as `POST /service/GraniteServiceVersion20100801/operation/<Op>`
with `smithy-protocol: rpc-v2-cbor` and a CBOR body (smithy.io, "Smithy RPC v2 CBOR protocol"):
timestamps are CBOR tag 1 (epoch seconds), errors carry `__type` with a 4xx/5xx status. This module
decodes such a request, asks moto the same question through boto3 (query protocol), and encodes
moto's answer back: the data stays moto's. Operations: GetMetricData, DescribeAlarms,
PutMetricData, PutMetricAlarm, SetAlarmState, ListMetrics; anything else is refused with
`UnknownOperationException`, as a server that does not have it would.
"""

from __future__ import annotations

import datetime as dt

import boto3
import cbor2
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

OPERATIONS = {
    "GetMetricData": "get_metric_data",
    "DescribeAlarms": "describe_alarms",
    "PutMetricData": "put_metric_data",
    "PutMetricAlarm": "put_metric_alarm",
    "SetAlarmState": "set_alarm_state",
    "ListMetrics": "list_metrics",
}


def _plain(v):
    """boto3's answer as CBOR-ready values (datetimes stay datetimes: cbor2 writes them as tag 1)."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items() if k != "ResponseMetadata"}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, dt.datetime) and v.tzinfo is None:
        return v.replace(tzinfo=dt.timezone.utc)
    return v


def _inputs(v):
    """CBOR's decoded request as boto3 takes it (tag-1 timestamps come back as datetimes already)."""
    if isinstance(v, dict):
        return {k: _inputs(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_inputs(x) for x in v]
    return v


class CloudWatchCbor:
    def __init__(self, moto: str, region: str = "us-east-1"):
        session = boto3.session.Session(aws_access_key_id="AKIASTANDINREADER000", aws_secret_access_key="x", region_name=region)
        self.cw = session.client("cloudwatch", endpoint_url=moto, config=Config(retries={"max_attempts": 1}, read_timeout=60))

    def call(self, op: str, body: bytes) -> tuple[int, bytes]:
        """(HTTP status, CBOR body) for one operation."""
        method = OPERATIONS.get(op)
        if method is None:
            return 400, cbor2.dumps({"__type": "UnknownOperationException", "message": f"{op} is not served by the sandbox"})
        try:
            req = cbor2.loads(body) if body else {}
        except (cbor2.CBORDecodeError, ValueError) as e:
            return 400, cbor2.dumps({"__type": "SerializationException", "message": f"the body is not CBOR: {e}"})
        if not isinstance(req, dict):
            return 400, cbor2.dumps({"__type": "SerializationException", "message": "the body is not a CBOR map"})
        try:
            out = getattr(self.cw, method)(**_inputs(req))
        except ClientError as e:
            err = e.response.get("Error", {})
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
            return status, cbor2.dumps({"__type": err.get("Code", "InternalFailure"), "message": err.get("Message", "")})
        except (ParamValidationError, TypeError, ValueError) as e:  # a parameter boto3 refuses
            return 400, cbor2.dumps({"__type": "InvalidParameterValueException", "message": str(e)[:300]})
        return 200, cbor2.dumps(_plain(out), datetime_as_timestamp=True, timezone=dt.timezone.utc)
