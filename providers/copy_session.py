"""The promotion copy role's STS session: AssumeRole, OSS buckets on its temporary credentials, renewal and waits.

``ModelPromotion`` never reads or writes a bucket with the deploying identity's own keys. It assumes the stack's
copy role (components/promotion.py creates it, attaches one read policy per promoted version and one write policy
for exactly the versions' destination prefixes) and does every OSS call with that session's credentials, so the
copy can reach only what both the role's policies and the session's own policy allow: one version's source and
destination prefixes (see ``Policy`` below).

Facts:

- ``AssumeRole`` is STS 2015-04-01, RPC style: ``POST /`` with the query ``RoleArn``, ``RoleSessionName``,
  ``DurationSeconds``, signed with an access key (aliyun/alibabacloud-python-sdk
  ``sts-20150401/alibabacloud_sts20150401/client.py`` ``assume_role_with_options``; this module makes that one call
  through the tea-openapi client's ``call_api`` the STS SDK itself calls, so no STS SDK is pinned). The answer's
  ``Credentials`` hold ``AccessKeyId``, ``AccessKeySecret``, ``SecurityToken``, ``Expiration`` (same SDK,
  ``models/_assume_role_response_body.py``). ``DurationSeconds`` is 900 at least and at most the role's
  ``MaxSessionDuration`` (``models/_assume_role_request.py``): the session here lasts :data:`SESSION_SECONDS`, the
  minimum, and is renewed when OSS answers ``SecurityTokenExpired`` (OSS EC 0002-00000007,
  https://www.alibabacloud.com/help/en/oss/support/0002-00000007).
- ``Policy``: an inline session policy, 1 to 2,048 characters; "the permissions of the returned STS token are the
  permissions that are included in the value of this parameter and owned by the RAM role" (same SDK,
  ``models/_assume_role_request.py``; the 2,048 limit since 2022: https://www.alibabacloud.com/en/notice/upgradenotification_of_request_parameters_length_constraints_upgrade_of_sts_apis_184;
  the intersection, and ``InvalidParameter.PolicyGrammar`` for a policy that fails the grammar check:
  https://www.alibabacloud.com/help/doc-detail/42775.htm; OSS refuses what the session policy leaves out, EC
  0003-00000301: https://www.alibabacloud.com/help/en/oss/support/0003-00000301). The role holds every promoted
  version's policies, so each copy's session carries :func:`session_policy`: exactly its source prefix (read, list)
  and its destination prefix (read, write, list). A session for v7 cannot touch v6's prefixes, whatever the role
  holds.
- ``RoleSessionName``: letters, digits and ``. @ - _``; 2-64 characters per the SDK, 2-32 per the STS common
  errors page (https://www.alibabacloud.com/help/doc-detail/42775.htm): names here stay within 32.
- oss2 sends a session's token as ``x-oss-security-token`` (``oss2.StsAuth``).
- RAM applies a new role, trust policy or attachment eventually, not at once: UNCONFIRMED for RAM (no Alibaba
  source gives a delay; docs/day-one.md). So ``AccessDenied`` from OSS and ``EntityNotExist.Role`` / ``NoPermission``
  from STS are asked again :data:`NOT_YET_TRIES` times in all, with growing waits announced on stderr, before the
  copy fails naming the role and what to check.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any, Final, TypeVar

from providers.clients import ClientFactory, Credentials
from providers.waiting import Deadline, progress

T = TypeVar("T")

SESSION_SECONDS: Final = 900
SESSION_NAME_MAX: Final = 32
NOT_YET_TRIES: Final = 6
NOT_YET_WAITS: Final = (1.0, 2.0, 4.0, 8.0, 15.0)
RENEWALS: Final = 10  # sessions one copy may use in all (each lasts SESSION_SECONDS)
ROLE_ARN_PATTERN: Final = r"^acs:ram::[0-9]+:role/[A-Za-z0-9.-]{1,64}$"
NOT_YET_CODES: Final = frozenset({"AccessDenied", "EntityNotExist.Role", "NoPermission"})
EXPIRED_CODES: Final = frozenset({"SecurityTokenExpired"})
SESSION_POLICY_MAX: Final = 2048  # AssumeRole Policy: 1 to 2,048 characters (SDK AssumeRoleRequest)
# SSE-KMS: reads need kms:Decrypt, writes kms:GenerateDataKey (components/copy_role.py). The session policy only
# narrows: with "*" here a session may use exactly the keys the role's own KMS policy names, and none when the role
# has no KMS policy (no CMK on the bucket).
KMS_ACTIONS: Final = ("kms:Decrypt", "kms:GenerateDataKey")


def session_policy(source_bucket: str, source_prefix: str, dest_bucket: str, dest_prefix: str) -> str:
    """The inline policy of one copy's session: read and list ``source_prefix`` of ``source_bucket``; read, write and
    list ``dest_prefix`` of ``dest_bucket``; the bucket keys' use. Compact JSON (it counts against 2,048 characters)."""

    def prefix(bucket: str, where: str, actions: list[str]) -> list[dict[str, Any]]:
        return [
            {"Effect": "Allow", "Action": actions, "Resource": [f"acs:oss:*:*:{bucket}/{where}*"]},
            {
                "Effect": "Allow",
                "Action": ["oss:ListObjects"],
                "Resource": [f"acs:oss:*:*:{bucket}"],
                "Condition": {"StringLike": {"oss:Prefix": [f"{where}*"]}},
            },
        ]

    statements = [
        *prefix(source_bucket, source_prefix, ["oss:GetObject"]),
        *prefix(dest_bucket, dest_prefix, ["oss:GetObject", "oss:PutObject"]),
        {"Effect": "Allow", "Action": list(KMS_ACTIONS), "Resource": ["*"]},
    ]
    text = json.dumps({"Version": "1", "Statement": statements}, separators=(",", ":"))
    if len(text) > SESSION_POLICY_MAX:  # the names are bounded (bucket 63, prefix ~40): never in practice
        raise CopyRoleRefused(f"the session policy of {source_prefix} is {len(text)} characters; STS takes 2048")
    return text


