"""Ingest: S3 notifications from the ingest queue start one workflow per photo.

Each SQS message is handled on its own; a message that fails is reported back
(ReportBatchItemFailures), retried by SQS and, after the queue's
maxReceiveCount, moved to the ingest dead-letter queue.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from photoflow.config import WorkflowConfig, load
from photoflow.ingest import photos_in_notification, start_workflow
from photoflow.observability import logger, metrics, tracer

CONFIG = load(WorkflowConfig)
processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    for photo in photos_in_notification(record.body):
        arn = start_workflow(photo, CONFIG.state_machine_arn)
        if arn is None:
            logger.info("already started", photo_id=photo.id, key=photo.key)
            metrics.add_metric(name="DuplicateUploadEvents", unit=MetricUnit.Count, value=1)
        else:
            logger.info("workflow started", photo_id=photo.id, execution_arn=arn)
            metrics.add_metric(name="WorkflowsStarted", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
