"""Bad input, through the HTTP API and through direct S3 puts.

Each gets a clear 4xx, or is accepted and ends FAILED with a named error; the
stack keeps serving the next request.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from photoflow.keys import new_photo_id
from photoflow_local.client import PhotosClient, local_test_identity
from photoflow_local.stack import LocalStack
from tests.photos import decompression_bomb_png, make_photo, truncated_jpeg
from tests.support import QueueWatcher, notifications, terminal_record

TEXT = b"Dear diary, today I renamed a text file to .jpg.\n" * 20


@pytest.fixture(scope="module")
def client(local_stack: LocalStack) -> PhotosClient:
    return PhotosClient(local_stack.api_url)


def post(
    local_stack: LocalStack, body: bytes, content_type: str | None, filename: str = "x.jpg"
) -> requests.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    return requests.post(
        f"{local_stack.api_url}/photos",
        params={"filename": filename},
        data=body,
        headers=headers,
        auth=local_test_identity(),
        timeout=30,
    )


@pytest.mark.parametrize(
    ("name", "body", "content_type", "status", "error"),
    [
        ("zero bytes", b"", "image/jpeg", 400, "EmptyPhoto"),
        ("text named .jpg", TEXT, "image/jpeg", 415, "UnsupportedFormat"),
        (
            "1 KB bomb, 50000x50000",
            decompression_bomb_png(50000, 50000),
            "image/png",
            422,
            "TooManyPixels",
        ),
        (
            "10000x10000 header",
            decompression_bomb_png(10000, 10000),
            "image/png",
            422,
            "TooManyPixels",
        ),
        (
            "BMP",
            make_photo(64, 48, fmt="BMP", exif_camera=None),
            "image/bmp",
            415,
            "UnsupportedMediaType",
        ),
        (
            "BMP sent as octet-stream",
            make_photo(64, 48, fmt="BMP", exif_camera=None),
            "application/octet-stream",
            415,
            "UnsupportedFormat",
        ),
        ("JPEG declared text/plain", make_photo(64, 48), "text/plain", 415, "UnsupportedMediaType"),
        ("no Content-Type", make_photo(64, 48), None, 415, "UnsupportedMediaType"),
    ],
)
def test_rejected_at_the_door_with_a_json_4xx(
    local_stack: LocalStack,
    name: str,
    body: bytes,
    content_type: str | None,
    status: int,
    error: str,
) -> None:
    started = time.monotonic()
    response = post(local_stack, body, content_type)
    assert response.status_code == status, (name, response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    payload = response.json()
    assert payload["error"] == error, (name, payload)
    assert payload["message"]
    assert time.monotonic() - started < 10  # refused from the header, nothing decoded


def test_bodies_over_the_direct_cap_are_refused_and_pointed_elsewhere(
    local_stack: LocalStack,
) -> None:
    # Just over the function's cap: the function says where to go instead
    cap = int(local_stack.stack.parameters["DirectUploadMaxBytes"])
    response = post(local_stack, b"\xff\xd8\xff" + b"\0" * cap, "image/jpeg")
    assert response.status_code == 413
    assert response.json()["error"] == "PhotoTooLarge"
    assert "/photos/uploads" in response.json()["message"]
    # Far over it: API Gateway and Lambda refuse before the function runs, as on AWS
    response = post(local_stack, b"\xff\xd8\xff" + b"\0" * (7 * 1024 * 1024), "image/jpeg")
    assert (response.status_code, response.json()) == (413, {"message": "Request Too Long"})


@pytest.mark.parametrize(
    ("request_body", "status", "error"),
    [
        ({"filename": "a.jpg", "contentType": "image/jpeg", "size": 10**12}, 413, "PhotoTooLarge"),
        ({"filename": "a.txt", "contentType": "text/plain", "size": 10}, 415, "UnsupportedFormat"),
        ({"filename": "a.jpg"}, 400, "BadRequest"),
    ],
)
def test_presigned_upload_requests_are_checked(
    local_stack: LocalStack, request_body: dict[str, Any], status: int, error: str
) -> None:
    response = requests.post(
        f"{local_stack.api_url}/photos/uploads",
        json=request_body,
        auth=local_test_identity(),
        timeout=30,
    )
    assert response.status_code == status, response.text
    assert response.json()["error"] == error


MAX = "<MaxPhotoBytes>"  # the stack's parameter, written as the API writes it
SHAPE = 'a JSON object: {"filename": ..., "contentType": ..., "size": ...}'
SIZE_ALLOWED = f"the photo's size in bytes, a whole number from 1 to {MAX}"


@pytest.mark.parametrize(
    ("body", "message", "fields"),
    [
        ("[]", f"the body must be {SHAPE}, not an array", None),
        ("{", f"the body must be {SHAPE}; it is not JSON", None),
        (
            json.dumps({"filename": "a.jpg", "contentType": "image/jpeg", "size": "12"}),
            f'size must be a whole number, not a string ("12") (allowed: {SIZE_ALLOWED})',
            [
                {
                    "field": "size",
                    "problem": 'must be a whole number, not a string ("12")',
                    "allowed": SIZE_ALLOWED,
                }
            ],
        ),
        (
            json.dumps({"filename": "", "size": 0, "colour": "red"}),
            "filename must not be empty (allowed: the photo's file name, 1 to 1,024 characters);"
            " contentType is required (allowed: one of image/jpeg, image/png, image/webp,"
            " image/gif, image/tiff, image/heic, image/heif);"
            f" size must be at least 1, not 0 (allowed: {SIZE_ALLOWED});"
            " colour is not a field of this request (allowed: no such field)",
            [
                {
                    "field": "filename",
                    "problem": "must not be empty",
                    "allowed": "the photo's file name, 1 to 1,024 characters",
                },
                {
                    "field": "contentType",
                    "problem": "is required",
                    "allowed": "one of image/jpeg, image/png, image/webp, image/gif,"
                    " image/tiff, image/heic, image/heif",
                },
                {"field": "size", "problem": "must be at least 1, not 0", "allowed": SIZE_ALLOWED},
                {
                    "field": "colour",
                    "problem": "is not a field of this request",
                    "allowed": "no such field",
                },
            ],
        ),
    ],
    ids=["an array", "not JSON", "size as text", "four fields at fault"],
)
def test_upload_request_errors_are_in_the_apis_own_words(
    local_stack: LocalStack, body: str, message: str, fields: list[dict[str, str]] | None
) -> None:
    response = requests.post(
        f"{local_stack.api_url}/photos/uploads",
        data=body,
        headers={"Content-Type": "application/json"},
        auth=local_test_identity(),
        timeout=30,
    )
    assert response.status_code == 400, response.text
    expected: dict[str, Any] = {"error": "BadRequest", "message": message}
    if fields is not None:
        expected["fields"] = fields
    cap = f"{int(local_stack.stack.parameters['MaxPhotoBytes']):,}"
    assert response.json() == json.loads(json.dumps(expected).replace(MAX, cap))


def test_a_page_size_error_says_what_is_allowed(
    local_stack: LocalStack, client: PhotosClient
) -> None:
    most = local_stack.lambdas.functions["ApiFunction"].environment["PAGE_SIZE_MAX"]
    response = client.session.get(
        f"{client.base_url}/photos", params={"limit": "lots"}, auth=client.auth, timeout=30
    )
    assert (response.status_code, response.json()) == (
        400,
        {
            "error": "BadRequest",
            "message": f"limit must be a whole number from 1 to {most}, not 'lots'",
        },
    )


def test_the_declared_type_never_wins_over_the_bytes(client: PhotosClient) -> None:
    # A JPEG declared as PNG and named .gif is stored and processed as the JPEG it is
    accepted = client.upload_bytes(make_photo(320, 240), "holiday.gif", "image/png")
    photo = client.wait(accepted["photoId"], timeout=60)
    assert photo["status"] == "COMPLETED"
    assert photo["contentType"] == "image/jpeg"
    assert photo["metadata"]["format"] == "JPEG"


def test_a_truncated_jpeg_is_accepted_then_fails_with_a_named_error(client: PhotosClient) -> None:
    accepted = client.upload_bytes(truncated_jpeg(), "cut.jpg", "image/jpeg")
    photo = client.wait(accepted["photoId"], timeout=60)
    assert photo["status"] == "FAILED"
    assert photo["error"]["name"] == "CorruptImage"


def test_an_animated_gif_is_processed_from_its_first_frame(client: PhotosClient) -> None:
    accepted = client.upload_bytes(
        make_photo(200, 150, fmt="GIF", frames=3), "moving.gif", "image/gif"
    )
    photo = client.wait(accepted["photoId"], timeout=60)
    assert photo["status"] == "COMPLETED"
    assert photo["metadata"]["frames"] == 3
    assert photo["thumbnails"][0]["contentType"] == "image/jpeg"


@pytest.mark.parametrize(
    ("filename", "stored"),
    [
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("..\\..\\windows\\system32.jpg", "system32.jpg"),
        ("my holiday + friends.jpg", "my_holiday_friends.jpg"),
        ("fête à Montréal.jpg", "fête_à_Montréal.jpg"),
        ("x" * 400 + ".jpg", "x" * 116 + ".jpg"),
        # Not an extension: cut at 120 characters like any name
        ("a." + "x" * 500, "a." + "x" * 118),
    ],
)
def test_hostile_names_stay_in_their_folder(
    client: PhotosClient, filename: str, stored: str
) -> None:
    accepted = client.upload_bytes(make_photo(120, 90), filename, "image/jpeg")
    photo = client.wait(accepted["photoId"], timeout=60)
    assert photo["status"] == "COMPLETED"
    assert photo["filename"] == stored
    for derivative in photo["thumbnails"] + photo["filters"]:
        assert derivative["key"].startswith(f"derivatives/{accepted['photoId']}/")


def test_concurrent_uploads_of_the_same_photo_each_end_once(
    client: PhotosClient, completed_queue: QueueWatcher, local_stack: LocalStack
) -> None:
    data = make_photo(400, 300, seed=42)
    with ThreadPoolExecutor(max_workers=6) as pool:
        accepted = list(
            pool.map(
                lambda i: PhotosClient(local_stack.api_url).upload_bytes(
                    data, "same.jpg", "image/jpeg"
                ),
                range(6),
            )
        )
    ids = {a["photoId"] for a in accepted}
    assert len(ids) == 6
    for photo_id in ids:
        assert client.wait(photo_id, timeout=60)["status"] == "COMPLETED"
        notifications(photo_id, {completed_queue: 1})


@pytest.mark.parametrize(
    ("name", "body", "error"),
    [
        ("empty.jpg", b"", "EmptyPhoto"),
        ("diary.jpg", TEXT, "UnsupportedFormat"),
        ("bomb.png", decompression_bomb_png(50000, 50000), "TooManyPixels"),
        ("big-header.png", decompression_bomb_png(10000, 10000), "TooManyPixels"),
        ("old.bmp", make_photo(64, 48, fmt="BMP", exif_camera=None), "UnsupportedFormat"),
        ("cut.jpg", truncated_jpeg(), "CorruptImage"),
    ],
)
def test_bad_objects_put_straight_into_s3_end_failed_with_a_named_error(
    local_stack: LocalStack,
    completed_queue: QueueWatcher,
    failed_queue: QueueWatcher,
    name: str,
    body: bytes,
    error: str,
) -> None:
    photo_id = new_photo_id()
    local_stack.client("s3").put_object(
        Bucket=local_stack.output("PhotosBucketName"), Key=f"uploads/{photo_id}/{name}", Body=body
    )
    item = terminal_record(local_stack, photo_id)
    assert (item["status"]["S"], item["error"]["S"]) == ("FAILED", error)
    assert item["message"]["S"]
    [message], _ = notifications(photo_id, {failed_queue: 1, completed_queue: 0})
    assert message["body"]["error"] == {"name": error, "message": item["message"]["S"]}


def test_an_object_over_the_size_cap_fails_without_being_read(local_stack: LocalStack) -> None:
    cap = int(local_stack.stack.parameters["MaxPhotoBytes"])
    photo_id = new_photo_id()
    body = make_photo(64, 48) + b"\0" * cap
    local_stack.client("s3").put_object(
        Bucket=local_stack.output("PhotosBucketName"), Key=f"uploads/{photo_id}/huge.jpg", Body=body
    )
    item = terminal_record(local_stack, photo_id, timeout=120)
    assert (item["status"]["S"], item["error"]["S"]) == ("FAILED", "PhotoTooLarge")


@pytest.mark.parametrize(
    "name",
    ["with space.jpg", "plus+sign.jpg", "ünïcødé 写真.jpg", "a%20b.jpg", "x" * 300 + ".jpg"],
)
def test_keys_that_s3_url_encodes_are_processed_under_their_real_name(
    local_stack: LocalStack, name: str
) -> None:
    photo_id = new_photo_id()
    key = f"uploads/{photo_id}/{name}"
    local_stack.client("s3").put_object(
        Bucket=local_stack.output("PhotosBucketName"), Key=key, Body=make_photo(160, 120)
    )
    item = terminal_record(local_stack, photo_id)
    assert item["status"]["S"] == "COMPLETED", item
    assert item["sourceKey"]["S"] == key


def test_a_key_without_a_photo_folder_gets_a_stable_photo_id(local_stack: LocalStack) -> None:
    key = "uploads/loose-photo.jpg"
    local_stack.client("s3").put_object(
        Bucket=local_stack.output("PhotosBucketName"), Key=key, Body=make_photo(160, 120)
    )
    # The id of a key without a photo folder: the first 32 hex digits of its SHA-256
    item = terminal_record(local_stack, "88a8dcd776d1688714bdbc3f81a55ff4")
    assert item["status"]["S"] == "COMPLETED"
    assert item["sourceKey"]["S"] == key


def test_the_stack_keeps_serving_after_all_that(client: PhotosClient) -> None:
    accepted = client.upload_bytes(make_photo(640, 480), "after.jpg", "image/jpeg")
    assert client.wait(accepted["photoId"], timeout=60)["status"] == "COMPLETED"
