#!/usr/bin/env python3
"""Verify an RDS IAM auth token the way RDS does, with botocore as the independent signer.

The sandbox database's AWSAuthenticationPlugin (aws_auth_plugin.c) runs this for every login:

    verify_token.py --config CFG --user=LOGIN_USER [--client-host=IP]   < token

Exit 0: accept. Exit 1: reject, with one line on stderr saying why (the plugin copies it into the
server's error log). Exit 2: usage/config error. The token and the secret key are never printed
or logged; the audit log (if configured) gets one JSON line per attempt without them:
`token_valid` is this program's verdict. The server can still refuse a valid token afterwards
(REQUIRE SSL / require-secure-transport are checked after authentication, so a client that
sends its token over plain TCP gets 1045 although the token was valid).

What is checked (TOKENS.md): the token parses as `host:port/?Action=connect&DBUser=..&X-Amz-..`
with each parameter exactly once and nothing else; Action=connect; AWS4-HMAC-SHA256; signed
headers `host`; the credential scope is `<known access key>/<X-Amz-Date's day>/<region>/rds-db/
aws4_request`; the signature equals the one botocore's SigV4QueryAuth computes for the same host,
port, user, credentials (+ the token's own session token, if any), X-Amz-Date and X-Amz-Expires;
DBUser == the login user; host:port == one of the endpoints the sandbox advertises (the proxy's
and the instance's names, as RDS checks the name a token was signed for); region == the
sandbox region; 0 < X-Amz-Expires <= 900; X-Amz-Date + X-Amz-Expires not past and X-Amz-Date not
more than `max_clock_skew_s` in the future; then, with `authorize_url_file`, the sandbox's IAM
stand-in says whether the caller may `rds-db:connect` as that user there (ssm/iam_rds.py).

A session token cannot be checked against STS here: any session token is accepted as long as the
signature (which covers it) is right for a configured access key and secret.

CFG is JSON:
    {"region": "us-east-1",
     "endpoints": [{"host": "px.proxy-x.us-east-1.rds.amazonaws.com", "port": 3306}, ...],
     "credentials": [{"access_key_id": "...", "secret_access_key": "..."}],
     "max_clock_skew_s": 300,
     "audit_log": "/path/auth.jsonl",          # optional
     "authorize_url_file": "/path/url"}        # optional: then IAM is asked too (see authorize())

    verify_token.py --self-test        # published vectors + every rejection path; exit 0 if all pass
"""

from __future__ import annotations

import argparse
import calendar
import hmac
import json
import os
import sys
import time

