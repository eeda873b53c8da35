"""Resource `aws_launch_template`: create, adopt, version, retag, delete and batch-refresh templates.

Every change of launch data is a new immutable version that becomes the default
(CreateLaunchTemplateVersion + ModifyLaunchTemplate); tag-only changes go through CreateTags /
DeleteTags and make no version. Create first looks the name up: a template tagged with this stack
and address (left by a crashed run) is adopted; any other is refused with OwnershipError, as are
update and delete of a template without this stack's tag.

`refresh` costs a constant number of calls for any number of templates (see launch_template_reads):
one paginated DescribeLaunchTemplates filtered on this stack's ownership tag (ids not found there are
looked up by id, which only happens for deleted or imported templates) and one
DescribeLaunchTemplateVersions for the default versions of those whose versions state has not
recorded (versions are immutable: a template whose version numbers did not move costs none).
`find_owned` (state recovery) is the same tag-filtered listing; `import_resource` adopts a template
by id or name and adds the ownership tags.

Idempotent across a lost answer: CreateLaunchTemplate carries a ClientToken and goes through
`call_once`, whose check after a transient failure is "does a template of this name exist now"
(then it is adopted like a crashed run's, ownership checked). A new version is made only when the
launch data differs from the latest version: a latest version that already holds it (left by an
interrupted apply) just becomes the default, and a lost CreateLaunchTemplateVersion answer is
recognised by a newer latest version with that content. `preview_update` tells the plan which of
the two will happen, from the observed `latest_version_digest` (the latest version's launch data
but its user data) and `latest_version_user_data` (sensitive: compared by the engine's keyed digest).
Callers: `reconciler_aws.provider.AwsProvider`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from reconciler.sdk import (
    OWNER_STACK_TAG,
    ChangeRequest,
    CloudError,
    ConfigError,
    DeleteRequest,
    Diagnostic,
    ImportRequest,
    Mode,
    ObservedResource,
    OwnershipError,
    RefreshRequest,
    ResourceSchema,
    UpdatePreview,
)
from reconciler_aws import terraform_shapes
from reconciler_aws.error_codes import is_not_found
from reconciler_aws.launch_template_data import (
    LaunchTemplateArgs,
    config_fields,
    launch_data_differs,
    to_launch_data,
    version_digest,
)
from reconciler_aws.launch_template_reads import (
    default_versions,
    latest_versions,
    observe,
    observe_recorded,
    recorded_versions,
    template_by_name,
    templates_by_ids,
    templates_of_stack,
    version_fields,
)
from reconciler_aws.settings import AwsSettings
from reconciler_aws.tags import claim_for_import, desired_tags, ownership_of, tag_changes, tag_dict, tag_list
from reconciler_aws.validation import block_context, validate_config

if TYPE_CHECKING:
    from reconciler_aws.clients import AwsClients

TYPE_NAME = "aws_launch_template"


def client_token() -> str:
    """The idempotency token of one logical create (every attempt of it sends the same)."""
    return uuid.uuid4().hex


def preview_update(
    prior: Mapping[str, Any], changed: Sequence[str], desired: Mapping[str, Any]
) -> UpdatePreview:
    """A change of launch data makes version latest+1 the default, unless the latest version
    (not the default: left by an interrupted apply) already holds exactly that, in which case it
    becomes the default; a tag-only change makes none."""
    if all(path == "tags" or path.startswith("tags.") for path in changed):
        return UpdatePreview(
            computed={
                "latest_version": prior.get("latest_version"),
                "default_version": prior.get("default_version"),
                "latest_version_digest": prior.get("latest_version_digest"),
                "latest_version_user_data": prior.get("latest_version_user_data"),
            },
            note="tags only, no new version",
        )
    latest = prior.get("latest_version")
    if not isinstance(latest, int):
        return UpdatePreview()
    digest = version_digest(desired)
    user_data = desired.get("user_data")
    if latest != prior.get("default_version"):  # an interrupted apply may have made the one wanted
        if digest is None:  # cannot tell from here (a value known only after apply, or sensitive)
            return UpdatePreview(note="new version, or the latest one if it holds exactly this")
        same_user_data = user_data == prior.get("latest_version_user_data")
        if digest == prior.get("latest_version_digest") and same_user_data:
            return UpdatePreview(
                computed={
                    "latest_version": latest,
                    "default_version": latest,
                    "latest_version_digest": digest,
                    "latest_version_user_data": user_data,
                },
                note=f"existing version {latest} (the latest, same launch data) becomes the default",
            )
    computed: dict[str, Any] = {
        "latest_version": latest + 1,
        "default_version": latest + 1,
        "latest_version_user_data": user_data,
    }
    if digest is not None:
        computed["latest_version_digest"] = digest
    return UpdatePreview(computed=computed, note=f"new version {latest + 1} (default)")


# What a change of launch data moves: the numbers, and what the latest version holds.
VERSION_ATTRIBUTES = frozenset(
    {"latest_version", "default_version", "latest_version_digest", "latest_version_user_data"}
)

SCHEMA = ResourceSchema(
    type_name=TYPE_NAME,
    mode=Mode.MANAGED,
    model=LaunchTemplateArgs,
    computed=frozenset({"id", "arn"}) | VERSION_ATTRIBUTES,
    # a change of launch data
    computed_on_update=VERSION_ATTRIBUTES,
    force_new=frozenset({"name"}),
    cloud_name="name",
    sensitive=frozenset({"user_data", "latest_version_user_data"}),
    preview_update=preview_update,
    description="An EC2 launch template; every change of launch data is a new default version.",
    terraform_types=(
        (
            "aws_launch_configuration",
            "launch configurations are retired by AWS; an aws_launch_template takes the same image, "
            "instance type and user data, and each change becomes a new version.",
        ),
    ),
    terraform_view=terraform_shapes.LAUNCH_TEMPLATE,
)


def refresh(
    clients: AwsClients, request: RefreshRequest, *, settings: AwsSettings
) -> dict[str, ObservedResource | None]:
    if not request.ids:
        return {}
    tagged = templates_of_stack(clients, request.stack)
    templates = {tid: t for tid, t in tagged.items() if tid in request.ids}
    missing = [i for i in request.ids if i not in templates]
    if missing:
        templates.update(templates_by_ids(clients, missing))
    recorded = {
        tid: known for tid, t in templates.items() if (known := recorded_versions(t, request.known.get(tid)))
    }
    unread = [t for tid, t in templates.items() if tid not in recorded]
    versions = default_versions(clients, unread) if unread else {}
    latest = latest_versions(clients, unread)
    region = clients.region()
    out: dict[str, ObservedResource | None] = {}
    for tid in request.ids:
        template = templates.get(tid)
        version = versions.get(tid)
        if template is not None and tid in recorded:
            out[tid] = observe_recorded(template, recorded[tid], settings=settings, region=region)
        elif template is not None and version is not None:
            out[tid] = observe(template, version, settings=settings, region=region, latest=latest.get(tid))
        else:
            out[tid] = None
    return out


def find_owned(clients: AwsClients, stack: str, *, settings: AwsSettings) -> list[ObservedResource]:
    """Every template tagged with `stack` now, whatever address it is tagged with."""
    templates = templates_of_stack(clients, stack)
    if not templates:
        return []
    versions = default_versions(clients, templates.values())
    latest = latest_versions(clients, templates.values())
    region = clients.region()
    return [
        observe(template, versions[tid], settings=settings, region=region, latest=latest.get(tid))
        for tid, template in sorted(templates.items())
        if tid in versions
    ]


def import_resource(
    clients: AwsClients, request: ImportRequest, *, settings: AwsSettings
) -> ObservedResource:
    """Adopt the template with id (`lt-...`) or name `request.id`: add the ownership tags."""
    address = str(request.address)
    if request.id.startswith("lt-"):
        template = templates_by_ids(clients, [request.id], address=address).get(request.id)
    else:
        template = template_by_name(clients, request.id, address=address)
    if template is None:
        raise CloudError(
            call="DescribeLaunchTemplates",
            message=f"launch template {request.id!r} does not exist",
            address=address,
            code="InvalidLaunchTemplateId.NotFound",
        )
    tid = str(template["LaunchTemplateId"])
    what = f'launch template "{template.get("LaunchTemplateName")}" ({tid})'
    to_set, merged = claim_for_import(
        tag_dict(template.get("Tags")), stack=request.stack, address=address, what=what
    )
    if to_set:
        clients.call("ec2", "CreateTags", address=address, Resources=[tid], Tags=tag_list(to_set))
    template = {**template, "Tags": tag_list(merged)}
    version = default_versions(clients, [template], address=address)[tid]
    latest = latest_versions(clients, [template], address=address).get(tid)
    return observe(template, version, settings=settings, region=clients.region(), latest=latest)


# --- changes -----------------------------------------------------------------------------------


def _args(request: ChangeRequest) -> LaunchTemplateArgs:
    args = validate_config(LaunchTemplateArgs, request.config, address=request.address)
    if args.user_data is not None and args.user_data.startswith(("sha256:", "hmac-sha256:")):
        raise ConfigError(
            [
                Diagnostic(
                    summary='Invalid value for "user_data"',
                    detail="the provider was given the digest of user_data, not its text",
                    context=block_context(request.address),
                )
            ]
        )
    return args


def _converge(
    clients: AwsClients,
    template: dict[str, Any],
    *,
    args: LaunchTemplateArgs,
    tags: dict[str, str],
    settings: AwsSettings,
    address: object,
) -> ObservedResource:
    """Bring an existing template to `args` and `tags`: when the default version's launch data
    differs, the latest version becomes the default if it holds exactly `args` (an interrupted
    apply made it), else a new version is made; then the tags are set."""
    tid = str(template["LaunchTemplateId"])
    version = default_versions(clients, [template], address=address)[tid]
    latest = latest_versions(clients, [template], address=address).get(tid)
    region = clients.region()
    wanted = config_fields(args)
    if launch_data_differs(version_fields(template, version, user={}), wanted):
        if latest is None or launch_data_differs(version_fields(template, latest, user={}), wanted):
            latest = _new_version(clients, template, args=args, wanted=wanted, address=address)
        version = latest
        number = int(version["VersionNumber"])
        modified = clients.call(
            "ec2",
            "ModifyLaunchTemplate",
            address=address,
            LaunchTemplateId=tid,
            DefaultVersion=str(number),
        )["LaunchTemplate"]
        template = {
            **template,
            "DefaultVersionNumber": number,
            "LatestVersionNumber": max(int(modified.get("LatestVersionNumber") or 0), number),
        }
        latest = version if template["LatestVersionNumber"] == number else None
    to_set, to_delete = tag_changes(tag_dict(template.get("Tags")), tags)
    if to_set:
        clients.call("ec2", "CreateTags", address=address, Resources=[tid], Tags=tag_list(to_set))
    if to_delete:
        clients.call(
            "ec2", "DeleteTags", address=address, Resources=[tid], Tags=[{"Key": k} for k in to_delete]
        )
    template = {**template, "Tags": tag_list(tags)}
    return observe(template, version, settings=settings, region=region, latest=latest)


def _new_version(
    clients: AwsClients,
    template: Mapping[str, Any],
    *,
    args: LaunchTemplateArgs,
    wanted: Mapping[str, Any],
    address: object,
) -> dict[str, Any]:
    """CreateLaunchTemplateVersion, at most once: after a lost answer, a latest version newer than
    the one seen before and holding `wanted` is the one it made."""
    tid = str(template["LaunchTemplateId"])
    before = int(template.get("LatestVersionNumber") or 0)
    made: list[dict[str, Any]] = []

    def took_effect() -> bool:
        rows = clients.call(
            "ec2",
            "DescribeLaunchTemplateVersions",
            address=address,
            LaunchTemplateId=tid,
            Versions=["$Latest"],
        )["LaunchTemplateVersions"]
        newer = [r for r in rows if int(r["VersionNumber"]) > before]
        if newer and not launch_data_differs(version_fields(template, newer[0], user={}), wanted):
            made.append(newer[0])
            return True
        return False

    extra = {"VersionDescription": args.description} if args.description else {}
    response = clients.call_once(
        "ec2",
        "CreateLaunchTemplateVersion",
        took_effect=took_effect,
        address=address,
        LaunchTemplateId=tid,
        LaunchTemplateData=to_launch_data(args),
        ClientToken=client_token(),
        **extra,
    )
    return dict(response["LaunchTemplateVersion"]) if response is not None else made[-1]


def _adoptable(
    clients: AwsClients, name: str, *, stack: str, address: str
) -> dict[str, Any] | None:
    """The template named `name` if it exists; OwnershipError unless it is tagged
    with this stack and address (then it was left by an interrupted run of this very resource)."""
    existing = template_by_name(clients, name, address=address)
    if existing is None:
        return None
    tid = existing["LaunchTemplateId"]
    owner = ownership_of(tag_dict(existing.get("Tags")))
    if owner.stack != stack or owner.address != address:
        raise OwnershipError(
            f'launch template "{name}" ({tid}) already exists and is '
            f"not owned by {address} in stack {stack!r} (it is tagged "
            f"stack={owner.stack!r}, address={owner.address!r}); import it or choose another name"
        )
    return existing


def create(clients: AwsClients, request: ChangeRequest, *, settings: AwsSettings) -> ObservedResource:
    args = _args(request)
    address = str(request.address)
    tags = desired_tags(user=args.tags, default=settings.default_tags, stack=request.stack, address=address)
    existing = _adoptable(clients, args.name, stack=request.stack, address=address)
    if existing is None:
        data = to_launch_data(args)
        extra = {"VersionDescription": args.description} if args.description else {}
        created = clients.call_once(
            "ec2",
            "CreateLaunchTemplate",
            took_effect=lambda: template_by_name(clients, args.name, address=address) is not None,
            address=address,
            LaunchTemplateName=args.name,
            LaunchTemplateData=data,
            TagSpecifications=[{"ResourceType": "launch-template", "Tags": tag_list(tags)}],
            ClientToken=client_token(),
            **extra,
        )
        if created is not None:
            template = {**created["LaunchTemplate"], "Tags": tag_list(tags)}
            version = {"LaunchTemplateData": data, "VersionDescription": args.description}
            return observe(template, version, settings=settings, region=clients.region())
        existing = _adoptable(clients, args.name, stack=request.stack, address=address)
        if existing is None:
            raise CloudError(
                call="CreateLaunchTemplate",
                message=f'launch template "{args.name}" was created, then vanished before it could be read',
                address=address,
            )
    return _converge(clients, existing, args=args, tags=tags, settings=settings, address=address)


def _owned_template(
    clients: AwsClients, *, tid: str, stack: str, address: str, verb: str
) -> dict[str, Any] | None:
    found = templates_by_ids(clients, [tid], address=address)
    if tid not in found:
        return None
    template: dict[str, Any] = found[tid]
    owner = ownership_of(tag_dict(template.get("Tags")))
    if owner.stack != stack:
        raise OwnershipError(
            f'refusing to {verb} launch template "{template.get("LaunchTemplateName")}" ({tid}) for '
            f"{address}: its {OWNER_STACK_TAG} tag is {owner.stack!r}, not {stack!r}"
        )
    return template


def update(clients: AwsClients, request: ChangeRequest, *, settings: AwsSettings) -> ObservedResource:
    args = _args(request)
    address = str(request.address)
    tid = request.id or str((request.prior or {}).get("id") or "")
    template = _owned_template(clients, tid=tid, stack=request.stack, address=address, verb="update")
    if template is None:
        raise CloudError(
            call="DescribeLaunchTemplates",
            message=f"launch template {tid} no longer exists",
            address=address,
            code="InvalidLaunchTemplateId.NotFound",
        )
    tags = desired_tags(user=args.tags, default=settings.default_tags, stack=request.stack, address=address)
    return _converge(clients, template, args=args, tags=tags, settings=settings, address=address)


def delete(clients: AwsClients, request: DeleteRequest) -> None:
    address = str(request.address)
    template = _owned_template(clients, tid=request.id, stack=request.stack, address=address, verb="delete")
    if template is None:
        return
    try:
        clients.call("ec2", "DeleteLaunchTemplate", address=address, LaunchTemplateId=request.id)
    except CloudError as err:
        if not is_not_found(err):
            raise
