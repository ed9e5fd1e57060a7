"""The sandbox's Session Manager (shared design: SANDBOX.md section 3, SSM_PROTOCOL.md).

One aiohttp server on a loopback port plays three parts:

* the SSM API (JSON 1.1, `POST /`, `X-Amz-Target: AmazonSSM.<Op>`): StartSession, ResumeSession,
  TerminateSession, DescribeSessions and DescribeInstanceInformation are answered here; every other
  SSM operation is passed through to moto unchanged, so `AWS_ENDPOINT_URL_SSM` can point here;
* IAM and RDS (query protocol, `AWS_ENDPOINT_URL_IAM` / `AWS_ENDPOINT_URL_RDS`): what moto lacks and
  the doctor needs (iam_rds.py: SimulatePrincipalPolicy, the proxy targets' real health), the rest
  passed through; `POST /sandbox/authorize` answers the database's token verifier (may this caller
  log in as that user at that endpoint?);
* CloudWatch (`AWS_ENDPOINT_URL_CLOUDWATCH`): the SDKs speak Smithy RPC v2 CBOR to it, moto only the
  query protocol: cloudwatch_cbor.py translates both ways;
* the data-channel agent at the StreamUrl it hands out (`/v1/data-channel/<session>`): checks the
  opening token, runs the handshake, serves port sessions (smux v1 or basic mode) by dialling the
  sandbox database whatever host the document names among the stack's endpoints, and interactive
  shells in a pty.

Written from the protocol description only, independently of rdsdeck's Rust client, so a bug on one
side cannot hide behind the same bug on the other. It follows the real agent where the agent is
harder on a client than a friendly peer would be (aws/amazon-ssm-agent, read, not copied):

* a stream message below the expected sequence number is dropped without an ack, as agents before
  3.2.1041.0 do ("Discarding already processed message"; agent/session/datachannel/datachannel.go,
  handleStreamDataMessage; newer agents ack it again: fault `ack_processed`);
* only the oldest unacknowledged message is resent, at most once per retransmission timeout, on a
  100 ms tick, also after a resume: the backlog is never replayed at once (ResendStreamDataMessageScheduler);
* basic mode (agent <= 3.0.196.0, or a client older than 1.1.70): after DisconnectToPort the agent
  closes its destination connection and dials again only when the client sends data
  (agent/session/plugins/port/port_basic.go): a server-speaks-first protocol never starts again;
* the port handshake's Properties are the document's properties (portNumber, type,
  localPortNumber, host): the plugin takes its local port from there; a shell session has no
  handshake unless KMS encryption is on (standardstream.go: RequireHandshake false), so its first
  stream message is output; the first stream message carries the SYN flag (SendStreamDataMessage). Faults for tests are set per run with
`POST /sandbox/faults` (JSON: drop, duplicate, reorder, withhold_acks (the ack lost with its
websocket, which closes) as probabilities in [0, 1],
close_after = N data messages then a websocket close with code 1000, bogus_publication,
short_channel_closed, pace_per_s, agent_offline) and read back with `GET /sandbox/faults`; `GET /sandbox/sessions`
lists sessions with their counters.

    python standin.py --moto http://127.0.0.1:PORT --db-host localhost --db-port N \
        --alias NAME ... --instance i-... [--port 0] [--ready-file PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import hashlib
import json
import os
import pty
import random
import secrets
import signal
import struct
import sys
import termios
import time
import uuid

from aiohttp import ClientSession, WSMsgType, web

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cloudwatch_cbor  # noqa: E402
import iam_rds  # noqa: E402

AGENT_VERSION = "3.3.40.0"
HEADER_LEN = 116
CHUNK = 1024  # the agent's stream data payload size

# smux v1
SMUX_SYN, SMUX_FIN, SMUX_PSH, SMUX_NOP = 0, 1, 2, 3


def log(msg: str) -> None:
    print(f"ssm-standin: {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the frame


def encode(mtype: str, seq: int, flags: int, ptype: int, payload: bytes, mid: uuid.UUID | None = None,
           header_len: int = HEADER_LEN) -> bytes:
    mid = mid or uuid.uuid4()
    b = mid.bytes
    head = struct.pack(">I", header_len) + mtype.encode().ljust(32, b" ")
    head += struct.pack(">IQqQ", 1, int(time.time() * 1000), seq, flags)
    head += b[8:] + b[:8] + hashlib.sha256(payload).digest()
    if header_len >= 116:
        head += struct.pack(">I", ptype)
    return head + struct.pack(">I", len(payload)) + payload


def decode(buf: bytes) -> dict:
    (hl,) = struct.unpack(">I", buf[:4])
    if hl < 112 or hl > len(buf):
        raise ValueError(f"bad HeaderLength {hl} for {len(buf)} bytes")
    mtype = buf[4:36].decode("ascii").strip(" \x00")
    _ver, _date, seq, flags = struct.unpack(">IQqQ", buf[36:64])
    raw = buf[64:80]
    mid = uuid.UUID(bytes=raw[8:] + raw[:8])
    digest = buf[80:112]
    ptype = struct.unpack(">I", buf[112:116])[0] if hl >= 116 else 0
    payload = buf[hl + 4:]
    if payload and mtype not in ("start_publication", "pause_publication") and hashlib.sha256(payload).digest() != digest:
        raise ValueError(f"digest mismatch on {mtype}")
    return {"type": mtype, "seq": seq, "flags": flags, "id": mid, "ptype": ptype, "payload": payload}


# --------------------------------------------------------------------------- state


class Faults:
    def __init__(self, **kw):
        self.drop = float(kw.get("drop", 0))
        self.duplicate = float(kw.get("duplicate", 0))
        self.reorder = float(kw.get("reorder", 0))
        self.withhold_acks = float(kw.get("withhold_acks", 0))
        self.close_after = int(kw.get("close_after", 0))
        self.bogus_publication = bool(kw.get("bogus_publication", False))
        self.short_channel_closed = bool(kw.get("short_channel_closed", False))
        self.pace_per_s = float(kw.get("pace_per_s", 0))
        # The agent asks the client for KMS encryption of the session (the native client cannot).
        self.kms = bool(kw.get("kms", False))
        # An agent this old does not multiplex (basic mode).
        self.agent_version = str(kw.get("agent_version", AGENT_VERSION))
        # Ack a message below the expected sequence number again (agents since 3.2.1041.0).
        self.ack_processed = bool(kw.get("ack_processed", False))
        # After processing the Nth client stream message, close the websocket before its ack goes
        # out (the ack is lost with the websocket; the message was processed).
        self.lose_ack_at = int(kw.get("lose_ack_at", 0))
        # The managed instances' agent stopped answering: PingStatus ConnectionLost, StartSession refused.
        self.agent_offline = bool(kw.get("agent_offline", False))

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class Session:
    def __init__(self, sid: str, target: str, document: str, params: dict):
        self.id = sid
        self.target = target
        self.document = document
        self.params = params
        self.token = secrets.token_urlsafe(32)
        self.state = "Connected"
        self.started = time.time()
        self.ws: web.WebSocketResponse | None = None
        self.handshaken = False
        self.client_version = ""
        self.out_seq = 0
        self.unacked: dict[int, tuple[bytes, float]] = {}
        self.expected = 0
        self.early: dict[int, dict] = {}
        self.streams: dict[int, asyncio.StreamWriter] = {}
        self.basic: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.buf = b""
        self.smux = False
        self.sent_data = 0
        self.closed_1000 = 0
        self.held: bytes | None = None
        self.counters = {"in": 0, "out": 0, "resent": 0, "dropped": 0, "duplicated": 0, "acks_withheld": 0, "tcp_opened": 0,
                         "discarded_processed": 0, "acks_lost": 0}
        # What the client said: its ClientId on each open, its HandshakeResponse.
        self.client_ids: list[str] = []
        self.handshake_response: dict | None = None
        self.shell: tuple[int, int] | None = None  # (pid, master fd)
        self.tasks: list[asyncio.Task] = []
        self.done = asyncio.Event()
        self.send_lock = asyncio.Lock()
        # Set while a websocket is attached: stream data waits for one, as the agent does not
        # publish into a closed channel (its SendStreamDataMessage fails without buffering).
        self.connected = asyncio.Event()
        # Fault closes in progress, by websocket.
        self.closing: dict[int, asyncio.Future] = {}

    def info(self) -> dict:
        return {
            "SessionId": self.id, "Target": self.target, "Status": self.state, "DocumentName": self.document,
            "StartDate": self.started, "Owner": "arn:aws:iam::123456789012:user/moto",
        }


class Agent:
    def __init__(self, args):
        self.args = args
        self.sessions: dict[str, Session] = {}
        self.faults = Faults()
        self.port = 0
        self.rng = random.Random(7)
        self.iam_rds = iam_rds.IamRds(args.moto, args.db_host, args.db_port)
        self.cloudwatch = cloudwatch_cbor.CloudWatchCbor(args.moto)

    # ----------------------------------------------------------------- API

    async def api(self, request: web.Request) -> web.StreamResponse:
        target = request.headers.get("X-Amz-Target", "")
        body = await request.read()
        if not target:
            return await self.query_api(request, body)
        op = target.split(".", 1)[-1]
        handler = {
            "StartSession": self.start_session, "ResumeSession": self.resume_session,
            "TerminateSession": self.terminate_session, "DescribeSessions": self.describe_sessions,
            "DescribeInstanceInformation": self.describe_instance_information,
        }.get(op)
        if handler is None:
            return await self.passthrough(request, body)
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            return self.error(400, "SerializationException", "body is not JSON")
        return await handler(req)

    async def query_api(self, request: web.Request, body: bytes) -> web.StreamResponse:
        """IAM and RDS (query protocol): what moto lacks is answered (iam_rds.py), the rest passes through."""
        form = iam_rds.form_of(body)
        action = form.get("Action", [""])[0]
        key = iam_rds.access_key_of(request.headers.get("Authorization", ""))
        try:
            if action == "SimulatePrincipalPolicy":
                xml = await iam_rds.in_thread(self.iam_rds.simulate, form, key)
                return web.Response(body=xml.encode(), content_type="text/xml")
            if action == "ModifyDBProxy":
                name = form.get("DBProxyName", [""])[0]
                await iam_rds.in_thread(self.iam_rds.modify_proxy, form)
                describe = f"Action=DescribeDBProxies&Version=2014-10-31&DBProxyName={name}".encode()
                r = await self.passthrough(request, describe)
                xml = await iam_rds.in_thread(self.iam_rds.modify_response, r.body, name)
                return web.Response(body=xml, content_type="text/xml")
            if action == "DescribeDBProxies":
                r = await self.passthrough(request, body)
                if r.status != 200:
                    return r
                xml = await iam_rds.in_thread(self.iam_rds.rewrite_proxies, r.body)
                return web.Response(body=xml, content_type="text/xml")
            if action == "DescribeDBProxyTargets":
                r = await self.passthrough(request, body)
                if r.status != 200:
                    return r
                proxy = form.get("DBProxyName", [""])[0]
                xml = await iam_rds.in_thread(self.iam_rds.rewrite_targets, r.body, proxy)
                return web.Response(body=xml, content_type="text/xml")
        except iam_rds.Denied as e:
            ns = iam_rds.IAM_NS if action == "SimulatePrincipalPolicy" else iam_rds.RDS_NS
            return web.Response(status=e.status, body=iam_rds.error_xml(ns, e.code, e.message).encode(), content_type="text/xml")
        return await self.passthrough(request, body)

    async def rpcv2(self, request: web.Request) -> web.Response:
        """CloudWatch over Smithy RPC v2 CBOR (cloudwatch_cbor.py): moto answers, in its query protocol."""
        if request.match_info["service"] != "GraniteServiceVersion20100801":
            return web.Response(status=404, text="no such service")
        status, body = await iam_rds.in_thread(self.cloudwatch.call, request.match_info["op"], await request.read())
        return web.Response(status=status, body=body, content_type="application/cbor", headers={"smithy-protocol": "rpc-v2-cbor"})

    async def authorize(self, request: web.Request) -> web.Response:
        """The sandbox database's token verifier asks: would RDS let this caller log in as USER at HOST?"""
        q = await request.json()
        try:
            ok, why = await iam_rds.in_thread(self.iam_rds.authorize, q["access_key"], q["user"], q["host"])
        except Exception as e:  # refuse, never crash open
            ok, why = False, f"authorize failed: {type(e).__name__}: {e}"[:300]
        return web.json_response({"allowed": ok, "reason": why})

    async def auth_event(self, request: web.Request) -> web.Response:
        """A login the database refused: into the instance's exported iam-db-auth-error log."""
        q = await request.json()
        try:
            await iam_rds.in_thread(self.iam_rds.export_auth_failure, str(q.get("user", "")), str(q.get("reason", "")),
                                    str(q.get("host", "")))
        except Exception as e:  # noqa: BLE001 - a log export must not take the stand-in down
            log(f"auth-event export failed: {type(e).__name__}: {e}")
        return web.json_response({"ok": True})

    def error(self, status: int, code: str, msg: str) -> web.Response:
        return web.json_response({"__type": code, "message": msg}, status=status,
                                 headers={"x-amzn-query-error": f"{code};Sender"}, content_type="application/x-amz-json-1.1")

    def ok(self, obj: dict) -> web.Response:
        return web.Response(body=json.dumps(obj).encode(), content_type="application/x-amz-json-1.1")

    async def passthrough(self, request: web.Request, body: bytes) -> web.StreamResponse:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with ClientSession() as s:
            async with s.post(self.args.moto + "/", data=body, headers=headers) as r:
                data = await r.read()
                out = {k: v for k, v in r.headers.items() if k.lower() in ("content-type", "x-amzn-requestid", "x-amzn-query-error")}
                return web.Response(status=r.status, body=data, headers=out)

    def stream_url(self, s: Session) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/data-channel/{s.id}?role=publish_subscribe"

    async def start_session(self, req: dict) -> web.Response:
        target = req.get("Target", "")
        if target not in self.args.instance or not await self.agent_online(target):
            return self.error(400, "TargetNotConnected", f"{target} is not connected.")
        doc = req.get("DocumentName") or "SSM-SessionManagerRunShell"
        sid = f"moto-{secrets.token_hex(8)}"
        s = Session(sid, target, doc, req.get("Parameters") or {})
        self.sessions[sid] = s
        log(f"StartSession {sid} {target} {doc} {json.dumps(s.params)}")
        return self.ok({"SessionId": sid, "TokenValue": s.token, "StreamUrl": self.stream_url(s)})

    async def resume_session(self, req: dict) -> web.Response:
        s = self.sessions.get(req.get("SessionId", ""))
        if s is None or s.state == "Terminated":
            return self.error(400, "DoesNotExistException", f"Session {req.get('SessionId')} does not exist or is terminated")
        s.token = secrets.token_urlsafe(32)
        return self.ok({"SessionId": s.id, "TokenValue": s.token, "StreamUrl": self.stream_url(s)})

    async def terminate_session(self, req: dict) -> web.Response:
        s = self.sessions.get(req.get("SessionId", ""))
        if s is not None and s.state != "Terminated":
            await self.end(s, "Session terminated by TerminateSession")
        return self.ok({"SessionId": req.get("SessionId", "")})

    async def describe_sessions(self, req: dict) -> web.Response:
        state = req.get("State", "Active")
        rows = [s.info() for s in self.sessions.values() if (s.state != "Terminated") == (state == "Active")]
        return self.ok({"Sessions": rows})

    async def describe_instance_information(self, req: dict) -> web.Response:
        online = {i: await self.agent_online(i) for i in self.args.instance}
        rows = [{
            "InstanceId": i, "PingStatus": "Online" if online[i] else "ConnectionLost", "LastPingDateTime": time.time(), "AgentVersion": AGENT_VERSION,
            "IsLatestVersion": True, "PlatformType": "Linux", "PlatformName": "Amazon Linux", "PlatformVersion": "2023",
            "ResourceType": "EC2Instance", "IPAddress": "10.0.1.10", "ComputerName": "ip-10-0-1-10.ec2.internal",
        } for i in self.args.instance]
        return self.ok({"InstanceInformationList": rows})

    async def agent_online(self, instance: str) -> bool:
        """The agent answers unless the fault says otherwise or it has no way out to Session Manager."""
        if self.faults.agent_offline:
            return False
        ok, why = await iam_rds.in_thread(self.iam_rds.agent_reaches_ssm, instance)
        if not ok:
            log(f"agent on {instance} offline: {why}")
        return ok

    async def set_faults(self, request: web.Request) -> web.Response:
        self.faults = Faults(**(await request.json()))
        return web.json_response(self.faults.as_dict())

    async def get_faults(self, _request: web.Request) -> web.Response:
        return web.json_response(self.faults.as_dict())

    async def list_sessions(self, _request: web.Request) -> web.Response:
        return web.json_response([{**s.info(), "counters": s.counters, "smux": s.smux, "closed_1000": s.closed_1000,
                                   "client_ids": s.client_ids, "handshake_response": s.handshake_response,
                                   "unacked": len(s.unacked), "oldest_unacked": min(s.unacked, default=None),
                                   "next_out": s.out_seq, "expected": s.expected,
                                   "params": s.params} for s in self.sessions.values()])

    # ----------------------------------------------------------------- the data channel

    async def channel(self, request: web.Request) -> web.StreamResponse:
        s = self.sessions.get(request.match_info["sid"])
        if s is None or s.state == "Terminated":
            return web.Response(status=404, text="no such session")
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        first = await ws.receive(timeout=10)
        try:
            opening = json.loads(first.data) if first.type == WSMsgType.TEXT else {}
        except ValueError:
            opening = {}
        if opening.get("TokenValue") != s.token:
            log(f"{s.id}: bad or missing token on open")
            await ws.close(code=4001, message=b"invalid token")
            return ws
        s.token = ""  # one use
        s.client_version = opening.get("ClientVersion", "")
        s.client_ids.append(str(opening.get("ClientId", "")))
        old, s.ws = s.ws, ws
        if old is not None and not old.closed:
            await old.close(code=1000)
        s.connected.set()
        if self.faults.bogus_publication:
            await self.raw(s, encode("start_publication", 0, 0, 0, b"", header_len=HEADER_LEN)[:120] + b"\x00\x00")
        first_open = len(s.client_ids) == 1
        if first_open and (s.document.startswith("AWS-StartPortForwarding") or self.faults.kms):
            await self.send_data(s, 5, json.dumps(self.handshake_request(s)).encode())
        elif first_open:
            # A shell without KMS: no handshake; the shell runs and its output is the first message.
            s.handshaken = True
            await self.start_shell(s)
        # A resumed channel: nothing is replayed at once; the resend tick sends the oldest unacked.
        ticker = asyncio.create_task(self.resend_loop(s, ws))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.BINARY:
                    continue
                try:
                    m = decode(msg.data)
                except ValueError as e:
                    log(f"{s.id}: dropped a bad frame: {e}")
                    continue
                await self.on_message(s, m)
        finally:
            ticker.cancel()
            if s.ws is ws:
                s.connected.clear()
            closing = s.closing.pop(id(ws), None)
            if closing is not None:
                closing.cancel()
        return ws

    def handshake_request(self, s: Session) -> dict:
        req = self._handshake_request(s)
        if self.faults.kms:
            req["RequestedClientActions"].insert(0, {"ActionType": "KMSEncryption", "ActionParameters": {"KMSKeyId": "arn:aws:kms:us-east-1:123456789012:key/sandbox"}})
        return req

    def _handshake_request(self, s: Session) -> dict:
        p = s.params
        if s.document in ("AWS-StartPortForwardingSession", "AWS-StartPortForwardingSessionToRemoteHost"):
            # The documents' properties with their parameters filled in (defaults: 80, 0).
            props = {"portNumber": (p.get("portNumber") or ["80"])[0], "type": "LocalPortForwarding",
                     "localPortNumber": (p.get("localPortNumber") or ["0"])[0]}
            if s.document.endswith("ToRemoteHost"):
                props["host"] = (p.get("host") or [""])[0]
            return {"AgentVersion": self.faults.agent_version, "RequestedClientActions": [
                {"ActionType": "SessionType", "ActionParameters": {"SessionType": "Port", "Properties": props}}]}
        return {"AgentVersion": AGENT_VERSION, "RequestedClientActions": [
            {"ActionType": "SessionType", "ActionParameters": {"SessionType": "Standard_Stream", "Properties": None}}]}

    async def close_ws(self, s: Session, why: bytes) -> None:
        """Closes the session's websocket with code 1000 (a fault), as a server does: the close frame
        after everything sent before it, then reading on (the client's acks still count) until the
        client's close. No stream data goes out until the client resumes. (aiohttp's own close() from
        another task closes the socket at once, and the unread acks turn it into a reset that
        destroys what the client had not read yet: no real server does that on a normal close.)"""
        ws = s.ws
        if ws is None or ws.closed or id(ws) in s.closing:
            return
        s.connected.clear()

        async def give_up():
            await asyncio.sleep(10)
            if not ws.closed:
                await ws.close(code=1000, message=why)

        s.closing[id(ws)] = asyncio.ensure_future(give_up())
        try:
            async with s.send_lock:
                await ws._writer.close(1000, why)  # noqa: SLF001 - the close frame alone
        except (ConnectionError, RuntimeError):
            pass

    async def raw(self, s: Session, frame: bytes) -> None:
        ws = s.ws
        if ws is None or ws.closed or id(ws) in s.closing:
            return
        try:
            async with s.send_lock:
                await ws.send_bytes(frame)
        except (ConnectionError, RuntimeError):
            pass

    async def lossy(self, s: Session, frame: bytes) -> None:
        """Sends a data frame through the configured faults."""
        f = self.faults
        if f.drop and self.rng.random() < f.drop:
            s.counters["dropped"] += 1
            return
        if f.reorder and s.held is None and self.rng.random() < f.reorder:
            s.held = frame
            return
        await self.raw(s, frame)
        if f.duplicate and self.rng.random() < f.duplicate:
            s.counters["duplicated"] += 1
            await self.raw(s, frame)
        if s.held is not None:
            held, s.held = s.held, None
            await self.raw(s, held)

    async def send_data(self, s: Session, ptype: int, payload: bytes) -> None:
        if not s.connected.is_set():
            waits = [asyncio.create_task(s.connected.wait()), asyncio.create_task(s.done.wait())]
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for w in waits:
                w.cancel()
            if s.state == "Terminated":
                return
        if self.faults.pace_per_s:
            await asyncio.sleep(1 / self.faults.pace_per_s)
        else:
            # Let the reader take the client's acks between messages, as the agent's own goroutine
            # does: a sender that starves it leaves thousands of acks unread when a websocket closes.
            await asyncio.sleep(0)
        seq = s.out_seq
        s.out_seq += 1
        frame = encode("output_stream_data", seq, 1 if seq == 0 else 0, ptype, payload)
        s.unacked[seq] = (frame, time.monotonic())
        s.counters["out"] += 1
        await self.lossy(s, frame)
        s.sent_data += 1
        if self.faults.close_after and s.sent_data % self.faults.close_after == 0 and s.ws is not None:
            s.closed_1000 += 1
            log(f"{s.id}: closing the websocket with 1000 (fault)")
            await self.close_ws(s, b"fault: close 1000")

    async def resend_loop(self, s: Session, ws) -> None:
        while not ws.closed:
            await asyncio.sleep(0.1)
            now = time.monotonic()
            for seq in sorted(s.unacked)[:1]:
                frame, at = s.unacked[seq]
                if now - at > 0.2:
                    s.unacked[seq] = (frame, now)
                    s.counters["resent"] += 1
                    await self.raw(s, frame)
            if s.held is not None and s.ws is ws:
                held, s.held = s.held, None
                await self.raw(s, held)

    async def ack(self, s: Session, m: dict) -> None:
        if self.faults.withhold_acks and self.rng.random() < self.faults.withhold_acks:
            # On TCP an ack is only lost with its websocket: withheld, and the websocket closed.
            s.counters["acks_withheld"] += 1
            if s.ws is not None and not s.ws.closed:
                s.closed_1000 += 1
                await self.close_ws(s, b"fault: ack lost")
            return
        body = json.dumps({"AcknowledgedMessageType": m["type"], "AcknowledgedMessageId": str(m["id"]),
                           "AcknowledgedMessageSequenceNumber": m["seq"], "IsSequentialMessage": True}).encode()
        await self.raw(s, encode("acknowledge", 0, 3, 0, body))

    async def on_message(self, s: Session, m: dict) -> None:
        if m["type"] == "acknowledge":
            try:
                seq = json.loads(m["payload"])["AcknowledgedMessageSequenceNumber"]
            except (ValueError, KeyError):
                return
            s.unacked.pop(seq, None)
            return
        if m["type"] != "input_stream_data":
            return
        s.counters["in"] += 1
        if m["seq"] < s.expected:
            # Already processed: the agent drops it, and before 3.2.1041.0 sends no ack.
            s.counters["discarded_processed"] += 1
            if self.faults.ack_processed:
                await self.ack(s, m)
            return
        if m["seq"] == s.expected:
            s.expected += 1
            await self.process(s, m)
            if self.faults.lose_ack_at and s.counters["in"] == self.faults.lose_ack_at and s.ws is not None:
                # Processed, and the websocket goes before the ack does.
                s.counters["acks_lost"] += 1
                log(f"{s.id}: closing the websocket before acking message {m['seq']} (fault)")
                await self.close_ws(s, b"fault: ack lost")
                return
            await self.ack(s, m)
            while s.expected in s.early:
                nxt = s.early.pop(s.expected)
                s.expected += 1
                await self.process(s, nxt)
        else:
            await self.ack(s, m)
            s.early.setdefault(m["seq"], m)

    async def process(self, s: Session, m: dict) -> None:
        ptype, payload = m["ptype"], m["payload"]
        if ptype == 6:  # HandshakeResponse
            resp = json.loads(payload)
            s.handshake_response = resp
            s.client_version = resp.get("ClientVersion", s.client_version)
            s.smux = (s.document.startswith("AWS-StartPortForwarding") and version_ge(s.client_version, "1.1.70")
                      and not version_ge("3.0.196.0", self.faults.agent_version))
            s.handshaken = True
            await self.send_data(s, 7, json.dumps({"HandshakeTimeToComplete": 1000000, "CustomerMessage": ""}).encode())
            if not s.document.startswith("AWS-StartPortForwarding"):
                await self.start_shell(s)
            elif not s.smux:
                # Basic mode: the agent connects at session start (InitializeSession).
                await self.basic_connect(s)
            return
        if ptype == 10:  # Flag
            flag = struct.unpack(">I", payload[:4])[0] if len(payload) >= 4 else 0
            if flag == 1:  # DisconnectToPort: close; dial again only when the client sends data
                if s.basic is not None:
                    old = s.basic[1]
                    s.basic = None
                    old.close()
            elif flag == 2:  # TerminateSession
                await self.end(s, "Session terminated by the client")
            return
        if ptype == 3:  # Size
            if s.shell is not None:
                size = json.loads(payload)
                fcntl.ioctl(s.shell[1], termios.TIOCSWINSZ, struct.pack("HHHH", size["rows"], size["cols"], 0, 0))
            return
        if ptype != 1:
            return
        if s.shell is not None:
            os.write(s.shell[1], payload)
        elif s.smux:
            await self.smux_in(s, payload)
        elif s.document.startswith("AWS-StartPortForwarding"):
            await self.basic_in(s, payload)

    # ----------------------------------------------------------------- port sessions

    def destination(self, s: Session) -> tuple[str, int]:
        host = (s.params.get("host") or ["localhost"])[0]
        port = int((s.params.get("portNumber") or ["3306"])[0])
        if host in self.args.alias or port == 3306:
            # The stack's endpoints (moto names that resolve nowhere) all land in the sandbox database.
            return self.args.db_host, self.args.db_port
        return host, port

    async def dial(self, s: Session):
        host, port = self.destination(s)
        s.counters["tcp_opened"] += 1
        return await asyncio.open_connection(host, port)

    async def basic_connect(self, s: Session) -> bool:
        try:
            reader, writer = await self.dial(s)
        except OSError as e:
            log(f"{s.id}: cannot reach the destination: {e}")
            await self.send_data(s, 10, struct.pack(">I", 3))  # ConnectToPortError
            return False
        s.basic = (reader, writer)
        s.tasks.append(asyncio.create_task(self.pump_basic(s, reader, writer)))
        return True

    async def basic_in(self, s: Session, data: bytes) -> None:
        if s.basic is None and not await self.basic_connect(s):
            return
        s.basic[1].write(data)
        await s.basic[1].drain()

    async def pump_basic(self, s: Session, reader, writer) -> None:
        try:
            while True:
                data = await reader.read(CHUNK)
                if not data:
                    break
                await self.send_data(s, 1, data)
        except ConnectionError:
            pass
        finally:
            if s.basic is not None and s.basic[1] is writer:
                s.basic = None
            writer.close()

    async def smux_in(self, s: Session, data: bytes) -> None:
        s.buf += data
        while len(s.buf) >= 8:
            ver, cmd, length, sid = struct.unpack("<BBHI", s.buf[:8])
            if len(s.buf) < 8 + length:
                return
            body, s.buf = s.buf[8:8 + length], s.buf[8 + length:]
            if ver != 1:
                log(f"{s.id}: smux version {ver}")
                continue
            if cmd == SMUX_SYN:
                try:
                    reader, writer = await self.dial(s)
                except OSError as e:
                    log(f"{s.id}: stream {sid}: cannot reach the destination: {e}")
                    await self.smux_out(s, SMUX_FIN, sid, b"")
                    continue
                s.streams[sid] = writer
                s.tasks.append(asyncio.create_task(self.pump_smux(s, sid, reader, writer)))
            elif cmd == SMUX_PSH:
                w = s.streams.get(sid)
                if w is not None:
                    w.write(body)
                    await w.drain()
            elif cmd == SMUX_FIN:
                w = s.streams.pop(sid, None)
                if w is not None:
                    try:
                        w.write_eof()
                    except OSError:
                        w.close()

    async def smux_out(self, s: Session, cmd: int, sid: int, body: bytes) -> None:
        await self.send_data(s, 1, struct.pack("<BBHI", 1, cmd, len(body), sid) + body)

    async def pump_smux(self, s: Session, sid: int, reader, writer) -> None:
        try:
            while True:
                data = await reader.read(CHUNK - 8)
                if not data:
                    break
                await self.smux_out(s, SMUX_PSH, sid, data)
        except ConnectionError:
            pass
        finally:
            await self.smux_out(s, SMUX_FIN, sid, b"")
            s.streams.pop(sid, None)
            writer.close()

    # ----------------------------------------------------------------- shells

    async def start_shell(self, s: Session) -> None:
        pid, fd = pty.fork()
        if pid == 0:
            os.environ["PS1"] = "sh-sandbox$ "
            os.environ["TERM"] = "xterm-256color"
            os.execvp("/bin/sh", ["/bin/sh", "-i"])
        s.shell = (pid, fd)
        os.set_blocking(fd, False)
        loop = asyncio.get_running_loop()
        q: asyncio.Queue[bytes] = asyncio.Queue()

        def readable():
            try:
                data = os.read(fd, CHUNK)
            except OSError:
                data = b""
            q.put_nowait(data)
            if not data:
                loop.remove_reader(fd)

        loop.add_reader(fd, readable)

        async def pump():
            while True:
                data = await q.get()
                if not data:
                    break
                await self.send_data(s, 1, data)
            await self.end(s, f"Exiting session with sessionId: {s.id}.")

        s.tasks.append(asyncio.create_task(pump()))

    async def end(self, s: Session, reason: str) -> None:
        if s.state == "Terminated":
            return
        s.state = "Terminated"
        s.done.set()
        body = json.dumps({"MessageId": str(uuid.uuid4()), "CreatedDate": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                           "DestinationId": s.id, "SessionId": s.id, "MessageType": "channel_closed",
                           "SchemaVersion": 1, "Output": reason}).encode()
        frame = encode("channel_closed", 0, 0, 0, body, header_len=112 if self.faults.short_channel_closed else HEADER_LEN)
        await self.raw(s, frame)
        if s.shell is not None:
            pid, fd = s.shell
            s.shell = None
            try:
                os.kill(pid, signal.SIGHUP)
                os.waitpid(pid, os.WNOHANG)
            except (ProcessLookupError, ChildProcessError):
                pass
            # Unregistered before it is closed: the fd number is reused by the next socket accepted,
            # and a stale registration would leave that connection unread.
            asyncio.get_running_loop().remove_reader(fd)
            try:
                os.close(fd)
            except OSError:
                pass
        for w in list(s.streams.values()):
            w.close()
        if s.basic is not None:
            s.basic[1].close()
        if s.ws is not None and not s.ws.closed:
            await s.ws.close(code=1000)
        log(f"{s.id}: {reason}")


