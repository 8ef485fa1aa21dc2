"""EventBridge's limit on a PutEvents request: 256 KB, all its entries together.

Replaces: moto's `EventsBackend.put_events`, which checks the number of entries (10 at most) but
takes a request of any size. AWS refuses the whole request when the entries' sizes add up to more
than 256 KB: each entry counts the UTF-8 bytes of its Source, DetailType, Detail and Resources, and
14 bytes for a Time.
"""

from __future__ import annotations

from typing import Any

from moto.events.exceptions import ValidationException
from moto.events.models import EventsBackend

from jobs_local.patching import Patch

MAX_REQUEST_BYTES = 256 * 1024

_moto_put_events = EventsBackend.put_events


def entry_size(entry: dict[str, Any]) -> int:
    size = 14 if entry.get("Time") else 0
    size += sum(len(str(entry.get(key) or "").encode()) for key in ("Source", "DetailType", "Detail"))
    return size + sum(len(resource.encode()) for resource in entry.get("Resources") or [])


def _put_events(self: EventsBackend, events: list[dict[str, Any]]) -> Any:
    if sum(entry_size(entry) for entry in events) > MAX_REQUEST_BYTES:
        raise ValidationException("Total size of the entries in the request is over the limit.")
    return _moto_put_events(self, events)


PATCH = Patch(
    "moto's EventsBackend.put_events, which takes a request of any size",
    [(EventsBackend, "put_events", _put_events)],
)
