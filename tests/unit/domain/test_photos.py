"""Photo records (photoflow.photos): what each write asks of the table, and how records read."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from photoflow import photos
from photoflow.errors import InvalidCursor
from photoflow.photos import PhotoRecord, PhotoRepository, PhotoStatus
from tests.unit.domain.conftest import TABLE
from tests.unit.domain.fakes import FakeTable, client_error

PHOTO_ID = "571754a92d384817a2c1756184e2627f"
ARN = f"arn:aws:states:us-east-1:123456789012:execution:PhotoWorkflow:photo-{PHOTO_ID}-0a1b"
OWNER = "7d2c1e0a-5b8f-4a61-9e3d-2f4b6c8a1e90"
NOW = "2026-12-01T15:52:07.342Z"
KEY = f"uploads/{PHOTO_ID}/harbour.jpg"
CONDITION_FAILED = "ConditionalCheckFailedException"


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(photos, "utc_now", lambda: NOW)


def item(**fields: str) -> dict[str, dict[str, str]]:
    return {"photoId": {"S": PHOTO_ID}, **{name: {"S": value} for name, value in fields.items()}}


def test_accept_creates_the_record_without_stepping_back_one_the_workflow_moved(
    table: FakeTable,
) -> None:
    PhotoRepository(TABLE).accept(
        PHOTO_ID,
        status=PhotoStatus.ACCEPTED,
        filename="harbour.jpg",
        content_type="image/jpeg",
        size=209377,
        source_key=KEY,
        owner=OWNER,
        expires_at=1764690000,
    )
    [(operation, request)] = table.calls
    assert operation == "update_item"
    assert request["UpdateExpression"] == (
        "SET #status = if_not_exists(#status, :status), "
        "createdAt = if_not_exists(createdAt, :now), updatedAt = if_not_exists(updatedAt, :now), "
        "filename = :filename, contentType = :contentType, sourceKey = :sourceKey, "
        "listPartition = :listPartition, #owner = :owner, #size = :size, "
        "expiresAt = if_not_exists(expiresAt, :expiresAt)"
    )
    assert request["ExpressionAttributeValues"] == {
        ":status": {"S": "ACCEPTED"},
        ":now": {"S": NOW},
        ":filename": {"S": "harbour.jpg"},
        ":contentType": {"S": "image/jpeg"},
        ":sourceKey": {"S": KEY},
        ":listPartition": {"S": "photos"},
        ":owner": {"S": OWNER},
        ":size": {"N": "209377"},
        ":expiresAt": {"N": "1764690000"},
    }
    assert "ConditionExpression" not in request


def test_a_presigned_upload_is_accepted_without_a_size_nor_an_expiry(table: FakeTable) -> None:
    PhotoRepository(TABLE).accept(
        PHOTO_ID,
        status=PhotoStatus.AWAITING_UPLOAD,
        filename="big.heic",
        content_type="image/heic",
        size=None,
        source_key=KEY,
        owner=OWNER,
    )
    [(_, request)] = table.calls
    assert request["ExpressionAttributeNames"] == {"#status": "status", "#owner": "owner"}
    assert ":size" not in request["ExpressionAttributeValues"]
    assert request["UpdateExpression"].endswith("#owner = :owner")


def test_a_claim_returns_the_record_as_claimed_with_its_owner(table: FakeTable) -> None:
    table.outcomes.append({"Attributes": item(status="ACCEPTED", createdAt=NOW, owner=OWNER)})
    record = PhotoRepository(TABLE).claim_upload(PHOTO_ID, KEY, "v1", 209377, "harbour.jpg")
    assert record is not None and record.owner == OWNER and record.status is PhotoStatus.ACCEPTED
    [(_, request)] = table.calls
    assert request["ConditionExpression"] == (
        "attribute_not_exists(acceptedVersion) AND attribute_not_exists(deleteRequested)"
        " AND (attribute_not_exists(sourceKey) OR sourceKey = :key)"
    )
    assert request["ExpressionAttributeValues"][":version"] == {"S": "v1"}
    assert request["ExpressionAttributeValues"][":size"] == {"N": "209377"}
    assert request["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"


def test_a_redelivered_claim_of_the_same_version_is_the_claim_again(table: FakeTable) -> None:
    held = item(
        status="PROCESSING", createdAt=NOW, owner=OWNER, acceptedVersion="v1", sourceKey=KEY
    )
    table.outcomes.append(client_error(CONDITION_FAILED, "UpdateItem", Item=held))
    record = PhotoRepository(TABLE).claim_upload(PHOTO_ID, KEY, "v1", 209377, "harbour.jpg")
    assert record is not None and record.status is PhotoStatus.PROCESSING


@pytest.mark.parametrize(
    "held",
    [
        item(status="ACCEPTED", createdAt=NOW, acceptedVersion="v2", sourceKey=KEY),
        item(status="ACCEPTED", createdAt=NOW, acceptedVersion="v1", sourceKey="uploads/x/y"),
        item(
            status="ACCEPTED",
            createdAt=NOW,
            acceptedVersion="v1",
            sourceKey=KEY,
            deleteRequested=NOW,
        ),
    ],
    ids=["another version", "another key", "deleted"],
)
def test_a_claim_of_a_photo_that_is_another_objects_or_deleted_is_refused(
    table: FakeTable, held: dict[str, dict[str, str]]
) -> None:
    table.outcomes.append(client_error(CONDITION_FAILED, "UpdateItem", Item=held))
    assert PhotoRepository(TABLE).claim_upload(PHOTO_ID, KEY, "v1", 1, "harbour.jpg") is None


def test_record_failure_writes_failed_for_this_execution_only(table: FakeTable) -> None:
    assert PhotoRepository(TABLE).record_failure(
        PHOTO_ID, ARN, "States.Timeout", "Processing took too long.", KEY
    )
    [(operation, request)] = table.calls
    assert operation == "update_item"
    assert request["UpdateExpression"] == (
        "SET #status = :failed, #error = :error, #message = :message, "
        "failedAt = if_not_exists(failedAt, :now), updatedAt = :now, "
        "createdAt = if_not_exists(createdAt, :now), "
        "listPartition = :listPartition, sourceKey = :key, executionArn = :arn "
        "REMOVE expiresAt, cause"
    )
    assert request["ConditionExpression"] == (
        "(attribute_not_exists(#status)"
        " OR (#status <> :failed AND #status <> :completed)"
        " OR (#status = :failed AND executionArn = :arn"
        " AND #error = :error AND #message = :message"
        " AND attribute_not_exists(failureAnnouncedAt)))"
        " AND (attribute_not_exists(executionArn) OR executionArn = :arn)"
    )
    assert request["ExpressionAttributeValues"] == {
        ":failed": {"S": "FAILED"},
        ":completed": {"S": "COMPLETED"},
        ":error": {"S": "States.Timeout"},
        ":message": {"S": "Processing took too long."},
        ":now": {"S": NOW},
        ":listPartition": {"S": "photos"},
        ":key": {"S": KEY},
        ":arn": {"S": ARN},
    }


def test_record_failure_leaves_a_terminal_or_newer_record_and_raises_anything_else(
    table: FakeTable,
) -> None:
    repository = PhotoRepository(TABLE)
    table.outcomes.append(client_error(CONDITION_FAILED, "UpdateItem"))
    assert repository.record_failure(PHOTO_ID, ARN, "States.Timeout", "late", KEY) is False
    table.outcomes.append(client_error("ProvisionedThroughputExceededException", "UpdateItem"))
    with pytest.raises(ClientError):
        repository.record_failure(PHOTO_ID, ARN, "States.Timeout", "late", KEY)


def test_an_announced_failure_is_marked_for_its_execution_only(table: FakeTable) -> None:
    table.outcomes.append(client_error(CONDITION_FAILED, "UpdateItem"))
    PhotoRepository(TABLE).mark_failure_announced(PHOTO_ID, ARN)  # a newer execution's: no error
    [(_, request)] = table.calls
    assert request["ConditionExpression"] == "executionArn = :arn"
    assert request["UpdateExpression"] == (
        "SET failureAnnouncedAt = if_not_exists(failureAnnouncedAt, :now)"
    )


def test_a_record_reads_back_with_its_derivatives_and_failure(table: FakeTable) -> None:
    table.items[PHOTO_ID] = {
        **item(
            status="FAILED",
            createdAt="2026-12-01T15:52:05.000Z",
            failedAt=NOW,
            owner=OWNER,
            error="CorruptImage",
            message="the JPEG image data is damaged",
            metadata=json.dumps({"format": "JPEG"}),
        ),
        "size": {"N": "34"},
    }
    record = PhotoRepository(TABLE).get(PHOTO_ID)
    assert record == PhotoRecord(
        photo_id=PHOTO_ID,
        status=PhotoStatus.FAILED,
        created_at="2026-12-01T15:52:05.000Z",
        updated_at="2026-12-01T15:52:05.000Z",
        size=34,
        completed_at=NOW,
        metadata={"format": "JPEG"},
        error="CorruptImage",
        message="the JPEG image data is damaged",
        owner=OWNER,
    )
    assert table.calls[0][1]["ConsistentRead"] is True


def test_another_owners_photo_reads_as_none_exactly_as_a_missing_one(table: FakeTable) -> None:
    table.items[PHOTO_ID] = item(status="COMPLETED", createdAt=NOW, owner=OWNER)
    repository = PhotoRepository(TABLE)
    assert repository.get_owned(PHOTO_ID, "someone-else") is None
    assert repository.get_owned("0" * 32, OWNER) is None
    owned = repository.get_owned(PHOTO_ID, OWNER)
    assert owned is not None and owned.photo_id == PHOTO_ID
    table.items[PHOTO_ID] = item(
        status="COMPLETED", createdAt=NOW, owner=OWNER, deleteRequested=NOW
    )
    assert repository.get_owned(PHOTO_ID, OWNER) is None


def test_a_listing_queries_the_owners_index_and_hands_out_a_cursor_it_takes_back(
    table: FakeTable,
) -> None:
    last = {"photoId": {"S": PHOTO_ID}, "createdAt": {"S": NOW}, "owner": {"S": OWNER}}
    table.query_pages.append(
        {"Items": [item(status="COMPLETED", createdAt=NOW)], "LastEvaluatedKey": last}
    )
    repository = PhotoRepository(TABLE)
    records, cursor = repository.list_newest_first(OWNER, 1)
    assert [r.photo_id for r in records] == [PHOTO_ID]
    assert cursor is not None
    repository.list_newest_first(OWNER, 1, cursor)
    first, second = (request for _, request in table.calls)
    assert first["IndexName"] == "ByOwner"
    assert first["KeyConditionExpression"] == "#owner = :owner"
    assert first["ExpressionAttributeValues"] == {":owner": {"S": OWNER}}
    assert first["FilterExpression"] == "attribute_not_exists(deleteRequested)"
    assert first["ScanIndexForward"] is False
    assert "ExclusiveStartKey" not in first
    assert second["ExclusiveStartKey"] == last
    with pytest.raises(InvalidCursor):
        repository.list_newest_first("someone-else", 1, cursor)
    with pytest.raises(InvalidCursor):
        repository.list_newest_first(OWNER, 1, "not-base64!")


def test_the_sweep_reads_processing_photos_through_the_all_owners_index(table: FakeTable) -> None:
    table.query_pages.append({"Items": [item(status="PROCESSING", createdAt=NOW)]})
    found = list(
        PhotoRepository(TABLE).processing_created_between(
            datetime(2026, 12, 1, 12, tzinfo=UTC), datetime(2026, 12, 1, 15, tzinfo=UTC)
        )
    )
    assert [r.status for r in found] == [PhotoStatus.PROCESSING]
    [request] = table.calls[0][1]["requests"]
    assert request["IndexName"] == "ByCreatedAt"
    assert request["FilterExpression"] == "#status = :processing"
    assert request["ExpressionAttributeValues"] == {
        ":p": {"S": "photos"},
        ":oldest": {"S": "2026-12-01T12:00:00.000Z"},
        ":newest": {"S": "2026-12-01T15:00:00.000Z"},
        ":processing": {"S": "PROCESSING"},
    }


def test_a_deletion_request_is_conditional_on_the_owner(table: FakeTable) -> None:
    repository = PhotoRepository(TABLE)
    table.outcomes.append(
        {"Attributes": item(status="COMPLETED", createdAt=NOW, deleteRequested=NOW)}
    )
    marked = repository.request_deletion(PHOTO_ID, OWNER)
    assert marked is not None and marked.delete_requested == NOW
    table.outcomes.append(client_error(CONDITION_FAILED, "UpdateItem"))
    assert repository.request_deletion(PHOTO_ID, "someone-else") is None
    first, second = (request for _, request in table.calls)
    assert first["ConditionExpression"] == (
        "#owner = :owner AND NOT (attribute_exists(deleteRequested) AND #status = :awaiting)"
    )
    assert second["ExpressionAttributeValues"][":owner"] == {"S": "someone-else"}


def test_only_a_marked_record_is_forgotten_and_only_an_unclaimed_one_discarded(
    table: FakeTable,
) -> None:
    repository = PhotoRepository(TABLE)
    table.outcomes.append(client_error(CONDITION_FAILED, "DeleteItem"))
    repository.forget(PHOTO_ID)  # not marked: left, without an error
    repository.discard_unstored(PHOTO_ID)
    assert [(op, r["ConditionExpression"]) for op, r in table.calls] == [
        ("delete_item", "attribute_exists(deleteRequested)"),
        ("delete_item", "attribute_not_exists(acceptedVersion)"),
    ]
