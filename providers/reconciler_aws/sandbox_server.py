"""The sandbox's moto server, with fixes for moto bugs that real AWS does not have.

moto 5.2 stores the UserData of `CreateLaunchTemplateVersion` as a plain string, then fails an
assertion (HTTP 500) when an auto-scaling group launches from that version; AWS accepts it. The
fix wraps such user data the way moto's own `CreateLaunchTemplate` does. moto 5.2 also answers
DescribeLaunchTemplates with a template's tags as they were at creation (CreateTags/DeleteTags never
show there, although its tag filters see them); AWS answers with the current tags, so the fix makes
`LaunchTemplate.tags` read the live tags. And moto cuts DescribeLaunchTemplates and
DescribeLaunchTemplateVersions at MaxResults (15 without it) with no NextToken; AWS pages them with
NextToken and answers every id asked for, so the fix pages them the same way. Last, a speed fix:
moto reads one EC2 object's tags by filtering every tag of the region (DescribeTags with a
resource-id filter), so a tag-filtered listing of N objects cost O(N x all tags) and a plan of
1,000 fleets waited ~50 s on the emulator; the fix reads the object's own tags directly (the same
answer, in the same order). The image fixes
(RegisterImage, CopyImage, deregistration with snapshots, deprecation) are in sandbox_images. Used by
`reconciler sandbox start` (as `python -m reconciler_aws.sandbox_server`) and by the test suite's
in-process server, so both behave like AWS here. Never imported by the engine.
"""

from __future__ import annotations

import argparse
from typing import Any


def apply_moto_fixes() -> None:
    """Idempotently patch the emulator (not boto3, not the product)."""
    from moto.core.types import Base64EncodedString
    from moto.ec2.models.core import TaggedEC2Resource
    from moto.ec2.models.launch_templates import LaunchTemplate, LaunchTemplateVersion
    from moto.ec2.responses.launch_templates import LaunchTemplates
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix, parse_user_data

    from reconciler_aws.sandbox_images import apply_image_fixes

    apply_image_fixes()
    if getattr(LaunchTemplateVersion, "_reconciler_fixed", False):
        return

    def user_data(self: Any) -> Base64EncodedString | None:
        value = self.data.get("UserData")
        if value is not None and not isinstance(value, Base64EncodedString):
            value = parse_user_data(value)
            self.data["UserData"] = value
        return value

    LaunchTemplateVersion.user_data = property(user_data)  # type: ignore[method-assign,assignment]

    def live_tags(self: Any) -> list[dict[str, str]]:
        return list(self.get_tags())

    def ignore(self: Any, value: Any) -> None:  # moto's __init__ stores a snapshot; the tags are live
        pass

    LaunchTemplate.tags = property(live_tags, ignore)  # type: ignore[assignment]

    def own_tags(self: Any) -> list[dict[str, str]]:
        rid = getattr(self, "id", None)
        if not rid:
            return []
        tags = self.ec2_backend.tags.get(rid) or {}  # .get: never adds to moto's defaultdict
        kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(rid), "")
        return [{"resource_id": rid, "key": k, "value": v, "resource_type": kind} for k, v in tags.items()]

    TaggedEC2Resource.get_tags = own_tags  # type: ignore[method-assign]
    for method, key in (
        ("describe_launch_templates", "LaunchTemplates"),
        ("describe_launch_template_versions", "LaunchTemplateVersions"),
    ):
        setattr(LaunchTemplates, method, _paged(getattr(LaunchTemplates, method), key))
    LaunchTemplateVersion._reconciler_fixed = True  # type: ignore[attr-defined]


def _paged(original: Any, key: str) -> Any:
    """A moto describe method answering every match (not MaxResults of them), then cut into pages
    of MaxResults (all when absent) with an index NextToken, as AWS pages them."""

    def describe(self: Any) -> Any:
        limit = self._get_int_param("MaxResults")
        start = int(self._get_param("NextToken") or 0)
        get_int = self._get_int_param

        def unlimited(name: str, if_none: Any = None) -> Any:
            return 10**9 if name == "MaxResults" else get_int(name, if_none)

        self._get_int_param = unlimited
        try:
            answer = original(self)
        finally:
            del self._get_int_param
        items = answer.result[key]
        end = len(items) if limit is None else start + limit
        answer.result[key] = items[start:end]
        if end < len(items):
            answer.result["NextToken"] = str(end)
        return answer

    return describe


def main() -> None:
    parser = argparse.ArgumentParser(description="moto server for the reconciler sandbox")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4566)
    args = parser.parse_args()
    apply_moto_fixes()
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=True)
    server.start()
    try:
        server._thread.join()  # type: ignore[union-attr]  # serve until terminated
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
