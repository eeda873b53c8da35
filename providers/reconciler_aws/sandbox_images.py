"""Emulator fixes for AMIs: moto 5.2 behaviour that real AWS does not have, patched in the moto
server the sandbox and the test suite run (never in boto3, never in the product).

- RegisterImage keeps only Name/Description in moto: every image gets an invented 15 GiB
  unencrypted `standard` root, no architecture, no tags. Fixed: Architecture (default x86_64),
  VirtualizationType (hvm), RootDeviceName, BootMode, EnaSupport, image TagSpecifications,
  ImageLocation (an instance-store image, no mappings), and the block device mappings as given,
  their snapshots linked to the image (DeleteSnapshot then says InUse, as on AWS).
- CopyImage in moto ignores CopyImageTags, TagSpecifications, Encrypted, KmsKeyId and ClientToken
  and copies no snapshot. Fixed: one new snapshot per source EBS mapping in the target region
  (encrypted when asked or when the source's is, with the key), the tags, SourceImageId and
  SourceImageRegion, idempotency by ClientToken, a missing source or region is 400
  InvalidAMIID.NotFound (moto: 500). RECONCILER_SANDBOX_COPY_SECONDS (read at each copy) keeps a
  copy `pending` that long, as AWS does for minutes.
- DeregisterImage ignores DeleteAssociatedSnapshots: honoured (unshared snapshots deleted).
- Describe/ModifyImageAttribute of a deregistered image answer 500: 400 InvalidAMIID.NotFound.
- Enable/DisableImageDeprecation answer 500: they set DeprecationTime.
Callers: reconciler_aws.sandbox_server (apply_moto_fixes).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any

__all__ = ["COPY_SECONDS_ENV", "apply_image_fixes"]

COPY_SECONDS_ENV = "RECONCILER_SANDBOX_COPY_SECONDS"


def _tag_pairs(specs: list[dict[str, Any]], resource_type: str) -> list[tuple[str, str]]:
    out = []
    for spec in specs or []:
        if spec.get("ResourceType") == resource_type:
            for tag in spec.get("Tags") or []:
                out.append((str(tag.get("Key", tag.get("key"))), str(tag.get("Value", tag.get("value", "")))))
    return out


def apply_image_fixes() -> None:
    """Idempotently patch moto's image model and responses."""
    from moto.core.responses import ActionResult
    from moto.ec2.exceptions import InvalidAMIIdError
    from moto.ec2.models.amis import Ami
    from moto.ec2.responses.amis import AmisResponse

    if getattr(Ami, "_reconciler_images_fixed", False):
        return
    Ami._reconciler_images_fixed = True  # type: ignore[attr-defined]
    moto_mappings = Ami.block_device_mappings

    def block_device_mappings(self: Any) -> Any:
        own = self.__dict__.get("_mappings")
        return own if own is not None else moto_mappings.fget(self)  # type: ignore[attr-defined]

    def state_get(self: Any) -> str:
        ready = self.__dict__.get("_ready_at")
        if ready is not None and time.monotonic() < ready:
            return "pending"
        return str(self.__dict__.get("_state", "available"))

    def state_set(self: Any, value: str) -> None:
        self.__dict__["_state"] = value

    Ami.block_device_mappings = property(block_device_mappings)  # type: ignore[method-assign,assignment]
    Ami.state = property(state_get, state_set)  # type: ignore[assignment]
    for name in ("ena_support", "deprecation_time", "source_image_id", "source_image_region"):
        setattr(Ami, name, None)

    def own_snapshots(ami: Any, backend: Any, mappings: list[dict[str, Any]]) -> None:
        """Replace moto's invented snapshot by `mappings`; link each snapshot to the image."""
        backend.snapshots.pop(ami.ebs_snapshot.id, None)
        out: list[dict[str, Any]] = []
        for m in mappings:
            ebs = m.get("Ebs")
            if not ebs:
                out.append({"DeviceName": m["DeviceName"], "VirtualName": m.get("VirtualName")})
                continue
            snap = backend.snapshots[ebs["SnapshotId"]]
            snap.from_ami = ami.id
            out.append(
                {
                    "DeviceName": m["DeviceName"],
                    "Ebs": {
                        "SnapshotId": snap.id,
                        "VolumeSize": int(ebs.get("VolumeSize") or snap.volume.size),
                        "VolumeType": ebs.get("VolumeType") or "gp2",
                        "DeleteOnTermination": bool(ebs.get("DeleteOnTermination", True)),
                        "Encrypted": bool(snap.encrypted),
                    },
                }
            )
        ami._mappings = out
        roots = [m for m in out if "Ebs" in m]
        if roots:
            ami.ebs_snapshot = backend.snapshots[roots[0]["Ebs"]["SnapshotId"]]

    def register_image(self: Any) -> ActionResult:
        p = self._get_param
        self.error_on_dryrun()
        ami = self.ec2_backend.register_image(p("Name"), p("Description", ""))
        ami.architecture = p("Architecture") or "x86_64"
        ami.virtualization_type = p("VirtualizationType") or "hvm"
        ami.root_device_name = p("RootDeviceName") or "/dev/xvda"
        ami.boot_mode = p("BootMode") or ami.boot_mode
        ami.ena_support = p("EnaSupport")
        if p("ImageLocation"):
            ami.image_location = p("ImageLocation")
            ami.root_device_type = "instance-store"
            self.ec2_backend.snapshots.pop(ami.ebs_snapshot.id, None)
            ami._mappings = []
        else:
            ami.root_device_type = "ebs"
            if p("BlockDeviceMappings", []):
                own_snapshots(ami, self.ec2_backend, p("BlockDeviceMappings", []))
        for key, value in _tag_pairs(p("TagSpecifications", []), "image"):
            ami.add_tag(key, value)
        return ActionResult({"ImageId": ami.id})

    def copy_image(self: Any) -> ActionResult:
        from moto.ec2.models import ec2_backends

        p = self._get_param
        self.error_on_dryrun()
        account = ec2_backends[self.current_account]
        region = p("SourceRegion")
        source_backend = account[region] if region in account.regions else None
        source = source_backend.amis.get(p("SourceImageId")) if source_backend is not None else None
        if source is None or source_backend is None:
            raise InvalidAMIIdError(p("SourceImageId"))
        tokens = self.ec2_backend.__dict__.setdefault("_reconciler_copy_tokens", {})
        token = p("ClientToken")
        if token and token in tokens:
            return ActionResult({"ImageId": tokens[token]})
        ami = self.ec2_backend.copy_image(source.id, region, p("Name"), p("Description"))
        for attr in ("root_device_name", "root_device_type", "boot_mode", "ena_support", "image_location"):
            setattr(ami, attr, getattr(source, attr))
        ami.source_image_id, ami.source_image_region = source.id, region
        encrypt, key = bool(p("Encrypted")), p("KmsKeyId")
        mappings: list[dict[str, Any]] = []
        for m in source.block_device_mappings:
            ebs = m.get("Ebs")
            if not ebs:
                mappings.append(m)
                continue
            encrypted = encrypt or bool(source_backend.snapshots[ebs["SnapshotId"]].encrypted)
            volume = self.ec2_backend.create_volume(
                size=ebs["VolumeSize"],
                zone_name=f"{self.region}a",
                encrypted=encrypted,
                kms_key_id=key if encrypted else None,
            )
            snap = self.ec2_backend.create_snapshot(
                volume.id, f"Copied for DestinationAmi {ami.id} from SourceAmi {source.id}", from_ami=ami.id
            )
            snap.kms_key_id = volume.kms_key_id
            self.ec2_backend.delete_volume(volume.id)
            mappings.append({"DeviceName": m["DeviceName"], "Ebs": {**ebs, "SnapshotId": snap.id}})
        own_snapshots(ami, self.ec2_backend, mappings)
        if p("CopyImageTags"):
            for tag in source.get_tags():
                ami.add_tag(tag.get("Key", tag.get("key")), tag.get("Value", tag.get("value")))
        for key_, value in _tag_pairs(p("TagSpecifications", []), "image"):
            ami.add_tag(key_, value)
        delay = float(os.environ.get(COPY_SECONDS_ENV) or 0)
        if delay > 0:
            ami.__dict__["_ready_at"] = time.monotonic() + delay
        if token:
            tokens[token] = ami.id
        return ActionResult({"ImageId": ami.id})

    def deregister_image(self: Any) -> ActionResult:
        self.error_on_dryrun()
        backend = self.ec2_backend
        ami = backend.amis.get(self._get_param("ImageId"))
        snaps = [m["Ebs"]["SnapshotId"] for m in (ami.block_device_mappings if ami else []) if m.get("Ebs")]
        backend.deregister_image(self._get_param("ImageId"))
        result: dict[str, Any] = {"Return": True}
        if self._get_bool_param("DeleteAssociatedSnapshots", False):
            deleted = []
            for sid in snaps:
                used = any(
                    sid == (m.get("Ebs") or {}).get("SnapshotId")
                    for other in backend.amis.values()
                    for m in other.block_device_mappings
                )
                if not used and backend.snapshots.pop(sid, None) is not None:
                    deleted.append({"SnapshotId": sid, "ReturnCode": "success"})
            result["DeleteSnapshotResults"] = deleted
        return ActionResult(result)

    def existing(method: Any) -> Any:
        def checked(self: Any) -> Any:
            image_id = self._get_param("ImageId")
            if image_id not in self.ec2_backend.amis:
                raise InvalidAMIIdError(image_id)
            return method(self)

        return checked

    def enable_image_deprecation(self: Any) -> ActionResult:
        ami = self.ec2_backend.describe_images(ami_ids=[self._get_param("ImageId")])[0]
        at = self._get_param("DeprecateAt")
        if isinstance(at, datetime):
            at = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        ami.deprecation_time = str(at)
        return ActionResult({"Return": True})

    def disable_image_deprecation(self: Any) -> ActionResult:
        ami = self.ec2_backend.describe_images(ami_ids=[self._get_param("ImageId")])[0]
        ami.deprecation_time = None
        return ActionResult({"Return": True})

    AmisResponse.register_image = register_image  # type: ignore[method-assign]
    AmisResponse.copy_image = copy_image  # type: ignore[method-assign]
    AmisResponse.deregister_image = deregister_image  # type: ignore[method-assign]
    AmisResponse.describe_image_attribute = existing(AmisResponse.describe_image_attribute)  # type: ignore[method-assign]
    AmisResponse.modify_image_attribute = existing(AmisResponse.modify_image_attribute)  # type: ignore[method-assign]
    AmisResponse.enable_image_deprecation = enable_image_deprecation  # type: ignore[attr-defined]
    AmisResponse.disable_image_deprecation = disable_image_deprecation  # type: ignore[attr-defined]
