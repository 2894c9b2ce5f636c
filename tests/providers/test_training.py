"""TrainingJob through ``python -m pulumi.dynamic`` against the emulator: runs, preemption, adoption, faults.

Every test drives the real provider host over gRPC, as ``pulumi up`` does; the provider talks to the emulator with
the official DLC SDK and oss2. The emulator's clock runs fast (see conftest), so a 10-minute job takes a
fraction of a second, and the provider measures its budgets on that clock through the ``Date`` header.
"""

# pyright: basic, reportOptionalMemberAccess=false
# (the SDK's response models are typed Optional everywhere; the assertions read them directly)

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from providers.clients import ClientFactory
from providers.training import TrainingJobProvider
from providers.training_request import job_key
from providers.training_spec import KEY_TAG
from tests.conftest import PROVIDER_CONFIG, PROVIDER_SECRETS
from tests.emulator import Control, Emulator
from tests.support.provider_host import ProviderFailed, ProviderHost, wait_until
from tests.support.training import BUCKET, INPUTS, PREEMPTED, actions, create, inputs, jobs, put_checkpoint


@pytest.fixture
def host(host: ProviderHost, cloud: Control) -> ProviderHost:
    cloud.create_bucket(BUCKET)
    return host


@pytest.fixture
def own_host(emulator: Emulator, cloud: Control) -> Iterator[ProviderHost]:
    """A host of the test's own, for a test that kills it."""
    cloud.create_bucket(BUCKET)
    with ProviderHost(env=emulator.environment()) as running:
        running.configure(PROVIDER_CONFIG, PROVIDER_SECRETS)
        yield running


# -- success -------------------------------------------------------------------------------------------------


def test_a_run_is_submitted_once_and_watched_to_success(host: ProviderHost, cloud: Control) -> None:
    cloud.clock(speed=200)  # every state lasts several polls, so each one shows in the progress lines
    cloud.timing(dlc={"creating": 10, "queuing": 60, "running": 120})
    outs = create(host, inputs())

    [job_id] = [attempt["job_id"] for attempt in outs["attempts"]]
    assert outs["job_id"] == job_id and outs["status"] == "Succeeded"
    assert outs["model_uri"] == f"oss://{BUCKET}/models/fraud/r1/"
    assert outs["duration_seconds"] == 120
    [attempt] = outs["attempts"]
    assert (attempt["attempt"], attempt["status"], attempt["reason"], attempt["checkpoint"]) == (1, "Succeeded", "", "")
    assert attempt["started"] and attempt["ended"] > attempt["started"]

    [call] = actions(cloud, "CreateJob")
    key = job_key(INPUTS)
    internal = "oss-cn-hangzhou-internal.aliyuncs.com"
    pod = {
        "Image": INPUTS["image"],
        "EcsSpec": "ecs.gn6i-c4g1.xlarge",
        "UseSpotInstance": True,
        "SpotSpec": {"SpotStrategy": "SpotWithPriceLimit", "SpotDiscountLimit": 0.6},
        "ElasticSpotSpecs": [],
        "LocalMountSpecs": [],
        "StartupDependencies": [],
    }
    assert call["body"] == {
        "DisplayName": f"train-fraud-{key[:8]}-1",
        "Description": "fraud scorer, run r1",
        "JobType": "PyTorchJob",
        "UserCommand": "python train.py --epochs 10",
        "WorkspaceId": "ws-1234",
        "JobMaxRunningTimeMinutes": 120,
        "JobSpecs": [{**pod, "Type": "Worker", "PodCount": 2}, {**pod, "Type": "Master", "PodCount": 1}],
        "DataSources": [
            {"Uri": f"oss://{BUCKET}.{internal}/data/fraud/", "MountPath": "/mnt/data/fraud", "MountAccess": "RO"},
            {"Uri": f"oss://{BUCKET}.{internal}/models/fraud/r1/", "MountPath": "/mnt/output", "MountAccess": "RW"},
            {
                "Uri": f"oss://{BUCKET}.{internal}/checkpoints/fraud/r1/",
                "MountPath": "/mnt/checkpoints",
                "MountAccess": "RW",
            },
        ],
        "Envs": {
            "EPOCHS": "10",
            "PAI_MLOPS_ATTEMPT": "1",
            "PAI_MLOPS_CHECKPOINT_DIR": "/mnt/checkpoints/",
            "PAI_MLOPS_CHECKPOINT_INTERVAL_MINUTES": "15",
            "PAI_MLOPS_OUTPUT_DIR": "/mnt/output/",
        },
        "CodeSource": {"CodeSourceId": "code-7f3a", "Branch": "main", "Commit": "4be2c1d", "MountPath": "/root/code"},
        "CredentialConfig": {
            "EnableCredentialInject": True,
            "CredentialConfigItems": [
                {
                    "Key": "default",
                    "Type": "Role",
                    "Roles": [
                        {
                            "RoleArn": "acs:ram::123456789012:role/pai-mlops-dev-dlc",
                            "RoleType": "service",  # a role PAI assumes (trusted by pai.aliyuncs.com)
                            "AssumeRoleFor": "123456789012",
                        }
                    ],
                }
            ],
        },
        "Settings": {"Tags": {"environment": "dev", "owner": "ml-platform", KEY_TAG: key, "pai-mlops-attempt": "1"}},
        "CustomEnvs": [],
    }
    progress = [line for line in host.stderr.splitlines() if line.startswith("[pai-mlops] training job train-fraud")]
    states = [re.sub(r"\(dlc\w+\)", "(ID)", line).split(",")[0] for line in progress]
    assert states == [
        f"[pai-mlops] training job train-fraud: submitted attempt 1 as {job_id}",
        "[pai-mlops] training job train-fraud: attempt 1 (ID) Creating",
        "[pai-mlops] training job train-fraud: attempt 1 (ID) Queuing",
        "[pai-mlops] training job train-fraud: attempt 1 (ID) Running",
        "[pai-mlops] training job train-fraud: attempt 1 (ID) Succeeded",
    ]


