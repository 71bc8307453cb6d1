"""Originals and derivatives in S3 (photoflow.storage) and the three Lambda steps
(photoflow.steps) over a bucket held in memory, with real photos."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from photoflow import steps, storage
from photoflow.config import ImagingConfig, ThumbnailConfig
from photoflow.errors import PhotoMissing, StorageUnavailable
from photoflow.imaging import CorruptImage, PhotoTooLarge, Rendition
from photoflow.models import PhotoRef
from tests.unit.domain.conftest import BUCKET
from tests.unit.domain.fakes import FakeBucket, client_error

PHOTO_ID = "571754a92d384817a2c1756184e2627f"
KEY = f"uploads/{PHOTO_ID}/harbour.jpg"
CONFIG = ImagingConfig.model_validate(
    {
        "THUMBNAIL_SIZES": "256,64",
        "FILTERS": "grayscale",
        "FILTER_MAX_EDGE": "128",
        "MAX_PHOTO_BYTES": "1000000",
        "MAX_PIXELS": "1000000",
        "JPEG_QUALITY": "85",
    }
)
# The thumbnail step's: the imaging settings, a 64 px smart-cropped square and WebP copies.
THUMBNAIL_CONFIG = ThumbnailConfig.model_validate(
    {
        **CONFIG.model_dump(by_alias=True, mode="json"),
        "THUMBNAIL_SIZES": "256,64",
        "FILTERS": "grayscale",
        "SQUARE_THUMBNAIL_SIZE": "64",
        "MODERN_FORMATS": "webp",
        "WEBP_QUALITY": "80",
        "WEBP_METHOD": "2",
        "AVIF_QUALITY": "60",
        "AVIF_SPEED": "8",
    }
)


def jpeg(width: int = 600, height: int = 400) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


def photo(version: str | None = "v1") -> PhotoRef:
    return PhotoRef(
        id=PHOTO_ID,
        bucket=BUCKET,
        key=KEY,
        versionId=version,
        size=1,
        filename="harbour.jpg",
        uploadedAt="2026-12-01T15:52:05.367Z",
    )


def test_the_original_is_read_at_its_version(bucket: FakeBucket) -> None:
    bucket.add(KEY, b"first")
    bucket.add(KEY, b"second")
    assert storage.read_original(photo("v1"), 100) == b"first"
    assert bucket.calls == [("get_object", {"Bucket": BUCKET, "Key": KEY, "VersionId": "v1"})]


def test_an_original_over_the_limit_is_refused_before_it_is_read(bucket: FakeBucket) -> None:
    bucket.add(KEY, b"x" * 101)
    with pytest.raises(PhotoTooLarge) as refused:
        storage.read_original(photo(), 100)
    assert str(refused.value) == "photo is 101 bytes, over the 100 byte limit"


@pytest.mark.parametrize(
    ("code", "error", "message"),
    [
        (
            "NoSuchKey",
            PhotoMissing,
            "the photo was deleted or replaced before it could be processed (NoSuchKey)",
        ),
        ("SlowDown", StorageUnavailable, f"reading s3://{BUCKET}/{KEY}: SlowDown"),
        ("503", StorageUnavailable, f"reading s3://{BUCKET}/{KEY}: 503"),
    ],
)
def test_s3_failures_become_the_errors_the_workflow_knows(
    bucket: FakeBucket, code: str, error: type[Exception], message: str
) -> None:
    bucket.add(KEY, b"x")
    bucket.errors["get_object"] = client_error(code, "GetObject")
    with pytest.raises(error) as raised:
        storage.read_original(photo(), 100)
    assert str(raised.value) == message


def test_an_unknown_s3_error_stays_what_it_is(bucket: FakeBucket) -> None:
    bucket.add(KEY, b"x")
    bucket.errors["get_object"] = client_error("AccessDenied", "GetObject")
    with pytest.raises(Exception) as raised:
        storage.read_original(photo(), 100)
    assert type(raised.value).__name__ == "ClientError"


def test_a_rendition_is_written_immutable_under_the_photos_derivatives(bucket: FakeBucket) -> None:
    rendition = Rendition(
        name="256", data=b"jpeg", width=256, height=171, content_type="image/jpeg"
    )
    written = storage.write_rendition(photo(), "thumbnails", rendition)
    assert written.dump() == {
        "name": "256",
        "key": f"derivatives/{PHOTO_ID}/thumbnails/256.jpg",
        "width": 256,
        "height": 171,
        "contentType": "image/jpeg",
        "bytes": 4,
    }
    assert bucket.calls == [
        (
            "put_object",
            {
                "Bucket": BUCKET,
                "Key": f"derivatives/{PHOTO_ID}/thumbnails/256.jpg",
                "ContentType": "image/jpeg",
                "CacheControl": "private, max-age=31536000, immutable",
            },
        )
    ]


def test_describe_reads_the_header_of_the_version_it_was_given(bucket: FakeBucket) -> None:
    bucket.add(KEY, jpeg())
    described = steps.describe(photo(), CONFIG)
    metadata = described["metadata"]
    assert {k: metadata[k] for k in ("format", "contentType", "width", "height", "gps")} == {
        "format": "JPEG",
        "contentType": "image/jpeg",
        "width": 600,
        "height": 400,
        "gps": None,
    }


def test_thumbnails_writes_every_size_and_summarises_the_smallest(bucket: FakeBucket) -> None:
    bucket.add(KEY, jpeg())
    made = steps.thumbnails(photo(), THUMBNAIL_CONFIG)
    assert [(t["name"], t["width"], t["height"]) for t in made["thumbnails"]] == [
        ("256", 256, 171),
        ("64", 64, 43),
    ]
    assert [(r["format"], r["width"], r["height"]) for r in made["renditions"]] == [
        ("jpeg", 256, 171),
        ("jpeg", 64, 43),
        ("jpeg", 64, 64),
        ("webp", 256, 171),
        ("webp", 64, 43),
    ]
    assert sorted(bucket.versions) == [
        f"derivatives/{PHOTO_ID}/thumbnails/{name}"
        for name in ("256.jpg", "256.webp", "64.jpg", "64.webp", "square.jpg")
    ] + [KEY]
    assert len(made["pixels"]["phash"]) == 16
    assert made["pixels"]["dominantColours"][0] == made["pixels"]["palette"][0]["colour"]


def test_filters_writes_each_filter_at_the_filter_size(bucket: FakeBucket) -> None:
    bucket.add(KEY, jpeg())
    made = steps.filters(photo(), CONFIG)
    assert [(f["name"], f["key"], f["width"]) for f in made["filters"]] == [
        ("grayscale", f"derivatives/{PHOTO_ID}/filters/grayscale.jpg", 128)
    ]
    json.dumps(made)  # the step's result is JSON, as the ASL reads it


def test_a_damaged_original_is_the_photos_fault(bucket: FakeBucket) -> None:
    bucket.add(KEY, jpeg()[:400])
    with pytest.raises(CorruptImage):
        steps.thumbnails(photo(), THUMBNAIL_CONFIG)
    assert [k for k in bucket.versions if k.startswith("derivatives/")] == []
