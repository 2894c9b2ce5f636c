"""The offline contract's rules (tools/contract_rules.py): each fires on a value the provider or API refuses and
stays quiet otherwise; FC's cpu must fit its memory."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tools import contract, contract_rules

OSS_URI = "oss://acme.oss-cn-hangzhou.aliyuncs.com/models/m/v1/"
# (type, input) → (an accepted value, a refused value). Every rule in contract_rules.RULES must be listed.
CASES: dict[tuple[str, str], tuple[Any, Any]] = {
    ("alicloud:oss/bucket:Bucket", "bucket"): ("acme-pai-dev", "Acme_Bucket"),
    ("alicloud:oss/bucket:Bucket", "storageClass"): ("Standard", "Hot"),
    ("alicloud:oss/bucket:Bucket", "redundancyType"): ("ZRS", "GRS"),
    ("alicloud:oss/bucketAcl:BucketAcl", "acl"): ("private", "authenticated-read"),
    ("alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption", "sseAlgorithm"): ("KMS", "SSE-C"),
    ("alicloud:oss/bucketVersioning:BucketVersioning", "status"): ("Enabled", "enabled"),
    ("alicloud:kms/key:Key", "keyUsage"): ("ENCRYPT/DECRYPT", "ENCRYPT"),
    ("alicloud:kms/key:Key", "pendingWindowInDays"): (30, 5),
    ("alicloud:kms/key:Key", "automaticRotation"): ("Enabled", "On"),
    ("alicloud:kms/key:Key", "rotationInterval"): ("365d", "1 year"),
    ("alicloud:ram/role:Role", "roleName"): ("mlops-dev-eas", "mlops dev eas"),
    ("alicloud:ram/role:Role", "maxSessionDuration"): (3600, 900),
    ("alicloud:ram/policy:Policy", "policyName"): ("mlops-dev-eas-oss", "mlops_dev.eas"),
    ("alicloud:ram/rolePolicyAttachment:RolePolicyAttachment", "policyType"): ("Custom", "Managed"),
    ("alicloud:pai/workspaceWorkspace:WorkspaceWorkspace", "workspaceName"): ("mlops_dev", "1mlops"),
    ("alicloud:pai/workspaceModel:WorkspaceModel", "accessibility"): ("PRIVATE", "private"),
    ("alicloud:pai/workspaceModelVersion:WorkspaceModelVersion", "versionName"): ("2.3.4_beta", "v6"),
    ("alicloud:pai/workspaceModelVersion:WorkspaceModelVersion", "uri"): (OSS_URI, "oss://acme/models/m/v1/"),
    ("alicloud:pai/workspaceDataset:WorkspaceDataset", "uri"): (OSS_URI, "oss://acme/data/"),
    ("alicloud:pai/workspaceDataset:WorkspaceDataset", "property"): ("DIRECTORY", "FOLDER"),
    ("alicloud:pai/service:Service", "serviceConfig"): (
        json.dumps({"metadata": {"name": "fraud_v7"}}),
        json.dumps({"metadata": {"name": "fraud-v7"}}),
    ),
    ("alicloud:fc/v3Function:V3Function", "memorySize"): (128, 100),
    ("alicloud:fc/v3Trigger:V3Trigger", "triggerType"): ("timer", "cron"),
    ("alicloud:cms/alarm:Alarm", "silenceTime"): (3600, 60),
    ("alicloud:cms/alarm:Alarm", "metricDimensions"): ('[{"serviceName": "s"}]', '{"serviceName": "s"}'),
    ("alicloud:cs/registryEnterpriseNamespace:RegistryEnterpriseNamespace", "name"): ("acme-ml", "-acme"),
    ("alicloud:cs/registryEnterpriseRepo:RegistryEnterpriseRepo", "repoType"): ("PRIVATE", "INTERNAL"),
    ("alicloud:cs/registryEnterpriseRepo:RegistryEnterpriseRepo", "summary"): ("fraud image", "x" * 101),
    ("alicloud:cr/namespace:Namespace", "name"): ("acme-ml", "a"),
    ("alicloud:cr/repo:Repo", "summary"): ("fraud image", ""),
}


def complete(type_token: str, **inputs: Any) -> contract.Resource:
    """A resource of ``type_token`` with every required input set (to an accepted value where a rule judges it)."""
    required = {name: CASES.get((type_token, name), ("x",))[0] for name in contract.required_inputs(type_token)}
    if type_token == "alicloud:fc/v3Function:V3Function":
        inputs = {"memorySize": 128, "cpu": 0.05, **inputs}
    return contract.Resource(type_token, "r", {**required, **inputs})


def test_every_rule_has_a_case() -> None:
    assert sorted((r.type, r.input) for r in contract_rules.RULES) == sorted(CASES)
    assert all(rule.source for rule in contract_rules.RULES)


@pytest.mark.parametrize(("type_token", "name"), sorted(CASES))
def test_each_rule_fires_on_a_refused_value_and_stays_quiet_on_an_accepted_one(type_token: str, name: str) -> None:
    good, bad = CASES[(type_token, name)]
    assert contract.violations([complete(type_token, **{name: good})]) == []
    found = contract.violations([complete(type_token, **{name: bad})])
    rule = next(r for r in contract_rules.RULES if (r.type, r.input) == (type_token, name))
    assert [str(v) for v in found] == [
        f"{type_token} 'r' [{name}]: must be {rule.rule}; got {bad!r} (source: {rule.source})"
    ]


@pytest.mark.parametrize(("cpu", "fires"), [(None, True), (0.05, False), (0.1, False), (0.15, True), (0.07, True)])
def test_fc_cpu_must_fit_the_memory_ratio(cpu: float | None, fires: bool) -> None:
    resource = complete("alicloud:fc/v3Function:V3Function", cpu=cpu)
    found = [v for v in contract.violations([resource]) if v.input == "cpu"]
    assert bool(found) is fires
    if cpu is None:
        assert found[0].rule == (
            "needs cpu (the server default is undocumented): cpu between 0.03125 and 0.125 vCPU, a multiple of 0.05 "
            "for memorySize 128 MB"
        )
