"""aws_ami_launch_permissions, pure parts: the one ModifyImageAttribute argument, the plan note,
the public hazard, and the schema's refusals."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reconciler_aws.ami_permissions import (
    LaunchPermissionsArgs,
    change_note,
    hazards,
    permission_changes,
    permissions_of,
)

A, B, C = "111111111111", "222222222222", "333333333333"
ORG = "arn:aws:organizations::123456789012:organization/o-abcdef1234"


def test_changes_add_and_remove_in_one_argument() -> None:
    current = permissions_of([{"UserId": A}, {"UserId": C}, {"Group": "all"}])
    desired = {"account_ids": [A, B], "organization_arns": [ORG], "public": False}
    assert permission_changes(current, desired) == {
        "Add": [{"UserId": B}, {"OrganizationArn": ORG}],
        "Remove": [{"UserId": C}, {"Group": "all"}],
    }
    assert change_note(current, desired) == (
        f"+ 1 account ({B}), - 1 account ({C}), + 1 organization ({ORG}), - public"
    )
    assert change_note(None, {"account_ids": [A, B]}) == f"+ 2 accounts ({A}, {B})"
    assert change_note(current, current) == "no permission changes"


@pytest.mark.parametrize(
    ("before", "after", "warns"),
    [
        (None, {"image_id": "ami-1", "public": True}, True),
        ({"public": False}, {"image_id": "ami-1", "public": True}, True),
        ({"public": True}, {"image_id": "ami-1", "public": True}, False),  # already public
        (None, {"image_id": "ami-1", "public": False}, False),
    ],
)
def test_making_an_image_public_is_a_hazard(before: dict | None, after: dict, warns: bool) -> None:
    assert bool(hazards(before, after)) is warns


def test_schema_normalises_and_refuses() -> None:
    args = LaunchPermissionsArgs(image_id="ami-1", account_ids=[B, A, B])
    assert args.account_ids == [A, B]
    for bad in (
        {"image_id": "ami-1", "public": True},
        {"image_id": "ami-1", "account_ids": ["12345"]},
        {"image_id": "ami-1", "organization_arns": ["not-an-arn"]},
        {"image_id": "i-123"},
    ):
        with pytest.raises(ValidationError):
            LaunchPermissionsArgs.model_validate(bad)
    assert LaunchPermissionsArgs(image_id="ami-1", allow_public=True, public=True).public
