"""Refresh: read every resource that state knows from the cloud, batched by type, in parallel,
and describe what changed outside reconciler (drift).

Callers: planning.planner, cli (refresh-only apply).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from providers.base import ObservedResource, Provider, RefreshRequest
from providers.registry import all_schemas
from reconciler.address import Address, Mode
from reconciler.errors import StateError
from reconciler.planning.decide import diff_attributes
from reconciler.planning.model import DriftEntry
from reconciler.state import State

Observed = dict[str, ObservedResource | None]


def refresh_state(
    *, state: State, providers: Mapping[str, Provider], stack: str, parallelism: int = 10
) -> Observed:
    """Address text → what the cloud says now (None: it is gone). One batch per (provider, type)."""
    groups: dict[tuple[str, str], dict[str, Address]] = defaultdict(dict)
    for text, rs in state.resources.items():
        groups[(rs.provider, rs.type)][rs.id] = Address.parse(text)
    for key, _ in groups:
        if key not in providers:
            raise StateError(
                f'state has resources of provider "{key}", which the configuration no longer '
                f"declares; add the provider block back to manage or destroy them"
            )

    def read(item: tuple[tuple[str, str], dict[str, Address]]) -> Observed:
        (pkey, type_name), ids = item
        got = providers[pkey].refresh(RefreshRequest(type_name=type_name, ids=ids, stack=stack))
        return {str(ids[i]): got.get(i) for i in ids}

    out: Observed = {}
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        for part in pool.map(read, list(groups.items())):
            out.update(part)
    return out


def detect_drift(*, state: State, observed: Observed) -> list[DriftEntry]:
    """What differs between the last recorded state and the cloud now, resource by resource."""
    schemas = all_schemas()
    entries: list[DriftEntry] = []
    for text, rs in sorted(state.resources.items()):
        addr = Address.parse(text)
        now = observed.get(text)
        if now is None:
            entries.append(DriftEntry(address=addr, kind="deleted"))
            continue
        schema = schemas.get((Mode.MANAGED, rs.type))
        names: list[str] = sorted(now.attributes)  # config-only arguments (rollout) are not read
        sensitive = schema.sensitive if schema else frozenset()
        diffs = diff_attributes(rs.attributes, now.attributes, arguments=names, sensitive=sensitive)
        if diffs:
            entries.append(DriftEntry(address=addr, kind="updated", diffs=diffs, after=dict(now.attributes)))
    return entries


def observed_attributes(obs: ObservedResource | None) -> dict[str, Any] | None:
    return None if obs is None else dict(obs.attributes)
