"""The promotion gate: the policy on its own, and end to end through the offline plan with stack references
answered from recorded outputs (``--stack-outputs``) or from the source stack's planned outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.copy_role import description, kms_document, read_document, write_document
from policies.rules import promotion
from policies.rules.promotion import MODEL_PROMOTION, gate_problems, released
from tests.support.policy_harness import Fixture, check, check_stack
from tests.support.program_copy import project_copy
from tools import plan
from tools.mock_engine import ROOT, run_program

SHA = "sha256:" + "ab" * 32
PASS_100 = {"phase": "step", "step": 100, "to": "v7", "verdict": "pass"}


def event(**fields: Any) -> dict[str, Any]:
    return {"phase": "step", "step": 10, "to": "v7", "verdict": "pass", **fields}


def artifact(**fields: Any) -> dict[str, Any]:
    base = {"bucket": "acme-pai-mlops-staging", "uri": "oss://acme-pai-mlops-staging/models/fraud_scorer/v7/"}
    return {**base, "commit": "4be2c1d9", "origin": "promoted", "checksums": {"model.pmml": SHA}, **fields}


def evidence(**fields: Any) -> dict[str, Any]:
    return {
        "source_stack": "staging",
        "model": "fraud_scorer",
        "version": "v7",
        "live": True,
        "release_history": [event(step=10), event(step=50), PASS_100],
        "source_artifact": artifact(),
        "commit": "4be2c1d9",
        "override": None,
        **fields,
    }


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([event(step=10), event(step=50), PASS_100], True),
        ([event(step=10), event(step=50)], False),  # never reached 100%
        ([PASS_100 | {"to": "v6"}], False),  # another version's release
        ([PASS_100 | {"verdict": "proceeded_without_data"}], False),  # no data is no proof
        ([PASS_100 | {"phase": "initial", "verdict": "applied"}], False),  # first version: never baked
        ([PASS_100, event(step=100, verdict="breach")], False),  # released, then breached on a re-release
        ([PASS_100, {"phase": "revert", "step": 0, "to": "v7", "verdict": "applied"}], False),
        ([PASS_100, {"phase": "stopped", "step": 0, "to": "v7", "verdict": "changed_by_someone_else"}], False),
        ([event(step=100, verdict="breach"), PASS_100], True),  # breached once, released cleanly later
        ([PASS_100 | {"step": 100.0}], True),  # numbers come back as floats through the engine
        ("not a list", False),
        (None, False),
    ],
)
def test_a_release_counts_only_at_100_percent_with_a_passing_bake_not_taken_back(history: Any, expected: bool) -> None:
    assert released(history, "v7") is expected


def test_the_gate_passes_a_released_verified_version() -> None:
    assert gate_problems(evidence()) == []


@pytest.mark.parametrize(
    ("change", "missing"),
    [
        (
            {"release_history": [event(step=10)]},
            ["stack 'staging' has no release of fraud_scorer v7 to 100% without a breach in its releaseHistory"],
        ),
        (
            {"source_artifact": {}, "release_history": []},
            [
                "stack 'staging' exports no artifact of fraud_scorer v7 (its modelArtifacts output)",
                "stack 'staging' has no release of fraud_scorer v7 to 100% without a breach in its releaseHistory",
            ],
        ),
        (
            {"source_artifact": artifact(commit="9f1c2ab7")},
            ["stack 'staging' built v7 from commit '9f1c2ab7', this stack expects '4be2c1d9'"],
        ),
        (
            {"source_artifact": artifact(checksums={})},
            ["stack 'staging' recorded no checksums of fraud_scorer v7, so the copy cannot be verified"],
        ),
    ],
)
def test_the_gate_refuses_naming_what_is_missing(change: dict[str, Any], missing: list[str]) -> None:
    assert gate_problems(evidence(**change)) == missing


def test_a_version_the_source_trained_needs_no_checksums_and_a_version_not_live_needs_no_release() -> None:
    assert gate_problems(evidence(source_artifact=artifact(origin="trained", checksums={}))) == []
    assert gate_problems(evidence(live=False, release_history=[], source_artifact={})) == []


def test_a_reviewed_override_turns_the_gate_off_and_a_partial_one_does_not() -> None:
    override = {"reason": "staging is down during INC-4711", "approvedBy": "alice", "ticket": "INC-4711"}
    assert gate_problems(evidence(release_history=[], override=override)) == []
    assert gate_problems(evidence(release_history=[], override={**override, "approvedBy": " "})) != []


def test_the_policy_reports_one_message_naming_the_source_and_the_fix() -> None:
    assert check(promotion.promotion_gate, MODEL_PROMOTION, evidence(release_history=[])) == [
        "fraud_scorer v7 is promoted from stack 'staging' and made live here, but stack 'staging' has no release of "
        "fraud_scorer v7 to 100% without a breach in its releaseHistory. Release it in 'staging' first (its pulumi "
        "up must finish the traffic shift), or set live back to a released version; in an emergency, add a reviewed "
        "override {reason, approvedBy, ticket} to the version's promoted entry."
    ]
    assert check(promotion.promotion_gate, MODEL_PROMOTION, evidence()) == []


# --- end to end: the offline plan of prod, staging's outputs recorded or planned --------------------------------

GATE_URN = "promotions-fraud_scorer-v7"


def staging_outputs(**changes: Any) -> dict[str, Any]:
    outputs: dict[str, Any] = {
        "bucketName": "acme-pai-mlops-staging",
        "modelArtifacts": {"fraud_scorer": {"v7": artifact(trainingJob="dlc-abc123")}},
        "releaseHistory": {"fraud_scorer": [event(step=10), event(step=50), PASS_100]},
    }
    return outputs | changes


def plan_prod(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str, prod: str | None = None) -> Any:
    root = project_copy(tmp_path)
    (root / "Pulumi.prod.yaml").write_text(prod or (ROOT / "Pulumi.prod.yaml").read_text())
    out = tmp_path / "plan.json"
    code = plan.main(["--stack", "prod", "--root", str(root), "--out", str(out), *extra])
    capsys.readouterr()
    document = json.loads(out.read_text())
    gated = [
        v["message"]
        for v in document["policy"]["violations"]
        if v["policy"] == "promotion-gate" and v["urn"].endswith(GATE_URN)
    ]
    return code, gated, document


def recorded(tmp_path: Path, outputs: dict[str, Any]) -> str:
    path = tmp_path / "staging-outputs.json"
    path.write_text(json.dumps(outputs))
    return f"staging={path}"


def test_prod_plans_clean_on_staging_recorded_release(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, gated, document = plan_prod(tmp_path, capsys, "--stack-outputs", recorded(tmp_path, staging_outputs()))
    assert (code, gated) == (0, [])
    [copy] = [r for r in document["resources"] if r["type"] == MODEL_PROMOTION]
    assert copy["inputs"]["source_bucket"] == "acme-pai-mlops-staging"  # from staging's outputs, not typed here
    assert copy["inputs"]["expected"] == {"model.pmml": SHA}
    assert copy["inputs"]["lineage"] == {
        "sourceStack": "staging",
        "sourceUri": "oss://acme-pai-mlops-staging/models/fraud_scorer/v7/",
        "commit": "4be2c1d9",
        "trainingJob": "dlc-abc123",
    }
    [policy] = [r for r in document["resources"] if r["name"] == "promotions-fraud_scorer-v7-read"]
    assert policy["inputs"]["policyName"] == "pai-mlops-prod-promote-fraud-scorer-v7"
    assert json.loads(policy["inputs"]["policyDocument"]) == {  # the copying role reads that prefix, nothing else
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["oss:GetObject"],
                "Resource": ["acs:oss:*:*:acme-pai-mlops-staging/models/fraud_scorer/v7/*"],
            },
            {
                "Effect": "Allow",
                "Action": ["oss:ListObjects"],
                "Resource": ["acs:oss:*:*:acme-pai-mlops-staging"],
                "Condition": {"StringLike": {"oss:Prefix": ["models/fraud_scorer/v7/*"]}},
            },
        ],
    }
    by_name = {r["name"]: r for r in document["resources"]}
    # the copy role: trusted only by the deployer, both version policies and the KMS use attached to it
    role = by_name["promotions-copy"]
    assert (role["type"], role["inputs"]["roleName"]) == ("alicloud:ram/role:Role", "pai-mlops-prod-promote-copy")
    assert json.loads(role["inputs"]["assumeRolePolicyDocument"]) == {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"RAM": ["acs:ram::1234567890123456:role/pai-mlops-deploy"]},
            }
        ],
    }
    assert {
        name: (by_name[name]["inputs"]["policyName"], by_name[name]["inputs"]["roleName"])
        for name in by_name
        if name.startswith("promotions-") and name.endswith("-attachment")
    } == {
        "promotions-copy-kms-attachment": ("pai-mlops-prod-promote-copy-kms", "pai-mlops-prod-promote-copy"),
        "promotions-fraud_scorer-v7-read-attachment": (
            "pai-mlops-prod-promote-fraud-scorer-v7",
            "pai-mlops-prod-promote-copy",
        ),
        "promotions-fraud_scorer-v7-write-attachment": (
            "pai-mlops-prod-promote-fraud-scorer-v7-write",
            "pai-mlops-prod-promote-copy",
        ),
    }
    assert json.loads(by_name["promotions-fraud_scorer-v7-write"]["inputs"]["policyDocument"])["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["oss:GetObject", "oss:PutObject"],
            "Resource": ["acs:oss:*:*:acme-pai-mlops-prod/models/fraud_scorer/v7/*"],
        },
        {
            "Effect": "Allow",
            "Action": ["oss:ListObjects"],
            "Resource": ["acs:oss:*:*:acme-pai-mlops-prod"],
            "Condition": {"StringLike": {"oss:Prefix": ["models/fraud_scorer/v7/*"]}},
        },
    ]
    # the copy runs as the role (its ARN is known once the role exists) after every attachment
    assert copy["inputs"]["copy_role_arn"] == "[unknown]"
    assert [v for v in document["policy"]["violations"] if v["policy"] == "promotion-copy-scope"] == []
    [version] = [r for r in document["resources"] if r["name"] == "registry-fraud_scorer-v7"]
    assert {label["key"]: label["value"] for label in version["inputs"]["labels"]} == {
        "codeRepository": "https://github.com/acme/fraud-models.git",
        "codeCommit": "4be2c1d9",
        "projectVersion": "v7",
        "sourceStack": "staging",
        "sourceUri": "oss://acme-pai-mlops-staging/models/fraud_scorer/v7/",
        "trainingJob": "dlc-abc123",
        "gateOverride": "none",
    }


def test_prod_is_refused_when_staging_breached_the_release(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history = {"fraud_scorer": [event(step=10), event(step=50, verdict="breach")]}
    outputs = staging_outputs(releaseHistory=history)
    code, gated, _ = plan_prod(tmp_path, capsys, "--stack-outputs", recorded(tmp_path, outputs))
    assert code == 1
    assert gated == [
        "fraud_scorer v7 is promoted from stack 'staging' and made live here, but stack 'staging' has no release of "
        "fraud_scorer v7 to 100% without a breach in its releaseHistory. Release it in 'staging' first (its pulumi "
        "up must finish the traffic shift), or set live back to a released version; in an emergency, add a reviewed "
        "override {reason, approvedBy, ticket} to the version's promoted entry."
    ]


def test_prod_is_refused_when_staging_recorded_no_checksums(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = staging_outputs(modelArtifacts={"fraud_scorer": {"v7": artifact(checksums={})}})
    code, gated, _ = plan_prod(tmp_path, capsys, "--stack-outputs", recorded(tmp_path, outputs))
    assert code == 1
    assert len(gated) == 1
    assert "stack 'staging' recorded no checksums of fraud_scorer v7, so the copy cannot be verified" in gated[0]


PROD_V8 = (
    (ROOT / "Pulumi.prod.yaml")
    .read_text()
    .replace("versions: [v6, v7]\n", "versions: [v6, v7, v8]\n", 1)
    .replace(
        "codeCommits: {v6: 9f1c2ab7, v7: 4be2c1d9}\n        live: v7\n",
        "codeCommits: {v6: 9f1c2ab7, v7: 4be2c1d9, v8: 5d0e3f1a}\n        live: v8\n",
        1,
    )
    .replace("contracts: {v6: v1.4, v7: v1.5}\n", "contracts: {v6: v1.4, v7: v1.5, v8: v1.5}\n", 1)
    .replace("          v7: {from: staging}\n", "          v7: {from: staging}\n          v8: {from: staging}\n", 1)
)


def test_a_version_that_never_passed_staging_cannot_be_made_live_in_prod(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert PROD_V8.count("v8") == 5
    code, _, document = plan_prod(tmp_path, capsys, prod=PROD_V8)  # staging's planned outputs: it serves v7 only
    assert code == 1
    gated = [v["message"] for v in document["policy"]["violations"] if v["policy"] == "promotion-gate"]
    assert gated == [
        "fraud_scorer v8 is promoted from stack 'staging' and made live here, but stack 'staging' exports no "
        "artifact of fraud_scorer v8 (its modelArtifacts output); stack 'staging' has no release of fraud_scorer v8 "
        "to 100% without a breach in its releaseHistory. Release it in 'staging' first (its pulumi up must finish "
        "the traffic shift), or set live back to a released version; in an emergency, add a reviewed override "
        "{reason, approvedBy, ticket} to the version's promoted entry."
    ]


def test_an_emergency_override_passes_and_is_recorded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    overridden = PROD_V8.replace(
        "          v8: {from: staging}\n",
        "          v8:\n            from: staging\n            override: {reason: staging is down during INC-4711, "
        "approvedBy: alice, ticket: INC-4711}\n",
    )
    assert overridden != PROD_V8
    code, _, document = plan_prod(tmp_path, capsys, prod=overridden)
    assert [v for v in document["policy"]["violations"] if v["policy"] == "promotion-gate"] == []
    assert code == 0
    [version] = [r for r in document["resources"] if r["name"] == "registry-fraud_scorer-v8"]
    assert {label["key"]: label["value"] for label in version["inputs"]["labels"]}["gateOverride"] == "INC-4711"
    [copy] = [r for r in document["resources"] if r["name"] == "promotions-fraud_scorer-v8"]
    assert copy["inputs"]["override"] == {
        "reason": "staging is down during INC-4711",
        "approvedBy": "alice",
        "ticket": "INC-4711",
    }


def test_a_bad_stack_outputs_option_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["--stack", "prod", "--out", str(tmp_path / "p.json"), "--stack-outputs", "staging"]) == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        "error: --stack-outputs 'staging': give STACK=FILE with FILE from `pulumi stack output --json`"
    )


def test_the_promoted_versions_service_starts_only_after_its_copy() -> None:
    mocks = run_program("prod")
    depends = {
        r.name: sorted(d.rsplit("::", 1)[-1] for d in r.dependencies)
        for r in mocks.by_type("pulumi-python:dynamic/pai:EasService")
    }
    assert depends == {
        "fraud_scorer-v6": ["roles-eas", "workspace-ws"],
        "fraud_scorer-v7": ["promotions-fraud_scorer-v7", "roles-eas", "workspace-ws"],
        "image_tagger-v3": ["roles-eas", "workspace-ws"],
    }
    [reference] = [r for r in mocks.registrations if r.type == "pulumi:pulumi:StackReference"] or [None]
    assert reference is None  # a read, not a registration: nothing for the policy pack to judge


# --- promotion-copy-scope: the copy role's per-version policies stay on their version's prefix ----------------

V7 = "models/fraud_scorer/v7/"


def copy_policy(kind: str, document: str, prefix: str = V7) -> dict[str, Any]:
    name = "pai-mlops-prod-promote-fraud-scorer-v7" + ("-write" if kind == "write" else "")
    return {"policyName": name, "policyDocument": document, "description": description(kind, "staging", prefix)}


def widened(document: str, **statement: Any) -> str:
    parsed = json.loads(document)
    parsed["Statement"][0] |= statement
    return json.dumps(parsed)


def test_the_programs_copy_policies_pass() -> None:
    assert promotion.copy_scope_problems(copy_policy("read", read_document("acme-pai-mlops-staging", V7))) == []
    assert promotion.copy_scope_problems(copy_policy("write", write_document("acme-pai-mlops-prod", V7))) == []
    assert not promotion.is_copy_policy({"policyName": "pai-mlops-prod-dlc-oss", "policyDocument": "{}"})
    assert not promotion.is_copy_policy({"policyName": "pai-mlops-prod-promote-copy-kms", "policyDocument": "{}"})


READ = read_document("acme-pai-mlops-staging", V7)


@pytest.mark.parametrize(
    ("props", "problem"),
    [
        (
            copy_policy("read", widened(READ, Resource=["acs:oss:*:*:acme-pai-mlops-staging/models/fraud_scorer/*"])),
            "oss:GetObject reaches acs:oss:*:*:acme-pai-mlops-staging/models/fraud_scorer/*, beyond "
            "models/fraud_scorer/v7/",
        ),
        (
            copy_policy("read", widened(READ, Resource=["acs:oss:*:*:*/models/fraud_scorer/v7/*"])),
            "oss:GetObject reaches acs:oss:*:*:*/models/fraud_scorer/v7/*, beyond models/fraud_scorer/v7/",
        ),
        (
            copy_policy("read", widened(READ, Action=["oss:GetObject", "oss:PutObject"])),
            "it grants oss:PutObject, which a read policy of the copy role never needs",
        ),
        (
            copy_policy("write", widened(write_document("acme-pai-mlops-prod", V7), Action=["oss:DeleteObject"])),
            "it grants oss:DeleteObject, which a write policy of the copy role never needs",
        ),
        (
            copy_policy(
                "read",
                json.dumps(
                    {
                        "Version": "1",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "oss:ListObjects",
                                "Resource": "acs:oss:*:*:acme-pai-mlops-staging",
                            }
                        ],
                    }
                ),
            ),
            "oss:ListObjects is not limited to oss:Prefix models/fraud_scorer/v7/* (it lists everything)",
        ),
        (
            copy_policy("read", widened(READ, NotResource=["acs:oss:*:*:other/*"])),
            "a statement uses NotAction or NotResource",
        ),
        (
            copy_policy("read", READ, prefix="models/fraud_scorer/"),
            "the prefix it grants, 'models/fraud_scorer/', is not one version's models/<name>/<version>/",
        ),
        (
            {"policyName": "pai-mlops-prod-promote-fraud-scorer-v7", "policyDocument": READ, "description": "hi"},
            "its description 'hi' does not say which prefix it grants ('pai-mlops promotion copy role: read|write "
            "… <prefix>')",
        ),
    ],
    ids=[
        "model-wide",
        "any-bucket",
        "read-writes",
        "write-deletes",
        "list-all",
        "not-resource",
        "wide-prefix",
        "blind",
    ],
)
def test_a_copy_policy_wider_than_its_version_is_refused(props: dict[str, Any], problem: str) -> None:
    assert promotion.copy_scope_problems(props) == [problem]
    [(name, message)] = check_stack(promotion.promotion_copy_scope, [Fixture("alicloud:ram/policy:Policy", "p", props)])
    assert name == "p"
    assert message == (
        f"RAM policy '{props['policyName']}' of the promotion copy role reaches beyond the one version it promotes: "
        f"{problem}. The copy role may read only the version's source prefix and write only its destination prefix "
        "(components/copy_role.py builds those documents): restore them."
    )


def test_a_pr_widening_the_copy_roles_read_fails_the_prod_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A program change that grants the copy role a whole model's prefix: refused at preview, before any copy."""
    tail = (
        "\nimport json as _json\nfrom pulumi_alicloud import ram as _ram\n"
        "_ram.Policy('promotions-fraud_scorer-v7-wide', policy_name='pai-mlops-prod-promote-fraud-scorer-v7-wide', "
        'description="pai-mlops promotion copy role: read staging\'s models/fraud_scorer/v7/", '
        "policy_document=_json.dumps({'Version': '1', 'Statement': [{'Effect': 'Allow', 'Action': ['oss:GetObject'], "
        "'Resource': ['acs:oss:*:*:acme-pai-mlops-staging/models/*']}]}))\n"
    )
    root = project_copy(tmp_path, program_tail=tail)
    (root / "Pulumi.prod.yaml").write_text((ROOT / "Pulumi.prod.yaml").read_text())
    out = tmp_path / "plan.json"
    code = plan.main(["--stack", "prod", "--root", str(root), "--out", str(out)])
    capsys.readouterr()
    assert code == 1
    document = json.loads(out.read_text())
    assert [v["message"] for v in document["policy"]["violations"] if v["policy"] == "promotion-copy-scope"] == [
        "RAM policy 'pai-mlops-prod-promote-fraud-scorer-v7-wide' of the promotion copy role reaches beyond the one "
        "version it promotes: oss:GetObject reaches acs:oss:*:*:acme-pai-mlops-staging/models/*, beyond "
        "models/fraud_scorer/v7/. The copy role may read only the version's source prefix and write only its "
        "destination prefix (components/copy_role.py builds those documents): restore them."
    ]


