"""Shared fixtures: a real moto server on a free loopback port, reset between tests.

Tests talk to it over HTTP with boto3 (`endpoint_url`), exactly as the product does; nothing here
patches boto3. `aws_env` points the process environment at it, `boto` builds clients for checks.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests

os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")

REGION = "us-east-1"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    from reconciler_aws.sandbox_server import apply_moto_fixes

    apply_moto_fixes()  # the same emulator fixes the sandbox runs with (see that module)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[str]:
    """A clean moto account and an environment that points boto3 (and the CLI) at it."""
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    yield moto_endpoint


@pytest.fixture
def boto(aws_env: str) -> Any:
    """boto(service) → a client on the moto server, for arranging and checking the cloud."""

    def make(service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=aws_env)

    return make


def register_ami(
    boto: Any,
    *,
    name: str,
    version: str | None = None,
    tags: dict[str, str] | None = None,
    architecture: str = "x86_64",
) -> str:
    """Register an image as a bake pipeline would (from a snapshot), tagged; returns its id."""
    ec2 = boto("ec2")
    vol = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)
    snap = ec2.create_snapshot(VolumeId=vol["VolumeId"])
    all_tags = dict(tags or {})
    if version is not None:
        all_tags.setdefault("Version", version)
    image_id: str = ec2.register_image(
        Name=name,
        Architecture=architecture,
        RootDeviceName="/dev/xvda",
        VirtualizationType="hvm",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap["SnapshotId"]}}],
    )["ImageId"]
    if all_tags:  # moto ignores TagSpecifications on register_image; tag it afterwards
        ec2.create_tags(Resources=[image_id], Tags=[{"Key": k, "Value": v} for k, v in all_tags.items()])
    return image_id
