"""What a ``pulumi.StackReference`` reads under the offline plan: recorded outputs, or the source's planned ones.

A real ``pulumi preview`` reads the referenced stack's outputs from its state. Offline there is no state, so the
mock engine answers from, in order:

1. a file of recorded outputs given for that stack (``./plan --stack-outputs staging=FILE``; FILE is what
   ``pulumi stack output --json --stack staging`` prints): the real history, judged as the real preview would;
2. the referenced stack's own ``Pulumi.<stack>.yaml`` in the project: its *planned* outputs, what its next
   ``pulumi up`` produces when it succeeds — its bucket, its artifacts, and a release of each live version to
   100% marked ``planned`` (the deploy workflow runs that stack's gated release before this one's);
3. nothing (a stack this project does not know): empty outputs, so a promotion from it is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from config_promotion import artifact_entry
from stack_config import StackConfig, parse_stack_config, raw_from_values

PLANNED_DETAIL: Final = "planned: the offline plan assumes this stack's next pulumi up releases its live version"


def planned_outputs(config: StackConfig, stack: str) -> dict[str, Any]:
    """The outputs a successful ``pulumi up`` of ``config`` exports that other stacks read."""
    bucket = config.storage.bucket_name
    trained = {(job.name, job.run): job for job in config.training.jobs}
    artifacts: dict[str, dict[str, Any]] = {}
    history: dict[str, list[dict[str, Any]]] = {}
    for svc in config.serving.services:
        entries: dict[str, Any] = {}
        for version in svc.versions:
            job = trained.get((svc.name, version))
            promotion = svc.promoted.get(version)
            origin = "trained" if job else "promoted" if promotion else "listed"
            commit = job.code.commit if job and job.code else svc.code_commits.get(version)
            source = promotion.from_stack if promotion else None
            entries[version] = artifact_entry(
                bucket, svc.name, version, commit=commit, origin=origin, source_stack=source
            )
            entries[version]["planned"] = True
        artifacts[svc.name] = entries
        event = {"phase": "step", "step": 100, "to": svc.live, "verdict": "pass", "detail": PLANNED_DETAIL}
        history[svc.name] = [event]
    return {"bucketName": bucket, "modelArtifacts": artifacts, "releaseHistory": history, "planned": True}


def reference_outputs(name: str, root: Path, recorded: dict[str, Path]) -> dict[str, Any]:
    """The outputs a StackReference to ``name`` (``stack`` or ``org/project/stack``) reads offline."""
    stack = name.rsplit("/", 1)[-1]
    if stack in recorded:
        outputs = json.loads(recorded[stack].read_text(encoding="utf-8"))
        if not isinstance(outputs, dict):
            raise ValueError(f"{recorded[stack]}: not the JSON object `pulumi stack output --json` prints")
        return outputs
    if not (root / f"Pulumi.{stack}.yaml").is_file():
        return {}
    from tools.mock_engine import project_name, stack_config_values

    values, _ = stack_config_values(stack, root)
    config = parse_stack_config(raw_from_values(values, project_name(root)), stack)
    return planned_outputs(config, stack)
