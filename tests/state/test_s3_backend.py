"""The S3 state backend against a real moto server: conditional writes, both kinds of lock,
force-unlock of a killed holder, twenty racing processes; and the pure migrate/push decisions.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import CloudError, LockError, StateError
from reconciler.sdk.registry import open_backend
from reconciler.state import Backend, OutputState, ResourceState, State
from reconciler.state.migrate import (
    LOCAL_DEFAULT,
    BackendCheck,
    BackendRef,
    MigrateDecision,
    changed_message,
    check_backend,
    decide_migration,
    state_to_push,
)
from reconciler_aws.state_backend import S3Backend, S3Config

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "team-state"
TABLE = "reconciler-locks"
KEY = "web/state.json"
STACK = "web"


# -- the emulator ---------------------------------------------------------------------------------


def make_moto_conditional_writes_atomic() -> None:
    """Give moto's conditional writes the atomicity AWS has (patches the emulator, not boto3).

    moto 5.2 honours If-Match / If-None-Match on PutObject and DeleteObject and DynamoDB condition
    expressions, but checks the condition and then stores without a lock in between, and its
    server answers requests on several threads; so two racing requests can both pass the check.
    AWS decides each conditional request atomically. Idempotent.
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.s3.responses import S3Response

    if getattr(S3Response, "_reconciler_atomic", False):
        return
    guard = threading.RLock()

    def serialize(cls: Any, name: str) -> None:
        original = getattr(cls, name)

        @functools.wraps(original)
        def atomic(self: Any, *args: Any, **kwargs: Any) -> Any:
            with guard:
                return original(self, *args, **kwargs)

        setattr(cls, name, atomic)

    for name in ("put_object", "delete_object"):
        serialize(S3Response, name)
    for name in ("put_item", "delete_item"):
        serialize(DynamoDBBackend, name)
    S3Response._reconciler_atomic = True


@pytest.fixture
def cloud(boto: Callable[[str], Any]) -> Callable[[str], Any]:
    """A bucket and a lock table on a clean moto server."""
    make_moto_conditional_writes_atomic()
    boto("s3").create_bucket(Bucket=BUCKET)
    boto("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return boto


def config(*, lock_table: bool = True, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"bucket": BUCKET, "key": KEY, "region": "us-east-1", **extra}
    if lock_table:
        out["lock_table"] = TABLE
    return out


def backend(**kw: Any) -> S3Backend:
    return S3Backend.from_config(config(**kw), stack=STACK)


LOCKS = pytest.mark.parametrize("lock_table", [True, False], ids=["dynamodb-lock", "s3-lock-object"])


def env(endpoint: str) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONPATH": str(ROOT),
    }


def state_with(serial: int = 0, *, lineage: str = "lin-1", resources: int = 0) -> State:
    st = State(stack=STACK, lineage=lineage, serial=serial)
    for i in range(resources):
        addr = f"aws_launch_template.t{i}"
        st.resources[addr] = ResourceState(
            address=addr, type="aws_launch_template", provider="aws", id=f"lt-{i}"
        )
    return st


# -- reading and writing --------------------------------------------------------------------------


def test_open_backend_builds_the_s3_backend(cloud: Any, tmp_path: Path) -> None:
    made = open_backend("s3", config(), stack_dir=tmp_path, stack=STACK)
    assert isinstance(made, S3Backend) and isinstance(made, Backend)
    assert made.describe() == f"s3 state s3://{BUCKET}/{KEY}"


def test_round_trip_and_the_object_is_encrypted(cloud: Any) -> None:
    b = backend()
    assert b.read() is None
    st = state_with(1, resources=2)
    st.outputs["ami"] = OutputState(value="ami-1")
    b.write(st)
    again = backend().read()
    assert again is not None and again.to_dict() == st.to_dict()
    head = cloud("s3").head_object(Bucket=BUCKET, Key=KEY)
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentType"] == "application/json"
    st.serial = 2
    b.write(st)  # over its own last write: If-Match on the ETag it wrote
    assert json.loads(cloud("s3").get_object(Bucket=BUCKET, Key=KEY)["Body"].read())["serial"] == 2


