"""DynamoDB makes every request one atomic step; moto's DynamoDB does not.

Replaces: moto's `DynamoHandler.call_action`, which the moto server runs on many threads at once.
- `PutItem`, `UpdateItem` and `DeleteItem` check their `ConditionExpression`, then write, with
  nothing to stop another request from writing in between: two racing conditional writes can
  both succeed. Every state change of a job relies on exactly one of them winning.
- A `TransactWriteItems` that fails restores a copy of each table taken before it began, which
  undoes whatever other requests wrote meanwhile; and reads can see its half-applied writes.
- A `Query` or `Scan` that walks a table while another request adds an item can fail with
  "dictionary changed size during iteration".

Here every DynamoDB request runs under one lock, so each sees and leaves the tables whole, as
DynamoDB promises (conditional writes and transactions are serialisable; reads are read-committed).
It is coarser than DynamoDB's per-item isolation, but moto's requests take well under a millisecond
of Python that the GIL runs one at a time anyway.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.responses import DynamoHandler
from werkzeug.exceptions import HTTPException

from jobs_local.patching import Patch, Wrap

_lock = threading.RLock()


def _one_at_a_time(original: Callable[[DynamoHandler], Any]) -> Callable[[DynamoHandler], Any]:
    @functools.wraps(original)
    def call_action(self: DynamoHandler) -> Any:
        # IAM's check needs no lock: done before it, so that no other request waits on it (a thread
        # that holds the lock may lose the GIL for 5 ms). A refusal goes through moto's own path,
        # which checks again and answers with the error.
        try:
            self._authenticate_and_authorize_normal_action()
        except HTTPException:
            return original(self)
        self.__dict__["_iam_checked"] = True
        with _lock:
            return original(self)

    return call_action


PATCH = Patch(
    "moto's DynamoHandler.call_action, which runs requests on many threads at once",
    [(DynamoHandler, "call_action", Wrap(_one_at_a_time))],
)
