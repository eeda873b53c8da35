"""Plan model ↔ JSON-safe dicts, for saved plan files.

UNKNOWN is written as {"__unknown__": true} and read back as UNKNOWN; addresses as their text,
parsed back with Address.parse; enums as their values. Sensitive values leave only as the keyed
digests the planner made of them (values.Digest, written {"__sensitive__": "hmac-sha256:..."}). As
a safety net, anything at a change's `sensitive_paths`, in a sensitive diff or a sensitive output
that is not a Digest, and any marked value that was not concealed, is written as a
{"__redacted__": true} marker instead of itself; that marker (also planfile's net for sensitive
variable values) reads back as UNKNOWN. Callers: planning.planfile.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict
from typing import Any

from reconciler.address import Address
from reconciler.planning.model import (
    Action,
    ActionReason,
    AttributeDiff,
    DataRead,
    DriftEntry,
    DriftKind,
    OutputChange,
    ResourceChange,
)
from reconciler.rollout.change import CleanupChange, RolloutChange
from reconciler.sdk import Label
from reconciler.sensitive import STORED_KEY, is_legacy
from reconciler.values import UNKNOWN, Digest, Sensitive

UNKNOWN_KEY = "__unknown__"
REDACTED_KEY = "__redacted__"
SENSITIVE_KEY = STORED_KEY


def encode_value(value: Any) -> Any:
    if value is UNKNOWN:
        return {UNKNOWN_KEY: True}
    if isinstance(value, Digest):
        return {SENSITIVE_KEY: value.text}
    if isinstance(value, Sensitive):
        return {REDACTED_KEY: True}  # never concealed: a bug, but never the value itself
    if isinstance(value, Address):
        return str(value)
    if isinstance(value, dict):
        return {str(k): encode_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode_value(v) for v in value]
    return value


def hide_value(value: Any) -> Any:
    """A sensitive value as the planner's Digest of it; anything else there becomes a marker."""
    if value is None or value is UNKNOWN or isinstance(value, Digest):
        return value
    if is_legacy(value):
        return Digest(value)
    return {REDACTED_KEY: True}


def _hide_attrs(attrs: dict[str, Any] | None, sensitive: Collection[str]) -> Any:
    if attrs is None:
        return None
    return encode_value({k: (hide_value(v) if k in sensitive else v) for k, v in attrs.items()})


def _diff_to_dict(d: AttributeDiff) -> dict[str, Any]:
    before, after = (hide_value(d.before), hide_value(d.after)) if d.sensitive else (d.before, d.after)
    return {
        "path": d.path,
        "before": encode_value(before),
        "after": encode_value(after),
        "unknown": d.unknown,
        "sensitive": d.sensitive,
        "forces_replacement": d.forces_replacement,
    }


def change_to_dict(c: ResourceChange) -> dict[str, Any]:
    return {
        "address": str(c.address),
        "action": c.action.value,
        "type": c.type_name,
        "provider": c.provider,
        "reason": c.reason.value,
        "id": c.id,
        "before": _hide_attrs(c.before, c.sensitive_paths),
        "after": _hide_attrs(c.after, c.sensitive_paths),
        "diffs": [_diff_to_dict(d) for d in c.diffs],
        "replace_paths": list(c.replace_paths),
        "sensitive_paths": list(c.sensitive_paths),
        "depends_on": list(c.depends_on),
        "create_before_destroy": c.create_before_destroy,
        "note": c.note,
        "rollout": c.rollout.to_dict() if c.rollout is not None else None,
        "cleanup": c.cleanup.to_dict() if c.cleanup is not None else None,
        "payload": encode_value(c.payload),
        "lines": list(c.lines),
        "warnings": list(c.warnings),
    }


def data_to_dict(d: DataRead) -> dict[str, Any]:
    return {
        "address": str(d.address),
        "type": d.type_name,
        "attributes": encode_value(d.attributes),
        "explanation": d.explanation,
        "deferred": d.deferred,
        "previous": encode_value(d.previous),
        "fingerprint": d.fingerprint,
    }


