"""Thumbnail step: every configured size of a photo from one decode."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from photoflow import steps
from photoflow.config import StorageConfig, ThumbnailConfig, load
from photoflow.models import StepInput
from photoflow.observability import logger, logs_failure, metrics, timed_step, tracer
from photoflow.photos import PhotoRepository

CONFIG = load(ThumbnailConfig)
PHOTOS = PhotoRepository(load(StorageConfig).table_name)  # near-duplicates are looked up there


@logger.inject_lambda_context(correlation_id_path="photo.id")
@logs_failure
@tracer.capture_lambda_handler
@metrics.log_metrics
@timed_step("thumbnail")
@event_parser(model=StepInput)
def lambda_handler(event: StepInput, context: LambdaContext) -> dict[str, Any]:
    result = steps.thumbnails(event.photo, CONFIG, PHOTOS)
    metrics.add_metric(
        name="ThumbnailsMade", unit=MetricUnit.Count, value=len(result["thumbnails"])
    )
    return result
