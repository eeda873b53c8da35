"""Scenarios: a team shares a stack's state in S3 through the CLI.

Two working copies of one stack: a second apply while the first holds the lock fails at once
naming the holder, or waits with --lock-timeout and then succeeds; concurrent applies serialize;
a fresh clone with only the configuration plans no changes; a killed run's lock is released with
force-unlock (and only with its id); a local stack moves to S3 with `state migrate`; `state pull`
and `state push` guard lineage and serial.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from reconciler.state import State
from reconciler_aws.state_backend import S3Backend
from tests.conftest import register_ami
from tests.scenarios.harness import Cli, launch_templates, write_stack
from tests.state.test_s3_backend import make_moto_conditional_writes_atomic

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "team-state"
TABLE = "reconciler-locks"
KEY = "web/state.json"
S3_BLOCK = f"""
  backend "s3" {{
    bucket     = "{BUCKET}"
    key        = "{KEY}"
    region     = "us-east-1"
    lock_table = "{TABLE}"
  }}
"""


def stack_hcl(*, count: int = 2, backend: str = S3_BLOCK) -> str:
    return textwrap.dedent(f"""
        reconciler {{
          stack = "web"
        {backend}
        }}

        data "aws_ami" "app" {{
          name        = "app-*"
          most_recent = true
        }}

        resource "aws_launch_template" "t" {{
          for_each      = toset([for i in range({count}) : format("t%02d", i)])
          name          = "lt-${{each.key}}"
          image_id      = data.aws_ami.app.id
          instance_type = "t3.micro"
        }}
    """)


@pytest.fixture
def cloud(boto: Any) -> Any:
    """An AMI to build from, the state bucket and the lock table."""
    make_moto_conditional_writes_atomic()
    register_ami(boto, name="app-1.0.0")
    boto("s3").create_bucket(Bucket=BUCKET)
    boto("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return boto


def stored(boto: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(boto("s3").get_object(Bucket=BUCKET, Key=KEY)["Body"].read())
    return data


def env(endpoint: str) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
        "NO_COLOR": "1",
        "PYTHONPATH": str(ROOT),
    }


# Holds the lock of a working copy's backend as a running apply would, until FILE appears.
HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from reconciler.config import load_stack
    from reconciler.cli.session import backend_for
    backend = backend_for(load_stack(Path(sys.argv[1])))
    with backend.lock(command="reconciler apply (copy A)") as holder:
        print(holder.id, flush=True)
        release = Path(sys.argv[2])
        while not release.exists():
            time.sleep(0.02)
    print("released", flush=True)
""")


def start_holder(endpoint: str, stack: Path, release: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(stack), str(release)],
        env=env(endpoint),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lock_id = proc.stdout.readline().strip()
    assert lock_id, "the holder did not take the lock"
    return proc, lock_id


