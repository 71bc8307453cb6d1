"""Near-duplicates through the whole workflow: a photo uploaded again, recompressed and
resized, is marked ``duplicateOf`` the first (photoflow.duplicates), found through the
table's hash band indexes; a different photo is not."""

from __future__ import annotations

import json
from typing import Any

from photoflow_local.client import PhotosClient
from photoflow_local.stack import LocalStack
from tests.photos import encode, render_scene


def derivatives(local_stack: LocalStack, photo_id: str) -> dict[str, Any]:
    item = local_stack.client("dynamodb").get_item(
        TableName=local_stack.output("PhotosTableName"), Key={"photoId": {"S": photo_id}}
    )["Item"]
    found: dict[str, Any] = json.loads(item["derivatives"]["S"])
    return found


def test_a_photo_uploaded_again_smaller_is_marked_a_duplicate_of_the_first(
    local_stack: LocalStack,
) -> None:
    # Given a photo processed, as the signed-in user
    client = PhotosClient(local_stack.api_url)
    scene = render_scene(1200, 900, seed=4242)
    first = client.upload_bytes(encode(scene, quality=92), "lake.jpg")["photoId"]
    assert client.wait(first)["status"] == "COMPLETED"

    # When the same scene comes again, recompressed at half the size, and another scene too
    half = scene.resize((600, 450))
    again = client.upload_bytes(encode(half, quality=60), "lake-small.jpg")["photoId"]
    other = client.upload_bytes(encode(render_scene(1200, 900, seed=77), quality=92), "b.jpg")
    assert client.wait(again)["status"] == "COMPLETED"
    assert client.wait(other["photoId"])["status"] == "COMPLETED"

    # Then the copy names the first as its original; the first and the other photo name none
    assert derivatives(local_stack, again)["duplicateOf"] == first
    assert derivatives(local_stack, first)["duplicateOf"] is None
    assert derivatives(local_stack, other["photoId"])["duplicateOf"] is None
