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

from boto3.dynamodb.conditions import Key

from jobsys.filters import SearchFilter
from jobsys.models import Job
from jobsys.spec.limits import MAX_PAGE
from jobsys.store.items import INDEX_BY_SEARCH, SEARCH_SK, TableAccess, decode_cursor, encode_cursor
from jobsys.store.reads import JobReads

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


class JobSearch(JobReads):
    """Finds the jobs of a tag or a param's value, newest first: one Query on by_search a page,
    and one BatchGetItem for the jobs it names."""

    def search(self, found_by: SearchFilter, limit: int, cursor: str | None = None) -> tuple[list[Job], str | None]:
        """A page of the jobs that match every part of `found_by`. The index finds them by their tag
        (or, without one, by the param); the other parts are checked on the jobs read, so a page may
        hold fewer than `limit`: its `next_cursor` goes on while there is one."""
        partition = tag_key(found_by.tag) if found_by.tag else param_key(found_by.param or "")
        query: dict[str, Any] = {
            "IndexName": INDEX_BY_SEARCH,
            "KeyConditionExpression": Key("search_key").eq(partition),
            "ScanIndexForward": False,
            "Limit": max(1, min(limit, MAX_PAGE)),
        }
        if cursor:
            query["ExclusiveStartKey"] = decode_cursor(cursor, INDEX_BY_SEARCH, partition)
        response = self.table.query(**query)
        ids = [item["id"] for item in response.get("Items", [])]
        jobs = self.get_many(ids)  # a job deleted since its search item was read is left out
        matching = [jobs[i] for i in ids if i in jobs and found_by.matches(jobs[i])]
        return matching, encode_cursor(response.get("LastEvaluatedKey"), INDEX_BY_SEARCH)
