"""`make soak`: many photos through the local stack with faults injected; nothing may be lost.

Faults: the Lambda steps (and the ingest and reconcile consumers) fail at random with
transient Lambda errors, and the subscribers' consumers fail at random to process a
notification (it is redelivered, and dead-lettered after the queue's maxReceiveCount).
A share of the photos is corrupt on purpose and must end FAILED.

``hostile``: the photos come from clients of every kind (photoflow_local.hostile):
presigned uploads used again, the same bytes sent twice, concurrent uploads to one key,
uploads after their grant expired, abandoned grants, tampered forms, clients that hang
up mid-upload, oversize bodies, beside well-behaved ones.

``crash``: function sandboxes are killed (SIGKILL) in the middle of invocations, and the
ingest poller dies holding a batch and is restarted. A killed poller's batch comes back
after the ingest queue's visibility timeout, shortened for the run (AWS: 180 s) to
:data:`CRASH_VISIBILITY_SECONDS`; failed SQS messages come back after
:data:`CRASH_RETRY_AFTER_SECONDS` (a killed invocation's idempotency record stays
in progress for the function's timeout, as on Lambda, so quicker retries would only
dead-letter the message).

Once everything is quiet, what operations would do is done and counted: the ingest
dead-letter queue is sent back (message move task), and executions that failed for a
transient cause are redriven. Then, per behaviour: accepted, refused as expected,
completed, failed as expected, failed unexpectedly, lost, announced twice, changed after
it was terminal, and what clients saw (unexpected answers, connection resets). The run
fails unless nothing is lost, announced twice, changed after terminal or reset, and no
photo failed unexpectedly.
"""

from __future__ import annotations

import dataclasses
import io
import json
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from photoflow_local import hostile, operations
from photoflow_local.hostile import COMPLETED, FAILED, NOT_ACCEPTED, REFUSED, Clients, Sent
from photoflow_local.poller import SqsPoller
from photoflow_local.samples import make_photo, truncated_jpeg
from photoflow_local.shape import WorkflowShape, load_shape
from photoflow_local.stack import LocalStack, StackOptions

TRANSIENT = ("Lambda.ServiceException", "Lambda.TooManyRequestsException")
CRASH_VISIBILITY_SECONDS = 30
CRASH_RETRY_AFTER_SECONDS = 10
QUIET_SECONDS = 5.0
PROGRESS_SECONDS = 30.0


def faulty_functions(shape: WorkflowShape) -> frozenset[str]:
    """Functions given transient faults, and crashes: the workflow's steps and the queue
    consumers (the API is synchronous: a killed API function is a 502 its client sees and
    retries, a new photo each time)."""
    return frozenset((*shape.step_functions, *shape.consumers))


def watched_queues(shape: WorkflowShape) -> dict[str, str]:
    """Each SQS subscriber's queue and its dead-letter queue, as the template declares them."""
    return {
        s.queue: s.queue_dead_letter
        for s in shape.queue_subscribers
        if s.queue is not None and s.queue_dead_letter is not None
    }


@dataclass(frozen=True)
class SoakSettings:
    photos: int = 300
    fault_rate: float = 0.1
    corrupt_share: float = 0.05
    timeout: float | None = None  # for each wait; default: 2 s a photo, at least 600 s
    seed: int = 7
    hostile: bool = False
    crash: bool = False
    crash_interval: float = 0.5  # how often a busy sandbox may be killed (chance: fault_rate)
    poller_restart_every: float = 15.0
    operation_rounds: int = 3  # dead letters moved back and redrives, until nothing is left
    workflow_type: str = "STANDARD"  # EXPRESS: no redrive, executions counted from the logs

    @property
    def express(self) -> bool:
        return self.workflow_type == "EXPRESS"

    @property
    def parameters(self) -> dict[str, str]:
        """The template's parameters for the run: an EXPRESS workflow logs every event (its
        executions are counted from its log group, Step Functions lists none)."""
        if not self.express:
            return {"WorkflowType": self.workflow_type}
        return {"WorkflowType": self.workflow_type, "WorkflowLogLevel": "ALL"}

    # told how the run is going every PROGRESS_SECONDS while it waits (a long run is silent
    # otherwise)
    progress: Callable[[str], None] | None = field(default=None, compare=False)

    @property
    def wait_seconds(self) -> float:
        return self.timeout if self.timeout is not None else max(600.0, 2.0 * self.photos)


