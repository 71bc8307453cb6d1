"""One photo, one accepted object, one execution, one terminal event, whatever the client
does with its presigned upload: use it again, send the same bytes twice, upload from
several clients at once, tamper with the form, or come back after it expired.

S3 lets a presigned POST be used again until it expires (each upload is a new version
of the photo's key); the local S3 enforces the policy as S3 does. A photo is quiet when
its record is terminal, its key has settled to one version (the refused ones deleted)
and the ingest queue holds nothing: only then are executions and events counted.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from photoflow.keys import new_photo_id
from photoflow_local.client import PhotosClient
from photoflow_local.stack import LocalStack
from tests.photos import make_photo
from tests.support import QueueWatcher, notifications, poll, terminal_record


@pytest.fixture(scope="module")
def client(local_stack: LocalStack) -> PhotosClient:
    return PhotosClient(local_stack.api_url)


def new_grant(client: PhotosClient, size: int, filename: str = "photo.jpg") -> dict[str, Any]:
    """POST /photos/uploads, as the page and the CLI ask for one."""
    response = client.session.post(
        f"{client.base_url}/photos/uploads",
        json={"filename": filename, "contentType": "image/jpeg", "size": size},
        auth=client.auth,
        timeout=30,
    )
    assert response.status_code == 201, response.text
    grant: dict[str, Any] = response.json()
    return grant


def send(
    grant: dict[str, Any], data: bytes, fields: dict[str, str | None] | None = None
) -> requests.Response:
    """The file POSTed to S3 with the grant's form, or with ``fields`` (None: left out)."""
    form = {k: v for k, v in (fields or grant["upload"]["fields"]).items() if v is not None}
    return requests.post(
        grant["upload"]["url"],
        data=form,
        files={"file": ("photo.jpg", data, "image/jpeg")},
        timeout=60,
    )


def versions(local_stack: LocalStack, key: str) -> list[dict[str, Any]]:
    listed = local_stack.client("s3").list_object_versions(
        Bucket=local_stack.output("PhotosBucketName"), Prefix=key
    )
    return [v for v in listed.get("Versions", []) if v["Key"] == key]


def executions(local_stack: LocalStack, photo_id: str) -> list[str]:
    sfn = local_stack.client("stepfunctions")
    machine = local_stack.output("PhotoWorkflowArn")
    return [
        execution["status"]
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine)
        for execution in page["executions"]
        if execution["name"].startswith(f"photo-{photo_id}-")
    ]


def quiet(local_stack: LocalStack, photo_id: str, key: str) -> dict[str, Any]:
    """The photo's record once it is terminal, its key holds one version and the ingest
    queue is empty (every upload's event handled), and its executions have ended."""
    terminal_record(local_stack, photo_id)
    poll(lambda: versions(local_stack, key), lambda v: len(v) == 1, what=f"one version of {key}")
    sqs = local_stack.client("sqs")
    ingest = local_stack.physical_id("IngestQueue")
    poll(
        lambda: sqs.get_queue_attributes(QueueUrl=ingest, AttributeNames=["All"])["Attributes"],
        lambda a: (
            a["ApproximateNumberOfMessages"] == a["ApproximateNumberOfMessagesNotVisible"] == "0"
        ),
        what="ingest queue drained",
    )
    poll(
        lambda: executions(local_stack, photo_id),
        lambda s: "RUNNING" not in s,
        what=f"executions of {photo_id} ended",
    )
    return terminal_record(local_stack, photo_id)


