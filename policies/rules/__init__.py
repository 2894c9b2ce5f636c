"""The pai-mlops policies, one module per domain; ``POLICIES`` is what the pack enforces.

Importing this package has no side effects (unlike ``PolicyPack``, whose constructor serves gRPC
forever), so tests import the policies from here.
"""

from __future__ import annotations

from typing import Final

from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from . import burst, dlc, drift, dsw, eas, exposure, governance, promotion, ram, ram_roles, registry, storage

PACK_NAME: Final = "pai-mlops-guard"

POLICIES: Final[list[ResourceValidationPolicy | StackValidationPolicy]] = [
    *eas.POLICIES,
    *burst.POLICIES,
    *storage.POLICIES,
    *exposure.POLICIES,
    *ram.POLICIES,
    *ram_roles.POLICIES,
    *dlc.POLICIES,
    *dsw.POLICIES,
    *governance.POLICIES,
    *promotion.POLICIES,
    *drift.POLICIES,
    *registry.POLICIES,
]
