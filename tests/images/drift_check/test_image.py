"""The image's build: a pinned base, exact pins, the same numerics pins as the tests' environment."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
IMAGE = ROOT / "images" / "drift-check"


def _pins(path: Path) -> dict[str, str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return dict(line.split("==", 1) for line in lines if line and not line.startswith(("#", "-r")))


def test_every_requirement_of_the_image_is_pinned_exactly() -> None:
    lines = [line for line in (IMAGE / "requirements.txt").read_text(encoding="utf-8").splitlines()]
    wanted = [line for line in lines if line.strip() and not line.startswith("#")]

    assert wanted == ["numpy==2.4.6", "scipy==1.17.1", "oss2==2.19.1"]


def test_the_tests_run_the_numerics_the_image_ships() -> None:
    image, dev, runtime = (
        _pins(IMAGE / "requirements.txt"),
        _pins(ROOT / "requirements-dev.txt"),
        _pins(ROOT / "requirements.txt"),
    )

    assert (dev["numpy"], dev["scipy"]) == (image["numpy"], image["scipy"])
    assert runtime["oss2"] == image["oss2"]


def test_the_base_image_is_pinned_to_a_patch_release_and_runs_as_a_user() -> None:
    dockerfile = (IMAGE / "Dockerfile").read_text(encoding="utf-8")

    assert re.search(r"^FROM python:3\.12\.\d+-slim-bookworm$", dockerfile, re.MULTILINE)
    assert "USER 10001" in dockerfile
    assert 'ENTRYPOINT ["python", "-m", "drift_check"]' in dockerfile