MAX_TOKEN_BYTES = 16384
MAX_EXPIRES_S = 900
DEFAULT_SKEW_S = 300
SERVICE = "rds-db"
REQUIRED = (
    "Action",
    "DBUser",
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
OPTIONAL = ("X-Amz-Security-Token",)


class Reject(Exception):
    """The token is refused; str(e) is the one-line reason (never contains the token)."""


def _pct_decode(s: str, what: str) -> str:
    """Strict percent-decoding (no '+' as space, UTF-8 only)."""
    from urllib.parse import unquote

    if "%" in s:
        i = 0
        while True:
            i = s.find("%", i)
            if i < 0:
                break
            h = s[i + 1 : i + 3]
            if len(h) != 2 or any(c not in "0123456789abcdefABCDEF" for c in h):
                raise Reject(f"malformed percent-encoding in {what}")
            i += 3
    try:
        return unquote(s, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise Reject(f"{what} is not valid UTF-8") from None


def parse_token(token: str) -> dict:
    """Split a token into host, port and its decoded query parameters (each exactly once)."""
    if not token:
        raise Reject("empty token")
    if any(c.isspace() for c in token) or any(ord(c) < 0x21 or ord(c) > 0x7E for c in token):
        raise Reject("token contains whitespace or non-ASCII characters")
    if "://" in token.split("/?", 1)[0]:
        raise Reject("token starts with a URL scheme (RDS tokens are printed without https://)")
    if "/?" not in token:
        raise Reject("not an RDS IAM token (no '/?' after host:port)")
    authority, query = token.split("/?", 1)
    host, sep, port_s = authority.rpartition(":")
    if not sep or not host:
        raise Reject("token has no host:port")
    if not port_s.isdigit() or not (0 < int(port_s) < 65536) or (len(port_s) > 1 and port_s[0] == "0"):
        raise Reject("token has an invalid port")
    params: dict[str, str] = {}
    for part in query.split("&"):
        if "=" not in part:
            raise Reject("malformed query parameter in token")
        k, v = part.split("=", 1)
        k = _pct_decode(k, "a parameter name")
        if k in params:
            raise Reject(f"parameter {k} appears twice")
        if k not in REQUIRED and k not in OPTIONAL:
            raise Reject(f"unexpected parameter {k[:40]!r} in token")
        params[k] = _pct_decode(v, k)
    for k in REQUIRED:
        if k not in params:
            raise Reject(f"token lacks {k}")
    return {"host": host.lower(), "port": int(port_s), "params": params}


def _amz_date_epoch(s: str) -> int:
    if len(s) != 16 or s[8] != "T" or s[15] != "Z" or not (s[:8] + s[9:15]).isdigit():
        raise Reject("X-Amz-Date is not YYYYMMDDTHHMMSSZ")
    try:
        return calendar.timegm(time.strptime(s, "%Y%m%dT%H%M%SZ"))
    except ValueError:
        raise Reject("X-Amz-Date is not a valid date") from None


def botocore_token(host: str, port: int, user: str, region: str, akid: str, secret: str,
                   session_token: str | None, amz_date: str, expires: int) -> str:
    """The token botocore's SigV4QueryAuth produces for these inputs at X-Amz-Date.

    Built like botocore's RDS.Client.generate_db_auth_token (GET https://host:port/ with
    Action/DBUser as operation params, service rds-db), but with the timestamp pinned to the
    token's own X-Amz-Date instead of the current time.
    """
    import datetime

    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    pinned = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
    signer = botocore.auth.SigV4QueryAuth(
        Credentials(akid, secret, session_token), SERVICE, region, expires=expires
    )
    req = AWSRequest(method="GET", url=f"https://{host}:{port}/",
                     params={"Action": "connect", "DBUser": user})
    saved = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda *a, **k: pinned
    try:
        signer.add_auth(req)
    finally:
        botocore.auth.get_current_datetime = saved
    url = req.url
    return url[len("https://"):]


def verify(token: str, login_user: str, cfg: dict, now: float | None = None) -> dict:
    """Raise Reject(reason) or return facts about the accepted token (no secrets)."""
    now = time.time() if now is None else now
    t = parse_token(token)
    p = t["params"]
    facts = {
        "host": t["host"],
        "port": t["port"],
        "db_user": p["DBUser"],
        "date": p["X-Amz-Date"],
        "expires": p["X-Amz-Expires"],
        "session_token": "X-Amz-Security-Token" in p,
    }

    if p["Action"] != "connect":
        raise Reject(f"Action is {p['Action'][:40]!r}, not 'connect'")
    if p["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
        raise Reject("X-Amz-Algorithm is not AWS4-HMAC-SHA256")
    if p["X-Amz-SignedHeaders"] != "host":
        raise Reject("X-Amz-SignedHeaders is not 'host'")
    sig = p["X-Amz-Signature"]
    if len(sig) != 64 or any(c not in "0123456789abcdef" for c in sig):
        raise Reject("X-Amz-Signature is not 64 lower-case hex digits")
    date = p["X-Amz-Date"]
    signed_at = _amz_date_epoch(date)
    exp_s = p["X-Amz-Expires"]
    if not exp_s.isdigit() or len(exp_s) > 6:
        raise Reject("X-Amz-Expires is not a number of seconds")
    expires = int(exp_s)
    if not 0 < expires <= MAX_EXPIRES_S:
        raise Reject(f"X-Amz-Expires is {expires}; RDS tokens live 1..{MAX_EXPIRES_S} s")

    scope = p["X-Amz-Credential"].split("/")
    if len(scope) != 5:
        raise Reject("X-Amz-Credential is not <key>/<date>/<region>/<service>/aws4_request")
    akid, sdate, region, service, term = scope
    facts["access_key_id_last4"] = akid[-4:]
    facts["region"] = region
    if term != "aws4_request":
        raise Reject("credential scope does not end in aws4_request")
    if service != SERVICE:
        raise Reject(f"credential scope is for service {service[:30]!r}, not {SERVICE!r}")
    if sdate != date[:8]:
        raise Reject("credential scope date differs from X-Amz-Date")
    if region != cfg["region"]:
        raise Reject(f"token is signed for region {region[:30]!r}, the database is in {cfg['region']!r}")
    secret = None
    for c in cfg["credentials"]:
        if hmac.compare_digest(c["access_key_id"].encode(), akid.encode()):
            secret = c["secret_access_key"]
    if secret is None:
        raise Reject(f"unknown access key id ...{akid[-4:]}")

    expected = botocore_token(t["host"], t["port"], p["DBUser"], region, akid, secret,
                              p.get("X-Amz-Security-Token"), date, expires)
    exp_sig = expected.rsplit("X-Amz-Signature=", 1)[1]
    if not hmac.compare_digest(exp_sig.encode(), sig.encode()):
        raise Reject("signature mismatch (wrong secret key, or the token was altered)")
    facts["canonical"] = hmac.compare_digest(expected.encode(), token.encode())

    if p["DBUser"] != login_user:
        raise Reject(f"token is for DBUser {p['DBUser'][:64]!r}, login is as {login_user[:64]!r}")
    eps = endpoints(cfg)
    if (t["host"], t["port"]) not in {(e["host"].lower(), int(e["port"])) for e in eps}:
        raise Reject(
            f"token is for {t['host'][:100]}:{t['port']}, this endpoint is "
            + " or ".join(f"{e['host']}:{e['port']}" for e in eps)
        )
    skew = int(cfg.get("max_clock_skew_s", DEFAULT_SKEW_S))
    if now >= signed_at + expires:
        raise Reject(f"token expired {int(now - signed_at - expires)} s ago (X-Amz-Date {date}, expires {expires} s)")
    if signed_at > now + skew:
        raise Reject(f"X-Amz-Date {date} is {int(signed_at - now)} s in the future")
    facts["remaining_s"] = int(signed_at + expires - now)
    authorize(cfg, akid, p["DBUser"], t["host"])
    return facts


def authorize(cfg: dict, akid: str, user: str, host: str) -> None:
    """RDS's second question after the signature: may this caller connect as USER here (IAM auth on,
    rds-db:connect allowed)? Asked of the sandbox's IAM stand-in when `authorize_url_file` is set;
    no answer refuses."""
    path = cfg.get("authorize_url_file")
    if not path:
        return
    import urllib.request

    try:
        with open(path, encoding="utf-8") as fh:
            url = fh.read().strip()
        req = urllib.request.Request(url, data=json.dumps({"access_key": akid, "user": user, "host": host}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=20) as r:
            answer = json.loads(r.read())
    except (OSError, ValueError) as e:
        raise Reject(f"IAM could not be asked ({type(e).__name__}): refused") from None
    if not answer.get("allowed"):
        raise Reject(f"not authorized: {str(answer.get('reason'))[:300]}")


def _token_host(raw: bytes) -> str:
    """The host a (possibly bad) token names, for the log export; empty when it does not parse."""
    try:
        return parse_token(raw.rstrip(b"\0").decode("ascii"))["host"]
    except Exception:  # noqa: BLE001 - any malformed token
        return ""


def _export(cfg: dict, user: str, reason: str, host: str) -> None:
    """RDS exports each refused IAM login to the instance's `iam-db-auth-error` log: the sandbox hands
    it to the stand-in, which writes it to CloudWatch Logs (moto). Best effort, never blocks a refusal."""
    path = cfg.get("authorize_url_file")
    if not path:
        return
    import urllib.request

    try:
        with open(path, encoding="utf-8") as fh:
            url = fh.read().strip().rsplit("/", 1)[0] + "/auth-event"
        req = urllib.request.Request(url, data=json.dumps({"user": user, "reason": reason, "host": host}).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5).read()
    except (OSError, ValueError):
        pass


def _audit(cfg: dict, entry: dict) -> None:
    path = cfg.get("audit_log")
    if not path:
        return
    line = (json.dumps(entry, sort_keys=True) + "\n").encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except OSError:
        pass


def endpoints(cfg: dict) -> list[dict]:
    """The names this server answers to (`endpoints`, or the one `endpoint`)."""
    return cfg.get("endpoints") or [cfg["endpoint"]]


def load_config(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        cfg = json.load(fh)
    for key in ("region", "credentials"):
        if key not in cfg:
            raise ValueError(f"config {path} lacks {key!r}")
    if not (cfg.get("endpoints") or cfg.get("endpoint")):
        raise ValueError(f"config {path} lacks 'endpoints'")
    return cfg


def main_verify(args) -> int:
    try:
        cfg = load_config(args.config)
    except (OSError, ValueError) as e:
        print(f"verifier config error: {e}", file=sys.stderr)
        return 2
    raw = sys.stdin.buffer.read(MAX_TOKEN_BYTES + 1)
    entry = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "user": args.user,
        "client_host": args.client_host,
        "endpoint": ",".join(f"{e['host']}:{e['port']}" for e in endpoints(cfg)),
        "token_bytes": len(raw),
    }
    try:
        if len(raw) > MAX_TOKEN_BYTES:
            raise Reject("token too long")
        if raw.endswith(b"\0"):
            raw = raw[:-1]
        try:
            token = raw.decode("ascii")
        except UnicodeDecodeError:
            raise Reject("token contains non-ASCII bytes") from None
        facts = verify(token, args.user, cfg, now=args.now)
    except Reject as e:
        entry.update(token_valid=False, reason=str(e))
        _audit(cfg, entry)
        _export(cfg, args.user, str(e), _token_host(raw))
        print(str(e), file=sys.stderr)
        return 1
    except Exception as e:  # a bug here must refuse, not crash open
        entry.update(token_valid=False, reason=f"verifier error: {type(e).__name__}")
        _audit(cfg, entry)
        print(f"verifier error: {type(e).__name__}: {e}"[:300], file=sys.stderr)
        return 1
    entry.update(token_valid=True, reason="ok", token=facts)
    _audit(cfg, entry)
    return 0


# --------------------------------------------------------------------------- self-test

RUST_VECTOR = (
    "prod-instance.us-east-1.rds.amazonaws.com:3306/?Action=connect&DBUser=peccy"
    "&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=akid%2F20240826%2Fus-east-1%2Frds-db%2Faws4_request"
    "&X-Amz-Date=20240826T220000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=dd0cba843009474347af724090233265628ace491ea17ce3eb3da098b983ad89"
)


def self_test() -> int:
    failures: list[str] = []
    passed = 0

    def check(name: str, cond: bool, detail: str = "") -> None:
        nonlocal passed
        if cond:
            passed += 1
        else:
            failures.append(f"{name}: {detail}")

    # 1. Published vectors (TOKENS.md): botocore, pinned to the vector's time, must reproduce them.
    rds_host = "prod-instance.us-east-1.rds.amazonaws.com"
    got = botocore_token(rds_host, 3306, "peccy", "us-east-1", "akid", "secret", None, "20240826T220000Z", 900)
    check("aws-sdk-rust vector (whole string)", got == RUST_VECTOR, got)
    got = botocore_token(rds_host, 3306, "someusername", "us-east-1", "akid", "skid", None, "20161107T173933Z", 900)
    check("botocore vector", got.endswith("X-Amz-Signature=d1138cdbc0ca63eec012ec0fc6c2267e03642168f5884a7795320d4c18374c61"), got)
    got = botocore_token("host.us-east-1.amazonaws.com", 3306, "mySQLUser", "us-east-1", "access_key", "secret_key", None, "20161107T173933Z", 900)
    check("aws-sdk-java-v2 vector", got.endswith("X-Amz-Signature=87ab58107ef49f1c311a412f98b7f976b0b5152ffb559f0d36c6c9a0c5e0e362"), got)
    got = botocore_token(rds_host, 3306, "peccy", "us-east-1", "akid", "secret", "AQoDYXdzEJr/+tok==", "20240826T220000Z", 900)
    check("session-token case (query)", "&X-Amz-Security-Token=AQoDYXdzEJr%2F%2Btok%3D%3D&" in got, got)
    check("session-token case (signature 54d3ee...)", got.endswith("X-Amz-Signature=54d3eebf04452955d80b9e5b110d385334d7f9c1c8fcf29cb7bbd3606a8a0899"), got)

    # 2. The verifier accepts the Rust vector at its own time and marks it canonical.
    vcfg = {"region": "us-east-1", "endpoint": {"host": rds_host, "port": 3306},
            "credentials": [{"access_key_id": "akid", "secret_access_key": "secret"}]}
    t0 = 1724709600
    try:
        f = verify(RUST_VECTOR, "peccy", vcfg, now=t0 + 60)
        check("rust vector accepted", f.get("canonical") is True and f["remaining_s"] == 840, repr(f))
    except Reject as e:
        check("rust vector accepted", False, str(e))

    # 3. Tokens from boto3's real generate_db_auth_token, against a sandbox-like config.
    import boto3

    akid, secret = "AKIASANDBOXEXAMPLE01", "sandboxSecretAccessKeyEXAMPLEonlyForMoto01"
    cfg = {"region": "us-east-1", "endpoints": [{"host": "localhost", "port": 34567}, {"host": "db.example", "port": 3306}],
           "credentials": [{"access_key_id": akid, "secret_access_key": secret}],
           "max_clock_skew_s": 300}

    def gen(host="localhost", port=34567, user="node_app", region="us-east-1", key=akid, sec=secret,
            session=None, at=None):
        sess = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=sec,
                                     aws_session_token=session, region_name=region)
        client = sess.client("rds", region_name=region)
        if at is None:
            return client.generate_db_auth_token(host, port, user)
        import datetime
        from unittest import mock

        with mock.patch("botocore.auth.get_current_datetime",
                        return_value=datetime.datetime.fromtimestamp(at, datetime.timezone.utc).replace(tzinfo=None)):
            return client.generate_db_auth_token(host, port, user)

    good = gen()
    try:
        f = verify(good, "node_app", cfg)
        check("boto3 token accepted", f["canonical"] is True, repr(f))
    except Reject as e:
        check("boto3 token accepted", False, str(e))
    try:
        f = verify(gen(session="FwoGZXIvYXdzEXAMPLE/+=="), "node_app", cfg)
        check("session token accepted", f["session_token"] is True, repr(f))
    except Reject as e:
        check("session token accepted", False, str(e))
    try:
        verify(gen(host="db.example", port=3306), "node_app", cfg)
        check("second advertised name accepted", True)
    except Reject as e:
        check("second advertised name accepted", False, str(e))
    try:
        verify(gen(user="a+b c/d"), "a+b c/d", cfg)
        check("odd user name accepted", True)
    except Reject as e:
        check("odd user name accepted", False, str(e))

    now = time.time()
    sig_at = good.index("X-Amz-Signature=") + len("X-Amz-Signature=")
    tampered = good[:sig_at] + ("0" if good[sig_at] != "0" else "1") + good[sig_at + 1:]
    noncanon = good.replace("Action=connect&DBUser=node_app", "DBUser=node_app&Action=connect")
    cases = [
        ("wrong user", gen(user="node_user"), "node_app", "DBUser"),
        ("tampered signature", tampered, "node_app", "signature mismatch"),
        ("DBUser edited in the text", good.replace("DBUser=node_app", "DBUser=node_user"), "node_user", "signature mismatch"),
        ("expired (signed 20 min ago)", gen(at=now - 1200), "node_app", "expired"),
        ("future (signed in 10 min)", gen(at=now + 600), "node_app", "future"),
        ("wrong port", gen(port=34568), "node_app", "this endpoint is"),
        ("wrong host", gen(host="127.0.0.1"), "node_app", "this endpoint is"),
        ("wrong region", gen(region="eu-west-1"), "node_app", "region"),
        ("unknown access key", gen(key="AKIAOTHEREXAMPLE0001"), "node_app", "unknown access key"),
        ("wrong secret", gen(sec="not-the-secret"), "node_app", "signature mismatch"),
        ("Action not connect", good.replace("Action=connect", "Action=connecx"), "node_app", "Action"),
        ("missing signature", good[: good.index("&X-Amz-Signature=")], "node_app", "lacks X-Amz-Signature"),
        ("duplicate DBUser", good.replace("DBUser=node_app", "DBUser=node_app&DBUser=node_app"), "node_app", "twice"),
        ("extra parameter", good + "&Foo=bar", "node_app", "unexpected parameter"),
        ("scheme prefix", "https://" + good, "node_app", "scheme"),
        ("garbage", "P@55w0rd!", "node_app", "not an RDS IAM token"),
        ("empty", "", "node_app", "empty"),
        ("expires too long", good.replace("X-Amz-Expires=900", "X-Amz-Expires=3600"), "node_app", "X-Amz-Expires"),
        ("whitespace", good + "\n", "node_app", "whitespace"),
    ]
    for name, tok, user, want in cases:
        try:
            verify(tok, user, cfg)
            check(f"reject {name}", False, "accepted")
        except Reject as e:
            check(f"reject {name}", want in str(e), f"reason {str(e)!r} lacks {want!r}")
            if secret in str(e) or (len(tok) > 20 and tok in str(e)):
                failures.append(f"reject {name}: reason leaks a secret or the token")
    try:
        f = verify(noncanon, "node_app", cfg)
        check("reordered parameters: accepted (RDS sorts), not canonical", f["canonical"] is False, repr(f))
    except Reject as e:
        check("reordered parameters accepted", False, str(e))

    for line in failures:
        print(f"FAIL {line}")
    print(f"self-test: {passed} passed, {len(failures)} failed")
    return 0 if not failures else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", help="JSON config (see the module docstring)")
    ap.add_argument("--user", help="the user logging in")
    ap.add_argument("--client-host", default="", help="the client's host or IP (for the audit log)")
    ap.add_argument("--now", type=float, default=None, help="pretend the time is this epoch (tests)")
    ap.add_argument("--self-test", action="store_true", help="run the built-in tests")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    if not args.config or args.user is None:
        ap.print_usage(sys.stderr)
        return 2
    return main_verify(args)


if __name__ == "__main__":
    sys.exit(main())
