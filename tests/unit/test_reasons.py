"""Failures in words for people: one line, short, no paths, no stack traces; the same rule
in Python, in the notification schema and in the state machine's failure path."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from photoflow.imaging import CorruptImage, PhotoTooLarge, TooManyPixels
from photoflow.reasons import describe, for_people, is_safe, photo_faults
from photoflow.storage import PhotoMissing
from photoflow_local.aws_jsonata import evaluate
from tests.support import EVENTS, ROOT

SCHEMA = json.loads((EVENTS / "notification.schema.json").read_text())
ASL = json.loads((ROOT / "statemachine" / "photo_workflow.asl.json").read_text())
FAILED_EVENT = json.loads((EVENTS / "notification_failed.json").read_text())

TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/var/task/app.py", line 24, in lambda_handler\n'
    "    result = steps.thumbnails(event.photo, CONFIG)\n"
    "KeyError: 'sizes'"
)
SAFE = [
    "the JPEG image data is damaged or incomplete: image file is truncated (54 bytes)",
    "image/heic is not accepted (accepted: JPEG, PNG, WebP)",
    "photo is 60,000,000 bytes, over the 52,428,800 byte limit",
    "x" * 300,
]
UNSAFE = [
    TRACEBACK,
    "cannot read /tmp/upload-1234/broken.jpg",
    'cannot read "/var/task/app.py"',
    "see ./photos/broken.jpg",
    "see ~/photos/broken.jpg",
    r"cannot read C:\photos\broken.jpg",
    "reading s3://photos-bucket/uploads/abc/broken.jpg: NoSuchKey",
    "two\nlines",
    "x" * 301,
    "",
]
NOT_THE_PHOTO = (
    "Processing failed because of a problem on our side, not with the photo. Try again later."
)


def catch_reason(state: dict[str, Any]) -> str:
    [catch] = state["Catch"]
    reason: str = catch["Assign"]["reason"]
    return reason


def asl_reason(message: str, cause: str | None = None) -> Any:
    """What the state machine's failure path makes of a Lambda error with ``message`` (or of
    an error whose ``cause`` is not Lambda's JSON)."""
    expression = catch_reason(ASL["States"]["ExtractMetadata"])
    if cause is None:
        cause = json.dumps({"errorMessage": message, "errorType": "CorruptImage", "stackTrace": []})
    bound = {"states": {"errorOutput": {"Error": "CorruptImage", "Cause": cause}}}
    return evaluate(expression.removeprefix("{%").removesuffix("%}"), bound)


def schema_accepts(message: str) -> bool:
    event = {**FAILED_EVENT, "error": {"name": "CorruptImage", "message": message}}
    try:
        jsonschema.validate(event, SCHEMA)
    except jsonschema.ValidationError:
        return False
    return True


@pytest.mark.parametrize("message", SAFE)
def test_a_safe_message_passes_everywhere_unchanged(message: str) -> None:
    assert is_safe(message)
    assert schema_accepts(message)
    assert asl_reason(message) == message
    assert describe("CorruptImage", json.dumps({"errorMessage": message})) == message


@pytest.mark.parametrize("message", UNSAFE)
def test_an_unsafe_message_is_refused_everywhere(message: str) -> None:
    assert not is_safe(message)
    assert not schema_accepts(message)
    assert asl_reason(message) == "The photo could not be processed."
    cause = json.dumps({"errorMessage": message, "stackTrace": ['  File "/var/task/app.py"']})
    assert describe("CorruptImage", cause) == "The photo could not be processed."


@pytest.mark.parametrize(
    ("cause", "message"),
    [
        ("injected by test case CatchPath", "injected by test case CatchPath"),
        (TRACEBACK, "The photo could not be processed."),
    ],
)
def test_a_cause_that_is_not_lambdas_json_is_the_message_when_safe(
    cause: str, message: str
) -> None:
    assert asl_reason("", cause) == message
    assert describe("UnsupportedFormat", cause) == message


def test_the_state_machine_catches_exactly_the_photos_own_faults() -> None:
    for state in (ASL["States"]["ExtractMetadata"], ASL["States"]["MakeDerivatives"]):
        [catch] = state["Catch"]
        assert set(catch["ErrorEquals"]) == photo_faults()
        assert catch_reason(state) == catch_reason(ASL["States"]["ExtractMetadata"])
    assert photo_faults() == {
        "CorruptImage",
        "EmptyPhoto",
        "PhotoMissing",
        "PhotoTooLarge",
        "TooManyPixels",
        "UnsupportedFormat",
    }
    # a record that could not be marked PROCESSING is not the photo's fault either
    assert catch_reason(ASL["States"]["MarkProcessing"]) == NOT_THE_PHOTO


def test_the_schema_keeps_the_cause_out_and_bounds_the_message() -> None:
    error = SCHEMA["properties"]["error"]
    assert error["required"] == ["name", "message"]
    assert error["additionalProperties"] is False
    assert error["properties"]["message"]["maxLength"] == 300
    with_cause = {**FAILED_EVENT, "error": {**FAILED_EVENT["error"], "cause": TRACEBACK}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(with_cause, SCHEMA)


@pytest.mark.parametrize(
    ("error", "cause", "message"),
    [
        ("KeyError", json.dumps({"errorMessage": "'sizes'", "stackTrace": []}), NOT_THE_PHOTO),
        ("States.Runtime", "An error occurred while executing the state", NOT_THE_PHOTO),
        (
            "Sandbox.Timedout",
            '{"errorMessage": "Task timed out after 120.00 seconds"}',
            "Processing took too long and was stopped. Try again later.",
        ),
        ("States.Timeout", None, "Processing took too long and was stopped. Try again later."),
        ("States.Aborted", None, "Processing was stopped before it finished. Try again later."),
        (None, None, NOT_THE_PHOTO),
        (
            "TooManyPixels",
            json.dumps({"errorMessage": "image is 20,000 x 20,000, over the limit"}),
            "image is 20,000 x 20,000, over the limit",
        ),
        (
            "PhotoTooLarge",
            "photo is 9 bytes, over the 8 byte limit",
            "photo is 9 bytes, over the 8 byte limit",
        ),
    ],
)
def test_what_each_failure_says_to_people(
    error: str | None, cause: str | None, message: str
) -> None:
    assert describe(error, cause) == message


def test_the_photos_faults_are_one_line_of_at_most_300_characters_when_raised() -> None:
    assert str(TooManyPixels("over\nthe   limit")) == "over the limit"
    assert str(PhotoMissing("  gone\n")) == "gone"
    # an API's route is kept in an API's answer (whether a notification may carry it is
    # is_safe's to say: it may not)
    route = "bodies over 4,194,304 bytes must use POST /photos/uploads"
    assert str(PhotoTooLarge(route)) == route
    assert describe("PhotoTooLarge", route) == "The photo could not be processed."
    long = str(CorruptImage("damaged " * 60))
    # 37 words and a space are 296 characters: 3 more, and the ellipsis
    assert len(long) == 300 and long.endswith("damaged dam\N{HORIZONTAL ELLIPSIS}")


def test_for_people_keeps_content_types_and_words_with_slashes() -> None:
    assert for_people("image/jpeg or image/png, 3/4 of the file") == (
        "image/jpeg or image/png, 3/4 of the file"
    )
