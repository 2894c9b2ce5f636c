"""A throwaway copy of the project, to plan a changed program or a broken stack file."""

from __future__ import annotations

import shutil
from pathlib import Path

from tools.mock_engine import ROOT


def project_copy(tmp_path: Path, program_tail: str = "", stack_yaml: str | None = None) -> Path:
    """The project in ``tmp_path`` with stacks 'dev' and 'staging', its program ending in ``program_tail``, and
    ``stack_yaml`` as stack 'broken'. Modules (components, stack_config) still come from this checkout."""
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copy(ROOT / "Pulumi.dev.yaml", tmp_path / "Pulumi.dev.yaml")
    shutil.copy(ROOT / "Pulumi.staging.yaml", tmp_path / "Pulumi.staging.yaml")  # prod promotes from it
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text() + program_tail)
    if stack_yaml is not None:
        (tmp_path / "Pulumi.broken.yaml").write_text(stack_yaml)
    return tmp_path
