"""Photo records: the one place a client reads a photo's state from.

The table holds one item per photo. The API creates it (ACCEPTED, or
AWAITING_UPLOAD for a presigned upload), the ingest claims it for exactly one
uploaded object version (the first whose event arrives; any other version of the
photo's key is refused), the state machine moves it to PROCESSING and then to
exactly one terminal state, COMPLETED or FAILED, through DynamoDB updates written
in the ASL. This module is the Python side: writing the first version of a record,
claiming it, and reading records back.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from photoflow import clients
from photoflow.reasons import describe

LIST_PARTITION = "photos"  # every photo shares one GSI partition: "newest first" across all
BY_CREATED_AT_INDEX = "ByCreatedAt"


class PhotoStatus(StrEnum):
    AWAITING_UPLOAD = "AWAITING_UPLOAD"
    ACCEPTED = "ACCEPTED"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"

    @property
    def terminal(self) -> bool:
        return self in (PhotoStatus.COMPLETED, PhotoStatus.FAILED)


def iso(moment: datetime) -> str:
    """A time as the records keep it: UTC, milliseconds, Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def utc_now() -> str:
    return iso(datetime.now(UTC))


@dataclass(frozen=True)
class PhotoRecord:
    photo_id: str
    status: PhotoStatus
    created_at: str
    updated_at: str
    filename: str | None = None
    content_type: str | None = None
    size: int | None = None
    source_key: str | None = None
    execution_arn: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    derivatives: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    message: str | None = None  # the failure in words for people (photoflow.reasons)
    cause: str | None = None  # kept by records written before messages: never shown as is
    failure_announced_at: str | None = None  # when the reconciler announced the failure

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> PhotoRecord:
        def s(name: str) -> str | None:
            value = item.get(name)
            return value["S"] if value and "S" in value else None

        def j(name: str) -> dict[str, Any]:
            raw = s(name)
            return json.loads(raw) if raw else {}

        size = item.get("size", {}).get("N")
        return cls(
            photo_id=item["photoId"]["S"],
            status=PhotoStatus(item["status"]["S"]),
            created_at=s("createdAt") or "",
            updated_at=s("updatedAt") or s("createdAt") or "",
            filename=s("filename"),
            content_type=s("contentType"),
            size=int(size) if size is not None else None,
            source_key=s("sourceKey"),
            execution_arn=s("executionArn"),
            started_at=s("startedAt"),
            completed_at=s("completedAt") or s("failedAt"),
            derivatives=j("derivatives"),
            metadata=j("metadata"),
            error=s("error"),
            message=s("message"),
            cause=s("cause"),
            failure_announced_at=s("failureAnnouncedAt"),
        )

    @property
    def error_message(self) -> str | None:
        """The failure in words for people: what the workflow recorded, or for a record
        written before messages were, the words of its cause that people may read."""
        if self.message is not None:
            return self.message
        if self.error is None and self.cause is None:
            return None
        return describe(self.error, self.cause)


