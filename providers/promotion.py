"""``ModelPromotion``: copies one model version's artifact from another stack's bucket into this stack's bucket.

What it guarantees (``pulumi up``):

- every read and write is made with the temporary credentials of ``copy_role_arn``, the stack's promotion copy role
  (providers/copy_session.py: STS AssumeRole, renewed when it expires; RAM's ``AccessDenied`` waited out a bounded
  number of times). The role holds every promoted version's policies (read its source prefix, write its
  destination prefix), and each session carries an inline session policy of exactly this copy's source prefix
  (read, list) and destination prefix (read, write, list): STS grants the intersection, so this copy can touch no
  other version's prefixes even though the role may, and a config that points a version at a prefix the role was
  not granted is refused by OSS itself. State
  written before this input existed reads and refreshes as before; ``check`` refuses inputs without it, naming it;
- every object under ``source_prefix`` (``models/<name>/<version>/``) of ``source_bucket`` is copied to the same key
  under ``dest_prefix`` of ``dest_bucket``, by reading it (``GetObject``) and writing it (``PutObject`` with
  ``Content-MD5``, which OSS checks against the body it received: PutObject API reference, "Content-MD5",
  https://www.alibabacloud.com/help/en/oss/developer-reference/putobject), and is then read back and compared
  byte for byte by SHA-256;
- when ``expected`` is given (the checksums the source stack recorded when *it* promoted or verified the version),
  every source object must match it and the set of objects must be the same: a corrupted or tampered source
  object fails the copy before anything is written for it;
- an object already at the destination key is never overwritten: identical bytes count as copied (so an
  interrupted or retried copy resumes where it stopped, and a lost answer to a ``PutObject`` is harmless), a
  different object fails the copy naming the key, and so does an object under ``dest_prefix`` the source lacks.
  ``x-oss-forbid-overwrite`` is not used: OSS ignores it on a bucket with versioning enabled or suspended (PutObject
  API reference), and the artifact bucket is versioned;
- outputs: ``checksums`` (object name relative to the prefix → ``sha256:<hex>``), ``objects``, ``bytes``,
  ``source_uri``, ``dest_uri``, and the ``lineage`` given as input, unchanged.

``delete`` leaves the copied objects in place (a promoted model is what EAS serves; the bucket's versioning and
lifecycle own it). Progress goes to stderr, one line per object.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pulumi
import pulumi.dynamic
from pydantic import Field, StrictBool, StrictInt, StrictStr
from pydantic.dataclasses import dataclass as model

from providers.base import ConfiguredProvider, check_inputs
from providers.copy_session import ROLE_ARN_PATTERN, CopySession, session_name, session_policy

DEFAULT_DEADLINE_SECONDS: Final = 3600
PREFIX_PATTERN: Final = r"^models/[a-z][a-z0-9_]*/[a-z0-9][a-z0-9_]{0,15}/$"
BUCKET_PATTERN: Final = r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$"
CHECKSUM_PATTERN: Final = r"^sha256:[0-9a-f]{64}$"
OUTPUTS: Final = ("checksums", "objects", "bytes", "source_uri", "dest_uri")
REPLACING: Final = ("source_bucket", "source_prefix", "dest_bucket", "dest_prefix")


COPY_ROLE_FIX: Final = (
    "Give the ARN of the stack's promotion copy role, acs:ram::<uid>:role/<prefix>-promote-copy; the program sets it "
    "from the Promotions component, so update pai-mlops and run pulumi up (docs/environments.md, 'The copy role')"
)


class PromotionFailed(Exception):
    """The artifact could not be promoted as it is: the message names the object and what to do."""


@model(frozen=True, kw_only=True)
class PromotionInputs:
    """The inputs ``check`` accepts (strict: nothing is coerced)."""

    source_bucket: StrictStr = Field(pattern=BUCKET_PATTERN, json_schema_extra={"fix": "Give an OSS bucket name"})
    source_prefix: StrictStr = Field(pattern=PREFIX_PATTERN, json_schema_extra={"fix": "Give models/<name>/<version>/"})
    dest_bucket: StrictStr = Field(pattern=BUCKET_PATTERN, json_schema_extra={"fix": "Give an OSS bucket name"})
    dest_prefix: StrictStr = Field(pattern=PREFIX_PATTERN, json_schema_extra={"fix": "Give models/<name>/<version>/"})
    # The role whose STS session copies (new in the copy-role release; the program sets it, components/promotion.py).
    copy_role_arn: StrictStr = Field(pattern=ROLE_ARN_PATTERN, json_schema_extra={"fix": COPY_ROLE_FIX})
    expected: dict[StrictStr, Any] = Field(
        default_factory=dict, json_schema_extra={"fix": "Map object names to 'sha256:<hex>', or leave it out"}
    )
    lineage: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    deadline_seconds: StrictInt = Field(default=DEFAULT_DEADLINE_SECONDS, ge=1)
    # The promotion gate's evidence (policies/rules/promotion.py judges it; the copy does not use it).
    source_stack: StrictStr = ""
    model: StrictStr = ""
    version: StrictStr = ""
    live: StrictBool = False
    release_history: list[Any] = Field(default_factory=list)
    source_artifact: dict[StrictStr, Any] = Field(default_factory=dict)
    commit: StrictStr | None = None
    override: dict[StrictStr, StrictStr] | None = None


def semantic(inputs: dict[str, Any]) -> list[tuple[str, str]]:
    """Rules across inputs: a copy onto itself, malformed expected checksums."""
    import re

    found: list[tuple[str, str]] = []
    if (inputs["source_bucket"], inputs["source_prefix"]) == (inputs["dest_bucket"], inputs["dest_prefix"]):
        found.append(("dest_bucket", "ModelPromotion [dest_bucket]: is the source itself; promote between stacks"))
    for name, value in sorted(inputs.get("expected", {}).items()):
        if not isinstance(value, str) or not re.fullmatch(CHECKSUM_PATTERN, value):
            found.append(
                ("expected", f"ModelPromotion [expected.{name}]: must be 'sha256:<64 hex digits>'; got {value!r}")
            )
    return found


def sha256_of(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


@dataclass
class Copy:
    """One promotion under way: the copy role's session, the deadline, what was copied."""

    session: CopySession
    props: Mapping[str, Any]
    deadline: Any
    checksums: dict[str, str] = field(default_factory=lambda: {})
    total: int = 0

    @property
    def label(self) -> str:
        return f"promote {self.props['source_prefix']}"

    def names(self, bucket: str, prefix: str) -> list[str]:
        """Object names under ``prefix`` (relative to it), every page."""
        names: list[str] = []
        token = ""
        while True:
            page = self.session.call(
                f"list oss://{bucket}/{prefix}",
                lambda b, t=token: b(bucket).list_objects_v2(prefix=prefix, continuation_token=t, max_keys=1000),
            )
            names += [item.key.removeprefix(prefix) for item in page.object_list if item.key != prefix]
            if not page.is_truncated:
                return names
            token = page.next_continuation_token

    def read(self, bucket: str, key: str) -> bytes | None:
        """The object's bytes, or None when there is none."""
        import oss2.exceptions

        def get(buckets: Any) -> bytes | None:
            try:
                return buckets(bucket).get_object(key).read()
            except oss2.exceptions.NoSuchKey:
                return None

        return self.session.call(f"read oss://{bucket}/{key}", get)

    def run(self) -> dict[str, Any]:
        from providers.waiting import progress

        props = self.props
        source, dest = str(props["source_bucket"]), str(props["dest_bucket"])
        src_prefix, dst_prefix = str(props["source_prefix"]), str(props["dest_prefix"])
        source_uri, dest_uri = f"oss://{source}/{src_prefix}", f"oss://{dest}/{dst_prefix}"
        names = sorted(self.names(source, src_prefix))
        if not names:
            raise PromotionFailed(
                f"{self.label}: {source_uri} holds no objects; the version was never written there. Check the source "
                "stack's modelArtifacts output and that its training run or promotion finished"
            )
        expected: Mapping[str, str] = props.get("expected") or {}
        if expected and set(expected) != set(names):
            missing, extra = sorted(set(expected) - set(names)), sorted(set(names) - set(expected))
            raise PromotionFailed(
                f"{self.label}: {source_uri} no longer holds what the source stack recorded (missing: "
                f"{', '.join(missing) or 'none'}; not recorded: {', '.join(extra) or 'none'}). Someone changed the "
                "released artifact: find out who before promoting it"
            )
        strangers = sorted(set(self.names(dest, dst_prefix)) - set(names))
        if strangers:
            raise PromotionFailed(
                f"{self.label}: {dest_uri} already holds {', '.join(strangers)}, which the source lacks: a different "
                "artifact is at that path. pai-mlops never overwrites one; give the version a new id"
            )
        for name in names:
            data = self.read(source, src_prefix + name)
            if data is None:
                raise PromotionFailed(f"{self.label}: {source_uri}{name} vanished while it was being copied; run again")
            digest = sha256_of(data)
            if expected and expected[name] != digest:
                raise PromotionFailed(
                    f"{self.label}: {source_uri}{name} has checksum {digest}, not {expected[name]} as the source stack "
                    "recorded: the released artifact was changed or corrupted. Nothing was written for it"
                )
            self.copy_one(dest, dst_prefix + name, data, digest, progress)
            self.checksums[name] = digest
            self.total += len(data)
        return {
            **props,
            "checksums": dict(self.checksums),
            "objects": len(names),
            "bytes": self.total,
            "source_uri": source_uri,
            "dest_uri": dest_uri,
        }

    def copy_one(self, dest: str, key: str, data: bytes, digest: str, progress: Any) -> None:
        where = f"oss://{dest}/{key}"
        present = self.read(dest, key)
        if present is not None:
            if sha256_of(present) != digest:
                raise PromotionFailed(
                    f"{self.label}: {where} already holds a different object ({sha256_of(present)}, the source has "
                    f"{digest}); pai-mlops never overwrites an artifact. Give the version a new id, or remove the "
                    "object by hand if it is debris"
                )
            progress(f"{self.label}: {key} already copied, identical")
            return
        md5 = base64.b64encode(hashlib.md5(data).digest()).decode()  # OSS's integrity header (not a security use)
        # Idempotent: the same bytes to the same key; after a lost answer the object is read back below either way.
        self.session.call(f"write {where}", lambda b: b(dest).put_object(key, data, headers={"Content-MD5": md5}))
        written = self.read(dest, key)
        if written is None or sha256_of(written) != digest:
            found = "nothing" if written is None else sha256_of(written)
            raise PromotionFailed(
                f"{self.label}: {where} reads back as {found}, not {digest}: the copy was corrupted; run pulumi up "
                "again after removing that object"
            )
        progress(f"{self.label}: {key} copied ({len(data)} bytes, {digest})")


