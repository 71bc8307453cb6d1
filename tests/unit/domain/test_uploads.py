"""The API's domain (photoflow.uploads): requests refused in words, photos stored after
their record, presigned uploads bound to one key, and the client's view of a record."""

from __future__ import annotations

import io

import pytest
from botocore.exceptions import ClientError
from PIL import Image

from photoflow import uploads as uploads_module
from photoflow.errors import InvalidRequest, UnsupportedMediaType
from photoflow.imaging import Limits, PhotoTooLarge, UnsupportedFormat
from photoflow.photos import PhotoRecord, PhotoRepository, PhotoStatus
from photoflow.uploads import Uploads, parse_upload_request
from tests.unit.domain.conftest import BUCKET, TABLE
from tests.unit.domain.fakes import FakeBucket, FakeTable, client_error

PHOTO_ID = "571754a92d384817a2c1756184e2627f"
OWNER = "7d2c1e0a-5b8f-4a61-9e3d-2f4b6c8a1e90"


def jpeg(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def uploads(monkeypatch: pytest.MonkeyPatch) -> Uploads:
    monkeypatch.setattr(uploads_module, "new_photo_id", lambda: PHOTO_ID)
    monkeypatch.setattr(uploads_module.time, "time", lambda: 1764600000.0)
    return Uploads(
        bucket=BUCKET,
        photos=PhotoRepository(TABLE),
        limits=Limits(max_bytes=1_000_000, max_pixels=1_000_000),
        direct_max_bytes=100_000,
        url_expiry_seconds=900,
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "not json",
            'the body must be a JSON object: {"filename": ..., "contentType": ..., "size": ...};'
            " it is not JSON",
        ),
        (
            "[1]",
            'the body must be a JSON object: {"filename": ..., "contentType": ..., "size": ...},'
            " not an array",
        ),
        (
            '{"filename": "a.jpg", "contentType": "image/jpeg", "size": "12"}',
            'size must be a whole number, not a string ("12") (allowed: the photo\'s size in'
            " bytes, a whole number from 1 to 1,000)",
        ),
    ],
)
def test_a_bad_upload_request_is_refused_in_words(body: str, message: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_upload_request(body, 1000)
    assert str(refused.value) == message


def test_every_field_at_fault_is_named() -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_upload_request('{"contentType": "image/jpeg", "colour": "red"}', 1000)
    assert refused.value.fields == [
        {
            "field": "filename",
            "problem": "is required",
            "allowed": "the photo's file name, 1 to 1,024 characters",
        },
        {
            "field": "colour",
            "problem": "is not a field of this request",
            "allowed": "no such field",
        },
    ]


def test_a_good_upload_request_parses() -> None:
    request = parse_upload_request(
        '{"filename": "a.jpg", "contentType": "image/jpeg", "size": 12}', 1000
    )
    assert (request.filename, request.content_type, request.size) == ("a.jpg", "image/jpeg", 12)


def test_a_photo_is_recorded_then_stored_under_its_own_key(
    uploads: Uploads, table: FakeTable, bucket: FakeBucket
) -> None:
    photo = jpeg()
    assert uploads.accept(photo, "../../etc/harbour.jpg", "image/jpeg", OWNER) == PHOTO_ID
    [(operation, record)] = table.calls
    assert operation == "update_item"
    assert record["ExpressionAttributeValues"][":sourceKey"] == {
        "S": f"uploads/{PHOTO_ID}/harbour.jpg"
    }
    assert record["ExpressionAttributeValues"][":size"] == {"N": str(len(photo))}
    assert record["ExpressionAttributeValues"][":expiresAt"] == {"N": "1764686400"}
    assert bucket.calls == [
        (
            "put_object",
            {
                "Bucket": BUCKET,
                "Key": f"uploads/{PHOTO_ID}/harbour.jpg",
                "ContentType": "image/jpeg",
                "IfNoneMatch": "*",
            },
        )
    ]


def test_a_photo_that_could_not_be_stored_leaves_no_record(
    uploads: Uploads, table: FakeTable, bucket: FakeBucket
) -> None:
    bucket.errors["put_object"] = client_error("SlowDown", "PutObject")
    with pytest.raises(ClientError):
        uploads.accept(jpeg(), "harbour.jpg", "image/jpeg", OWNER)
    assert [(op, r.get("ConditionExpression")) for op, r in table.calls] == [
        ("update_item", None),
        ("delete_item", "attribute_not_exists(acceptedVersion)"),
    ]


def test_what_cannot_carry_a_photo_is_refused_before_anything_is_written(
    uploads: Uploads, table: FakeTable, bucket: FakeBucket
) -> None:
    with pytest.raises(UnsupportedMediaType) as refused:
        uploads.accept(jpeg(), "a.jpg", "text/plain; charset=utf-8", OWNER)
    assert str(refused.value).startswith("Content-Type 'text/plain' cannot carry a photo")
    with pytest.raises(PhotoTooLarge):
        uploads.accept(b"\xff" * 100_001, "a.jpg", "image/jpeg", OWNER)
    with pytest.raises(UnsupportedFormat):
        uploads.accept(b"Dear diary" * 10, "a.jpg", "application/octet-stream", OWNER)
    assert table.calls == []
    assert bucket.calls == []


def test_a_presigned_upload_is_bound_to_one_key_type_and_size_range(
    uploads: Uploads, table: FakeTable, bucket: FakeBucket
) -> None:
    presigned = uploads.presign("big photo.HEIC", "image/heic", 500_000, OWNER)
    assert presigned == {
        "photoId": PHOTO_ID,
        "upload": {
            "url": f"https://{BUCKET}.s3.amazonaws.com/",
            "fields": {"key": f"uploads/{PHOTO_ID}/big_photo.HEIC", "Content-Type": "image/heic"},
            "method": "POST",
        },
        "expiresIn": 3600,
        "maxBytes": 1_000_000,
    }
    [(_, post)] = bucket.calls
    assert post["Conditions"] == [
        {"Content-Type": "image/heic"},
        ["content-length-range", 1, 1_000_000],
    ]
    [(_, record)] = table.calls
    assert record["ExpressionAttributeValues"][":status"] == {"S": "AWAITING_UPLOAD"}
    assert record["ExpressionAttributeValues"][":expiresAt"] == {"N": "1764690000"}


def test_a_presigned_upload_of_a_type_or_size_not_accepted_is_refused(uploads: Uploads) -> None:
    with pytest.raises(UnsupportedFormat):
        uploads.presign("a.bmp", "image/bmp", None, OWNER)
    with pytest.raises(PhotoTooLarge):
        uploads.presign("a.jpg", "image/jpeg", 1_000_001, OWNER)


def test_the_view_of_a_completed_photo_links_its_derivatives(
    uploads: Uploads, bucket: FakeBucket
) -> None:
    thumbnail = {"name": "256", "key": f"derivatives/{PHOTO_ID}/thumbnails/256.jpg"}
    record = PhotoRecord(
        photo_id=PHOTO_ID,
        status=PhotoStatus.COMPLETED,
        created_at="2026-12-01T15:52:05.000Z",
        updated_at="2026-12-01T15:52:07.000Z",
        completed_at="2026-12-01T15:52:07.000Z",
        derivatives={"thumbnails": [thumbnail], "pixels": {"phash": "971bc08556e5313f"}},
        metadata={"format": "JPEG"},
    )
    view = uploads.view(record)
    assert view["metadata"] == {"format": "JPEG", "phash": "971bc08556e5313f"}
    assert view["thumbnails"] == [
        {**thumbnail, "url": f"https://{BUCKET}.s3.amazonaws.com/{thumbnail['key']}?signed"}
    ]
    assert view["filters"] == []
    assert (view["renditions"], view["square"], view["blurhash"], view["duplicateOf"]) == (
        [],
        None,
        None,
        None,
    )
    assert bucket.calls[0][1]["ExpiresIn"] == 900
    assert "error" not in view
    assert (view["configVersion"], view["reprocessedAt"]) == (None, None)


def test_the_view_links_every_rendition_and_the_square_and_carries_the_blurhash(
    uploads: Uploads, bucket: FakeBucket
) -> None:
    square = {"name": "square", "key": f"derivatives/{PHOTO_ID}/thumbnails/square.jpg"}
    avif = {"name": "256", "key": f"derivatives/{PHOTO_ID}/thumbnails/256.avif", "format": "avif"}
    record = PhotoRecord(
        photo_id=PHOTO_ID,
        status=PhotoStatus.COMPLETED,
        created_at="2026-12-01T15:52:05.000Z",
        updated_at="2026-12-01T15:52:07.000Z",
        completed_at="2026-12-01T15:52:07.000Z",
        derivatives={
            "thumbnails": [],
            "square": square,
            "renditions": [{**square, "format": "jpeg"}, avif],
            "pixels": {"blurhash": "LMJ=Qo:izV.7;As.oar=y]pHPTib"},
            "duplicateOf": "0d5f3c1e2b7a4f6e9c8d1a2b3c4d5e6f",
        },
        metadata={"format": "JPEG"},
        config_version=2,
        reprocessed_at="2026-12-02T09:00:00.000Z",
    )
    view = uploads.view(record)
    signed = f"https://{BUCKET}.s3.amazonaws.com/derivatives/{PHOTO_ID}/thumbnails"
    assert [(r["format"], r["url"]) for r in view["renditions"]] == [
        ("jpeg", f"{signed}/square.jpg?signed"),
        ("avif", f"{signed}/256.avif?signed"),
    ]
    assert view["square"] == {**square, "url": f"{signed}/square.jpg?signed"}
    assert view["blurhash"] == "LMJ=Qo:izV.7;As.oar=y]pHPTib"
    assert view["metadata"]["blurhash"] == "LMJ=Qo:izV.7;As.oar=y]pHPTib"
    assert view["duplicateOf"] == "0d5f3c1e2b7a4f6e9c8d1a2b3c4d5e6f"
    assert (view["configVersion"], view["reprocessedAt"]) == (2, "2026-12-02T09:00:00.000Z")


def test_the_view_of_a_failed_photo_has_its_error_in_words() -> None:
    record = PhotoRecord(
        photo_id=PHOTO_ID,
        status=PhotoStatus.FAILED,
        created_at="2026-12-01T15:52:05.000Z",
        updated_at="2026-12-01T15:52:07.000Z",
        completed_at="2026-12-01T15:52:07.000Z",
        error="States.Timeout",
    )
    view = Uploads(BUCKET, PhotoRepository(TABLE), Limits(1, 1), 1, 60).view(record)
    assert view["failedAt"] == "2026-12-01T15:52:07.000Z"
    assert view["error"] == {
        "name": "States.Timeout",
        "message": "Processing took too long and was stopped. Try again later.",
    }
