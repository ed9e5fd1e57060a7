"""The database part of the rdsdeck sandbox: private MariaDB servers playing RDS Proxy + RDS.

Used by sandbox/sandbox.py (`up`/`run` with the database on). Per run:

- a run directory `/tmp/rdsdeck-db-XXXXXXXX/` (short: Unix socket paths max out at 107 bytes),
  removed on stop; leftovers of runs whose owner died are swept at the next start;
- `aws_auth_plugin.so` compiled from aws_auth_plugin.c with gcc (no MariaDB headers);
- a throwaway CA, and at start a server certificate for the stack's endpoint names (the proxy's and
  the instance's, as on AWS) plus localhost and 127.0.0.1;
- `mariadb-install-db` once; the plain (no-TLS) server, when wanted, gets a copy of the datadir;
- `mariadbd --defaults-file=<dir>/my.cnf` in its own process group, on a free loopback port, with
  PR_SET_PDEATHSIG so it dies with the sandbox even on SIGKILL; stopped with SIGKILL to the
  group (the data is throwaway);
- every IAM login is checked by verify_token.py (botocore) through the plugin; each attempt
  lands as one JSON line in `auth.jsonl` (never the token).

Only the Python standard library is used here; the verifier needs botocore (the sandbox venv).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN_SRC = os.path.join(HERE, "aws_auth_plugin.c")
VERIFIER_PY = os.path.join(HERE, "verify_token.py")
NODE_DB_SQL = os.path.join(HERE, "node_db.sql")
PLUGIN_SO = "aws_auth_plugin.so"
VERIFIER_WRAPPER = "aws_auth_verifier"  # the plugin's default: this name next to the .so
RUN_PREFIX = "rdsdeck-db-"

DB_NAME = "node_db"
IAM_USERS = ("node_app", "node_user")
IAM_ADMIN = "dbadmin"
ADVERTISED_HOST = "localhost"


class DBError(Exception):
    pass


def _which(*names: str, extra_dirs=("/usr/sbin", "/usr/local/sbin", "/sbin")) -> str | None:
    for n in names:
        p = shutil.which(n)
        if p:
            return p
        for d in extra_dirs:
            cand = os.path.join(d, n)
            if os.access(cand, os.X_OK):
                return cand
    return None


def find_tools() -> dict[str, str]:
    tools = {
        "mariadbd": _which("mariadbd", "mysqld"),
        "install_db": _which("mariadb-install-db", "mysql_install_db"),
        "client": _which("mariadb", "mysql"),
        "cc": os.environ.get("CC") or _which("gcc", "cc"),
        "openssl": _which("openssl"),
    }
    missing = [k for k, v in tools.items() if not v]
    if missing:
        raise DBError(
            f"cannot start the sandbox database: {', '.join(missing)} not found "
            "(Debian/Ubuntu: apt-get install mariadb-server mariadb-client gcc openssl; "
            "or run the sandbox with --no-db)"
        )
    return tools  # type: ignore[return-value]


def _run(argv: list[str], what: str, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    try:
        if "input" not in kw:
            kw.setdefault("stdin", subprocess.DEVNULL)
        cp = subprocess.run(argv, capture_output=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        raise DBError(f"{what} timed out after {timeout}s") from None
    except OSError as e:
        raise DBError(f"{what}: cannot run {argv[0]}: {e}") from None
    if cp.returncode != 0:
        out = (cp.stderr or b"").decode(errors="replace").strip() or (cp.stdout or b"").decode(errors="replace").strip()
        raise DBError(f"{what} failed (exit {cp.returncode}): {out[-1500:]}")
    return cp


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sql_str(s: str) -> str:
    """A MariaDB string literal (default sql_mode: backslash escapes are on)."""
    return "'" + s.replace("\\", "\\\\").replace("'", "''").replace("\0", "\\0") + "'"


def _ident(s: str) -> str:
    return "`" + s.replace("`", "``") + "`"


def _load_libc():
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6", use_errno=True)
    except Exception:
        return None


_LIBC = _load_libc()  # loaded up front: nothing may be imported between fork and exec


def _pdeathsig() -> None:
    """Child side: SIGKILL when the thread that spawned us dies (spawn from the main thread)."""
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_run_dirs(base: str) -> list[str]:
    """Remove run dirs of sandboxes that died without cleaning up (owner pid gone)."""
    removed = []
    try:
        names = os.listdir(base)
    except OSError:
        return removed
    for n in names:
        if not n.startswith(RUN_PREFIX):
            continue
        d = os.path.join(base, n)
        try:
            st = os.lstat(d)
            if st.st_uid != os.getuid() or not os.path.isdir(d) or os.path.islink(d):
                continue
            with open(os.path.join(d, "owner.pid")) as fh:
                pid = int(fh.read().strip())
        except (OSError, ValueError):
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed


# --------------------------------------------------------------------------- build steps


def build_plugin(cc: str, out_dir: str) -> str:
    os.makedirs(out_dir, exist_ok=True)
    so = os.path.join(out_dir, PLUGIN_SO)
    _run([cc, "-shared", "-fPIC", "-O2", "-Wall", "-o", so, PLUGIN_SRC], "compiling aws_auth_plugin.c")
    return so


def make_ca(openssl: str, tls_dir: str, days: int = 7) -> dict[str, str]:
    """A throwaway CA (RSA 2048, like the RDS/ACM roots); server certs come from issue_cert."""
    os.makedirs(tls_dir, mode=0o700, exist_ok=True)
    p = {"ca": os.path.join(tls_dir, "ca.pem"), "ca_key": os.path.join(tls_dir, "ca-key.pem"), "dir": tls_dir,
         "days": str(days)}
    _run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p["ca_key"], "-out", p["ca"],
          "-days", str(days), "-subj", "/O=rdsdeck sandbox/CN=rdsdeck sandbox CA",
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign",
          "-addext", "subjectKeyIdentifier=hash"], "openssl: CA")
    return p


def issue_cert(openssl: str, ca: dict[str, str], names: list[str]) -> dict[str, str]:
    """A server cert from `ca` for `names` (the stack's endpoints, as RDS's and the proxy's certs
    carry theirs) plus localhost and 127.0.0.1. Returns the CA dict with `cert` and `key` added."""
    d = ca["dir"]
    p = dict(ca, cert=os.path.join(d, "server-cert.pem"), key=os.path.join(d, "server-key.pem"))
    csr, ext = os.path.join(d, "server.csr"), os.path.join(d, "server.ext")
    dns = ["localhost"] + [n for n in dict.fromkeys(names) if n and n != "localhost"]
    with open(ext, "w") as fh:
        fh.write(
            "subjectAltName=" + ",".join(f"DNS:{n}" for n in dns) + ",IP:127.0.0.1\n"
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth\n"
            "subjectKeyIdentifier=hash\n"
            "authorityKeyIdentifier=keyid\n"
        )
    _run([openssl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", p["key"], "-out", csr,
          "-subj", f"/O=rdsdeck sandbox/CN={dns[-1][:64]}"], "openssl: server key")
    _run([openssl, "x509", "-req", "-in", csr, "-CA", p["ca"], "-CAkey", p["ca_key"],
          "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-out", p["cert"],
          "-days", ca["days"], "-sha256", "-extfile", ext], "openssl: server cert")
    for f in (csr, ext):
        os.unlink(f)
    return p


INNODB_OPTS = ["--innodb-buffer-pool-size=16M", "--innodb-log-file-size=4M"]


def install_datadir(install_db: str, datadir: str) -> None:
    argv = [install_db, "--no-defaults", f"--datadir={datadir}",
            "--auth-root-authentication-method=normal", "--skip-test-db", *INNODB_OPTS]
    if os.geteuid() == 0:
        argv.append("--user=root")
    _run(argv, "mariadb-install-db", timeout=120)


def _cache_root() -> str | None:
    if os.environ.get("RDSDECK_DB_CACHE", "1") == "0":
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "rdsdeck", "mariadb-datadir")


def datadir_from_template(tools: dict, datadir: str) -> str:
    """Fill `datadir` with a pristine `mariadb-install-db` result.

    install-db takes 0.5-2 s; a copy of its output takes ~0.03 s. The template is cached under
    ~/.cache/rdsdeck/mariadb-datadir/<key>/ (key: the mariadbd and install-db binaries, the
    options, the uid); RDSDECK_DB_CACHE=0 turns the cache off. Returns "cache" or "install".
    """
    import hashlib

    root = _cache_root()
    if root is None:
        install_datadir(tools["install_db"], datadir)
        return "install"
    h = hashlib.sha256()
    for exe in (tools["mariadbd"], tools["install_db"]):
        st = os.stat(exe)
        h.update(f"{os.path.realpath(exe)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    h.update(f"{INNODB_OPTS}:{os.geteuid()}:v1".encode())
    final = os.path.join(root, h.hexdigest()[:16])
    marker = os.path.join(final, "complete")
    if not os.path.exists(marker):
        os.makedirs(root, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix="tmp-", dir=root)
        try:
            install_datadir(tools["install_db"], os.path.join(tmp, "datadir"))
            with open(os.path.join(tmp, "complete"), "w") as fh:
                fh.write("ok\n")
            try:
                os.rename(tmp, final)
                tmp = ""
            except OSError:  # someone else won the race (or a broken leftover): keep theirs
                if not os.path.exists(marker):
                    shutil.rmtree(final, ignore_errors=True)
                    os.rename(tmp, final)
                    tmp = ""
        finally:
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(os.path.join(final, "datadir"), datadir, symlinks=True)
    return "cache"


# --------------------------------------------------------------------------- one server


class Instance:
    """One private mariadbd: `db` (TLS required, the proxy stand-in) or `plain` (no TLS)."""

    def __init__(self, name: str, run_dir: str, tools: dict, *, tls: dict | None, python: str,
                 credentials: list[dict], region: str, host: str = ADVERTISED_HOST):
        self.name = name
        self.tools = tools
        self.tls = tls
        self.dir = os.path.join(run_dir, name)
        self.datadir = os.path.join(self.dir, "data")
        self.plugin_dir = os.path.join(self.dir, "plugin")
        self.socket = os.path.join(self.dir, "mysqld.sock")
        self.pid_file = os.path.join(self.dir, "mysqld.pid")
        self.error_log = os.path.join(self.dir, "error.log")
        self.general_log = os.path.join(self.dir, "general.log")
        self.auth_log = os.path.join(self.dir, "auth.jsonl")
        self.cnf = os.path.join(self.dir, "my.cnf")
        self.verifier_cfg = os.path.join(self.dir, "verifier.json")
        # Where the IAM stand-in's /sandbox/authorize URL is written once it runs (None: not asked).
        self.authorize_url_file: str | None = None
        self.python = python
        self.credentials = credentials
        self.region = region
        self.host = host
        self.port = 0
        # The names tokens may be signed for (host, port); empty: this server's own host:port.
        self.endpoints: list[tuple[str, int]] = []
        self.proc: subprocess.Popen | None = None
        self.ready_s = 0.0

    # -- files

    def install_plugin(self, so: str) -> None:
        os.makedirs(self.plugin_dir, exist_ok=True)
        dst = os.path.join(self.plugin_dir, PLUGIN_SO)
        shutil.copyfile(so, dst)
        wrapper = os.path.join(self.plugin_dir, VERIFIER_WRAPPER)
        with open(wrapper, "w") as fh:
            fh.write(
                "#!/bin/sh\n"
                "# rdsdeck sandbox: run by AWSAuthenticationPlugin for each IAM login; the token is on stdin.\n"
                f"exec {shlex.quote(self.python)} -I {shlex.quote(VERIFIER_PY)} "
                f"--config {shlex.quote(self.verifier_cfg)} \"$@\"\n"
            )
        os.chmod(wrapper, 0o755)

    def _write_config(self) -> None:
        cfg = {
            "region": self.region,
            "endpoints": [{"host": h, "port": p} for h, p in (self.endpoints or [(self.host, self.port)])],
            "credentials": self.credentials,
            "max_clock_skew_s": 300,
            "audit_log": self.auth_log,
            "authorize_url_file": self.authorize_url_file,
        }
        fd = os.open(self.verifier_cfg + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(cfg, fh, indent=2)
        os.replace(self.verifier_cfg + ".tmp", self.verifier_cfg)

        lines = [
            "# rdsdeck sandbox database (written by sandbox/db/sandboxdb.py)",
            "[mariadbd]",
            f"datadir={self.datadir}",
            f"socket={self.socket}",
            f"pid-file={self.pid_file}",
            f"log-error={self.error_log}",
            f"port={self.port}",
            "bind-address=127.0.0.1",
            "skip-name-resolve",
            f"plugin-dir={self.plugin_dir}",
            f"plugin-load-add={PLUGIN_SO}",
            # Like RDS: UTC, utf8mb4.
            "default-time-zone=+00:00",
            "character-set-server=utf8mb4",
            "collation-server=utf8mb4_unicode_ci",
            # Every statement, for tests that want to see what rdsdeck ran (no passwords: the
            # sandbox's own setup runs with sql_log_off).
            "general-log=1",
            f"general-log-file={self.general_log}",
            # Small and quick; the data is throwaway.
            "innodb-buffer-pool-size=16M",
            "innodb-log-file-size=4M",
            "innodb-flush-log-at-trx-commit=0",
            "innodb-doublewrite=0",
            "skip-host-cache",
        ]
        if self.tls:
            lines += [
                f"ssl-ca={self.tls['ca']}",
                f"ssl-cert={self.tls['cert']}",
                f"ssl-key={self.tls['key']}",
                "require-secure-transport=ON",
            ]
        if os.geteuid() == 0:
            lines.append("user=root")
        with open(self.cnf, "w") as fh:
            fh.write("\n".join(lines) + "\n")

    # -- process

    def _log_tail(self, n: int = 15) -> str:
        try:
            with open(self.error_log, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(0, size - 8192))
                return "\n".join(fh.read().decode(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no error log)"

    def _handshake(self) -> bool:
        """True once the server greets on its Unix socket (protocol 10 handshake)."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(1.0)
                s.connect(self.socket)
                hdr = s.recv(5)
                return len(hdr) == 5 and hdr[4] == 10
        except OSError:
            return False

    def start(self, port: int = 0, timeout: float = 60.0) -> None:
        t0 = time.monotonic()
        attempts = 5 if port == 0 else 1
        last = ""
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "TZ": "UTC",
               "HOME": self.dir}
        for _ in range(attempts):
            self.port = port or _free_port()
            self._write_config()
            with open(self.error_log, "ab") as logf:
                self.proc = subprocess.Popen(
                    [self.tools["mariadbd"], f"--defaults-file={self.cnf}"],
                    stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                    start_new_session=True, preexec_fn=_pdeathsig, env=env, close_fds=True,
                    cwd=self.dir,
                )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if self._handshake():
                    self.ready_s = time.monotonic() - t0
                    return
                time.sleep(0.02)
            rc = self.proc.poll()
            tail = self._log_tail()
            if rc is None:
                self.stop()
                raise DBError(f"{self.name}: mariadbd did not get ready within {timeout}s:\n{tail}")
            self.proc = None
            last = f"{self.name}: mariadbd exited with {rc} on port {self.port}:\n{tail}"
            if "already in use" not in tail and "Bind on TCP/IP port" not in tail:
                break
        raise DBError(last)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        p, self.proc = self.proc, None
        if p is None:
            return
        try:
            os.killpg(p.pid, signal.SIGKILL)  # mariadbd and any verifier it is running
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def sql(self, text: str, what: str = "SQL", timeout: float = 60) -> str:
        cp = _run([self.tools["client"], "--no-defaults", f"--socket={self.socket}", "-uroot",
                   "--default-character-set=utf8mb4",
                   "--batch", "--skip-column-names"],
                  f"{self.name}: {what}", timeout=timeout, input=text.encode())
        return cp.stdout.decode(errors="replace")

    def facts(self) -> dict:
        return {
            "host": self.host,
            "port": self.port,
            "socket": self.socket,
            "pid": self.proc.pid if self.proc else None,
            "tls": bool(self.tls),
            "ca": self.tls["ca"] if self.tls else None,
            "cnf": self.cnf,
            "error_log": self.error_log,
            "general_log": self.general_log,
            "auth_log": self.auth_log,
            "ready_s": round(self.ready_s, 3),
        }


