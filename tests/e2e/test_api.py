"""Through the HTTP API, as a client would: upload, wait, read, list; and the notifications."""

from __future__ import annotations

import json
from io import BytesIO
from typing import Any

import jsonschema
import pytest
import requests
from PIL import Image

from photoflow_local.client import ApiError, PhotosClient
from photoflow_local.stack import LocalStack
from tests.photos import make_photo, truncated_jpeg
from tests.support import EVENTS, QueueWatcher, notifications


@pytest.fixture(scope="module")
def client(local_stack: LocalStack) -> PhotosClient:
    return PhotosClient(local_stack.api_url)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / "notification.schema.json").read_text())
    return loaded


def test_uploads_reach_a_terminal_state_and_their_subscribers(
    client: PhotosClient,
    completed_queue: QueueWatcher,
    failed_queue: QueueWatcher,
    schema: dict[str, Any],
) -> None:
    # Given two photos and a corrupt file, uploaded through the API
    uploads = {
        "beach.jpg": make_photo(1600, 1000, gps=(40.0, -3.7)),
        "logo.png": make_photo(600, 400, fmt="PNG", mode="RGBA"),
        "broken.jpg": truncated_jpeg(),
    }
    accepted = {name: client.upload_bytes(data, name) for name, data in uploads.items()}
    for name, response in accepted.items():
        assert response["status"] == "ACCEPTED", name
        # The API is served at the root locally: the status URL is its own path there.
        assert response["statusUrl"] == f"/photos/{response['photoId']}"
        status = requests.get(client.base_url + response["statusUrl"], auth=client.auth, timeout=10)
        assert (status.status_code, status.json()["photoId"]) == (200, response["photoId"])

    # When each has finished
    finished = {name: client.wait(r["photoId"], timeout=60) for name, r in accepted.items()}

    # Then the photos completed, with thumbnails readable at their URLs
    for name in ("beach.jpg", "logo.png"):
        photo = finished[name]
        assert photo["status"] == "COMPLETED", photo
        assert photo["filename"] == name
        smallest = photo["thumbnails"][-1]
        response = requests.get(smallest["url"], timeout=10)
        assert response.status_code == 200
        with Image.open(BytesIO(response.content)) as image:
            assert image.format == "JPEG"
            assert image.size == (smallest["width"], smallest["height"])
        assert len(photo["metadata"]["dominantColours"]) >= 1
        # and every rendition, JPEG, WebP and AVIF, at its own URL, the square among them
        formats: dict[str, list[str]] = {}
        for rendition in photo["renditions"]:
            response = requests.get(rendition["url"], timeout=10)
            assert response.status_code == 200, rendition["key"]
            assert response.headers["Content-Type"] == rendition["contentType"]
            assert len(response.content) == rendition["bytes"]
            formats.setdefault(rendition["format"], []).append(rendition["name"])
        assert formats == {
            "jpeg": ["2048", "1024", "256", "square"],
            "webp": ["2048", "1024", "256"],
            "avif": ["2048", "1024", "256"],
        }
        assert (photo["square"]["width"], photo["square"]["height"]) == (256, 256)
        assert photo["square"]["url"].split("?")[0].endswith("/thumbnails/square.jpg")
        assert len(photo["blurhash"]) == 28  # 4 x 3 components: 4 + 2 x 12 characters
    assert finished["beach.jpg"]["metadata"]["gps"] is None  # KeepLocation defaults to false
    # and the corrupt one failed with a named error and a readable message
    broken = finished["broken.jpg"]
    assert broken["status"] == "FAILED"
    assert broken["error"]["name"] == "CorruptImage"
    assert "truncated" in broken["error"]["message"] or "damaged" in broken["error"]["message"]

    # and each subscriber got exactly its notifications, valid against the published schema
    for name in ("beach.jpg", "logo.png"):
        expected = {completed_queue: 1, failed_queue: 0}
        [message], _ = notifications(accepted[name]["photoId"], expected)
        jsonschema.validate(message["body"], schema)
    expected = {failed_queue: 1, completed_queue: 0}
    [failure], _ = notifications(accepted["broken.jpg"]["photoId"], expected)
    jsonschema.validate(failure["body"], schema)


def test_presigned_upload_for_large_files(client: PhotosClient) -> None:
    grant = client.upload_presigned(make_photo(2400, 1600), "large.jpg", "image/jpeg")
    assert set(grant["upload"]["fields"]) >= {"key", "Content-Type", "policy"}
    assert grant["upload"]["fields"]["key"].startswith(f"uploads/{grant['photoId']}/")
    assert client.wait(grant["photoId"], timeout=60)["status"] == "COMPLETED"


def test_listing_is_newest_first_and_pages(client: PhotosClient) -> None:
    ids = [
        client.upload_bytes(make_photo(300, 200, seed=i), f"p{i}.jpg")["photoId"] for i in range(3)
    ]
    for photo_id in ids:
        client.wait(photo_id, timeout=60)
    first = client.photos(limit=2)
    second = client.photos(limit=2, cursor=first["nextCursor"])
    listed = [p["photoId"] for p in first["photos"] + second["photos"]]
    assert listed[:3] == list(reversed(ids))
    created = [p["createdAt"] for p in first["photos"] + second["photos"]]
    assert created == sorted(created, reverse=True)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error"),
    [
        (b"hello, I am text", "image/jpeg", 415, "UnsupportedFormat"),
        (b"", "image/jpeg", 400, "EmptyPhoto"),
        (b"\xff\xd8\xff", "text/plain", 415, "UnsupportedMediaType"),
    ],
)
def test_bad_uploads_get_a_json_4xx(
    client: PhotosClient, body: bytes, content_type: str, status: int, error: str
) -> None:
    with pytest.raises(ApiError) as raised:
        client.upload_bytes(body, "x.jpg", content_type)
    assert raised.value.status == status
    assert raised.value.body["error"] == error
    assert raised.value.body["message"]


def test_unknown_and_malformed_photo_ids(client: PhotosClient) -> None:
    with pytest.raises(ApiError) as missing:
        client.photo("0" * 32)
    assert (missing.value.status, missing.value.body["error"]) == (404, "NotFound")
    with pytest.raises(ApiError) as malformed:
        client.photo("not-an-id")
    assert (malformed.value.status, malformed.value.body["error"]) == (400, "BadRequest")


def test_cors_preflights_are_answered_as_the_template_configures_them(
    client: PhotosClient,
) -> None:
    # The page's origin (AllowedOrigin) is the local API's own; preflights carry no token.
    origin = client.base_url
    for path in ("/photos", "/photos/uploads", "/photos/0123456789abcdef0123456789abcdef"):
        response = requests.options(
            client.base_url + path,
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
            timeout=10,
        )
        assert response.status_code == 200, (path, response.text)
        assert response.headers["Access-Control-Allow-Origin"] == origin
        assert response.headers["Access-Control-Allow-Methods"] == "GET,POST,DELETE,OPTIONS"
        allowed = response.headers["Access-Control-Allow-Headers"].lower().split(",")
        assert {"authorization", "content-type", "x-filename"} <= set(allowed)
        assert response.headers["Access-Control-Max-Age"] == "600"

    # A path the API does not have is API Gateway's 403, preflight or not
    missing = requests.options(client.base_url + "/nothing", headers={"Origin": origin}, timeout=10)
    assert missing.status_code == 403
    assert missing.json() == {"message": "Missing Authentication Token"}
