"""Resource `aws_target_group` (ELBv2): create, adopt, retune, retag, delete and batch-refresh.

The model normalises the health check: a missing `health_check` block means AWS's defaults, and its
protocol defaults to the group's own (a TCP check has no path and no matcher), so a freshly created
group observes exactly equal to its configuration. Create first looks the name up: a group tagged
with this stack and address (left by a crashed run) is adopted; any other is refused with
OwnershipError, as are update and delete of a group without this stack's tag.

`refresh` reads groups by ARN in chunks of 20 (one DescribeTargetGroups, chunks that name a deleted
group fall back to one call per ARN), their tags with one DescribeTags per 20 ARNs, and the
deregistration delay with one DescribeTargetGroupAttributes per group (ELBv2 has no batch form).
`find_owned` (state recovery) finds the stack's groups with one tag-filtered Resource Groups Tagging
API GetResources (ELBv2 cannot filter on tags) and then reads them as `refresh` does;
`import_resource` adopts a group by ARN or name and adds the ownership tags.
Callers: `reconciler_aws.provider.AwsProvider`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reconciler.sdk import (
    OWNER_STACK_TAG,
    ChangeRequest,
    CloudError,
    DeleteRequest,
    ImportRequest,
    Mode,
    ObservedResource,
    OwnershipError,
    RefreshRequest,
    ResourceSchema,
)
from reconciler_aws import terraform_shapes
from reconciler_aws.settings import AwsSettings
from reconciler_aws.tags import claim_for_import, desired_tags, ownership_of, tag_changes, tag_list, user_tags
from reconciler_aws.target_group_reads import (
    DELAY_KEY,
    NOT_FOUND,
    delay_of,
    group_by_name,
    groups_by_arns,
    tags_of,
)
from reconciler_aws.validation import validate_config

if TYPE_CHECKING:
    from reconciler_aws.clients import AwsClients

TYPE_NAME = "aws_target_group"

Protocol = Literal["HTTP", "HTTPS", "TCP"]


class HealthCheck(BaseModel):
    """The `health_check { ... }` block; `protocol` None means the target group's protocol."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = "/"
    port: str = "traffic-port"
    protocol: Protocol | None = None
    interval: int = Field(default=30, ge=5, le=300)
    timeout: int = Field(default=5, ge=2, le=120)
    healthy_threshold: int = Field(default=5, ge=2, le=10)
    unhealthy_threshold: int = Field(default=2, ge=2, le=10)
    matcher: str | None = "200"

    @model_validator(mode="after")
    def _timeout_within_interval(self) -> HealthCheck:
        if self.timeout >= self.interval:  # ELBv2 refuses it at CreateTargetGroup otherwise
            raise ValueError(f"timeout ({self.timeout}s) must be shorter than interval ({self.interval}s)")
        return self


