"""The reconciler (photoflow.reconcile) and deletion (photoflow.deletion): what each ending
of an execution, and each request to delete, writes, removes and announces."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from photoflow import deletion as deletion_module
from photoflow import photos, reconcile
from photoflow.deletion import Deletion, PhotoDeletion
from photoflow.errors import DeletionIncomplete
from photoflow.photos import PhotoRepository
from photoflow.reconcile import EndedExecution, Reconciler
from tests.unit.domain.conftest import BUCKET, TABLE, TOPIC
from tests.unit.domain.fakes import (
    FakeBucket,
    FakeStateMachine,
    FakeTable,
    FakeTopic,
    client_error,
)

PHOTO_ID = "571754a92d384817a2c1756184e2627f"
ARN = f"arn:aws:states:us-east-1:123456789012:execution:PhotoWorkflow:photo-{PHOTO_ID}-0a1b"
NEWER = f"arn:aws:states:us-east-1:123456789012:execution:PhotoWorkflow:photo-{PHOTO_ID}-0c2d"
OWNER = "7d2c1e0a-5b8f-4a61-9e3d-2f4b6c8a1e90"
NOW = "2026-12-01T16:10:00.000Z"
KEY = f"uploads/{PHOTO_ID}/harbour.jpg"
PHOTO = {"id": PHOTO_ID, "bucket": BUCKET, "key": KEY}
TIMED_OUT = "Processing took too long and was stopped. Try again later."
CONDITION_FAILED = "ConditionalCheckFailedException"


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (photos, reconcile, deletion_module):
        monkeypatch.setattr(module, "utc_now", lambda: NOW)


def record(status: str, execution_arn: str = ARN, **fields: str) -> dict[str, Any]:
    values = {"status": status, "createdAt": "2026-12-01T15:52:05.000Z", "owner": OWNER, **fields}
    return {
        "photoId": {"S": PHOTO_ID},
        "executionArn": {"S": execution_arn},
        "sourceKey": {"S": KEY},
        **{name: {"S": value} for name, value in values.items()},
    }


def published(topic: FakeTopic) -> list[tuple[dict[str, Any], dict[str, str]]]:
    return [
        (
            json.loads(p["Message"]),
            {n: a["StringValue"] for n, a in p["MessageAttributes"].items()},
        )
        for p in topic.published
        if p["TopicArn"] == TOPIC
    ]


def test_an_error_is_named_by_the_lambda_error_in_its_cause() -> None:
    cause = json.dumps({"errorType": "KeyError", "errorMessage": "'sizes'"})
    ended = EndedExecution.from_detail(
        {
            "executionArn": ARN,
            "status": "FAILED",
            "error": "States.TaskFailed",
            "cause": cause,
            "input": json.dumps({"photo": PHOTO}),
        }
    )
    assert ended.error_name == "KeyError"
    assert ended.message == (
        "Processing failed because of a problem on our side, not with the photo. Try again later."
    )
    assert EndedExecution(ARN, "TIMED_OUT", None, None, PHOTO).error_name == "States.Timeout"
    assert EndedExecution(ARN, "ABORTED", None, None, PHOTO).error_name == "States.Aborted"
    with pytest.raises(ValueError, match="has no photo in its input"):
        EndedExecution.from_detail({"executionArn": ARN, "status": "FAILED", "input": "{}"})


def test_a_failure_the_state_machine_finished_is_left_alone(
    table: FakeTable, topic: FakeTopic
) -> None:
    ended = EndedExecution(ARN, "FAILED", "PhotoFailed", "recorded", PHOTO)
    assert Reconciler(TABLE, TOPIC).reconcile(ended) == "nothing to do"
    assert table.calls == []
    assert topic.published == []


def test_a_timed_out_execution_is_recorded_failed_and_announced_once(
    table: FakeTable, topic: FakeTopic
) -> None:
    table.items[PHOTO_ID] = record("PROCESSING")
    ended = EndedExecution(ARN, "TIMED_OUT", None, None, PHOTO)
    assert Reconciler(TABLE, TOPIC).reconcile(ended) == "recorded and announced"
    [(write, failed), (mark, announced)] = table.writes()
    assert (write, mark) == ("update_item", "update_item")
    assert failed["ExpressionAttributeValues"][":error"] == {"S": "States.Timeout"}
    assert failed["ExpressionAttributeValues"][":message"] == {"S": TIMED_OUT}
    assert announced["ConditionExpression"] == "executionArn = :arn"
    assert published(topic) == [
        (
            {
                "schemaVersion": "3",
                "eventType": "PhotoFailed",
                "status": "FAILED",
                "photoId": PHOTO_ID,
                "owner": OWNER,
                "source": {"bucket": BUCKET, "key": KEY},
                "executionArn": ARN,
                "occurredAt": NOW,
                "error": {"name": "States.Timeout", "message": TIMED_OUT},
            },
            {
                "eventType": "PhotoFailed",
                "status": "FAILED",
                "error": "States.Timeout",
                "owner": OWNER,
            },
        )
    ]


def test_an_execution_that_completed_its_record_then_timed_out_announces_it_processed(
    table: FakeTable, topic: FakeTopic
) -> None:
    table.items[PHOTO_ID] = record(
        "COMPLETED",
        metadata=json.dumps({"format": "PNG"}),
        derivatives=json.dumps({"thumbnails": [], "filters": [], "pixels": {}}),
    )
    table.outcomes.append(client_error(CONDITION_FAILED, "UpdateItem"))
    ended = EndedExecution(ARN, "TIMED_OUT", None, None, PHOTO)
    assert Reconciler(TABLE, TOPIC).reconcile(ended) == "announced processed"
    [(message, attributes)] = published(topic)
    assert message["eventType"] == "PhotoProcessed"
    assert message["metadata"] == {"format": "PNG"}
    assert message["derivatives"] == {"thumbnails": [], "filters": [], "pixels": {}}
    assert attributes == {
        "eventType": "PhotoProcessed",
        "status": "COMPLETED",
        "format": "PNG",
        "owner": OWNER,
    }


@pytest.mark.parametrize(
    ("held", "outcome"),
    [
        (record("FAILED", error="CorruptImage", failureAnnouncedAt=NOW), "already announced"),
        (record("COMPLETED", execution_arn=NEWER), "already terminal"),
    ],
    ids=["announced already", "a newer execution's"],
)
def test_what_was_announced_or_is_another_executions_is_not_announced_again(
    table: FakeTable, topic: FakeTopic, held: dict[str, Any], outcome: str
) -> None:
    table.items[PHOTO_ID] = held
    table.outcomes.append(client_error(CONDITION_FAILED, "UpdateItem"))
    ended = EndedExecution(ARN, "ABORTED", None, None, PHOTO)
    assert Reconciler(TABLE, TOPIC).reconcile(ended) == outcome
    assert topic.published == []


def test_a_failure_whose_notification_was_not_sent_is_announced_from_its_record(
    table: FakeTable, topic: FakeTopic
) -> None:
    table.items[PHOTO_ID] = record("FAILED", error="CorruptImage", message="damaged")
    ended = EndedExecution(ARN, "FAILED", "PhotoFailed.NotificationNotSent", "throttled", PHOTO)
    assert Reconciler(TABLE, TOPIC).reconcile(ended) == "announced"
    [(message, _)] = published(topic)
    assert message["error"] == {"name": "CorruptImage", "message": "damaged"}
    [(_, mark)] = table.writes()  # no FAILED written over the state machine's own
    assert mark["UpdateExpression"].startswith("SET failureAnnouncedAt")


def test_a_photo_deleted_while_processing_is_deleted_when_its_execution_ends(
    table: FakeTable, topic: FakeTopic, bucket: FakeBucket
) -> None:
    table.items[PHOTO_ID] = record("COMPLETED", deleteRequested=NOW)
    bucket.add(KEY, b"original")
    bucket.add(f"derivatives/{PHOTO_ID}/thumbnails/256.jpg", b"thumbnail")
    bucket.add(f"uploads/{'1' * 32}/other.jpg", b"another photo")
    ended = EndedExecution(ARN, "SUCCEEDED", None, None, PHOTO)
    assert Reconciler(TABLE, TOPIC, BUCKET).reconcile(ended) == "deleted"
    assert {k for k, v in bucket.versions.items() if v} == {f"uploads/{'1' * 32}/other.jpg"}
    assert [m["eventType"] for m, _ in published(topic)] == ["PhotoDeleted"]
    assert PHOTO_ID not in table.items


def test_the_sweep_finishes_stale_photos_whose_execution_ended(
    table: FakeTable, topic: FakeTopic, state_machine: FakeStateMachine
) -> None:
    express = f"arn:aws:states:us-east-1:123456789012:express:PhotoWorkflow:photo-{PHOTO_ID}:1"
    running = ARN.replace("0a1b", "0e3f")
    gone = ARN.replace("0a1b", "0000")
    state_machine.described[running] = {"status": "RUNNING"}
    started = "2026-12-01T14:00:00.000Z"
    table.query_pages.append(
        {
            "Items": [
                record("PROCESSING", express, startedAt=started),
                record("PROCESSING", running),
                record("PROCESSING", gone),
            ]
        }
    )
    table.items[PHOTO_ID] = record("PROCESSING", express)
    now = datetime(2026, 12, 1, 16, 10, tzinfo=UTC)
    outcomes = Reconciler(TABLE, TOPIC).sweep(now, timedelta(minutes=20), timedelta(days=1))
    assert outcomes == Counter({"still running": 2, "recorded and announced": 1})
    [(message, _)] = published(topic)
    assert message["error"]["name"] == "States.Timeout"
    assert message["executionArn"] == express


def test_deleting_a_photo_not_the_callers_touches_nothing(
    table: FakeTable, bucket: FakeBucket, topic: FakeTopic
) -> None:
    table.outcomes.append(client_error(CONDITION_FAILED, "UpdateItem"))
    deletion = PhotoDeletion(BUCKET, PhotoRepository(TABLE), TOPIC)
    assert deletion.request(PHOTO_ID, "someone-else") is Deletion.NOT_FOUND
    assert bucket.calls == []
    assert topic.published == []


def test_a_photo_being_processed_is_deleted_when_its_workflow_ends(
    table: FakeTable, bucket: FakeBucket, topic: FakeTopic
) -> None:
    table.outcomes.append({"Attributes": record("PROCESSING", deleteRequested=NOW)})
    bucket.add(KEY, b"original")
    deletion = PhotoDeletion(BUCKET, PhotoRepository(TABLE), TOPIC)
    assert deletion.request(PHOTO_ID, OWNER) is Deletion.PENDING
    assert bucket.versions[KEY] != []
    assert topic.published == []


def test_a_processed_photo_is_deleted_whole_announced_and_forgotten(
    table: FakeTable, bucket: FakeBucket, topic: FakeTopic
) -> None:
    table.outcomes.append({"Attributes": record("COMPLETED", deleteRequested=NOW)})
    bucket.add(KEY, b"first")
    bucket.add(KEY, b"second")
    bucket.add(f"derivatives/{PHOTO_ID}/filters/sepia.jpg", b"sepia")
    deletion = PhotoDeletion(BUCKET, PhotoRepository(TABLE), TOPIC)
    assert deletion.request(PHOTO_ID, OWNER) is Deletion.DELETED
    assert all(not versions for versions in bucket.versions.values())
    assert published(topic) == [
        (
            {
                "schemaVersion": "3",
                "eventType": "PhotoDeleted",
                "status": "DELETED",
                "photoId": PHOTO_ID,
                "owner": OWNER,
                "source": {"key": KEY},
                "occurredAt": NOW,
            },
            {"eventType": "PhotoDeleted", "status": "DELETED", "owner": OWNER},
        )
    ]
    assert [op for op, _ in table.writes()] == ["update_item", "delete_item"]


def test_a_photo_whose_upload_never_came_keeps_its_marked_record(
    table: FakeTable, bucket: FakeBucket, topic: FakeTopic
) -> None:
    table.outcomes.append({"Attributes": record("AWAITING_UPLOAD", deleteRequested=NOW)})
    deletion = PhotoDeletion(BUCKET, PhotoRepository(TABLE), TOPIC)
    assert deletion.request(PHOTO_ID, OWNER) is Deletion.DELETED
    assert [op for op, _ in table.writes()] == ["update_item"]
    assert len(topic.published) == 1


def test_objects_are_deleted_in_batches_and_a_refusal_is_an_incomplete_deletion(
    monkeypatch: pytest.MonkeyPatch, bucket: FakeBucket
) -> None:
    monkeypatch.setattr(deletion_module, "DELETE_BATCH", 2)
    for _ in range(3):
        bucket.add(KEY, b"version")
    deletion = PhotoDeletion(BUCKET, PhotoRepository(TABLE), TOPIC)
    assert deletion.remove_objects(PHOTO_ID) == 3
    assert [len(r["Delete"]["Objects"]) for op, r in bucket.calls if op == "delete_objects"] == [
        2,
        1,
    ]
    bucket.add(KEY, b"stuck")
    bucket.delete_errors.append({"Key": KEY, "Code": "AccessDenied", "Message": "Access Denied"})
    with pytest.raises(DeletionIncomplete) as incomplete:
        deletion.remove_objects(PHOTO_ID)
    assert str(incomplete.value) == (
        f"photo {PHOTO_ID}: 1 object(s) not deleted, first {KEY}: AccessDenied Access Denied"
    )


RUN = "arn:aws:states:us-east-1:123456789012:execution:photoflow-dev-reprocess:reprocess-1"
OTHER_RUN = RUN.replace("reprocess-1", "reprocess-2")
HELD_UNTIL = "2026-12-01T16:25:00.000Z"  # 15 minutes after NOW
LAPSED_AT = "2026-12-01T16:05:00.000Z"  # before NOW


def test_a_photo_a_reprocessing_run_holds_is_deleted_once_the_run_lets_it_go(
    table: FakeTable, bucket: FakeBucket, topic: FakeTopic
) -> None:
    held = record(
        "COMPLETED", deleteRequested=NOW, reprocessLease=RUN, reprocessLeaseUntil=HELD_UNTIL
    )
    table.outcomes.append({"Attributes": held})
    bucket.add(KEY, b"original")
    deletion = PhotoDeletion(BUCKET, PhotoRepository(TABLE), TOPIC)
    assert deletion.request(PHOTO_ID, OWNER) is Deletion.PENDING
    assert bucket.calls == [] and topic.published == []
    # The run comes to record, finds the mark and hands the deletion over.
    table.items[PHOTO_ID] = held
    bucket.add(f"derivatives/{PHOTO_ID}/thumbnails/512.jpg", b"made by the run")
    assert deletion.finish_after_reprocessing(PHOTO_ID, RUN) == "deleted"
    assert all(not versions for versions in bucket.versions.values())
    assert [m["eventType"] for m, _ in published(topic)] == ["PhotoDeleted"]
    assert PHOTO_ID not in table.items


def test_a_lapsed_hold_does_not_delay_a_deletion(
    table: FakeTable, bucket: FakeBucket, topic: FakeTopic
) -> None:
    lapsed = record(
        "COMPLETED", deleteRequested=NOW, reprocessLease=RUN, reprocessLeaseUntil=LAPSED_AT
    )
    table.outcomes.append({"Attributes": lapsed})
    bucket.add(KEY, b"original")
    deletion = PhotoDeletion(BUCKET, PhotoRepository(TABLE), TOPIC)
    assert deletion.request(PHOTO_ID, OWNER) is Deletion.DELETED
    assert [m["eventType"] for m, _ in published(topic)] == ["PhotoDeleted"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"reprocessLease": OTHER_RUN, "reprocessLeaseUntil": HELD_UNTIL}, "superseded"),
        (
            {
                "deleteRequested": NOW,
                "reprocessLease": OTHER_RUN,
                "reprocessLeaseUntil": HELD_UNTIL,
            },
            "superseded",
        ),
        ({"reprocessLease": RUN, "reprocessLeaseUntil": HELD_UNTIL}, "superseded"),
        (
            {"deleteRequested": NOW, "reprocessLease": OTHER_RUN, "reprocessLeaseUntil": LAPSED_AT},
            "deleted",
        ),
    ],
    ids=["another run holds it", "marked, another run holds it", "not marked", "marked, lapsed"],
)
def test_a_run_that_lost_its_hold_finishes_only_a_deletion_nobody_else_holds(
    table: FakeTable, bucket: FakeBucket, topic: FakeTopic, fields: dict[str, str], expected: str
) -> None:
    table.items[PHOTO_ID] = record("COMPLETED", **fields)
    bucket.add(KEY, b"original")
    deletion = PhotoDeletion(BUCKET, PhotoRepository(TABLE), TOPIC)
    assert deletion.finish_after_reprocessing(PHOTO_ID, RUN) == expected
    assert (PHOTO_ID in table.items) is (expected == "superseded")
    assert len(topic.published) == (1 if expected == "deleted" else 0)


def test_a_run_finds_a_photo_deleted_already_gone(table: FakeTable, topic: FakeTopic) -> None:
    deletion = PhotoDeletion(BUCKET, PhotoRepository(TABLE), TOPIC)
    assert deletion.finish_after_reprocessing(PHOTO_ID, RUN) == "deleted"
    assert topic.published == []