def version_ge(a: str, b: str) -> bool:
    def parts(v):
        return [int(x) if x.isdigit() else 0 for x in v.split(".")]
    try:
        return parts(a) >= parts(b)
    except ValueError:
        return False


async def main(args) -> None:
    agent = Agent(args)
    app = web.Application(client_max_size=1 << 24)
    app.router.add_post("/", agent.api)
    app.router.add_get("/v1/data-channel/{sid}", agent.channel)
    app.router.add_post("/sandbox/faults", agent.set_faults)
    app.router.add_get("/sandbox/faults", agent.get_faults)
    app.router.add_get("/sandbox/sessions", agent.list_sessions)
    app.router.add_post("/sandbox/authorize", agent.authorize)
    app.router.add_post("/service/{service}/operation/{op}", agent.rpcv2)
    app.router.add_post("/sandbox/auth-event", agent.auth_event)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port)
    await site.start()
    agent.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    if args.ready_file:
        with open(args.ready_file + ".tmp", "w") as fh:
            fh.write(str(agent.port))
        os.replace(args.ready_file + ".tmp", args.ready_file)
    print(f"READY {agent.port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for s in list(agent.sessions.values()):
        await agent.end(s, "the sandbox is stopping")
    await runner.cleanup()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--moto", required=True, help="moto's endpoint, for every other SSM call")
    ap.add_argument("--db-host", default="localhost")
    ap.add_argument("--db-port", type=int, required=True)
    ap.add_argument("--alias", action="append", default=[], help="a host name that means the sandbox database")
    ap.add_argument("--instance", action="append", default=[], help="a managed instance id (Online)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ready-file")
    asyncio.run(main(ap.parse_args()))