@dataclass
class Row:
    """What became of the photos of one behaviour."""

    sent: int = 0
    accepted: int = 0
    refused_as_expected: int = 0
    completed: int = 0
    failed_as_expected: int = 0
    failed_unexpectedly: int = 0
    lost: int = 0
    announced_twice: int = 0
    changed_after_terminal: int = 0
    wrongly_accepted: int = 0  # a refused or unused grant that got stored, run or announced
    unexpected_answers: int = 0
    resets: int = 0

    MUST_BE_ZERO = (
        "wrongly_accepted",
        "failed_unexpectedly",
        "lost",
        "announced_twice",
        "changed_after_terminal",
        "unexpected_answers",
        "resets",
    )


@dataclass
class SoakReport:
    rows: dict[str, Row] = field(default_factory=lambda: defaultdict(Row))
    faults_injected: int = 0
    sandboxes_killed: int = 0
    pollers_restarted: int = 0
    dead_letters_moved: int = 0
    redriven: int = 0
    not_quiet: int = 0  # waits that reached their deadline before everything was done
    notifications_dead_lettered: int = 0
    latencies: list[float] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)  # what went wrong, photo by photo

    def total(self, measure: str) -> int:
        return sum(getattr(row, measure) for row in self.rows.values())

    @property
    def ok(self) -> bool:
        return not self.not_quiet and not any(self.total(m) for m in Row.MUST_BE_ZERO)

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
        # photo id -> event type -> message ids (a redelivered message keeps its id)
        self.received: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.first_seen: dict[str, float] = {}
        self.last_received = time.monotonic()
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
                body = json.loads(message["Body"])
                photo_id = body["photoId"]
                self.first_seen.setdefault(photo_id, time.monotonic())
                if not dead and self.rng.random() < self.failure_rate:
                    self.faults += 1  # this consumer "crashed": SQS redelivers it
                    continue
                self.received[photo_id][body["eventType"]].add(message["MessageId"])
                self.last_received = time.monotonic()
                if dead:
                    self.dead_lettered.add(photo_id)
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


class Chaos(threading.Thread):
    """Kills busy function sandboxes (SIGKILL) and the ingest poller, now and then."""

    def __init__(
        self,
        stack: LocalStack,
        settings: SoakSettings,
        rng: random.Random,
        crashable: frozenset[str],
    ) -> None:
        super().__init__(daemon=True)
        self.stack, self.settings, self.rng = stack, settings, rng
        self.crashable = crashable
        self.stopping = threading.Event()
        self.killed = 0
        self.restarted = 0

    def run(self) -> None:
        next_restart = time.monotonic() + self.settings.poller_restart_every
        while not self.stopping.wait(self.settings.crash_interval):
            busy = [
                s for s in self.stack.lambdas.busy_sandboxes() if s.function_name in self.crashable
            ]
            if busy and self.rng.random() < self.settings.fault_rate:
                self.rng.choice(busy).process.kill()  # SIGKILL, mid-invocation
                self.killed += 1
            if time.monotonic() >= next_restart:
                self.restart_ingest_poller()
                next_restart = time.monotonic() + self.settings.poller_restart_every

    def restart_ingest_poller(self) -> None:
        for index, poller in enumerate(self.stack.pollers):
            if poller.mapping.function_name != "StartWorkflowFunction":
                continue
            poller.crash()
            fresh = SqsPoller(
                poller.mapping,
                self.stack.lambdas,
                self.stack.client("sqs"),
                region=self.stack.options.region,
                retry_after_seconds=poller.retry_after_seconds,
            )
            fresh.start()
            self.stack.pollers[index] = fresh
            self.restarted += 1


