"""Every request the API makes of the photos table for a caller names that caller.

IAM cannot confine the API's one role to a caller's items (docs/security.md), so these
tests pin down the requests themselves, as botocore's Stubber sees them before anything
is sent: the listing is a query of the ByOwner index keyed by the caller, the deletion
is conditional on the caller owning the record, and a read of another's record is
answered as a missing one.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from photoflow import clients
from photoflow.photos import InvalidCursor, PhotoRepository

TABLE = "photos"
PHOTO = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="unit",
        aws_secret_access_key="unit",
    )
    monkeypatch.setattr(clients, "dynamodb", lambda: client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def item(owner: str, **extra: Any) -> dict[str, Any]:
    return {
        "photoId": {"S": PHOTO},
        "status": {"S": "COMPLETED"},
        "createdAt": {"S": "2026-12-01T10:00:00.000Z"},
        "owner": {"S": owner},
        **extra,
    }


def test_the_listing_queries_the_owner_index_keyed_by_the_caller(stubbed: Stubber) -> None:
    stubbed.add_response(
        "query",
        {"Items": [item("ada")]},
        {
            "TableName": TABLE,
            "IndexName": "ByOwner",
            "KeyConditionExpression": "#owner = :owner",
            "FilterExpression": "attribute_not_exists(deleteRequested)",
            "ExpressionAttributeNames": {"#owner": "owner"},
            "ExpressionAttributeValues": {":owner": {"S": "ada"}},
            "ScanIndexForward": False,
            "Limit": 10,
        },
    )
    records, cursor = PhotoRepository(TABLE).list_newest_first("ada", 10)
    assert [(r.photo_id, r.owner) for r in records] == [(PHOTO, "ada")]
    assert cursor is None


def test_a_cursor_pages_only_through_its_own_owners_listing(stubbed: Stubber) -> None:
    key = {"photoId": {"S": PHOTO}, "createdAt": {"S": "2026-12-01"}, "owner": {"S": "ada"}}
    cursor = base64.urlsafe_b64encode(json.dumps(key).encode()).decode()
    with pytest.raises(InvalidCursor):
        PhotoRepository(TABLE).list_newest_first("grace", 10, cursor)
    stubbed.add_response(
        "query",
        {"Items": []},
        {
            "TableName": TABLE,
            "IndexName": "ByOwner",
            "KeyConditionExpression": "#owner = :owner",
            "FilterExpression": ANY,
            "ExpressionAttributeNames": ANY,
            "ExpressionAttributeValues": {":owner": {"S": "ada"}},
            "ScanIndexForward": False,
            "Limit": 10,
            "ExclusiveStartKey": key,
        },
    )
    assert PhotoRepository(TABLE).list_newest_first("ada", 10, cursor) == ([], None)


def test_another_owners_record_reads_as_missing(stubbed: Stubber) -> None:
    request = {"TableName": TABLE, "Key": {"photoId": {"S": PHOTO}}, "ConsistentRead": True}
    stubbed.add_response("get_item", {"Item": item("grace")}, request)
    stubbed.add_response("get_item", {"Item": item("ada")}, request)
    stubbed.add_response(
        "get_item", {"Item": item("ada", deleteRequested={"S": "2026-12-01"})}, request
    )
    unowned = {k: v for k, v in item("ada").items() if k != "owner"}
    stubbed.add_response("get_item", {"Item": unowned}, request)
    photos = PhotoRepository(TABLE)
    assert photos.get_owned(PHOTO, "ada") is None  # Grace's
    owned = photos.get_owned(PHOTO, "ada")
    assert owned is not None and owned.owner == "ada"
    assert photos.get_owned(PHOTO, "ada") is None  # being deleted
    assert photos.get_owned(PHOTO, "ada") is None  # no owner (put into the bucket)


def test_a_deletion_is_written_only_if_the_caller_owns_the_photo(stubbed: Stubber) -> None:
    stubbed.add_client_error(
        "update_item",
        service_error_code="ConditionalCheckFailedException",
        expected_params={
            "TableName": TABLE,
            "Key": {"photoId": {"S": PHOTO}},
            "UpdateExpression": "SET deleteRequested = if_not_exists(deleteRequested, :now)",
            "ConditionExpression": (
                "#owner = :owner AND NOT (attribute_exists(deleteRequested)"
                " AND #status = :awaiting)"
            ),
            "ExpressionAttributeNames": {"#owner": "owner", "#status": "status"},
            "ExpressionAttributeValues": {
                ":owner": {"S": "grace"},
                ":now": ANY,
                ":awaiting": {"S": "AWAITING_UPLOAD"},
            },
            "ReturnValues": "ALL_NEW",
        },
    )
    assert PhotoRepository(TABLE).request_deletion(PHOTO, "grace") is None
