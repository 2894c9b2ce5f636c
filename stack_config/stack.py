"""The whole stack config: :class:`StackConfig`, the rules across sections, and ``parse_stack_config``, the one index
of which rule runs."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Literal, get_args, get_type_hints

import pulumi
from pydantic import StrictBool, StrictInt, StrictStr, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from config_cron import EAS_CRON_SCALER, FC_TIMER, cron_problem
from config_problems import (
    MISSING,
    PROJECT,
    Problem,
    StackConfigError,
    key,
    path_text,
    problems_from,
    with_dev_defaults,
)
from config_promotion import promotion_problems
from config_scale import (
    NAME_PREFIX_MAX,
    NAME_PREFIX_PATTERN,
    default_name_prefix,
    training_wait_problems,
    with_eas_scope,
)
from stack_config.alarms import AlarmConfig, alarm_problems
from stack_config.container_registry import RegistryConfig, registry_problems, runtime_image_problems
from stack_config.dashboards import DashboardConfig, dashboard_problems
from stack_config.fields import MODEL, typed
from stack_config.keys import REGION_KEY, key_problems, raw_from_values
from stack_config.notebook import NotebookConfig, notebook_problems
from stack_config.pipeline import PipelineConfig, pipeline_problems
from stack_config.secrets import (
    SECRET_KEYS,
    config_secret_keys,
    credential_url_problems,
    hide_secret_values,
    plaintext_secret_problems,
    suggest_secret_key,
)
from stack_config.serving import ModelServiceConfig, ServingConfig, service_problems
from stack_config.serving_metrics import metrics_problems
from stack_config.storage import StorageConfig, WorkspaceConfig
from stack_config.training import COMMIT_PATTERN, RepositoryConfig, TrainingConfig, TrainingJobConfig, training_problems


@dataclass(frozen=True, kw_only=True, config=MODEL)
class StackConfig:
    """Everything the program needs from one stack's ``Pulumi.<stack>.yaml``."""

    environment: Literal["dev", "staging", "prod"] = key("Write dev, staging or prod")
    owner: StrictStr = key(
        "Name the owning team or person; it becomes the 'owner' tag",
        min_length=1,
        max_length=128,
        rule="text with no space at either end",
        pattern=r"^\S(.*\S)?$",
    )
    cost_center: StrictStr = key(
        "Give the cost centre; it becomes the 'cost-center' tag",
        min_length=1,
        max_length=128,
        rule="text with no space at either end",
        pattern=r"^\S(.*\S)?$",
    )
    region: StrictStr = key(
        "Run `pulumi config set alicloud:region <region>`, e.g. cn-hangzhou",
        rule="an Alibaba Cloud region id such as 'cn-hangzhou'",
        namespace="alicloud",
        pattern=r"^[a-z]{2}-[a-z]+(-[0-9]+)?$",
    )
    storage: StorageConfig = key("Give {bucketName, kmsEncryption, checkpointRetentionDays}")
    workspace: WorkspaceConfig = key("Give {name, description}")
    serving: ServingConfig = key("Give {services: [...]}", default=ServingConfig())
    training: TrainingConfig = key("Give {jobs: [...]}", default=TrainingConfig())
    notebook: NotebookConfig = key("Give {code, instances: [...]}", default=NotebookConfig())
    pipeline: PipelineConfig = key("Give {provider, retraining: [...]}", default=PipelineConfig())
    registry: RegistryConfig | None = key("Give {host, namespace, repositories: [...]}", default=None)
    alarms: AlarmConfig = key("Give {contactGroup, contacts: [...]}", default=AlarmConfig())
    dashboards: DashboardConfig = key("Give {enabled, url, datasourceUid, instancesMetric}", default=DashboardConfig())
    provider_hosts: StrictInt = key(
        "Set how many provider processes long waits are spread over (4 operations each; 0: one shared host), e.g. 16",
        default=16,
        ge=0,
        le=64,
    )
    allow_any_stack_name: StrictBool = key(
        "Write true only if this stack's name deliberately does not say its environment (see 'environment')",
        default=False,
    )
    # The promotion copy role's only trusted principal (components/promotion.py; docs/environments.md).
    deployer_arn: StrictStr | None = key(
        "Give the ARN of the RAM role or user that runs pulumi up for this stack, e.g. "
        "acs:ram::123456789012****:role/pai-mlops-deploy; only it may assume the promotion copy role. Leave it out "
        "to let any identity of the account that is granted sts:AssumeRole on that role assume it",
        default=None,
        rule="acs:ram::<account id>:role/<name> or acs:ram::<account id>:user/<name>",
        pattern=r"^acs:ram::[0-9]+:(role|user)/[A-Za-z0-9._@-]{1,64}$",
    )

    @property
    def protect_stateful(self) -> bool:
        """Whether buckets and keys are protected from deletion (prod only)."""
        return self.environment == "prod"

    # Filled from the stack name when not set (parse_stack_config, config_scale.default_name_prefix).
    name_prefix: StrictStr = key(
        "Give the prefix of account-wide names (RAM roles and policies, functions, log projects, alarms): "
        "lower-case letters, digits and hyphens, e.g. 'pai-mlops-dev'; today's names are pai-mlops-<environment>",
        rule="lower-case letters, digits and hyphens, starting with a letter, at most 24",
        pattern=NAME_PREFIX_PATTERN,
        max_length=NAME_PREFIX_MAX,
        computed_default="pai-mlops-<stack>",
    )

    @property
    def tags(self) -> dict[str, str]:
        """The tags every taggable resource of the stack carries."""
        return {"environment": self.environment, "owner": self.owner, "cost-center": self.cost_center}

    # -- joins between sections (the program only attaches the Outputs) ------------------------------------------

    @property
    def alarms_enabled(self) -> bool:
        """Whether the production alarms (and the metric checks behind them) are created (prod only)."""
        return self.environment == "prod"

    def training_runs(self) -> tuple[tuple[str, str], ...]:
        """``(job, run)`` of every training job: where each run may write its model."""
        return tuple((job.name, job.run) for job in self.training.jobs)

    def pipeline_models(self) -> tuple[str, ...]:
        """The models retraining pipelines train (``models/<training job>/``): the DLC role may write them under
        any run id, since a pipeline run gets its id when it starts."""
        return tuple(item.training for item in self.pipeline.retraining)

    @property
    def promotes(self) -> bool:
        """Whether a served version comes from another stack's bucket (``serving.services[].promoted``)."""
        return any(svc.promoted for svc in self.serving.services)

    def deployed_versions(self) -> tuple[tuple[str, str], ...]:
        """``(service, version)`` of every version the stack serves: what the EAS role may read."""
        return tuple((svc.name, version) for svc in self.serving.services for version in svc.versions)

    def code_repositories(self) -> dict[str, RepositoryConfig]:
        """Every Git repository a training job or the notebooks mount, by URL (a job's settings win over the
        notebooks' for the same URL)."""
        repositories: dict[str, RepositoryConfig] = {
            job.code.repository: job.code for job in self.training.jobs if job.code is not None
        }
        if self.notebook.code is not None:
            repositories.setdefault(self.notebook.code.repository, self.notebook.code)
        return repositories

    def runs_serving(self, service: ModelServiceConfig) -> list[TrainingJobConfig]:
        """The training jobs whose run is a version ``service`` serves (its provenance in the model registry)."""
        return [
            job
            for job in self.training.jobs
            if job.name == service.name and job.code is not None and job.run in service.versions
        ]

    def service(self, name: str) -> ModelServiceConfig:
        """The service called ``name`` (a pipeline's ``model``; validation has proved it exists)."""
        return next(svc for svc in self.serving.services if svc.name == name)

    def job(self, name: str) -> TrainingJobConfig:
        """The training job called ``name`` (a pipeline's ``training``; validation has proved it exists)."""
        return next(job for job in self.training.jobs if job.name == name)


