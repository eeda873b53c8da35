"""Typed resource addresses: `aws_fleet.web`, `aws_fleet.web["eu"]`, `data.aws_ami.app[0]`.

Parsed once from text (`Address.parse`) and printed back with `str()`; used as keys in plans and
state. Callers: config (block addresses), planning, applying, state, CLI (`--target`, `state rm`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum

from reconciler.errors import AddressError


class Mode(StrEnum):
    MANAGED = "managed"
    DATA = "data"


InstanceKey = int | str | None

_ADDR = re.compile(
    r"""^(?P<data>data\.)?(?P<type>[A-Za-z_][A-Za-z0-9_]*)\.(?P<name>[A-Za-z_][A-Za-z0-9_-]*)
        (?:\[(?P<key>\d+|"(?:[^"\\]|\\.)*")\])?$""",
    re.VERBOSE,
)


@dataclass(frozen=True, order=True)
class Address:
    """A resource or data source instance (or, with key None, the whole block)."""

    type: str
    name: str
    key: InstanceKey = None
    mode: Mode = Mode.MANAGED

    @classmethod
    def parse(cls, text: str) -> Address:
        m = _ADDR.match(text.strip())
        if not m:
            raise AddressError(f'"{text}" is not a resource address (expected TYPE.NAME or TYPE.NAME[KEY])')
        raw = m.group("key")
        key: InstanceKey = None
        if raw is not None:
            key = json.loads(raw) if raw.startswith('"') else int(raw)
        mode = Mode.DATA if m.group("data") else Mode.MANAGED
        return cls(type=m.group("type"), name=m.group("name"), key=key, mode=mode)

    @property
    def block(self) -> Address:
        """The address of the block this instance belongs to (key dropped)."""
        return Address(self.type, self.name, None, self.mode)

    def with_key(self, key: InstanceKey) -> Address:
        return Address(self.type, self.name, key, self.mode)

    def contains(self, other: Address) -> bool:
        """True if `other` is this address or an instance of this block (for --target)."""
        if self.key is None:
            return other.block == self.block
        return other == self

    def __str__(self) -> str:
        prefix = "data." if self.mode is Mode.DATA else ""
        text = f"{prefix}{self.type}.{self.name}"
        if isinstance(self.key, int):
            text += f"[{self.key}]"
        elif isinstance(self.key, str):
            text += f"[{json.dumps(self.key)}]"
        return text

    def sort_key(self) -> tuple[str, str, str, str]:
        k = "" if self.key is None else (f"{self.key:08d}" if isinstance(self.key, int) else self.key)
        return (self.mode.value, self.type, self.name, k)
