"""Promotion config: a served version that comes from another stack's bucket instead of a training run here.

    serving:
      services:
        - name: fraud_scorer
          versions: [v6, v7]
          live: v7
          promoted:
            v7: {from: staging}            # copied from staging's bucket, gated on staging's release of v7

The source stack's bucket, artifact URI and lineage are read from its outputs (``pulumi.StackReference``), never
typed here. An emergency override of the promotion gate is written in the stack file, so it is reviewed in the
pull request that adds it, and recorded in the model registry and the stack's ``promotions`` output:

          promoted:
            v7:
              from: staging
              override: {reason: "hotfix for INC-4711, staging down", approvedBy: alice, ticket: INC-4711}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from pydantic import ConfigDict, StrictStr
from pydantic.alias_generators import to_camel
from pydantic.dataclasses import dataclass

from config_problems import Problem, key, path_text
from pai_facts import model_prefix, model_uri

_MODEL: Final = ConfigDict(extra="forbid", alias_generator=to_camel, validate_by_name=True, validate_by_alias=True)
# A stack name, or a fully qualified <org>/<project>/<stack> (Pulumi's StackReference accepts both).
STACK_NAME: Final = r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+){0,2}$"


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class PromotionOverride:
    """A reviewed exception to the promotion gate: who approved it, why, and the ticket that tracks it."""

    reason: StrictStr = key(
        "Say why the gate is bypassed, in at least 10 characters", min_length=10, rule="a sentence of 10+ characters"
    )
    approved_by: StrictStr = key("Name the person who approved the bypass", min_length=1)
    ticket: StrictStr = key("Give the incident or change ticket, e.g. INC-4711", min_length=1)


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class PromotionConfig:
    """Where a promoted version comes from."""

    from_stack: StrictStr = key(
        "Name the source stack, e.g. staging (or <org>/<project>/<stack>)",
        alias="from",
        rule="a stack name such as 'staging' or 'acme/pai-mlops/staging'",
        pattern=STACK_NAME,
    )
    override: PromotionOverride | None = key("Give {reason, approvedBy, ticket}, or leave it out", default=None)

    @property
    def stack_name(self) -> str:
        """The last part of the reference: what the source's outputs are exported under."""
        return self.from_stack.rsplit("/", 1)[-1]


def promotion_problems(raw: Mapping[str, Any], stack: str) -> list[Problem]:
    """Rules across keys: a promoted version is deployed here, trained nowhere here, and comes from another stack."""
    serving, training = raw.get("serving"), raw.get("training")
    services = serving.get("services") if isinstance(serving, dict) else None
    jobs = training.get("jobs") if isinstance(training, dict) else None
    trained = {
        (job.get("name"), job.get("run")) for job in (jobs if isinstance(jobs, list) else []) if isinstance(job, dict)
    }
    problems: list[Problem] = []
    for index, svc in enumerate(services if isinstance(services, list) else []):
        promoted = svc.get("promoted") if isinstance(svc, dict) else None
        if not isinstance(promoted, dict):
            continue  # absent, or the wrong type: field validation reports it
        where = path_text(("serving", "services", index, "promoted"))
        versions = svc.get("versions") if isinstance(svc.get("versions"), list) else []
        for version, item in promoted.items():
            if version not in versions:
                problems.append(
                    Problem(
                        where, str(version), "is not one of this service's versions", version, "List it in versions"
                    )
                )
            if (svc.get("name"), version) in trained:
                problems.append(
                    Problem(
                        where,
                        str(version),
                        "is also trained by a run of this stack; a version has one origin",
                        version,
                        "Promote it or train it here, not both",
                    )
                )
            source = item.get("from") if isinstance(item, dict) else None
            if isinstance(source, str) and re.fullmatch(STACK_NAME, source) and source.rsplit("/", 1)[-1] == stack:
                problems.append(
                    Problem(
                        f"{where}.{version}",
                        "from",
                        "names this stack itself",
                        source,
                        "Name the stack the version was released in, e.g. staging",
                    )
                )
    return problems


def artifact_entry(
    bucket: str, model: str, version: str, *, commit: str | None, origin: str, source_stack: str | None = None
) -> dict[str, Any]:
    """One version of a stack's ``modelArtifacts`` output (what another stack promotes from), known at plan time.

    ``origin`` is ``trained`` (a run of the stack), ``promoted`` (copied from ``source_stack``) or ``listed``
    (put there some other way). Checksums are added by the program from the promotion that copied the version.
    """
    entry: dict[str, Any] = {
        "bucket": bucket,
        "prefix": model_prefix(model, version),
        "uri": model_uri(bucket, model, version),
        "origin": origin,
    }
    if commit is not None:
        entry["commit"] = commit
    if source_stack is not None:
        entry["sourceStack"] = source_stack
    return entry
