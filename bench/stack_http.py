"""What the benchmarks ask of a running local stack over HTTP, polled the same way by all of them."""

from __future__ import annotations

import time

import requests

from jobsys.models import CLOSED_STATES

CLOSED = {state.value for state in CLOSED_STATES}


def session_with(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def wait_closed(session: requests.Session, url: str, job_id: str, every: float = 0.05, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while (job := session.get(f"{url}/jobs/{job_id}", timeout=60).json())["state"] not in CLOSED:
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {job['state']}")
        time.sleep(every)
    return job


def still_open(session: requests.Session, url: str) -> bool:
    """Two one-item listings, not a GET per job: the polling must not slow the stack down."""
    return any(
        session.get(f"{url}/jobs", params={"state": state, "limit": 1}, timeout=60).json()["items"]
        for state in ("pending", "running")
    )
