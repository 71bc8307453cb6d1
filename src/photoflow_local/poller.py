"""SQS event source mappings, served the way Lambda's poller serves them.

moto delivers one record per invocation, synchronously inside SendMessage, and
ignores ReportBatchItemFailures. Here each mapping polls its queue: up to
BatchSize messages gathered within the batching window, one invocation per
batch, successes deleted, reported failures (or the whole batch when the
function errors) left for SQS to redeliver, and after the queue's
maxReceiveCount moved to its dead-letter queue by SQS itself.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from photoflow_local.deploy import EventSourceMapping
from photoflow_local.lambdas import LambdaService


@dataclass
class BatchOutcome:
    received: int
    failed: int


class SqsPoller:
    def __init__(
        self,
        mapping: EventSourceMapping,
        lambdas: LambdaService,
        sqs: Any,
        *,
        region: str,
        retry_after_seconds: int = 1,
    ) -> None:
        self.mapping = mapping
        self.lambdas = lambdas
        self.sqs = sqs
        self.region = region
        # On AWS a failed message reappears after the queue's visibility timeout
        # (minutes); locally it reappears after this many seconds.
        self.retry_after_seconds = retry_after_seconds
        self.queue_url = sqs.get_queue_url(QueueName=mapping.queue_arn.rsplit(":", 1)[-1])[
            "QueueUrl"
        ]
        self.batches: list[BatchOutcome] = []
        self._stop = threading.Event()
        self._crashed = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"sqs-poller-{mapping.logical_id}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def crash(self) -> None:
        """Die as a poller process dies: the batch in hand is neither deleted nor handed
        back, so SQS delivers it again once its visibility timeout has passed."""
        self._crashed.set()
        self._stop.set()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._gather()
                if messages:
                    self.deliver(messages)
            except Exception:  # keep polling: a local hiccup must not stop ingestion
                if not self._stop.is_set():
                    self._stop.wait(0.5)

    def _gather(self) -> list[dict[str, Any]]:
        """Up to BatchSize messages: the first receive waits, then the batching window runs."""
        messages: list[dict[str, Any]] = []
        deadline = float("inf")
        while len(messages) < self.mapping.batch_size and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            batch = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, self.mapping.batch_size - len(messages)),
                WaitTimeSeconds=1 if not messages else 0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                break
            if not messages:
                deadline = time.monotonic() + self.mapping.batching_window_seconds
            messages.extend(batch)
        return messages

    def deliver(self, messages: list[dict[str, Any]]) -> BatchOutcome:
        event = {"Records": [self._record(m) for m in messages]}
        payload, errored, _ = self.lambdas.invoke(self.mapping.function_name, json.dumps(event))
        if self._crashed.is_set():  # died while the function ran: nothing more is done
            return BatchOutcome(received=len(messages), failed=0)
        by_id = {m["MessageId"]: m for m in messages}
        if errored:
            failed = set(by_id)
        elif self.mapping.report_batch_item_failures:
            response = json.loads(payload) if payload else None
            reported = (
                (response or {}).get("batchItemFailures", []) if isinstance(response, dict) else []
            )
            failed = {item.get("itemIdentifier") for item in reported}
            if failed - set(by_id):  # an unknown id fails the whole batch, as on AWS
                failed = set(by_id)
        else:
            failed = set()
        succeeded = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(succeeded), 10):
            chunk = succeeded[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)
                ],
            )
        for message_id in failed:
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url,
                ReceiptHandle=by_id[message_id]["ReceiptHandle"],
                VisibilityTimeout=self.retry_after_seconds,
            )
        outcome = BatchOutcome(received=len(messages), failed=len(failed))
        self.batches.append(outcome)
        return outcome

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        message_attributes = {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        }
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message_attributes,
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.mapping.queue_arn,
            "awsRegion": self.region,
        }