def _cross_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """Checks across keys. They read the raw values, guarded by type, so that a mistyped key in one
    place never hides a cross-key problem elsewhere: one run reports everything."""
    serving = raw.get("serving")
    services = serving.get("services") if isinstance(serving, dict) else None
    if not isinstance(services, list):
        return []
    problems: list[Problem] = []
    first_use: dict[str, int] = {}
    for index, svc in enumerate(services):
        if not isinstance(svc, dict):
            continue
        name = svc.get("name")
        if isinstance(name, str) and name in first_use:
            problems.append(
                Problem(
                    path_text(("serving", "services", index)),
                    "name",
                    f"is already used by services[{first_use[name]}]",
                    name,
                    "Give every served model its own name",
                )
            )
        elif isinstance(name, str):
            first_use[name] = index
        problems += service_problems(svc, index)
    return problems


def _provenance_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """Every served version names the commit that produced it: from codeCommits or a training run of that id."""
    serving, training = raw.get("serving"), raw.get("training")
    services = serving.get("services") if isinstance(serving, dict) else None
    jobs = training.get("jobs") if isinstance(training, dict) else None
    trained = {
        (job.get("name"), job.get("run"))
        for job in (jobs if isinstance(jobs, list) else [])
        if isinstance(job, dict) and isinstance(job.get("code"), dict)
    }
    problems: list[Problem] = []
    for index, svc in enumerate(services if isinstance(services, list) else []):
        if not isinstance(svc, dict):
            continue
        where = path_text(("serving", "services", index))
        commits = typed(svc, "codeCommits", dict) or {}
        for version, commit in commits.items():
            if not isinstance(commit, str) or not re.fullmatch(COMMIT_PATTERN, commit):
                problems.append(
                    Problem(
                        where,
                        "codeCommits",
                        f"gives {version} a commit that is not 7-40 hex digits",
                        commit,
                        "Write the commit id, e.g. 4be2c1d9",
                    )
                )
        missing = [  # malformed version ids are reported by field validation
            v
            for v in typed(svc, "versions", list) or []
            if isinstance(v, str)
            and re.fullmatch(r"[a-z0-9][a-z0-9_]{0,15}", v)
            and v not in commits
            and (svc.get("name"), v) not in trained
        ]
        if missing:
            problems.append(
                Problem(
                    where,
                    "codeCommits",
                    f"has no code commit for {', '.join(missing)}, so the model registry could not trace them to code",
                    commits,
                    "Add codeCommits: {<version>: <commit>}, or train the version as a run of that id under "
                    "pai-mlops:training",
                )
            )
        if commits and not svc.get("codeRepository"):
            problems.append(
                Problem(
                    where,
                    "codeRepository",
                    "is required with codeCommits",
                    MISSING,
                    "Give the Git repository the commits belong to",
                )
            )
    return problems


