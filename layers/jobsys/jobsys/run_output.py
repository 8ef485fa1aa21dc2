"""Where a running command's output goes: its transcript (the copy saved to S3 at the end, every
line) and its log stream (live, in batches, through LiveOutput)."""

from __future__ import annotations

import logging
import threading
import time
from typing import IO, TYPE_CHECKING

from jobsys.live_output import LiveOutput
from jobsys.output import OutputNotSent
from jobsys.streams import Stream, stored

if TYPE_CHECKING:
    from jobsys.output import OutputStore

log = logging.getLogger(__name__)

SAVE_ATTEMPTS = 3  # saves of the output's copy to S3, 0.5 s then 1 s apart
LAST_FLUSHES = 4  # sends of the last lines to the stream, 0.5 s to 4 s apart


class OutputSink:
    def __init__(self, output: OutputStore, job_id: str, transcript_path: str, open_stream: bool = False):
        """`open_stream`: the job's log stream is made here, beside the command, before its first lines go."""
        self.output = output
        self.job_id = job_id
        self.transcript_path = transcript_path
        # Open for the whole run; close() ends it, before the copy is saved.
        self.transcript: IO[str] = open(transcript_path, "w", encoding="utf-8")  # noqa: SIM115
        self.live = LiveOutput(self._append)
        self.opening: threading.Thread | None = None
        self.opened = not open_stream
        if open_stream:
            self.opening = threading.Thread(target=self._open, daemon=True)
            self.opening.start()

    def _open(self) -> None:
        try:
            self.output.open(self.job_id)
            self.opened = True
        except Exception:  # botocore has retried already; the first send tries once more
            log.warning("could not make the log stream of job %s", self.job_id, exc_info=True)

    def _append(self, lines: list[str]) -> None:
        if self.opening is not None:
            self.opening.join()
            self.opening = None
        if not self.opened:
            try:
                self.output.open(self.job_id)
            except Exception as exc:  # the lines wait, and LiveOutput tries again later
                raise OutputNotSent(0) from exc
            self.opened = True
        self.output.append(self.job_id, lines)

    def close(self) -> None:
        self.transcript.close()

    def add(self, line: str, stream: Stream = "stdout") -> None:
        line = stored(line, stream)
        self.transcript.write(line + "\n")
        self.live.add(line)

    def send_if_due(self) -> None:
        if self.live.due():
            self.live.flush()

    def send_the_rest(self) -> None:
        """The last lines into the stream, before the copy is saved: a reader of the stream then
        has every line once the copy exists."""
        for attempt in range(LAST_FLUSHES):
            if self.live.flush():
                return
            time.sleep(0.5 * 2**attempt)
        # The S3 copy, saved next, still holds every line.
        log.error("gave up sending the last %d output lines to CloudWatch Logs", len(self.live.waiting))

    def send_and_save(self) -> str | None:
        """The last lines into the stream and the copy into S3, side by side: each reader finds every
        line in whichever it reads (the page reads the copy once it exists). What `save` says."""
        sending = threading.Thread(target=self.send_the_rest, daemon=True)
        sending.start()
        try:
            return self.save()
        finally:
            sending.join()

    def save(self) -> str | None:
        """Saves the transcript as the output's copy in S3; if it cannot, says why.
        The job's state still comes from the command's exit: an import that finished must not run
        again because its log was not copied."""
        error: Exception | None = None
        for attempt in range(SAVE_ATTEMPTS):
            try:
                self.output.save(self.job_id, self.transcript_path)
                return None
            except Exception as exc:  # botocore has retried each attempt already
                error = exc
                log.warning("could not save the output of job %s to S3", self.job_id, exc_info=True)
                if attempt + 1 < SAVE_ATTEMPTS:
                    time.sleep(0.5 * 2**attempt)
        return f"its copy could not be saved to S3 ({type(error).__name__}: {error}); the log stream holds it"
