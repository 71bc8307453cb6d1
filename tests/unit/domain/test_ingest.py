"""From S3 notifications to executions (photoflow.ingest): one accepted object per photo,
one execution per accepted object."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from photoflow.errors import NotAnS3Notification
from photoflow.ingest import Claim, claim, held_object, photos_in_notification, start_workflow
from photoflow.models import PhotoRef
from photoflow.photos import PhotoRepository
from tests.unit.domain.conftest import BUCKET, STATE_MACHINE, TABLE
from tests.unit.domain.fakes import FakeBucket, FakeStateMachine, FakeTable, client_error

PHOTO_ID = "571754a92d384817a2c1756184e2627f"
OWNER = "7d2c1e0a-5b8f-4a61-9e3d-2f4b6c8a1e90"
KEY = f"uploads/{PHOTO_ID}/harbour photo.jpg"


def notification(event_name: str = "ObjectCreated:Post", key: str = KEY) -> str:
    return json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "eventName": event_name,
                    "eventTime": "2026-12-01T15:52:05.367Z",
                    "s3": {
                        "bucket": {"name": BUCKET},
                        "object": {
                            "key": key.replace(" ", "+"),
                            "size": 209377,
                            "eTag": "d588df887c1cb5c25f3a4824e57fba4c",
                            "versionId": "v1",
                        },
                    },
                }
            ]
        }
    )


def photo(version: str | None = "v1") -> PhotoRef:
    return PhotoRef(
        id=PHOTO_ID,
        bucket=BUCKET,
        key=KEY,
        versionId=version,
        etag="d588df887c1cb5c25f3a4824e57fba4c",
        size=1,
        filename="harbour photo.jpg",
        uploadedAt="2026-12-01T15:52:05.367Z",
    )


def test_a_notification_announces_its_created_objects_with_decoded_keys() -> None:
    [announced] = photos_in_notification(notification())
    assert announced == PhotoRef(
        id=PHOTO_ID,
        bucket=BUCKET,
        key=KEY,
        versionId="v1",
        etag="d588df887c1cb5c25f3a4824e57fba4c",
        size=209377,
        filename="harbour photo.jpg",
        uploadedAt="2026-12-01T15:52:05.367Z",
    )
    assert photos_in_notification(notification("ObjectRemoved:Delete")) == []
    assert photos_in_notification(json.dumps({"Event": "s3:TestEvent"})) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "message body is not JSON: '{not json'"),
        ("[]", "message body is not a JSON object"),
        ('{"Message": "hi"}', "no Records in message: ['Message']"),
    ],
)
def test_what_is_not_an_s3_notification_is_refused(body: str, message: str) -> None:
    with pytest.raises(NotAnS3Notification) as refused:
        photos_in_notification(body)
    assert str(refused.value) == message


def test_the_held_object_is_the_version_as_s3_holds_it(bucket: FakeBucket) -> None:
    bucket.add(KEY, b"x" * 12)
    held = held_object(photo())
    assert held is not None
    assert (held.size, held.etag, held.version_id) == (12, "etag-v1", "v1")
    assert held_object(photo("v9")) is None  # deleted by an earlier refusal
    bucket.errors["head_object"] = client_error("SlowDown", "HeadObject")
    with pytest.raises(ClientError):
        held_object(photo())


def test_the_first_version_claims_the_photo_and_names_its_owner(
    bucket: FakeBucket, table: FakeTable
) -> None:
    bucket.add(KEY, b"x" * 12)
    table.outcomes.append(
        {
            "Attributes": {
                "photoId": {"S": PHOTO_ID},
                "status": {"S": "ACCEPTED"},
                "owner": {"S": OWNER},
            }
        }
    )
    outcome, claimed = claim(photo(), PhotoRepository(TABLE))
    assert outcome is Claim.ACCEPTED
    assert claimed.owner == OWNER
    assert table.calls[0][1]["ExpressionAttributeValues"][":version"] == {"S": "v1"}
    assert bucket.versions[KEY] != []


def test_another_version_is_refused_and_deleted(bucket: FakeBucket, table: FakeTable) -> None:
    bucket.add(KEY, b"first")
    second = bucket.add(KEY, b"second")
    table.outcomes.append(client_error("ConditionalCheckFailedException", "UpdateItem", Item={}))
    outcome, _ = claim(photo(second), PhotoRepository(TABLE))
    assert outcome is Claim.REFUSED
    assert [v["VersionId"] for v in bucket.versions[KEY]] == ["v1"]
    assert ("delete_object", {"Bucket": BUCKET, "Key": KEY, "VersionId": "v2"}) in bucket.calls


def test_a_version_gone_already_is_neither_claimed_nor_deleted(
    bucket: FakeBucket, table: FakeTable
) -> None:
    outcome, _ = claim(photo("v7"), PhotoRepository(TABLE))
    assert outcome is Claim.GONE
    assert table.calls == []


def test_one_execution_per_object_version(state_machine: FakeStateMachine) -> None:
    arn = start_workflow(photo(), STATE_MACHINE)
    name = f"photo-{PHOTO_ID}-ba827ee5288784940cc02478"  # of bucket, key and version
    assert arn == f"arn:aws:states:us-east-1:123456789012:execution:PhotoWorkflow:{name}"
    started = state_machine.started[name]
    assert json.loads(started["input"])["photo"]["versionId"] == "v1"
    assert start_workflow(photo(), STATE_MACHINE) is None  # a redelivery starts nothing
    assert list(state_machine.started) == [name]