def test_encrypt_false_writes_without_server_side_encryption(cloud: Any) -> None:
    backend(encrypt=False).write(state_with(1))
    assert "ServerSideEncryption" not in cloud("s3").head_object(Bucket=BUCKET, Key=KEY)


def test_writer_that_lost_a_race_gets_a_clear_error_and_overwrites_nothing(cloud: Any) -> None:
    backend().write(state_with(4))
    first, second = backend(), backend()
    a, b = first.read(), second.read()
    assert a is not None and b is not None  # both read the same ETag
    a.serial, b.serial = 5, 5
    a.outputs["who"] = OutputState(value="first")
    b.outputs["who"] = OutputState(value="second")
    first.write(a)
    with pytest.raises(
        StateError, match=r"^state changed since it was read: another run wrote serial 5 .*run again$"
    ):
        second.write(b)
    stored = backend().read()
    assert stored is not None and stored.outputs["who"].value == "first"


def test_first_write_expects_no_state(cloud: Any) -> None:
    first, second = backend(), backend()
    assert first.read() is None and second.read() is None
    first.write(state_with(1, lineage="lin-a"))
    with pytest.raises(StateError, match="another run wrote serial 1"):
        second.write(state_with(1, lineage="lin-b"))
    stored = backend().read()
    assert stored is not None and stored.lineage == "lin-a"


def test_write_after_the_state_was_deleted_is_refused(cloud: Any) -> None:
    b = backend()
    b.write(state_with(1))
    cloud("s3").delete_object(Bucket=BUCKET, Key=KEY)
    with pytest.raises(StateError, match="another run deleted s3 state"):
        b.write(state_with(2))


def test_a_state_of_another_stack_or_not_json_is_refused(cloud: Any) -> None:
    s3 = cloud("s3")
    other = State(stack="db", lineage="x", serial=1)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=other.to_json().encode())
    with pytest.raises(StateError, match=r'belongs to stack "db", not to this stack "web"'):
        backend().read()
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"{not json")
    with pytest.raises(StateError, match=rf"^state object s3://{BUCKET}/{KEY} is not valid JSON"):
        backend().read()


def test_missing_bucket_is_a_cloud_error_naming_the_object(aws_env: str) -> None:
    with pytest.raises(CloudError, match=rf"GetObject failed for s3://{BUCKET}/{KEY} \(NoSuchBucket\)"):
        backend().read()


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"key": "k"}, 'needs bucket = "..."'),
        ({"bucket": "b"}, 'needs key = "..."'),
        ({"bucket": "b", "key": "k", "encrypt": "yes"}, "encrypt must be true or false"),
        ({"bucket": "", "key": "k"}, "bucket must be a non-empty string"),
        ({"bucket": "b", "key": "k", "lock_table": 3}, "lock_table must be a non-empty string"),
        ({"bucket": "b", "key": "dir/"}, "key must name an object"),
        ({"bucket": "b", "key": "k", "path": "x"}, "has no setting 'path'"),
    ],
)
def test_bad_settings_are_refused(given: dict[str, Any], message: str) -> None:
    with pytest.raises(StateError, match=message):
        S3Config.from_mapping(given)


def test_settings_defaults() -> None:
    c = S3Config.from_mapping({"bucket": "b", "key": "k"})
    assert (c.encrypt, c.lock_table, c.region, c.lock_id) == (True, None, None, "b/k")


# -- locks ----------------------------------------------------------------------------------------


