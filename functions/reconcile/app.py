"""Reconciler: every ended execution leaves its photo in one terminal state, announced.

Fed by Step Functions status-change events through EventBridge and an SQS
queue; see photoflow.reconcile for what it does with each. A schedule also
invokes it to sweep photos whose execution ended without an event (EXPRESS
workflows send none; Standard ones send them best effort). The reprocessing workflow
invokes it directly to finish a deletion that waited for a photo it was making again.
EventBridge and SQS deliver at least once: each event is handled once by its id
(Powertools idempotency), so a redelivery is neither counted nor announced again, while an
event whose handling failed is handled again in full.
"""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext

from photoflow import idempotency as remembered
from photoflow.config import NotificationConfig, StorageConfig, SweepConfig, load
from photoflow.observability import (
    count_ended_execution,
    failure_logged,
    logger,
    logs_failure,
    metrics,
    tracer,
)
from photoflow.reconcile import EndedExecution, Reconciler

STORAGE = load(StorageConfig)
reconciler = Reconciler(STORAGE.table_name, load(NotificationConfig).topic_arn, STORAGE.bucket_name)
SWEEP = load(SweepConfig)
processor = BatchProcessor(event_type=EventType.SQS)
# The outcomes in which the reconciler finished a photo (counted as PhotosReconciled).
FINISHING = ("recorded and announced", "announced", "announced processed")
idempotency = IdempotencyConfig(event_key_jmespath="id", expires_after_seconds=24 * 3600)


@idempotent_function(
    data_keyword_argument="event", config=idempotency, persistence_store=remembered.store()
)
def handle(event: dict[str, Any]) -> str:
    ended = EndedExecution.from_detail(dict(EventBridgeEvent(event).detail))
    outcome = reconciler.reconcile(ended)
    count_ended_execution(ended.status)
    logger.info(
        outcome,
        photo_id=ended.photo["id"],
        execution_arn=ended.execution_arn,
        status=ended.status,
        error=ended.error,
    )
    if outcome in FINISHING:
        metrics.add_metric(name="PhotosReconciled", unit=MetricUnit.Count, value=1)
    return outcome


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    with failure_logged("ended-execution event", message_id=record.message_id) as about:
        event = json.loads(record.body)
        detail = event.get("detail") if isinstance(event, dict) else None
        about.update(
            event_id=event.get("id") if isinstance(event, dict) else None,
            execution_arn=detail.get("executionArn") if isinstance(detail, dict) else None,
        )
        handle(event=event)


@tracer.capture_method
def sweep() -> dict[str, int]:
    outcomes = reconciler.sweep(
        now=datetime.now(UTC),
        stale_after=timedelta(seconds=SWEEP.stale_after_seconds),
        horizon=timedelta(seconds=SWEEP.horizon_seconds),
    )
    logger.info("swept", outcomes=dict(outcomes))
    finished = sum(n for outcome, n in outcomes.items() if outcome in FINISHING)
    metrics.add_metric(name="PhotosReconciled", unit=MetricUnit.Count, value=finished)
    return dict(outcomes)


@tracer.capture_method
def finish_deletion(request: dict[str, Any]) -> dict[str, str]:
    photo_id, run = str(request["photoId"]), str(request["run"])
    with failure_logged("deletion after reprocessing", photo_id=photo_id, run=run):
        if reconciler.deletion is None:
            raise RuntimeError("the reconciler has no bucket to delete from")
        outcome = reconciler.deletion.finish_after_reprocessing(photo_id, run)
    logger.info("deletion after reprocessing", photo_id=photo_id, run=run, outcome=outcome)
    return {"outcome": outcome}


@logger.inject_lambda_context
@logs_failure
@tracer.capture_lambda_handler
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(
    event: dict[str, Any], context: LambdaContext
) -> PartialItemFailureResponse | dict[str, int] | dict[str, str]:
    if "finishDeletion" in event:
        return finish_deletion(event["finishDeletion"])
    if event.get("detail-type") == "Scheduled Event":
        with failure_logged("sweep", event_id=event.get("id")):
            return sweep()
    idempotency.register_lambda_context(context)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
