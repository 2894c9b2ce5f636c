"""Every image the images workflow builds has somewhere to go (``python -m tools.set_image --targets``)."""

from __future__ import annotations

from tools import set_image
from tools.mock_engine import ROOT


def test_every_image_directory_is_declared_by_a_stack_registry() -> None:
    # The workflow's discover job builds every images/<name>/Dockerfile; its push job's "Where the image goes" step
    # fails when `--targets <name>` prints nothing, so a directory no stack declares fails every change under images/.
    images = sorted(path.parent.name for path in (ROOT / "images").glob("*/Dockerfile"))
    assert images == ["drift-check"]
    undeclared = [name for name in images if not set_image.targets(ROOT, name)]
    assert undeclared == [], f"declare {undeclared} in some stack's pai-mlops:registry.repositories"


def test_drift_check_goes_to_the_dev_registry_only() -> None:
    assert set_image.targets(ROOT, "drift-check") == [
        ("dev", "acme-registry.cn-hangzhou.cr.aliyuncs.com/acme-ml-dev/drift-check")
    ]
