"""RedriveExecution on the running local stack, through the AWS CLI and boto3, as a developer
would use it: fix what made an execution fail, redrive it, read what happened."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from photoflow.keys import new_photo_id
from photoflow_local.client import PhotosClient
from photoflow_local.replay import wait_for_execution
from photoflow_local.stack import LocalStack
from tests.e2e.test_aws_cli import aws
from tests.photos import truncated_jpeg
from tests.support import QueueWatcher, notifications

ROLE = "arn:aws:iam::123456789012:role/redrive-e2e"


def aws_refusal(local_stack: LocalStack, *args: str) -> str:
    """The AWS CLI's error output for a command that must fail."""
    executable = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    assert executable, "the awscli package is a pinned dev dependency"
    result = subprocess.run(
        [executable, "--endpoint-url", local_stack.endpoint_url, "--output", "json", *args],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
        },
        timeout=60,
        check=False,
    )
    assert result.returncode != 0, result.stdout
    return result.stderr


def test_a_failed_execution_is_fixed_and_redriven_with_the_aws_cli(local_stack: LocalStack) -> None:
    # Given a state machine whose second step updates an item that must exist, and a table
    # without it
    suffix = new_photo_id()[:12]
    table = f"redrive-{suffix}"
    dynamodb = local_stack.client("dynamodb")
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "photoId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "photoId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    definition = {
        "StartAt": "Prepare",
        "States": {
            "Prepare": {
                "Type": "Pass",
                "Parameters": {"photoId.$": "$.photoId", "preparedAt.$": "$$.State.EnteredTime"},
                "Next": "Mark",
            },
            "Mark": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:updateItem",
                "Parameters": {
                    "TableName": table,
                    "Key": {"photoId": {"S.$": "$.photoId"}},
                    "UpdateExpression": "SET marked = :yes",
                    "ConditionExpression": "attribute_exists(photoId)",
                    "ExpressionAttributeValues": {":yes": {"BOOL": True}},
                },
                "ResultPath": None,
                "Next": "Done",
            },
            "Done": {
                "Type": "Pass",
                "Parameters": {
                    "photoId.$": "$.photoId",
                    "preparedAt.$": "$.preparedAt",
                    "redriveCount.$": "$$.Execution.RedriveCount",
                },
                "End": True,
            },
        },
    }
    machine = aws(
        local_stack,
        "stepfunctions",
        "create-state-machine",
        "--name",
        f"redrive-{suffix}",
        "--definition",
        json.dumps(definition),
        "--role-arn",
        ROLE,
    )["stateMachineArn"]
    arn = aws(
        local_stack,
        "stepfunctions",
        "start-execution",
        "--state-machine-arn",
        machine,
        "--input",
        json.dumps({"photoId": suffix}),
    )["executionArn"]
    sfn = local_stack.client("stepfunctions")
    failed = wait_for_execution(sfn, arn, 30)
    assert (failed["status"], failed["error"]) == (
        "FAILED",
        "DynamoDB.ConditionalCheckFailedException",
    )
    assert failed["redriveStatus"] == "REDRIVABLE"

    # When the item is put there and the execution is redriven
    dynamodb.put_item(TableName=table, Item={"photoId": {"S": suffix}})
    redriven = aws(local_stack, "stepfunctions", "redrive-execution", "--execution-arn", arn)
    wait_for_execution(sfn, arn, 30)

    # Then the same execution went on from the step that failed, and succeeded
    described = aws(local_stack, "stepfunctions", "describe-execution", "--execution-arn", arn)
    assert (described["status"], described["redriveCount"]) == ("SUCCEEDED", 1)
    assert described["redriveDate"] == redriven["redriveDate"]
    assert (described["redriveStatus"], described["redriveStatusReason"]) == (
        "NOT_REDRIVABLE",
        "Execution is SUCCEEDED and cannot be redriven",
    )
    events = aws(local_stack, "stepfunctions", "get-execution-history", "--execution-arn", arn)[
        "events"
    ]
    types = [e["type"] for e in events]
    assert types[types.index("ExecutionFailed") :] == [
        "ExecutionFailed",
        "ExecutionRedriven",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    prepared = [e for e in events if e.get("stateEnteredEventDetails", {}).get("name") == "Prepare"]
    assert len(prepared) == 1  # a step that had succeeded is not run again
    output = json.loads(described["output"])
    first_output = json.loads(
        next(e for e in events if e["type"] == "PassStateExited")["stateExitedEventDetails"][
            "output"
        ]
    )
    assert output == {
        "photoId": suffix,
        "preparedAt": first_output["preparedAt"],
        "redriveCount": 1,
    }
    marked = dynamodb.get_item(TableName=table, Key={"photoId": {"S": suffix}})["Item"]
    assert marked["marked"] == {"BOOL": True}

    listed = aws(
        local_stack,
        "stepfunctions",
        "list-executions",
        "--state-machine-arn",
        machine,
        "--redrive-filter",
        "REDRIVEN",
    )["executions"]
    assert [(e["executionArn"], e["redriveCount"]) for e in listed] == [(arn, 1)]
    refusal = aws_refusal(local_stack, "stepfunctions", "redrive-execution", "--execution-arn", arn)
    assert "ExecutionNotRedrivable" in refusal
    assert "Execution is SUCCEEDED and cannot be redriven" in refusal


def test_a_redriven_photo_execution_fails_again_without_a_second_notification(
    local_stack: LocalStack, failed_queue: QueueWatcher
) -> None:
    # Given a corrupt photo, whose execution went down the failure path to its Fail state
    client = PhotosClient(local_stack.api_url)
    photo_id = client.upload_bytes(truncated_jpeg(), "broken.jpg")["photoId"]
    assert client.wait(photo_id, timeout=60)["status"] == "FAILED"
    notifications(photo_id, {failed_queue: 1})
    item = local_stack.photo_item(photo_id)
    assert item is not None
    arn = item["executionArn"]["S"]
    sfn = local_stack.client("stepfunctions")
    wait_for_execution(sfn, arn, 30)

    # When it is redriven (boto3)
    sfn.redrive_execution(executionArn=arn)
    ended = wait_for_execution(sfn, arn, 30)

    # Then, as on AWS, it re-entered the Fail state it ended in and failed again: the
    # failure path that recorded and announced the failure did not run again
    assert (ended["status"], ended["error"], ended["redriveCount"]) == ("FAILED", "PhotoFailed", 1)
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    types = [e["type"] for e in events]
    assert types[types.index("ExecutionRedriven") :] == [
        "ExecutionRedriven",
        "FailStateEntered",
        "ExecutionFailed",
    ]
    # Still the one PhotoFailed, counted after a quiet period: a second would be here
    notifications(photo_id, {failed_queue: 1})
    assert client.photo(photo_id)["status"] == "FAILED"