# --- promotion-copy-scope over the stack: every attachment to the copy role is one of its own, scoped policies ----

ROLE = "pai-mlops-prod-promote-copy"
WIDE_OBJECTS = json.dumps(
    {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["oss:GetObject", "oss:PutObject"],
                "Resource": ["acs:oss:*:*:acme-pai-mlops-prod/models/*"],
            }
        ],
    }
)
KMS_KEY = "acs:kms:cn-hangzhou:1234567890123456:key/key-hzz1"


def copy_stack(*extra: Fixture, write_bucket: str = "acme-pai-mlops-prod") -> list[Fixture]:
    """The program's copy role, one promoted version (its two policies attached) and the KMS use, plus ``extra``."""
    role = Fixture("alicloud:ram/role:Role", "promotions-copy", {"roleName": ROLE})
    bucket = Fixture("alicloud:oss/bucket:Bucket", "bucket", {"bucket": "acme-pai-mlops-prod"})
    copy = Fixture(
        MODEL_PROMOTION,
        "promotions-fraud_scorer-v7",
        {
            "source_bucket": "acme-pai-mlops-staging",
            "source_prefix": V7,
            "dest_bucket": write_bucket,
            "dest_prefix": V7,
        },
    )
    read = Fixture("alicloud:ram/policy:Policy", "read", copy_policy("read", READ))
    write = Fixture("alicloud:ram/policy:Policy", "write", copy_policy("write", write_document(write_bucket, V7)))
    kms = Fixture(
        "alicloud:ram/policy:Policy",
        "kms",
        {"policyName": f"{ROLE}-kms", "policyDocument": kms_document(KMS_KEY, [])},
    )
    return [role, bucket, copy, read, write, kms, *(attach(p, role) for p in (read, write, kms)), *extra]