@LOCKS
def test_lock_record_names_the_holder_and_is_removed_on_release(cloud: Any, lock_table: bool) -> None:
    b = backend(lock_table=lock_table)
    with b.lock(command="reconciler apply") as holder:
        if lock_table:
            item = cloud("dynamodb").get_item(TableName=TABLE, Key={"LockID": {"S": f"{BUCKET}/{KEY}"}})[
                "Item"
            ]
            assert json.loads(item["Info"]["S"])["id"] == holder.id
        else:
            got = cloud("s3").get_object(Bucket=BUCKET, Key=KEY + ".lock")
            assert json.loads(got["Body"].read())["pid"] == os.getpid()
            assert got["ServerSideEncryption"] == "AES256"
        assert b.current_lock() == holder
        assert (holder.pid, holder.command) == (os.getpid(), "reconciler apply")
    assert b.current_lock() is None


@LOCKS
def test_second_lock_fails_at_once_naming_the_holder(cloud: Any, lock_table: bool) -> None:
    with (
        backend(lock_table=lock_table).lock(command="reconciler apply") as holder,
        pytest.raises(LockError) as err,
        backend(lock_table=lock_table).lock(command="reconciler plan"),
    ):
        pytest.fail("took a lock that is held")
    message = str(err.value)
    assert message.startswith(f"state is locked by {holder.describe()}; lock id {holder.id}.")
    assert "--lock-timeout" in message and f"reconciler force-unlock {holder.id}" in message
    assert err.value.holder == holder


@LOCKS
def test_lock_is_released_when_the_block_raises(cloud: Any, lock_table: bool) -> None:
    b = backend(lock_table=lock_table)
    with pytest.raises(RuntimeError), b.lock(command="apply"):
        raise RuntimeError("boom")
    assert b.current_lock() is None


@LOCKS
def test_lock_timeout_waits_for_the_holder(cloud: Any, lock_table: bool) -> None:
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with backend(lock_table=lock_table).lock(command="first"):
            held.set()
            release.wait(30)

    first = threading.Thread(target=hold)
    first.start()
    try:
        assert held.wait(30)
        with (
            pytest.raises(LockError, match="running 'first'"),
            backend(lock_table=lock_table).lock(command="second", timeout=0.3),
        ):
            pytest.fail("took a lock that is held")
        threading.Timer(0.3, release.set).start()
        with backend(lock_table=lock_table).lock(command="second", timeout=60) as holder:
            assert release.is_set()  # it only got the lock after the first let go
            assert backend(lock_table=lock_table).current_lock() == holder
    finally:
        release.set()
        first.join()


HOLDER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from reconciler.sdk.registry import open_backend
    b = open_backend("s3", json.loads(sys.argv[1]), stack_dir=Path.cwd(), stack="web")
    with b.lock(command="reconciler apply (crashed)") as holder:
        print(holder.id, flush=True)
        time.sleep(120)
""")


@LOCKS
def test_force_unlock_clears_a_killed_holders_lock_and_only_that_one(
    cloud: Any, aws_env: str, lock_table: bool
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, json.dumps(config(lock_table=lock_table))],
        env=env(aws_env),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lock_id = proc.stdout.readline().strip()
        assert lock_id
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    b = backend(lock_table=lock_table)
    with pytest.raises(LockError, match=f"pid {proc.pid}.*lock id {lock_id}"), b.lock(command="apply"):
        pytest.fail("a killed holder's cloud lock must stay until force-unlock")
    with pytest.raises(StateError, match=f"lock id not-{lock_id} does not match .*id {lock_id}"):
        b.force_unlock(f"not-{lock_id}")
    assert b.current_lock() is not None and b.current_lock().id == lock_id  # type: ignore[union-attr]
    b.force_unlock(lock_id)
    assert b.current_lock() is None
    with pytest.raises(StateError, match="has no lock"):
        b.force_unlock(lock_id)
    with b.lock(command="apply"):
        pass


# -- twenty processes -----------------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from reconciler.errors import StateError
    from reconciler.sdk.registry import open_backend
    from reconciler.state import OutputState
    cfg, me, go, mode = json.loads(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4]
    backend = open_backend("s3", cfg, stack_dir=Path.cwd(), stack="web")
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.005)

    def once():
        state = backend.read()
        state.serial += 1
        state.outputs[me] = OutputState(value=state.serial)
        backend.write(state)
        return state.serial

    if mode == "locked":
        with backend.lock(command="writer " + me, timeout=300):
            print(json.dumps({"wrote": once()}), flush=True)
    elif mode == "retry":
        conflicts = 0
        while True:
            try:
                serial = once()
                break
            except StateError as e:
                assert str(e).startswith("state changed since it was read"), e
                conflicts += 1
        print(json.dumps({"wrote": serial, "conflicts": conflicts}), flush=True)
    else:
        try:
            print(json.dumps({"wrote": once()}), flush=True)
        except StateError as e:
            print(json.dumps({"lost": str(e)}), flush=True)
""")


