"""From S3 notifications to workflow executions.

One execution per object version, named deterministically, so a duplicate
notification or an SQS redelivery starts nothing new.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event
from botocore.exceptions import ClientError

from photoflow import clients
from photoflow.keys import execution_name, photo_id_for_key
from photoflow.models import PhotoRef, execution_input


class NotAnS3Notification(ValueError):
    """A message on the ingest queue that is not an S3 event notification."""


def photos_in_notification(body: str) -> list[PhotoRef]:
    """The uploaded objects an S3 notification (an SQS message body) announces.

    S3's test event, sent when notifications are configured, announces nothing.
    Keys arrive URL-encoded (spaces as ``+``) and are decoded here.
    """
    try:
        document: dict[str, Any] = json.loads(body)
    except ValueError as error:
        raise NotAnS3Notification(f"message body is not JSON: {body[:80]!r}") from error
    if not isinstance(document, dict):
        raise NotAnS3Notification("message body is not a JSON object")
    if document.get("Event") == "s3:TestEvent":
        return []
    if "Records" not in document:
        raise NotAnS3Notification(f"no Records in message: {sorted(document)}")
    photos = []
    for record in S3Event(document).records:
        if not record.event_name.startswith("ObjectCreated:"):
            continue
        s3_object = record.s3.get_object
        key = unquote_plus(s3_object.key)
        photos.append(
            PhotoRef(
                id=photo_id_for_key(key),
                bucket=record.s3.bucket.name,
                key=key,
                versionId=s3_object.version_id,
                etag=s3_object.etag,
                size=s3_object.size or 0,
                filename=key.rsplit("/", 1)[-1],
                uploadedAt=record.event_time,
            )
        )
    return photos


def start_workflow(photo: PhotoRef, state_machine_arn: str) -> str | None:
    """Start the photo's execution; None when it was already started by an earlier delivery."""
    name = execution_name(photo.bucket, photo.key, photo.version_id or photo.etag or "")
    try:
        response = clients.stepfunctions().start_execution(
            stateMachineArn=state_machine_arn,
            name=name,
            input=json.dumps(execution_input(photo), sort_keys=True),
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
            return None
        raise
    arn: str = response["executionArn"]
    return arn
