"""What both test levels ask of the job API, whichever way they reach it."""

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CONFIG = Path(__file__).resolve().parent / "fixtures" / "jobs.test.yaml"
TERMINAL = {"finished", "failed", "terminated", "canceled", "incomplete", "skipped"}


class JobApi:
    """Subclasses send one request: `self(method, path, body)` returns (status, JSON body), and
    note the jobs that a request started (`noted`)."""

    def __init__(self) -> None:
        self.started: list[str] = []  # by the test that runs now

    def noted(self, method: str, path: str, status: int, answer: Any) -> None:
        if method == "POST" and status == 202 and not path.endswith("/cancel") and isinstance(answer, dict):
            self.started.append(answer.get("id", ""))

    def cancel_started(self) -> None:
        """A test failed: what it started and left open is canceled (a closed one answers 409, one
        waiting for its next attempt has that attempt canceled), so that no later test meets it."""
        for job_id in self.started:
            # Best effort, after a failure that is reported already.
            with contextlib.suppress(Exception):
                self("POST", f"/jobs/{job_id}/cancel")

    def __call__(self, method: str, path: str, body: Any = None, query: str = "") -> tuple[int, Any]:
        raise NotImplementedError

    def job(self, job_id: str) -> dict[str, Any]:
        status, job = self("GET", f"/jobs/{job_id}")
        assert status == 200, job
        return job

    def settled_cost(self, query: str, timeout: float = 15) -> dict:
        """The cost of `GET /stats?{query}` once the closed runs are all in it: each run is added to
        its day from the table's stream, a moment after its close, so it is read until it stays."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            cost = self("GET", "/stats", query=query)[1]["cost"]
            if (cost == last and cost["runs"]) or time.monotonic() > deadline:
                return cost
            last = cost
            time.sleep(0.5)

    def wait(self, job_id: str, until: Callable[[dict], bool] = lambda j: j["state"] in TERMINAL, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while not until(job := self.job(job_id)):
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} still {job['state']} after {timeout} s")
            time.sleep(0.3)
        return job

    def wait_run_ended(self, job_id: str, timeout: float = 60) -> dict[str, Any]:
        """A closed job whose execution has also ended its run: a failed attempt has its next one by then."""

        def ended(job: dict[str, Any]) -> bool:
            last = job["state"] == "finished" or job["attempt"] >= job["retries"]["max_attempts"]
            return job["state"] in TERMINAL and (bool(job["retried_by"]) or last)

        return self.wait(job_id, until=ended, timeout=timeout)

    def output(self, job_id: str, stream: str | None = None) -> list[str]:
        """Every line (of one stream, or of both), following the cursor until the API says the output is complete."""
        lines, cursor = [], None
        for _ in range(200):
            query = "&".join(f"{k}={v}" for k, v in (("cursor", cursor), ("stream", stream)) if v)
            status, page = self("GET", f"/jobs/{job_id}/output", query=query)
            assert status == 200, page
            lines += page["lines"]
            cursor = page["next_cursor"]
            if page["complete"]:
                return lines
            time.sleep(0.2)
        raise AssertionError("output never completed")
