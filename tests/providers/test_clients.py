"""providers/clients.py: credentials from the stack config or the environment, endpoints and their overrides."""

from __future__ import annotations

import pytest

from providers.clients import (
    ENDPOINT_VARIABLES,
    ClientFactory,
    ProviderConfigError,
    credentials_from,
    endpoint_override,
)


class Config:
    """Stands in for pulumi.dynamic.Config: get("ns:key")."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = values

    def get(self, key: str) -> str | None:
        return self._values.get(key)


def test_credentials_prefer_stack_config_then_environment() -> None:
    config = Config({"alicloud:accessKey": "cfg-ak", "alicloud:secretKey": "cfg-sk", "alicloud:region": "cn-beijing"})
    environ = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "env-ak",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-sk",
        "ALICLOUD_REGION": "cn-shanghai",
        "ALICLOUD_SECURITY_TOKEN": "sts",
    }
    from_config = credentials_from(config, environ)
    assert (
        from_config.access_key_id,
        from_config.access_key_secret,
        from_config.region,
        from_config.security_token,
    ) == (
        "cfg-ak",
        "cfg-sk",
        "cn-beijing",
        "sts",
    )
    from_env = credentials_from(None, environ)
    assert (from_env.access_key_id, from_env.region) == ("env-ak", "cn-shanghai")
    assert "env-sk" not in repr(from_env)


def test_missing_credentials_name_every_key_and_the_fix() -> None:
    with pytest.raises(ProviderConfigError) as caught:
        credentials_from(Config({"alicloud:region": "cn-hangzhou"}), {})
    assert str(caught.value) == (
        "Alibaba Cloud credentials are incomplete; missing alicloud:accessKey "
        "(or ALIBABA_CLOUD_ACCESS_KEY_ID / ALICLOUD_ACCESS_KEY), alicloud:secretKey "
        "(or ALIBABA_CLOUD_ACCESS_KEY_SECRET / ALICLOUD_SECRET_KEY). Set them on the stack "
        "(`pulumi config set alicloud:region cn-hangzhou`, `pulumi config set alicloud:accessKey …`, "
        "`pulumi config set --secret alicloud:secretKey …`) or export the environment variables."
    )


def test_endpoints_default_to_the_region_and_follow_overrides() -> None:
    credentials = credentials_from(
        None, {"ALICLOUD_ACCESS_KEY": "a", "ALICLOUD_SECRET_KEY": "s", "ALICLOUD_REGION": "cn-shanghai"}
    )
    real = ClientFactory(credentials, environ={})
    assert real.oss_endpoint() == "https://oss-cn-shanghai.aliyuncs.com"
    assert real.dlc()._endpoint == "pai-dlc.cn-shanghai.aliyuncs.com"  # pyright: ignore[reportPrivateUsage]
    assert real.prometheus_url("https://prom.example.com/") == "https://prom.example.com"
    local = ClientFactory(credentials, environ={name: "http://127.0.0.1:8500" for name in ENDPOINT_VARIABLES.values()})
    assert local.oss_endpoint() == "http://127.0.0.1:8500"
    assert local.eas()._endpoint == "127.0.0.1:8500"  # pyright: ignore[reportPrivateUsage]
    assert local.prometheus_url("https://prom.example.com") == "http://127.0.0.1:8500"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"PAI_MLOPS_DLC_ENDPOINT": "127.0.0.1:8500"},
            "PAI_MLOPS_DLC_ENDPOINT must look like http://127.0.0.1:PORT; got '127.0.0.1:8500'. Fix or unset it.",
        ),
        (
            {"PAI_MLOPS_DLC_ENDPOINT": "http://127.0.0.1:8500", "HTTPS_PROXY": "http://proxy:3128"},
            "PAI_MLOPS_DLC_ENDPOINT points at 127.0.0.1, but HTTPS_PROXY is set and the Alibaba SDKs send even "
            "loopback calls through it (they ignore NO_PROXY). Unset the proxy variables for this run.",
        ),
    ],
)
def test_bad_overrides_are_refused_with_the_fix(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ProviderConfigError) as caught:
        endpoint_override("dlc", environ)
    assert str(caught.value) == message
