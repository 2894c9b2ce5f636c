"""BlueGreenService: one served model's versions, their autoscalers, its endpoints and its gated traffic shift."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pulumi

from components.provider_hosts import host_for
from components.serving import ModelService, ModelServiceArgs
from providers.autoscaler import CronJob, EasAutoscaler, EasAutoscalerArgs
from providers.autoscaler_spec import SCALER_KEYS
from providers.endpoint import ServiceEndpoint, ServiceEndpointArgs
from providers.traffic import TrafficShift, TrafficShiftArgs
from stack_config import MetricsConfig, ModelServiceConfig, StackConfig, StackSecrets


@dataclass(frozen=True, kw_only=True)
class BlueGreenServiceArgs:
    service: ModelServiceConfig
    bucket_name: str
    workspace_id: pulumi.Input[str]
    metrics: MetricsConfig
    token: pulumi.Input[str] | None = None  # a secret; rotates every version's access token
    role_arn: pulumi.Input[str] | None = None  # the -eas RAM role every version runs with
    retain_legacy: bool = False  # see ModelServiceArgs.retain_legacy
    docker_auth: pulumi.Input[str] | None = None  # a secret; see ModelServiceArgs.docker_auth
    artifacts: Mapping[str, pulumi.Resource] = field(default_factory=lambda: {})  # see ModelServiceArgs.artifacts

    @classmethod
    def of_stack(
        cls,
        config: StackConfig,
        service: ModelServiceConfig,
        workspace_id: pulumi.Input[str],
        role_arn: pulumi.Input[str],
        secrets: StackSecrets,
        promoted: Mapping[tuple[str, str], pulumi.Resource] | None = None,
    ) -> BlueGreenServiceArgs:
        """``service`` with the stack's bucket, metric source, legacy-service setting and serving secrets;
        ``promoted`` ((model, version) → its copy) makes a promoted version's EAS service wait for its artifact."""
        return cls(
            artifacts={v: copy for (m, v), copy in (promoted or {}).items() if m == service.name},
            service=service,
            bucket_name=config.storage.bucket_name,
            workspace_id=workspace_id,
            metrics=config.serving.metrics,
            token=secrets.serving_token,
            role_arn=role_arn,
            retain_legacy=config.serving.retain_pai_services,
            docker_auth=secrets.registry_auth,
        )


def metrics_settings(metrics: MetricsConfig) -> dict[str, Any]:
    """The TrafficShift ``metrics`` input: the chosen source and only the settings it reads."""
    settings = {key: value for key, value in asdict(metrics).items() if value is not None}
    if metrics.source == "prometheus":
        return {key: settings[key] for key in ("source", "endpoint")}
    return {key: value for key, value in settings.items() if key != "endpoint"}


def autoscaler_args(svc: ModelServiceConfig, service_name: str) -> EasAutoscalerArgs:
    """The EasAutoscaler inputs of one version of ``svc``: the service's scaling knobs, which carry the input
    names (:data:`providers.autoscaler_spec.SCALER_KEYS`), and its scheduled sizes."""
    return EasAutoscalerArgs(
        service_name=service_name,
        **{knob: getattr(svc, knob) for knob in SCALER_KEYS},
        cron=[CronJob(**asdict(job)) for job in svc.cron],
    )


def shift_args(svc: ModelServiceConfig, names: Mapping[str, str], metrics: MetricsConfig) -> TrafficShiftArgs:
    """The TrafficShift inputs of ``svc`` from its validated config: the rollout's knobs as they are (they carry
    the input names), the group, its versions' services (``names``: version → EAS service), ``live``, the API
    contracts and the metric source. What the config does not set takes the input model's defaults."""
    return TrafficShiftArgs(
        **asdict(svc.rollout),
        group=svc.eas_group,
        services=dict(names),
        live=svc.live,
        contracts=dict(svc.contracts),
        metrics=metrics_settings(metrics),
    )


class BlueGreenService(pulumi.ComponentResource):
    """Every version of one model as its own EAS service in one group, released by a gated TrafficShift.

    Children: the ``ModelService`` (one ``EasService`` per version), an ``EasAutoscaler`` per version (it owns the
    instance count: ``minInstances`` 0 scales a dev version to zero), a ``ServiceEndpoint`` (endpoints and secret
    tokens), and the ``TrafficShift`` that moves the group's traffic to ``live``. The order makes a release safe: the
    shift depends on every version and every autoscaler, so a new version is created, Running and scaled before any
    traffic moves to it. Outputs: ``group``, ``live``, ``weights``, ``history``, ``group_endpoint``,
    ``group_access_token`` (secret), ``live_service_name``.
    """

    def __init__(self, name: str, args: BlueGreenServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pai-mlops:serving:BlueGreenService", name, None, opts)
        svc = args.service
        self.model = ModelService(
            name,
            ModelServiceArgs(
                service=svc,
                bucket_name=args.bucket_name,
                workspace_id=args.workspace_id,
                role_arn=args.role_arn,
                retain_legacy=args.retain_legacy,
                docker_auth=args.docker_auth,
                artifacts=args.artifacts,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        names = {version: svc.eas_service_name(version) for version in svc.versions}
        self.autoscalers = {
            version: EasAutoscaler(
                f"{name}-{version}-autoscaler",
                autoscaler_args(svc, names[version]),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.model.versions[version]]),
            )
            for version in svc.versions
        }
        versions = list(self.model.versions.values())
        self.endpoint = ServiceEndpoint(
            f"{name}-endpoint",
            ServiceEndpointArgs(group=svc.eas_group, services=names, token=args.token),
            opts=pulumi.ResourceOptions(parent=self, depends_on=versions),
        )
        self.shift = TrafficShift(
            f"{name}-traffic",
            shift_args(svc, names, args.metrics),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*versions, *self.autoscalers.values()],
                provider=host_for(f"{name}-traffic"),  # bakes are long: not on the default host
            ),
        )
        self.group = svc.eas_group
        self.live = self.shift.live
        self.weights = self.shift.weights
        self.history = self.shift.history
        self.group_endpoint = self.endpoint.group_endpoint
        self.group_access_token = self.endpoint.group_access_token
        self.live_service_name = self.model.live_service_name
        self.register_outputs(
            {
                "group": self.group,
                "live": self.live,
                "weights": self.weights,
                "history": self.history,
                "group_endpoint": self.group_endpoint,
                "group_access_token": self.group_access_token,
            }
        )
