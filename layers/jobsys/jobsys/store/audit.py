"""The audit log's records in the jobs table: pk "AUDIT#<id>", sk "AUDIT", in the index by_audit
(audit_list / id: all of them, newest first) and by_audit_actor (audit_actor / id: one person's)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from jobsys.audit import AuditEntry, AuditQuery
from jobsys.ids import ulid_floor
from jobsys.models import parse_iso
from jobsys.spec.limits import MAX_PAGE
from jobsys.store.items import (
    AUDIT_LIST,
    AUDIT_SK,
    INDEX_BY_AUDIT,
    INDEX_BY_AUDIT_ACTOR,
    TableAccess,
    audit_pk,
    decode_cursor,
    encode_cursor,
)

_RECORD_FIELDS = tuple(AuditEntry.model_fields)


class AuditRecords(TableAccess):
    """Writes and reads the audit log."""

    def audit_item(self, entry: AuditEntry, keep: timedelta) -> dict[str, Any]:
        item = {name: value for name, value in entry.model_dump().items() if value is not None}
        item.update(
            pk=audit_pk(entry.id),
            sk=AUDIT_SK,
            audit_list=AUDIT_LIST,
            audit_actor=entry.actor,
            expires_at=int((parse_iso(entry.at) + keep).timestamp()),
        )
        return item

    def audit_put(self, entry: AuditEntry, keep: timedelta) -> dict[str, Any]:
        """The record as a write of a transaction, beside the change it records."""
        item = self.audit_item(entry, keep)
        return {"Put": {"TableName": self.table.name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}

    def record_audit(self, entry: AuditEntry, keep: timedelta) -> None:
        """A record of an action that changed nothing, alone."""
        self.table.put_item(Item=self.audit_item(entry, keep), ConditionExpression="attribute_not_exists(pk)")

    def audit_page(self, query: AuditQuery, limit: int, cursor: str | None) -> tuple[list[AuditEntry], str | None]:
        """The newest records first: one Query of by_audit, or of by_audit_actor for one person;
        the time range is a range of ids, and the action a filter (so a page may be short)."""
        actor, since, until = query.actor, query.since, query.until
        index, partition = (INDEX_BY_AUDIT_ACTOR, actor) if actor else (INDEX_BY_AUDIT, AUDIT_LIST)
        condition: Any = Key("audit_actor" if actor else "audit_list").eq(partition)
        if since and until:
            condition &= Key("id").between(ulid_floor(since), ulid_floor(until))
        elif since:
            condition &= Key("id").gte(ulid_floor(since))
        elif until:
            condition &= Key("id").lt(ulid_floor(until))
        request: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ScanIndexForward": False,
            "Limit": max(1, min(limit, MAX_PAGE)),
        }
        if query.action:
            request["FilterExpression"] = Attr("action").eq(query.action)
        if cursor:
            request["ExclusiveStartKey"] = decode_cursor(cursor, index, partition)
        response = self.table.query(**request)
        entries = [
            AuditEntry.model_validate({name: value for name, value in item.items() if name in _RECORD_FIELDS})
            for item in response["Items"]
        ]
        return entries, encode_cursor(response.get("LastEvaluatedKey"), index)

    def audit_before(self, before: datetime, page_size: int) -> Iterator[str]:
        """The ids of the records older than `before`, oldest first, a page at a time."""
        query: dict[str, Any] = {
            "IndexName": INDEX_BY_AUDIT,
            "KeyConditionExpression": Key("audit_list").eq(AUDIT_LIST) & Key("id").lt(ulid_floor(before)),
            "ScanIndexForward": True,
            "Limit": page_size,
        }
        while True:
            response = self.table.query(**query)
            yield from (item["id"] for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def delete_audit(self, record_id: str) -> None:
        self.table.delete_item(Key={"pk": audit_pk(record_id), "sk": AUDIT_SK})
