"""What a provider distribution registers: a `ProviderPlugin` named by an entry point.

A provider package declares, in its own packaging metadata,

    [project.entry-points."reconciler.providers"]
    aws = "reconciler_aws.plugin:PLUGIN"

and the engine finds it through `reconciler.sdk.registry`; the engine never names a provider
package. `types` are static (importing them must not import a cloud SDK, so `validate` needs no
cloud); `connect` builds the live provider from an evaluated provider block and may import the
cloud SDK. Callers: sdk.registry (loads), provider packages (declare).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from reconciler.address import Mode
from reconciler.sdk import Provider, ProviderSettings, ResourceSchema

__all__ = ["ENTRY_POINT_GROUP", "ProviderPlugin"]

ENTRY_POINT_GROUP = "reconciler.providers"


@dataclass(frozen=True)
class ProviderPlugin:
    """One provider: its name (the provider block label and the type-name prefix), its resource
    and data-source types, and how to connect it."""

    name: str
    types: Mapping[tuple[Mode, str], ResourceSchema]
    connect: Callable[[ProviderSettings], Provider]
