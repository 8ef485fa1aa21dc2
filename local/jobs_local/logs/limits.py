"""CloudWatch Logs' limits on writing and reading a stream.

Replaces: moto's `LogsBackend.put_log_events` and `LogsBackend.get_log_events`, which take a batch
of any size and give a page of up to 10,000 events, however large.
- `PutLogEvents` takes at most 10,000 events and 1,048,576 bytes per call, each event counted as its
  message's UTF-8 bytes plus 26, and no event over 262,144 bytes: over any of them the whole call is
  refused with `InvalidParameterException`, as AWS refuses it.
- `GetLogEvents` gives at most 1 MB of events per page (and at most 10,000): a reader that does not
  follow `nextForwardToken` misses the rest, as on AWS.
"""

from __future__ import annotations

from typing import Any

from moto.logs.exceptions import InvalidParameterException
from moto.logs.models import LogsBackend, LogStream

from jobs_local.patching import Patch

MAX_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
MAX_EVENT_BYTES = 262_144
EVENT_OVERHEAD = 26  # bytes AWS adds to each event's message when it counts a batch
MAX_PAGE_BYTES = 1_048_576

_moto_put_log_events = LogsBackend.put_log_events
_moto_get_log_events = LogStream.get_log_events


def _put_log_events(self: LogsBackend, log_group_name: str, log_stream_name: str, log_events: list[dict]) -> Any:
    if len(log_events) > MAX_EVENTS:
        raise InvalidParameterException(
            constraint=f"Member must have length less than or equal to {MAX_EVENTS}",
            parameter="logEvents",
            value=f"{len(log_events)} events",
        )
    total = 0
    for event in log_events:
        size = len(str(event.get("message", "")).encode())
        if size > MAX_EVENT_BYTES:
            raise InvalidParameterException(f"Log event too large: {size} bytes exceeds limit of {MAX_EVENT_BYTES}")
        total += size + EVENT_OVERHEAD
    if total > MAX_BATCH_BYTES:
        raise InvalidParameterException(f"Upload too large: {total} bytes exceeds limit of {MAX_BATCH_BYTES}")
    return _moto_put_log_events(self, log_group_name, log_stream_name, log_events)


def _fits(events: list[dict[str, Any]]) -> int:
    """How many of the events, in order, fit in one page."""
    size = 0
    for count, event in enumerate(events):
        size += len(str(event.get("message", "")).encode()) + EVENT_OVERHEAD
        if size > MAX_PAGE_BYTES and count > 0:
            return count
    return len(events)


def _get_log_events(
    self: LogStream, start_time: Any, end_time: Any, limit: int, next_token: str | None, start_from_head: Any
) -> tuple[list[dict[str, Any]], str | None, str | None]:
    events, backward, forward = _moto_get_log_events(self, start_time, end_time, limit, next_token, start_from_head)
    if not events or backward is None or forward is None:
        return events, backward, forward
    first, last = int(backward[2:]), int(forward[2:])  # moto's tokens hold the page's first and last index
    reading_forward = next_token.startswith("f") if next_token else bool(start_from_head)
    if reading_forward:
        kept = _fits(events)
        return events[:kept], backward, f"f/{first + kept - 1:056d}"
    kept = _fits(events[::-1])  # backwards, the newest events are the page's
    return events[len(events) - kept :], f"b/{last - kept + 1:056d}", forward


PATCH = Patch(
    "moto's put_log_events and get_log_events, which take batches and give pages of any size",
    [(LogsBackend, "put_log_events", _put_log_events), (LogStream, "get_log_events", _get_log_events)],
)
