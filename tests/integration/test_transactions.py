"""DynamoDB's transactions are all or nothing; the local stack rolls a failed one back item by item
(jobs_local.dynamodb.transaction_rollback), not from a copy of the whole table."""

import pytest


@pytest.fixture(scope="module")
def client(stack):
    client = stack.client("dynamodb")
    client.create_table(
        TableName="transactions-check",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    yield client
    client.delete_table(TableName="transactions-check")


def _item(pk: str, sk: str = "job", **values: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"S": v} for k, v in values.items()}}


def _all(client) -> list[dict]:
    return sorted(client.scan(TableName="transactions-check")["Items"], key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def _put(item: dict, new_only: bool = True) -> dict:
    put = {"TableName": "transactions-check", "Item": item}
    return {"Put": put | ({"ConditionExpression": "attribute_not_exists(pk)"} if new_only else {})}


def test_a_failed_transaction_leaves_every_item_as_it_was(client):
    client.put_item(TableName="transactions-check", Item=_item("a", state="pending"))
    client.put_item(TableName="transactions-check", Item=_item("b", state="running"))
    client.put_item(TableName="transactions-check", Item=_item("z", state="failed"))
    before = _all(client)
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(
            TransactItems=[
                _put(_item("new-1")),  # would be added
                _put(_item("a", state="finished"), new_only=False),  # would replace
                {"Delete": {"TableName": "transactions-check", "Key": {"pk": {"S": "z"}, "sk": {"S": "job"}}}},
                {
                    "Update": {
                        "TableName": "transactions-check",
                        "Key": {"pk": {"S": "a"}, "sk": {"S": "other"}},
                        "UpdateExpression": "SET note = :n",
                        "ExpressionAttributeValues": {":n": {"S": "x"}},
                    }
                },
                _put(_item("b")),  # fails: b exists
            ]
        )
    assert _all(client) == before


def test_a_transaction_that_holds_writes_them_all(client):
    client.transact_write_items(TransactItems=[_put(_item("c", state="pending")), _put(_item("d", state="pending"))])
    keys = {(i["pk"]["S"], i["sk"]["S"]) for i in _all(client)}
    assert {("c", "job"), ("d", "job")} <= keys
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(TransactItems=[_put(_item("e")), _put(_item("c"))])
    assert ("e", "job") not in {(i["pk"]["S"], i["sk"]["S"]) for i in _all(client)}
