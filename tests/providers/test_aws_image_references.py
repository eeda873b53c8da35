"""DescribeImageReferences is not in moto 5.2, so the request and the parsing of AWS's answer are
checked through botocore itself: a `before-send` handler records the request and answers with a
recorded AWS response (the client is real; nothing is stubbed). On an emulator endpoint it is
never called."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from botocore.awsrequest import AWSResponse

from reconciler_aws.ami_retention_model import KeepReason
from reconciler_aws.ami_usage import image_references
from reconciler_aws.clients import AwsClients
from reconciler_aws.settings import AwsSettings

RECORDED = b"""<?xml version="1.0" encoding="UTF-8"?>
<DescribeImageReferencesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
  <imageReferenceSet>
    <item>
      <imageId>ami-0abcdef1234567890</imageId>
      <resourceType>ec2:Instance</resourceType>
      <arn>arn:aws:ec2:us-east-1:123456789012:instance/i-1234567890abcdef0</arn>
    </item>
    <item>
      <imageId>ami-0abcdef1234567890</imageId>
      <resourceType>ssm:Parameter</resourceType>
      <arn>arn:aws:ssm:us-east-1:123456789012:parameter/golden/web</arn>
    </item>
  </imageReferenceSet>
</DescribeImageReferencesResponse>
"""


class Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def test_references_request_and_answer(monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    clients = AwsClients(AwsSettings(region="us-east-1"), max_attempts=1)
    sent: list[dict[str, list[str]]] = []

    def answer(request: Any, **_: Any) -> AWSResponse:
        body = request.body
        sent.append(parse_qs(body.decode() if isinstance(body, bytes) else body))
        return AWSResponse(request.url, 200, {}, Raw(RECORDED))

    clients.client("ec2").meta.events.register("before-send.ec2.DescribeImageReferences", answer)
    found = image_references(clients, ["ami-0abcdef1234567890"])
    assert sent[0]["Action"] == ["DescribeImageReferences"]
    assert sent[0]["ImageId.1"] == ["ami-0abcdef1234567890"] and sent[0]["IncludeAllResourceTypes"] == [
        "true"
    ]
    uses = found["ami-0abcdef1234567890"]
    assert [u.reason for u in uses] == [KeepReason.INSTANCE, KeepReason.REFERENCED]
    assert uses[1].detail == "ssm:Parameter arn:aws:ssm:us-east-1:123456789012:parameter/golden/web"


def test_an_emulator_endpoint_is_never_asked(monkeypatch: Any) -> None:
    clients = AwsClients(AwsSettings(region="us-east-1", endpoint_url="http://127.0.0.1:1"), max_attempts=1)
    assert image_references(clients, ["ami-1"]) == {}  # no call: the endpoint does not even listen
    assert sum(clients.calls.values()) == 0
