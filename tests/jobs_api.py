"""What both test levels ask of the job API, whichever way they reach it."""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CONFIG = Path(__file__).resolve().parent / "fixtures" / "jobs.test.yaml"
TERMINAL = {"finished", "failed", "terminated", "canceled", "incomplete"}


class JobApi:
    """Subclasses send one request: `self(method, path, body)` returns (status, JSON body)."""

    def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        raise NotImplementedError

    def job(self, job_id: str) -> dict[str, Any]:
        status, job = self("GET", f"/jobs/{job_id}")
        assert status == 200, job
        return job

    def wait(self, job_id: str, until: Callable[[dict], bool] = lambda j: j["state"] in TERMINAL, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while not until(job := self.job(job_id)):
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} still {job['state']} after {timeout} s")
            time.sleep(0.3)
        return job
