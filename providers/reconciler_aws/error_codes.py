"""AWS error codes: which are worth retrying and which mean "no such object". Pure, no botocore.

Callers: `reconciler_aws.errors.translate_errors` (classification) and the per-type modules
(`is_not_found` on a CloudError's code). Kept apart so that importing the schemas (`validate`)
does not import botocore.
"""

from __future__ import annotations

from reconciler.sdk import CloudError, CloudErrorKind

# Error codes AWS uses for "slow down".
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "RequestThrottled",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "EC2ThrottledException",
        "SlowDown",
        "PriorRequestNotComplete",
        "ProvisionedThroughputExceededException",
    }
)
# ... and for its own transient failures.
RETRYABLE_CODES = THROTTLING_CODES | frozenset(
    {
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
        "Unavailable",
    }
)


def is_not_found(err: CloudError) -> bool:
    """True for the codes AWS answers when an object named by id or name does not exist."""
    code = err.code or ""
    return code.endswith((".NotFound", ".NotFoundException")) or code == "NotFound"


def classify_client_error(*, code: str, status: int | None) -> CloudErrorKind:
    """RETRYABLE for throttling and server-side failures, PERMANENT for everything else."""
    if code in RETRYABLE_CODES or (status is not None and status >= 500):
        return CloudErrorKind.RETRYABLE
    return CloudErrorKind.PERMANENT
