"""What leaves the process of a sensitive value: a keyed digest in plans and state, and nothing in
messages.

- `new_key()` makes the random key of a state lineage (kept in state, never in a plan file);
  `keyed_digest(value, key)` is HMAC-SHA256 of the value's canonical text under that key, so a
  digest cannot be reversed by hashing guesses without the key (a plain sha256 can).
- `conceal(value, key)` replaces every marked part of a value by its Digest (a marked UNKNOWN or
  null stays as it is: there is nothing to hide); plans and state only ever hold concealed values.
- `legacy_matches(digest, value)` recognises the plain `sha256:` digests older versions stored, so
  state written by them is migrated (replaced by keyed digests) on its next write.
- `redact(text, secrets)` removes secret texts from a message (cloud errors quote arguments);
  `REGISTRY` remembers the secrets a run has seen so the CLI can scrub any message it prints.

Callers: planning (planner, planfile), applying (executor), state (model), config (variables), cli.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Iterable
from typing import Any, Final

from reconciler.values import (
    PLAIN,
    SENSITIVE_PREFIX,
    Digest,
    Path,
    Sensitive,
    contains_unknown,
    get_path,
    mark_paths,
    marked_leaves,
    unmark_deep,
)

KEYED_PREFIX: Final = "hmac-sha256:"
STORED_KEY: Final = "__sensitive__"  # a Digest in JSON: {"__sensitive__": "hmac-sha256:..."}
REDACTED: Final = "(sensitive value)"
SHORT_SECRET = 4  # shorter secret texts are not searched for in messages: they would match anywhere


def new_key() -> str:
    """A fresh random key for a state lineage (hex)."""
    return secrets.token_hex(32)


def canonical(value: Any) -> bytes:
    """The bytes a value is digested as: a string as itself, anything else as sorted JSON."""
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def keyed_digest(value: Any, key: str) -> Digest:
    """HMAC-SHA256 of `value` (marks stripped) under the lineage key."""
    plain, _ = unmark_deep(value)
    mac = hmac.new(bytes.fromhex(key), canonical(plain), hashlib.sha256).hexdigest()
    return Digest(KEYED_PREFIX + mac)


def conceal(value: Any, key: str) -> Any:
    """`value` with every marked part replaced by its keyed Digest (marked UNKNOWNs stay UNKNOWN)."""
    if isinstance(value, Digest):
        return value
    if isinstance(value, Sensitive):
        plain, _ = unmark_deep(value)
        if plain is None or contains_unknown(plain):
            return plain  # nothing to hide yet (or at all)
        return keyed_digest(plain, key)
    if isinstance(value, dict):
        return {k: v if isinstance(v, PLAIN) else conceal(v, key) for k, v in value.items()}
    if isinstance(value, list):
        return [v if isinstance(v, PLAIN) else conceal(v, key) for v in value]
    return value


def conceal_like(value: Any, paths: Iterable[Path], key: str) -> Any:
    """`value` marked at `paths` (where a configuration or a schema says it is sensitive), concealed."""
    return conceal(mark_paths(value, list(paths)), key)


def mark_schema(attributes: dict[str, Any], sensitive: Iterable[str]) -> dict[str, Any]:
    """Attributes (as a provider reports or is given them) with the schema's sensitive ones marked."""
    paths: list[Path] = [(name,) for name in sensitive if attributes.get(name) is not None]
    return dict(mark_paths(dict(attributes), paths)) if paths else dict(attributes)


def reveal(value: Any, *, what: str) -> Any:
    """`value` without its marks, for a provider or a backend (the one place secrets leave as
    themselves); remembered by the run's registry so no message shows them. A Digest cannot be
    revealed: StateError saying which value is only stored as a digest."""
    plain, paths = unmark_deep(value)
    if not paths:
        return plain
    REGISTRY.remember(value)
    if digest_paths(value):
        from reconciler.errors import StateError

        raise StateError(
            f"{what} needs a sensitive value that state holds only as a digest "
            f"({', '.join('.'.join(map(str, p)) or '(whole)' for p in digest_paths(value))}); "
            "run plan and apply again so it is evaluated from the configuration"
        )
    return plain


def digest_paths(value: Any, prefix: Path = ()) -> list[Path]:
    """Where a (concealed) value holds Digests."""
    found: list[Path] = []
    _digests(value, prefix, found)
    return found


