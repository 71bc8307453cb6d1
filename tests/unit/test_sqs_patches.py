"""Dead-letter queue redrive with SQS message move tasks on the local stack (patch 52).

The answers and errors expected are SQS's, as recorded on AWS (LocalStack's Apache-2.0
snapshots, tests/aws/services/sqs/test_sqs_move_task.snapshot.json).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.sqs.models import sqs_backends

from photoflow_local import patches
from tests.support import poll
from tests.unit.test_patches import RecordingRuntime, no_local_stack_in_this_process

__all__ = ["no_local_stack_in_this_process"]  # autouse: no local stack in this process


@pytest.fixture
def sqs() -> Iterator[Any]:
    with patches.apply(RecordingRuntime()), mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def arn_of(sqs: Any, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def dead_lettered(sqs: Any, bodies: list[str], source: str = "source") -> tuple[str, str]:
    """A queue whose messages ``bodies`` were received once too often: its and its
    dead-letter queue's URLs."""
    dlq = sqs.create_queue(QueueName=f"{source}-dlq")["QueueUrl"]
    policy = {"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 1}
    url = sqs.create_queue(QueueName=source, Attributes={"RedrivePolicy": json.dumps(policy)})[
        "QueueUrl"
    ]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    for _ in range(2):  # received once, then moved to the dead-letter queue
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return url, dlq


def ended(sqs: Any, source_arn: str) -> dict[str, Any]:
    result: dict[str, Any] = poll(
        lambda: sqs.list_message_move_tasks(SourceArn=source_arn)["Results"][0],
        lambda task: task["Status"] not in ("RUNNING", "CANCELLING"),
        timeout=10,
        what=f"end of the move task of {source_arn}",
    )
    return result


def bodies_in(sqs: Any, url: str) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return sorted(m["Body"] for m in messages)


def test_dead_lettered_messages_go_back_each_to_its_queue(sqs: Any) -> None:
    # Given two queues that dead-letter to one queue
    first, dlq = dead_lettered(sqs, ["a", "b"])
    policy = {"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 1}
    second = sqs.create_queue(QueueName="second", Attributes={"RedrivePolicy": json.dumps(policy)})[
        "QueueUrl"
    ]
    sqs.send_message(QueueUrl=second, MessageBody="c")
    for _ in range(2):
        sqs.receive_message(QueueUrl=second, MaxNumberOfMessages=10, VisibilityTimeout=0)
    source_arn = arn_of(sqs, dlq)

    # When a move task without a destination runs
    assert sqs.start_message_move_task(SourceArn=source_arn)["TaskHandle"]

    # Then it completes, and each message is back on the queue it came from
    task = ended(sqs, source_arn)
    task.pop("StartedTimestamp")
    assert task == {
        "ApproximateNumberOfMessagesMoved": 3,
        "ApproximateNumberOfMessagesToMove": 3,
        "SourceArn": source_arn,
        "Status": "COMPLETED",
    }
    assert bodies_in(sqs, first) == ["a", "b"]  # received anew: receive counts start over
    assert bodies_in(sqs, second) == ["c"]
    assert bodies_in(sqs, dlq) == []


def test_messages_can_go_to_another_queue(sqs: Any) -> None:
    _, dlq = dead_lettered(sqs, ["c"])
    elsewhere = sqs.create_queue(QueueName="elsewhere")["QueueUrl"]
    sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq), DestinationArn=arn_of(sqs, elsewhere))
    assert ended(sqs, arn_of(sqs, dlq))["DestinationArn"] == arn_of(sqs, elsewhere)
    assert bodies_in(sqs, elsewhere) == ["c"]


