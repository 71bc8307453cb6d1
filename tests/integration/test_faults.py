"""Faults injected with Step Functions Local's MockConfigFile (statemachine/test/), and real ones.

Every Retry and Catch branch of the ASL, each asserting the execution's path,
the attempts made, the photo's terminal record and the notifications sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest

from photoflow.keys import new_photo_id
from photoflow_local.history import Timeline, build_timeline
from photoflow_local.stack import LocalStack
from tests.integration.test_ownership import ADA, get
from tests.photos import make_photo
from tests.support import (
    EVENTS,
    QueueWatcher,
    load_event,
    notifications,
    poll,
    terminal_record,
)

NOTIFICATION_SCHEMA = json.loads((EVENTS / "notification.schema.json").read_text())


@dataclass(frozen=True)
class Expected:
    status: str  # the photo's record
    error: str | None = None
    attempts: tuple[tuple[str, int], ...] = ()
    execution_error: str | None = None  # None: the execution SUCCEEDED
    caught: bool = False  # the execution went down the failure path (RecordFailure)


def caught(status: str, error: str, attempts: tuple[tuple[str, int], ...]) -> Expected:
    """The photo's own fault: recorded and announced by the failure path."""
    return Expected(status, error, attempts, "PhotoFailed", caught=True)


def stopped(
    status: str, error: str | None, attempts: tuple[tuple[str, int], ...], at: str
) -> Expected:
    """Any other failure past its retries: the execution ends at the state that failed (a
    redrive resumes it there), and the reconciler records and announces the photo."""
    return Expected(status, error, attempts, at)


CASES = {
    "HappyPath": Expected("COMPLETED", attempts=(("ExtractMetadata", 1), ("MakeThumbnails", 1))),
    "MetadataRetryPath": Expected("COMPLETED", attempts=(("ExtractMetadata", 3),)),
    "ThumbnailRetryPath": Expected("COMPLETED", attempts=(("MakeThumbnails", 2),)),
    "TimeoutRetriedPath": Expected("COMPLETED", attempts=(("MakeThumbnails", 2),)),
    "RetriesExhaustedPath": stopped(
        "FAILED", "Lambda.ServiceException", (("ExtractMetadata", 5),), "Lambda.ServiceException"
    ),
    "TimeoutPath": stopped(
        "FAILED", "Sandbox.Timedout", (("MakeThumbnails", 2),), "Sandbox.Timedout"
    ),
    "OutOfMemoryPath": stopped(
        "FAILED", "Runtime.ExitError", (("ApplyFilters", 2),), "Runtime.ExitError"
    ),
    "CatchPath": caught("FAILED", "CorruptImage", (("ExtractMetadata", 1),)),
    "FilterCatchPath": caught("FAILED", "UnsupportedFormat", (("ApplyFilters", 1),)),
    "RecordResultFailsPath": stopped(
        "FAILED",
        "DynamoDB.ProvisionedThroughputExceededException",
        (("RecordResult", 4),),
        "DynamoDB.ProvisionedThroughputExceededException",
    ),
    # The record is COMPLETED already: it stays so, and the reconciler announces it.
    "NotifyProcessedFailsPath": stopped(
        "COMPLETED", None, (("NotifyProcessed", 4),), "SNS.InternalErrorException"
    ),
    "RecordFailureFailsPath": Expected(
        "FAILED", "CorruptImage", (("RecordFailure", 7),), "PhotoFailed.RecordNotWritten", True
    ),
    "NotifyFailureFailsPath": Expected(
        "FAILED", "CorruptImage", (("NotifyFailure", 7),), "PhotoFailed.NotificationNotSent", True
    ),
    # A bug in a step, its cause a Python stack trace: not retried, not the photo's fault.
    "StackTracePath": stopped("FAILED", "KeyError", (("MakeThumbnails", 1),), "KeyError"),
    # The photo's fault, worded by a function that put a stack trace in its message.
    "StackTraceCatchPath": caught("FAILED", "CorruptImage", (("ExtractMetadata", 1),)),
}


def run_test_case(
    local_stack: LocalStack, aws: Any, test_case: str
) -> tuple[str, dict[str, Any], Timeline]:
    """StartExecution on <stateMachineArn>#<TestCase>, as with Step Functions Local."""
    event = load_event("step_input.json")
    photo_id = new_photo_id()
    event["photo"].update(id=photo_id, key=f"uploads/{photo_id}/{test_case}.jpg")
    started = aws.sfn.start_execution(
        stateMachineArn=f"{local_stack.output('PhotoWorkflowArn')}#{test_case}",
        name=f"{test_case}-{photo_id}",
        input=json.dumps(event),
    )
    execution = poll(
        lambda: aws.sfn.describe_execution(executionArn=started["executionArn"]),
        lambda e: e["status"] != "RUNNING",
        timeout=30,
        what=f"end of {test_case}",
    )
    events = aws.sfn.get_execution_history(executionArn=started["executionArn"], maxResults=1000)
    return photo_id, execution, build_timeline(events["events"])


