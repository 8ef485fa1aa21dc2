"""The jobs of a bulk action's filter, a page at a time, oldest first: a Query on the index that
its filter narrows most, the jobs' records read with one BatchGetItem (a count takes them from the
index, where it holds them whole), the rest of the filter checked on them. Every index that it
reads sorts by id, and ids by creation time: a time range is a range of ids, and a cursor the last
id read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key

from jobsys.filters import JobFilter
from jobsys.models import Job
from jobsys.store.items import (
    INDEX_BY_COMMAND,
    INDEX_BY_COMMAND_STATE,
    INDEX_BY_CREATED,
    INDEX_BY_DEFINITION,
    INDEX_BY_DEFINITION_STATE,
    INDEX_BY_QUEUE,
    INDEX_BY_QUEUE_STATE,
    INDEX_BY_SEARCH,
    INDEX_BY_STATE,
    ITEM_SK,
    LIST_PK,
    _from_item,
    _pk,
)
from jobsys.store.reads import JobReads
from jobsys.store.search_index import param_key, tag_key


def narrowest_index(found_by: JobFilter) -> tuple[str, str, str]:
    """(index, its partition key's name, the partition) that holds every job of the filter."""
    state = found_by.state.value if found_by.state else None
    if found_by.tag:
        return INDEX_BY_SEARCH, "search_key", tag_key(found_by.tag)
    if found_by.param is not None:
        return INDEX_BY_SEARCH, "search_key", param_key(found_by.param)
    if found_by.queue and state:
        return INDEX_BY_QUEUE_STATE, "queue_state", f"{found_by.queue}#{state}"
    if found_by.command and state:
        return INDEX_BY_COMMAND_STATE, "command_state", f"{found_by.command}#{state}"
    if found_by.definition and state:
        return INDEX_BY_DEFINITION_STATE, "definition_state", f"{found_by.definition}#{state}"
    if state:
        return INDEX_BY_STATE, "state", state
    if found_by.command:
        return INDEX_BY_COMMAND, "command", found_by.command
    if found_by.queue:
        return INDEX_BY_QUEUE, "queue", found_by.queue
    if found_by.definition:
        return INDEX_BY_DEFINITION, "definition", found_by.definition
    return INDEX_BY_CREATED, "list_pk", LIST_PK


@dataclass(frozen=True)
class SelectedPage:
    """A page of a filter's jobs: those that match, the task token of each that waits in line (as
    read with it), the last id read (the next page's `after`), and whether more may follow."""

    jobs: list[Job]
    wait_tokens: dict[str, str]
    cursor: str | None
    more: bool


class JobSelection(JobReads):
    """Reads the jobs of a filter, oldest first, from a cursor."""

    def selected(
        self, found_by: JobFilter, low: str, high: str, after: str | None, page_size: int, as_indexed: bool = False
    ) -> SelectedPage:
        """The jobs with ids from `low` to `high`, after `after`, that match the filter. `as_indexed`
        (a count): the jobs as the index holds them, where it holds them whole, rather than each
        record read again; the ids come from the index all the same, and an action checks each
        job when it acts on it."""
        # An id just above `after`: ids are 26 characters, so no other id sorts between the two.
        start = max(low, after + "0") if after else low
        indexed: dict[str, dict[str, Any]] = {}
        if found_by.ids is not None:  # jobs named one by one: no index to read
            named = sorted(i for i in set(found_by.ids) if start <= i <= high)
            ids, more = named[:page_size], len(named) > page_size
        else:
            index, name, partition = narrowest_index(found_by)
            query: dict[str, Any] = {
                "IndexName": index,
                "KeyConditionExpression": Key(name).eq(partition) & Key("id").between(start, high),
                "ScanIndexForward": True,
                "Limit": page_size,
            }
            response = self.table.query(**query)
            found = response.get("Items", [])
            ids, more = [item["id"] for item in found], "LastEvaluatedKey" in response
            # An index that projects every attribute holds the job; one of keys only, its keys alone.
            indexed = {item["id"]: item for item in found if "command" in item}
        if as_indexed and len(indexed) == len(ids):
            items = indexed
        else:
            items = {item["id"]: item for item in self._get_items([{"pk": _pk(i), "sk": ITEM_SK} for i in ids])}
        jobs = [_from_item(items[i]) for i in ids if i in items]
        matching = [job for job in jobs if found_by.matches(job)]
        tokens = {job.id: items[job.id]["wait_token"] for job in matching if items[job.id].get("wait_token")}
        return SelectedPage(matching, tokens, ids[-1] if ids else after, more)
