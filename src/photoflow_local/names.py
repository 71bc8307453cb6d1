"""Names and ARNs CloudFormation would give a translated template's resources.

For checking a template without deploying it: the policy tests evaluate its IAM
statements with these, and the artefact checks start functions with an Environment
resolved by them. Physical names are plausible, not what CloudFormation generates.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from photoflow_local.intrinsics import Resolver
from photoflow_local.template import TranslatedTemplate

ACCOUNT = "123456789012"
REGION = "us-east-1"
NAME_PROPERTIES = (
    "BucketName",
    "TableName",
    "TopicName",
    "QueueName",
    "FunctionName",
    "StateMachineName",
    "LogGroupName",
    "RoleName",
    "UserPoolName",
)


class DeployedNames:
    """Names and ARNs CloudFormation would give the resources, for Ref and Fn::GetAtt."""

    def __init__(self, template: TranslatedTemplate, parameters: dict[str, str]) -> None:
        self.template = template
        self.parameters = {
            name: str(spec.get("Default", "")) for name, spec in template.parameters.items()
        } | parameters
        self.resolver = Resolver(self.ref, self.get_att, template.conditions, template.mappings)

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"

    @functools.cache  # noqa: B019 - a few instances, each kept as long as the process
    def name(self, logical_id: str) -> str:
        properties = self.template.resources[logical_id].get("Properties", {})
        for key in NAME_PROPERTIES:
            if key in properties:
                return str(self.resolver.resolve(properties[key]))
        return f"photoflow-{logical_id}"

    def type(self, logical_id: str) -> str:
        return str(self.template.resources[logical_id]["Type"])

    def ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::StackName": "photoflow",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        # What Ref gives for each type that does not give its name.
        refs = {
            "AWS::SNS::Topic": lambda: self.get_att(name, "Arn"),
            "AWS::StepFunctions::StateMachine": lambda: self.get_att(name, "Arn"),
            "AWS::SQS::Queue": lambda: (
                f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{self.name(name)}"
            ),
            "AWS::KMS::Key": lambda: "0000aaaa-1111-2222-3333-444455556666",
            "AWS::Lambda::LayerVersion": lambda: self.arn("lambda", f"layer:{self.name(name)}:1"),
        }
        return refs.get(self.type(name), lambda: self.name(name))()

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute in {"QueueName", "TopicName", "Name"}:
            return self.name(logical_id)
        name = self.name(logical_id)
        arns = {
            "AWS::S3::Bucket": lambda: f"arn:aws:s3:::{name}",
            "AWS::DynamoDB::Table": lambda: self.arn("dynamodb", f"table/{name}"),
            "AWS::SNS::Topic": lambda: self.arn("sns", name),
            "AWS::SQS::Queue": lambda: self.arn("sqs", name),
            "AWS::Lambda::Function": lambda: self.arn("lambda", f"function:{name}"),
            "AWS::StepFunctions::StateMachine": lambda: self.arn("states", f"stateMachine:{name}"),
            "AWS::Logs::LogGroup": lambda: self.arn("logs", f"log-group:{name}:*"),
            "AWS::KMS::Key": lambda: self.arn("kms", f"key/{self.ref(logical_id)}"),
            "AWS::IAM::Role": lambda: f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "AWS::Cognito::UserPool": lambda: self.arn("cognito-idp", f"userpool/{name}"),
            "AWS::Events::Rule": lambda: self.arn("events", f"rule/{name}"),
        }
        return arns.get(self.type(logical_id), lambda: f"{logical_id}.{attribute}")()

    def properties(self, logical_id: str) -> dict[str, Any]:
        resolved: dict[str, Any] = self.resolver.resolve(
            self.template.resources[logical_id].get("Properties", {})
        )
        return resolved

    def of_type(self, kind: str) -> Iterator[str]:
        return (k for k, r in self.template.resources.items() if r["Type"] == kind)