def test_one_task_at_a_time_and_a_cancelled_one_stops(sqs: Any) -> None:
    _, dlq = dead_lettered(sqs, ["1", "2", "3"])
    source_arn = arn_of(sqs, dlq)
    handle = sqs.start_message_move_task(SourceArn=source_arn, MaxNumberOfMessagesPerSecond=1)[
        "TaskHandle"
    ]
    running = sqs.list_message_move_tasks(SourceArn=source_arn)["Results"][0]
    assert (running["Status"], running["TaskHandle"], running["MaxNumberOfMessagesPerSecond"]) == (
        "RUNNING",
        handle,
        1,
    )
    with pytest.raises(ClientError) as second:
        sqs.start_message_move_task(SourceArn=source_arn)
    assert second.value.response["Error"] == {
        "Code": "InvalidParameterValue",
        "Message": "There is already a task running. Only one active task is allowed for a"
        " source queue arn at a given time.",
        "QueryErrorCode": "InvalidParameterValue",
        "Type": "Sender",
    }
    sqs.cancel_message_move_task(TaskHandle=handle)
    cancelled = ended(sqs, source_arn)
    assert cancelled["Status"] == "CANCELLED"
    assert cancelled["ApproximateNumberOfMessagesMoved"] < 3
    assert "TaskHandle" not in cancelled


@pytest.mark.parametrize(
    ("call", "code", "message"),
    [
        (
            lambda sqs, queue, _dlq: sqs.start_message_move_task(SourceArn=arn_of(sqs, queue)),
            "InvalidParameterValue",
            "Source queue must be configured as a Dead Letter Queue.",
        ),
        (
            lambda sqs, _queue, dlq: sqs.start_message_move_task(
                SourceArn=arn_of(sqs, dlq), DestinationArn=arn_of(sqs, dlq) + "doesntexist"
            ),
            "ResourceNotFoundException",
            "The resource that you specified for the DestinationArn parameter doesn't exist.",
        ),
        (
            lambda sqs, _queue, _dlq: sqs.cancel_message_move_task(TaskHandle="foobared"),
            "InvalidParameterValue",
            "Value for parameter TaskHandle is invalid.",
        ),
    ],
    ids=["source not a dead-letter queue", "no such destination", "bad task handle"],
)
def test_requests_sqs_refuses_are_refused_with_its_errors(
    sqs: Any, call: Any, code: str, message: str
) -> None:
    queue, dlq = dead_lettered(sqs, [])
    with pytest.raises(ClientError) as refused:
        call(sqs, queue, dlq)
    assert (
        refused.value.response["Error"]["Code"],
        refused.value.response["Error"]["Message"],
    ) == (
        code,
        message,
    )


def test_two_receives_at_once_dead_letter_a_message_once(sqs: Any) -> None:
    # Given a message received once too often, and two receives that both reach it at once
    # if nothing keeps them apart
    url, dlq = dead_lettered(sqs, [])
    sqs.send_message(QueueUrl=url, MessageBody="once")
    sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)
    queue = sqs_backends["123456789012"]["us-east-1"].queues["source"]
    together = threading.Barrier(2)

    class Racing(type(queue)):  # type: ignore[misc]
        @property
        def dead_letter_queue(self) -> Any:
            # kept apart, the first receive waits here alone and the barrier breaks
            with contextlib.suppress(threading.BrokenBarrierError):
                together.wait(timeout=1)
            return self.__dict__["dead_letter_queue"]

    queue.__class__ = Racing
    client = boto3.client(
        "sqs", region_name="us-east-1", config=Config(retries={"max_attempts": 1})
    )

    def receive(_: int) -> str:
        try:
            client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        except ClientError as error:
            return str(error.response["Error"]["Code"])
        except ValueError as error:  # moto's own error, raised in-process
            return type(error).__name__
        return "received"

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = list(pool.map(receive, range(2)))
    finally:
        queue.__class__ = Racing.__bases__[0]
    # Then both receives answer, and the message is in the dead-letter queue once
    assert outcomes == ["received", "received"]
    assert bodies_in(sqs, dlq) == ["once"]
    assert bodies_in(sqs, url) == []
