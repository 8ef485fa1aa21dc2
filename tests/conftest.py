import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The API function's modules are top-level in its code folder, as in Lambda.
sys.path.insert(0, str(ROOT / "functions" / "api"))
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

FAILED = pytest.StashKey[bool]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A long test goes first, then one that starts a stack of its own: their waiting then overlaps
    the other workers' tests, instead of ending the run alone (the e2e tests took 149 s or 210 s by
    where the cron test fell)."""
    items.sort(key=lambda item: (item.get_closest_marker("long") is None, item.get_closest_marker("own_stack") is None))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[FAILED] = report.failed


@pytest.fixture(autouse=True)
def _cancel_what_a_failed_test_started(request: pytest.FixtureRequest) -> Iterator[None]:
    apis = [request.getfixturevalue(name) for name in ("api", "http") if name in request.fixturenames]
    yield
    for api in apis:
        if request.node.stash.get(FAILED, False):
            api.cancel_started()
        api.started.clear()
