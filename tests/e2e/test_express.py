"""The workflow as an EXPRESS state machine, as `photoflow up --parameter-overrides` runs it:
photos processed and announced once in both types; an Express execution behaves as on AWS
(no execution to describe or list, its history in the log group only), its logs replay
identically, and the reconciler's sweep finishes an Express photo without describing it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from photoflow.keys import new_photo_id
from photoflow.photos import iso
from tests.e2e.conftest import photoflow_up
from tests.photos import make_photo
from tests.support import ROOT, QueueWatcher, notifications, photoflow, poll

EXPRESS = "WorkflowType=EXPRESS WorkflowLogLevel=ALL WorkflowLogExecutionData=true"
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
}
NOT_IN_CONTEXT = "Invalid Arn: 'Resource type not valid in this context: express'"
SWEEP = {
    "version": "0",
    "id": "sweep",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-25T12:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/sweep"],
    "detail": {},
}


@pytest.fixture(scope="module")
def express(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """`photoflow up` with the workflow EXPRESS, logging every event with its data."""
    workdir = tmp_path_factory.mktemp("express")
    with photoflow_up(workdir, ROOT / "template.yaml", parameters=EXPRESS) as state:
        yield workdir, state


def _client(state: dict[str, Any], service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=state["endpointUrl"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def _queue(state: dict[str, Any], logical_id: str) -> QueueWatcher:
    sqs = _client(state, "sqs")
    [url] = sqs.list_queues(QueueNamePrefix=f"photoflow-{logical_id}")["QueueUrls"]
    return QueueWatcher(sqs, url)


def _uploaded(workdir: Path, name: str) -> str:
    photo = workdir / name
    photo.write_bytes(make_photo(900, 600))
    uploaded = photoflow(workdir, "upload", "--wait", "--json", str(photo))
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    [result] = json.loads(uploaded.stdout)
    assert result["status"] == "COMPLETED", result
    return str(result["photoId"])


def _record(state: dict[str, Any], photo_id: str) -> dict[str, Any]:
    dynamodb = _client(state, "dynamodb")
    [table] = [t for t in dynamodb.list_tables()["TableNames"] if "PhotosTable" in t]
    item: dict[str, Any] = dynamodb.get_item(TableName=table, Key={"photoId": {"S": photo_id}})[
        "Item"
    ]
    return item


@pytest.mark.parametrize("stack", ["running", "express"])
def test_a_photo_is_processed_and_announced_once_in_either_type(
    stack: str, request: pytest.FixtureRequest
) -> None:
    workdir, state = request.getfixturevalue(stack)

    photo_id = _uploaded(workdir, f"{stack}.jpg")

    arn = _record(state, photo_id)["executionArn"]["S"]
    kind = "express" if stack == "express" else "execution"
    assert arn.startswith(f"arn:aws:states:us-east-1:123456789012:{kind}:PhotoWorkflow:photo-")
    [[message]] = notifications(photo_id, {_queue(state, "CompletedPhotosQueue"): 1})
    assert (message["body"]["eventType"], message["body"]["executionArn"]) == (
        "PhotoProcessed",
        arn,
    )


def test_an_express_execution_is_known_by_its_logs_only_and_they_replay_identically(
    express: tuple[Path, dict[str, Any]],
) -> None:
    workdir, state = express
    photo_id = _uploaded(workdir, "logged.jpg")
    arn = _record(state, photo_id)["executionArn"]["S"]
    sfn = _client(state, "stepfunctions")

    # Step Functions keeps nothing of it, as on AWS
    with pytest.raises(ClientError) as refused:
        sfn.describe_execution(executionArn=arn)
    assert refused.value.response["Error"] == {"Code": "InvalidArn", "Message": NOT_IN_CONTEXT}
    machine = arn.split(":express:")[0] + ":stateMachine:PhotoWorkflow"
    with pytest.raises(ClientError) as refused:
        sfn.list_executions(stateMachineArn=machine)
    assert refused.value.response["Error"]["Code"] == "StateMachineTypeNotSupported"

    # its log events, as `aws logs filter-log-events --output json` prints them
    logs = _client(state, "logs")
    [group] = logs.describe_log_groups(
        logGroupNamePrefix="/aws/vendedlogs/states/photoflow-dev-workflow"
    )["logGroups"]

    def logged() -> dict[str, Any]:
        found = logs.filter_log_events(logGroupName=group["logGroupName"])
        mine = [e for e in found["events"] if json.loads(e["message"])["execution_arn"] == arn]
        return {"events": mine}

    document = poll(
        logged,
        lambda found: any('"ExecutionSucceeded"' in e["message"] for e in found["events"]),
        what=f"the end of {arn} in the log",
    )
    exported = workdir / "express.log.json"
    exported.write_text(json.dumps(document), encoding="utf-8")

    # replay as a history is replayed
    replayed = photoflow(
        workdir, "replay", str(exported), "--template", str(ROOT / "template.yaml")
    )
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "replayed identically" in replayed.stdout

    # or straight from the endpoint's log group, by the execution's ARN
    fetched = photoflow(
        workdir,
        "replay",
        "--execution",
        arn,
        "--endpoint-url",
        state["endpointUrl"],
        "--template",
        str(ROOT / "template.yaml"),
        env=LOCAL_CREDENTIALS,
    )
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    assert "replayed identically" in fetched.stdout


def test_the_sweep_finishes_a_stale_express_photo_without_describing_its_execution(
    express: tuple[Path, dict[str, Any]],
) -> None:
    # Given a photo PROCESSING for half an hour under an Express execution that ended
    # without a word (Express executions send no status-change event)
    _, state = express
    photo_id = new_photo_id()
    machine_arn = "arn:aws:states:us-east-1:123456789012:express:PhotoWorkflow"
    arn = f"{machine_arn}:photo-{photo_id}:{uuid.uuid4()}"
    long_ago = iso(datetime.now(UTC) - timedelta(minutes=30))
    dynamodb = _client(state, "dynamodb")
    [table] = [t for t in dynamodb.list_tables()["TableNames"] if "PhotosTable" in t]
    dynamodb.put_item(
        TableName=table,
        Item={
            "photoId": {"S": photo_id},
            "status": {"S": "PROCESSING"},
            "listPartition": {"S": "photos"},
            "createdAt": {"S": long_ago},
            "startedAt": {"S": long_ago},
            "sourceKey": {"S": f"uploads/{photo_id}/stale.jpg"},
            "executionArn": {"S": arn},
        },
    )
    # (the engine refuses to describe it, as AWS does: a sweep that asked would fail)
    with pytest.raises(ClientError) as refused:
        _client(state, "stepfunctions").describe_execution(executionArn=arn)
    assert refused.value.response["Error"]["Code"] == "InvalidArn"

    # When the reconciler sweeps
    answer = _client(state, "lambda").invoke(
        FunctionName="ReconcileFunction", Payload=json.dumps(SWEEP).encode()
    )

    # Then it timed out, and is announced once
    assert "FunctionError" not in answer, answer["Payload"].read()
    item = _record(state, photo_id)
    assert (item["status"]["S"], item["error"]["S"]) == ("FAILED", "States.Timeout")
    [[message]] = notifications(photo_id, {_queue(state, "FailedPhotosQueue"): 1})
    assert message["body"]["error"]["name"] == "States.Timeout"


def test_the_commands_say_where_an_express_execution_is_to_be_found(
    express: tuple[Path, dict[str, Any]],
) -> None:
    workdir, state = express
    photo_id = _uploaded(workdir, "commands.jpg")
    arn = _record(state, photo_id)["executionArn"]["S"]

    listed = photoflow(workdir, "executions")
    history = photoflow(workdir, "history", arn)
    status = photoflow(workdir, "status", arn)
    redrive = photoflow(workdir, "redrive", photo_id)

    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert (
        "PhotoWorkflow is an EXPRESS state machine: Step Functions keeps nothing" in listed.stdout
    )
    assert history.returncode == 0, history.stdout + history.stderr
    for state_name in ("MarkProcessing", "MakeThumbnails", "ApplyFilters", "NotifyProcessed"):
        assert state_name in history.stdout  # read back from the log group
    assert "execution SUCCEEDED" in history.stdout
    assert status.returncode == 0, status.stdout + status.stderr
    assert json.loads(status.stdout)["photoId"] == photo_id
    assert redrive.returncode == 1, redrive.stdout + redrive.stderr
    assert redrive.stdout.startswith(
        f"not redriven: {arn} is an Express execution, which Step Functions cannot redrive"
    )
