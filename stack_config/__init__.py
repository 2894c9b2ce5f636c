"""Typed stack configuration: the one place that reads ``pulumi.Config``, split by domain.

``load_stack_config()`` reads the ``pai-mlops:*`` keys (and ``alicloud:region``) of the current
stack into frozen dataclasses; ``load_secrets()`` reads the secret keys as Outputs. Bad input fails
here, before any resource is registered, with one :class:`~config_problems.StackConfigError`
listing every problem. Keys with a ``dev_default`` are optional in ``dev`` only: a ``prod`` stack
must set them explicitly, so it never runs on a dev default by accident.

One module per section, each with its dataclasses, the rules across their keys and their wording:
:mod:`~stack_config.storage` (``storage``, ``workspace``), :mod:`~stack_config.serving`,
:mod:`~stack_config.serving_versions` and :mod:`~stack_config.serving_burst` (``serving``),
:mod:`~stack_config.training`,
:mod:`~stack_config.notebook`, :mod:`~stack_config.pipeline`, :mod:`~stack_config.container_registry`
(``registry``: the *container* registry), :mod:`~stack_config.alarms`, :mod:`~stack_config.secrets`,
:mod:`~stack_config.keys` (which keys a stack file may hold); :mod:`~stack_config.stack` joins them
(:class:`StackConfig`, the rules across sections, ``parse_stack_config``). Facts about the PAI APIs
that providers need too live in :mod:`pai_facts`; this package never imports ``providers``.
"""

from config_problems import StackConfigError
from pai_facts import SHARED_RESOURCE_GROUP, eas_service_name
from stack_config.alarms import AlarmConfig
from stack_config.container_registry import RegistryConfig, vpc_registry_host
from stack_config.dashboards import DashboardConfig
from stack_config.drift import DriftConfig, RetrainedByConfig
from stack_config.fields import ContainerConfig
from stack_config.keys import ALICLOUD_KEYS, key_problems, raw_from_values
from stack_config.notebook import NotebookConfig, NotebookInstanceConfig
from stack_config.pipeline import PipelineConfig, PipelineTriggerConfig, RetrainingConfig, trigger_names
from stack_config.secrets import (
    StackSecrets,
    credential_url_problems,
    hide_secret_values,
    load_secrets,
    plaintext_secret_problems,
)
from stack_config.serving import CronScaleConfig, ModelServiceConfig, RolloutConfig, ServingConfig
from stack_config.serving_burst import BurstConfig, VpcConfig
from stack_config.serving_metrics import MetricsConfig
from stack_config.stack import StackConfig, load_stack_config, parse_stack_config
from stack_config.storage import StorageConfig, WorkspaceConfig
from stack_config.training import (
    CodeConfig,
    JobType,
    PodResourcesConfig,
    RepositoryConfig,
    TrainingConfig,
    TrainingDataConfig,
    TrainingJobConfig,
)

__all__ = [
    "ALICLOUD_KEYS",
    "SHARED_RESOURCE_GROUP",
    "AlarmConfig",
    "BurstConfig",
    "CodeConfig",
    "ContainerConfig",
    "CronScaleConfig",
    "DashboardConfig",
    "DriftConfig",
    "JobType",
    "MetricsConfig",
    "ModelServiceConfig",
    "NotebookConfig",
    "NotebookInstanceConfig",
    "PipelineConfig",
    "PipelineTriggerConfig",
    "PodResourcesConfig",
    "RegistryConfig",
    "RepositoryConfig",
    "RetrainedByConfig",
    "RetrainingConfig",
    "RolloutConfig",
    "ServingConfig",
    "StackConfig",
    "StackConfigError",
    "StackSecrets",
    "StorageConfig",
    "TrainingConfig",
    "TrainingDataConfig",
    "TrainingJobConfig",
    "VpcConfig",
    "WorkspaceConfig",
    "credential_url_problems",
    "eas_service_name",
    "hide_secret_values",
    "key_problems",
    "load_secrets",
    "load_stack_config",
    "parse_stack_config",
    "plaintext_secret_problems",
    "raw_from_values",
    "trigger_names",
    "vpc_registry_host",
]
