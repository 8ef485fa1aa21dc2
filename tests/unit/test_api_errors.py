"""How the API maps the domain's errors: a fault of ours is never a 4xx."""

import sys
from pathlib import Path

from jobsys.errors import ConfigError, InvalidRequest, JobSystemError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "functions" / "api"))
import api_handler


def _answer(error: JobSystemError):
    try:
        raise error
    except JobSystemError as raised:  # as Powertools calls the handler: inside the except
        return api_handler.handle_domain_error(raised)


def test_a_domain_error_without_a_status_is_a_500_with_a_json_message_and_a_logged_trace(monkeypatch):
    logged = []
    # The function's logger writes JSON to the stdout it found at import; what it is asked is enough.
    monkeypatch.setattr(api_handler.logger, "exception", lambda message: logged.append((message, sys.exc_info()[0])))
    response = _answer(ConfigError("/opt/jobs.yaml: not valid YAML: mapping values are not allowed here"))
    assert response.status_code == 500
    assert response.body["message"].startswith("internal error: /opt/jobs.yaml: not valid YAML")
    assert logged == [("the job system failed", ConfigError)]  # with the exception: its trace


def test_a_bad_request_stays_a_400():
    response = _answer(InvalidRequest("per_call must be between 1 and 1000"))
    assert response.status_code == 400
