"""On AWS each service has capacity of its own: a `POST /jobs` that a person waits on is answered
as fast while a thousand runs call DynamoDB and Step Functions interprets their executions. Here
one process serves every service, the gateway and the interpreter, on a few cores, and a burst of
starts waited behind the runs that it had started (p95 3.9 s for 320 starts from 32 clients).

Replaces:
- moto's server answering every request in the order its threads get the interpreter's lock
  (`DomainDispatcherApplication.__call__`): a request signed by a principal that no person waits
  on (a runner, the state machine, the clean-up) now waits while people's requests pile up;
- moto's Step Functions interpreter entering each state at once (`CommonStateField._eval_body`):
  an execution enters its next state in its turn while people's requests pile up.

A person's request is one that the gateway serves, or one signed by the keys of a function behind
it, or by the administrator (the operator's own tools). While more than `PILE_UP` of them are in
flight, background steps go on one at a time, `TRICKLE` seconds apart, so that a stream of
people's requests slows background work and never stops it (a timeout per step instead let every
waiting step go at once, and each such wave held the people's requests up for a second). Nothing
is refused, and nothing is answered differently: only the order changes, as the functions'
workers' nice 10 changes it for the CPU (`lambda_.runtime`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.stepfunctions.parser.asl.component.state.state import CommonStateField

from jobs_local.patching import Patch, Wrap

TRICKLE = 0.05  # seconds between two background steps while people's requests pile up
# People's requests in flight beyond which background work yields. A few are answered at once
# anyway, and holding background work for them cost a steady stream of two clients' starts a
# quarter of its throughput (bench/vs_rq.py, 3 pairs of runs); a pile of 32 is what waited.
PILE_UP = 4


class PeopleFirst:
    def __init__(self) -> None:
        self.people_keys: set[str] = set()  # access key ids of principals that people wait on
        self.in_flight = 0
        self.idle = threading.Condition()
        self.next_step = 0.0  # when a background step may go on while people are in flight

    @contextlib.contextmanager
    def person(self) -> Iterator[None]:
        with self.idle:
            self.in_flight += 1
        try:
            yield
        finally:
            with self.idle:
                self.in_flight -= 1
                if self.in_flight <= PILE_UP:
                    self.idle.notify_all()

    def wait_for_people(self) -> None:
        with self.idle:
            while self.in_flight > PILE_UP:
                now = time.monotonic()
                if now >= self.next_step:
                    self.next_step = now + TRICKLE
                    return
                self.idle.wait(self.next_step - now)

    def signed_by_a_person(self, environ: dict[str, Any]) -> bool:
        # "AWS4-HMAC-SHA256 Credential=AKID/20261205/us-east-1/dynamodb/aws4_request, ..."
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        start = authorization.find("Credential=")
        if start < 0:
            return False
        start += len("Credential=")
        return authorization[start : authorization.find("/", start)] in self.people_keys


PEOPLE_FIRST = PeopleFirst()


def _moto_server_call(
    original: Callable[[DomainDispatcherApplication, dict[str, Any], Any], Iterable[bytes]],
) -> Callable[..., Iterable[bytes]]:
    def __call__(self: DomainDispatcherApplication, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if not PEOPLE_FIRST.signed_by_a_person(environ):
            PEOPLE_FIRST.wait_for_people()
        return original(self, environ, start_response)

    return __call__


def _state_eval_body(original: Callable[[CommonStateField, Any], None]) -> Callable[[CommonStateField, Any], None]:
    def _eval_body(self: CommonStateField, env: Any) -> None:
        PEOPLE_FIRST.wait_for_people()
        original(self, env)

    return _eval_body


PATCH = Patch(
    "moto's server and Step Functions interpreter serving background work and people's requests alike",
    [
        (DomainDispatcherApplication, "__call__", Wrap(_moto_server_call)),
        (CommonStateField, "_eval_body", Wrap(_state_eval_body)),
    ],
)
