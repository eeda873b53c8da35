"""The AWS session, its clients and the one way every AWS call is made.

One `AwsClients` per provider instance: a botocore session built from AwsSettings (profile,
region; the SDK's own chain otherwise: AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL; an explicit
`endpoint_url` overrides; botocore's session rather than boto3's, which adds only resources and
S3 transfer methods, never used here, and costs a tenth of a second of start-up to import),
clients created lazily under a lock (sessions are not thread-safe,
clients are) and cached per service, and a per-operation call counter fed by a botocore
`before-call` handler. `call`, `call_once` and `paginate` run inside `translate_errors`, so a
caller only ever sees `CloudError`.

Retries. Reads, polls and idempotent writes (`call`, `paginate`) use botocore's adaptive mode
(standard retries with exponential backoff and jitter, plus a client-side rate limiter that slows
down after throttling) with `max_attempts` attempts (10 unless RECONCILER_AWS_MAX_ATTEMPTS, or
botocore's AWS_MAX_ATTEMPTS, says otherwise), so a cloud that throttles 30 % of requests is
routine. The operations in `ONCE_ONLY` would be repeated by a blind resend after a lost answer (a
second group, an identical template version, a second decrement of a group's capacity), so `call`
refuses them and `call_once` sends them without botocore's resends: after a transient failure it
asks `took_effect` (a read) whether an earlier attempt went through, and only sends again when it
did not. Callers: `reconciler_aws.provider.AwsProvider` and the per-type modules.

Timestamps in answers are parsed by `parse_timestamp` (the ISO 8601 form AWS sends, by the
standard library; anything else by botocore's own parser): botocore's default goes through
dateutil, which cost a fifth of a second of CPU on the 2,000 timestamps of a 1,000-fleet refresh.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.config import Config
from botocore.utils import parse_timestamp as botocore_timestamp

from reconciler.sdk import CloudError, CloudErrorKind
from reconciler_aws.error_codes import THROTTLING_CODES
from reconciler_aws.errors import translate_errors
from reconciler_aws.settings import AwsSettings

MAX_ATTEMPTS_ENV = "RECONCILER_AWS_MAX_ATTEMPTS"
DEFAULT_MAX_ATTEMPTS = 10
PAGE_SIZE = 200  # the AWS maximum for EC2 describes; moto truncates to MaxResults without a token
MAX_BACKOFF_S = 20.0  # botocore's own cap
# Operations whose resend after a lost answer would act twice (or fail on what the first did):
# sent only through `call_once`. Creates without a ClientToken that moto honours, a terminate that
# decrements capacity, and detach/deregister calls that fail once the first attempt went through.
ONCE_ONLY = frozenset(
    {
        "CreateLaunchTemplate",
        "CreateLaunchTemplateVersion",
        "CreateAutoScalingGroup",
        "CreateTargetGroup",
        "TerminateInstanceInAutoScalingGroup",
        "DetachLoadBalancerTargetGroups",
        "DeregisterTargets",
    }
)
_TRANSIENT = (CloudErrorKind.RETRYABLE, CloudErrorKind.UNREACHABLE)


def parse_timestamp(value: str) -> datetime:
    """A timestamp of an answer as an aware datetime, as botocore's parser returns it."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        parsed = None
    if parsed is None or parsed.tzinfo is None:  # epoch seconds, or a form without a zone
        return botocore_timestamp(value)
    return parsed


