"""`make soak`: many photos through the local stack with faults injected; nothing may be lost.

Faults: the Lambda steps (and the ingest and reconcile consumers) fail at
random with transient Lambda errors, and the subscribers' consumers fail at
random to process a notification (it is redelivered, and dead-lettered after
the queue's maxReceiveCount). A share of the photos is corrupt on purpose and
must end FAILED. The run reports accepted, completed, failed as expected,
lost, duplicated, notifications missing and upload-to-notification latency.
"""

from __future__ import annotations

import io
import json
import random
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from photoflow_local.client import PhotosClient
from photoflow_local.samples import make_photo, truncated_jpeg
from photoflow_local.stack import LocalStack, StackOptions

TRANSIENT = ("Lambda.ServiceException", "Lambda.TooManyRequestsException")
FAULTY_FUNCTIONS = {
    "MetadataFunction",
    "ThumbnailFunction",
    "FilterFunction",
    "StartWorkflowFunction",
    "ReconcileFunction",
}
SUBSCRIBERS = {
    "CompletedPhotosQueue": "CompletedPhotosDeadLetterQueue",
    "FailedPhotosQueue": "FailedPhotosDeadLetterQueue",
}


@dataclass
class SoakReport:
    accepted: int = 0
    completed: int = 0
    failed_as_expected: int = 0
    failed_unexpectedly: int = 0
    lost: int = 0
    duplicated: int = 0
    notifications_missing: int = 0
    dead_lettered: int = 0
    faults_injected: int = 0
    latencies: list[float] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)  # what went wrong, photo by photo

    @property
    def ok(self) -> bool:
        return not (
            self.lost or self.duplicated or self.notifications_missing or self.failed_unexpectedly
        )

    def percentile(self, p: float) -> float:
        return percentile(self.latencies, p)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation between closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = int(rank), min(int(rank) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class Subscriber(threading.Thread):
    """A consumer of one subscriber queue that fails now and then, and its dead-letter queue."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        dead_letter_url: str,
        failure_rate: float,
        rng: random.Random,
    ) -> None:
        super().__init__(daemon=True)
        self.sqs, self.queue_url, self.dead_letter_url = sqs, queue_url, dead_letter_url
        self.failure_rate, self.rng = failure_rate, rng
        self.received: dict[str, set[str]] = defaultdict(set)  # photo id -> message ids
        self.first_seen: dict[str, float] = {}
        self.dead_lettered: set[str] = set()
        self.faults = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.poll_once()

    def poll_once(self) -> None:
        for url, dead in ((self.queue_url, False), (self.dead_letter_url, True)):
            messages = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=0 if dead else 1,
                VisibilityTimeout=0,
            ).get("Messages", [])
            for message in messages:
                photo_id = json.loads(message["Body"])["photoId"]
                self.first_seen.setdefault(photo_id, time.monotonic())
                if not dead and self.rng.random() < self.failure_rate:
                    self.faults += 1  # this consumer "crashed": SQS redelivers it
                    continue
                self.received[photo_id].add(message["MessageId"])
                if dead:
                    self.dead_lettered.add(photo_id)
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def run_soak(
    template: Path, photos: int, fault_rate: float, corrupt_share: float, timeout: float, seed: int
) -> SoakReport:
    rng = random.Random(seed)
    report = SoakReport()
    fault_lock = threading.Lock()

    def inject(function_name: str) -> str | None:
        with fault_lock:
            if function_name in FAULTY_FUNCTIONS and rng.random() < fault_rate:
                report.faults_injected += 1
                return rng.choice(TRANSIENT)
        return None

    samples = [make_photo(800, 600, seed=s) for s in range(4)]
    corrupt = truncated_jpeg()
    options = StackOptions(time_scale=0.01, retry_after_seconds=0)
    with LocalStack(template, options, log_sink=io.StringIO()) as stack:
        stack.lambdas.fault = inject
        sqs = stack.client("sqs")
        subscribers = {
            name: Subscriber(
                sqs,
                stack.physical_id(name),
                stack.physical_id(dead),
                fault_rate,
                random.Random(seed + i),
            )
            for i, (name, dead) in enumerate(SUBSCRIBERS.items())
        }
        for subscriber in subscribers.values():
            subscriber.start()
        expected: dict[str, str] = {}
        uploaded_at: dict[str, float] = {}

        def upload(index: int) -> None:
            bad = rng.random() < corrupt_share
            data = corrupt if bad else samples[index % len(samples)]
            started = time.monotonic()
            client = PhotosClient(stack.api_url)  # one per thread: sessions are not shared
            photo_id = client.upload_bytes(data, f"soak-{index}.jpg", "image/jpeg")["photoId"]
            expected[photo_id] = "FAILED" if bad else "COMPLETED"
            uploaded_at[photo_id] = started

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(upload, range(photos)))
        report.accepted = len(expected)

        records = _wait_for_outcomes(stack, expected, subscribers, timeout)
        for subscriber in subscribers.values():
            subscriber.stopping.set()
            subscriber.join(timeout=5)
        executions: dict[str, int] = defaultdict(int)
        sfn = stack.client("stepfunctions")
        machine = stack.output("PhotoWorkflowArn")
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine):
            for execution in page["executions"]:
                executions[execution["name"].split("-")[1]] += 1
    _tally(report, expected, records, subscribers, executions, uploaded_at)
    return report


def _wait_for_outcomes(
    stack: LocalStack, expected: dict[str, str], subscribers: dict[str, Subscriber], timeout: float
) -> dict[str, dict[str, Any]]:
    """Every photo's record once all are terminal and notified, or what there is at the timeout."""
    deadline = time.monotonic() + timeout
    records: dict[str, dict[str, Any]] = {}
    dynamodb = stack.client("dynamodb")
    table = stack.output("PhotosTableName")
    while time.monotonic() < deadline:
        pending = [p for p in expected if _status(records.get(p)) not in ("COMPLETED", "FAILED")]
        for photo_id in pending:
            item = dynamodb.get_item(TableName=table, Key={"photoId": {"S": photo_id}}).get("Item")
            if item:
                records[photo_id] = item
        notified: set[str] = set().union(*(s.received for s in subscribers.values()))
        if not pending and notified >= set(expected):
            break
        time.sleep(0.5)  # a bounded poll: the deadline above ends it
    return records


def _status(record: dict[str, Any] | None) -> str | None:
    return record.get("status", {}).get("S") if record else None


def _tally(
    report: SoakReport,
    expected: dict[str, str],
    records: dict[str, dict[str, Any]],
    subscribers: dict[str, Subscriber],
    executions: dict[str, int],
    uploaded_at: dict[str, float],
) -> None:
    for photo_id, want in expected.items():
        status = _status(records.get(photo_id))
        if status not in ("COMPLETED", "FAILED"):
            report.lost += 1
        elif status != want:
            report.failed_unexpectedly += 1
            record = records[photo_id]
            report.unexpected.append(
                f"{photo_id}: {status}, expected {want}: "
                f"{record.get('error', {}).get('S')} {record.get('cause', {}).get('S', '')[:200]}"
            )
        elif status == "COMPLETED":
            report.completed += 1
        else:
            report.failed_as_expected += 1
        queue = "CompletedPhotosQueue" if want == "COMPLETED" else "FailedPhotosQueue"
        deliveries = len(subscribers[queue].received.get(photo_id, ()))
        elsewhere = sum(
            len(s.received.get(photo_id, ())) for n, s in subscribers.items() if n != queue
        )
        if deliveries == 0:
            report.notifications_missing += 1
        if deliveries > 1 or elsewhere or executions[photo_id] > 1:
            report.duplicated += 1
        if photo_id in subscribers[queue].first_seen:
            report.latencies.append(subscribers[queue].first_seen[photo_id] - uploaded_at[photo_id])
    report.dead_lettered = sum(len(s.dead_lettered) for s in subscribers.values())
    report.faults_injected += sum(s.faults for s in subscribers.values())
