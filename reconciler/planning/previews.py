"""The types' own words on a planned change: hazards (pure) and providers' previews (cloud reads).

After the walk has planned every change, two generic hooks of a type's schema run:
`hazards(before, after)` (pure) gives warnings a reviewer must not miss, shown as a banner by
every renderer; `previewed` types are handed to their provider's `preview` (sdk.Previewer) with
the whole plan as `Related`, and the answer (a JSON-safe payload apply gets back, lines under the
change, a note, warnings, and whether the cloud needs work although the arguments match) is put
on the change. The engine never interprets a payload. Callers: planning.planner (make_plan).
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.address import Mode
from reconciler.planning.model import Action, Plan, ResourceChange
from reconciler.planning.related import Changes
from reconciler.sdk import Previewer, PreviewRequest, Provider, ResourceSchema
from reconciler.values import contains_unknown

__all__ = ["add_previews"]

_PREVIEWED_ACTIONS = (Action.NOOP, Action.CREATE, Action.UPDATE, Action.REPLACE)
_HAZARD_ACTIONS = (Action.CREATE, Action.UPDATE, Action.REPLACE)


def add_previews(
    plan: Plan, *, schemas: Mapping[tuple[Mode, str], ResourceSchema], providers: Mapping[str, Provider]
) -> None:
    """Fill `payload`, `lines`, `note` and `warnings` of the plan's changes (in place); a NOOP whose
    provider says work is pending becomes an UPDATE."""
    related = Changes(plan.changes)
    for change in plan.changes:
        schema = schemas.get((Mode.MANAGED, change.type_name))
        if schema is None:
            continue
        if schema.previewed and change.action in _PREVIEWED_ACTIONS:
            _preview(change, schema=schema, plan=plan, providers=providers, related=related)
        if schema.hazards is not None and change.action in _HAZARD_ACTIONS and change.after is not None:
            found = schema.hazards(change.before, change.after)
            change.warnings.extend(w for w in found if w not in change.warnings)


def _preview(
    change: ResourceChange,
    *,
    schema: ResourceSchema,
    plan: Plan,
    providers: Mapping[str, Provider],
    related: Changes,
) -> None:
    provider = providers.get(change.provider)
    if not isinstance(provider, Previewer) or change.after is None:
        return
    config = {name: change.after.get(name) for name in schema.arguments}
    if contains_unknown(config):  # arguments known only at apply: nothing to say yet
        return
    answer = provider.preview(
        PreviewRequest(
            address=change.address,
            type_name=change.type_name,
            config=config,
            prior=change.before,
            stack=plan.stack,
            related=related,
        )
    )
    change.payload = answer.payload
    change.lines = list(answer.lines)
    change.warnings.extend(answer.warnings)
    if answer.note:
        change.note = answer.note
    if answer.pending and change.action is Action.NOOP:
        change.action = Action.UPDATE
