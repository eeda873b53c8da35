"""Crash points: given an apply (a create apply, or a rollout apply of each strategy, of a fleet of
2 to keep the suite short) killed with SIGKILL between two cloud calls, the next apply converges:
it exits 0, nothing is duplicated (objects, identical launch template versions, stray groups,
orphan instances), no rollout is left unfinished, the plan after it is empty and state matches
the cloud.

No hook in the product: the fault proxy counts the killed run's API requests and kills the CLI
subprocess at request k, after moto acted on it and before the answer (or before forwarding it).
The range of k is measured by an uninterrupted run of the same apply; then, seeded, the points
that matter most are tried: the last request (the fleet's read-back), CreateLaunchTemplateVersion
(a kill before the version becomes the default) and one more write for a rollout; two writes and
one read for a create apply. `python benchmarks/faults.py --only
crash` sweeps every write and a larger sample of reads.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import register_ami
from tests.faults.cloud import duplicates, start_cli, unfinished_rollouts
from tests.faults.cloud import stack_files as files_for
from tests.faults.proxy import FaultProxy
from tests.scenarios.harness import Cli, write_stack
from tests.scenarios.rollout_checks import create_alarm

SEED = 3
KINDS = ["create", "rolling", "blue_green", "canary"]


def is_write(what: str) -> bool:
    return not what.split(":", 1)[1].startswith(("Describe", "Get", "List"))


class Arena:
    """A fresh cloud and stack for one crash point: nothing yet (create) or deployed on app-1.0.0
    with app-1.1.0 baked (a rollout of `kind` pending)."""

    def __init__(self, *, kind: str, endpoint: str, boto: Any, tmp_path: Path, capsys: Any) -> None:
        self.kind, self.endpoint, self.boto, self.tmp_path, self.capsys = (
            kind,
            endpoint,
            boto,
            tmp_path,
            capsys,
        )
        self.runs = 0

    def fresh(self) -> Cli:
        requests.post(f"{self.endpoint}/moto-api/reset", timeout=10)
        register_ami(self.boto, name="app-1.0.0", version="1.0.0")
        create_alarm(self.boto)
        self.runs += 1
        strategy = "rolling" if self.kind == "create" else self.kind
        cli = Cli(write_stack(self.tmp_path / f"s{self.runs}", files_for(strategy, size=2)), self.capsys)
        if self.kind != "create":
            deployed = cli("apply", "--auto-approve")
            assert deployed.code == 0, deployed.text
            register_ami(self.boto, name="app-1.1.0", version="1.1.0")
        return cli

    @property
    def groups(self) -> set[str]:
        return {"web-g0001"} if self.kind in ("create", "rolling") else {"web-g0001", "web-g0002"}


def kill_at(proxy: FaultProxy, cli: Cli, k: int, when: str) -> str:
    """Run the apply in a subprocess through the proxy, killed at request k; what was killed on."""
    proxy.configure(kill_at=k, kill_when=when)
    proc = start_cli(cli.dir, proxy.url, "apply", "--auto-approve")
    proxy.target_pid = proc.pid  # long before its first request: start-up takes about a second
    proc.communicate(timeout=240)
    killed = proxy.stats.killed_on
    proxy.configure()
    assert proc.returncode == -9, f"the run ended on its own (exit {proc.returncode}) before request {k}"
    return killed


def converged(cli: Cli, arena: Arena) -> list[str]:
    """Why the rerun did not converge ([] when it did)."""
    problems = []
    rerun = cli("apply", "--auto-approve")
    if rerun.code != 0:
        problems.append(f"rerun exited {rerun.code}: {rerun.err.strip()[-300:]}")
    found = duplicates(arena.boto, expected_groups=arena.groups)
    if found.total:
        problems.append(f"duplicates: {found}")
    if unfinished_rollouts(cli.dir):
        problems.append("a rollout is left unfinished in state")
    plan = cli("plan", "--detailed-exitcode")
    if plan.code != 0:
        problems.append(f"the next plan exits {plan.code}: {plan.out.strip()[-300:]}")
    if cli("plan", "--refresh-only", "--detailed-exitcode").code != 0:
        problems.append("state does not match the cloud (refresh-only plan has changes)")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_an_apply_killed_at_any_cloud_call_converges_on_the_next_run(
    kind: str,
    fault_proxy: FaultProxy,
    aws_env: str,
    boto: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECONCILER_ROLLOUT_POLL", "0.05")
    arena = Arena(kind=kind, endpoint=aws_env, boto=boto, tmp_path=tmp_path, capsys=capsys)

    cli = arena.fresh()  # the range of k: an uninterrupted run of the same apply
    monkeypatch.setenv("AWS_ENDPOINT_URL", fault_proxy.url)
    fault_proxy.configure()
    assert cli("apply", "--auto-approve").code == 0
    sequence = list(fault_proxy.stats.sequence)
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_env)  # everything but the killed run goes direct

    n = len(sequence)
    rng = random.Random(f"{SEED}:{kind}")
    writes = [k for k in range(1, n) if is_write(sequence[k - 1])]
    reads = [k for k in range(1, n) if not is_write(sequence[k - 1])]
    versions = [k for k in writes if sequence[k - 1] == "ec2:CreateLaunchTemplateVersion"]
    others = [w for w in writes if w not in versions]
    points = {(n, "after"), *((k, "after") for k in versions)}
    points |= {(k, "after") for k in rng.sample(others, 1 if versions else 2)}
    points |= {(k, "before") for k in rng.sample(reads, 0 if versions else 1)}

    failures = []
    for k, when in sorted(points):
        cli = arena.fresh()
        on = kill_at(fault_proxy, cli, k, when)
        problems = converged(cli, arena)
        if problems:
            failures.append(f"killed at request {k}/{n} ({on}, {when} forwarding): {'; '.join(problems)}")
    assert not failures, "\n".join(failures)
