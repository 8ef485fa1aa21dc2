"""A stack's template means the same whether moto's YAML reading or the JSON one reads it."""

import json

from moto.cloudformation.models import Stack

from jobs_local.cloudformation import template_json

TEMPLATE = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"Retention": {"Type": "Number", "Default": 7}},
    "Resources": {
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": {"Fn::Sub": "${AWS::StackName}-jobs"}}},
        "Flag": {"Type": "AWS::SSM::Parameter", "Properties": {"Value": "yes", "Tier": None, "Count": 1.5}},
    },
}


def _both(text: str) -> tuple[dict, dict]:
    template_json.PATCH.uninstall()
    moto_s = Stack.parse_template(text)
    template_json.PATCH.install()
    try:
        return moto_s, Stack.parse_template(text)
    finally:
        template_json.PATCH.uninstall()


def test_a_json_template_reads_as_moto_reads_it():
    moto_s, ours = _both(json.dumps(TEMPLATE, indent=2))
    assert ours == moto_s == TEMPLATE


def test_yaml_and_flow_yaml_that_is_not_json_still_go_through_moto():
    moto_s, ours = _both(
        "Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: !Ref Name\n"
    )
    assert ours == moto_s
    assert ours["Resources"]["Table"]["Properties"]["TableName"] == {"Ref": "Name"}
    moto_s, ours = _both("{Resources: {Table: {Type: 'AWS::DynamoDB::Table'}}}")
    assert ours == moto_s == {"Resources": {"Table": {"Type": "AWS::DynamoDB::Table"}}}