# --------------------------------------------------------------------------- the whole DB side


def _node_db_sql() -> str:
    with open(NODE_DB_SQL, encoding="utf-8") as fh:
        return fh.read()


def bootstrap_sql(master_user: str, master_password: str, *, fresh: bool, require_ssl: bool) -> str:
    """Users as the seed's bootstrap (rds.sh) leaves them, after RDS created the master user."""
    ssl = " REQUIRE SSL" if require_ssl else ""
    db = _ident(DB_NAME)
    out = [
        "SET SESSION sql_log_off = 1;",  # keep the master password out of the general log
        # No password-less root over TCP (install-db makes root@127.0.0.1 / ::1 / <hostname>);
        # root@localhost remains: the Unix socket only, with skip-name-resolve.
        "DELETE FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost';",
        "DELETE FROM mysql.proxies_priv WHERE User = 'root' AND Host <> 'localhost';",
        "FLUSH PRIVILEGES;",
        _node_db_sql(),
        # The RDS master user (password from the RDS-managed secret in Secrets Manager).
        f"CREATE USER {_sql_str(master_user)}@'%' IDENTIFIED BY {_sql_str(master_password)};",
        f"GRANT ALL PRIVILEGES ON *.* TO {_sql_str(master_user)}@'%' WITH GRANT OPTION;",
    ]
    if not fresh:
        a = f"'{IAM_ADMIN}'@'%'"
        out += [
            f"CREATE USER IF NOT EXISTS {a} IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS';",
            f"ALTER USER {a}{ssl};" if ssl else "",
            f"GRANT CREATE USER, RELOAD, PROCESS ON *.* TO {a} WITH GRANT OPTION;",
            f"GRANT ALL PRIVILEGES ON {db}.* TO {a};",
            f"GRANT SELECT ON mysql.* TO {a};",
        ]
        for u in IAM_USERS:
            out += [
                f"CREATE USER IF NOT EXISTS '{u}'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'{ssl};",
                f"GRANT SELECT, CREATE, INSERT, UPDATE, DELETE ON {db}.* TO '{u}'@'%';",
            ]
    out.append("FLUSH PRIVILEGES;")
    return "\n".join(x for x in out if x) + "\n"


