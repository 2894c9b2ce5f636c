"""The joins between config sections the program used to make itself (stack_config/stack.py, StackConfig)."""

from __future__ import annotations

import dataclasses

import pytest

from components.model_registry import ModelRegistryArgs, TrainedRun
from stack_config import CodeConfig, StackConfig, parse_stack_config, raw_from_values
from tools.mock_engine import ROOT, project_name, stack_config_values


def stack(name: str) -> StackConfig:
    values, _ = stack_config_values(name)
    return parse_stack_config(raw_from_values(values, project_name(ROOT)), name, full_keys=values)


def with_jobs(config: StackConfig, *jobs: tuple[str, CodeConfig | None]) -> StackConfig:
    template = config.training.jobs[0]
    made = tuple(dataclasses.replace(template, run=run, code=code) for run, code in jobs)
    return dataclasses.replace(config, training=dataclasses.replace(config.training, jobs=made))


def code(repository: str, branch: str = "main") -> CodeConfig:
    return CodeConfig(repository=repository, commit="4be2c1d9", branch=branch)


@pytest.mark.parametrize(("name", "enabled"), [("dev", False), ("prod", True)])
def test_alarms_are_enabled_in_prod_only(name: str, enabled: bool) -> None:
    assert stack(name).alarms_enabled is enabled


def test_the_roles_get_every_run_and_every_served_version() -> None:
    config = stack("dev")
    assert config.training_runs() == (("fraud_scorer", "r20261124"),)
    assert config.deployed_versions() == (("fraud_scorer", "v6"), ("fraud_scorer", "v7"), ("image_tagger", "v3"))


def test_code_repositories_are_by_url_and_a_jobs_settings_win_over_the_notebooks() -> None:
    config = stack("dev")
    shared = "https://github.com/acme/fraud-models.git"
    notebook = dataclasses.replace(config.notebook, code=code(shared, branch="notebooks"))
    config = dataclasses.replace(with_jobs(config, ("r1", code(shared))), notebook=notebook)
    assert {url: repo.branch for url, repo in config.code_repositories().items()} == {shared: "main"}
    other = dataclasses.replace(config.notebook, code=code("https://github.com/acme/notebooks.git"))
    config = dataclasses.replace(config, notebook=other)
    assert list(config.code_repositories()) == [shared, "https://github.com/acme/notebooks.git"]


def test_a_service_is_served_from_the_runs_of_its_versions_that_have_code() -> None:
    config = stack("dev")
    svc = config.serving.services[0]
    config = with_jobs(config, ("v7", code("https://github.com/acme/fraud-models.git")), ("v6", None), ("r9", None))
    assert [(job.name, job.run) for job in config.runs_serving(svc)] == [(svc.name, "v7")]
    assert config.runs_serving(config.serving.services[1]) == []


def test_a_pipeline_finds_its_training_job_and_its_service_by_name() -> None:
    config = stack("dev")
    item = config.pipeline.retraining[0]
    assert config.job(item.training) is config.training.jobs[0]
    assert config.service(item.model) is config.serving.services[0]
    with pytest.raises(StopIteration):
        config.service("nope")


def test_the_model_registry_records_each_served_run_with_its_code_and_job() -> None:
    repository = "https://github.com/acme/fraud-models.git"
    config = with_jobs(stack("dev"), ("v7", code(repository)), ("v6", None))
    svc = config.serving.services[0]
    args = ModelRegistryArgs.of_stack(config, svc, "ws-1", {svc.name: "dlc-job-1"})
    assert args.trained == {"v7": TrainedRun(repository=repository, commit="4be2c1d9", job_id="dlc-job-1")}
    assert (args.bucket_name, args.region, args.workspace_id) == (config.storage.bucket_name, config.region, "ws-1")
