"""The whole workflow on the local stack: throughput, latency and what the stack adds.

Photos go in through the local API, as a client would send them, and count as
done when their PhotoProcessed notification arrives on the CompletedPhotosQueue.
Everything here runs in one process, and the local Lambda service redirects
standard output to its log while a function runs: nothing is printed until the
stack has stopped.
"""

from __future__ import annotations

import io
import json
import statistics
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.cost import dynamodb_item_bytes, state_transitions
from bench.settings import TEMPLATE
from photoflow.photos import PhotoRepository
from photoflow_local import reprocessing
from photoflow_local.client import PhotosClient
from photoflow_local.shape import Stage, WorkflowShape, load_shape
from photoflow_local.stack import LocalStack, StackOptions

WARM_UP_PHOTOS = 2  # cold starts (each function's first import) are left out
LONE_PHOTOS = 10  # sent one at a time: latency without queueing
LONE_TIMEOUT_S = 30.0
BATCH_TIMEOUT_S = 240.0


@dataclass
class StackResult:
    photo_count: int  # the batch
    photo_bytes: float  # mean size of an uploaded photo
    wall_s: float  # first upload of the batch to its last notification
    latencies_s: list[float]  # upload to notification, batch photos
    lone_latencies_s: list[float]
    lone_runs_ms: dict[str, list[float]]  # function -> run times, photos sent one at a time
    lone_execution_ms: list[float]  # execution durations of the lone photos
    batch_runs_ms: dict[str, list[float]]  # function -> run times during the batch
    transitions: list[int]  # per execution: states entered (what Standard bills)
    service_tasks: Counter[str]  # per execution: task states by service ("lambda", ...)
    history_bytes: list[int]  # per execution: its history events as JSON
    objects_per_photo: dict[str, float]  # top-level S3 prefix -> objects written per photo
    item_bytes: int  # a completed photo's DynamoDB item
    idempotency_records_per_photo: float  # "done once" records (ingest, reconciler)
    log_bytes_per_photo: float
    ingest_batch_sizes: list[int]
    failures: list[str] = field(default_factory=list)
    reprocessed: int = 0  # photos the ReprocessWorkflow made again, every one stored
    reprocess_wall_s: float = 0.0  # its run, start to end

    @property
    def reprocess_items_per_s(self) -> float | None:
        return self.reprocessed / self.reprocess_wall_s if self.reprocess_wall_s else None

    def run_ms_per_photo(self, functions: Sequence[str]) -> float:
        total = sum(sum(self.batch_runs_ms.get(name, [])) for name in functions)
        return total / self.photo_count

    def critical_path_ms(self, stages: Sequence[Stage]) -> float:
        """The workflow's stages in turn, each as long as its slowest branch (a Parallel's
        branches run side by side), photos sent one at a time, as their sandboxes timed
        the steps."""
        return sum(
            max(
                (sum(statistics.median(self.lone_runs_ms.get(n, [0.0])) for n in b) for b in stage),
                default=0.0,
            )
            for stage in stages
        )

    def invocations_per_photo(self, function: str) -> float:
        return len(self.batch_runs_ms.get(function, [])) / self.photo_count


def subscriber_queues(shape: WorkflowShape) -> dict[str, str]:
    """Each SQS subscriber's queue, and the events it takes (from its filter policy)."""
    return {queue: ",".join(events) for queue, events in shape.subscriber_queues.items()}


class _Notifications:
    """Arrival times of photo notifications on the subscriber queues, from background threads."""

    def __init__(self, stack: LocalStack, shape: WorkflowShape) -> None:
        self.arrived: dict[str, tuple[float, str]] = {}  # photo id -> (monotonic time, event)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(
                target=self._watch,
                args=(stack.client("sqs"), stack.physical_id(logical_id), event),
                daemon=True,
            )
            for logical_id, event in subscriber_queues(shape).items()
        ]

    def __enter__(self) -> _Notifications:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _watch(self, sqs: Any, queue_url: str, event: str) -> None:
        while not self._stop.is_set():
            messages = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", [])
            now = time.monotonic()
            for message in messages:
                self.arrived.setdefault(json.loads(message["Body"])["photoId"], (now, event))
            if messages:
                sqs.delete_message_batch(
                    QueueUrl=queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(messages)
                    ],
                )

    def wait(self, photo_ids: Sequence[str], timeout: float) -> list[str]:
        """Wait until every photo was announced, at most ``timeout`` s; the ids still missing."""
        deadline = time.monotonic() + timeout
        missing = [photo_id for photo_id in photo_ids if photo_id not in self.arrived]
        while missing and time.monotonic() < deadline:
            time.sleep(0.02)
            missing = [photo_id for photo_id in missing if photo_id not in self.arrived]
        return missing