def test_a_presigned_upload_used_again_changes_nothing(
    local_stack: LocalStack, client: PhotosClient, completed_queue: QueueWatcher
) -> None:
    # Given a photo uploaded with its grant (declaring fewer bytes than it has) and processed
    first, second = make_photo(900, 600, seed=1), make_photo(800, 1200, seed=2)
    grant = new_grant(client, size=1000)
    photo_id, key = grant["photoId"], grant["upload"]["fields"]["key"]
    assert send(grant, first).status_code == 204
    done = client.wait(photo_id, timeout=60)
    assert (done["status"], done["size"]) == ("COMPLETED", len(first))

    # When the same grant uploads another photo: S3 takes it, as it does on AWS
    assert send(grant, second).status_code == 204

    # Then that version is refused and deleted, and the photo is as it was
    quiet(local_stack, photo_id, key)
    [kept] = versions(local_stack, key)
    assert kept["Size"] == len(first)
    after = client.photo(photo_id)
    assert (after["metadata"]["width"], after["metadata"]["height"]) == (900, 600)
    assert (after["size"], after["completedAt"]) == (len(first), done["completedAt"])
    assert [(t["key"], t["width"], t["height"]) for t in after["thumbnails"]] == [
        (t["key"], t["width"], t["height"]) for t in done["thumbnails"]
    ]
    assert executions(local_stack, photo_id) == ["SUCCEEDED"]
    notifications(photo_id, {completed_queue: 1})


def test_the_same_bytes_sent_twice_are_one_photo(
    local_stack: LocalStack, client: PhotosClient, completed_queue: QueueWatcher
) -> None:
    data = make_photo(640, 480, seed=3)
    grant = new_grant(client, size=len(data))
    assert [send(grant, data).status_code for _ in range(2)] == [204, 204]
    record = quiet(local_stack, grant["photoId"], grant["upload"]["fields"]["key"])
    assert (record["status"]["S"], record["size"]["N"]) == ("COMPLETED", str(len(data)))
    assert executions(local_stack, grant["photoId"]) == ["SUCCEEDED"]
    notifications(grant["photoId"], {completed_queue: 1})


def test_concurrent_uploads_with_one_grant_accept_exactly_one(
    local_stack: LocalStack, client: PhotosClient, completed_queue: QueueWatcher
) -> None:
    # Given four different photos sent at once with one grant
    widths = {300 + 100 * i: make_photo(300 + 100 * i, 200, seed=10 + i) for i in range(4)}
    width_of = {len(data): width for width, data in widths.items()}
    assert len(width_of) == 4  # each photo is told apart by its size in the bucket
    grant = new_grant(client, size=min(width_of))
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda data: send(grant, data).status_code, widths.values()))
    assert statuses == [204] * 4

    # Then one of them is the photo, all through: its record, its metadata and its key
    record = quiet(local_stack, grant["photoId"], grant["upload"]["fields"]["key"])
    [kept] = versions(local_stack, grant["upload"]["fields"]["key"])
    assert record["size"]["N"] == str(kept["Size"])
    assert client.photo(grant["photoId"])["metadata"]["width"] == width_of[kept["Size"]]
    assert executions(local_stack, grant["photoId"]) == ["SUCCEEDED"]
    notifications(grant["photoId"], {completed_queue: 1})


def _changed(**changes: str | None) -> Callable[[LocalStack, dict[str, Any]], dict[str, Any]]:
    return lambda _stack, grant: {**grant["upload"]["fields"], **changes}


def _expired(local_stack: LocalStack, grant: dict[str, Any]) -> dict[str, Any]:
    """The grant's form as it would be once expired: the same conditions, an hour ago."""
    fields: dict[str, Any] = local_stack.client("s3").generate_presigned_post(
        Bucket=local_stack.output("PhotosBucketName"),
        Key=grant["upload"]["fields"]["key"],
        Fields={"Content-Type": "image/jpeg"},
        Conditions=[{"Content-Type": "image/jpeg"}, ["content-length-range", 1, 10**6]],
        ExpiresIn=-3600,
    )["fields"]
    return fields


TAMPERED: list[tuple[str, Callable[[LocalStack, dict[str, Any]], dict[str, Any]], int]] = [
    ("another Content-Type", _changed(**{"Content-Type": "text/html"}), 403),
    ("a key outside the photo's folder", _changed(key="uploads/evil/../../derivatives/x.jpg"), 403),
    ("the signature removed", _changed(**{"x-amz-signature": None}), 400),
    ("expired", _expired, 403),
]


