"""Resource `aws_fleet`: auto-scaling groups by generation; create, adopt, update, delete, refresh.

A fleet is one or more auto-scaling groups `NAME-gNNNN` (see fleet_model); this module handles the
changes that need no rollout. Create always reads first, because re-creating a group of an existing
name silently replaces it in moto: a group of this fleet tagged with this stack and address is
adopted (and brought to the configuration), any other is refused with OwnershipError; the create
itself goes through `call_once` (a resent create would replace the group), and a group made by an
attempt whose answer was lost is adopted the same way. Every group
pins a numbered launch template version; an unset `launch_template_version` pins the template's
default version. Update changes the active group in place (sizes, health check, version, target
groups, tags); delete detaches and force-deletes every generation. Rollouts go through
`reconciler_aws.fleet_ops` instead.

`refresh` is at most two calls for any number of fleets: one paginated DescribeAutoScalingGroups on
the stack tag and one DescribeInstances for the members of the active groups whose image state has
not recorded (an instance's image never changes for its id, so a fleet that did not change costs
none; a fleet not found on the stack tag costs one more unfiltered listing); `find_owned` (state
recovery) is the same two calls, reading every member.
`import_resource` adopts a group by name into the configured fleet: it adds the ownership, fleet and
generation tags. Callers: `reconciler_aws.provider.AwsProvider`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from reconciler.sdk import (
    OWNER_ADDRESS_TAG,
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
    TypeRole,
)
from reconciler_aws import terraform_shapes
from reconciler_aws.fleet_model import (
    FLEET_TAG,
    GENERATION_TAG,
    FleetArgs,
    active_group,
    asg_tag_list,
    config_fields,
    fleet_of,
    fleet_tags,
    generation_of,
    group_fields,
    group_tags,
    observe,
    pinned_version,
)
from reconciler_aws.fleet_names import group_name, parse_generation
from reconciler_aws.fleet_reads import (
    by_fleet_name,
    default_template_version,
    describe_groups,
    group_named,
    group_not_found,
    groups_of_fleet,
    groups_of_stack,
    instances,
    member_ids,
)
from reconciler_aws.fleet_type import FLEET, complete
from reconciler_aws.settings import AwsSettings
from reconciler_aws.tags import ownership_of, tag_changes
from reconciler_aws.validation import validate_config

if TYPE_CHECKING:
    from reconciler_aws.clients import AwsClients

TYPE_NAME = "aws_fleet"
ATTACH_CHUNK = 10  # target groups per Attach/DetachLoadBalancerTargetGroups

SCHEMA = ResourceSchema(
    type_name=TYPE_NAME,
    mode=Mode.MANAGED,
    model=FleetArgs,
    computed=frozenset({"id", "arn", "group_name", "generation", "instances", "previous_groups"}),
    computed_on_update=frozenset({"arn", "group_name", "generation", "instances", "previous_groups"}),
    force_new=frozenset({"name"}),
    complete=complete,
    role=TypeRole.FLEET,
    fleet=FLEET,
    cloud_name="name",
    description="An auto-scaling fleet: one group per generation, pinned to a numbered template version.",
    terraform_types=(
        (
            "aws_autoscaling_group",
            "aws_fleet is an auto-scaling group that reconciler rolls out (new group per launch "
            "template version, health-gated, with rollback) where Terraform only updates the group.",
        ),
    ),
    terraform_view=terraform_shapes.FLEET,
)


# --- refresh -----------------------------------------------------------------------------------


def _by_fleet(
    groups: Iterable[dict[str, Any]], fleets: Iterable[str], *, by_name: bool
) -> dict[str, list[Any]]:
    """Groups of each wanted fleet: by the fleet tag, or (`by_name`) an untagged group's name."""
    wanted = set(fleets)
    out: dict[str, list[Any]] = {}
    for group in groups:
        fleet = fleet_of(group)
        if fleet is None and by_name:
            name = str(group.get("AutoScalingGroupName"))
            fleet = next((f for f in sorted(wanted) if parse_generation(name, f) is not None), None)
        if fleet in wanted:
            out.setdefault(fleet, []).append(group)
    return out