class PhotoRepository:
    """Reads and first writes of photo records in one DynamoDB table."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def accept(
        self,
        photo_id: str,
        *,
        status: PhotoStatus,
        filename: str,
        content_type: str,
        size: int | None,
        source_key: str,
        expires_at: int | None = None,
    ) -> None:
        """Create the record if it is new; never step back a record the workflow already moved.

        The upload may reach S3, and the workflow may start, before this write
        lands: ``if_not_exists`` keeps whatever status the workflow wrote.
        """
        now = utc_now()
        names = {"#status": "status"}
        values: dict[str, Any] = {
            ":status": {"S": status.value},
            ":now": {"S": now},
            ":filename": {"S": filename},
            ":contentType": {"S": content_type},
            ":sourceKey": {"S": source_key},
            ":listPartition": {"S": LIST_PARTITION},
        }
        sets = [
            "#status = if_not_exists(#status, :status)",
            "createdAt = if_not_exists(createdAt, :now)",
            "updatedAt = if_not_exists(updatedAt, :now)",
            "filename = :filename",
            "contentType = :contentType",
            "sourceKey = :sourceKey",
            "listPartition = :listPartition",
        ]
        if size is not None:
            sets.append("#size = :size")
            names["#size"] = "size"
            values[":size"] = {"N": str(size)}
        if expires_at is not None:
            sets.append("expiresAt = if_not_exists(expiresAt, :expiresAt)")
            values[":expiresAt"] = {"N": str(expires_at)}
        clients.dynamodb().update_item(
            TableName=self.table_name,
            Key={"photoId": {"S": photo_id}},
            UpdateExpression="SET " + ", ".join(sets),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def claim_upload(self, photo_id: str, key: str, version: str, size: int, filename: str) -> bool:
        """Make ``version`` of ``key`` the photo's one accepted upload; False when another
        object is the photo's already (a reused or concurrent upload, another key).

        Atomic (a conditional write), and true again for the version that holds the claim,
        so a redelivered event goes on where the first delivery stopped. The size recorded
        is the object's, as S3 holds it, whatever the client declared.
        """
        try:
            clients.dynamodb().update_item(
                TableName=self.table_name,
                Key={"photoId": {"S": photo_id}},
                UpdateExpression=(
                    "SET #status = :accepted, acceptedVersion = :version, #size = :size, "
                    "sourceKey = :key, filename = if_not_exists(filename, :filename), "
                    "createdAt = if_not_exists(createdAt, :now), updatedAt = :now, "
                    "listPartition = :listPartition REMOVE expiresAt"
                ),
                ConditionExpression=(
                    "attribute_not_exists(acceptedVersion)"
                    " AND (attribute_not_exists(sourceKey) OR sourceKey = :key)"
                ),
                ExpressionAttributeNames={"#status": "status", "#size": "size"},
                ExpressionAttributeValues={
                    ":accepted": {"S": PhotoStatus.ACCEPTED.value},
                    ":version": {"S": version},
                    ":size": {"N": str(size)},
                    ":key": {"S": key},
                    ":filename": {"S": filename},
                    ":now": {"S": utc_now()},
                    ":listPartition": {"S": LIST_PARTITION},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            held = error.response.get("Item") or {}
            return bool(
                held.get("acceptedVersion", {}).get("S") == version
                and held.get("sourceKey", {}).get("S") == key
            )
        return True

    def mark_failure_announced(self, photo_id: str, execution_arn: str) -> None:
        """Note that ``execution_arn``'s failure of the photo was announced, so that no other
        route to the same failure (a sweep, a status-change event) announces it again."""
        now = utc_now()
        try:
            clients.dynamodb().update_item(
                TableName=self.table_name,
                Key={"photoId": {"S": photo_id}},
                UpdateExpression="SET failureAnnouncedAt = if_not_exists(failureAnnouncedAt, :now)",
                ConditionExpression="executionArn = :arn",
                ExpressionAttributeValues={":now": {"S": now}, ":arn": {"S": execution_arn}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise  # (a newer execution's record: not this announcement's to mark)

    def get(self, photo_id: str) -> PhotoRecord | None:
        item = (
            clients.dynamodb()
            .get_item(
                TableName=self.table_name, Key={"photoId": {"S": photo_id}}, ConsistentRead=True
            )
            .get("Item")
        )
        return PhotoRecord.from_item(item) if item else None

    def list_newest_first(
        self, limit: int, cursor: str | None = None
    ) -> tuple[list[PhotoRecord], str | None]:
        """One page of photos, newest first, and the cursor of the next page (None at the end)."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": BY_CREATED_AT_INDEX,
            "KeyConditionExpression": "listPartition = :p",
            "ExpressionAttributeValues": {":p": {"S": LIST_PARTITION}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = decode_cursor(cursor)
        page = clients.dynamodb().query(**query)
        records = [PhotoRecord.from_item(item) for item in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return records, encode_cursor(last) if last else None

    def processing_created_between(
        self, oldest: datetime, newest: datetime
    ) -> Iterator[PhotoRecord]:
        """Photos still PROCESSING whose record was created in [oldest, newest]."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": BY_CREATED_AT_INDEX,
            "KeyConditionExpression": (
                "listPartition = :p AND createdAt BETWEEN :oldest AND :newest"
            ),
            "FilterExpression": "#status = :processing",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":p": {"S": LIST_PARTITION},
                ":oldest": {"S": iso(oldest)},
                ":newest": {"S": iso(newest)},
                ":processing": {"S": PhotoStatus.PROCESSING.value},
            },
        }
        for page in clients.dynamodb().get_paginator("query").paginate(**query):
            for item in page.get("Items", []):
                yield PhotoRecord.from_item(item)


class InvalidCursor(ValueError):
    """A pagination cursor that this API did not hand out."""


def encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError as error:
        raise InvalidCursor("cursor is not one this API returned") from error
    expected = {"photoId", "createdAt", "listPartition"}
    if not isinstance(key, dict) or set(key) != expected:
        raise InvalidCursor("cursor is not one this API returned")
    return key
