"""The AWS provider and the S3 state backend as the engine finds them (entry points in
pyproject.toml: `reconciler.providers` → PLUGIN, `reconciler.backends` → S3_BACKEND).

Importing this module imports the static type schemas only; boto3 is imported when a provider is
connected or an S3 backend opened. Callers: reconciler.sdk.registry (through the entry points).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.sdk import Provider, ProviderSettings
from reconciler.sdk.backend import Backend, BackendPlugin
from reconciler.sdk.plugin import ProviderPlugin
from reconciler_aws import SCHEMAS
from reconciler_aws.sandbox import SANDBOX
from reconciler_aws.settings import ARGUMENTS, S3_BACKEND_SETTINGS, aws_settings, configure

__all__ = ["PLUGIN", "S3_BACKEND"]


def _connect(settings: ProviderSettings) -> Provider:
    from reconciler_aws.provider import AwsProvider

    return AwsProvider(aws_settings(settings))


def _open_s3(config: Mapping[str, Any], *, stack_dir: Path, stack: str | None) -> Backend:
    from reconciler_aws.state_backend import S3Backend  # boto3 only when S3 is used

    return S3Backend.from_config(config, stack=stack)


PLUGIN = ProviderPlugin(
    name="aws",
    types=SCHEMAS,
    connect=_connect,
    arguments=ARGUMENTS,
    configure=configure,
    sandbox=SANDBOX,
    terraform_source="registry.terraform.io/hashicorp/aws",
)
S3_BACKEND = BackendPlugin(name="s3", settings=S3_BACKEND_SETTINGS, open=_open_s3)
