"""The domain in-process: a module that declares CONFIG (jobs.yaml's content) gets `system`, a
JobSystem on moto over that configuration, and `clock`, the clock it reads, which the test moves."""

from __future__ import annotations

import pytest

from tests.unit.in_process import Clock, system_for


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def system(request: pytest.FixtureRequest, clock: Clock, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with system_for(request.module.CONFIG, clock) as system:
        yield system