@pytest.mark.parametrize("test_case", sorted(CASES))
def test_every_retry_and_catch_branch(
    local_stack: LocalStack,
    aws: Any,
    test_case: str,
    completed_queue: QueueWatcher,
    failed_queue: QueueWatcher,
) -> None:
    expected = CASES[test_case]

    photo_id, execution, timeline = run_test_case(local_stack, aws, test_case)

    # The execution took the expected path with the expected attempts ...
    attempts = {state.name: state.attempts for state in timeline.states}
    for state, count in expected.attempts:
        assert attempts.get(state) == count, (state, attempts)
    if expected.execution_error is None:
        assert execution["status"] == "SUCCEEDED"
        assert timeline.path[-1] == "Processed"
    else:
        assert execution["status"] == "FAILED"
        assert execution.get("error") == expected.execution_error
        assert ("RecordFailure" in timeline.path) == expected.caught, timeline.path

    # ... the photo ended in exactly one terminal state, with the error named ...
    item = terminal_record(local_stack, photo_id)
    assert item["status"]["S"] == expected.status, item
    assert item.get("error", {}).get("S") == expected.error
    if expected.error:
        assert item["message"]["S"]
        assert "cause" not in item  # the full cause stays in the execution's history

    # ... and exactly one notification went to the one subscriber whose filter matches.
    if expected.status == "COMPLETED":
        [message], _ = notifications(photo_id, {completed_queue: 1, failed_queue: 0})
    else:
        [message], _ = notifications(photo_id, {failed_queue: 1, completed_queue: 0})
        assert message["body"]["error"]["name"] in (expected.error, item["error"]["S"])
        jsonschema.validate(message["body"], NOTIFICATION_SCHEMA)
    assert message["body"]["executionArn"] == execution["executionArn"]


def test_a_real_handler_timeout_is_retried_once_then_recorded(
    local_stack: LocalStack, aws: Any, completed_queue: QueueWatcher, failed_queue: QueueWatcher
) -> None:
    # Given a thumbnail function that cannot finish within its timeout
    function = local_stack.lambdas.functions["ThumbnailFunction"]
    saved, function.timeout_seconds = function.timeout_seconds, 0.001
    try:
        photo_id = new_photo_id()
        aws.s3.put_object(
            Bucket=local_stack.output("PhotosBucketName"),
            Key=f"uploads/{photo_id}/slow.jpg",
            Body=make_photo(3000, 2000),
        )
        item = terminal_record(local_stack, photo_id)
    finally:
        function.timeout_seconds = saved
    # Then the photo failed with Lambda's timeout error, after one retry
    assert item["status"]["S"] == "FAILED"
    assert item["error"]["S"] == "Sandbox.Timedout"
    history = aws.sfn.get_execution_history(executionArn=item["executionArn"]["S"], maxResults=1000)
    attempts = {s.name: s.attempts for s in build_timeline(history["events"]).states}
    assert attempts["MakeThumbnails"] == 2
    notifications(photo_id, {failed_queue: 1, completed_queue: 0})


def test_duplicate_events_and_redeliveries_start_one_execution(
    local_stack: LocalStack, aws: Any, completed_queue: QueueWatcher
) -> None:
    # Given a photo in the bucket and its S3 notification sent again, twice (at-least-once delivery)
    photo_id = new_photo_id()
    bucket = local_stack.output("PhotosBucketName")
    key = f"uploads/{photo_id}/twice.jpg"
    put = aws.s3.put_object(Bucket=bucket, Key=key, Body=make_photo(640, 480))
    # The event S3 sent for this version, delivered twice more (the bucket is versioned).
    notification = json.loads(load_event("start_workflow_sqs.json")["Records"][0]["body"])
    notification["Records"][0]["s3"]["bucket"]["name"] = bucket
    notification["Records"][0]["s3"]["object"].update(
        key=key, eTag=put["ETag"].strip('"'), versionId=put["VersionId"], size=1
    )
    ingest = local_stack.physical_id("IngestQueue")
    for _ in range(2):
        aws.sqs.send_message(QueueUrl=ingest, MessageBody=json.dumps(notification))

    # When everything has been consumed
    poll(
        lambda: aws.sqs.get_queue_attributes(QueueUrl=ingest, AttributeNames=["All"])["Attributes"],
        lambda a: (
            a["ApproximateNumberOfMessages"] == a["ApproximateNumberOfMessagesNotVisible"] == "0"
        ),
        what="ingest queue drained",
    )
    item = terminal_record(local_stack, photo_id)

    # Then one execution ran, one record completed and one notification went out
    def statuses() -> list[str]:
        listed = aws.sfn.list_executions(
            stateMachineArn=local_stack.output("PhotoWorkflowArn"), maxResults=1000
        )
        return [e["status"] for e in listed["executions"] if photo_id in e["name"]]

    # the record is COMPLETED a state before the execution ends
    assert poll(statuses, lambda s: "RUNNING" not in s, what="executions ended") == ["SUCCEEDED"]
    assert item["status"]["S"] == "COMPLETED"
    notifications(photo_id, {completed_queue: 1})


