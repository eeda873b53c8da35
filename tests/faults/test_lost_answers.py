"""Given a cloud that acts on a request but whose answer is lost (the connection drops after the
request was forwarded), every create and every non-idempotent write of a create apply and of a
rollout apply happens once: the apply exits 0, nothing is duplicated, no launch template version
is made twice, and the next plan, made directly against the cloud, is empty.

Each write's first request is dropped after forwarding (scripted, so every one of them is hit);
the CLI runs in this process against the fault proxy; checks read moto directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import register_ami
from tests.faults.cloud import duplicates, stack_files
from tests.faults.proxy import Fault, FaultProxy
from tests.scenarios.harness import Cli, write_stack
from tests.scenarios.rollout_checks import assert_fleet_on, census, create_alarm

CREATE_WRITES = [
    "elasticloadbalancing:CreateTargetGroup",
    "elasticloadbalancing:ModifyTargetGroupAttributes",
    "ec2:CreateLaunchTemplate",
    "autoscaling:CreateAutoScalingGroup",
]
ROLLOUT_WRITES = [
    "ec2:CreateLaunchTemplateVersion",
    "ec2:ModifyLaunchTemplate",
    "autoscaling:CreateAutoScalingGroup",
    "autoscaling:AttachLoadBalancerTargetGroups",
    "autoscaling:DetachLoadBalancerTargetGroups",
    "autoscaling:UpdateAutoScalingGroup",
    "autoscaling:TerminateInstanceInAutoScalingGroup",
    "elasticloadbalancing:RegisterTargets",
    "elasticloadbalancing:DeregisterTargets",
]


def drop_first_answer_of(proxy: FaultProxy, actions: list[str]) -> None:
    proxy.configure(script={action: [Fault.DROP_AFTER] for action in actions})


def lost(proxy: FaultProxy) -> set[str]:
    return {key.split(" ", 1)[1] for key in proxy.stats.faults}


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["rolling", "canary"])
def test_writes_whose_answers_are_lost_happen_once(
    strategy: str,
    via_proxy: FaultProxy,
    aws_env: str,
    boto: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    register_ami(boto, name="app-1.0.0", version="1.0.0")
    create_alarm(boto)
    cli = Cli(write_stack(tmp_path / "s", stack_files(strategy, size=2)), capsys)

    drop_first_answer_of(via_proxy, CREATE_WRITES)
    created = cli("apply", "--auto-approve")
    assert created.code == 0, created.text
    assert lost(via_proxy) == set(CREATE_WRITES)  # every create lost its first answer
    assert duplicates(boto, expected_groups={"web-g0001"}).total == 0

    new = register_ami(boto, name="app-1.1.0", version="1.1.0")
    drop_first_answer_of(via_proxy, ROLLOUT_WRITES)
    rolled = cli("apply", "--auto-approve")
    assert rolled.code == 0, rolled.text
    assert "Rollout complete" in rolled.out
    hit = lost(via_proxy)
    assert {"ec2:CreateLaunchTemplateVersion", "autoscaling:TerminateInstanceInAutoScalingGroup"} <= hit
    groups = {"web-g0001"} if strategy == "rolling" else {"web-g0001", "web-g0002"}
    found = duplicates(boto, expected_groups=groups)
    assert found.total == 0, found
    assert_fleet_on(census(boto), new, count=2)  # capacity decremented once per terminate

    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_env)  # the next plan, straight to the cloud
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.text
    assert "Changed outside reconciler" not in plan.out


@pytest.mark.slow
def test_a_latest_version_with_the_wanted_launch_data_is_made_the_default_not_made_again(
    aws_env: str, boto: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What an apply killed between CreateLaunchTemplateVersion and ModifyLaunchTemplate leaves."""
    old = register_ami(boto, name="app-1.0.0", version="1.0.0")
    cli = Cli(write_stack(tmp_path / "s", stack_files("rolling", size=2)), capsys)
    create_alarm(boto)
    assert cli("apply", "--auto-approve").code == 0
    new = register_ami(boto, name="app-1.1.0", version="1.1.0")
    ec2 = boto("ec2")
    ec2.create_launch_template_version(  # version 2, not the default: the killed apply's
        LaunchTemplateName="web", LaunchTemplateData={"ImageId": new, "InstanceType": "t3.micro"}
    )

    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert "existing version 2 (the latest, same launch data) becomes the default" in plan.out
    assert "launch_template_version  1 → 2" in plan.out
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.text
    template = ec2.describe_launch_templates(LaunchTemplateNames=["web"])["LaunchTemplates"][0]
    assert (template["DefaultVersionNumber"], template["LatestVersionNumber"]) == (2, 2)
    assert duplicates(boto, expected_groups={"web-g0001"}).total == 0
    assert_fleet_on(census(boto), new, count=2)
    assert old != new and cli("plan", "--detailed-exitcode").code == 0
