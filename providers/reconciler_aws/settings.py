"""The `provider "aws" { ... }` block: `AwsSettings`, what every AWS call is made with.

Arguments: region, profile, endpoint_url (else AWS_ENDPOINT_URL), default_tags (added to every
taggable object); `alias` is the engine's. Names of cloud objects are unique per region, profile
and endpoint (`scope`). Callers: reconciler_aws.plugin (configure), clients, the type modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.sdk import ProviderSettings

__all__ = ["ARGUMENTS", "S3_BACKEND_SETTINGS", "AwsSettings", "aws_settings", "configure"]

ARGUMENTS = ("region", "profile", "endpoint_url", "default_tags")
S3_BACKEND_SETTINGS = ("bucket", "key", "region", "lock_table", "encrypt", "endpoint_url", "profile")


@dataclass(frozen=True)
class AwsSettings(ProviderSettings):
    name: str = "aws"
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    default_tags: Mapping[str, str] = field(default_factory=dict)

    def scope(self) -> str | None:
        if not isinstance(self.region, str) or not self.region:
            return None
        parts = [f"region {self.region}"]
        parts += [f"profile {self.profile}"] if self.profile else []
        parts += [f"endpoint {self.endpoint_url}"] if self.endpoint_url else []
        return ", ".join(parts)


def configure(*, alias: str | None, values: Mapping[str, Any]) -> AwsSettings:
    """The settings of one evaluated provider block (or of none: every argument unset)."""
    tags = values.get("default_tags") or {}
    return AwsSettings(
        alias=alias,
        region=values.get("region"),
        profile=values.get("profile"),
        endpoint_url=values.get("endpoint_url"),
        default_tags={str(k): str(v) for k, v in dict(tags).items()},
    )


def aws_settings(settings: ProviderSettings) -> AwsSettings:
    """`settings` as the AWS provider's own (the engine builds them through `configure`)."""
    if isinstance(settings, AwsSettings):
        return settings
    return configure(alias=settings.alias, values={})