def _observe_all(
    clients: AwsClients,
    by_fleet: Mapping[str, list[Any]],
    *,
    settings: AwsSettings,
    address: object = None,
    known_images: Mapping[str, str] | None = None,
) -> dict[str, ObservedResource | None]:
    """Each fleet from its groups; EC2 is asked only about members whose image is not known."""
    actives = [g for fleet, groups in by_fleet.items() if (g := active_group(groups, fleet)) is not None]
    images = dict(known_images or {})
    unknown = [i for i in member_ids(actives) if i not in images]
    ec2 = instances(clients, unknown, address=address) if unknown else {}
    images |= {iid: str(row.get("ImageId") or "") for iid, row in ec2.items()}
    return {
        fleet: observe(fleet, groups, ec2=ec2, images=images, settings=settings)
        for fleet, groups in by_fleet.items()
    }


def recorded_images(known: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Instance id → image, from the members state recorded (an instance's image never changes)."""
    return {
        str(m["id"]): str(m["image_id"])
        for attributes in known.values()
        for m in attributes.get("instances") or []
        if isinstance(m, Mapping) and m.get("id") and m.get("image_id")
    }


def refresh(
    clients: AwsClients, request: RefreshRequest, *, settings: AwsSettings
) -> dict[str, ObservedResource | None]:
    if not request.ids:
        return {}
    by_fleet = _by_fleet(groups_of_stack(clients, request.stack), request.ids, by_name=False)
    missing = [f for f in request.ids if f not in by_fleet]
    if missing:  # deleted, or imported without our tags: look through every group once
        by_fleet.update(_by_fleet(describe_groups(clients), missing, by_name=True))
    observed = _observe_all(clients, by_fleet, settings=settings, known_images=recorded_images(request.known))
    return {fleet: observed.get(fleet) for fleet in request.ids}


def _read(clients: AwsClients, fleet: str, *, settings: AwsSettings, address: str) -> ObservedResource:
    groups = groups_of_fleet(clients, fleet, address=address)
    observed = _observe_all(clients, {fleet: groups}, settings=settings, address=address).get(fleet)
    if observed is None:
        raise CloudError(
            call="DescribeAutoScalingGroups",
            message=f"no auto-scaling group of fleet {fleet!r} exists",
            address=address,
            code="ValidationError",
        )
    return observed


def find_owned(clients: AwsClients, stack: str, *, settings: AwsSettings) -> list[ObservedResource]:
    """Every fleet with a group tagged with `stack`, whatever address it is tagged with."""
    observed = _observe_all(clients, by_fleet_name(groups_of_stack(clients, stack)), settings=settings)
    return [obs for _, obs in sorted(observed.items()) if obs is not None]


def import_resource(
    clients: AwsClients, request: ImportRequest, *, settings: AwsSettings
) -> ObservedResource:
    """Adopt the group named `request.id` as a generation of the configured fleet `name`."""
    address = str(request.address)
    fleet = request.config.get("name")
    if not isinstance(fleet, str) or not fleet:
        raise CloudError(
            call="DescribeAutoScalingGroups",
            message="importing a fleet needs its configured name, which is not known before apply",
            address=address,
            code="ValidationError",
        )
    group = group_named(clients, request.id, address=address)
    if group is None:
        raise CloudError(
            call="DescribeAutoScalingGroups",
            message=f"auto-scaling group {request.id!r} does not exist",
            address=address,
            code="ValidationError",
        )
    for other in [group, *groups_of_fleet(clients, fleet, address=address)]:
        owner = ownership_of(group_tags(other)).stack
        if owner not in (None, request.stack):
            raise OwnershipError(
                f'refusing to import auto-scaling group "{request.id}" as {address} (fleet {fleet!r}): '
                f'group "{other.get("AutoScalingGroupName")}" belongs to stack {owner!r}'
            )
    tags = group_tags(group)
    generation = generation_of(group, fleet) if tags.get(FLEET_TAG) in (None, fleet) else 0
    owned = {
        OWNER_STACK_TAG: request.stack,
        OWNER_ADDRESS_TAG: address,
        FLEET_TAG: fleet,
        GENERATION_TAG: str(generation),
    }
    to_set, _ = tag_changes(tags, {**tags, **owned})
    if to_set:
        clients.call(
            "autoscaling", "CreateOrUpdateTags", address=address, Tags=asg_tag_list(request.id, to_set)
        )
    return _read(clients, fleet, settings=settings, address=address)


# --- changes -----------------------------------------------------------------------------------


def _check_owned(
    groups: Iterable[Mapping[str, Any]], *, stack: str, address: str, verb: str, exact: bool
) -> None:
    """OwnershipError unless every group carries this stack's tag (and, if `exact`, this address)."""
    for group in groups:
        owner = ownership_of(group_tags(group))
        if owner.stack != stack or (exact and owner.address != address):
            raise OwnershipError(
                f'refusing to {verb} auto-scaling group "{group.get("AutoScalingGroupName")}" for '
                f"{address} in stack {stack!r}: it is tagged {OWNER_STACK_TAG}={owner.stack!r}, "
                f"address={owner.address!r}; import it or choose another fleet name"
            )


def _placement(args: FleetArgs) -> dict[str, Any]:
    if args.subnet_ids:
        return {"VPCZoneIdentifier": ",".join(args.subnet_ids)}
    return {"AvailabilityZones": list(args.availability_zones)}


def _target_groups(clients: AwsClients, operation: str, *, group: str, arns: list[str], address: str) -> None:
    for start in range(0, len(arns), ATTACH_CHUNK):
        chunk = arns[start : start + ATTACH_CHUNK]
        if operation != "DetachLoadBalancerTargetGroups":  # attaching twice is harmless
            clients.call(
                "autoscaling", operation, address=address, AutoScalingGroupName=group, TargetGroupARNs=chunk
            )
            continue

        def detached(chunk: list[str] = chunk) -> bool:
            found = group_named(clients, group, address=address)
            return found is None or not set(chunk) & set(found.get("TargetGroupARNs") or [])

        clients.call_once(
            "autoscaling",
            operation,
            took_effect=detached,
            address=address,
            AutoScalingGroupName=group,
            TargetGroupARNs=chunk,
        )


def _converge(
    clients: AwsClients,
    groups: list[dict[str, Any]],
    *,
    args: FleetArgs,
    request: ChangeRequest,
    settings: AwsSettings,
) -> ObservedResource:
    """Bring the active group to the configuration, in place; then read the fleet back."""
    address = str(request.address)
    active = active_group(groups, args.name)
    assert active is not None
    name = str(active["AutoScalingGroupName"])
    current = group_fields(active, fleet=args.name, settings=settings)
    want = config_fields(args)
    version = args.launch_template_version
    if version is None:  # the engine normally fills it in; keep the pinned one for the same template
        same = current["launch_template"] == args.launch_template and pinned_version(active) is not None
        version = current["launch_template_version"] if same else None
        version = version or default_template_version(clients, args.launch_template, address=address)
    want["launch_template_version"] = version
    params: dict[str, Any] = {}
    if any(current[k] != want[k] for k in ("min_size", "max_size", "desired_capacity")):
        params |= {
            "MinSize": args.min_size,
            "MaxSize": args.max_size,
            "DesiredCapacity": want["desired_capacity"],
        }
    if current["health_check_type"] != want["health_check_type"]:
        params["HealthCheckType"] = args.health_check_type
    if current["health_check_grace_period"] != want["health_check_grace_period"]:
        params["HealthCheckGracePeriod"] = args.health_check_grace_period
    if (current["launch_template"], current["launch_template_version"]) != (args.launch_template, version):
        params["LaunchTemplate"] = {"LaunchTemplateId": args.launch_template, "Version": str(version)}
    if (current["availability_zones"], current["subnet_ids"]) != (
        want["availability_zones"],
        want["subnet_ids"],
    ):
        params |= _placement(args)
    if params:
        clients.call(
            "autoscaling", "UpdateAutoScalingGroup", address=address, AutoScalingGroupName=name, **params
        )
    attached, wanted = set(current["target_group_arns"]), set(want["target_group_arns"])
    _target_groups(
        clients, "AttachLoadBalancerTargetGroups", group=name, arns=sorted(wanted - attached), address=address
    )
    _target_groups(
        clients, "DetachLoadBalancerTargetGroups", group=name, arns=sorted(attached - wanted), address=address
    )
    tags = fleet_tags(
        user=args.tags,
        default=settings.default_tags,
        stack=request.stack,
        address=address,
        fleet=args.name,
        generation=generation_of(active, args.name),
    )
    to_set, to_delete = tag_changes(group_tags(active), tags)
    if to_set:
        clients.call("autoscaling", "CreateOrUpdateTags", address=address, Tags=asg_tag_list(name, to_set))
    if to_delete:
        rows = [
            {k: v for k, v in t.items() if k in ("ResourceId", "ResourceType", "Key")}
            for t in asg_tag_list(name, dict.fromkeys(to_delete, ""))
        ]
        clients.call("autoscaling", "DeleteTags", address=address, Tags=rows)
    return _read(clients, args.name, settings=settings, address=address)


def create(clients: AwsClients, request: ChangeRequest, *, settings: AwsSettings) -> ObservedResource:
    args = validate_config(FleetArgs, request.config, address=request.address)
    address = str(request.address)
    first = group_name(args.name, 1)
    groups = groups_of_fleet(clients, args.name, address=address)
    if not any(g.get("AutoScalingGroupName") == first for g in groups):
        untagged = group_named(clients, first, address=address)  # a same-named group replaces silently
        if untagged is not None:
            groups.append(untagged)
    if groups:
        _check_owned(groups, stack=request.stack, address=address, verb="adopt", exact=True)
        return _converge(clients, groups, args=args, request=request, settings=settings)
    version = args.launch_template_version or default_template_version(
        clients, args.launch_template, address=address
    )
    tags = fleet_tags(
        user=args.tags,
        default=settings.default_tags,
        stack=request.stack,
        address=address,
        fleet=args.name,
        generation=1,
    )
    created = clients.call_once(  # a resent create would silently replace the group in moto
        "autoscaling",
        "CreateAutoScalingGroup",
        took_effect=lambda: group_named(clients, first, address=address) is not None,
        address=address,
        AutoScalingGroupName=first,
        LaunchTemplate={"LaunchTemplateId": args.launch_template, "Version": str(version)},
        MinSize=args.min_size,
        MaxSize=args.max_size,
        DesiredCapacity=args.desired_capacity,
        TargetGroupARNs=list(args.target_group_arns),
        HealthCheckType=args.health_check_type,
        HealthCheckGracePeriod=args.health_check_grace_period,
        Tags=asg_tag_list(first, tags),
        **_placement(args),
    )
    if created is None:  # an earlier attempt made it: adopt it as a crashed run's group
        groups = groups_of_fleet(clients, args.name, address=address)
        _check_owned(groups, stack=request.stack, address=address, verb="adopt", exact=True)
        return _converge(clients, groups, args=args, request=request, settings=settings)
    return _read(clients, args.name, settings=settings, address=address)


def update(clients: AwsClients, request: ChangeRequest, *, settings: AwsSettings) -> ObservedResource:
    args = validate_config(FleetArgs, request.config, address=request.address)
    address = str(request.address)
    fleet = request.id or args.name
    groups = groups_of_fleet(clients, fleet, address=address)
    if not groups:
        raise CloudError(
            call="DescribeAutoScalingGroups",
            message=f"no auto-scaling group of fleet {fleet!r} exists any more",
            address=address,
            code="ValidationError",
        )
    _check_owned(groups, stack=request.stack, address=address, verb="update", exact=False)
    return _converge(clients, groups, args=args, request=request, settings=settings)


def delete(clients: AwsClients, request: DeleteRequest) -> None:
    """Detach and force-delete every generation of the fleet; a fleet already gone is fine."""
    address = str(request.address)
    groups = groups_of_fleet(clients, request.id, address=address)
    _check_owned(groups, stack=request.stack, address=address, verb="delete", exact=False)
    for group in groups:
        name = str(group["AutoScalingGroupName"])
        try:
            _target_groups(
                clients,
                "DetachLoadBalancerTargetGroups",
                group=name,
                arns=sorted(group.get("TargetGroupARNs") or []),
                address=address,
            )
            clients.call(
                "autoscaling",
                "DeleteAutoScalingGroup",
                address=address,
                AutoScalingGroupName=name,
                ForceDelete=True,
            )
        except CloudError as err:
            if not group_not_found(err):
                raise