class ModelPromotionProvider(ConfiguredProvider):
    """Stateless: the SDK imports and clients live inside the methods (the object is pickled into state)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        return check_inputs(PromotionInputs, news, resource="ModelPromotion", outputs=OUTPUTS, semantic=semantic)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        # The gate's evidence (the source's history) changes with every release there: not a change of the copy.
        # A new copy role (or the first one, on state from before it existed) verifies the copy again in place.
        keys = (*REPLACING, "expected", "lineage", "deadline_seconds", "live", "override", "copy_role_arn")
        changed = [key for key in keys if olds.get(key) != news.get(key)]
        replaces = [key for key in changed if key in (*REPLACING, "expected")]
        return pulumi.dynamic.DiffResult(
            changes=bool(changed), replaces=replaces, stables=[], delete_before_replace=False
        )

    def _copy(self, props: Mapping[str, Any]) -> dict[str, Any]:
        from providers.clients import ClientFactory
        from providers.waiting import Deadline

        role = props.get("copy_role_arn")
        if not isinstance(role, str) or not role:
            raise PromotionFailed(f"ModelPromotion [copy_role_arn]: is missing. {COPY_ROLE_FIX}")
        factory = ClientFactory.from_config(self._config)
        deadline = Deadline(float(props.get("deadline_seconds", DEFAULT_DEADLINE_SECONDS)))
        label = f"promote {props['source_prefix']}"
        _, model, version, _ = str(props["dest_prefix"]).split("/")
        policy = session_policy(
            str(props["source_bucket"]),
            str(props["source_prefix"]),
            str(props["dest_bucket"]),
            str(props["dest_prefix"]),
        )
        session = CopySession(
            factory, role, session_name(model, version), deadline=deadline, label=label, policy=policy
        )
        return Copy(session, props, deadline).run()

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult(f"{props['dest_bucket']}/{props['dest_prefix']}", self._copy(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(self._copy(news))  # lineage or deadline only: verifies the copy again

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        return pulumi.dynamic.ReadResult(id_, props)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # the promoted objects stay: EAS may serve them, and the bucket's versioning owns them


@dataclass(frozen=True, kw_only=True)
class ModelPromotionArgs:
    source_bucket: pulumi.Input[str]
    source_prefix: str
    dest_bucket: str
    dest_prefix: str
    copy_role_arn: pulumi.Input[str]
    expected: pulumi.Input[Mapping[str, str]] = field(default_factory=lambda: {})
    lineage: pulumi.Input[Mapping[str, str]] = field(default_factory=lambda: {})
    deadline_seconds: int = DEFAULT_DEADLINE_SECONDS
    source_stack: str = ""
    model: str = ""
    version: str = ""
    live: bool = False
    release_history: pulumi.Input[Sequence[Any]] = field(default_factory=lambda: [])
    source_artifact: pulumi.Input[Mapping[str, Any]] = field(default_factory=lambda: {})
    commit: str | None = None
    override: Mapping[str, str] | None = None


class ModelPromotion(pulumi.dynamic.Resource, module="pai", name="ModelPromotion"):
    """Registers as ``pulumi-python:dynamic/pai:ModelPromotion``."""

    checksums: pulumi.Output[dict[str, str]]
    objects: pulumi.Output[int]
    bytes: pulumi.Output[int]
    source_uri: pulumi.Output[str]
    dest_uri: pulumi.Output[str]
    lineage: pulumi.Output[dict[str, str]]
    source_artifact: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, args: ModelPromotionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {
            "source_bucket": args.source_bucket,
            "source_prefix": args.source_prefix,
            "dest_bucket": args.dest_bucket,
            "dest_prefix": args.dest_prefix,
            "copy_role_arn": args.copy_role_arn,
            "expected": args.expected,
            "lineage": args.lineage,
            "deadline_seconds": args.deadline_seconds,
            "source_stack": args.source_stack,
            "model": args.model,
            "version": args.version,
            "live": args.live,
            "release_history": args.release_history,
            "source_artifact": args.source_artifact,
            "commit": args.commit,
            "override": dict(args.override) if args.override else None,
            **dict.fromkeys(OUTPUTS),
        }
        super().__init__(ModelPromotionProvider(), name, props, opts)
