"""Plans built directly from the model's dataclasses, shared by the JSON and Markdown tests.

`review_plan()` is what a reviewer meets after a new AMI was baked and the stack was edited: one
create, one update, one replace, one delete, one blue/green rollout (expanded by the real
`expand_rollout`), a no-op, AMI lookups, output changes and drift. Every secret in it is either
`SECRET` itself (a sensitive output, a variable) or its digest, and neither may ever be printed.
"""

from __future__ import annotations

from typing import Any

from reconciler.address import Address, Mode
from reconciler.planning.labels import labels_of_reads
from reconciler.planning.model import (
    Action,
    ActionReason,
    AttributeDiff,
    DataRead,
    DriftEntry,
    OutputChange,
    Plan,
    ResourceChange,
)
from reconciler.rollout.change import RolloutChange
from reconciler.rollout.model import FleetSnapshot, InstanceInfo, Release
from reconciler.rollout.plan import expand_rollout
from reconciler.sdk.rollout_block import RolloutConfig
from reconciler.values import UNKNOWN, sensitive_digest

SECRET = "hunter2-do-not-print"
DIGEST = sensitive_digest(SECRET) or ""
OLD_AMI, NEW_AMI = "ami-0a1b2c3d4e5f60718", "ami-0c3d4e5f60718293a"


def image(image_id: str, version: str, date: str) -> dict[str, Any]:
    return {
        "id": image_id,
        "name": f"app-{version}",
        "version": version,
        "creation_date": f"{date}T10:00:00.000Z",
        "tags": {"App": "web", "Version": version},
        "candidates": 3,
    }


def fleet_rollout(instances: int = 12) -> RolloutChange:
    """A realistic ROLLOUT payload: web-g0007 (app-1.4.2, v7) → web-g0008 (app-1.5.0, v8)."""
    old = Release(OLD_AMI, "app-1.4.2", "1.4.2", "t3.micro", 7)
    new = Release(NEW_AMI, "app-1.5.0", "1.5.0", "t3.micro", 8)
    fleet = FleetSnapshot(
        group_name="web-g0007",
        generation=7,
        desired=instances,
        min_size=2,
        max_size=24,
        instances=[InstanceInfo(f"i-{n:017x}", OLD_AMI, "t3.micro") for n in range(instances)],
        target_group_names=["web"],
        launch_template_version=7,
        target_group_arns=["arn:aws:elasticloadbalancing:us-east-1:123:targetgroup/web/1"],
        launch_template_id="lt-0123456789abcdef0",
    )
    config = RolloutConfig(
        strategy="blue_green", alarms=["web-5xx"], health_timeout="10m", keep_previous="1h"
    )
    plan = expand_rollout(
        config=config, fleet=fleet, old=old, new=new, fleet_name="web", green_group="web-g0008"
    )
    return RolloutChange(plan=plan)


def template(image_id: Any, *, version: Any, name: str = "web") -> dict[str, Any]:
    return {
        "id": "lt-0123456789abcdef0" if version is not UNKNOWN else UNKNOWN,
        "name": name,
        "image_id": image_id,
        "instance_type": "t3.micro",
        "user_data": DIGEST,
        "default_version": version,
        "block_device_mapping": [{"device_name": "/dev/xvda", "volume_size": 8, "encrypted": True}],
        "tags": {"Name": name},
    }


