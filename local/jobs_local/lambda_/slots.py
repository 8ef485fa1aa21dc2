"""A function's concurrency, as reserved concurrency bounds it, but waiting instead of throttling."""

from __future__ import annotations

import collections
import threading


class Slots:
    """A function's concurrency: invocations beyond it wait their turn, first come, first served
    (a semaphore lets a newcomer take a freed slot before those that waited: seconds of tail under a
    burst). A freed slot is handed to the first in line, whom alone it wakes."""

    def __init__(self, count: int):
        self.free = count
        self.line: collections.deque[threading.Event] = collections.deque()
        self.lock = threading.Lock()

    def acquire(self) -> None:
        with self.lock:
            if self.free > 0 and not self.line:
                self.free -= 1
                return
            turn = threading.Event()
            self.line.append(turn)
        turn.wait()

    def release(self) -> None:
        with self.lock:
            if self.line:
                self.line.popleft().set()
            else:
                self.free += 1
