"""Fixtures for provider tests: a live AwsProvider pointed (through the environment) at moto."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler_aws.provider import AwsProvider
from reconciler_aws.settings import AwsSettings


@pytest.fixture
def provider(aws_env: str) -> AwsProvider:
    """A provider that finds the moto endpoint the way users' boto3 would: AWS_ENDPOINT_URL."""
    return AwsProvider(AwsSettings(region="us-east-1", default_tags={"Team": "web"}))


@pytest.fixture
def ec2(boto: Any) -> Any:
    return boto("ec2")
