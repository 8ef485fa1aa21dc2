"""A Query on an index reads its partition only (jobs_local.dynamodb.index_partitions), and still
answers what DynamoDB answers: after any mix of writes, each partition holds exactly the items that a
Scan finds with its key, in the index's order, page by page."""

import random

import pytest

TABLE = "partitions-check"
STATES = ["pending", "running", "finished"]


@pytest.fixture(scope="module")
def client(stack):
    client = stack.client("dynamodb")
    strings = ["pk", "sk", "state", "queue", "order"]
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in strings],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_state",
                "KeySchema": [
                    {"AttributeName": "state", "KeyType": "HASH"},
                    {"AttributeName": "pk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {  # sparse, as the queue's line is: an item leaves it when `queue` is removed
                "IndexName": "by_queue",
                "KeySchema": [
                    {"AttributeName": "queue", "KeyType": "HASH"},
                    {"AttributeName": "order", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    yield client
    client.delete_table(TableName=TABLE)


def _key(number: int) -> dict:
    return {"pk": {"S": f"job-{number:03d}"}, "sk": {"S": "job"}}


def _item(number: int, state: str, queue: str | None) -> dict:
    item = _key(number) | {"state": {"S": state}, "order": {"S": f"{number % 7:04d}"}}
    return item | ({"queue": {"S": queue}} if queue else {})


def _update(number: int, state: str, queue: str | None) -> dict:
    """Moves the item to another state's partition, and into a queue's or out of the sparse index."""
    values = {":state": {"S": state}} | ({":queue": {"S": queue}} if queue else {})
    return {
        "TableName": TABLE,
        "Key": _key(number),
        "UpdateExpression": "SET #state = :state" + (", queue = :queue" if queue else " REMOVE queue"),
        "ExpressionAttributeNames": {"#state": "state"},
        "ExpressionAttributeValues": values,
    }


def _write_at_random(client, chance: random.Random, writes: int) -> None:
    """Puts, updates, deletes, batches and transactions (half of which fail and are rolled back)."""
    for _ in range(writes):
        number, kind = chance.randrange(60), chance.random()
        state, queue = chance.choice(STATES), chance.choice(["a", "b", None])
        if kind < 0.3:
            client.put_item(TableName=TABLE, Item=_item(number, state, queue))
        elif kind < 0.55:
            client.update_item(**_update(number, state, queue))
        elif kind < 0.7:
            client.delete_item(TableName=TABLE, Key=_key(number))
        elif kind < 0.85:
            puts = [{"PutRequest": {"Item": _item(n, state, queue)}} for n in {chance.randrange(60) for _ in range(5)}]
            client.batch_write_item(RequestItems={TABLE: puts})
        else:
            doomed = chance.random() < 0.5
            put = {"TableName": TABLE, "Item": _item(number + 100, state, queue)}
            if doomed:
                put["ConditionExpression"] = "attribute_exists(pk) AND attribute_not_exists(pk)"
            try:
                client.transact_write_items(TransactItems=[{"Update": _update(number, state, None)}, {"Put": put}])
            except client.exceptions.TransactionCanceledException:
                assert doomed


def _query(client, index: str, name: str, value: str, page: int, forward: bool) -> list[dict]:
    found, start = [], None
    while True:
        asked = {"ExclusiveStartKey": start} if start else {}
        response = client.query(
            TableName=TABLE,
            IndexName=index,
            Limit=page,
            ScanIndexForward=forward,
            KeyConditionExpression="#key = :value",
            ExpressionAttributeNames={"#key": name},
            ExpressionAttributeValues={":value": {"S": value}},
            **asked,
        )
        found += response["Items"]
        if not (start := response.get("LastEvaluatedKey")):
            return found


@pytest.mark.parametrize("seed", range(4))
def test_each_index_partition_answers_what_a_scan_of_the_table_finds(client, seed):
    _write_at_random(client, random.Random(seed), writes=150)
    every = client.scan(TableName=TABLE)["Items"]
    for index, name, values, order in (("by_state", "state", STATES, "pk"), ("by_queue", "queue", ["a", "b"], "order")):
        for value in values:
            # An item without both of an index's keys is not in the index (an update makes such items).
            found = (item for item in every if item.get(name) == {"S": value} and order in item)
            expected = sorted(found, key=lambda item: (item[order]["S"], item["pk"]["S"]))
            for page in (1, 7, 100):
                assert _query(client, index, name, value, page, forward=True) == expected, (index, value, page)
                assert _query(client, index, name, value, page, forward=False) == expected[::-1], (index, value, page)
