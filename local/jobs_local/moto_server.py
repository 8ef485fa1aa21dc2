"""What the moto server spends on each AWS call before and after the service's own work.

Replaces, for the local stack's one moto server:
- the default of werkzeug's `WSGIRequestHandler.disable_nagle_algorithm` (False). A response leaves
  in two writes, headers then body, and the body waited for the client's ACK of the headers:
  GetItem took 5.4 ms instead of 3.9 ms, measured side by side.
- `DomainDispatcherApplication.get_backend_for_host`, which finds the service of every request by
  walking moto's list of modules, then hundreds of URL patterns: 15 % of the stack's busy time in
  a burst. A host's service never changes while the server runs, so each is looked up once.
- `BaseResponse._get_action`, which matches a REST request (Lambda's, Scheduler's) against its
  service's routes each time it is asked (70 µs), and is asked twice per request once IAM checks
  it: a request's action is found once.
- `method_names_from_class`, which lists every function of a response class with
  `inspect.getmembers` on each request, only to ask whether the action is one of them (2 % of the
  stack's busy time in a fuzz run, py-spy --gil): the one name is looked up instead.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import moto.core.responses
from moto.core.responses import BaseResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from werkzeug.serving import WSGIRequestHandler

from jobs_local.patching import Patch, Wrap

_moto_get_action = BaseResponse._get_action


def _get_action(self: BaseResponse) -> str:
    found = self.__dict__.get("_action_found")  # a response object serves one request
    if found is None:
        found = self.__dict__["_action_found"] = _moto_get_action(self)
    return found


class _FunctionNames:
    """`name in method_names_from_class(cls)`, answered for that name alone: what getmembers would
    list, an attribute of the class (its own or inherited) that is a plain function."""

    def __init__(self, owner: type):
        self.owner = owner

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and inspect.isfunction(getattr(self.owner, name, None))


def _remembered(original: Callable[[DomainDispatcherApplication, str | None], Any]) -> Any:
    known: dict[str | None, Any] = {}

    @functools.wraps(original)
    def get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
        if host not in known:
            known[host] = original(self, host)
        return known[host]

    return get_backend_for_host


PATCH = Patch(
    "moto server's Nagle delay, its action lookup per call, its list of a response class's functions"
    " and its walk of URL patterns per request",
    [
        (WSGIRequestHandler, "disable_nagle_algorithm", True),
        (BaseResponse, "_get_action", _get_action),
        (DomainDispatcherApplication, "get_backend_for_host", Wrap(_remembered)),
        (moto.core.responses, "method_names_from_class", _FunctionNames),
    ],
)
