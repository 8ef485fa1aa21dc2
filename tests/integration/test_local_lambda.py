"""How the local stack shares this machine's CPU among Lambda functions (jobs_local.lambda_.runtime)."""

import json
import os
import signal
import threading
import time
from pathlib import Path

from jobs_local.lambda_.forks import GONE, PreloadedForks
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


def _probe_environment(code: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "_HANDLER": "probe.handler",
        "AWS_LAMBDA_FUNCTION_NAME": "probe",
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/probe",
        "AWS_LAMBDA_LOG_STREAM_NAME": "stream",
        "PYTHONPATH": str(code),
    }


def test_a_forked_worker_has_only_its_functions_environment_code_and_path(tmp_path, monkeypatch):
    """Workers are forked from a process that has the SDK imported (jobs_local.lambda_.forks), yet
    each starts as a new Lambda environment would: its variables alone, its folder first on the
    import path, its handler imported anew, and it stops on SIGTERM as the runtime asks."""
    (tmp_path / "probe.py").write_text(
        "import os, sys\n"
        "def handler(event, context):\n"
        "    return {'env': sorted(os.environ), 'first': sys.path[0], 'cwd': os.getcwd(),\n"
        "            'name': context.function_name, 'echo': event}\n"
    )
    monkeypatch.setenv("ONLY_THE_STACKS", "1")  # the preloaded process's, not a function's
    forks = PreloadedForks()
    env = _probe_environment(tmp_path)
    try:
        worker = forks.spawn(env, tmp_path)
        assert json.loads(worker.stdout.readline()) == {"initialized": True}
        worker.stdin.write(json.dumps({"event": {"n": 1}, "request_id": "r1", "deadline": time.time() + 30}) + "\n")
        worker.stdin.flush()
        reply = json.loads(worker.stdout.readline())
        assert reply["ok"], reply
        result = reply["result"]
        assert set(result["env"]) == set(env), "only the function's variables"
        assert result["first"] == result["cwd"] == str(tmp_path)
        assert (result["name"], result["echo"]) == ("probe", {"n": 1})
        worker.terminate()
        assert worker.wait(10) == 143, "stopped by SIGTERM through the worker's own handler"
        again = forks.spawn(env, tmp_path)
        again.kill()
        assert again.wait(10) == -signal.SIGKILL
        again.kill()  # an ended worker is not signaled again: its pid may be another process's now
    finally:
        forks.close()
    assert forks.process is None


def test_workers_are_forked_again_once_the_preloaded_process_has_died(tmp_path):
    """Its workers count as ended (they stop themselves once their parent is gone), and the next
    worker asked for starts a new preloaded process."""
    (tmp_path / "probe.py").write_text("def handler(event, context):\n    return event\n")
    forks = PreloadedForks()
    try:
        first = forks.spawn(_probe_environment(tmp_path), tmp_path)
        assert json.loads(first.stdout.readline()) == {"initialized": True}
        assert forks.process is not None
        forks.process.kill()
        assert first.wait(10) == GONE
        second = forks.spawn(_probe_environment(tmp_path), tmp_path)
        assert json.loads(second.stdout.readline()) == {"initialized": True}
        second.terminate()
        assert second.wait(10) == 143
    finally:
        forks.close()