class TargetGroupArgs(BaseModel):
    """Arguments of `resource "aws_target_group"`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")
    port: int = Field(ge=1, le=65535)
    protocol: Protocol = "HTTP"
    vpc_id: str
    target_type: Literal["instance"] = "instance"
    deregistration_delay: int = Field(default=300, ge=0, le=3600)
    health_check: HealthCheck | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _complete_health_check(self) -> TargetGroupArgs:
        check = self.health_check or HealthCheck()
        protocol = check.protocol or (self.protocol if isinstance(self.protocol, str) else "HTTP")
        update: dict[str, Any] = {"protocol": protocol}
        if protocol == "TCP":
            update |= {"path": None, "matcher": None}
        self.health_check = check.model_copy(update=update)
        return self


SCHEMA = ResourceSchema(
    type_name=TYPE_NAME,
    mode=Mode.MANAGED,
    model=TargetGroupArgs,
    computed=frozenset({"id", "arn", "arn_suffix"}),
    force_new=frozenset({"name", "port", "protocol", "vpc_id", "target_type"}),
    cloud_name="name",
    description="An ELBv2 target group of instances; health check, delay and tags change in place.",
    terraform_types=tuple(
        (
            name,
            "the same ELBv2 target group; fleets join it through aws_fleet's target_group_arns "
            "instead of an aws_autoscaling_attachment.",
        )
        for name in ("aws_lb_target_group", "aws_alb_target_group")
    ),
    terraform_view=terraform_shapes.TARGET_GROUP,
)


# --- mapping -----------------------------------------------------------------------------------


def health_check_params(check: HealthCheck) -> dict[str, Any]:
    """The HealthCheck* parameters CreateTargetGroup and ModifyTargetGroup take."""
    params: dict[str, Any] = {
        "HealthCheckEnabled": True,
        "HealthCheckProtocol": check.protocol,
        "HealthCheckPort": check.port,
        "HealthCheckIntervalSeconds": check.interval,
        "HealthCheckTimeoutSeconds": check.timeout,
        "HealthyThresholdCount": check.healthy_threshold,
        "UnhealthyThresholdCount": check.unhealthy_threshold,
    }
    if check.path is not None:
        params["HealthCheckPath"] = check.path
    if check.matcher is not None:
        params["Matcher"] = {"HttpCode": check.matcher}
    return params


def arn_suffix(arn: str) -> str:
    """`arn:aws:elasticloadbalancing:R:A:targetgroup/web/abc` → `targetgroup/web/abc` (for metrics)."""
    return arn.split(":", 5)[-1]


def observe(
    group: dict[str, Any], *, tags: dict[str, str], delay: int, settings: AwsSettings
) -> ObservedResource:
    """One described group, its tags and deregistration delay → attributes in the model's shape."""
    tcp = group.get("HealthCheckProtocol") == "TCP"
    check = {
        "path": None if tcp else group.get("HealthCheckPath"),
        "port": str(group.get("HealthCheckPort") or "traffic-port"),
        "protocol": group.get("HealthCheckProtocol"),
        "interval": int(group.get("HealthCheckIntervalSeconds") or 0),
        "timeout": int(group.get("HealthCheckTimeoutSeconds") or 0),
        "healthy_threshold": int(group.get("HealthyThresholdCount") or 0),
        "unhealthy_threshold": int(group.get("UnhealthyThresholdCount") or 0),
        "matcher": None if tcp else (group.get("Matcher") or {}).get("HttpCode"),
    }
    arn = str(group["TargetGroupArn"])
    attributes: dict[str, Any] = {
        "name": group.get("TargetGroupName"),
        "port": int(group.get("Port") or 0),
        "protocol": group.get("Protocol"),
        "vpc_id": group.get("VpcId"),
        "target_type": group.get("TargetType", "instance"),
        "deregistration_delay": delay,
        "health_check": check,
        "tags": user_tags(tags, default=settings.default_tags),
        "id": arn,
        "arn": arn,
        "arn_suffix": arn_suffix(arn),
    }
    fingerprint = f"{arn_suffix(arn)}:{check['path']}:{check['interval']}:{delay}:{len(tags)}"
    return ObservedResource(
        id=arn, attributes=attributes, ownership=ownership_of(tags), fingerprint=fingerprint
    )


# --- reads -------------------------------------------------------------------------------------


def refresh(
    clients: AwsClients, request: RefreshRequest, *, settings: AwsSettings
) -> dict[str, ObservedResource | None]:
    if not request.ids:
        return {}
    groups = groups_by_arns(clients, request.ids)
    tags = tags_of(clients, groups)
    out: dict[str, ObservedResource | None] = {}
    for arn in request.ids:
        group = groups.get(arn)
        out[arn] = (
            observe(group, tags=tags.get(arn, {}), delay=delay_of(clients, arn), settings=settings)
            if group is not None
            else None
        )
    return out


