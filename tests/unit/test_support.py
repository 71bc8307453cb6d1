"""The test helpers that decide a test's verdict: counting notifications after a quiet period."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.support import QueueWatcher, notifications

PHOTO_ID = "0123456789abcdef0123456789abcdef"
QUIET = 1.0


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def queue(sqs: Any, name: str) -> QueueWatcher:
    return QueueWatcher(sqs, sqs.create_queue(QueueName=name)["QueueUrl"])


def announce(watcher: QueueWatcher, photo_id: str, event_type: str) -> None:
    body = json.dumps({"photoId": photo_id, "eventType": event_type})
    watcher.sqs.send_message(QueueUrl=watcher.queue_url, MessageBody=body)


def later(seconds: float, action: Any) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def test_exactly_one_is_returned_once_nothing_more_comes(sqs: Any) -> None:
    completed, failed = queue(sqs, "completed"), queue(sqs, "failed")
    announce(completed, PHOTO_ID, "PhotoProcessed")
    announce(completed, "f" * 32, "PhotoProcessed")  # another photo's: not counted

    [message], nothing = notifications(PHOTO_ID, {completed: 1, failed: 0}, quiet=QUIET)

    assert message["body"] == {"photoId": PHOTO_ID, "eventType": "PhotoProcessed"}
    assert nothing == []


def test_a_duplicate_arriving_after_the_first_fails_exactly_one(sqs: Any) -> None:
    completed = queue(sqs, "completed")
    announce(completed, PHOTO_ID, "PhotoProcessed")
    # a duplicate half a second later: after the first was seen, within the quiet period
    timer = later(0.5, lambda: announce(completed, PHOTO_ID, "PhotoProcessed"))

    with pytest.raises(AssertionError, match=r"expected \[1\] message\(s\) about .* got"):
        notifications(PHOTO_ID, {completed: 1}, quiet=QUIET)
    timer.join()


def test_a_late_message_fails_none(sqs: Any) -> None:
    completed, failed = queue(sqs, "completed"), queue(sqs, "failed")
    announce(completed, PHOTO_ID, "PhotoProcessed")
    timer = later(0.5, lambda: announce(failed, PHOTO_ID, "PhotoFailed"))

    with pytest.raises(AssertionError, match=r"expected \[1, 0\] message\(s\)"):
        notifications(PHOTO_ID, {completed: 1, failed: 0}, quiet=QUIET)
    timer.join()


def test_waiting_for_a_message_that_never_comes_is_bounded(sqs: Any) -> None:
    completed = queue(sqs, "completed")

    with pytest.raises(AssertionError, match=r"not reached in 0.5s; last seen: \[0\]"):
        notifications(PHOTO_ID, {completed: 1}, timeout=0.5, quiet=QUIET)


def test_each_queue_keeps_what_it_received_across_calls(sqs: Any) -> None:
    completed = queue(sqs, "completed")
    announce(completed, PHOTO_ID, "PhotoProcessed")
    notifications(PHOTO_ID, {completed: 1}, quiet=0.1)
    announce(completed, PHOTO_ID, "PhotoProcessed")  # announced again, say by the reconciler

    [messages] = notifications(PHOTO_ID, {completed: 2}, quiet=0.1)

    assert [m["body"]["eventType"] for m in messages] == ["PhotoProcessed", "PhotoProcessed"]
