"""Bulk actions' records: pk "BULK#<id>", sk "BULK", in the index by_bulk (bulk_list / id: newest
first). Each page's progress is one conditional write, on the cursor it started from: two
executions of one action can never both move it on.

A record's state is `bulk_state`, never `state`: with its `id`, a `state` would put it in the
index by_state, among the jobs (the clean-up read a running action as a running job)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from jobsys.errors import NotFound
from jobsys.spec.bulk import BulkAction, BulkState
from jobsys.spec.limits import MAX_PAGE
from jobsys.store.items import (
    BULK_SK,
    INDEX_BY_BULK,
    TableAccess,
    _plain_numbers,
    _refused_item,
    decode_cursor,
    encode_cursor,
)

BULK_LIST = "BULK"
STATE = "bulk_state"  # never `state`: the module's docstring says why
_RECORD_FIELDS = tuple(BulkAction.model_fields)


class BulkActionNotFound(NotFound):
    pass


def _bulk_key(bulk_id: str) -> dict[str, str]:
    return {"pk": f"BULK#{bulk_id}", "sk": BULK_SK}


def _action_of(item: dict[str, Any]) -> BulkAction:
    fields = {k: v for k, v in item.items() if k in _RECORD_FIELDS}
    return BulkAction.model_validate(_plain_numbers({**fields, "state": item[STATE]}))


class BulkRecords(TableAccess):
    """Writes and reads bulk actions' records."""

    def create_bulk(self, action: BulkAction, with_writes: Sequence[dict[str, Any]] = ()) -> None:
        item = {
            **action.model_dump(mode="json", exclude_none=True, exclude={"state"}),
            **_bulk_key(action.id),
            "bulk_list": BULK_LIST,
            STATE: action.state,
        }
        put = {"TableName": self.table.name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}
        self.client.transact_write_items(TransactItems=[{"Put": put}, *with_writes])

    def get_bulk(self, bulk_id: str) -> BulkAction:
        item = self.table.get_item(Key=_bulk_key(bulk_id), ConsistentRead=True).get("Item")
        if item is None:
            raise BulkActionNotFound(f"no bulk action '{bulk_id}'")
        return _action_of(item)

    def recent_bulk(self, limit: int, cursor: str | None) -> tuple[list[BulkAction], str | None]:
        query: dict[str, Any] = {
            "IndexName": INDEX_BY_BULK,
            "KeyConditionExpression": Key("bulk_list").eq(BULK_LIST),
            "ScanIndexForward": False,
            "Limit": max(1, min(limit, MAX_PAGE)),
        }
        if cursor:
            query["ExclusiveStartKey"] = decode_cursor(cursor, INDEX_BY_BULK, BULK_LIST)
        response = self.table.query(**query)
        return [_action_of(i) for i in response["Items"]], encode_cursor(
            response.get("LastEvaluatedKey"), INDEX_BY_BULK
        )

    def bulk_progress(
        self, action: BulkAction, done: int, skipped: int, cursor: str | None, finished: bool, at: str
    ) -> BulkAction | None:
        """Adds a page's counts and moves the cursor on, if nobody moved it since `action` was read;
        the last page ends it (`done`). None, and nothing written, if it was moved on."""
        values: dict[str, Any] = {
            ":done": done, ":skipped": skipped, ":at": at, ":running": "running", ":stopping": "stopping",
        }  # fmt: skip
        sets = ["done = done + :done", "skipped = skipped + :skipped", "updated_at = :at"]
        if cursor is not None:
            sets.append("#cursor = :cursor")
            values[":cursor"] = cursor
        if finished:
            sets.append("#state = :finished")
            values[":finished"] = "done"
        if action.cursor is None:
            condition = "attribute_not_exists(#cursor)"
        else:
            condition = "#cursor = :from"
            values[":from"] = action.cursor
        return self._bulk_update(
            action.id, "SET " + ", ".join(sets), f"{condition} AND #state IN (:running, :stopping)", values
        )

    def bulk_state(
        self,
        bulk_id: str,
        from_states: tuple[BulkState, ...],
        to_state: BulkState,
        with_writes: Sequence[dict[str, Any]] = (),
        **updates: Any,
    ) -> BulkAction | None:
        """Moves a bulk action to `to_state` if it is in one of `from_states`; None, and nothing
        written, if not. `with_writes` (its audit record) go in the same transaction."""
        values: dict[str, Any] = {":next": to_state, **{f":u_{name}": value for name, value in updates.items()}}
        sets = ["#state = :next", *(f"{name} = :u_{name}" for name in updates)]
        allowed = []
        for i, state in enumerate(from_states):
            values[f":from{i}"] = state
            allowed.append(f":from{i}")
        condition = f"#state IN ({', '.join(allowed)})"
        return self._bulk_update(bulk_id, "SET " + ", ".join(sets), condition, values, with_writes)

    def _bulk_update(
        self,
        bulk_id: str,
        update: str,
        condition: str,
        values: dict[str, Any],
        with_writes: Sequence[dict[str, Any]] = (),
    ) -> BulkAction | None:
        names = {"#state": STATE}
        if "#cursor" in update or "#cursor" in condition:
            names["#cursor"] = "cursor"
        write = {
            "Key": _bulk_key(bulk_id),
            "UpdateExpression": update,
            "ConditionExpression": f"attribute_exists(pk) AND {condition}",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        try:
            if with_writes:
                writes = [{"Update": {**write, "TableName": self.table.name}}, *with_writes]
                self.client.transact_write_items(TransactItems=writes)
                return self.get_bulk(bulk_id)
            response = self.table.update_item(**write, ReturnValues="ALL_NEW")
        except ClientError as exc:
            if _refused_item(exc) is not None:
                return None
            raise
        return _action_of(response["Attributes"])