def find_owned(clients: AwsClients, stack: str, *, settings: AwsSettings) -> list[ObservedResource]:
    """Every target group tagged with `stack` now, whatever address it is tagged with."""
    rows = clients.paginate(
        "resourcegroupstaggingapi",
        "GetResources",
        result_key="ResourceTagMappingList",
        page_size=None,
        TagFilters=[{"Key": OWNER_STACK_TAG, "Values": [stack]}],
        ResourceTypeFilters=["elasticloadbalancing:targetgroup"],
    )
    groups = groups_by_arns(clients, {str(r["ResourceARN"]) for r in rows})  # drops deleted ones
    tags = tags_of(clients, groups)
    return [
        observe(group, tags=tags.get(arn, {}), delay=delay_of(clients, arn), settings=settings)
        for arn, group in sorted(groups.items())
        if ownership_of(tags.get(arn, {})).stack == stack
    ]


def import_resource(
    clients: AwsClients, request: ImportRequest, *, settings: AwsSettings
) -> ObservedResource:
    """Adopt the target group with ARN or name `request.id`: add the ownership tags."""
    address = str(request.address)
    if request.id.startswith("arn:"):
        group = groups_by_arns(clients, [request.id], address=address).get(request.id)
    else:
        group = group_by_name(clients, request.id, address=address)
    if group is None:
        raise CloudError(
            call="DescribeTargetGroups",
            message=f"target group {request.id!r} does not exist",
            address=address,
            code=NOT_FOUND,
        )
    arn = str(group["TargetGroupArn"])
    tags = tags_of(clients, [arn], address=address).get(arn, {})
    what = f'target group "{group.get("TargetGroupName")}" ({arn})'
    to_set, merged = claim_for_import(tags, stack=request.stack, address=address, what=what)
    if to_set:
        clients.call("elbv2", "AddTags", address=address, ResourceArns=[arn], Tags=tag_list(to_set))
    delay = delay_of(clients, arn, address=address)
    return observe(group, tags=merged, delay=delay, settings=settings)


# --- changes -----------------------------------------------------------------------------------


def _converge(
    clients: AwsClients,
    group: dict[str, Any],
    *,
    args: TargetGroupArgs,
    tags: dict[str, str],
    current_tags: dict[str, str],
    settings: AwsSettings,
    address: str,
) -> ObservedResource:
    """Bring an existing group's health check, delay and tags to the configuration."""
    arn = str(group["TargetGroupArn"])
    delay = delay_of(clients, arn, address=address)
    current = observe(group, tags=current_tags, delay=delay, settings=settings).attributes
    assert args.health_check is not None  # filled in by the model
    if current["health_check"] != args.health_check.model_dump(mode="json"):
        group = clients.call(
            "elbv2",
            "ModifyTargetGroup",
            address=address,
            TargetGroupArn=arn,
            **health_check_params(args.health_check),
        )["TargetGroups"][0]
    if delay != args.deregistration_delay:
        clients.call(
            "elbv2",
            "ModifyTargetGroupAttributes",
            address=address,
            TargetGroupArn=arn,
            Attributes=[{"Key": DELAY_KEY, "Value": str(args.deregistration_delay)}],
        )
        delay = args.deregistration_delay
    to_set, to_delete = tag_changes(current_tags, tags)
    if to_set:
        clients.call("elbv2", "AddTags", address=address, ResourceArns=[arn], Tags=tag_list(to_set))
    if to_delete:
        clients.call("elbv2", "RemoveTags", address=address, ResourceArns=[arn], TagKeys=to_delete)
    return observe(group, tags=tags, delay=delay, settings=settings)


