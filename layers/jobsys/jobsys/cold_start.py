"""A cold Lambda imports its handler before its first request: boto3, pydantic, Powertools and the
job models allocate some hundreds of thousands of objects, all of which stay. Python's cyclic
garbage collector, triggered again and again by those allocations, walks them for nothing: 45 to 55
ms of a handler's import here (docs/performance.md, "Cold starts"). Each handler imports with the
collector paused, then freezes what it imported, so that later collections skip it too.

Pydantic looks for plugins in every installed distribution's entry points the first time it builds
a model; no handler uses one, so the search is turned off before pydantic is imported (a
deployment that wants a plugin sets PYDANTIC_DISABLE_PLUGINS itself)."""

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager

os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


@contextmanager
def collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()  # the imported modules live as long as the process: never worth a walk
        if was_enabled:
            gc.enable()
