"""The policy pack as its own process, spoken to over the Analyzer gRPC protocol as the Pulumi CLI does
(tools/policy_gate.py), and the stacks' policy config files against the running pack's policies and schemas."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from policies.rules import POLICIES
from policies.rules.common import CODE_SOURCE, EAS_AUTOSCALER, OSS_BUCKET, OSS_BUCKET_ACL
from tests.support.policy_harness import UNKNOWN, secret, urn_of, wire
from tools.mock_engine import ROOT, Registration
from tools.policy_config import PolicyInfo, PolicySetting, load_policy_config, reconcile
from tools.policy_gate import PACK_DIR, Diagnostic, PolicyPack, PolicyPackError

ALL_POLICIES = [
    ("eas-prod-min-instances", "mandatory", "resource"),
    ("eas-dev-scale-to-zero", "advisory", "stack"),
    ("eas-scale-in-cooldown", "advisory", "resource"),
    ("eas-prod-dedicated-resource-group", "advisory", "resource"),
    ("eas-prod-gated-rollout", "mandatory", "resource"),
    ("eas-burst-ceiling", "mandatory", "stack"),
    ("oss-bucket-private", "mandatory", "resource"),
    ("oss-bucket-encrypted-kms", "mandatory", "stack"),
    ("oss-bucket-versioning", "mandatory", "stack"),
    ("oss-bucket-access-logging", "mandatory", "stack"),
    ("kms-key-rotation", "mandatory", "resource"),
    ("oss-no-public-bucket-policy", "mandatory", "resource"),
    ("oss-public-access-blocked", "mandatory", "stack"),
    ("oss-access-point-vpc-only", "mandatory", "resource"),
    ("cr-repository-private", "mandatory", "resource"),
    ("fc-http-trigger-authenticated", "mandatory", "resource"),
    ("kms-policy-not-public", "mandatory", "resource"),
    ("ram-no-wildcard-actions", "mandatory", "resource"),
    ("ram-no-wildcard-resources", "mandatory", "resource"),
    ("ram-no-not-action", "mandatory", "resource"),
    ("ram-no-escalation-actions", "mandatory", "resource"),
    ("ram-no-users-or-keys", "mandatory", "resource"),
    ("ram-trusted-service-principals", "mandatory", "resource"),
    ("ram-attachments-reviewed", "mandatory", "stack"),
    ("ram-pass-role-own-roles", "mandatory", "stack"),
    ("dlc-spot-requires-checkpoint", "mandatory", "resource"),
    ("dlc-long-job-checkpoint", "advisory", "resource"),
    ("dsw-idle-shutdown", "advisory", "resource"),
    ("required-tags", "mandatory", "resource"),
    ("secrets-not-plaintext", "mandatory", "resource"),
    ("dynamic-resource-types", "mandatory", "resource"),
    ("promotion-gate", "mandatory", "resource"),
    ("promotion-copy-scope", "mandatory", "stack"),
    ("drift-check-scope", "mandatory", "resource"),
    ("cr-enterprise-scan-on-push", "mandatory", "stack"),
]


@pytest.fixture(scope="module")
def pack() -> Iterator[PolicyPack]:
    with PolicyPack() as running:
        yield running


@pytest.fixture(scope="module")
def policies(pack: PolicyPack) -> list[PolicyInfo]:
    return pack.info()[2]


def configure(pack: PolicyPack, policies: list[PolicyInfo], config: Mapping[str, PolicySetting] | None = None) -> None:
    pack.configure(reconcile(policies, config or {}, PACK_DIR))


def registration(
    resource_type: str, name: str, props: Mapping[str, Any], stack: str = "prod", secret_outputs: Sequence[str] = ()
) -> Registration:
    return Registration(
        resource_type,
        name,
        urn_of(resource_type, name, stack),
        "",
        True,
        props,
        properties=wire(props),
        additional_secret_outputs=tuple(secret_outputs),
    )


def test_get_analyzer_info_lists_every_policy_with_its_level_and_kind(pack: PolicyPack) -> None:
    name, version, policies = pack.info()
    assert (name, version) == ("pai-mlops-guard", "0.0.1")
    assert [(p.name, p.level, p.kind) for p in policies] == ALL_POLICIES
    assert [p.name for p in POLICIES] == [name for name, _, _ in ALL_POLICIES]
    cooldown = next(p for p in policies if p.name == "eas-scale-in-cooldown")
    assert cooldown.description == "EAS autoscalers wait long enough before scaling in."
    assert cooldown.schema["properties"]["minSeconds"]["default"] == 300


def test_analyze_returns_the_rules_diagnostic_at_its_level(pack: PolicyPack, policies: list[PolicyInfo]) -> None:
    configure(pack, policies)
    leak = registration(OSS_BUCKET_ACL, "leak", {"bucket": "acme-data", "acl": "public-read"})
    diagnostics, _ = pack.analyze(leak)
    assert diagnostics == [
        Diagnostic(
            "oss-bucket-private",
            "mandatory",
            leak.urn,
            "OSS bucket 'acme-data' is readable by anyone (acl public-read); training data, models and checkpoints "
            'must stay private. Set acl to "private" and grant access through RAM roles.',
        )
    ]


def test_configure_applies_the_per_stack_levels(pack: PolicyPack, policies: list[PolicyInfo]) -> None:
    scaler = registration(EAS_AUTOSCALER, "scaler", {"service_name": "svc_v1", "min_instances": 0})
    configure(pack, policies, load_policy_config(PACK_DIR / "config" / "dev.json"))
    assert pack.analyze(scaler)[0] == []
    configure(pack, policies, load_policy_config(PACK_DIR / "config" / "prod.json"))
    assert [(d.policy, d.level) for d in pack.analyze(scaler)[0]] == [("eas-prod-min-instances", "mandatory")]
    configure(pack, policies, {"all": PolicySetting("advisory")})
    assert [(d.policy, d.level) for d in pack.analyze(scaler)[0]] == [("eas-prod-min-instances", "advisory")]


def test_a_value_unknown_at_preview_is_reported_as_deferred(pack: PolicyPack, policies: list[PolicyInfo]) -> None:
    configure(pack, policies)
    scaler = registration(EAS_AUTOSCALER, "scaler", {"service_name": "svc_v1", "min_instances": UNKNOWN})
    assert pack.analyze(scaler)[0] == [
        Diagnostic(
            "eas-prod-min-instances",
            "advisory",
            scaler.urn,
            "string value at .min_instances can't be known during preview",
            deferred=True,
        )
    ]


def test_not_applicable_policies_come_back_with_their_reason(pack: PolicyPack, policies: list[PolicyInfo]) -> None:
    configure(pack, policies)
    scaler = registration(EAS_AUTOSCALER, "scaler", {"service_name": "svc_v1", "min_instances": 0}, stack="dev")
    diagnostics, skipped = pack.analyze(scaler)
    assert diagnostics == []
    assert ("eas-prod-min-instances", scaler.urn, "environment 'dev' is not one of prod") in skipped


def test_secret_inputs_arrive_wrapped_and_the_rule_checks_the_masking_option(
    pack: PolicyPack, policies: list[PolicyInfo]
) -> None:
    configure(pack, policies)
    props = {"codeRepoAccessToken": secret("t0k3n")}
    plain = registration(CODE_SOURCE, "repo", props)
    assert [d.policy for d in pack.analyze(plain)[0]] == ["secrets-not-plaintext"]
    masked = registration(CODE_SOURCE, "repo", props, secret_outputs=["codeRepoAccessToken"])
    assert pack.analyze(masked)[0] == []
    # The pack keeps the secret marker (rules/common.py install_secret_marks): the same value sent plain is refused.
    literal = registration(
        CODE_SOURCE, "repo", {"codeRepoAccessToken": "t0k3n"}, secret_outputs=["codeRepoAccessToken"]
    )
    [diagnostic] = pack.analyze(literal)[0]
    assert (diagnostic.policy, diagnostic.message.split(":")[0]) == (
        "secrets-not-plaintext",
        "WorkspaceCodeSource 'repo' sets codeRepoAccessToken to a plain value, not a secret",
    )


def test_analyze_stack_reports_against_the_bucket(pack: PolicyPack, policies: list[PolicyInfo]) -> None:
    configure(pack, policies)
    bucket = registration(OSS_BUCKET, "artifacts-bucket", {"bucket": "acme-data", "tags": {"environment": "prod"}})
    found = pack.analyze_stack([bucket])
    assert sorted((d.policy, d.level, d.urn) for d in found) == [
        ("oss-bucket-access-logging", "mandatory", bucket.urn),
        ("oss-bucket-encrypted-kms", "mandatory", bucket.urn),
        ("oss-bucket-versioning", "mandatory", bucket.urn),
        ("oss-public-access-blocked", "mandatory", bucket.urn),
    ]


def test_a_pack_that_fails_to_start_is_reported_with_its_stderr(tmp_path: Path) -> None:
    (tmp_path / "__main__.py").write_text("raise SystemExit('no pack here')\n")
    with pytest.raises(PolicyPackError) as caught, PolicyPack(tmp_path):
        pass
    assert str(caught.value) == f"policy pack in {tmp_path} exited; its stderr:\nno pack here"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_config_files_name_every_policy_and_fit_the_schemas(stack: str, policies: list[PolicyInfo]) -> None:
    config = load_policy_config(PACK_DIR / "config" / f"{stack}.json")
    assert sorted(config) == sorted(p.name for p in policies)
    settings = reconcile(policies, config, PACK_DIR)
    assert settings["eas-prod-min-instances"].level == ("mandatory" if stack == "prod" else "disabled")
    assert settings["eas-dev-scale-to-zero"].level == ("disabled" if stack == "prod" else "advisory")


def test_pulumi_policy_yaml_declares_a_python_runtime_the_cli_accepts() -> None:
    schema_file = ROOT.parent / "shared" / "schemas" / "pulumi-project.schema.json"
    if not schema_file.is_file():
        pytest.skip(f"{schema_file.name} not found beside the project (../shared/schemas/{schema_file.name})")
    document = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    # A policy pack's runtime block has the same shape as a project's (ProjectRuntimeInfo).
    jsonschema.validate(document["runtime"], json.loads(schema_file.read_text())["properties"]["runtime"])
    assert document["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    assert document["version"] == "0.1.0"
    assert set(document) == {"description", "runtime", "version"}


def test_the_policies_doc_table_matches_the_pack_and_the_stack_levels() -> None:
    section = (ROOT / "docs" / "policies.md").read_text().split("## Policies", 1)[1].split("\n## ", 1)[0]
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| `") and line.count(" | ") == 5]
    documented = {row[0].strip("| `"): (row[3], row[4]) for row in rows}
    levels = {stack: load_policy_config(PACK_DIR / "config" / f"{stack}.json") for stack in ("dev", "prod")}
    assert list(documented) == [name for name, _, _ in ALL_POLICIES]
    assert documented == {name: (levels["dev"][name].level, levels["prod"][name].level) for name in documented}
