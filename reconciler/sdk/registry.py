"""Which providers exist: their static schemas (no cloud calls) and how to build a live one.

Callers: config validation (schemas, so `validate` needs no cloud), planning (make_provider).
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.address import Mode
from reconciler.sdk import Provider, ProviderSettings, ResourceSchema


def known_providers() -> tuple[str, ...]:
    return ("aws",)


def schemas_for(provider_name: str) -> Mapping[tuple[Mode, str], ResourceSchema]:
    if provider_name == "aws":
        from reconciler_aws import SCHEMAS

        return SCHEMAS
    return {}


def all_schemas() -> dict[tuple[Mode, str], ResourceSchema]:
    out: dict[tuple[Mode, str], ResourceSchema] = {}
    for name in known_providers():
        out.update(schemas_for(name))
    return out


def make_provider(settings: ProviderSettings) -> Provider:
    if settings.name == "aws":
        from reconciler_aws.provider import AwsProvider

        return AwsProvider(settings)
    raise ValueError(f"unknown provider {settings.name!r}")
