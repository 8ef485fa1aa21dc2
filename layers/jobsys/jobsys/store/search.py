"""The jobs of a tag or a param's value, newest first, through the search index that
store/search_index.py keeps (GET /jobs?tag=&param=)."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key

from jobsys.filters import JobFilter
from jobsys.models import Job
from jobsys.spec.limits import MAX_PAGE
from jobsys.store.items import INDEX_BY_SEARCH, decode_cursor, encode_cursor
from jobsys.store.reads import JobReads
from jobsys.store.search_index import param_key, tag_key


class JobSearch(JobReads):
    """Finds the jobs of a tag or a param's value, newest first: one Query on by_search a page,
    and one BatchGetItem for the jobs it names."""

    def search(self, found_by: JobFilter, limit: int, cursor: str | None = None) -> tuple[list[Job], str | None]:
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
