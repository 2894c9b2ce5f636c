"""Facts about the PAI and OSS APIs that both the stack config and the providers rely on, and the few project
decisions they must agree on (where a model version lives, what a release does when its config says nothing).

A leaf module: it imports nothing of the project, so ``stack_config`` can check a value by the same rule a
provider applies without importing ``providers`` (config never imports providers), and a component can use a
name rule without importing the config. It lives at the top level, not in ``providers/``, because importing
``providers.<x>`` would make the config depend on the provider package. Each fact names its source.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

# GPU types as each API names them. DLC's ResourceConfig documents only the example 'Tesla-V100-16G'
# (https://www.alibabacloud.com/help/en/pai/developer-reference/api-pai-dlc-2020-12-03-struct-resourceconfig): a
# vendor-model[-memory] name without spaces. DSW's RequestedResource enumerates its values
# (alibabacloud_pai_dsw20220101/models/_create_instance_request.py, CreateInstanceRequestRequestedResource).
DLC_GPU_TYPE_PATTERN: Final = r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)+$"
DLC_GPU_TYPE_EXAMPLE: Final = "Tesla-V100-16G"
DSW_GPU_TYPES: Final = ("V100", "A100", "T4", "A10", "P100")

# Roles each job type accepts besides Worker (dlc-dsw-oss-api.md §2.1).
EXTRA_ROLES: Final[Mapping[str, frozenset[str]]] = {
    "PyTorchJob": frozenset({"Master"}),
    "TFJob": frozenset({"Chief", "PS", "Evaluator", "GraphLearn"}),
    "MPIJob": frozenset({"Launcher"}),
    "XGBoostJob": frozenset({"Master"}),
    "OneFlowJob": frozenset({"Master"}),
    "ElasticBatchJob": frozenset({"Master"}),
    "RayJob": frozenset({"Head"}),
}

# Where a DLC job mounts its code source unless it says otherwise (CreateJob CodeSource.MountPath; our choice).
CODE_MOUNT: Final = "/root/code"

# A contract version's major number: "v2", "2", "2.1" and "v2.1.0" are all major 2 (the project's own rule).
_CONTRACT: Final = re.compile(r"^v?(\d+)(\.\d+)*$")


def contract_major(version: str) -> int | None:
    match = _CONTRACT.match(str(version).strip())
    return int(match.group(1)) if match else None


# Built-in EAS processor codes (https://www.alibabacloud.com/help/en/pai/built-in-processors/).
# Anything else is deployed as a custom container.
KNOWN_PROCESSORS: Final = frozenset(
    {
        "pmml",
        "tensorflow_cpu_1.12",
        "tensorflow_cpu_1.14",
        "tensorflow_cpu_1.15",
        "tensorflow_cpu_2.3",
        "tensorflow_gpu_1.12",
        "tensorflow_gpu_1.14",
        "tensorflow_gpu_1.15",
        "pytorch_cpu_1.6",
        "pytorch_gpu_1.6",
        "caffe_cpu",
        "caffe_gpu",
        "parameter_server",
        "alink_pai_processor",
        "xnn_cpu",
        "easynlp",
        "easycv",
        "easyrec-2.4",
        "easyrec-torch-1.0",
        "blade_cpu",
        "blade_cuda10.0_beta",
        "mediaflow",
        "triton",
    }
)
# The EAS engine itself listens on these ports inside every instance.
RESERVED_CONTAINER_PORTS: Final = frozenset({8080, 9090})
# EAS service names: lower-case letters, digits and underscores, starting with a letter (the EAS
# console's rule; hyphens are not accepted). The 64-character ceiling is UNCONFIRMED: we keep
# `<name>_<version>` within it.
EAS_NAME_MAX: Final = 64
SHARED_RESOURCE_GROUP: Final = "shared"
NOTEBOOK_NAME_MAX: Final = 27  # DSW instance names: letters, digits and underscores, at most 27
DEDICATED_GROUP: Final = re.compile(r"eas-r-[a-z0-9]+")
# ECS instance types as the project writes them everywhere (EAS cloud.computing.instance_type, DSW EcsSpec, DLC
# EcsSpec): 'ecs.<family>[-<variant>].<size>', e.g. 'ecs.c7.large', 'ecs.gn6i-c4g1.xlarge' (the project's own rule).
ECS_INSTANCE_TYPE_PATTERN: Final = r"^ecs\.[a-z0-9]+(-[a-z0-9]+)*\.[a-z0-9]+$"


def eas_service_name(model: str, version: str) -> str:
    """The EAS service that serves ``version`` of ``model`` (EAS names allow no hyphen)."""
    return f"{model}_{version}"


# The model registry's version rule (alibabacloud_aiworkspace20210204 8.3.5 CreateModelVersionRequest.version_name):
# major.minor.patch, major and minor numbers, the patch starting with a digit and holding digits, letters and _.
REGISTRY_VERSION: Final = re.compile(r"^\d+\.\d+\.\d[0-9A-Za-z_]*$")
_PLAIN_VERSION: Final = re.compile(r"^v(\d+)$")


def registry_version(version: str, explicit: Mapping[str, str]) -> str:
    """The registry version of a project version id: ``registryVersions`` if mapped, else ``v<N>`` → ``N.0.0``.

    Returns "" for an id the rule cannot map (config validation reports it).
    """
    if version in explicit:
        return explicit[version]
    plain = _PLAIN_VERSION.match(version)
    return f"{int(plain.group(1))}.0.0" if plain else ""


# DLC should stop a job at JobMaxRunningTimeMinutes itself; pai-mlops stops it this much later if it has not
# (providers/training_run.py), and a training wait budgets it (config_scale.py).
RUNTIME_GRACE_MINUTES: Final = 5


# -- where a model version lives (the project's bucket layout) ---------------------------------------------------

# Every model version is a folder ``models/<model>/<version>/`` of the stack's bucket: a training run writes it
# (``<version>`` is the run id), EAS mounts it, the registry records it, a promotion copies it.
MODELS_PREFIX: Final = "models/"


def model_prefix(model: str, version: str) -> str:
    """The object prefix of one model version: ``models/<model>/<version>/``."""
    return f"{MODELS_PREFIX}{model}/{version}/"


def model_uri(bucket: str, model: str, version: str, *, region: str | None = None) -> str:
    """The OSS URI of one model version: ``oss://<bucket>/models/<model>/<version>/``, or with ``region`` the form
    that carries the endpoint, ``oss://<bucket>.oss-<region>.aliyuncs.com/models/<model>/<version>/``, which the
    model registry takes (alibabacloud_aiworkspace20210204 8.3.5 ``CreateModelVersionRequest.uri``: "the format
    is ``oss://<bucket>.<endpoint>/object``", example ``oss://mybucket.oss-cn-beijing.aliyuncs.com/mypath/``; the
    endpoints: https://help.aliyun.com/document_detail/31837.html)."""
    host = f"{bucket}.oss-{region}.aliyuncs.com" if region is not None else bucket
    return f"oss://{host}/{model_prefix(model, version)}"


# -- what a gated release does when the stack config says nothing -------------------------------------------------

# One default per knob: ``serving.services[].rollout`` (stack_config RolloutConfig) offers them to users, and the
# TrafficShift input model (providers/traffic_spec.py) fills them into a stack's state that lacks a key.
# ``bake_seconds`` has none: dev falls back to the config's dev default, prod must set it, and every state holds it.
RELEASE_DEFAULTS: Final[Mapping[str, Any]] = {
    "steps": (10, 50, 100),
    "check_interval_seconds": 30,
    "min_requests": 50,
    "no_data": "fail",
    "max_bake_extensions": 2,
    "rollback_without_bake": True,
    "shadow_percent": 0,
    "shadow_seconds": 0,
    "allow_breaking_change": False,
}


# -- where EAS metrics are read when the stack config says nothing ------------------------------------------------

# CloudMonitor's metric appendix for EAS (AlibabaCloudDocs/cms, "intl.en-US/Appendix 1: Metrics/Artificial
# intelligence/Machine learning platform/PAI-EAS inference service.md", 2020-10): the namespace, the metric IDs, and
# their units and statistics. ``serving.metrics`` (stack_config MetricsConfig) offers them to users and the
# TrafficShift ``metrics`` input (providers/metrics.py) fills them in; UNCONFIRMED until DescribeMetricMetaList on
# the account (docs/day-one.md).
EAS_METRIC_DEFAULTS: Final[Mapping[str, str]] = {
    "namespace": "acs_learn",
    "dimension": "serviceName",
    "latency_metric": "rt",
    "latency_statistic": "Average",
    "latency_unit": "microseconds",
    "error_metric": "rps_status_5xx_ratio",
    "error_unit": "percent",
    "qps_metric": "qps_total",
}
