"""Config tests validate against the fake schemas of fake_schemas.py, not the AWS provider."""

from __future__ import annotations

import pytest

from reconciler.sdk import registry
from tests.config.fake_schemas import SCHEMAS


@pytest.fixture(autouse=True)
def fake_schemas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "all_schemas", lambda: dict(SCHEMAS))
