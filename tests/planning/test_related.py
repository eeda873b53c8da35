"""planning.related.Values: what a type's hooks see of the other blocks, found by id."""

from __future__ import annotations

import threading

from reconciler.address import Address
from reconciler.planning.related import Values
from reconciler.values import UNKNOWN

TEMPLATES = Address("aws_launch_template", "app")
COPIES = Address("aws_ami_copy", "eu")
SINGLE = Address("aws_launch_template", "one")


def view() -> Values:
    return Values(
        {
            TEMPLATES: {"a": {"id": "lt-a", "default_version": 1}, "b": {"id": "lt-b", "default_version": 3}},
            COPIES: [{"id": "ami-1"}, {"id": UNKNOWN}],
            SINGLE: {"id": "lt-a", "default_version": 9},  # the same id again: the first one wins
        }
    )


def test_an_object_is_found_by_id_in_every_block_shape() -> None:
    values = view()
    found = values.find("lt-b")
    assert found is not None and found.type_name == "aws_launch_template"
    assert found.after == {"id": "lt-b", "default_version": 3}
    copy, first = values.find("ami-1"), values.find("lt-a")
    assert copy is not None and copy.type_name == "aws_ami_copy"
    assert first is not None and first.after == {"id": "lt-a", "default_version": 1}
    assert values.find("lt-missing") is None


def test_an_id_that_is_not_text_is_looked_for_as_before() -> None:
    found = view().find(UNKNOWN)
    assert found is not None and found.type_name == "aws_ami_copy"


def test_threads_sharing_one_view_all_find_what_is_there() -> None:
    values = view()
    results: list[object] = []

    def look() -> None:
        results.append(values.find("lt-b"))

    threads = [threading.Thread(target=look) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and all(r is not None for r in results)
