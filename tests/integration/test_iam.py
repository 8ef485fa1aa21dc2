"""The local stack refuses what AWS's IAM refuses: each of the stack's roles, as its service takes it,
may do what the template grants and nothing else; unknown or forged keys get nowhere."""

import json
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from jobs_local.stack import LocalStack

pytestmark = pytest.mark.integration

LAMBDA = "lambda.amazonaws.com"


def refused(call, *args, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value


def denied(error: ClientError, code: str, action: str, resource: str) -> None:
    assert error.response["Error"]["Code"] == code, error.response["Error"]
    message = error.response["Error"]["Message"]
    assert f"is not authorized to perform: {action} on resource: {resource}" in message, message
    assert ":assumed-role/" in message


def as_role(stack: LocalStack, role: str, service: str = LAMBDA):
    return stack.session_as(role, service)


def test_the_runner_function_may_not_delete_the_table_or_list_every_bucket(stack: LocalStack):
    runner = as_role(stack, "RunnerFunctionRole")
    table = stack.physical_id("JobsTable")
    error = refused(runner.client("dynamodb").delete_table, TableName=table)
    denied(
        error, "AccessDeniedException", "dynamodb:DeleteTable", f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}"
    )
    assert refused(runner.client("s3").list_buckets).response["Error"]["Code"] == "AccessDenied"
    # What the template grants it goes through.
    runner.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "nothing"}, "sk": {"S": "nothing"}})


def test_the_api_function_may_not_run_an_ecs_task(stack: LocalStack):
    api = as_role(stack, "ApiFunctionRole")
    error = refused(
        api.client("ecs").run_task, cluster=stack.physical_id("RunnerCluster"), taskDefinition="jobs-it-runner"
    )
    assert error.response["Error"]["Code"] == "AccessDeniedException"
    assert "ecs:RunTask on resource: arn:aws:ecs:us-east-1:123456789012:task-definition/jobs-it-runner" in str(error)


def test_an_index_is_a_resource_of_its_own(stack: LocalStack):
    """`table/NAME/index/INDEX`: a grant on the table alone does not cover a Query of its index."""
    task = as_role(stack, "RunnerTaskRole", "ecs-tasks.amazonaws.com")
    table = stack.physical_id("JobsTable")
    description = stack.client("dynamodb").describe_table(TableName=table)["Table"]
    index = description["GlobalSecondaryIndexes"][0]["IndexName"]
    key = next(
        k["AttributeName"] for k in description["GlobalSecondaryIndexes"][0]["KeySchema"] if k["KeyType"] == "HASH"
    )
    reader = as_role(stack, "CleanUpFunctionRole")
    reader.client("dynamodb").query(
        TableName=table, IndexName=index, KeyConditionExpression="#k = :v",
        ExpressionAttributeNames={"#k": key}, ExpressionAttributeValues={":v": {"S": "nothing"}},
    )  # fmt: skip
    error = refused(task.client("dynamodb").scan, TableName=table, IndexName=index)
    denied(error, "AccessDeniedException", "dynamodb:Scan", f"{description['TableArn']}/index/{index}")


# One refusal for each service that the stack uses: (role, client, call, error code, IAM action).
REFUSALS = {
    "lambda": ("RunnerFunctionRole", "lambda", lambda c, s: c.invoke(FunctionName=s.physical_id("ApiFunction")),
               "AccessDeniedException", "lambda:InvokeFunction"),
    "logs": ("RunnerFunctionRole", "logs", lambda c, s: c.delete_log_group(logGroupName="/jobs/jobs-it/output"),
             "AccessDeniedException", "logs:DeleteLogGroup"),
    # The runner starts its dependents' executions, and may stop none.
    "states": ("RunnerFunctionRole", "stepfunctions",
               lambda c, s: c.stop_execution(executionArn=s.physical_id("JobStateMachine").replace(
                   ":stateMachine:", ":execution:") + ":nothing"),
               "AccessDeniedException", "states:StopExecution"),
    "scheduler": ("ApiFunctionRole", "scheduler", lambda c, s: c.list_schedules(),
                  "AccessDeniedException", "scheduler:ListSchedules"),
    "secretsmanager": ("RunnerFunctionRole", "secretsmanager",
                       lambda c, s: c.get_secret_value(SecretId=s.physical_id("BackOfficeToken")),
                       "AccessDeniedException", "secretsmanager:GetSecretValue"),
    "iam": ("RunnerFunctionRole", "iam", lambda c, s: c.create_user(UserName="mallory"),
            "AccessDenied", "iam:CreateUser"),
    "sts": ("RunnerFunctionRole", "sts",
            lambda c, s: c.assume_role(RoleArn=f"arn:aws:iam::123456789012:role/{s.physical_id('RunnerTaskRole')}",
                                       RoleSessionName="mallory"),
            "AccessDenied", "sts:AssumeRole"),
    "s3": ("ApiFunctionRole", "s3", lambda c, s: c.delete_bucket(Bucket=s.physical_id("OutputBucket")),
           "AccessDenied", None),
}  # fmt: skip


