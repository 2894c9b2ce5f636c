"""What every pai-mlops dynamic provider shares: the stack config ``configure()`` hands it."""

from __future__ import annotations

from typing import Any

import pulumi.dynamic


class ConfiguredProvider(pulumi.dynamic.ResourceProvider):
    """Keeps the config the provider host passes to ``configure()`` (credentials, region) for the methods' clients.

    Providers stay stateless otherwise: they are pickled into every stack's state, so SDK imports and clients live
    inside the methods.
    """

    _config: Any = None

    def configure(self, req: pulumi.dynamic.ConfigureRequest) -> None:
        self._config = req.config
