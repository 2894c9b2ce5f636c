"""The component arguments of every dynamic resource follow its typed input model: the same names and defaults.

``check`` derives from the model (providers/base.py ``check_inputs``); the ``…Args`` dataclasses the components
fill in are plain (they carry ``pulumi.Input`` values), so this holds the two together: an input added, renamed
or given another default on one side only fails here, before it could reach a stack's state.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

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


def test_the_traffic_shift_args_take_the_providers_defaults_and_bake_seconds_has_none() -> None:
    fields = {f.name: f for f in dataclasses.fields(TrafficShiftArgs)}
    assert fields["bake_seconds"].default is dataclasses.MISSING
    assert "bake_seconds" not in SHIFT_DEFAULTS
    for name, default in SHIFT_DEFAULTS.items():
        assert _plain_sequences(_arg_default(fields[name])) == _plain_sequences(plain(default)), name


def test_the_rollout_config_defaults_are_the_traffic_shifts() -> None:
    # The config default is what a user gets; the provider's decodes old state. They must be the same value.
    config = getattr(RolloutConfig, "__pydantic_fields__")  # noqa: B009 - set by pydantic
    shared = set(config) & set(SHIFT_DEFAULTS)
    # What only the provider has: the contracts come from the service, the timeouts and metrics from elsewhere.
    assert set(SHIFT_DEFAULTS) - shared == {"contracts", "ready_timeout_seconds", "deadline_seconds", "metrics"}
    for name in shared:
        value = config[name].get_default(call_default_factory=True)
        assert _plain_sequences(value) == _plain_sequences(SHIFT_DEFAULTS[name]), name
    # bakeSeconds: only a dev default in the config (prod must set it), none in the provider.
    assert config["bake_seconds"].is_required()
    extra = config["bake_seconds"].json_schema_extra
    assert isinstance(extra, dict)
    assert extra.get("dev_default") == 60
