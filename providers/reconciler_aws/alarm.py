"""Resource `aws_cloudwatch_metric_alarm`: a CloudWatch metric alarm that rollouts can gate on.

Arguments are the AWS provider's (alarm_name, metric_name, namespace, statistic, period,
evaluation_periods, threshold, comparison_operator, dimensions, treat_missing_data,
alarm_description, tags); `alarm_name` forces a new alarm, everything else changes in place
(PutMetricAlarm overwrites an alarm's configuration and keeps its state; tags change with
TagResource/UntagResource, since PutMetricAlarm ignores tags on an existing alarm). A fleet's
`rollout { alarms = [aws_cloudwatch_metric_alarm.x.alarm_name] }` depends on it, so the alarm
exists before a rollout watches it (`TypeRole.ALARM`: the engine checks every gate names an alarm
of the stack or of the cloud while planning).

Ownership as every type: create first looks the name up; an alarm tagged with this stack and
address (left by a killed apply) is adopted, any other is refused with OwnershipError, as are
update and delete of an alarm without this stack's tag; a new alarm drops tags it did not ask
for (moto keeps a deleted alarm's tags for a new alarm of the same name). `refresh` reads any
number of alarms with one DescribeAlarms per 100 names plus one ListTagsForResource per alarm
(CloudWatch has no batched tag read); `find_owned` lists every alarm and keeps those tagged with
the stack.
Callers: `reconciler_aws.provider.AwsProvider`.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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
    TypeRole,
)
from reconciler_aws.alarm_reads import alarms_by_names, all_alarms, tags_of
from reconciler_aws.settings import AwsSettings
from reconciler_aws.tags import claim_for_import, desired_tags, ownership_of, tag_changes, tag_list, user_tags
from reconciler_aws.terraform_shapes import ALARM
from reconciler_aws.validation import validate_config

if TYPE_CHECKING:
    from reconciler_aws.clients import AwsClients

TYPE_NAME = "aws_cloudwatch_metric_alarm"

Statistic = Literal["SampleCount", "Average", "Sum", "Minimum", "Maximum"]
Comparison = Literal[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
]
MissingData = Literal["missing", "ignore", "breaching", "notBreaching"]


class AlarmArgs(BaseModel):
    """Arguments of `resource "aws_cloudwatch_metric_alarm"`."""

    model_config = ConfigDict(extra="forbid")

    alarm_name: str = Field(min_length=1, max_length=255)
    metric_name: str = Field(min_length=1, max_length=255)
    namespace: str = Field(min_length=1, max_length=255)
    statistic: Statistic
    period: int = Field(ge=10, le=86400)
    evaluation_periods: int = Field(ge=1)
    threshold: float
    comparison_operator: Comparison
    dimensions: dict[str, str] = Field(default_factory=dict)
    treat_missing_data: MissingData = "missing"
    alarm_description: str = Field(default="", max_length=1024)
    tags: dict[str, str] = Field(default_factory=dict)


SCHEMA = ResourceSchema(
    type_name=TYPE_NAME,
    mode=Mode.MANAGED,
    model=AlarmArgs,
    computed=frozenset({"id", "arn"}),
    force_new=frozenset({"alarm_name"}),
    cloud_name="alarm_name",
    role=TypeRole.ALARM,
    noun="alarm",
    description="A CloudWatch metric alarm; a fleet's rollout gates can name it (rollout { alarms }).",
    terraform_view=ALARM,
)


def put_params(args: AlarmArgs) -> dict[str, Any]:
    """PutMetricAlarm's parameters for the configuration (without tags)."""
    params: dict[str, Any] = {
        "AlarmName": args.alarm_name,
        "MetricName": args.metric_name,
        "Namespace": args.namespace,
        "Statistic": args.statistic,
        "Period": args.period,
        "EvaluationPeriods": args.evaluation_periods,
        "Threshold": args.threshold,
        "ComparisonOperator": args.comparison_operator,
        "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(args.dimensions.items())],
        "TreatMissingData": args.treat_missing_data,
    }
    if args.alarm_description:
        params["AlarmDescription"] = args.alarm_description
    return params