def race(endpoint: str, tmp_path: Path, *, mode: str, lock_table: bool = True, n: int = 20) -> dict[str, Any]:
    """Start n writers, release them together, return each one's report by name."""
    backend(lock_table=lock_table).write(state_with(0))
    go = tmp_path / "go"
    procs = {
        f"w{i:02d}": subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER,
                json.dumps(config(lock_table=lock_table)),
                f"w{i:02d}",
                str(go),
                mode,
            ],
            env=env(endpoint),
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    }
    try:
        for proc in procs.values():  # every writer is loaded and waiting before any starts
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        go.touch()
        reports = {}
        for name, proc in procs.items():
            out, _ = proc.communicate(timeout=600)
            assert proc.returncode == 0, f"{name} failed"
            reports[name] = json.loads(out.strip().splitlines()[-1])
        return reports
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.mark.slow
@LOCKS
def test_twenty_locked_writers_serialize_and_lose_nothing(
    cloud: Any, aws_env: str, tmp_path: Path, lock_table: bool
) -> None:
    reports = race(aws_env, tmp_path, mode="locked", lock_table=lock_table)
    serials = sorted(r["wrote"] for r in reports.values())
    assert serials == list(range(1, 21))  # every write succeeded, each on the one before it
    final = backend().read()
    assert final is not None and final.serial == 20
    assert {k: o.value for k, o in final.outputs.items()} == {k: r["wrote"] for k, r in reports.items()}
    assert backend(lock_table=lock_table).current_lock() is None


@pytest.mark.slow
def test_twenty_unlocked_writers_conditional_writes_let_exactly_the_winners_through(
    cloud: Any, aws_env: str, tmp_path: Path
) -> None:
    reports = race(aws_env, tmp_path, mode="once")
    winners = {k: r["wrote"] for k, r in reports.items() if "wrote" in r}
    losers = {k: r["lost"] for k, r in reports.items() if "lost" in r}
    assert len(winners) + len(losers) == 20 and winners
    assert sorted(winners.values()) == list(range(1, len(winners) + 1))  # a chain: no two on one serial
    final = backend().read()
    assert final is not None and final.serial == len(winners)
    assert {k: o.value for k, o in final.outputs.items()} == winners  # no success was overwritten
    assert all(
        m.startswith("state changed since it was read: another run wrote serial") for m in losers.values()
    )


@pytest.mark.slow
def test_twenty_unlocked_writers_that_retry_all_land(cloud: Any, aws_env: str, tmp_path: Path) -> None:
    reports = race(aws_env, tmp_path, mode="retry")
    assert sorted(r["wrote"] for r in reports.values()) == list(range(1, 21))
    final = backend().read()
    assert final is not None and final.serial == 20
    assert {k: o.value for k, o in final.outputs.items()} == {k: r["wrote"] for k, r in reports.items()}


# -- the pure decisions of migrate and push ---------------------------------------------------------

S3_A = BackendRef("s3", {"bucket": "a", "key": "web.json"})


