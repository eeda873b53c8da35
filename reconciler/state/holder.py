"""Who holds a state lock: made when a lock is taken, stored as JSON beside the lock (local file,
DynamoDB item or S3 object) and read back to name the holder to a refused run.
Callers: state.local, reconciler_aws.state_lock.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import uuid
from datetime import UTC, datetime

from reconciler.errors import LockHolder


def new_holder(command: str) -> LockHolder:
    try:
        who = getpass.getuser()
    except (OSError, KeyError):
        who = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return LockHolder(
        id=str(uuid.uuid4()),
        who=who,
        host=socket.gethostname(),
        pid=os.getpid(),
        command=command,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def holder_json(holder: LockHolder) -> str:
    record = {
        "id": holder.id,
        "who": holder.who,
        "host": holder.host,
        "pid": holder.pid,
        "command": holder.command,
        "created": holder.created,
    }
    return json.dumps(record, sort_keys=True)


def holder_from_json(text: str) -> LockHolder | None:
    try:
        raw = json.loads(text)
        return LockHolder(
            id=str(raw["id"]),
            who=str(raw["who"]),
            host=str(raw["host"]),
            pid=int(raw["pid"]),
            command=str(raw["command"]),
            created=str(raw["created"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