def attach(policy: Fixture | str, role: Fixture | None = None, kind: str = "Custom") -> Fixture:
    """A RolePolicyAttachment of ``policy`` (a fixture: by dependency, as the program does; a name: by name)."""
    name = policy if isinstance(policy, str) else policy.props["policyName"]
    deps: dict[str, list[Fixture]] = {} if isinstance(policy, str) else {"policyName": [policy]}
    if role is not None:
        deps["roleName"] = [role]
    return Fixture(
        "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment",
        f"{name}-attachment",
        {"policyName": name, "policyType": kind, "roleName": ROLE},
        depends_on=deps,
    )


def refusal(attachment: str, policy: str, problem: str) -> tuple[str, str]:
    return (
        attachment,
        f"RolePolicyAttachment '{attachment}' gives the promotion copy role {ROLE} the policy {policy!r}, which "
        f"reaches beyond the versions it promotes: {problem}. The copy role holds only each promoted version's read "
        "and write policies and its KMS use (components/copy_role.py builds them): remove the attachment or restore "
        "the document.",
    )


def test_the_programs_copy_role_and_attachments_pass() -> None:
    assert check_stack(promotion.promotion_copy_scope, copy_stack()) == []


EXTRA = Fixture(
    "alicloud:ram/policy:Policy", "extra", {"policyName": "pai-mlops-prod-copy-extra", "policyDocument": WIDE_OBJECTS}
)
FAKE_KMS = Fixture(
    "alicloud:ram/policy:Policy",
    "fake-kms",
    {"policyName": "pai-mlops-prod-other-promote-copy-kms", "policyDocument": WIDE_OBJECTS},
)
NO_HEAD = (
    "its description '' does not say which prefix it grants ('pai-mlops promotion copy role: read|write … <prefix>')"
)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param(
            [EXTRA, attach(EXTRA)],
            [refusal("pai-mlops-prod-copy-extra-attachment", "pai-mlops-prod-copy-extra", NO_HEAD)],
            id="a-policy-not-named-promote",
        ),
        pytest.param(
            [FAKE_KMS, attach(FAKE_KMS)],
            [
                refusal(
                    "pai-mlops-prod-other-promote-copy-kms-attachment", "pai-mlops-prod-other-promote-copy-kms", NO_HEAD
                )
            ],
            id="a-policy-named-like-the-kms-one",
        ),
        pytest.param(
            [attach("AliyunOSSFullAccess", kind="System")],
            [
                refusal(
                    "AliyunOSSFullAccess-attachment",
                    "AliyunOSSFullAccess",
                    "the system policy 'AliyunOSSFullAccess' is attached to it, which is not a copy policy of this "
                    "stack",
                )
            ],
            id="a-system-policy",
        ),
        pytest.param(
            [attach("pai-mlops-prod-elsewhere")],
            [
                refusal(
                    "pai-mlops-prod-elsewhere-attachment",
                    "pai-mlops-prod-elsewhere",
                    "the policy 'pai-mlops-prod-elsewhere' is attached to it, which is not a copy policy of this stack",
                )
            ],
            id="a-policy-not-in-the-stack",
        ),
    ],
)
def test_any_other_attachment_to_the_copy_role_is_refused(
    extra: list[Fixture], expected: list[tuple[str, str]]
) -> None:
    assert check_stack(promotion.promotion_copy_scope, copy_stack(*extra)) == expected


