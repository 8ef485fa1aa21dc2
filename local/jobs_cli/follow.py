"""`--follow` and `jobs logs`: a job's output as it comes, then its next attempt or its dependents."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from typing import Any

from jobs_cli.client import ApiClient
from jobs_cli.terminal import duration, note, paint, progress, shown
from jobs_cli.terminal import state as state_

POLL = 0.5
RETRIED = {"failed", "terminated", "incomplete"}  # tried again while attempts are left


class JobFollower:
    def __init__(self, client: ApiClient, as_json: bool, raw: bool):
        self.client = client
        self.as_json = as_json
        self.raw = raw

    def output(self, job_id: str, stream: str | None = None) -> Iterator[dict[str, Any]]:
        """Prints a job's output page by page as it comes, until it is complete; yields each page,
        and whether it `advanced` past the one before. A line the command wrote to stderr goes to
        stderr, unless only stderr was asked for: those lines are then the output."""
        cursor = None
        while True:
            page = self.client.request("GET", f"/jobs/{job_id}/output", query={"cursor": cursor, "stream": stream})
            errors = set(page["stderr"])
            for number, line in enumerate(page["lines"]):
                source = "stderr" if number in errors else "stdout"
                if self.as_json:
                    print(json.dumps({"job_id": job_id, "stream": source, "line": line}), flush=True)
                else:
                    to = sys.stderr if source == "stderr" and stream is None else sys.stdout
                    print(shown(line, self.raw, to), file=to, flush=True)
            page["advanced"] = bool(page["lines"]) or (page["next_cursor"] or cursor) != cursor
            cursor = page["next_cursor"] or cursor
            yield page
            if page["complete"]:
                return
            if not page["advanced"]:
                time.sleep(POLL)

    def follow(self, job_id: str, depth: int = 0) -> bool:
        """Streams a job's output until it ends, then follows its dependents. True if all finished."""
        job = self.client.request("GET", f"/jobs/{job_id}")
        indent = "  " * depth
        what = shown(f"{job['label']} [{' '.join([job['command'], *job['params']])}]", self.raw, sys.stderr)
        note(paint(f"{indent}==> {what} {job['id']}", "bold"))
        state, last_look, told = job["state"], 0.0, ""
        note(f"{indent}    {state_(state)}")
        for page in self.output(job_id):
            if page["complete"] or time.monotonic() - last_look > 1:
                job, last_look = self.client.request("GET", f"/jobs/{job_id}"), time.monotonic()
                if job["state"] != state:
                    state = job["state"]
                    note(f"{indent}    {state_(state)}")
                if job["state"] == "running" and (now := progress(job)) != told:
                    told = now
                    note(f"{indent}    {now}")
        detail = [
            f"exit {job['exit_code']}" if job.get("exit_code") is not None else "",
            duration(job) if job.get("runtime") else "",
            f"peak {job['peak_memory_mb']:g} MB" if job.get("peak_memory_mb") else "",
        ]
        summary = ", ".join(d for d in detail if d)
        note(
            f"{indent}<== {shown(job['label'], self.raw, sys.stderr)} {state_(job['state'])}"
            + (f" ({summary})" if summary else "")
            + (f": {shown(job['reason'], self.raw, sys.stderr)}" if job.get("reason") else "")
        )
        if self.as_json:
            print(json.dumps({"job": job}), flush=True)
        retry = self.next_attempt(job)
        if retry is not None:  # it follows the next attempt, which decides for the dependents
            note(f"{indent}    attempt {retry['attempt']} of {retry['retries']['max_attempts']} follows")
            return self.follow(retry["id"], depth)
        ok = job["state"] == "finished"
        for child in job.get("dependents") or []:
            ok = self.follow(child, depth + 1) and ok
        return ok

    def next_attempt(self, job: dict[str, Any], wait: float = 30) -> dict[str, Any] | None:
        """The attempt after a job that ended with attempts left; its run's end plans it a moment later."""
        if job["state"] not in RETRIED or job.get("attempt", 1) >= job.get("retries", {}).get("max_attempts", 1):
            return None
        deadline = time.monotonic() + wait
        while not job.get("retried_by") and time.monotonic() < deadline:
            time.sleep(POLL)
            job = self.client.request("GET", f"/jobs/{job['id']}")
        return self.client.request("GET", f"/jobs/{job['retried_by']}") if job.get("retried_by") else None
