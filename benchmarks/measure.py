"""One benchmarked command, measured: wall-clock seconds, CPU seconds and peak resident memory.

`run_measured` starts the command with `subprocess.Popen` and reaps it with `os.wait4`, whose
resource usage is the child's own plus that of every descendant the child reaped itself (for
Terraform: its provider plugins). CPU seconds (user + sys) add up over those processes; the peak
RSS (`ru_maxrss`) is the largest peak of any one of them, not their sum. A command still running
at `timeout` is killed (SIGKILL to the child, as `subprocess.run` does) and reported with exit
code None. `tool_env` is the environment both tools run with; `compile_reconciler` writes the
byte-code caches of reconciler's own modules before anything is timed.
Callers: `benchmarks/fleets.py`, `benchmarks/plan_scale.py`.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProcessRun", "compile_reconciler", "run_measured", "tool_env"]


@dataclass(frozen=True)
class ProcessRun:
    exit_code: int | None  # None: killed at the timeout; negative: ended by that signal
    seconds: float  # wall clock, from start until reaped
    cpu_seconds: float  # user + sys of the process and the descendants it reaped
    max_rss_mb: float  # the largest peak RSS of the process or of one reaped descendant (MiB)


def tool_env(endpoint: str) -> dict[str, str]:
    """This shell's environment without AWS/Terraform/reconciler settings, pointed at `endpoint`.

    PYTHONDONTWRITEBYTECODE is dropped too: a user's Python keeps its `__pycache__`, so the
    benchmarked CLI must not recompile its modules on every run."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "TF_", "RECONCILER_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_ENDPOINT_URL=endpoint,  # anything not configured explicitly still stays on loopback
        AWS_EC2_METADATA_DISABLED="true",
        NO_COLOR="1",
    )
    return env


def run_measured(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float, log: Path) -> ProcessRun:
    """Run `cmd` to its end (or kill it at `timeout`); its output goes to `log`."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        lock = threading.Lock()
        flags = {"exited": False, "killed": False}

        def kill() -> None:
            with lock:  # the pid is still ours until the main thread reaps it, after `exited`
                if not flags["exited"]:
                    flags["killed"] = True
                    os.kill(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.daemon = True
        timer.start()
        try:
            os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped yet
        except BaseException:  # Ctrl-C: do not leave the child running
            kill()
            raise
        finally:
            with lock:
                flags["exited"] = True
            timer.cancel()
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait for it again
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        log.write_bytes(
            b"$ " + " ".join(cmd).encode() + b"\n" + out.read() + b"\n--- stderr ---\n" + err.read()
        )
    return ProcessRun(
        exit_code=None if flags["killed"] else proc.returncode,
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        max_rss_mb=usage.ru_maxrss / 1024,  # Linux reports KiB
    )


def compile_reconciler(env: dict[str, str]) -> None:
    """Write the byte-code caches of every module of `reconciler` and its AWS provider, untimed.

    An installed package has them (pip compiles at install time) and an editable checkout gets
    them on its first run; `reconciler --version` alone would not do, since the CLI imports its
    planning, provider and cloud modules only when a command needs them."""
    dirs = []
    for package in ("reconciler", "reconciler_aws"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            dirs.extend(spec.submodule_search_locations)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *dirs],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
