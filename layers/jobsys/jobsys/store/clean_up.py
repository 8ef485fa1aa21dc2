"""The clean-up's own notes in the table: where its last pass stopped, and the lock that keeps it alone."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from jobsys.models import iso
from jobsys.store.items import (
    CLEAN_UP_PK,
    TableAccess,
)


class CleanUpNotes(TableAccess):
    """The clean-up's cursors and its lock."""

    def clean_up_cursor(self, name: str) -> dict[str, Any] | None:
        """Where a pass of the clean-up through many items stopped, for the next run to go on from."""
        item = self.table.get_item(Key={"pk": CLEAN_UP_PK, "sk": f"CURSOR#{name}"}, ConsistentRead=True).get("Item")
        return (item or {}).get("cursor")

    def set_clean_up_cursor(self, name: str, cursor: dict[str, Any] | None) -> None:
        key = {"pk": CLEAN_UP_PK, "sk": f"CURSOR#{name}"}
        if cursor is None:
            self.table.delete_item(Key=key)
        else:
            self.table.put_item(Item={**key, "cursor": cursor})

    def take_clean_up_lock(self, holder: str, now: datetime, hold: timedelta) -> bool:
        """One clean-up at a time, the scheduled one or an operator's: False while another holds it.
        A holder that died lets go when `hold` has passed."""
        try:
            self.table.put_item(
                Item={"pk": CLEAN_UP_PK, "sk": "LOCK", "holder": holder, "until": iso(now + hold)},
                ConditionExpression="attribute_not_exists(pk) OR #until < :now",
                ExpressionAttributeNames={"#until": "until"},
                ExpressionAttributeValues={":now": iso(now)},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def release_clean_up_lock(self, holder: str) -> None:
        try:
            self.table.delete_item(
                Key={"pk": CLEAN_UP_PK, "sk": "LOCK"},
                ConditionExpression="holder = :me",
                ExpressionAttributeValues={":me": holder},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":  # it had expired
                raise
