"""People's requests first: background work waits while people's requests pile up (more than
PILE_UP in flight), and goes on one step at a time, TRICKLE apart, while they keep coming."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

from jobs_local import people_first
from jobs_local.people_first import PeopleFirst


def signed(key: str) -> dict[str, str]:
    return {
        "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential={key}/20261205/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc"
    }


def test_a_request_is_a_person_s_when_it_is_signed_with_a_person_s_keys():
    gate = PeopleFirst()
    gate.people_keys.add("AKIAPERSON")
    assert gate.signed_by_a_person(signed("AKIAPERSON"))
    assert not gate.signed_by_a_person(signed("ASIARUNNER"))
    assert not gate.signed_by_a_person({})  # unsigned: nobody's


def test_background_work_waits_for_the_people_in_flight_and_goes_on_when_they_are_answered(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(people_first, "TRICKLE", 60)  # one step now, the next a minute later
    monkeypatch.setattr(people_first, "PILE_UP", 1)
    gate = PeopleFirst()
    passed = threading.Semaphore(0)

    def background() -> None:
        gate.wait_for_people()
        passed.release()

    with gate.person(), gate.person():
        workers = [threading.Thread(target=background) for _ in range(2)]
        for worker in workers:
            worker.start()
        assert passed.acquire(timeout=5)  # the first step goes on
        assert not passed.acquire(timeout=0.3)  # the second waits: two people in flight, more than 1
    assert passed.acquire(timeout=5)  # both answered: it goes on at once
    for worker in workers:
        worker.join()


def test_while_people_keep_coming_background_work_goes_on_one_step_at_a_time(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(people_first, "TRICKLE", 0.1)
    monkeypatch.setattr(people_first, "PILE_UP", 0)
    gate = PeopleFirst()
    passed: list[float] = []

    def background() -> None:
        gate.wait_for_people()
        passed.append(time.monotonic())

    with gate.person():
        workers = [threading.Thread(target=background) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=10)
    assert len(passed) == 4  # none held for good, although the person never left
    gaps = [later - earlier for earlier, later in zip(sorted(passed), sorted(passed)[1:], strict=False)]
    assert min(gaps) >= 0.09, gaps  # one at a time: never a wave


def test_a_few_people_in_flight_hold_nothing_back(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(people_first, "TRICKLE", 60)
    gate = PeopleFirst()
    with contextlib.ExitStack() as people:
        for _ in range(people_first.PILE_UP):
            people.enter_context(gate.person())
        began = time.monotonic()
        for _ in range(1000):
            gate.wait_for_people()
        assert time.monotonic() - began < 5  # a minute apart, had any step been held
