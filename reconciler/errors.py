"""The one exception tree of reconciler, and the Diagnostic that user mistakes become.

Every error a user can see derives from `ReconcilerError`; the CLI (`reconciler.cli`) is the only
place that turns one into text and an exit code (1), never a traceback. User mistakes are
collected as `Diagnostic`s so a run reports them all at once; cloud errors say which call failed
on which resource and whether a retry may help. Every message is scrubbed of the run's secrets
before it is printed.

    ReconcilerError                  every error a user sees: "Error: ..." and exit code 1
    ├── UsageError                   a bad command line: option, value, address; printed with usage
    │   └── AddressError             "x" is not a resource address (also a ValueError)
    ├── ConfigError                  file:line diagnostics, every one of a run at once
    │   ├── ExprParseError           an expression this tool cannot parse
    │   └── EvalError                an expression that cannot be evaluated (one diagnostic)
    ├── FunctionError                a function refused its arguments; the evaluator turns it into
    │                                an EvalError at the call's position
    ├── CloudError                   a cloud call failed: retryable, permanent or unreachable
    ├── OwnershipError               the object lacks this stack's ownership tag
    ├── StateError                   the state is unreadable, foreign, or could not be written
    │   └── LockError                the state lock is held; names the holder
    ├── PlanFileError                a plan file that is missing, foreign, older or newer
    │   └── StalePlanError           a saved plan the world has moved away from
    ├── InconsistentPlanError        apply evaluates the configuration differently from the plan
    ├── NameClashError               two resources of the stack would name one cloud object
    ├── RolloutError
    │   ├── RolloutFailedError       a rollout did not complete; says what failed and was restored
    │   └── RollbackUnavailable      a requested rollback cannot be done
    ├── SandboxError                 the local sandbox could not be started, reached or used
    └── ApplyError                   apply stopped; carries each failure (one of the above)

Internal signals, never shown to a user, each converted by the module named:
`ConversionError` (expressions.coerce; callers word it as a diagnostic), `NumberError`
(expressions.numbers → EvalError), `TemplateSyntaxError` (expressions.templates → ExprParseError),
`SourceEncodingError` (sourcetext → a Diagnostic naming the byte), `TypeSpecError` (config.types →
Diagnostic), `StepFailed` (rollout.waits → a rollout's failure text), `_InstanceFailures` and
`_Skipped` (applying.executor → ApplyError). Callers: every package raises these.
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


class UsageError(ReconcilerError):
    """The command line is wrong. `usage` is the usage line of the (sub)command concerned, when
    the parser found the mistake ("" for a value found wrong later, such as an address)."""

    def __init__(self, message: str, *, usage: str = "", prog: str = "reconciler") -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage
        self.prog = prog


class AddressError(UsageError, ValueError):
    """Text that is not a resource address."""


class ConfigError(ReconcilerError):
    """The configuration (or variables) is invalid; carries every diagnostic found in the run."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        first = diagnostics[0].summary if diagnostics else "invalid configuration"
        super().__init__(first)


class ExprParseError(ConfigError):
    """An expression that hcl2 parsed but this tool does not support (or invalid text)."""


class EvalError(ConfigError):
    """An expression could not be evaluated; carries exactly one Diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__([diagnostic])
        self.diagnostic = diagnostic


class FunctionError(ReconcilerError):
    """A function refused its arguments; `arg` is the 0-based index of the culprit if known."""

    def __init__(self, message: str, arg: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.arg = arg


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


class LockError(StateError):
    """The state lock is held by someone else."""

    def __init__(self, message: str, holder: LockHolder | None = None) -> None:
        self.holder = holder
        super().__init__(message)


class PlanFileError(ReconcilerError):
    """A plan file that cannot be read: missing, not JSON, another format, a newer version."""


class StalePlanError(PlanFileError):
    """apply PLAN_FILE refused: the world moved since the plan was made."""

    def __init__(self, path: str, reasons: list[str]) -> None:
        self.reasons = list(reasons)
        super().__init__(stale_message(path, reasons))


def stale_message(path: str, reasons: list[str]) -> str:
    lines = [f"the saved plan {path} is stale; nothing was applied:"]
    lines += [f"  - {r}" for r in reasons]
    lines.append(f"Run `reconciler plan --out {path}` again and review the new plan.")
    return "\n".join(lines)


class InconsistentPlanError(ReconcilerError):
    """The configuration evaluated during apply differs from what the plan showed."""


class NameClashError(ReconcilerError):
    """Apply refused to create an object whose name another resource of the stack claims."""

    def __init__(self, clash: Diagnostic) -> None:
        where = f" (at {clash.pos})" if clash.pos is not None else ""
        super().__init__(f"{clash.summary}{where}: {clash.detail} Nothing was created for it.")
        self.diagnostic = clash


class RolloutError(ReconcilerError):
    """A fleet rollout went wrong."""


class RolloutFailedError(RolloutError):
    """A rollout did not complete; the message says what failed and what was restored."""


class RollbackUnavailable(RolloutError):
    """A requested rollback cannot be done (the kept previous group is gone)."""


class SandboxError(ReconcilerError):
    """The sandbox could not be started, reached or stopped."""


class ApplyError(ReconcilerError):
    """Apply stopped; carries the individual failures (each a CloudError or similar)."""

    def __init__(self, failures: list[tuple[str, Exception]]) -> None:
        self.failures = failures
        text = "; ".join(f"{addr}: {err}" for addr, err in failures)
        super().__init__(text or "apply failed")
