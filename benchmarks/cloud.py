"""The benchmark's local cloud: a moto server subprocess on loopback, and direct boto3 helpers.

`MotoServer` runs `python -m reconciler_aws.sandbox_server` (moto with the sandbox's fixes) with
`MOTO_EC2_LOAD_DEFAULT_AMIS=false` on a free loopback port and waits until `/moto-api/` answers.
The helpers talk to moto directly, not through the counting proxy, so the benchmark's own setup
(registering AMIs, counting instances per image) is never counted against a tool.
Caller: `benchmarks/fleets.py`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import boto3

__all__ = ["MotoServer", "free_port", "images_of_running_instances", "register_ami"]

REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MotoServer:
    """A moto server subprocess; use as a context manager so it is always stopped."""

    def __init__(self, *, port: int, log: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._log_path = log
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> MotoServer:
        env = dict(os.environ, MOTO_EC2_LOAD_DEFAULT_AMIS="false")
        log = self._log_path.open("wb")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "reconciler_aws.sandbox_server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"moto server exited ({self._proc.returncode}); see {self._log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2):
                    return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"moto server did not answer on {self.url} within 60 s")

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=60):
            pass

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            region_name=REGION,
            endpoint_url=self.url,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )


def register_ami(cloud: MotoServer, *, name: str, version: str) -> str:
    """Register an image as a bake pipeline would (from a snapshot), tagged Version; its id."""
    ec2 = cloud.client("ec2")
    vol = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)
    snap = ec2.create_snapshot(VolumeId=vol["VolumeId"])
    image_id: str = ec2.register_image(
        Name=name,
        Architecture="x86_64",
        RootDeviceName="/dev/xvda",
        VirtualizationType="hvm",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap["SnapshotId"]}}],
    )["ImageId"]
    ec2.create_tags(Resources=[image_id], Tags=[{"Key": "Version", "Value": version}])
    return image_id


def images_of_running_instances(cloud: MotoServer, *, group_prefix: str) -> Counter[str]:
    """Image id -> running instances, over every auto-scaling group whose name has the prefix."""
    asg = cloud.client("autoscaling")
    ids: list[str] = []
    for page in asg.get_paginator("describe_auto_scaling_groups").paginate():
        for group in page["AutoScalingGroups"]:
            if group["AutoScalingGroupName"].startswith(group_prefix):
                ids.extend(i["InstanceId"] for i in group.get("Instances", []))
    images: Counter[str] = Counter()
    ec2 = cloud.client("ec2")
    for start in range(0, len(ids), 200):
        pages = ec2.get_paginator("describe_instances").paginate(
            InstanceIds=ids[start : start + 200],
            Filters=[{"Name": "instance-state-name", "Values": ["running"]}],
        )
        for page in pages:
            for reservation in page["Reservations"]:
                for instance in reservation["Instances"]:
                    images[instance["ImageId"]] += 1
    return images
