"""`reconciler sandbox`: a local AWS-compatible endpoint (a moto server on loopback) for trying
reconciler without an AWS account, and `sandbox bake` to register a new AMI version in it.

The sandbox is only used when the user points a stack at it (the provider's endpoint_url or
AWS_ENDPOINT_URL); nothing falls back to it. Its pid, endpoint and log live under `.reconciler/` of
the directory it was started from. Callers: reconciler.cli (GROUPS).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.cli.common import Context, ExitCode, Subparsers, port
from reconciler.errors import SandboxError

if TYPE_CHECKING:
    from rich.console import Console

    from reconciler.sdk.plugin import SandboxSupport


def register(sub: Subparsers) -> None:
    p = sub.add_parser("sandbox", help="a local AWS-compatible endpoint (moto) for trying reconciler")
    ss = p.add_subparsers(dest="sandbox_command", required=True, metavar="SUBCOMMAND")
    s = ss.add_parser("start", help="start the sandbox in the background")
    s.add_argument(
        "--port",
        type=port,
        default=None,
        help="TCP port on 127.0.0.1, 1-65535 (default: $SANDBOX_PORT, else 4566)",
    )
    s = ss.add_parser("stop", help="stop it")
    s = ss.add_parser("status", help="is it running, and where")
    s = ss.add_parser("env", help='print the exports for a shell: eval "$(reconciler sandbox env)"')
    s = ss.add_parser("bake", help="register a new tagged AMI version, as a release pipeline would")
    s.add_argument(
        "name", metavar="NAME", help="the application name: the image is NAME-VERSION, tagged App=NAME"
    )
    s.add_argument("version", metavar="VERSION", help="the version, tagged Version=VERSION")
    s.add_argument(
        "--tag", action="append", default=[], metavar="KEY=VALUE", help="one more tag (repeatable)"
    )
    p.set_defaults(run=run)


def _support() -> SandboxSupport:
    """The sandbox of the installed provider that has one."""
    from reconciler.sdk.registry import plugins

    for plugin in plugins().values():
        if plugin.sandbox is not None:
            return plugin.sandbox
    raise SandboxError("no installed provider offers a sandbox")


def _paths(directory: Path) -> tuple[Path, Path]:
    base = directory / ".reconciler"
    return base / "sandbox.json", base / "sandbox.log"


def _read(directory: Path) -> dict[str, Any] | None:
    info, _ = _paths(directory)
    if not info.exists():
        return None
    data: dict[str, Any] = json.loads(info.read_text())
    return data


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _answers(endpoint: str) -> bool:
    try:
        import urllib.request  # here, not at import: every command imports this group

        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
            return True
    except Exception:
        return False


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


ENV_LINE = 'eval "$(reconciler sandbox env)"'
PORT_ENV = "SANDBOX_PORT"  # the default port of `sandbox start`, as examples/quickstart/run.sh reads it


def default_port() -> int:
    """SANDBOX_PORT when it holds a port number, else 4566 (the sandbox's usual port)."""
    raw = os.environ.get(PORT_ENV, "").strip()
    return int(raw) if raw.isdigit() and 0 < int(raw) < 65536 else 4566


def _env_hint(directory: Path) -> str:
    here = Path.cwd().resolve()
    chdir = "" if directory.resolve() == here else f" --chdir {shlex.quote(str(directory))}"
    return ENV_LINE.replace("reconciler sandbox env", f"reconciler{chdir} sandbox env")


def start(directory: Path, port: int, out: Console) -> None:
    info_path, log_path = _paths(directory)
    current = _read(directory)
    if current and _alive(int(current["pid"])) and _answers(current["endpoint"]):
        out.print(f"Sandbox already running at {current['endpoint']} (pid {current['pid']}).")
        out.print(f"Point your shell at it with: {_env_hint(directory)}", markup=False)
        return
    server = _support().server(port=port)
    if not _port_free(port):
        raise SandboxError(
            f"port {port} on 127.0.0.1 is already in use; stop what uses it or start the "
            f"sandbox on another port with `reconciler sandbox start --port N` "
            f"(or set {PORT_ENV}=N, which the examples' scripts read too)"
        )
    info_path.parent.mkdir(parents=True, exist_ok=True)
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, **server.env}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            list(server.argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SandboxError(f"the sandbox exited at start (code {proc.returncode}); see {log_path}")
        if _answers(endpoint):
            break
        time.sleep(0.2)
    else:
        proc.terminate()
        raise SandboxError(f"the sandbox did not answer on {endpoint} within 30 s; see {log_path}")
    info_path.write_text(
        json.dumps(
            {
                "pid": proc.pid,
                "endpoint": endpoint,
                "port": port,
                "log": str(log_path),
                "started": datetime.now(UTC).isoformat(),
            }
        )
    )
    out.print(f"Sandbox running at {endpoint} (pid {proc.pid}); log: {log_path}")
    out.print(f"Point your shell at it with: {_env_hint(directory)}", markup=False)
    out.print("(its endpoint, region and dummy credentials; see `reconciler sandbox env`)")


def stop(directory: Path, out: Console) -> None:
    info_path, _ = _paths(directory)
    current = _read(directory)
    if not current:
        out.print("No sandbox is recorded here.")
        return
    pid = int(current["pid"])
    if _alive(pid):
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            if not _alive(pid):
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
    info_path.unlink(missing_ok=True)
    out.print(f"Sandbox at {current['endpoint']} stopped (its contents are gone).")


def status(directory: Path, out: Console) -> int:
    current = _read(directory)
    if not current:
        out.print("Sandbox: not running (none recorded here).")
        return 1
    ok = _alive(int(current["pid"])) and _answers(current["endpoint"])
    state = "running" if ok else "not answering"
    out.print(
        f"Sandbox: {state} at {current['endpoint']} (pid {current['pid']}, since {current['started']}); "
        f"log: {current['log']}"
    )
    return 0 if ok else 1


def endpoint(directory: Path) -> str:
    current = _read(directory)
    if not current or not _answers(current["endpoint"]):
        raise SandboxError("no sandbox is running here; start one with `reconciler sandbox start`")
    return str(current["endpoint"])


def env(directory: Path, out: Console) -> None:
    """The exports that point a shell (boto3, reconciler) at the running sandbox, for
    `eval "$(reconciler sandbox env)"`: shell-quoted, one per line."""
    variables = _support().environment(endpoint=endpoint(directory))
    for name, value in variables.items():
        out.print(f"export {name}={shlex.quote(value)}", markup=False, highlight=False, soft_wrap=True)


def bake(directory: Path, name: str, version: str, tags: list[str], out: Console) -> str:
    """Register `NAME-VERSION` as a new image tagged App=NAME, Version=VERSION (plus --tag K=V)."""
    extra = dict(t.split("=", 1) for t in tags if "=" in t)
    all_tags = {"App": name, "Version": version, **extra}
    image_id = _support().bake(endpoint=endpoint(directory), name=name, version=version, tags=all_tags)
    out.print(
        f"Baked {name}-{version} as {image_id} (tags: {', '.join(f'{k}={v}' for k, v in all_tags.items())})"
    )
    return image_id


def run(args: argparse.Namespace, ctx: Context) -> ExitCode:
    directory, out = ctx.directory, ctx.out
    if args.sandbox_command == "start":
        start(directory, args.port if args.port is not None else default_port(), out)
    elif args.sandbox_command == "stop":
        stop(directory, out)
    elif args.sandbox_command == "status":
        return ExitCode(status(directory, out))
    elif args.sandbox_command == "env":
        env(directory, out)
    elif args.sandbox_command == "bake":
        bake(directory, args.name, args.version, args.tag, out)
    return ExitCode.OK
