"""STS 2015-04-01 ``AssumeRole`` over the RAM roles tests register, and the policy check OSS makes for its sessions.

What a test registers (control API, ``Control.put_role`` / ``attach_policy``): a role's trust policy
(``AssumeRolePolicyDocument``) and the policy documents attached to it. What the emulator then does, as documented:

- ``AssumeRole`` (RPC style, ``POST /`` with ``x-acs-action``, the query of ``alibabacloud_sts20150401``'s
  ``assume_role_with_options``): ``RoleArn`` ``acs:ram::<uid>:role/<name>``, ``RoleSessionName``, ``DurationSeconds``
  from 900 to the role's ``MaxSessionDuration`` (SDK ``AssumeRoleRequest``). A role that does not exist answers
  ``EntityNotExist.Role`` "The specified Role not exists"; a caller the trust policy does not name answers
  ``NoPermission`` "No permission perform sts:AssumeRole on this Role" (STS common errors,
  https://www.alibabacloud.com/help/doc-detail/42775.htm); a malformed session name
  ``InvalidParameter.RoleSessionName`` and a duration out of range ``InvalidParameter.DurationSeconds`` (same page).
  The session name pattern there is ``^[a-zA-Z0-9.@-_]+$`` of 2-32 characters; the SDK says 2-64: the emulator
  takes 2-32, the less forgiving reading. The answer is ``{AssumedRoleUser{Arn, AssumedRoleId},
  Credentials{AccessKeyId, AccessKeySecret, SecurityToken, Expiration}}`` (SDK ``AssumeRoleResponseBody``).
- ``Policy`` (optional): an inline session policy of 1 to 2,048 characters (SDK ``AssumeRoleRequest``); the
  session may do only what both it and the role's policies allow (the intersection: same SDK field, STS common
  errors page above; OSS refuses the rest, EC 0003-00000301,
  https://www.alibabacloud.com/help/en/oss/support/0003-00000301). One that is not a JSON policy (an object with a
  ``Statement`` list) answers 400 ``InvalidParameter.PolicyGrammar`` "The parameter Policy has not passed grammar
  check." (STS common errors). One that is empty or longer than 2,048 characters answers the same here:
  UNCONFIRMED (no source gives the code for the length; docs/day-one.md).
- Trust: a ``RAM`` principal ``acs:ram::<uid>:root`` admits any identity of account ``<uid>``; a principal naming a
  user or role admits only that identity (and sessions of that role). RAM CreateRole's example trusts
  ``{"RAM": "acs:ram::<uid>:root"}`` (https://help.aliyun.com/zh/resource-management/api-createrole). A ``Service``
  principal admits no access key; a trust statement with a ``Condition`` admits nobody here (not emulated: the
  less forgiving reading). Whether the caller's own policies grant it ``sts:AssumeRole`` is not modelled.
- OSS with a session's credentials (``x-oss-security-token``): an unknown key or token answers
  ``InvalidSecurityToken``, an expired session ``SecurityTokenExpired`` "The security token you provided has
  expired." (OSS EC 0002-00000006 / 0002-00000007, https://www.alibabacloud.com/help/en/oss/support/0002-00000007;
  the code as OSS answers it: https://developer.aliyun.com/ask/553273). Anything else is judged against the role's
  attached policies *now*: an explicit Deny wins, then an Allow, else 403 ``AccessDenied``. Actions are the RAM
  names of the OSS operations (HeadObject is ``oss:GetObject``, both ListObjects versions ``oss:ListObjects``),
  resources ``acs:oss:<region>:<uid>:<bucket>[/<key>]`` matched with ``*`` and ``?`` wildcards, case-sensitive
  (OSS authorization syntax and elements, https://www.alibabacloud.com/help/en/oss/user-guide/authorization-syntax-and-elements).
  Conditions: ``StringEquals`` / ``StringLike`` on ``oss:Prefix`` and ``oss:Delimiter`` of a listing (the
  documented way to scope ListObjects to a folder, https://www.alibabacloud.com/help/ja/doc-detail/142249.htm);
  any other operator or key never satisfies an Allow and always satisfies a Deny. Requests signed with a long-term
  key are not judged (the emulator keeps no users' policies), as before.

Test devices, not cloud behaviour: an attached policy can stay invisible for its role's next ``hidden_for`` OSS
requests (RAM applies changes eventually; how long is UNCONFIRMED, docs/day-one.md), and every session issued so
far can be made to expire after the next ``after_requests`` OSS requests of any session (``expire_sessions``).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final

from werkzeug.wrappers import Request

from tests.emulator.core import ApiError, invalid, iso

if TYPE_CHECKING:
    from tests.emulator.app import Context

DEFAULT_ACCOUNT: Final = "1234567890123456"
MIN_DURATION: Final = 900
POLICY_MAX: Final = 2048
GRAMMAR: Final = "The parameter Policy has not passed grammar check."
ROLE_ARN: Final = re.compile(r"^acs:ram::(?P<account>[0-9]+):role/(?P<name>[A-Za-z0-9.-]{1,64})$")
SESSION_NAME: Final = re.compile(r"^[A-Za-z0-9.@_-]{2,32}$")
# The RAM action each OSS operation is authorized as (OSS "Authorization syntax and elements").
OSS_ACTIONS: Final = {
    "GetObject": "oss:GetObject",
    "HeadObject": "oss:GetObject",
    "PutObject": "oss:PutObject",
    "DeleteObject": "oss:DeleteObject",
    "ListObjects": "oss:ListObjects",
    "ListObjectsV2": "oss:ListObjects",
    "PutBucket": "oss:PutBucket",
}
_ACS3_KEY = re.compile(r"Credential=(?P<key>[^,/]+)")
_OSS_KEY = re.compile(r"^OSS (?P<key>[^:]+):")


def _denied(message: str = "You have no right to access this object because of the RAM policy.") -> ApiError:
    return ApiError(403, "AccessDenied", message)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]  # pyright: ignore[reportUnknownArgumentType]


def wildcard(pattern: str, value: str) -> bool:
    """RAM's ``*`` (any run of characters) and ``?`` (one character), case-sensitive."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