def max_attempts_from_env(default: int = DEFAULT_MAX_ATTEMPTS) -> int:
    """RECONCILER_AWS_MAX_ATTEMPTS, else botocore's own AWS_MAX_ATTEMPTS, else `default`."""
    raw = os.environ.get(MAX_ATTEMPTS_ENV, "").strip() or os.environ.get("AWS_MAX_ATTEMPTS", "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        return default
    return max(1, value)


class AwsClients:
    """Lazily built, cached boto3 clients for one provider configuration, plus a call counter."""

    def __init__(self, settings: AwsSettings, *, max_attempts: int | None = None) -> None:
        self.settings = settings
        self.calls: Counter[str] = Counter()
        self.max_attempts = max_attempts if max_attempts is not None else max_attempts_from_env()
        self.config = Config(
            # total_max_attempts counts the first attempt; botocore's `max_attempts` key counts retries
            retries={"mode": "adaptive", "total_max_attempts": self.max_attempts},
            connect_timeout=5,
            read_timeout=30,
        )
        # ONCE_ONLY operations: one attempt per send; `call_once` decides about sending again
        self.once_config = self.config.merge(Config(retries={"mode": "adaptive", "total_max_attempts": 1}))
        self.sleep: Callable[[float], None] = time.sleep
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._session: botocore.session.Session | None = None
        self._clients: dict[tuple[str, bool], Any] = {}

    def _count(self, model: Any = None, **_: Any) -> None:
        if model is not None:
            with self._count_lock:  # clients are shared between the engine's worker threads
                self.calls[model.name] += 1

    def session(self) -> botocore.session.Session:
        with self._lock:
            return self._session_locked()

    def _session_locked(self) -> botocore.session.Session:
        if self._session is None:
            core = botocore.session.get_session()
            core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=parse_timestamp)
            if self.settings.profile:
                core.set_config_variable("profile", self.settings.profile)
            if self.settings.region:
                core.set_config_variable("region", self.settings.region)
            self._session = core
        return self._session

    def client(self, service: str, *, call: str = "CreateClient", once: bool = False) -> Any:
        """The cached client for `service` (`once`: the one that never resends by itself); errors
        (no region, bad profile) become CloudError."""
        with self._lock:
            cached = self._clients.get((service, once))
            if cached is not None:
                return cached
            with translate_errors(call, endpoint=self.settings.endpoint_url):
                client = self._session_locked().create_client(
                    service,
                    endpoint_url=self.settings.endpoint_url or None,
                    config=self.once_config if once else self.config,
                )
            client.meta.events.register("before-call", self._count)
            self._clients[(service, once)] = client
            return client

    def region(self, service: str = "ec2") -> str:
        return str(self.client(service).meta.region_name or "")

    def call(self, service: str, operation: str, *, address: object = None, **kwargs: Any) -> dict[str, Any]:
        """One API call by its AWS operation name (`DescribeImages`); returns the parsed response.
        Transient failures are retried by botocore (adaptive mode, `max_attempts`)."""
        if operation in ONCE_ONLY:
            raise ValueError(f"{operation} may act twice when resent: send it with call_once")
        client = self.client(service, call=operation)
        method = getattr(client, xform_name(operation))
        with translate_errors(operation, address=address, endpoint=client.meta.endpoint_url):
            response: dict[str, Any] = method(**kwargs)
        return response

    def call_once(
        self,
        service: str,
        operation: str,
        *,
        took_effect: Callable[[], bool],
        address: object = None,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """A call that must act at most once. Sent without botocore's resends; after a failure that
        may hide a success (throttling, 5xx, a dropped connection, or on a resend an error such as
        AlreadyExists that an earlier attempt would cause), `took_effect()` reads the cloud: True
        ends it (returns None: the caller reads what the earlier attempt made), False sends it
        again, up to `max_attempts` times. Permanent errors of the first attempt are raised as is."""
        client = self.client(service, call=operation, once=True)
        method = getattr(client, xform_name(operation))
        for attempt in range(1, self.max_attempts + 1):
            try:
                with translate_errors(operation, address=address, endpoint=client.meta.endpoint_url):
                    response: dict[str, Any] = method(**kwargs)
                return response
            except CloudError as err:
                transient = err.kind in _TRANSIENT
                if not transient and attempt == 1:
                    raise
                if took_effect():
                    return None
                if not transient or attempt == self.max_attempts:
                    raise
                base = 1.0 if err.code in THROTTLING_CODES else 0.05  # botocore's scales
                self.sleep(random.random() * min(MAX_BACKOFF_S, base * 2 ** (attempt - 1)))
        raise AssertionError("unreachable")

    def paginate(
        self,
        service: str,
        operation: str,
        *,
        result_key: str,
        address: object = None,
        page_size: int | None = PAGE_SIZE,
        **kwargs: Any,
    ) -> list[Any]:
        """Every item of `result_key` over all pages of a describe call."""
        client = self.client(service, call=operation)
        paginator = client.get_paginator(xform_name(operation))
        config = {"PageSize": page_size} if page_size else {}
        items: list[Any] = []
        with translate_errors(operation, address=address, endpoint=client.meta.endpoint_url):
            for page in paginator.paginate(**kwargs, PaginationConfig=config):
                items.extend(page.get(result_key, []))
        return items


__all__ = ["ONCE_ONLY", "AwsClients", "max_attempts_from_env"]
