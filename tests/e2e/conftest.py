"""End to end: the local stack that `make run` starts, driven over HTTP like a user would."""

import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from jobs_local.process import StackProcess
from tests.jobs_api import CONFIG, JobApi


class Http(JobApi):
    def __init__(self, stack: StackProcess):
        super().__init__()
        self.stack = stack
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {stack.token}"

    def __call__(self, method: str, path: str, body: Any = None, query: str = "") -> tuple[int, Any]:
        url = self.stack.url + path + (f"?{query}" if query else "")
        response = self.session.request(method, url, json=body, timeout=30)
        answer = response.json() if response.content else None
        self.noted(method, path, response.status_code, answer)
        return response.status_code, answer


ROOT = Path(__file__).resolve().parents[2]

# Two warm environments of the API and of its authorizer per stack, not make run's eight: the path
# is taken, and the stacks that the tests start side by side on 2 cores do not import 32 handlers
# at once while other tests run (bench/burst.py measures make run's own).
os.environ.setdefault("LOCAL_API_WARM", "2")


def template_copy(folder: Path, resource: str, line: str, replacement: str, *more: tuple[str, str, str]) -> Path:
    """A copy of template.yaml with one `line` of `resource` replaced, and each of `more` (resource,
    line, replacement) too (its code paths made absolute, so that the copy deploys from `folder`):
    for a stack with a permission taken out."""
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    text = re.sub(
        r"((?:CodeUri|ContentUri|DefinitionUri): )([a-z][\w/.-]*)", lambda m: m.group(1) + str(ROOT / m.group(2)), text
    )
    for resource_, line_, replacement_ in [(resource, line, replacement), *more]:
        start = text.index(f"\n  {resource_}:\n")
        at = text.index(line_, start)
        following = re.compile(r"\n  [A-Za-z]\w*:\n").search(text, start + 1)
        assert following is None or at < following.start(), f"{resource_} has no line {line_!r}"
        text = text[:at] + replacement_ + text[at + len(line_) :]
    copy = folder / "template.yaml"
    copy.write_text(text, encoding="utf-8")
    return copy


# Each with a token of their own: requests go as the first, anna. Anna and ben have no role in the
# secret, so they are admins; vera is a viewer and otto an operator.
OPERATORS = {name: secrets.token_hex(16) for name in ("anna", "ben", "vera", "otto")}
ROLES = {"vera": "viewer", "otto": "operator"}


@pytest.fixture(scope="session")
def local_stack() -> Iterator[StackProcess]:
    entries = [f"{name}:{token}" + (f":{ROLES[name]}" if name in ROLES else "") for name, token in OPERATORS.items()]
    with StackProcess(config=CONFIG, token=",".join(entries)) as stack:
        yield stack


@pytest.fixture(scope="session")
def http(local_stack: StackProcess) -> Http:
    return Http(local_stack)
