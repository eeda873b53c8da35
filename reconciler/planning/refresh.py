"""Refresh: read every resource that state knows from the cloud, batched by type, in parallel,
and describe what changed outside reconciler (drift). Each read is given what state recorded
(`RefreshRequest.known`), so a provider need not read again what cannot have changed.

Drift comes in three kinds (`DRIFT_*`): an object deleted, its attributes changed (a group resized
by hand, a template's default version moved), or its ownership tags removed or changed. The last
is only reported: the plan never re-tags an object by itself, and the planner refuses to change an
object whose `reconciler:stack` tag is not this stack's. What the cloud reports comes back with
the schema's sensitive attributes marked (values.Sensitive); drift compares it concealed where
state holds a digest, so a drift entry never holds a secret. Callers: planning.planner, cli
(refresh-only apply), recovery.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from reconciler.address import Address, Mode
from reconciler.errors import StateError
from reconciler.planning.decide import diff_attributes
from reconciler.planning.model import AttributeDiff, DriftEntry, DriftKind
from reconciler.rollout.record import read_record
from reconciler.sdk import (
    OWNER_ADDRESS_TAG,
    OWNER_STACK_TAG,
    ObservedResource,
    Ownership,
    Provider,
    RefreshRequest,
)
from reconciler.sdk.registry import all_schemas
from reconciler.sensitive import conceal_like, digest_paths, holds_legacy, mark_schema
from reconciler.state import State

Observed = dict[str, ObservedResource | None]

DRIFT_DELETED, DRIFT_UPDATED, DRIFT_OWNERSHIP = DriftKind.DELETED, DriftKind.UPDATED, DriftKind.OWNERSHIP


def refresh_state(
    *, state: State, providers: Mapping[str, Provider], stack: str, parallelism: int = 10
) -> Observed:
    """Address text → what the cloud says now (None: it is gone). One batch per (provider, type)."""
    groups: dict[tuple[str, str], dict[str, Address]] = defaultdict(dict)
    known: dict[tuple[str, str], dict[str, Mapping[str, Any]]] = defaultdict(dict)
    for text, rs in state.resources.items():
        groups[(rs.provider, rs.type)][rs.id] = Address.parse(text)
        if not holds_legacy(rs.attributes):  # to be migrated: the cloud's value must be read
            known[(rs.provider, rs.type)][rs.id] = rs.attributes
    for key, _ in groups:
        if key not in providers:
            raise StateError(
                f'state has resources of provider "{key}", which the configuration no longer '
                f"declares; add the provider block back to manage or destroy them"
            )

    schemas = all_schemas()

    def read(item: tuple[tuple[str, str], dict[str, Address]]) -> Observed:
        (pkey, type_name), ids = item
        request = RefreshRequest(type_name=type_name, ids=ids, stack=stack, known=known[(pkey, type_name)])
        got = providers[pkey].refresh(request)
        schema = schemas.get((Mode.MANAGED, type_name))
        sensitive = schema.sensitive if schema else frozenset()
        return {str(ids[i]): marked_observation(got.get(i), sensitive) for i in ids}

    out: Observed = {}
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        for part in pool.map(read, list(groups.items())):
            out.update(part)
    return out


def marked_observation(obs: ObservedResource | None, sensitive: frozenset[str]) -> ObservedResource | None:
    """`obs` with the schema's sensitive attributes marked."""
    if obs is None or not sensitive:
        return obs
    return replace(obs, attributes=mark_schema(obs.attributes, sensitive))


def detect_drift(*, state: State, observed: Observed) -> list[DriftEntry]:
    """What differs between the last recorded state and the cloud now, resource by resource.

    An "updated" entry's `after` is what `apply --refresh-only` records: the cloud's attributes
    plus the config-only arguments (a fleet's rollout block) that only state holds.
    """
    schemas = all_schemas()
    entries: list[DriftEntry] = []
    for text, rs in sorted(state.resources.items()):
        addr = Address.parse(text)
        now = observed.get(text)
        record = read_record(rs.rollout, where=text)
        if now is not None and record is not None and record.unfinished:
            continue  # an interrupted rollout of ours moved it; the plan resumes that rollout
        if now is None:
            entries.append(DriftEntry(address=addr, kind=DRIFT_DELETED))
            continue
        schema = schemas.get((Mode.MANAGED, rs.type))
        names: list[str] = sorted(now.attributes)  # config-only arguments (rollout) are not read
        if schema is not None:  # a computed attribute state never held (a newer provider's) is no drift
            names = [n for n in names if n in rs.attributes or n not in schema.computed]
        sensitive = schema.sensitive if schema else frozenset()
        paths = [*digest_paths(rs.attributes), *((n,) for n in sensitive)]
        seen = conceal_like(now.attributes, paths, state.digest_key)
        diffs = diff_attributes(rs.attributes, seen, arguments=names, sensitive=sensitive)
        if diffs:
            kept = {k: v for k, v in rs.attributes.items() if k not in seen}
            after = {**kept, **seen}
            entries.append(DriftEntry(address=addr, kind=DRIFT_UPDATED, diffs=diffs, after=after))
        owner = ownership_diffs(now.ownership, stack=state.stack, address=text)
        if owner:
            entries.append(DriftEntry(address=addr, kind=DRIFT_OWNERSHIP, diffs=owner))
    return entries


def ownership_diffs(ownership: Ownership, *, stack: str, address: str) -> list[AttributeDiff]:
    """How an object's ownership tags differ from this stack and address (None: tag removed)."""
    diffs = []
    if ownership.stack != stack:
        diffs.append(AttributeDiff(path=f"tags.{OWNER_STACK_TAG}", before=stack, after=ownership.stack))
    if ownership.address != address:
        diffs.append(AttributeDiff(path=f"tags.{OWNER_ADDRESS_TAG}", before=address, after=ownership.address))
    return diffs


def observed_attributes(obs: ObservedResource | None) -> dict[str, Any] | None:
    return None if obs is None else dict(obs.attributes)
