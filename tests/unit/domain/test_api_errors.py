"""The API answers every domain error by photoflow.errors' table: its status, its name."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from types import ModuleType

import pytest

from photoflow import config
from photoflow.errors import (
    DeletionIncomplete,
    InvalidCursor,
    InvalidRequest,
    NoCallerIdentity,
    UnsupportedMediaType,
    registry,
)
from photoflow.imaging import EmptyPhoto, PhotoTooLarge, TooManyPixels, UnsupportedFormat
from tests.support import ROOT
from tests.unit.domain.conftest import BUCKET, TABLE, TOPIC

ENVIRONMENT = {
    "BUCKET_NAME": BUCKET,
    "TABLE_NAME": TABLE,
    "TOPIC_ARN": TOPIC,
    "THUMBNAIL_SIZES": "256",
    "FILTERS": "grayscale",
    "FILTER_MAX_EDGE": "1024",
    "MAX_PHOTO_BYTES": "1000000",
    "MAX_PIXELS": "1000000",
    "JPEG_QUALITY": "85",
    "DIRECT_UPLOAD_MAX_BYTES": "100000",
    "URL_EXPIRY_SECONDS": "900",
    "PAGE_SIZE_MAX": "50",
    "ALLOWED_ORIGIN": "http://127.0.0.1:3000",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "photoflow-api",
    "POWERTOOLS_METRICS_NAMESPACE": "PhotoFlow",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    config.load.cache_clear()
    spec = importlib.util.spec_from_file_location(
        "photoflow_api_under_test", ROOT / "functions" / "api" / "app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    config.load.cache_clear()


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (EmptyPhoto("the upload is empty"), 400, {"error": "EmptyPhoto"}),
        (PhotoTooLarge("photo is 9 bytes"), 413, {"error": "PhotoTooLarge"}),
        (TooManyPixels("image is 20,000 x 20,000"), 422, {"error": "TooManyPixels"}),
        (UnsupportedFormat("not an image"), 415, {"error": "UnsupportedFormat"}),
        (UnsupportedMediaType("text/plain"), 415, {"error": "UnsupportedMediaType"}),
        (InvalidCursor("cursor is not one this API returned"), 400, {"error": "InvalidCursor"}),
        (NoCallerIdentity("no identity"), 401, {"error": "Unauthorized"}),
        (
            DeletionIncomplete("p", [{"Key": "k", "Code": "SlowDown"}]),
            503,
            {"error": "DeletionIncomplete"},
        ),
        (
            InvalidRequest("size is wrong", [{"field": "size", "problem": "p", "allowed": "a"}]),
            400,
            {"error": "BadRequest", "fields": [{"field": "size", "problem": "p", "allowed": "a"}]},
        ),
    ],
)
def test_each_error_is_answered_with_the_tables_status_and_name(
    api: ModuleType, error: Exception, status: int, body: dict[str, object]
) -> None:
    response = api.domain_error(error)
    assert response.status_code == status
    answered = response.body if isinstance(response.body, dict) else json.loads(response.body)
    assert {**answered, **body} == answered
    assert answered["message"] == str(error)


def test_every_error_of_the_table_has_the_apis_handler(api: ModuleType) -> None:
    handlers = api.app.exception_handler_manager
    for entry in registry():
        assert handlers.lookup_exception_handler(entry.error) is api.domain_error, entry.name
    assert handlers.lookup_exception_handler(KeyError) is None
