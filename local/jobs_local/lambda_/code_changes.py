"""A function's code as it is on disk now, so that an edit reaches the next invocation.

On AWS, new code (`sam deploy`, `sam sync`) runs in new execution environments; the warm ones
of the old code are let go. Here each function runs from the checkout's folders (its CodeUri and
its layers'), so an edited handler only needs new workers: an idle worker older than the newest
file of its code is stopped instead of reused. template.yaml itself is read once, at `make run`.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

LOOK_EVERY = 1.0  # seconds: a function's folders are walked at most this often


class CodeChanges:
    def __init__(self) -> None:
        self.seen: dict[tuple[Path, ...], tuple[float, float]] = {}  # folders -> (when looked, newest mtime)
        self.lock = threading.Lock()

    def newest(self, folders: tuple[Path, ...]) -> float:
        """The newest modification time of a file in `folders`, looked up again after LOOK_EVERY."""
        now = time.monotonic()
        with self.lock:
            found = self.seen.get(folders)
            if found is not None and now - found[0] < LOOK_EVERY:
                return found[1]
        newest = max((_newest_in(folder) for folder in folders), default=0.0)
        with self.lock:
            self.seen[folders] = (now, newest)
        return newest


def _newest_in(folder: Path) -> float:
    newest = 0.0
    for directory, subdirectories, files in os.walk(folder):
        subdirectories[:] = [name for name in subdirectories if name != "__pycache__"]
        for name in files:
            try:
                newest = max(newest, os.stat(os.path.join(directory, name)).st_mtime)
            except OSError:  # removed meanwhile
                continue
    return newest
