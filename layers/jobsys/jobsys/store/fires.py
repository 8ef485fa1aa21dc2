"""The schedules' log of fires: one record per fire, so that a repeated delivery starts nothing."""

from __future__ import annotations

from typing import Any

from jobsys.store.items import (
    SCHEDULE_SK,
    TableAccess,
)


class ScheduleFires(TableAccess):
    """Each schedule's fires and its last sync."""

    def record_fire(self, key: str, scheduled_at: str, job_id: str, outcome: str, again: bool = False) -> bool:
        """Records a schedule's fire; False for one at or before the last (Scheduler delivers at least once).

        `again` updates the fire that this caller recorded before.
        """
        condition = (
            "last_scheduled_at = :at" if again else "attribute_not_exists(last_scheduled_at) OR last_scheduled_at < :at"
        )
        return self._update_if(
            Key={"pk": f"SCHEDULE#{key}", "sk": SCHEDULE_SK},
            UpdateExpression="SET last_scheduled_at = :at, last_job_id = :job, last_outcome = :outcome",
            ConditionExpression=condition,
            ExpressionAttributeValues={":at": scheduled_at, ":job": job_id, ":outcome": outcome},
        )

    def forget_fire(self, key: str, scheduled_at: str) -> None:
        self._update_if(
            Key={"pk": f"SCHEDULE#{key}", "sk": SCHEDULE_SK},
            UpdateExpression="REMOVE last_scheduled_at, last_job_id, last_outcome",
            ConditionExpression="last_scheduled_at = :at",
            ExpressionAttributeValues={":at": scheduled_at},
        )

    def mark_synced(self, key: str, synced_at: str) -> None:
        """When a schedule was (re)created: a rate runs one period after this until it first fires."""
        self.table.update_item(
            Key={"pk": f"SCHEDULE#{key}", "sk": SCHEDULE_SK},
            UpdateExpression="SET synced_at = :at",
            ExpressionAttributeValues={":at": synced_at},
        )

    def last_fires(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        items = self._get_items([{"pk": f"SCHEDULE#{key}", "sk": SCHEDULE_SK} for key in keys], consistent=False)
        return {item["pk"].removeprefix("SCHEDULE#"): item for item in items}
