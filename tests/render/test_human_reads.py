"""The human plan's lines for data source reads: one line per block when every instance found the
same thing for the same reason (a stack of 1,000 fleets reads one image 1,000 times), one line per
instance as soon as any instance differs, so a reviewer sees every difference."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from reconciler.address import Address, Mode
from reconciler.planning.model import DataRead, Plan
from reconciler.render.human import render_plan

OLD = {"id": "ami-0old", "name": "app-1.4.2", "creation_date": "2026-11-20"}
NEW = {"id": "ami-0new", "name": "app-1.5.0", "creation_date": "2026-11-22"}


def read(
    key: str, attrs: dict[str, Any], *, previous: dict[str, Any] | None = None, why: str = ""
) -> DataRead:
    return DataRead(
        address=Address("aws_ami", "app", key, Mode.DATA),
        type_name="aws_ami",
        attributes=attrs,
        previous=previous,
        explanation=why or "newest of 2 images named app-*",
    )


def rendered(*reads: DataRead) -> list[str]:
    console = Console(record=True, width=200)
    render_plan(Plan(stack="s", lineage="l", serial=1, data=list(reads)), console)
    return [line for line in console.export_text().splitlines() if line.strip()]


def test_instances_that_found_the_same_image_are_one_line_with_their_number() -> None:
    lines = rendered(*(read(k, NEW, previous=NEW) for k in ("a", "b", "c")))
    assert lines[0] == 'data.aws_ami.app[*] (3 instances): app-1.5.0 (ami-0new, 2026-11-22)'
    assert lines[1] == "  newest of 2 images named app-*"
    assert not any('["a"]' in line for line in lines)


def test_the_same_change_of_image_everywhere_is_one_line_old_to_new() -> None:
    lines = rendered(read("a", NEW, previous=OLD), read("b", NEW, previous=OLD))
    assert lines[0] == (
        "data.aws_ami.app[*] (2 instances): app-1.4.2 (ami-0old, 2026-11-20)"
        " → app-1.5.0 (ami-0new, 2026-11-22)"
    )


def test_one_instance_that_differs_lists_every_instance() -> None:
    lines = rendered(read("a", NEW, previous=OLD), read("b", OLD, previous=OLD), read("c", NEW, previous=OLD))
    assert [line.split(":")[0] for line in lines if not line.startswith(" ")][:3] == [
        'data.aws_ami.app["a"]',
        'data.aws_ami.app["b"]',
        'data.aws_ami.app["c"]',
    ]


def test_a_different_reason_is_a_difference_too() -> None:
    lines = rendered(read("a", NEW, why="newest of 2 images"), read("b", NEW, why="the only image"))
    assert sum(1 for line in lines if line.startswith("data.")) == 2


def test_a_single_instance_keeps_its_own_address() -> None:
    assert rendered(read("only", NEW))[0].startswith('data.aws_ami.app["only"]: app-1.5.0')
