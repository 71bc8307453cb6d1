"""Helpers shared by the tests: event fixtures, bounded polls, subscriber queues."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
T = TypeVar("T")
PHOTOFLOW = shutil.which("photoflow", path=str(Path(sys.executable).parent))


def photoflow(
    workdir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the photoflow command in ``workdir`` as a user would, with only ``env`` added."""
    assert PHOTOFLOW, "the photoflow entry point is installed with the project"
    return subprocess.run(
        [PHOTOFLOW, *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            "PATH": str(Path(sys.executable).parent),
            "COLUMNS": "200",
            "HOME": str(workdir),
            # sources put first on the path by the test run itself, if any
            **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"},
            **(env or {}),
        },
    )


def load_event(name: str) -> dict[str, Any]:
    """An event fixture from events/ (the same files `sam local invoke -e` takes)."""
    event: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return event


def poll(
    probe: Callable[[], T],
    done: Callable[[T], bool],
    *,
    timeout: float = 30.0,
    what: str = "condition",
) -> T:
    """Call ``probe`` until ``done`` holds, for at most ``timeout`` s; fail with the last value."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    last = probe()
    while not done(last):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {timeout}s; last seen: {last!r}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
        last = probe()
    return last


class QueueWatcher:
    """Everything a subscriber queue received, kept across calls (receiving deletes)."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.messages: list[dict[str, Any]] = []

    def _receive(self) -> list[dict[str, Any]]:
        batch = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        for message in batch:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            self.messages.append(
                {
                    "body": json.loads(message["Body"]),
                    "attributes": message.get("MessageAttributes", {}),
                }
            )
        return self.messages

    def for_photo(self, photo_id: str) -> list[dict[str, Any]]:
        self._receive()
        return [m for m in self.messages if m["body"].get("photoId") == photo_id]

    def everything_for(self, photo_id: str) -> list[dict[str, Any]]:
        """``photo_id``'s messages once the queue is drained (for what was delivered before)."""
        seen = -1
        while len(self.messages) != seen:
            seen = len(self.messages)
            self._receive()
        return [m for m in self.messages if m["body"].get("photoId") == photo_id]

    def fail_consumer(self, photo_id: str, dead_letter: QueueWatcher, timeout: float = 30.0) -> int:
        """Be a consumer that keeps failing on ``photo_id``'s message until SQS dead-letters it.

        Other photos' messages are taken as usual. Returns how often the message was received.
        """
        receives = 0

        def attempt() -> list[dict[str, Any]]:
            nonlocal receives
            batch = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=0,
                VisibilityTimeout=0,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            for message in batch:
                body = json.loads(message["Body"])
                if body.get("photoId") == photo_id:
                    receives += 1  # and never deleted: this consumer keeps failing
                    continue
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
                self.messages.append(
                    {"body": body, "attributes": message.get("MessageAttributes", {})}
                )
            return dead_letter.for_photo(photo_id)

        poll(attempt, bool, timeout=timeout, what=f"{photo_id} dead-lettered from {self.queue_url}")
        return receives

    def wait_for(
        self, photo_id: str, count: int = 1, timeout: float = 15.0
    ) -> list[dict[str, Any]]:
        return poll(
            lambda: self.for_photo(photo_id),
            lambda found: len(found) >= count,
            timeout=timeout,
            what=f"{count} message(s) for {photo_id} on {self.queue_url}",
        )


def photo_record(stack: Any, photo_id: str) -> dict[str, Any] | None:
    """The photo's DynamoDB item as the table holds it (None before it exists)."""
    item: dict[str, Any] | None = stack.photo_item(photo_id)
    return item


def terminal_record(stack: Any, photo_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """The photo's item once it is COMPLETED or FAILED (bounded; fails with the last seen)."""
    item = poll(
        lambda: photo_record(stack, photo_id),
        # .get: a read can land in the middle of the local DynamoDB's update of the item
        lambda i: i is not None and i.get("status", {}).get("S") in ("COMPLETED", "FAILED"),
        timeout=timeout,
        what=f"terminal record of {photo_id}",
    )
    assert item is not None
    return item


def put_upload(stack: Any, data: bytes, name: str) -> str:
    """Put a photo straight into the bucket under a new photo id; returns the id."""
    from photoflow.keys import new_photo_id

    photo_id = new_photo_id()
    stack.client("s3").put_object(
        Bucket=stack.output("PhotosBucketName"), Key=f"uploads/{photo_id}/{name}", Body=data
    )
    return photo_id
