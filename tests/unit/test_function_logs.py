"""What the local Lambda writes to a function's log stream, in-process (jobs_local.lambda_.function_logs)."""

import re
import threading

from jobs_local.iam.credentials import Keys
from jobs_local.lambda_.function_logs import TAIL_BYTES, WorkerLog, _batches
from jobs_local.logs.limits import EVENT_OVERHEAD, MAX_BATCH_BYTES, MAX_EVENT_BYTES, MAX_EVENTS

KEYS = Keys("AKIA", "secret")


def test_a_stream_is_named_as_lambda_names_it():
    log = WorkerLog("f", KEYS)
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", log.stream)
    assert log.stream != WorkerLog("f", KEYS).stream


def test_the_tail_is_the_invocations_last_4_kb_once_its_report_is_read():
    log = WorkerLog("f", KEYS)
    log.line("a line of the invocation before")
    log.begin("r1", keep_tail=True)
    log.line("START RequestId: r1 Version: $LATEST")
    for n in range(500):
        log.line(f"line {n:04}")
    threading.Timer(0.2, log.line, ["REPORT RequestId: r1\tDuration: 1.00 ms"]).start()
    tail = log.tail(wait=5)
    assert tail.endswith("line 0499\nREPORT RequestId: r1\tDuration: 1.00 ms\n")
    assert len(tail.encode()) == TAIL_BYTES
    assert "before" not in tail
    assert len(log.take()) == 503 and log.take() == []  # every line is shipped, once


def test_a_timed_out_invocation_gets_lambdas_lines():
    log = WorkerLog("f", KEYS)
    log.begin("r2", keep_tail=True)
    log.timed_out("r2", 3.0, 512)
    lines = [event["message"] for event in log.take()]
    assert re.fullmatch(r"\S+Z r2 Task timed out after 3.00 seconds", lines[0])
    assert lines[1:] == [
        "END RequestId: r2",
        "REPORT RequestId: r2\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 512 MB\t"
        "Max Memory Used: 512 MB\tStatus: timeout",
    ]


def test_a_line_over_cloudwatchs_limit_is_cut_and_batches_keep_within_put_log_events_limits():
    log = WorkerLog("f", KEYS)
    log.line("é" * MAX_EVENT_BYTES)
    (event,) = log.take()
    assert len(event["message"].encode()) <= MAX_EVENT_BYTES - EVENT_OVERHEAD
    many = [{"timestamp": 1, "message": "x"} for _ in range(MAX_EVENTS + 5)]
    assert [len(batch) for batch in _batches(many)] == [MAX_EVENTS, 5]
    large = [{"timestamp": 1, "message": "y" * 200_000} for _ in range(12)]
    batches = _batches(large)
    assert sum(map(len, batches)) == 12
    assert all(sum(len(e["message"]) + EVENT_OVERHEAD for e in batch) <= MAX_BATCH_BYTES for batch in batches)
    assert [e for batch in batches for e in batch] == large  # in order
