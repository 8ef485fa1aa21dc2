"""AWS's managed policies read the same whether moto writes out their documents at start or when read."""

import json

from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy

from jobs_local.iam import policy_documents

DATA = json.loads(aws_managed_policies_data)
NAMES = ["AWSLambdaBasicExecutionRole", "AmazonECSTaskExecutionRolePolicy", "AmazonAPIGatewayPushToCloudWatchLogs"]


def _made(name: str, installed: bool) -> AWSManagedPolicy:
    (policy_documents.PATCH.install if installed else policy_documents.PATCH.uninstall)()
    try:
        return AWSManagedPolicy.from_data(name, "123456789012", "us-east-1", DATA[name])
    finally:
        policy_documents.PATCH.uninstall()


def test_each_policy_reads_as_moto_makes_it():
    for name in NAMES:
        moto_s, ours = _made(name, installed=False), _made(name, installed=True)
        assert (ours.arn, ours.path, ours.default_version_id) == (moto_s.arn, moto_s.path, moto_s.default_version_id)
        [moto_version], [our_version] = moto_s.versions, ours.versions
        assert our_version._written is None  # not written until read
        assert our_version.document == moto_version.document
        assert json.loads(our_version.document) == DATA[name]["Document"]
        assert (our_version.version_id, our_version.is_default, our_version.create_date) == (
            moto_version.version_id,
            moto_version.is_default,
            moto_version.create_date,
        )


def test_a_document_set_afterwards_is_the_one_read():
    version = _made(NAMES[0], installed=True).versions[0]
    version.document = '{"Version": "2012-10-17", "Statement": []}'
    assert json.loads(version.document)["Statement"] == []
