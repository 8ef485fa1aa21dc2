"""A runner's heartbeat while it is busy outside its watch of the command: the output's last flush
and its copy to S3 can take minutes for a large output, and a job whose runner is silent for 60 s
is closed incomplete by the heartbeat check, its task stopped and its retry planned."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType


class Heartbeat:
    """Calls `beat` every `every` seconds in a thread of its own, from entry to exit."""

    def __init__(self, beat: Callable[[], None], every: float):
        self.beat = beat
        self.every = every
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stopped.set()
        self.thread.join()

    def _run(self) -> None:
        while not self.stopped.wait(self.every):
            self.beat()