def run_soak(template: Path, settings: SoakSettings) -> SoakReport:
    rng = random.Random(settings.seed)
    report = SoakReport()
    fault_lock = threading.Lock()
    shape = load_shape(template, settings.parameters)
    faulty = faulty_functions(shape)

    def inject(function_name: str, event: str) -> str | None:
        with fault_lock:
            if function_name in faulty and rng.random() < settings.fault_rate:
                report.faults_injected += 1
                return rng.choice(TRANSIENT)
        return None

    options = StackOptions(
        time_scale=0.01,
        retry_after_seconds=CRASH_RETRY_AFTER_SECONDS if settings.crash else 0,
        parameters=settings.parameters,
    )
    with LocalStack(template, options, log_sink=io.StringIO()) as stack:
        stack.lambdas.fault = inject
        sqs = stack.client("sqs")
        if settings.crash:
            sqs.set_queue_attributes(
                QueueUrl=stack.physical_id("IngestQueue"),
                Attributes={"VisibilityTimeout": str(CRASH_VISIBILITY_SECONDS)},
            )
        subscribers = {
            name: Subscriber(
                sqs,
                stack.physical_id(name),
                stack.physical_id(dead),
                settings.fault_rate,
                random.Random(settings.seed + i),
            )
            for i, (name, dead) in enumerate(watched_queues(shape).items())
        }
        for subscriber in subscribers.values():
            subscriber.start()
        chaos = Chaos(stack, settings, random.Random(settings.seed + 99), faulty)
        if settings.crash:
            chaos.start()
        sent = _send(stack, settings, rng)
        expected = {s.photo_id: s for s in sent if s.photo_id}
        if settings.progress:
            settings.progress(f"{len(sent)} clients done sending; waiting for the photos")
        snapshots = _wait_until_quiet(stack, expected, subscribers, settings, report)
        chaos.stopping.set()
        report.sandboxes_killed, report.pollers_restarted = chaos.killed, chaos.restarted
        redriven: list[str] = []
        for _ in range(settings.operation_rounds):
            moved, retried = _operations(stack, expected, report, redrive=not settings.express)
            if not moved and not retried:
                break
            redriven += retried
            after = _wait_until_quiet(stack, expected, subscribers, settings, report)
            for photo_id, view in after.items():
                snapshots.setdefault(photo_id, view)
            for photo_id in retried:  # the operator's retry may change it, once
                if photo_id in after:
                    snapshots[photo_id] = after[photo_id]
        final = {p: _record(stack, p) for p in expected}
        executions = _express_executions(stack) if settings.express else _executions(stack)
        for subscriber in subscribers.values():
            subscriber.stopping.set()
            subscriber.join(timeout=5)
    _tally(report, sent, snapshots, final, subscribers, executions, set(redriven))
    return report


def _send(stack: LocalStack, settings: SoakSettings, rng: random.Random) -> list[Sent]:
    samples = [make_photo(800, 600, seed=s) for s in range(4)]
    corrupt = truncated_jpeg()
    clients = Clients(
        api_url=stack.api_url,
        endpoint_url=stack.endpoint_url,
        bucket=stack.output("PhotosBucketName"),
        direct_max_bytes=int(stack.stack.parameters["DirectUploadMaxBytes"]),
        samples=samples,
        rng=random.Random(settings.seed + 7),
        lock=threading.Lock(),
    )
    behaviours, weights = zip(*hostile.HOSTILE_MIX, strict=True)
    plan = []
    for index in range(settings.photos):
        behaviour = rng.choices(behaviours, weights)[0] if settings.hostile else hostile.direct
        bad = rng.random() < settings.corrupt_share
        plan.append((behaviour, corrupt if bad else samples[index % len(samples)], bad))

    def send(item: tuple[hostile.Behaviour, bytes, bool]) -> Sent:
        behaviour, data, bad = item
        started = time.monotonic()
        outcome = behaviour(clients, data, FAILED if bad else COMPLETED)
        return dataclasses.replace(outcome, started=started)

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(send, plan))


def _record(stack: LocalStack, photo_id: str) -> dict[str, Any] | None:
    return stack.photo_item(photo_id)


def _status(record: dict[str, Any] | None) -> str | None:
    return record.get("status", {}).get("S") if record else None


def _terminal_view(record: dict[str, Any]) -> dict[str, Any]:
    """What must not change once a photo is terminal."""
    kept = ("status", "error", "message", "size", "metadata", "derivatives", "sourceKey")
    return {name: record.get(name) for name in (*kept, "completedAt", "failedAt")}


