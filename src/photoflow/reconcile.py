"""Finish photos whose execution ended outside the state machine's own failure path.

The ASL records FAILED and announces PhotoFailed on every caught error. What it
cannot catch (an execution timed out or aborted, a runtime error in the ASL
itself, or the failure path failing) ends with a Step Functions status-change
event. The reconciler reads those events and makes sure the photo ends in
exactly one terminal state that a client can read, with its notification:

- ``PhotoFailed``: the failure path finished; nothing to do.
- ``PhotoFailed.NotificationNotSent``: the record is FAILED; announce it.
- anything else: write FAILED unless the record is already terminal, and
  announce it if this write is what made it terminal; if this execution itself
  made the record terminal before it ended (timed out or stopped while
  notifying), announce what it recorded, PhotoFailed or PhotoProcessed.

A photo whose owner deleted it while it was being processed is marked
(``deleteRequested``): when its execution ends, however it ended, the reconciler
deletes it (``photoflow.deletion``) instead of recording or announcing anything.

Step Functions sends those events best effort, and EXPRESS workflows send none,
so a scheduled sweep (``Reconciler.sweep``) looks for photos still PROCESSING
long after their execution must have ended, asks Step Functions how it ended
(DescribeExecution) and finishes them the same way.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from photoflow import clients, notifications
from photoflow.deletion import PhotoDeletion
from photoflow.photos import (
    PhotoRecord,
    PhotoRepository,
    PhotoStatus,
    parse_iso,
    utc_now,
)
from photoflow.reasons import describe

DONE = "PhotoFailed"
NOTIFICATION_NOT_SENT = "PhotoFailed.NotificationNotSent"
TERMINAL_EVENT_STATUSES = {"FAILED", "TIMED_OUT", "ABORTED"}


@dataclass(frozen=True)
class EndedExecution:
    """The fields of a Step Functions Execution Status Change event that matter here."""

    execution_arn: str
    status: str
    error: str | None
    cause: str | None
    photo: dict[str, Any]

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> EndedExecution:
        raw_input = detail.get("input") or "{}"
        photo = json.loads(raw_input).get("photo") if isinstance(raw_input, str) else None
        if not isinstance(photo, dict) or "id" not in photo:
            raise ValueError(f"execution {detail.get('executionArn')} has no photo in its input")
        return cls(
            execution_arn=detail["executionArn"],
            status=detail["status"],
            error=detail.get("error"),
            cause=detail.get("cause"),
            photo=photo,
        )

    @property
    def error_name(self) -> str:
        """The error to record: the Lambda error's type when the cause carries one."""
        if self.status == "TIMED_OUT":
            return "States.Timeout"
        if self.status == "ABORTED":
            return "States.Aborted"
        try:
            parsed = json.loads(self.cause or "")
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("errorType"), str):
            return str(parsed["errorType"])
        return self.error or "States.Runtime"

    @property
    def message(self) -> str:
        """The failure in words for people; the cause itself stays in the history."""
        return describe(self.error_name, self.cause)