def test_the_kms_policy_grants_only_decrypt_and_data_keys_on_keys() -> None:
    fixtures = copy_stack()
    [kms] = [f for f in fixtures if f.name == "kms"]
    kms.props = {
        "policyName": f"{ROLE}-kms",
        "policyDocument": json.dumps(
            {
                "Version": "1",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["kms:Decrypt", "oss:GetObject"],
                        "Resource": [KMS_KEY, "acs:oss:*:*:acme-pai-mlops-staging/*"],
                    }
                ],
            }
        ),
    }
    assert check_stack(promotion.promotion_copy_scope, fixtures) == [
        refusal(
            f"{ROLE}-kms-attachment",
            f"{ROLE}-kms",
            "it grants oss:GetObject, which the copy role's KMS policy never needs; it reaches "
            "acs:oss:*:*:acme-pai-mlops-staging/*, which is not one KMS key",
        )
    ]


def test_a_write_policy_on_a_bucket_not_of_this_stack_is_refused() -> None:
    fixtures = copy_stack(write_bucket="acme-pai-mlops-staging")
    assert check_stack(promotion.promotion_copy_scope, fixtures) == [
        refusal(
            "pai-mlops-prod-promote-fraud-scorer-v7-write-attachment",
            "pai-mlops-prod-promote-fraud-scorer-v7-write",
            "its ModelPromotion writes bucket acme-pai-mlops-staging, which is not a bucket of this stack",
        )
    ]


