"""Ingest: S3 notifications from the ingest queue start one workflow per photo.

Each SQS message is handled on its own; a message that fails is reported back
(ReportBatchItemFailures), retried by SQS and, after the queue's
maxReceiveCount, moved to the ingest dead-letter queue. Each photo accepts one
uploaded object (photoflow.ingest.claim): a reused or concurrent upload's other
version is refused and deleted. The accepted version starts one workflow: a
redelivered event finds it remembered (Powertools idempotency) and starts
nothing, which the execution name alone does not guarantee (EXPRESS executions
are not unique by name).
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
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from photoflow import idempotency as remembered
from photoflow.config import StorageConfig, WorkflowConfig, load
from photoflow.ingest import Claim, claim, photos_in_notification, start_workflow
from photoflow.models import PhotoRef
from photoflow.observability import failure_logged, logger, logs_failure, metrics, tracer
from photoflow.photos import PhotoRepository

CONFIG = load(WorkflowConfig)
photos = PhotoRepository(load(StorageConfig).table_name)
processor = BatchProcessor(event_type=EventType.SQS)


def count_duplicate(**context: Any) -> None:
    logger.info("already started", **context)
    metrics.add_metric(name="DuplicateUploadEvents", unit=MetricUnit.Count, value=1)


def already_started(response: Any, idempotent_data: DataRecord) -> Any:
    """A redelivered event: ``response`` is the ARN of the workflow started earlier."""
    count_duplicate(execution_arn=response, remembered=idempotent_data.idempotency_key)
    return response


idempotency = IdempotencyConfig(
    event_key_jmespath="[bucket, key, version_id, etag]",  # of the PhotoRef, dumped
    expires_after_seconds=CONFIG.starts_remembered_seconds,
    response_hook=already_started,
)


@idempotent_function(
    data_keyword_argument="photo",
    config=idempotency,
    persistence_store=remembered.store(),
)
def start_once(photo: PhotoRef) -> str | None:
    arn = start_workflow(photo, CONFIG.state_machine_arn)
    if arn is None:  # Step Functions knew the name: an earlier start, since forgotten here
        count_duplicate(photo_id=photo.id, key=photo.key)
    else:
        logger.info("workflow started", photo_id=photo.id, execution_arn=arn)
        metrics.add_metric(name="WorkflowsStarted", unit=MetricUnit.Count, value=1)
    return arn


def refused(outcome: Claim, photo: PhotoRef) -> None:
    """A version that is not the photo's upload: never processed, counted."""
    if outcome is Claim.REFUSED:
        logger.warning(
            "upload refused: the photo has another upload already; this version was deleted",
            photo_id=photo.id,
            key=photo.key,
            version_id=photo.version_id,
        )
        metrics.add_metric(name="UploadsRefused", unit=MetricUnit.Count, value=1)
    else:
        logger.info("version gone: refused earlier", photo_id=photo.id, key=photo.key)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    with failure_logged("ingest message", message_id=record.message_id) as about:
        for photo in photos_in_notification(record.body):
            about.update(photo_id=photo.id, key=photo.key, version_id=photo.version_id)
            outcome, held = claim(photo, photos)
            if outcome is Claim.ACCEPTED:
                start_once(photo=held)
            else:
                refused(outcome, held)


@logger.inject_lambda_context
@logs_failure
@tracer.capture_lambda_handler
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
