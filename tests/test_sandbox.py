"""`reconciler sandbox`: a real moto server in the background, reachable, baking tagged AMIs,
refusing a port in use, and stopping cleanly."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import boto3

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
