"""ModelPromotion through the provider host against the emulator's OSS: two buckets, faults, refusals, resume.

Every copy runs as the copy role (the emulator's STS and its policy check for sessions, tests/emulator/sts.py),
holding the read and write documents the program attaches (components/copy_role.py)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from components.copy_role import read_document, trust_document, write_document
from providers.clients import ClientFactory
from providers.promotion import ModelPromotionProvider
from tests.emulator import Control
from tests.support.provider_host import ProviderFailed, ProviderHost

SOURCE, DEST = "acme-pai-mlops-staging", "acme-pai-mlops-prod"
PREFIX = "models/fraud_scorer/v7/"
ACCOUNT = "1234567890123456"  # the emulator's account (tests/emulator/sts.py DEFAULT_ACCOUNT)
ROLE = "pai-mlops-prod-promote-copy"
ROLE_ARN = f"acs:ram::{ACCOUNT}:role/{ROLE}"
FILES = {"model.pmml": b"<PMML version='4.4'>weights</PMML>", "meta/config.json": b'{"threshold": 0.7}'}


def sha(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def inputs(**extra: Any) -> dict[str, Any]:
    return {
        "source_bucket": SOURCE,
        "source_prefix": PREFIX,
        "dest_bucket": DEST,
        "dest_prefix": PREFIX,
        "copy_role_arn": ROLE_ARN,
        "lineage": {"sourceStack": "staging", "codeCommit": "4be2c1d9"},
        "deadline_seconds": 30,
        **extra,
    }


def grant(cloud: Control, source: str = SOURCE, dest: str = DEST, prefix: str = PREFIX, **extra: Any) -> None:
    """The copy role as the program makes it: trusted by the account, one version's read and write attached."""
    cloud.put_role(ROLE, json.loads(trust_document(ACCOUNT, None)))
    name = prefix.strip("/").replace("/", "-")
    cloud.attach_policy(ROLE, f"read-{name}", json.loads(read_document(source, prefix)), **extra)
    cloud.attach_policy(ROLE, f"write-{name}", json.loads(write_document(dest, prefix)), **extra)


@pytest.fixture
def buckets(cloud: Control, clients: ClientFactory) -> tuple[Any, Any]:
    cloud.clock(speed=1.0)  # STS sessions last 900 virtual seconds: keep them from expiring on a fast clock
    grant(cloud)
    cloud.create_bucket(SOURCE)
    cloud.create_bucket(DEST)
    source = clients.oss_bucket(SOURCE)
    for name, data in FILES.items():
        source.put_object(PREFIX + name, data)
    return source, clients.oss_bucket(DEST)


def objects(bucket: Any) -> dict[str, bytes]:
    return {item.key: bucket.get_object(item.key).read() for item in bucket.list_objects_v2(prefix="").object_list}


def puts(cloud: Control) -> list[str]:
    return [call["path"] for call in cloud.calls(api="oss", action="PutObject")]


def test_a_version_is_copied_byte_for_byte_with_its_checksums(
    host: ProviderHost, cloud: Control, buckets: tuple[Any, Any]
) -> None:
    source, dest = buckets
    checked, failures = host.check(ModelPromotionProvider(), {}, inputs())
    assert failures == []
    cloud.clear_calls()
    id_, outputs = host.create(ModelPromotionProvider(), checked)
    assert id_ == f"{DEST}/{PREFIX}"
    assert objects(dest) == {PREFIX + name: data for name, data in FILES.items()}
    assert outputs["checksums"] == {name: sha(data) for name, data in FILES.items()}
    assert (outputs["objects"], outputs["bytes"]) == (2, sum(map(len, FILES.values())))
    assert (outputs["source_uri"], outputs["dest_uri"]) == (f"oss://{SOURCE}/{PREFIX}", f"oss://{DEST}/{PREFIX}")
    assert outputs["lineage"] == {"sourceStack": "staging", "codeCommit": "4be2c1d9"}
    assert puts(cloud) == [f"/{DEST}/{PREFIX}meta/config.json", f"/{DEST}/{PREFIX}model.pmml"]
    assert objects(source) == {PREFIX + name: data for name, data in FILES.items()}  # the source is only read


def test_a_lost_answer_mid_copy_loses_and_duplicates_nothing(
    host: ProviderHost, cloud: Control, buckets: tuple[Any, Any]
) -> None:
    _, dest = buckets
    cloud.fault("PutObject", "lost_response", api="oss")  # the first write lands, its answer does not
    cloud.clear_calls()
    _, outputs = host.create(ModelPromotionProvider(), inputs())
    assert objects(dest) == {PREFIX + name: data for name, data in FILES.items()}
    assert outputs["checksums"] == {name: sha(data) for name, data in FILES.items()}
    assert puts(cloud) == [  # the lost one asked again with the same bytes, then the next
        f"/{DEST}/{PREFIX}meta/config.json",
        f"/{DEST}/{PREFIX}meta/config.json",
        f"/{DEST}/{PREFIX}model.pmml",
    ]


