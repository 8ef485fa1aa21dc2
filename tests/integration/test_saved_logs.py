"""The local stack's saved log streams (jobs_local.persistence): each save reads a stream only from
where the previous one stopped, and a restart loads every event once, in order."""

import json
import time
from pathlib import Path

import pytest

from jobs_local.persistence import SavedState
from jobs_local.stack import LocalStack

pytestmark = pytest.mark.integration


def _put(logs, group: str, stream: str, messages: list[str]) -> None:
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": now, "message": m} for m in messages]
    )


def _saved(folder: Path, stream: str) -> list[str]:
    return [json.loads(line)["message"] for line in (folder / f"{stream}.jsonl").read_text().splitlines()]


def test_a_save_reads_only_the_events_written_since_the_last_and_keeps_them_all(stack: LocalStack, tmp_path: Path):
    logs = stack.client("logs")
    group, stream = "/aws/lambda/jobs-it-saved-logs", "worker"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    _put(logs, group, stream, [f"first {i}" for i in range(3)])
    state = SavedState(tmp_path, stack.session(), {"Group": ("AWS::Logs::LogGroup", group)})
    state.save()
    folder = tmp_path / "logs" / "Group"
    assert _saved(folder, stream) == ["first 0", "first 1", "first 2"]

    _put(logs, group, stream, ["second 0", "second 1"])
    read: list[int] = []
    state.session.client = _counting_events(state.session.client, read)  # type: ignore[method-assign]
    state.save()
    assert _saved(folder, stream) == ["first 0", "first 1", "first 2", "second 0", "second 1"]
    assert sum(read) == 2, "the second save read the two new events only"

    state.save()  # nothing new: the stream is not read at all
    assert sum(read) == 2

    # A stop between a stream's file and the index: the file no longer holds what the index counts,
    # and the next save reads the stream whole rather than saving an event twice or losing one.
    path = folder / f"{stream}.jsonl"
    path.write_text(path.read_text() + json.dumps({"timestamp": 1, "message": "half saved"}) + "\n")
    _put(logs, group, stream, ["third"])
    state.save()
    assert _saved(folder, stream) == ["first 0", "first 1", "first 2", "second 0", "second 1", "third"]


def _counting_events(client_of, read: list[int]):
    def client(service: str, *args, **kwargs):
        made = client_of(service, *args, **kwargs)
        if service == "logs":
            original = made.get_log_events

            def get_log_events(**request):
                page = original(**request)
                read.append(len(page["events"]))
                return page

            made.get_log_events = get_log_events
        return made

    return client
