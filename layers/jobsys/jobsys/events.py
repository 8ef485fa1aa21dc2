"""`Job State Change` events on EventBridge's default bus, one per change of a job's state, as AWS
Batch puts `Batch Job State Change`. They are put from the jobs table's stream (job_events_handler),
never by the handler that made the change: entries go in requests within PutEvents' limits (10
entries, 256 KB), in the order of the changes, and those refused are tried again. What is still
not put goes back to the stream's event source mapping, which delivers it again."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from jobsys.models import RETRIED_STATES, Job, JobState
from jobsys.observability import logger

DETAIL_TYPE = "Job State Change"
PUT_BATCH = 10  # PutEvents takes 10 entries at most
PUT_BYTES = 256 * 1024  # and 256 KB a request, all its entries together (AWS's limit)
PUT_TRIES = 3  # entries refused (throttled, InternalFailure) are tried again, twice
MAX_DETAIL_BYTES = 200_000  # an entry is 256 KB at most, with its source and type

Change = tuple[Job, JobState | None]  # the job after the change, and its state before (None: created)


def last_attempt(job: Job) -> bool:
    """No attempt follows this one: closed, and not in a state that is tried again while attempts are left."""
    if job.state.is_open:
        return False
    return job.state not in RETRIED_STATES or job.attempt >= job.retries.max_attempts


def detail(job: Job, previous: JobState | None, page_url: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": job.id,
        "definition": job.definition,
        "label": job.label,
        "command": job.command,
        "params": job.params,
        "state": job.state.value,
        "previous_state": previous.value if previous else None,
        "attempt": job.attempt,
        "max_attempts": job.retries.max_attempts,
        "last_attempt": last_attempt(job),
        "queue": job.queue,
        "started_by": job.started_by,
        "exit_code": job.exit_code,
        "reason": job.reason,
        "runtime": job.runtime,
        "root_id": job.root_id,
        "link": f"{page_url}#job-{job.id}" if page_url else None,
    }
    if len(json.dumps(data)) > MAX_DETAIL_BYTES:  # params of up to 400 KB fit a job, not an event
        data["params"], data["params_omitted"] = [], True
    return data


class PageUrl:
    """The back-office page's URL, read from its SSM parameter once it is first needed. Without
    the parameter (a stack without the page) the events go without a link; if it cannot be read
    now, the next change tries again."""

    def __init__(self, ssm: Any, parameter: str):
        self.ssm = ssm
        self.parameter = parameter
        self.url: str | None = None
        self.known = not parameter  # read once: the parameter changes only with a deploy

    def __call__(self) -> str | None:
        if not self.known:
            try:
                self.url = str(self.ssm.get_parameter(Name=self.parameter)["Parameter"]["Value"])
                self.known = True
            except self.ssm.exceptions.ParameterNotFound:
                self.known = True
            except Exception:  # noqa: BLE001 - a link is not worth a job's change
                logger.warning("could not read the page's URL for the events' links", exc_info=True)
        return self.url


class JobEvents:
    """Puts the events of state changes, in order; what fails is tried again."""

    def __init__(self, events: Any, source: str, page_url: Callable[[], str | None]):
        self.events = events  # a boto3 EventBridge client
        self.source = source
        self.page_url = page_url

    def put(self, changes: list[Change]) -> list[Change]:
        """Puts the changes' events; returns those not put, from the first one that could not be:
        the requests after a refused one wait, so that the stream delivers them again in order."""
        page_url = self.page_url()
        pending = [
            (
                change,
                {"Source": self.source, "DetailType": DETAIL_TYPE, "Detail": json.dumps(detail(*change, page_url))},
            )
            for change in changes
        ]
        batches = _batches(pending)
        for position, batch in enumerate(batches):
            for _ in range(PUT_TRIES):
                batch = self._put(batch)
                if not batch:
                    break
            else:
                unsent = [change for change, _ in batch]
                later = [change for rest in batches[position + 1 :] for change, _ in rest]
                logger.warning("job state change events not put; the stream delivers them again", extra=_ids(unsent))
                return [*unsent, *later]
        return []

    def _put(self, batch: list[tuple[Change, dict[str, Any]]]) -> list[tuple[Change, dict[str, Any]]]:
        """Puts one request's entries; returns those not put."""
        try:
            response = self.events.put_events(Entries=[entry for _, entry in batch])
        except Exception:  # noqa: BLE001 - botocore retried already; the change itself is written
            logger.warning("could not put job state change events", extra=_ids([c for c, _ in batch]), exc_info=True)
            return batch
        if not response.get("FailedEntryCount"):
            return []
        answers = response.get("Entries", [])
        refused = [(sent, answer) for sent, answer in zip(batch, answers, strict=False) if answer.get("ErrorCode")]
        logger.warning(
            "EventBridge refused job state change events",
            extra={"failed": [f"{c[0].id}: {a.get('ErrorCode')} {a.get('ErrorMessage')}" for (c, _), a in refused]},
        )
        return [sent for sent, _ in refused]


def entry_size(entry: dict[str, Any]) -> int:
    """An entry's size as PutEvents counts it against its 256 KB: the UTF-8 bytes of its source,
    detail type and detail (and of its resources and time, which these entries do not have)."""
    return sum(len(entry[key].encode()) for key in ("Source", "DetailType", "Detail"))


def _batches(pending: list[tuple[Change, dict[str, Any]]]) -> list[list[tuple[Change, dict[str, Any]]]]:
    """Requests of at most PUT_BATCH entries and PUT_BYTES bytes, in order."""
    batches: list[list[tuple[Change, dict[str, Any]]]] = []
    size = 0
    for item in pending:
        item_size = entry_size(item[1])
        if not batches or len(batches[-1]) >= PUT_BATCH or size + item_size > PUT_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(item)
        size += item_size
    return batches


def _ids(changes: list[Change]) -> dict[str, Any]:
    return {"job_ids": [job.id for job, _ in changes], "states": [job.state.value for job, _ in changes]}
