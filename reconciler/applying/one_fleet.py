"""`roll_out`: one planned rollout run (or resumed) through a rollout coordinator of its own, for
callers that have one fleet; an apply hands all its rollouts to one coordinator instead
(applying.rollouts). Callers: tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler.applying.coordinator import poll_seconds
from reconciler.applying.rollouts import RolloutCoordinator
from reconciler.errors import RolloutFailedError
from reconciler.planning.model import ResourceChange
from reconciler.rollout.report import RolloutEvent
from reconciler.sdk import FleetType, ObservedResource, Provider
from reconciler.state import ResourceState, StateWriter

__all__ = ["roll_out"]


def roll_out(
    *,
    change: ResourceChange,
    config: Mapping[str, Any],
    current: ResourceState,
    provider: Provider,
    writer: StateWriter,
    emit: Callable[[str, str], None],
    stack: str,
    fleet: FleetType,
    on_event: Callable[[str, RolloutEvent, str], None] | None = None,
) -> tuple[ObservedResource, RolloutFailedError | None]:
    """Run (or resume) one planned rollout through a rollout coordinator of its own; returns the
    fleet as the cloud reports it after, and the failure to raise once that is recorded (None when
    the rollout completed). An apply hands all its rollouts to one coordinator instead."""
    coordinator = RolloutCoordinator(
        waves={str(change.address): 1},
        writer=writer,
        stack=stack,
        emit=emit,
        on_event=on_event,
        poll_s=poll_seconds(),
    )
    coordinator.start()
    try:
        return coordinator.run(change=change, current=current, provider=provider, fleet=fleet, config=config)
    finally:
        coordinator.close()
