"""Reprocessing stored photos on the local stack: the ReprocessWorkflow's Distributed Map
over a few hundred photos with faults injected (failed batches tolerated and reported,
then finished by a redrive), and what a run does to photos that someone else holds:
one still processing for its upload, one deleted while the run makes it, and two runs
over the same photos at once. Nothing is lost, each photo is announced once per run that
made it, and no record is left claimed or half-written."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from photoflow.keys import new_photo_id
from photoflow_local import reprocessing
from photoflow_local.stack import LocalStack
from tests.integration.test_ownership import ADA, delete, objects, upload
from tests.photos import make_photo
from tests.support import QUIET_SECONDS, QueueWatcher, poll, terminal_record

PHOTOS = 200
BATCH = 10
STORED_AT = "2026-11-01T09:00:00.000Z"


@pytest.fixture(scope="module")
def reprocessed_queue(local_stack: LocalStack, aws: Any) -> QueueWatcher:
    """A subscriber of PhotoReprocessed events only, as any subscriber would filter for them."""
    url = aws.sqs.create_queue(QueueName="test-reprocessed-photos")["QueueUrl"]
    arn = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    local_stack.client("sns").subscribe(
        TopicArn=local_stack.output("PhotoEventsTopicArn"),
        Protocol="sqs",
        Endpoint=arn["QueueArn"],
        Attributes={
            "RawMessageDelivery": "true",
            "FilterPolicyScope": "MessageAttributes",
            "FilterPolicy": '{"eventType": ["PhotoReprocessed"]}',
        },
    )
    return QueueWatcher(aws.sqs, url)


@pytest.fixture(scope="module")
def stored(local_stack: LocalStack) -> list[str]:
    """A few hundred small photos stored by an earlier version of PhotoFlow: each original
    in the bucket and a COMPLETED record without a configuration version, as photos made
    before versions were recorded are. (Put with the bucket's upload events paused: what
    is under test is reprocessing them, not their upload.)"""
    s3 = local_stack.client("s3")
    bucket = local_stack.output("PhotosBucketName")
    events = s3.get_bucket_notification_configuration(Bucket=bucket)
    events.pop("ResponseMetadata", None)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    ids = [new_photo_id() for _ in range(PHOTOS)]
    try:
        for n, photo_id in enumerate(ids):
            data = make_photo(160, 120, seed=n)
            key = f"uploads/{photo_id}/p{n}.jpg"
            version = s3.put_object(Bucket=bucket, Key=key, Body=data)["VersionId"]
            local_stack.client("dynamodb").put_item(
                TableName=local_stack.output("PhotosTableName"),
                Item={
                    "photoId": {"S": photo_id},
                    "status": {"S": "COMPLETED"},
                    "sourceKey": {"S": key},
                    "acceptedVersion": {"S": version},
                    "size": {"N": str(len(data))},
                    "filename": {"S": f"p{n}.jpg"},
                    "listPartition": {"S": "photos"},
                    "createdAt": {"S": STORED_AT},
                    "updatedAt": {"S": STORED_AT},
                    "completedAt": {"S": STORED_AT},
                    "derivatives": {"S": "{}"},
                    "metadata": {"S": "{}"},
                },
            )
    finally:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=events)
    return sorted(ids)


@pytest.fixture
def faults(local_stack: LocalStack) -> Iterator[dict[tuple[str, str], str]]:
    """(function, photo id) -> the error that function fails with for that photo."""
    injected: dict[tuple[str, str], str] = {}

    def fault(function_name: str, event: str) -> str | None:
        photo = json.loads(event).get("photo", {}) if event.startswith("{") else {}
        return injected.get((function_name, photo.get("id", "")))

    local_stack.lambdas.fault = fault
    yield injected
    local_stack.lambdas.fault = None


def start(local_stack: LocalStack, ids: list[str], **options: Any) -> str:
    run = reprocessing.start(
        local_stack.client("stepfunctions"),
        local_stack.client("s3"),
        local_stack.output("ReprocessWorkflowArn"),
        local_stack.output("PhotosBucketName"),
        ids,
        batch_size=BATCH,
        **options,
    )
    return run.execution_arn


def ended(local_stack: LocalStack, run: str, timeout: float = 300) -> reprocessing.Progress:
    sfn = local_stack.client("stepfunctions")
    bucket = local_stack.output("PhotosBucketName")
    return poll(
        lambda: reprocessing.progress(sfn, run, bucket),
        lambda p: p.done,
        timeout=timeout,
        what=run,
    )


def results(local_stack: LocalStack, progress: reprocessing.Progress) -> reprocessing.Outcomes:
    assert progress.results is not None, progress
    return reprocessing.outcomes(local_stack.client("s3"), *progress.results)


def record(local_stack: LocalStack, photo_id: str) -> dict[str, Any]:
    item = local_stack.photo_item(photo_id)
    assert item is not None, photo_id
    return {name: next(iter(value.values())) for name, value in item.items()}


def settled(queue: QueueWatcher, expected: int, timeout: float = 120) -> list[dict[str, Any]]:
    """The queue's messages once ``expected`` arrived and nothing more came for a quiet
    period (taken: the next call counts what comes after)."""
    poll(lambda: len(queue._receive()), lambda n: n >= expected, timeout=timeout, what="messages")
    seen, since = len(queue.messages), time.monotonic()

    def quiet(n: int) -> bool:
        nonlocal seen, since
        if n != seen:
            seen, since = n, time.monotonic()
        return time.monotonic() - since >= QUIET_SECONDS

    poll(lambda: len(queue._receive()), quiet, timeout=timeout, what="no new message")
    found = list(queue.messages)
    queue.messages.clear()
    return found


def per_photo(messages: list[dict[str, Any]]) -> Counter[str]:
    return Counter(m["body"]["photoId"] for m in messages)


def test_a_backfill_tolerates_and_reports_failed_batches_and_a_redrive_finishes_them(
    local_stack: LocalStack,
    stored: list[str],
    faults: dict[tuple[str, str], str],
    reprocessed_queue: QueueWatcher,
) -> None:
    before = {photo_id: record(local_stack, photo_id) for photo_id in stored}
    # Three photos whose thumbnails keep failing past their retries (their batches fail),
    # and one whose metadata step finds it corrupt (the photo's own fault, caught), all in
    # the first batches, which run first, four at a time.
    flaky = [stored[5], stored[17], stored[21]]
    corrupt = stored[32]
    for photo_id in flaky:
        faults[("ThumbnailFunction", photo_id)] = "Lambda.ServiceException"
    faults[("MetadataFunction", corrupt)] = "CorruptImage"
    run = start(local_stack, stored, max_concurrency=4, tolerated_failure_percentage=10)

    first = ended(local_stack, run)
    # Four failed batches of ten are 20% of the photos, over the 10% tolerated: the run fails
    # and starts no more batches.
    assert (first.status, first.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    assert (first.total, first.failed) == (PHOTOS, 40)
    assert first.succeeded + first.failed + first.aborted + first.pending == PHOTOS
    assert first.pending >= PHOTOS // 2  # most batches never started
    reported = results(local_stack, first)  # a failed run's results are written too
    assert {p.photo_id for p in reported.failed} <= {corrupt}

    # The service recovers; the corrupt photo stays corrupt. The redrive runs the failed
    # batches again: what they made is passed over, the rest is made.
    for photo_id in flaky:
        del faults[("ThumbnailFunction", photo_id)]
    local_stack.client("stepfunctions").redrive_execution(executionArn=run)
    second = ended(local_stack, run)
    assert (second.status, second.total, second.succeeded, second.failed) == (
        "SUCCEEDED",
        PHOTOS,
        PHOTOS - BATCH,
        BATCH,
    )
    done = results(local_stack, second)
    assert [(p.photo_id, p.error) for p in done.failed] == [(corrupt, "CorruptImage")]
    assert done.photos["failed"] == 1

    # Every photo but the corrupt one was made again by this run and announced, by it alone.
    # At least once: a photo whose batch was stopped between its announcement and its
    # release is made and announced again by the redrive (subscribers key on photoId and
    # runArn); never more than once a run attempt.
    messages = settled(reprocessed_queue, PHOTOS - 1)
    announced = per_photo(messages)
    assert set(announced) == set(stored) - {corrupt}
    assert max(announced.values()) <= 2
    assert {m["body"]["runArn"] for m in messages} == {run}
    for photo_id in stored:
        now = record(local_stack, photo_id)
        assert "reprocessLease" not in now and now["status"] == "COMPLETED", now
        assert "configVersion" in now or photo_id == corrupt, now
        if photo_id == corrupt:
            assert (now["reprocessError"], now["derivatives"]) == (
                "CorruptImage",
                before[photo_id]["derivatives"],
            )
            assert "reprocessedBy" not in now
            continue
        assert now["reprocessedBy"] == run and now["configVersion"] == "1", now
        assert now["reprocessedAt"] > STORED_AT and now["completedAt"] == STORED_AT
        derivatives = json.loads(now["derivatives"])
        assert sorted(t["name"] for t in derivatives["thumbnails"]) == ["1024", "2048", "256"]


def test_a_run_skips_a_photo_being_processed_and_hands_over_one_deleted_meanwhile(
    local_stack: LocalStack,
    stored: list[str],
    faults: dict[tuple[str, str], str],
    reprocessed_queue: QueueWatcher,
    deleted_queue: QueueWatcher,
) -> None:
    owned = upload(local_stack, ADA)
    assert terminal_record(local_stack, owned)["status"]["S"] == "COMPLETED"
    busy = stored[0]  # as if an upload of it were being processed right now
    busy_before = record(local_stack, busy)
    dynamodb = local_stack.client("dynamodb")
    table = local_stack.output("PhotosTableName")
    key = {"photoId": {"S": busy}}
    dynamodb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET #s = :p",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":p": {"S": "PROCESSING"}},
    )
    deletions: list[int] = []

    def delete_while_made(function_name: str, event: str) -> str | None:
        photo = json.loads(event).get("photo", {}) if event.startswith("{") else {}
        if function_name == "ThumbnailFunction" and photo.get("id") == owned and not deletions:
            deletions.append(delete(local_stack, owned, ADA)[0])
        return None

    local_stack.lambdas.fault = delete_while_made
    try:
        progress = ended(local_stack, start(local_stack, [busy, owned, stored[1]]))
    finally:
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #s = :c",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":c": {"S": "COMPLETED"}},
        )
    assert deletions == [202]  # the run held the photo: the deletion waited for it
    assert progress.status == "SUCCEEDED", progress
    assert dict(results(local_stack, progress).photos) == {
        "skipped": 1,
        "deleted": 1,
        "reprocessed": 1,
    }
    assert local_stack.photo_item(owned) is None
    assert objects(local_stack, owned) == []  # what the run wrote for it went too
    assert [m["body"]["eventType"] for m in deleted_queue.for_photo(owned)] == ["PhotoDeleted"]
    assert per_photo(settled(reprocessed_queue, 1)) == Counter({stored[1]: 1})
    busy_after = record(local_stack, busy)
    assert busy_after.get("reprocessedAt") == busy_before.get("reprocessedAt")
    assert busy_after["derivatives"] == busy_before["derivatives"]


def test_two_runs_over_the_same_photos_leave_each_made_whole_by_one_of_them(
    local_stack: LocalStack, stored: list[str], reprocessed_queue: QueueWatcher
) -> None:
    photos = stored[150:180]
    runs = [start(local_stack, photos, max_concurrency=2) for _ in range(2)]
    ends = [ended(local_stack, run) for run in runs]
    assert [e.status for e in ends] == ["SUCCEEDED", "SUCCEEDED"]
    made = [results(local_stack, e).photos for e in ends]
    # Each photo is made by every run that found it free: at least once, at most twice.
    assert all(set(m) <= {"reprocessed", "skipped"} for m in made), made
    reprocessed = made[0]["reprocessed"] + made[1]["reprocessed"]
    assert len(photos) <= reprocessed <= 2 * len(photos)
    announced = per_photo(settled(reprocessed_queue, reprocessed))
    assert sum(announced.values()) == reprocessed and set(announced) == set(photos)
    bucket = local_stack.output("PhotosBucketName")
    s3 = local_stack.client("s3")
    for photo_id in photos:
        now = record(local_stack, photo_id)
        assert "reprocessLease" not in now and now["reprocessedBy"] in runs
        derivatives = json.loads(now["derivatives"])
        for rendition in [*derivatives["renditions"], *derivatives["filters"]]:
            s3.head_object(Bucket=bucket, Key=rendition["key"])  # the record's objects exist
