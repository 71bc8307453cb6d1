"""SQS: SendMessage without a body is refused as SQS refuses it (37); dead-letter queue
redrive with message move tasks (52); concurrent receives of one queue (53)."""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult
from moto.sqs.exceptions import InvalidParameterValue, MissingParameter, SQSException
from moto.sqs.models import Message, Queue, SQSBackend
from moto.sqs.responses import SQSResponse

from photoflow_local.patches.base import replace, set_attribute, state


# ----------------------------------------------------------------- 37. SendMessage
def _send_message(self: SQSResponse) -> ActionResult:
    """SQS answers MissingParameter ("The request must contain the parameter MessageBody.")
    to a SendMessage without MessageBody; moto failed on it with a Python error."""
    if self._get_param("MessageBody") is None:
        raise MissingParameter("MessageBody")
    result: ActionResult = state.originals["sqs_send_message"](self)
    return result


# ----------------------------------------------------------------- 52. message move tasks
# A dead-letter queue's messages go back with a message move task (StartMessageMoveTask,
# ListMessageMoveTasks, CancelMessageMoveTask), to a destination queue or, without one,
# each to the queue it was dead-lettered from. The answers and errors are SQS's as
# recorded on AWS (LocalStack's Apache-2.0 snapshots,
# tests/aws/services/sqs/test_sqs_move_task.snapshot.json). moto 5.2.5 has none of it,
# and does not note which queue a dead-lettered message came from
# (DeadLetterQueueSourceArn): it is noted as the message moves.
SOURCE_ATTRIBUTE = "DeadLetterQueueSourceArn"


class ResourceNotFound(SQSException):
    def __init__(self, message: str) -> None:
        super().__init__("ResourceNotFoundException", message)


@dataclass
class MoveTask:
    task_id: str
    source: Queue
    destination: Queue | None
    rate: int | None
    to_move: int
    started: int = field(default_factory=lambda: int(time.time() * 1000))
    moved: int = 0
    status: str = "RUNNING"
    failure: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def handle(self) -> str:
        document = {"taskId": self.task_id, "sourceArn": self.source.queue_arn}
        return base64.b64encode(json.dumps(document).encode()).decode()

    def described(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "ApproximateNumberOfMessagesMoved": self.moved,
            "ApproximateNumberOfMessagesToMove": self.to_move,
            "SourceArn": self.source.queue_arn,
            "StartedTimestamp": self.started,
            "Status": self.status,
        }
        if self.status == "RUNNING":
            described["TaskHandle"] = self.handle
        if self.destination is not None:
            described["DestinationArn"] = self.destination.queue_arn
        if self.rate is not None:
            described["MaxNumberOfMessagesPerSecond"] = self.rate
        if self.failure is not None:
            described["FailureReason"] = self.failure
        return described


_tasks: dict[str, list[MoveTask]] = {}  # by source queue ARN, newest first
_tasks_lock = threading.Lock()


def _queue_by_arn(backend: SQSBackend, arn: str | None, parameter: str) -> Queue:
    for queue in backend.queues.values():
        if queue.queue_arn == arn:
            return queue
    raise ResourceNotFound(
        f"The resource that you specified for the {parameter} parameter doesn't exist."
    )


# ----------------------------------------------------------------- 53. concurrent receives
# ReceiveMessage picks the messages to deliver and those to dead-letter from a snapshot of
# the queue, then moves the latter: two receives of one queue at once (two pollers, as
# Lambda runs several) both move the same message, and the second fails with a Python
# error (HTTP 500), losing the messages it had marked received. Receives of one queue are
# serialized (a long poll waits for the other's).
_receive_locks: dict[int, threading.Lock] = {}
_receive_locks_lock = threading.Lock()


def _receive_lock(queue: Queue | None) -> threading.Lock:
    with _receive_locks_lock:
        return _receive_locks.setdefault(id(queue), threading.Lock())