def test_a_poison_message_lands_in_the_ingest_dead_letter_queue(
    local_stack: LocalStack, aws: Any
) -> None:
    ingest = local_stack.physical_id("IngestQueue")
    dead_letters = local_stack.output("IngestDeadLetterQueueUrl")
    sent = aws.sqs.send_message(QueueUrl=ingest, MessageBody="this is not an S3 notification")

    def dead_lettered() -> list[dict[str, Any]]:
        messages = aws.sqs.receive_message(
            QueueUrl=dead_letters,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            VisibilityTimeout=0,
        ).get("Messages", [])
        return [m for m in messages if m["MessageId"] == sent["MessageId"]]

    [message] = poll(dead_lettered, bool, timeout=30, what="poison message in the ingest DLQ")
    max_receives = int(local_stack.stack.parameters["IngestMaxReceives"])
    assert int(message["Attributes"]["ApproximateReceiveCount"]) >= max_receives
    assert message["Body"] == "this is not an S3 notification"


def test_a_failing_subscriber_ends_in_its_dead_letter_queue(
    local_stack: LocalStack, aws: Any, completed_queue: QueueWatcher
) -> None:
    photo_id, _, _ = run_test_case(local_stack, aws, "HappyPath")
    terminal_record(local_stack, photo_id)
    dead_letter = QueueWatcher(aws.sqs, local_stack.physical_id("CompletedPhotosDeadLetterQueue"))

    receives = completed_queue.fail_consumer(photo_id, dead_letter)

    [[message]] = notifications(photo_id, {dead_letter: 1})
    assert message["body"]["eventType"] == "PhotoProcessed"
    assert receives == 5  # the queue's maxReceiveCount


@pytest.mark.parametrize(
    ("test_case", "error", "message"),
    [
        (
            "StackTracePath",
            "KeyError",
            "Processing failed because of a problem on our side, not with the photo."
            " Try again later.",
        ),
        ("StackTraceCatchPath", "CorruptImage", "The photo could not be processed."),
    ],
)
def test_a_stack_trace_reaches_neither_subscribers_nor_the_api(
    local_stack: LocalStack,
    aws: Any,
    failed_queue: QueueWatcher,
    test_case: str,
    error: str,
    message: str,
) -> None:
    # Given a step that failed with a Python stack trace (file paths and all) as its cause
    photo_id, execution, _ = run_test_case(local_stack, aws, test_case)
    # (kept for operators in the execution's history)
    history = aws.sfn.get_execution_history(executionArn=execution["executionArn"])
    assert "/var/task/app.py" in json.dumps(history["events"], default=str)

    # When the photo has failed and been announced
    terminal_record(local_stack, photo_id)
    [[notified]] = notifications(photo_id, {failed_queue: 1})
    # (read by its owner: the test case started the execution without an upload's claim)
    aws.dynamodb.update_item(
        TableName=local_stack.output("PhotosTableName"),
        Key={"photoId": {"S": photo_id}},
        UpdateExpression="SET #owner = :owner",
        ExpressionAttributeNames={"#owner": "owner"},
        ExpressionAttributeValues={":owner": {"S": ADA}},
    )
    status, shown = get(local_stack, photo_id, ADA)
    assert status == 200, shown

    # Then subscribers and the API get the error's name and a sentence for people, and
    # neither the trace nor a path from it
    assert notified["body"]["error"] == {"name": error, "message": message}
    jsonschema.validate(notified["body"], NOTIFICATION_SCHEMA)
    assert (shown["status"], shown["error"]) == ("FAILED", {"name": error, "message": message})
    for received in (json.dumps(notified["body"]), json.dumps(shown)):
        for trace in ("Traceback", "/var/task", "/opt/python", "/tmp/", "stackTrace", "line 24"):
            assert trace not in received, (trace, received)
