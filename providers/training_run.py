"""The TrainingJob provider's worker: one run of a DLC job from submission to its end, with resubmission after a
preemption or failure, checkpoints found again and progress on stderr. providers/training.py has the contract; the
provider there calls :class:`Run` to create; the job records it reads and acts on are ``training_records.py``."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Final

from pai_facts import RUNTIME_GRACE_MINUTES
from providers.training_attempts import (
    FAILED,
    STARTED,
    STOPPED,
    SUCCEEDED,
    Attempt,
    attempts_text,
    checkpoint_order,
    parse_time,
)
from providers.training_records import RunRecords, TrainingFailed
from providers.training_request import job_body
from providers.training_spec import ATTEMPT_TAG, COMPLETE_MARKER, RESUME_URI_ENV, OssLocation

HEARTBEAT_SECONDS: Final = 60.0


SUBMIT_TRIES: Final = 3


class Run(RunRecords):
    """One resource's run driven to its end: adopt or submit its jobs, watch them, resubmit, enforce the budgets."""

    # -- create -----------------------------------------------------------------------------------------------

    def adopt(self) -> None:
        """Take over the jobs an earlier ``create`` of this resource submitted, if any."""
        if self._take_over():
            self.report(
                f"{self.label}: adopting the run this resource already started "
                f"({len(self.attempts)} attempt(s), latest {self.current.job_id} {self.current.status})"
            )

    def _take_over(self) -> int:
        """Append the jobs of this run's key that no attempt records yet (submitted by an operation that was
        interrupted or whose answer was lost), oldest first; how many."""
        known = {attempt.job_id for attempt in self.attempts}
        taken = 0
        for job in self.find():
            if str(job["JobId"]) in known:
                continue
            envs = job.get("Envs") or {}
            attempt = Attempt(len(self.attempts) + 1, str(job["JobId"]), checkpoint=str(envs.get(RESUME_URI_ENV) or ""))
            attempt.observe(job)
            self.attempts.append(attempt)
            taken += 1
        return taken

    # -- update: following a run a later pulumi up finds failed --------------------------------------------------

    def resume(self) -> None:
        """Resubmit a run whose current attempt failed after ``pulumi up`` stopped watching it (the provider's
        ``diff`` found it due, :func:`providers.training_attempts.follow_up`), then watch as ``wait`` says.

        An attempt an interrupted update already submitted is adopted first (found by the run's key), so the run
        never gets two jobs for one attempt; if that attempt runs, nothing is submitted.
        """
        if self._take_over():
            self.report(
                f"{self.label}: adopting attempt {self.current.attempt} ({self.current.job_id}), submitted by an "
                f"earlier pulumi up that did not record it"
            )
        job = self.get(self.current.job_id)
        if job is not None:
            self.current.observe(job)
        if self.current.status in FAILED:
            self._after_failure()
        self.watch()

    def submit(self, resume_from: str | None) -> None:
        """Submit the next attempt. A lost answer is resolved by looking for the job before submitting again."""
        from alibabacloud_pai_dlc20201203 import models as dlc

        from providers.retry import AmbiguousOutcome

        number = len(self.attempts) + 1
        body = job_body(self.props, key=self.key, attempt=number, region=self.factory.region, resume_from=resume_from)
        request = dlc.CreateJobRequest().from_map(body)
        job_id: str | None = None
        for _ in range(SUBMIT_TRIES):
            try:
                response = self._call(
                    f"{self.label}: submit attempt {number}", lambda: self.client.create_job(request), idempotent=False
                )
                job_id = str(response.body.job_id)
                break
            except AmbiguousOutcome as error:
                self.report(f"{error}; looking for attempt {number} before submitting again")
                job_id = self._find_attempt(number)
                if job_id is not None:
                    self.report(f"{self.label}: attempt {number} was submitted as {job_id}; adopting it")
                    break
        if job_id is None:
            raise TrainingFailed(
                f"{self.label}: could not submit attempt {number}: DLC did not answer {SUBMIT_TRIES} times and the "
                f"job is not listed. Run pulumi up again; it looks for the job first and never submits it twice."
            )
        self.attempts.append(Attempt(number, job_id, checkpoint=resume_from or ""))
        self.report(
            f"{self.label}: submitted attempt {number} as {job_id}" + (f" from {resume_from}" if resume_from else "")
        )

    def _find_attempt(self, number: int) -> str | None:
        for pause in (0.0, min(float(self.props["poll_seconds"]), 10.0)):
            time.sleep(pause)  # a just-created job may take a moment to be listed
            for job in self.find():
                tags = (job.get("Settings") or {}).get("Tags") or {}
                if tags.get(ATTEMPT_TAG) == str(number):
                    return str(job["JobId"])
        return None

    # -- watching ---------------------------------------------------------------------------------------------

    def watch(self) -> None:
        """Follow the run as ``wait`` says, resubmitting after preemption; raise TrainingFailed if it fails."""
        wait = self.props["wait"]
        last_line, last_report = "", time.monotonic()
        while True:
            job = self.get(self.current.job_id)
            if job is None:
                raise TrainingFailed(f"{self.label}: job {self.current.job_id} disappeared while being watched.")
            self.current.observe(job)
            status = self.current.status
            line = f"attempt {self.current.attempt} ({self.current.job_id}) {status}"
            if line != last_line or time.monotonic() - last_report >= HEARTBEAT_SECONDS:
                self.report(f"{self.label}: {line}{self._elapsed(job)}")
                last_line, last_report = line, time.monotonic()
            finished_waiting = status in SUCCEEDED or wait == "none" or (wait == "running" and status in STARTED)
            if finished_waiting and status not in FAILED | STOPPED:
                return
            if status in FAILED:
                self._after_failure()
                continue
            if status in STOPPED:
                raise TrainingFailed(
                    f"{self.label}: job {self.current.job_id} is {status} (stopped in the console, past a budget or by "
                    f"a destroy); pai-mlops never restarts a stopped job. Give the run a new id to train again.\n"
                    + attempts_text(self.attempts)
                )
            self._enforce_budget(job)
            time.sleep(float(self.props["poll_seconds"]))

    def _elapsed(self, job: Mapping[str, Any]) -> str:
        since = parse_time(job.get("GmtRunningTime")) or parse_time(job.get("GmtCreateTime"))
        return f", {int(self.server_now - since)}s" if since is not None else ""

    def _after_failure(self) -> None:
        preempted = self.current.preempted  # observed from the job just read (or, in resume, from state)
        allowed = preempted or self.props["resubmit_on"] == "any_failure"
        cause = "was preempted" if preempted else "failed"
        if not allowed:
            raise TrainingFailed(
                f"{self.label}: attempt {self.current.attempt} {cause} ({self.current.reason}); resubmit_on is "
                f"'preemption', so a failure of the code is not retried.\n" + attempts_text(self.attempts)
            )
        used = len(self.attempts) - 1
        if used >= self.props["max_resubmits"]:
            raise TrainingFailed(
                f"{self.label}: attempt {self.current.attempt} {cause} and all {self.props['max_resubmits']} "
                f"resubmission(s) (max_resubmits) are spent:\n" + attempts_text(self.attempts)
            )
        checkpoint = self.newest_checkpoint()
        self.report(
            f"{self.label}: attempt {self.current.attempt} {cause}; resubmitting "
            + (f"from checkpoint {checkpoint}" if checkpoint else "from the start (no complete checkpoint yet)")
        )
        self.submit(resume_from=checkpoint)

    def _enforce_budget(self, job: Mapping[str, Any]) -> None:
        created = parse_time(job.get("GmtSubmittedTime")) or parse_time(job.get("GmtCreateTime"))
        running = parse_time(job.get("GmtRunningTime"))
        if self.current.status not in STARTED and created is not None:
            budget, name, since = self.props["queue_timeout_minutes"], "queue_timeout_minutes", created
        elif running is not None and self.props["max_runtime_minutes"]:
            budget = self.props["max_runtime_minutes"] + RUNTIME_GRACE_MINUTES
            name, since = f"max_runtime_minutes (+{RUNTIME_GRACE_MINUTES} min grace)", running
        else:
            return
        waited = self.server_now - since
        if waited <= budget * 60:
            return
        status = self.current.status
        self.stop_current(reason=f"it is past {name}")
        self.current.reason = f"DeadlineExceeded: still {status} after {waited / 60:.0f} min"
        raise TrainingFailed(
            f"{self.label}: attempt {self.current.attempt} ({self.current.job_id}) was still {status} after "
            f"{waited / 60:.0f} minutes, past {name} = {budget} minutes; pai-mlops stopped it. Raise the budget if "
            f"the run legitimately takes longer; its checkpoints stay under {self.props['checkpoint_uri']}.\n"
            + attempts_text(self.attempts)
        )

    # -- checkpoints ------------------------------------------------------------------------------------------

    def newest_checkpoint(self) -> str | None:
        """The OSS URI of the newest checkpoint directory under checkpoint_uri that holds the completion marker."""
        location = OssLocation.parse(self.props["checkpoint_uri"])
        bucket = self.factory.oss_bucket(location.bucket)
        names: list[str] = []
        token = ""
        while True:

            def listing(t: str = token) -> Any:
                return bucket.list_objects_v2(prefix=location.prefix, delimiter="/", continuation_token=t)

            page = self._call(f"{self.label}: list checkpoints", listing)
            names += [prefix.removeprefix(location.prefix).rstrip("/") for prefix in page.prefix_list]
            if not page.is_truncated:
                break
            token = page.next_continuation_token
        for name in sorted(names, key=checkpoint_order, reverse=True):
            marker = f"{location.prefix}{name}/{COMPLETE_MARKER}"
            complete: bool = self._call(
                f"{self.label}: check checkpoint {name}", lambda m=marker: bucket.object_exists(m)
            )
            if complete:
                return location.uri(f"{name}/")
        return None
