"""Container images: the stack's registry (mock engine), config cross-checks, and CI's digest update of a stack."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest

from components.container_registry import ContainerRegistry, ContainerRegistryArgs
from stack_config import RegistryConfig, parse_stack_config
from tests.conftest import VALID_RAW
from tests.stack_config.test_stack import SPOT_JOB, problems_of
from tools import set_image
from tools.mock_engine import ROOT, RecordingMocks, run_under_mocks

HOST = "registry.cn-hangzhou.aliyuncs.com"
DIGEST = "sha256:" + "0123456789abcdef" * 4
VPC = "acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com"
STACK_HOST = "acme-registry.cn-hangzhou.cr.aliyuncs.com"  # Pulumi.dev.yaml's Enterprise Edition instance
TRAIN = f"{STACK_HOST}/acme-ml-dev/fraud-train"  # where CI pushes
TRAIN_VPC = "acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com/acme-ml-dev/fraud-train"  # what EAS and DLC pull


def build(mocks: RecordingMocks, **registry: Any) -> ContainerRegistry:
    config = RegistryConfig(host=HOST, namespace="acme-ml", repositories=("fraud-serve", "fraud-train"), **registry)
    built: list[ContainerRegistry] = []
    run_under_mocks(
        lambda: built.append(ContainerRegistry("images", ContainerRegistryArgs(registry=config, environment="prod")))
    )
    return built[0]


def test_personal_edition_makes_a_private_namespace_and_private_repositories(mocks: RecordingMocks) -> None:
    registry = build(mocks)
    assert mocks.one("alicloud:cr/namespace:Namespace", "images-namespace").inputs == {
        "name": "acme-ml",
        "autoCreate": False,
        "defaultVisibility": "PRIVATE",
    }
    assert mocks.one("alicloud:cr/repo:Repo", "images-fraud-train").inputs == {
        "namespace": "acme-ml",
        "name": "fraud-train",
        "repoType": "PRIVATE",
        "summary": "pai-mlops prod: fraud-train image, tagged by commit SHA",
    }
    assert registry.repositories == {
        "fraud-serve": f"{HOST}/acme-ml/fraud-serve",
        "fraud-train": f"{HOST}/acme-ml/fraud-train",
    }


def test_enterprise_edition_repositories_refuse_overwriting_a_tag(mocks: RecordingMocks) -> None:
    build(mocks, instance_id="cri-abc123")
    assert mocks.one(
        "alicloud:cs/registryEnterpriseNamespace:RegistryEnterpriseNamespace", "images-namespace"
    ).inputs == {
        "instanceId": "cri-abc123",
        "name": "acme-ml",
        "autoCreate": False,
        "defaultVisibility": "PRIVATE",
    }
    repo = mocks.one("alicloud:cs/registryEnterpriseRepo:RegistryEnterpriseRepo", "images-fraud-serve").inputs
    assert (repo["repoType"], repo["tagImmutability"], repo["instanceId"]) == ("PRIVATE", True, "cri-abc123")
    assert [r.type for r in mocks.registrations if r.type.startswith("alicloud:cr/")] == [SCAN_RULE]


SCAN_RULE = "alicloud:cr/scanRule:ScanRule"


def test_enterprise_edition_scans_every_tag_pushed_to_the_namespace(mocks: RecordingMocks) -> None:
    build(mocks, instance_id="cri-abc123")
    assert mocks.one(SCAN_RULE, "images-scan").inputs == {
        "instanceId": "cri-abc123",
        "ruleName": "pai-mlops-acme-ml",
        "scanScope": "NAMESPACE",
        "namespaces": ["acme-ml"],
        "repoTagFilterPattern": ".*",
        "scanType": "VUL",
        "triggerType": "AUTO",
    }


@pytest.mark.parametrize("settings", [{"instance_id": "cri-abc123", "scan_on_push": False}, {}])
def test_no_scan_rule_when_switched_off_or_on_the_personal_edition(
    mocks: RecordingMocks, settings: dict[str, Any]
) -> None:
    build(mocks, **settings)
    assert [r.type for r in mocks.registrations if r.type == SCAN_RULE] == []
    assert len(mocks.registrations) > 1  # the namespace and repositories are still there


def test_asking_the_personal_edition_to_scan_is_refused_naming_the_key() -> None:
    raw = raw_with_registry(f"{VPC}/acme-ml/fraud-train:2.3.0")
    del raw["registry"]["instanceId"]
    raw["registry"]["host"] = HOST
    raw["registry"]["scanOnPush"] = True
    raw["training"] = {"jobs": []}
    assert problems_of(raw) == [
        "pai-mlops:registry [scanOnPush]: asks the registry to scan, but only an Enterprise Edition instance scans "
        "images; got True. Set pai-mlops:registry.instanceId to the Enterprise Edition instance, or leave scanOnPush "
        "out (CI scans every image before pushing either way)."
    ]


@pytest.mark.parametrize("value", ["yes", 1])
def test_scan_on_push_takes_only_a_boolean(value: Any) -> None:
    raw = raw_with_registry(f"{VPC}/acme-ml/fraud-train:2.3.0")
    raw["registry"]["scanOnPush"] = value
    assert problems_of(raw) == [
        f"pai-mlops:registry [scanOnPush]: must be true or false; got {value!r}. Leave it out to have the Enterprise "
        "Edition instance scan every image pushed to the namespace for vulnerabilities (a scan rule, AUTO trigger), "
        "or set false to switch the registry's own scan off (the policy cr-enterprise-scan-on-push refuses that in "
        "staging and prod); the Personal Edition cannot scan. CI scans every image before pushing either way "
        "(images.yml)."
    ]


def raw_with_registry(image: str) -> dict[str, Any]:
    raw = copy.deepcopy(VALID_RAW)
    raw["registry"] = {
        "host": STACK_HOST,
        "instanceId": "cri-acme01",
        "namespace": "acme-ml",
        "repositories": ["fraud-train"],
    }
    raw["training"] = {"jobs": [{**SPOT_JOB, "image": image}]}
    return raw


def test_an_image_of_an_undeclared_repository_in_the_namespace_is_refused() -> None:
    assert problems_of(raw_with_registry(f"{VPC}/acme-ml/fraud-trian:2.3.0")) == [
        "pai-mlops:training.jobs[0] [image]: is in the stack's registry namespace but repository 'fraud-trian' is "
        f"not declared; got '{VPC}/acme-ml/fraud-trian:2.3.0'. Add 'fraud-trian' to "
        "pai-mlops:registry.repositories (declared: fraud-train)."
    ]


@pytest.mark.parametrize(
    "image", [f"{VPC}/acme-ml/fraud-train:2.3.0", f"{VPC}/acme-ml/fraud-train@{DIGEST}", f"{HOST}/pai/other:1.0"]
)
def test_declared_or_foreign_images_pass(image: str) -> None:
    assert parse_stack_config(raw_with_registry(image), "prod").training.jobs[0].image == image


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_set_image_rewrites_every_use_of_the_repository_by_digest(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (project / "Pulumi.dev.yaml").read_text()
    assert set_image.main(["--stack", "dev", "--image", f"{TRAIN}@{DIGEST}", "--root", str(project)]) == 0
    after = (project / "Pulumi.dev.yaml").read_text()
    # Pushed over the public host, written as the VPC host the runtime pulls from.
    assert after == before.replace(f"{TRAIN_VPC}:2.3.0", f"{TRAIN_VPC}@{DIGEST}")
    line = next(i for i, text in enumerate(before.splitlines(), 1) if f"{TRAIN_VPC}:2.3.0" in text)
    assert capsys.readouterr().out == (
        f"Pulumi.dev.yaml:{line}: image: {TRAIN_VPC}:2.3.0  →  image: {TRAIN_VPC}@{DIGEST}\n"
    )
    # Again with a newer digest: the old digest is replaced, not appended to.
    newer = "sha256:" + "f" * 64
    assert set_image.main(["--stack", "dev", "--image", f"{TRAIN}@{newer}", "--root", str(project)]) == 0
    assert (project / "Pulumi.dev.yaml").read_text() == before.replace(f"{TRAIN_VPC}:2.3.0", f"{TRAIN_VPC}@{newer}")


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (
            f"{TRAIN}:latest",
            f"error: '{TRAIN}:latest' is not a digest reference; give <host>/<namespace>/<repository>@sha256:<64 "
            "hex digits> (docker buildx build --push writes it to --metadata-file as containerimage.digest)\n",
        ),
        (
            f"{STACK_HOST}/acme-ml/fraud-train@{DIGEST}",
            f"error: '{STACK_HOST}/acme-ml/fraud-train@{DIGEST}' is not in this stack's registry namespace "
            f"'{STACK_HOST}/acme-ml-dev/'\n",
        ),
        (
            f"{STACK_HOST}/acme-ml-dev/fraud-serve@{DIGEST}",
            "error: repository 'fraud-serve' is not declared in pai-mlops:registry.repositories of Pulumi.dev.yaml\n",
        ),
    ],
)
def test_set_image_refuses_what_is_not_an_immutable_image_of_the_stack(
    project: Path, capsys: pytest.CaptureFixture[str], image: str, message: str
) -> None:
    before = (project / "Pulumi.dev.yaml").read_text()
    assert set_image.main(["--stack", "dev", "--image", image, "--root", str(project)]) == 2
    assert capsys.readouterr().err == message
    assert (project / "Pulumi.dev.yaml").read_text() == before


def test_set_image_leaves_a_stack_that_does_not_use_the_repository_alone(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        (project / "Pulumi.dev.yaml")
        .read_text()
        .replace(
            "repositories: [image-tagger, fraud-train, fraud-prep, fraud-eval, drift-check]",
            "repositories: [image-tagger, fraud-train, fraud-prep, fraud-eval, drift-check, unused]",
        )
    )
    (project / "Pulumi.dev.yaml").write_text(text)
    assert (
        set_image.main(
            ["--stack", "dev", "--image", f"{STACK_HOST}/acme-ml-dev/unused@{DIGEST}", "--root", str(project)]
        )
        == 0
    )
    assert capsys.readouterr().out == f"Pulumi.dev.yaml: no image of {STACK_HOST}/acme-ml-dev/unused; unchanged\n"
    assert (project / "Pulumi.dev.yaml").read_text() == text


def test_targets_lists_every_stack_that_declares_the_repository(capsys: pytest.CaptureFixture[str]) -> None:
    assert set_image.main(["--targets", "fraud-train"]) == 0
    assert capsys.readouterr().out == (
        f"dev {STACK_HOST}/acme-ml-dev/fraud-train\nprod {STACK_HOST}/acme-ml/fraud-train\n"
    )
    assert set_image.targets(ROOT, "nothing-like-it") == []