class CopyRoleRefused(Exception):
    """The copy role could not be assumed, or its session may not do what the copy needs: the message says which."""


def session_name(model: str, version: str) -> str:
    """``promote.<model>.<version>``, in STS's alphabet and at most 32 characters (audit trails show it)."""
    raw = re.sub(r"[^A-Za-z0-9.@_-]", "-", f"promote.{model}.{version}")
    return raw[:SESSION_NAME_MAX] if len(raw) >= 2 else "promote"


def assume_role(
    factory: ClientFactory, role_arn: str, name: str, duration: int = SESSION_SECONDS, policy: str | None = None
) -> Credentials:
    """The role's temporary credentials (one AssumeRole call; the caller retries), limited by ``policy`` if given."""
    from alibabacloud_tea_openapi import utils_models as open_api
    from darabonba.runtime import RuntimeOptions

    params = open_api.Params(
        action="AssumeRole",
        version="2015-04-01",
        protocol="HTTPS",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    query = {"RoleArn": role_arn, "RoleSessionName": name, "DurationSeconds": str(duration)}
    if policy is not None:
        query["Policy"] = policy
    answer: Any = factory.sts().call_api(params, open_api.OpenApiRequest(query=query), RuntimeOptions())
    body = answer.get("body") if isinstance(answer, dict) else None
    found = body.get("Credentials") if isinstance(body, dict) else None  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    fields = ("AccessKeyId", "AccessKeySecret", "SecurityToken")
    if not isinstance(found, dict) or not all(isinstance(found.get(f), str) and found.get(f) for f in fields):  # pyright: ignore[reportUnknownMemberType]
        raise CopyRoleRefused(f"AssumeRole {role_arn} answered without credentials; run pulumi up again")
    return Credentials(
        str(found["AccessKeyId"]), str(found["AccessKeySecret"]), str(found["SecurityToken"]), factory.region
    )  # pyright: ignore[reportUnknownArgumentType]


class CopySession:
    """OSS buckets on the copy role's session; :meth:`call` retries, renews and waits for RAM as described above."""

    def __init__(
        self,
        factory: ClientFactory,
        role_arn: str,
        name: str,
        *,
        deadline: Deadline,
        label: str,
        policy: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.factory, self.role_arn, self.name, self.policy = factory, role_arn, name, policy
        self.deadline, self.label, self._sleep = deadline, label, sleep
        self.sessions = 0
        self._buckets: dict[str, Any] = {}
        self._session: ClientFactory | None = None

    def _start(self) -> ClientFactory:
        from providers import retry

        if self.sessions >= RENEWALS:
            raise CopyRoleRefused(
                f"{self.label}: {RENEWALS} sessions of {self.role_arn} expired during one copy; run pulumi up again"
            )
        credentials = self._not_yet(
            f"assume {self.role_arn}",
            lambda: retry.call(
                lambda: assume_role(self.factory, self.role_arn, self.name, policy=self.policy),
                what=f"{self.label}: assume {self.role_arn}",
                deadline=self.deadline,
            ),
        )
        self.sessions += 1
        self._buckets.clear()
        progress(f"{self.label}: session {self.sessions} of {self.role_arn} ({SESSION_SECONDS}s)")
        return self.factory.with_credentials(credentials)

    def bucket(self, name: str) -> Any:
        """The oss2 bucket ``name`` on the current session (started on first use)."""
        if self._session is None:
            self._session = self._start()
        if name not in self._buckets:
            self._buckets[name] = self._session.oss_bucket(name)
        return self._buckets[name]

    def call(self, what: str, operation: Callable[[Callable[[str], Any]], T]) -> T:
        """Run ``operation(bucket)`` with transient failures retried; an expired session is renewed and the
        operation asked again; ``AccessDenied`` is waited out a bounded number of times."""
        from providers import retry

        while True:
            try:
                return self._not_yet(
                    what,
                    lambda: retry.call(
                        lambda: operation(self.bucket), what=f"{self.label}: {what}", deadline=self.deadline
                    ),
                )
            except Exception as error:
                if retry.code_of(error) not in EXPIRED_CODES:
                    raise
                progress(f"{self.label}: {what}: the session of {self.role_arn} expired; assuming the role again")
                self._session = self._start()

    def _not_yet(self, what: str, operation: Callable[[], T]) -> T:
        from providers import retry

        for attempt in range(1, NOT_YET_TRIES + 1):
            try:
                return operation()
            except Exception as error:
                code = retry.code_of(error)
                if code not in NOT_YET_CODES:
                    raise
                wait = NOT_YET_WAITS[min(attempt - 1, len(NOT_YET_WAITS) - 1)]
                if attempt == NOT_YET_TRIES or wait >= self.deadline.remaining():
                    raise CopyRoleRefused(self._refusal(what, code, attempt, retry.describe(error))) from error
                progress(
                    f"{self.label}: {what}: {retry.describe(error)}; RAM may not have applied the copy role's policies "
                    f"yet, asking again ({attempt}/{NOT_YET_TRIES}) in {wait:.0f}s"
                )
                self._sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover

    def _refusal(self, what: str, code: str | None, attempts: int, detail: str) -> str:
        if code == "AccessDenied":
            return (
                f"{self.label}: {what}: the copy role {self.role_arn} is not allowed to ({detail}; {attempts} "
                "attempts). It may read only the source prefixes and write only the destination prefixes of the "
                "versions this stack promotes: check the version's read policy and the role's attachments "
                "(docs/environments.md, 'The copy role')"
            )
        return (
            f"{self.label}: {what}: the copy role cannot be assumed ({detail}; {attempts} attempts). Check that "
            f"{self.role_arn} exists (pulumi up creates it with the promotions) and that its trust policy names the "
            "identity that deploys this stack (docs/environments.md, 'The copy role')"
        )
