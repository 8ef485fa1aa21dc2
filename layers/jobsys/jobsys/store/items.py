"""JobStore: the jobs table. Every state change is a conditional write; every read path is a Query.

Table layout (one table):
- a job:           pk = "JOB#<id>",        sk = "JOB"       a join's `waits_for`: the jobs it still waits for
- a queue's slots: pk = "QUEUE#<name>",    sk = "QUEUE"     running (a count) and holders (the job ids)
- a schedule:      pk = "SCHEDULE#<key>",  sk = "SCHEDULE"  its last fire, so that a repeat is refused
- a unique definition's lock: pk = "UNIQUE#<key>", sk = "UNIQUE"  holder: the root of its last start
- index by_created:          list_pk ("JOB")               / id         - the newest jobs
- index by_state:            state                         / id         - filter by state, find running jobs
- index by_command:          command                       / id         - filter by command
- index by_command_state:    command_state                 / id         - both filters at once
- index by_queue:            queue                         / id         - filter by queue
- index by_queue_state:      queue_state                   / id         - queue and state at once
- index by_definition_state: definition_state (sparse)     / id         - is a run of a definition open?
- index by_definition:       definition (sparse)           / id         - a definition's last runs (statistics)
- index by_closed:           closed_state (sparse)         / closed_at  - clean-up candidates, oldest first
- index by_waiting:          waiting_queue (sparse)        / wait_order - the next job to start in a full queue
- a job's search items:      pk = "JOB#<id>", sk = "SEARCH#<key>": one per tag and param (store/search.py)
- index by_search:           search_key                    / id         - the jobs of a tag or a param's value
- an audit record:           pk = "AUDIT#<id>",      sk = "AUDIT"     (store/audit.py)
- index by_audit:            audit_list ("AUDIT")          / id         - the audit log, newest first
- index by_audit_actor:      audit_actor                   / id         - one person's actions
- a bulk action:             pk = "BULK#<id>",       sk = "BULK"      (store/bulk.py)
- index by_bulk:             bulk_list ("BULK")            / id         - the bulk actions, newest first
Ids are ULIDs, so sorting by id is sorting by creation time.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from jobsys.errors import Unprocessable
from jobsys.models import CLOSED_STATES, Job, JobState
from jobsys.spec.limits import BATCH_GET_KEYS
from jobsys.stats import Run

# How a job that waits for a slot sorts among those of its queue: higher priority first, then older.
PRIORITY_OFFSET = 10**6

ITEM_SK = "JOB"
LIST_PK = "JOB"
INDEX_BY_CREATED = "by_created"
INDEX_BY_STATE = "by_state"
INDEX_BY_COMMAND = "by_command"
INDEX_BY_COMMAND_STATE = "by_command_state"
INDEX_BY_CLOSED = "by_closed"
INDEX_BY_QUEUE = "by_queue"
INDEX_BY_QUEUE_STATE = "by_queue_state"
INDEX_BY_DEFINITION_STATE = "by_definition_state"
INDEX_BY_DEFINITION = "by_definition"
INDEX_BY_WAITING = "by_waiting"
INDEX_BY_SEARCH = "by_search"
SEARCH_SK = "SEARCH#"
INDEX_BY_AUDIT = "by_audit"
INDEX_BY_AUDIT_ACTOR = "by_audit_actor"
AUDIT_SK = "AUDIT"
AUDIT_LIST = "AUDIT"
INDEX_BY_BULK = "by_bulk"
BULK_SK = "BULK"
QUEUE_SK = "QUEUE"
CLEAN_UP_PK = "CLEAN-UP"  # the clean-up's own notes, in no index
SCHEDULE_SK = "SCHEDULE"
UNIQUE_SK = "UNIQUE"
_WAIT_ATTRIBUTES = ("waiting_queue", "wait_order", "wait_token")
_INTERNAL_ATTRIBUTES = (
    "pk", "sk", "list_pk", "command_state", "queue_state", "definition_state", "closed_state", "expires_at",
    "previous_state", "waits_for", "bulk_actions", *_WAIT_ATTRIBUTES,
)  # fmt: skip


def _pk(job_id: str) -> str:
    return f"JOB#{job_id}"


def audit_pk(record_id: str) -> str:
    return f"AUDIT#{record_id}"


def _queue_key(queue: str) -> dict[str, str]:
    return {"pk": f"QUEUE#{queue}", "sk": QUEUE_SK}


def _unique_key(definition: str) -> dict[str, str]:
    return {"pk": f"UNIQUE#{definition}", "sk": UNIQUE_SK}


@dataclass(frozen=True)
class JobKey:
    """What a job's state writes need of it besides its state: its id, and the parts of its index
    keys, which never change. A Job has them too; the Lambda runner has them from its execution."""

    id: str
    command: str
    queue: str
    definition: str | None


def _state_keys(job: Job | JobKey, state: JobState) -> dict[str, str]:
    """The composite index keys of a job in a state; its command, queue and definition never change."""
    keys = {"command_state": f"{job.command}#{state.value}", "queue_state": f"{job.queue}#{state.value}"}
    if job.definition:
        keys["definition_state"] = f"{job.definition}#{state.value}"
    return keys


def wait_order(job: Job) -> str:
    return f"{PRIORITY_OFFSET - job.priority:07d}#{job.id}"


def _to_item(job: Job) -> dict[str, Any]:
    item: dict[str, Any] = _decimals(job.model_dump(mode="json", exclude_none=True))
    item.update(pk=_pk(job.id), sk=ITEM_SK, list_pk=LIST_PK, **_state_keys(job, job.state))
    if job.after and job.attempt == 1:  # a join: the first attempts it waits for (a set, emptied as they finish)
        item["waits_for"] = {job.parent_id, *job.after} - {None}
    if job.state in CLOSED_STATES:
        item["closed_state"] = job.state.value
    return item


_DESERIALIZER = TypeDeserializer()


def _deserialized(item: dict[str, Any]) -> dict[str, Any]:
    """An item in DynamoDB's JSON (a stream's image, a refused write's ALL_OLD) as the resource gives it."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in item.items()}


