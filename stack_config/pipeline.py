"""Retraining pipelines: ``pipeline`` (PAI Flow runs, their steps and triggers) and the rules across their keys."""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from typing import Any, Final

from pydantic import StrictBool, StrictStr
from pydantic.dataclasses import dataclass

from config_problems import MISSING, Problem, key, path_text
from stack_config.drift import DriftConfig, drift_problems
from stack_config.fields import MODEL, PIN_IMAGE, RAM_NAME_MAX, Number, image_problems


@dataclass(frozen=True, kw_only=True, config=MODEL)
class PipelineStepConfig:
    """One container step of a retraining pipeline (an inline PAI Flow container, on the public resource group)."""

    image: StrictStr = key("Give the step's image with a tag or digest", min_length=1)
    command: StrictStr = key("Give the command the step runs", min_length=1)
    # Refused when set (see _pipeline_step_problems); kept as a field so the error names it.
    instance_type: StrictStr | None = key("Remove it: a pipeline's container step has no instance type", default=None)


@dataclass(frozen=True, kw_only=True, config=MODEL)
class EvaluationStepConfig(PipelineStepConfig):
    """The evaluation gate: the step fails (and the pipeline stops before deploying) below ``minimum``."""

    metric: StrictStr = key("Name the metric the evaluation reports, e.g. 'auc'", min_length=1)
    minimum: Number = key("Set the lowest acceptable value of the metric, e.g. 0.9")


@dataclass(frozen=True, kw_only=True, config=MODEL)
class PipelineTriggerConfig:
    """What starts a retraining run without a person: a schedule, new data, or both (one function, two triggers)."""

    schedule: StrictStr | None = key(
        "Give 6 cron fields: second minute hour day month weekday, e.g. '0 0 3 * * *' (03:00 daily), or '@every 24h'",
        default=None,
        rule="6 cron fields (second minute hour day month weekday) or '@every <n>m|h'",
        pattern=r"^(\S+( \S+){5}|@every [1-9][0-9]*[mh])$",
    )
    timezone: StrictStr = key("Give an IANA time zone for the schedule, e.g. 'Asia/Shanghai'", default="UTC")
    data_marker: StrictStr | None = key(
        "Give the object under data/ whose writing starts a run, e.g. 'data/transactions/_SUCCESS'",
        default=None,
        rule="an object key under data/, e.g. 'data/transactions/_SUCCESS'",
        pattern=r"^data/([A-Za-z0-9_.=-]+/)*[A-Za-z0-9_.=-]+$",
    )
    drift: DriftConfig | None = key(
        "Give {enabled, method, threshold, profile, layer} to start a data-triggered run only on drift, or omit it",
        default=None,
    )


@dataclass(frozen=True, kw_only=True, config=MODEL)
class RetrainingConfig:
    """A retraining DAG: preprocess → train (a configured training job, as a DLC job) → evaluate."""

    name: StrictStr = key(
        "Use lower-case letters, digits and underscores, starting with a letter (e.g. 'fraud_retraining')",
        rule="lower-case letters, digits and underscores starting with a letter",
        pattern=r"^[a-z][a-z0-9_]*$",
    )
    model: StrictStr = key("Name the served model the pipeline retrains (one of serving.services)")
    training: StrictStr = key("Name the training job whose settings train the model (one of training.jobs)")
    preprocess: PipelineStepConfig = key("Give {image, command, instanceType}")
    evaluate: EvaluationStepConfig = key("Give {image, command, instanceType, metric, minimum}")
    deploy: StrictBool = key("Leave it out: serve a trained run by adding it to the service's versions", default=False)
    trigger: PipelineTriggerConfig | None = key(
        "Give {schedule, timezone} and/or {dataMarker} to start runs automatically, or leave it out", default=None
    )


@dataclass(frozen=True, kw_only=True, config=MODEL)
class PipelineConfig:
    """Retraining DAGs defined in code, registered as PAI pipelines."""

    provider: StrictStr | None = key(
        "Give the Alibaba Cloud account UID that owns the pipelines (PAI Flow's metadata.provider)",
        default=None,
        rule="an account UID of digits",
        pattern=r"^[0-9]{6,20}$",
    )
    retraining: tuple[RetrainingConfig, ...] = key("List the retraining pipelines", default=())


TRIGGER_FIX: Final = "Give schedule (e.g. '0 0 3 * * *') and/or dataMarker (e.g. 'data/transactions/_SUCCESS')"


def _names(raw: Mapping[str, Any], section: str, items: str) -> set[str]:
    value = raw.get(section)
    listed = value.get(items) if isinstance(value, dict) else None
    return {str(x.get("name")) for x in (listed if isinstance(listed, list) else []) if isinstance(x, dict)}


