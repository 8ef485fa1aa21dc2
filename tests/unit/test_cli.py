import pytest

from jobs_cli import cli
from jobs_cli.cli import parse, parser
from jobs_cli.client import ApiClient
from jobs_cli.stats import dollars


def test_the_local_stack_gets_the_token_and_a_deployed_api_gets_sigv4(monkeypatch):
    local = ApiClient("http://127.0.0.1:3000", token="t")
    assert not local.sign
    deployed = ApiClient("https://abc123.execute-api.eu-west-1.amazonaws.com/v1")
    assert deployed.sign and deployed.region == "eu-west-1"

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    headers = deployed._signed("GET", deployed.url + "/jobs?limit=5", None, {"Content-Type": "application/json"})
    authorization = headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in authorization
    assert "X-Amz-Date" in headers


def test_params_that_look_like_options_go_after_a_double_dash():
    args = parse(["run", "demo:echo", "--follow", "--", "-rf", "--all"])
    assert (args.command_name, args.params, args.follow) == ("demo:echo", ["-rf", "--all"], True)
    args = parse(["run", "demo:echo", "a", "b"])
    assert args.params == ["a", "b"] and not args.follow


def test_unknown_subcommands_are_usage_errors():
    with pytest.raises(SystemExit) as exit_info:
        parser().parse_args(["explode"])
    assert exit_info.value.code == 2


def test_config_check_passes_a_good_file_with_a_summary(capsys):
    assert cli.main(["config", "check", "config/jobs.yaml"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("config/jobs.yaml: OK:") and "jobs" in out and len(out.splitlines()) == 1


def test_config_check_names_every_error_with_its_file_and_key_path(tmp_path, capsys):
    bad = tmp_path / "jobs.yaml"
    bad.write_text(
        "commands:\n  x: {argv: []}\n"
        "jobs:\n  a: {label: A, command: 'no:such'}\n  b: {label: B, command: demo:echo, retries: {max_attempts: 0}}\n"
    )
    assert cli.main(["config", "check", str(bad)]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert [line.split(": ", 2)[1] for line in errors] == ["commands.x.argv", "jobs.a", "jobs.b.retries.max_attempts"]
    assert all(line.startswith(f"{bad}: ") for line in errors)


@pytest.mark.parametrize(
    ("value", "written"),
    [(0.000136, "$0.00014"), (0.0042, "$0.0042"), (0.0000999, "$0.00010"), (0.42, "$0.42"), (12.345, "$12.35"),
     (0.0000004, "< $0.000001")],
)  # fmt: skip
def test_dollars_are_cents_from_a_cent_up_and_two_significant_digits_below(value, written):
    assert dollars(value) == written


def test_any_setting_of_a_job_is_given_with_set_and_the_flags_are_shorthands():
    args = parse(
        ["run", "demo:echo", "--set", "runner=fargate", "--set", 'retries={"max_attempts": 3}', "--queue", "q"]
    )
    assert cli.Commands._options(args) == {"runner": "fargate", "retries": {"max_attempts": 3}, "queue": "q"}
    args = parse(["start", "import_solr", "--set", "runner=fargate"])
    assert cli.Commands._options(args) == {"runner": "fargate"}
    with pytest.raises(SystemExit, match="expected NAME=VALUE"):
        cli.Commands._options(parse(["run", "demo:echo", "--set", "max_runtime"]))


def test_show_prints_the_apis_fields_in_its_order_and_only_what_has_a_value(capsys):
    job = {"runner": "lambda", "id": "J1", "label": "L", "command": "demo:echo", "params": [], "state": "finished",
           "reason": None, "usage": {"runner": "lambda", "cpu_units": None, "billed_ms": 126}}  # fmt: skip

    class Client:
        def request(self, method, path, body=None, query=None):
            return job

    cli.Commands(Client(), as_json=False).show(parse(["show", "J1"]))
    lines = [line.split(None, 1) for line in capsys.readouterr().out.splitlines()]
    assert [line[0] for line in lines] == ["id", "label", "command", "params", "state", "runner", "usage"]
    assert lines[-1][1] == "runner lambda, billed_ms 126"


def test_replay_edit_opens_the_params_in_the_users_editor_one_a_line(monkeypatch):
    # A real editor process, run from an argv list: sed edits the second line in place.
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", "sed -i 2s/de/fr/")
    assert cli.edited_params(["--store", "de", "a b"]) == ["--store", "fr", "a b"]
    args = parse(["replay", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "--edit", "--tag", "fixed", "--priority", "3"])
    assert args.edit and args.tags == ["fixed"] and args.priority == 3
