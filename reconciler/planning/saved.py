"""`apply PLAN_FILE`'s decisions about a saved plan: the variables it is applied with, and what the
cloud holds now (fingerprints) for the stale-plan check (planning.staleness).

Callers: cli.plan (apply PLAN_FILE).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.address import Address
from reconciler.config import Loaded, Stack, resolve_variables
from reconciler.errors import ConfigError, OwnershipError, ReconcilerError
from reconciler.planning.planfile import PlanFile
from reconciler.planning.planner import PlanOptions, make_plan
from reconciler.sdk import Provider
from reconciler.state import State

__all__ = ["current_fingerprints", "saved_variables", "sensitive_variables"]


def sensitive_variables(stack: Stack) -> frozenset[str]:
    return frozenset(n for n, v in stack.variables.items() if v.sensitive)


def saved_variables(
    saved: PlanFile,
    *,
    stack: Stack,
    cli_vars: Sequence[str],
    var_files: Sequence[Path],
    environ: Mapping[str, str],
) -> dict[str, Any]:
    """The plan's variable values; sensitive ones (never saved) are given again, as for plan."""
    hidden = sensitive_variables(stack)
    for option in cli_vars:
        name = option.partition("=")[0].strip()
        if name not in hidden:
            raise ReconcilerError(
                f"--var {name} cannot be set when applying a saved plan: the plan holds the values it "
                "was made with (only sensitive variables, which plan files never store, are given again)"
            )
    values = {
        n: v
        for n, v in saved.plan.variables.items()
        if n not in hidden and n not in saved.sensitive_variables
    }
    if hidden:
        only_sensitive = dataclasses.replace(stack, variables={n: stack.variables[n] for n in sorted(hidden)})
        values.update(
            resolve_variables(
                only_sensitive, cli_vars=list(cli_vars), var_files=list(var_files), environ=environ
            )
        )
    return values


def current_fingerprints(
    saved: PlanFile,
    *,
    loaded: Loaded,
    state: State,
    providers: Mapping[str, Provider],
    parallelism: int,
) -> tuple[dict[str, str] | None, list[str]]:
    """Fingerprints of what the cloud holds now, from a planning pass with the saved options;
    its plan is thrown away (apply uses the saved one). A pass that fails is itself a reason."""
    plan = saved.plan
    options = PlanOptions(
        targets=tuple(Address.parse(t) for t in plan.targets),
        replace=tuple(Address.parse(r) for r in saved.replace),
        refresh_only=plan.refresh_only,
        destroy=plan.destroy,
        parallelism=parallelism,
    )
    try:
        fresh = make_plan(
            stack=loaded.stack, variables=loaded.variables, state=state, providers=providers, options=options
        )
    except (ConfigError, OwnershipError) as err:
        return None, [f"the cloud no longer plans as it did: {err}"]
    return fresh.fingerprints, []
