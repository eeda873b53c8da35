"""Reads of `aws_launch_template`: batched lookups, default versions, observation.

Everything here is a read. The batch forms keep `refresh` at a constant number of calls: templates
are described by ownership-tag filter (or by id in chunks), with their current tags, and default
versions come from one DescribeLaunchTemplateVersions with `Versions=["$Default"]` and no template
id (AWS and moto answer with the default version of every template in the region). A template whose
latest version is not its default (an interrupted apply, or another writer) costs one more
DescribeLaunchTemplateVersions for the latest versions, whose digest the observation carries
(`latest_version_digest`). (moto 5.2 answers DescribeLaunchTemplates with the tags of creation; the
sandbox's server fixes that, see reconciler_aws.sandbox_server.) Callers:
`reconciler_aws.launch_template`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from reconciler.sdk import OWNER_STACK_TAG, CloudError, ObservedResource
from reconciler_aws.error_codes import is_not_found
from reconciler_aws.launch_template_data import observed_fields, version_digest
from reconciler_aws.settings import AwsSettings
from reconciler_aws.tags import ownership_of, tag_dict, user_tags

if TYPE_CHECKING:
    from reconciler_aws.clients import AwsClients

ID_CHUNK = 200  # ids a call, as many as a page (the sandbox pages like AWS: see sandbox_server)


def fingerprint(template: Mapping[str, Any]) -> str:
    return (
        f"{template['LaunchTemplateId']}:v{template.get('DefaultVersionNumber')}:"
        f"{template.get('LatestVersionNumber')}"
    )


def arn_of(template: Mapping[str, Any], *, region: str) -> str:
    """`arn:aws:ec2:REGION:ACCOUNT:launch-template/ID`; partition and account from CreatedBy."""
    parts = str(template.get("CreatedBy") or "").split(":")
    partition = parts[1] if len(parts) > 4 and parts[1] else "aws"
    account = parts[4] if len(parts) > 4 else ""
    return f"arn:{partition}:ec2:{region}:{account}:launch-template/{template['LaunchTemplateId']}"


def version_fields(
    template: Mapping[str, Any], version: Mapping[str, Any], *, user: Mapping[str, str]
) -> dict[str, Any]:
    """One version of `template` in the schema's shape (with the template's name and `user` tags)."""
    return observed_fields(
        version.get("LaunchTemplateData") or {},
        name=str(template.get("LaunchTemplateName")),
        description=version.get("VersionDescription"),
        tags=user,
    )


def observe(
    template: Mapping[str, Any],
    version: Mapping[str, Any],
    *,
    settings: AwsSettings,
    region: str,
    latest: Mapping[str, Any] | None = None,
) -> ObservedResource:
    """One template and its default version (and its latest one, when that is another) →
    ObservedResource in the schema's shape."""
    tags = tag_dict(template.get("Tags"))
    user = user_tags(tags, default=settings.default_tags)
    attributes = version_fields(template, version, user=user)
    latest_number = int(template.get("LatestVersionNumber") or 0)
    default_number = int(template.get("DefaultVersionNumber") or 0)
    if latest is None and latest_number == default_number:
        latest = version
    attributes.update(
        id=template["LaunchTemplateId"],
        arn=arn_of(template, region=region),
        latest_version=latest_number,
        default_version=default_number,
    )
    latest_fields = version_fields(template, latest, user=user) if latest is not None else None
    attributes.update(
        latest_version_digest=version_digest(latest_fields) if latest_fields is not None else None,
        # sensitive in the schema: the engine keeps a keyed digest, to compare with the plan's
        latest_version_user_data=latest_fields.get("user_data") if latest_fields is not None else None,
    )
    return ObservedResource(
        id=str(template["LaunchTemplateId"]),
        attributes=attributes,
        ownership=ownership_of(tags),
        fingerprint=fingerprint(template),
    )


# what an observation takes from the template's versions (immutable), not from the template itself
VERSION_ATTRIBUTES = frozenset(
    (set(observed_fields({}, name="template", description=None, tags={})) - {"name", "tags"})
    | {"latest_version_digest", "latest_version_user_data"}
)


