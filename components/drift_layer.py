"""The drift check's FC layer when ``trigger.drift.layer`` is ``build`` (the default): numpy, scipy and oss2 for the
start function (components/drift_trigger.py), published by the stack from ``make layer``'s zip.

- an **OSS object** in the stack's bucket holds the zip (``tools/build_layer.py``: the packages under ``python/``,
  byte-identical for the same requirements). Its key carries the zip's sha256, so new requirements give a new
  object and, because a layer version's ``code`` is ForceNew, a new layer version; the same requirements change
  nothing (terraform-provider-alicloud alicloud/resource_alicloud_fcv3_layer_version.go: ``code`` and its
  ``oss_bucket_name`` / ``oss_object_name`` are ForceNew; a version is immutable, as FC's CreateLayerVersion
  publishes a new one: https://alibabacloud.com/help/en/functioncompute/api-fc-2023-03-30-createlayerversion);
- an **fc.V3LayerVersion** (pulumi-alicloud 4.0.0) from that object for ``python3.12``, whose
  ``layer_version_arn`` (``acs:fc:<region>:<account>:layers/<name>/versions/<n>``) goes into the function's
  ``layers``. Its name is the pipeline's start function's with ``-drift`` for ``-start``: account-unique as that is
  (two stacks' prefixes differ), letters, digits and hyphens.

The zip must exist when the program runs against the cloud (``pulumi preview`` or ``up``); missing, the program stops
with the command that builds it. The offline plan (tools/mock_engine.py sets :data:`offline_placeholder`) reads no
file and needs no network: a missing zip there is planned under a placeholder digest, which the plan output shows.

UNCONFIRMED: FC's layer-name rule (assumed the function-name rule: letters, digits, ``_`` and ``-``, 1-64 characters,
not starting with a digit or ``-``) and that CreateLayerVersion reads the OSS object with the caller's credentials
(the deployer, who wrote it), also from a KMS-encrypted bucket; and that the provider resolves the object's relative
``source`` from the project's root (the engine starts it there); docs/day-one.md says how to check them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

import pulumi
from pulumi_alicloud import fc, oss

ROOT: Final = Path(__file__).resolve().parent.parent
LAYER_SOURCE: Final = "build/layers/drift-check.zip"  # tools/build_layer.py OUTPUT, from the project's root
LAYER_ZIP: Final = ROOT / LAYER_SOURCE
BUILD_COMMAND: Final = "make layer"  # or `python -m tools.build_layer`
RUNTIME: Final = "python3.12"  # the start function's (components/retraining_trigger.py RUNTIME)
LAYERS_PREFIX: Final = "layers/drift-check/"
LAYER_NAME_MAX: Final = 64  # UNCONFIRMED (module docstring)
PLACEHOLDER_DIGEST: Final = "0" * 64  # the offline plan's digest of a zip it was not given
# Set by the offline plan's engine (tools/mock_engine.install_mocks): a missing zip is planned under the placeholder
# instead of stopping the program. Nothing else sets it.
offline_placeholder = False


class LayerZipMissing(RuntimeError):
    """The program runs against the cloud and the layer's zip was not built."""


def layer_name(function_name: str) -> str:
    """``<prefix>-<pipeline>-drift`` from the start function's ``<prefix>-<pipeline>-start``."""
    stem = function_name.removesuffix("-start")
    name = f"{stem}-drift"
    if len(name) > LAYER_NAME_MAX:
        digest = hashlib.sha256(stem.encode()).hexdigest()[:8]
        name = f"{stem[: LAYER_NAME_MAX - len(digest) - 7].rstrip('-')}-{digest}-drift"
    return name


def zip_digest(path: Path) -> str:
    """The zip's sha256; the placeholder under the offline plan when it is missing; else :class:`LayerZipMissing`."""
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    if offline_placeholder:
        return PLACEHOLDER_DIGEST
    raise LayerZipMissing(
        f"trigger.drift.layer is build, and the drift check's layer {path} is missing: run `{BUILD_COMMAND}` "
        "(python -m tools.build_layer) before `pulumi preview` / `pulumi up`, or give trigger.drift.layer the ARN "
        "of a layer you built"
    )


def object_key(digest: str) -> str:
    return f"{LAYERS_PREFIX}{digest}.zip"


def drift_layer(
    name: str, *, function_name: str, bucket: str, child: pulumi.ResourceOptions, path: Path | None = None
) -> fc.V3LayerVersion:
    """The zip (:data:`LAYER_ZIP` unless given) as an object in ``bucket`` and the layer version built from it."""
    path = path if path is not None else LAYER_ZIP
    digest = zip_digest(path)
    archive = oss.BucketObject(
        f"{name}-zip",
        bucket=bucket,
        key=object_key(digest),
        # The provider uploads the file. Relative to the project's root, where the engine starts the provider
        # (UNCONFIRMED, day-one), so two machines' checkouts give the same input; the key changes with the bytes.
        source=path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path),
        acl="private",
        content_type="application/zip",
        opts=child,
    )
    return fc.V3LayerVersion(
        name,
        layer_name=layer_name(function_name),
        description=f"pai-mlops: numpy, scipy and oss2 for {function_name}'s drift check (sha256 {digest[:16]})",
        compatible_runtimes=[RUNTIME],
        code=fc.V3LayerVersionCodeArgs(oss_bucket_name=archive.bucket, oss_object_name=archive.key),
        opts=child,
    )