def test_a_read_policy_for_a_version_no_promotion_copies_is_refused() -> None:
    v6 = "models/fraud_scorer/v6/"
    other = Fixture(
        "alicloud:ram/policy:Policy",
        "v6",
        {
            "policyName": "pai-mlops-prod-promote-fraud-scorer-v6",
            "policyDocument": read_document("acme-pai-mlops-staging", v6),
            "description": description("read", "staging", v6),
        },
    )
    assert check_stack(promotion.promotion_copy_scope, copy_stack(other, attach(other))) == [
        refusal(
            "pai-mlops-prod-promote-fraud-scorer-v6-attachment",
            "pai-mlops-prod-promote-fraud-scorer-v6",
            "no ModelPromotion of this stack copies models/fraud_scorer/v6/, so the copy role needs no read grant "
            "on it",
        )
    ]


def test_a_pr_attaching_a_wide_policy_to_the_copy_role_fails_the_prod_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reviewed attack: a policy not named ``-promote-`` with bucket/models/* attached to the copy role."""
    tail = (
        "\nimport json as _json\nfrom pulumi_alicloud import ram as _ram\n"
        "_extra = _ram.Policy('copy-extra', policy_name='pai-mlops-prod-copy-extra', "
        "policy_document=_json.dumps({'Version': '1', 'Statement': [{'Effect': 'Allow', "
        "'Action': ['oss:GetObject', 'oss:PutObject'], 'Resource': ['acs:oss:*:*:acme-pai-mlops-prod/models/*']}]}))\n"
        "_ram.RolePolicyAttachment('copy-extra-attachment', policy_name=_extra.policy_name, policy_type='Custom', "
        "role_name='pai-mlops-prod-promote-copy')\n"
    )
    root = project_copy(tmp_path, program_tail=tail)
    (root / "Pulumi.prod.yaml").write_text((ROOT / "Pulumi.prod.yaml").read_text())
    out = tmp_path / "plan.json"
    code = plan.main(["--stack", "prod", "--root", str(root), "--out", str(out)])
    capsys.readouterr()
    assert code == 1
    document = json.loads(out.read_text())
    found = [(v["urn"].rsplit("::", 1)[-1], v["message"]) for v in document["policy"]["violations"]]
    assert [f for f in found if f[0] == "copy-extra-attachment"] == [
        refusal("copy-extra-attachment", "pai-mlops-prod-copy-extra", NO_HEAD)
    ]
