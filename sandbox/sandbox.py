#!/usr/bin/env python3
"""rdsdeck sandbox, process management: a private moto server seeded with the rds-iam-auth
stack (the data in stack.py, the seeding in seed/), the database and the SSM stand-in.

Run it with the venv's python (sandbox/setup-venv prints the venv path; when started with
another python this script re-executes itself with that venv's python if it exists).

    sandbox.py up   [--env-file PATH] [--port N] [--stdin-lifeline] [DB OPTIONS]
    sandbox.py run  [--env-file PATH] [--port N] [DB OPTIONS] -- CMD ARGS...
    sandbox.py seed --endpoint URL

DB OPTIONS (the private MariaDB playing RDS Proxy + RDS, sandbox/db/; on by default):
    --no-db | --with-db    skip / start it
    --fresh-db             no IAM users yet (only the master user `admin`): for bootstrap tests
    --with-plain-db        also a second server without TLS (RDSDECK_SANDBOX_PLAIN_DB_PORT)
    --db-port N            the DB's port (default: a free one)

`up` prints `READY <env file>` on stdout once the stack is seeded, then waits for
SIGINT/SIGTERM/SIGHUP (or stdin EOF with --stdin-lifeline) and stops moto.
`run` does the same but runs CMD with the env file's variables, then stops and exits with
CMD's exit code. `seed` only seeds an already running moto.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

# The stack's data and its seeding live beside this file; this file runs the processes.
from seed import Clients, rds_conf, seed, terraform_outputs
from stack import ACCESS_KEY_ID, DB_PORT, PROXY_NAME, REGION, SECRET_ACCESS_KEY, SEED, SandboxError

# The database side (sandbox/db/) starts unless --no-db: it overlaps moto's start and seeding
# and adds ~0.5 s to READY (see sandbox/README.md).
DB_DEFAULT = True


class Stop(BaseException):
    """Raised from the SIGTERM/SIGHUP handler (SIGINT raises KeyboardInterrupt)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def log(msg: str) -> None:
    try:
        print(f"sandbox: {msg}", file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr closed by whoever started us: keep running
        pass


def say(text: str) -> None:
    """Print to stdout; a reader that went away after READY must not stop the sandbox."""
    try:
        print(text, flush=True)
    except (OSError, ValueError):
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except OSError:
            pass


# --------------------------------------------------------------------------- venv


def _ensure_venv() -> None:
    """Re-exec with the sandbox venv's python when boto3/moto are not importable here."""
    here_bin = os.path.dirname(sys.executable)
    try:
        import boto3  # noqa: F401
        import botocore  # noqa: F401

        if os.path.exists(os.path.join(here_bin, "moto_server")):
            return
    except ImportError:
        pass
    venv = os.environ.get("RDSDECK_VENV") or os.path.expanduser("~/.cache/rdsdeck/venv")
    py = os.path.join(venv, "bin", "python")
    if os.path.exists(py) and os.environ.get("RDSDECK_SANDBOX_REEXEC") != "1":
        os.environ["RDSDECK_SANDBOX_REEXEC"] = "1"
        os.execv(py, [py, os.path.abspath(__file__), *sys.argv[1:]])
    setup = os.path.join(os.path.dirname(os.path.abspath(__file__)), "setup-venv")
    print(
        f"sandbox: boto3/moto_server not available for {sys.executable}; "
        f'run `{setup}` and use "$({setup})/bin/python {sys.argv[0]} ..."',
        file=sys.stderr,
    )
    sys.exit(2)


def _write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def env_vars(endpoint: str, env_file: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_EC2_METADATA_DISABLED": "true",
        "RDSDECK_SANDBOX": "1",
        "RDSDECK_SANDBOX_ENDPOINT": endpoint,
        "RDSDECK_SANDBOX_TF_OUTPUT": f"{env_file}.terraform-output.json",
        "RDSDECK_SANDBOX_RDS_CONF": f"{env_file}.rds.conf",
        "RDSDECK_SANDBOX_FACTS": f"{env_file}.facts.json",
        "RDSDECK_SANDBOX_MOTO_LOG": f"{env_file}.moto.log",
        # Written once the day of metrics, logs and alarms is in (seed/story.py; after READY).
        "RDSDECK_SANDBOX_STORY": f"{env_file}.story.json",
    }
    env.update(extra or {})
    return env


def write_env_files(env_file: str, endpoint: str, facts: dict,
                    extra: dict[str, str] | None = None) -> dict[str, str]:
    env = env_vars(endpoint, env_file, extra)
    _write_atomic(env["RDSDECK_SANDBOX_TF_OUTPUT"], json.dumps(terraform_outputs(facts), indent=2) + "\n")
    _write_atomic(env["RDSDECK_SANDBOX_RDS_CONF"], rds_conf(facts))
    _write_atomic(env["RDSDECK_SANDBOX_FACTS"], json.dumps(facts, indent=2, sort_keys=True) + "\n")
    body = "".join(f"{k}={v}\n" for k, v in env.items())
    _write_atomic(env_file, body)
    return env


# --------------------------------------------------------------------------- moto process


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load_libc():
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return None


# Loaded up front: the preexec hook runs between fork and exec while other threads (the DB
# preparation) may hold the import lock, so it must not import anything.
_LIBC = _load_libc()


def _pdeathsig() -> None:
    """Child-side: get SIGKILLed when the sandbox process dies (Linux), even by SIGKILL.

    (Strictly: when the *thread* that spawned the child exits, so spawn from the main thread.)
    """
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _post(url: str, timeout: float = 5.0) -> bytes:
    req = urllib.request.Request(url, data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


class Moto:
    def __init__(self, log_path: str):
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, port: int, timeout: float = 30.0, while_booting=None) -> None:
        exe = os.path.join(os.path.dirname(sys.executable), "moto_server")
        if not os.path.exists(exe):
            raise SandboxError(f"{exe} not found: run sandbox/setup-venv and use its python")
        if port and not _port_is_free(port):
            raise SandboxError(f"port {port} on 127.0.0.1 is already in use")
        attempts = 5 if port == 0 else 1
        last = ""
        for attempt in range(attempts):
            self.port = port or _free_port()
            logf = open(self.log_path, "ab" if attempt else "wb")
            env = {k: v for k, v in os.environ.items() if not k.startswith("MOTO_")}
            env["MOTO_PORT"] = str(self.port)
            # So the EC2 role can attach AmazonSSMManagedInstanceCore & co. like the real stack.
            env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
            env.setdefault("PYTHONUNBUFFERED", "1")
            self.proc = subprocess.Popen(
                [exe, "-H", "127.0.0.1", "-p", str(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_pdeathsig,
                env=env,
                close_fds=True,
            )
            logf.close()
            if while_booting is not None:
                while_booting(self.endpoint)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    body = _post(f"{self.endpoint}/moto-api/reset", timeout=2)
                    if b'"ok"' not in body:
                        raise SandboxError(f"{self.endpoint} is not moto (reset answered {body[:80]!r})")
                    if self.proc.poll() is None:
                        _post(f"{self.endpoint}/moto-api/seed?a={SEED}", timeout=5)
                        return
                    last = f"port {self.port} answered but moto exited: {body[:80]!r}"
                    break
                except (urllib.error.URLError, ConnectionError, OSError) as e:
                    last = str(e)
                    time.sleep(0.05)
            rc = self.proc.poll()
            if rc is None:
                self.stop()
                raise SandboxError(f"moto_server did not answer on {self.endpoint} within {timeout}s ({last})")
            last = f"moto_server exited with {rc} on port {self.port} (see {self.log_path})"
            self.proc = None
        raise SandboxError(last)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and (self.ssm is None or self.ssm.poll() is None)

    ssm: subprocess.Popen | None = None

    def start_ssm(self, facts: dict, db_env: dict, log_path: str, timeout: float = 20.0) -> dict[str, str]:
        """The Session Manager stand-in (ssm/standin.py) in front of moto's SSM: the session API
        and the data-channel agent. Returns its env vars."""
        ready = log_path + ".port"
        try:
            os.unlink(ready)
        except FileNotFoundError:
            pass
        argv = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "ssm", "standin.py"), "--moto", self.endpoint,
                "--db-host", db_env.get("RDSDECK_SANDBOX_DB_HOST", "localhost"),
                "--db-port", db_env.get("RDSDECK_SANDBOX_DB_PORT", "0"), "--ready-file", ready]
        for alias in (facts.get("rds_proxy_endpoint"), facts.get("rds_address")):
            if alias:
                argv += ["--alias", alias]
        if facts.get("ec2_instance_id"):
            argv += ["--instance", facts["ec2_instance_id"]]
        logf = open(log_path, "wb")
        self.ssm = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                    start_new_session=True, preexec_fn=_pdeathsig, close_fds=True)
        logf.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ssm.poll() is not None:
                raise SandboxError(f"the SSM stand-in exited with {self.ssm.returncode} (see {log_path})")
            if os.path.exists(ready):
                port = open(ready).read().strip()
                url = f"http://127.0.0.1:{port}"
                # IAM and RDS go through it too: it answers what moto lacks (iam_rds.py).
                return {"AWS_ENDPOINT_URL_SSM": url, "AWS_ENDPOINT_URL_IAM": url, "AWS_ENDPOINT_URL_RDS": url,
                        "AWS_ENDPOINT_URL_CLOUDWATCH": url,
                        "RDSDECK_SANDBOX_SSM_ENDPOINT": url, "RDSDECK_SANDBOX_SSM_LOG": log_path}
            time.sleep(0.05)
        raise SandboxError(f"the SSM stand-in did not start within {timeout}s (see {log_path})")

    def stop(self) -> None:
        """Kill moto's whole process group (and the SSM stand-in's) and reap them.

        SIGKILL straight away: moto keeps nothing worth flushing, and after seeding its
        SIGTERM path (sys.exit + interpreter teardown) takes ~0.7 s for nothing.
        """
        q, self.ssm = self.ssm, None
        if q is not None:
            try:
                os.killpg(q.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            q.wait(timeout=10)
        p, self.proc = self.proc, None
        if p is None:
            return
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log(f"moto_server (pid {p.pid}) did not die after SIGKILL")


# --------------------------------------------------------------------------- commands


def _install_stop_handlers() -> None:
    def handler(signum, _frame):
        raise Stop(signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def _new_db(args):
    """The database side (sandbox/db/), prepared in the background while moto starts."""
    if not args.db:
        return None
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "db"))
    import sandboxdb

    try:
        db = sandboxdb.SandboxDB(
            python=sys.executable,
            credentials=[{"access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET_ACCESS_KEY}],
            region=REGION,
            plain=args.with_plain_db,
        )
    except sandboxdb.DBError as e:
        raise SandboxError(str(e)) from None
    db.prepare_async()
    return db


def _start_db(db, c: Clients, facts: dict, args) -> dict[str, str]:
    """Start the prepared DB, load it, point the stack's SSM parameters at it. Main thread only."""
    import sandboxdb

    t0 = time.monotonic()
    sec = json.loads(c.secretsmanager.get_secret_value(SecretId=facts["rds_master_secret_arn"])["SecretString"])
    # The database plays the proxy and the instance under their own names: the app's parameters keep
    # naming the proxy, as on AWS, and RDSDECK_CONNECT_TO sends TCP for those names to this server.
    endpoints = [(facts[k], DB_PORT) for k in ("rds_proxy_endpoint", "rds_address") if facts.get(k)]
    try:
        db.start(sec["username"], sec["password"], fresh=args.fresh_db, port=args.db_port, endpoints=endpoints,
                 authorize_url_file=os.path.join(db.run_dir, "authorize.url"))
    except sandboxdb.DBError as e:
        raise SandboxError(str(e)) from None
    facts["database"] = db.facts()
    facts["database"]["timings"]["after_seed_s"] = round(time.monotonic() - t0, 3)
    return {**db.env(), "RDSDECK_SANDBOX_PROXY_ENDPOINT": facts.get("rds_proxy_endpoint") or "",
            "RDSDECK_SANDBOX_INSTANCE_ENDPOINT": facts.get("rds_address") or ""}


def _seed_story_in_background(endpoint: str, facts: dict, marker: str) -> None:
    """The day of CloudWatch metrics, log events and alarms (seed/story.py) goes in after READY, on a
    thread: nothing waits for it but what shows it; `marker` is written when it is in (or failed)."""
    import datetime as dt
    import threading

    from seed.story import seed_story

    def run():
        t0 = time.monotonic()
        c = Clients(endpoint)
        try:
            out = seed_story(c, dt.datetime.now(dt.timezone.utc), facts["account_id"], facts["ec2_role_arn"], facts.get("ec2_instance_id", ""))
            out["seconds"] = round(time.monotonic() - t0, 2)
        except Exception as e:  # noqa: BLE001 - reported in the marker, never fatal
            out = {"error": f"{type(e).__name__}: {e}"}
            log(f"the story could not be seeded: {out['error']}")
        finally:
            c.close()
        _write_atomic(marker, json.dumps(out, indent=2) + "\n")

    threading.Thread(target=run, name="sandbox-story", daemon=True).start()


def _default_auth_scheme(facts: dict, standin: str, c: Clients) -> None:
    """The seed asks for DefaultAuthScheme IAM_AUTH (end-to-end IAM); moto drops it, the stand-in keeps
    it (its ModifyDBProxy): set it there, as Terraform's proxy has it."""
    if not facts.get("default_auth_scheme_sent"):
        return
    rds = c.session.client("rds", endpoint_url=standin, config=c.config)
    rds.modify_db_proxy(DBProxyName=PROXY_NAME, DefaultAuthScheme="IAM_AUTH")
    facts["notes"] = [n for n in facts.get("notes", []) if "DefaultAuthScheme" not in n]
    facts["notes"].append("DefaultAuthScheme IAM_AUTH is kept by the stand-in (moto does not model it)")


def _start(args) -> tuple[Moto, object, str, dict, dict]:
    env_file = os.path.abspath(args.env_file)
    os.makedirs(os.path.dirname(env_file), exist_ok=True)
    # No stale env file from an earlier run may survive a failed start.
    for path in [env_file] + [v for k, v in env_vars("", env_file).items() if k != "RDSDECK_SANDBOX_MOTO_LOG" and v.startswith(env_file)]:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    moto = Moto(f"{env_file}.moto.log")
    t0 = time.monotonic()
    clients: list[Clients] = []
    db = None
    try:
        db = _new_db(args)
        moto.start(args.port, while_booting=lambda ep: clients.append(Clients(ep).preload()))
        t_up = time.monotonic() - t0
        db_env: dict[str, str] = {}
        try:
            if not clients:
                clients.append(Clients(moto.endpoint))
            facts = seed(moto.endpoint, clients[-1])
            t_seeded = time.monotonic() - t0
            if db is not None:
                db_env = _start_db(db, clients[-1], facts, args)
            db_env.update(moto.start_ssm(facts, db_env, f"{env_file}.ssm.log"))
            _default_auth_scheme(facts, db_env["AWS_ENDPOINT_URL_RDS"], clients[-1])
            if db is not None:
                # From now on the database's verifier asks the IAM stand-in, as RDS asks IAM.
                _write_atomic(os.path.join(db.run_dir, "authorize.url"), db_env["RDSDECK_SANDBOX_SSM_ENDPOINT"] + "/sandbox/authorize\n")
        finally:
            for c in clients:
                c.close()
        facts["endpoint"] = moto.endpoint
        facts["moto_pid"] = moto.proc.pid if moto.proc else None
        facts["timing"] = {"moto_ready_s": round(t_up, 3), "seeded_s": round(t_seeded, 3),
                           "total_s": round(time.monotonic() - t0, 3)}
        env = write_env_files(env_file, moto.endpoint, facts, db_env)
        if not moto.alive():
            raise SandboxError(f"moto_server died during seeding (see {moto.log_path})")
        if db is not None and not db.alive():
            raise SandboxError(f"the sandbox database died while starting (see {db.main.error_log})")
    except BaseException:
        moto.stop()
        if db is not None:
            db.stop()
        raise
    _seed_story_in_background(moto.endpoint, facts, env["RDSDECK_SANDBOX_STORY"])
    log(f"moto on {moto.endpoint} (pid {facts['moto_pid']}), seeded in {facts['timing']['total_s']}s")
    if db is not None:
        m = facts["database"]["main"]
        log(f"database on localhost:{m['port']} (pid {m['pid']}, TLS, IAM via AWSAuthenticationPlugin"
            + (", fresh: master user only" if args.fresh_db else "")
            + (f"; plain no-TLS server on localhost:{facts['database']['plain']['port']}" if db.plain else "")
            + ")")
    for n in facts.get("notes", []):
        log(f"note: {n}")
    return moto, db, env_file, env, facts


def _stop_all(moto: Moto, db) -> None:
    moto.stop()
    if db is not None:
        db.stop()


def cmd_up(args) -> int:
    _install_stop_handlers()
    moto, db, env_file, env, _facts = _start(args)
    try:
        say(f"READY {env_file}")
        db_lines = ""
        if db is not None:
            db_lines = (
                f"    # the database plays the proxy {env['RDSDECK_SANDBOX_PROXY_ENDPOINT']}:3306 on localhost:{env['RDSDECK_SANDBOX_DB_PORT']};\n"
                "    # tokens are signed for the proxy's name, as on AWS:\n"
                '    TOKEN=$(aws rds generate-db-auth-token --hostname "$RDSDECK_SANDBOX_PROXY_ENDPOINT" --port 3306 --username node_user)   # the app user (its username parameter)\n'
                '    mariadb --protocol=TCP -h localhost -P "$RDSDECK_SANDBOX_DB_PORT" --ssl-ca "$RDSDECK_SANDBOX_DB_CA" \\\n'
                '        --ssl-verify-server-cert -u node_user -p"$TOKEN" node_db\n'
            )
        say(
            "\nThe rdsdeck sandbox is running (moto, us-east-1 seeded; eu-west-1 empty"
            + (", plus the database" if db is not None else "") + ").\n"
            "In another shell:\n"
            f"    set -a; . {env_file}; set +a\n"
            "    rdsdeck            # e.g. target/release/rdsdeck\n"
            f"    aws --endpoint-url {moto.endpoint} rds describe-db-proxies   # venv's aws CLI\n"
            + db_lines
            + ("Stops when stdin closes or on Ctrl-C / SIGTERM.\n" if args.stdin_lifeline else "Ctrl-C (or SIGTERM/SIGHUP) stops it.\n")
        )
        fds = [sys.stdin.fileno()] if args.stdin_lifeline else []
        while True:
            r, _, _ = select.select(fds, [], [], 0.5)
            if r:
                try:
                    data = os.read(fds[0], 4096)
                except OSError:
                    data = b""
                if not data:
                    log("stdin closed: stopping")
                    break
            if not moto.alive():
                log(f"moto_server exited unexpectedly (see {moto.log_path})")
                return 1
            if db is not None and not db.alive():
                log(f"the sandbox database exited unexpectedly (see {db.main.error_log})")
                return 1
    except (KeyboardInterrupt, Stop):
        log("stopping")
    finally:
        _stop_all(moto, db)
    return 0


def cmd_run(args) -> int:
    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        raise SandboxError("run: missing command (sandbox.py run -- CMD ARGS...)")
    _install_stop_handlers()
    moto, db, _env_file, env, _facts = _start(args)
    child: subprocess.Popen | None = None
    try:
        full_env = dict(os.environ)
        full_env.update(env)
        # Like a shell: Ctrl-C goes to the foreground command; we wait for it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            child = subprocess.Popen(cmd, env=full_env)
        except OSError as e:
            log(f"cannot run {cmd[0]}: {e}")
            return 127

        def forward(signum, _frame):
            if child and child.poll() is None:
                child.send_signal(signum)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGHUP, forward)
        rc = child.wait()
        return 128 - rc if rc < 0 else rc
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        _stop_all(moto, db)


def cmd_seed(args) -> int:
    endpoint = args.endpoint.rstrip("/")
    if args.reset:
        _post(f"{endpoint}/moto-api/reset")
        _post(f"{endpoint}/moto-api/seed?a={SEED}")
    facts = seed(endpoint)
    print(json.dumps(facts, indent=2, sort_keys=True))
    return 0


def cmd_scenario(args) -> int:
    import scenarios

    if args.list or not args.scenario:
        for name, (what, _, _) in scenarios.SCENARIOS.items():
            print(f"{name:<20} {what}")
        return 0 if args.list else 2
    say(scenarios.apply(args.env_file, args.scenario, fix=args.command == "fix"))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="sandbox.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--env-file", default=os.path.join(".sandbox", "env"),
                       help="where to write the env file (default .sandbox/env under the CWD)")
        p.add_argument("--port", type=int, default=0, help="moto port (0 = a free port, the default)")
        g = p.add_mutually_exclusive_group()
        g.add_argument("--with-db", "--db", dest="db", action="store_true", default=DB_DEFAULT,
                       help="start the sandbox database (MariaDB playing RDS Proxy + RDS)"
                       + (" (the default)" if DB_DEFAULT else ""))
        g.add_argument("--no-db", dest="db", action="store_false",
                       help="AWS APIs only, no database" + ("" if DB_DEFAULT else " (the default)"))
        p.add_argument("--fresh-db", action="store_true",
                       help="database without the IAM users (only the master user): for bootstrap tests")
        p.add_argument("--with-plain-db", action="store_true",
                       help="also start a database server without TLS (RDSDECK_SANDBOX_PLAIN_DB_PORT)")
        p.add_argument("--db-port", type=int, default=0, help="database port (0 = a free port, the default)")

    p_up = sub.add_parser("up", help="start moto, seed it, wait")
    common(p_up)
    p_up.add_argument("--stdin-lifeline", action="store_true", help="also stop when stdin reaches EOF")
    p_run = sub.add_parser("run", help="start moto, seed it, run CMD with its env, stop")
    common(p_run)
    p_run.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    p_seed = sub.add_parser("seed", help="seed an already running moto")
    p_seed.add_argument("--endpoint", required=True, help="e.g. http://127.0.0.1:5000")
    p_seed.add_argument("--reset", action="store_true",
                        help=f"POST /moto-api/reset and /moto-api/seed?a={SEED} first")
    for verb, helptext in (("break", "break one link of a running sandbox (the doctor's scenarios)"),
                           ("fix", "mend a scenario broken with `break`")):
        p = sub.add_parser(verb, help=helptext)
        p.add_argument("scenario", nargs="?", help="the scenario (--list shows them)")
        p.add_argument("--list", action="store_true", help="list the scenarios")
        p.add_argument("--env-file", default=os.path.join(".sandbox", "env"), help="the running sandbox's env file")
    args = ap.parse_args(argv)
    if args.command in ("up", "run") and not args.db and (args.fresh_db or args.with_plain_db or args.db_port):
        ap.error("--fresh-db, --with-plain-db and --db-port need the database (drop --no-db)")

    try:
        return {"up": cmd_up, "run": cmd_run, "seed": cmd_seed, "break": cmd_scenario, "fix": cmd_scenario}[args.command](args)
    except (KeyboardInterrupt, Stop):
        log("interrupted")
        return 130
    except SandboxError as e:
        log(f"error: {e}")
        return 1
    except Exception as e:  # botocore errors during seeding, etc.
        log(f"error: {type(e).__name__}: {e}")
        return 1


if __name__ == "__main__":
    _ensure_venv()
    os.environ.pop("RDSDECK_SANDBOX_REEXEC", None)
    sys.exit(main())
