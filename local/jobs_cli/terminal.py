"""What the CLI prints on a terminal: states in colour, notes on stderr, and a job's text made safe.
A job's output is third-party data: on a terminal, its control characters are shown, never obeyed."""

from __future__ import annotations

import re
import sys
from datetime import datetime
from typing import Any

# Control characters but tab (a line comes without its newline). A job's output is third-party
# data: on a terminal they would retitle, recolour or rewrite it.
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def tty(stream: Any) -> bool:
    return hasattr(stream, "isatty") and stream.isatty()


def escaped(text: str) -> str:
    """`\x1b]0;title\x07` shown as those characters, never obeyed."""
    return CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


def paint(text: str, colour: str) -> str:
    codes = {"green": "32", "red": "31", "yellow": "33", "blue": "34", "grey": "90", "bold": "1"}
    return f"\033[{codes[colour]}m{text}\033[0m" if tty(sys.stderr) else text


STATE_COLOURS = {
    "pending": "grey",
    "running": "blue",
    "finished": "green",
    "failed": "red",
    "terminated": "red",
    "canceled": "yellow",
    "incomplete": "red",
    "skipped": "grey",
}


def state(name: str) -> str:
    return paint(name, STATE_COLOURS.get(name, "bold"))


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def duration(job: dict[str, Any]) -> str:
    if job.get("runtime") is not None:
        return f"{job['runtime']:.1f} s"
    if job.get("started_at") and not job.get("closed_at"):
        started = datetime.fromisoformat(job["started_at"].replace("Z", "+00:00"))
        return f"{(datetime.now(started.tzinfo) - started).total_seconds():.0f} s…"
    return "-"


def progress(job: dict[str, Any]) -> str:
    """`12/60 · ends ~06:45:10`, or `estimated from its last runs · ends ~…`; the page says the same."""
    parts = []
    if job.get("progress"):
        parts.append(f"{job['progress']['done']}/{job['progress']['total']}")
    elif job.get("expected_end_from") == "history":
        parts.append("estimated from its last runs")
    if job.get("expected_end_at"):
        end = datetime.fromisoformat(job["expected_end_at"].replace("Z", "+00:00")).astimezone()
        parts.append(f"ends ~{end:%H:%M:%S}")
    return " · ".join(parts) or "-"


def shown(text: Any, raw: bool, stream: Any = None) -> str:
    """A job's text as a terminal can show it safely; as it is for a pipe, a file or --raw."""
    text = str(text)
    return text if raw or not tty(stream or sys.stdout) else escaped(text)
