"""JSONata and variables on the local engine, driven through the AWS CLI as a developer would."""

from __future__ import annotations

import json
from typing import Any

from photoflow_local.stack import LocalStack
from tests.e2e.test_aws_cli import aws
from tests.support import poll

ROLE = "arn:aws:iam::123456789012:role/local"


def _run(local_stack: LocalStack, name: str, definition: dict[str, Any], given: Any) -> Any:
    machine = aws(
        local_stack,
        "stepfunctions",
        "create-state-machine",
        "--name",
        name,
        "--role-arn",
        ROLE,
        "--definition",
        json.dumps(definition),
    )["stateMachineArn"]
    execution = aws(
        local_stack,
        "stepfunctions",
        "start-execution",
        "--state-machine-arn",
        machine,
        "--input",
        json.dumps(given),
    )["executionArn"]
    describe = ("stepfunctions", "describe-execution", "--execution-arn", execution)
    return poll(
        lambda: aws(local_stack, *describe),
        lambda described: described["status"] != "RUNNING",
        timeout=30,
        what=f"end of {name}",
    )


def test_jsonata_and_variables_drive_a_service_call(local_stack: LocalStack) -> None:
    # Given a queue, and a JSONata state machine that keeps values in variables across states
    queue_url = aws(local_stack, "sqs", "create-queue", "--queue-name", "jsonata-cli")["QueueUrl"]
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Remember",
        "States": {
            "Remember": {
                "Type": "Pass",
                "Assign": {
                    "owner": "{% $uppercase($states.input.owner) %}",
                    "batches": "{% $partition($states.input.sizes, 2) %}",
                },
                "Next": "Send",
            },
            "Send": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage",
                "Arguments": {
                    "QueueUrl": queue_url,
                    "MessageBody": "{% $string({'owner': $owner, 'batches': $batches}) %}",
                },
                "Output": {
                    "owner": "{% $owner %}",
                    "batches": "{% $count($batches) %}",
                    "digest": "{% $hash($owner, 'SHA-256') %}",
                    "sent": "{% $exists($states.result.MessageId) %}",
                },
                "End": True,
            },
        },
    }

    described = _run(local_stack, "JsonataToSqs", definition, {"owner": "ada", "sizes": [1, 2, 3]})

    # Then the execution's output and the message sent were computed by JSONata from variables
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {
        "owner": "ADA",
        "batches": 2,
        "digest": "8a15fea9a8880c224de3366daec293cd232310bebc780884c51ef593544bd7b4",
        "sent": True,
    }
    received = aws(local_stack, "sqs", "receive-message", "--queue-url", queue_url)["Messages"]
    assert [json.loads(message["Body"]) for message in received] == [
        {"owner": "ADA", "batches": [[1, 2], [3]]}
    ]


def test_a_failed_jsonata_expression_is_recorded_as_aws_records_it(
    local_stack: LocalStack,
) -> None:
    # Given a JSONata state whose output reads a variable that was never assigned
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Read",
        "States": {"Read": {"Type": "Pass", "Output": {"value": "{% $unset %}"}, "End": True}},
    }

    described = _run(local_stack, "JsonataUndefined", definition, {})

    # Then the execution failed with AWS's error, and the history says where
    cause = (
        "An error occurred while executing the state 'Read' (entered at the event id #2)."
        " The JSONata expression '$unset' specified for the field 'Output/value'"
        " returned nothing (undefined)."
    )
    assert (described["status"], described["error"]) == ("FAILED", "States.QueryEvaluationError")
    assert described["cause"] == cause
    history = aws(
        local_stack,
        "stepfunctions",
        "get-execution-history",
        "--execution-arn",
        described["executionArn"],
    )["events"]
    assert [event["type"] for event in history] == [
        "ExecutionStarted",
        "PassStateEntered",
        "EvaluationFailed",
        "ExecutionFailed",
    ]
    assert history[2]["evaluationFailedEventDetails"] == {
        "error": "States.QueryEvaluationError",
        "cause": cause,
        "location": "Output/value",
        "state": "Read",
    }