@pytest.mark.parametrize("service", REFUSALS)
def test_each_service_refuses_what_a_role_is_not_granted(stack: LocalStack, service: str):
    role, client_name, call, code, action = REFUSALS[service]
    error = refused(call, as_role(stack, role).client(client_name), stack)
    assert error.response["Error"]["Code"] == code, error.response
    if action:
        assert f"not authorized to perform: {action}" in error.response["Error"]["Message"]
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403)


def test_forged_and_unknown_keys_are_refused(stack: LocalStack):
    table = stack.physical_id("JobsTable")
    config = Config(retries={"max_attempts": 1})

    def dynamodb(key: str, secret: str, token: str | None = None):
        session = boto3.Session(aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token)
        return session.client("dynamodb", endpoint_url=stack.endpoint_url, region_name="us-east-1", config=config)

    unknown = refused(dynamodb("AKIA" + uuid.uuid4().hex[:16].upper(), "x" * 40).describe_table, TableName=table)
    assert unknown.response["Error"]["Code"] == "UnrecognizedClientException"
    admin = stack.administrator
    wrong_secret = refused(dynamodb(admin.access_key_id, "y" * 40).describe_table, TableName=table)
    assert wrong_secret.response["Error"]["Code"] == "InvalidSignatureException"
    runner = as_role(stack, "RunnerFunctionRole").keys
    no_token = refused(dynamodb(runner.access_key_id, runner.secret_access_key).describe_table, TableName=table)
    assert no_token.response["Error"]["Code"] == "UnrecognizedClientException"
    forged_token = refused(
        dynamodb(runner.access_key_id, runner.secret_access_key, "forged").describe_table, TableName=table
    )
    assert forged_token.response["Error"]["Code"] == "UnrecognizedClientException"
    # The old fixed keys of the local stack and of moto's interpreter are nobody's.
    for key, secret in (("local", "local"), ("ak", "sk")):
        assert refused(dynamodb(key, secret).list_tables).response["Error"]["Code"] == "UnrecognizedClientException"


def test_the_administrator_cannot_assume_a_role_that_trusts_only_a_service(stack: LocalStack):
    """As in AWS: the template's roles trust their service, not the account's users."""
    role = stack.client("iam").get_role(RoleName=stack.physical_id("RunnerFunctionRole"))["Role"]
    assert json.loads(json.dumps(role["AssumeRolePolicyDocument"]))["Statement"][0]["Principal"] == {
        "Service": [LAMBDA]
    }
    error = refused(stack.client("sts").assume_role, RoleArn=role["Arn"], RoleSessionName="by-hand")
    assert error.response["Error"]["Code"] == "AccessDenied"
    assert f"sts:AssumeRole on resource: {role['Arn']}" in error.response["Error"]["Message"]


@pytest.mark.parametrize("role", ["JobStateFunctionRole", "CleanUpFunctionRole"])
def test_the_end_of_a_run_can_tell_whether_the_runner_saved_the_output(stack: LocalStack, role: str):
    """EndRun and the clean-up save a dead run's stream only if the runner saved no copy: they ask S3
    with HeadObject, which needs s3:GetObject, and s3:ListBucket for a missing key to answer 404
    rather than 403. Without them every end re-saved the stream over the runner's copy."""
    s3 = as_role(stack, role).client("s3")
    bucket = stack.physical_id("OutputBucket")
    stack.client("s3").put_object(Bucket=bucket, Key="output/saved.log", Body=b"line\n")
    assert s3.head_object(Bucket=bucket, Key="output/saved.log")["ContentLength"] == 5
    missing = refused(s3.head_object, Bucket=bucket, Key="output/never-saved.log")
    assert missing.response["Error"]["Code"] == "404"


def test_a_missing_key_is_403_to_a_role_that_may_not_list_the_bucket(stack: LocalStack):
    """As S3 does, so that keys cannot be probed: the Fargate task's role may get objects, not list them."""
    s3 = as_role(stack, "RunnerTaskRole", "ecs-tasks.amazonaws.com").client("s3")
    bucket = stack.physical_id("OutputBucket")
    stack.client("s3").put_object(Bucket=bucket, Key="output/there.log", Body=b"line\n")
    assert s3.head_object(Bucket=bucket, Key="output/there.log")["ContentLength"] == 5
    assert refused(s3.head_object, Bucket=bucket, Key="output/not-there.log").response["Error"]["Code"] == "403"
    assert refused(s3.get_object, Bucket=bucket, Key="output/not-there.log").response["Error"]["Code"] == "AccessDenied"


def test_anyone_signed_may_ask_who_they_are(stack: LocalStack):
    """sts:GetCallerIdentity needs no permission in AWS: every role may call it."""
    identity = as_role(stack, "CleanUpFunctionRole").client("sts").get_caller_identity()
    assert ":assumed-role/" in identity["Arn"] and "CleanUpFunctionRole" in identity["Arn"]