def review_plan() -> Plan:
    app = Address("aws_ami", "app", None, Mode.DATA)
    changes = [
        ResourceChange(
            address=Address("aws_target_group", "api"),
            action=Action.CREATE,
            type_name="aws_target_group",
            after={
                "name": "api",
                "port": 8080,
                "arn": UNKNOWN,
                "id": UNKNOWN,
                "health_check": {"path": "/healthz", "matcher": UNKNOWN},
                "target_ids": ["i-1", UNKNOWN],
            },
        ),
        ResourceChange(
            address=Address("aws_launch_template", "web"),
            action=Action.UPDATE,
            type_name="aws_launch_template",
            id="lt-0123456789abcdef0",
            before=template(OLD_AMI, version=7),
            after=template(NEW_AMI, version=8),
            diffs=[
                AttributeDiff("image_id", OLD_AMI, NEW_AMI),
                AttributeDiff("user_data", DIGEST, sensitive_digest("new " + SECRET), sensitive=True),
            ],
            sensitive_paths=["user_data"],
            note="new version 8 (default)",
        ),
        ResourceChange(
            address=Address("aws_launch_template", "worker", "batch"),
            action=Action.REPLACE,
            type_name="aws_launch_template",
            reason=ActionReason.REPLACE_BECAUSE_ATTRIBUTE,
            id="lt-0fedcba9876543210",
            before=template(OLD_AMI, version=3, name="worker-batch"),
            after=template(NEW_AMI, version=UNKNOWN, name="worker-batch-v2"),
            diffs=[
                AttributeDiff("name", "worker-batch", "worker-batch-v2", forces_replacement=True),
                AttributeDiff("id", "lt-0fedcba9876543210", UNKNOWN, unknown=True),
            ],
            replace_paths=["name"],
            sensitive_paths=["user_data"],
        ),
        ResourceChange(
            address=Address("aws_target_group", "old"),
            action=Action.DELETE,
            type_name="aws_target_group",
            reason=ActionReason.DELETE_BECAUSE_NO_CONFIG,
            id="arn:aws:elasticloadbalancing:us-east-1:123:targetgroup/old/2",
            before={
                "name": "old",
                "port": 80,
                "arn": "arn:aws:elasticloadbalancing:us-east-1:123:targetgroup/old/2",
            },
        ),
        ResourceChange(
            address=Address("aws_fleet", "web"),
            action=Action.ROLLOUT,
            type_name="aws_fleet",
            reason=ActionReason.ROLLOUT_BECAUSE_LAUNCH_TEMPLATE,
            id="web",
            before={"name": "web", "launch_template_version": 7, "desired_capacity": 12},
            after={"name": "web", "launch_template_version": 8, "desired_capacity": 12, "instances": UNKNOWN},
            diffs=[AttributeDiff("launch_template_version", 7, 8)],
            note="blue/green",
            rollout=fleet_rollout(),
        ),
        ResourceChange(
            address=Address("aws_target_group", "web"),
            action=Action.NOOP,
            type_name="aws_target_group",
            id="arn:aws:elasticloadbalancing:us-east-1:123:targetgroup/web/1",
            before={"name": "web", "port": 80},
            after={"name": "web", "port": 80},
        ),
    ]
    plan = Plan(
        stack="web-prod",
        changes=changes,
        data=[
            DataRead(
                address=app,
                type_name="aws_ami",
                attributes=image(NEW_AMI, "1.5.0", "2026-11-22"),
                previous=image(OLD_AMI, "1.4.2", "2026-11-20"),
                explanation="newest of 3 images named app-* with Version in >=1.4,<2",
                fingerprint=NEW_AMI,
            ),
            DataRead(
                address=Address("aws_vpc", "default", None, Mode.DATA),
                type_name="aws_vpc",
                attributes={"id": "vpc-1", "is_default": True},
                previous={"id": "vpc-1", "is_default": True},
            ),
        ],
        outputs=[
            OutputChange("fleet_ami", "app-1.4.2", "app-1.5.0"),
            OutputChange("db_password", "old-" + SECRET, SECRET, sensitive=True),
            OutputChange("api_arn", None, UNKNOWN),
            OutputChange("stack", "web-prod", "web-prod"),
        ],
        drift=[
            DriftEntry(
                address=Address("aws_fleet", "web"),
                kind="updated",
                diffs=[
                    AttributeDiff("desired_capacity", 4, 12),
                    AttributeDiff("user_data", DIGEST, sensitive_digest("x"), sensitive=True),
                ],
                after={"name": "web", "desired_capacity": 12, "user_data": sensitive_digest("x")},
            ),
            DriftEntry(address=Address("aws_target_group", "gone"), kind="deleted"),
        ],
        lineage="3f0e2a4c-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
        serial=42,
        variables={"db_password": SECRET},
        config_digest="sha256:config",
    )
    plan.labels = labels_of_reads(plan.data)  # as the planner fills them
    return plan


def many_changes(n: int) -> Plan:
    """A plan with `n` created launch templates, each with a fair amount of attributes."""
    changes = [
        ResourceChange(
            address=Address("aws_launch_template", "worker", f"queue-{i:04d}"),
            action=Action.CREATE if i % 5 else Action.DELETE,
            type_name="aws_launch_template",
            reason=ActionReason.NONE if i % 5 else ActionReason.DELETE_BECAUSE_NO_INSTANCE,
            id=None if i % 5 else f"lt-{i:017x}",
            before=None if i % 5 else template(OLD_AMI, version=1, name=f"worker-{i}"),
            after=template(NEW_AMI, version=UNKNOWN, name=f"worker-queue-{i:04d}") if i % 5 else None,
            sensitive_paths=["user_data"],
        )
        for i in range(n)
    ]
    return Plan(stack="big", changes=changes)
