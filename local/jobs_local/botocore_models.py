"""Each of botocore's data files parsed once per process, not once per session.

Replaces: botocore's loader of a session (`botocore.session.create_loader`), which moto and the
stack call for every session they make (one per role the stack acts as, one per Lambda
environment's provisioning, ...). Each new loader parses anew the files it is asked for: a stack's
boot parsed endpoints.json 17 times and EC2's model 6 (1.7 s of its 2.8 s of JSON; the boot's CPU
went from 7.1 to 5.0 s). One loader per data path, shared by the process's sessions, parses each
file once. botocore already shares what it loads between the clients of one session, and never
changes it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import botocore.session
from botocore.loaders import Loader

from jobs_local.patching import Patch, Wrap


class _SearchPaths(list[str]):
    """boto3 appends its own data folder to its session's loader, once per session. Shared, the
    loader would gain one more copy of it with each session, and look in each for every file."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


def _shared(original: Callable[[str | None], Loader]) -> Callable[[str | None], Loader]:
    @functools.cache
    def create_loader(search_path_string: str | None = None) -> Loader:
        loader = original(search_path_string)
        # The list botocore keeps its search paths in (no setter): boto3 appends to it.
        loader._search_paths = _SearchPaths(loader.search_paths)  # type: ignore[attr-defined]
        return loader

    return create_loader


PATCH = Patch(
    "the data loader of each botocore session that moto and the stack make, which parses"
    " endpoints.json and each service model anew",
    [(botocore.session, "create_loader", Wrap(_shared))],
)
