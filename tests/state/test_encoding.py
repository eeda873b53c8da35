"""The writer's state text is byte for byte `State.to_json()`, while encoding only what changed.

`FragmentCache` keeps each resource's and data source's JSON until the writer says it changed;
these tests hold it to the one thing it promises: after any sequence of the writer's edits the
file holds exactly what `to_json()` of the same state gives (the plain, uncached encoding)."""

from __future__ import annotations

import random
from pathlib import Path

from reconciler.state import LocalBackend, OutputState, ResourceState, State, StateWriter
from reconciler.state.encoding import FragmentCache
from reconciler.values import mark

SECRET = "hunter2-do-not-print"


def resource(address: str, n: int) -> ResourceState:
    return ResourceState(
        address=address,
        type="aws_fleet",
        provider="aws",
        id=f"g-{n}",
        attributes={
            "name": f"bench-{n}",
            "desired_capacity": n % 5,
            "tags": {"Team": "é-ünïcode ✓", "Token": mark(SECRET)} if n % 3 == 0 else {},
            "zones": ["us-east-1a", "us-east-1b"][: n % 3],
            "ratio": n / 7,
            "nothing": None,
        },
        dependencies=[f'aws_launch_template.app["{n}"]'],
    )


def test_the_text_of_every_kind_of_entry_is_exactly_to_json() -> None:
    state = State.new("s")
    cache = FragmentCache()
    assert cache.text(state) == state.to_json()  # empty sections: {}
    for n, address in enumerate(['aws_fleet.app["f0"]', 'aws_fleet.app["ü ✓"]', "aws_fleet.b", 'a["\\"q"]']):
        state.resources[address] = resource(address, n)
    state.data['data.aws_ami.app["f0"]'] = {
        "id": "ami-1",
        "tags": {"Version": "1.0.0"},
        "secret": mark(SECRET),
    }
    state.outputs["out"] = OutputState(value={"a": [1, 2]})
    state.outputs["hidden"] = OutputState(value=SECRET, sensitive=True)
    state.resources['aws_fleet.app["f0"]'].rollout = {"phase": "in_progress", "steps": [{"n": 1}]}
    state.bake = {"wave": 1, "fleets": []}
    text = cache.text(state)
    assert text == state.to_json()
    assert SECRET not in text


def test_an_entry_replaced_without_a_touch_is_still_encoded_again() -> None:
    state = State.new("s")
    state.resources["a.b"] = resource("a.b", 1)
    cache = FragmentCache()
    cache.text(state)
    state.resources["a.b"] = resource("a.b", 2)  # a new object: the cache sees it is not the one it encoded
    assert cache.text(state) == state.to_json()


def test_random_writer_edits_leave_exactly_to_json_in_the_file(tmp_path: Path) -> None:
    rng = random.Random(20261130)
    backend = LocalBackend(tmp_path / "state.json", stack="s")
    writer = StateWriter(backend, State.new("s"))
    addresses = [f'aws_fleet.app["f{i}"]' for i in range(12)]
    for step in range(300):
        address = rng.choice(addresses)
        kind = rng.randrange(7)
        current = writer.snapshot()
        if kind == 0:
            writer.set_resource(resource(address, step))
        elif kind == 1:
            writer.remove_resource(address)
        elif kind == 2:
            writer.set_data(f"data.{address}", {"id": f"ami-{step}", "n": step})
        elif kind == 3 and address in current.resources:
            writer.record_rollouts({address: {"phase": "step", "n": step} if step % 2 else None})
        elif kind == 4 and address in current.resources:
            writer.set_bake({"wave": step}, rollouts={address: {"phase": "complete"}})
        elif kind == 5:
            writer.set_resources([resource(a, step) for a in rng.sample(addresses, 3)])
        else:
            writer.set_outputs({"o": OutputState(value=step, sensitive=step % 2 == 0)})
        on_disk = (tmp_path / "state.json").read_text(encoding="utf-8")
        assert on_disk == writer.snapshot().to_json(), f"step {step} (edit {kind} of {address})"
