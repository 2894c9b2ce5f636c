"""The DLC job records of one TrainingJob run: the run's state (its key and attempts), the retried calls, reading
and finding its jobs again, and what acts on the records in place (description, tags, refresh, stop, delete).

``training_run.py`` drives a run to its end on top of this; the provider (providers/training.py) uses these records
alone for ``update``, ``read`` and ``delete``.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from providers.training_attempts import TERMINAL, Attempt, format_time
from providers.training_request import attempt_number, display_name, is_attempt_of, job_key
from providers.training_spec import KEY_TAG, RESERVED_TAGS

# ListJobs only looks back 7 days unless told otherwise; a run is looked for this far back.
LOOKBACK_DAYS: Final = 365


CALL_BUDGET_SECONDS: Final = 300.0  # one API call, its retries included


STOP_BUDGET_SECONDS: Final = 600.0  # stopping a job on delete or past its deadline


# How an attempt whose job record was deleted (in the console, or by delete_records) shows in ``attempts``.
RECORD_GONE: Final = ("Deleted", "the job record no longer exists (deleted in the console or by delete_records)")


class TrainingFailed(Exception):
    """The run did not end as asked; the message lists every attempt."""


class RunRecords:
    """One resource's run as DLC records it: its attempts, and the calls that read, find, change and stop them."""

    def __init__(self, config: Any, props: dict[str, Any]) -> None:
        from providers.clients import ClientFactory
        from providers.waiting import progress

        self.props = props
        self.key = job_key(props)
        self.factory = ClientFactory.from_config(config)
        self.client = self.factory.dlc()
        self.report: Callable[[str], None] = progress
        self.label = f"training job {props['display_name']}"
        self.attempts: list[Attempt] = []
        self.server_now: float = time.time()

    # -- state ------------------------------------------------------------------------------------------------

    @property
    def current(self) -> Attempt:
        return self.attempts[-1]

    def restore(self, outputs: Mapping[str, Any]) -> None:
        """Continue from the state of an earlier operation: its key (as recorded, however it was computed) and
        its attempts."""
        self.key = str(outputs.get("key") or self.key)
        self.attempts = [Attempt.from_output(item) for item in outputs.get("attempts") or []]
        if not self.attempts and outputs.get("job_id"):
            self.attempts = [Attempt(1, str(outputs["job_id"]), str(outputs.get("status") or ""))]

    def outputs(self) -> dict[str, Any]:
        current = self.current
        return {
            **self.props,
            "key": self.key,
            "job_id": current.job_id,
            "status": current.status,
            "attempts": [attempt.as_output() for attempt in self.attempts],
            "model_uri": self.props["output_uri"],
            "duration_seconds": sum(attempt.duration_seconds for attempt in self.attempts),
        }

    # -- calls ------------------------------------------------------------------------------------------------

    def _call(self, what: str, operation: Callable[[], Any], *, idempotent: bool = True) -> Any:
        from providers import retry
        from providers.waiting import Deadline

        response = retry.call(operation, what=what, deadline=Deadline(CALL_BUDGET_SECONDS), idempotent=idempotent)
        # The server's clock, from any answer that carries a Date header (oss2's booleans do not).
        date = (getattr(response, "headers", None) or {}).get("date")
        if isinstance(date, str) and date:
            self.server_now = email.utils.parsedate_to_datetime(date).timestamp()
        return response

    def get(self, job_id: str) -> dict[str, Any] | None:
        """GetJob as a dict of wire names; None when the job no longer exists.

        Gone is a 404, or a record DLC still answers for with ``Status: Deleted``: whether a deleted job is removed
        or kept as a soft-deleted record (ListJobs items carry ``IsDeleted``, SDK 1.11.6 ``JobItem``) is
        UNCONFIRMED, so both read as gone.
        """
        from alibabacloud_pai_dlc20201203 import models as dlc

        from providers import retry

        try:
            response = self._call(
                f"{self.label}: read {job_id}", lambda: self.client.get_job(job_id, dlc.GetJobRequest(need_detail=True))
            )
        except Exception as error:
            if retry.is_not_found(error):
                return None
            raise
        job: dict[str, Any] = response.body.to_map()
        return None if job.get("Status") == "Deleted" else job

    def find(self) -> list[dict[str, Any]]:
        """Every job submitted for this run, oldest attempt first.

        ``ListJobs(Tags=…)`` is asked first; what its filter matches is unconfirmed (the SDK says only "the tags
        used for filtering": it may filter a tag set other than ``Settings.Tags``). If it finds nothing, the
        deterministic display name (``<name>-<key8>-<attempt>``, a fuzzy filter) is asked too, so an interrupted
        ``up`` adopts its job instead of submitting a second one. Either way a job counts only when it carries the
        run's key, or carries no key and has exactly this run's display name (:func:`is_attempt_of`).
        """
        found = self._list(by_tags=True) or self._list(by_tags=False)

        def number(job: Mapping[str, Any]) -> int:
            return attempt_number(job, self.props, self.key)

        return sorted(found.values(), key=number)

    def _list(self, *, by_tags: bool) -> dict[str, dict[str, Any]]:
        from alibabacloud_pai_dlc20201203 import models as dlc

        since = datetime.fromtimestamp(self.server_now, UTC) - timedelta(days=LOOKBACK_DAYS)
        how = "by its key tag" if by_tags else "by its display name"
        found: dict[str, dict[str, Any]] = {}
        page = 1
        while True:
            request = dlc.ListJobsRequest(
                display_name=display_name(self.props, self.key, 0).rsplit("-", 1)[0],
                start_time=format_time(since.timestamp()),
                workspace_id=self.props["workspace_id"],
                page_number=page,
                page_size=50,
            )
            if by_tags:
                request.tags = {KEY_TAG: self.key}
            body = self._call(f"{self.label}: look for its jobs {how}", lambda r=request: self.client.list_jobs(r)).body
            items = [item.to_map() for item in body.jobs or []]
            for item in items:
                job = item if (item.get("Settings") or {}).get("Tags") else self.get(str(item["JobId"]))
                if job is not None and is_attempt_of(job, self.props, self.key):
                    found[str(job["JobId"])] = job  # listing filters are fuzzy: trust only the exact key or name
            if not items or page * 50 >= int(body.total_count or 0):
                break
            page += 1
        return found

    # -- changes in place, refresh, stop and delete -----------------------------------------------------------

    def existing(self) -> list[Attempt]:
        """The attempts whose job record still exists; the others are reported and left alone."""
        found: list[Attempt] = []
        for attempt in self.attempts:
            if self.get(attempt.job_id) is None:
                self.report(
                    f"{self.label}: {attempt.job_id} (attempt {attempt.attempt}) no longer exists; "
                    "carrying on with the attempts that do"
                )
            else:
                found.append(attempt)
        return found

    def describe(self, description: str, attempts: Sequence[Attempt]) -> None:
        from alibabacloud_pai_dlc20201203 import models as dlc

        for attempt in attempts:
            self._call(
                f"{self.label}: describe {attempt.job_id}",
                lambda a=attempt: self.client.update_job(a.job_id, dlc.UpdateJobRequest(description=description)),
            )

    def retag(self, old: Mapping[str, str], new: Mapping[str, str], attempts: Sequence[Attempt]) -> None:
        """Set the new tags on every attempt and remove dropped ones; the run's own key tags are never touched."""
        from alibabacloud_pai_dlc20201203 import models as dlc

        ids = [attempt.job_id for attempt in attempts]
        if not ids:
            return
        region = self.factory.region
        if new:
            tags = [dlc.TagResourcesRequestTag(key=k, value=str(v)) for k, v in sorted(new.items())]
            request = dlc.TagResourcesRequest(region_id=region, resource_id=ids, resource_type="Job", tag=tags)
            self._call(f"{self.label}: tag its jobs", lambda: self.client.tag_resources(request))
        dropped = sorted(set(old) - set(new) - RESERVED_TAGS)
        if dropped:
            untag = dlc.UntagResourcesRequest(resource_id=ids, resource_type="Job", tag_key=dropped)
            self._call(f"{self.label}: untag its jobs", lambda: self.client.untag_resources(untag))

    def refresh(self) -> bool:
        """Re-read every attempt. One whose job record was deleted stays in the history as ``Deleted``; False when
        no record of the run is left (refresh then drops the resource)."""
        left = 0
        for attempt in self.attempts:
            job = self.get(attempt.job_id)
            if job is None:
                attempt.status, attempt.reason = RECORD_GONE
            else:
                attempt.observe(job)
                left += 1
        return left > 0

    def stop_current(self, *, reason: str) -> None:
        """Stop the current attempt if it has not finished, and wait until DLC says it stopped."""
        from providers import retry

        job_id = self.current.job_id
        job = self.get(job_id)
        if job is None or job.get("Status") in TERMINAL:
            return
        self.report(f"{self.label}: stopping {job_id} ({job.get('Status')}) because {reason}")
        if job.get("Status") != "Stopping":
            try:
                self._call(f"{self.label}: stop {job_id}", lambda: self.client.stop_job(job_id))
            except Exception as error:
                if retry.code_of(error) != "InvalidJobStatus":  # it finished or began stopping meanwhile
                    raise
        started = time.monotonic()
        while job is not None and job.get("Status") not in TERMINAL:
            if time.monotonic() - started > STOP_BUDGET_SECONDS:
                raise TrainingFailed(
                    f"{self.label}: job {job_id} was asked to stop but is still {job.get('Status')} after "
                    f"{STOP_BUDGET_SECONDS:.0f}s; stop it in the PAI console."
                )
            time.sleep(min(float(self.props["poll_seconds"]), 10.0))
            job = self.get(job_id)
        if job is not None:
            self.current.observe(job)
            self.report(f"{self.label}: {job_id} is {job.get('Status')}")

    def delete_records(self) -> None:
        from providers import retry

        for attempt in self.attempts:
            try:
                self._call(f"{self.label}: delete {attempt.job_id}", lambda a=attempt: self.client.delete_job(a.job_id))
            except Exception as error:
                if not retry.is_not_found(error):
                    raise