def run_batch(photos: Sequence[bytes], count: int) -> StackResult:
    """Warm up, send LONE_PHOTOS one at a time, then ``count`` photos as fast as the API takes."""
    sink = io.StringIO()
    with (
        LocalStack(TEMPLATE, StackOptions(), log_sink=sink) as stack,
        _Notifications(stack, load_shape(TEMPLATE)) as notifications,
    ):
        client = PhotosClient(stack.api_url)
        lambdas = stack.lambdas
        failures: list[str] = []

        def upload(index: int, label: str) -> tuple[str, float]:
            started = time.monotonic()
            data = photos[index % len(photos)]
            accepted = client.upload_bytes(data, f"{label}-{index:03d}.jpg", "image/jpeg")
            return accepted["photoId"], started

        for index in range(WARM_UP_PHOTOS):
            photo_id, _ = upload(index, "warm-up")
            failures += notifications.wait([photo_id], LONE_TIMEOUT_S)

        lone_latencies, lone_ids = [], []
        first_lone = len(lambdas.invocations)
        for index in range(LONE_PHOTOS):
            photo_id, started = upload(index, "lone")
            missing = notifications.wait([photo_id], LONE_TIMEOUT_S)
            failures += missing
            if not missing:
                lone_latencies.append(notifications.arrived[photo_id][0] - started)
            lone_ids.append(photo_id)
        lone_runs = _runs_by_function(lambdas.invocations[first_lone:])

        # On the happy path only the ingest queue's poller delivers batches.
        first_batch = len(lambdas.invocations)
        first_polled = {id(poller): len(poller.batches) for poller in stack.pollers}
        log_start = len(sink.getvalue())
        uploads = [upload(index, "batch") for index in range(count)]
        failures += notifications.wait([photo_id for photo_id, _ in uploads], BATCH_TIMEOUT_S)
        log_bytes = len(sink.getvalue().encode()) - log_start
        batch_runs = _runs_by_function(lambdas.invocations[first_batch:])
        ingest_sizes = [
            batch.received
            for poller in stack.pollers
            for batch in poller.batches[first_polled[id(poller)] :]
        ]

        announced = [(pid, at) for pid, at in uploads if pid in notifications.arrived]
        failures += [
            f"{pid}: {notifications.arrived[pid][1]}"
            for pid, _ in announced
            if notifications.arrived[pid][1] != "PhotoProcessed"
        ]
        latencies = [notifications.arrived[pid][0] - at for pid, at in announced]
        wall = max((notifications.arrived[pid][0] for pid, _ in announced), default=0.0) - (
            uploads[0][1] if uploads else 0.0
        )
        histories = _histories(stack)
        lone_arns = {_execution_arn(stack, photo_id) for photo_id in lone_ids}
        objects = _objects_per_photo(stack, WARM_UP_PHOTOS + LONE_PHOTOS + count)
        idempotency_records = _item_count(stack, "IdempotencyTable")
        item = stack.client("dynamodb").get_item(
            TableName=stack.output("PhotosTableName"), Key={"photoId": {"S": uploads[-1][0]}}
        )["Item"]
        reprocessed, reprocess_wall, reprocess_failures = _reprocess_all(stack)
        failures += reprocess_failures

    return StackResult(
        photo_count=count,
        photo_bytes=sum(map(len, photos)) / len(photos),
        wall_s=wall,
        latencies_s=latencies,
        lone_latencies_s=lone_latencies,
        lone_runs_ms=lone_runs,
        lone_execution_ms=[
            _duration_ms(events) for arn, events in histories.items() if arn in lone_arns
        ],
        batch_runs_ms=batch_runs,
        transitions=[state_transitions(events) for events in histories.values()],
        service_tasks=_service_tasks(next(iter(histories.values()), [])),
        history_bytes=[len(json.dumps(events, default=str)) for events in histories.values()],
        objects_per_photo=objects,
        item_bytes=dynamodb_item_bytes(item),
        idempotency_records_per_photo=idempotency_records / (WARM_UP_PHOTOS + LONE_PHOTOS + count),
        log_bytes_per_photo=log_bytes / count,
        ingest_batch_sizes=ingest_sizes,
        failures=failures,
        reprocessed=reprocessed,
        reprocess_wall_s=reprocess_wall,
    )


