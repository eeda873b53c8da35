"""The bake between waves at the apply's edge: the marker a starting bake records, the baked
fleets an interrupted bake watches again, and their state after they were turned back.

The rollout coordinator (applying.rollouts) records the bake in state through its `BakeKeeper`
when it starts (`bake_marker`, in the same write as the wave's last progress) and clears it when
the bake ends or halts (rollout.bake is the record and its decisions); `record_baked` records the
wave's fleets as the cloud reports them as the bake starts, so state matches the cloud while it
runs (the executor records them again when the wave is over). When the plan carries
a bake an interrupted apply left (`WavePlan.hold`), the coordinator finishes it before the held
wave: `baked_jobs` gives it the baked wave's fleets again (their rollout records in state, their
provider's FleetOps), already admitted and complete, so the bake watches their own alarms and an
alarm turns them back exactly as during the original bake; `settle_resumed` then records each
fleet turned back as the cloud reports it (`record_turned_back`, as apply records a fleet whose
rollout failed) and words the baked wave's outcome. A baked fleet that is gone from state or whose
provider cannot run rollouts is left out, with a line saying so; one this plan rolls out again is
left to its new rollout. Callers: applying.rollouts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set
from typing import Any

from reconciler.address import Address, Mode
from reconciler.applying.fleet_io import read_back_state
from reconciler.applying.rollout_jobs import Job, fleet_result
from reconciler.errors import CloudError, RolloutFailedError
from reconciler.planning.model import Action, ResourceChange
from reconciler.rollout.bake import BakedFleet, BakeHold, BakeMarker
from reconciler.rollout.machine import FleetMachine
from reconciler.rollout.progress import Phase
from reconciler.rollout.record import read_record
from reconciler.rollout.waves import WaveOutcome, WaveRules, wave_outcome
from reconciler.sdk import ObservedResource, Provider
from reconciler.sdk.fleet import FleetWorld
from reconciler.sdk.registry import all_schemas
from reconciler.sdk.rollout_block import format_duration
from reconciler.state import StateWriter

__all__ = [
    "BakeKeeper",
    "bake_marker",
    "baked_jobs",
    "record_baked",
    "record_turned_back",
    "recorded_rules",
    "resumed_text",
    "settle_resumed",
    "turned_back",
]


def bake_marker(number: int, jobs: Sequence[Job], *, rules: WaveRules, now: float) -> BakeMarker:
    """The bake after wave `number` starting now, with every fleet of the wave that rolled."""
    return BakeMarker(
        wave=number,
        started_at=now,
        ends_at=now + rules.bake_s,
        bake_s=rules.bake_s,
        alarms=tuple(rules.alarms),
        alarm_provider=rules.provider,
        fleets=tuple(
            BakedFleet(
                address=j.address,
                provider=j.provider,
                type_name=j.change.type_name,
                launch_template_version=j.machine.plan.new.launch_template_version,
                image_id=j.machine.plan.new.image_id,
                alarms=tuple(j.machine.alarms()),
            )
            for j in jobs
            if j.admitted
        ),
    )


class BakeKeeper:
    """The coordinator's bake in state: recorded when it starts (with the wave's last progress
    when it can: `record_with`, then `take` by the progress write), cleared when it ends or halts
    (with the halt's progress), left recorded when the apply stops during it."""

    def __init__(self, *, writer: StateWriter, clock: Callable[[], float]) -> None:
        self.writer, self.clock = writer, clock
        self.marker: BakeMarker | None = None  # the bake recorded in state now
        self._update: tuple[dict[str, Any] | None] | None = None  # rides on the next progress write

    def recorded(self, number: int) -> bool:
        return self.marker is not None and self.marker.wave == number

    def record_with(self, number: int, jobs: Sequence[Job], *, rules: WaveRules) -> None:
        """Wave `number` just completed: its bake rides on the write of its last progress."""
        self.marker = bake_marker(number, jobs, rules=rules, now=self.clock())
        self._update = (self.marker.to_dict(),)

    def started(self, number: int, jobs: Sequence[Job], *, rules: WaveRules) -> float:
        """The end of the bake after wave `number`, recorded now unless it already is."""
        if not self.recorded(number):
            self.marker = bake_marker(number, jobs, rules=rules, now=self.clock())
            self.writer.set_bake(self.marker.to_dict())
        assert self.marker is not None
        return self.marker.ends_at

    def resumed(self, marker: BakeMarker) -> None:
        self.marker = marker

    def halted(self, number: int) -> None:
        """Wave `number` halted: a bake after it is cleared with the turn-back's progress."""
        if self.recorded(number):
            self.marker, self._update = None, (None,)

    def ended(self) -> None:
        self.marker, self._update = None, None
        self.writer.set_bake(None)

    def take(self) -> tuple[dict[str, Any] | None] | None:
        """What the next progress write records of the bake ((None,): clear it; None: nothing)."""
        update, self._update = self._update, None
        return update


def recorded_rules(marker: BakeMarker) -> WaveRules:
    """The rules the interrupted bake watched: its recorded length, wave alarms and their provider."""
    return WaveRules(bake_s=marker.bake_s, alarms=marker.alarms, provider=marker.alarm_provider)


def resumed_text(hold: BakeHold, *, left: float) -> str:
    watching = ", ".join(hold.marker.alarms)
    alarms = f"alarms {watching} and each fleet's own" if watching else "each fleet's own alarms"
    return (
        f"bake resumed after an interrupted apply: {format_duration(int(left + 0.999))} left, "
        f"watching {alarms}; wave {hold.before} starts after it"
    )


def baked_jobs(
    marker: BakeMarker,
    *,
    writer: StateWriter,
    providers: Mapping[str, Provider],
    emit: Callable[[str, str], None],
    skip: Set[str] = frozenset(),
) -> list[Job]:
    """The baked wave's fleets as admitted, complete jobs of the coordinator (see the docstring);
    those in `skip` (rolled out again by this apply) are left out."""
    jobs = []
    schemas = all_schemas()
    for fleet in marker.fleets:
        if fleet.address in skip:
            continue
        current = writer.resource(fleet.address)
        record = read_record(current.rollout, where=fleet.address) if current is not None else None
        provider = providers.get(fleet.provider)
        schema = schemas.get((Mode.MANAGED, fleet.type_name))
        fleet_type = schema.fleet if schema is not None else None
        if current is None or record is None or provider is None or fleet_type is None:
            emit(fleet.address, "not watched during the resumed bake: no longer in state or no rollouts")
            continue
        ops = provider.fleet_ops() if hasattr(provider, "fleet_ops") else None
        if ops is None:
            emit(fleet.address, f"not watched during the resumed bake: {fleet.provider} cannot run rollouts")
            continue
        machine = FleetMachine(
            address=fleet.address,
            provider=fleet.provider,
            wave=marker.wave,
            plan=record.plan,
            progress=record.progress,
            auto_rollback=record.plan.auto_rollback,
        )
        change = ResourceChange(
            address=Address.parse(fleet.address),
            action=Action.NOOP,
            type_name=fleet.type_name,
            provider=fleet.provider,
        )
        jobs.append(
            Job(
                fleet.address,
                change,
                current,
                fleet.provider,
                ops,
                provider,
                fleet_type,
                machine,
                new=False,
                admitted=True,
            )
        )
    return jobs


def turned_back(job: Job) -> bool:
    return job.machine.progress.phase is not Phase.COMPLETE


def record_baked(
    jobs: Sequence[Job], reads: Mapping[str, ObservedResource | CloudError], *, writer: StateWriter
) -> None:
    """The fleets of a wave whose bake starts, recorded as the cloud reports them (one write), so
    state matches the cloud during the bake: an apply killed then leaves the next plan no false
    "changed outside reconciler". The executor records them again when the wave is over."""
    recorded = []
    for job in jobs:
        read = reads.get(job.address)
        if isinstance(read, ObservedResource):
            current = writer.resource(job.address) or job.current
            recorded.append(read_back_state(current, read, key=writer.key))
    if recorded:
        writer.set_resources(recorded)


def record_turned_back(job: Job, read: ObservedResource, *, writer: StateWriter) -> None:
    """State of a baked fleet after it was turned back (applying.fleet_io.read_back_state)."""
    current = writer.resource(job.address) or job.current
    writer.set_resource(read_back_state(current, read, key=writer.key))


def settle_resumed(
    number: int,
    jobs: Sequence[Job],
    *,
    worlds: Mapping[str, FleetWorld | CloudError],
    reads: Mapping[str, ObservedResource | CloudError],
    halted: WaveOutcome | None,
    writer: StateWriter,
    stack: str,
    emit: Callable[[str, str], None],
) -> WaveOutcome:
    """The end of a resumed bake: the baked fleets an alarm turned back are recorded as read
    back (no caller waits for them: their lines say how it went), and the wave's outcome."""
    for job in jobs:
        if not turned_back(job):
            continue
        read = reads.get(job.address)
        if isinstance(read, ObservedResource):
            record_turned_back(job, read, writer=writer)
        try:
            _, failure = fleet_result(job, read, worlds.get(job.provider), stack=stack, emit=emit)
        except Exception as err:  # not read back: the next plan reads it again
            failure = RolloutFailedError(str(err))
        if failure is not None:
            emit(job.address, str(failure))
    phases = {j.address: j.machine.progress.phase for j in jobs}
    replaced = sum(j.machine.plan.replace_count for j in jobs if not turned_back(j))
    return wave_outcome(number, phases, halted=halted, replaced=replaced)
