"""The local deployer's registry: a handler per CloudFormation type the local stack creates."""

from __future__ import annotations

import inspect

from photoflow_local.deploy.registry import HANDLERS, REFERENCES_ONLY
from photoflow_local.template import translate
from tests.support import ROOT


def test_the_registry_creates_these_types_and_names_these_others_only() -> None:
    assert sorted(HANDLERS) == [
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Stage",
        "AWS::CloudWatch::Alarm",
        "AWS::Cognito::UserPool",
        "AWS::Cognito::UserPoolClient",
        "AWS::DynamoDB::Table",
        "AWS::Events::Rule",
        "AWS::IAM::Role",
        "AWS::KMS::Key",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::Function",
        "AWS::Logs::LogGroup",
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::Subscription",
        "AWS::SNS::Topic",
        "AWS::SQS::Queue",
        "AWS::SQS::QueuePolicy",
        "AWS::StepFunctions::StateMachine",
    ]
    assert not set(HANDLERS) & set(REFERENCES_ONLY)
    for kind, handler in HANDLERS.items():
        assert list(inspect.signature(handler).parameters) == ["ctx", "logical_id", "props"], kind


def test_every_type_the_template_uses_is_created_or_named_for_a_reason() -> None:
    template = translate(ROOT / "template.yaml")

    used = {resource["Type"] for resource in template.resources.values()}

    assert used - set(HANDLERS) - set(REFERENCES_ONLY) == set()
