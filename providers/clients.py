"""One factory for every client the dynamic providers use: EAS, DLC, DSW, CloudMonitor, STS and OSS.

Build a :class:`ClientFactory` inside each provider method (never keep a client on ``self``: the provider object
is pickled into state). Credentials come from the stack config the engine passes to ``configure()``
(``alicloud:accessKey``, ``alicloud:secretKey``, ``alicloud:securityToken``, ``alicloud:region``, the keys the
alicloud provider reads too), else from the environment (``ALIBABA_CLOUD_*``, then the alicloud provider's
``ALICLOUD_*``). They are never taken from resource inputs and never put into outputs.

Endpoints: unset, each client talks to the real regional endpoint. ``PAI_MLOPS_<API>_ENDPOINT``
(``http://127.0.0.1:PORT``) points one API at the local emulator (``tests/emulator``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

import oss2
from alibabacloud_cms20190101.client import Client as CmsClient
from alibabacloud_eas20210701.client import Client as EasClient
from alibabacloud_pai_dlc20201203.client import Client as DlcClient
from alibabacloud_pai_dsw20220101.client import Client as DswClient
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from alibabacloud_tea_openapi.utils_models import Config as OpenApiConfig

ENDPOINT_VARIABLES: Final = {
    "eas": "PAI_MLOPS_EAS_ENDPOINT",
    "dlc": "PAI_MLOPS_DLC_ENDPOINT",
    "dsw": "PAI_MLOPS_DSW_ENDPOINT",
    "oss": "PAI_MLOPS_OSS_ENDPOINT",
    "metrics": "PAI_MLOPS_METRICS_ENDPOINT",
    "sts": "PAI_MLOPS_STS_ENDPOINT",
}
# STS's regional endpoint: alibabacloud_sts20150401's client resolves it with the endpoint rule "regional"
# (aliyun/alibabacloud-python-sdk sts-20150401/alibabacloud_sts20150401/client.py), i.e. sts.<region>.aliyuncs.com.
STS_ENDPOINT: Final = "sts.{region}.aliyuncs.com"

# (stack config key, environment variables in order of precedence)
_ACCESS_KEY = ("alicloud:accessKey", ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALICLOUD_ACCESS_KEY"))
_SECRET_KEY = ("alicloud:secretKey", ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALICLOUD_SECRET_KEY"))
_SECURITY_TOKEN = ("alicloud:securityToken", ("ALIBABA_CLOUD_SECURITY_TOKEN", "ALICLOUD_SECURITY_TOKEN"))
_REGION = ("alicloud:region", ("ALIBABA_CLOUD_REGION_ID", "ALICLOUD_REGION"))
_PROXY_VARIABLES: Final = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")


class ProviderConfigError(Exception):
    """Credentials, region or an endpoint override is missing or malformed; the message names the fix."""


class ConfigSource(Protocol):
    """What ``configure()`` receives (``pulumi.dynamic.Config``): ``get("ns:key")`` or None."""

    def get(self, key: str) -> Any: ...


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    access_key_secret: str
    security_token: str | None
    region: str

    def __repr__(self) -> str:
        # Never let a key reach a traceback, a log line or a test failure message.
        return f"Credentials(access_key_id='{self.access_key_id[:4]}…', region={self.region!r})"


def _lookup(config: ConfigSource | None, environ: Mapping[str, str], key: tuple[str, tuple[str, ...]]) -> str | None:
    config_key, variables = key
    value = config.get(config_key) if config is not None else None
    if value:
        return str(value)
    return next((environ[name] for name in variables if environ.get(name)), None)


def credentials_from(config: ConfigSource | None, environ: Mapping[str, str] | None = None) -> Credentials:
    """Credentials and region from the stack config, else the environment; one error lists everything missing."""
    environ = os.environ if environ is None else environ
    found = {key: _lookup(config, environ, key) for key in (_ACCESS_KEY, _SECRET_KEY, _REGION)}
    missing = [f"{key[0]} (or {' / '.join(key[1])})" for key, value in found.items() if not value]
    if missing:
        raise ProviderConfigError(
            "Alibaba Cloud credentials are incomplete; missing "
            + ", ".join(missing)
            + ". Set them on the stack (`pulumi config set alicloud:region cn-hangzhou`, "
            "`pulumi config set alicloud:accessKey …`, `pulumi config set --secret alicloud:secretKey …`) "
            "or export the environment variables."
        )
    return Credentials(
        access_key_id=str(found[_ACCESS_KEY]),
        access_key_secret=str(found[_SECRET_KEY]),
        security_token=_lookup(config, environ, _SECURITY_TOKEN),
        region=str(found[_REGION]),
    )


@dataclass(frozen=True)
class Endpoint:
    """An endpoint override: scheme and ``host:port``."""

    scheme: str
    netloc: str

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.netloc}"


def endpoint_override(api: str, environ: Mapping[str, str] | None = None) -> Endpoint | None:
    """The override for ``api`` from its ``PAI_MLOPS_*_ENDPOINT`` variable, None when unset."""
    environ = os.environ if environ is None else environ
    variable = ENDPOINT_VARIABLES[api]
    raw = environ.get(variable, "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise ProviderConfigError(f"{variable} must look like http://127.0.0.1:PORT; got {raw!r}. Fix or unset it.")
    proxies = [name for name in _PROXY_VARIABLES if environ.get(name)]
    if proxies and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        # darabonba sends every request through HTTP(S)_PROXY and ignores NO_PROXY, so a loopback emulator
        # would be asked for through the proxy and never reached.
        raise ProviderConfigError(
            f"{variable} points at {parts.hostname}, but {', '.join(proxies)} is set and the Alibaba SDKs send even "
            "loopback calls through it (they ignore NO_PROXY). Unset the proxy variables for this run."
        )
    return Endpoint(parts.scheme, parts.netloc)


class ClientFactory:
    """Builds SDK clients for one set of credentials; cheap, so build one per provider call."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        environ: Mapping[str, str] | None = None,
        connect_timeout_ms: int = 5_000,
        read_timeout_ms: int = 15_000,
    ) -> None:
        self.credentials = credentials
        self._environ = os.environ if environ is None else environ
        self._connect_timeout_ms = connect_timeout_ms
        self._read_timeout_ms = read_timeout_ms

    @classmethod
    def from_config(cls, config: ConfigSource | None, environ: Mapping[str, str] | None = None) -> ClientFactory:
        return cls(credentials_from(config, environ), environ=environ)

    @property
    def region(self) -> str:
        return self.credentials.region

    def _openapi_config(self, api: str) -> OpenApiConfig:
        credentials = self.credentials
        config = OpenApiConfig(
            access_key_id=credentials.access_key_id,
            access_key_secret=credentials.access_key_secret,
            region_id=credentials.region,
            connect_timeout=self._connect_timeout_ms,
            read_timeout=self._read_timeout_ms,
        )
        if credentials.security_token:
            config.security_token = credentials.security_token
        override = endpoint_override(api, self._environ)
        if override is not None:
            # Every operation declares HTTPS; `protocol` overrides it, `endpoint` overrides the region map.
            config.endpoint = override.netloc
            config.protocol = override.scheme
        return config

    def eas(self) -> EasClient:
        return EasClient(self._openapi_config("eas"))

    def dlc(self) -> DlcClient:
        return DlcClient(self._openapi_config("dlc"))

    def dsw(self) -> DswClient:
        return DswClient(self._openapi_config("dsw"))

    def cloudmonitor(self) -> CmsClient:
        return CmsClient(self._openapi_config("metrics"))

    def sts(self) -> OpenApiClient:
        """The generic OpenAPI client on STS (providers/copy_session.py calls AssumeRole through it)."""
        config = self._openapi_config("sts")
        if config.endpoint is None:
            config.endpoint = STS_ENDPOINT.format(region=self.region)
        return OpenApiClient(config)

    def with_credentials(self, credentials: Credentials) -> ClientFactory:
        """The same endpoints and timeouts for other credentials (an STS session's)."""
        return ClientFactory(
            credentials,
            environ=self._environ,
            connect_timeout_ms=self._connect_timeout_ms,
            read_timeout_ms=self._read_timeout_ms,
        )

    def oss_endpoint(self) -> str:
        override = endpoint_override("oss", self._environ)
        return override.url if override is not None else f"https://oss-{self.region}.aliyuncs.com"

    def oss_bucket(self, bucket: str) -> oss2.Bucket:
        """An oss2 bucket; an IP endpoint (the emulator) makes oss2 use path-style addressing by itself."""
        credentials = self.credentials
        token = credentials.security_token
        auth = (
            oss2.StsAuth(credentials.access_key_id, credentials.access_key_secret, token)
            if token
            else oss2.Auth(credentials.access_key_id, credentials.access_key_secret)
        )
        return oss2.Bucket(
            auth,
            self.oss_endpoint(),
            bucket,
            connect_timeout=self._connect_timeout_ms / 1000,
        )

    def prometheus_url(self, configured: str) -> str:
        """The Prometheus HTTP API base URL: the metrics override when set, else the configured one."""
        override = endpoint_override("metrics", self._environ)
        return override.url if override is not None else configured.rstrip("/")
