"""The AWS call layer: error translation, retries under throttling, the call counter.

Faults are injected at the HTTP boundary with a botocore `before-send` handler on the provider's
own client, as DESIGN.md §6 describes; everything else talks to the moto server.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from reconciler.address import Address, Mode
from reconciler.errors import CloudError, CloudErrorKind
from reconciler.sdk import ReadDataRequest
from reconciler_aws.error_codes import classify_client_error
from reconciler_aws.provider import AwsProvider
from reconciler_aws.settings import AwsSettings

VPC = Address("aws_vpc", "default", mode=Mode.DATA)
AMI = Address("aws_ami", "app", mode=Mode.DATA)


def read_vpc(provider: AwsProvider) -> Any:
    return provider.read_data(ReadDataRequest(address=VPC, type_name="aws_vpc", config={"default": True}))


class _Body:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def throttle(code: str, *, times: int) -> tuple[list[int], Any]:
    """A before-send handler that answers HTTP 400 `code` `times` times, then lets calls through."""
    seen: list[int] = []

    def handler(request: Any, **_: Any) -> AWSResponse | None:
        seen.append(1)
        if len(seen) > times:
            return None
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>Rate exceeded</Message></Error>"
            "</Errors><RequestID>fault-injected</RequestID></Response>"
        ).encode()
        return AWSResponse(request.url, 400, {}, _Body(body))

    return seen, handler


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("ThrottlingException", 400, CloudErrorKind.RETRYABLE),
        ("RequestLimitExceeded", 400, CloudErrorKind.RETRYABLE),
        ("InternalError", 500, CloudErrorKind.RETRYABLE),
        ("Whatever", 503, CloudErrorKind.RETRYABLE),
        ("InvalidAMIID.NotFound", 400, CloudErrorKind.PERMANENT),
        ("UnauthorizedOperation", 403, CloudErrorKind.PERMANENT),
        ("InvalidParameterValue", None, CloudErrorKind.PERMANENT),
    ],
)
def test_classification(code: str, status: int | None, kind: CloudErrorKind) -> None:
    assert classify_client_error(code=code, status=status) is kind


@pytest.mark.parametrize("code", ["ThrottlingException", "RequestLimitExceeded"])
def test_standard_retries_recover_from_one_throttle(provider: AwsProvider, code: str) -> None:
    seen, handler = throttle(code, times=1)
    provider.clients.client("ec2").meta.events.register("before-send.ec2.DescribeVpcs", handler)
    assert read_vpc(provider).attributes["is_default"] is True
    assert len(seen) == 2  # the throttled attempt and the retry
    assert provider.calls["DescribeVpcs"] == 1  # one API call, however many attempts


def test_persistent_throttle_is_retryable_cloud_error(aws_env: str) -> None:
    provider = AwsProvider(AwsSettings(region="us-east-1"), max_attempts=2)
    seen, handler = throttle("RequestLimitExceeded", times=99)
    provider.clients.client("ec2").meta.events.register("before-send.ec2.DescribeVpcs", handler)
    with pytest.raises(CloudError) as info:
        read_vpc(provider)
    err = info.value
    assert (err.kind, err.call, err.code, err.address) == (
        CloudErrorKind.RETRYABLE,
        "DescribeVpcs",
        "RequestLimitExceeded",
        "data.aws_vpc.default",
    )
    assert "Rate exceeded" in err.message and "2 attempts" in err.message
    assert len(seen) == 2


def test_unreachable_endpoint_names_call_and_url(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_AWS_MAX_ATTEMPTS", "1")
    # settings.endpoint_url wins over AWS_ENDPOINT_URL (which points at moto here)
    provider = AwsProvider(AwsSettings(region="us-east-1", endpoint_url="http://127.0.0.1:9"))
    assert provider.clients.max_attempts == 1
    with pytest.raises(CloudError) as info:
        provider.read_data(ReadDataRequest(address=AMI, type_name="aws_ami", config={"name": "app-*"}))
    err = info.value
    assert err.kind is CloudErrorKind.UNREACHABLE
    assert err.call == "DescribeImages"
    assert "http://127.0.0.1:9" in err.message
    assert str(err).startswith("DescribeImages failed for data.aws_ami.app: could not reach")


def test_missing_region_is_permanent_with_a_hint(
    aws_env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    provider = AwsProvider(AwsSettings())
    with pytest.raises(CloudError) as info:
        read_vpc(provider)
    assert info.value.kind is CloudErrorKind.PERMANENT
    assert info.value.call == "DescribeVpcs"
    assert "region" in info.value.message and "AWS_REGION" in info.value.message


def test_missing_credentials_is_permanent_with_a_hint(
    aws_env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    provider = AwsProvider(AwsSettings(region="us-east-1"), max_attempts=1)
    with pytest.raises(CloudError) as info:
        read_vpc(provider)
    assert info.value.kind is CloudErrorKind.PERMANENT
    assert info.value.code == "NoCredentialsError"
    assert "AWS_PROFILE" in info.value.message


def test_unparseable_answer_is_permanent(aws_env: str) -> None:
    # moto answers HTTP 500 with an HTML page to a filter it does not implement
    quick = AwsProvider(AwsSettings(region="us-east-1"), max_attempts=1)
    quick.clients.call_once(
        "ec2",
        "CreateLaunchTemplate",
        took_effect=lambda: False,
        LaunchTemplateName="any",
        LaunchTemplateData={"ImageId": "ami-1"},
    )
    with pytest.raises(CloudError) as info:
        quick.clients.call(
            "ec2", "DescribeLaunchTemplates", Filters=[{"Name": "launch-template-id", "Values": ["lt-1"]}]
        )
    assert info.value.call == "DescribeLaunchTemplates"
    assert info.value.kind is CloudErrorKind.PERMANENT
    assert info.value.code == "ResponseParserError"


def test_not_found_keeps_the_service_code_and_words(provider: AwsProvider) -> None:
    with pytest.raises(CloudError) as info:
        provider.clients.call(
            "ec2", "DeleteLaunchTemplate", address="aws_launch_template.web", LaunchTemplateId="lt-0"
        )
    err = info.value
    assert err.kind is CloudErrorKind.PERMANENT
    assert err.code is not None and "NotFound" in err.code
    assert err.address == "aws_launch_template.web"
    assert provider.calls["DeleteLaunchTemplate"] == 1


def test_clients_are_cached_per_service(provider: AwsProvider) -> None:
    assert provider.clients.client("ec2") is provider.clients.client("ec2")
    assert provider.clients.client("autoscaling") is not provider.clients.client("ec2")


def test_attempts_default_to_ten_and_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("RECONCILER_AWS_MAX_ATTEMPTS", "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(var, raising=False)
    provider = AwsProvider(AwsSettings(region="us-east-1"))
    assert provider.clients.max_attempts == 10
    assert provider.clients.config.retries == {"mode": "adaptive", "total_max_attempts": 10}
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")  # botocore's own variable
    assert AwsProvider(AwsSettings(region="us-east-1")).clients.max_attempts == 3
    monkeypatch.setenv("RECONCILER_AWS_MAX_ATTEMPTS", "4")  # ours wins
    assert AwsProvider(AwsSettings(region="us-east-1")).clients.max_attempts == 4


def test_writes_that_a_resend_would_repeat_are_refused_by_call(provider: AwsProvider) -> None:
    with pytest.raises(ValueError, match="call_once"):
        provider.clients.call("autoscaling", "TerminateInstanceInAutoScalingGroup", InstanceId="i-1")
    assert provider.calls["TerminateInstanceInAutoScalingGroup"] == 0


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-29T23:36:34.000Z",
        "2026-11-29T23:36:34Z",
        "2026-11-29T23:36:34.123456+00:00",
        "2026-11-29T23:36:34+02:00",
        "1700000000",
        "2026-11-29T23:36:34",
    ],
)
def test_answer_timestamps_parse_as_botocore_parses_them(text: str) -> None:
    from botocore.utils import parse_timestamp as botocore_timestamp

    from reconciler_aws.clients import parse_timestamp

    ours, theirs = parse_timestamp(text), botocore_timestamp(text)
    assert ours == theirs and (ours.tzinfo is None) == (theirs.tzinfo is None)
