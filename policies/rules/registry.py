"""Container Registry: an Enterprise Edition namespace scans what is pushed to it.

``cr-enterprise-scan-on-push``: every ``cs.RegistryEnterpriseNamespace`` of the stack is covered by a
``cr.ScanRule`` of the same instance that scans for vulnerabilities (``scanType`` ``VUL``) automatically
(``triggerType`` ``AUTO``) on every tag (``repoTagFilterPattern`` ``.*``), with scope ``INSTANCE``, or ``NAMESPACE``
listing the namespace. A rule of scope ``REPO`` covers only the repositories it names, so it does not count. Values
(ROS ALIYUN::CR::ScanRule, https://help.aliyun.com/en/ros/developer-reference/aliyun-cr-scanrule; terraform
``resource_alicloud_cr_scan_rule.go`` ValidateFunc): ScanScope NAMESPACE/REPO/INSTANCE, ScanType VUL/SBOM,
TriggerType AUTO/MANUAL. CI's scan before the push is the gate (``.github/workflows/images.yml``); this keeps the
registry's own look from being switched off where the stack's policy config makes it mandatory.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, ReportViolation, StackValidationArgs, StackValidationPolicy

from .common import as_list, render

CR_EE_NAMESPACE: Final = "alicloud:cs/registryEnterpriseNamespace:RegistryEnterpriseNamespace"
CR_SCAN_RULE: Final = "alicloud:cr/scanRule:ScanRule"


def _covers(rule: Mapping[str, Any], instance: Any, namespace: Any) -> bool:
    # Read directly: a value unknown until `pulumi up` makes the pack report the check as deferred (common.peek).
    wanted = {"instanceId": instance, "scanType": "VUL", "triggerType": "AUTO", "repoTagFilterPattern": ".*"}
    if any(rule.get(key) != value for key, value in wanted.items()):
        return False
    scope = rule.get("scanScope")
    return scope == "INSTANCE" or (scope == "NAMESPACE" and namespace in as_list(rule.get("namespaces")))


def validate_scan_on_push(args: StackValidationArgs, report: ReportViolation) -> None:
    rules = [resource.props for resource in args.resources if resource.resource_type == CR_SCAN_RULE]
    for namespace in (resource for resource in args.resources if resource.resource_type == CR_EE_NAMESPACE):
        instance, name = namespace.props.get("instanceId"), namespace.props.get("name")
        if not any(_covers(rule, instance, name) for rule in rules):
            report(
                f"Container Registry namespace {render(name)} of instance {render(instance)} does not scan the "
                "images pushed to it: no cr.ScanRule of that instance with scan_type 'VUL', trigger_type 'AUTO', "
                "repo_tag_filter_pattern '.*' and scope 'INSTANCE', or 'NAMESPACE' listing it. Leave "
                "pai-mlops:registry.scanOnPush out (or true).",
                namespace.urn,
            )


cr_enterprise_scan_on_push = StackValidationPolicy(
    name="cr-enterprise-scan-on-push",
    description="Container Registry Enterprise Edition namespaces scan every pushed image for vulnerabilities.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_scan_on_push,
)

POLICIES: Final = [cr_enterprise_scan_on_push]