def recorded_versions(
    template: Mapping[str, Any], recorded: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """What state recorded of `template`'s versions, if it recorded these very versions (same
    default and latest numbers: a version never changes once made); None when they must be read."""
    if not recorded or recorded.get("id") != template["LaunchTemplateId"]:
        return None
    if recorded.get("default_version") != int(template.get("DefaultVersionNumber") or 0):
        return None
    if recorded.get("latest_version") != int(template.get("LatestVersionNumber") or 0):
        return None
    if not VERSION_ATTRIBUTES.issubset(recorded):
        return None
    return {k: recorded[k] for k in VERSION_ATTRIBUTES}


def observe_recorded(
    template: Mapping[str, Any], versions: Mapping[str, Any], *, settings: AwsSettings, region: str
) -> ObservedResource:
    """`observe` of a template whose versions' attributes are known already (`recorded_versions`)."""
    tags = tag_dict(template.get("Tags"))
    attributes = {
        **versions,
        "name": str(template.get("LaunchTemplateName")),
        "tags": user_tags(tags, default=settings.default_tags),
        "id": template["LaunchTemplateId"],
        "arn": arn_of(template, region=region),
        "latest_version": int(template.get("LatestVersionNumber") or 0),
        "default_version": int(template.get("DefaultVersionNumber") or 0),
    }
    return ObservedResource(
        id=str(template["LaunchTemplateId"]),
        attributes=attributes,
        ownership=ownership_of(tags),
        fingerprint=fingerprint(template),
    )


def templates_of_stack(clients: AwsClients, stack: str) -> dict[str, Any]:
    """Templates tagged with `stack` now, by id: one paginated listing on the ownership tag (its
    filter values glob, so only exact matches are kept)."""
    rows = clients.paginate(
        "ec2",
        "DescribeLaunchTemplates",
        result_key="LaunchTemplates",
        Filters=[{"Name": f"tag:{OWNER_STACK_TAG}", "Values": [stack]}],
    )
    return {
        str(t["LaunchTemplateId"]): t for t in rows if tag_dict(t.get("Tags")).get(OWNER_STACK_TAG) == stack
    }


def templates_by_ids(clients: AwsClients, ids: Iterable[str], *, address: object = None) -> dict[str, Any]:
    """Templates by id; missing ids are simply absent (AWS fails a whole call for one unknown id)."""
    wanted = sorted(set(ids))
    found: dict[str, Any] = {}
    for start in range(0, len(wanted), ID_CHUNK):
        chunk = wanted[start : start + ID_CHUNK]
        try:
            rows = clients.call("ec2", "DescribeLaunchTemplates", address=address, LaunchTemplateIds=chunk)[
                "LaunchTemplates"
            ]
        except CloudError as err:
            if not is_not_found(err) and err.code != "InvalidLaunchTemplateId.Malformed":
                raise
            rows = []
            for one in chunk:  # find which ones still exist
                try:
                    rows += clients.call(
                        "ec2", "DescribeLaunchTemplates", address=address, LaunchTemplateIds=[one]
                    )["LaunchTemplates"]
                except CloudError as inner:
                    if not is_not_found(inner) and inner.code != "InvalidLaunchTemplateId.Malformed":
                        raise
        found.update({t["LaunchTemplateId"]: t for t in rows if t["LaunchTemplateId"] in chunk})
    return found


def template_by_name(clients: AwsClients, name: str, *, address: object = None) -> dict[str, Any] | None:
    rows = clients.paginate(
        "ec2",
        "DescribeLaunchTemplates",
        result_key="LaunchTemplates",
        address=address,
        Filters=[{"Name": "launch-template-name", "Values": [name]}],
    )
    matches = [t for t in rows if t.get("LaunchTemplateName") == name]
    return matches[0] if matches else None


def default_versions(
    clients: AwsClients, templates: Iterable[Mapping[str, Any]], *, address: object = None
) -> dict[str, dict[str, Any]]:
    """The default version (with launch data) of each template: one call, whatever their number."""
    return _versions(clients, templates, which="Default", address=address)


def latest_versions(
    clients: AwsClients, templates: Iterable[Mapping[str, Any]], *, address: object = None
) -> dict[str, dict[str, Any]]:
    """The latest version of each template whose latest is not its default (no call when none)."""
    others = [t for t in templates if t.get("LatestVersionNumber") != t.get("DefaultVersionNumber")]
    return _versions(clients, others, which="Latest", address=address) if others else {}


def _versions(
    clients: AwsClients, templates: Iterable[Mapping[str, Any]], *, which: str, address: object = None
) -> dict[str, dict[str, Any]]:
    wanted = {str(t["LaunchTemplateId"]): int(t[f"{which}VersionNumber"]) for t in templates}
    found: dict[str, dict[str, Any]] = {}
    if len(wanted) > 1:
        rows = clients.paginate(
            "ec2",
            "DescribeLaunchTemplateVersions",
            result_key="LaunchTemplateVersions",
            address=address,
            Versions=[f"${which}"],
        )
        for row in rows:
            tid = str(row.get("LaunchTemplateId"))
            if wanted.get(tid) == row.get("VersionNumber"):
                found[tid] = row
    for tid, number in sorted(wanted.items()):
        if tid not in found:  # a single template, or one changed since it was described
            rows = clients.call(
                "ec2",
                "DescribeLaunchTemplateVersions",
                address=address,
                LaunchTemplateId=tid,
                Versions=[str(number)],
            )["LaunchTemplateVersions"]
            if rows:
                found[tid] = rows[0]
    return found
