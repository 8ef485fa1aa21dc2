"""The garbage collector of a process that holds a stack (`make run`'s, or an integration worker's).

moto's state (every item, object and log event), the imports and the deployment live as long as the
stack, and Python's default collector (a collection every 700 new objects, a full one every 100 of
those) walked them over and over: 0.9 of a stack's 3.8 CPU-s of boot, and 13 % of an integration
worker's CPU (gc.callbacks, timed). Collections now come every 10,000 new objects, and what the boot
made is frozen out of them.
"""

from __future__ import annotations

import gc

YOUNG = 10_000  # new objects between two collections; Python's default is 700


def for_a_long_lived_heap() -> None:
    gc.set_threshold(YOUNG, 10, 10)


def freeze_what_the_boot_made() -> None:
    """Kept for the process's life (modules, moto's backends, the deployed stack): no collection
    walks it again."""
    gc.freeze()
