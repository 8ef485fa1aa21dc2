"""A job's output: streamed to CloudWatch Logs while it runs, kept whole in S3 once it ends.

Readers page through it with an opaque cursor: "cw:<token>" follows the log stream (live),
"s3:<byte offset>" reads the saved copy (after the stream's retention has expired).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from jobsys.errors import Unprocessable
from jobsys.models import Job, JobOutputLocation, JobState
from jobsys.streams import Stream, read_back

MAX_EVENT_BYTES = 200_000  # CloudWatch's limit is 256 KiB per event, with overhead
MAX_BATCH_EVENTS = 5_000
MAX_BATCH_BYTES = 900_000
S3_PAGE_BYTES = 256 * 1024
MAX_S3_LINE_BYTES = 8 * 1024 * 1024  # a longer line (no "\n" in 8 MB) is read in pieces of this size
PAGE_LINES = 1_000
SINGLE_PUT_BYTES = 8 * 1024 * 1024  # upload_file's own multipart threshold
# What end_run copies from a stream whose runner is gone: 64 GetLogEvents pages of 1 MB, inside
# the job-state function's 60 s; the stream keeps the rest until its retention ends.
MAX_CAPTURED_BYTES = 64 * 1024 * 1024
TEXT = "text/plain; charset=utf-8"


class OutputNotSent(Exception):
    """A batch of lines failed to reach the log stream; the `sent` lines before it did."""

    def __init__(self, sent: int):
        super().__init__(f"{sent} lines sent before a batch failed")
        self.sent = sent


@dataclass(frozen=True)
class OutputPage:
    lines: list[str]
    next_cursor: str | None
    complete: bool
    stderr: list[int] = field(default_factory=list)  # the indexes in `lines` of the command's stderr lines

    def of_stream(self, stream: Stream | None) -> OutputPage:
        """The page's lines as the command wrote them (read back from how they are stored), of one
        stream or of both; the cursor and `complete` are the whole page's."""
        lines: list[str] = []
        stderr: list[int] = []
        for line in self.lines:
            source, text = read_back(line)
            if stream is None or source == stream:
                if source == "stderr":
                    stderr.append(len(lines))
                lines.append(text)
        return OutputPage(lines=lines, next_cursor=self.next_cursor, complete=self.complete, stderr=stderr)


