"""Names of the console commands, kept apart from their code so that loading the config stays cheap."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ConsoleCommand:
    name: str
    usage: str
    help: str
    module: str  # imported only when the command runs
    function: str
    # What it needs from the runner's environment, passed on by the runner whatever jobs.yaml says:
    # a jobs.yaml without `env:` (the seed's block, pasted as it is) runs it as intended.
    needs: tuple[str, ...] = ()

    def load(self) -> Callable[[list[str]], int]:
        import importlib

        run: Callable[[list[str]], int] = getattr(importlib.import_module(self.module), self.function)
        return run


_DEMO = "jobsys.console.demo"
_CATALOGUE = "jobsys.console.catalogue"
# The catalogue lives in the job system's bucket, reached with the runner's role: on Lambda its
# keys, on Fargate the task role's endpoint, locally the local stack's endpoint.
_BUCKET_AND_ROLE = (
    "JOBS_BUCKET",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_ENDPOINT_URL",
)

CONSOLE_COMMANDS: dict[str, ConsoleCommand] = {
    c.name: c
    for c in (
        ConsoleCommand(
            "silver:import",
            "AREA",
            "Import the bundled sample catalogue into the data area AREA",
            _CATALOGUE,
            "import_catalogue",
            needs=_BUCKET_AND_ROLE,
        ),
        ConsoleCommand(
            "silversolutions:indexecontent-job",
            "[AREA]",
            "Build the search index of the catalogue imported into AREA (default: tmp)",
            _CATALOGUE,
            "index_catalogue",
            needs=_BUCKET_AND_ROLE,
        ),
        ConsoleCommand("demo:sleep", "SECONDS", "Print one line per second for SECONDS seconds", _DEMO, "sleep"),
        ConsoleCommand(
            "demo:fail", "[EXIT_CODE]", "Print a little, then exit with EXIT_CODE (default 3)", _DEMO, "fail"
        ),
        ConsoleCommand(
            "demo:flaky", "[SUCCEED_ON]", "Fail until attempt SUCCEED_ON (default 2) of its job", _DEMO, "flaky"
        ),
        ConsoleCommand("demo:echo", "[WORDS...]", "Print each parameter on a line of its own", _DEMO, "echo"),
        ConsoleCommand(
            "demo:alloc", "MEGABYTES [SECONDS]", "Hold MEGABYTES of memory for SECONDS (default 1)", _DEMO, "alloc"
        ),
        ConsoleCommand(
            "demo:lines", "COUNT [PER_SECOND]", "Print COUNT numbered lines, all at once or PER_SECOND", _DEMO, "lines"
        ),
    )
}
