"""Metadata step: validate an upload from its header and read its EXIF."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from photoflow import steps
from photoflow.config import MetadataConfig, load
from photoflow.models import StepInput
from photoflow.observability import logger, logs_failure, metrics, timed_step, tracer

CONFIG = load(MetadataConfig)


@logger.inject_lambda_context(correlation_id_path="photo.id")
@logs_failure
@tracer.capture_lambda_handler
@metrics.log_metrics
@timed_step("metadata")
@event_parser(model=StepInput)
def lambda_handler(event: StepInput, context: LambdaContext) -> dict[str, Any]:
    result = steps.describe(event.photo, CONFIG)
    metrics.add_metric(name="PhotosDescribed", unit=MetricUnit.Count, value=1)
    return result
