"""Benchmark: reconciler's no-change plan of a synthetic stack of 1,000 fleets (issue 10's target).

On a moto server with one image `bench-1.0.0` (started as `fleets.py` does, with the counting
proxy in front), writes `fleets.py`'s reconciler stack with `--fleets` fleets (AMI lookup, launch
template, auto-scaling fleet of 2), creates them with a first apply (`apply --auto-approve
--parallelism P`, measured too), then runs `plan --detailed-exitcode` `--repeat` times; every
command must exit 0 (the plans: nothing to change). For every command: wall-clock seconds, CPU seconds
(user+sys) and peak RSS of the reconciler process from `os.wait4` (the moto server's own work is a
different process and is not included), and the API calls it made, counted by the proxy. Prints a
Markdown table, whether the plan meets issue 10's targets (under 2 s CPU and under 200 MB at 1,000
fleets; judged on the median of the repeats) and the plan's calls by action. Exits 1 only when a
command fails or times out, not when a target is missed.
Run: `python benchmarks/plan_scale.py` (1,000 fleets, several minutes) or `--fleets 100`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from cloud import MotoServer, free_port, register_ami
from counting_proxy import CountingProxy
from measure import compile_reconciler, run_measured, tool_env
from report import Measure, environment_line
from stacks import write_reconciler_stack

CPU_TARGET_SECONDS = 2.0
RSS_TARGET_MB = 200.0


def measure_commands(
    *, stack: Path, env: dict[str, str], proxy: CountingProxy, parallelism: int, repeat: int, timeout: float
) -> list[tuple[str, Measure]]:
    """The first apply, then `repeat` no-change plans; stops at the first command that fails."""
    cli = [sys.executable, "-m", "reconciler.cli"]
    apply = [*cli, "apply", "--auto-approve", "--parallelism", str(parallelism)]
    plan = [*cli, "plan", "--detailed-exitcode", "--parallelism", str(parallelism)]
    commands = [("first apply", "apply", apply)]
    commands += [(f"no-change plan, run {i}", f"plan-{i}", plan) for i in range(1, repeat + 1)]
    logs = stack / "logs"
    logs.mkdir(exist_ok=True)
    results: list[tuple[str, Measure]] = []
    for label, slug, cmd in commands:
        proxy.reset()
        log = logs / f"{slug}.log"
        run = run_measured(cmd, cwd=stack, env=env, timeout=timeout, log=log)
        measure = Measure(
            seconds=run.seconds,
            calls=proxy.snapshot(),
            exit_code=run.exit_code,
            expected=0,
            cpu_seconds=run.cpu_seconds,
            max_rss_mb=run.max_rss_mb,
        )
        results.append((label, measure))
        code = "timeout" if run.exit_code is None else run.exit_code
        print(
            f"  {label:<22} {run.seconds:7.1f} s {measure.total:6d} calls {run.cpu_seconds:6.1f} s CPU "
            f"{run.max_rss_mb:6.0f} MB  exit {code}",
            file=sys.stderr,
            flush=True,
        )
        if not measure.ok:
            tail = log.read_text(errors="replace").splitlines()[-25:]
            print("\n".join("    | " + line for line in tail), file=sys.stderr)
            print(f"log: {log}", file=sys.stderr)
            break
    return results


def render(results: list[tuple[str, Measure]], *, fleets: int) -> str:
    lines = [
        f"| command ({fleets} fleets) | wall s | CPU s (user+sys) | peak RSS MB | API calls | exit |",
        "|---|---|---|---|---|---|",
    ]
    for label, m in results:
        code = "timed out" if m.exit_code is None else str(m.exit_code)
        lines.append(
            f"| {label} | {m.seconds:.2f} | {m.cpu_seconds:.2f} | {m.max_rss_mb:.0f} | {m.total} | {code} |"
        )
    return "\n".join(lines)


def verdicts(plans: list[Measure], *, fleets: int) -> list[str]:
    """Whether the plans meet issue 10's targets, judged on the median of the runs."""
    out = []
    for what, target, unit, values in (
        ("CPU", CPU_TARGET_SECONDS, "s", [m.cpu_seconds for m in plans]),
        ("peak RSS", RSS_TARGET_MB, "MB", [m.max_rss_mb for m in plans]),
    ):
        median = statistics.median(values)
        runs = ", ".join(f"{v:.2f}" if unit == "s" else f"{v:.0f}" for v in values)
        met = "met" if median < target else "NOT met"
        shown = f"{median:.2f}" if unit == "s" else f"{median:.0f}"
        out.append(
            f"- plan {what} under {target:g} {unit} at {fleets} fleets: **{met}** "
            f"(median {shown} {unit}; runs: {runs})"
        )
    if fleets != 1000:
        out.append("- (issue 10's targets are stated for 1,000 fleets; this run had another size)")
    return out


