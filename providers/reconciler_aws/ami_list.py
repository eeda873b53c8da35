"""Candidate images of an AMI query, for `reconciler ami list`: every image DescribeImages returns
for the query, newest first in the order the `aws_ami` lookup chooses by (version, creation date,
image id), each marked eligible or excluded with the reason (name_regex, a missing or invalid
version tag, the version constraint); the newest ones with details (ami_details: root device,
snapshots, copy source, launch permissions, what uses them).

The cloud call is the lookup's own (`ami.describe_images`, shared per provider), so a listing
and the lookups read in the same run see the same images; `classify` is pure.
Callers: AwsProvider (ImageLister, for the CLI's `ami list`), tests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from reconciler.sdk import Address
from reconciler.sdk.images import ImageCandidate
from reconciler_aws.ami import (
    AmiArgs,
    criteria_text,
    describe_images,
    image_version,
    order_key,
    parse_specifier,
)
from reconciler_aws.ami_details import DETAILED, details
from reconciler_aws.clients import AwsClients
from reconciler_aws.tags import tag_dict

Candidate = ImageCandidate


def describe_query(config: Mapping[str, Any]) -> str:
    """`owners=[self], name=app-*, version >=1.4,<2`: the query, as lookup errors name it."""
    return criteria_text(AmiArgs.model_validate(dict(config)))


def exclusion(image: Mapping[str, Any], args: AmiArgs) -> str:
    """Why the lookup `args` would not take `image` (after the server-side filters); "" if it would."""
    if args.name_regex and not re.search(args.name_regex, str(image.get("Name", ""))):
        return f"name does not match /{args.name_regex}/"
    if not args.version_tag:
        return ""
    version = image_version(image, args.version_tag)
    if version is None:
        raw = tag_dict(image.get("Tags")).get(args.version_tag)
        return f"no {args.version_tag} tag" if raw is None else f"{args.version_tag} {raw!r} is not a version"
    if args.version and not parse_specifier(args.version).contains(version, prereleases=True):
        return f"{args.version_tag} {version} not in {args.version}"
    return ""


def classify(
    images: Sequence[Mapping[str, Any]], args: AmiArgs, *, version_tag: str | None = None
) -> list[Candidate]:
    """Every image, newest first by (version, creation date, id), eligible or excluded by `args`.
    `version_tag` names the tag shown and ordered by when `args` has none (a plain name glob)."""
    tag = args.version_tag or version_tag
    ordered = sorted(images, key=lambda i: order_key(i, tag), reverse=True)
    return [
        Candidate(
            image_id=str(i.get("ImageId", "")),
            name=str(i.get("Name", "")),
            version=tag_dict(i.get("Tags")).get(tag) if tag else None,
            creation_date=str(i.get("CreationDate", "")),
            excluded=exclusion(i, args),
        )
        for i in ordered
    ]


def list_candidates(
    clients: AwsClients,
    *,
    config: Mapping[str, Any],
    version_tag: str | None = None,
    address: Address | None = None,
) -> list[Candidate]:
    """The images the query `config` (aws_ami arguments) finds, classified; one DescribeImages."""
    args = AmiArgs.model_validate(dict(config))
    images = describe_images(clients, args, address)
    found = classify(images, args, version_tag=version_tag)
    by_id = {str(i.get("ImageId")): i for i in images}
    detailed = details(clients, [by_id[c.image_id] for c in found[:DETAILED]])
    return [replace(c, details=detailed.get(c.image_id, ())) for c in found]
