"""A join (a job with `after`) waits for its parent and the jobs it names: a string set on its item,
from which each takes itself off as it finishes. DynamoDB applies one update at a time, so of two
jobs that finish at once exactly one leaves the set empty, and only that one starts the join."""

from __future__ import annotations

from botocore.exceptions import ClientError

from jobsys.models import Job, JobState
from jobsys.store.items import ITEM_SK, TableAccess, _from_item, _pk


class JoinArrivals(TableAccess):
    def arrive(self, join_id: str, origin: str) -> tuple[Job, bool] | None:
        """`origin` (a job's first attempt) finished: taken off what the pending join waits for.
        The join, and whether it waits for nothing more; None once it is not pending. Safe to
        repeat: taking off what is gone changes nothing, and says again that it is ready."""
        try:
            response = self.table.update_item(
                Key={"pk": _pk(join_id), "sk": ITEM_SK},
                UpdateExpression="DELETE waits_for :origin",
                ConditionExpression="#state = :pending",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={":origin": {origin}, ":pending": JobState.PENDING.value},
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        item = response["Attributes"]
        return _from_item(item), "waits_for" not in item  # DynamoDB removes a set that becomes empty
