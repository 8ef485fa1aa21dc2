"""An update's expression checks the same with each traverser's processing map built once."""

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from jobs_local.dynamodb import expression_traversal

UPDATES = [
    ("SET #s = :a, closed_at = :b REMOVE waiting", {":a": "canceled", ":b": "2026"}, None),
    ("SET #s = :a, #s = :b", {":a": "x", ":b": "y"}, "Two document paths overlap"),
    ("SET #s = :a SET other = :b", {":a": "x", ":b": "y"}, 'The "SET" section can only be used once'),
    ("SET pk = :a", {":a": "x"}, "Cannot update attribute pk"),
    ("SET tally = tally + :a", {":a": "x"}, "Incorrect operand type for operator or function"),
]


def _answers(installed: bool) -> list[str]:
    (expression_traversal.PATCH.install if installed else expression_traversal.PATCH.uninstall)()
    answers = []
    try:
        with mock_aws():
            table = boto3.resource("dynamodb", region_name="us-east-1").create_table(
                TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            )  # fmt: skip
            table.put_item(Item={"pk": "a", "state": "pending", "tally": 1, "waiting": "w"})
            for expression, values, _ in UPDATES:
                try:
                    table.update_item(
                        Key={"pk": "a"}, UpdateExpression=expression, ExpressionAttributeNames={"#s": "state"}
                        if "#s" in expression else {}, ExpressionAttributeValues=values, ReturnValues="ALL_NEW",
                    )  # fmt: skip
                    answers.append(str(sorted(table.get_item(Key={"pk": "a"})["Item"].items())))
                except ClientError as exc:
                    answers.append(exc.response["Error"]["Message"])
    finally:
        expression_traversal.PATCH.uninstall()
    return answers


def test_updates_and_refusals_answer_as_moto_s():
    ours, moto_s = _answers(installed=True), _answers(installed=False)
    assert ours == moto_s
    for (_, _, refused), answer in zip(UPDATES, ours, strict=True):
        if refused:
            assert refused in answer
        else:
            assert "canceled" in answer and "waiting" not in answer


def test_a_traverser_builds_its_map_once():
    from moto.dynamodb.parsing.validators import ActionCountValidator

    expression_traversal.PATCH.install()
    try:
        validator = ActionCountValidator()
        assert validator.nodes_to_be_processed() is validator.nodes_to_be_processed()
    finally:
        expression_traversal.PATCH.uninstall()
