"""Fixtures of the fault suites: the fault proxy in front of the session's moto server.

`fault_proxy` is one proxy for the whole session (like the moto server), put back to "no faults"
before each test; `via_proxy` points the process environment (and so the in-process CLI) at it.
Checks of what a run left behind are made directly on moto with `boto` (tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.proxy import FaultProxy


@pytest.fixture(scope="session")
def _session_proxy(moto_endpoint: str) -> Iterator[FaultProxy]:
    upstream = int(moto_endpoint.rsplit(":", 1)[1])
    with FaultProxy(upstream_port=upstream) as proxy:
        yield proxy


@pytest.fixture
def fault_proxy(_session_proxy: FaultProxy, aws_env: str) -> Iterator[FaultProxy]:
    _session_proxy.configure()
    _session_proxy.seed = 0
    yield _session_proxy
    _session_proxy.configure()


@pytest.fixture
def via_proxy(fault_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch) -> FaultProxy:
    """The CLI run in this process talks to the proxy; `boto` still talks to moto directly."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", fault_proxy.url)
    monkeypatch.setenv("RECONCILER_ROLLOUT_POLL", "0.05")
    return fault_proxy
