"""One gap of moto's, filled: an object that puts its replacements in and can take them out again.

Each module of the emulation that changes moto's code declares one `Patch`, naming what of moto's
it replaces; `jobs_local.patches.PATCHES` lists them all, and the stack installs them in order.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping, Sequence
from typing import Any

_MISSING = object()


class Wrap:
    """A replacement made from what it replaces, at install: `Wrap(lambda original: ...)`."""

    def __init__(self, around: Callable[[Any], Any]):
        self.around = around


Target = tuple[Any, str, Any]  # (a class, a module, or a mapping such as os.environ; a name; the replacement)


class Patch:
    def __init__(self, replaces: str, targets: Sequence[Target]):
        self.replaces = replaces
        self.targets = targets
        self.saved: list[tuple[Any, str, Any]] = []

    @property
    def installed(self) -> bool:
        return bool(self.saved)

    def install(self) -> None:
        if self.installed:
            return
        for owner, name, value in self.targets:
            original = _get(owner, name)
            self.saved.append((owner, name, original))
            _set(owner, name, value.around(_unbound(owner, name)) if isinstance(value, Wrap) else value)

    def uninstall(self) -> None:
        for owner, name, original in reversed(self.saved):
            _set(owner, name, original)
        self.saved = []

    def __repr__(self) -> str:
        return f"Patch({self.replaces!r})"


def _get(owner: Any, name: str) -> Any:
    if isinstance(owner, MutableMapping):
        return owner.get(name, _MISSING)
    # From the class's own namespace: a classmethod or staticmethod is put back as it was.
    return vars(owner).get(name, _MISSING) if isinstance(owner, type) else getattr(owner, name, _MISSING)


def _unbound(owner: Any, name: str) -> Any:
    return owner[name] if isinstance(owner, MutableMapping) else getattr(owner, name)


def _set(owner: Any, name: str, value: Any) -> None:
    if isinstance(owner, MutableMapping):
        if value is _MISSING:
            owner.pop(name, None)
        else:
            owner[name] = value
    elif value is _MISSING:
        delattr(owner, name)
    else:
        setattr(owner, name, value)
