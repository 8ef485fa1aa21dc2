"""Which of the command's streams a line of its output came from, kept in the line as it is stored
(an event of the log stream, a line of the saved copy), so that both keep one order.

A stderr line is stored after the two characters "\\x1fE" (ASCII's unit separator, and E). A stdout
line is stored as it is, unless it starts with "\\x1f" itself: it then gets "\\x1fO", so that no
line a command prints can pass for the other stream's.
"""

from __future__ import annotations

from typing import Literal

Stream = Literal["stdout", "stderr"]
MARK = "\x1f"
_STDERR = MARK + "E"
_STDOUT = MARK + "O"


def stored(line: str, stream: Stream) -> str:
    if stream == "stderr":
        return _STDERR + line
    return _STDOUT + line if line.startswith(MARK) else line


def read_back(line: str) -> tuple[Stream, str]:
    if line.startswith(_STDERR):
        return "stderr", line[2:]
    if line.startswith(_STDOUT):
        return "stdout", line[2:]
    return "stdout", line
