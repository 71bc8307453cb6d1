"""Reconciler: every ended execution leaves its photo in one terminal state, announced.

Fed by Step Functions status-change events through EventBridge and an SQS
queue; see photoflow.reconcile for what it does with each.
"""

import json
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
from aws_lambda_powertools.utilities.typing import LambdaContext

from photoflow.config import NotificationConfig, StorageConfig, load
from photoflow.observability import count_ended_execution, logger, metrics, tracer
from photoflow.reconcile import EndedExecution, Reconciler

reconciler = Reconciler(load(StorageConfig).table_name, load(NotificationConfig).topic_arn)
processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    event = EventBridgeEvent(json.loads(record.body))
    ended = EndedExecution.from_detail(dict(event.detail))
    count_ended_execution(ended.status)
    outcome = reconciler.reconcile(ended)
    logger.info(
        outcome,
        photo_id=ended.photo["id"],
        execution_arn=ended.execution_arn,
        status=ended.status,
        error=ended.error,
    )
    if outcome != "nothing to do":
        metrics.add_metric(name="PhotosReconciled", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
