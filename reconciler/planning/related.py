"""What a type's hooks may see of the rest of the plan (reconciler.sdk.Related): objects by id.

Two views with one shape: `Changes` over the planned changes (before and after, as the reviewer
sees them), and `Values` over the evaluated resource values the walk has so far (planned values
while planning, what the cloud reported while applying). Pure. Callers: planning.planner and
applying.executor (ResourceSchema.complete), planning.fleets (FleetType.releases).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from reconciler.address import Address
from reconciler.planning.model import ResourceChange
from reconciler.sdk import PlannedObject

__all__ = ["Changes", "Values", "iter_instances"]


def iter_instances(value: Any) -> Iterator[Mapping[str, Any]]:
    """Every instance value of a block value (single, count list or for_each map)."""
    if isinstance(value, dict) and "id" in value:
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from iter_instances(v)
    elif isinstance(value, list):
        for v in value:
            yield from iter_instances(v)


class Changes:
    """The plan's changes: an object is found by the id it has after the change, or had before."""

    def __init__(self, changes: Iterable[ResourceChange]) -> None:
        self.changes = list(changes)

    def find(self, object_id: Any) -> PlannedObject | None:
        for c in self.changes:
            if (c.after or {}).get("id") == object_id or (c.before or {}).get("id") == object_id:
                return PlannedObject(type_name=c.type_name, before=c.before, after=c.after)
        return None

    def objects(self) -> Iterator[PlannedObject]:
        for c in self.changes:
            yield PlannedObject(type_name=c.type_name, before=c.before, after=c.after, address=str(c.address))


class Values:
    """Resource values by block address: an object is found by its id."""

    def __init__(self, resources: Mapping[Address, Any]) -> None:
        self.resources = dict(resources)
        self._by_id: dict[Any, PlannedObject] | None = None  # built on the first find

    def find(self, object_id: Any) -> PlannedObject | None:
        """The first instance with this id (in block order), found through an index built once, so
        a block whose every instance looks up another block costs O(n), not O(n²)."""
        index = self._by_id
        if index is None:  # built whole, then published: threads sharing the view never see half
            index = {}
            for address, value in self.resources.items():
                for inst in iter_instances(value):
                    key = inst.get("id")
                    if isinstance(key, str) and key not in index:
                        index[key] = PlannedObject(type_name=address.type, before=None, after=inst)
            self._by_id = index
        if isinstance(object_id, str):
            return index.get(object_id)
        for address, value in self.resources.items():  # not a text id (unknown, say): look through
            for inst in iter_instances(value):
                if inst.get("id") == object_id:
                    return PlannedObject(type_name=address.type, before=None, after=inst)
        return None

    def objects(self) -> Iterator[PlannedObject]:
        for address, value in self.resources.items():
            for inst in iter_instances(value):
                yield PlannedObject(type_name=address.type, before=None, after=inst, address=str(address))
