"""The component arguments of every dynamic resource follow its typed input model: the same names and defaults.

``check`` derives from the model (providers/base.py ``check_inputs``); the ``…Args`` dataclasses the components
fill in are plain (they carry ``pulumi.Input`` values), so this holds the two together: an input added, renamed
or given another default on one side only fails here, before it could reach a stack's state.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from pai_facts import RELEASE_DEFAULTS
from providers.autoscaler import EasAutoscalerArgs, EasAutoscalerInputs
from providers.base import model_defaults
from providers.eas_service import EasServiceArgs, EasServiceInputs
from providers.endpoint import ServiceEndpointArgs, ServiceEndpointInputs
from providers.metric_meta import MetricMetaCheckArgs, MetricMetaCheckInputs
from providers.notebook import DswInstanceArgs, DswInstanceInputs
from providers.probe import ApiProbeArgs, ApiProbeInputs
from providers.props import plain
from providers.traffic import TrafficShiftArgs
from providers.traffic_spec import DEFAULTS as SHIFT_DEFAULTS
from providers.traffic_spec import TrafficShiftInputs
from providers.training import TrainingJobArgs, TrainingJobInputs
from providers.training_spec import DEFAULTS as TRAINING_DEFAULTS
from stack_config import RolloutConfig

# Inputs the resource computes itself rather than taking from the component (TrainingJob: its scope).
COMPUTED = {TrainingJobInputs: {"scope"}}
# Arguments whose default is filled in by the resource, not by the model (TrainingJob: the resource's name).
RESOURCE_DEFAULTS = {TrainingJobArgs: {"display_name"}}


def _arg_default(field: dataclasses.Field[Any]) -> Any:
    if field.default is not dataclasses.MISSING:
        return plain(field.default)
    if field.default_factory is not dataclasses.MISSING:
        return plain(field.default_factory())
    return dataclasses.MISSING


def _plain_sequences(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@pytest.mark.parametrize(
    ("args", "model"),
    [
        (EasAutoscalerArgs, EasAutoscalerInputs),
        (EasServiceArgs, EasServiceInputs),
        (MetricMetaCheckArgs, MetricMetaCheckInputs),
        (ServiceEndpointArgs, ServiceEndpointInputs),
        (ApiProbeArgs, ApiProbeInputs),
        (DswInstanceArgs, DswInstanceInputs),
        (TrainingJobArgs, TrainingJobInputs),
    ],
)
def test_the_arguments_have_the_models_names_and_defaults(args: type, model: type) -> None:
    fields = {f.name: f for f in dataclasses.fields(args)}
    expected = set(getattr(model, "__pydantic_fields__")) - COMPUTED.get(model, set())  # noqa: B009 - set by pydantic
    assert set(fields) == expected
    defaults = model_defaults(model)
    for name, field in fields.items():
        if name in RESOURCE_DEFAULTS.get(args, set()):
            continue
        default = _arg_default(field)
        if name in defaults:
            assert _plain_sequences(default) == _plain_sequences(defaults[name]), name
        else:
            assert default is dataclasses.MISSING, f"{name}: required by the model, optional in the arguments"


def test_training_defaults_are_the_models() -> None:
    assert model_defaults(TrainingJobInputs) == dict(TRAINING_DEFAULTS)


def test_the_traffic_shift_args_are_its_input_model_and_bake_seconds_has_no_default() -> None:
    # One declaration: the component builds the model the provider checks against, so names and defaults cannot
    # drift apart.
    assert TrafficShiftArgs is TrafficShiftInputs
    assert "bake_seconds" not in SHIFT_DEFAULTS
    assert {
        **{name: _plain_sequences(value) for name, value in RELEASE_DEFAULTS.items()},
        "contracts": {},
        "ready_timeout_seconds": 900,
        "deadline_seconds": None,
        "metrics": None,
    } == SHIFT_DEFAULTS


def test_the_rollout_config_defaults_are_the_release_defaults() -> None:
    # The config default is what a user gets, the provider's decodes a state that lacks a key: one value for both.
    config = getattr(RolloutConfig, "__pydantic_fields__")  # noqa: B009 - set by pydantic
    # Every rollout knob is a TrafficShift input of the same name (components/blue_green.py passes them as they are).
    assert set(config) <= set(getattr(TrafficShiftInputs, "__pydantic_fields__"))  # noqa: B009 - set by pydantic
    assert set(config) - set(RELEASE_DEFAULTS) == {"bake_seconds", "max_p95_latency_ms", "max_error_rate"}
    for name, default in RELEASE_DEFAULTS.items():
        assert config[name].get_default(call_default_factory=True) == default, name
    # bakeSeconds: only a dev default in the config (prod must set it), none in the provider.
    assert config["bake_seconds"].is_required()
    extra = config["bake_seconds"].json_schema_extra
    assert isinstance(extra, dict)
    assert extra.get("dev_default") == 60