def _reprocess_all(stack: LocalStack) -> tuple[int, float, list[str]]:
    """Every stored photo made again by the ReprocessWorkflow, with its defaults (batches of
    ten, a hundred at once): (photos reprocessed, seconds from start to end, failures)."""
    sfn, s3 = stack.client("stepfunctions"), stack.client("s3")
    bucket = stack.output("PhotosBucketName")
    photos = PhotoRepository(stack.output("PhotosTableName"), stack.client("dynamodb"))
    ids = reprocessing.select(photos, reprocessing.Selection())
    started = time.monotonic()
    run = reprocessing.start(sfn, s3, stack.output("ReprocessWorkflowArn"), bucket, ids)
    deadline = started + BATCH_TIMEOUT_S
    now = reprocessing.progress(sfn, run.execution_arn, bucket)
    while not now.done and time.monotonic() < deadline:
        time.sleep(0.2)  # a bounded poll: the deadline ends it
        now = reprocessing.progress(sfn, run.execution_arn, bucket)
    wall = time.monotonic() - started
    if now.status != "SUCCEEDED" or now.results is None:
        return 0, 0.0, [f"reprocessing: {now.status} {now.error or ''} after {wall:.0f} s"]
    made = reprocessing.outcomes(s3, *now.results).photos["reprocessed"]
    missing = [] if made == len(ids) else [f"reprocessing: {made} of {len(ids)} photos made"]
    return made, wall, missing


def _runs_by_function(invocations: Sequence[Any]) -> dict[str, list[float]]:
    # Each sandbox times its own run (from when it got the invocation to its reply).
    runs: dict[str, list[float]] = {}
    for invocation in invocations:
        runs.setdefault(invocation.function_name, []).append(invocation.duration_ms)
    return runs


def _histories(stack: LocalStack) -> dict[str, list[dict[str, Any]]]:
    """Every succeeded execution's history, by execution ARN."""
    sfn = stack.client("stepfunctions")
    arns = []
    for page in sfn.get_paginator("list_executions").paginate(
        stateMachineArn=stack.output("PhotoWorkflowArn"), statusFilter="SUCCEEDED"
    ):
        arns += [execution["executionArn"] for execution in page["executions"]]
    return {
        arn: sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"] for arn in arns
    }


def _execution_arn(stack: LocalStack, photo_id: str) -> str:
    item = stack.photo_item(photo_id)
    assert item is not None, f"no record of {photo_id}"
    return str(item["executionArn"]["S"])


def _item_count(stack: LocalStack, table_logical_id: str) -> int:
    paginator = stack.client("dynamodb").get_paginator("scan")
    pages = paginator.paginate(TableName=stack.physical_id(table_logical_id), Select="COUNT")
    return sum(page["Count"] for page in pages)


def _service_tasks(events: Sequence[dict[str, Any]]) -> Counter[str]:
    return Counter(
        event["taskScheduledEventDetails"]["resourceType"]
        for event in events
        if event["type"] == "TaskScheduled"
    )


def _duration_ms(events: Sequence[dict[str, Any]]) -> float:
    return (events[-1]["timestamp"] - events[0]["timestamp"]).total_seconds() * 1000


def _objects_per_photo(stack: LocalStack, photos: int) -> dict[str, float]:
    s3 = stack.client("s3")
    counts: Counter[str] = Counter()
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=stack.output("PhotosBucketName")
    ):
        counts.update(item["Key"].split("/", 1)[0] for item in page.get("Contents", []))
    return {prefix: count / photos for prefix, count in counts.items()}