def _queues_idle(stack: LocalStack) -> bool:
    sqs = stack.client("sqs")
    for name in ("IngestQueue", "ExecutionEventsQueue"):
        attributes = sqs.get_queue_attributes(
            QueueUrl=stack.physical_id(name), AttributeNames=["All"]
        )["Attributes"]
        if attributes["ApproximateNumberOfMessages"] != "0":
            return False
        if attributes["ApproximateNumberOfMessagesNotVisible"] != "0":
            return False
    return True


ENDED = ("ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted")


def _executions_running(stack: LocalStack, settings: SoakSettings) -> bool:
    """Whether an execution of the workflow still runs (an EXPRESS one: started in its log
    group and not ended there)."""
    if settings.express:
        logs = stack.client("logs")
        group = stack.physical_id("PhotoWorkflowLogGroup")
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group)
        started, ended = set(), set()
        for event in (json.loads(e["message"]) for page in pages for e in page["events"]):
            if event["type"] == "ExecutionStarted":
                started.add(event["execution_arn"])
            elif event["type"] in ENDED:
                ended.add(event["execution_arn"])
        return bool(started - ended)
    running = stack.client("stepfunctions").list_executions(
        stateMachineArn=stack.output("PhotoWorkflowArn"), statusFilter="RUNNING", maxResults=1
    )
    return bool(running["executions"])


def _wait_until_quiet(
    stack: LocalStack,
    expected: dict[str, Sent],
    subscribers: dict[str, Subscriber],
    settings: SoakSettings,
    report: SoakReport,
) -> dict[str, dict[str, Any]]:
    """Each accepted photo's record as first seen terminal, once the stack is quiet: no
    execution runs, the queues are idle, and for a while no photo became terminal and no
    notification came. Every accepted photo is then terminal and announced, or waits for
    an operator (its event in the ingest dead-letter queue, its execution failed for a
    transient cause: the operations after this wait). At the deadline, what there is: the
    report says the run was not quiet."""
    began = time.monotonic()
    deadline, told = began + settings.wait_seconds, began
    first_terminal: dict[str, dict[str, Any]] = {}
    accepted = [p for p, s in expected.items() if s.expected in (COMPLETED, FAILED)]
    seen, since = (-1, -1), began
    while time.monotonic() < deadline:
        if settings.progress and time.monotonic() - told >= PROGRESS_SECONDS:
            told = time.monotonic()
            notified = {p for s in subscribers.values() for p in s.received}
            settings.progress(
                f"{told - began:.0f} s: {len(first_terminal)} of {len(accepted)} accepted photos"
                f" terminal, {len(notified.intersection(accepted))} announced"
            )
        for photo_id in accepted:
            if photo_id not in first_terminal:
                record = _record(stack, photo_id)
                if _status(record) in (COMPLETED, FAILED) and record is not None:
                    first_terminal[photo_id] = _terminal_view(record)
        notified = {p for s in subscribers.values() for p in s.received}
        if (len(first_terminal), len(notified)) != seen:
            seen, since = (len(first_terminal), len(notified)), time.monotonic()
        last = max(since, *(s.last_received for s in subscribers.values()))
        if (
            time.monotonic() - last > QUIET_SECONDS
            and _queues_idle(stack)
            and not _executions_running(stack, settings)
        ):
            return first_terminal
        time.sleep(0.5)  # a bounded poll: the deadline above ends it
    report.not_quiet += 1
    return first_terminal


def _executions(stack: LocalStack) -> dict[str, list[dict[str, Any]]]:
    by_photo: dict[str, list[dict[str, Any]]] = defaultdict(list)
    sfn = stack.client("stepfunctions")
    machine = stack.output("PhotoWorkflowArn")
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine):
        for execution in page["executions"]:
            by_photo[execution["name"].split("-")[1]].append(execution)
    return by_photo


def _express_executions(stack: LocalStack) -> dict[str, list[dict[str, Any]]]:
    """An EXPRESS workflow's executions by photo, from its log group (Step Functions lists
    none)."""
    logs = stack.client("logs")
    group = stack.physical_id("PhotoWorkflowLogGroup")
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group)
    return started_by_photo(json.loads(e["message"]) for page in pages for e in page["events"])


