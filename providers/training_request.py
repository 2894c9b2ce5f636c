"""The DLC request of a TrainingJob run: how its jobs are found again (the run's key, display names, attempt
numbers) and the CreateJob body of each attempt.

Pure, so table-tested (tests/providers/test_training_request.py). The wire names follow
``shared/reference/dlc-dsw-oss-api.md`` §2; the SDK's ``CreateJobRequest.from_map`` turns :func:`job_body` into its
model unchanged. The inputs it reads are validated first (``training_spec.py``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, Final

from pai_facts import CODE_MOUNT
from providers.props import plain, requested_resources, service_role
from providers.training_spec import (
    ATTEMPT_ENV,
    ATTEMPT_TAG,
    CHECKPOINT_DIR_ENV,
    CHECKPOINT_INTERVAL_ENV,
    CHECKPOINT_MOUNT,
    KEY_TAG,
    OUTPUT_DIR_ENV,
    OUTPUT_MOUNT,
    RESUME_ENV,
    RESUME_URI_ENV,
    RUN_DEFINING,
    OssLocation,
)

_DISPLAY_UNSAFE: Final = re.compile(r"[^A-Za-z0-9_.\-]+")


# -- finding a run's jobs again ---------------------------------------------------------------------------------


def job_key(props: Mapping[str, Any]) -> str:
    """A key that is the same for every ``create`` of the same resource with the same run, and differs otherwise.

    ``scope`` is ``<project>/<stack>/<resource name>``; the run-defining inputs complete it, so a replacement (a
    changed image, a new run id) gets a new key and never adopts the job it replaces.
    """
    run = {name: plain(props.get(name)) for name in RUN_DEFINING}
    digest = hashlib.sha256(json.dumps(run, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return digest[:16]


def display_name(props: Mapping[str, Any], key: str, attempt: int) -> str:
    """``<display_name>-<key[:8]>-<attempt>``: readable in the console, unique per attempt, ≤ 256 characters."""
    base = _DISPLAY_UNSAFE.sub("-", str(props["display_name"])).strip("-")[:200] or "training"
    return f"{base}-{key[:8]}-{attempt}"


def is_attempt_of(job: Mapping[str, Any], props: Mapping[str, Any], key: str) -> bool:
    """Whether a listed job is an attempt of this run: its ``Settings.Tags`` carry the run's key, or (when the
    answer shows no key at all) its display name is exactly one of this run's, ``<name>-<key8>-<n>``."""
    tags = (job.get("Settings") or {}).get("Tags") or {}
    if KEY_TAG in tags:
        return tags[KEY_TAG] == key
    base = display_name(props, key, 0).rsplit("-", 1)[0]
    return re.fullmatch(re.escape(base) + r"-[1-9][0-9]*", str(job.get("DisplayName") or "")) is not None


def attempt_number(job: Mapping[str, Any], props: Mapping[str, Any], key: str) -> int:
    """The attempt a job is: its attempt tag, else the number its display name ends with; 0 if neither says."""
    text = str(((job.get("Settings") or {}).get("Tags") or {}).get(ATTEMPT_TAG, ""))
    if text.isdigit():
        return int(text)
    name = str(job.get("DisplayName") or "")
    return int(name.rsplit("-", 1)[1]) if is_attempt_of({"DisplayName": name}, props, key) else 0


# -- the DLC request --------------------------------------------------------------------------------------------


def pod_spec(props: Mapping[str, Any], role: str, pods: int) -> dict[str, Any]:
    """One ``JobSpecs[]`` entry (wire names) for ``role`` from the (snake-case) inputs; also what a pipeline's DLC
    executor step submits (components/pipeline.py)."""
    spec: dict[str, Any] = {"Type": role, "Image": props["image"], "PodCount": pods}
    if props.get("resource_group"):
        spec["ResourceConfig"] = requested_resources(props["resources"])
    else:
        spec["EcsSpec"] = props["instance_type"]
    if props.get("spot"):
        spec["UseSpotInstance"] = True
        spec["SpotSpec"] = {
            "SpotStrategy": "SpotWithPriceLimit",
            "SpotDiscountLimit": float(props["spot_discount_limit"]),
        }
    return spec


def job_body(
    props: Mapping[str, Any], *, key: str, attempt: int, region: str, resume_from: str | None
) -> dict[str, Any]:
    """The CreateJob body (wire names) for ``attempt`` of the run; ``resume_from`` is a checkpoint's OSS URI."""
    checkpoints = OssLocation.parse(props["checkpoint_uri"])
    output = OssLocation.parse(props["output_uri"])
    env: dict[str, str] = {str(k): str(v) for k, v in (props.get("env") or {}).items()}
    env[CHECKPOINT_DIR_ENV] = CHECKPOINT_MOUNT + "/"
    env[OUTPUT_DIR_ENV] = OUTPUT_MOUNT + "/"
    env[ATTEMPT_ENV] = str(attempt)
    if props.get("checkpoint_interval_minutes"):
        env[CHECKPOINT_INTERVAL_ENV] = str(props["checkpoint_interval_minutes"])
    if resume_from:
        relative = OssLocation.parse(resume_from).prefix.removeprefix(checkpoints.prefix)
        env[RESUME_ENV] = f"{CHECKPOINT_MOUNT}/{relative}"
        env[RESUME_URI_ENV] = resume_from
    specs = [pod_spec(props, "Worker", int(props["worker_count"]))]
    specs += [pod_spec(props, role, int(pods)) for role, pods in sorted((props.get("roles") or {}).items())]
    sources = [
        {"Uri": OssLocation.parse(s["uri"]).for_dlc(region), "MountPath": s["mount_path"], "MountAccess": "RO"}
        for s in props.get("data_sources") or []
    ]
    sources.append({"Uri": output.for_dlc(region), "MountPath": OUTPUT_MOUNT, "MountAccess": "RW"})
    sources.append({"Uri": checkpoints.for_dlc(region), "MountPath": CHECKPOINT_MOUNT, "MountAccess": "RW"})
    tags = {str(k): str(v) for k, v in (props.get("tags") or {}).items()}
    body: dict[str, Any] = {
        "DisplayName": display_name(props, key, attempt),
        "Description": props.get("description") or "",
        "JobType": props["job_type"],
        "UserCommand": props["command"],
        "JobSpecs": specs,
        "DataSources": sources,
        "Envs": env,
        "Settings": {"Tags": {**tags, KEY_TAG: key, ATTEMPT_TAG: str(attempt)}},
    }
    if props.get("workspace_id"):
        body["WorkspaceId"] = props["workspace_id"]
    if props.get("resource_group"):
        body["ResourceId"] = props["resource_group"]
    if props.get("max_runtime_minutes"):
        body["JobMaxRunningTimeMinutes"] = int(props["max_runtime_minutes"])
    code = props.get("code")
    if code:
        source = {"CodeSourceId": code["source_id"], "MountPath": code.get("mount_path") or CODE_MOUNT}
        source.update(
            {wire: code[name] for name, wire in (("branch", "Branch"), ("commit", "Commit")) if code.get(name)}
        )
        body["CodeSource"] = source
    if props.get("role_arn"):
        body["CredentialConfig"] = credential_config(props["role_arn"])
    return body


def credential_config(role_arn: str) -> dict[str, Any]:
    """CreateJob's ``CredentialConfig``: the job's pods get ``role_arn``, assumed by the service (providers/props)."""
    return {
        "EnableCredentialInject": True,
        "CredentialConfigItems": [{"Key": "default", "Type": "Role", "Roles": [service_role(role_arn)]}],
    }
