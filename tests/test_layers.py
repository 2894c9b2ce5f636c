"""The import graph keeps its layers: ``__main__`` → components → providers → pai_facts, and stack_config →
pai_facts. Config never imports providers or components, providers never import config or components, and
pai_facts imports nothing of the project. Read from the source (``ast``), not from what happens to be loaded.

And no product module grows past MAX_LINES: a module that long holds more than one responsibility; split it along
its seams (tests/ and bench/ are not product code)."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import stack_config

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400
NOT_PRODUCT = {"tests", "bench", "build", "venv", "__pycache__", "node_modules"}
PROJECT = {"components", "config_cron", "config_problems", "functions", "pai_facts", "providers", "stack_config"}


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & PROJECT


def modules(package: str) -> list[Path]:
    path = ROOT / package
    return sorted(path.rglob("*.py")) if path.is_dir() else [ROOT / f"{package}.py"]


@pytest.mark.parametrize(
    ("layer", "allowed"),
    [
        ("pai_facts", set()),
        ("config_problems", set()),
        ("config_cron", set()),
        ("stack_config", {"stack_config", "pai_facts", "config_problems", "config_cron"}),
        ("providers", {"providers", "pai_facts", "config_problems"}),
        ("functions", set()),
    ],
)
def test_each_layer_imports_only_the_layers_below_it(layer: str, allowed: set[str]) -> None:
    wrong = {str(path.relative_to(ROOT)): sorted(imports_of(path) - allowed - {layer}) for path in modules(layer)}
    assert {path: names for path, names in wrong.items() if names} == {}


def test_stack_config_exports_every_name_other_modules_import_from_it() -> None:
    imported: set[str] = set()
    for path in sorted(ROOT.rglob("*.py")):
        if ".venv" in path.parts or "stack_config" in path.relative_to(ROOT).parts[:1]:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "stack_config" and node.level == 0:
                imported |= {alias.name for alias in node.names}
    assert imported - set(stack_config.__all__) == set()
    assert {"StackConfig", "load_stack_config", "load_secrets", "parse_stack_config"} <= imported
    assert all(hasattr(stack_config, name) for name in stack_config.__all__)


def product_modules() -> Iterator[Path]:
    """Every ``.py`` of the program, its providers, policies and tools: not tests/, bench/, virtualenvs or caches."""
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in NOT_PRODUCT and not d.startswith("."))
        yield from (Path(folder) / name for name in sorted(files) if name.endswith(".py"))


def test_no_product_module_is_longer_than_max_lines() -> None:
    lengths = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in product_modules()}
    assert {"__main__.py", "providers/training.py", "policies/rules/ram.py", "tools/plan.py"} <= set(lengths)
    assert not any(path.startswith(("tests/", "bench/")) for path in lengths)
    too_long = {path: n for path, n in lengths.items() if n > MAX_LINES}
    assert too_long == {}, f"split these along their seams (at most {MAX_LINES} lines each)"
