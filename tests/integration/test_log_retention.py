"""A log group's retention holds across a restart of the local stack: CloudWatch Logs deletes the
events older than it (moto keeps them), so the saved state does not load them again."""

import json
import time
from pathlib import Path

import pytest

from jobs_local.persistence import SavedState
from jobs_local.stack import LocalStack

pytestmark = pytest.mark.integration
DAY_MS = 86_400_000


def test_events_past_their_groups_retention_are_not_loaded_again(stack: LocalStack, tmp_path: Path):
    logs = stack.client("logs")
    group = "/aws/lambda/jobs-it-retention"
    logs.create_log_group(logGroupName=group)
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    now = int(time.time() * 1000)
    saved = tmp_path / "logs" / "Group"
    saved.mkdir(parents=True)
    events = [{"timestamp": now - 2 * DAY_MS, "message": "expired"}, {"timestamp": now - 1000, "message": "kept"}]
    (saved / "recent.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    (saved / "old.jsonl").write_text(json.dumps({"timestamp": now - 3 * DAY_MS, "message": "expired"}) + "\n")

    SavedState(tmp_path, stack.session(), {"Group": ("AWS::Logs::LogGroup", group)}).load()

    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["recent"], "a stream whose every event expired is gone"
    kept = logs.get_log_events(logGroupName=group, logStreamName="recent", startFromHead=True)["events"]
    assert [e["message"] for e in kept] == ["kept"]
