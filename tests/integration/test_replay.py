"""Replay a closed job with its params edited: a start checked as any, linked both ways."""

import pytest

from tests.integration.conftest import Api, count_items

pytestmark = pytest.mark.integration


def test_a_replay_runs_the_command_with_the_edited_params_and_links_both_jobs(api: Api):
    _, failed = api("POST", "/jobs", {"command": "demo:fail", "params": ["3"], "tags": ["nightly"], "priority": 4})
    failed = api.wait(failed["id"])
    status, replay = api("POST", f"/jobs/{failed['id']}/replay", {"params": ["0"]}, principal="alice", role="operator")
    assert status == 202, replay
    assert (replay["replay_of"], replay["params"], replay["trigger"], replay["started_by"]) == (
        failed["id"], ["0"], "replay", "alice",
    )  # fmt: skip
    assert (replay["tags"], replay["priority"], replay["command"]) == (["nightly"], 4, "demo:fail")
    assert api.wait(replay["id"])["state"] == "finished"  # exit code 0, as the edited param says
    assert api.job(failed["id"])["replays"] == [replay["id"]]
    _, again = api("POST", f"/jobs/{failed['id']}/replay", {})
    assert again["params"] == ["3"] and api.job(failed["id"])["replays"] == [replay["id"], again["id"]]
    api.wait(again["id"])


def test_a_definitions_run_is_replayed_from_its_root_with_its_dependents(api: Api):
    _, root = api("POST", "/job-definitions/rebuild/start")
    root = api.wait(root["id"])
    status, replay = api("POST", f"/jobs/{root['id']}/replay", {"params": ["again"], "tags": ["replayed"]})
    assert status == 202, replay
    assert replay["definition"] == "rebuild" and replay["label"] == root["label"]
    assert replay["params"] == ["again"] and len(replay["dependents"]) == len(root["dependents"])
    assert replay["tags"] == ["catalogue", "replayed"]
    api.wait(replay["id"])
    # Its whole run, from any of its jobs: what the page draws as a graph.
    status, run = api("GET", f"/jobs/{replay['dependents'][-1]}/run", role="viewer", principal="vera")
    assert status == 200 and run["root_id"] == replay["id"]
    assert {job["id"] for job in run["jobs"]} == {replay["id"], *replay["dependents"]}
    (join,) = [job for job in run["jobs"] if job["after"]]
    assert len(join["after"]) == 2


def test_a_replay_is_refused_for_an_open_job_a_viewer_and_bad_params_and_writes_nothing(api: Api, table):
    _, running = api("POST", "/jobs", {"command": "demo:sleep", "params": ["30"]})
    api.wait(running["id"], until=lambda j: j["state"] == "running")
    before = count_items(table)
    status, refused = api("POST", f"/jobs/{running['id']}/replay", {"params": ["1"]})
    assert status == 409 and "only a closed job" in refused["message"]
    api("POST", f"/jobs/{running['id']}/cancel")
    api.wait(running["id"])
    before = count_items(table)
    status, refused = api("POST", f"/jobs/{running['id']}/replay", {"params": ["1"]}, role="viewer", principal="vera")
    assert status == 403 and "may not replay" in refused["message"]
    status, refused = api("POST", f"/jobs/{running['id']}/replay", {"params": ["a\u0000b"]})
    assert status == 400
    status, refused = api("POST", f"/jobs/{running['id']}/replay", {"queue": "no-such-queue"})
    assert status == 422 and "no-such-queue" in refused["message"]
    status, refused = api("POST", "/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/replay", {})
    assert status == 404
    assert count_items(table) == before