def _receive_message(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Any:
    """moto's ReceiveMessage, one at a time per queue (53), noting on each message it
    dead-letters the queue it left (52)."""
    queue = self.queues.get(queue_name)
    with _receive_lock(queue):
        return _received_noting_sources(self, queue, queue_name, *args, **kwargs)


def _received_noting_sources(
    self: SQSBackend, queue: Queue | None, queue_name: str, *args: Any, **kwargs: Any
) -> Any:
    before = {m.id for m in queue._messages} if queue and queue.dead_letter_queue else set()
    received = state.originals["sqs_backend_receive_message"](self, queue_name, *args, **kwargs)
    if before and queue is not None and queue.dead_letter_queue is not None:
        for message in list(queue.dead_letter_queue._messages):
            if message.id in before:
                message.system_attributes.setdefault(SOURCE_ATTRIBUTE, queue.queue_arn)
    return received


def _move_one(backend: SQSBackend, task: MoveTask, message: Message) -> None:
    destination = task.destination
    if destination is None:
        origin = message.system_attributes.get(SOURCE_ATTRIBUTE)
        sources = backend.list_dead_letter_source_queues(task.source.name)
        destination = next((q for q in sources if q.queue_arn == origin), None) or (
            sources[0] if len(sources) == 1 else None
        )
    if destination is None or destination.name not in backend.queues:
        raise LookupError("AWS.SimpleQueueService.NonExistentQueue")
    try:
        task.source._messages.remove(message)
    except ValueError:  # received and deleted meanwhile: nothing to move
        return
    backend.send_message(
        destination.name,
        message.body,
        message_attributes=message.message_attributes,
        validate_group_id=False,
    )


def _run(backend: SQSBackend, task: MoveTask) -> None:
    """Move the messages the source held when the task started, at the rate asked for."""
    try:
        for message in list(task.source.messages)[: task.to_move]:
            if task.cancel.is_set():
                break
            _move_one(backend, task, message)
            task.moved += 1
            if task.rate:
                task.cancel.wait(1 / task.rate)  # MaxNumberOfMessagesPerSecond
    except LookupError as error:
        task.status, task.failure = "FAILED", str(error)
        return
    task.status = "CANCELLED" if task.cancel.is_set() else "COMPLETED"


def _start_message_move_task(self: SQSResponse) -> ActionResult:
    backend = self.sqs_backend
    source = _queue_by_arn(backend, self._get_param("SourceArn"), "SourceArn")
    destination_arn = self._get_param("DestinationArn")
    destination = (
        _queue_by_arn(backend, destination_arn, "DestinationArn") if destination_arn else None
    )
    if not backend.list_dead_letter_source_queues(source.name):
        raise InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
    rate = self._get_param("MaxNumberOfMessagesPerSecond")
    with _tasks_lock:
        tasks = _tasks.setdefault(source.queue_arn, [])
        if any(t.status == "RUNNING" for t in tasks):
            raise InvalidParameterValue(
                "There is already a task running. Only one active task is allowed for a "
                "source queue arn at a given time."
            )
        task = MoveTask(
            str(uuid.uuid4()),
            source,
            destination,
            int(rate) if rate is not None else None,
            len(source.messages),
        )
        tasks.insert(0, task)
    threading.Thread(target=_run, args=(backend, task), name="sqs-move-task", daemon=True).start()
    return ActionResult({"TaskHandle": task.handle})


def _list_message_move_tasks(self: SQSResponse) -> ActionResult:
    source = _queue_by_arn(self.sqs_backend, self._get_param("SourceArn"), "SourceArn")
    most = int(self._get_param("MaxResults") or 1)
    with _tasks_lock:
        tasks = list(_tasks.get(source.queue_arn, []))[:most]
    return ActionResult({"Results": [t.described() for t in tasks]})


def _cancel_message_move_task(self: SQSResponse) -> ActionResult:
    try:
        document = json.loads(base64.b64decode(self._get_param("TaskHandle") or "", validate=True))
        task_id, source_arn = document["taskId"], document["sourceArn"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidParameterValue("Value for parameter TaskHandle is invalid.") from None
    _queue_by_arn(self.sqs_backend, source_arn, "SourceArn")
    with _tasks_lock:
        task = next((t for t in _tasks.get(source_arn, []) if t.task_id == task_id), None)
    if task is None:
        raise ResourceNotFound("Task does not exist.")
    if task.status == "RUNNING":
        task.status = "CANCELLING"
        task.cancel.set()
    return ActionResult({"ApproximateNumberOfMessagesMoved": task.moved})


def install() -> None:
    replace(SQSResponse, "send_message", _send_message, "sqs_send_message")
    replace(SQSBackend, "receive_message", _receive_message, "sqs_backend_receive_message")
    set_attribute(SQSResponse, "start_message_move_task", _start_message_move_task)
    set_attribute(SQSResponse, "list_message_move_tasks", _list_message_move_tasks)
    set_attribute(SQSResponse, "cancel_message_move_task", _cancel_message_move_task)
