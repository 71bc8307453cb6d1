"""Crashes, as `make soak --crash` causes them: a function sandbox killed (SIGKILL) in the
middle of an invocation, and the ingest poller dying with a batch in hand."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from photoflow_local.history import build_timeline
from photoflow_local.poller import SqsPoller
from photoflow_local.stack import LocalStack
from tests.photos import make_photo
from tests.support import QueueWatcher, notifications, poll, put_upload, terminal_record


def test_a_step_killed_mid_invocation_is_retried_and_logged(
    local_stack: LocalStack, aws: Any, completed_queue: QueueWatcher
) -> None:
    # Given a killer that SIGKILLs the first thumbnail sandbox it finds at work
    killed: list[str] = []

    def kill_one() -> None:
        def at_work() -> list[Any]:
            return [
                s
                for s in local_stack.lambdas.busy_sandboxes()
                if s.function_name == "ThumbnailFunction"
            ]

        [sandbox, *_] = poll(at_work, bool, timeout=60, what="a thumbnail sandbox at work")
        sandbox.process.kill()
        killed.append(sandbox.function_name)

    killer = threading.Thread(target=kill_one, daemon=True)
    killer.start()

    # When a large photo goes through
    photo_id = put_upload(local_stack, make_photo(3000, 2000, seed=50), "killed.jpg")
    killer.join(timeout=60)

    # Then the killed attempt is Lambda's Runtime.ExitError, retried, and the photo completes
    assert killed == ["ThumbnailFunction"]
    item = terminal_record(local_stack, photo_id)
    assert item["status"]["S"] == "COMPLETED", item
    events = aws.sfn.get_execution_history(executionArn=item["executionArn"]["S"], maxResults=1000)
    thumbnails = {s.name: s for s in build_timeline(events["events"]).states}["MakeThumbnails"]
    assert thumbnails.attempts == 2
    assert [o.error for o in thumbnails.outcomes if o.failed] == ["Runtime.ExitError"]
    notifications(photo_id, {completed_queue: 1})
    # and the local Lambda service logged the crash with the function and the photo
    logged = [
        json.loads(line)
        for line in local_stack.lambdas.log_sink.getvalue().splitlines()  # type: ignore[attr-defined]
        if '"Runtime.ExitError"' in line and photo_id in line
    ]
    assert [(e["function_name"], e["input_id"]) for e in logged] == [
        ("ThumbnailFunction", photo_id)
    ]


@pytest.fixture
def ingest_visible_again_soon(local_stack: LocalStack, aws: Any) -> Iterator[str]:
    """The ingest queue with a short visibility timeout (a dropped batch comes back soon)."""
    url = local_stack.physical_id("IngestQueue")
    saved = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    aws.sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "2"})
    yield url
    aws.sqs.set_queue_attributes(QueueUrl=url, Attributes=saved["Attributes"])


def test_an_ingest_poller_that_dies_holding_a_batch_starts_nothing_twice(
    local_stack: LocalStack,
    aws: Any,
    completed_queue: QueueWatcher,
    ingest_visible_again_soon: str,
) -> None:
    # Given an ingest poller (started once the short timeout is set: a receive takes the
    # queue's timeout when it begins) that dies while its function handles a batch
    [index] = [
        i
        for i, p in enumerate(local_stack.pollers)
        if p.mapping.function_name == "StartWorkflowFunction"
    ]
    before = local_stack.pollers[index]
    before.stop()
    dying = SqsPoller(
        before.mapping,
        local_stack.lambdas,
        aws.sqs,
        region=local_stack.options.region,
        retry_after_seconds=before.retry_after_seconds,
    )
    dying.start()
    local_stack.pollers[index] = dying

    def die_once(function_name: str, event: str) -> str | None:
        if function_name == "StartWorkflowFunction" and not dying._crashed.is_set():
            dying.crash()
        return None

    local_stack.lambdas.fault = die_once
    try:
        photo_id = put_upload(local_stack, make_photo(320, 240, seed=51), "dropped.jpg")
        terminal_record(local_stack, photo_id)
    finally:
        local_stack.lambdas.fault = None
    # (its batch was handled: the workflow started, but the message was never deleted)
    poll(lambda: dying.alive, lambda alive: not alive, what="the poller gone")

    # When a new poller takes over, and the dropped batch comes back
    fresh = SqsPoller(
        dying.mapping,
        local_stack.lambdas,
        aws.sqs,
        region=local_stack.options.region,
        retry_after_seconds=before.retry_after_seconds,
    )
    fresh.start()
    local_stack.pollers[index] = fresh
    poll(
        lambda: aws.sqs.get_queue_attributes(
            QueueUrl=ingest_visible_again_soon, AttributeNames=["All"]
        )["Attributes"],
        lambda a: (
            a["ApproximateNumberOfMessages"] == a["ApproximateNumberOfMessagesNotVisible"] == "0"
        ),
        timeout=60,
        what="the dropped batch handled again and deleted",
    )

    # Then the photo has one execution and one announcement
    listed = aws.sfn.list_executions(
        stateMachineArn=local_stack.output("PhotoWorkflowArn"), maxResults=1000
    )["executions"]
    assert [e["status"] for e in listed if photo_id in e["name"]] == ["SUCCEEDED"]
    notifications(photo_id, {completed_queue: 1})
    assert any(b.received for b in fresh.batches)