def started_by_photo(logged: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The ExecutionStarted log events by photo: an Express execution's ARN ends with its
    name (``photo-<id>-<digest>``) and an id of its own."""
    by_photo: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in logged:
        if event["type"] == "ExecutionStarted":
            name = event["execution_arn"].split(":")[-2]
            by_photo[name.split("-")[1]].append(event)
    return by_photo


def _operations(
    stack: LocalStack, expected: dict[str, Sent], report: SoakReport, *, redrive: bool = True
) -> tuple[int, list[str]]:
    """What the runbook says to do: send the ingest dead letters back, and redrive the
    executions that failed for a transient cause (Standard workflows: an Express execution
    cannot be redriven). The messages moved, the photos redriven."""
    sqs, sfn = stack.client("sqs"), stack.client("stepfunctions")
    dead_letters = stack.output("IngestDeadLetterQueueUrl")
    waiting = sqs.get_queue_attributes(
        QueueUrl=dead_letters, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    moved = 0
    if waiting != "0":
        moved = operations.redrive_dead_letters(sqs, dead_letters).moved
        report.dead_letters_moved += moved
    table = stack.output("PhotosTableName")
    redriven: list[str] = []
    for photo_id, sent in expected.items() if redrive else ():
        record = _record(stack, photo_id)
        if sent.expected != COMPLETED or _status(record) != FAILED or record is None:
            continue
        try:  # one at a time, each to its end: the photo's record is final after it
            operations.redrive_photo(sfn, stack.client("dynamodb"), table, photo_id, 120.0)
        except operations.NotRedrivable as refused:
            report.unexpected.append(f"{photo_id}: FAILED, not redriven: {refused}")
            continue
        redriven.append(photo_id)
    report.redriven += len(redriven)
    return moved, redriven


def _tally(
    report: SoakReport,
    sent: list[Sent],
    snapshots: dict[str, dict[str, Any]],
    final: dict[str, dict[str, Any] | None],
    subscribers: dict[str, Subscriber],
    executions: dict[str, list[dict[str, Any]]],
    redriven: set[str],
) -> None:
    for item in sent:
        row = report.rows[item.behaviour]
        row.sent += 1
        row.unexpected_answers += len(item.surprises)
        row.resets += item.resets
        report.unexpected.extend(f"{item.behaviour}: {s}" for s in item.surprises)
        if item.expected == REFUSED:
            row.refused_as_expected += not item.surprises
            continue
        assert item.photo_id is not None
        events = _heard(subscribers.values(), item.photo_id)
        if item.expected == NOT_ACCEPTED:
            _tally_not_accepted(report, row, item, final, events, executions)
            continue
        row.accepted += 1
        _tally_accepted(report, row, item, snapshots, final, events, executions, redriven)
    report.notifications_dead_lettered = sum(len(s.dead_lettered) for s in subscribers.values())
    report.faults_injected += sum(s.faults for s in subscribers.values())
    first_seen = {p: t for s in subscribers.values() for p, t in s.first_seen.items()}
    started = {s.photo_id: s.started for s in sent if s.photo_id}
    report.latencies = [first_seen[p] - started[p] for p in first_seen if p in started]


def _heard(subscribers: Iterable[Subscriber], photo_id: str) -> dict[str, set[str]]:
    """Per event type, the message ids of the subscriber that received the most of them
    (two subscribers of one event each receive it: once each is the expected count)."""
    heard: dict[str, set[str]] = {}
    for subscriber in subscribers:
        for kind, ids in subscriber.received.get(photo_id, {}).items():
            if len(ids) > len(heard.get(kind, ())):
                heard[kind] = ids
    return heard


def _tally_not_accepted(
    report: SoakReport,
    row: Row,
    item: Sent,
    final: dict[str, dict[str, Any] | None],
    events: dict[str, set[str]],
    executions: dict[str, list[dict[str, Any]]],
) -> None:
    """A grant no upload was accepted for: still awaiting, nothing run or announced."""
    status = _status(final.get(item.photo_id or ""))
    ran = executions.get(item.photo_id or "", [])
    if status == "AWAITING_UPLOAD" and not ran and not events:
        row.refused_as_expected += 1
        return
    row.wrongly_accepted += 1
    report.unexpected.append(
        f"{item.behaviour} {item.photo_id}: {status}, {len(ran)} executions,"
        f" events {sorted(events)}; nothing should have been accepted"
    )


def _tally_accepted(
    report: SoakReport,
    row: Row,
    item: Sent,
    snapshots: dict[str, dict[str, Any]],
    final: dict[str, dict[str, Any] | None],
    events: dict[str, set[str]],
    executions: dict[str, list[dict[str, Any]]],
    redriven: set[str],
) -> None:
    photo_id = item.photo_id or ""
    record = final.get(photo_id)
    status = _status(record)
    if status not in (COMPLETED, FAILED) or not events:
        row.lost += 1
        report.unexpected.append(f"{item.behaviour} {photo_id}: {status}, events {events}")
        return
    if status == item.expected == COMPLETED:
        row.completed += 1
    elif status == item.expected == FAILED:
        row.failed_as_expected += 1
    else:
        row.failed_unexpectedly += 1
        detail = (record or {}).get("error", {}).get("S")
        report.unexpected.append(f"{item.behaviour} {photo_id}: {status} ({detail})")
    # one execution (a redrive resumes it, same ARN), and each event at most once
    if len(executions.get(photo_id, [])) > 1 or any(len(ids) > 1 for ids in events.values()):
        row.announced_twice += 1
        counts = {kind: len(ids) for kind, ids in events.items()}
        report.unexpected.append(
            f"{item.behaviour} {photo_id}: {len(executions.get(photo_id, []))} executions,"
            f" events {counts}"
        )
    first, now = snapshots.get(photo_id), _terminal_view(record or {})
    if record is not None and first is not None and first != now:
        row.changed_after_terminal += 1
        changed = sorted(name for name in now if first.get(name) != now[name])
        report.unexpected.append(
            f"{item.behaviour} {photo_id}: changed after it was terminal: {changed}"
            f" {[(first.get(name), now[name]) for name in changed][:2]}"
        )


def print_report(report: SoakReport, seconds: float, console: Any) -> int:
    """The report, a row per behaviour; 0 when the run holds, 1 when it does not."""
    from rich.console import Console
    from rich.table import Table

    console = Console(file=console.file, width=max(console.width, 170))  # a row a line
    columns = [
        ("sent", "sent"),
        ("accepted", "accepted"),
        ("refused_as_expected", "refused ok"),
        ("completed", "completed"),
        ("failed_as_expected", "failed ok"),
        ("failed_unexpectedly", "failed!"),
        ("lost", "lost"),
        ("announced_twice", "twice"),
        ("changed_after_terminal", "changed"),
        ("wrongly_accepted", "taken!"),
        ("unexpected_answers", "answers!"),
        ("resets", "resets"),
    ]
    table = Table("behaviour", *(title for _, title in columns), box=None)
    for name, row in sorted(report.rows.items()):
        table.add_row(name, *(str(getattr(row, measure)) for measure, _ in columns))
    table.add_row("all", *(str(report.total(measure)) for measure, _ in columns))
    console.print(table)
    console.print(
        f"faults injected {report.faults_injected}, sandboxes killed {report.sandboxes_killed},"
        f" ingest poller restarted {report.pollers_restarted}, dead letters moved back"
        f" {report.dead_letters_moved}, executions redriven {report.redriven}, notifications"
        f" dead-lettered by failing consumers {report.notifications_dead_lettered}"
    )
    console.print(
        f"latency upload to notification p50 {report.percentile(50):.1f} s,"
        f" p95 {report.percentile(95):.1f} s; wall time {seconds:.1f} s"
    )
    if report.not_quiet:
        console.print(f"[red]not quiet by the deadline ({report.not_quiet} waits)[/]")
    for line in report.unexpected:
        console.print(f"[red]{line}[/]", markup=True, highlight=False)
    console.print(
        "[green]nothing lost, announced twice, changed after terminal or reset[/]"
        if report.ok
        else "[red]SOAK FAILED[/]"
    )
    return 0 if report.ok else 1
