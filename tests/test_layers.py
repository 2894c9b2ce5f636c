"""The import graph keeps its layers: ``__main__`` → components → providers → pai_facts, and stack_config →
pai_facts. Config never imports providers or components, providers never import config or components, and
pai_facts imports nothing of the project. Read from the source (``ast``), not from what happens to be loaded."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import stack_config

ROOT = Path(__file__).resolve().parent.parent
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


def test_stack_config_exports_exactly_the_names_other_modules_import() -> None:
    assert set(stack_config.__all__) == {
        "ALICLOUD_KEYS",
        "AlarmConfig",
        "CodeConfig",
        "ContainerConfig",
        "CronScaleConfig",
        "JobType",
        "MetricsConfig",
        "ModelServiceConfig",
        "NotebookConfig",
        "NotebookInstanceConfig",
        "PipelineConfig",
        "PipelineTriggerConfig",
        "PodResourcesConfig",
        "RegistryConfig",
        "RepositoryConfig",
        "RetrainingConfig",
        "RolloutConfig",
        "SHARED_RESOURCE_GROUP",
        "ServingConfig",
        "StackConfig",
        "StackConfigError",
        "StackSecrets",
        "StorageConfig",
        "TrainingConfig",
        "TrainingDataConfig",
        "TrainingJobConfig",
        "WorkspaceConfig",
        "credential_url_problems",
        "eas_service_name",
        "hide_secret_values",
        "key_problems",
        "load_secrets",
        "load_stack_config",
        "parse_stack_config",
        "plaintext_secret_problems",
        "raw_from_values",
        "trigger_names",
        "vpc_registry_host",
    }
    assert all(hasattr(stack_config, name) for name in stack_config.__all__)