def test_second_copy_fails_at_once_naming_the_holder_or_waits_with_lock_timeout(
    tmp_path: Path, aws_env: str, cloud: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    copy_a = write_stack(tmp_path / "a", {"main.hcl": stack_hcl()})
    copy_b = write_stack(tmp_path / "b", {"main.hcl": stack_hcl(count=3)})
    assert Cli(copy_a, capsys)("apply", "--auto-approve").code == 0
    serial = stored(cloud)["serial"]
    release = tmp_path / "release"
    proc, lock_id = start_holder(aws_env, copy_a, release)
    try:
        refused = Cli(copy_b, capsys)("apply", "--auto-approve")
        assert refused.code == 1
        assert f"pid {proc.pid}" in refused.err and "running 'reconciler apply (copy A)'" in refused.err
        assert f"lock id {lock_id}" in refused.err and "--lock-timeout" in refused.err
        assert sorted(launch_templates(cloud)) == ["lt-t00", "lt-t01"]  # nothing was changed
        assert stored(cloud)["serial"] == serial

        threading.Timer(0.5, release.touch).start()
        waited = Cli(copy_b, capsys)("apply", "--auto-approve", "--lock-timeout", "120")
        assert waited.code == 0, waited.text
        assert proc.stdout is not None and proc.stdout.readline().strip() == "released"
    finally:
        release.touch()
        proc.wait(timeout=60)
    assert sorted(launch_templates(cloud)) == ["lt-t00", "lt-t01", "lt-t02"]
    after = stored(cloud)
    assert after["serial"] > serial and sorted(after["resources"]) == [
        f'aws_launch_template.t["t0{i}"]' for i in range(3)
    ]
    assert Cli(copy_a, capsys)("plan", "--detailed-exitcode").code == 2  # copy A is one template short


@pytest.mark.slow
def test_concurrent_applies_from_two_copies_serialize_on_the_lock(
    tmp_path: Path, aws_env: str, cloud: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    copy_a = write_stack(tmp_path / "a", {"main.hcl": stack_hcl(count=30)})
    copy_b = write_stack(tmp_path / "b", {"main.hcl": stack_hcl(count=30)})
    first = subprocess.Popen(
        [sys.executable, "-m", "reconciler.cli", "--chdir", str(copy_a), "apply", "--auto-approve"],
        env=env(aws_env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        backend = S3Backend.from_config(
            {"bucket": BUCKET, "key": KEY, "region": "us-east-1", "lock_table": TABLE}, stack="web"
        )
        deadline = time.monotonic() + 120
        while backend.current_lock() is None and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        second = Cli(copy_b, capsys)("apply", "--auto-approve", "--lock-timeout", "300")
        _, first_err = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, first_err
    assert second.code == 0, second.text
    assert len(launch_templates(cloud)) == 30  # one of them created all, the other found them in state
    final = stored(cloud)
    # group commit: one serial per write; changes made during a write share the next one
    assert len(final["resources"]) == 30 and final["serial"] >= 2
    assert Cli(copy_b, capsys)("plan", "--detailed-exitcode").code == 0


def test_fresh_clone_with_only_the_configuration_plans_no_changes(
    tmp_path: Path, aws_env: str, cloud: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        Cli(write_stack(tmp_path / "a", {"main.hcl": stack_hcl()}), capsys)("apply", "--auto-approve").code
        == 0
    )
    clone = write_stack(tmp_path / "clone", {"main.hcl": stack_hcl()})
    result = Cli(clone, capsys)("plan", "--detailed-exitcode")
    assert result.code == 0, result.text
    assert "No changes" in result.out
    assert not (clone / ".reconciler" / "state.json").exists()
    record = clone / ".reconciler" / "backend.json"
    assert json.loads(record.read_text())["type"] == "s3"
    assert stat.S_IMODE(record.stat().st_mode) == 0o600


def test_force_unlock_releases_a_killed_runs_lock_and_only_that_one(
    tmp_path: Path, aws_env: str, cloud: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = write_stack(tmp_path / "a", {"main.hcl": stack_hcl()})
    cli = Cli(stack, capsys)
    proc, lock_id = start_holder(aws_env, stack, tmp_path / "never")
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    stuck = cli("apply", "--auto-approve")
    assert stuck.code == 1 and f"lock id {lock_id}" in stuck.err
    assert f"reconciler force-unlock {lock_id}" in stuck.err

    wrong = cli("force-unlock", "0f0f0f0f-0000-0000-0000-000000000000")
    assert wrong.code == 1
    assert f"does not match the lock on s3 state s3://{BUCKET}/{KEY} (id {lock_id}" in wrong.err
    assert cli("apply", "--auto-approve").code == 1  # still locked

    released = cli("force-unlock", lock_id)
    assert released.code == 0, released.text
    assert f"Lock {lock_id} on s3 state s3://{BUCKET}/{KEY} released." in released.out
    assert cli("apply", "--auto-approve").code == 0
    assert sorted(launch_templates(cloud)) == ["lt-t00", "lt-t01"]


def test_migrate_a_local_stack_to_s3(
    tmp_path: Path, aws_env: str, cloud: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = write_stack(tmp_path / "web", {"main.hcl": stack_hcl(backend="")})
    cli = Cli(stack, capsys)
    assert cli("apply", "--auto-approve").code == 0
    local = stack / ".reconciler" / "state.json"
    before = local.read_text()
    (stack / "main.hcl").write_text(stack_hcl())

    refused = cli("plan")
    assert refused.code == 1
    assert (
        "the backend changed from local (path .reconciler/state.json) to s3 (bucket team-state, "
        "key web/state.json); run `reconciler state migrate`" in refused.err
    )

    migrated = cli("state", "migrate")
    assert migrated.code == 0, migrated.text
    assert "Copied state" in migrated.out and "old copy stays in local state" in migrated.out
    copied, original = stored(cloud), json.loads(before)
    assert (copied["lineage"], copied["serial"]) == (original["lineage"], original["serial"])
    assert copied["resources"] == original["resources"]
    assert local.read_text() == before  # the old copy stays as a backup
    record = stack / ".reconciler" / "backend.json"
    assert json.loads(record.read_text()) == {
        "type": "s3",
        "config": {"bucket": BUCKET, "key": KEY, "lock_table": TABLE, "region": "us-east-1"},
    }
    assert stat.S_IMODE(record.stat().st_mode) == 0o600

    assert cli("plan", "--detailed-exitcode").code == 0
    again = cli("state", "migrate")
    assert again.code == 0 and "nothing to migrate" in again.out


def test_migrate_refuses_to_overwrite_another_state_unless_forced(
    tmp_path: Path, aws_env: str, cloud: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = write_stack(tmp_path / "web", {"main.hcl": stack_hcl(backend="")})
    cli = Cli(stack, capsys)
    assert cli("apply", "--auto-approve").code == 0
    someone = State.from_json((stack / ".reconciler" / "state.json").read_text())
    someone.lineage, someone.serial = "someone-elses-lineage", 40
    S3Backend.from_config({"bucket": BUCKET, "key": KEY}, stack="web").write(someone)
    (stack / "main.hcl").write_text(stack_hcl())

    refused = cli("state", "migrate")
    assert refused.code == 1
    assert "already holds a state: another lineage (someone-elses-lineage)" in refused.err
    assert "--force" in refused.err
    assert stored(cloud)["lineage"] == "someone-elses-lineage"
    assert cli("plan").code == 1  # still not migrated

    forced = cli("state", "migrate", "--force")
    assert forced.code == 0, forced.text
    assert stored(cloud)["lineage"] != "someone-elses-lineage"
    assert cli("plan", "--detailed-exitcode").code == 0


def test_state_pull_and_push_guard_lineage_and_serial(
    tmp_path: Path, aws_env: str, cloud: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = write_stack(tmp_path / "web", {"main.hcl": stack_hcl()})
    cli = Cli(stack, capsys)
    empty = cli("state", "pull")
    assert empty.code == 0 and empty.out == "" and "No state in s3 state" in empty.err
    assert cli("apply", "--auto-approve").code == 0

    pulled = cli("state", "pull")
    assert pulled.code == 0
    state = json.loads(pulled.out)
    assert state == stored(cloud)
    serial = state["serial"]

    edited = tmp_path / "edited.json"
    del state["resources"]['aws_launch_template.t["t01"]']
    edited.write_text(json.dumps(state))
    same = cli("state", "push", str(edited))
    assert same.code == 1 and f"already has serial {serial}" in same.err

    state["serial"] = serial + 1
    edited.write_text(json.dumps(state))
    pushed = cli("state", "push", str(edited))
    assert pushed.code == 0, pushed.text
    assert stored(cloud)["serial"] == serial + 1 and len(stored(cloud)["resources"]) == 1

    other = dict(state, lineage="another-lineage", serial=serial + 5)
    edited.write_text(json.dumps(other))
    wrong = cli("state", "push", str(edited))
    assert wrong.code == 1 and "has lineage another-lineage" in wrong.err
    forced = cli("state", "push", str(edited), "--force")
    assert forced.code == 0
    assert (stored(cloud)["lineage"], stored(cloud)["serial"]) == ("another-lineage", serial + 5)

    foreign = dict(state, stack="db", serial=serial + 9)
    edited.write_text(json.dumps(foreign))
    not_ours = cli("state", "push", str(edited), "--force")
    assert not_ours.code == 1 and 'belongs to stack "db"' in not_ours.err
