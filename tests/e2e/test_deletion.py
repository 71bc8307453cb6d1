"""Deleting a photo through the API while its workflow runs: nothing is removed under the
running workflow, and everything goes once it ends (the execution's status-change event
reaches the reconciler through EventBridge and its queue, as on AWS)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from photoflow_local.client import ApiError, PhotosClient
from photoflow_local.stack import LocalStack
from tests.photos import make_photo
from tests.support import QueueWatcher, notifications, poll


@pytest.fixture
def held_metadata(local_stack: LocalStack) -> Iterator[threading.Event]:
    """Hold the metadata step until the test lets it go (bounded)."""
    release = threading.Event()

    def hold(function_name: str, event: str) -> str | None:
        if function_name == "MetadataFunction":
            release.wait(timeout=60)
        return None  # no fault: only held

    local_stack.lambdas.fault = hold
    try:
        yield release
    finally:
        release.set()
        local_stack.lambdas.fault = None


def objects(local_stack: LocalStack, photo_id: str) -> list[str]:
    s3, bucket = local_stack.client("s3"), local_stack.output("PhotosBucketName")
    found = []
    for prefix in (f"uploads/{photo_id}/", f"derivatives/{photo_id}/"):
        page = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
        found += [v["Key"] for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
    return found


def test_a_photo_deleted_while_processing_goes_when_its_workflow_ends(
    local_stack: LocalStack, deleted_queue: QueueWatcher, held_metadata: threading.Event
) -> None:
    # Given a photo whose workflow is running (its first step held)
    client = PhotosClient(local_stack.api_url)
    photo_id = client.upload_bytes(make_photo(640, 480, seed=7), "busy.jpg")["photoId"]
    poll(
        lambda: local_stack.photo_item(photo_id),
        lambda item: item is not None and item["status"]["S"] == "PROCESSING",
        what=f"{photo_id} PROCESSING",
    )

    # When its owner deletes it
    url = f"{local_stack.api_url}/photos/{photo_id}"
    response = client.session.delete(url, auth=client.auth, timeout=10)

    # Then it is gone for them at once, while the workflow still has its original
    assert (response.status_code, response.json()) == (
        202,
        {"photoId": photo_id, "status": "DELETING"},
    )
    with pytest.raises(ApiError) as missing:
        client.photo(photo_id)
    assert missing.value.status == 404
    assert objects(local_stack, photo_id) == [f"uploads/{photo_id}/busy.jpg"]

    # and once the workflow ends, the original, the derivatives and the record go, announced
    held_metadata.set()
    poll(
        lambda: (local_stack.photo_item(photo_id), objects(local_stack, photo_id)),
        lambda state: state == (None, []),
        timeout=60,
        what=f"{photo_id} deleted after its workflow",
    )
    [[event]] = notifications(photo_id, {deleted_queue: 1})
    assert event["body"]["eventType"] == "PhotoDeleted"
    # and deleting it again finds nothing
    again = client.session.delete(url, auth=client.auth, timeout=10)
    assert again.status_code == 404
