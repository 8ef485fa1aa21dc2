"""The seed's example and the failure paths, through the API function, the state machine and the runner."""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest

from jobs_local.stack import LocalStack
from tests.integration.conftest import Api

pytestmark = pytest.mark.integration


def test_import_solr_runs_then_index_solr_runs_after_it(api: Api):
    status, job = api("POST", "/job-definitions/import_solr/start")
    assert status == 202
    assert job["state"] == "pending"
    assert job["definition"] == "import_solr" and job["label"] == "Import from eZ"
    assert len(job["dependents"]) == 1

    imported = api.wait(job["id"])
    assert imported["state"] == "finished"
    assert imported["exit_code"] == 0
    assert imported["started_at"] and imported["closed_at"] and imported["runtime"] > 0

    index = api.wait(job["dependents"][0])
    assert index["state"] == "finished"
    assert index["parent_id"] == job["id"]
    assert index["definition"] == "index_solr"
    assert index["started_at"] >= imported["closed_at"], "the dependent started before its parent ended"

    import_lines = api.output(job["id"])
    assert "warning: skipped SKU-0008: invalid price 'n/a'" in import_lines
    # The warning went to stderr: the saved copy keeps it apart from the progress lines.
    assert api.output(job["id"], stream="stderr") == ["warning: skipped SKU-0008: invalid price 'n/a'"]
    progress = api.output(job["id"], stream="stdout")
    assert progress[0] == "importing 60 products from sample-erp into area 'tmp'"
    # The import's own last line. Not the merged output's last: a runner that the machine starves
    # (nice 10 locally) finds both pipes full at once, and no pipe says which line came first
    # (jobsys.processes.pump_lines); a fresh-clone run under load once read the warning last.
    assert progress[-1].startswith("import finished: 59 imported, 1 skipped")
    assert progress == [line for line in import_lines if not line.startswith("warning:")]
    index_lines = api.output(index["id"])
    assert index_lines[-1].startswith("index built: 59 documents")


def test_the_index_is_real_work_on_the_imported_catalogue(api: Api, stack: LocalStack):
    _, job = api("POST", "/job-definitions/import_solr/start")
    index = api.wait(api.wait(job["id"])["dependents"][0])
    assert index["state"] == "finished"
    s3 = stack.client("s3")
    body = s3.get_object(Bucket=stack.physical_id("OutputBucket"), Key="catalogue/tmp/index.json")["Body"].read()
    import json

    terms = json.loads(body)["terms"]
    assert "drill" in terms and "SKU-0001" in terms["drill"]


def test_a_failing_command_fails_with_its_exit_code_and_cancels_its_dependents(api: Api):
    _, job = api("POST", "/job-definitions/failing_check/start")
    failed = api.wait(job["id"])
    assert failed["state"] == "failed"
    assert failed["exit_code"] == 7
    lines = api.output(job["id"])
    assert lines == ["checking the remote system...", "error: the remote system refused the connection (exit 7)"]

    child = api.wait(failed["dependents"][0])
    assert child["state"] == "canceled"
    assert child["started_at"] is None
    assert f"job {job['id']}" in child["reason"] and "ended failed" in child["reason"]
    grandchild = api.wait(child["dependents"][0])
    assert grandchild["state"] == "canceled", "cancellation must reach every level"


def test_max_runtime_terminates_the_job_and_kills_the_process(api: Api):
    _, job = api("POST", "/job-definitions/too_slow/start")
    ended = api.wait(job["id"], timeout=40)
    assert ended["state"] == "terminated"
    assert "max runtime of 2 s" in ended["reason"]
    lines = api.output(job["id"])
    assert lines[0] == "sleeping 30 s"
    assert lines[-1].startswith("[job system] stopping the command")
    assert "second 10/30" not in lines


@pytest.mark.long
def test_siblings_run_in_parallel_after_their_parent(api: Api, stack: LocalStack):
    _, job = api("POST", "/job-definitions/siblings/start")
    parent = api.wait(job["id"])
    left, right = (api.wait(child_id) for child_id in parent["dependents"])
    assert left["state"] == right["state"] == "finished"
    # Each sleeps 12 s: run one after the other, the second would start after the first closed. Their
    # executions both start as the parent's run ends; a runner that starts cold, at nice 10, on a
    # machine loaded by the other suites took 6.6 s to start its command (a fresh-clone make test,
    # 2026-12-06), and 2 s and 5 s of sleep were too little. moto's execution history cannot show
    # the order instead: it gives a state's entry and exit the same timestamp.
    sfn = stack.client("stepfunctions")
    started = [sfn.describe_execution(executionArn=child["execution_arn"])["startDate"] for child in (left, right)]
    assert max(started) < min(datetime.fromisoformat(child["closed_at"]) for child in (left, right))
    assert right["started_at"] < left["closed_at"] and left["started_at"] < right["closed_at"]


def test_an_ad_hoc_command_with_params_and_depending_jobs(api: Api):
    status, job = api(
        "POST",
        "/jobs",
        {
            "command": "demo:echo",
            "params": ["a b", "<script>", "$(rm -rf /)"],
            "depending_jobs": [{"command": "demo:echo", "params": ["then"]}],
        },
    )
    assert status == 202, job
    assert api.wait(job["id"])["state"] == "finished"
    # Params are argv entries, never shell text.
    assert api.output(job["id"]) == ["a b", "<script>", "$(rm -rf /)"]
    child = api.wait(job["dependents"][0])
    assert child["state"] == "finished" and api.output(child["id"]) == ["then"]


def test_an_executable_that_cannot_start_fails_with_a_reason(api: Api):
    _, job = api("POST", "/jobs", {"command": "missing-binary", "params": ["x"]})
    ended = api.wait(job["id"])
    assert ended["state"] == "failed" and ended["exit_code"] == 127
    assert "cannot start /nonexistent/bin/export" in ended["reason"]


def test_two_starts_of_a_unique_definition_at_once_give_one_job_and_a_409_naming_it(api: Api):
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: api("POST", "/job-definitions/one_at_a_time/start"), range(2)))
    (started, job), (refused, body) = sorted(answers, key=lambda answer: answer[0])
    assert (started, refused) == (202, 409), answers
    assert body["open_job"]["id"] == job["id"]
    assert body["message"].startswith(f"already running: job {job['id']} of one_at_a_time is ")
    status, _ = api("POST", f"/jobs/{job['id']}/cancel")
    assert status == 202
    status, again = api("POST", "/job-definitions/one_at_a_time/start")
    assert status == 202, again
    api("POST", f"/jobs/{again['id']}/cancel")


def test_a_join_runs_once_after_both_imports_finished(api: Api):
    status, root = api("POST", "/job-definitions/rebuild/start")
    assert status == 202
    de, fr, index = (api.job(job_id) for job_id in root["dependents"])
    assert (index["key"], index["after"], index["parent_id"]) == ("build_index", [de["id"], fr["id"]], root["id"])
    assert fr["joins"] == [index["id"]]
    built = api.wait(index["id"])
    imports = [api.wait(job["id"]) for job in (de, fr)]
    assert built["state"] == "finished", built
    assert built["started_at"] >= max(job["closed_at"] for job in imports), "the index started before an import ended"
    assert api.output(index["id"])[-1].startswith("index built: 59 documents")