def _from_item(item: dict[str, Any]) -> Job:
    return Job.model_validate(_plain_numbers({k: v for k, v in item.items() if k not in _INTERNAL_ATTRIBUTES}))


def _run_of(item: dict[str, Any]) -> Run:
    numbers = {key: float(item[key]) for key in ("runtime", "peak_memory_mb") if key in item}
    return Run.model_validate({**item, **numbers})


def _decimals(value: Any) -> Any:
    """Every float, at any depth, as the Decimal that DynamoDB takes: no list of fields to keep."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: _decimals(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_decimals(inner) for inner in value]
    return value


def _plain_numbers(value: Any) -> Any:
    """DynamoDB's Decimals back as numbers, at any depth: a whole one an int, else a float; the
    model's fields then say which they are (an int where a float is wanted is taken as one)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain_numbers(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(inner) for inner in value]
    return value


def encode_cursor(last_key: dict[str, Any] | None, index: str) -> str | None:
    if not last_key:
        return None
    payload = json.dumps({"i": index, "k": last_key}, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


# The key attributes of each listing's index: a page's LastEvaluatedKey holds these and the table's.
LISTING_KEYS = {
    INDEX_BY_CREATED: ("list_pk", "id"),
    INDEX_BY_STATE: ("state", "id"),
    INDEX_BY_COMMAND: ("command", "id"),
    INDEX_BY_COMMAND_STATE: ("command_state", "id"),
    INDEX_BY_QUEUE: ("queue", "id"),
    INDEX_BY_QUEUE_STATE: ("queue_state", "id"),
    INDEX_BY_SEARCH: ("search_key", "id"),
    INDEX_BY_AUDIT: ("audit_list", "id"),
    INDEX_BY_AUDIT_ACTOR: ("audit_actor", "id"),
    INDEX_BY_BULK: ("bulk_list", "id"),
}


def _item_key_of(index: str, key: dict[str, str]) -> tuple[str, str]:
    """The table's key of the item that a listing's cursor stops at: a job's, its search item's or an audit record's."""
    hash_key, range_key = LISTING_KEYS[index]
    if index == INDEX_BY_SEARCH:
        return _pk(key[range_key]), SEARCH_SK + key[hash_key]
    if index in (INDEX_BY_AUDIT, INDEX_BY_AUDIT_ACTOR):
        return audit_pk(key[range_key]), AUDIT_SK
    if index == INDEX_BY_BULK:
        return f"BULK#{key[range_key]}", BULK_SK
    return _pk(key[range_key]), ITEM_SK


def decode_cursor(cursor: str, index: str, partition: str | None = None) -> dict[str, Any]:
    """The ExclusiveStartKey that a cursor holds, if it is one that this listing could have given:
    exactly the table's and the index's key attributes, in the listing's partition (`partition`)
    and on an item of its index (`_item_key_of`). DynamoDB would refuse any other with a ValidationException."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key = payload["k"]
        hash_key, range_key = LISTING_KEYS[payload["i"]]
        valid = (
            payload["i"] == index
            and isinstance(key, dict)
            and set(key) == {"pk", "sk", hash_key, range_key}
            and all(isinstance(v, str) and v for v in key.values())
            and (key["pk"], key["sk"]) == _item_key_of(index, key)
            and (partition is None or key[hash_key] == partition)
        )
    except (ValueError, KeyError, TypeError, binascii.Error):
        valid = False
    if not valid:
        raise Unprocessable("cursor is not valid for this listing; start again without it")
    return dict(key)


ITEM_TOO_LARGE = (
    "request body: a job's params and options are too large to record: DynamoDB keeps an item of at most 400 KB"
)


def _item_too_large(error: ClientError) -> bool:
    """DynamoDB refuses an item over 400 KB with a ValidationException, in a transaction as well."""
    message = str(error.response.get("Error", {}).get("Message", ""))
    return "Item size" in message and "maximum allowed size" in message


class TableAccess:
    """The jobs table, and the one conditional write that every part of the store uses."""

    def __init__(self, table: Any):
        self.table = table  # a boto3 DynamoDB Table resource
        self.client = table.meta.client

    def _get_items(self, keys: list[dict[str, str]], consistent: bool = True) -> list[dict[str, Any]]:
        """The items of these keys that exist, in any order: BatchGetItem, BATCH_GET_KEYS a call,
        with what it left unprocessed asked again."""
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH_GET_KEYS):
            request = {self.table.name: {"Keys": keys[start : start + BATCH_GET_KEYS], "ConsistentRead": consistent}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                items += response["Responses"].get(self.table.name, [])
                request = response.get("UnprocessedKeys") or {}
        return items

    def _update_if(self, with_writes: Sequence[dict[str, Any]] = (), **update: Any) -> bool:
        """One conditional UpdateItem: False, and nothing written, when its condition does not hold.
        With `with_writes`, the update and they are one transaction."""
        try:
            if with_writes:
                writes = [{"Update": {**update, "TableName": self.table.name}}, *with_writes]
                self.client.transact_write_items(TransactItems=writes)
            else:
                self.table.update_item(**update)
        except ClientError as exc:
            if _refused_item(exc) is not None:
                return False
            raise
        return True


def _refused_item(error: ClientError) -> dict[str, Any] | None:
    """The job's item as a refused condition found it (DynamoDB's JSON; {} when not given back), or
    None for an error that is not the job's condition: in a transaction, the job's write is first."""
    code = error.response["Error"]["Code"]
    if code == "ConditionalCheckFailedException":
        return error.response.get("Item") or {}  # type: ignore[return-value]
    reasons = error.response.get("CancellationReasons") or []
    if code == "TransactionCanceledException" and reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
        return reasons[0].get("Item") or {}  # type: ignore[return-value]
    return None
