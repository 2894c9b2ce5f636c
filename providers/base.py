"""What every pai-mlops dynamic provider shares: the stack config ``configure()`` hands it, one typed ``check``
from an input model, and changes confirmed by reading them back when an answer is lost.

``read`` of a provider that can see drift records what it found under :data:`OBSERVED` (input names), beside the
declared inputs it leaves untouched; its ``diff`` compares the new inputs with both (the engine passes the stored
outputs as ``olds``), so a change made by hand shows in ``pulumi preview`` after ``pulumi refresh`` until ``pulumi
up`` puts the declared value back. A cloud object that is gone is reported as ``ReadResult("", {})``: an empty id
is how a provider tells the engine the resource no longer exists (pulumi ``ReadResult`` docstring "blank if
missing"; pulumi/pulumi#1145; pulumi/pulumi#20186), and refresh drops it from the state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, cast

import pulumi.dynamic
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pydantic import TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from config_problems import HIDDEN, Problem, field_at, problems_from
from providers.props import plain

PROVIDER_KEY: Final = "__provider"
OBSERVED: Final = "observed"


class ConfiguredProvider(pulumi.dynamic.ResourceProvider):
    """Keeps the config the provider host passes to ``configure()`` (credentials, region) for the methods' clients.

    Providers stay stateless otherwise: they are pickled into every stack's state, so SDK imports and clients live
    inside the methods.
    """

    _config: Any = None

    def configure(self, req: pulumi.dynamic.ConfigureRequest) -> None:
        self._config = req.config


# -- check: one typed input model per resource -------------------------------------------------------------------


def model_defaults(model: type) -> dict[str, Any]:
    """The defaults of a pydantic dataclass input model, as plain values (what ``with_defaults`` fills in)."""
    fields: dict[str, FieldInfo] = getattr(model, "__pydantic_fields__", {})
    return {
        name: plain(info.get_default(call_default_factory=True))
        for name, info in fields.items()
        if not info.is_required()
    }


def _unknown(value: Any) -> bool:
    # Check gets values not known yet (Outputs during preview) as pulumi.output.Unknown; the wire sentinel too.
    return isinstance(value, Unknown) or (isinstance(value, str) and value == rpc.UNKNOWN)


def _is_unknown(value: Any, loc: tuple[str | int, ...]) -> bool:
    """Whether the value at ``loc`` (or a value above it) is not known yet."""
    for part in loc:
        if _unknown(value):
            return True
        if isinstance(value, Mapping) and part in value:
            value = cast("Mapping[Any, Any]", value)[part]
        elif (
            isinstance(value, list | tuple) and isinstance(part, int) and 0 <= part < len(cast("Sequence[Any]", value))
        ):
            value = cast("Sequence[Any]", value)[part]
        else:
            return False
    return _unknown(value)


def _fix(model: type, loc: tuple[str | int, ...], found: str) -> str:
    """The fix of the innermost input that declares one (a key of a mapping input has no field of its own)."""
    for end in range(len(loc), 0, -1):
        info = field_at(model, loc[:end])
        extra = info.json_schema_extra if info is not None else None
        fix = extra.get("fix") if isinstance(extra, dict) else None
        if isinstance(fix, str):
            return fix
    return found


def _failure(
    resource: str, model: type, problem: Problem, loc: tuple[str | int, ...], secrets: frozenset[str]
) -> pulumi.dynamic.CheckFailure:
    # problems_from names places the way stack config does ("pai-mlops:cron[0]" + "schedule"); inputs are
    # named by their path in the resource's properties instead.
    where = problem.where.removeprefix("pai-mlops").removeprefix(":")
    prop = f"{where}.{problem.key}" if where else problem.key
    value = HIDDEN if prop.split(".")[0].split("[")[0] in secrets else problem.value
    shown = Problem(resource, prop, problem.problem, value, _fix(model, loc, problem.fix))
    return pulumi.dynamic.CheckFailure(prop, str(shown))


def check_inputs(
    model: type,
    news: Mapping[str, Any],
    *,
    resource: str,
    outputs: Iterable[str] = (),
    secrets: Iterable[str] = (),
    semantic: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None,
) -> pulumi.dynamic.CheckResult:
    """``check`` from a typed input model (a pydantic dataclass with strict types).

    Every wrong type, range or missing input becomes one CheckFailure naming the input, the value (never a
    secret's) and the fix, as ``<Resource> [<input>]: <problem>; got <value!r>. <fix>.``; nothing is coerced
    (``"false"`` is not a bool, ``"3"`` not a number, ``True`` not a count). Inputs whose value is not known yet
    (preview) are not judged. Only inputs that pass the model go on to ``semantic`` (rules across inputs), so a
    rule never meets a value of the wrong type. Names that are not inputs, outputs or ``__provider`` are refused.
    The inputs returned are the model's: defaults filled in, as plain values.
    """
    values = plain(dict(news))
    passthrough = {PROVIDER_KEY, *outputs}
    candidate = {k: v for k, v in values.items() if k not in passthrough}
    adapter: TypeAdapter[Any] = TypeAdapter(model)
    try:
        validated = adapter.validate_python(candidate)
    except ValidationError as error:
        hidden = frozenset(secrets)
        failures = [
            _failure(resource, model, problem, tuple(detail["loc"]), hidden)
            for problem, detail in zip(problems_from(error, model, (), "prod"), error.errors(), strict=True)
            if not _is_unknown(candidate, tuple(detail["loc"]))
        ]
        if failures:
            return pulumi.dynamic.CheckResult(values, failures)
        return pulumi.dynamic.CheckResult({**model_defaults(model), **values}, [])  # only unknowns: judge at up
    inputs = {**values, **plain(adapter.dump_python(validated, mode="json"))}
    rules = semantic(inputs) if semantic is not None else []
    return pulumi.dynamic.CheckResult(inputs, [pulumi.dynamic.CheckFailure(p, r) for p, r in rules])


# -- workers on the EAS API ----------------------------------------------------------------------------------------


class EasWorker:
    """What a provider's per-call worker on the EAS API shares: the client and region from the provider's config,
    the service it acts on, and every call retried within ``call_budget_seconds`` named by ``subject()``."""

    call_budget_seconds: float = 120.0

    def __init__(self, config: Any, props: dict[str, Any]) -> None:
        from providers.clients import ClientFactory

        self.props = props
        self.factory = ClientFactory.from_config(config)
        self.client = self.factory.eas()
        self.region = self.factory.region
        self.name = str(props["service_name"])

    def subject(self) -> str:
        return f"EAS service {self.name}"

    def _call(self, what: str, operation: Callable[[], Any], *, idempotent: bool = True) -> Any:
        from providers import retry
        from providers.waiting import Deadline

        return retry.call(
            operation,
            what=f"{self.subject()}: {what}",
            deadline=Deadline(self.call_budget_seconds),
            idempotent=idempotent,
        )


# -- updates whose answer was lost --------------------------------------------------------------------------------


class ChangeNotConfirmed(Exception):
    """A change's answer was lost every time and reading the object back never showed it."""


def confirmed(change: Callable[[], Any], took_effect: Callable[[], bool], *, what: str, tries: int = 3) -> None:
    """Make a non-idempotent change (its call made with ``idempotent=False``), confirming it by reading back.

    When the answer is lost (:class:`providers.retry.AmbiguousOutcome`) the object is read: if the change took
    effect the provider carries on; otherwise the change is asked for again, at most ``tries`` times in all.
    Repeating the request blindly would be refused while the object is busy applying the first one.
    """
    from providers.retry import AmbiguousOutcome
    from providers.waiting import progress

    for attempt in range(1, tries + 1):
        try:
            change()
            return
        except AmbiguousOutcome as error:
            progress(f"{error}; reading it back ({attempt}/{tries})")
            if took_effect():
                progress(f"{what}: the change took effect")
                return
    raise ChangeNotConfirmed(
        f"{what}: the answer was lost {tries} times and the change is not visible; run pulumi up again "
        "(it reads the object first and only asks for what is missing)"
    )
