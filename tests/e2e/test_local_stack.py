"""`make run`'s stack over HTTP: the seed's example, live output, cancel, auth, schedule, clean stop."""

import json
import os
import pty
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from jobs_cli.stats import dollars
from jobs_local.process import StackProcess, wait_gone
from tests.e2e.conftest import CONFIG, OPERATORS, Http

pytestmark = pytest.mark.e2e


def test_import_solr_runs_and_index_solr_starts_only_after_it_finished(http: Http):
    status, job = http("POST", "/job-definitions/import_solr/start")
    assert status == 202
    imported = http.wait(job["id"])
    index = http.wait(job["dependents"][0])
    assert (imported["state"], index["state"]) == ("finished", "finished")
    assert index["started_at"] >= imported["closed_at"]
    _, page = http("GET", f"/jobs/{index['id']}/output")
    assert page["lines"][-1].startswith("index built: 59 documents")


def test_live_output_while_demo_sleep_runs(http: Http):
    _, job = http("POST", "/jobs", {"command": "demo:sleep", "params": ["3"]})
    http.wait(job["id"], until=lambda j: j["state"] == "running")
    lines, cursor, seen_while_running = [], None, []
    while True:
        _, page = http("GET", f"/jobs/{job['id']}/output", query=f"cursor={cursor}" if cursor else "")
        lines += page["lines"]
        cursor = page["next_cursor"] or cursor
        if page["lines"] and http.job(job["id"])["state"] == "running":
            seen_while_running += page["lines"]
        if page["complete"]:
            break
        time.sleep(0.3)
    assert "second 1/3" in seen_while_running
    assert lines == ["sleeping 3 s", "second 1/3", "second 2/3", "second 3/3", "done"]


def test_cancel_a_running_job(http: Http):
    _, job = http("POST", "/jobs", {"command": "demo:sleep", "params": ["60"]})
    http.wait(job["id"], until=lambda j: j["state"] == "running")
    status, canceled = http("POST", f"/jobs/{job['id']}/cancel")
    assert status == 202 and canceled["state"] == "canceled"
    lines = http.output(job["id"])  # complete once the runner has stopped the command and saved its output
    assert lines[-1] == "[job system] stopping the command: the job was canceled"
    assert http.job(job["id"])["state"] == "canceled"


def test_a_fargate_job_runs_and_one_is_canceled_leaving_no_process(http: Http, local_stack: StackProcess):
    status, job = http("POST", "/job-definitions/on_fargate/start")
    assert status == 202 and job["runner"] == "fargate"
    assert http.wait(job["id"])["state"] == "finished"
    assert http.output(job["id"]) == ["big"]

    before = local_stack.descendants()
    _, long = http("POST", "/jobs", {"command": "demo:sleep", "params": ["60"], "runner": "fargate"})
    http.wait(long["id"], until=lambda j: j["state"] == "running")
    # The job's own processes: a Lambda worker that the stack starts meanwhile is not the job's. The
    # runner marks the job running (and puts its event) a moment before it starts the command.
    deadline = time.monotonic() + 15
    while len(started := {p for p in local_stack.descendants() - before if _belongs_to(p, long["id"])}) < 2:
        assert time.monotonic() < deadline, "the ECS task's process and its command"
        time.sleep(0.1)
    assert http("POST", f"/jobs/{long['id']}/cancel")[0] == 202
    assert http.output(long["id"])[-1] == "[job system] stopping the command: the job was canceled"
    assert wait_gone(started) == set()


