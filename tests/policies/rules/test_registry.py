"""cr-enterprise-scan-on-push on fixtures: which scan rules cover an Enterprise Edition namespace, and which do not."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy import EnforcementLevel
from pulumi_policy.proxy import UnknownValueError

from policies.rules import registry
from policies.rules.registry import CR_EE_NAMESPACE, CR_SCAN_RULE
from tests.support.policy_harness import UNKNOWN, Fixture, check_stack

NAMESPACE = Fixture(CR_EE_NAMESPACE, "images-namespace", {"instanceId": "cri-acme", "name": "acme-ml"})
RULE: dict[str, Any] = {
    "instanceId": "cri-acme",
    "ruleName": "pai-mlops-acme-ml",
    "scanScope": "NAMESPACE",
    "namespaces": ["acme-ml"],
    "repoTagFilterPattern": ".*",
    "scanType": "VUL",
    "triggerType": "AUTO",
}
MESSAGE = (
    "Container Registry namespace 'acme-ml' of instance 'cri-acme' does not scan the images pushed to it: no "
    "cr.ScanRule of that instance with scan_type 'VUL', trigger_type 'AUTO', repo_tag_filter_pattern '.*' and scope "
    "'INSTANCE', or 'NAMESPACE' listing it. Leave pai-mlops:registry.scanOnPush out (or true)."
)


def rule(**changes: Any) -> Fixture:
    return Fixture(CR_SCAN_RULE, "images-scan", {**RULE, **changes})


def test_policy_metadata() -> None:
    assert [(p.name, p.enforcement_level, type(p).__name__, p.description) for p in registry.POLICIES] == [
        (
            "cr-enterprise-scan-on-push",
            EnforcementLevel.MANDATORY,
            "StackValidationPolicy",
            "Container Registry Enterprise Edition namespaces scan every pushed image for vulnerabilities.",
        )
    ]


@pytest.mark.parametrize(
    "covering",
    [rule(), rule(scanScope="INSTANCE", namespaces=None), rule(namespaces=["other", "acme-ml"])],
)
def test_a_namespace_covered_by_an_automatic_vulnerability_rule_passes(covering: Fixture) -> None:
    assert check_stack(registry.cr_enterprise_scan_on_push, [NAMESPACE, covering]) == []


@pytest.mark.parametrize(
    "weaker",
    [
        rule(triggerType="MANUAL"),
        rule(scanType="SBOM"),
        rule(repoTagFilterPattern="^release-.*$"),
        rule(scanScope="REPO", repoNames=["fraud-train"]),
        rule(namespaces=["acme-ml-dev"]),
        rule(instanceId="cri-other"),
    ],
    ids=["manual", "sbom", "some-tags", "some-repos", "other-namespace", "other-instance"],
)
def test_a_namespace_without_a_covering_rule_is_refused(weaker: Fixture) -> None:
    assert check_stack(registry.cr_enterprise_scan_on_push, [NAMESPACE, weaker]) == [("images-namespace", MESSAGE)]


def test_no_rule_at_all_is_refused_and_a_second_weaker_rule_does_not_undo_a_covering_one() -> None:
    policy = registry.cr_enterprise_scan_on_push
    assert check_stack(policy, [NAMESPACE]) == [("images-namespace", MESSAGE)]
    manual = Fixture(CR_SCAN_RULE, "manual", {**RULE, "triggerType": "MANUAL"})
    assert check_stack(policy, [NAMESPACE, manual, rule()]) == []


def test_a_stack_without_an_enterprise_namespace_has_nothing_to_check() -> None:
    assert check_stack(registry.cr_enterprise_scan_on_push, [rule()]) == []


def test_an_unknown_rule_value_defers_the_check_instead_of_passing_it() -> None:
    with pytest.raises(UnknownValueError) as caught:
        check_stack(registry.cr_enterprise_scan_on_push, [NAMESPACE, rule(triggerType=UNKNOWN)])
    assert caught.value.message == "string value at .triggerType can't be known during preview"
