"""`plan --format json` and `show PLAN_FILE --format json`: a plan in Terraform's plan JSON format.

The document is what `terraform show -json PLANFILE` writes (format 1.2, as Terraform 1.11 writes
it; docs/plan-json.md, checked against docs/plan-json.schema.json), so that the policy tools teams
run on Terraform plans (checkov, terraform-compliance, OPA/conftest) read reconciler's plans too:
`format_version`, `terraform_version`, `variables`, `planned_values`, `resource_drift`,
`resource_changes`, `output_changes`, `prior_state`, `configuration`, `relevant_attributes`,
`checks`, `timestamp`, `applyable`, `complete`, `errored`, keys in Terraform's order, empty ones
left out as Terraform leaves them out, on one line with Go's escaping of `<`, `>` and `&`
(`--pretty`: indented, for people). What only reconciler knows is under the one extra key
`reconciler` (render.tfplan.extension).

One rule differs from Terraform on purpose: Terraform writes secrets in clear (sensitive
variables, sensitive attributes and outputs) and only flags them; reconciler never writes a secret
nor the digest it keeps of one. A sensitive value is left out exactly as an unknown one is (absent
from its object, `null` in a list) and flagged `true` in `before_sensitive`/`after_sensitive`/
`sensitive_values`; a sensitive variable is `{}` in `variables`, a sensitive output has no
`before`/`after`/`value`. Reads a Plan, decides nothing. Callers: render.FORMATS (`render`), tests.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from reconciler.planning.model import OutputChange, Plan
from reconciler.render.tfplan import configuration as config
from reconciler.render.tfplan.extension import extension
from reconciler.render.tfplan.resources import (
    deferred_read,
    drift,
    planned_values,
    prior_state,
    resource_change,
    sorted_changes,
)
from reconciler.render.tfplan.values import conceal, holds_secret, known, output_unknown
from reconciler.values import UNKNOWN, contains_unknown

if TYPE_CHECKING:
    from rich.console import Console

FORMAT_VERSION = "1.2"
# The Terraform release whose `show -json` output this follows field by field; tools check it
# (terraform-compliance refuses versions it does not know). `reconciler.version` says who wrote it.
TERRAFORM_VERSION = "1.11.4"
EXTENSION_KEY = "reconciler"

# Go's encoding/json escapes these inside strings; Terraform's output has them so.
_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}

__all__ = ["EXTENSION_KEY", "FORMAT_VERSION", "TERRAFORM_VERSION", "plan_json", "render", "render_json"]


def _variables(plan: Plan, declared: dict[str, Any]) -> dict[str, Any]:
    """Every root variable's value; a sensitive one (or one holding a secret) as `{}`."""
    out: dict[str, Any] = {}
    for name, value in sorted(plan.variables.items()):
        concealed = conceal(value)
        hidden = bool(declared.get(name, {}).get("sensitive")) or holds_secret(concealed)
        out[name] = {} if hidden or contains_unknown(concealed) else {"value": concealed}
    return out


def _output_actions(o: OutputChange) -> list[str]:
    if not o.changed:
        return ["no-op"]
    if o.before is None:
        return ["create"]
    return ["delete"] if o.after is None else ["update"]


def _output_change(o: OutputChange) -> dict[str, Any]:
    """Terraform's output change; a sensitive output's values are left out (`null` only for the
    missing side of a create or delete)."""
    before, after = conceal(o.before), conceal(o.after)
    hidden = o.sensitive or holds_secret(before) or holds_secret(after)
    change: dict[str, Any] = {"actions": _output_actions(o)}
    if hidden:
        if o.before is None:
            change["before"] = None
        if o.after is None:
            change["after"] = None
    else:
        change["before"] = known(before)
        if after is not UNKNOWN:
            change["after"] = known(after)
    change["after_unknown"] = False if hidden else output_unknown(after)
    change["before_sensitive"] = hidden
    change["after_sensitive"] = hidden
    return change


def plan_json(plan: Plan) -> dict[str, Any]:
    """The whole document as a JSON-serialisable dict (docs/plan-json.md)."""
    configuration = config.configuration(plan)
    declared = configuration.get("root_module", {}).get("variables", {})
    doc: dict[str, Any] = {"format_version": FORMAT_VERSION, "terraform_version": TERRAFORM_VERSION}
    if plan.variables:
        doc["variables"] = _variables(plan, declared)
    doc["planned_values"] = planned_values(plan)
    drifted = [d for d in (drift(e) for e in plan.drift) if d is not None]
    if drifted:
        doc["resource_drift"] = drifted
    changes = [resource_change(c) for c in sorted_changes(plan)]
    changes += [deferred_read(r) for r in plan.data if r.deferred]
    if changes:
        doc["resource_changes"] = changes
    if plan.outputs:
        doc["output_changes"] = {
            o.name: _output_change(o) for o in sorted(plan.outputs, key=lambda o: o.name)
        }
    prior = prior_state(plan, terraform_version=TERRAFORM_VERSION)
    if prior is not None:
        doc["prior_state"] = prior
    doc["configuration"] = configuration
    relevant = config.relevant_attributes(plan, configuration)
    if relevant:
        doc["relevant_attributes"] = relevant
    checks = config.checks(plan)
    if checks:
        doc["checks"] = checks
    doc["timestamp"] = plan.timestamp
    doc["applyable"] = plan.has_changes
    doc["complete"] = not plan.targets
    doc["errored"] = False
    doc[EXTENSION_KEY] = extension(plan)
    return doc


def render_json(plan: Plan, *, pretty: bool = False) -> str:
    """The document as Terraform writes it (one line, ending in a newline), or indented."""
    doc = plan_json(plan)
    if pretty:
        return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    for char, escape in _GO_ESCAPES.items():
        text = text.replace(char, escape)
    return text + "\n"


def render(plan: Plan, *, out: Console, plan_file: str | None = None, pretty: bool = False) -> None:
    """`--format json` (render.FORMATS): the document on stdout."""
    sys.stdout.write(render_json(plan, pretty=pretty))
