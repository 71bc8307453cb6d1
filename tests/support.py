"""Helpers shared by the tests: event fixtures, bounded polls, subscriber queues."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
T = TypeVar("T")
PHOTOFLOW = shutil.which("photoflow", path=str(Path(sys.executable).parent))


def command_env(workdir: Path, **extra: str) -> dict[str, str]:
    """The environment of a command a test runs as a user would: the virtualenv on PATH, a
    home of its own, and the sources PYTHONPATH names when it names some (a checkout's own)."""
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(workdir)}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return {**env, **extra}


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
        env=command_env(workdir, COLUMNS="200", **(env or {})),
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
        """``photo_id``'s messages so far: count them only through ``notifications``."""
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


# A duplicate (a second execution, a redelivered event, a repeated announcement) comes
# within about the time one photo takes on the local stack: counting waits this long
# after the last new message before it trusts that nothing more is on its way.
QUIET_SECONDS = 2.0


def notifications(
    photo_id: str,
    expected: Mapping[QueueWatcher, int],
    *,
    timeout: float = 30.0,
    quiet: float = QUIET_SECONDS,
) -> list[list[dict[str, Any]]]:
    """Each subscriber queue's messages about ``photo_id``, counted once they have settled.

    Waits (at most ``timeout`` s) until every queue holds its expected count, then keeps
    draining them all until ``quiet`` s pass with nothing new about the photo, and asserts
    that each holds exactly its count: a late duplicate fails "exactly one", a late
    stray message fails "none". Returns the messages, queue by queue, in ``expected``'s order.
    """
    queues = list(expected)
    wanted = [expected[queue] for queue in queues]

    def counts() -> list[int]:
        return [len(queue.for_photo(photo_id)) for queue in queues]

    poll(
        counts,
        lambda found: all(n >= want for n, want in zip(found, wanted, strict=True)),
        timeout=timeout,
        what=f"{wanted} message(s) about {photo_id} on {[q.queue_url for q in queues]}",
    )
    seen, since = counts(), time.monotonic()

    def settled(found: list[int]) -> bool:
        nonlocal seen, since
        if found != seen:
            seen, since = found, time.monotonic()
        too_many = any(n > want for n, want in zip(found, wanted, strict=True))
        return too_many or time.monotonic() - since >= quiet

    poll(counts, settled, timeout=timeout + quiet, what=f"no new message about {photo_id}")
    messages = [queue.for_photo(photo_id) for queue in queues]
    assert [len(found) for found in messages] == wanted, (
        f"expected {wanted} message(s) about {photo_id} once settled, got {messages}"
    )
    return messages


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