def _belongs_to(pid: int, job_id: str) -> bool:
    """The runner's task names the job in its argv; the command gets JOB_ID in its environment."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    return job_id.encode() in argv or f"JOB_ID={job_id}".encode() in environ


def test_of_racing_cancels_over_http_exactly_one_wins(http: Http):
    _, job = http("POST", "/jobs", {"command": "demo:sleep", "params": ["60"]})
    http.wait(job["id"], until=lambda j: j["state"] == "running")

    def cancel(_: int) -> int:
        return requests.post(
            f"{http.stack.url}/jobs/{job['id']}/cancel", headers=dict(http.session.headers), timeout=60
        ).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(cancel, range(8)))
    assert statuses == [202] + [409] * 7
    assert http.wait(job["id"])["state"] == "canceled"


def test_a_body_nested_5000_deep_gets_a_400(local_stack: StackProcess):
    body = b'{"command": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = requests.post(
        f"{local_stack.url}/jobs",
        data=body,
        headers={"Authorization": f"Bearer {local_stack.token}", "Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 400
    assert response.json() == {"message": "request body: JSON is nested too deeply"}


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic abc", "Bearer "])
def test_a_request_without_the_token_is_refused(local_stack: StackProcess, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    for method, path in (("GET", "/jobs"), ("POST", "/job-definitions/import_solr/start")):
        response = requests.request(method, local_stack.url + path, headers=headers, timeout=10)
        assert response.status_code == 401
        assert "token" in response.json()["message"]


def test_the_stack_listens_on_loopback_only(local_stack: StackProcess):
    listening = Path("/proc/net/tcp").read_text().splitlines()[1:]
    port_hex = f"{local_stack.port:04X}"
    addresses = {
        line.split()[1] for line in listening if line.split()[1].endswith(":" + port_hex) and line.split()[3] == "0A"
    }
    assert addresses == {"0100007F:" + port_hex}


def test_the_cli_follows_import_solr_then_index_solr(local_stack: StackProcess):
    env = {**os.environ, "JOBS_URL": local_stack.url, "JOBS_TOKEN": local_stack.token}
    result = subprocess.run(
        [sys.executable, "-m", "jobs_cli.cli", "start", "import_solr", "--follow"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    imported = next(i for i, line in enumerate(out) if line.startswith("import finished: 59 imported"))
    indexed = next(i for i, line in enumerate(out) if line.startswith("index built: 59 documents"))
    assert out[0] == "importing 60 products from sample-erp into area 'tmp'"
    assert imported < indexed
    assert "Import from eZ finished" in result.stderr and "Index econtent tmp cores finished" in result.stderr

    failed = subprocess.run(
        [sys.executable, "-m", "jobs_cli.cli", "start", "failing_check", "--follow"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert failed.returncode == 1
    assert "error: the remote system refused the connection (exit 7)" in failed.stderr  # as the command wrote it
    assert "checking the remote system..." in failed.stdout
    assert "canceled: not run" in failed.stderr


@pytest.mark.own_stack
def test_clean_up_fires_from_its_schedule():
    # rate(1 minute), sped up 30 times: the clean-up Lambda fires every 2 s.
    parameters = "CleanUpSchedule=rate(1 minute);CleanUpMaxRetention=1 sec"
    with StackProcess(config=CONFIG, parameters=parameters, extra_env={"LOCAL_SCHEDULE_SPEEDUP": "30"}) as stack:
        http = Http(stack)
        _, job = http("POST", "/jobs", {"command": "demo:echo", "params": ["soon gone"]})
        http.wait(job["id"])
        deadline = time.monotonic() + 30
        while http("GET", f"/jobs/{job['id']}")[0] != 404:
            assert time.monotonic() < deadline, "the scheduled clean-up never deleted the job"
            time.sleep(0.5)
        # The stack says so once the invocation is queued, and the clean-up may have run by then.
        while not any("fired" in line and "CleanUpFunction" in line for line in stack.lines):
            assert time.monotonic() < deadline, [line for line in stack.lines if "schedule" in line][-10:]
            time.sleep(0.2)


@pytest.mark.own_stack
def test_a_burst_of_64_clients_gets_an_answer_to_every_request():
    """128 job starts from 64 clients, in two waves of 64 at once, each on a new connection: none
    is reset or refused (with Python's listen backlog of 5, some were). `bench/burst.py` sends the
    full burst of 500."""
    with StackProcess(config=CONFIG) as stack:
        headers = {"Authorization": f"Bearer {stack.token}"}
        # Delayed: the burst is the gateway's to answer; 128 runs would only load the machine.
        body = {"command": "demo:echo", "params": ["burst"], "delay": "1 h"}

        together = threading.Barrier(64)  # each wave's clients connect at the same moment

        def start(_: int) -> int | str:
            together.wait()
            try:
                return requests.post(f"{stack.url}/jobs", json=body, headers=headers, timeout=300).status_code
            except requests.RequestException as exc:
                return repr(exc)

        with ThreadPoolExecutor(64) as pool:
            answers = list(pool.map(start, range(128)))
    errors = [a for a in answers if a != 202]
    assert not errors, f"{len(errors)} of 128 failed, e.g. {errors[:3]}"


def test_a_bad_config_stops_make_run_with_the_reason(tmp_path):
    bad = tmp_path / "jobs.yaml"
    bad.write_text("jobs:\n  nightly:\n    label: Nightly\n    command: silver:imprt\n")
    stack = StackProcess(config=bad)
    with pytest.raises(RuntimeError) as error:
        stack.start()
    assert f"{bad}: jobs.nightly: unknown command 'silver:imprt'" in str(error.value)


def _cli(stack: StackProcess, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "JOBS_URL": stack.url, "JOBS_TOKEN": stack.token}
    return subprocess.run(
        [sys.executable, "-m", "jobs_cli.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_the_cli_lists_shows_logs_cancels_and_cleans_up(local_stack: StackProcess, http: Http):
    definitions = _cli(local_stack, "definitions")
    assert definitions.returncode == 0
    assert "import_solr" in definitions.stdout and "└ index_solr" in definitions.stdout

    started = _cli(local_stack, "run", "demo:echo", "--", "-n", "two words")
    assert started.returncode == 0
    job_id = started.stdout.strip()
    http.wait(job_id)
    assert _cli(local_stack, "logs", job_id).stdout.splitlines() == ["-n", "two words"]
    shown = _cli(local_stack, "--json", "show", job_id)
    assert json.loads(shown.stdout)["state"] == "finished"
    listed = _cli(local_stack, "list", "--command", "demo:echo", "--state", "finished")
    assert job_id in listed.stdout

    sleeper = _cli(local_stack, "run", "demo:sleep", "30").stdout.strip()
    http.wait(sleeper, until=lambda j: j["state"] == "running")
    assert _cli(local_stack, "cancel", sleeper).returncode == 0
    assert http.job(sleeper)["state"] == "canceled"
    again = _cli(local_stack, "cancel", sleeper)
    assert again.returncode == 2 and "is canceled" in again.stderr

    cleaned = _cli(local_stack, "--json", "clean-up", "--per-call", "1", "--max-retention", "1 sec")
    assert cleaned.returncode == 0 and len(json.loads(cleaned.stdout)["deleted"]) == 1
    refused = _cli(local_stack, "run", "rm", "--", "-rf", "/")
    assert refused.returncode == 2 and "not in the allow-list" in refused.stderr


def test_the_cli_refuses_a_second_start_of_a_unique_definition_naming_the_open_job(
    local_stack: StackProcess, http: Http
):
    first = _cli(local_stack, "start", "one_at_a_time")
    assert first.returncode == 0, first.stderr
    job_id = first.stdout.strip()
    http.started.append(job_id)
    again = _cli(local_stack, "start", "one_at_a_time")
    assert again.returncode == 2
    assert f"already running: job {job_id} of one_at_a_time" in again.stderr
    assert http("POST", f"/jobs/{job_id}/cancel")[0] == 202


def test_the_cli_pauses_lists_and_resumes_a_queue(local_stack: StackProcess, http: Http):
    try:
        paused = _cli(local_stack, "queue", "pause", "maintained")
        assert paused.returncode == 0 and "queue maintained is paused by " in paused.stderr
        listed = _cli(local_stack, "queue", "list")
        row = next(line for line in listed.stdout.splitlines() if line.startswith("maintained "))
        assert row.split()[1:3] == ["1", "0"] and "paused by " in row
        _, job = http("POST", "/jobs", {"command": "demo:echo", "queue": "maintained"})
        http.wait(job["id"], until=lambda j: (j["waiting"] or "").startswith("queue maintained is paused"))
    finally:
        resumed = _cli(local_stack, "queue", "resume", "maintained")
    assert resumed.returncode == 0 and "queue maintained runs" in resumed.stderr
    assert http.wait(job["id"])["state"] == "finished"
    assert _cli(local_stack, "queue", "pause", "nope").returncode == 2


def test_the_cli_shows_a_definitions_last_runs_and_their_cost(local_stack: StackProcess, http: Http):
    _, job = http("POST", "/job-definitions/import_solr/start")
    for job_id in [job["id"], *job["dependents"]]:
        http.wait(job_id)
    http.settled_cost("definition=import_solr")
    shown = _cli(local_stack, "stats", "import_solr")
    assert shown.returncode == 0, shown.stderr
    facts, cost = shown.stdout.splitlines()
    assert re.match(r"^import_solr: \d+ runs? · \d+ % succeed · p50 [\d.]+ s · p95 [\d.]+ s", facts), facts
    stats = http("GET", "/stats", query="definition=import_solr")[1]["cost"]
    assert cost.startswith(f"≈ {dollars(stats['per_run'])} a run · {dollars(stats['in_30_days'])} in 30 days (")
    assert re.search(r" \(\d+ runs? (today|in the last \d+ days), at us-east-1's AWS prices of 2026-11-29\)$", cost)
    assert json.loads(_cli(local_stack, "--json", "stats", "--command", "demo:echo").stdout)["command"] == "demo:echo"
    assert _cli(local_stack, "stats", "nope").returncode == 2


def test_the_cli_keeps_a_commands_stderr_apart(local_stack: StackProcess, http: Http):
    followed = _cli(local_stack, "run", "both-streams", "--follow")
    assert followed.returncode == 0, followed.stderr
    assert followed.stdout.splitlines() == [f"out {n}" for n in range(1, 5)]
    assert [line for line in followed.stderr.splitlines() if line.startswith("err ")] == [
        f"err {n}" for n in range(1, 5)
    ]
    job_id = json.loads(_cli(local_stack, "--json", "list", "--command", "both-streams", "--limit", "1").stdout)[
        "items"
    ][0]["id"]
    only = _cli(local_stack, "logs", job_id, "--stderr")
    assert only.returncode == 0 and only.stdout.splitlines() == [f"err {n}" for n in range(1, 5)]


def test_the_cli_says_who_the_token_names_and_a_viewer_may_not_start(local_stack: StackProcess):
    env = {**os.environ, "JOBS_URL": local_stack.url, "JOBS_TOKEN": OPERATORS["vera"]}
    cli = [sys.executable, "-m", "jobs_cli.cli"]
    me = subprocess.run([*cli, "whoami"], env=env, capture_output=True, text=True, timeout=60)
    assert (me.returncode, me.stdout) == (0, "vera (viewer)\n")
    refused = subprocess.run([*cli, "start", "import_solr"], env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "viewer vera may not start jobs (operator needed)" in refused.stderr


def _cli_on_a_terminal(stack: StackProcess, *args: str) -> bytes:
    """What the CLI writes when its stdout and stderr are a terminal (a pseudo-terminal here)."""
    env = {**os.environ, "JOBS_URL": stack.url, "JOBS_TOKEN": stack.token}
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "jobs_cli.cli", *args], env=env, stdin=subprocess.DEVNULL, stdout=secondary,
        stderr=secondary,
    )  # fmt: skip
    os.close(secondary)
    written = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the CLI has exited and closed the terminal
            break
        if not chunk:
            break
        written += chunk
    os.close(primary)
    assert process.wait(60) == 0, written
    return written


def test_a_jobs_output_never_drives_the_operators_terminal(local_stack: StackProcess, http: Http):
    """Output is third-party data: retitling, colours and carriage returns are shown, not obeyed."""
    hostile = "\x1b]0;pwn\x07\x1b[31mred\x1b[0m\rover\x9b2J"
    job_id = _cli(local_stack, "run", "demo:echo", hostile).stdout.strip()
    http.wait(job_id)
    on_terminal = _cli_on_a_terminal(local_stack, "logs", job_id)
    assert b"\\x1b]0;pwn\\x07\\x1b[31mred\\x1b[0m\\x0dover\\x9b2J" in on_terminal
    assert b"\x1b" not in on_terminal and b"\x07" not in on_terminal
    shown = _cli_on_a_terminal(local_stack, "show", job_id)
    assert b"\\x1b]0;pwn" in shown and b"\x1b]0;pwn" not in shown
    followed = _cli_on_a_terminal(local_stack, "start", "--follow", "import_solr")
    assert b"\x1b]0;" not in followed  # colours of its own only
    # --raw, and any pipe, pass the bytes through as they are.
    assert hostile.encode() in _cli_on_a_terminal(local_stack, "--raw", "logs", job_id)
    env = {**os.environ, "JOBS_URL": local_stack.url, "JOBS_TOKEN": local_stack.token}
    piped = subprocess.run([sys.executable, "-m", "jobs_cli.cli", "logs", job_id], env=env, capture_output=True)
    assert piped.stdout == (hostile + "\n").encode()


def test_the_cli_says_when_there_is_no_stack(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("JOBS_URL", "JOBS_TOKEN")}
    env["XDG_STATE_HOME"] = str(tmp_path)
    result = subprocess.run([sys.executable, "-m", "jobs_cli.cli", "list"], env=env, capture_output=True, text=True)
    assert result.returncode == 3 and "make run" in result.stderr


def test_the_cli_finds_the_stack_by_itself_and_the_token_is_kept_in_one_place(local_stack: StackProcess):
    """`jobs` in a second terminal, without flags: the stack's connection file says where the stack
    is; the token stays in the stack's state folder only, next to the secret it mirrors."""
    env = {k: v for k, v in os.environ.items() if k not in ("JOBS_URL", "JOBS_TOKEN")}
    env["XDG_STATE_HOME"] = local_stack.state_dir
    command = [sys.executable, "-m", "jobs_cli.cli", "definitions"]
    listed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert "import_solr" in listed.stdout
    holding = [
        path
        for path in Path(local_stack.state_dir).rglob("*")
        if path.is_file() and path.stat().st_size < 1_000_000 and local_stack.token.encode() in path.read_bytes()
    ]
    assert [path.name for path in holding] == ["token"], holding
    assert holding[0].stat().st_mode & 0o777 == 0o600


def test_the_cli_runs_a_command_on_fargate(local_stack: StackProcess):
    ran = _cli(local_stack, "run", "demo:echo", "on", "fargate", "--set", "runner=fargate", "--follow")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == ["on", "fargate"]
    assert "finished" in ran.stderr


def test_the_cli_starts_later_in_a_queue_with_a_priority(local_stack: StackProcess, http: Http):
    later = _cli(local_stack, "--json", "start", "sleeper", "--in", "1 hour", "--queue", "serial", "--priority", "7")
    assert later.returncode == 0, later.stderr
    job = json.loads(later.stdout)
    assert (job["state"], job["queue"], job["priority"]) == ("pending", "serial", 7) and job["run_at"]
    assert job["id"] in _cli(local_stack, "list", "--queue", "serial", "--state", "pending").stdout
    at = _cli(local_stack, "run", "demo:echo", "at", "--at", job["run_at"])
    assert at.returncode == 0 and f"starts at {job['run_at']}" in at.stderr
    for started in (job["id"], at.stdout.strip()):
        assert _cli(local_stack, "cancel", started).returncode == 0
    refused = _cli(local_stack, "run", "demo:echo", "--queue", "nope")
    assert refused.returncode == 2 and "queue: no queue 'nope'" in refused.stderr
    both = _cli(local_stack, "start", "sleeper", "--at", job["run_at"], "--in", "1 min")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    scheduled = _cli(local_stack, "definitions").stdout
    assert "cron 0 2 * * * timezone Europe/Berlin" in scheduled


def test_the_cli_follows_a_job_through_its_next_attempt_to_its_dependents(local_stack: StackProcess):
    followed = _cli(local_stack, "start", "flaky_then_index", "--follow")
    assert followed.returncode == 0, followed.stderr
    assert followed.stdout.splitlines() == [
        "attempt 1: calling the flaky remote system",
        "attempt 2: calling the flaky remote system",
        "the remote system answered",
        "indexed",
    ]
    assert "error: the remote system timed out" in followed.stderr  # where the command wrote it
    assert "attempt 2 of 3 follows" in followed.stderr


def test_the_access_log_says_who_called_what_with_which_status_and_never_a_token(http: Http, local_stack: StackProcess):
    _, job = http("POST", "/jobs", {"command": "demo:echo", "params": ["audited"]})
    assert job["started_by"] == "anna"
    ben = {"Authorization": f"Bearer {OPERATORS['ben']}"}
    assert requests.post(f"{local_stack.url}/jobs/{job['id']}/cancel", headers=ben, timeout=10).status_code in (
        202,
        409,
    )
    wrong = requests.get(f"{local_stack.url}/jobs", headers={"Authorization": "Bearer not-a-token"}, timeout=10)
    assert wrong.status_code == 401
    log = local_stack.data_dir / "api-access.log"
    deadline = time.monotonic() + 10
    while True:  # written in batches, once a second
        lines = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        mine = lines[next((i for i, line in enumerate(lines) if line["path"] == f"/v1/jobs/{job['id']}/cancel"), -1) :]
        if (len(mine) >= 2 and mine[-1]["status"] == "401") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    started = [line for line in lines if line["method"] == "POST" and line["path"] == "/v1/jobs"][-1]
    assert (started["principal"], started["status"]) == ("anna", "202")
    canceled = mine[0]
    assert canceled["path"] == f"/v1/jobs/{job['id']}/cancel"
    assert canceled["principal"] == "ben" and canceled["resource"] == "/{proxy+}"
    refused = mine[-1]
    assert refused["principal"] == "-" and refused["error"].startswith("missing or wrong token")
    assert all(line["requestId"] and line["ip"] == "127.0.0.1" for line in lines)
    text = log.read_text()
    assert "not-a-token" not in text and not any(token in text for token in OPERATORS.values())


SEED_BLOCK = Path(__file__).resolve().parents[1] / "fixtures" / "seed-block.yaml"


@pytest.mark.own_stack
def test_the_seeds_block_pasted_verbatim_runs_import_solr_and_its_index_job_to_the_end():
    """The block of ../shared/seed/job-system.md, byte for byte, as a new user's whole jobs.yaml:
    no `env:`, no commands section. The catalogue commands find the bucket by themselves."""
    with StackProcess(config=SEED_BLOCK) as stack:
        http = Http(stack)
        status, job = http("POST", "/job-definitions/import_solr/start")
        assert status == 202, job
        imported = http.wait(job["id"], timeout=120)
        index = http.wait(job["dependents"][0], timeout=120)
        assert (imported["state"], index["state"]) == ("finished", "finished"), (imported, index)
        lines = http.output(index["id"])
        assert lines[-1].startswith("index built: 59 documents"), lines