# The environments StackConfig accepts, read once from its annotation (the one place they are listed).
ENVIRONMENTS: Final = get_args(get_type_hints(StackConfig)["environment"])


def parse_stack_config(
    raw: Mapping[str, Any], stack: str, secrets_set: frozenset[str] = frozenset(), *, full_keys: Iterable[str] = ()
) -> StackConfig:
    """Validate raw config values (camelCase keys, objects already decoded) into a StackConfig.

    ``secrets_set`` names the secret keys the stack sets (their values are never read here). ``full_keys`` are
    every namespaced key the stack file sets (``pai-mlops:owner``, ``alicloud:region``, …), so a key under a
    mistyped namespace is reported instead of silently dropped. Raises StackConfigError listing every problem.
    """
    environment = raw.get("environment")
    values = with_dev_defaults(StackConfig, dict(raw)) if environment == "dev" else dict(raw)
    values.setdefault("namePrefix", default_name_prefix(stack))
    values = with_eas_scope(values)
    problems: list[Problem] = []
    config: StackConfig | None = None
    try:
        config = TypeAdapter(StackConfig).validate_python(values)
    except ValidationError as error:
        problems += problems_from(error, StackConfig, (), str(environment))
    problems += _cross_problems(values) + metrics_problems(values) + training_problems(values)
    problems += _provenance_problems(values) + notebook_problems(values) + pipeline_problems(values)
    problems += registry_problems(values) + alarm_problems(values) + runtime_image_problems(values, secrets_set)
    problems += credential_url_problems(values) + promotion_problems(values, stack) + training_wait_problems(values)
    problems += _cron_problems(values) + _stack_name_problems(values, stack) + key_problems(full_keys, PROJECT)
    problems += dashboard_problems(values, secrets_set)
    problems = [suggest_secret_key(problem) for problem in problems]
    if problems or config is None:
        raise StackConfigError(stack, problems)
    return config


