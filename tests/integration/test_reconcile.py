"""The reconciler under at-least-once delivery: a redelivered event, a failed announcement."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest

from photoflow import reconcile
from photoflow.keys import new_photo_id
from photoflow.photos import iso
from photoflow.reconcile import EndedExecution, Reconciler
from photoflow_local.client import PhotosClient
from photoflow_local.stack import LocalStack
from tests.integration.test_faults import run_test_case
from tests.photos import make_photo
from tests.support import ROOT, QueueWatcher, notifications, poll


def processing_photo(local_stack: LocalStack, aws: Any) -> tuple[str, str, dict[str, Any]]:
    """A photo whose execution is still PROCESSING it: (photo id, execution ARN, event detail)."""
    photo_id = new_photo_id()
    key = f"uploads/{photo_id}/late.jpg"
    machine = local_stack.output("PhotoWorkflowArn")
    execution_arn = machine.replace(":stateMachine:", ":execution:") + f":photo-{photo_id}"
    aws.dynamodb.put_item(
        TableName=local_stack.output("PhotosTableName"),
        Item={
            "photoId": {"S": photo_id},
            "status": {"S": "PROCESSING"},
            "executionArn": {"S": execution_arn},
            "sourceKey": {"S": key},
        },
    )
    photo = {"id": photo_id, "key": key, "bucket": local_stack.output("PhotosBucketName")}
    detail = {
        "executionArn": execution_arn,
        "stateMachineArn": machine,
        "status": "TIMED_OUT",
        "input": json.dumps({"photo": photo}),
        "error": None,
        "cause": None,
    }
    return photo_id, execution_arn, detail


def sqs_event(detail: dict[str, Any], event_id: str) -> dict[str, Any]:
    """The ExecutionEventsQueue's batch carrying one EventBridge status-change event."""
    body = {
        "version": "0",
        "id": event_id,
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": "123456789012",
        "time": "2026-11-25T12:00:00Z",
        "region": "us-east-1",
        "resources": [detail["executionArn"]],
        "detail": detail,
    }
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "handle",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:events",
                "awsRegion": "us-east-1",
            }
        ]
    }


def test_a_redelivered_event_is_handled_once(
    local_stack: LocalStack, aws: Any, failed_queue: QueueWatcher
) -> None:
    # Given an execution that timed out while its photo was PROCESSING
    photo_id, execution_arn, detail = processing_photo(local_stack, aws)
    event = sqs_event(detail, event_id=str(uuid.uuid4()))

    # When its status-change event is delivered twice
    for _ in range(2):
        payload, errored, _ = local_stack.lambdas.invoke("ReconcileFunction", json.dumps(event))
        assert not errored, payload
        assert json.loads(payload) == {"batchItemFailures": []}

    # Then the photo failed once, and subscribers heard of it once
    item = aws.dynamodb.get_item(
        TableName=local_stack.output("PhotosTableName"), Key={"photoId": {"S": photo_id}}
    )["Item"]
    assert (item["status"]["S"], item["error"]["S"]) == ("FAILED", "States.Timeout")
    [[message]] = notifications(photo_id, {failed_queue: 1})
    assert message["body"]["executionArn"] == execution_arn
    logs = local_stack.lambdas.log_sink.getvalue()  # type: ignore[attr-defined]
    handled = [line for line in logs.splitlines() if photo_id in line and "announced" in line]
    assert len(handled) == 1, handled


