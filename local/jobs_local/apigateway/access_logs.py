"""API Gateway's access logs, which moto's API Gateway does not write.

Each request the local gateway answers becomes one line in the template's `AccessLogSetting`
format (its `$context.*` variables filled in as API Gateway fills them, `-` where a value is
missing), written to the log group that `DestinationArn` names. Lines are sent in batches, once a
second, so that logging does not slow the request path. The local stack also appends them to a
file in its state folder, where a local user reads them.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_.]+)")


class AccessLog:
    def __init__(self, logs: Any, group: str, fmt: str, stream: str | None = None, mirror: Path | None = None):
        self.logs = logs
        self.group = group
        self.fmt = fmt
        self.mirror = mirror
        self.stream = stream or f"local-{time.strftime('%Y%m%dT%H%M%S')}"
        self._lines: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._flush_every_second, daemon=True)

    @classmethod
    def from_template(
        cls, sam: dict[str, Any], api: str, group_of: dict[str, str], logs: Any, mirror: Path | None = None
    ) -> AccessLog | None:
        """The API's access log (its own `AccessLogSetting`, else the Globals'), or None without one."""
        setting = sam["Resources"][api]["Properties"].get("AccessLogSetting") or (
            (sam.get("Globals") or {}).get("Api") or {}
        ).get("AccessLogSetting")
        if not setting:
            return None
        target = setting["DestinationArn"]
        logical_id = target["Fn::GetAtt"][0] if isinstance(target, dict) else target
        return cls(logs, group_of[logical_id], setting["Format"], mirror=mirror)

    def start(self) -> AccessLog:
        self.logs.create_log_stream(logGroupName=self.group, logStreamName=self.stream)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self.flush()

    def record(self, context: dict[str, Any]) -> None:
        """`context`: the `$context` variables of one request, dotted names as keys."""

        def value(match: re.Match[str]) -> str:
            found = context.get(match.group(1))
            # Quoted in the format, as API Gateway's JSON examples are: escape as a JSON string's inside.
            return "-" if found in (None, "") else json.dumps(str(found))[1:-1]

        line = _VARIABLE.sub(value, self.fmt)
        with self._lock:
            self._lines.append({"timestamp": int(time.time() * 1000), "message": line})

    def flush(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
        if lines:
            if self.mirror is not None:
                with self.mirror.open("a", encoding="utf-8") as file:
                    file.writelines(line["message"] + "\n" for line in lines)
            self.logs.put_log_events(logGroupName=self.group, logStreamName=self.stream, logEvents=lines)

    def _flush_every_second(self) -> None:
        while not self._stop.wait(1):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - a lost batch of access lines must not stop the gateway
                time.sleep(1)