class OutputStore:
    def __init__(self, logs: Any, s3: Any, log_group: str, bucket: str):
        self.logs = logs
        self.s3 = s3
        self.log_group = log_group
        self.bucket = bucket

    def location(self, job_id: str) -> JobOutputLocation:
        return JobOutputLocation(
            log_group=self.log_group, log_stream=job_id, s3_uri=f"s3://{self.bucket}/{self._key(job_id)}"
        )

    @staticmethod
    def _key(job_id: str) -> str:
        return f"output/{job_id}.log"

    # --- writing (the runner) -----------------------------------------------------------------

    def open(self, job_id: str) -> None:
        try:
            self.logs.create_log_stream(logGroupName=self.log_group, logStreamName=job_id)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise

    def append(self, job_id: str, lines: list[str]) -> None:
        """Puts `lines` into the job's stream, in as few batches as CloudWatch takes. If a batch
        fails, OutputNotSent says how many lines the batches before it sent: those are not sent again."""
        batch: list[dict[str, Any]] = []
        size = sent = 0
        for line in lines:
            # CloudWatch refuses empty messages; a lone space keeps the line's place. Its limit is in
            # bytes: a line is cut at a character boundary within MAX_EVENT_BYTES of UTF-8.
            encoded = line.encode()[:MAX_EVENT_BYTES]
            message = encoded.decode(errors="ignore") or " "
            event_size = len(encoded) + 26
            if batch and (len(batch) >= MAX_BATCH_EVENTS or size + event_size > MAX_BATCH_BYTES):
                sent += self._put(job_id, batch, sent)
                batch, size = [], 0
            batch.append({"timestamp": int(time.time() * 1000), "message": message})
            size += event_size
        if batch:
            self._put(job_id, batch, sent)

    def _put(self, job_id: str, events: list[dict[str, Any]], sent_before: int) -> int:
        try:
            self.logs.put_log_events(logGroupName=self.log_group, logStreamName=job_id, logEvents=events)
        except Exception as exc:
            raise OutputNotSent(sent_before) from exc
        return len(events)

    def save(self, job_id: str, path: str) -> None:
        """The whole output, from the runner's transcript file: one PutObject, or a multipart upload
        when it is large (upload_file's transfer manager and its threads cost more than a small put)."""
        if os.path.getsize(path) < SINGLE_PUT_BYTES:
            with open(path, "rb") as body:
                self.s3.put_object(Bucket=self.bucket, Key=self._key(job_id), Body=body, ContentType=TEXT)
            return
        self.s3.upload_file(path, self.bucket, self._key(job_id), ExtraArgs={"ContentType": TEXT})

    def save_captured(self, job_id: str) -> None:
        """Saves what the stream captured as the job's copy, for a run whose runner could not save it
        (killed, timed out, or lost with its machine): the copy is what tells readers that the output
        is complete. A copy the runner saved is left as it is."""
        if self._saved(job_id):
            return
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", prefix=f"{job_id}-", suffix=".output") as copy:
            size = 0
            for line in self._stream_lines(job_id):
                size += len(line.encode()) + 1
                if size > MAX_CAPTURED_BYTES:
                    copy.write(f"[the copy stops at {MAX_CAPTURED_BYTES >> 20} MB: log stream {job_id} has the rest]\n")
                    break
                copy.write(line + "\n")
            copy.flush()
            self.save(job_id, copy.name)

    def _stream_lines(self, job_id: str) -> Iterator[str]:
        query: dict[str, Any] = {"logGroupName": self.log_group, "logStreamName": job_id, "startFromHead": True}
        while True:
            try:
                response = self.logs.get_log_events(**query)
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "ResourceNotFoundException":  # it printed nothing
                    return
                raise
            for event in response.get("events", []):
                yield event["message"]
            token = response.get("nextForwardToken")
            if not response.get("events") or not token or token == query.get("nextToken"):
                return
            query["nextToken"] = token

    def delete(self, job_id: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=self._key(job_id))
        try:
            self.logs.delete_log_stream(logGroupName=self.log_group, logStreamName=job_id)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise

    # --- reading (the API) --------------------------------------------------------------------

    def read(self, job: Job, cursor: str | None, limit: int = PAGE_LINES, stream: Stream | None = None) -> OutputPage:
        """A page of the job's output from `cursor`: of one stream, or of both in the order they
        were written. A page of one stream may be empty while more follows: go on with next_cursor."""
        return self._read(job, cursor, limit).of_stream(stream)

    def _read(self, job: Job, cursor: str | None, limit: int) -> OutputPage:
        if job.output is None:  # not started yet
            return OutputPage(lines=[], next_cursor=None, complete=not job.state.is_open)
        if cursor is None:
            # A closed job's saved copy is read first; the stream is the fallback if there is none.
            saved = self._read_s3(job, 0) if not job.state.is_open else None
            return saved or self._read_logs(job, None, limit)
        kind, _, value = cursor.partition(":")
        if kind == "s3" and value.isdigit():
            return self._read_s3(job, int(value)) or OutputPage(lines=[], next_cursor=cursor, complete=True)
        if kind == "cw" and value:
            return self._read_logs(job, value, limit)
        raise Unprocessable("output cursor is not valid; start again without it")

    def _saved(self, job_id: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=self._key(job_id))
        except ClientError as exc:
            # Only a 404 says that there is no copy. Any other answer (a 403 without s3:ListBucket,
            # a throttle) is not an answer: saving then would replace the runner's whole copy.
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey"):
                return False
            raise
        return True

    def _read_logs(self, job: Job, token: str | None, limit: int) -> OutputPage:
        query: dict[str, Any] = {
            "logGroupName": self.log_group,
            "logStreamName": job.id,
            "startFromHead": True,
            "limit": limit,
        }
        if token:
            query["nextToken"] = token
        try:
            response = self.logs.get_log_events(**query)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code == "ResourceNotFoundException":  # not opened yet, or expired
                return OutputPage(
                    lines=[], next_cursor=f"cw:{token}" if token else None, complete=not job.state.is_open
                )
            if code == "InvalidParameterException":
                raise Unprocessable("output cursor is not valid; start again without it") from None
            raise
        lines = [event["message"] for event in response.get("events", [])]
        next_token = response.get("nextForwardToken") or token
        # The runner saves the whole output to S3 after its last line went to the stream, so the
        # saved copy marks the end. A job that ended incomplete has no runner left to save it.
        complete = (
            not job.state.is_open
            and not lines
            and (job.state == JobState.INCOMPLETE or job.output_error is not None or self._saved(job.id))
        )
        return OutputPage(lines=lines, next_cursor=f"cw:{next_token}" if next_token else None, complete=complete)

    def _read_s3(self, job: Job, offset: int) -> OutputPage | None:
        """A page of the saved copy, from a byte offset; None when there is no saved copy."""
        try:
            response = self.s3.get_object(
                Bucket=self.bucket, Key=self._key(job.id), Range=f"bytes={offset}-{offset + S3_PAGE_BYTES - 1}"
            )
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in ("InvalidRange", "416"):  # past the end, or an empty output
                return OutputPage(lines=[], next_cursor=f"s3:{offset}", complete=True)
            if code in ("NoSuchKey", "404"):
                return None
            raise
        chunk: bytes = response["Body"].read()
        total = int(response["ContentRange"].rsplit("/", 1)[1]) if "ContentRange" in response else len(chunk)
        # A line longer than a page is read on to its end (up to MAX_S3_LINE_BYTES), not cut in two.
        while offset + len(chunk) < total and b"\n" not in chunk and len(chunk) < MAX_S3_LINE_BYTES:
            start = offset + len(chunk)
            more = self.s3.get_object(
                Bucket=self.bucket, Key=self._key(job.id), Range=f"bytes={start}-{start + S3_PAGE_BYTES - 1}"
            )
            chunk += more["Body"].read()
        end = offset + len(chunk)
        if end < total:  # stop at the last full line; the rest comes with the next page
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                chunk = chunk[: cut + 1]
                end = offset + len(chunk)
        text = chunk.decode("utf-8", errors="replace")
        # Lines end at "\n" only, as the runner wrote them: splitlines() would also cut at "\r", "\x0c",
        # "\x1c", "\u2028"... and show a line that a job printed as two.
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        return OutputPage(lines=lines, next_cursor=f"s3:{end}", complete=end >= total)
