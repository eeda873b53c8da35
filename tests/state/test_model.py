"""State model: JSON round trip, stable output, and clear refusals of damaged or foreign state."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from reconciler.errors import StateError
from reconciler.sensitive import keyed_digest
from reconciler.state import FORMAT_VERSION, OutputState, ResourceState, State
from reconciler.values import Digest, mark, sensitive_digest


def sample_state() -> State:
    state = State.new("web-prod")
    state.serial = 7
    state.resources['aws_fleet.web["eu"]'] = ResourceState(
        address='aws_fleet.web["eu"]',
        type="aws_fleet",
        provider="aws",
        id="web-g0007",
        attributes={"desired_capacity": 4, "tags": {"reconciler:stack": "web-prod"}},
        dependencies=["aws_launch_template.web", "aws_target_group.web"],
        rollout={"strategy": "blue_green", "step": 2, "old_group": "web-g0006"},
    )
    state.resources["aws_launch_template.web"] = ResourceState(
        address="aws_launch_template.web",
        type="aws_launch_template",
        provider="aws",
        id="lt-0123",
        attributes={"latest_version": 8, "image_id": "ami-0c3d"},
    )
    state.data["data.aws_ami.app"] = {"id": "ami-0c3d", "name": "app-1.5.0"}
    state.outputs["fleet_ami"] = OutputState(value="app-1.5.0")
    state.outputs["secret"] = OutputState(value=keyed_digest({"k": [1, 2]}, state.digest_key), sensitive=True)
    return state


def test_new_state_has_fresh_lineage_and_serial_zero() -> None:
    a, b = State.new("s"), State.new("s")
    assert a.serial == 0 and a.format_version == FORMAT_VERSION == 2
    assert len(a.digest_key) == 64 and a.digest_key != b.digest_key  # a key per lineage
    assert a.lineage != b.lineage
    assert uuid.UUID(a.lineage).version == 4
    assert (a.resources, a.data, a.outputs) == ({}, {}, {})


def test_round_trip_through_dict_and_json() -> None:
    state = sample_state()
    assert State.from_dict(state.to_dict()) == state
    assert State.from_json(state.to_json()) == state
    assert json.loads(state.to_json()) == state.to_dict()


def test_json_is_stable_and_sorted() -> None:
    state = sample_state()
    text = state.to_json()
    assert text == State.from_json(text).to_json()
    assert text.endswith("\n")
    assert list(json.loads(text)["resources"]) == ['aws_fleet.web["eu"]', "aws_launch_template.web"]
    assert list(json.loads(text)) == sorted(json.loads(text))


def test_to_dict_does_not_share_mutable_values() -> None:
    state = sample_state()
    out = state.to_dict()
    out["resources"]["aws_launch_template.web"]["attributes"]["image_id"] = "changed"
    assert state.resources["aws_launch_template.web"].attributes["image_id"] == "ami-0c3d"


def test_values_that_are_not_json_are_refused_on_write() -> None:
    state = State.new("s")
    state.data["data.aws_ami.app"] = {"created": object()}
    with pytest.raises(StateError, match="cannot be written as JSON"):
        state.to_json()


def _base() -> dict[str, Any]:
    return sample_state().to_dict()


def _without(key: str) -> dict[str, Any]:
    d = _base()
    del d[key]
    return d


def _with(path: list[str], value: Any) -> dict[str, Any]:
    d = _base()
    target = d
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return d


DAMAGED: list[tuple[str, Any, str]] = [
    ("not an object", [1, 2], "the top level must be an object, not a list"),
    ("missing lineage", _without("lineage"), "missing lineage"),
    ("missing serial", _without("serial"), "missing serial"),
    ("missing stack", _without("stack"), "missing stack"),
    ("missing format_version", _without("format_version"), "missing format_version"),
    ("serial as text", _with(["serial"], "7"), "serial must be an integer, not a string"),
    ("serial as bool", _with(["serial"], True), "serial must be an integer, not a boolean"),
    ("negative serial", _with(["serial"], -1), "serial must not be negative"),
    ("empty lineage", _with(["lineage"], ""), "lineage is empty"),
    ("format 0", _with(["format_version"], 0), "invalid format_version 0"),
    ("resources a list", _with(["resources"], []), "resources must be an object, not a list"),
    (
        "resource without id",
        _with(["resources", "aws_launch_template.web", "id"], None),
        "resources['aws_launch_template.web'].id must be a string, not null",
    ),
    (
        "address mismatch",
        _with(["resources", "aws_launch_template.web", "address"], "aws_fleet.other"),
        "does not match its key",
    ),
    ("bad address key", _with(["resources", "not an address"], {}), "not a resource address"),
    (
        "dependencies not strings",
        _with(["resources", "aws_launch_template.web", "dependencies"], [1]),
        "dependencies must be a list of addresses",
    ),
    (
        "rollout a list",
        _with(["resources", 'aws_fleet.web["eu"]', "rollout"], [1]),
        "rollout must be an object",
    ),
    ("data item a string", _with(["data", "data.aws_ami.app"], "ami-1"), "must be an object, not a string"),
    ("output without value", _with(["outputs", "x"], {"sensitive": False}), "outputs['x'] is missing value"),
    ("output sensitive text", _with(["outputs", "x"], {"value": 1, "sensitive": "yes"}), "sensitive must be"),
    ("bake a list", _with(["bake"], [1]), "bake must be an object, not a list"),
]


@pytest.mark.parametrize(("case", "raw", "message"), DAMAGED, ids=[c[0] for c in DAMAGED])
def test_damaged_shape_is_refused_with_a_clear_message(case: str, raw: Any, message: str) -> None:
    with pytest.raises(StateError) as err:
        State.from_dict(raw, source="state file .reconciler/state.json")
    assert str(err.value).startswith("state file .reconciler/state.json")
    assert message in str(err.value)


def test_invalid_json_names_source_and_line() -> None:
    text = '{\n  "format_version": 1,\n  "lineage": oops\n}'
    with pytest.raises(StateError, match=r"^state file x\.json is not valid JSON \(line 3\): "):
        State.from_json(text, source="state file x.json")


def test_newer_format_version_is_refused() -> None:
    raw = _with(["format_version"], FORMAT_VERSION + 1)
    with pytest.raises(StateError, match="format_version 3, but this reconciler supports up to 2"):
        State.from_dict(raw)


def test_state_of_another_stack_is_refused_naming_both() -> None:
    raw = _base()  # stack "web-prod"
    with pytest.raises(StateError) as err:
        State.from_dict(raw, expected_stack="web-staging")
    assert '"web-prod"' in str(err.value) and '"web-staging"' in str(err.value)
    assert State.from_dict(raw, expected_stack="web-prod").stack == "web-prod"


def test_optional_sections_default_to_empty() -> None:
    raw = {"format_version": 1, "lineage": "l", "serial": 0, "stack": "s"}
    state = State.from_dict(raw)
    assert (state.resources, state.data, state.outputs) == ({}, {}, {})
    assert state.bake is None  # an older state: no bake between waves in progress


def test_a_bake_in_progress_is_an_optional_section_kept_as_written() -> None:
    state = sample_state()
    assert "bake" not in state.to_dict()  # no bake: the layout older versions wrote and read
    state.bake = {"wave": 1, "ends_at": "2026-01-01T00:10:00.000000Z", "fleets": []}
    assert state.to_dict()["bake"] == state.bake
    back = State.from_json(state.to_json())
    assert back == state and back.format_version == FORMAT_VERSION == 2  # no format change


SECRET = "hunter2-in-state"


def test_sensitive_values_are_written_only_as_keyed_digests() -> None:
    state = State.new("s")
    state.outputs["password"] = OutputState(value=SECRET, sensitive=True)  # as a caller might
    state.resources["aws_launch_template.web"] = ResourceState(
        address="aws_launch_template.web",
        type="aws_launch_template",
        provider="aws",
        id="lt-1",
        attributes={"user_data": mark(SECRET), "tags": {"Token": keyed_digest(SECRET, state.digest_key)}},
    )
    text = state.to_json()
    assert SECRET not in text and (sensitive_digest(SECRET) or "")[7:] not in text
    back = State.from_json(text)
    digest = keyed_digest(SECRET, state.digest_key)
    assert back.digest_key == state.digest_key and back.outputs["password"].value == digest
    attributes = back.resources["aws_launch_template.web"].attributes
    assert attributes == {"user_data": digest, "tags": {"Token": digest}}
    password = json.loads(text)["outputs"]["password"]
    assert password == {"value": {"__sensitive__": digest.text}, "sensitive": True}


def test_state_written_by_an_older_version_is_migrated_when_read() -> None:
    """Format 1: no key, sensitive outputs in clear, `sha256:` strings for sensitive arguments."""
    old = {
        "format_version": 1,
        "lineage": "l-1",
        "serial": 3,
        "stack": "s",
        "resources": {
            "aws_launch_template.web": {
                "address": "aws_launch_template.web",
                "type": "aws_launch_template",
                "provider": "aws",
                "id": "lt-1",
                "attributes": {"user_data": sensitive_digest("#!/bin/sh"), "name": "web"},
            }
        },
        "outputs": {"password": {"value": SECRET, "sensitive": True}, "ami": {"value": "ami-1"}},
    }
    state = State.from_dict(old)
    assert len(state.digest_key) == 64 and state.format_version == 1
    assert state.outputs["password"].value == keyed_digest(SECRET, state.digest_key)
    assert state.outputs["ami"].value == "ami-1"
    legacy = Digest(sensitive_digest("#!/bin/sh") or "")  # read as a digest; keyed once a refresh confirms it
    assert state.resources["aws_launch_template.web"].attributes["user_data"] == legacy
    written = json.loads(state.to_json())
    assert written["format_version"] == 2 and SECRET not in state.to_json()