def test_wait_none_returns_once_the_job_is_submitted(host: ProviderHost, cloud: Control) -> None:
    cloud.clock(speed=1)
    outs = create(host, inputs(wait="none"))
    assert outs["status"] == "Creating"
    assert len(actions(cloud, "GetJob")) == 1


def test_wait_running_returns_once_the_job_runs(host: ProviderHost, cloud: Control) -> None:
    cloud.timing(dlc={"running": 1e6})
    outs = create(host, inputs(wait="running"))
    assert outs["status"] == "Running"
    assert outs["duration_seconds"] < 600


# -- preemption and resubmission -------------------------------------------------------------------------------


def test_preempted_twice_resumes_each_time_from_the_newest_complete_checkpoint(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    cloud.clock(speed=200)  # slow enough for the test to write checkpoints while each attempt runs
    long = {"outcome": "succeeded", "after_running_seconds": 1e6}
    cloud.job_outcomes(long, long, {"outcome": "succeeded", "after_running_seconds": 100})

    def running(count: int) -> bool:
        found = jobs(clients)
        return len(found) == count and found[-1]["Status"] == "Running"

    with ThreadPoolExecutor(1) as pool:
        result: Future[dict[str, Any]] = pool.submit(create, host, inputs())
        wait_until(lambda: running(1), timeout=20)
        put_checkpoint(clients, "step-100", complete=True)
        put_checkpoint(clients, "step-250", complete=False)  # being written when the instance goes
        cloud.preempt_job(jobs(clients)[0]["JobId"])

        wait_until(lambda: running(2), timeout=20)
        put_checkpoint(clients, "step-250", complete=True)
        put_checkpoint(clients, "step-1000", complete=False)
        cloud.preempt_job(jobs(clients)[1]["JobId"])

        outs = result.result(timeout=60)

    first, second, third = jobs(clients)
    sent = [call["body"] for call in actions(cloud, "CreateJob")]  # GetJob does not echo MountAccess
    checkpoints = {
        "Uri": "oss://mlops-dev.oss-cn-hangzhou-internal.aliyuncs.com/checkpoints/fraud/r1/",
        "MountPath": "/mnt/checkpoints",
        "MountAccess": "RW",
    }
    assert all(checkpoints in body["DataSources"] for body in sent)
    assert "PAI_MLOPS_RESUME_FROM" not in first["Envs"]
    assert second["Envs"]["PAI_MLOPS_RESUME_FROM"] == "/mnt/checkpoints/step-100/"
    assert second["Envs"]["PAI_MLOPS_RESUME_FROM_URI"] == "oss://mlops-dev/checkpoints/fraud/r1/step-100/"
    assert third["Envs"]["PAI_MLOPS_RESUME_FROM"] == "/mnt/checkpoints/step-250/"
    assert [job["Envs"]["PAI_MLOPS_ATTEMPT"] for job in (first, second, third)] == ["1", "2", "3"]
    assert [job["Settings"]["Tags"]["pai-mlops-attempt"] for job in (first, second, third)] == ["1", "2", "3"]

    assert outs["status"] == "Succeeded" and outs["job_id"] == third["JobId"]
    assert [(a["job_id"], a["status"], a["reason"], a["checkpoint"]) for a in outs["attempts"]] == [
        (first["JobId"], "Failed", PREEMPTED, ""),
        (second["JobId"], "Failed", PREEMPTED, "oss://mlops-dev/checkpoints/fraud/r1/step-100/"),
        (third["JobId"], "Succeeded", "", "oss://mlops-dev/checkpoints/fraud/r1/step-250/"),
    ]
    assert "attempt 2 was preempted; resubmitting from checkpoint oss://mlops-dev/checkpoints/fraud/r1/step-250/" in (
        host.stderr
    )


def test_spent_resubmissions_fail_listing_every_attempt(host: ProviderHost, cloud: Control) -> None:
    preempted = {"outcome": "preempted", "after_running_seconds": 60}
    cloud.job_outcomes(preempted, preempted, preempted, {"outcome": "succeeded"})

    with pytest.raises(ProviderFailed) as failure:
        create(host, inputs(max_resubmits=2))

    ids = [call["body"]["DisplayName"] for call in actions(cloud, "CreateJob")]
    assert [name[-2:] for name in ids] == ["-1", "-2", "-3"]
    message = failure.value.details
    assert "training job train-fraud: attempt 3 was preempted and all 2 resubmission(s) (max_resubmits) are spent:" in (
        message
    )
    lines = re.findall(r"  - attempt (\d) dlc\w+: (\w+) \((.*?)\), (fresh start|resumed from \S+),", message)
    assert lines == [
        ("1", "Failed", PREEMPTED, "fresh start"),
        ("2", "Failed", PREEMPTED, "fresh start"),  # nothing was checkpointed
        ("3", "Failed", PREEMPTED, "fresh start"),
    ]


def test_a_failing_command_is_not_resubmitted_when_only_preemption_is(host: ProviderHost, cloud: Control) -> None:
    cloud.job_outcomes({"outcome": "failed", "after_running_seconds": 30, "reason_code": "JobFailed"})

    with pytest.raises(ProviderFailed) as failure:
        create(host, inputs())

    assert len(actions(cloud, "CreateJob")) == 1
    assert (
        "attempt 1 failed (JobFailed: The user command exited with code 1.); resubmit_on is 'preemption', so a "
        "failure of the code is not retried." in failure.value.details
    )


def test_any_failure_resubmits_a_failing_command(host: ProviderHost, cloud: Control) -> None:
    cloud.job_outcomes({"outcome": "failed", "after_running_seconds": 30}, {"outcome": "succeeded"})

    outs = create(host, inputs(resubmit_on="any_failure", max_resubmits=1))

    assert [(a["status"], a["reason"].split(":")[0]) for a in outs["attempts"]] == [
        ("Failed", "JobFailed"),
        ("Succeeded", ""),
    ]
    assert len(actions(cloud, "CreateJob")) == 2


# -- no duplicate runs -------------------------------------------------------------------------------------------


def test_a_lost_create_answer_is_resolved_by_looking_not_by_submitting_again(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    cloud.fault("CreateJob", "lost_response", api="dlc")

    outs = create(host, inputs())

    [call] = actions(cloud, "CreateJob")  # the one that took effect: its answer never arrived
    assert (call["status"], call["fault"]) == (200, "lost_response")
    [job] = jobs(clients)
    assert outs["job_id"] == job["JobId"] and outs["status"] == "Succeeded"
    assert "the server may have acted on it; looking for attempt 1 before submitting again" in host.stderr
    assert f"attempt 1 was submitted as {job['JobId']}; adopting it" in host.stderr


def test_a_retried_create_adopts_the_run_an_interrupted_one_started_even_after_a_week(
    emulator: Emulator, own_host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    host = own_host
    cloud.job_outcomes({"outcome": "succeeded", "after_running_seconds": 3 * 24 * 3600})
    props = inputs(max_runtime_minutes=5000)
    with ThreadPoolExecutor(1) as pool:
        interrupted = pool.submit(create, host, props)
        wait_until(lambda: [job["Status"] for job in jobs(clients)] == ["Running"], timeout=20)
        host.__exit__()  # pulumi up is killed while it waits
        with pytest.raises(ProviderFailed):
            interrupted.result(timeout=10)

    cloud.clock(advance=8 * 24 * 3600)  # past ListJobs' default 7-day window; the job finished meanwhile
    with ProviderHost(env=emulator.environment()) as retried:
        retried.configure(PROVIDER_CONFIG)
        outs = create(retried, props)
        stderr = retried.stderr

    [job] = jobs(clients)
    assert len(actions(cloud, "CreateJob")) == 1
    assert outs["job_id"] == job["JobId"] and outs["status"] == "Succeeded"
    assert "adopting the run this resource already started (1 attempt(s), latest" in stderr
    listing = [call["query"] for call in actions(cloud, "ListJobs") if "Tags" in call["query"]][-1]
    assert listing["Tags"] == f'{{"{KEY_TAG}":"{job_key(props)}"}}'
    assert listing["DisplayName"] == f"train-fraud-{job_key(props)[:8]}"
    assert listing["StartTime"] < "2026-11-01"  # looks back a year, not the default week


def test_a_changed_run_never_adopts_the_job_of_the_run_it_replaces(host: ProviderHost, cloud: Control) -> None:
    first = create(host, inputs())
    second = create(host, inputs(image="registry.cn-hangzhou.aliyuncs.com/acme/train:1.1"))
    assert first["key"] != second["key"] and first["job_id"] != second["job_id"]
    assert len(actions(cloud, "CreateJob")) == 2


# -- faults and deadlines ---------------------------------------------------------------------------------------


def test_throttling_and_server_errors_while_watching_are_retried(host: ProviderHost, cloud: Control) -> None:
    cloud.fault("GetJob", "throttle", times=2, api="dlc")
    cloud.fault("GetJob", "server_error", times=1, api="dlc", status=503)

    outs = create(host, inputs())

    assert outs["status"] == "Succeeded"
    faulted = [(call["status"], call["fault"]) for call in actions(cloud, "GetJob") if call["fault"]]
    assert faulted == [(400, "throttle"), (400, "throttle"), (503, "server_error")]
    assert "Throttling.User (HTTP 400): code: 400, Request was denied due to user flow control." in host.stderr
    assert len(actions(cloud, "CreateJob")) == 1


def test_a_run_past_its_runtime_budget_is_stopped_and_fails(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    cloud.timing(dlc={"running": 1e6})

    with pytest.raises(ProviderFailed) as failure:
        create(host, inputs(max_runtime_minutes=1))

    [job] = jobs(clients)
    assert job["Status"] == "Stopped"
    assert len(actions(cloud, "StopJob")) == 1
    assert re.search(
        r"attempt 1 \(dlc\w+\) was still Running after \d+ minutes, past max_runtime_minutes \(\+5 min grace\) = 6 "
        r"minutes; pai-mlops stopped it\. Raise the budget if the run legitimately takes longer; its checkpoints stay "
        r"under oss://mlops-dev/checkpoints/fraud/r1/\.",
        failure.value.details,
    )


def test_a_run_that_never_leaves_the_queue_is_stopped_at_its_queue_budget(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    cloud.timing(dlc={"queuing": 1e6})

    with pytest.raises(ProviderFailed) as failure:
        create(host, inputs(queue_timeout_minutes=2))

    assert [job["Status"] for job in jobs(clients)] == ["Stopped"]
    assert "was still Queuing after" in failure.value.details
    assert "past queue_timeout_minutes = 2 minutes; pai-mlops stopped it." in failure.value.details


# -- diff, update, read, delete, check ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, ("DIFF_NONE", [])),
        ({"image": "registry.cn-hangzhou.aliyuncs.com/acme/train:1.1"}, ("DIFF_SOME", ["image"])),
        ({"command": "python train.py --epochs 20"}, ("DIFF_SOME", ["command"])),
        ({"data_sources": []}, ("DIFF_SOME", ["data_sources"])),
        ({"code": {**INPUTS["code"], "commit": "9e0f"}}, ("DIFF_SOME", ["code"])),
        (
            {"worker_count": 4, "instance_type": "ecs.gn7i-c8g1.2xlarge"},
            ("DIFF_SOME", ["worker_count", "instance_type"]),
        ),
        ({"job_type": "TFJob", "roles": {}}, ("DIFF_SOME", ["job_type", "roles"])),
        ({"tags": {"environment": "dev", "owner": "research"}}, ("DIFF_SOME", [])),
        ({"description": "fraud scorer, rerun"}, ("DIFF_SOME", [])),
        ({"max_resubmits": 5, "wait": "running"}, ("DIFF_SOME", [])),
    ],
)
def test_diff_replaces_what_defines_the_run_and_updates_the_rest(
    host: ProviderHost, change: dict[str, Any], expected: tuple[str, list[str]]
) -> None:
    diff = host.diff(TrainingJobProvider(), "key", inputs(), inputs(**change))
    assert (diff.changes, diff.replaces) == expected
    assert diff.delete_before_replace is True


def test_update_retags_and_redescribes_every_attempt_in_place(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    cloud.job_outcomes({"outcome": "preempted", "after_running_seconds": 60}, {"outcome": "succeeded"})
    olds = create(host, inputs())
    news = inputs(tags={"environment": "dev", "team": "fraud"}, description="fraud scorer, run r1 (kept)")

    outs = host.update(TrainingJobProvider(), olds["key"], olds, news)

    assert (outs["job_id"], outs["attempts"]) == (olds["job_id"], olds["attempts"])
    assert (outs["tags"], outs["description"]) == (news["tags"], news["description"])
    for job in jobs(clients):
        assert job["Description"] == "fraud scorer, run r1 (kept)"
        assert {k: v for k, v in job["Settings"]["Tags"].items() if not k.startswith("pai-mlops-")} == {
            "environment": "dev",
            "team": "fraud",
        }
        assert job["Settings"]["Tags"][KEY_TAG] == olds["key"]
    assert len(actions(cloud, "UpdateJob")) == 2
    [untag] = actions(cloud, "UntagResources")
    assert untag["query"]["TagKey"] == '["owner"]'
    assert len(actions(cloud, "CreateJob")) == 2  # nothing resubmitted


def test_refresh_shows_a_job_stopped_out_of_band(host: ProviderHost, cloud: Control, clients: ClientFactory) -> None:
    cloud.timing(dlc={"running": 1e6})
    outs = create(host, inputs(wait="running"))
    clients.dlc().stop_job(outs["job_id"])
    cloud.clock(advance=60)

    id_, refreshed = host.read(TrainingJobProvider(), outs["key"], outs)

    assert id_ == outs["key"]
    assert refreshed["status"] == "Stopped" and refreshed["attempts"][-1]["status"] == "Stopped"
    assert refreshed["attempts"][-1]["ended"] != ""


def test_refresh_of_a_finished_run_whose_records_were_deleted_keeps_it(
    host: ProviderHost, clients: ClientFactory
) -> None:
    """The deploy refreshes before every up: a trained model must not be trained again because DLC's records went."""
    outs = create(host, inputs())
    assert outs["status"] == "Succeeded"
    clients.dlc().delete_job(outs["job_id"])

    id_, kept = host.read(TrainingJobProvider(), outs["key"], outs)

    assert (id_, kept["job_id"], kept["status"]) == (outs["key"], outs["job_id"], "Succeeded")
    assert kept["attempts"] == outs["attempts"]
    assert "its job records are gone; the finished run stays in state as it was" in host.stderr


def test_refresh_of_an_unfinished_run_whose_records_were_deleted_drops_the_resource(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    cloud.timing(dlc={"running": 1e6})
    outs = create(host, inputs(wait="running"))
    assert outs["status"] == "Running"
    clients.dlc().stop_job(outs["job_id"])  # someone stops it in the console and deletes its record
    cloud.clock(advance=60)
    clients.dlc().delete_job(outs["job_id"])

    assert host.read(TrainingJobProvider(), outs["key"], outs) == ("", {})


def test_delete_stops_a_running_job_and_keeps_its_record(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    cloud.timing(dlc={"running": 1e6})
    outs = create(host, inputs(wait="running"))

    host.delete(TrainingJobProvider(), outs["key"], outs)

    assert [job["Status"] for job in jobs(clients)] == ["Stopped"]
    assert len(actions(cloud, "StopJob")) == 1 and actions(cloud, "DeleteJob") == []


def test_delete_with_delete_records_removes_every_attempt(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    cloud.job_outcomes({"outcome": "preempted", "after_running_seconds": 60}, {"outcome": "succeeded"})
    outs = create(host, inputs(delete_records=True))

    host.delete(TrainingJobProvider(), outs["key"], outs)

    assert jobs(clients) == []
    assert actions(cloud, "StopJob") == []  # both had finished
    assert sorted(call["path"] for call in actions(cloud, "DeleteJob")) == sorted(
        f"/api/v1/jobs/{attempt['job_id']}" for attempt in outs["attempts"]
    )


def test_check_names_each_bad_input(host: ProviderHost) -> None:
    bad = inputs(
        job_type="TorchJob",
        wait="completed",
        max_runtime_minutes=None,
        spot_discount_limit=1.5,
        env={"PAI_MLOPS_ATTEMPT": "7"},
    )
    checked, failures = host.check(TrainingJobProvider(), {}, bad)
    assert failures == [
        (
            "job_type",
            "must be one of PyTorchJob, TFJob, MPIJob, XGBoostJob, OneFlowJob, ElasticBatchJob, RayJob; got 'TorchJob'",
        ),
        ("roles", "TorchJob has no role 'Master' besides Worker; choose from none"),
        (
            "spot_discount_limit",
            "spot needs a discount limit above 0 and at most 1 (0.6 = pay at most 60% of the on-demand price); got 1.5",
        ),
        ("spot", "DLC runs spot jobs on shared resources for PyTorchJob only"),
        ("max_runtime_minutes", "wait 'completed' needs a max runtime, so pulumi up cannot wait forever"),
        ("env", "PAI_MLOPS_ATTEMPT is set by pai-mlops itself; use another name"),
    ]
    assert checked["worker_count"] == 2 and checked["queue_timeout_minutes"] == 60


def test_a_retried_create_never_restarts_a_run_that_was_stopped(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    cloud.timing(dlc={"running": 1e6})
    outs = create(host, inputs(wait="running"))
    clients.dlc().stop_job(outs["job_id"])
    cloud.clock(advance=60)

    with pytest.raises(ProviderFailed) as failure:
        create(host, inputs(wait="running"))

    assert len(actions(cloud, "CreateJob")) == 1
    assert (
        f"training job train-fraud: job {outs['job_id']} is Stopped (stopped in the console, past a budget or by a "
        "destroy); pai-mlops never restarts a stopped job. Give the run a new id to train again."
        in failure.value.details
    )


# -- records deleted in the console, typed check ------------------------------------------------------------------


def test_an_update_carries_on_with_the_attempts_whose_records_exist(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    cloud.job_outcomes({"outcome": "preempted", "after_running_seconds": 60}, {"outcome": "succeeded"})
    olds = create(host, inputs())
    first, second = (attempt["job_id"] for attempt in olds["attempts"])
    clients.dlc().delete_job(first)  # someone cleans up the preempted attempt in the console

    news = inputs(tags={"environment": "dev", "team": "fraud"}, description="fraud scorer, run r1 (kept)")
    outs = host.update(TrainingJobProvider(), olds["key"], olds, news)

    assert [call["path"] for call in actions(cloud, "UpdateJob")] == [f"/api/v1/jobs/{second}"]
    [tag] = actions(cloud, "TagResources")
    assert tag["body"]["ResourceId"] == [second]
    assert (outs["job_id"], outs["tags"]) == (second, news["tags"])
    assert f"{first} (attempt 1) no longer exists; carrying on with the attempts that do" in host.stderr


@pytest.mark.parametrize("deletion", ["removed", "soft-deleted"])
def test_refresh_keeps_a_run_while_any_record_exists_and_a_finished_one_when_none_does(
    host: ProviderHost, cloud: Control, clients: ClientFactory, deletion: str
) -> None:
    cloud.job_outcomes({"outcome": "preempted", "after_running_seconds": 60}, {"outcome": "succeeded"})
    outs = create(host, inputs())
    first, second = (attempt["job_id"] for attempt in outs["attempts"])

    def delete(job_id: str) -> None:  # DLC may remove a deleted job or keep its record as Deleted (UNCONFIRMED)
        if deletion == "removed":
            clients.dlc().delete_job(job_id)
        else:
            cloud.soft_delete_job(job_id)

    delete(first)

    id_, refreshed = host.read(TrainingJobProvider(), outs["key"], outs)
    assert id_ == outs["key"] and refreshed["job_id"] == second
    assert [(a["job_id"], a["status"]) for a in refreshed["attempts"]] == [(first, "Deleted"), (second, "Succeeded")]
    assert refreshed["attempts"][0]["reason"] == (
        "the job record no longer exists (deleted in the console or by delete_records)"
    )
    delete(second)
    id_, kept = host.read(TrainingJobProvider(), outs["key"], refreshed)  # it succeeded: its model is in OSS
    assert id_ == outs["key"] and [a["status"] for a in kept["attempts"]] == ["Deleted", "Succeeded"]


@pytest.mark.parametrize(
    ("changes", "failure"),
    [
        (
            {"worker_count": "2"},
            (
                "worker_count",
                "TrainingJob [worker_count]: must be a whole number; got '2'. Give the worker pods, at least 1.",
            ),
        ),
        (
            {"worker_count": True},
            (
                "worker_count",
                "TrainingJob [worker_count]: must be a whole number; got True. Give the worker pods, at least 1.",
            ),
        ),
        (
            {"max_resubmits": -1},
            (
                "max_resubmits",
                "TrainingJob [max_resubmits]: must be at least 0; got -1. Give a whole number, 0 or more.",
            ),
        ),
        (
            {"spot": "false"},
            ("spot", "TrainingJob [spot]: must be true or false; got 'false'. Write true or false (not a string)."),
        ),
        (
            {"data_sources": "oss://mlops-dev/data/"},
            (
                "data_sources",
                "TrainingJob [data_sources]: must be a list; got 'oss://mlops-dev/data/'. "
                "List {uri, mount_path} objects.",
            ),
        ),
        (
            {"roles": "Master"},
            (
                "roles",
                "TrainingJob [roles]: must be an object (a YAML mapping); got 'Master'. "
                "Map extra roles to pod counts, e.g. {Master: 1}.",
            ),
        ),
        (
            {"image": ""},
            ("image", "TrainingJob [image]: must not be empty; got ''. Give the training image reference."),
        ),
        (
            {"poll_seconds": "30"},
            (
                "poll_seconds",
                "TrainingJob [poll_seconds]: must be a number; got '30'. Give a positive number of seconds.",
            ),
        ),
    ],
)
def test_check_refuses_each_wrongly_typed_input_naming_it_and_the_fix(
    host: ProviderHost, changes: dict[str, Any], failure: tuple[str, str]
) -> None:
    _, failures = host.check(TrainingJobProvider(), {}, inputs(**changes))
    assert failures == [failure]
