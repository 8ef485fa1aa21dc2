"""The local stack's data outlives a restart, as an AWS account's does.

Replaces: moto's in-memory backends, which forget every job and its output when `make run` stops.
The items of the stack's DynamoDB tables, the objects of its S3 buckets and the events of its log
streams are written under a folder (`.local-stack/state/` for `make run`), by the resources'
logical ids, when the stack stops and every minute while it runs (an object only when it changed
since the last save, of a stream only the events written since); the next start loads them into
the new deployment before it serves a request, without the log events past their group's
retention. Jobs that were open when the stack stopped can never report: they are closed as the
state machine closes a job whose runner died (`LocalStack.close_interrupted_jobs`).
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

SAVE_EVERY = 60.0  # seconds; a clean stop saves as well
KINDS = {"AWS::DynamoDB::Table": "dynamodb", "AWS::S3::Bucket": "s3", "AWS::Logs::LogGroup": "logs"}


def _write(path: Path, data: str | bytes) -> None:
    """Whole or not at all: a stack killed while saving leaves the previous file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data.encode() if isinstance(data, str) else data)
    partial.replace(path)


def _index(folder: Path) -> dict[str, dict[str, str]]:
    path = folder / "index.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as file:
        for line in file:
            if line.strip():
                yield json.loads(line)


def _retention_start(logs: Any, group: str) -> int:
    """The oldest event time (ms) that a log group keeps: CloudWatch Logs deletes the events older
    than its retention, which moto never does; without a retention, every event is kept."""
    found = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    days = next((g.get("retentionInDays") for g in found if g["logGroupName"] == group), None)
    return int((time.time() - days * 86_400) * 1000) if days else 0