def _digests(value: Any, path: Path, found: list[Path]) -> None:
    if isinstance(value, Digest):
        found.append(path)
    elif isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(v, PLAIN):
                _digests(v, (*path, k), found)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if not isinstance(v, PLAIN):
                _digests(v, (*path, i), found)


def is_legacy(value: Any) -> bool:
    """A plain `sha256:` digest string left by an older version (or a Digest holding one)."""
    text = value.text if isinstance(value, Digest) else value
    return isinstance(text, str) and text.startswith(SENSITIVE_PREFIX) and len(text) == 71


def holds_legacy(value: Any) -> bool:
    """Whether an older version's plain digest sits anywhere in `value`."""
    if isinstance(value, dict):
        return any(holds_legacy(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_legacy(v) for v in value)
    return is_legacy(value)


def legacy_matches(stored: Any, value: Any) -> bool:
    """True when `stored` is an older version's plain digest of `value`."""
    if not is_legacy(stored):
        return False
    plain, _ = unmark_deep(value)
    if plain is None or contains_unknown(plain):
        return False
    text = stored.text if isinstance(stored, Digest) else stored
    data = plain if isinstance(plain, bytes) else str(plain).encode()
    return hmac.compare_digest(text, SENSITIVE_PREFIX + hashlib.sha256(data).hexdigest())


def migrate_legacy(stored: Any, observed: Any, key: str) -> Any:
    """`stored` with each older-version digest that matches `observed` (at the same place) replaced
    by the keyed digest, so state written by those versions compares equal without re-applying."""
    if is_legacy(stored):
        return keyed_digest(observed, key) if legacy_matches(stored, observed) else stored
    if isinstance(stored, dict):
        return {k: migrate_legacy(v, get_path(observed, (k,)), key) for k, v in stored.items()}
    return stored


def to_json(value: Any) -> Any:
    """A concealed value in its JSON form (Digests as {"__sensitive__": text}). A marked value that
    was not concealed is a bug; it is written as a digest of nothing, never as itself."""
    if isinstance(value, Digest):
        return {STORED_KEY: value.text}
    if isinstance(value, Sensitive):
        return {STORED_KEY: ""}
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def from_json(value: Any, *, legacy: bool = False) -> Any:
    """The inverse of to_json; with `legacy`, an older version's `sha256:` strings become Digests."""
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get(STORED_KEY), str):
            return Digest(value[STORED_KEY])
        return {k: from_json(v, legacy=legacy) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v, legacy=legacy) for v in value]
    if legacy and is_legacy(value):
        return Digest(value)
    return value


# ---- messages ----------------------------------------------------------------------------------


def secret_texts(values: Iterable[Any]) -> set[str]:
    """The texts under marks in `values` (and the forms a message may quote them in)."""
    out: set[str] = set()
    for value in values:
        for leaf in marked_leaves(value):
            out.update(_forms(leaf))
    return out


def _forms(leaf: Any) -> set[str]:
    text = leaf if isinstance(leaf, str) else json.dumps(leaf, default=str)
    if not text:
        return set()
    forms = {text, json.dumps(text)[1:-1], repr(text)[1:-1]}
    forms.add(base64.b64encode(text.encode()).decode())
    return {f for f in forms if f}


def redact(text: str, secret_texts_: Iterable[str]) -> str:
    """`text` with every secret text cut out (longest first). Texts shorter than SHORT_SECRET are
    left alone: "1" or "80" would match anywhere; messages built from marked values never show
    those anyway (values.SHOWN), this is the net for messages that quote arguments."""
    found = sorted((s for s in secret_texts_ if len(s) >= SHORT_SECRET and s in text), key=len, reverse=True)
    for s in found:
        text = text.replace(s, REDACTED)
    return text


class SecretRegistry:
    """The secrets one CLI run has seen (sensitive variables, values handed to providers), so the
    CLI can scrub every message it prints. Reset at the start of each run."""

    def __init__(self) -> None:
        self._texts: set[str] = set()
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._texts = set()

    def remember(self, *values: Any) -> None:
        """Remember the marked parts of `values` (plain values: remember them whole)."""
        texts = secret_texts(v if _has_mark(v) else Sensitive(v) for v in values)
        with self._lock:
            self._texts |= texts

    def scrub(self, text: str) -> str:
        with self._lock:
            known = set(self._texts)
        return redact(text, known) if known else text


def _has_mark(value: Any) -> bool:
    return bool(unmark_deep(value)[1])


REGISTRY: Final = SecretRegistry()
