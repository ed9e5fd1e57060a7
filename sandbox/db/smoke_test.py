#!/usr/bin/env python3
"""End-to-end check of the sandbox database with the stock `mariadb` CLI client and boto3 tokens.

Run it inside a sandbox (the venv's python; it reads the env file's variables):

    V=$(sandbox/setup-venv)
    $V/bin/python sandbox/sandbox.py run --with-plain-db -- $V/bin/python sandbox/db/smoke_test.py
    $V/bin/python sandbox/sandbox.py run --fresh-db      -- $V/bin/python sandbox/db/smoke_test.py

Prints one line per check and exits 0 when all pass. Tokens go to the client through MYSQL_PWD,
not argv.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import json
import os
import subprocess
import sys
import time
from unittest import mock

import boto3

E = os.environ
HOST, PORT, CA = E["RDSDECK_SANDBOX_DB_HOST"], int(E["RDSDECK_SANDBOX_DB_PORT"]), E["RDSDECK_SANDBOX_DB_CA"]
SOCK = E["RDSDECK_SANDBOX_DB_SOCKET"]
AUTH_LOG, ERROR_LOG, GENERAL_LOG = E["RDSDECK_SANDBOX_DB_AUTH_LOG"], E["RDSDECK_SANDBOX_DB_ERROR_LOG"], E["RDSDECK_SANDBOX_DB_GENERAL_LOG"]
FRESH = E.get("RDSDECK_SANDBOX_DB_FRESH") == "1"
REGION = E["AWS_REGION"]
AKID, SECRET = E["AWS_ACCESS_KEY_ID"], E["AWS_SECRET_ACCESS_KEY"]

failures: list[str] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f"  -- {detail}" if detail and not ok else ""), flush=True)
    if not ok:
        failures.append(name)


def token(host=HOST, port=PORT, user="node_app", region=REGION, key=AKID, secret=SECRET,
          session=None, offset_s=0):
    s = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                              aws_session_token=session, region_name=region)
    c = s.client("rds", region_name=region, endpoint_url=E.get("AWS_ENDPOINT_URL"))
    if not offset_s:
        return c.generate_db_auth_token(host, port, user)
    at = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) + datetime.timedelta(seconds=offset_s)
    with mock.patch("botocore.auth.get_current_datetime", return_value=at):
        return c.generate_db_auth_token(host, port, user)


def mariadb(user, password, sql, *, host="localhost", port=PORT, tls=True, ca=CA, verify=True,
            socket=None, extra=()):
    argv = ["mariadb", "--no-defaults", "--batch", "--skip-column-names", "-u", user]
    if socket:
        argv += [f"--socket={socket}"]
    else:
        argv += ["--protocol=TCP", "-h", host, "-P", str(port)]
        if tls:
            argv += ["--ssl", *([f"--ssl-ca={ca}"] if ca else []),
                     "--ssl-verify-server-cert" if verify else "--disable-ssl-verify-server-cert"]
        else:
            argv += ["--skip-ssl"]
    argv += [*extra, "-e", sql]
    env = {"PATH": E["PATH"], "MYSQL_PWD": password} if password is not None else {"PATH": E["PATH"]}
    cp = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    err = "\n".join(l for l in cp.stderr.splitlines() if "obsolete" not in l)
    return cp.returncode, cp.stdout.strip(), err.strip()


def last_auth(user: str) -> dict:
    with open(AUTH_LOG) as fh:
        lines = [json.loads(l) for l in fh if l.strip()]
    mine = [l for l in lines if l["user"] == user]
    return mine[-1] if mine else {}


def expect_denied(name, user, tok, want_reason, **kw):
    rc, out, err = mariadb(user, tok, "SELECT 1", **kw)
    reason = last_auth(user).get("reason", "")
    check(f"denied: {name}", rc != 0 and "1045" in err and want_reason in reason,
          f"rc={rc} err={err!r} reason={reason!r}")


def main() -> int:
    t0 = time.monotonic()
    ssm = boto3.client("ssm", region_name=REGION)
    params = {p["Name"]: p["Value"] for p in ssm.get_parameters_by_path(Path="/dev/database/")["Parameters"]}
    check("SSM /dev/database/endpoint = localhost", params.get("/dev/database/endpoint") == "localhost", repr(params))
    check("SSM /dev/database/port = the DB port", params.get("/dev/database/port") == str(PORT), repr(params))
    sm = boto3.client("secretsmanager", region_name=REGION)
    facts = json.load(open(E["RDSDECK_SANDBOX_FACTS"]))
    master = json.loads(sm.get_secret_value(SecretId=facts["rds_master_secret_arn"])["SecretString"])

    # Root over the socket (tests inspect mysql.user this way); never over TCP.
    rc, out, err = mariadb("root", None, "SELECT user, host, plugin, authentication_string, ssl_type FROM mysql.user ORDER BY user", socket=SOCK)
    rows = {tuple(l.split("\t")[:2]): l.split("\t")[2:] for l in out.splitlines()}
    check("root over the socket", rc == 0, err)
    check("master user admin@% (mysql_native_password)", rows.get(("admin", "%"), [""])[0] == "mysql_native_password", repr(rows))
    check("root only @localhost", [h for (u, h) in rows if u == "root"] == ["localhost"], repr(rows))
    rc, out, err = mariadb("root", "", "SELECT 1", host="127.0.0.1")
    check("root over TCP refused", rc != 0 and "1045" in err, err)

    rc, out, err = mariadb(master["username"], master["password"], "SELECT CURRENT_USER()")
    check("master login with the secret's password over TLS", rc == 0 and out == "admin@%", err or out)
    rc, out, err = mariadb(master["username"], master["password"] + "x", "SELECT 1")
    check("master login with a wrong password refused", rc != 0 and "1045" in err, err)

    if FRESH:
        check("fresh: no IAM users", not any(u in ("node_app", "node_user", "dbadmin") for (u, _h) in rows), repr(rows))
        rc, out, err = mariadb("node_app", token(), "SELECT 1")
        check("fresh: node_app cannot log in yet", rc != 0 and "1045" in err, err)
        # The seed's bootstrap, steps 3 and 5 (as master, then as the IAM admin with a token).
        step3 = ("CREATE USER IF NOT EXISTS 'dbadmin'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'; "
                 "ALTER USER 'dbadmin'@'%' REQUIRE SSL; "
                 "GRANT CREATE USER, RELOAD, PROCESS ON *.* TO 'dbadmin'@'%' WITH GRANT OPTION; "
                 "GRANT ALL PRIVILEGES ON `node_db`.* TO 'dbadmin'@'%'; GRANT SELECT ON mysql.* TO 'dbadmin'@'%';")
        rc, out, err = mariadb(master["username"], master["password"], step3)
        check("fresh: bootstrap step 3 as master", rc == 0, err)
        step5 = " ".join(
            f"CREATE USER IF NOT EXISTS '{u}'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'; "
            f"ALTER USER '{u}'@'%' REQUIRE SSL; "
            f"GRANT SELECT, CREATE, INSERT, UPDATE, DELETE ON `node_db`.* TO '{u}'@'%';"
            for u in ("node_app", "node_user"))
        rc, out, err = mariadb("dbadmin", token(user="dbadmin"), step5)
        check("fresh: bootstrap step 5 as dbadmin with a token", rc == 0, err)

    # Good tokens.
    t = time.monotonic()
    rc, out, err = mariadb("node_app", token(),
                           "SELECT CURRENT_USER(), VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
                           "WHERE VARIABLE_NAME = 'Ssl_version'; SELECT COUNT(*) FROM node_db.orders")
    login_s = time.monotonic() - t
    check("node_app with a boto3 token over TLS (verified CA + hostname)",
          rc == 0 and out.split() == ["node_app@%", "TLSv1.3", "100"], err or out)
    a = last_auth("node_app")
    check("auth log: valid, canonical, no token text", a.get("token_valid") is True and a["token"]["canonical"] is True
          and "X-Amz-Signature" not in json.dumps(a), repr(a))
    rc, out, err = mariadb("node_user", token(user="node_user"), "SELECT CURRENT_USER()")
    check("node_user with a token", rc == 0 and out == "node_user@%", err or out)
    rc, out, err = mariadb("node_app", token(session="IQoJb3JpZ2luX2VjEXAMPLE/+session=="), "SELECT 1")
    check("token with a session token", rc == 0 and last_auth("node_app")["token"]["session_token"] is True, err)
    rc, out, err = mariadb("node_app", token(host="127.0.0.1"), "SELECT 1", host="127.0.0.1")
    check("TLS to 127.0.0.1 verifies (SAN IP) but the token must name localhost",
          rc != 0 and "this endpoint is" in last_auth("node_app").get("reason", ""), err)
    rc, out, err = mariadb("node_app", token(), "INSERT INTO node_db.orders VALUES (1001, 1, 9.99, 'paid', '2025-01-01', 'smoke'); "
                           "DELETE FROM node_db.orders WHERE id = 1001; SELECT COUNT(*) FROM node_db.orders")
    check("node_app can INSERT/DELETE in node_db", rc == 0 and out == "100", err or out)
    rc, out, err = mariadb("node_app", token(), "SELECT COUNT(*) FROM mysql.user")
    check("node_app cannot read mysql.user", rc != 0 and "1142" in err, err)

    # A user name that needs escaping in the token, with non-ASCII bytes for the plugin's argv.
    odd = "zoë+app.1"
    rc, out, err = mariadb("root", None, f"CREATE USER '{odd}'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS' REQUIRE SSL", socket=SOCK,
                           extra=["--default-character-set=utf8mb4"])
    rc2, out, err2 = mariadb(odd, token(user=odd), "SELECT CURRENT_USER()", extra=["--default-character-set=utf8mb4"])
    check("user name with non-ASCII and '+' (token DBUser=zo%C3%AB%2Bapp.1)", rc == 0 and rc2 == 0 and out == f"{odd}@%", err or err2 or out)
    mariadb("root", None, f"DROP USER '{odd}'@'%'", socket=SOCK, extra=["--default-character-set=utf8mb4"])

    # Bad tokens: each rejected, with the reason in the auth log and the error log.
    sig = token()
    i = sig.index("X-Amz-Signature=") + len("X-Amz-Signature=")
    tampered = sig[:i] + ("0" if sig[i] != "0" else "1") + sig[i + 1:]
    expect_denied("token for another user", "node_app", token(user="node_user"), "DBUser")
    expect_denied("tampered signature", "node_app", tampered, "signature mismatch")
    expect_denied("expired (signed 20 min ago)", "node_app", token(offset_s=-1200), "expired")
    expect_denied("signed 10 min in the future", "node_app", token(offset_s=600), "future")
    expect_denied("wrong port in the token", "node_app", token(port=PORT + 1), "this endpoint is")
    expect_denied("wrong host in the token", "node_app", token(host="dev-node-app.proxy-c0ffee.us-east-1.rds.amazonaws.com"), "this endpoint is")
    expect_denied("wrong region", "node_app", token(region="eu-west-1"), "region")
    expect_denied("wrong secret key", "node_app", token(secret="wrong"), "signature mismatch")
    expect_denied("unknown access key", "node_app", token(key="AKIAUNKNOWNKEY000000"), "unknown access key")
    expect_denied("a password instead of a token", "node_app", master["password"], "not an RDS IAM token")
    with open(ERROR_LOG) as fh:
        elog = fh.read()
    check("error log names the reason", "AWSAuthenticationPlugin: access denied for 'node_app'@'127.0.0.1': signature mismatch" in elog)
    check("error log never holds a token or the secret", "X-Amz-Signature=" not in elog and "DBUser=" not in elog and SECRET not in elog and master["password"] not in elog)
    with open(AUTH_LOG) as fh:
        alog = fh.read()
    check("auth log never holds a token or the secret", "X-Amz-Signature" not in alog and SECRET not in alog and master["password"] not in alog)

    # TLS required, and verified.
    rc, out, err = mariadb("node_app", token(), "SELECT 1", tls=False)
    check("non-TLS connection refused (1045)", rc != 0 and "1045" in err, err)
    with open(GENERAL_LOG) as fh:
        glog = fh.read()
    check("general log shows that attempt as 'using TCP/IP'", "node_app@127.0.0.1 on  using TCP/IP" in glog)
    check("general log never holds the master password", master["password"] not in glog)
    rc, out, err = mariadb("node_app", token(), "SELECT 1", ca=None)
    check("unknown CA refused by the client (2026)", rc != 0 and "2026" in err, err)

    # Concurrency: the verifier runs per login; 8 at once.
    t = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        res = list(ex.map(lambda _i: mariadb("node_app", token(), "SELECT 1")[0], range(8)))
    check("8 concurrent token logins", res == [0] * 8, repr(res))
    par_s = time.monotonic() - t

    # The plain server: no TLS at all (what a client must refuse to send a token to).
    if "RDSDECK_SANDBOX_PLAIN_DB_PORT" in E:
        pport = int(E["RDSDECK_SANDBOX_PLAIN_DB_PORT"])
        rc, out, err = mariadb("node_app", token(port=pport), "SELECT 1", port=pport)
        check("plain server: TLS-requiring client refuses (2026)", rc != 0 and "2026" in err, err)
        rc, out, err = mariadb("node_app", token(port=pport), "SELECT @@have_ssl, CURRENT_USER()", port=pport, tls=False)
        check("plain server: a token sent in clear is accepted (the leak tests must catch)",
              rc == 0 and out.split() == ["DISABLED", "node_app@%"], err or out)
        with open(E["RDSDECK_SANDBOX_PLAIN_DB_AUTH_LOG"]) as fh:
            plog = [json.loads(l) for l in fh if l.strip()]
        check("plain server: its auth log records that token", any(l["token_valid"] for l in plog), repr(plog))

    print(f"one token login: {login_s:.2f}s; 8 concurrent: {par_s:.2f}s; total {time.monotonic() - t0:.1f}s")
    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
