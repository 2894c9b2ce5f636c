"""Shared builders of the component tests: config fixtures and the children of a component."""

from __future__ import annotations

import copy
from typing import Any

from stack_config import ModelServiceConfig, TrainingJobConfig, parse_stack_config
from tests.conftest import VALID_RAW
from tools.mock_engine import RecordingMocks


def children(mocks: RecordingMocks, parent_type: str, parent_name: str) -> list[tuple[str, str]]:
    parent = mocks.one(parent_type, parent_name)
    assert parent.parent_urn == mocks.stack_urn == "urn:pulumi:test::pai-mlops::pulumi:pulumi:Stack::pai-mlops-test"
    return sorted((r.type, r.name) for r in mocks.registrations if r.parent_urn == parent.urn)


def served(**changes: Any) -> ModelServiceConfig:
    raw = copy.deepcopy(VALID_RAW)
    service = raw["serving"]["services"][0]
    for key, value in changes.items():
        if value is None:
            service.pop(key)
        else:
            service[key] = value
    return parse_stack_config(raw, "prod").serving.services[0]


EAS_SERVICE = "pulumi-python:dynamic/pai:EasService"


ROLE = "acs:ram::1234567890123456:role/mlops-prod-eas"


def training_job(**changes: Any) -> TrainingJobConfig:
    job: dict[str, Any] = {
        "name": "fraud_scorer",
        "run": "r20261124",
        "jobType": "PyTorchJob",
        "image": "registry.cn-hangzhou.aliyuncs.com/acme-ml/fraud-train:2.3.0",
        "command": "python -m fraud.train",
        "workerCount": 2,
        "roles": {"Master": 1},
        "resourceGroup": "shared",
        "instanceType": "ecs.gn6i-c4g1.xlarge",
        "spot": True,
        "spotDiscountLimit": 0.6,
        "checkpointIntervalMinutes": 15,
        "maxRuntimeMinutes": 240,
        "data": [{"path": "fraud/transactions/", "mountPath": "/mnt/data/transactions"}],
        "code": {"repository": "https://github.com/acme/fraud-models.git", "commit": "4be2c1d9"},
        "maxResubmits": 3,
        "env": {"EPOCHS": "20"},
        "tags": {"team": "fraud"},
        "wait": "none",  # waiting would not fit the prod deploy job (config_scale)
    }
    for key, value in changes.items():
        if value is None:
            job.pop(key)
        else:
            job[key] = value
    return parse_stack_config({**VALID_RAW, "training": {"jobs": [job]}}, "prod").training.jobs[0]
