"""The pai-mlops policy pack: builds the PolicyPack and nothing else.

The Pulumi CLI runs this file (``--policy-pack policies``) and so does the offline plan; the
constructor starts the Analyzer gRPC server, prints its port and serves until the process ends.
The policies live in ``rules/``, importable without starting anything.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from rules import PACK_NAME, POLICIES
from rules.common import install_secret_marks

install_secret_marks()  # rules can tell a secret input from a literal (rules/common.py, SecretStr)
PolicyPack(PACK_NAME, policies=list(POLICIES), enforcement_level=EnforcementLevel.ADVISORY)
