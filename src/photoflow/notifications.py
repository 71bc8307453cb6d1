"""The photo events PhotoFlow publishes on its topic: the contract with subscribers.

The messages' shape is ``events/notification.schema.json``. Every message the Python
code sends is built here: PhotoFailed and PhotoProcessed when the reconciler finishes
an execution the state machine did not finish itself, PhotoDeleted when a deletion
ends. The state machine's NotifyProcessed and NotifyFailure states build theirs in the
ASL (JSONata); a unit test evaluates those states and holds both to the same fields and
message attributes for the same event, and both to the schema.

A message's attributes are what subscribers' filter policies match: ``eventType``,
``status``, ``format`` (PhotoProcessed) or ``error`` (PhotoFailed), and ``owner`` when
the photo has one (SNS refuses an empty attribute).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from photoflow import clients

SCHEMA_VERSION = "3"  # the schema's version every message follows (version 2 adds no field 3 lacks)
PREVIOUS_VERSION = "2"  # a PhotoProcessed of a record written before version 3's fields
VERSION_3_DERIVATIVES = ("square", "renditions", "duplicateOf")
PROCESSED = "PhotoProcessed"
FAILED = "PhotoFailed"
DELETED = "PhotoDeleted"
UNKNOWN_FORMAT = "unknown"  # a PhotoProcessed's format attribute when its metadata has none


@dataclass(frozen=True)
class Notification:
    """One photo event: the message body and the message attributes it is published with."""

    message: dict[str, Any]
    attributes: dict[str, str]

    @property
    def event_type(self) -> str:
        return str(self.message["eventType"])

    def message_attributes(self) -> dict[str, dict[str, str]]:
        """The attributes as SNS Publish takes them."""
        return {
            name: {"DataType": "String", "StringValue": value}
            for name, value in self.attributes.items()
        }


def _attributes(event_type: str, status: str, owner: str | None, **more: str) -> dict[str, str]:
    attributes = {"eventType": event_type, "status": status, **more}
    if owner:
        attributes["owner"] = owner
    return attributes


def _source(photo: Mapping[str, Any]) -> dict[str, Any]:
    return {"bucket": photo.get("bucket"), "key": photo.get("key")}


def processed(
    photo: Mapping[str, Any],
    execution_arn: str,
    *,
    owner: str | None,
    metadata: dict[str, Any],
    derivatives: dict[str, Any],
    occurred_at: str,
) -> Notification:
    """PhotoProcessed: ``photo`` is the execution's (id, bucket, key), as NotifyProcessed
    reads ``$photo``. Announced again from a record written before version 3 (the
    reconciler does), it says version 2: its derivatives lack what version 3 requires."""
    current = all(name in derivatives for name in VERSION_3_DERIVATIVES)
    message = {
        "schemaVersion": SCHEMA_VERSION if current else PREVIOUS_VERSION,
        "eventType": PROCESSED,
        "status": "COMPLETED",
        "photoId": photo["id"],
        "owner": owner,
        "source": _source(photo),
        "executionArn": execution_arn,
        "occurredAt": occurred_at,
        "metadata": metadata,
        "derivatives": derivatives,
    }
    photo_format = str(metadata.get("format") or "") or UNKNOWN_FORMAT
    return Notification(message, _attributes(PROCESSED, "COMPLETED", owner, format=photo_format))


def failed(
    photo: Mapping[str, Any],
    execution_arn: str,
    *,
    owner: str | None,
    error: str,
    message: str,
    occurred_at: str,
) -> Notification:
    """PhotoFailed: the error's name and its message for people (photoflow.reasons)."""
    body = {
        "schemaVersion": SCHEMA_VERSION,
        "eventType": FAILED,
        "status": "FAILED",
        "photoId": photo["id"],
        "owner": owner,
        "source": _source(photo),
        "executionArn": execution_arn,
        "occurredAt": occurred_at,
        "error": {"name": error, "message": message},
    }
    return Notification(body, _attributes(FAILED, "FAILED", owner, error=error))


def deleted(
    photo_id: str, *, owner: str | None, source_key: str | None, occurred_at: str
) -> Notification:
    """PhotoDeleted: sent by Python only (no state of the workflow deletes)."""
    message = {
        "schemaVersion": SCHEMA_VERSION,
        "eventType": DELETED,
        "status": "DELETED",
        "photoId": photo_id,
        "owner": owner,
        "source": {"key": source_key},
        "occurredAt": occurred_at,
    }
    return Notification(message, _attributes(DELETED, "DELETED", owner))


def publish(topic_arn: str, notification: Notification) -> None:
    """Send ``notification`` on the photo events topic."""
    clients.sns().publish(
        TopicArn=topic_arn,
        Message=json.dumps(notification.message),
        MessageAttributes=notification.message_attributes(),
    )
