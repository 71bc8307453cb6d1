"""`photoflow smoke`: check a deployed stack end to end, right after deploying it.

A good photo and a corrupt one go in through the API; both must finish (the good one
COMPLETED with metadata and every derivative downloadable, the corrupt one FAILED with
CorruptImage) and, given the stack's PhotoEvents topic, each must be announced exactly
once on a temporary queue subscribed to the topic for the run. Every check prints one
line, ``PASS <check>`` or ``FAIL <check>: <what was seen>``; the first failure stops the
run. The temporary queue and its subscription are removed however the run ends.
"""

from __future__ import annotations

import contextlib
import json
import math
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import requests
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoRegionError
from rich.console import Console
from rich.text import Text

from photoflow_local.client import ApiError, PhotosClient, StillRunning
from photoflow_local.samples import make_photo, truncated_jpeg

PHOTO_SIZE = (1200, 900)
EXPECTED_ERROR = "CorruptImage"
QUIET_SECONDS = 3.0  # how long to listen for a duplicate once both events arrived
LONGEST_POLL = 20  # SQS's largest WaitTimeSeconds
DOWNLOAD_TIMEOUT = 30.0
MESSAGE_LIMIT = 400  # characters of what was seen on a FAIL line

SUBSCRIBE = "subscribe temporary queue"
UPLOAD = "upload photo"
UPLOAD_CORRUPT = "upload corrupt photo"
FINISHED = "processing finishes"
COMPLETED = "photo completed with metadata"
LISTED = "thumbnails and filters listed"
DOWNLOADED = "derivatives downloadable"
FAILED = f"corrupt photo failed with {EXPECTED_ERROR}"
NOTIFIED = "notifications received"
NO_DUPLICATES = "no duplicate notifications"

# What AWS, the API or an HTTP server can answer with: a FAIL line each, never a traceback.
ERRORS = (ApiError, StillRunning, requests.RequestException, BotoCoreError, ClientError)


class Mismatch(Exception):
    """What a check saw instead of what it expected."""


class Stop(Exception):
    """A check failed and its FAIL line is printed: the run ends here."""


def describe(error: BaseException) -> str:
    if isinstance(error, ApiError):
        body = error.body
        message = body.get("message", body) if isinstance(body, dict) else body
        hint = " (check --token or --iam)" if error.status in (401, 403) else ""
        return f"the API answered HTTP {error.status}: {message}{hint}"
    if isinstance(error, NoRegionError):
        return f"{error} (give --region)"
    return str(error) or type(error).__name__


def one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MESSAGE_LIMIT else flat[: MESSAGE_LIMIT - 3] + "..."


@dataclass(frozen=True)
class SmokeSettings:
    topic_arn: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    timeout: float = 120.0


