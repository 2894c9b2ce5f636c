"""End to end: trained in dev, released in staging, promoted to prod; and a version staging never passed.

The copies run through the provider host against the emulator, each stack as its own copy role holding exactly the
documents its program attaches; prod's offline plan then reads staging's outputs as ``pulumi stack output --json``
would give them after that release (the copy's checksums, a release to 100% with a passing bake).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.copy_role import read_document, trust_document, write_document
from providers.clients import ClientFactory
from providers.promotion import ModelPromotionProvider
from tests.emulator import Control
from tests.support.program_copy import project_copy
from tests.support.provider_host import ProviderHost
from tools import plan
from tools.mock_engine import ROOT

ACCOUNT = "1234567890123456"
PREFIX = "models/fraud_scorer/v7/"
BUCKETS = {stack: f"acme-pai-mlops-{stack}" for stack in ("dev", "staging", "prod")}
WEIGHTS = {"model.pmml": b"<PMML version='4.4'>trained in dev</PMML>", "meta/config.json": b'{"threshold": 0.7}'}
RELEASED = [
    {"phase": "step", "step": 10, "to": "v7", "verdict": "pass"},
    {"phase": "step", "step": 50, "to": "v7", "verdict": "pass"},
    {"phase": "step", "step": 100, "to": "v7", "verdict": "pass"},
]


def copy_role(cloud: Control, stack: str, source: str) -> str:
    """``<prefix>-promote-copy`` of ``stack``: v7's read at ``source`` and write here, as components/copy_role.py."""
    role = f"pai-mlops-{stack}-promote-copy"
    cloud.put_role(role, json.loads(trust_document(ACCOUNT, None)))
    cloud.attach_policy(role, "read", json.loads(read_document(BUCKETS[source], PREFIX)))
    cloud.attach_policy(role, "write", json.loads(write_document(BUCKETS[stack], PREFIX)))
    return f"acs:ram::{ACCOUNT}:role/{role}"


def promote(host: ProviderHost, cloud: Control, source: str, dest: str, expected: dict[str, str]) -> dict[str, Any]:
    _, outputs = host.create(
        ModelPromotionProvider(),
        {
            "source_bucket": BUCKETS[source],
            "source_prefix": PREFIX,
            "dest_bucket": BUCKETS[dest],
            "dest_prefix": PREFIX,
            "copy_role_arn": copy_role(cloud, dest, source),
            "expected": expected,
            "lineage": {"sourceStack": source},
            "deadline_seconds": 30,
        },
    )
    return outputs


def plan_prod(tmp_path: Path, staging_outputs: dict[str, Any], prod_yaml: str) -> dict[str, Any]:
    root = project_copy(tmp_path)
    (root / "Pulumi.prod.yaml").write_text(prod_yaml)
    recorded = tmp_path / "staging-outputs.json"
    recorded.write_text(json.dumps(staging_outputs))
    out = tmp_path / "plan.json"
    code = plan.main(
        ["--stack", "prod", "--root", str(root), "--out", str(out), "--stack-outputs", f"staging={recorded}"]
    )
    return {"code": code, **json.loads(out.read_text())}


def test_a_version_trained_in_dev_and_released_in_staging_reaches_prod_byte_identical(
    host: ProviderHost, cloud: Control, clients: ClientFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud.clock(speed=1.0)
    for bucket in BUCKETS.values():
        cloud.create_bucket(bucket)
    dev = clients.oss_bucket(BUCKETS["dev"])
    for name, data in WEIGHTS.items():  # what dev's training run wrote
        dev.put_object(PREFIX + name, data)
    staging = promote(host, cloud, "dev", "staging", {})
    # staging released v7 to 100% without a breach; its outputs carry the checksums its copy verified
    outputs = {
        "bucketName": BUCKETS["staging"],
        "modelArtifacts": {
            "fraud_scorer": {
                "v7": {
                    "bucket": BUCKETS["staging"],
                    "uri": f"oss://{BUCKETS['staging']}/{PREFIX}",
                    "origin": "promoted",
                    "commit": "4be2c1d9",
                    "trainingJob": "dlc-dev-0001",
                    "checksums": staging["checksums"],
                }
            }
        },
        "releaseHistory": {"fraud_scorer": RELEASED},
    }
    document = plan_prod(tmp_path, outputs, (ROOT / "Pulumi.prod.yaml").read_text())
    capsys.readouterr()
    assert (document["code"], [v for v in document["policy"]["violations"] if v["level"] == "mandatory"]) == (0, [])
    [copy] = [r for r in document["resources"] if r["type"] == "pulumi-python:dynamic/pai:ModelPromotion"]
    assert copy["inputs"]["expected"] == staging["checksums"]  # prod verifies against what staging recorded
    prod = promote(host, cloud, "staging", "prod", copy["inputs"]["expected"])
    stored = clients.oss_bucket(BUCKETS["prod"])
    assert {name: stored.get_object(PREFIX + name).read() for name in WEIGHTS} == WEIGHTS  # byte-identical
    assert prod["checksums"] == staging["checksums"]
    [version] = [r for r in document["resources"] if r["name"] == "registry-fraud_scorer-v7"]
    labels = {label["key"]: label["value"] for label in version["inputs"]["labels"]}
    assert {k: labels[k] for k in ("sourceStack", "sourceUri", "codeCommit", "trainingJob", "gateOverride")} == {
        "sourceStack": "staging",
        "sourceUri": f"oss://{BUCKETS['staging']}/{PREFIX}",
        "codeCommit": "4be2c1d9",
        "trainingJob": "dlc-dev-0001",
        "gateOverride": "none",
    }


def test_a_version_staging_breached_cannot_be_made_live_in_prod(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    breached = [*RELEASED[:2], {"phase": "step", "step": 100, "to": "v7", "verdict": "breach"}]
    outputs = {
        "bucketName": BUCKETS["staging"],
        "modelArtifacts": {
            "fraud_scorer": {
                "v7": {
                    "bucket": BUCKETS["staging"],
                    "origin": "promoted",
                    "commit": "4be2c1d9",
                    "checksums": {"model.pmml": "sha256:" + "ab" * 32},
                }
            }
        },
        "releaseHistory": {"fraud_scorer": breached},
    }
    document = plan_prod(tmp_path, outputs, (ROOT / "Pulumi.prod.yaml").read_text())
    capsys.readouterr()
    assert document["code"] == 1
    assert [v["policy"] for v in document["policy"]["violations"] if v["level"] == "mandatory"] == ["promotion-gate"]
