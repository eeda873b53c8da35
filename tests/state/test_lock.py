"""State lock: a second run is refused at once naming the holder, may wait, and a killed holder's
lock is released by the OS. The holders are real separate processes."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reconciler.errors import LockError, StateError
from reconciler.state import LocalBackend

ROOT = Path(__file__).resolve().parents[2]

# Holds the lock of the stack in argv[1]; argv[2] = seconds to hold, or -1 to hold until stdin has
# a line. Then it stays alive until stdin closes, so a release is the lock's, not the process's end.
HOLDER = """
import sys, time
from pathlib import Path
from reconciler.state import LocalBackend
backend = LocalBackend(stack_dir=Path(sys.argv[1]))
hold = float(sys.argv[2])
with backend.lock(command="apply --auto-approve") as holder:
    print("locked", holder.id, flush=True)
    if hold >= 0:
        time.sleep(hold)
    else:
        sys.stdin.readline()
print("released", flush=True)
sys.stdin.read()
"""

StartHolder = Callable[[float], tuple[subprocess.Popen[str], str]]


@pytest.fixture
def start_holder(tmp_path: Path) -> Iterator[StartHolder]:
    procs: list[subprocess.Popen[str]] = []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def start(hold: float) -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(tmp_path), str(hold)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        assert line[:1] == ["locked"], f"holder did not take the lock: {line}"
        return proc, line[1]

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.fixture
def backend(tmp_path: Path) -> LocalBackend:
    return LocalBackend(stack_dir=tmp_path)


def test_second_run_is_refused_at_once_naming_the_holder(
    backend: LocalBackend, start_holder: StartHolder
) -> None:
    proc, lock_id = start_holder(-1)
    with pytest.raises(LockError) as err, backend.lock(command="apply", timeout=0):
        pytest.fail("acquired a lock another process holds")
    message = str(err.value)
    assert f"pid {proc.pid}" in message
    assert "'apply --auto-approve'" in message
    assert f"lock id {lock_id}" in message
    assert "--lock-timeout" in message
    assert err.value.holder is not None
    assert (err.value.holder.pid, err.value.holder.id) == (proc.pid, lock_id)


def test_waiting_run_gets_the_lock_when_the_holder_releases_it(
    backend: LocalBackend, start_holder: StartHolder
) -> None:
    proc, _ = start_holder(0.5)
    with backend.lock(command="apply", timeout=2) as holder:
        assert holder.pid == os.getpid()
        assert json.loads(backend.lock_info_path.read_text())["id"] == holder.id
    assert proc.poll() is None  # released by the holder, not by its exit
    assert proc.stdout is not None and proc.stdout.readline().strip() == "released"


def test_killed_holder_releases_the_lock(backend: LocalBackend, start_holder: StartHolder) -> None:
    proc, lock_id = start_holder(-1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert json.loads(backend.lock_info_path.read_text())["id"] == lock_id  # left behind, stale
    with backend.lock(command="apply", timeout=0) as holder:
        assert json.loads(backend.lock_info_path.read_text())["id"] == holder.id
    assert not backend.lock_info_path.exists()


def test_lock_record_names_the_holder_and_is_removed_on_release(backend: LocalBackend) -> None:
    with backend.lock(command="destroy") as holder:
        record = json.loads(backend.lock_info_path.read_text())
        assert record == {
            "id": holder.id,
            "who": holder.who,
            "host": holder.host,
            "pid": os.getpid(),
            "command": "destroy",
            "created": holder.created,
        }
        assert stat.S_IMODE(backend.lock_info_path.stat().st_mode) == 0o600
        assert stat.S_IMODE(backend.lock_path.stat().st_mode) == 0o600
    assert not backend.lock_info_path.exists()


def test_lock_is_released_when_the_block_raises(backend: LocalBackend) -> None:
    with pytest.raises(RuntimeError), backend.lock(command="apply"):
        raise RuntimeError("boom")
    assert not backend.lock_info_path.exists()
    with backend.lock(command="apply"):
        pass


def test_second_lock_in_the_same_process_is_refused(backend: LocalBackend) -> None:
    with backend.lock(command="apply") as holder:
        with pytest.raises(LockError) as err, backend.lock(command="plan"):
            pytest.fail("acquired the lock twice")
        assert f"lock id {holder.id}" in str(err.value)


def test_force_unlock_clears_a_dead_holders_record(backend: LocalBackend, start_holder: StartHolder) -> None:
    proc, lock_id = start_holder(-1)
    with pytest.raises(LockError, match="still running"):
        backend.force_unlock(lock_id)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with pytest.raises(StateError, match="does not match"):
        backend.force_unlock("not-the-id")
    backend.force_unlock(lock_id)
    assert not backend.lock_info_path.exists()
    with pytest.raises(StateError, match="nothing to unlock"):
        backend.force_unlock(lock_id)
