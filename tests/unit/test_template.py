"""What template.yaml promises about itself: every checkov check it skips says why."""

import json
import re
from pathlib import Path

from jobs_local.deploy import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def test_every_checkov_skip_names_a_check_and_gives_its_reason():
    skips = [
        (name, skip)
        for name, resource in load_template(TEMPLATE)["Resources"].items()
        for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip", [])
    ]
    assert skips, "the template skips no check: then this test and the README's list go"
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
