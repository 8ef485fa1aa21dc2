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


def _rank(item: pytest.Item) -> int:
    """0 for a long test, 1 for one that starts a stack of its own, 2 for the rest."""
    return next((rank for rank, marker in enumerate(("long", "own_stack")) if item.get_closest_marker(marker)), 2)


def _goes_first(item: pytest.Item) -> bool:
    return _rank(item) < 2


@pytest.hookimpl(trylast=True)  # after `-m` has deselected what it deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A long test goes first, then one that starts a stack of its own: their waiting then overlaps
    the other workers' tests, instead of ending the run alone (the e2e tests took 149 s or 210 s by
    where the cron test fell). On N workers, each worker's first share starts with its turn of them."""
    items.sort(key=_rank)
    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    if workers > 1:
        items[:] = dealt(items, workers)


def dealt(items: list[pytest.Item], workers: int) -> list[pytest.Item]:
    """The items in `workers` slices, as pytest-xdist's worksteal scheduler first hands them out (the
    i-th of its equal, contiguous slices to the i-th worker), with the tests that go first dealt in
    turn to the fronts of the slices. Sorted first and left in one run, they all fell to one worker:
    under `load` scheduling one integration worker got every long test, 148 s of them, while the
    other three ran out of tests 60 s before it ended; worksteal takes only from a queue's tail."""
    first = [item for item in items if _goes_first(item)]
    rest = [item for item in items if not _goes_first(item)]
    fronts: list[list[pytest.Item]] = [first[turn::workers] for turn in range(workers)]
    slices, left = [], len(items)
    for turn in range(workers):
        size = left // (workers - turn)  # as the scheduler sizes them
        left -= size
        fill = max(0, size - len(fronts[turn]))
        slices.append(fronts[turn] + rest[:fill])
        rest = rest[fill:]
    slices[-1].extend(rest)  # only where a front was larger than its slice
    return [item for one in slices for item in one]


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
