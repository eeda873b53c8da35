"""Pure decision functions: attribute diffs and the action a resource instance needs.

No I/O here: every function takes plain data and returns plain data, and is tested with tables
(tests/planning/test_decide.py). Callers: planning.planner.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from reconciler.planning.model import Action, ActionReason, AttributeDiff
from reconciler.values import Digest, contains_unknown

_DIGEST = "\0digest\0"  # a Digest while deepdiff looks (it would look inside the object)


def _flat(value: Any) -> Any:
    if isinstance(value, Digest):
        return _DIGEST + value.text
    if isinstance(value, dict):
        return {k: _flat(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_flat(v) for v in value]
    return value


def _unflat(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_DIGEST):
        return Digest(value[len(_DIGEST) :])
    if isinstance(value, dict):
        return {k: _unflat(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unflat(v) for v in value]
    return value


def _path_text(parts: list[Any]) -> str:
    return ".".join(str(p) for p in parts)


def _leaf_diffs(name: str, before: Any, after: Any) -> list[tuple[str, Any, Any]]:
    """Leaf-level changes inside one attribute, via deepdiff (dicts by key, lists by position)."""
    if (
        not isinstance(before, dict | list)
        or not isinstance(after, dict | list)
        or type(before) is not type(after)
    ):
        return [(name, before, after)]
    if isinstance(before, list) and len(before) != len(after):
        return [(name, before, after)]
    from deepdiff import DeepDiff  # only when a nested attribute differs: a no-change plan needs none

    tree = DeepDiff(_flat(before), _flat(after), view="tree", ignore_order=False)
    out: list[tuple[str, Any, Any]] = []
    for report in tree.values():
        for item in report:
            parts = item.path(output_format="list")
            b = None if type(item.t1).__name__ == "NotPresent" else _unflat(item.t1)
            a = None if type(item.t2).__name__ == "NotPresent" else _unflat(item.t2)
            out.append((_path_text([name, *parts]), b, a))
    return sorted(out, key=lambda t: t[0]) or [(name, before, after)]


def diff_attributes(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    *,
    arguments: Collection[str],
    sensitive: Collection[str] = (),
    force_new: Collection[str] = (),
    ignore: Collection[str] = (),
) -> list[AttributeDiff]:
    """Differences between prior and desired values of the configurable `arguments`.

    Computed attributes are not compared (they are not arguments). `ignore` (lifecycle
    ignore_changes) are skipped. An UNKNOWN anywhere in a desired value makes that whole
    attribute one unknown diff. Sensitive attributes (the schema's, and any part that is a
    Digest on either side) are compared as their digests and flagged.
    """
    before = before or {}
    after = after or {}
    diffs: list[AttributeDiff] = []
    for name in sorted(arguments):
        if name in ignore:
            continue
        b, a = before.get(name), after.get(name)
        flags = {"sensitive": name in sensitive, "forces_replacement": name in force_new}
        if contains_unknown(a):
            diffs.append(AttributeDiff(path=name, before=b, after=a, unknown=True, **flags))
            continue
        if b == a:
            continue
        if name in sensitive:
            diffs.append(AttributeDiff(path=name, before=b, after=a, **flags))
            continue
        for path, lb, la in _leaf_diffs(name, b, a):
            hidden = flags["sensitive"] or isinstance(lb, Digest) or isinstance(la, Digest)
            diffs.append(
                AttributeDiff(
                    path=path, before=lb, after=la, sensitive=hidden, forces_replacement=name in force_new
                )
            )
    return diffs


def decide_action(
    *,
    prior: Mapping[str, Any] | None,
    desired: Mapping[str, Any] | None,
    diffs: list[AttributeDiff],
    replace_requested: bool = False,
    existed_in_state: bool = False,
) -> tuple[Action, ActionReason, list[str]]:
    """The action for one resource instance, why, and which attributes force a replacement.

    prior: the refreshed cloud attributes (None: not in the cloud); desired: the evaluated
    configuration (None: no longer configured).
    """
    if desired is None:
        if prior is None:
            return Action.NOOP, ActionReason.NONE, []
        return Action.DELETE, ActionReason.DELETE_BECAUSE_NO_CONFIG, []
    if prior is None:
        reason = ActionReason.CREATE_BECAUSE_GONE if existed_in_state else ActionReason.NONE
        return Action.CREATE, reason, []
    if replace_requested:
        return Action.REPLACE, ActionReason.REPLACE_BY_REQUEST, []
    forcing = [d.path for d in diffs if d.forces_replacement]
    if forcing:
        return Action.REPLACE, ActionReason.REPLACE_BECAUSE_ATTRIBUTE, forcing
    if diffs:
        return Action.UPDATE, ActionReason.NONE, []
    return Action.NOOP, ActionReason.NONE, []
