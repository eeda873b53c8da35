"""The fault proxy itself: each fault looks to botocore exactly as the real thing would, a seed
means the same faults every run, and a crash point kills the process at the k-th request."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError

from tests.faults.proxy import Fault, FaultProxy

REGION = "us-east-1"


def client(proxy: FaultProxy, service: str) -> Any:
    """A boto3 client through the proxy that never retries, so each fault shows as it is."""
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=proxy.url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


# service → (the name it signs with, one read, the throttling code AWS answers it with)
CALLS = {
    "ec2": ("ec2:DescribeVpcs", lambda c: c.describe_vpcs(), "RequestLimitExceeded"),
    "autoscaling": (
        "autoscaling:DescribeAutoScalingGroups",
        lambda c: c.describe_auto_scaling_groups(),
        "Throttling",
    ),
    "elbv2": (
        "elasticloadbalancing:DescribeTargetGroups",
        lambda c: c.describe_target_groups(),
        "Throttling",
    ),
    "cloudwatch": ("monitoring:DescribeAlarms", lambda c: c.describe_alarms(), "Throttling"),  # RPC v2 CBOR
}


@pytest.mark.parametrize("service", sorted(CALLS))
def test_throttling_is_answered_in_each_services_protocol(fault_proxy: FaultProxy, service: str) -> None:
    action, call, code = CALLS[service]
    fault_proxy.configure(rates={Fault.THROTTLE: 1.0})
    with pytest.raises(ClientError) as info:
        call(client(fault_proxy, service))
    error = info.value.response
    assert error["Error"]["Code"] == code
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert fault_proxy.stats.faults == {f"throttle {action}": 1}
    fault_proxy.configure()
    call(client(fault_proxy, service))  # and without faults the same call goes through


def test_503_and_dropped_connections(fault_proxy: FaultProxy, boto: Any) -> None:
    ec2 = client(fault_proxy, "ec2")
    fault_proxy.configure(rates={Fault.UNAVAILABLE: 1.0})
    with pytest.raises(ClientError) as info:
        ec2.describe_vpcs()
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503

    data = {"ImageId": "ami-12345678"}
    fault_proxy.configure(script={"ec2:CreateLaunchTemplate": [Fault.DROP_BEFORE]})
    with pytest.raises(ConnectionClosedError):
        ec2.create_launch_template(LaunchTemplateName="before", LaunchTemplateData=data)
    fault_proxy.configure(script={"ec2:CreateLaunchTemplate": [Fault.DROP_AFTER]})
    with pytest.raises(ConnectionClosedError):
        ec2.create_launch_template(LaunchTemplateName="after", LaunchTemplateData=data)
    names = [t["LaunchTemplateName"] for t in boto("ec2").describe_launch_templates()["LaunchTemplates"]]
    assert names == ["after"]  # dropped after forwarding: the cloud acted, the client never knew


def test_a_seed_means_the_same_faults_every_run(fault_proxy: FaultProxy) -> None:
    def run(seed: int) -> list[str]:
        fault_proxy.configure(rates={Fault.THROTTLE: 0.3})
        fault_proxy.seed = seed
        ec2 = client(fault_proxy, "ec2")
        seen = []
        for _ in range(40):
            try:
                ec2.describe_key_pairs()
                seen.append("ok")
            except ClientError:
                seen.append("throttled")
        return seen

    first, again, other = run(7), run(7), run(8)
    assert first == again and first != other
    assert 4 <= first.count("throttled") <= 20  # about 30 % of 40


def test_a_crash_point_kills_the_process_at_the_kth_request(fault_proxy: FaultProxy, tmp_path: Any) -> None:
    script = (
        "import boto3, sys\n"
        "from botocore.config import Config\n"
        f"c = boto3.client('ec2', region_name='{REGION}', endpoint_url=sys.argv[1],\n"
        "                 config=Config(retries={'total_max_attempts': 1}))\n"
        "for n in range(10):\n"
        "    c.describe_vpcs()\n"
        "    print(n + 1, flush=True)\n"
    )
    fault_proxy.configure(kill_at=4, kill_when="after")
    proc = subprocess.Popen(
        [sys.executable, "-c", script, fault_proxy.url], stdout=subprocess.PIPE, text=True
    )
    fault_proxy.target_pid = proc.pid
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == -9
    assert out.split() == ["1", "2", "3"]  # the 4th request reached the cloud; its answer never came
    assert (fault_proxy.stats.killed_at, fault_proxy.stats.killed_on) == (4, "ec2:DescribeVpcs")
