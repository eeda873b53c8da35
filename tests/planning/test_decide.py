"""Action choice and attribute diffs are pure: given prior and desired values, a fixed answer."""

import pytest

from reconciler.planning.decide import decide_action, diff_attributes
from reconciler.planning.model import Action, ActionReason
from reconciler.values import UNKNOWN

ARGS = ("name", "image_id", "instance_type", "user_data", "tags", "block_device_mapping")


def diffs(before, after, **kw):
    return diff_attributes(before, after, arguments=ARGS, sensitive={"user_data"}, force_new={"name"}, **kw)


BASE = {
    "name": "web",
    "image_id": "ami-1",
    "instance_type": "t3.micro",
    "user_data": None,
    "tags": {"A": "1"},
    "block_device_mapping": [{"device_name": "/dev/xvda", "volume_size": 8}],
}


@pytest.mark.parametrize(
    ("change", "action", "reason", "paths"),
    [
        ({}, Action.NOOP, ActionReason.NONE, []),
        ({"instance_type": "t3.small"}, Action.UPDATE, ActionReason.NONE, ["instance_type"]),
        ({"name": "web2"}, Action.REPLACE, ActionReason.REPLACE_BECAUSE_ATTRIBUTE, ["name"]),
        ({"tags": {"A": "2"}}, Action.UPDATE, ActionReason.NONE, ["tags.A"]),
        ({"tags": {"A": "1", "B": "x"}}, Action.UPDATE, ActionReason.NONE, ["tags.B"]),
        (
            {"block_device_mapping": [{"device_name": "/dev/xvda", "volume_size": 16}]},
            Action.UPDATE,
            ActionReason.NONE,
            ["block_device_mapping.0.volume_size"],
        ),
        ({"image_id": UNKNOWN}, Action.UPDATE, ActionReason.NONE, ["image_id"]),
        ({"user_data": "sha256:ab"}, Action.UPDATE, ActionReason.NONE, ["user_data"]),
    ],
)
def test_action_table(change, action, reason, paths):
    after = {**BASE, **change}
    d = diffs(BASE, after)
    got_action, got_reason, _ = decide_action(prior=BASE, desired=after, diffs=d)
    assert (got_action, got_reason) == (action, reason)
    assert [x.path for x in d] == paths


def test_create_delete_and_requested_replace():
    assert decide_action(prior=None, desired=BASE, diffs=[])[0] is Action.CREATE
    assert decide_action(prior=None, desired=BASE, diffs=[], existed_in_state=True)[1] is (
        ActionReason.CREATE_BECAUSE_GONE
    )
    assert decide_action(prior=BASE, desired=None, diffs=[])[0] is Action.DELETE
    assert decide_action(prior=BASE, desired=BASE, diffs=[], replace_requested=True)[:2] == (
        Action.REPLACE,
        ActionReason.REPLACE_BY_REQUEST,
    )


def test_ignore_changes_and_flags():
    after = {**BASE, "instance_type": "t3.large", "user_data": "sha256:x", "name": "n"}
    d = diffs(BASE, after, ignore={"instance_type"})
    assert [x.path for x in d] == ["name", "user_data"]
    assert d[0].forces_replacement and not d[0].sensitive
    assert d[1].sensitive
    unknown = diffs(BASE, {**BASE, "image_id": UNKNOWN})[0]
    assert unknown.unknown and unknown.before == "ami-1"
