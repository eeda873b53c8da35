"""The one exception tree of reconciler, and the Diagnostic that user mistakes become.

Callers: every package raises these; `cli.py` is the only place that turns them into text and exit
codes (via `render.diagnostics`). User mistakes are collected as `Diagnostic`s so a run reports them
all at once; cloud errors say which call failed on which resource and whether a retry may help.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class SourcePos:
    """A position in a configuration file; lines and columns count from 1."""

    file: Path
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file.name}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One user-facing problem: what, where, and (when known) what was probably meant."""

    summary: str
    pos: SourcePos | None = None
    detail: str = ""
    context: str = ""  # e.g. 'in resource "aws_launch_template" "web"'
    suggestion: str | None = None  # e.g. 'instance_type' for 'Did you mean "instance_type"?'
    severity: Severity = Severity.ERROR


class ReconcilerError(Exception):
    """Root of every error reconciler raises on purpose."""


class ConfigError(ReconcilerError):
    """The configuration (or variables) is invalid; carries every diagnostic found in the run."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        first = diagnostics[0].summary if diagnostics else "invalid configuration"
        super().__init__(first)


class CloudErrorKind(StrEnum):
    RETRYABLE = "retryable"  # throttling, 5xx, timeouts: the same call may succeed later
    PERMANENT = "permanent"  # validation, not found, access denied: it will not
    UNREACHABLE = "unreachable"  # the endpoint did not answer


@dataclass
class CloudError(ReconcilerError):
    """A cloud call failed: names the API call, the resource and the service's own words."""

    call: str
    message: str
    kind: CloudErrorKind = CloudErrorKind.PERMANENT
    address: str | None = None
    code: str | None = None

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f" for {self.address}" if self.address else ""
        code = f" ({self.code})" if self.code else ""
        return f"{self.call} failed{where}{code}: {self.message}"


class OwnershipError(ReconcilerError):
    """A resource exists in the cloud but does not carry this stack's ownership tag."""


class StateError(ReconcilerError):
    """The state file is unreadable, from another stack, or could not be written."""


@dataclass
class LockHolder:
    """Who holds a state lock; printed when another run is refused."""

    id: str
    who: str
    host: str
    pid: int
    command: str
    created: str

    def describe(self) -> str:
        return f"{self.who}@{self.host} (pid {self.pid}) running '{self.command}' since {self.created}"


class LockError(ReconcilerError):
    """The state lock is held by someone else."""

    def __init__(self, message: str, holder: LockHolder | None = None) -> None:
        self.holder = holder
        super().__init__(message)


class StalePlanError(ReconcilerError):
    """A saved plan no longer matches the world it was made against."""


class ApplyError(ReconcilerError):
    """Apply stopped; carries the individual failures (each a CloudError or similar)."""

    def __init__(self, failures: list[tuple[str, Exception]]) -> None:
        self.failures = failures
        text = "; ".join(f"{addr}: {err}" for addr, err in failures)
        super().__init__(text or "apply failed")
