"""Patches 24 (TestState) and 25 (ValidateStateMachineDefinition and AWS's InvalidDefinition
messages), through boto3 against moto in-process. Expected values are AWS's, as recorded
(tests/conformance/cases/test_state, validation) or as the API reference states them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from photoflow_local import patches
from tests.unit.test_patches import (
    ROLE,
    RecordingRuntime,
    _function,
    no_local_stack_in_this_process,
)

__all__ = ["no_local_stack_in_this_process"]

RETRYING_TASK = {
    "Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Parameters": {"FunctionName": "thumbnail", "Payload.$": "$"},
    "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2}],
    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Failed"}],
    "End": True,
}


@pytest.fixture
def runtime() -> Iterator[RecordingRuntime]:
    recording = RecordingRuntime()
    with (
        patches.apply(recording, time_scale=0.001),
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
    ):
        yield recording


@pytest.fixture
def sfn(runtime: RecordingRuntime) -> Any:
    # TestState's endpoint has the host prefix "sync-", which the local endpoint does without.
    return boto3.client(
        "stepfunctions", region_name="us-east-1", config=Config(inject_host_prefix=False)
    )


def _error(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def test_24_a_pass_state_with_its_inspection_data(sfn: Any) -> None:
    answer = sfn.test_state(
        definition=json.dumps(
            {"Type": "Pass", "Result": {"size": 256}, "ResultPath": "$.thumb", "Next": "Record"}
        ),
        input=json.dumps({"photoId": "p1"}),
        inspectionLevel="DEBUG",
    )
    assert (answer["status"], answer["nextState"]) == ("SUCCEEDED", "Record")
    assert json.loads(answer["output"]) == {"photoId": "p1", "thumb": {"size": 256}}
    assert {key: json.loads(value) for key, value in answer["inspectionData"].items()} == {
        "input": {"photoId": "p1"},
        "result": {"size": 256},
        "afterResultSelector": {"size": 256},
        "afterResultPath": {"photoId": "p1", "thumb": {"size": 256}},
    }


def test_24_a_mocked_error_is_retriable_while_the_retrier_has_attempts(sfn: Any) -> None:
    answer = sfn.test_state(
        definition=json.dumps(RETRYING_TASK),
        input="{}",
        inspectionLevel="DEBUG",
        mock={"errorOutput": {"error": "Busy", "cause": "try later"}},
        stateConfiguration={"retrierRetryCount": 2},
    )
    assert (answer["status"], answer["error"], answer["cause"]) == (
        "RETRIABLE",
        "Busy",
        "try later",
    )
    assert answer["inspectionData"]["errorDetails"] == {
        "retryIndex": 0,
        "retryBackoffIntervalSeconds": 4,
    }


def test_24_then_caught_when_the_retries_are_spent(sfn: Any) -> None:
    answer = sfn.test_state(
        definition=json.dumps(RETRYING_TASK),
        input=json.dumps({"photoId": "p1"}),
        inspectionLevel="DEBUG",
        mock={"errorOutput": {"error": "Busy", "cause": "try later"}},
        stateConfiguration={"retrierRetryCount": 3},
    )
    assert (answer["status"], answer["nextState"]) == ("CAUGHT_ERROR", "Failed")
    assert json.loads(answer["output"]) == {
        "photoId": "p1",
        "failure": {"Error": "Busy", "Cause": "try later"},
    }
    assert answer["inspectionData"]["errorDetails"] == {"retryIndex": 0, "catchIndex": 0}


def test_24_a_task_that_is_not_mocked_calls_the_local_lambda(
    sfn: Any, runtime: RecordingRuntime
) -> None:
    _function("thumbnail")
    runtime.script.append((json.dumps({"width": 256}), False))
    answer = sfn.test_state(
        definition=json.dumps({**RETRYING_TASK, "ResultSelector": {"width.$": "$.Payload.width"}}),
        roleArn=ROLE,
        input=json.dumps({"photoId": "p1"}),
    )
    assert answer["status"] == "SUCCEEDED"
    assert json.loads(answer["output"]) == {"width": 256}
    assert runtime.calls == [("thumbnail", {"photoId": "p1"})]


def test_24_a_map_fails_past_its_tolerated_failures(sfn: Any) -> None:
    definition = {
        "Type": "Map",
        "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}},
        "ToleratedFailureCount": 1,
        "End": True,
    }
    answer = sfn.test_state(
        definition=json.dumps(definition),
        input="[1, 2, 3]",
        roleArn=ROLE,
        mock={"result": "[1, 1, 1]"},
        stateConfiguration={"mapIterationFailureCount": 2},
    )
    assert (answer["status"], answer["error"], answer["cause"]) == (
        "FAILED",
        "States.ExceedToleratedFailureThreshold",
        "The specified tolerated failure threshold was exceeded",
    )


def test_24_refusals_answer_aws_messages(sfn: Any) -> None:
    task = json.dumps({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True})
    assert _error(lambda: sfn.test_state(definition=task, input="{}")) == (
        "ValidationException",
        "RoleArn must be specified when testing a Task state",
    )
    parallel = {
        "Type": "Parallel",
        "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}],
        "End": True,
    }
    assert _error(
        lambda: sfn.test_state(definition=json.dumps(parallel), mock={"result": "[1, 2]"})
    ) == (
        "ValidationException",
        "Mocked result must contain the same number of items as number of Parallel branches.",
    )
    start = json.dumps(
        {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution", "End": True}
    )
    assert _error(lambda: sfn.test_state(definition=start, mock={"result": "{}"})) == (
        "ValidationException",
        "Mock result schema validation error: Required field 'ExecutionArn' is missing",
    )
    assert _error(lambda: sfn.test_state(definition=json.dumps({"Type": "Pas"}))) == (
        "InvalidDefinition",
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'Type' should "
        "have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map] at "
        "/States/StateName/Type'",
    )


def test_25_validate_state_machine_definition(sfn: Any) -> None:
    valid = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    assert sfn.validate_state_machine_definition(definition=json.dumps(valid))["result"] == "OK"
    answer = sfn.validate_state_machine_definition(definition=json.dumps({"States": {}}))
    assert (answer["result"], answer["truncated"]) == ("FAIL", False)
    assert answer["diagnostics"] == [
        {
            "severity": "ERROR",
            "code": "SCHEMA_VALIDATION_FAILED",
            "message": "These fields are required: [StartAt]",
            "location": "/",
        }
    ]
    waits = {
        "StartAt": "Send",
        "States": {
            "Send": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "End": True,
            }
        },
    }
    express = sfn.validate_state_machine_definition(definition=json.dumps(waits), type="EXPRESS")
    assert [d["location"] for d in express["diagnostics"]] == ["/States/Send/Resource"]
    assert sfn.validate_state_machine_definition(definition=json.dumps(waits))["result"] == "OK"


def test_25_create_state_machine_refuses_with_aws_message(sfn: Any) -> None:
    definition = {
        "StartAt": "A",
        "States": {"A": {"Type": "Parallel", "Branches": [], "End": True}},
    }
    assert _error(
        lambda: sfn.create_state_machine(name="m", definition=json.dumps(definition), roleArn=ROLE)
    ) == (
        "InvalidDefinition",
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Value cannot be empty at "
        "/States/A/Branches'",
    )
