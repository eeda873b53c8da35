"""A fault-injecting HTTP reverse proxy for AWS API calls, put in front of the moto server.

The product under test (the real CLI, in a subprocess or in-process) is pointed at this proxy with
AWS_ENDPOINT_URL; every API request goes through it and may meet one fault (`Fault`):

- THROTTLE: the proxy answers itself, as the service would when throttling, in the service's own
  protocol: `RequestLimitExceeded` in EC2's XML, `Throttling` in the query protocol's XML
  (Auto Scaling, ELBv2, STS), `Throttling` for CloudWatch (in JSON, the protocol botocore uses
  for it, or CBOR for RPC v2), `ThrottlingException` in JSON for DynamoDB; HTTP 400;
- UNAVAILABLE: HTTP 503 with a `ServiceUnavailable` body, the request never reaches moto;
- DROP_BEFORE: the connection is closed before the request is forwarded (it never reached moto);
- DROP_AFTER: the request is forwarded and moto acts on it, then the connection is closed before
  the client gets the answer (the case that makes a blind retry of a create duplicate it).

Faults can also be scripted per action (`script`: the first CreateLaunchTemplate dropped after
forwarding, ...), for tests of one precise fault. Otherwise which request meets a fault is decided
from a hash of (seed, the request's service, action and
body, and how often that same request was seen before), so a run is reproducible whatever order
the client's threads send in, and a retry of a faulted request is decided afresh.

Crash points: with `kill_at = k`, the proxy SIGKILLs `target_pid` at the k-th API request, either
before forwarding it (`kill_when = "before"`: the call never happened) or after moto answered it
but before the client hears (`"after"`: the call happened, the client never knew). Requests to
moto's own `/moto-api/` are forwarded untouched and not counted. Loopback only; standard library.
Callers: tests/faults/, benchmarks/faults.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import signal
import socket
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

__all__ = ["Fault", "FaultProxy", "ProxyStats", "classify"]

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/(?P<service>[^/]+)/aws4_request")
# the part of a request body that differs between runs of the same program (a random idempotency
# token), kept out of the fault decision's hash so that a seed means the same faults every run
_VOLATILE = re.compile(rb"(ClientToken=[^&]*)")


class Fault(StrEnum):
    THROTTLE = "throttle"
    UNAVAILABLE = "unavailable"
    DROP_BEFORE = "drop_before"
    DROP_AFTER = "drop_after"


def classify(*, method: str, path: str, headers: Mapping[str, str], body: bytes) -> tuple[str, str]:
    """(service, action) of one request, e.g. ("ec2", "DescribeImages"), ("monitoring", "DescribeAlarms")."""
    lower = {k.lower(): v for k, v in headers.items()}
    scope = _SCOPE.search(lower.get("authorization", ""))
    service = scope["service"] if scope else "unsigned"
    split = urlsplit(path)
    action = ""
    if body and "x-www-form-urlencoded" in lower.get("content-type", ""):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
    if not action and split.query:
        action = parse_qs(split.query).get("Action", [""])[0]
    if not action and "x-amz-target" in lower:
        action = lower["x-amz-target"].rsplit(".", 1)[-1]
    if not action and "/operation/" in split.path:  # smithy RPC v2 (CBOR): /service/X/operation/Op
        action = split.path.rsplit("/", 1)[-1]
    if not action:
        action = f"{method} {split.path}"
    return service, action


def _cbor_text(text: str) -> bytes:
    raw = text.encode()
    if len(raw) < 24:
        return bytes([0x60 | len(raw)]) + raw
    if len(raw) < 256:
        return bytes([0x78, len(raw)]) + raw
    raise ValueError("text too long for this tiny encoder")


def _cbor_map(items: Mapping[str, str]) -> bytes:
    """A CBOR map of short text keys and values (all a throttling error needs)."""
    out = bytes([0xA0 | len(items)])
    for key, value in items.items():
        out += _cbor_text(key) + _cbor_text(value)
    return out


def throttle_response(*, service: str, headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
    """The HTTP status, headers and body a throttled call of `service` gets, in its protocol."""
    lower = {k.lower(): v for k, v in headers.items()}
    request_id = "00000000-0000-4000-8000-000000000000"
    if "rpc-v2-cbor" in lower.get("smithy-protocol", ""):
        body = _cbor_map({"__type": "Throttling", "message": "Rate exceeded"})
        return (
            400,
            {
                "Content-Type": "application/cbor",
                "smithy-protocol": "rpc-v2-cbor",
                "x-amzn-query-error": "Throttling;Sender",
                "x-amzn-RequestId": request_id,
            },
            body,
        )
    if "x-amz-target" in lower:  # JSON protocols (CloudWatch as botocore sends it today, DynamoDB)
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        if service == "monitoring":  # a former query service: the query code rides in a header
            headers["x-amzn-query-error"] = "Throttling;Sender"
        text = '{"__type":"ThrottlingException","message":"Rate exceeded"}'
        return 400, headers, text.encode()
    if service == "ec2":
        xml = (
            "<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
            "<Message>Request limit exceeded.</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        return 400, {"Content-Type": "text/xml"}, xml.encode()
    if service == "s3":
        xml = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
        return 503, {"Content-Type": "application/xml"}, xml.encode()
    xml = (
        '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
        "<Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return 400, {"Content-Type": "text/xml"}, xml.encode()


@dataclass
class ProxyStats:
    """What went through the proxy: API requests by `service:Action`, faults by kind and action."""

    requests: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)  # "drop_after ec2:CreateLaunchTemplate"
    total: int = 0
    sequence: list[str] = field(default_factory=list)  # service:Action of request 1, 2, ...
    killed_at: int | None = None  # the request number at which the target was killed
    killed_on: str = ""  # that request's service:Action


class FaultProxy:
    """Forward every request on a loopback port to `upstream_port`, injecting faults at `rates`
    (fault → probability per request, summing to at most 1), optionally killing `target_pid` at
    the `kill_at`-th API request."""

    def __init__(
        self,
        *,
        upstream_port: int,
        seed: int = 0,
        rates: Mapping[Fault, float] | None = None,
        kill_at: int | None = None,
        kill_when: str = "after",
        script: Mapping[str, Sequence[Fault | None]] | None = None,
        port: int = 0,
    ) -> None:
        if kill_when not in ("before", "after"):
            raise ValueError("kill_when is 'before' or 'after'")
        self.upstream_port = upstream_port
        self.seed = seed
        self.rates = dict(rates or {})
        if sum(self.rates.values()) > 1:
            raise ValueError("fault rates sum to more than 1")
        self.kill_at = kill_at
        self.kill_when = kill_when
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.target_pid: int | None = None
        self.stats = ProxyStats()
        self._seen: Counter[bytes] = Counter()
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", port), _make_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def configure(
        self,
        *,
        rates: Mapping[Fault, float] | None = None,
        kill_at: int | None = None,
        kill_when: str = "after",
        target_pid: int | None = None,
        script: Mapping[str, Sequence[Fault | None]] | None = None,
    ) -> None:
        """Change the faults for what comes next, and start counting afresh. `script` maps a
        `service:Action` to the faults its 1st, 2nd, ... requests meet (None: none), before and
        instead of the random ones."""
        with self._lock:
            self.script = {k: list(v) for k, v in (script or {}).items()}
            self.rates = dict(rates or {})
            self.kill_at, self.kill_when, self.target_pid = kill_at, kill_when, target_pid
            self.stats = ProxyStats()
            self._seen.clear()

    # -- decisions (called by the handler) ----------------------------------------------------------

    def admit(self, *, service: str, action: str, body: bytes) -> tuple[int, Fault | None]:
        """Count one API request; its number and the fault it meets (None: forwarded untouched)."""
        key = f"{service}:{action}".encode() + b"\0" + _VOLATILE.sub(b"", body)
        what = f"{service}:{action}"
        with self._lock:
            self.stats.total += 1
            number = self.stats.total
            self.stats.requests[what] += 1
            self.stats.sequence.append(what)
            self._seen[key] += 1
            occurrence = self._seen[key]
            rates = dict(self.rates)
            scripted = self.script.get(what)
            if scripted:
                fault = scripted.pop(0)
                if fault is not None:
                    self.stats.faults[f"{fault} {what}"] += 1
                return number, fault
        digest = hashlib.sha256(f"{self.seed}:{occurrence}:".encode() + key).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        bound = 0.0
        for fault in Fault:
            bound += rates.get(fault, 0.0)
            if draw < bound:
                with self._lock:
                    self.stats.faults[f"{fault} {service}:{action}"] += 1
                return number, fault
        return number, None

    def kill_now(self, number: int, *, when: str, what: str) -> bool:
        """Kill the target if request `number` is the crash point at `when`; True if it was."""
        with self._lock:
            hit = self.kill_at == number and self.kill_when == when and self.target_pid is not None
            pid = self.target_pid
            if hit:
                self.stats.killed_at, self.stats.killed_on = number, what
        if hit and pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return hit


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        return  # a client killed mid-request (a crash point) resets its connection: expected


def _make_handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    local = threading.local()

    def upstream() -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=300)
            local.conn = conn
        return conn

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

        def _read_body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length", "0") or "0")
            return self.rfile.read(length) if length else b""

        def _drop(self) -> None:
            """Close the connection without a word (the client sees it reset mid-request)."""
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def _send(self, status: int, headers: Mapping[str, str], data: bytes) -> None:
            self.send_response_only(status)
            for key, value in headers.items():
                if key.lower() not in _HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _upstream(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
            for attempt in (1, 2):
                conn = upstream()
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    return resp.status, dict(resp.getheaders()), resp.read()
                except (http.client.HTTPException, OSError):
                    conn.close()
                    local.conn = None
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")

        def _handle(self) -> None:
            body = self._read_body()
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            if self.path.startswith("/moto-api"):
                self._send(*self._upstream(body, headers))
                return
            service, action = classify(method=self.command, path=self.path, headers=headers, body=body)
            what = f"{service}:{action}"
            number, fault = proxy.admit(service=service, action=action, body=body)
            if proxy.kill_now(number, when="before", what=what):
                self._drop()
                return
            if fault is Fault.THROTTLE:
                self._send(*throttle_response(service=service, headers=headers))
                return
            if fault is Fault.UNAVAILABLE:
                xml = b"<Error><Code>ServiceUnavailable</Code><Message>Service Unavailable</Message></Error>"
                self._send(503, {"Content-Type": "text/xml"}, xml)
                return
            if fault is Fault.DROP_BEFORE:
                self._drop()
                return
            try:
                status, reply_headers, data = self._upstream(body, headers)
            except (http.client.HTTPException, OSError):
                self._send(502, {"Content-Type": "text/plain"}, b"upstream moto server failed")
                return
            if proxy.kill_now(number, when="after", what=what) or fault is Fault.DROP_AFTER:
                self._drop()
                return
            self._send(status, reply_headers, data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

    return Handler
