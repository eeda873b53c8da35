"""How the objects a plan names read to a reviewer: object id → Label.

From the data sources the plan read (each type's `label` hook, previous and current results)
and from the releases of a fleet's last recorded rollout (image names it showed then). No extra
cloud calls. Callers: planning.fleets (image names of releases).
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.planning.model import DataRead
from reconciler.rollout.record import RolloutRecord
from reconciler.sdk import Label, Mode
from reconciler.sdk.registry import all_schemas

__all__ = ["labels_of_reads", "labels_of_record"]


def labels_of_reads(reads: Iterable[DataRead]) -> dict[str, Label]:
    """Object id → Label of every lookup result (old and new) whose type labels its results."""
    out: dict[str, Label] = {}
    schemas = all_schemas()
    for read in reads:
        schema = schemas.get((Mode.DATA, read.type_name))
        if schema is None or schema.label is None:
            continue
        for attrs in (read.previous, read.attributes):
            label = schema.label(attrs) if attrs else None
            if label is not None:
                out[label.id] = label
    return out


def labels_of_record(record: RolloutRecord | None) -> dict[str, Label]:
    """Image id → name and version of the releases in a fleet's last recorded rollout (a release
    whose image was known only by id, or not at all, names nothing)."""
    out: dict[str, Label] = {}
    for rel in (record.plan.old, record.plan.new) if record is not None else ():
        if rel.image_id and rel.image_name and rel.image_name != rel.image_id:
            out[rel.image_id] = Label(id=rel.image_id, name=rel.image_name, version=rel.image_version)
    return out
