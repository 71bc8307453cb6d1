"""`photoflow deploy` of changed code and a changed definition, on a stack of one function and
one state machine: the function's next invocation runs the new code in a fresh sandbox, a
running execution ends with the definition it started with, the next one gets the new."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.e2e.conftest import photoflow_up
from tests.support import photoflow, poll

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting:
    Type: String
    Default: hello
Resources:
  GreetFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: GreetFunction
      CodeUri: greet/
      Handler: app.handler
      Runtime: python3.12
      Environment:
        Variables:
          GREETING: !Ref Greeting
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: Machine
      Definition:
        StartAt: Hold
        States:
          Hold: {Type: Wait, SecondsPath: "$.wait", Next: Done}
          Done: {Type: Pass, Result: RESULT, End: true}
Outputs:
  Greeting:
    Value: !Ref Greeting
"""

CODE = """\
import os

def handler(event, context):
    return {"greeting": os.environ["GREETING"], "version": VERSION, "pid": os.getpid()}
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    workdir = tmp_path_factory.mktemp("deploy-code")
    (workdir / "template.yaml").write_text(TEMPLATE.replace("RESULT", "first"))
    (workdir / "greet").mkdir()
    (workdir / "greet" / "app.py").write_text(CODE.replace("VERSION", "1"))
    with photoflow_up(workdir, workdir / "template.yaml") as state:
        yield workdir, state


def _aws(state: dict[str, Any], service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=state["endpointUrl"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def _greet(state: dict[str, Any]) -> dict[str, Any]:
    response = _aws(state, "lambda").invoke(FunctionName="GreetFunction", Payload=b"{}")
    answer: dict[str, Any] = json.loads(response["Payload"].read())
    return answer


def _output(sfn: Any, execution_arn: str) -> Any:
    ended = poll(
        lambda: sfn.describe_execution(executionArn=execution_arn),
        lambda e: e["status"] != "RUNNING",
        timeout=30,
        what=f"the end of {execution_arn}",
    )
    assert ended["status"] == "SUCCEEDED", ended
    return json.loads(ended["output"])


def test_new_code_a_new_definition_and_a_new_value_in_one_deploy(
    stack: tuple[Path, dict[str, Any]],
) -> None:
    workdir, state = stack
    sfn = _aws(state, "stepfunctions")
    [machine] = sfn.list_state_machines()["stateMachines"]
    # Given a warm function, and an execution waiting in its first state
    before = _greet(state)
    assert (before["greeting"], before["version"]) == ("hello", 1)
    running = sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"], input=json.dumps({"wait": 20})
    )["executionArn"]

    # When the code, the definition and a parameter change, and the stack is deployed
    (workdir / "greet" / "app.py").write_text(CODE.replace("VERSION", "2"))
    (workdir / "template.yaml").write_text(TEMPLATE.replace("RESULT", "second"))
    deployed = photoflow(workdir, "deploy", "--parameter-overrides", "Greeting=hi")

    # Then it says what changed
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert deployed.stdout.splitlines() == [
        "parameter Greeting: hello -> hi",
        "GreetFunction: environment GREETING hello -> hi",
        "GreetFunction: code updated",
        "Machine: definition updated",
        "deployed template.yaml",
    ]
    # and the next invocation runs the new code, with the new value, in a fresh sandbox
    after = _greet(state)
    assert (after["greeting"], after["version"]) == ("hi", 2)
    assert after["pid"] != before["pid"]
    configuration = _aws(state, "lambda").get_function_configuration(FunctionName="GreetFunction")
    assert configuration["Environment"]["Variables"] == {"GREETING": "hi"}
    # the execution running meanwhile ends as its definition said when it started
    assert sfn.describe_execution(executionArn=running)["status"] == "RUNNING"
    assert _output(sfn, running) == "first"
    # and a new one as the definition says now
    started = sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"], input=json.dumps({"wait": 0})
    )["executionArn"]
    assert _output(sfn, started) == "second"
    # and the outputs other commands read are the new ones
    saved = json.loads((workdir / ".local-stack" / "stack.json").read_text())
    assert (saved["outputs"]["Greeting"], saved["parameters"]["Greeting"]) == ("hi", "hi")