def pipeline_problems(raw: Mapping[str, Any]) -> list[Problem]:
    pipeline = raw.get("pipeline")
    retraining = pipeline.get("retraining") if isinstance(pipeline, dict) else None
    if not isinstance(retraining, list) or not retraining:
        return []
    problems: list[Problem] = []
    if isinstance(pipeline, dict) and not pipeline.get("provider"):
        problems.append(
            Problem(
                "pai-mlops:pipeline",
                "provider",
                "is required with retraining pipelines",
                MISSING,
                "Give the account UID that owns them (the console shows it under your account)",
            )
        )
    models, jobs = _names(raw, "serving", "services"), _names(raw, "training", "jobs")
    for index, item in enumerate(retraining):
        if not isinstance(item, dict):
            continue
        where = path_text(("pipeline", "retraining", index))
        if isinstance(item.get("model"), str) and item["model"] not in models:
            problems.append(
                Problem(
                    where,
                    "model",
                    "is not a served model",
                    item["model"],
                    f"Name one of serving.services: {', '.join(sorted(models)) or 'none'}",
                )
            )
        if isinstance(item.get("training"), str) and item["training"] not in jobs:
            problems.append(
                Problem(
                    where,
                    "training",
                    "is not a training job",
                    item["training"],
                    f"Name one of training.jobs: {', '.join(sorted(jobs)) or 'none'}",
                )
            )
        for step in ("preprocess", "evaluate"):
            image = (item.get(step) or {}).get("image") if isinstance(item.get(step), dict) else None
            problems += image_problems(image, f"{where}.{step}", fix=PIN_IMAGE)
        problems += _pipeline_step_problems(item, where)
        if isinstance(item.get("trigger"), dict):
            problems += _trigger_problems(item["trigger"], f"{where}.trigger")
            _, role = trigger_names(str(raw.get("namePrefix")), str(item.get("name")))
            if len(role) > RAM_NAME_MAX:
                problems.append(
                    Problem(
                        where,
                        "name",
                        f"makes the trigger's RAM role name {role} longer than {RAM_NAME_MAX} characters",
                        item.get("name"),
                        "Use a shorter pipeline name",
                    )
                )
    return problems


def _pipeline_step_problems(item: Mapping[str, Any], where: str) -> list[Problem]:
    """What a PAI Flow manifest cannot express (components/pipeline.py): a container step's instance type (the
    inline container spec has no such field; custom containers run on the public resource group) and an EAS
    deployment step (no official component for it is documented)."""
    problems: list[Problem] = []
    for step in ("preprocess", "evaluate"):
        settings = item.get(step)
        if isinstance(settings, dict) and settings.get("instanceType") is not None:
            problems.append(
                Problem(
                    f"{where}.{step}",
                    "instanceType",
                    "cannot be honoured: a pipeline's container step has no instance type and runs on the public "
                    "resource group",
                    settings["instanceType"],
                    "Remove it; size the training itself through the training job",
                )
            )
    if item.get("deploy") is True:
        problems.append(
            Problem(
                where,
                "deploy",
                "has no documented PAI Flow component to deploy to EAS",
                True,
                "Remove it; serve a trained run by adding it to the service's versions (a reviewed change)",
            )
        )
    return problems


def trigger_names(name_prefix: str, pipeline: str) -> tuple[str, str]:
    """A retraining trigger's names: (its FC function and start role, the role OSS invokes it with).

    RAM role names take no underscores, so the pipeline's become hyphens.
    """
    function = f"{name_prefix}-{pipeline}-start".replace("_", "-")
    return function, f"{function}-oss"


def _trigger_problems(trigger: Mapping[str, Any], where: str) -> list[Problem]:
    problems: list[Problem] = []
    if not trigger.get("schedule") and not trigger.get("dataMarker"):
        problems.append(Problem(where, "schedule", "a trigger needs a schedule or a dataMarker", MISSING, TRIGGER_FIX))
    problems += drift_problems(trigger, where)
    zone = trigger.get("timezone")
    if isinstance(zone, str) and zone != "UTC":
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.append(
                Problem(where, "timezone", "is not an IANA time zone", zone, "Write e.g. 'Asia/Shanghai' or 'UTC'")
            )
    if isinstance(zone, str) and zone != "UTC" and str(trigger.get("schedule", "")).startswith("@every"):
        problems.append(
            Problem(
                where,
                "timezone",
                "has no meaning for an '@every' schedule",
                zone,
                "Leave timezone out, or give 6 cron fields",
            )
        )
    return problems
