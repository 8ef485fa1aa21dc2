"""A command's `PROGRESS done/total` lines: kept on its job (not in its output), with the end that
its pace points to."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jobsys.store import JobStore

log = logging.getLogger(__name__)

PROGRESS_EVERY = 2.0  # seconds at least between two progress writes to the job
PROGRESS_LINE = re.compile(r"PROGRESS\s+([0-9]{1,12})\s*/\s*([0-9]{1,12})\s*")


def progress_of(line: str) -> tuple[int, int] | None:
    match = PROGRESS_LINE.fullmatch(line)
    if match is None:
        return None
    done, total = int(match.group(1)), int(match.group(2))
    return (done, total) if total > 0 and done <= total else None


class ProgressReporter:
    def __init__(self, store: JobStore, job_id: str, clock: Callable[[], datetime]):
        self.store = store
        self.job_id = job_id
        self.clock = clock
        self.progress: tuple[int, int] | None = None
        self.written: tuple[int, int] | None = None

    def take(self, line: str) -> bool:
        """True if `line` is a PROGRESS line: then it is kept here, not in the output."""
        progress = progress_of(line)
        if progress is not None:
            self.progress = progress
        return progress is not None

    def write(self, elapsed: float) -> bool:
        """Writes the last PROGRESS line to the job, with the end that its pace points to; True if written."""
        if self.progress is None or self.progress == self.written:
            return False
        done, total = self.progress
        expected_end = None
        if done:  # the same pace for the rest
            expected_end = self.clock() + timedelta(seconds=elapsed * (total - done) / done)
        try:
            self.store.set_progress(self.job_id, done, total, expected_end)
        except Exception:  # progress is a hint; the command goes on regardless
            log.warning("could not record the progress of job %s", self.job_id, exc_info=True)
            return False
        self.written = self.progress
        return True
