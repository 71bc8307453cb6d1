"""From S3 notifications to workflow executions.

One accepted object per photo, one execution per accepted object. S3 lets a
presigned POST be used again until it expires, and two clients can upload to one
key at once: each upload is a new version of the photo's key and gets its own
event. The first version whose event arrives claims the photo (a conditional write
of its record); any other version is refused and deleted, so it never reaches a
step, and the accepted one stays the key's current version. The accepted version
then starts one execution, named after bucket, key and version, so a duplicate
notification or an SQS redelivery starts nothing new; the steps read that version
and no other.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event
from botocore.exceptions import ClientError

from photoflow import clients
from photoflow.errors import NotAnS3Notification
from photoflow.keys import execution_name, photo_id_for_key
from photoflow.models import PhotoRef, execution_input
from photoflow.photos import PhotoRepository

_GONE = {"NoSuchKey", "NoSuchVersion", "404"}


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


class Claim(StrEnum):
    """What the ingest made of one uploaded object version."""

    ACCEPTED = "accepted"  # the photo's one upload (again, for a redelivered event)
    REFUSED = "refused"  # another object is the photo's: this version was deleted
    GONE = "gone"  # the version no longer exists (an earlier refusal deleted it)


def held_object(photo: PhotoRef) -> PhotoRef | None:
    """The version as S3 holds it (its size, not the event's), or None once deleted."""
    request = {"Bucket": photo.bucket, "Key": photo.key}
    if photo.version_id:
        request["VersionId"] = photo.version_id
    try:
        head = clients.s3().head_object(**request)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _GONE:
            return None
        raise
    # An event without a version (not one S3 sends for a versioned bucket) is about the
    # key's current version: named, so that every event of that version is one upload.
    version_id = photo.version_id or head.get("VersionId")
    return photo.model_copy(
        update={
            "size": int(head["ContentLength"]),
            "etag": str(head["ETag"]).strip('"'),
            "version_id": None if version_id in (None, "null") else version_id,
        }
    )


def claim(photo: PhotoRef, photos: PhotoRepository) -> tuple[Claim, PhotoRef]:
    """Accept ``photo`` as its photo's one upload, or refuse it and delete the version."""
    held = held_object(photo)
    if held is None:
        return Claim.GONE, photo
    version = held.version_id or held.etag or ""
    record = photos.claim_upload(held.id, held.key, version, held.size, held.filename)
    if record is not None:
        # The owner the API recorded before the upload was stored: the workflow's
        # notifications name it.
        return Claim.ACCEPTED, held.model_copy(update={"owner": record.owner})
    if held.version_id:  # an unversioned bucket has no other version to keep
        clients.s3().delete_object(Bucket=held.bucket, Key=held.key, VersionId=held.version_id)
    return Claim.REFUSED, held


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
