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
alarms and the fleets' own, and is recorded in state from its start to its end so that the next
apply finishes the rest of a bake an interrupted one left (the plan's `WavePlan.hold`) before the
wave it holds back. Without waves, each fleet fails or completes on its own, as before.
When a wave is over its fleets are read back in one refresh per provider and their callers get
the fleet (and the failure to raise); what happens to one fleet at either end of its wave is in
applying.rollout_jobs, the bake recorded in state and the one an interrupted apply left in
applying.bakes. Callers: applying.executor, applying.one_fleet, tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from reconciler.applying.bakes import (
    BakeKeeper,
    baked_jobs,
    record_baked,
    recorded_rules,
    resumed_text,
    settle_resumed,
    turned_back,
)
from reconciler.applying.coordinator import describe_event
from reconciler.applying.fleet_io import event_of, observe_jobs, perform, read_back
from reconciler.applying.rollout_jobs import (
    Job,
    NotStarted,
    Result,
    admit,
    clean_up,
    make_job,
    settle_wave,
    turn_back,
    where,
)
from reconciler.errors import CloudError, ReconcilerError, RolloutFailedError
from reconciler.planning.model import ResourceChange
from reconciler.rollout.bake import BakeHold, BakeMarker, bake_wait
from reconciler.rollout.machine import Effect
from reconciler.rollout.progress import Phase
from reconciler.rollout.record import RolloutRecord, record_json
from reconciler.rollout.report import RolloutEvent
from reconciler.rollout.waves import (
    WaveOutcome,
    WaveRules,
    WaveStatus,
    firing_alarm,
    halted_error,
)
from reconciler.sdk import FleetType, ObservedResource, Provider
from reconciler.sdk.fleet import FleetOps, FleetWorld, InstanceFacts
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
        hold: BakeHold | None = None,
        providers: Mapping[str, Provider] | None = None,
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
        self.hold, self.providers = hold, dict(providers or {})  # the plan's interrupted bake
        self.bakes = BakeKeeper(writer=writer, clock=clock)

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
        wave = self.expected.get(str(change.address), 1)
        job = make_job(
            change=change,
            current=current,
            provider=provider,
            fleet=fleet,
            config=config,
            wave=wave,
            now=self.clock(),
        )
        with self.lock:
            self.jobs[job.address] = job
            self.expected.setdefault(job.address, wave)
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
            if self.hold is None and self.rules is not None and self.writer.bake() is not None:
                self.bakes.ended()  # the plan found the recorded bake over or superseded
            for number in sorted(set(self.expected.values())):
                wave = self._gather(number)
                if wave is None or (self.stop.is_set() and self.outcomes):
                    self._not_started(number, "the apply stopped before it")  # start nothing new
                    continue
                if self.halted is None and self.hold is not None and number == self.hold.before:
                    self._resume_bake(self.hold)
                    if self.halted is None and self.stop.is_set():
                        self._not_started(number, "the apply stopped during the bake before it")
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
        if self.rules is not None:  # stacks without waves read as before; "of" the last wave
            waves = set(self.expected.values())
            self.emit(f"wave {number}/{max(waves)}" if number in waves else f"wave {number}", text)

    def _resume_bake(self, hold: BakeHold) -> None:
        """Finish the bake an interrupted apply left (the plan's hold) before its wave starts:
        the rest of it, watching what it watched; a bake already over is just cleared."""
        marker = hold.marker
        left = bake_wait(hold, wave=hold.before, now=self.clock())
        if left <= 0:
            self.bakes.ended()
            self._say(marker.wave, f"the bake an interrupted apply left is over; wave {hold.before} starts")
            return
        self._say(marker.wave, resumed_text(hold, left=left))
        self.bakes.resumed(marker)
        with self.lock:  # a baked fleet this plan rolls out again is driven by its new rollout
            jobs = baked_jobs(
                marker, writer=self.writer, providers=self.providers, emit=self.emit, skip=set(self.expected)
            )
            self.jobs |= {j.address: j for j in jobs}
        self._drive(marker.wave, jobs, resumed=marker)

    def _drive(self, number: int, jobs: list[Job], *, resumed: BakeMarker | None = None) -> None:
        """Roll wave `number` out and bake after it; `resumed`: only the rest of that recorded
        bake, over the baked wave's fleets (already complete)."""
        rules = recorded_rules(resumed) if resumed is not None else self.rules
        if resumed is None:
            self._say(number, f"started ({len(jobs)} fleet{'s' if len(jobs) != 1 else ''})")
        waiting = [j for j in jobs if not j.admitted]
        limit = self.max_rollouts or len(jobs)
        bake_end = resumed.ends_at if resumed is not None else None
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
                    bake_end = self.bakes.started(number, jobs, rules=self.rules)
                    self._say(number, f"complete; bake {self.rules.bake_text}, watching alarms")
                    baked = [j for j in jobs if j.admitted]  # state matches the cloud while it bakes
                    record_baked(baked, self._read_back(baked), writer=self.writer)
                if now >= bake_end:
                    self.bakes.ended()
                    break
                if self.stop.is_set():  # the apply stops: the bake stays recorded for the next one
                    break
            sent = self._tick(number, active, jobs, baking=bake_end is not None, rules=rules)
            if not sent:
                self.sleep(self.poll_s)
        self._finish(number, jobs, resumed=resumed is not None)

    def _bake_due(self, number: int) -> bool:
        later = [w for w in self.expected.values() if w > number]
        return self.rules is not None and self.rules.bake_s > 0 and bool(later)

    def _admit(self, job: Job) -> None:
        admit(job, now=self.clock(), emit=self.emit)

    def _worlds(
        self, jobs: Sequence[Job], *, alarms: Sequence[str] = (), rules: WaveRules | None = None
    ) -> dict[str, FleetWorld | CloudError]:
        return observe_jobs(
            jobs,
            alarms=alarms if rules is not None else (),
            alarm_provider=rules.provider if rules is not None else None,
            known=self.known,
            ops_for=self._ops_for,
            submit=self.pool.submit,
        )

    def _ops_for(self, key: str) -> FleetOps:
        for job in self.jobs.values():
            if job.provider == key:
                return job.ops
        provider = self.providers.get(key)
        if provider is not None and hasattr(provider, "fleet_ops"):
            ops: FleetOps = provider.fleet_ops()
            return ops
        raise ReconcilerError(f"no fleet of provider {key} to read wave alarms through")

    def _tick(
        self, number: int, active: list[Job], jobs: list[Job], *, baking: bool, rules: WaveRules | None
    ) -> bool:
        wave_alarms = tuple(rules.alarms) if rules is not None else ()
        watched = [*active, *([j for j in jobs if j.admitted] if baking else [])]
        worlds = self._worlds(watched, alarms=wave_alarms, rules=rules)
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
        if firing and rules is not None and self.halted is None:
            cause = f"alarm {firing} is in ALARM" + (" during the bake" if baking else " (wave alarm)")
            self._halt(number, jobs, cause=cause, first="")
        failed = [
            j
            for j in jobs
            if j.machine.progress.phase in (Phase.FAILED, Phase.ROLLING_BACK, Phase.ROLLED_BACK)
            and not j.machine.requested
        ]
        if failed and rules is not None and self.halted is None:
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
        done = all(j.admitted and j.machine.progress.phase is Phase.COMPLETE for j in jobs)
        due = done and not baking and self.halted is None and self._bake_due(number)
        if due and self.rules is not None and not self.bakes.recorded(number):
            self.bakes.record_with(number, jobs, rules=self.rules)  # with the wave's last progress
        self._commit(jobs)
        self._events(jobs, worlds)
        return bool(to_send)

    def _halt(self, number: int, jobs: list[Job], *, cause: str, first: str) -> None:
        fleets = {j.address: j.machine.progress.phase for j in jobs}
        self.halted = WaveOutcome(number, WaveStatus.ROLLED_BACK, fleets, cause=cause, first=first)
        self.bakes.halted(number)  # a bake after it is cleared with the turn-back's progress
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
        bake = self.bakes.take()
        if not moved and bake is None:
            return
        records = {
            a: record_json(RolloutRecord(j.machine.plan, j.machine.progress)) for a, j in moved.items()
        }
        if bake is None:
            self.writer.record_rollouts(records)
        else:  # one write: the bake starts with the wave's last progress, or ends with the halt's
            self.writer.set_bake(bake[0], rollouts=records)
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

    def _finish(self, number: int, jobs: list[Job], *, resumed: bool = False) -> None:
        """The end of a wave (`resumed`: of the rest of its bake, where only the fleets turned
        back are read back, and recorded as no caller waits for them)."""
        now = self.clock()
        for job in [] if resumed else jobs:
            clean_up(job, now=now, emit=self.emit)
        read = [j for j in jobs if turned_back(j)] if resumed else [j for j in jobs if j.admitted]
        worlds, reads = (self._worlds(read), self._read_back(read)) if read else ({}, {})
        halted = self.halted if self.halted is not None and self.halted.number == number else None
        settle = partial(settle_resumed, writer=self.writer) if resumed else settle_wave
        outcome = settle(
            number, jobs, worlds=worlds, reads=reads, halted=halted, stack=self.stack, emit=self.emit
        )
        self.outcomes.append(outcome)
        if not resumed or halted is not None:
            self._say(number, f"{outcome.status.value}" + (f": {outcome.cause}" if outcome.cause else ""))
        elif not self.stop.is_set():
            self._say(number, "bake over")

    def _read_back(self, jobs: Sequence[Job]) -> dict[str, ObservedResource | CloudError]:
        """Every fleet of the wave as the cloud reports it: one refresh per provider and type."""
        return read_back(
            [(j.address, j.provider, j.change.type_name, j.current.id, j.source) for j in jobs],
            stack=self.stack,
            pause=lambda attempt: self.sleep(self.poll_s * attempt),
        )

