"""What `reconciler ami list` needs from a provider whose type lists images.

`ImageLister` is implemented by a live provider (the AWS one lists AMIs): the candidates an image
query finds, newest first in the order its lookup chooses by, each eligible or excluded with the
reason; and the query in words. Callers: the CLI's `ami list`, provider packages (implement).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from reconciler.address import Address

__all__ = ["ImageCandidate", "ImageLister"]


@dataclass(frozen=True)
class ImageCandidate:
    image_id: str
    name: str
    version: str | None  # the version tag as written (None when the image has none)
    creation_date: str
    excluded: str = ""  # why the lookup would not take it; "" when eligible
    details: tuple[str, ...] = ()  # the provider's lines on it (root device, sharing, uses)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.image_id,
            "name": self.name,
            "version": self.version,
            "creation_date": self.creation_date,
            "excluded": self.excluded or None,
            "details": list(self.details),
        }


@runtime_checkable
class ImageLister(Protocol):
    def list_images(
        self, *, config: Mapping[str, Any], version_tag: str | None = None, address: Address | None = None
    ) -> list[ImageCandidate]:
        """The images the query `config` (an image lookup's arguments) finds, classified."""
        ...

    def name_query(self, pattern: str, *, owners: Sequence[str]) -> dict[str, Any]:
        """The lookup arguments of images named like `pattern` (a glob) of `owners` (the
        provider's default owners when empty)."""
        ...

    def describe_image_query(self, config: Mapping[str, Any]) -> str:
        """The query in words, as the lookup's errors name it."""
        ...