@pytest.mark.parametrize(
    ("recorded", "current", "legacy", "verdict", "previous"),
    [
        (None, LOCAL_DEFAULT, False, BackendCheck.SAME, None),
        (None, LOCAL_DEFAULT, True, BackendCheck.SAME, LOCAL_DEFAULT),
        (
            None,
            BackendRef("local", {"path": ".reconciler/state.json"}),
            True,
            BackendCheck.SAME,
            LOCAL_DEFAULT,
        ),
        (None, S3_A, False, BackendCheck.RECORD, None),  # a fresh clone of an S3 stack
        (None, S3_A, True, BackendCheck.CHANGED, LOCAL_DEFAULT),  # local state left behind
        (None, BackendRef("local", {"path": "other.json"}), True, BackendCheck.CHANGED, LOCAL_DEFAULT),
        (S3_A, S3_A, False, BackendCheck.SAME, S3_A),
        (S3_A, S3_A, True, BackendCheck.SAME, S3_A),  # the old local copy is a backup now
        (S3_A, BackendRef("s3", {**S3_A.config, "lock_table": "t"}), False, BackendCheck.RECORD, S3_A),
        (S3_A, BackendRef("s3", {"bucket": "b", "key": "web.json"}), False, BackendCheck.CHANGED, S3_A),
        (S3_A, BackendRef("s3", {"bucket": "a", "key": "db.json"}), False, BackendCheck.CHANGED, S3_A),
        (S3_A, LOCAL_DEFAULT, False, BackendCheck.CHANGED, S3_A),
    ],
)
def test_check_backend(
    recorded: BackendRef | None, current: BackendRef, legacy: bool, verdict: BackendCheck, previous: Any
) -> None:
    assert check_backend(recorded=recorded, current=current, legacy_local_state=legacy) == (verdict, previous)


def test_changed_message_names_both_backends() -> None:
    assert changed_message(LOCAL_DEFAULT, S3_A) == (
        "the backend changed from local (path .reconciler/state.json) to s3 (bucket a, key web.json); "
        "run `reconciler state migrate` to copy the state to the new backend (the old copy stays as a backup)"
    )


SOURCE = state_with(7, lineage="L", resources=2)


@pytest.mark.parametrize(
    ("target", "force", "expected"),
    [
        (None, False, MigrateDecision.COPY),
        (state_with(0, lineage="other"), False, MigrateDecision.COPY),  # empty: nothing to lose
        (state_with(3, lineage="L", resources=1), False, MigrateDecision.COPY),  # an older copy
        (state_with(7, lineage="L", resources=2), False, MigrateDecision.ALREADY_THERE),
        (state_with(9, lineage="other", resources=1), False, "another lineage"),
        (state_with(9, lineage="L", resources=1), False, r"a newer serial \(9 > 7\)"),
        (state_with(9, lineage="other", resources=1), True, MigrateDecision.COPY),
    ],
)
def test_decide_migration(target: State | None, force: bool, expected: MigrateDecision | str) -> None:
    if isinstance(expected, str):
        with pytest.raises(StateError, match=f"{expected}.*state migrate --force"):
            decide_migration(source=SOURCE, target=target, force=force)
    else:
        assert decide_migration(source=SOURCE, target=target, force=force) is expected


@pytest.mark.parametrize(
    ("current", "pushed", "force", "expected"),
    [
        (None, state_with(1, lineage="L"), False, 1),
        (state_with(4, lineage="L"), state_with(5, lineage="L"), False, 5),
        (state_with(4, lineage="L"), state_with(4, lineage="L"), False, "already has serial 4"),
        (state_with(4, lineage="L"), state_with(2, lineage="L"), False, "already has serial 4"),
        (state_with(4, lineage="L"), state_with(9, lineage="M"), False, "has lineage M"),
        (state_with(4, lineage="L"), state_with(2, lineage="M"), True, 5),  # forced: above the current
        (state_with(4, lineage="L"), state_with(8, lineage="L"), True, 8),
    ],
)
def test_state_to_push(current: State | None, pushed: State, force: bool, expected: int | str) -> None:
    if isinstance(expected, str):
        with pytest.raises(StateError, match=f"^cannot push: .*{expected}"):
            state_to_push(current=current, pushed=pushed, force=force)
    else:
        written = state_to_push(current=current, pushed=pushed, force=force)
        assert (written.serial, written.lineage) == (expected, pushed.lineage)