def _cron_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """Every cron field in range for the service that runs it (config_cron has the documented ranges)."""
    found: list[tuple[str, Any, Sequence[Any], str]] = []
    serving = raw.get("serving")
    services = serving.get("services") if isinstance(serving, dict) else None
    for index, svc in enumerate(services if isinstance(services, list) else []):
        cron = svc.get("cron") if isinstance(svc, dict) else None
        for position, job in enumerate(cron if isinstance(cron, list) else []):
            if isinstance(job, dict):
                where = path_text(("serving", "services", index, "cron", position))
                found.append((where, job.get("schedule"), EAS_CRON_SCALER, "e.g. '0 0 8 * * 1-5' (08:00 Mon-Fri)"))
    pipeline = raw.get("pipeline")
    retraining = pipeline.get("retraining") if isinstance(pipeline, dict) else None
    for index, item in enumerate(retraining if isinstance(retraining, list) else []):
        trigger = item.get("trigger") if isinstance(item, dict) else None
        if isinstance(trigger, dict):
            where = path_text(("pipeline", "retraining", index, "trigger"))
            found.append((where, trigger.get("schedule"), FC_TIMER, "e.g. '0 0 3 * * 1' (Mondays 03:00)"))
    problems: list[Problem] = []
    for where, schedule, fields, example in found:
        # Other shapes (not text, not six fields, '@every') are the field pattern's to report, once.
        if not isinstance(schedule, str) or schedule.startswith("@every") or len(schedule.split()) != len(fields):
            continue
        problem = cron_problem(schedule, fields)
        if problem is not None:
            ranges = ", ".join(f"{f.name} {f.describe()}" for f in fields)
            problems.append(Problem(where, "schedule", problem, schedule, f"Use {ranges}; {example}"))
    return problems


# The words by which a stack name says an environment ("prod", "prod-eu", "team_a-production").
_ENVIRONMENT_WORDS: Final = {
    "dev": ("dev", "development"),
    "staging": ("staging", "stage"),
    "prod": ("prod", "production"),
}


def _stack_name_problems(raw: Mapping[str, Any], stack: str) -> list[Problem]:
    """A stack whose name says another environment than its file: refused unless ``allowAnyStackName``.

    ``Pulumi.prod.yaml`` copied from dev keeps ``environment: dev`` and would deploy prod with dev's defaults
    and policy levels. A name that says no environment (``alice``, ``team-a``) has nothing to contradict.
    """
    environment = raw.get("environment")
    if environment not in ENVIRONMENTS:
        return []  # an unknown environment is the field's to report
    if raw.get("allowAnyStackName") is True:
        return []
    words = set(re.split(r"[-_.]", stack.lower()))
    named = sorted(env for env, aliases in _ENVIRONMENT_WORDS.items() if words & set(aliases))
    if not named or environment in named:
        return []
    valid = [env for env in named if env in ENVIRONMENTS]
    change = f"Set environment to {valid[0]}, or rename the stack" if valid else "Rename the stack"
    return [
        Problem(
            PROJECT,
            "environment",
            f"does not match the stack name '{stack}', which says {' and '.join(named)}: a stack file copied from "
            "another stack keeps that stack's environment, defaults and policy levels",
            environment,
            f"{change}; if this is deliberate, set pai-mlops:allowAnyStackName: true",
        )
    ]


def load_stack_config() -> StackConfig:
    """Read and validate the current stack's configuration.

    The engine hands the program the whole stack config: under ``pulumi up`` in the ``PULUMI_CONFIG`` environment
    variable, under the mock engine in the runtime's config map. Secret keys are not read here (they are read where
    they are used, as Outputs), so asking for them never unwraps a secret.
    """
    project = pulumi.get_project()
    keys = set(pulumi.runtime.config.CONFIG.get()) | set(pulumi.runtime.config.get_config_env())
    values: dict[str, str] = {}
    for full_key in keys:
        namespace, _, name = full_key.partition(":")
        if full_key == REGION_KEY or (namespace == project and name not in SECRET_KEYS):
            value = pulumi.Config(namespace).get(name)
            if value is not None:
                values[full_key] = value
    secret_keys = config_secret_keys(keys)
    problems = plaintext_secret_problems(keys, secret_keys)
    secret_names = {k.partition(":")[2] for k in secret_keys if k.partition(":")[0] == project}
    secrets_set = frozenset(
        name for namespace, _, name in (k.partition(":") for k in keys) if namespace == project and name in SECRET_KEYS
    )
    try:
        config = parse_stack_config(raw_from_values(values, project), pulumi.get_stack(), secrets_set, full_keys=keys)
    except StackConfigError as error:
        raise StackConfigError(error.stack, [*problems, *hide_secret_values(error.problems, secret_names)]) from None
    if problems:
        raise StackConfigError(pulumi.get_stack(), problems)
    return config
