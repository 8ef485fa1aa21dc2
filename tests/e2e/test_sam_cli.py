"""The SAM and AWS CLIs on `make run`'s stack, as README's "Develop a function" uses them: `make
invoke` (`sam remote invoke`) and every event in events/ through the call it makes, `sam logs`,
and the README's operator commands."""

import base64
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jobs_local.process import StackProcess
from tests.e2e.conftest import OPERATORS, Http

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
BIN = ROOT / ".venv" / "bin"
SETUP = 'eval "$(.venv/bin/jobs-local env)"'  # README's, for the AWS and SAM CLIs


def _env(stack: StackProcess) -> dict[str, str]:
    """A second terminal's: `jobs-local` finds the stack as `jobs` does, and .venv/bin is not on its
    PATH (make's own commands put it there)."""
    path = os.pathsep.join(folder for folder in os.environ["PATH"].split(os.pathsep) if Path(folder) != BIN)
    return {**os.environ, "XDG_STATE_HOME": stack.state_dir, "PATH": path}


def _run(stack: StackProcess, argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """A command in that second terminal, in the checkout."""
    return subprocess.run(argv, cwd=ROOT, env=_env(stack) | env, capture_output=True, text=True, timeout=120)


def _invoke(stack: StackProcess, function: str, event: str) -> tuple[Any, str]:
    """`make invoke`: the function's answer (stdout's last line), and the log lines it printed."""
    done = _run(
        stack, ["make", "-s", "--no-print-directory", "invoke", f"FUNCTION={function}", f"EVENT=events/{event}"]
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def _body(answer: dict[str, Any]) -> Any:
    return json.loads(answer["body"])


# Each committed event: its function, and what its answer must be (README, "Develop a function").
ANSWERS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "api_list_definitions.json": (
        "ApiFunction",
        lambda a: a["statusCode"] == 200 and "import_solr" in {d["key"] for d in _body(a)["items"]},
    ),
    "api_page.json": ("ApiFunction", lambda a: a["statusCode"] == 200 and '<base href="/v1/">' in a["body"]),
    "api_start_job.json": ("ApiFunction", lambda a: a["statusCode"] == 202 and _body(a)["state"] == "pending"),
    "cleanup.json": ("CleanUpFunction", lambda a: a["complete"] is True and "deleted" in a),
    "authorizer_refused.json": ("TokenAuthorizerFunction", lambda a: a["errorMessage"] == "Unauthorized"),
    "runner_unknown_job.json": ("RunnerFunction", lambda a: a["errorType"] == "JobNotFound"),
    "job_state_unknown_job.json": ("JobStateFunction", lambda a: a["errorType"] == "JobNotFound"),
}


def test_every_committed_event_has_its_documented_answer():
    assert {path.name for path in EVENTS.glob("*.json") if not path.name.endswith(".local.json")} == set(ANSWERS)


def _one_invocations_logs(logs: str) -> None:
    """Lambda's START and REPORT lines of the invocation, as `sam remote invoke` prints them."""
    request_id = re.search(r"^START RequestId: ([0-9a-f-]{36}) Version: \$LATEST$", logs, re.M).group(1)
    assert re.search(rf"^REPORT RequestId: {request_id}\tDuration: ", logs, re.M), logs


def test_make_invoke_answers_an_event_with_the_functions_logs(local_stack: StackProcess):
    function, expected = ANSWERS["api_list_definitions.json"]
    answer, logs = _invoke(local_stack, function, "api_list_definitions.json")
    assert expected(answer), answer
    _one_invocations_logs(logs)


@pytest.mark.parametrize("event", sorted(ANSWERS))
def test_each_committed_event_gets_its_documented_answer(local_stack: StackProcess, event: str):
    """Through the Lambda API call that `sam remote invoke` makes (Invoke, with the log's tail): a
    SAM CLI process per event cost 3 CPU-s, and the one above is README's own example."""
    function, expected = ANSWERS[event]
    physical = local_stack.aws_client("cloudformation").describe_stack_resource(
        StackName="jobs-local", LogicalResourceId=function
    )["StackResourceDetail"]["PhysicalResourceId"]
    invoked = local_stack.aws_client("lambda").invoke(
        FunctionName=physical, Payload=(EVENTS / event).read_bytes(), LogType="Tail"
    )
    answer = json.loads(invoked["Payload"].read())
    assert expected(answer), answer
    _one_invocations_logs(base64.b64decode(invoked["LogResult"]).decode())


def test_the_prepared_events_run_a_job_end_its_run_and_pass_the_authorizer(local_stack: StackProcess, http: Http):
    made = _run(local_stack, [str(BIN / "jobs-local"), "events"])
    assert made.returncode == 0, made.stderr
    job_id = json.loads((EVENTS / "runner.local.json").read_text())["job_id"]
    assert http("GET", f"/jobs/{job_id}")[1]["state"] == "pending"

    ran, _ = _invoke(local_stack, "RunnerFunction", "runner.local.json")
    assert (ran["job_id"], ran["state"], ran["exit_code"]) == (job_id, "finished", 0)
    job = http("GET", f"/jobs/{job_id}")[1]
    assert job["state"] == "finished"
    ended, _ = _invoke(local_stack, "JobStateFunction", "job_state.local.json")
    assert (ended["job_id"], ended["state"]) == (job_id, "finished")
    assert http.wait(job["dependents"][0])["state"] == "finished"  # index_solr, in its own execution

    allowed, _ = _invoke(local_stack, "TokenAuthorizerFunction", "authorizer.local.json")
    assert allowed["principalId"] == next(iter(OPERATORS))
    assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert oct((EVENTS / "authorizer.local.json").stat().st_mode & 0o777) == "0o600"  # it holds a token

    for definition, said in (("nope", "nope"), ("on_fargate", "runs on fargate")):
        refused = _run(local_stack, [str(BIN / "jobs-local"), "events", "--definition", definition])
        assert (refused.returncode, refused.stdout) == (2, ""), refused.stderr
        assert said in refused.stderr and "Traceback" not in refused.stderr


def test_sam_logs_shows_an_invocation_and_tails_the_next(local_stack: StackProcess):
    _, logs = _invoke(local_stack, "CleanUpFunction", "cleanup.json")
    request_id = re.search(r"^START RequestId: ([0-9a-f-]{36})", logs, re.M).group(1)
    # As README's "Develop a function" says: in a shell that ran its `eval`.
    sam_logs = ["bash", "-c", f'{SETUP}; exec sam logs -n CleanUpFunction --config-env local "$@"', "sam logs"]
    shown = ""
    for _ in range(20):  # Lambda ships its lines to the log group every 2 s
        shown = _run(local_stack, sam_logs).stdout
        if f"REPORT RequestId: {request_id}" in shown:
            break
        time.sleep(0.5)
    for line in (f"START RequestId: {request_id} Version: $LATEST", f"END RequestId: {request_id}"):
        assert line in shown
    assert re.search(rf"REPORT RequestId: {request_id}\tDuration: [\d.]+ ms\tBilled Duration", shown)
    assert re.search(r'"message": ?"clean-up done"', shown)  # sam logs indents JSON lines
    # The AWS CLI reads the same group, named after the function's physical name.
    name = "$(aws cloudformation describe-stack-resource --stack-name jobs-local --logical-resource-id CleanUpFunction"
    name += " --query StackResourceDetail.PhysicalResourceId --output text)"
    read = f"aws logs filter-log-events --log-group-name /aws/lambda/{name} --query 'events[].message' --output text"
    read = _run(local_stack, ["bash", "-c", f"set -euo pipefail; {SETUP}; {read}"])
    assert read.returncode == 0, read.stderr
    assert f"END RequestId: {request_id}" in read.stdout

    tail = subprocess.Popen(
        [*sam_logs, "--tail"], cwd=ROOT, env=_env(local_stack), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert tail.stdout is not None
        # It starts 10 minutes back (sam's default), so it shows the invocation above first: from then
        # on it is following, and the next invocation's lines must come after.
        for line in tail.stdout:
            if f"REPORT RequestId: {request_id}" in line:
                break
        _, logs = _invoke(local_stack, "CleanUpFunction", "cleanup.json")
        following = re.search(r"^START RequestId: ([0-9a-f-]{36})", logs, re.M).group(1)
        for line in tail.stdout:
            if f"REPORT RequestId: {following}" in line:
                break
        assert f"REPORT RequestId: {following}" in line
    finally:
        os.killpg(tail.pid, signal.SIGTERM)
        tail.wait(10)


def _readme_commands(marker: str) -> list[str]:
    """The lines of README's shell block after `marker`, comments dropped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index(marker) :].split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("   #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readmes_aws_cli_commands_show_the_table_the_output_and_an_execution(local_stack: StackProcess, http: Http):
    _, job = http("POST", "/jobs", {"command": "demo:echo", "params": ["from the README"]})
    assert http.wait(job["id"])["state"] == "finished"
    setup = _readme_commands("<!-- the AWS CLI on the local stack -->")[0]
    assert setup == SETUP
    answers = []
    for command in _readme_commands("<!-- operator commands, run by tests/e2e/test_sam_cli.py -->"):
        done = _run(local_stack, ["bash", "-c", f"set -euo pipefail; {setup}; {command}"], JOB_ID=job["id"])
        assert done.returncode == 0, (command, done.stderr)
        answers.append(done.stdout)
    scan, listing, execution = answers
    assert re.search(rf"^{job['id']}\tfinished\tdemo:echo$", scan, re.M)
    assert f"{job['id']}.log" in listing
    described = json.loads(execution)
    assert (described["name"], described["status"]) == (job["id"], "SUCCEEDED")