class SandboxDB:
    """All database pieces of one sandbox run. prepare() may run in a thread; start() and stop()
    must run in the main thread (PR_SET_PDEATHSIG follows the spawning thread)."""

    def __init__(self, *, python: str, credentials: list[dict], region: str, plain: bool = False,
                 base_dir: str | None = None):
        self.tools = find_tools()
        self.python = python
        self.credentials = credentials
        self.region = region
        self.want_plain = plain
        base = base_dir or os.environ.get("RDSDECK_DB_TMPDIR") or "/tmp"
        self.swept = sweep_stale_run_dirs(base)
        self.run_dir = tempfile.mkdtemp(prefix=RUN_PREFIX, dir=base)
        with open(os.path.join(self.run_dir, "owner.pid"), "w") as fh:
            fh.write(f"{os.getpid()}\n")
        self.tls: dict | None = None
        self.main: Instance | None = None
        self.plain: Instance | None = None
        self.timings: dict[str, float] = {}
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    # -- preparation (no long-lived processes)

    def prepare(self) -> None:
        t0 = time.monotonic()
        errors: list[BaseException] = []

        def timed(label, fn, *a):
            def run():
                t = time.monotonic()
                try:
                    return fn(*a)
                except BaseException as e:  # noqa: BLE001 - re-raised below
                    errors.append(e)
                finally:
                    self.timings[label] = round(time.monotonic() - t, 3)
            return run

        results: dict[str, object] = {}
        build_dir = os.path.join(self.run_dir, "build")
        data0 = os.path.join(self.run_dir, "db", "data")
        os.makedirs(os.path.dirname(data0), exist_ok=True)
        jobs = {
            "plugin_build_s": lambda: results.__setitem__("so", build_plugin(self.tools["cc"], build_dir)),
            "tls_s": lambda: results.__setitem__("tls", make_ca(self.tools["openssl"], os.path.join(self.run_dir, "tls"))),
            "datadir_s": lambda: results.__setitem__("datadir", datadir_from_template(self.tools, data0)),
        }
        threads = [threading.Thread(target=timed(k, f), name=f"db-{k}", daemon=True) for k, f in jobs.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        self.tls = results["tls"]  # type: ignore[assignment]
        self.datadir_source = results["datadir"]
        so = results["so"]
        self.main = Instance("db", self.run_dir, self.tools, tls=self.tls, python=self.python,
                             credentials=self.credentials, region=self.region)
        self.main.install_plugin(so)  # type: ignore[arg-type]
        if self.want_plain:
            self.plain = Instance("plain", self.run_dir, self.tools, tls=None, python=self.python,
                                  credentials=self.credentials, region=self.region)
            t = time.monotonic()
            shutil.copytree(data0, self.plain.datadir, symlinks=True)
            self.timings["plain_copy_s"] = round(time.monotonic() - t, 3)
            self.plain.install_plugin(so)  # type: ignore[arg-type]
        self.timings["prepare_s"] = round(time.monotonic() - t0, 3)

    def prepare_async(self) -> None:
        def run():
            try:
                self.prepare()
            except BaseException as e:  # noqa: BLE001
                self._error = e

        self._thread = threading.Thread(target=run, name="sandbox-db-prepare", daemon=True)
        self._thread.start()

    def wait_prepared(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            e, self._error = self._error, None
            raise e if isinstance(e, DBError) else DBError(f"{type(e).__name__}: {e}")
        if self.main is None:
            raise DBError("database not prepared")

    # -- servers (main thread)

    def start(self, master_user: str, master_password: str, *, fresh: bool, port: int = 0,
              endpoints: list[tuple[str, int]] | None = None, authorize_url_file: str | None = None) -> None:
        """Start the servers. `endpoints`: the stack's names the main server plays (the proxy's and
        the instance's): its certificate carries them and the verifier accepts tokens only for them.
        `authorize_url_file`: the main server's verifier also asks IAM (the URL written there later)
        whether the caller may connect; without it, a valid signature suffices."""
        self.wait_prepared()
        t0 = time.monotonic()
        assert self.main is not None and self.tls is not None
        self.tls = issue_cert(self.tools["openssl"], self.tls, [h for h, _ in endpoints or []])
        self.main.tls = self.tls
        self.main.endpoints = list(endpoints or [])
        self.main.authorize_url_file = authorize_url_file
        self.timings["cert_s"] = round(time.monotonic() - t0, 3)
        self.main.start(port)
        if self.plain:
            self.plain.start(0)
        self.timings["servers_ready_s"] = round(time.monotonic() - t0, 3)
        t = time.monotonic()
        self.main.sql(bootstrap_sql(master_user, master_password, fresh=fresh, require_ssl=True),
                      "loading node_db and users")
        if self.plain:
            self.plain.sql(bootstrap_sql(master_user, master_password, fresh=fresh, require_ssl=False),
                           "loading node_db and users")
        self.timings["load_s"] = round(time.monotonic() - t, 3)
        self.fresh = fresh

    def alive(self) -> bool:
        return all(i.alive() for i in (self.main, self.plain) if i is not None)

    def stop(self, keep_files: bool = False) -> None:
        if self._thread is not None:  # still preparing: let the short-lived tools finish
            self._thread.join(timeout=120)
        for inst in (self.plain, self.main):
            if inst is not None:
                inst.stop()
        if not keep_files:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    # -- outputs

    def env(self) -> dict[str, str]:
        assert self.main is not None and self.tls is not None
        m = self.main
        out = {
            "RDSDECK_SANDBOX_DB_HOST": m.host,
            "RDSDECK_SANDBOX_DB_PORT": str(m.port),
            "RDSDECK_SANDBOX_DB_CA": self.tls["ca"],
            # rdsdeck's own setting for extra trust (its --ca): the demo's SQL view needs it.
            "RDSDECK_CA": self.tls["ca"],
            # The stack's endpoints (moto's names, which resolve nowhere) land here; rdsdeck signs
            # tokens for and verifies TLS against the names, as on AWS (its documented --connect-to).
            "RDSDECK_CONNECT_TO": ",".join(f"{h}:{p}:127.0.0.1:{m.port}" for h, p in m.endpoints),
            "RDSDECK_SANDBOX_DB_SOCKET": m.socket,
            "RDSDECK_SANDBOX_DB_NAME": DB_NAME,
            "RDSDECK_SANDBOX_DB_FRESH": "1" if getattr(self, "fresh", False) else "0",
            "RDSDECK_SANDBOX_DB_ERROR_LOG": m.error_log,
            "RDSDECK_SANDBOX_DB_GENERAL_LOG": m.general_log,
            "RDSDECK_SANDBOX_DB_AUTH_LOG": m.auth_log,
        }
        if self.plain:
            out.update({
                "RDSDECK_SANDBOX_PLAIN_DB_HOST": self.plain.host,
                "RDSDECK_SANDBOX_PLAIN_DB_PORT": str(self.plain.port),
                "RDSDECK_SANDBOX_PLAIN_DB_SOCKET": self.plain.socket,
                "RDSDECK_SANDBOX_PLAIN_DB_AUTH_LOG": self.plain.auth_log,
            })
        return out

    def facts(self) -> dict:
        return {
            "run_dir": self.run_dir,
            "name": DB_NAME,
            "fresh": getattr(self, "fresh", False),
            "iam_users": [] if getattr(self, "fresh", False) else [IAM_ADMIN, *IAM_USERS],
            "tls": {k: v for k, v in (self.tls or {}).items() if k not in ("dir", "days")},
            "endpoints": [f"{h}:{p}" for h, p in (self.main.endpoints if self.main else [])],
            "main": self.main.facts() if self.main else None,
            "plain": self.plain.facts() if self.plain else None,
            "datadir_source": getattr(self, "datadir_source", None),
            "timings": dict(self.timings),
            "swept_stale_run_dirs": self.swept,
        }
