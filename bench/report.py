"""Adds a benchmark run's figures to docs/performance.md, under its own section; and the command
line of the benchmarks that alternate two ways in rounds."""

import argparse
from datetime import UTC, datetime
from pathlib import Path


def rounds_arguments(doc: str, rounds: int, per_round: int) -> argparse.Namespace:
    """`--rounds` (of each way, alternating) and `--per-round` (calls or jobs in a round)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--per-round", type=int, default=per_round)
    return parser.parse_args()


def heading(*details: str) -> str:
    """An entry's heading: when it was measured, and what (the empty details left out)."""
    return "### " + ", ".join([f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", *filter(None, details)])


def add_entry(path: Path, heading: str, intro: str, entry: str) -> None:
    """Appends `entry` at the end of the `## heading` section, creating the section if needed."""
    text = path.read_text() if path.exists() else "# Performance\n"
    title = f"## {heading}"
    if title not in text:
        text = text.rstrip("\n") + f"\n\n{title}\n\n{intro.strip()}\n"
    start = text.index(title)
    following = text.find("\n## ", start + len(title))
    end = len(text) if following < 0 else following
    section = text[start:end].rstrip("\n") + "\n\n" + entry.strip() + "\n"
    path.write_text(text[:start] + section + ("\n" + text[end:].lstrip("\n") if following >= 0 else ""))


def publish(lines: list[str], path: Path | None, heading: str, intro: str) -> None:
    """Prints an entry and, with a `path`, appends it to the `## heading` section there."""
    text = "\n".join(lines)
    print(text)
    if path:
        add_entry(path, heading, intro, text)