class _FailingOnce:
    """An SNS client whose first publish fails, as a throttled or unreachable SNS would."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.failed = False

    def publish(self, **kwargs: Any) -> Any:
        if not self.failed:
            self.failed = True
            raise ConnectionError("SNS unreachable")
        return self.client.publish(**kwargs)


def test_a_failed_announcement_is_made_when_the_event_is_retried(
    local_stack: LocalStack,
    aws: Any,
    failed_queue: QueueWatcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a reconciler whose first announcement fails after the failure was recorded
    sns = _FailingOnce(local_stack.client("sns"))
    monkeypatch.setattr(reconcile.clients, "sns", lambda: sns)
    monkeypatch.setattr(reconcile.clients, "dynamodb", lambda: aws.dynamodb)
    reconciler = Reconciler(
        local_stack.output("PhotosTableName"), local_stack.output("PhotoEventsTopicArn")
    )
    photo_id, execution_arn, detail = processing_photo(local_stack, aws)
    ended = EndedExecution.from_detail(detail)
    with pytest.raises(ConnectionError):
        reconciler.reconcile(ended)
    notifications(photo_id, {failed_queue: 0})

    # When SQS delivers the event again
    outcome = reconciler.reconcile(ended)

    # Then the recorded failure is announced, once, and the record is unchanged
    assert outcome == "recorded and announced"
    [[message]] = notifications(photo_id, {failed_queue: 1})
    assert message["body"]["error"]["name"] == "States.Timeout"
    item = aws.dynamodb.get_item(
        TableName=local_stack.output("PhotosTableName"), Key={"photoId": {"S": photo_id}}
    )["Item"]
    assert (item["status"]["S"], item["executionArn"]["S"]) == ("FAILED", execution_arn)

    # and another execution's event can still not overwrite the terminal record
    other = EndedExecution.from_detail({**detail, "executionArn": execution_arn + "-other"})
    assert reconciler.reconcile(other) == "already terminal"


def test_a_failure_a_sweep_announced_is_not_announced_again_by_its_late_event(
    local_stack: LocalStack,
    aws: Any,
    failed_queue: QueueWatcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an execution that timed out while its status-change event waits in a busy queue,
    # and a sweep that found it first (it asks Step Functions how the execution ended)
    monkeypatch.setattr(reconcile.clients, "sns", lambda: local_stack.client("sns"))
    monkeypatch.setattr(reconcile.clients, "dynamodb", lambda: aws.dynamodb)
    reconciler = Reconciler(
        local_stack.output("PhotosTableName"), local_stack.output("PhotoEventsTopicArn")
    )
    photo_id, _, detail = processing_photo(local_stack, aws)
    assert reconciler.reconcile(EndedExecution.from_detail(detail)) == "recorded and announced"

    # When the event arrives at last, and is even delivered twice
    for event_id in ("late", "late-again"):
        event = sqs_event(detail, event_id=f"{event_id}-{photo_id}")
        payload, errored, _ = local_stack.lambdas.invoke("ReconcileFunction", json.dumps(event))
        assert (errored, json.loads(payload)) == (False, {"batchItemFailures": []})

    # Then subscribers heard of the failure once
    [[message]] = notifications(photo_id, {failed_queue: 1})
    assert message["body"]["error"]["name"] == "States.Timeout"
    assert reconciler.reconcile(EndedExecution.from_detail(detail)) == "already announced"


def test_a_failure_recorded_by_the_workflow_is_announced_when_it_then_timed_out(
    local_stack: LocalStack,
    aws: Any,
    failed_queue: QueueWatcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an execution whose RecordFailure state wrote the photo's failure, and which
    # then timed out in NotifyFailure, before announcing it
    monkeypatch.setattr(reconcile.clients, "sns", lambda: local_stack.client("sns"))
    monkeypatch.setattr(reconcile.clients, "dynamodb", lambda: aws.dynamodb)
    reconciler = Reconciler(
        local_stack.output("PhotosTableName"), local_stack.output("PhotoEventsTopicArn")
    )
    photo_id, execution_arn, detail = processing_photo(local_stack, aws)
    aws.dynamodb.update_item(
        TableName=local_stack.output("PhotosTableName"),
        Key={"photoId": {"S": photo_id}},
        UpdateExpression="SET #status = :failed, #error = :error, cause = :cause",
        ExpressionAttributeNames={"#status": "status", "#error": "error"},
        ExpressionAttributeValues={
            ":failed": {"S": "FAILED"},
            ":error": {"S": "CorruptImage"},
            ":cause": {"S": "the JPEG image data is damaged"},
        },
    )

    # When its status-change event arrives
    outcome = reconciler.reconcile(EndedExecution.from_detail(detail))

    # Then the recorded failure, not the time-out, is announced, and the record stays
    assert outcome == "announced"
    [[message]] = notifications(photo_id, {failed_queue: 1})
    assert message["body"]["error"]["name"] == "CorruptImage"
    assert message["body"]["executionArn"] == execution_arn
    item = aws.dynamodb.get_item(
        TableName=local_stack.output("PhotosTableName"), Key={"photoId": {"S": photo_id}}
    )["Item"]
    assert (item["status"]["S"], item["error"]["S"]) == ("FAILED", "CorruptImage")


SCHEDULED_EVENT = {
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


def sweep(local_stack: LocalStack) -> dict[str, int]:
    payload, errored, _ = local_stack.lambdas.invoke(
        "ReconcileFunction", json.dumps(SCHEDULED_EVENT)
    )
    assert not errored, payload
    outcomes: dict[str, int] = json.loads(payload)
    return outcomes


def test_a_sweep_finishes_a_photo_whose_execution_ended_without_an_event(
    local_stack: LocalStack, aws: Any, failed_queue: QueueWatcher
) -> None:
    # Given an execution whose failure path failed, and whose status-change event was
    # lost on the way (the rule's target taken away meanwhile)
    events = local_stack.client("events")
    rule = local_stack.physical_id("ExecutionEndedRule")
    targets = events.list_targets_by_rule(Rule=rule)["Targets"]
    events.remove_targets(Rule=rule, Ids=[target["Id"] for target in targets])
    try:
        photo_id, execution, _ = run_test_case(local_stack, aws, "RecordFailureFailsPath")
    finally:
        events.put_targets(Rule=rule, Targets=targets)
    assert execution["status"] == "FAILED"
    table = local_stack.output("PhotosTableName")
    item = local_stack.photo_item(photo_id)
    assert item is not None and item["status"]["S"] == "PROCESSING"

    # When a sweep runs while it is recent, then once it has outlived the workflow's timeout
    assert photo_id not in json.dumps(sweep(local_stack))  # outcomes only; nothing done for it
    assert local_stack.photo_item(photo_id)["status"]["S"] == "PROCESSING"  # type: ignore[index]
    long_ago = iso(datetime.now(UTC) - timedelta(minutes=30))
    aws.dynamodb.update_item(
        TableName=table,
        Key={"photoId": {"S": photo_id}},
        UpdateExpression="SET createdAt = :then, startedAt = :then",
        ExpressionAttributeValues={":then": {"S": long_ago}},
    )

    # Then the stack's schedule (every 15 minutes, compressed 100x here) sweeps it: the
    # photo failed with the execution's error, announced once
    item = poll(
        lambda: local_stack.photo_item(photo_id),
        lambda found: found is not None and found["status"]["S"] != "PROCESSING",
        timeout=30,
        what=f"the scheduled sweep to finish {photo_id}",
    )
    assert item is not None
    assert ("photoflow-ReconcileFunctionSweep", "ReconcileFunction") in (
        local_stack.scheduler.fired  # type: ignore[union-attr]
    )
    assert (item["status"]["S"], item["error"]["S"]) == ("FAILED", "CorruptImage")
    assert item["executionArn"]["S"] == execution["executionArn"]
    [[message]] = notifications(photo_id, {failed_queue: 1})
    assert message["body"]["error"]["name"] == "CorruptImage"

    # and a later sweep leaves it alone
    sweep(local_stack)
    notifications(photo_id, {failed_queue: 1})


def test_a_sweep_finishes_an_express_execution_that_outlived_its_five_minutes(
    local_stack: LocalStack, aws: Any, failed_queue: QueueWatcher
) -> None:
    # Given two photos of an EXPRESS workflow (which sends no status-change events and
    # keeps no execution to describe), both uploaded half an hour ago: one started then,
    # one started just now (say, a re-run)
    table = local_stack.output("PhotosTableName")
    machine = local_stack.output("PhotoWorkflowArn").replace(":stateMachine:", ":express:")
    now = datetime.now(UTC)
    long_ago, just_now = iso(now - timedelta(minutes=30)), iso(now)
    photos = {}
    for started in (long_ago, just_now):
        photo_id = new_photo_id()
        photos[started] = photo_id
        aws.dynamodb.put_item(
            TableName=table,
            Item={
                "photoId": {"S": photo_id},
                "status": {"S": "PROCESSING"},
                "listPartition": {"S": "photos"},
                "createdAt": {"S": long_ago},
                "startedAt": {"S": started},
                "sourceKey": {"S": f"uploads/{photo_id}/express.jpg"},
                "executionArn": {"S": f"{machine}:photo-{photo_id}:{uuid.uuid4()}"},
            },
        )

    # When the sweep runs
    sweep(local_stack)

    # Then the one that started long ago timed out, announced once; the other runs on
    item = poll(
        lambda: local_stack.photo_item(photos[long_ago]),
        lambda found: found is not None and found["status"]["S"] == "FAILED",
        timeout=30,
        what="the stale EXPRESS photo to fail",
    )
    assert item is not None and item["error"]["S"] == "States.Timeout"
    [[message]] = notifications(photos[long_ago], {failed_queue: 1})
    assert message["body"]["error"]["name"] == "States.Timeout"
    assert local_stack.photo_item(photos[just_now])["status"]["S"] == "PROCESSING"  # type: ignore[index]
    notifications(photos[just_now], {failed_queue: 0})


def test_a_completed_photo_is_announced_when_its_execution_timed_out_while_notifying(
    local_stack: LocalStack,
    aws: Any,
    completed_queue: QueueWatcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a photo the workflow completed, with its PhotoProcessed
    client = PhotosClient(local_stack.api_url)
    photo_id = client.upload_bytes(make_photo(640, 480), "late.jpg")["photoId"]
    assert client.wait(photo_id)["status"] == "COMPLETED"
    [[original]] = notifications(photo_id, {completed_queue: 1})
    item = local_stack.photo_item(photo_id)
    assert item is not None

    # When its execution is reported timed out (as if NotifyProcessed had been cut short)
    monkeypatch.setattr(reconcile.clients, "sns", lambda: local_stack.client("sns"))
    monkeypatch.setattr(reconcile.clients, "dynamodb", lambda: aws.dynamodb)
    reconciler = Reconciler(
        local_stack.output("PhotosTableName"), local_stack.output("PhotoEventsTopicArn")
    )
    photo = {**original["body"]["source"], "id": photo_id}
    ended = EndedExecution(item["executionArn"]["S"], "TIMED_OUT", None, None, photo)
    assert reconciler.reconcile(ended) == "announced processed"

    # Then subscribers get the same PhotoProcessed again (at least once, never lost),
    # valid against the published schema, and the record stays COMPLETED
    [messages] = notifications(photo_id, {completed_queue: 2})
    again = messages[1]
    schema = json.loads((ROOT / "events" / "notification.schema.json").read_text())
    jsonschema.validate(again["body"], schema)
    for field in ("eventType", "status", "photoId", "source", "executionArn", "metadata"):
        assert again["body"][field] == original["body"][field], field
    assert again["body"]["derivatives"] == original["body"]["derivatives"]
    assert again["attributes"]["format"]["StringValue"] == "JPEG"
    assert local_stack.photo_item(photo_id)["status"]["S"] == "COMPLETED"  # type: ignore[index]
