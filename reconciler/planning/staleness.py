"""Is a saved plan stale? A pure comparison of what the plan saw with what is there now.

`stale_reasons` compares the plan file's state lineage and serial, configuration digest (files and
variable values) and cloud fingerprints with the current ones, and says in one sentence per
difference what moved. An empty list means the plan may be applied exactly as saved.
Callers: cli.plan (apply PLAN_FILE), tests.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.planning.planfile import ConfigDigest, PlanFile
from reconciler.sdk import Mode
from reconciler.sdk.registry import all_schemas
from reconciler.state import State

SHOWN_FINGERPRINT = 40  # fingerprints this short (ids) are shown as "old → new"


def stale_reasons(
    *,
    plan_file: PlanFile,
    state: State,
    config_digest: ConfigDigest,
    current_fingerprints: Mapping[str, str] | None,
) -> list[str]:
    """Every way the world differs from what the plan saw; [] when it may be applied.

    `current_fingerprints` is None when the cloud was not read again (nothing to compare).
    """
    reasons = _state_reasons(plan_file, state)
    reasons += _config_reasons(plan_file.config, config_digest)
    if current_fingerprints is not None:
        reasons += _fingerprint_reasons(plan_file.plan.fingerprints, current_fingerprints)
    return reasons


def _state_reasons(plan_file: PlanFile, state: State) -> list[str]:
    plan = plan_file.plan
    if plan.serial == 0:  # planned against no state: a fresh lineage that was never written
        if state.serial == 0:
            return []
        return [
            "the plan was made against an empty state, and the state has been written since "
            f"(serial 0 → {state.serial})"
        ]
    if plan.lineage != state.lineage:
        return [f"the state was replaced (lineage {plan.lineage} → {state.lineage})"]
    if plan.serial != state.serial:
        return [f"the state changed since the plan was made (serial {plan.serial} → {state.serial})"]
    return []


def _config_reasons(planned: ConfigDigest, current: ConfigDigest) -> list[str]:
    reasons: list[str] = []
    changed = [
        n for n in sorted(planned.files) if n in current.files and planned.files[n] != current.files[n]
    ]
    changed += [f"{n} added" for n in sorted(set(current.files) - set(planned.files))]
    changed += [f"{n} removed" for n in sorted(set(planned.files) - set(current.files))]
    if changed:
        reasons.append(f"the configuration changed ({', '.join(changed)})")
    for name in sorted(planned.variables):
        if name in current.variables and planned.variables[name] != current.variables[name]:
            reasons.append(f'the value of variable "{name}" differs from the one the plan was made with')
    return reasons


def _fingerprint_reasons(planned: Mapping[str, str], current: Mapping[str, str]) -> list[str]:
    reasons: list[str] = []
    for address in sorted(planned):
        before, now = planned[address], current.get(address)
        if now == before:
            continue
        if not address.startswith("data."):
            what = "no longer exists in the cloud" if now is None else "changed in the cloud"
            reasons.append(f"{address} {what}")
            continue
        if now is None:
            reasons.append(f"{address} could not be read again as it was when the plan was made")
            continue
        type_name = address.split(".")[1]
        schema = all_schemas().get((Mode.DATA, type_name))  # its type names its results
        noun = schema.noun if schema is not None else "result"
        text = f"{address} now resolves to a different {noun}"
        if len(before) <= SHOWN_FINGERPRINT and len(now) <= SHOWN_FINGERPRINT:
            text += f" ({before} → {now})"
        reasons.append(text)
    return reasons
