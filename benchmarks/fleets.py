"""Benchmark: N fleets on one moto server, reconciler side by side with Terraform (issue 3).

Each fleet is an AMI lookup, a launch template and an auto-scaling group of 2. For every N in
`--sizes`, and for each tool, on a freshly reset moto server with one image `bench-1.0.0`:

  1. first apply          (reconciler apply --auto-approve / terraform apply -auto-approve)
  2. no-change plan       (plan --detailed-exitcode; must exit 0)
  3. plan after new AMI   (`bench-1.1.0` registered directly on moto, uncounted; must exit 2)
  4. apply of that plan   (apply again; then the running instances of the groups are counted per
                           image directly on moto, uncounted)

Time is wall-clock time of the CLI process; CPU seconds (user+sys) and peak RSS come from
`os.wait4` (`measure.py`: the process and the descendants it reaped, such as Terraform's provider
plugins; the peak is the largest single process, not a sum). API calls are counted server side by
a reverse proxy in front of moto (`counting_proxy.py`), so both tools are counted the same way.
reconciler's byte-code caches are written, untimed, before anything is measured. Terraform runs
only where `terraform` and its AWS provider (filesystem mirror) are installed; otherwise its
column says "not installed". Prints a Markdown table and the per-action calls of each no-change
plan. Run: `python benchmarks/fleets.py --sizes 20,100` (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cloud import MotoServer, free_port, images_of_running_instances, register_ami
from counting_proxy import CountingProxy
from measure import compile_reconciler, run_measured, tool_env
from report import (
    NOT_RUN,
    PHASES,
    RECONCILER,
    TERRAFORM,
    Measure,
    ToolRun,
    environment_line,
    render_breakdowns,
    render_table,
    to_json,
)
from stacks import GROUP_PREFIX, TERRAFORM_CLI_CONFIG, write_reconciler_stack, write_terraform_stack


@dataclass
class Tool:
    name: str
    commands: dict[str, list[str]]
    expected: dict[str, int]
    env: dict[str, str]


def reconciler_tool(*, endpoint: str, parallelism: int) -> Tool:
    cli = [sys.executable, "-m", "reconciler.cli"]
    apply = [*cli, "apply", "--auto-approve", "--parallelism", str(parallelism)]
    plan = [*cli, "plan", "--detailed-exitcode", "--parallelism", str(parallelism)]
    env = tool_env(endpoint) | {"RECONCILER_ROLLOUT_POLL": "0.2"}
    return Tool(
        name=RECONCILER,
        commands={"first_apply": apply, "noop_plan": plan, "ami_plan": plan, "ami_apply": apply},
        expected={"first_apply": 0, "noop_plan": 0, "ami_plan": 2, "ami_apply": 0},
        env=env,
    )


def terraform_tool(*, endpoint: str, parallelism: int, cli_config: Path) -> Tool:
    common = ["-input=false", "-no-color", f"-parallelism={parallelism}"]
    apply = ["terraform", "apply", "-auto-approve", *common]
    plan = ["terraform", "plan", "-detailed-exitcode", *common]
    env = tool_env(endpoint) | {
        "TF_CLI_CONFIG_FILE": str(cli_config),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
    }
    return Tool(
        name=TERRAFORM,
        commands={"first_apply": apply, "noop_plan": plan, "ami_plan": plan, "ami_apply": apply},
        expected={"first_apply": 0, "noop_plan": 0, "ami_plan": 2, "ami_apply": 0},
        env=env,
    )


def terraform_missing(mirror: Path) -> str | None:
    """Why Terraform cannot run here, or None when it can."""
    if shutil.which("terraform") is None:
        return "terraform not on PATH"
    if not any(
        (mirror / "registry.terraform.io" / "hashicorp" / "aws").glob("*/linux_amd64/terraform-provider-aws*")
    ):
        return f"no AWS provider in {mirror}"
    return None


def run_tool(
    tool: Tool,
    *,
    size: int,
    stack: Path,
    cloud: MotoServer,
    proxy: CountingProxy,
    timeout: float,
    plan_repeat: int = 1,
) -> ToolRun:
    """The four phases of one tool for one size; stops at the first failing phase. The no-change
    plan runs `plan_repeat` times and the run of median time is kept (each is printed)."""
    result = ToolRun(tool=tool.name, size=size)
    logs = stack / "logs"
    logs.mkdir(exist_ok=True)
    registered = time.monotonic()
    new_ami = ""
    for key, label in PHASES:
        if key == "ami_plan":
            time.sleep(max(0.0, 1.1 - (time.monotonic() - registered)))  # moto dates have 1 s precision
            new_ami = register_ami(cloud, name="bench-1.1.0", version="1.1.0")
        log = logs / f"{key}.log"
        tries: list[Measure] = []
        for _ in range(plan_repeat if key == "noop_plan" else 1):
            proxy.reset()
            run = run_measured(tool.commands[key], cwd=stack, env=tool.env, timeout=timeout, log=log)
            code = run.exit_code
            tries.append(
                Measure(
                    seconds=run.seconds,
                    calls=proxy.snapshot(),
                    exit_code=code,
                    expected=tool.expected[key],
                    cpu_seconds=run.cpu_seconds,
                    max_rss_mb=run.max_rss_mb,
                )
            )
            print(
                f"  {tool.name:<10} N={size:<4} {label:<20} {run.seconds:7.1f} s {tries[-1].total:6d} calls "
                f"{run.cpu_seconds:6.1f} s CPU {run.max_rss_mb:6.0f} MB  "
                f"exit {code if code is not None else 'timeout'}",
                file=sys.stderr,
                flush=True,
            )
            if not tries[-1].ok:
                break
        failed = [m for m in tries if not m.ok]
        measure = failed[0] if failed else sorted(tries, key=lambda m: m.seconds)[len(tries) // 2]
        code = measure.exit_code
        result.measures[key] = measure
        if not measure.ok:
            why = "timed out" if code is None else f"exit {code}, expected {measure.expected}"
            result.status = f"{label} failed ({why}); log: {log}"
            tail = log.read_text(errors="replace").splitlines()[-25:]
            print("\n".join("    | " + line for line in tail), file=sys.stderr)
            return result
    images = images_of_running_instances(cloud, group_prefix=GROUP_PREFIX)
    result.instances = (images.get(new_ami, 0), sum(images.values()))
    return result


def benchmark_size(
    *,
    size: int,
    tools: list[Tool],
    skipped: dict[str, str],
    work: Path,
    cloud: MotoServer,
    proxy: CountingProxy,
    timeout: float,
    strategy: str = "rolling",
    waves: tuple[int, ...] = (),
    plan_repeat: int = 1,
) -> list[ToolRun]:
    runs = []
    for tool in tools:
        stack = work / f"{tool.name.lower()}-{size}"
        cloud.reset()
        register_ami(cloud, name="bench-1.0.0", version="1.0.0")
        if tool.name == RECONCILER:
            write_reconciler_stack(stack, count=size, endpoint=proxy.url, strategy=strategy, waves=waves)
        else:
            write_terraform_stack(stack, count=size, endpoint=proxy.url)
            init = run_measured(
                ["terraform", "init", "-input=false", "-no-color"],
                cwd=stack,
                env=tool.env,
                timeout=600,
                log=stack / "init.log",
            )
            if init.exit_code != 0:
                runs.append(
                    ToolRun(tool=tool.name, size=size, status=f"terraform init failed: {stack / 'init.log'}")
                )
                continue
        runs.append(
            run_tool(
                tool,
                size=size,
                stack=stack,
                cloud=cloud,
                proxy=proxy,
                timeout=timeout,
                plan_repeat=plan_repeat,
            )
        )
    runs.extend(ToolRun(tool=name, size=size, status=why) for name, why in skipped.items())
    cloud.reset()
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="20,100", help="comma-separated fleet counts (default 20,100)")
    parser.add_argument("--skip-terraform", action="store_true", help="run reconciler only")
    parser.add_argument("--port", type=int, default=0, help="moto server port (default: a free one)")
    parser.add_argument("--parallelism", type=int, default=10, help="both tools' parallelism (default 10)")
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds allowed per phase (default 1800)"
    )
    parser.add_argument(
        "--tf-mirror",
        type=Path,
        default=Path("/opt/tf-plugins"),
        help="Terraform provider filesystem mirror (default /opt/tf-plugins)",
    )
    parser.add_argument(
        "--json", type=Path, help="also write every measurement (all phases, per action) here"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory (stacks, logs)")
    parser.add_argument(
        "--strategy",
        choices=("rolling", "blue_green"),
        default="rolling",
        help="reconciler's rollout strategy (default rolling)",
    )
    parser.add_argument(
        "--waves", default="", help="reconciler's fleets per rollout wave, e.g. 10,90 (default: one wave)"
    )
    parser.add_argument(
        "--plan-repeat",
        type=int,
        default=1,
        help="runs of the no-change plan per tool; the one of median time is reported (default 1)",
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    work = Path(tempfile.mkdtemp(prefix="reconciler-bench-"))
    cli_config = work / "terraform.rc"
    cli_config.write_text(TERRAFORM_CLI_CONFIG.replace("/opt/tf-plugins", str(args.tf_mirror)))
    missing = "skipped (--skip-terraform)" if args.skip_terraform else terraform_missing(args.tf_mirror)
    print(f"work directory: {work}", file=sys.stderr)
    runs: list[ToolRun] = []
    keep = args.keep
    try:
        with MotoServer(port=args.port or free_port(), log=work / "moto.log") as cloud:
            proxy = CountingProxy(upstream_port=cloud.port)
            proxy.start()
            try:
                tools = [reconciler_tool(endpoint=proxy.url, parallelism=args.parallelism)]
                compile_reconciler(tools[0].env)  # untimed: the byte-code caches a user's Python has
                skipped: dict[str, str] = {}
                if missing is None:
                    tools.append(
                        terraform_tool(
                            endpoint=proxy.url, parallelism=args.parallelism, cli_config=cli_config
                        )
                    )
                else:
                    skipped[TERRAFORM] = "skipped" if args.skip_terraform else "not installed"
                    print(f"Terraform: {missing}", file=sys.stderr)
                for size in sizes:
                    runs.extend(
                        benchmark_size(
                            size=size,
                            tools=tools,
                            skipped=skipped,
                            work=work,
                            cloud=cloud,
                            proxy=proxy,
                            timeout=args.timeout,
                            strategy=args.strategy,
                            waves=tuple(int(w) for w in args.waves.split(",") if w.strip()),
                            plan_repeat=max(1, args.plan_repeat),
                        )
                    )
            finally:
                proxy.stop()
    finally:
        failed = [r for r in runs if r.status and r.status not in NOT_RUN]
        keep = keep or bool(failed)
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"Fleets of 2 instances; {environment_line()}; parallelism {args.parallelism}.\n")
    print(render_table(runs, sizes))
    print("\nAPI calls of the no-change plan, by action:\n")
    print(render_breakdowns(runs))
    for run in failed:
        print(f"\n{run.tool} N={run.size}: {run.status}")
    if args.json:
        args.json.write_text(to_json(runs))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