class Report:
    """Prints a PASS or FAIL line per check and remembers the first failure."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.passed = 0
        self.failed: str | None = None

    @contextlib.contextmanager
    def check(self, name: str) -> Iterator[None]:
        try:
            yield
        except Mismatch as error:
            self.fail(name, str(error))
            raise Stop from error
        except ERRORS as error:
            self.fail(name, describe(error))
            raise Stop from error
        self.passed += 1
        self._line("PASS", "green", name)

    def fail(self, name: str, seen: str) -> None:
        self.failed = self.failed or name
        self._line("FAIL", "red", f"{name}: {one_line(seen)}")

    def guarded(self, name: str, action: Callable[[], None]) -> Callable[[], None]:
        """``action`` that reports its error as a FAIL line instead of raising it (clean-up)."""

        def run() -> None:
            try:
                action()
            except ERRORS as error:
                self.fail(name, describe(error))

        return run

    def summary(self, elapsed: float) -> None:
        if self.failed is None:
            line = f"smoke test passed: {self.passed} checks in {elapsed:.1f} s"
        else:
            line = f"smoke test failed at {self.failed} after {elapsed:.1f} s"
            line += f" ({self.passed} {'check' if self.passed == 1 else 'checks'} passed)"
        self.console.print(Text(line), soft_wrap=True)

    def _line(self, word: str, colour: str, text: str) -> None:
        self.console.print(Text.assemble((word, f"bold {colour}"), " ", text), soft_wrap=True)


class TemporaryQueue:
    """An SQS queue subscribed to the topic with raw delivery, for the run only.

    ``unsubscribe`` and ``delete`` also clean up after a create or subscribe call whose
    answer never came (Ctrl-C, a dropped connection), by the queue's name and ARN.
    """

    CREATE, SUBSCRIBE = "create", "subscribe"

    def __init__(self, sqs: Any, sns: Any, topic_arn: str) -> None:
        self.sqs = sqs
        self.sns = sns
        self.topic_arn = topic_arn
        self.name = f"photoflow-smoke-{secrets.token_hex(6)}"
        self.url: str | None = None
        self.arn: str | None = None
        self.subscription_arn: str | None = None
        self._attempted: set[str] = set()

    @contextlib.contextmanager
    def _attempt(self, action: str) -> Iterator[None]:
        """Count ``action`` as possibly done unless AWS refused it or never got the request."""
        self._attempted.add(action)
        try:
            yield
        except (ClientError, EndpointConnectionError):
            self._attempted.discard(action)
            raise

    def create(self) -> None:
        with self._attempt(self.CREATE):
            self.url = self.sqs.create_queue(QueueName=self.name)["QueueUrl"]
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])
        self.arn = attributes["Attributes"]["QueueArn"]
        self.sqs.set_queue_attributes(
            QueueUrl=self.url, Attributes={"Policy": json.dumps(self._policy(self.arn))}
        )
        with self._attempt(self.SUBSCRIBE):
            self.subscription_arn = self.sns.subscribe(
                TopicArn=self.topic_arn,
                Protocol="sqs",
                Endpoint=self.arn,
                Attributes={"RawMessageDelivery": "true"},
                ReturnSubscriptionArn=True,
            )["SubscriptionArn"]

    def _policy(self, queue_arn: str) -> dict[str, Any]:
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowPhotoEventsTopic",
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": self.topic_arn}},
                }
            ],
        }

    def receive(self, wait_seconds: int) -> list[Any]:
        """Message bodies (JSON decoded when they are JSON), deleted once received."""
        answer = self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
        )
        bodies = []
        for message in answer.get("Messages", []):
            self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
            try:
                bodies.append(json.loads(message["Body"]))
            except ValueError:
                bodies.append(message["Body"])
        return bodies

    def unsubscribe(self) -> None:
        arns = [self.subscription_arn] if self.subscription_arn else self._subscriptions()
        for arn in arns:
            self.sns.unsubscribe(SubscriptionArn=arn)

    def _subscriptions(self) -> list[str]:
        if self.SUBSCRIBE not in self._attempted:
            return []
        pages = self.sns.get_paginator("list_subscriptions_by_topic").paginate(
            TopicArn=self.topic_arn
        )
        return [
            s["SubscriptionArn"]
            for page in pages
            for s in page["Subscriptions"]
            if s.get("Endpoint") == self.arn and s["SubscriptionArn"].startswith("arn:")
        ]

    def delete(self) -> None:
        url = self.url
        if url is None and self.CREATE in self._attempted:
            try:
                url = self.sqs.get_queue_url(QueueName=self.name)["QueueUrl"]
            except self.sqs.exceptions.QueueDoesNotExist:
                return
        if url is not None:
            self.sqs.delete_queue(QueueUrl=url)


def wait_seconds(deadline: float) -> int:
    """A long poll's wait that ends by ``deadline`` (give or take a second)."""
    return max(0, min(LONGEST_POLL, math.ceil(deadline - time.monotonic())))


class Smoke:
    def __init__(self, client: PhotosClient, settings: SmokeSettings, console: Console) -> None:
        self.client = client
        self.settings = settings
        self.report = Report(console)
        self.downloads = requests.Session()  # no API credentials on presigned URLs

    def run(self) -> int:
        """Every check in order; 0 when all passed, 1 otherwise."""
        started = time.monotonic()
        with contextlib.suppress(Stop), contextlib.ExitStack() as cleanup:
            topic = self.settings.topic_arn
            queue = self._subscribe(cleanup, topic) if topic else None
            good, bad = self._process()
            if queue is not None:
                self._notifications(queue, good, bad)
        self.report.summary(time.monotonic() - started)
        return 0 if self.report.failed is None else 1

    # ------------------------------------------------------------ the checks
    def _subscribe(self, cleanup: contextlib.ExitStack, topic_arn: str) -> TemporaryQueue:
        with self.report.check(SUBSCRIBE):
            session = boto3.session.Session(region_name=self.settings.region)
            sqs = session.client("sqs", endpoint_url=self.settings.endpoint_url)
            sns = session.client("sns", endpoint_url=self.settings.endpoint_url)
            queue = TemporaryQueue(sqs, sns, topic_arn)
            # Registered before anything exists, so that an interrupted create is cleaned up too.
            cleanup.callback(self.report.guarded("remove temporary queue", queue.delete))
            cleanup.callback(self.report.guarded("remove subscription", queue.unsubscribe))
            queue.create()
        return queue

    def _process(self) -> tuple[str, str]:
        """Upload both photos, wait for both, check what each became; their ids."""
        with self.report.check(UPLOAD):
            good = self._upload(make_photo(*PHOTO_SIZE), "smoke.jpg")
        with self.report.check(UPLOAD_CORRUPT):
            bad = self._upload(truncated_jpeg(), "smoke-corrupt.jpg")
        with self.report.check(FINISHED):
            deadline = time.monotonic() + self.settings.timeout
            records = {
                photo_id: self.client.wait(photo_id, max(deadline - time.monotonic(), 0.1))
                for photo_id in (good, bad)
            }
        with self.report.check(COMPLETED):
            check_completed(records[good])
        with self.report.check(LISTED):
            renditions = listed_derivatives(records[good])
        with self.report.check(DOWNLOADED):
            for rendition in renditions:
                self._download(rendition)
        with self.report.check(FAILED):
            check_failed(records[bad])
        return good, bad

    def _upload(self, data: bytes, filename: str) -> str:
        accepted = self.client.upload_bytes(data, filename, "image/jpeg")
        status = self.client.last_status
        photo_id = accepted.get("photoId") if isinstance(accepted, dict) else None
        if status != 202 or not isinstance(photo_id, str) or not photo_id:
            raise Mismatch(f"HTTP {status} {accepted} (expected 202 with a photoId)")
        return photo_id

    def _download(self, rendition: dict[str, Any]) -> None:
        response = self.downloads.get(rendition["url"], timeout=DOWNLOAD_TIMEOUT)
        content_type = response.headers.get("Content-Type", "")
        if response.status_code != 200 or not content_type.startswith("image/"):
            raise Mismatch(
                f"{rendition.get('key')}: HTTP {response.status_code}, Content-Type"
                f" {content_type!r}: {response.text[:200]}"
            )
        if not response.content:
            raise Mismatch(f"{rendition.get('key')}: an empty body")

    def _notifications(self, queue: TemporaryQueue, good: str, bad: str) -> None:
        expected = {good: "PhotoProcessed", bad: "PhotoFailed"}
        with self.report.check(NOTIFIED):
            collect_events(queue, expected, self.settings.timeout)
        with self.report.check(NO_DUPLICATES):
            quiet_until = time.monotonic() + QUIET_SECONDS
            while time.monotonic() < quiet_until:
                for body in queue.receive(max(1, wait_seconds(quiet_until))):
                    photo_id = body.get("photoId") if isinstance(body, dict) else None
                    if photo_id in expected:
                        raise Mismatch(f"another {body.get('eventType')} for {photo_id} arrived")


