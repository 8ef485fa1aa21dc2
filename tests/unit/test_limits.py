"""Each limit is written once, in jobsys/spec/limits.py. Where AWS needs the same number again
(template.yaml, the state machine) or the page repeats a fact of the domain, a test ties them:
any of them moving alone fails here."""

import json
import re
from pathlib import Path

from jobs_local.cloudformation.deploy import load_template
from jobsys.models import OPEN_STATES
from jobsys.spec import limits

ROOT = Path(__file__).resolve().parents[2]
ASL = json.loads((ROOT / "statemachines" / "job.asl.json").read_text())


def _resource(template: dict, name: str) -> dict:
    return template["Resources"][name]["Properties"]


def test_the_lambda_runner_s_timeout_is_one_number():
    template = load_template(ROOT / "template.yaml")
    assert _resource(template, "RunnerFunction")["Timeout"] == limits.LAMBDA_TIMEOUT
    assert ASL["States"]["RunOnLambda"]["TimeoutSeconds"] == limits.LAMBDA_TIMEOUT
    # The runner stops the command in time to report: its margin fits in what max_runtime leaves.
    assert limits.LAMBDA_MAX_RUNTIME + limits.RUNNER_SAFETY_MARGIN < limits.LAMBDA_TIMEOUT


def test_the_fargate_state_waits_for_the_job_not_a_number_of_its_own():
    state = ASL["States"]["RunOnFargate"]
    assert "TimeoutSeconds" not in state and state["TimeoutSecondsPath"] == "$.fargate_timeout"


def test_the_clean_up_defaults_are_the_template_s():
    parameters = load_template(ROOT / "template.yaml")["Parameters"]
    assert parameters["CleanUpPerCall"]["Default"] == limits.CLEAN_UP_PER_CALL
    assert parameters["CleanUpPerCall"]["MaxValue"] == limits.MAX_CLEAN_UP_PER_CALL
    assert parameters["CleanUpMaxRetention"]["Default"] == limits.CLEAN_UP_MAX_RETENTION


def test_the_page_knows_the_open_states_of_the_domain():
    script = (ROOT / "functions" / "api" / "static" / "state.js").read_text()
    listed = re.search(r"export const OPEN_STATES = new Set\(\[([^\]]*)\]\)", script)
    assert listed, "state.js no longer declares OPEN_STATES"
    assert set(json.loads(f"[{listed.group(1)}]")) == {state.value for state in OPEN_STATES}


def test_no_limit_is_written_twice_in_the_domain_or_the_functions():
    """A module-level constant with the name of a limit lives in limits.py only."""
    names = {name for name in vars(limits) if name.isupper()}
    for path in [*(ROOT / "layers" / "jobsys" / "jobsys").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]:
        if path.name == "limits.py":
            continue
        defined = set(re.findall(r"^([A-Z][A-Z0-9_]+)\s*[:=]", path.read_text(), flags=re.MULTILINE))
        assert not defined & names, f"{path.relative_to(ROOT)} defines {sorted(defined & names)} again"


def test_a_revoked_token_stops_working_within_the_five_minutes_the_docs_promise():
    """API Gateway keeps an authorizer's answer for ReauthorizeEvery, and the authorizer keeps the
    tokens' secret for its own cache: a revoked token worked up to 10 minutes (300 s + 300 s)."""
    authorizer = load_template(ROOT / "template.yaml")["Resources"]["BackOfficeApi"]["Properties"]["Auth"]
    identity = authorizer["Authorizers"]["BackOfficeTokenAuthorizer"]["Identity"]
    assert identity["ReauthorizeEvery"] == limits.AUTHORIZER_CACHE
    assert limits.AUTHORIZER_CACHE + limits.TOKEN_CACHE <= limits.TOKEN_TAKES_EFFECT == 300
    from jobs_local.apigateway import gateway
    from jobsys import tokens

    assert (gateway.AUTHORIZER_TTL, tokens.TOKEN_CACHE) == (limits.AUTHORIZER_CACHE, limits.TOKEN_CACHE)
    for doc in ("README.md", "docs/security.md", "docs/operations.md"):
        assert "within five minutes" in (ROOT / doc).read_text(), doc


def test_the_clean_ups_budgets_fit_the_time_their_callers_give():
    """A clean-up by call answers within API Gateway's wait; the scheduled one stops before its
    function's timeout, so that its last deletes and its report fit."""
    from jobs_local.apigateway import gateway

    assert gateway.INTEGRATION_TIMEOUT == limits.API_GATEWAY_TIMEOUT
    assert limits.API_CLEAN_UP_BUDGET < limits.API_GATEWAY_TIMEOUT
    cleanup = _resource(load_template(ROOT / "template.yaml"), "CleanUpFunction")
    assert 0 < limits.CLEAN_UP_STOPS_BEFORE_TIMEOUT < cleanup["Timeout"]
    handler = (ROOT / "functions" / "cleanup" / "cleanup_handler.py").read_text()
    assert "CLEAN_UP_STOPS_BEFORE_TIMEOUT" in handler and not re.search(r"/ 1000 - \d", handler)


def test_a_read_of_many_keys_asks_for_what_batchgetitem_takes():
    store = (ROOT / "layers" / "jobsys" / "jobsys" / "store" / "items.py").read_text()
    assert limits.BATCH_GET_KEYS == 100 and "BATCH_GET_KEYS" in store and "100" not in store


def test_the_page_pages_the_list_as_the_api_allows():
    state = (ROOT / "functions" / "api" / "static" / "state.js").read_text()
    found = re.search(r"export const MAX_PAGE = (\d+);", state)
    assert found, "state.js no longer declares MAX_PAGE"
    assert int(found.group(1)) == limits.MAX_PAGE
    listing = (ROOT / "functions" / "api" / "static" / "job-list.js").read_text()
    assert "Math.min(MAX_PAGE," in listing and not re.search(r"Math\.min\(\d", listing)