def create(clients: AwsClients, request: ChangeRequest, *, settings: AwsSettings) -> ObservedResource:
    args = validate_config(TargetGroupArgs, request.config, address=request.address)
    address = str(request.address)
    tags = desired_tags(user=args.tags, default=settings.default_tags, stack=request.stack, address=address)
    existing = group_by_name(clients, args.name, address=address)
    if existing is None:
        assert args.health_check is not None
        created = clients.call_once(  # moto answers a resent create with DuplicateTargetGroupName
            "elbv2",
            "CreateTargetGroup",
            took_effect=lambda: group_by_name(clients, args.name, address=address) is not None,
            address=address,
            Name=args.name,
            Protocol=args.protocol,
            Port=args.port,
            VpcId=args.vpc_id,
            TargetType=args.target_type,
            Tags=tag_list(tags),
            **health_check_params(args.health_check),
        )
        if created is not None:
            group = created["TargetGroups"][0]
            return _finish_create(clients, group, args=args, tags=tags, settings=settings, address=address)
        existing = group_by_name(clients, args.name, address=address)  # made by a lost attempt
        if existing is None:
            raise CloudError(
                call="CreateTargetGroup",
                message=f'target group "{args.name}" was created, then vanished before it could be read',
                address=address,
            )
    arn = str(existing["TargetGroupArn"])
    current_tags = tags_of(clients, [arn], address=address).get(arn, {})
    owner = ownership_of(current_tags)
    if owner.stack != request.stack or owner.address != address:
        raise OwnershipError(
            f'target group "{args.name}" ({arn}) already exists and is not owned by {address} in '
            f"stack {request.stack!r} (it is tagged stack={owner.stack!r}, address={owner.address!r}); "
            "import it or choose another name"
        )
    return _converge(
        clients,
        existing,
        args=args,
        tags=tags,
        current_tags=current_tags,
        settings=settings,
        address=address,
    )


def _finish_create(
    clients: AwsClients,
    group: dict[str, Any],
    *,
    args: TargetGroupArgs,
    tags: dict[str, str],
    settings: AwsSettings,
    address: str,
) -> ObservedResource:
    """A group just made: set the deregistration delay when it is not AWS's default."""
    arn = str(group["TargetGroupArn"])
    if args.deregistration_delay != 300:  # AWS's default
        clients.call(
            "elbv2",
            "ModifyTargetGroupAttributes",
            address=address,
            TargetGroupArn=arn,
            Attributes=[{"Key": DELAY_KEY, "Value": str(args.deregistration_delay)}],
        )
    return observe(group, tags=tags, delay=args.deregistration_delay, settings=settings)


def _owned_group(
    clients: AwsClients, *, arn: str, stack: str, address: str, verb: str
) -> tuple[dict[str, Any], dict[str, str]] | None:
    group = groups_by_arns(clients, [arn], address=address).get(arn)
    if group is None:
        return None
    tags = tags_of(clients, [arn], address=address).get(arn, {})
    owner = ownership_of(tags)
    if owner.stack != stack:
        raise OwnershipError(
            f'refusing to {verb} target group "{group.get("TargetGroupName")}" ({arn}) for {address}: '
            f"its {OWNER_STACK_TAG} tag is {owner.stack!r}, not {stack!r}"
        )
    return group, tags


def update(clients: AwsClients, request: ChangeRequest, *, settings: AwsSettings) -> ObservedResource:
    args = validate_config(TargetGroupArgs, request.config, address=request.address)
    address = str(request.address)
    arn = request.id or str((request.prior or {}).get("id") or "")
    found = _owned_group(clients, arn=arn, stack=request.stack, address=address, verb="update")
    if found is None:
        raise CloudError(
            call="DescribeTargetGroups",
            message=f"target group {arn} no longer exists",
            address=address,
            code=NOT_FOUND,
        )
    group, current_tags = found
    tags = desired_tags(user=args.tags, default=settings.default_tags, stack=request.stack, address=address)
    return _converge(
        clients, group, args=args, tags=tags, current_tags=current_tags, settings=settings, address=address
    )


def delete(clients: AwsClients, request: DeleteRequest) -> None:
    address = str(request.address)
    found = _owned_group(clients, arn=request.id, stack=request.stack, address=address, verb="delete")
    if found is None:
        return
    try:
        clients.call("elbv2", "DeleteTargetGroup", address=address, TargetGroupArn=request.id)
    except CloudError as err:
        if err.code != NOT_FOUND:
            raise
