"""AwsProvider: the `Provider` protocol of reconciler.sdk, dispatching on the type name.

Data sources map to a `read` function per type, managed resources to a module with `refresh`,
`create`, `update`, `delete`, `find_owned` (state recovery) and `import_resource`. `calls`
counts every AWS API call by operation name (benchmarks print it). Callers:
`reconciler_aws.plugin` (PLUGIN.connect), tests, benchmarks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from reconciler.sdk import (
    Address,
    ChangePreview,
    ChangeRequest,
    CloudError,
    DataResult,
    DeleteRequest,
    ImportRequest,
    Mode,
    ObservedResource,
    PreviewRequest,
    ReadDataRequest,
    RefreshRequest,
    ResourceSchema,
)
from reconciler.sdk.images import ImageCandidate
from reconciler_aws import (
    SCHEMAS,
    alarm,
    ami,
    ami_copy,
    ami_list,
    ami_permissions,
    ami_retention,
    fleet,
    launch_template,
    subnets,
    target_group,
    vpc,
)
from reconciler_aws.clients import AwsClients
from reconciler_aws.fleet_ops import AwsFleetOps
from reconciler_aws.settings import AwsSettings

DataReader = Callable[[AwsClients, ReadDataRequest], DataResult]

DATA_READERS: dict[str, DataReader] = {
    ami.TYPE_NAME: ami.read,
    vpc.TYPE_NAME: vpc.read,
    subnets.TYPE_NAME: subnets.read,
}


class ManagedType(Protocol):
    """What a managed-resource module offers (see reconciler_aws/launch_template.py)."""

    def refresh(
        self, clients: AwsClients, request: RefreshRequest, *, settings: AwsSettings
    ) -> dict[str, ObservedResource | None]: ...

    def create(
        self, clients: AwsClients, request: ChangeRequest, *, settings: AwsSettings
    ) -> ObservedResource: ...

    def update(
        self, clients: AwsClients, request: ChangeRequest, *, settings: AwsSettings
    ) -> ObservedResource: ...

    def delete(self, clients: AwsClients, request: DeleteRequest) -> None: ...

    def find_owned(
        self, clients: AwsClients, stack: str, *, settings: AwsSettings
    ) -> list[ObservedResource]: ...

    def import_resource(
        self, clients: AwsClients, request: ImportRequest, *, settings: AwsSettings
    ) -> ObservedResource: ...


MANAGED: dict[str, ManagedType] = {
    launch_template.TYPE_NAME: launch_template,
    target_group.TYPE_NAME: target_group,
    fleet.TYPE_NAME: fleet,
    alarm.TYPE_NAME: alarm,
    ami_permissions.TYPE_NAME: ami_permissions,
    ami_copy.TYPE_NAME: ami_copy,
    ami_retention.TYPE_NAME: ami_retention,
}

# Types whose schema says `previewed`: (clients, request) → what apply will do, for the plan.
PREVIEWS: dict[str, Callable[[AwsClients, PreviewRequest], ChangePreview]] = {
    ami_permissions.TYPE_NAME: ami_permissions.preview,
    ami_copy.TYPE_NAME: ami_copy.preview,
    ami_retention.TYPE_NAME: ami_retention.preview,
}


def _unsupported(call: str, type_name: str) -> CloudError:
    return CloudError(
        call=call, message=f"the aws provider has no type {type_name!r}", code="UnsupportedType"
    )


class AwsProvider:
    """The live AWS provider for one `provider "aws"` block."""

    def __init__(self, settings: AwsSettings, *, max_attempts: int | None = None) -> None:
        self.settings = settings
        self.clients = AwsClients(settings, max_attempts=max_attempts)

    @property
    def calls(self) -> Counter[str]:
        """API calls made so far, by operation name (`DescribeLaunchTemplates`: 2, ...)."""
        return self.clients.calls

    def fleet_ops(self) -> AwsFleetOps:
        """The rollout executor's FleetOps, sharing this provider's clients and call counter."""
        return AwsFleetOps(self.clients)

    def list_images(
        self, *, config: Mapping[str, Any], version_tag: str | None = None, address: Address | None = None
    ) -> list[ImageCandidate]:
        """`ami list` (sdk.images.ImageLister): the AMIs an aws_ami query finds, classified."""
        return ami_list.list_candidates(self.clients, config=config, version_tag=version_tag, address=address)

    def name_query(self, pattern: str, *, owners: Sequence[str]) -> dict[str, Any]:
        return {"owners": list(owners) or ["self"], "name": pattern}

    def describe_image_query(self, config: Mapping[str, Any]) -> str:
        return ami_list.describe_query(config)

    def schemas(self) -> Mapping[tuple[Mode, str], ResourceSchema]:
        return SCHEMAS

    def preview(self, request: PreviewRequest) -> ChangePreview:
        """sdk.Previewer: what a planned change of a `previewed` type will do, for the plan."""
        previewer = PREVIEWS.get(request.type_name)
        if previewer is None:
            raise _unsupported("Preview", request.type_name)
        return previewer(self.clients, request)

    def read_data(self, request: ReadDataRequest) -> DataResult:
        reader = DATA_READERS.get(request.type_name)
        if reader is None:
            raise _unsupported("ReadData", request.type_name)
        return reader(self.clients, request)

    def refresh(self, request: RefreshRequest) -> dict[str, ObservedResource | None]:
        module = MANAGED.get(request.type_name)
        if module is None:
            raise _unsupported("Refresh", request.type_name)
        return module.refresh(self.clients, request, settings=self.settings)

    def create(self, request: ChangeRequest) -> ObservedResource:
        module = MANAGED.get(request.type_name)
        if module is None:
            raise _unsupported("Create", request.type_name)
        return module.create(self.clients, request, settings=self.settings)

    def update(self, request: ChangeRequest) -> ObservedResource:
        module = MANAGED.get(request.type_name)
        if module is None:
            raise _unsupported("Update", request.type_name)
        return module.update(self.clients, request, settings=self.settings)

    def delete(self, request: DeleteRequest) -> None:
        module = MANAGED.get(request.type_name)
        if module is None:
            raise _unsupported("Delete", request.type_name)
        module.delete(self.clients, request)

    def find_owned(self, type_name: str, stack: str) -> list[ObservedResource]:
        module = MANAGED.get(type_name)
        if module is None:
            raise _unsupported("FindOwned", type_name)
        return module.find_owned(self.clients, stack, settings=self.settings)

    def import_resource(self, request: ImportRequest) -> ObservedResource:
        module = MANAGED.get(request.type_name)
        if module is None:
            raise _unsupported("Import", request.type_name)
        return module.import_resource(self.clients, request, settings=self.settings)
