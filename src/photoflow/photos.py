"""Photo records: the one place a client reads a photo's state from.

The table holds one item per photo. The API creates it (ACCEPTED, or
AWAITING_UPLOAD for a presigned upload), the ingest claims it for exactly one
uploaded object version (the first whose event arrives; any other version of the
photo's key is refused), the state machine moves it to PROCESSING and then to
exactly one terminal state, COMPLETED or FAILED, through DynamoDB updates written
in the ASL. This module is the Python side, and every write Python makes to the table
goes through it: the first version of a record, its claim, the FAILED the reconciler
records when the state machine could not, the marks of an announced failure and of a
requested deletion, the record's removal, and reading records back.

Every record the API writes carries its ``owner``: the caller as API Gateway's
authorizer established it (a Cognito user's ``sub``, or an IAM principal's ARN),
never a value from the request body. A caller reads, lists and deletes only the
records it owns: reads compare the owner, writes are conditional on it, and a
listing is a query of the ``ByOwner`` index keyed by the caller. A record that is
not the caller's reads exactly like one that does not exist. An object put into
``uploads/`` by other means than the API gets a record with no owner, which no
caller sees.
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
from photoflow.clients import DynamoDBClient
from photoflow.errors import InvalidCursor
from photoflow.reasons import describe

# Every photo shares one partition of the ByCreatedAt index: the operators' view across all
# owners (the reconciler's sweep). Callers list through ByOwner, keyed by their own identity.
LIST_PARTITION = "photos"
BY_CREATED_AT_INDEX = "ByCreatedAt"
BY_OWNER_INDEX = "ByOwner"
HASH_BAND_INDEX = "ByHashBand{band}"  # photoflow.duplicates: a band of the hash, per owner
# How long a record the API wrote before its upload stayed unclaimed is kept.
UNCLAIMED_RECORD_SECONDS = 86400


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
    owner: str | None = None
    delete_requested: str | None = None
    config_version: int | None = None  # the ConfigVersion that made its derivatives
    reprocess_lease: str | None = None  # the reprocessing run that holds the photo
    reprocess_lease_until: str | None = None  # when that hold lapses
    reprocessed_at: str | None = None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> PhotoRecord:
        def s(name: str) -> str | None:
            value = item.get(name)
            return value["S"] if value and "S" in value else None

        def j(name: str) -> dict[str, Any]:
            raw = s(name)
            return json.loads(raw) if raw else {}

        size = item.get("size", {}).get("N")
        version = item.get("configVersion", {}).get("N")
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
            owner=s("owner"),
            delete_requested=s("deleteRequested"),
            config_version=int(version) if version is not None else None,
            reprocess_lease=s("reprocessLease"),
            reprocess_lease_until=s("reprocessLeaseUntil"),
            reprocessed_at=s("reprocessedAt"),
        )

    def reprocessing(self, now: str) -> bool:
        """Whether a reprocessing run holds the photo at ``now`` (its steps may still write
        derivatives): its claim is there and has not lapsed."""
        return (
            self.reprocess_lease is not None
            and self.reprocess_lease_until is not None
            and self.reprocess_lease_until > now
        )

    def visible_to(self, caller: str) -> bool:
        """Whether ``caller`` may see this record: their own, and not being deleted."""
        return self.owner is not None and self.owner == caller and self.delete_requested is None

    @property
    def error_message(self) -> str | None:
        """The failure in words for people: what the workflow recorded, or for a record
        written before messages were, the words of its cause that people may read."""
        if self.message is not None:
            return self.message
        if self.error is None and self.cause is None:
            return None
        return describe(self.error, self.cause)


@dataclass(frozen=True)
class HashedPhoto:
    """A photo as a hash band index holds it: enough to compare hashes and pick the earliest."""

    photo_id: str
    created_at: str
    phash: str


class PhotoRepository:
    """Every read and write of photo records in one DynamoDB table that Python makes (the
    state machine's own writes are its MarkProcessing, RecordResult and RecordFailure)."""

    def __init__(self, table_name: str, dynamodb: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb  # the process's client (photoflow.clients) when None

    def _db(self) -> DynamoDBClient:
        return self._dynamodb if self._dynamodb is not None else clients.dynamodb()

    def accept(
        self,
        photo_id: str,
        *,
        status: PhotoStatus,
        filename: str,
        content_type: str,
        size: int | None,
        source_key: str,
        owner: str,
        expires_at: int | None = None,
    ) -> None:
        """Create the record if it is new; never step back a record the workflow already moved.

        ``if_not_exists`` keeps whatever status the workflow wrote, should it have
        started first. ``owner`` is the authenticated caller.
        """
        now = utc_now()
        names = {"#status": "status", "#owner": "owner"}
        values: dict[str, Any] = {
            ":status": {"S": status.value},
            ":now": {"S": now},
            ":filename": {"S": filename},
            ":contentType": {"S": content_type},
            ":sourceKey": {"S": source_key},
            ":listPartition": {"S": LIST_PARTITION},
            ":owner": {"S": owner},
        }
        sets = [
            "#status = if_not_exists(#status, :status)",
            "createdAt = if_not_exists(createdAt, :now)",
            "updatedAt = if_not_exists(updatedAt, :now)",
            "filename = :filename",
            "contentType = :contentType",
            "sourceKey = :sourceKey",
            "listPartition = :listPartition",
            "#owner = :owner",
        ]
        if size is not None:
            sets.append("#size = :size")
            names["#size"] = "size"
            values[":size"] = {"N": str(size)}
        if expires_at is not None:
            sets.append("expiresAt = if_not_exists(expiresAt, :expiresAt)")
            values[":expiresAt"] = {"N": str(expires_at)}
        self._db().update_item(
            TableName=self.table_name,
            Key={"photoId": {"S": photo_id}},
            UpdateExpression="SET " + ", ".join(sets),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def claim_upload(
        self, photo_id: str, key: str, version: str, size: int, filename: str
    ) -> PhotoRecord | None:
        """Make ``version`` of ``key`` the photo's one accepted upload, and return the record
        as claimed (with its owner); None when another object is the photo's already (a
        reused or concurrent upload, another key) or its owner deleted it.

        Atomic (a conditional write), and true again for the version that holds the claim,
        so a redelivered event goes on where the first delivery stopped. The size recorded
        is the object's, as S3 holds it, whatever the client declared.
        """
        try:
            response = self._db().update_item(
                TableName=self.table_name,
                Key={"photoId": {"S": photo_id}},
                UpdateExpression=(
                    "SET #status = :accepted, acceptedVersion = :version, #size = :size, "
                    "sourceKey = :key, filename = if_not_exists(filename, :filename), "
                    "createdAt = if_not_exists(createdAt, :now), updatedAt = :now, "
                    "listPartition = :listPartition REMOVE expiresAt"
                ),
                # A photo its owner deleted before its upload came accepts none.
                ConditionExpression=(
                    "attribute_not_exists(acceptedVersion)"
                    " AND attribute_not_exists(deleteRequested)"
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
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            held = error.response.get("Item") or {}
            claimed = (
                held.get("acceptedVersion", {}).get("S") == version
                and held.get("sourceKey", {}).get("S") == key
                and "deleteRequested" not in held
            )
            return PhotoRecord.from_item(held) if claimed else None
        return PhotoRecord.from_item(response["Attributes"])

    def mark_failure_announced(self, photo_id: str, execution_arn: str) -> None:
        """Note that ``execution_arn``'s failure of the photo was announced, so that no other
        route to the same failure (a sweep, a status-change event) announces it again."""
        now = utc_now()
        try:
            self._db().update_item(
                TableName=self.table_name,
                Key={"photoId": {"S": photo_id}},
                UpdateExpression="SET failureAnnouncedAt = if_not_exists(failureAnnouncedAt, :now)",
                ConditionExpression="executionArn = :arn",
                ExpressionAttributeValues={":now": {"S": now}, ":arn": {"S": execution_arn}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise  # (a newer execution's record: not this announcement's to mark)

    def record_failure(
        self, photo_id: str, execution_arn: str, error: str, message: str, source_key: str
    ) -> bool:
        """Record FAILED for ``execution_arn``'s end that the state machine did not record
        itself (the reconciler's write); False when the record was left as it was.

        Never overwrites a terminal state, nor a newer execution's record; but the failure
        this very execution recorded before its announcement failed is written again
        (unchanged), so that the retry announces it: unless it was announced (by a sweep
        and the execution's event, both about the same failure).
        """
        now = utc_now()
        try:
            self._db().update_item(
                TableName=self.table_name,
                Key={"photoId": {"S": photo_id}},
                UpdateExpression=(
                    "SET #status = :failed, #error = :error, #message = :message, "
                    "failedAt = if_not_exists(failedAt, :now), updatedAt = :now, "
                    "createdAt = if_not_exists(createdAt, :now), "
                    "listPartition = :listPartition, sourceKey = :key, executionArn = :arn "
                    "REMOVE expiresAt, cause"
                ),
                ConditionExpression=(
                    "(attribute_not_exists(#status)"
                    " OR (#status <> :failed AND #status <> :completed)"
                    " OR (#status = :failed AND executionArn = :arn"
                    " AND #error = :error AND #message = :message"
                    " AND attribute_not_exists(failureAnnouncedAt)))"
                    " AND (attribute_not_exists(executionArn) OR executionArn = :arn)"
                ),
                ExpressionAttributeNames={
                    "#status": "status",
                    "#error": "error",
                    "#message": "message",
                },
                ExpressionAttributeValues={
                    ":failed": {"S": PhotoStatus.FAILED.value},
                    ":completed": {"S": PhotoStatus.COMPLETED.value},
                    ":error": {"S": error},
                    ":message": {"S": message},
                    ":now": {"S": now},
                    ":listPartition": {"S": LIST_PARTITION},
                    ":key": {"S": source_key},
                    ":arn": {"S": execution_arn},
                },
            )
        except ClientError as failure:
            if failure.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, photo_id: str) -> PhotoRecord | None:
        item = (
            self._db()
            .get_item(
                TableName=self.table_name, Key={"photoId": {"S": photo_id}}, ConsistentRead=True
            )
            .get("Item")
        )
        return PhotoRecord.from_item(item) if item else None

    def get_owned(self, photo_id: str, owner: str) -> PhotoRecord | None:
        """The photo if ``owner`` may see it; None for another's photo, exactly as for none."""
        record = self.get(photo_id)
        return record if record is not None and record.visible_to(owner) else None

    def completed_in_hash_band(self, band: int, key: str) -> Iterator[HashedPhoto]:
        """The completed photos whose hash has ``key`` for its band ``band``: a query of
        that band's index, never a scan."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": HASH_BAND_INDEX.format(band=band),
            "KeyConditionExpression": "#band = :key",
            "FilterExpression": "#status = :completed",
            "ExpressionAttributeNames": {"#band": f"hashBand{band}", "#status": "status"},
            "ExpressionAttributeValues": {
                ":key": {"S": key},
                ":completed": {"S": PhotoStatus.COMPLETED.value},
            },
        }
        for page in self._db().get_paginator("query").paginate(**query):
            for item in page.get("Items", []):
                yield HashedPhoto(item["photoId"]["S"], item["createdAt"]["S"], item["phash"]["S"])

    def list_newest_first(
        self, owner: str, limit: int, cursor: str | None = None
    ) -> tuple[list[PhotoRecord], str | None]:
        """One page of ``owner``'s photos, newest first, and the cursor of the next page
        (None at the end): a query of the ByOwner index keyed by the owner, so no other
        owner's record is ever read. Photos being deleted are left out."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": BY_OWNER_INDEX,
            "KeyConditionExpression": "#owner = :owner",
            "FilterExpression": "attribute_not_exists(deleteRequested)",
            "ExpressionAttributeNames": {"#owner": "owner"},
            "ExpressionAttributeValues": {":owner": {"S": owner}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = decode_cursor(cursor, owner)
        page = self._db().query(**query)
        records = [PhotoRecord.from_item(item) for item in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return records, encode_cursor(last) if last else None

    def processing_created_between(
        self, oldest: datetime, newest: datetime
    ) -> Iterator[PhotoRecord]:
        """Photos still PROCESSING whose record was created in [oldest, newest]."""
        return self._created_between(
            oldest,
            newest,
            "#status = :processing",
            {":processing": {"S": PhotoStatus.PROCESSING.value}},
        )

    def _created_between(
        self, oldest: datetime, newest: datetime, condition: str, values: dict[str, Any]
    ) -> Iterator[PhotoRecord]:
        """Every owner's records created in [oldest, newest] that meet ``condition`` (the
        sweep's view, through the all-owners index)."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": BY_CREATED_AT_INDEX,
            "KeyConditionExpression": (
                "listPartition = :p AND createdAt BETWEEN :oldest AND :newest"
            ),
            "FilterExpression": condition,
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":p": {"S": LIST_PARTITION},
                ":oldest": {"S": iso(oldest)},
                ":newest": {"S": iso(newest)},
                **values,
            },
        }
        for page in self._db().get_paginator("query").paginate(**query):
            for item in page.get("Items", []):
                yield PhotoRecord.from_item(item)

    def request_deletion(self, photo_id: str, owner: str) -> PhotoRecord | None:
        """Mark ``owner``'s photo as to be deleted, and return it as it now is; None when it
        is not theirs, does not exist, or was deleted already (its upload never came).

        The mark is written before anything is removed, and conditionally on the owner:
        the workflow's end, and any retry of the deletion, see it and finish the job.
        """
        try:
            response = self._db().update_item(
                TableName=self.table_name,
                Key={"photoId": {"S": photo_id}},
                UpdateExpression="SET deleteRequested = if_not_exists(deleteRequested, :now)",
                ConditionExpression=(
                    "#owner = :owner AND NOT (attribute_exists(deleteRequested)"
                    " AND #status = :awaiting)"
                ),
                ExpressionAttributeNames={"#owner": "owner", "#status": "status"},
                ExpressionAttributeValues={
                    ":owner": {"S": owner},
                    ":now": {"S": utc_now()},
                    ":awaiting": {"S": PhotoStatus.AWAITING_UPLOAD.value},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        return PhotoRecord.from_item(response["Attributes"])

    def forget(self, photo_id: str) -> None:
        """Delete the record of a photo whose deletion was requested (and no other)."""
        try:
            self._db().delete_item(
                TableName=self.table_name,
                Key={"photoId": {"S": photo_id}},
                ConditionExpression="attribute_exists(deleteRequested)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def discard_unstored(self, photo_id: str) -> None:
        """Delete the record written for an upload that was then not stored."""
        self._db().delete_item(
            TableName=self.table_name,
            Key={"photoId": {"S": photo_id}},
            ConditionExpression="attribute_not_exists(acceptedVersion)",
        )

    def marked_for_deletion_created_between(
        self, oldest: datetime, newest: datetime
    ) -> Iterator[PhotoRecord]:
        """Photos marked for deletion, in a terminal state and held by no reprocessing run,
        created in [oldest, newest]."""
        return self._created_between(
            oldest,
            newest,
            "attribute_exists(deleteRequested) AND #status IN (:completed, :failed)"
            " AND (attribute_not_exists(reprocessLease) OR reprocessLeaseUntil < :now)",
            {
                ":completed": {"S": PhotoStatus.COMPLETED.value},
                ":failed": {"S": PhotoStatus.FAILED.value},
                ":now": {"S": utc_now()},
            },
        )

    def completed_ids(self, prefix: str = "", before_version: int | None = None) -> Iterator[str]:
        """The ids of every COMPLETED photo nobody is deleting, whose id starts with
        ``prefix`` and, given ``before_version``, made by an older ConfigVersion (or by none
        recorded): what a reprocessing run may select. One Scan, its pages in turn."""
        conditions = ["#status = :completed", "attribute_not_exists(deleteRequested)"]
        values: dict[str, Any] = {":completed": {"S": PhotoStatus.COMPLETED.value}}
        if prefix:
            conditions.append("begins_with(photoId, :prefix)")
            values[":prefix"] = {"S": prefix}
        if before_version is not None:
            conditions.append("(attribute_not_exists(configVersion) OR configVersion < :version)")
            values[":version"] = {"N": str(before_version)}
        scan = {
            "TableName": self.table_name,
            "ProjectionExpression": "photoId",
            "FilterExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values,
        }
        for page in self._db().get_paginator("scan").paginate(**scan):
            for item in page.get("Items", []):
                yield item["photoId"]["S"]


def encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def decode_cursor(cursor: str, owner: str) -> dict[str, Any]:
    """The index key a cursor holds; only one of ``owner``'s own listings is accepted."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError as error:
        raise InvalidCursor("cursor is not one this API returned") from error
    expected = {"photoId", "createdAt", "owner"}
    if (
        not isinstance(key, dict)
        or set(key) != expected
        or key["owner"] != {"S": owner}
        or not all(isinstance(value, dict) and set(value) == {"S"} for value in key.values())
    ):
        raise InvalidCursor("cursor is not one this API returned")
    return key
