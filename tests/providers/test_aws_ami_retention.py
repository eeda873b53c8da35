"""aws_ami_retention, pure parts: `decide` (keep_last, keep_newer_than, uses, shared snapshots,
the JSON round trip) and `in_use` (group pins, $Default/$Latest, mixed policies, instances)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

from reconciler_aws.ami_retention import RetentionArgs
from reconciler_aws.ami_retention_model import KeepReason, RetentionDecision, Rules, Use, Verdict, decide
from reconciler_aws.ami_usage import in_use

NOW = datetime(2026, 11, 30)


def image(n: int, *, day: int, snap: str | None = None) -> dict[str, Any]:
    return {
        "ImageId": f"ami-{n}",
        "Name": f"app-1.{n}.0",
        "CreationDate": f"2026-11-{day:02d}T00:00:00.000Z",
        "Tags": [{"Key": "Version", "Value": f"1.{n}.0"}],
        "BlockDeviceMappings": [
            {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap or f"snap-{n}", "VolumeSize": 8}}
        ],
    }


IMAGES = [image(n, day=n + 1) for n in range(1, 6)]  # ami-5 newest


def verdicts(decision: RetentionDecision) -> dict[str, Verdict]:
    return {v.image_id: v.verdict for v in decision.verdicts}


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (
            Rules(2, None, "Version"),
            {"ami-1": Verdict.DEREGISTER, "ami-2": Verdict.DEREGISTER, "ami-3": Verdict.DEREGISTER},
        ),
        (
            Rules(None, 26 * 86400 + 43200, "Version"),
            {"ami-1": Verdict.DEREGISTER, "ami-2": Verdict.DEREGISTER},
        ),  # 4, 5, 3 recent
        (Rules(4, 26 * 86400 + 43200, "Version"), {"ami-1": Verdict.DEREGISTER}),  # either rule keeps
        (Rules(9, None, "Version"), {}),
    ],
)
def test_rules_choose_the_candidates(rules: Rules, expected: dict[str, Verdict]) -> None:
    decision = decide(IMAGES, rules=rules, uses={}, now=NOW, region="r", delete_snapshots=True)
    assert verdicts(decision) == expected


def test_used_images_are_kept_with_why_and_shared_snapshots_stay() -> None:
    shared = [*IMAGES[:2], image(3, day=4, snap="snap-1"), *IMAGES[3:]]  # ami-3 shares ami-1's snapshot
    use = Use(KeepReason.GROUP, "group web-g0001 (launch template web version 1)")
    decision = decide(
        shared,
        rules=Rules(2, None, "Version"),
        uses={"ami-3": [use]},
        now=NOW,
        region="r",
        delete_snapshots=True,
        protected=[("ami-2", Use(KeepReason.COPY_SOURCE, "the source of aws_ami_copy.eu"))],
    )
    assert verdicts(decision) == {"ami-3": Verdict.KEEP, "ami-2": Verdict.KEEP, "ami-1": Verdict.DEREGISTER}
    (doomed,) = decision.to_deregister
    assert doomed.snapshots == () and doomed.gib == 0  # snap-1 is also ami-3's, which stays
    assert decision.note() == "deregister 1 image, free up to 0 GiB (r)"
    assert RetentionDecision.from_dict(decision.to_dict()) == decision


def test_in_use_reads_pins_defaults_mixed_policies_and_instances() -> None:
    versions = [
        {
            "LaunchTemplateId": "lt-1",
            "LaunchTemplateName": "web",
            "VersionNumber": 1,
            "LaunchTemplateData": {"ImageId": "ami-1"},
        },
        {
            "LaunchTemplateId": "lt-1",
            "LaunchTemplateName": "web",
            "VersionNumber": 3,
            "DefaultVersion": True,
            "LaunchTemplateData": {"ImageId": "ami-3"},
        },
        {
            "LaunchTemplateId": "lt-1",
            "LaunchTemplateName": "web",
            "VersionNumber": 4,
            "LaunchTemplateData": {"ImageId": "ami-4"},
        },
    ]
    groups = [
        {"AutoScalingGroupName": "web-g0001", "LaunchTemplate": {"LaunchTemplateId": "lt-1", "Version": "1"}},
        {
            "AutoScalingGroupName": "mixed",
            "MixedInstancesPolicy": {
                "LaunchTemplate": {
                    "LaunchTemplateSpecification": {"LaunchTemplateId": "lt-1", "Version": "$Latest"}
                }
            },
        },
    ]
    instances = [{"InstanceId": "i-1", "ImageId": "ami-2", "State": {"Name": "stopped"}}]
    found = in_use(
        ["ami-1", "ami-2", "ami-3", "ami-4", "ami-5"], groups=groups, versions=versions, instances=instances
    )
    assert {k: [u.reason for u in v] for k, v in found.items()} == {
        "ami-1": [KeepReason.GROUP],
        "ami-4": [KeepReason.GROUP, KeepReason.TEMPLATE_LATEST],
        "ami-3": [KeepReason.TEMPLATE_DEFAULT],
        "ami-2": [KeepReason.INSTANCE],
    }


@pytest.mark.parametrize(
    "bad",
    [
        {"keep_last": 2},  # no selection: never prune every image of the account
        {"name": "app-*"},  # no rule
        {"name": "app-*", "keep_last": 0},
        {"name": "app-*", "keep_last": 2, "owners": ["amazon"]},
        {"name": "app-*", "keep_newer_than": "30 days"},
        {"name_regex": "(", "keep_last": 2},  # not a regular expression
    ],
)
def test_schema_refuses_unbounded_or_foreign_selections(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RetentionArgs.model_validate(bad)
