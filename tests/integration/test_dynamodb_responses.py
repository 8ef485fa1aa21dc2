"""The local stack writes DynamoDB's items out itself (jobs_local.dynamodb.responses): a client must
read exactly what moto's own serializer gives, for every kind of attribute value."""

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest

from jobs_local.dynamodb.responses import PATCH

ITEM = {
    "pk": {"S": "job#1"},
    "n": {"N": "12.50"},
    "b": {"B": b"\x00\xffbytes"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": [b"\x01", b"\x02\x03"]},
    "null": {"NULL": True},
    "flag": {"BOOL": False},
    "list": {"L": [{"S": "x"}, {"N": "3"}, {"B": b"\x04"}, {"M": {"deep": {"BS": [b"\x05"]}}}]},
    "doc": {"M": {"s": {"S": "v"}, "b": {"B": b"\x06"}, "l": {"L": [{"NULL": True}, {"BOOL": True}]}}},
    "empty": {"S": ""},
    "unicode": {"S": "élan — 東京 \u2028"},
}


@contextmanager
def serializer(fast: bool) -> Iterator[None]:
    """The server runs in this process: its DynamoDB answers go through one serializer or the other."""
    installed = PATCH.installed
    (PATCH.install if fast else PATCH.uninstall)()
    try:
        yield
    finally:
        (PATCH.install if installed else PATCH.uninstall)()


@pytest.fixture(scope="module")
def client(stack):
    client = stack.client("dynamodb")
    client.create_table(
        TableName="serializer-check",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    yield client
    client.delete_table(TableName="serializer-check")


def _answers(client, fast: bool) -> list:
    with serializer(fast):
        client.put_item(TableName="serializer-check", Item=ITEM)
        key = {"pk": ITEM["pk"]}
        answers = [
            client.get_item(TableName="serializer-check", Key=key),
            client.query(
                TableName="serializer-check",
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": key["pk"]},
            ),
            client.batch_get_item(RequestItems={"serializer-check": {"Keys": [key]}}),
            client.update_item(
                TableName="serializer-check",
                Key=key,
                UpdateExpression="SET n = n + :one, doc.added = :b",
                ExpressionAttributeValues={":one": {"N": "1"}, ":b": {"B": b"\x07"}},
                ReturnValues="ALL_NEW",
            ),
            client.delete_item(TableName="serializer-check", Key=key, ReturnValues="ALL_OLD"),
        ]
    for answer in answers:
        answer.pop("ResponseMetadata")
    return answers


def test_items_read_the_same_as_through_motos_serializer(client):
    fast, moto_own = _answers(client, fast=True), _answers(client, fast=False)
    assert fast == moto_own
    got = fast[0]["Item"]
    assert got["b"]["B"] == b"\x00\xffbytes" and got["doc"]["M"]["b"]["B"] == b"\x06"
    assert got["list"]["L"][3]["M"]["deep"]["BS"] == [b"\x05"]
    assert Decimal(fast[3]["Attributes"]["n"]["N"]) == Decimal("13.5")


@pytest.mark.parametrize("value", [b"", b"\x00" * 10, base64.b64encode(b"already text")])
def test_binary_values_survive_the_round_trip(client, value):
    item = {"pk": {"S": "k"}, "b": {"B": value}} if value else {"pk": {"S": "k"}, "bs": {"BS": [b"\x01"]}}
    with serializer(fast=True):
        client.put_item(TableName="serializer-check", Item=item)
        assert client.get_item(TableName="serializer-check", Key={"pk": {"S": "k"}})["Item"] == item


def test_stream_records_read_the_same_as_through_motos_serializer(stack, client):
    """The stream's records carry whole items too (NewImage, OldImage): the pollers read them all."""
    client.put_item(TableName="serializer-check", Item=ITEM)
    client.update_item(
        TableName="serializer-check",
        Key={"pk": ITEM["pk"]},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "1"}},
    )
    streams = stack.client("dynamodbstreams")
    arn = client.describe_table(TableName="serializer-check")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]

    def records(fast: bool) -> list:
        with serializer(fast):
            iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
            return streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]

    fast, moto_own = records(fast=True), records(fast=False)
    assert fast == moto_own
    changed = [r["dynamodb"] for r in fast if r["eventName"] == "MODIFY" and "NewImage" in r["dynamodb"]]
    assert changed and changed[-1]["NewImage"]["b"]["B"] == b"\x00\xffbytes"
    assert changed[-1]["OldImage"]["list"]["L"][3]["M"]["deep"]["BS"] == [b"\x05"]