def check_completed(record: dict[str, Any]) -> None:
    if record.get("status") != "COMPLETED":
        raise Mismatch(f"status {record.get('status')}, error {record.get('error')}")
    metadata = record.get("metadata")
    if not isinstance(metadata, dict) or not metadata:
        raise Mismatch(f"no metadata in the record: {metadata!r}")
    size = (metadata.get("width"), metadata.get("height"))
    if size != PHOTO_SIZE:
        raise Mismatch(f"metadata says {size[0]}x{size[1]}, the photo is 1200x900")


def listed_derivatives(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Every thumbnail and filter the record lists, each with its URL."""
    renditions: list[dict[str, Any]] = []
    for kind in ("thumbnails", "filters"):
        listed = record.get(kind)
        if not isinstance(listed, list) or not listed:
            raise Mismatch(f"no {kind} in the record: {listed!r}")
        renditions.extend(listed)
    without_url = [r.get("key") or r.get("name") for r in renditions if not r.get("url")]
    if without_url:
        raise Mismatch(f"no URL for {', '.join(map(str, without_url))}")
    return renditions


def check_failed(record: dict[str, Any]) -> None:
    error = record.get("error") or {}
    if record.get("status") != "FAILED" or error.get("name") != EXPECTED_ERROR:
        raise Mismatch(f"status {record.get('status')}, error {error}")


def check_event(body: dict[str, Any], expected_type: str) -> None:
    """One event's fields as events/notification.schema.json has them."""
    status = "COMPLETED" if expected_type == "PhotoProcessed" else "FAILED"
    seen = (body.get("eventType"), body.get("status"))
    if seen != (expected_type, status):
        raise Mismatch(f"{body.get('photoId')}: {seen[0]} {seen[1]} (expected {expected_type})")
    error = body.get("error") or {}
    if expected_type == "PhotoFailed" and error.get("name") != EXPECTED_ERROR:
        raise Mismatch(f"{body.get('photoId')}: error {error} (expected {EXPECTED_ERROR})")


def collect_events(queue: TemporaryQueue, expected: dict[str, str], timeout: float) -> None:
    """Receive until each photo in ``expected`` (id: eventType) was announced, exactly once."""
    deadline = time.monotonic() + timeout
    seen: Counter[str] = Counter()
    others = 0
    while any(seen[photo_id] == 0 for photo_id in expected):
        if time.monotonic() >= deadline:
            counts = ", ".join(f"{kind} for {pid}: {seen[pid]}" for pid, kind in expected.items())
            raise Mismatch(f"after {timeout:g} s: {counts} ({others} other messages)")
        for body in queue.receive(wait_seconds(deadline)):
            photo_id = body.get("photoId") if isinstance(body, dict) else None
            if not isinstance(body, dict) or photo_id not in expected:
                others += 1  # someone else's photo on a shared stack, or not an event
                continue
            check_event(body, expected[photo_id])
            seen[photo_id] += 1
            if seen[photo_id] > 1:
                raise Mismatch(f"{seen[photo_id]} {expected[photo_id]} events for {photo_id}")


def run_smoke(client: PhotosClient, settings: SmokeSettings, console: Console) -> int:
    return Smoke(client, settings, console).run()