class Reconciler:
    def __init__(self, table_name: str, topic_arn: str, bucket_name: str | None = None) -> None:
        self.table_name = table_name
        self.topic_arn = topic_arn
        self.photos = PhotoRepository(table_name)
        # Without the bucket, photos marked for deletion are left for a reconciler with it.
        self.deletion = PhotoDeletion(bucket_name, self.photos, topic_arn) if bucket_name else None

    def reconcile(self, ended: EndedExecution) -> str:
        """Bring the photo to a terminal state; returns what was done (for logs and tests)."""
        marked = self._marked_for_deletion(ended)
        if marked is not None and self.deletion is not None:
            self.deletion.finish(marked)
            return "deleted"
        if ended.status not in TERMINAL_EVENT_STATUSES or ended.error == DONE:
            return "nothing to do"
        if ended.error != NOTIFICATION_NOT_SENT and self._record_failure(ended):
            self.announce(ended, ended.error_name, ended.message)
            self.photos.mark_failure_announced(ended.photo["id"], ended.execution_arn)
            return "recorded and announced"
        return self._announce_own_end(ended)

    def _marked_for_deletion(self, ended: EndedExecution) -> PhotoRecord | None:
        """The photo, if its owner asked for its deletion and this was its last execution."""
        if self.deletion is None:
            return None
        record = self.photos.get(ended.photo["id"])
        if record is None or record.delete_requested is None:
            return None
        if record.execution_arn not in (None, ended.execution_arn):
            return None  # a newer execution writes the photo now; its end deletes it
        return record

    def _announce_own_end(self, ended: EndedExecution) -> str:
        """When this execution made the record terminal and then ended before its own end
        state (its notification failed, it timed out or was stopped): whether the
        notification went out is unknown, so it is sent (at least once rather than never)."""
        record = self.photos.get(ended.photo["id"])
        if record is None or record.execution_arn != ended.execution_arn:
            return "already terminal"
        if record.status is PhotoStatus.FAILED:
            if record.failure_announced_at is not None:
                return "already announced"  # by the sweep or another event about it
            self.announce(
                ended, record.error or ended.error_name, record.error_message or ended.message
            )
            self.photos.mark_failure_announced(record.photo_id, ended.execution_arn)
            return "announced"
        if record.status is PhotoStatus.COMPLETED:
            self.announce_processed(ended, record)
            return "announced processed"
        return "already terminal"

    def sweep(self, now: datetime, stale_after: timedelta, horizon: timedelta) -> Counter[str]:
        """Finish photos created ``stale_after`` to ``horizon`` ago and still PROCESSING
        whose execution has ended: what was done, counted (for logs and tests)."""
        outcomes: Counter[str] = Counter()
        stale_before = now - stale_after
        for record in self.photos.processing_created_between(now - horizon, stale_before):
            ended = self._how_it_ended(record, stale_before)
            outcomes[self.reconcile(ended) if ended else "still running"] += 1
        if self.deletion is not None:
            # Marked while processing, and the end of their execution went unseen.
            for record in self.photos.marked_for_deletion_created_between(
                now - horizon, stale_before
            ):
                self.deletion.finish(record)
                outcomes["deleted"] += 1
        return outcomes

    @staticmethod
    def _how_it_ended(record: PhotoRecord, stale_before: datetime) -> EndedExecution | None:
        """The record's execution as it ended; None while it runs."""
        if record.execution_arn is None:  # PROCESSING without an execution: never by the ASL
            return None
        if ":express:" in record.execution_arn:
            # Step Functions keeps no EXPRESS execution to describe, and one runs at most
            # five minutes: one started before the cutoff has ended, without a word.
            started = record.started_at or record.created_at
            if started and parse_iso(started) < stale_before:
                photo = {"id": record.photo_id, "key": record.source_key}
                return EndedExecution(record.execution_arn, "TIMED_OUT", None, None, photo)
            return None
        try:
            execution = clients.stepfunctions().describe_execution(
                executionArn=record.execution_arn
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
                return None  # not ours to judge (a Standard history is kept 90 days)
            raise
        if execution["status"] == "RUNNING":
            return None
        return EndedExecution.from_detail(dict(execution))

    def _record_failure(self, ended: EndedExecution) -> bool:
        return self.photos.record_failure(
            ended.photo["id"],
            ended.execution_arn,
            ended.error_name,
            ended.message,
            str(ended.photo.get("key", "")),
        )

    def announce_processed(self, ended: EndedExecution, record: PhotoRecord) -> None:
        """PhotoProcessed, as the state machine's NotifyProcessed state sends it."""
        event = notifications.processed(
            ended.photo,
            ended.execution_arn,
            owner=record.owner,
            metadata=record.metadata,
            derivatives=record.derivatives,
            occurred_at=utc_now(),
        )
        notifications.publish(self.topic_arn, event)

    def announce(self, ended: EndedExecution, error: str, message: str) -> None:
        """PhotoFailed, as the state machine's NotifyFailure state sends it."""
        record = self.photos.get(ended.photo["id"])
        event = notifications.failed(
            ended.photo,
            ended.execution_arn,
            owner=record.owner if record else None,
            error=error,
            message=message,
            occurred_at=utc_now(),
        )
        notifications.publish(self.topic_arn, event)
