"""A running command's lines on their way to CloudWatch Logs, with a stream that fails as
CloudWatch can and an injected clock."""

import pytest

from jobsys import live_output
from jobsys.live_output import LiveOutput
from jobsys.output import OutputNotSent


class _Stream:
    """Takes batches of 2 lines; `refuse` batches fail, from the `after`-th on."""

    def __init__(self):
        self.lines: list[str] = []
        self.refuse = 0
        self.after = 0

    def send(self, lines: list[str]) -> None:
        sent = 0
        for start in range(0, len(lines), 2):
            if self.refuse and sent // 2 >= self.after:
                self.refuse -= 1
                raise OutputNotSent(sent)
            self.lines += lines[start : start + 2]
            sent += len(lines[start : start + 2])


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_batches_that_went_through_are_not_sent_again():
    stream, clock = _Stream(), _Clock()
    live = LiveOutput(stream.send, clock)
    for number in range(1, 6):
        live.add(f"line {number}")
    stream.refuse, stream.after = 1, 1  # the first batch goes, the second fails
    assert not live.flush()
    clock.now += 60
    assert live.flush()
    assert stream.lines == ["line 1", "line 2", "line 3", "line 4", "line 5"]


def test_a_failing_stream_is_tried_less_and_less_often_and_then_as_usual():
    stream, clock = _Stream(), _Clock()
    live = LiveOutput(stream.send, clock)
    stream.refuse = 99
    waits = []
    for _ in range(8):
        live.add("line")
        clock.now = live.next_try
        assert live.due()
        before = clock.now
        live.flush()
        waits.append(live.next_try - before)
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    live.add("line")
    assert not live.due()  # not even with many lines: it backs off
    stream.refuse = 0
    clock.now = live.next_try
    assert live.flush() and len(stream.lines) == 9
    assert live.next_try - clock.now == live_output.FLUSH_EVERY


def test_while_the_stream_refuses_the_oldest_lines_are_dropped_and_counted(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(live_output, "MAX_WAITING_LINES", 4)
    stream, clock = _Stream(), _Clock()
    live = LiveOutput(stream.send, clock)
    stream.refuse = 99
    for number in range(1, 9):
        live.add(f"line {number}")
        live.flush()
    assert len(live.waiting) == 4
    stream.refuse = 0
    clock.now = 1000
    assert live.flush()
    marker = live_output.DROPPED.format(count=5)
    assert stream.lines == [marker, "line 6", "line 7", "line 8"]
    live.add("line 9")  # a later loss is counted afresh
    assert live.flush() and stream.lines[-1] == "line 9"
