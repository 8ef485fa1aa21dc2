"""EventBridge for the local stack: fires the template's schedule rules on their rate.

moto stores the rules but never fires them. Each enabled `rate(...)` rule fires its Lambda
targets with the event EventBridge sends, first one period after the stack starts, as in AWS.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> float | None:
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _SECONDS[match.group(2).rstrip("s")]


class Scheduler:
    def __init__(self, events: Any, lambdas: Any, speedup: float = 1.0, log: Callable[[str], None] | None = None):
        self.events = events
        self.lambdas = lambdas
        self.speedup = speedup
        self.log = log or (lambda line: None)
        self.stopped = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> Scheduler:
        for rule in self.events.list_rules()["Rules"]:
            expression = rule.get("ScheduleExpression")
            if not expression or rule.get("State") != "ENABLED":
                continue
            period = rate_seconds(expression)
            if period is None:
                self.log(f"schedule {rule['Name']}: {expression} is not fired locally (only rate(...) is)")
                continue
            targets = self.events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
            thread = threading.Thread(target=self._fire_every, args=(rule, targets, period / self.speedup), daemon=True)
            thread.start()
            self.threads.append(thread)
            self.log(f"schedule {rule['Name']}: {expression} (every {period / self.speedup:g} s here)")
        return self

    def stop(self) -> None:
        self.stopped.set()

    def _fire_every(self, rule: dict[str, Any], targets: list[dict[str, Any]], period: float) -> None:
        while not self.stopped.wait(period):
            for target in targets:
                if ":lambda:" not in target["Arn"]:
                    continue
                event = target.get("Input") or json.dumps(self._scheduled_event(rule))
                started = time.monotonic()
                try:
                    self.lambdas.invoke(FunctionName=target["Arn"], InvocationType="Event", Payload=event.encode())
                    function = target["Arn"].rsplit(":", 1)[-1]
                    self.log(f"schedule {rule['Name']} fired {function} ({time.monotonic() - started:.1f} s)")
                except Exception as exc:  # noqa: BLE001 - a failed run is logged; the next period tries again
                    self.log(f"schedule {rule['Name']} failed: {exc}")

    @staticmethod
    def _scheduled_event(rule: dict[str, Any]) -> dict[str, Any]:
        arn = rule["Arn"]
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": arn.split(":")[4],
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": arn.split(":")[3],
            "resources": [arn],
            "detail": {},
        }
