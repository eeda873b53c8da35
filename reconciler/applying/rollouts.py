"""The rollout coordinator of an apply: every ROLLOUT of the apply, driven together, in waves.

The executor hands each fleet over (`RolloutCoordinator.run`, which blocks its caller until the
fleet's wave is finished) once its dependencies are applied. One loop thread drives every fleet:
per poll it reads the world of every fleet once per provider (`FleetObserver.observe`: batched
reads whose number does not grow with the fleets), lets each fleet's `FleetMachine` decide (pure),
sends the writes of every fleet in a pool of `parallelism` workers, then records the progress of
every fleet that moved in ONE state write. Waves run in ascending order; a wave starts once every
fleet of it was handed over, admitting at most `max_rollouts` fleets at once. When the stack uses
waves (`WaveRules`), a fleet of wave N that fails halts the wave: its other fleets are turned back
(in progress: rolled back by their own strategy and auto_rollback; complete: the requested
rollback), no later wave starts, earlier waves stay; the bake between waves watches the wave
alarms and the fleets' own. Without waves, each fleet fails or completes on its own, as before.
When a wave is over its fleets are read back in one refresh per provider and their callers get
the fleet (and the failure to raise); what happens to one fleet at either end of its wave is in
applying.rollout_jobs. `roll_out` runs one fleet through a coordinator of its own. Callers:
applying.executor, tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from reconciler.applying.coordinator import describe_event, poll_seconds
from reconciler.applying.fleet_io import event_of, observe_with, perform, read_back
from reconciler.applying.rollout_jobs import (
    Job,
    NotStarted,
    Result,
    admit,
    clean_up,
    fleet_result,
    turn_back,
    where,
)
from reconciler.errors import CloudError, ReconcilerError, RolloutFailedError
from reconciler.planning.model import ResourceChange
from reconciler.rollout.machine import Effect, FleetMachine
from reconciler.rollout.progress import Phase, start
from reconciler.rollout.record import RolloutRecord, read_record, record_json
from reconciler.rollout.report import RolloutEvent
from reconciler.rollout.waves import (
    WaveOutcome,
    WaveRules,
    WaveStatus,
    firing_alarm,
    halted_error,
    wave_outcome,
)
from reconciler.sdk import FleetType, ObservedResource, Provider
from reconciler.sdk.fleet import FleetOps, FleetWorld, InstanceFacts, ObserveRequest
from reconciler.state import ResourceState, StateWriter


class RolloutCoordinator:
    def __init__(
        self,
        *,
        waves: Mapping[str, int],
        writer: StateWriter,
        stack: str,
        emit: Callable[[str, str], None],
        on_event: Callable[[str, RolloutEvent, str], None] | None = None,
        poll_s: float = 2.0,
        max_rollouts: int | None = None,
        parallelism: int = 10,
        rules: WaveRules | None = None,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.expected = dict(waves)  # address → wave, every ROLLOUT of the plan
        self.writer, self.stack, self.emit, self.on_event = writer, stack, emit, on_event
        self.poll_s, self.max_rollouts, self.rules = poll_s, max_rollouts, rules
        self.stop = stop or threading.Event()
        self.clock, self.sleep = clock, sleep
        self.pool = ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="rollout")
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Condition()
        self.known: dict[str, dict[str, InstanceFacts]] = {}
        self.outcomes: list[WaveOutcome] = []
        self.halted: WaveOutcome | None = None
        self.thread: threading.Thread | None = None

    # -- the executor's side ----------------------------------------------------------------------

    def run(
        self,
        *,
        change: ResourceChange,
        current: ResourceState,
        provider: Provider,
        fleet: FleetType,
        config: Mapping[str, Any],
    ) -> Result:
        """Hand the fleet over and wait until its wave is over; returns the fleet read back and the
        failure to raise once it is recorded (None when it completed)."""
        ops = provider.fleet_ops() if hasattr(provider, "fleet_ops") else None
        if ops is None:
            raise ReconcilerError(f"{change.address}: provider {change.provider} cannot run rollouts")
        if change.rollout is None:
            raise ReconcilerError(f"{change.address}: the plan holds no rollout for it; plan again")
        plan = change.rollout.plan
        version = config.get("launch_template_version")
        if not plan.new.launch_template_version or plan.new.launch_template_version != version:
            raise RolloutFailedError(
                f"{change.address}: the plan rolls out launch template version "
                f"{plan.new.launch_template_version or '(unknown)'}, but the template now has "
                f"version {version}; nothing was rolled out. Run plan again."
            )
        address = str(change.address)
        progress = change.rollout.resume
        recorded = read_record(current.rollout, where=address)
        if recorded is not None and recorded.unfinished:  # the latest record wins over the plan's
            progress = recorded.progress
        machine = FleetMachine(
            address=address,
            provider=change.provider,
            wave=self.expected.get(address, 1),
            plan=plan,
            progress=progress if progress is not None else start(plan, now=self.clock()),
            auto_rollback=plan.auto_rollback,
        )
        job = Job(
            address, change, current, change.provider, ops, provider, fleet, machine, new=progress is None
        )
        with self.lock:
            self.jobs[address] = job
            self.expected.setdefault(address, machine.wave)
            self.lock.notify_all()
        return job.future.result()

    def start(self) -> None:
        self.thread = threading.Thread(target=self._loop, name="rollouts", daemon=True)
        self.thread.start()

    def close(self) -> tuple[WaveOutcome, ...]:
        """Stop taking fleets, wait for the loop; the outcome of every wave."""
        self.stop.set()
        with self.lock:
            self.lock.notify_all()
        if self.thread is not None:
            self.thread.join()
        self.pool.shutdown(wait=True)
        return tuple(self.outcomes)

    def halted_error(self) -> RolloutFailedError | None:
        return halted_error(self.outcomes) if self.halted is not None else None

    # -- the loop ---------------------------------------------------------------------------------

    def _loop(self) -> None:
        try:
            for number in sorted(set(self.expected.values())):
                wave = self._gather(number)
                if wave is None or (self.stop.is_set() and self.outcomes):
                    self._not_started(number, "the apply stopped before it")  # start nothing new
                    continue
                if self.halted is not None:
                    self._not_started(number, f"rollout halted in wave {self.halted.number}")
                    continue
                self._drive(number, wave)
        except BaseException as err:  # a bug: never leave a caller waiting
            for job in self.jobs.values():
                if not job.future.done():
                    job.future.set_exception(err)
            raise

    def _gather(self, number: int) -> list[Job] | None:
        """Every fleet of wave `number`, once all were handed over; None when the apply stopped."""
        wanted = {a for a, w in self.expected.items() if w == number}
        with self.lock:
            while True:
                if wanted <= set(self.jobs):
                    return [self.jobs[a] for a in sorted(wanted)]
                if self.stop.is_set():
                    return None
                self.lock.wait(0.5)

    def _not_started(self, number: int, why: str) -> None:
        with self.lock:
            jobs = [j for j in self.jobs.values() if j.machine.wave == number]
        for job in jobs:
            if not job.future.done():
                job.future.set_exception(NotStarted(f"{job.address}: not rolled out: {why}"))
        fleets = {a: Phase.PENDING for a, w in self.expected.items() if w == number}
        self.outcomes.append(WaveOutcome(number, WaveStatus.NOT_STARTED, fleets, cause=why))

    def _say(self, number: int, text: str) -> None:
        if self.rules is not None:  # stacks without waves read as before
            self.emit(f"wave {number}/{len(set(self.expected.values()))}", text)

    def _drive(self, number: int, jobs: list[Job]) -> None:
        self._say(number, f"started ({len(jobs)} fleet{'s' if len(jobs) != 1 else ''})")
        waiting = [j for j in jobs]
        limit = self.max_rollouts or len(jobs)
        bake_end: float | None = None
        while True:
            now = self.clock()
            active = [j for j in jobs if j.admitted and not j.machine.finished]
            halted = self.halted is not None and self.halted.number == number
            while waiting and len(active) < limit and not halted:
                job = waiting.pop(0)
                self._admit(job)
                active.append(job)
            if halted:
                for job in waiting:
                    job.machine.detail = "not started"
                waiting = []
            if not active and not waiting:
                if halted or (bake_end is None and not self._bake_due(number)):
                    break
                if bake_end is None:
                    assert self.rules is not None
                    bake_end = now + self.rules.bake_s
                    self._say(number, f"complete; bake {self.rules.bake_text}, watching alarms")
                if now >= bake_end:
                    break
            sent = self._tick(number, active, jobs, baking=bake_end is not None)
            if not sent:
                self.sleep(self.poll_s)
        self._finish(number, jobs)

    def _bake_due(self, number: int) -> bool:
        later = [w for w in self.expected.values() if w > number]
        return self.rules is not None and self.rules.bake_s > 0 and bool(later)

    def _admit(self, job: Job) -> None:
        admit(job, now=self.clock(), emit=self.emit)

    def _worlds(
        self, jobs: Sequence[Job], *, alarms: Sequence[str] = ()
    ) -> dict[str, FleetWorld | CloudError]:
        by_provider: dict[str, list[Job]] = {}
        for job in jobs:
            by_provider.setdefault(job.provider, []).append(job)
        alarm_key = ""
        if self.rules is not None and alarms:
            alarm_key = self.rules.provider or next(iter(sorted(by_provider)), "aws")
            by_provider.setdefault(alarm_key, [])

        def read(key: str, group: list[Job]) -> FleetWorld | CloudError:
            ops = group[0].ops if group else self._ops_for(key)
            request = ObserveRequest(
                groups=tuple(sorted({g for j in group for g in j.machine.groups()})),
                target_group_arns=tuple(sorted({a for j in group for a in j.machine.plan.target_group_arns})),
                alarms=tuple(
                    sorted(
                        {a for j in group for a in j.machine.alarms()}
                        | set(alarms if key == alarm_key else ())
                    )
                ),
                known=dict(self.known.get(key, {})),
            )
            try:
                world = observe_with(ops, request)
            except CloudError as err:
                return err
            self.known[key] = dict(world.instances)
            return world

        futures = {key: self.pool.submit(read, key, group) for key, group in by_provider.items()}
        return {key: fut.result() for key, fut in futures.items()}

    def _ops_for(self, key: str) -> FleetOps:
        for job in self.jobs.values():
            if job.provider == key:
                return job.ops
        raise ReconcilerError(f"no fleet of provider {key} to read wave alarms through")

    def _tick(self, number: int, active: list[Job], jobs: list[Job], *, baking: bool) -> bool:
        wave_alarms = tuple(self.rules.alarms) if self.rules is not None else ()
        watched = [*active, *([j for j in jobs if j.admitted] if baking else [])]
        worlds = self._worlds(watched, alarms=wave_alarms)
        now = self.clock()
        effects: dict[str, tuple[Effect, ...]] = {}
        for job in active:
            world = worlds.get(job.provider)
            if isinstance(world, CloudError):
                job.machine.unseen(world, now=now)
            elif world is not None:
                effects[job.address] = job.machine.decide(world, now=now)
        decided = {a: where(self.jobs[a].machine) for a in effects}
        self._events(active, worlds)  # the step each fleet is about to perform: every line is seen
        names = [*wave_alarms, *(a for j in (jobs if baking else []) for a in j.machine.alarms())]
        firing = firing_alarm([w for w in worlds.values() if isinstance(w, FleetWorld)], names)
        if firing and self.rules is not None and self.halted is None:
            cause = f"alarm {firing} is in ALARM" + (" during the bake" if baking else " (wave alarm)")
            self._halt(number, jobs, cause=cause, first="")
        failed = [
            j
            for j in jobs
            if j.machine.progress.phase in (Phase.FAILED, Phase.ROLLING_BACK, Phase.ROLLED_BACK)
            and not j.machine.requested
        ]
        if failed and self.rules is not None and self.halted is None:
            self._halt(number, jobs, cause=failed[0].machine.progress.failure, first=failed[0].address)
        # a fleet turned back after it decided sends nothing now: it decides its rollback next poll
        to_send = {a: e for a, e in effects.items() if e and where(self.jobs[a].machine) == decided[a]}
        results = {a: self.pool.submit(perform, self.jobs[a].ops, e) for a, e in to_send.items()}
        now_after = self.clock()
        for address, fut in results.items():
            error = fut.exception()
            if error is not None and not isinstance(error, Exception):
                raise error
            self.jobs[address].machine.sent(now=now_after, error=error)
        self._commit(jobs)
        self._events(jobs, worlds)
        return bool(to_send)

    def _halt(self, number: int, jobs: list[Job], *, cause: str, first: str) -> None:
        fleets = {j.address: j.machine.progress.phase for j in jobs}
        self.halted = WaveOutcome(number, WaveStatus.ROLLED_BACK, fleets, cause=cause, first=first)
        for job in jobs:
            if job.address == first or not job.admitted:
                continue
            turn_back(
                job,
                f"turned back with wave {number}: {first or 'the wave'} failed ({cause})",
                now=self.clock(),
            )

    def _commit(self, jobs: Sequence[Job]) -> None:
        moved = {j.address: j for j in jobs if j.machine.dirty}
        if not moved:
            return
        self.writer.record_rollouts(
            {a: record_json(RolloutRecord(j.machine.plan, j.machine.progress)) for a, j in moved.items()}
        )
        for job in moved.values():
            job.machine.dirty = False

    def _events(self, jobs: Sequence[Job], worlds: Mapping[str, FleetWorld | CloudError]) -> None:
        for job in jobs:
            if not job.admitted:
                continue
            event, key = event_of(job.machine, worlds.get(job.provider), now=self.clock())
            if key == job.last:  # one line per change of state, not per poll
                continue
            job.last = key
            if self.on_event is not None:
                self.on_event(job.address, event, describe_event(event))
            else:
                self.emit(job.address, describe_event(event))

    # -- the end of a wave ------------------------------------------------------------------------

    def _finish(self, number: int, jobs: list[Job]) -> None:
        now = self.clock()
        for job in jobs:
            clean_up(job, now=now, emit=self.emit)
        admitted = [j for j in jobs if j.admitted]
        worlds = self._worlds(admitted)
        reads = self._read_back(admitted)
        for job in jobs:
            if not job.admitted:
                job.future.set_exception(
                    NotStarted(f"{job.address}: not rolled out: rollout halted in wave {number}")
                )
                continue
            try:
                result = fleet_result(
                    job, reads.get(job.address), worlds.get(job.provider), stack=self.stack, emit=self.emit
                )
                job.future.set_result(result)
            except Exception as err:
                job.future.set_exception(err)
        halted = self.halted if self.halted is not None and self.halted.number == number else None
        phases = {j.address: j.machine.progress.phase if j.admitted else Phase.PENDING for j in jobs}
        replaced = sum(j.machine.plan.replace_count for j in jobs if phases[j.address] is Phase.COMPLETE)
        outcome = wave_outcome(number, phases, halted=halted, replaced=replaced)
        self.outcomes.append(outcome)
        status, cause = outcome.status, outcome.cause
        self._say(number, f"{status.value}" + (f": {cause}" if cause else ""))

    def _read_back(self, jobs: Sequence[Job]) -> dict[str, ObservedResource | CloudError]:
        """Every fleet of the wave as the cloud reports it: one refresh per provider and type."""
        return read_back(
            [(j.address, j.provider, j.change.type_name, j.current.id, j.source) for j in jobs],
            stack=self.stack,
            pause=lambda attempt: self.sleep(self.poll_s * attempt),
        )


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
