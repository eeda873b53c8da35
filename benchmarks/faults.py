"""Applies through a flaky cloud, killed applies, refresh and convergence: figures, not assertions.

Runs a moto server and the fault proxy of tests/faults/proxy.py in this process and the real CLI in
subprocesses. Sections (all by default, or name them with --only):

  faults    for each fault mode (30 % throttling, 503s, connections dropped before / after
            forwarding) and each strategy: a create apply and then a rollout apply through the
            proxy; first-run exit codes, duplicates, whether the next direct plan is clean
            (--detailed-exitcode 0) and whether state matches the cloud (refresh-only plan clean);
  refresh   an instance terminated by hand, then `apply` with nothing to change: does state still
            list the dead instance?
  keep0     keep_previous = "0s" (blue/green, canary): is the plan right after the rollout empty?
  crash     kill -9 at the k-th API request, for a create apply and each strategy's rollout
            apply: after every write, and before and after a seeded sample of reads (with the
            first and last request); then a direct rerun: converged (exit 0, no duplicates,
            clean plan, state = cloud, no unfinished rollout)?

Usage: python benchmarks/faults.py [--only faults,refresh,keep0,crash] [--seed 1] [--crash-samples 8]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from tests.conftest import register_ami  # noqa: E402
from tests.faults.cloud import (  # noqa: E402
    cloud,
    duplicates,
    recorded_instances,
    run_cli,
    stack_files,
    start_cli,
    unfinished_rollouts,
    write_stack,
)
from tests.faults.proxy import Fault, FaultProxy  # noqa: E402
from tests.scenarios.rollout_checks import STRATEGIES, create_alarm  # noqa: E402

MODES: dict[str, dict[Fault, float]] = {
    "throttle 30%": {Fault.THROTTLE: 0.3},
    "503 20%": {Fault.UNAVAILABLE: 0.2},
    "drop before 20%": {Fault.DROP_BEFORE: 0.2},
    "drop after 20%": {Fault.DROP_AFTER: 0.2},
}


@contextmanager
def moto_server() -> Iterator[str]:
    import logging
    import os

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    from moto.server import ThreadedMotoServer

    from reconciler_aws.sandbox_server import apply_moto_fixes

    apply_moto_fixes()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def expected_groups(strategy: str | None, *, rolled: bool) -> set[str]:
    if strategy is None or strategy == "rolling" or not rolled:
        return {"web-g0001"}
    return {"web-g0001", "web-g0002"}


class Bench:
    def __init__(self, moto: str, proxy: FaultProxy, workdir: Path) -> None:
        self.moto, self.proxy, self.workdir = moto, proxy, workdir
        self.boto = cloud(moto)
        self.n = 0

    def fresh(self, strategy: str, *, keep_previous: str = "1h") -> Path:
        requests.post(f"{self.moto}/moto-api/reset", timeout=10)
        self.proxy.configure()
        register_ami(self.boto, name="app-1.0.0", version="1.0.0")
        create_alarm(self.boto)
        self.n += 1
        return write_stack(self.workdir / f"s{self.n}", stack_files(strategy, keep_previous=keep_previous))

    def verdict(self, stack: Path, strategy: str, *, rolled: bool) -> dict[str, Any]:
        dups = duplicates(self.boto, expected_groups=expected_groups(strategy, rolled=rolled))
        plan = run_cli(stack, self.moto, "plan", "--detailed-exitcode")
        refresh = run_cli(stack, self.moto, "plan", "--refresh-only", "--detailed-exitcode")
        return {
            "dups": dups,
            "plan": plan.code,
            "state_matches": refresh.code == 0 and not unfinished_rollouts(stack),
            "plan_text": plan.text,
        }


def faults_section(bench: Bench, seed: int) -> None:
    print("\n## Faulted applies (first run through the proxy; checks made directly on moto)\n")
    print(
        "| mode | strategy | apply | exit | s | requests | faults | duplicates | next plan | state = cloud |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    firsts = ok = 0
    for mode, rates in MODES.items():
        for strategy in STRATEGIES:
            stack = bench.fresh(strategy)
            for phase in ("create", "rollout"):
                if phase == "rollout":
                    register_ami(bench.boto, name="app-1.1.0", version="1.1.0")
                bench.proxy.configure(rates=rates)
                bench.proxy.seed = seed
                started = time.monotonic()
                run = run_cli(stack, bench.proxy.url, "apply", "--auto-approve")
                took = time.monotonic() - started
                stats = bench.proxy.stats
                bench.proxy.configure()
                v = bench.verdict(stack, strategy, rolled=phase == "rollout")
                firsts += 1
                ok += run.code == 0 and v["dups"].total == 0 and v["plan"] == 0 and v["state_matches"]
                print(
                    f"| {mode} | {strategy} | {phase} | {run.code} | {took:.1f} | {stats.total} | "
                    f"{sum(stats.faults.values())} | {v['dups'].total} ({v['dups']}) | {v['plan']} | "
                    f"{'yes' if v['state_matches'] else 'no'} |"
                )
                if run.code != 0:
                    last = [line for line in run.err.strip().splitlines() if line.strip()][-3:]
                    print(f"|  | error: {' / '.join(last)[:300]} |||||||||")
                    again = run_cli(
                        stack, bench.moto, "apply", "--auto-approve"
                    )  # converge for the next phase
                    if again.code != 0:
                        print(f"|  | direct rerun also failed: {again.err.strip()[-200:]} |||||||||")
    print(f"\nfaulted applies completed cleanly on the first run: {ok} of {firsts}")


def refresh_section(bench: Bench) -> None:
    print("\n## Refresh recorded by an apply with nothing to change\n")
    stack = bench.fresh("rolling")
    assert run_cli(stack, bench.moto, "apply", "--auto-approve").code == 0
    victim = sorted(recorded_instances(stack))[0]
    bench.boto("ec2").terminate_instances(InstanceIds=[victim])
    run = run_cli(stack, bench.moto, "apply", "--auto-approve")
    still = victim in recorded_instances(stack)
    print(
        f"- terminated {victim} by hand; apply exit {run.code}; says 'No changes': {'No changes' in run.out}"
    )
    print(f"- state still lists the terminated instance as a member: {'yes' if still else 'no'}")
    refresh = run_cli(stack, bench.moto, "plan", "--refresh-only", "--detailed-exitcode")
    print(f"- refresh-only plan after that apply exits {refresh.code} (0 = state matches the cloud)")


def keep0_section(bench: Bench) -> None:
    print('\n## keep_previous = "0s": plan right after a successful rollout apply\n')
    for strategy in ("blue_green", "canary"):
        stack = bench.fresh(strategy, keep_previous="0s")
        assert run_cli(stack, bench.moto, "apply", "--auto-approve").code == 0
        register_ami(bench.boto, name="app-1.1.0", version="1.1.0")
        applied = run_cli(stack, bench.moto, "apply", "--auto-approve")
        plan = run_cli(stack, bench.moto, "plan", "--detailed-exitcode")
        groups = sorted(
            g["AutoScalingGroupName"]
            for g in bench.boto("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
        )
        pending = [line.strip() for line in plan.out.splitlines() if line.strip().startswith(("~", "-", "+"))]
        print(
            f"- {strategy}: apply exit {applied.code}; groups after it {groups}; next plan exit {plan.code}"
            + (f" ({'; '.join(pending)[:160]})" if plan.code else "")
        )


def _arrange(bench: Bench, kind: str) -> Path:
    """A stack ready for the run to be killed: nothing yet (create) or deployed with a newer AMI."""
    stack = bench.fresh("rolling" if kind == "create" else kind)
    if kind != "create":
        assert run_cli(stack, bench.moto, "apply", "--auto-approve").code == 0
        register_ami(bench.boto, name="app-1.1.0", version="1.1.0")
    return stack


def crash_point(bench: Bench, kind: str, k: int, when: str) -> tuple[bool, str]:
    """Kill the apply at request k (`when` before/after forwarding); rerun directly; converged?"""
    stack = _arrange(bench, kind)
    bench.proxy.configure(kill_at=k, kill_when=when)
    proc = start_cli(stack, bench.proxy.url, "apply", "--auto-approve")
    bench.proxy.target_pid = proc.pid  # set long before its first request (start-up takes ~1 s)
    proc.communicate(timeout=240)
    killed = bench.proxy.stats.killed_at is not None
    what = bench.proxy.stats.killed_on
    bench.proxy.configure()
    rerun = run_cli(stack, bench.moto, "apply", "--auto-approve")
    v = bench.verdict(stack, "rolling" if kind == "create" else kind, rolled=kind != "create")
    good = rerun.code == 0 and v["dups"].total == 0 and v["plan"] == 0 and v["state_matches"]
    detail = f"killed={killed} on {what}; rerun {rerun.code}; dups {v['dups'].total}; plan {v['plan']}"
    if rerun.code:
        detail += f"; {rerun.err.strip().splitlines()[-1][:200] if rerun.err.strip() else ''}"
    if v["dups"].total:
        detail += f" ({v['dups']})"
    return good, detail


def request_sequence(bench: Bench, kind: str) -> list[str]:
    stack = _arrange(bench, kind)
    bench.proxy.configure()
    assert run_cli(stack, bench.proxy.url, "apply", "--auto-approve").code == 0
    return list(bench.proxy.stats.sequence)


def is_write(what: str) -> bool:
    return not what.split(":", 1)[1].startswith(("Describe", "Get", "List"))


def crash_section(bench: Bench, seed: int, samples: int, kinds: list[str]) -> None:
    print("\n## Crash points: kill -9 at request k, then a direct rerun\n")
    print("Every write is a crash point (killed after moto acted, before the answer); reads are")
    print("sampled (seeded), with the first and the last request, killed before and after.\n")
    rng = random.Random(seed)
    total = good = 0
    for kind in kinds:
        sequence = request_sequence(bench, kind)
        n = len(sequence)
        writes = [k for k in range(1, n + 1) if is_write(sequence[k - 1])]
        reads = [k for k in range(2, n) if not is_write(sequence[k - 1])]
        sampled = sorted({1, n, *rng.sample(reads, min(samples, len(reads)))})
        points = [(k, "after") for k in writes] + [(k, w) for k in sampled for w in ("before", "after")]
        failures = []
        for k, when in sorted(points):
            ok, detail = crash_point(bench, kind, k, when)
            total += 1
            good += ok
            if not ok:
                failures.append(f"k={k} ({sequence[k - 1]}) {when}: {detail}")
        print(
            f"- {kind}: {n} requests in an uninterrupted run, {len(writes)} of them writes; "
            f"{len(points) - len(failures)} of {len(points)} crash points converged"
        )
        for line in failures:
            print(f"    - {line}")
    print(f"\ncrash points converged: {good} of {total}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="faults,refresh,keep0,crash")
    parser.add_argument("--kinds", default="create,rolling,blue_green,canary", help="crash section only")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--crash-samples", type=int, default=6, help="reads sampled per kind of run")
    args = parser.parse_args(argv)
    sections = set(args.only.split(","))
    started = time.monotonic()
    with moto_server() as moto, tempfile.TemporaryDirectory() as tmp:
        upstream = int(moto.rsplit(":", 1)[1])
        with FaultProxy(upstream_port=upstream, seed=args.seed) as proxy:
            bench = Bench(moto, proxy, Path(tmp))
            runners: dict[str, Callable[[], None]] = {
                "faults": lambda: faults_section(bench, args.seed),
                "refresh": lambda: refresh_section(bench),
                "keep0": lambda: keep0_section(bench),
                "crash": lambda: crash_section(bench, args.seed, args.crash_samples, args.kinds.split(",")),
            }
            for name, run in runners.items():
                if name in sections:
                    run()
    print(f"\n(total {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
