"""State locks in the cloud: a DynamoDB item or an S3 lock object, each naming its holder.

A lock is a record that only one writer can create: a DynamoDB item `LockID = "<bucket>/<key>"`
put with `attribute_not_exists(LockID)`, or an object `<key>.lock` put with `If-None-Match: *`.
The record is the holder (user, host, pid, command, time, id) as JSON, so a refused run can name
whom it waits for, and release deletes it only while it is still the holder's own (condition on
the holder id, or `If-Match` on the lock object's ETag). Unlike the local OS lock, a cloud lock
outlives a killed process: `force_unlock(lock_id)` removes it, and refuses any other id.

`hold_lock` is the waiting loop shared by both stores: try, name the holder, poll until
`timeout`. Callers: `reconciler_aws.state_backend.S3Backend`.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from typing import Protocol

from reconciler.sdk import (
    CloudError,
    LockError,
    LockHolder,
    StateError,
    holder_from_json,
    holder_json,
    new_holder,
)
from reconciler_aws.clients import AwsClients

_FIRST_POLL = 0.1  # seconds between tries while waiting; grows to _MAX_POLL
_MAX_POLL = 1.0
_VANISHED_RETRIES = 5  # the holder released between our try and our look: try again at once
# Codes that mean "someone else's record is there" for a conditional create or delete.
S3_CONFLICT_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})
_DYNAMO_CONFLICT = "ConditionalCheckFailedException"


class LockStore(Protocol):
    """Where one lock record lives."""

    def where(self) -> str: ...

    def try_acquire(self, holder: LockHolder) -> bool: ...

    def current(self) -> LockHolder | None: ...

    def release(self, holder_id: str) -> bool: ...


class DynamoLockStore:
    """The lock as a DynamoDB item keyed `LockID`, like Terraform's S3 backend lock table."""

    def __init__(self, clients: AwsClients, *, table: str, lock_id: str) -> None:
        self._clients = clients
        self.table = table
        self.lock_id = lock_id

    def where(self) -> str:
        return f"DynamoDB table {self.table}, LockID {self.lock_id}"

    def try_acquire(self, holder: LockHolder) -> bool:
        try:
            self._clients.call(
                "dynamodb",
                "PutItem",
                address=self.lock_id,
                TableName=self.table,
                Item={
                    "LockID": {"S": self.lock_id},
                    "HolderId": {"S": holder.id},
                    "Info": {"S": holder_json(holder)},
                },
                ConditionExpression="attribute_not_exists(LockID)",
            )
        except CloudError as exc:
            if exc.code == _DYNAMO_CONFLICT:
                return False
            raise
        return True

    def current(self) -> LockHolder | None:
        got = self._clients.call(
            "dynamodb",
            "GetItem",
            address=self.lock_id,
            TableName=self.table,
            Key={"LockID": {"S": self.lock_id}},
            ConsistentRead=True,
        )
        info = got.get("Item", {}).get("Info", {}).get("S")
        if info is None:
            return None
        return holder_from_json(info) or _unreadable_holder(got["Item"].get("HolderId", {}).get("S", "?"))

    def release(self, holder_id: str) -> bool:
        try:
            self._clients.call(
                "dynamodb",
                "DeleteItem",
                address=self.lock_id,
                TableName=self.table,
                Key={"LockID": {"S": self.lock_id}},
                ConditionExpression="HolderId = :id",
                ExpressionAttributeValues={":id": {"S": holder_id}},
            )
        except CloudError as exc:
            if exc.code == _DYNAMO_CONFLICT:
                return False
            raise
        return True


