"""The local deployer's update-stack: what a new template changes in place, and what it
refuses as needing the stack created anew (checked against moto, without a running stack)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from photoflow_local.deploy import LocalDeployer
from photoflow_local.template import translate

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Result:
    Type: String
    Default: first
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: []}
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 30
  Topic:
    Type: AWS::SNS::Topic
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: Machine
      RoleArn: !GetAtt Role.Arn
      DefinitionString: '{"StartAt": "Done", "States": {"Done": {"Type": "Pass",
        "Result": "${Result}", "End": true}}}'
      DefinitionSubstitutions:
        Result: !Ref Result
Outputs:
  QueueUrl:
    Value: !Ref Queue
"""


@pytest.fixture
def deployer(tmp_path: Path) -> Iterator[LocalDeployer]:
    with mock_aws():
        deployer = LocalDeployer(endpoint_url=None)  # type: ignore[arg-type]
        (tmp_path / "template.yaml").write_text(TEMPLATE)
        deployer.deploy(translate(tmp_path / "template.yaml"))
        yield deployer


def _update(deployer: LocalDeployer, path: Path, text: str, **parameters: str) -> Any:
    path.write_text(text)
    return deployer.update(translate(path, parameters), {"Result": "first", **parameters})


def _definition(deployer: LocalDeployer) -> Any:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    arn = deployer.stack.physical_ids["Machine"]
    return json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])


def test_a_definition_changed_by_a_parameter_is_updated_in_place(
    deployer: LocalDeployer, tmp_path: Path
) -> None:
    update = _update(deployer, tmp_path / "new.yaml", TEMPLATE, Result="second")

    assert (update.changes, update.restart) == (["Machine: definition updated"], [])
    assert update.parameter_changes() == ["parameter Result: first -> second"]
    assert _definition(deployer)["States"]["Done"]["Result"] == "first"  # not applied yet
    update.apply()
    assert _definition(deployer)["States"]["Done"]["Result"] == "second"
    assert deployer.stack.parameters["Result"] == "second"
    # and the same again changes nothing
    again = _update(deployer, tmp_path / "new.yaml", TEMPLATE, Result="second")
    assert (again.changes, again.restart, again.parameter_changes()) == ([], [], [])


def test_what_needs_a_restart_is_named_per_resource_and_nothing_is_applied(
    deployer: LocalDeployer, tmp_path: Path
) -> None:
    changed = TEMPLATE.replace("VisibilityTimeout: 30", "VisibilityTimeout: 60").replace(
        "  Topic:\n    Type: AWS::SNS::Topic\n", "  Audit:\n    Type: AWS::SNS::Topic\n"
    )
    update = _update(deployer, tmp_path / "new.yaml", changed, Result="second")

    assert update.restart == [
        "Topic: removed (AWS::SNS::Topic)",
        "Queue: VisibilityTimeout changed (AWS::SQS::Queue)",
        "Audit: added (AWS::SNS::Topic)",
    ]
    assert update.changes == ["Machine: definition updated"]
    with pytest.raises(ValueError, match=r"^an update that needs a restart is not applied$"):
        update.apply()
    assert _definition(deployer)["States"]["Done"]["Result"] == "first"
    assert deployer.stack.parameters["Result"] == "first"
