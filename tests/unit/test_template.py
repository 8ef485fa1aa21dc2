"""What template.yaml promises about itself: every checkov check it skips says why."""

import json
import re
from pathlib import Path

from jobs_local.cloudformation.deploy import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def test_every_checkov_skip_names_a_check_and_gives_its_reason():
    skips = [
        (name, skip)
        for name, resource in load_template(TEMPLATE)["Resources"].items()
        for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip", [])
    ]
    assert skips, "the template skips no check: then this test and docs/security.md's list go"
    for name, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip.get("id", "")), (name, skip)
        reason = skip.get("comment", "")
        assert len(reason) >= 20 and "\n" not in reason, f"{name} skips {skip['id']} without a one-line reason"


def test_both_apis_log_access_in_json_without_headers():
    template = load_template(TEMPLATE)
    setting = template["Globals"]["Api"]["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    assert "$context.authorizer.principalId" in setting["Format"] and "$context.status" in setting["Format"]
    assert "header" not in setting["Format"].lower() and "Authorization" not in setting["Format"]
    assert json.loads(re.sub(r"\$context\.[\w.]+", "x", setting["Format"]))["status"] == "x"  # JSON, each line
    assert template["Resources"]["ApiAccessLogGroup"]["Properties"]["RetentionInDays"]
    apis = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Api"]
    assert sorted(apis) == ["BackOfficeApi", "JobsApi"]
    assert all("AccessLogSetting" not in template["Resources"][api]["Properties"] for api in apis)


def test_failed_jobs_raise_an_alarm_that_may_notify_a_topic_and_a_dashboard_shows_the_metrics():
    resources = load_template(TEMPLATE)["Resources"]
    alarm = resources["FailedJobsAlarm"]["Properties"]
    query = alarm["Metrics"][0]["Expression"]
    assert "SUM(JobsClosed)" in query and all(f"'{state}'" in query for state in ("failed", "terminated", "incomplete"))
    assert alarm["AlarmActions"] == {"Fn::If": ["AlarmNotifies", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    body = resources["JobsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    filled = body.replace("${Ns}", "JobSystem").replace("${AWS::Region}", "r").replace("${FailedJobsAlarm.Arn}", "a")
    titles = [widget["properties"]["title"] for widget in json.loads(filled)["widgets"]]
    assert titles == [
        "Jobs started, by command",
        "Jobs closed, by state",
        "Runtime p95 (s), by command",
        "Peak memory (MB), by command",
        "Failed jobs",
    ]


def test_a_job_waits_for_a_full_lambda_runner_and_its_history_stays_within_aws_s_limit():
    """Lambda throttles the runner past RunnerConcurrency. The state machine's Retry is then how a
    job waits for room: it must not end the job (8 tries, about 4 minutes, ended jobs incomplete),
    nor run the execution's history out (fault 7: 99,999,999 tries hit 25,000 events in about 1.5
    days). So the tries are bounded, and then the job asks for its turn again (WaitForSlot), where a
    week-old execution continues in a new one."""
    asl = json.loads((Path(__file__).resolve().parents[2] / "statemachines" / "job.asl.json").read_text())
    state = asl["States"]["RunOnLambda"]
    [retrier] = [r for r in state["Retry"] if r["ErrorEquals"] == ["Lambda.TooManyRequestsException"]]
    cap = retrier.get("MaxDelaySeconds", float("inf"))
    assert cap <= 60, "room is noticed within a minute"
    assert retrier["MaxAttempts"] * 3 <= 5_000, "its tries stay well within an execution's 25,000 events"
    catch = state["Catch"][0]
    assert catch["ErrorEquals"] == ["Lambda.TooManyRequestsException"] and catch["Next"] == "WaitForSlot"
    admit = asl["States"]["WaitForSlot"]["Parameters"]["Payload"]
    assert admit["execution_started.$"] == "$$.Execution.StartTime"
    continued = asl["States"]["WasItAdmitted"]["Choices"][0]
    assert continued == {"Variable": "$.slot.continued", "IsPresent": True, "Next": "Done"}


def test_a_fargate_task_that_cannot_start_for_now_is_tried_again_a_bounded_number_of_times():
    """Fault 12: RunTask refused for capacity or throttling (ECS.AmazonECSException: the task never
    started, so trying again is safe) closed the job incomplete at once. Tried again, with a bound,
    so that a Fargate outage still ends the run within about 20 minutes."""
    asl = json.loads((Path(__file__).resolve().parents[2] / "statemachines" / "job.asl.json").read_text())
    [retrier] = [
        r for r in asl["States"]["RunOnFargate"].get("Retry", []) if "ECS.AmazonECSException" in r["ErrorEquals"]
    ]
    assert "States.ALL" not in retrier["ErrorEquals"] and "States.TaskFailed" not in retrier["ErrorEquals"]
    waits = [
        min(retrier["IntervalSeconds"] * retrier.get("BackoffRate", 2) ** n, retrier.get("MaxDelaySeconds", 1e9))
        for n in range(retrier["MaxAttempts"])
    ]
    assert 3 <= retrier["MaxAttempts"] <= 10 and 60 <= sum(waits) <= 1200, waits
    assert retrier.get("JitterStrategy") == "FULL"
