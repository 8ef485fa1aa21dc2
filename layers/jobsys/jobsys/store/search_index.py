"""The search index: the jobs that carry a tag, or a param of a given value (GET /jobs?tag=&param=).

An index's key holds one value per item, and a job has up to MAX_TAGS tags and MAX_PARAMS params:
each distinct one is an item of its own in the job's partition, pk "JOB#<id>", sk "SEARCH#<key>",
found through the index by_search (search_key / id, newest first). They are written from the
table's stream as the job is created, and deleted as it is (by the clean-up or its TTL), rather
than in its creation's transaction, which may hold TRANSACTION_ITEMS jobs already: like any global
secondary index, the search follows the jobs within moments.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from jobsys.store.items import SEARCH_SK, TableAccess

# A key of a global secondary index holds 2,048 bytes at most; a param may be longer, and is then
# found by its digest (the query computes the same).
_PLAIN_AT_MOST = 1024


def tag_key(tag: str) -> str:
    return f"tag:{tag}"


def param_key(value: str) -> str:
    if len(value.encode()) <= _PLAIN_AT_MOST:
        return f"param:{value}"
    return f"param#sha256:{hashlib.sha256(value.encode()).hexdigest()}"


def search_keys(item: dict[str, Any]) -> list[str]:
    """The search keys of a job's item (as the resource reads it): its tags and distinct params."""
    keys = [tag_key(tag) for tag in item.get("tags") or []]
    keys += [param_key(value) for value in item.get("params") or []]
    return list(dict.fromkeys(keys))


class SearchIndex(TableAccess):
    """Keeps the search items of jobs as they are created and deleted."""

    def follow(self, created: Iterable[dict[str, Any]], deleted: Iterable[dict[str, Any]]) -> None:
        """Writes the search items of the jobs `created` and deletes those of the jobs `deleted`
        (job items as the resource reads them). Both are idempotent: a batch delivered again writes
        the same items."""
        # The resource's batch writer sends BatchWriteItem 25 requests a call, and again what it left.
        with self.table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for item in created:
                for key in search_keys(item):
                    batch.put_item(Item={"pk": item["pk"], "sk": SEARCH_SK + key, "search_key": key, "id": item["id"]})
            for item in deleted:
                for key in search_keys(item):
                    batch.delete_item(Key={"pk": item["pk"], "sk": SEARCH_SK + key})
