"""The project's floors: functions/ and local/ sit on layers/jobsys, nothing imports back up, and
handlers reach the job system only through JobSystem (never its store)."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UPPER = ("jobs_local", "jobs_cli", "routes", "schemas", "idempotency", "tests")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_the_domain_imports_nothing_above_it():
    for path in (ROOT / "layers" / "jobsys" / "jobsys").rglob("*.py"):
        assert not _imports(path) & set(UPPER), f"{path.relative_to(ROOT)} imports from above the domain"


def test_handlers_call_the_job_system_never_its_store():
    for path in (ROOT / "functions").rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"\.store\.|jobsys\.store", text), f"{path.relative_to(ROOT)} goes around JobSystem"
