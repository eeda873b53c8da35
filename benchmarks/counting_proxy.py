"""A counting HTTP reverse proxy for AWS API calls, put in front of a moto server.

Both tools under benchmark (reconciler through boto3, Terraform through the AWS SDK for Go) are
pointed at this proxy, so their API calls are counted the same way, server side: one count per
HTTP request, keyed `service:Action`. The service comes from the SigV4 credential scope in the
`Authorization` header; the action from the form-encoded `Action=` (the query protocol of EC2,
Auto Scaling, ELBv2, CloudWatch, STS, IAM), else from `X-Amz-Target` (the JSON protocols), else
from the method and path (REST protocols). Requests to moto's own `/moto-api/` are forwarded but
not counted. Loopback only. Standard library only. Caller: `benchmarks/fleets.py`.
"""

from __future__ import annotations

import http.client
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

__all__ = ["CountingProxy", "classify"]

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


def classify(*, method: str, path: str, headers: dict[str, str], body: bytes) -> str:
    """`service:Action` for one request, e.g. `ec2:DescribeImages`, `autoscaling:CreateAutoScalingGroup`."""
    lower = {k.lower(): v for k, v in headers.items()}
    scope = _SCOPE.search(lower.get("authorization", ""))
    service = scope["service"] if scope else "unsigned"
    split = urlsplit(path)
    action = ""
    content_type = lower.get("content-type", "")
    if body and "x-www-form-urlencoded" in content_type:
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
    if not action and split.query:
        action = parse_qs(split.query).get("Action", [""])[0]
    if not action and "x-amz-target" in lower:
        action = lower["x-amz-target"].rsplit(".", 1)[-1]
    if not action:
        action = f"{method} {split.path}"
    return f"{service}:{action}"


class CountingProxy:
    """Forward every request on a loopback port to `upstream_port`, counting the API calls."""

    def __init__(self, *, upstream_port: int, port: int = 0) -> None:
        self.upstream_port = upstream_port
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _make_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="counting-proxy", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def record(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self._counts)


def _make_handler(proxy: CountingProxy) -> type[BaseHTTPRequestHandler]:
    local = threading.local()

    def upstream() -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=300)
            local.conn = conn
        return conn

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in two writes: with Nagle's algorithm the body would wait for the
        # client's delayed ACK of the headers (up to 40 ms per call on Linux loopback)
        disable_nagle_algorithm = True

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

        def _forward(self) -> None:
            body = self._read_body()
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            if not self.path.startswith("/moto-api"):
                proxy.record(classify(method=self.command, path=self.path, headers=headers, body=body))
            headers["Content-Length"] = str(len(body))
            for attempt in (1, 2):
                conn = upstream()
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    break
                except (http.client.HTTPException, OSError):
                    conn.close()
                    local.conn = None
                    if attempt == 2:
                        self.send_error(502, "upstream moto server failed")
                        return
            self.send_response_only(resp.status, resp.reason)
            for key, value in resp.getheaders():
                if key.lower() not in _HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

    return Handler