@pytest.mark.parametrize(("case", "change", "status"), TAMPERED, ids=[t[0] for t in TAMPERED])
def test_a_tampered_or_expired_upload_is_refused_and_nothing_runs(
    local_stack: LocalStack,
    client: PhotosClient,
    case: str,
    change: Callable[[LocalStack, dict[str, Any]], dict[str, Any]],
    status: int,
) -> None:
    data = make_photo(320, 240, seed=20)
    grant = new_grant(client, size=len(data))
    response = send(grant, data, change(local_stack, grant))
    assert response.status_code == status, (case, response.text)
    bucket = local_stack.output("PhotosBucketName")
    listed = local_stack.client("s3").list_objects_v2(Bucket=bucket, Prefix="uploads/evil/")
    assert listed.get("KeyCount", 0) == 0
    assert versions(local_stack, grant["upload"]["fields"]["key"]) == []
    assert client.photo(grant["photoId"])["status"] == "AWAITING_UPLOAD"
    assert executions(local_stack, grant["photoId"]) == []


def test_an_upload_over_the_maximum_is_refused_by_s3(
    local_stack: LocalStack, client: PhotosClient
) -> None:
    cap = int(local_stack.stack.parameters["MaxPhotoBytes"])
    grant = new_grant(client, size=1000)
    response = send(grant, make_photo(64, 48) + b"\0" * cap)
    assert response.status_code == 400
    assert "<Code>EntityTooLarge</Code>" in response.text
    assert f"<MaxSizeAllowed>{cap}</MaxSizeAllowed>" in response.text
    assert versions(local_stack, grant["upload"]["fields"]["key"]) == []
    assert client.photo(grant["photoId"])["status"] == "AWAITING_UPLOAD"


@pytest.fixture
def gates(local_stack: LocalStack) -> Iterator[dict[str, threading.Event]]:
    """Hold the metadata step, and the ingest, until a test lets them go (bounded waits)."""
    held = {"metadata": threading.Event(), "ingest": threading.Event()}
    closed = {"ingest": threading.Event()}

    def hold(function_name: str, event: str) -> str | None:
        if function_name == "MetadataFunction":
            held["metadata"].wait(timeout=60)
        if function_name == "StartWorkflowFunction" and closed["ingest"].is_set():
            held["ingest"].wait(timeout=60)
        return None  # no fault: only held

    local_stack.lambdas.fault = hold
    try:
        yield {
            "release_metadata": held["metadata"],
            "close_ingest": closed["ingest"],
            "open_ingest": held["ingest"],
        }
    finally:
        for event in (*held.values(), closed["ingest"]):
            event.set()
        local_stack.lambdas.fault = None


def test_a_later_version_uploaded_while_the_first_is_processed_is_not_what_the_steps_read(
    local_stack: LocalStack,
    completed_queue: QueueWatcher,
    gates: dict[str, threading.Event],
) -> None:
    # Given a photo put into the bucket, its execution started and its first step held
    s3 = local_stack.client("s3")
    bucket, photo_id = local_stack.output("PhotosBucketName"), new_photo_id()
    key = f"uploads/{photo_id}/late.jpg"
    first = s3.put_object(Bucket=bucket, Key=key, Body=make_photo(900, 600, seed=30))
    poll(lambda: executions(local_stack, photo_id), bool, what=f"an execution of {photo_id}")

    # When a later version lands before the steps read the photo (its event held back)
    gates["close_ingest"].set()
    s3.put_object(Bucket=bucket, Key=key, Body=make_photo(640, 480, seed=31))
    gates["release_metadata"].set()

    # Then the steps read the version the execution was started for
    # (read from the record: a photo put into the bucket has no owner, so no API caller sees it)
    record = terminal_record(local_stack, photo_id)
    assert record["status"]["S"] == "COMPLETED", record
    metadata = json.loads(record["metadata"]["S"])
    assert (metadata["width"], metadata["height"]) == (900, 600)
    thumbnails = json.loads(record["derivatives"]["S"])["thumbnails"]
    assert all(t["width"] == min(900, int(t["name"])) for t in thumbnails)
    # and once the later version's event is handled, it is refused: the first stays
    gates["open_ingest"].set()
    quiet(local_stack, photo_id, key)
    assert [v["VersionId"] for v in versions(local_stack, key)] == [first["VersionId"]]
    assert executions(local_stack, photo_id) == ["SUCCEEDED"]
    notifications(photo_id, {completed_queue: 1})
