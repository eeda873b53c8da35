"""`reconciler sandbox`: a real moto server in the background, reachable, baking tagged AMIs,
refusing a port in use, and stopping cleanly."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from reconciler.cli import main


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_start_bake_status_stop(tmp_path: Path, capsys) -> None:
    port = _free_port()
    base = ["--chdir", str(tmp_path), "sandbox"]
    assert main([*base, "start", "--port", str(port)]) == 0
    try:
        info = json.loads((tmp_path / ".reconciler" / "sandbox.json").read_text())
        assert info["endpoint"] == f"http://127.0.0.1:{port}"
        assert main([*base, "status"]) == 0
        assert main([*base, "bake", "app", "1.2.0", "--tag", "Channel=stable"]) == 0
        ec2 = boto3.client(
            "ec2",
            region_name="us-east-1",
            endpoint_url=info["endpoint"],
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        images = ec2.describe_images(Owners=["self"])["Images"]
        assert [i["Name"] for i in images] == ["app-1.2.0"]
        assert {t["Key"]: t["Value"] for t in images[0]["Tags"]} == {
            "App": "app",
            "Version": "1.2.0",
            "Channel": "stable",
        }
        assert main([*base, "bake", "app", "1.2.0"]) == 1  # the same version twice is refused
        assert main([*base, "start", "--port", str(port)]) == 0  # already running: says so
        assert "already running" in capsys.readouterr().out
    finally:
        assert main([*base, "stop"]) == 0
    assert main([*base, "status"]) == 1
    assert not (tmp_path / ".reconciler" / "sandbox.json").exists()


def test_port_in_use_is_a_clear_error(tmp_path: Path, capsys) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["--chdir", str(tmp_path), "sandbox", "start", "--port", str(port)])
    err = capsys.readouterr().err
    assert code == 1 and f"port {port}" in err and "already in use" in err


def test_bake_without_a_sandbox_says_how_to_start_one(tmp_path: Path, capsys) -> None:
    assert main(["--chdir", str(tmp_path), "sandbox", "bake", "app", "1.0.0"]) == 1
    assert "reconciler sandbox start" in capsys.readouterr().err


def test_env_prints_the_exports_that_point_a_shell_at_the_sandbox(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    monkeypatch.setenv("SANDBOX_PORT", str(port))  # `start` without --port takes it
    base = ["--chdir", str(tmp_path), "sandbox"]
    capsys.readouterr()
    assert main([*base, "start"]) == 0
    try:
        started = capsys.readouterr().out
        assert f"http://127.0.0.1:{port}" in started
        assert f'eval "$(reconciler --chdir {tmp_path} sandbox env)"' in started
        assert main([*base, "env"]) == 0
        exports = capsys.readouterr().out
        shell = subprocess.run(
            ["bash", "-c", exports + 'echo "$AWS_ENDPOINT_URL $AWS_REGION $AWS_ACCESS_KEY_ID"'],
            capture_output=True,
            text=True,
            env={"PATH": os.environ["PATH"]},
            check=True,
        )
        assert shell.stdout.split() == [f"http://127.0.0.1:{port}", "us-east-1", "sandbox"]
        # what the exports give boto3 is enough to reach the sandbox: no other variable needed
        probe = (
            "import boto3; print(len(boto3.client('ec2').describe_images(Owners=['self'])['Images']))"
        )
        reached = subprocess.run(
            ["bash", "-c", exports + f'"{sys.executable}" -c "{probe}"'],
            capture_output=True,
            text=True,
            env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        )
        assert reached.returncode == 0 and reached.stdout.strip() == "0", reached.stderr
    finally:
        assert main([*base, "stop"]) == 0
    capsys.readouterr()
    assert main([*base, "env"]) == 1  # none running: says how to start one
    assert "reconciler sandbox start" in capsys.readouterr().err


def test_a_taken_port_suggests_sandbox_port(tmp_path: Path, capsys) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["--chdir", str(tmp_path), "sandbox", "start", "--port", str(port)]) == 1
    assert "SANDBOX_PORT=N" in capsys.readouterr().err