def test_a_corrupted_source_object_is_detected_before_it_is_written(
    host: ProviderHost, cloud: Control, buckets: tuple[Any, Any]
) -> None:
    source, dest = buckets
    recorded = {name: sha(data) for name, data in FILES.items()}
    changed = b"<PMML version='4.4'>weightz</PMML>"  # one byte differs
    source.put_object(PREFIX + "model.pmml", changed)
    with pytest.raises(ProviderFailed) as caught:
        host.create(ModelPromotionProvider(), inputs(expected=recorded))
    assert (
        f"promote {PREFIX}: oss://{SOURCE}/{PREFIX}model.pmml has checksum "
        f"{sha(changed)}, not {recorded['model.pmml']} as the source stack recorded: "
        "the released artifact was changed or corrupted. Nothing was written for it"
    ) in caught.value.details
    assert PREFIX + "model.pmml" not in objects(dest)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "meta/config.json",
            b"tampered",
            f"oss://{DEST}/{PREFIX}meta/config.json already holds a different object ({sha(b'tampered')}, the "
            f"source has {sha(FILES['meta/config.json'])}); pai-mlops never overwrites an artifact",
        ),
        (
            "model.onnx",
            b"another model",
            f"oss://{DEST}/{PREFIX} already holds model.onnx, which the source lacks: a different artifact is at "
            "that path. pai-mlops never overwrites one; give the version a new id",
        ),
    ],
    ids=["different-object", "extra-object"],
)
def test_an_existing_different_artifact_is_never_overwritten(
    host: ProviderHost, cloud: Control, buckets: tuple[Any, Any], name: str, data: bytes, message: str
) -> None:
    _, dest = buckets
    dest.put_object(PREFIX + name, data)
    cloud.clear_calls()
    with pytest.raises(ProviderFailed) as caught:
        host.create(ModelPromotionProvider(), inputs())
    assert message in caught.value.details
    assert puts(cloud) == []
    assert objects(dest) == {PREFIX + name: data}


def test_an_interrupted_copy_resumes_where_it_stopped(
    host: ProviderHost, cloud: Control, buckets: tuple[Any, Any]
) -> None:
    _, dest = buckets
    # OSS fails every write after the first until the deadline: the copy stops half done.
    cloud.fault("PutObject", "server_error", status=503, times=1000, after=1, api="oss")
    with pytest.raises(ProviderFailed) as caught:
        host.create(ModelPromotionProvider(), inputs(deadline_seconds=1))
    # The write of the second object is what failed, with OSS's answer; how many retries fit the 1 s deadline
    # depends on the machine's load (providers/retry.py notes "gave up after N attempts" only when N > 1).
    assert f"promote {PREFIX}: write oss://{DEST}/{PREFIX}model.pmml" in caught.value.details
    assert "'status': 503" in caught.value.details and "'Code': 'InternalError'" in caught.value.details
    assert objects(dest) == {PREFIX + "meta/config.json": FILES["meta/config.json"]}
    cloud.clear_faults()
    cloud.clear_calls()
    _, outputs = host.create(ModelPromotionProvider(), inputs())
    assert puts(cloud) == [f"/{DEST}/{PREFIX}model.pmml"]
    assert outputs["checksums"] == {name: sha(data) for name, data in FILES.items()}
    assert "meta/config.json already copied, identical" in host.stderr


def test_check_refuses_bad_inputs_naming_them(host: ProviderHost) -> None:
    _, failures = host.check(
        ModelPromotionProvider(),
        {},
        inputs(dest_bucket=SOURCE, expected={"model.pmml": "md5:abc"}),
    )
    assert failures == [
        ("dest_bucket", "ModelPromotion [dest_bucket]: is the source itself; promote between stacks"),
        ("expected", "ModelPromotion [expected.model.pmml]: must be 'sha256:<64 hex digits>'; got 'md5:abc'"),
    ]


def test_dev_to_staging_to_prod_arrives_byte_identical(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    """The chain the stacks run: staging copies what dev trained, prod copies what staging recorded."""
    cloud.clock(speed=1.0)
    grant(cloud, source="acme-pai-mlops-dev", dest=SOURCE)
    cloud.attach_policy(ROLE, "read-staging", json.loads(read_document(SOURCE, PREFIX)))
    cloud.attach_policy(ROLE, "write-prod", json.loads(write_document(DEST, PREFIX)))
    for bucket in ("acme-pai-mlops-dev", SOURCE, DEST):
        cloud.create_bucket(bucket)
    dev = clients.oss_bucket("acme-pai-mlops-dev")
    for name, data in FILES.items():
        dev.put_object(PREFIX + name, data)
    _, staging = host.create(ModelPromotionProvider(), inputs(source_bucket="acme-pai-mlops-dev", dest_bucket=SOURCE))
    _, prod = host.create(ModelPromotionProvider(), inputs(expected=staging["checksums"]))
    assert prod["checksums"] == staging["checksums"] == {name: sha(data) for name, data in FILES.items()}
    assert objects(clients.oss_bucket(DEST)) == objects(dev)
