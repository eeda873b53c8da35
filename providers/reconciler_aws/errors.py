"""Turn every botocore failure into a `reconciler.errors.CloudError`, in one place.

A cloud error names the API call, the resource address when known, the service's own code and
words, and whether retrying may help (RETRYABLE), cannot help (PERMANENT) or the endpoint did not
answer at all (UNREACHABLE); the codes themselves are classified in `error_codes`. Callers:
`reconciler_aws.clients.AwsClients` (every call and pagination runs inside `translate_errors`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.parsers import ResponseParserError

from reconciler.sdk import CloudError, CloudErrorKind
from reconciler_aws.error_codes import classify_client_error

_CREDENTIALS_HINT = (
    "no AWS credentials found; set AWS_PROFILE (or `profile` in the provider block), "
    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `reconciler sandbox start` for a local endpoint"
)
_REGION_HINT = "no AWS region configured; set `region` in the provider block, or AWS_REGION"


@contextmanager
def translate_errors(call: str, *, address: object = None, endpoint: str | None = None) -> Iterator[None]:
    """Run an AWS call; re-raise anything botocore throws as a CloudError naming `call`."""
    where = str(address) if address is not None else None
    try:
        yield
    except ClientError as exc:
        err = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = str(err.get("Code") or "Unknown")
        status = meta.get("HTTPStatusCode")
        message = str(err.get("Message") or exc)
        kind = classify_client_error(code=code, status=status)
        attempts = meta.get("RetryAttempts")
        if kind is CloudErrorKind.RETRYABLE and attempts:
            message += f" (still failing after {int(attempts) + 1} attempts)"
        raise CloudError(call=call, message=message, kind=kind, address=where, code=code) from exc
    except (
        EndpointConnectionError,
        ConnectTimeoutError,
        ReadTimeoutError,
        ConnectionClosedError,
        BotoConnectionError,
    ) as exc:
        url = getattr(exc, "kwargs", {}).get("endpoint_url") or endpoint or "the AWS endpoint"
        raise CloudError(
            call=call,
            message=f"could not reach {url}: {exc}",
            kind=CloudErrorKind.UNREACHABLE,
            address=where,
        ) from exc
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise CloudError(
            call=call, message=_CREDENTIALS_HINT, address=where, code=type(exc).__name__
        ) from exc
    except NoRegionError as exc:
        raise CloudError(call=call, message=_REGION_HINT, address=where, code="NoRegionError") from exc
    except ProfileNotFound as exc:
        raise CloudError(
            call=call, message=f"{exc}; check AWS_PROFILE or `profile`", address=where, code="ProfileNotFound"
        ) from exc
    except ResponseParserError as exc:
        raise CloudError(
            call=call,
            message=(
                "the endpoint answered with something that is not an AWS response (a local emulator "
                f"answers HTTP 500 to filters it does not implement): {str(exc).splitlines()[0]}"
            ),
            address=where,
            code="ResponseParserError",
        ) from exc
    except ParamValidationError as exc:
        raise CloudError(
            call=call, message=f"invalid request: {exc}", address=where, code="ParamValidationError"
        ) from exc
    except BotoCoreError as exc:
        raise CloudError(call=call, message=str(exc), address=where, code=type(exc).__name__) from exc