def observe(alarm: dict[str, Any], *, tags: dict[str, str], settings: AwsSettings) -> ObservedResource:
    """One described alarm and its tags → attributes in the model's shape."""
    name = str(alarm["AlarmName"])
    attributes: dict[str, Any] = {
        "alarm_name": name,
        "metric_name": alarm.get("MetricName"),
        "namespace": alarm.get("Namespace"),
        "statistic": alarm.get("Statistic"),
        "period": int(alarm.get("Period") or 0),
        "evaluation_periods": int(alarm.get("EvaluationPeriods") or 0),
        "threshold": float(alarm.get("Threshold") or 0.0),
        "comparison_operator": alarm.get("ComparisonOperator"),
        "dimensions": {str(d["Name"]): str(d["Value"]) for d in alarm.get("Dimensions") or []},
        "treat_missing_data": alarm.get("TreatMissingData") or "missing",
        "alarm_description": alarm.get("AlarmDescription") or "",
        "tags": user_tags(tags, default=settings.default_tags),
        "id": name,
        "arn": str(alarm.get("AlarmArn") or ""),
    }
    digest = hashlib.sha256(json.dumps([attributes, sorted(tags.items())], sort_keys=True).encode())
    return ObservedResource(
        id=name, attributes=attributes, ownership=ownership_of(tags), fingerprint=digest.hexdigest()[:16]
    )


# --- reads -------------------------------------------------------------------------------------


def refresh(
    clients: AwsClients, request: RefreshRequest, *, settings: AwsSettings
) -> dict[str, ObservedResource | None]:
    if not request.ids:
        return {}
    alarms = alarms_by_names(clients, request.ids)
    out: dict[str, ObservedResource | None] = {}
    for name in request.ids:
        alarm = alarms.get(name)
        if alarm is None:
            out[name] = None
            continue
        tags = tags_of(clients, str(alarm["AlarmArn"]), address=request.ids[name])
        out[name] = observe(alarm, tags=tags, settings=settings)
    return out


def find_owned(clients: AwsClients, stack: str, *, settings: AwsSettings) -> list[ObservedResource]:
    """Every metric alarm tagged with `stack` now, whatever address it is tagged with."""
    found = []
    for _, alarm in sorted(all_alarms(clients).items()):
        tags = tags_of(clients, str(alarm["AlarmArn"]))
        if ownership_of(tags).stack == stack:
            found.append(observe(alarm, tags=tags, settings=settings))
    return found


def _missing(name: str, address: str) -> CloudError:
    return CloudError(
        call="DescribeAlarms",
        message=f"alarm {name!r} does not exist",
        address=address,
        code="ResourceNotFound",
    )


def import_resource(
    clients: AwsClients, request: ImportRequest, *, settings: AwsSettings
) -> ObservedResource:
    """Adopt the alarm named `request.id`: add the ownership tags."""
    address = str(request.address)
    alarm = alarms_by_names(clients, [request.id], address=address).get(request.id)
    if alarm is None:
        raise _missing(request.id, address)
    arn = str(alarm["AlarmArn"])
    tags = tags_of(clients, arn, address=address)
    to_set, merged = claim_for_import(
        tags, stack=request.stack, address=address, what=f'alarm "{request.id}"'
    )
    if to_set:
        clients.call("cloudwatch", "TagResource", address=address, ResourceARN=arn, Tags=tag_list(to_set))
    return observe(alarm, tags=merged, settings=settings)


# --- changes -----------------------------------------------------------------------------------


def _converge(
    clients: AwsClients,
    alarm: dict[str, Any],
    *,
    args: AlarmArgs,
    tags: dict[str, str],
    current_tags: dict[str, str],
    settings: AwsSettings,
    address: str,
) -> ObservedResource:
    """Bring an existing alarm's configuration and tags to `args`; read it back."""
    arn = str(alarm["AlarmArn"])
    current = observe(alarm, tags=current_tags, settings=settings).attributes
    wanted = args.model_dump(mode="json", exclude={"tags"})
    if any(current.get(k) != v for k, v in wanted.items()):
        clients.call("cloudwatch", "PutMetricAlarm", address=address, **put_params(args))
    to_set, to_delete = tag_changes(current_tags, tags)
    if to_set:
        clients.call("cloudwatch", "TagResource", address=address, ResourceARN=arn, Tags=tag_list(to_set))
    if to_delete:
        clients.call("cloudwatch", "UntagResource", address=address, ResourceARN=arn, TagKeys=to_delete)
    return _read_back(clients, args.alarm_name, tags=tags, settings=settings, address=address)