class S3LockStore:
    """The lock as an object `<key>.lock` next to the state, created with `If-None-Match: *`."""

    def __init__(self, clients: AwsClients, *, bucket: str, key: str, encrypt: bool) -> None:
        self._clients = clients
        self.bucket = bucket
        self.key = key
        self.encrypt = encrypt

    def where(self) -> str:
        return f"lock object s3://{self.bucket}/{self.key}"

    def try_acquire(self, holder: LockHolder) -> bool:
        extra = {"ServerSideEncryption": "AES256"} if self.encrypt else {}
        try:
            self._clients.call(
                "s3",
                "PutObject",
                address=f"s3://{self.bucket}/{self.key}",
                Bucket=self.bucket,
                Key=self.key,
                Body=holder_json(holder).encode("utf-8"),
                ContentType="application/json",
                IfNoneMatch="*",
                **extra,
            )
        except CloudError as exc:
            if exc.code in S3_CONFLICT_CODES:
                return False
            raise
        return True

    def _read(self) -> tuple[LockHolder, str] | None:
        try:
            got = self._clients.call(
                "s3", "GetObject", address=f"s3://{self.bucket}/{self.key}", Bucket=self.bucket, Key=self.key
            )
        except CloudError as exc:
            if exc.code in ("NoSuchKey", "NotFound"):
                return None
            raise
        body = got["Body"].read().decode("utf-8", errors="replace")
        return holder_from_json(body) or _unreadable_holder("?"), str(got.get("ETag", ""))

    def current(self) -> LockHolder | None:
        found = self._read()
        return found[0] if found is not None else None

    def release(self, holder_id: str) -> bool:
        found = self._read()
        if found is None or found[0].id != holder_id:
            return False
        try:
            # If-Match: delete exactly the record we looked at, never a newer holder's.
            self._clients.call(
                "s3",
                "DeleteObject",
                address=f"s3://{self.bucket}/{self.key}",
                Bucket=self.bucket,
                Key=self.key,
                IfMatch=found[1],
            )
        except CloudError as exc:
            if exc.code in S3_CONFLICT_CODES or exc.code == "NoSuchKey":
                return False
            raise
        return True


@contextlib.contextmanager
def hold_lock(store: LockStore, *, what: str, command: str, timeout: float) -> Iterator[LockHolder]:
    """Take the lock (waiting up to `timeout` seconds), yield the holder record, release it."""
    holder = new_holder(command)
    deadline = time.monotonic() + max(timeout, 0.0)
    delay = _FIRST_POLL
    vanished = 0
    while not store.try_acquire(holder):
        current = store.current()
        if current is not None and current.id == holder.id:
            break  # a retried request whose first attempt took the lock: it is ours
        if current is None and vanished < _VANISHED_RETRIES:
            vanished += 1  # released between our try and our look: try again at once
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise locked_error(current, what=what)
        time.sleep(min(remaining, delay * random.uniform(0.5, 1.0)))
        delay = min(delay * 1.5, _MAX_POLL)
        vanished = 0
    try:
        yield holder
    except BaseException:
        with contextlib.suppress(CloudError):  # the original error matters more than the release
            store.release(holder.id)
        raise
    store.release(holder.id)  # False: someone force-unlocked it meanwhile; nothing left to do


def force_unlock(store: LockStore, lock_id: str, *, what: str) -> LockHolder:
    """Remove the lock only if its id is `lock_id`; returns the holder that was removed."""
    holder = store.current()
    if holder is None:
        raise StateError(f"{what} has no lock ({store.where()}); nothing to unlock")
    if holder.id != lock_id:
        raise StateError(
            f"lock id {lock_id} does not match the lock on {what} (id {holder.id}, held by "
            f"{holder.describe()}); nothing was unlocked"
        )
    if not store.release(lock_id):
        raise StateError(f"the lock on {what} changed while it was being released; look again")
    return holder


def locked_error(holder: LockHolder | None, *, what: str) -> LockError:
    hint = "Another reconciler run is using this state; wait for it or retry with --lock-timeout"
    if holder is None:
        return LockError(f"state is locked by an unknown process ({what}). {hint}")
    return LockError(
        f"state is locked by {holder.describe()}; lock id {holder.id}. {hint}. If that run crashed, "
        f"`reconciler force-unlock {holder.id}` releases the lock",
        holder=holder,
    )


def _unreadable_holder(lock_id: str) -> LockHolder:
    return LockHolder(id=lock_id, who="unknown", host="unknown", pid=0, command="unknown", created="unknown")
