"""The S3 state backend: the state as one S3 object, written only with conditional requests.

`backend "s3" { bucket, key, region, lock_table, encrypt, endpoint_url, profile }`. Every write
carries the ETag of the last read or write of this backend object (`If-Match`), and a write with
nothing read before it expects no object at all (`If-None-Match: *`), so a writer that lost a race
gets a clear StateError ("state changed since it was read: another run wrote serial N; run again")
instead of overwriting the winner: no update is ever lost, lock or not. Objects are written with
`ServerSideEncryption=AES256` unless `encrypt = false`. The lock lives in DynamoDB (`lock_table`)
or in a `<key>.lock` object (see `state_lock`).

The engine reaches this class through the `s3` backend plugin (reconciler_aws.plugin, a lazy import; the
engine never imports boto3). AWS settings follow the provider's: region from the block (else
AWS_REGION), endpoint from `endpoint_url` (else AWS_ENDPOINT_URL), every call through
`AwsClients`, so failures are CloudErrors. Callers: reconciler_aws.plugin (S3_BACKEND), tests.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.sdk import CloudError, LockHolder, State, StateError
from reconciler_aws.clients import AwsClients
from reconciler_aws.settings import S3_BACKEND_SETTINGS, AwsSettings
from reconciler_aws.state_lock import (
    S3_CONFLICT_CODES,
    DynamoLockStore,
    LockStore,
    S3LockStore,
    force_unlock,
    hold_lock,
)

SETTINGS = S3_BACKEND_SETTINGS
LOCK_SUFFIX = ".lock"


@dataclass(frozen=True)
class S3Config:
    """The validated `backend "s3"` block."""

    bucket: str
    key: str
    region: str | None = None
    lock_table: str | None = None
    encrypt: bool = True
    endpoint_url: str | None = None
    profile: str | None = None

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> S3Config:
        """Check names and types; StateError naming the first problem."""
        unknown = sorted(set(config) - set(SETTINGS))
        if unknown:
            known = ", ".join(SETTINGS)
            raise StateError(f'backend "s3" has no setting {unknown[0]!r}; it takes {known}')
        for required in ("bucket", "key"):
            if required not in config:
                raise StateError(f'backend "s3" needs {required} = "..."')
        encrypt = config.get("encrypt", True)
        if not isinstance(encrypt, bool):
            raise StateError(f'backend "s3": encrypt must be true or false, not {encrypt!r}')
        text: dict[str, str | None] = {}
        for name in ("bucket", "key", "region", "lock_table", "endpoint_url", "profile"):
            value = config.get(name)
            if value is None and name not in ("bucket", "key"):
                text[name] = None
                continue
            if not isinstance(value, str) or not value:
                raise StateError(f'backend "s3": {name} must be a non-empty string, not {value!r}')
            text[name] = value
        key = str(text["key"])
        if key.endswith("/"):
            raise StateError(f'backend "s3": key must name an object, not a folder ({key!r})')
        return cls(
            bucket=str(text["bucket"]),
            key=key,
            region=text["region"],
            lock_table=text["lock_table"],
            encrypt=encrypt,
            endpoint_url=text["endpoint_url"],
            profile=text["profile"],
        )

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def lock_id(self) -> str:
        """The DynamoDB LockID of this state, as Terraform names it."""
        return f"{self.bucket}/{self.key}"


class S3Backend:
    """State in S3 with conditional writes; lock in DynamoDB or in a lock object."""

    def __init__(
        self, config: S3Config, *, stack: str | None = None, clients: AwsClients | None = None
    ) -> None:
        self.config = config
        self.stack = stack
        self._clients = clients or AwsClients(
            AwsSettings(region=config.region, profile=config.profile, endpoint_url=config.endpoint_url)
        )
        self._guard = threading.Lock()
        self._etag: str | None = None  # of the object as last read or written; None: expect none

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, stack: str | None = None) -> S3Backend:
        return cls(S3Config.from_mapping(config), stack=stack)

    def describe(self) -> str:
        return f"s3 state {self.config.url}"

    @property
    def lock_store(self) -> LockStore:
        c = self.config
        if c.lock_table:
            return DynamoLockStore(self._clients, table=c.lock_table, lock_id=c.lock_id)
        return S3LockStore(self._clients, bucket=c.bucket, key=c.key + LOCK_SUFFIX, encrypt=c.encrypt)

    # -- reading and writing ---------------------------------------------------------------------

    def read(self) -> State | None:
        """The stored state (None when there is none); remembers its ETag for the next write."""
        with self._guard:
            found = self._get()
            if found is None:
                self._etag = None
                return None
            body, etag = found
            state = self._parse(body)
            self._etag = etag
            return state

    def _get(self) -> tuple[bytes, str] | None:
        c = self.config
        try:
            got = self._clients.call("s3", "GetObject", address=c.url, Bucket=c.bucket, Key=c.key)
        except CloudError as exc:
            if exc.code in ("NoSuchKey", "NotFound"):
                return None
            raise
        return bytes(got["Body"].read()), str(got["ETag"])

    def _parse(self, body: bytes) -> State:
        source = f"state object {self.config.url}"
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StateError(f"{source} is not valid JSON (not UTF-8 text): {exc}") from exc
        return State.from_json(text, source=source, expected_stack=self.stack)

    def write(self, state: State, *, text: str | None = None) -> None:
        """Store `state` exactly as given (`text`: its `to_json()`, when the caller has it), only
        over the object this backend last saw."""
        c = self.config
        body = (text if text is not None else state.to_json()).encode("utf-8")
        with self._guard:
            condition = {"IfMatch": self._etag} if self._etag is not None else {"IfNoneMatch": "*"}
            extra = {"ServerSideEncryption": "AES256"} if c.encrypt else {}
            try:
                put = self._clients.call(
                    "s3",
                    "PutObject",
                    address=c.url,
                    Bucket=c.bucket,
                    Key=c.key,
                    Body=body,
                    ContentType="application/json",
                    **condition,
                    **extra,
                )
            except CloudError as exc:
                if exc.code not in (*S3_CONFLICT_CODES, "NoSuchKey"):
                    raise
                self._etag = self._after_conflict(body)  # returns only if our own write landed
                return
            self._etag = str(put["ETag"])

    def _after_conflict(self, body: bytes) -> str:
        """A conditional write was refused: explain who won, unless the winner was this very write.

        A retried request whose first attempt landed is refused by its own precondition; the
        object then holds exactly our bytes and the write counts as done.
        """
        found = self._get()
        if found is not None and found[0] == body:
            return found[1]
        if found is None:
            raise StateError(
                f"state changed since it was read: another run deleted {self.describe()}; run again"
            )
        try:
            serial: object = self._parse(found[0]).serial
        except StateError:
            serial = "an unreadable state"
        raise StateError(
            f"state changed since it was read: another run wrote serial {serial} to {self.describe()}; "
            "run again"
        )

    # -- locking ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, *, command: str, timeout: float = 0.0) -> Iterator[LockHolder]:
        """Hold the state lock for the `with` block; LockError naming the holder if it is taken."""
        with hold_lock(self.lock_store, what=self.describe(), command=command, timeout=timeout) as holder:
            yield holder

    def current_lock(self) -> LockHolder | None:
        """Who holds the lock now, if anyone (for messages and tests)."""
        return self.lock_store.current()

    def force_unlock(self, lock_id: str) -> None:
        """Remove a lock left by a run that died; only the lock with this id."""
        force_unlock(self.lock_store, lock_id, what=self.describe())
