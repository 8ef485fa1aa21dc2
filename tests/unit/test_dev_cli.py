"""`jobs-local` without a running stack says what to do, and exits 3 as `jobs` does when unreachable."""

import pytest

from jobs_local.dev_cli import main


@pytest.mark.parametrize("command", [["env"], ["events"], ["exec", "sam", "--version"]])
def test_without_a_stack_it_says_to_start_one(command, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert main(command) == 3
    assert "no local stack is running: start it with `make run` first" in capsys.readouterr().err
