"""aws_cloudwatch_metric_alarm against a real moto server: create, retune, retag, refresh in a
batch, adopt what a killed apply left, refuse what another stack owns, delete, import."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from reconciler.address import Address
from reconciler.errors import ConfigError, OwnershipError
from reconciler.sdk import (
    OWNER_ADDRESS_TAG,
    OWNER_STACK_TAG,
    ChangeRequest,
    DeleteRequest,
    ImportRequest,
    RefreshRequest,
)
from reconciler_aws.alarm import AlarmArgs
from reconciler_aws.provider import AwsProvider

TYPE = "aws_cloudwatch_metric_alarm"
STACK = "web-prod"


def config(name: str = "web-5xx", **overrides: Any) -> dict[str, Any]:
    return {
        "alarm_name": name,
        "metric_name": "HTTPCode_Target_5XX_Count",
        "namespace": "AWS/ApplicationELB",
        "statistic": "Sum",
        "period": 60,
        "evaluation_periods": 2,
        "threshold": 10,
        "comparison_operator": "GreaterThanThreshold",
        "dimensions": {"TargetGroup": "targetgroup/web/abc"},
        "treat_missing_data": "notBreaching",
        "tags": {"Name": name},
        **overrides,
    }


def expected(cfg: dict[str, Any]) -> dict[str, Any]:
    return AlarmArgs(**cfg).model_dump(mode="json")


def address(name: str = "errors") -> Address:
    return Address(TYPE, name)


def create(provider: AwsProvider, cfg: dict[str, Any], *, stack: str = STACK, name: str = "errors") -> Any:
    return provider.create(ChangeRequest(address=address(name), type_name=TYPE, config=cfg, stack=stack))


def aws_tags(cloudwatch: Any, name: str) -> dict[str, str]:
    arn = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]
    return {t["Key"]: t["Value"] for t in cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"]}


def test_create_writes_the_alarm_with_ownership_tags_and_observes_its_config(
    provider: AwsProvider, boto: Any
) -> None:
    cfg = config(alarm_description="5xx from the web fleet")
    observed = create(provider, cfg)
    assert observed.id == "web-5xx"
    assert observed.attributes["arn"] == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-5xx"
    assert {k: observed.attributes[k] for k in expected(cfg)} == expected(cfg)
    cloudwatch = boto("cloudwatch")
    alarm = cloudwatch.describe_alarms(AlarmNames=["web-5xx"])["MetricAlarms"][0]
    assert (alarm["Threshold"], alarm["Period"], alarm["TreatMissingData"]) == (10.0, 60, "notBreaching")
    assert alarm["Dimensions"] == [{"Name": "TargetGroup", "Value": "targetgroup/web/abc"}]
    assert aws_tags(cloudwatch, "web-5xx") == {
        "Name": "web-5xx",
        "Team": "web",  # the provider's default tags
        OWNER_STACK_TAG: STACK,
        OWNER_ADDRESS_TAG: "aws_cloudwatch_metric_alarm.errors",
    }


def test_update_changes_the_configuration_and_tags_in_place(provider: AwsProvider, boto: Any) -> None:
    create(provider, config())
    cfg = config(threshold=25.5, period=300, tags={"Owner": "sre"})
    observed = provider.update(
        ChangeRequest(address=address(), type_name=TYPE, config=cfg, stack=STACK, id="web-5xx")
    )
    assert {k: observed.attributes[k] for k in expected(cfg)} == expected(cfg)
    cloudwatch = boto("cloudwatch")
    alarm = cloudwatch.describe_alarms(AlarmNames=["web-5xx"])["MetricAlarms"][0]
    assert (alarm["Threshold"], alarm["Period"]) == (25.5, 300)
    tags = aws_tags(cloudwatch, "web-5xx")
    assert tags["Owner"] == "sre" and "Name" not in tags and tags[OWNER_STACK_TAG] == STACK


def test_refresh_reads_many_alarms_with_one_describe_and_reports_deleted_ones(
    provider: AwsProvider, boto: Any
) -> None:
    for n in range(5):
        create(provider, config(f"a-{n}"), name=f"a{n}")
    boto("cloudwatch").delete_alarms(AlarmNames=["a-3"])
    before = Counter(provider.calls)
    seen = provider.refresh(
        RefreshRequest(type_name=TYPE, ids={f"a-{n}": address(f"a{n}") for n in range(5)}, stack=STACK)
    )
    made = provider.calls - before
    assert made["DescribeAlarms"] == 1
    assert made["ListTagsForResource"] == 4  # CloudWatch has no batched tag read
    assert seen["a-3"] is None
    other = seen["a-1"]
    assert other is not None and other.attributes == {
        **expected(config("a-1")),
        "id": "a-1",
        "arn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a-1",
    }
    assert other.ownership.stack == STACK and other.ownership.address == "aws_cloudwatch_metric_alarm.a1"


def test_create_adopts_its_own_alarm_and_refuses_another_stacks(provider: AwsProvider, boto: Any) -> None:
    first = create(provider, config())
    again = create(provider, config(threshold=11))  # a killed apply made it: adopted and retuned
    assert again.id == first.id and again.attributes["threshold"] == 11.0
    with pytest.raises(OwnershipError, match="not owned by"):
        create(provider, config(), stack="other-stack")
    cloudwatch = boto("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="hand-made",
        MetricName="CPUUtilization",
        Namespace="AWS/EC2",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=90.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    with pytest.raises(OwnershipError):
        create(provider, config("hand-made"))
    with pytest.raises(OwnershipError, match="refusing to delete"):
        provider.delete(DeleteRequest(address=address(), type_name=TYPE, id="hand-made", stack=STACK))
    assert cloudwatch.describe_alarms(AlarmNames=["hand-made"])["MetricAlarms"][0]["Threshold"] == 90.0


def test_delete_removes_only_its_own_alarm_and_a_gone_one_is_fine(provider: AwsProvider, boto: Any) -> None:
    create(provider, config(tags={"Old": "yes"}))
    request = DeleteRequest(address=address(), type_name=TYPE, id="web-5xx", stack=STACK)
    provider.delete(request)
    assert boto("cloudwatch").describe_alarms(AlarmNames=["web-5xx"])["MetricAlarms"] == []
    provider.delete(request)  # already gone: no error
    # made again under that name: only its own tags (moto would carry the deleted alarm's over)
    create(provider, config(tags={"New": "yes"}))
    tags = aws_tags(boto("cloudwatch"), "web-5xx")
    assert "Old" not in tags and tags["New"] == "yes"


def test_find_owned_and_import(provider: AwsProvider, boto: Any) -> None:
    create(provider, config("mine"), name="mine")
    create(provider, config("theirs"), name="theirs", stack="other-stack")
    boto("cloudwatch").put_metric_alarm(
        AlarmName="loose",
        MetricName="CPUUtilization",
        Namespace="AWS/EC2",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=90.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    assert [o.id for o in provider.find_owned(TYPE, STACK)] == ["mine"]
    adopted = provider.import_resource(
        ImportRequest(address=address("loose"), type_name=TYPE, id="loose", stack=STACK)
    )
    assert adopted.ownership.stack == STACK and adopted.attributes["threshold"] == 90.0
    assert sorted(o.id for o in provider.find_owned(TYPE, STACK)) == ["loose", "mine"]
    with pytest.raises(OwnershipError):
        provider.import_resource(
            ImportRequest(address=address("t"), type_name=TYPE, id="theirs", stack=STACK)
        )


def test_bad_arguments_are_config_errors(provider: AwsProvider) -> None:
    with pytest.raises(ConfigError) as err:
        create(provider, config(statistic="Median", period=5))
    assert [d.summary for d in err.value.diagnostics] == [
        'Invalid value for "statistic"',
        'Invalid value for "period"',
    ]