@dataclass
class Attachment:
    document: dict[str, Any]
    hidden_for: int = 0  # this role's next N OSS requests do not see the policy yet (a test device)


@dataclass
class Role:
    name: str
    account: str
    trust: dict[str, Any]
    max_session_duration: int = 3600
    policies: dict[str, Attachment] = field(default_factory=lambda: {})

    @property
    def arn(self) -> str:
        return f"acs:ram::{self.account}:role/{self.name}"


@dataclass
class Session:
    access_key_id: str
    access_key_secret: str
    token: str
    role: str
    account: str
    name: str
    expires: float
    policy: dict[str, Any] | None = None  # the inline session policy AssumeRole was given

    @property
    def arn(self) -> str:
        return f"acs:ram::{self.account}:assumed-role/{self.role}/{self.name}"


class StsApi:
    name = "sts"
    version = "2015-04-01"
    routes: ClassVar[list[tuple[str, str, str]]] = []  # RPC style: POST / named by x-acs-action

    def __init__(self, region: str = "cn-hangzhou") -> None:
        self.region = region
        self.account = DEFAULT_ACCOUNT
        self.roles: dict[str, Role] = {}
        self.sessions: dict[str, Session] = {}
        self.callers: dict[str, str] = {}  # long-term access key id -> the identity's ARN
        self.expire_after: int | None = None

    def reset(self) -> None:
        self.__init__(self.region)

    # -- what tests register ---------------------------------------------------------------------------------

    def put_role(self, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        trust = spec.get("trust")
        if not isinstance(trust, dict):
            raise invalid("a role needs its trust policy: {'trust': {AssumeRolePolicyDocument as JSON}}")
        duration = spec.get("max_session_duration", 3600)
        if not isinstance(duration, int) or not 3600 <= duration <= 43200:
            raise invalid(f"max_session_duration must be 3600-43200 seconds (RAM CreateRole); got {duration!r}")
        account = str(spec.get("account") or self.account)
        kept = self.roles[name].policies if name in self.roles else {}
        self.roles[name] = Role(name, account, dict(trust), duration, kept)  # pyright: ignore[reportUnknownArgumentType]
        return {"Arn": self.roles[name].arn}

    def attach(self, role: str, policy: str, spec: dict[str, Any]) -> dict[str, Any]:
        found = self._role_named(role)
        document, hidden = spec.get("document"), spec.get("hidden_for", 0)
        if not isinstance(document, dict) or not isinstance(document.get("Statement"), list):
            raise invalid("attach a policy document: {'document': {'Version': '1', 'Statement': [...]}}")
        if not isinstance(hidden, int) or isinstance(hidden, bool) or hidden < 0:
            raise invalid(f"hidden_for must be a count of requests; got {hidden!r}")
        found.policies[policy] = Attachment(dict(document), hidden)  # pyright: ignore[reportUnknownArgumentType]
        return {"RoleName": role, "PolicyName": policy}

    def detach(self, role: str, policy: str) -> dict[str, Any]:
        self._role_named(role).policies.pop(policy, None)
        return {"RoleName": role, "PolicyName": policy}

    def register_caller(self, access_key_id: str, arn: str) -> dict[str, Any]:
        if not re.fullmatch(r"acs:ram::[0-9]+:(user|role)/[A-Za-z0-9._@-]+", arn):
            raise invalid(f"a caller is acs:ram::<uid>:user/<name> or acs:ram::<uid>:role/<name>; got {arn!r}")
        self.callers[access_key_id] = arn
        return {"AccessKeyId": access_key_id, "Arn": arn}

    def expire_sessions(self, after_requests: Any) -> dict[str, Any]:
        if not isinstance(after_requests, int) or isinstance(after_requests, bool) or after_requests < 0:
            raise invalid(f"after_requests must be a count of OSS requests; got {after_requests!r}")
        self.expire_after = after_requests
        return {"after_requests": after_requests}

    def _role_named(self, name: str) -> Role:
        role = self.roles.get(name)
        if role is None:
            raise ApiError(404, "EntityNotExist.Role", f"The specified Role not exists: {name}")
        return role

    # -- AssumeRole --------------------------------------------------------------------------------------------

    def handle(self, action: str, context: Context) -> dict[str, Any]:
        if action != "AssumeRole":
            raise ApiError(404, "InvalidAction.NotFound", f"STS action {action} is not emulated")
        return self._assume(context)

    def caller_of(self, request: Request) -> str:
        """The ARN of the identity that signed an OpenAPI request (ACS3 ``Credential=<key>``)."""
        match = _ACS3_KEY.search(request.headers.get("Authorization", ""))
        key = match["key"] if match else ""
        session = self.sessions.get(key)
        if session is not None:
            return session.arn
        return self.callers.get(key) or f"acs:ram::{self.account}:user/{key or 'anonymous'}"

    def _assume(self, context: Context) -> dict[str, Any]:
        query = context.query
        arn, session_name = query.get("RoleArn") or "", query.get("RoleSessionName") or ""
        match = ROLE_ARN.fullmatch(arn)
        if match is None:
            raise invalid(f"The parameter RoleArn is wrongly formed: {arn!r}", "InvalidParameter.RoleArn")
        if not SESSION_NAME.fullmatch(session_name):
            raise invalid("The parameter RoleSessionName is wrongly formed.", "InvalidParameter.RoleSessionName")
        role = self.roles.get(match["name"])
        if role is None or role.account != match["account"]:
            raise ApiError(404, "EntityNotExist.Role", "The specified Role not exists.")
        raw = query.get("DurationSeconds") or "3600"
        duration = int(raw) if raw.isdigit() else -1
        if not MIN_DURATION <= duration <= role.max_session_duration:
            raise invalid(
                f"The Min/Max value of DurationSeconds is {MIN_DURATION}s/{role.max_session_duration}s.",
                "InvalidParameter.DurationSeconds",
            )
        policy = session_policy(query) if "Policy" in query else None
        caller = self.caller_of(context.request)
        if not trusts(role, caller):
            raise ApiError(
                403,
                "NoPermission",
                "No permission perform sts:AssumeRole on this Role. Maybe you should check the role's trust policy",
            )
        session = Session(
            access_key_id=f"STS.{secrets.token_hex(12)}",
            access_key_secret=secrets.token_hex(16),
            token=secrets.token_urlsafe(48),
            role=role.name,
            account=role.account,
            name=session_name,
            expires=context.now + duration,
            policy=policy,
        )
        self.sessions[session.access_key_id] = session
        return {
            "AssumedRoleUser": {"Arn": session.arn, "AssumedRoleId": f"3{secrets.token_hex(8)}:{session_name}"},
            "Credentials": {
                "AccessKeyId": session.access_key_id,
                "AccessKeySecret": session.access_key_secret,
                "SecurityToken": session.token,
                "Expiration": iso(session.expires),
            },
        }

    # -- OSS with a session ------------------------------------------------------------------------------------

    def authorize(self, request: Request, operation: str, bucket: str, key: str, now: float) -> None:
        """Raise OSS's error unless the request may do ``operation``; long-term keys pass unjudged."""
        token = request.headers.get("x-oss-security-token")
        if token is None:
            return
        match = _OSS_KEY.match(request.headers.get("Authorization", ""))
        session = self.sessions.get(match["key"]) if match else None
        if session is None or not secrets.compare_digest(session.token, token):
            raise ApiError(403, "InvalidSecurityToken", "The security token you provided is invalid.")
        if self.expire_after is not None:
            if self.expire_after == 0:
                for issued in self.sessions.values():
                    issued.expires = min(issued.expires, now)
                self.expire_after = None
            else:
                self.expire_after -= 1
        if now >= session.expires:
            raise ApiError(403, "SecurityTokenExpired", "The security token you provided has expired.")
        role = self.roles.get(session.role)
        if role is None or role.account != session.account:
            raise _denied("The role of this security token no longer exists.")
        action = OSS_ACTIONS.get(operation)
        if action is None:
            raise _denied(f"{operation} is not allowed to security tokens in the emulator.")
        resource = f"acs:oss:{self.region}:{role.account}:{bucket}" + (f"/{key}" if key else "")
        facts = {"oss:Prefix": request.args.get("prefix", ""), "oss:Delimiter": request.args.get("delimiter", "")}
        if not operation.startswith("ListObjects"):
            facts = {}
        documents: list[dict[str, Any]] = []
        for attachment in role.policies.values():
            if attachment.hidden_for > 0:
                attachment.hidden_for -= 1
                continue
            documents.append(attachment.document)
        verdict = evaluate(documents, action, resource, facts)
        if verdict != "Allow":
            raise _denied()
        if session.policy is not None and evaluate([session.policy], action, resource, facts) != "Allow":
            raise _denied("You have no right to access this object because of the STS token's session policy.")


def session_policy(query: dict[str, str]) -> dict[str, Any]:
    """AssumeRole's ``Policy``, parsed; 400 ``InvalidParameter.PolicyGrammar`` unless a 1-2,048 character policy."""
    text = query.get("Policy", "")
    if not 1 <= len(text) <= POLICY_MAX:  # the code for a length out of range: UNCONFIRMED (the grammar one)
        raise invalid(GRAMMAR, "InvalidParameter.PolicyGrammar")
    try:
        document = json.loads(text)
    except ValueError:
        raise invalid(GRAMMAR, "InvalidParameter.PolicyGrammar") from None
    if not isinstance(document, dict) or not isinstance(document.get("Statement"), list):
        raise invalid(GRAMMAR, "InvalidParameter.PolicyGrammar")
    return dict(document)  # pyright: ignore[reportUnknownArgumentType]


def trusts(role: Role, caller: str) -> bool:
    """Whether the role's trust policy lets ``caller`` (an identity's or a session's ARN) assume it."""
    account = caller.split(":")[3] if caller.count(":") >= 4 else ""
    session_of = re.fullmatch(r"acs:ram::([0-9]+):assumed-role/([^/]+)/.+", caller)
    identities = {caller, f"acs:ram::{account}:root"}
    if session_of is not None:
        identities.add(f"acs:ram::{session_of[1]}:role/{session_of[2]}")
    for statement in _as_list(role.trust.get("Statement") or []):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow" or "Condition" in statement:
            continue
        if "sts:AssumeRole" not in _as_list(statement.get("Action")):  # pyright: ignore[reportUnknownMemberType]
            continue
        principal = statement.get("Principal")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        names = _as_list(principal.get("RAM") or []) if isinstance(principal, dict) else []  # pyright: ignore[reportUnknownMemberType]
        if identities & {str(name) for name in names}:
            return True
    return False


def _condition_holds(condition: Any, facts: dict[str, str], *, deny: bool) -> bool:
    """Every operator and key must hold (AND); what the emulator does not know holds only for a Deny."""
    if condition is None:
        return True
    if not isinstance(condition, dict):
        return deny
    for operator, tests in condition.items():  # pyright: ignore[reportUnknownVariableType]
        if operator not in ("StringEquals", "StringLike") or not isinstance(tests, dict):
            if deny:
                continue
            return False
        for name, wanted in tests.items():  # pyright: ignore[reportUnknownVariableType]
            if name not in facts:
                if deny and name not in ("oss:Prefix", "oss:Delimiter"):
                    continue
                return False
            value = facts[str(name)]  # pyright: ignore[reportUnknownArgumentType]
            options = [str(w) for w in _as_list(wanted)]  # pyright: ignore[reportUnknownVariableType]
            if operator == "StringEquals" and value not in options:
                return False
            if operator == "StringLike" and not any(wildcard(option, value) for option in options):
                return False
    return True


def evaluate(documents: list[dict[str, Any]], action: str, resource: str, facts: dict[str, str]) -> str:
    """``Deny``, ``Allow`` or ``ImplicitDeny`` for one request under these policy documents."""
    allowed = False
    for document in documents:
        for statement in _as_list(document.get("Statement") or []):
            if not isinstance(statement, dict):
                continue
            actions = [str(a) for a in _as_list(statement.get("Action"))]  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            resources = [str(r) for r in _as_list(statement.get("Resource"))]  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            if not any(wildcard(a, action) for a in actions) or not any(wildcard(r, resource) for r in resources):
                continue
            effect = statement.get("Effect")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            condition = statement.get("Condition")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            if effect == "Deny" and _condition_holds(condition, facts, deny=True):
                return "Deny"
            if effect == "Allow" and _condition_holds(condition, facts, deny=False):
                allowed = True
    return "Allow" if allowed else "ImplicitDeny"
