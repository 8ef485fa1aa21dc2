"""End to end: the local stack that `make run` starts, driven over HTTP like a user would."""

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from jobs_local.process import StackProcess

CONFIG = Path(__file__).resolve().parents[1] / "fixtures" / "jobs.test.yaml"
TERMINAL = {"finished", "failed", "terminated", "canceled", "incomplete"}


class Http:
    def __init__(self, stack: StackProcess):
        self.stack = stack
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {stack.token}"

    def __call__(self, method: str, path: str, body: Any = None, **params: Any) -> tuple[int, Any]:
        response = self.session.request(method, self.stack.url + path, json=body, params=params or None, timeout=30)
        return response.status_code, response.json() if response.content else None

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


@pytest.fixture(scope="session")
def local_stack() -> Iterator[StackProcess]:
    with StackProcess(config=CONFIG) as stack:
        yield stack


@pytest.fixture(scope="session")
def http(local_stack: StackProcess) -> Http:
    return Http(local_stack)
