"""What drift adds to a retraining trigger (components/retraining_trigger.py): the check's code, settings, size,
layer and OSS access.

With ``trigger.drift.enabled`` the start function runs the drift check on a ``dataMarker`` event
(functions/start_pipeline.py), so:

- its code archive carries the check's package (``images/drift-check/drift_check/``) beside ``index.py``; the
  numbers come from the configured **layer** (FC unpacks a layer into ``/opt`` and puts ``/opt/python`` on a Python
  function's import path: https://www.alibabacloud.com/help/en/functioncompute/fc-3-0/user-guide/create-a-custom-layer-1;
  the layer version ARN form ``acs:fc:<region>:<account>:layers/<name>/versions/<n>`` is pulumi-alicloud 4.0.0
  ``fc.V3LayerVersion.layer_version_arn``'s);
- it is sized for numpy and scipy: 1024 MB with 0.5 vCPU (cpu : memory in GB 1:2, inside FC 3.0's 1:1 to 1:4, see
  :data:`components.retraining_trigger.CPU`), and 300 s to read a batch;
- its role may read the profile and the batch under the marker's folder, list that folder, and write reports under
  ``data/drift-reports/<pipeline>/`` (the ARN forms of components/ram_documents.py), and use the bucket's KMS key
  when it has one.

UNCONFIRMED: FC's python3.12 runtime does not document numpy/scipy/oss2 as built in, hence the required layer built
from images/drift-check/requirements.txt (docs/day-one.md says how to check the import on day one).
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any, Final

from components.ram_documents import OBJECT_READ, POLICY_VERSION
from components.storage import DATA_PREFIX
from pai_facts import model_prefix
from stack_config import DriftConfig, ModelServiceConfig

DRIFT_PACKAGE: Final = Path(__file__).resolve().parent.parent / "images" / "drift-check" / "drift_check"
MEMORY_MB: Final = 1024
CPU: Final = 0.5
TIMEOUT_SECONDS: Final = 300
REPORTS_PREFIX: Final = f"{DATA_PREFIX}drift-reports/"


def drift_files(package: Path = DRIFT_PACKAGE) -> dict[str, bytes]:
    """The check's modules as the archive holds them (``drift_check/<module>.py``), in a stable order."""
    return {f"drift_check/{path.name}": path.read_bytes() for path in sorted(package.glob("*.py"))}


def profile_key(drift: DriftConfig, service: ModelServiceConfig) -> str:
    """The reference profile: the configured key, else the live version's ``models/<model>/<live>/``."""
    return drift.profile or f"{model_prefix(service.name, service.live)}drift-profile.json"


def reports_prefix(pipeline: str) -> str:
    return f"{REPORTS_PREFIX}{pipeline}/"


def drift_environment(
    drift: DriftConfig, *, service: ModelServiceConfig, pipeline: str, bucket: str, region: str
) -> dict[str, str]:
    """The function's drift settings (functions/start_pipeline.py ``DRIFT_ENVIRONMENT``); FC reaches OSS over the
    region's internal endpoint (``oss-<region>-internal.aliyuncs.com``)."""
    return {
        "DRIFT_METHOD": drift.method,
        "DRIFT_THRESHOLD": repr(drift.limit),
        "DRIFT_PROFILE": profile_key(drift, service),
        "DRIFT_REPORTS": reports_prefix(pipeline),
        "BUCKET": bucket,
        "OSS_ENDPOINT": f"https://oss-{region}-internal.aliyuncs.com",
    }


def drift_policy(
    drift: DriftConfig, *, service: ModelServiceConfig, pipeline: str, marker: str, bucket: str
) -> dict[str, Any]:
    """Read the profile (that one object) and the batch, list the batch's folder, put this pipeline's reports (one
    PutObject each: no multipart). Nothing else; the bucket's KMS key, when it has one, is a second policy
    (:func:`components.ram_documents.kms_key_policy`), so this one is known at preview and the policy
    ``drift-check-scope`` (policies/rules/drift.py) holds it to this shape."""
    folder = posixpath.dirname(marker) + "/"
    objects = f"acs:oss:*:*:{bucket}/"
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Action": list(OBJECT_READ),
                "Resource": [f"{objects}{profile_key(drift, service)}", f"{objects}{folder}*"],
            },
            {
                "Effect": "Allow",
                "Action": ["oss:ListObjects"],
                "Resource": [f"acs:oss:*:*:{bucket}"],
                "Condition": {"StringLike": {"oss:Prefix": [f"{folder}*"]}},
            },
            {"Effect": "Allow", "Action": ["oss:PutObject"], "Resource": [f"{objects}{reports_prefix(pipeline)}*"]},
        ],
    }