class SavedState:
    def __init__(self, folder: Path, session: Any, resources: dict[str, tuple[str, str]]):
        """`resources`: logical id -> (resource type, physical id) of the deployed stack."""
        self.folder = folder
        self.session = session
        self.resources = {
            logical_id: (KINDS[kind], physical) for logical_id, (kind, physical) in resources.items() if kind in KINDS
        }
        self.lock = threading.Lock()
        self.stopped = threading.Event()

    def reset(self) -> None:
        for kind in set(KINDS.values()):
            shutil.rmtree(self.folder / kind, ignore_errors=True)

    # --- loading ------------------------------------------------------------------------------

    def load(self) -> int:
        """Puts the saved data into the deployed resources; returns how many items and objects it loaded."""
        loaded = 0
        for logical_id, (kind, physical) in self.resources.items():
            folder = self.folder / kind / logical_id
            if folder.is_dir():
                loaded += getattr(self, f"_load_{kind}")(folder, physical)
        return loaded

    def _load_dynamodb(self, folder: Path, table: str) -> int:
        dynamodb = self.session.client("dynamodb")
        items = list(_lines(folder / "items.jsonl")) if (folder / "items.jsonl").exists() else []
        for start in range(0, len(items), 25):
            request = {table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
            while request:
                request = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
        return len(items)

    def _load_s3(self, folder: Path, bucket: str) -> int:
        s3 = self.session.client("s3")
        index = (
            json.loads((folder / "index.json").read_text(encoding="utf-8")) if (folder / "index.json").exists() else {}
        )
        for key, meta in index.items():
            body = (folder / "objects" / quote(key, safe="")).read_bytes()
            s3.put_object(
                Bucket=bucket, Key=key, Body=body, ContentType=meta.get("content_type", "binary/octet-stream")
            )
        return len(index)

    def _load_logs(self, folder: Path, group: str) -> int:
        logs = self.session.client("logs")
        kept_since = _retention_start(logs, group)
        streams = 0
        for path in sorted(folder.glob("*.jsonl")):
            stream = unquote(path.stem)
            events = [event for event in _lines(path) if event["timestamp"] >= kept_since]
            if not events:  # every event expired: no stream is left to load
                continue
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
            for start in range(0, len(events), 5000):
                logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events[start : start + 5000])
            streams += 1
        return streams

    # --- saving -------------------------------------------------------------------------------

    def save(self) -> None:
        with self.lock:
            for logical_id, (kind, physical) in self.resources.items():
                getattr(self, f"_save_{kind}")(self.folder / kind / logical_id, physical)

    def save_every(self, seconds: float = SAVE_EVERY) -> None:
        def run() -> None:
            while not self.stopped.wait(seconds):
                try:
                    self.save()
                except Exception as exc:  # noqa: BLE001 - the next round or the stop saves again
                    print(f"local stack: could not save its state: {exc}", flush=True)

        threading.Thread(target=run, name="save-state", daemon=True).start()

    def _save_dynamodb(self, folder: Path, table: str) -> None:
        pages = self.session.client("dynamodb").get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
        items = [item for page in pages for item in page.get("Items", [])]
        _write(folder / "items.jsonl", "".join(json.dumps(item) + "\n" for item in items))

    def _save_s3(self, folder: Path, bucket: str) -> None:
        s3 = self.session.client("s3")
        saved = _index(folder)
        index = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for summary in page.get("Contents", []):
                key, etag = summary["Key"], summary["ETag"]
                if saved.get(key, {}).get("etag") == etag:  # unchanged since the last save
                    index[key] = saved[key]
                    continue
                got = s3.get_object(Bucket=bucket, Key=key)
                _write(folder / "objects" / quote(key, safe=""), got["Body"].read())
                index[key] = {"etag": etag, "content_type": got.get("ContentType", "binary/octet-stream")}
        for gone in saved.keys() - index.keys():
            (folder / "objects" / quote(gone, safe="")).unlink(missing_ok=True)
        _write(folder / "index.json", json.dumps(index))

    def _save_logs(self, folder: Path, group: str) -> None:
        """Each stream that changed since the last save gets the events after the ones saved, read
        from where that save's read stopped (its `nextForwardToken`): a stream that grows for days
        is never read whole again each minute, and its file is appended to, not written anew. A file
        whose size is not the one its index gives (a stop while appending, or before the index was
        written) is written whole from the stream."""
        logs = self.session.client("logs")
        saved = _index(folder)
        index = {}
        for page in logs.get_paginator("describe_log_streams").paginate(logGroupName=group):
            for stream in page.get("logStreams", []):
                name, ingested = stream["logStreamName"], str(stream.get("lastIngestionTime", ""))
                path = folder / f"{quote(name, safe='')}.jsonl"
                before = saved.get(name, {})
                if before.get("ingested") == ingested and path.exists():  # unchanged since
                    index[name] = before
                    continue
                going_on = bool(before.get("token")) and path.exists() and path.stat().st_size == before.get("bytes")
                events, token = self._events(logs, group, name, before.get("token") if going_on else None)
                lines = "".join(json.dumps(e) + "\n" for e in events).encode()
                if going_on:
                    with path.open("ab") as file:
                        file.write(lines)
                else:
                    _write(path, lines)
                index[name] = {"ingested": ingested, "token": token, "bytes": path.stat().st_size}
        for gone in saved.keys() - index.keys():
            (folder / f"{quote(gone, safe='')}.jsonl").unlink(missing_ok=True)
        _write(folder / "index.json", json.dumps(index))

    @staticmethod
    def _events(logs: Any, group: str, stream: str, after: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """The stream's events after the token `after` (from its start without one), and the token
        that a later read goes on from."""
        events: list[dict[str, Any]] = []
        request = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
        if after:
            request["nextToken"] = after
        while True:
            page = logs.get_log_events(**request)
            events += [{"timestamp": e["timestamp"], "message": e["message"]} for e in page["events"]]
            if not page["events"] or page.get("nextForwardToken") == request.get("nextToken"):
                return events, page.get("nextForwardToken") or request.get("nextToken")
            request["nextToken"] = page["nextForwardToken"]
