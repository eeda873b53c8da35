"""What a provider distribution registers: a `ProviderPlugin` named by an entry point.

A provider package declares, in its own packaging metadata,

    [project.entry-points."reconciler.providers"]
    aws = "reconciler_aws.plugin:PLUGIN"

and the engine finds it through `reconciler.sdk.registry`; the engine never names a provider
package. `types` are static (importing them must not import a cloud SDK, so `validate` needs no
cloud); `connect` builds the live provider from an evaluated provider block and may import the
cloud SDK; `sandbox`, when given, runs a local emulator for `reconciler sandbox`.
Callers: sdk.registry (loads), provider packages (declare).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from reconciler.address import Mode
from reconciler.sdk import Provider, ProviderSettings, ResourceSchema

__all__ = ["ENTRY_POINT_GROUP", "ProviderPlugin", "SandboxServer", "SandboxSupport"]

ENTRY_POINT_GROUP = "reconciler.providers"


class Configure(Protocol):
    def __call__(self, *, alias: str | None, values: Mapping[str, Any]) -> ProviderSettings: ...


@dataclass(frozen=True)
class SandboxServer:
    """How to run the provider's local emulator on a loopback port: the command and extra
    environment variables."""

    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)


class SandboxSupport(Protocol):
    """A provider's local emulator for `reconciler sandbox`. Both raise SandboxError with what
    to do when they cannot (the emulator is not installed, an image of that name exists)."""

    def server(self, *, port: int) -> SandboxServer: ...

    def bake(self, *, endpoint: str, name: str, version: str, tags: Mapping[str, str]) -> str:
        """Register image `NAME-VERSION` tagged with `tags`, as a release pipeline would; its id."""
        ...


@dataclass(frozen=True)
class ProviderPlugin:
    """One provider: its name (the provider block label and the type-name prefix), its resource
    and data-source types, and how to connect it."""

    name: str
    types: Mapping[tuple[Mode, str], ResourceSchema]
    connect: Callable[[ProviderSettings], Provider]
    arguments: tuple[str, ...]  # of the provider block, beside the engine's `alias`
    configure: Configure  # (alias, evaluated arguments) -> the provider's settings
    sandbox: SandboxSupport | None = None  # `reconciler sandbox`: a local emulator of this cloud
    # Its source address in Terraform's registry, for the JSON plan's provider names
    # (`registry.terraform.io/hashicorp/aws`): policies match on it.
    terraform_source: str | None = None
