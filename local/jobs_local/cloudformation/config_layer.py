"""Another jobs.yaml as the ConfigLayer's content (`make run CONFIG=...`, the tests' own files).

Replaces: a rebuilt layer (`sam build`), for a file given at start. The file is checked first, so
that a bad one stops the stack before anything starts, naming the file, the key and the reason."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from jobsys.config import load_config

CONFIG_LAYER = "ConfigLayer"


class ConfigLayer:
    def __init__(self, config_path: Path):
        self.config_path = config_path
        self.folder: Path | None = None

    def start(self) -> Path:
        load_config(self.config_path)
        self.folder = Path(tempfile.mkdtemp(prefix="jobs-config-"))
        shutil.copy(self.config_path, self.folder / "jobs.yaml")
        return self.folder

    def stop(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
