"""How the local stack shares this machine's CPU among Lambda functions (jobs_local.lambda_.runtime)."""

import os
import threading
import time
from pathlib import Path

from jobs_local.lambda_.slots import Slots
from jobs_local.lambda_.workers import BACKGROUND_NICE


def _nice(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, ValueError):
                continue
    return found


def test_a_running_command_yields_the_cpu_to_the_api(stack, api):
    """The runner's workers and their commands run 10 nice levels below the API's workers."""
    _, job = api("POST", "/jobs", {"command": "demo:sleep", "params": ["3"]})
    api.wait(job["id"], until=lambda j: j["state"] == "running")
    runner, api_function = stack.physical_id("RunnerFunction"), stack.physical_id("ApiFunction")
    # The runner records the job running, then starts its command: look until the command is there.
    deadline = time.monotonic() + 10
    while True:
        workers = {name: [w.pid for w in pool.idle] for name, pool in stack.runtime.pools.items()}
        busy = [
            w.pid for w in stack.runtime.processes.workers if w.pid not in workers.get(runner, []) and w.poll() is None
        ]
        commands = [child for pid in busy for child in _children(pid)]
        if commands or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert commands, "the running command was not found under a runner's worker"
    assert {_nice(pid) for pid in commands} == {min(19, os.getpriority(os.PRIO_PROCESS, 0) + BACKGROUND_NICE)}
    assert workers.get(api_function), "no idle API worker"
    assert {_nice(pid) for pid in workers[api_function]} == {os.getpriority(os.PRIO_PROCESS, 0)}
    api.wait(job["id"])


def test_invocations_past_the_concurrency_are_served_in_their_order():
    slots = Slots(1)
    slots.acquire()
    served: list[int] = []

    def invoke(n: int) -> None:
        slots.acquire()
        served.append(n)
        slots.release()

    waiting = []
    for n in range(20):
        thread = threading.Thread(target=invoke, args=(n,))
        thread.start()
        waiting.append(thread)
        while len(slots.line) < n + 1:  # in line before the next one comes
            time.sleep(0.001)
    slots.release()
    for thread in waiting:
        thread.join(5)
    assert served == list(range(20))
    assert slots.free == 1 and not slots.line
