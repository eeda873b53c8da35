"""The AWS session, its clients and the one way every AWS call is made.

One `AwsClients` per provider instance: a boto3 Session built from ProviderSettings (profile,
region; boto3's own chain otherwise: AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL; an explicit
`endpoint_url` overrides), clients created lazily under a lock (sessions are not thread-safe,
clients are) and cached per service, standard-mode retries, and a per-operation call counter fed
by a botocore `before-call` handler. `call` and `paginate` run inside `translate_errors`, so a
caller only ever sees `CloudError`. Callers: `providers.aws.provider.AwsProvider` and the per-type
modules (ami, vpc, subnets, launch_template).
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from typing import Any

import boto3
from botocore import xform_name
from botocore.config import Config

from providers.aws.errors import translate_errors
from providers.base import ProviderSettings

MAX_ATTEMPTS_ENV = "RECONCILER_AWS_MAX_ATTEMPTS"
DEFAULT_MAX_ATTEMPTS = 5
PAGE_SIZE = 200  # the AWS maximum for EC2 describes; moto truncates to MaxResults without a token


def max_attempts_from_env(default: int = DEFAULT_MAX_ATTEMPTS) -> int:
    raw = os.environ.get(MAX_ATTEMPTS_ENV, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        return default
    return max(1, value)


class AwsClients:
    """Lazily built, cached boto3 clients for one provider configuration, plus a call counter."""

    def __init__(self, settings: ProviderSettings, *, max_attempts: int | None = None) -> None:
        self.settings = settings
        self.calls: Counter[str] = Counter()
        self.max_attempts = max_attempts if max_attempts is not None else max_attempts_from_env()
        self.config = Config(
            # total_max_attempts counts the first attempt; botocore's `max_attempts` key counts retries
            retries={"mode": "standard", "total_max_attempts": self.max_attempts},
            connect_timeout=5,
            read_timeout=30,
        )
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._session: boto3.Session | None = None
        self._clients: dict[str, Any] = {}

    def _count(self, model: Any = None, **_: Any) -> None:
        if model is not None:
            with self._count_lock:  # clients are shared between the engine's worker threads
                self.calls[model.name] += 1

    def session(self) -> boto3.Session:
        with self._lock:
            return self._session_locked()

    def _session_locked(self) -> boto3.Session:
        if self._session is None:
            self._session = boto3.Session(
                profile_name=self.settings.profile or None,
                region_name=self.settings.region or None,
            )
        return self._session

    def client(self, service: str, *, call: str = "CreateClient") -> Any:
        """The cached client for `service`; errors (no region, bad profile) become CloudError."""
        with self._lock:
            cached = self._clients.get(service)
            if cached is not None:
                return cached
            with translate_errors(call, endpoint=self.settings.endpoint_url):
                client = self._session_locked().client(
                    service,  # type: ignore[call-overload]
                    endpoint_url=self.settings.endpoint_url or None,
                    config=self.config,
                )
            client.meta.events.register("before-call", self._count)
            self._clients[service] = client
            return client

    def region(self, service: str = "ec2") -> str:
        return str(self.client(service).meta.region_name or "")

    def call(self, service: str, operation: str, *, address: object = None, **kwargs: Any) -> dict[str, Any]:
        """One API call by its AWS operation name (`DescribeImages`); returns the parsed response."""
        client = self.client(service, call=operation)
        method = getattr(client, xform_name(operation))
        with translate_errors(operation, address=address, endpoint=client.meta.endpoint_url):
            response: dict[str, Any] = method(**kwargs)
        return response

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


__all__ = ["AwsClients", "max_attempts_from_env"]