def _read_back(
    clients: AwsClients, name: str, *, tags: dict[str, str], settings: AwsSettings, address: str
) -> ObservedResource:
    alarm = alarms_by_names(clients, [name], address=address).get(name)
    if alarm is None:
        raise CloudError(
            call="PutMetricAlarm",
            message=f"alarm {name!r} was written, then vanished before it could be read",
            address=address,
        )
    return observe(alarm, tags=tags, settings=settings)


def create(clients: AwsClients, request: ChangeRequest, *, settings: AwsSettings) -> ObservedResource:
    args = validate_config(AlarmArgs, request.config, address=request.address)
    address = str(request.address)
    tags = desired_tags(user=args.tags, default=settings.default_tags, stack=request.stack, address=address)
    existing = alarms_by_names(clients, [args.alarm_name], address=address).get(args.alarm_name)
    if existing is None:  # PutMetricAlarm is a put: a resend writes the same alarm again
        clients.call("cloudwatch", "PutMetricAlarm", address=address, Tags=tag_list(tags), **put_params(args))
        made = _read_back(clients, args.alarm_name, tags=tags, settings=settings, address=address)
        # moto keeps a deleted alarm's tags and merges them into a new alarm of that name: drop them
        _, stale = tag_changes(tags_of(clients, made.attributes["arn"], address=address), tags)
        if stale:
            clients.call(
                "cloudwatch",
                "UntagResource",
                address=address,
                ResourceARN=made.attributes["arn"],
                TagKeys=stale,
            )
        return made
    current_tags = tags_of(clients, str(existing["AlarmArn"]), address=address)
    owner = ownership_of(current_tags)
    if owner.stack != request.stack or owner.address != address:
        raise OwnershipError(
            f'alarm "{args.alarm_name}" already exists and is not owned by {address} in stack '
            f"{request.stack!r} (it is tagged stack={owner.stack!r}, address={owner.address!r}); "
            "import it or choose another name"
        )
    return _converge(
        clients, existing, args=args, tags=tags, current_tags=current_tags, settings=settings, address=address
    )


def _owned_alarm(
    clients: AwsClients, *, name: str, stack: str, address: str, verb: str
) -> tuple[dict[str, Any], dict[str, str]] | None:
    alarm = alarms_by_names(clients, [name], address=address).get(name)
    if alarm is None:
        return None
    tags = tags_of(clients, str(alarm["AlarmArn"]), address=address)
    owner = ownership_of(tags)
    if owner.stack != stack:
        raise OwnershipError(
            f'refusing to {verb} alarm "{name}" for {address}: '
            f"its {OWNER_STACK_TAG} tag is {owner.stack!r}, not {stack!r}"
        )
    return alarm, tags


def update(clients: AwsClients, request: ChangeRequest, *, settings: AwsSettings) -> ObservedResource:
    args = validate_config(AlarmArgs, request.config, address=request.address)
    address = str(request.address)
    name = request.id or str((request.prior or {}).get("id") or args.alarm_name)
    found = _owned_alarm(clients, name=name, stack=request.stack, address=address, verb="update")
    if found is None:
        raise _missing(name, address)
    alarm, current_tags = found
    tags = desired_tags(user=args.tags, default=settings.default_tags, stack=request.stack, address=address)
    return _converge(
        clients, alarm, args=args, tags=tags, current_tags=current_tags, settings=settings, address=address
    )


def delete(clients: AwsClients, request: DeleteRequest) -> None:
    address = str(request.address)
    found = _owned_alarm(clients, name=request.id, stack=request.stack, address=address, verb="delete")
    if found is None:
        return
    clients.call("cloudwatch", "DeleteAlarms", address=address, AlarmNames=[request.id])
