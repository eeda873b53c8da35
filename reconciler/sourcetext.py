"""Reading text the user wrote (configuration, variable files, files read by `file()`) as UTF-8,
and saying where it is not.

`decode` gives the text, or raises `SourceEncodingError` carrying the line and column (counted in
characters, from 1) of the first byte that is not UTF-8, so the error points at it instead of at
line 1. A leading byte-order mark is dropped from configuration (editors on Windows write one);
`file()` keeps the bytes as they are. Callers:
config.loader (*.hcl files), config.variables (--var-file), expressions.functions (file,
templatefile).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_BOM = "\ufeff"
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class SourceEncodingError(Exception):
    """`path` is not UTF-8 from `line`:`column` on (the offending byte is `byte`)."""

    path: Path
    line: int
    column: int
    byte: int

    def __post_init__(self) -> None:
        super().__init__(self.describe())

    def describe(self) -> str:
        return (
            f"byte 0x{self.byte:02x} at line {self.line}, column {self.column} of {self.path.name} "
            "is not valid UTF-8"
        )


def decode(data: bytes, path: Path, *, strip_bom: bool = True) -> str:
    """`data` as text; SourceEncodingError at the first invalid byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
        line_start = data.rfind(b"\n", 0, start) + 1
        line = data.count(b"\n", 0, start) + 1
        column = len(data[line_start:start].decode("utf-8", errors="replace")) + 1
        raise SourceEncodingError(path, line, column, data[start]) from None
    return text.removeprefix(_BOM) if strip_bom else text


def read(path: Path, *, strip_bom: bool = True) -> str:
    """The file at `path` as text; OSError, or SourceEncodingError at the first invalid byte."""
    return decode(path.read_bytes(), path, strip_bom=strip_bom)


def undecodable_byte(text: str) -> int | None:
    """The first byte that was not UTF-8 in `text` decoded from the command line or environment
    (Python keeps such a byte as a lone surrogate, U+DC80-U+DCFF), else None."""
    found = _SURROGATE.search(text)
    if found is None:
        return None
    code = ord(found.group())
    return code - 0xDC00 if 0xDC80 <= code <= 0xDCFF else code


def without_lone_surrogates(value: Any) -> Any:
    """`value` (decoded JSON) with every lone surrogate escape ("\\ud800") in its strings
    replaced by U+FFFD, as Go's (and so Terraform's) JSON decoder does."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [without_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {without_lone_surrogates(k): without_lone_surrogates(v) for k, v in value.items()}
    return value