def output_to_dict(o: OutputChange) -> dict[str, Any]:
    if o.sensitive:
        before, after = (_sensitive_output(o.before), _sensitive_output(o.after))
    else:
        before, after = encode_value(o.before), encode_value(o.after)
    return {"name": o.name, "before": before, "after": after, "sensitive": o.sensitive}


def _sensitive_output(value: Any) -> Any:
    return encode_value(hide_value(value))


def drift_to_dict(d: DriftEntry) -> dict[str, Any]:
    return {
        "address": str(d.address),
        "kind": d.kind,
        "diffs": [_diff_to_dict(x) for x in d.diffs],
        "after": encode_value(d.after),
    }


def decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(UNKNOWN_KEY) is True or REDACTED_KEY in value:
            return UNKNOWN
        if len(value) == 1 and isinstance(value.get(SENSITIVE_KEY), str):
            return Digest(value[SENSITIVE_KEY])
        return {k: decode_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    return value


def decode_attrs(value: Any) -> dict[str, Any] | None:
    return None if value is None else dict(decode_value(value))


def _diff_from_dict(d: dict[str, Any]) -> AttributeDiff:
    return AttributeDiff(
        path=str(d["path"]),
        before=decode_value(d["before"]),
        after=decode_value(d["after"]),
        unknown=bool(d["unknown"]),
        sensitive=bool(d["sensitive"]),
        forces_replacement=bool(d["forces_replacement"]),
    )


def change_from_dict(c: dict[str, Any]) -> ResourceChange:
    return ResourceChange(
        address=Address.parse(c["address"]),
        action=Action(c["action"]),
        type_name=str(c["type"]),
        provider=str(c["provider"]),
        reason=ActionReason(c["reason"]),
        id=c["id"],
        before=decode_attrs(c["before"]),
        after=decode_attrs(c["after"]),
        diffs=[_diff_from_dict(d) for d in c["diffs"]],
        replace_paths=list(c["replace_paths"]),
        sensitive_paths=list(c["sensitive_paths"]),
        depends_on=list(c["depends_on"]),
        create_before_destroy=bool(c["create_before_destroy"]),
        note=str(c["note"]),
        rollout=RolloutChange.from_dict(c["rollout"]) if c["rollout"] is not None else None,
        cleanup=CleanupChange.from_dict(c["cleanup"]) if c["cleanup"] is not None else None,
        payload=decode_attrs(c.get("payload")),
        lines=[str(line) for line in c.get("lines", [])],
        warnings=[str(w) for w in c.get("warnings", [])],
    )


def labels_to_dict(labels: Mapping[str, Label]) -> dict[str, Any]:
    return {i: asdict(label) for i, label in sorted(labels.items())}


def labels_from_dict(raw: Mapping[str, Any]) -> dict[str, Label]:
    return {str(i): Label(**{**dict(v), "facts": tuple(dict(v).get("facts") or ())}) for i, v in raw.items()}


def data_from_dict(d: dict[str, Any]) -> DataRead:
    return DataRead(
        address=Address.parse(d["address"]),
        type_name=str(d["type"]),
        attributes=dict(decode_value(d["attributes"])),
        explanation=str(d["explanation"]),
        deferred=bool(d["deferred"]),
        previous=decode_attrs(d["previous"]),
        fingerprint=str(d["fingerprint"]),
    )


def output_from_dict(o: dict[str, Any]) -> OutputChange:
    return OutputChange(
        name=str(o["name"]),
        before=decode_value(o["before"]),
        after=decode_value(o["after"]),
        sensitive=bool(o["sensitive"]),
    )


def drift_from_dict(d: dict[str, Any]) -> DriftEntry:
    return DriftEntry(
        address=Address.parse(d["address"]),
        kind=DriftKind(str(d["kind"])),
        diffs=[_diff_from_dict(x) for x in d["diffs"]],
        after=decode_attrs(d["after"]),
    )
