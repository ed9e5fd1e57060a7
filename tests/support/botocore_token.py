"""Prints botocore's RDS auth token for fixed credentials and time (an
independent signer to compare rdsdeck's against).

    python botocore_token.py HOST PORT USER REGION EPOCH   (credentials from the environment)
"""
import datetime
import sys
from unittest import mock

import boto3
import botocore.auth

host, port, user, region, epoch = sys.argv[1:6]
when = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc).replace(tzinfo=None)
with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
    client = boto3.session.Session().client("rds", region_name=region)
    print(client.generate_db_auth_token(DBHostname=host, Port=int(port), DBUsername=user, Region=region))
