"""Resource `aws_launch_template`: create, adopt, version, retag, delete and batch-refresh templates.

Every change of launch data is a new immutable version that becomes the default
(CreateLaunchTemplateVersion + ModifyLaunchTemplate); tag-only changes go through CreateTags /
DeleteTags and make no version. Create first looks the name up: a template tagged with this stack
and address (left by a crashed run) is adopted; any other is refused with OwnershipError, as are
update and delete of a template without this stack's tag.

`refresh` costs a constant number of calls for any number of templates (see launch_template_reads):
one paginated DescribeLaunchTemplates filtered on this stack's ownership tag (ids not found there are
looked up by id, which only happens for deleted or imported templates), one DescribeTags, and one
DescribeLaunchTemplateVersions for the default versions of all of them. `find_owned` (state
recovery) starts from one DescribeTags filtered on the stack tag, because moto 5.2 filters
DescribeLaunchTemplates on the tags a template was created with; `import_resource` adopts a
template by id or name and adds the ownership tags. Callers: `providers.aws.provider.AwsProvider`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from providers.aws.error_codes import is_not_found
from providers.aws.launch_template_data import (
    LaunchTemplateArgs,
    config_fields,
    launch_data_differs,
    to_launch_data,
)
from providers.aws.launch_template_reads import (
    default_versions,
    observe,
    template_by_name,
    templates_by_ids,
    with_live_tags,
)
from providers.aws.tags import claim_for_import, desired_tags, ownership_of, tag_changes, tag_dict, tag_list
from providers.aws.validation import block_context, validate_config
from providers.base import (
    OWNER_STACK_TAG,
    ChangeRequest,
    DeleteRequest,
    ImportRequest,
    ObservedResource,
    ProviderSettings,
    RefreshRequest,
    ResourceSchema,
    UpdatePreview,
)
from reconciler.address import Mode
from reconciler.errors import CloudError, ConfigError, Diagnostic, OwnershipError

if TYPE_CHECKING:
    from providers.aws.clients import AwsClients

TYPE_NAME = "aws_launch_template"


def preview_update(prior: Mapping[str, Any], changed: Sequence[str]) -> UpdatePreview:
    """A change of launch data makes version latest+1 the default; a tag-only change makes none."""
    if all(path == "tags" or path.startswith("tags.") for path in changed):
        return UpdatePreview(
            computed={
                "latest_version": prior.get("latest_version"),
                "default_version": prior.get("default_version"),
            },
            note="tags only, no new version",
        )
    latest = prior.get("latest_version")
    if not isinstance(latest, int):
        return UpdatePreview()
    return UpdatePreview(
        computed={"latest_version": latest + 1, "default_version": latest + 1},
        note=f"new version {latest + 1} (default)",
    )


SCHEMA = ResourceSchema(
    type_name=TYPE_NAME,
    mode=Mode.MANAGED,
    model=LaunchTemplateArgs,
    computed=frozenset({"id", "arn", "latest_version", "default_version"}),
    computed_on_update=frozenset({"latest_version", "default_version"}),  # a change of launch data
    force_new=frozenset({"name"}),
    cloud_name="name",
    sensitive=frozenset({"user_data"}),
    preview_update=preview_update,
    description="An EC2 launch template; every change of launch data is a new default version.",
    terraform_types=(
        (
            "aws_launch_configuration",
            "launch configurations are retired by AWS; an aws_launch_template takes the same image, "
            "instance type and user data, and each change becomes a new version.",
        ),
    ),
)


def refresh(
    clients: AwsClients, request: RefreshRequest, *, settings: ProviderSettings
) -> dict[str, ObservedResource | None]:
    if not request.ids:
        return {}
    tagged = clients.paginate(
        "ec2",
        "DescribeLaunchTemplates",
        result_key="LaunchTemplates",
        Filters=[{"Name": f"tag:{OWNER_STACK_TAG}", "Values": [request.stack]}],
    )
    templates = {t["LaunchTemplateId"]: t for t in tagged if t["LaunchTemplateId"] in request.ids}
    missing = [i for i in request.ids if i not in templates]
    if missing:
        templates.update(templates_by_ids(clients, missing))
    templates = with_live_tags(clients, templates)
    versions = default_versions(clients, templates.values())
    region = clients.region()
    out: dict[str, ObservedResource | None] = {}
    for tid in request.ids:
        template = templates.get(tid)
        version = versions.get(tid)
        out[tid] = (
            observe(template, version, settings=settings, region=region)
            if template is not None and version is not None
            else None
        )
    return out


def find_owned(clients: AwsClients, stack: str, *, settings: ProviderSettings) -> list[ObservedResource]:
    """Every template tagged with `stack` now (live tags), whatever address it is tagged with."""
    rows = clients.paginate(
        "ec2",
        "DescribeTags",
        result_key="Tags",
        page_size=1000,
        Filters=[
            {"Name": "resource-type", "Values": ["launch-template"]},
            {"Name": "key", "Values": [OWNER_STACK_TAG]},
            {"Name": "value", "Values": [stack]},
        ],
    )
    ids = sorted({str(r["ResourceId"]) for r in rows if r.get("Value") == stack})  # value filters glob
    if not ids:
        return []
    templates = with_live_tags(clients, templates_by_ids(clients, ids))
    versions = default_versions(clients, templates.values())
    region = clients.region()
    return [
        observe(template, versions[tid], settings=settings, region=region)
        for tid, template in sorted(templates.items())
        if tid in versions
    ]


def import_resource(
    clients: AwsClients, request: ImportRequest, *, settings: ProviderSettings
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
    template = with_live_tags(clients, {tid: template}, address=address)[tid]
    what = f'launch template "{template.get("LaunchTemplateName")}" ({tid})'
    to_set, merged = claim_for_import(
        tag_dict(template.get("Tags")), stack=request.stack, address=address, what=what
    )
    if to_set:
        clients.call("ec2", "CreateTags", address=address, Resources=[tid], Tags=tag_list(to_set))
    template = {**template, "Tags": tag_list(merged)}
    version = default_versions(clients, [template], address=address)[tid]
    return observe(template, version, settings=settings, region=clients.region())


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
    settings: ProviderSettings,
    address: object,
) -> ObservedResource:
    """Bring an existing template to `args` (new default version if launch data differs) and `tags`."""
    tid = str(template["LaunchTemplateId"])
    version = default_versions(clients, [template], address=address)[tid]
    region = clients.region()
    current = observe(template, version, settings=settings, region=region).attributes
    if launch_data_differs(current, config_fields(args)):
        extra = {"VersionDescription": args.description} if args.description else {}
        version = clients.call(
            "ec2",
            "CreateLaunchTemplateVersion",
            address=address,
            LaunchTemplateId=tid,
            LaunchTemplateData=to_launch_data(args),
            **extra,
        )["LaunchTemplateVersion"]
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
            "LatestVersionNumber": modified.get("LatestVersionNumber", number),
        }
    to_set, to_delete = tag_changes(tag_dict(template.get("Tags")), tags)
    if to_set:
        clients.call("ec2", "CreateTags", address=address, Resources=[tid], Tags=tag_list(to_set))
    if to_delete:
        clients.call(
            "ec2", "DeleteTags", address=address, Resources=[tid], Tags=[{"Key": k} for k in to_delete]
        )
    template = {**template, "Tags": tag_list(tags)}
    return observe(template, version, settings=settings, region=region)


def create(clients: AwsClients, request: ChangeRequest, *, settings: ProviderSettings) -> ObservedResource:
    args = _args(request)
    address = str(request.address)
    tags = desired_tags(user=args.tags, default=settings.default_tags, stack=request.stack, address=address)
    existing = template_by_name(clients, args.name, address=address)
    if existing is not None:
        existing = with_live_tags(clients, {existing["LaunchTemplateId"]: existing}, address=address)[
            existing["LaunchTemplateId"]
        ]
        owner = ownership_of(tag_dict(existing.get("Tags")))
        if owner.stack != request.stack or owner.address != address:
            raise OwnershipError(
                f'launch template "{args.name}" ({existing["LaunchTemplateId"]}) already exists and is '
                f"not owned by {address} in stack {request.stack!r} (it is tagged "
                f"stack={owner.stack!r}, address={owner.address!r}); import it or choose another name"
            )
        return _converge(clients, existing, args=args, tags=tags, settings=settings, address=address)
    data = to_launch_data(args)
    extra = {"VersionDescription": args.description} if args.description else {}
    created = clients.call(
        "ec2",
        "CreateLaunchTemplate",
        address=address,
        LaunchTemplateName=args.name,
        LaunchTemplateData=data,
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": tag_list(tags)}],
        **extra,
    )["LaunchTemplate"]
    template = {**created, "Tags": tag_list(tags)}
    version = {"LaunchTemplateData": data, "VersionDescription": args.description}
    return observe(template, version, settings=settings, region=clients.region())


def _owned_template(
    clients: AwsClients, *, tid: str, stack: str, address: str, verb: str
) -> dict[str, Any] | None:
    found = templates_by_ids(clients, [tid], address=address)
    if tid not in found:
        return None
    template = with_live_tags(clients, found, address=address)[tid]
    owner = ownership_of(tag_dict(template.get("Tags")))
    if owner.stack != stack:
        raise OwnershipError(
            f'refusing to {verb} launch template "{template.get("LaunchTemplateName")}" ({tid}) for '
            f"{address}: its {OWNER_STACK_TAG} tag is {owner.stack!r}, not {stack!r}"
        )
    return template


def update(clients: AwsClients, request: ChangeRequest, *, settings: ProviderSettings) -> ObservedResource:
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
