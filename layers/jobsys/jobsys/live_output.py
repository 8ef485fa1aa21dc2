"""The lines of a running command on their way to its log stream, where readers follow them live.

CloudWatch Logs may refuse or throttle for a while. The lines then wait here, up to a bound; the
oldest are dropped first, and a marker line says how many. Each batch that CloudWatch took is never
sent again, and a failing stream is retried less and less often. The copy saved to S3 at the end
comes from the runner's transcript, and keeps every line whatever happened here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from jobsys.output import OutputNotSent

log = logging.getLogger(__name__)

FLUSH_EVERY = 0.5  # seconds between two sends while they go through
FULL_BATCH = 1000  # lines that are sent at once, without waiting for FLUSH_EVERY
MAX_WAITING_LINES = 10_000  # lines kept while CloudWatch refuses them; older ones are dropped
MAX_BACK_OFF = 30.0  # seconds between two tries of a stream that keeps failing
DROPPED = "[job system] {count} lines dropped: CloudWatch Logs did not take them in time; the saved copy has them all"


class LiveOutput:
    def __init__(self, send: Callable[[list[str]], None], clock: Callable[[], float] = time.monotonic):
        """`send` puts lines into the stream, in batches, and raises OutputNotSent (with how many of
        them it sent) if a batch fails."""
        self.send = send
        self.clock = clock
        self.waiting: list[str] = []
        self.dropped = 0  # counted in the marker line that is first in `waiting`, until it is sent
        self.failures = 0
        self.next_try = clock()

    def add(self, line: str) -> None:
        self.waiting.append(line)
        if len(self.waiting) > MAX_WAITING_LINES:
            self._drop_oldest()

    def due(self) -> bool:
        now = self.clock()
        return bool(self.waiting) and (now >= self.next_try or (len(self.waiting) >= FULL_BATCH and not self.failures))

    def flush(self) -> bool:
        """Sends what waits; True if nothing is left waiting."""
        if not self.waiting:
            return True
        try:
            self.send(self.waiting)
        except OutputNotSent as exc:
            self._sent(exc.sent)
            self.failures += 1
            self.next_try = self.clock() + min(MAX_BACK_OFF, FLUSH_EVERY * 2**self.failures)
            log.warning("could not send output to CloudWatch Logs; %d lines wait", len(self.waiting), exc_info=True)
            return False
        self._sent(len(self.waiting))
        self.failures = 0
        self.next_try = self.clock() + FLUSH_EVERY
        return True

    def _sent(self, count: int) -> None:
        if count:
            self.waiting = self.waiting[count:]
            self.dropped = 0  # the marker, first in line, went out with them

    def _drop_oldest(self) -> None:
        marker = 1 if self.dropped else 0
        excess = len(self.waiting) - MAX_WAITING_LINES + (0 if marker else 1)
        self.dropped += excess
        self.waiting = [DROPPED.format(count=self.dropped), *self.waiting[marker + excess :]]