def to_json(results: list[tuple[str, Measure]], *, fleets: int) -> str:
    return (
        json.dumps(
            {
                "fleets": fleets,
                "commands": [
                    {
                        "command": label,
                        "seconds": round(m.seconds, 3),
                        "cpu_seconds": round(m.cpu_seconds, 3),
                        "max_rss_mb": round(m.max_rss_mb, 1),
                        "calls": m.total,
                        "exit_code": m.exit_code,
                        "by_action": dict(sorted(m.calls.items())),
                    }
                    for label, m in results
                ],
            },
            indent=2,
        )
        + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fleets", type=int, default=1000, help="fleets in the stack (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="no-change plans to run (default 3)")
    parser.add_argument("--parallelism", type=int, default=10, help="reconciler's --parallelism (default 10)")
    parser.add_argument("--port", type=int, default=0, help="moto server port (default: a free one)")
    parser.add_argument(
        "--timeout", type=float, default=3600, help="seconds allowed per command (default 3600)"
    )
    parser.add_argument("--json", type=Path, help="also write every measurement (per action) here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (stack, state, logs)")
    args = parser.parse_args(argv)
    if args.fleets < 1 or args.repeat < 1:
        parser.error("--fleets and --repeat must be at least 1")

    work = Path(tempfile.mkdtemp(prefix="reconciler-plan-scale-"))
    print(f"work directory: {work}", file=sys.stderr)
    results: list[tuple[str, Measure]] = []
    try:
        with MotoServer(port=args.port or free_port(), log=work / "moto.log") as cloud:
            proxy = CountingProxy(upstream_port=cloud.port)
            proxy.start()
            try:
                register_ami(cloud, name="bench-1.0.0", version="1.0.0")
                stack = work / f"reconciler-{args.fleets}"
                write_reconciler_stack(stack, count=args.fleets, endpoint=proxy.url)
                env = tool_env(proxy.url) | {"RECONCILER_ROLLOUT_POLL": "0.2"}
                compile_reconciler(env)  # untimed: the byte-code caches a user's Python has
                results = measure_commands(
                    stack=stack,
                    env=env,
                    proxy=proxy,
                    parallelism=args.parallelism,
                    repeat=args.repeat,
                    timeout=args.timeout,
                )
            finally:
                proxy.stop()
    finally:
        failed = len(results) < args.repeat + 1 or not all(m.ok for _, m in results)
        if args.keep or failed:
            print(f"kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{environment_line(terraform=False)}; parallelism {args.parallelism}.\n")
    print(render(results, fleets=args.fleets))
    plans = [m for label, m in results[1:] if m.ok]
    if plans:
        print()
        print("\n".join(verdicts(plans, fleets=args.fleets)))
        actions = ", ".join(
            f"{k} {v}" for k, v in sorted(plans[0].calls.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        print(f"\nAPI calls of the first no-change plan, by action: {actions or 'none'}")
    if args.json:
        args.json.write_text(to_json(results, fleets=args.fleets))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
