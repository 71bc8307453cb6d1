"""The photo events' contract: what the state machine's Notify states send and what the
Python code sends (photoflow.notifications) are the same messages with the same message
attributes for the same event, and every one of them is valid against
events/notification.schema.json.

The ASL's states are evaluated here as the engine evaluates them (its JSONata, with the
state's variables bound), and the executions recorded in tests/fixtures/histories show
what the engine sent."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest

from photoflow import notifications
from photoflow_local.aws_jsonata import evaluate
from tests.support import EVENTS, ROOT

SCHEMA = json.loads((EVENTS / "notification.schema.json").read_text())
ASL = json.loads((ROOT / "statemachine" / "photo_workflow.asl.json").read_text())
# The reprocessing workflow as deployed with ConfigVersion 2: its photo's own states.
REPROCESS_ASL = json.loads(
    (ROOT / "statemachine" / "reprocess_workflow.asl.json")
    .read_text()
    .replace("${ConfigVersion}", "2")
)
REPROCESS_STATES = REPROCESS_ASL["States"]["ReprocessPhotos"]["ItemProcessor"]["States"][
    "EachPhoto"
]["ItemProcessor"]["States"]
RUN = "arn:aws:states:us-east-1:123456789012:execution:photoflow-dev-reprocess:reprocess-1"
HISTORIES = ROOT / "tests" / "fixtures" / "histories"

PHOTO_ID = "571754a92d384817a2c1756184e2627f"
ARN = f"arn:aws:states:us-east-1:123456789012:execution:PhotoWorkflow:photo-{PHOTO_ID}-0a1b"
OWNER = "7d2c1e0a-5b8f-4a61-9e3d-2f4b6c8a1e90"
WHEN = "2026-12-01T15:52:07.342Z"
PHOTO = {
    "id": PHOTO_ID,
    "bucket": "photoflow-dev-123456789012-us-east-1",
    "key": f"uploads/{PHOTO_ID}/harbour.jpg",
    "filename": "harbour.jpg",
    "versionId": "40352739-c177-4eac-8123-ce8cf6d65e8a",
}
METADATA = {
    "format": "JPEG",
    "contentType": "image/jpeg",
    "width": 1600,
    "height": 1067,
    "orientation": 1,
    "frames": 1,
    "camera": {"make": "Canon", "model": "EOS R5", "lens": None},
    "takenAt": None,
    "gps": None,
}
DERIVATIVES = {
    "thumbnails": [
        {
            "name": "256",
            "key": f"derivatives/{PHOTO_ID}/thumbnails/256.jpg",
            "width": 256,
            "height": 171,
            "contentType": "image/jpeg",
            "bytes": 5695,
        }
    ],
    "square": None,
    "duplicateOf": None,
    "renditions": [
        {
            "name": "256",
            "key": f"derivatives/{PHOTO_ID}/thumbnails/256.jpg",
            "width": 256,
            "height": 171,
            "contentType": "image/jpeg",
            "bytes": 5695,
            "format": "jpeg",
        },
        {
            "name": "256",
            "key": f"derivatives/{PHOTO_ID}/thumbnails/256.avif",
            "width": 256,
            "height": 171,
            "contentType": "image/avif",
            "bytes": 2508,
            "format": "avif",
        },
    ],
    "filters": [],
    "pixels": {
        "dominantColours": ["#9f7c87"],
        "palette": [{"colour": "#9f7c87", "share": 1.0}],
        "phash": "971bc08556e5313f",
        "blurhash": "LMJ=Qo:izV.7;As.oar=y]pHPTib",
    },
}
REASON = "the JPEG image data is damaged or incomplete: image file is truncated (34 bytes)"


def _evaluated(template: Any, bindings: dict[str, Any]) -> Any:
    """A state's Arguments as the engine sends them: each ``{% ... %}`` string evaluated."""
    if isinstance(template, dict):
        return {name: _evaluated(value, bindings) for name, value in template.items()}
    if isinstance(template, list):
        return [_evaluated(value, bindings) for value in template]
    if isinstance(template, str) and template.startswith("{%") and template.endswith("%}"):
        return evaluate(template[2:-2], bindings)
    return template


def asl_sends(
    state: str, photo: dict[str, Any], states: dict[str, Any] = ASL["States"]
) -> dict[str, Any]:
    """The Message and MessageAttributes that ``state`` publishes for ``photo``."""
    arguments = states[state]["Arguments"]
    bindings = {
        "run": RUN,
        "photo": photo,
        "metadata": METADATA,
        "derivatives": DERIVATIVES,
        "error": {"Error": "CorruptImage", "Cause": json.dumps({"errorMessage": REASON})},
        "reason": REASON,
        "states": {"context": {"Execution": {"Id": ARN}, "State": {"EnteredTime": WHEN}}},
    }
    sent = _evaluated({k: arguments[k] for k in ("Message", "MessageAttributes")}, bindings)
    assert isinstance(sent, dict)
    return sent


def python_sends(event: notifications.Notification) -> dict[str, Any]:
    return {"Message": event.message, "MessageAttributes": event.message_attributes()}


def python_processed(photo: dict[str, Any]) -> notifications.Notification:
    return notifications.processed(
        photo,
        ARN,
        owner=photo.get("owner"),
        metadata=METADATA,
        derivatives=DERIVATIVES,
        occurred_at=WHEN,
    )


def python_failed(photo: dict[str, Any]) -> notifications.Notification:
    return notifications.failed(
        photo, ARN, owner=photo.get("owner"), error="CorruptImage", message=REASON, occurred_at=WHEN
    )


OWNED = {**PHOTO, "owner": OWNER}


@pytest.mark.parametrize("photo", [OWNED, PHOTO], ids=["with an owner", "without one"])
def test_the_state_machine_and_python_send_the_same_photo_processed(photo: dict[str, Any]) -> None:
    from_asl = asl_sends("NotifyProcessed", photo)
    assert from_asl == python_sends(python_processed(photo))
    jsonschema.validate(from_asl["Message"], SCHEMA)
    assert from_asl["Message"]["eventType"] == "PhotoProcessed"
    assert from_asl["Message"]["owner"] == photo.get("owner")
    assert from_asl["MessageAttributes"]["format"] == {"DataType": "String", "StringValue": "JPEG"}


@pytest.mark.parametrize("photo", [OWNED, PHOTO], ids=["with an owner", "without one"])
def test_the_state_machine_and_python_send_the_same_photo_failed(photo: dict[str, Any]) -> None:
    from_asl = asl_sends("NotifyFailure", photo)
    assert from_asl == python_sends(python_failed(photo))
    jsonschema.validate(from_asl["Message"], SCHEMA)
    assert from_asl["Message"]["error"] == {"name": "CorruptImage", "message": REASON}


def test_an_owned_photo_is_routed_by_owner_and_an_unowned_one_has_no_owner_attribute() -> None:
    assert python_sends(python_failed(OWNED))["MessageAttributes"] == {
        "eventType": {"DataType": "String", "StringValue": "PhotoFailed"},
        "status": {"DataType": "String", "StringValue": "FAILED"},
        "error": {"DataType": "String", "StringValue": "CorruptImage"},
        "owner": {"DataType": "String", "StringValue": OWNER},
    }
    assert python_failed(PHOTO).attributes == {
        "eventType": "PhotoFailed",
        "status": "FAILED",
        "error": "CorruptImage",
    }
    assert python_failed(PHOTO).message["owner"] is None


def test_a_photo_deleted_is_valid_and_carries_no_bucket_nor_execution() -> None:
    event = notifications.deleted(
        PHOTO_ID, owner=OWNER, source_key=f"uploads/{PHOTO_ID}/harbour.jpg", occurred_at=WHEN
    )
    jsonschema.validate(event.message, SCHEMA)
    assert event.message == {
        "schemaVersion": "3",
        "eventType": "PhotoDeleted",
        "status": "DELETED",
        "photoId": PHOTO_ID,
        "owner": OWNER,
        "source": {"key": f"uploads/{PHOTO_ID}/harbour.jpg"},
        "occurredAt": WHEN,
    }
    assert event.attributes == {"eventType": "PhotoDeleted", "status": "DELETED", "owner": OWNER}


def test_a_photo_processed_without_a_format_is_filtered_as_unknown() -> None:
    event = notifications.processed(
        PHOTO, ARN, owner=None, metadata={}, derivatives=DERIVATIVES, occurred_at=WHEN
    )
    assert event.attributes == {
        "eventType": "PhotoProcessed",
        "status": "COMPLETED",
        "format": "unknown",
    }


@pytest.mark.parametrize("photo", [OWNED, PHOTO], ids=["with an owner", "without one"])
def test_a_reprocessed_photo_is_announced_as_its_upload_was_with_its_run_and_version(
    photo: dict[str, Any],
) -> None:
    reprocessed = asl_sends("NotifyReprocessed", photo, REPROCESS_STATES)
    jsonschema.validate(reprocessed["Message"], SCHEMA)
    processed = asl_sends("NotifyProcessed", photo)
    message = dict(reprocessed["Message"])
    assert (message.pop("eventType"), message.pop("runArn"), message.pop("configVersion")) == (
        "PhotoReprocessed",
        RUN,
        2,
    )
    assert message == {k: v for k, v in processed["Message"].items() if k != "eventType"}
    attributes = dict(reprocessed["MessageAttributes"])
    assert attributes.pop("eventType") == {"DataType": "String", "StringValue": "PhotoReprocessed"}
    assert attributes == {
        k: v for k, v in processed["MessageAttributes"].items() if k != "eventType"
    }


def test_a_photo_reprocessed_without_its_run_or_version_is_invalid() -> None:
    message = asl_sends("NotifyReprocessed", OWNED, REPROCESS_STATES)["Message"]
    for dropped in ("runArn", "configVersion"):
        with pytest.raises(jsonschema.ValidationError, match=dropped):
            jsonschema.validate({k: v for k, v in message.items() if k != dropped}, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**message, "schemaVersion": "2"}, SCHEMA)


def test_every_event_type_of_the_schema_is_built_here_and_the_asl_sends_two_of_them() -> None:
    # PhotoReprocessed is the reprocessing workflow's alone (the test above).
    assert SCHEMA["properties"]["eventType"]["enum"] == [
        notifications.PROCESSED,
        notifications.FAILED,
        notifications.DELETED,
        "PhotoReprocessed",
    ]
    assert SCHEMA["properties"]["schemaVersion"]["enum"] == ["3", "2"]
    assert notifications.SCHEMA_VERSION == "3"
    published = {
        name: state["Arguments"]["Message"]["eventType"]
        for name, state in ASL["States"].items()
        if state.get("Resource", "").endswith(":sns:publish")
    }
    assert published == {"NotifyProcessed": "PhotoProcessed", "NotifyFailure": "PhotoFailed"}
    for state in ("NotifyProcessed", "NotifyFailure"):
        assert ASL["States"][state]["Arguments"]["Message"]["schemaVersion"] == "3"


def _recorded_publish(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The execution's input photo and the sns:publish parameters the engine sent."""
    history = json.loads((HISTORIES / f"{name}.history.json").read_text())["events"]
    photo = json.loads(history[0]["executionStartedEventDetails"]["input"])["photo"]
    [published] = [
        json.loads(event["taskScheduledEventDetails"]["parameters"])
        for event in history
        if event.get("taskScheduledEventDetails", {}).get("resourceType") == "sns"
    ]
    return photo, published


def test_the_recorded_photo_processed_is_what_python_builds_for_the_same_photo() -> None:
    photo, sent = _recorded_publish("completed")
    message = sent["Message"]
    jsonschema.validate(message, SCHEMA)
    assert message["eventType"] == "PhotoProcessed"
    # the local pool's user, whose sub is new with every recording
    assert message["owner"] == photo["owner"]
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", message["owner"])
    assert message["schemaVersion"] == "3"
    assert [(r["format"], r["width"]) for r in message["derivatives"]["renditions"]][-2:] == [
        ("webp", 256),
        ("avif", 256),
    ]
    assert message["derivatives"]["square"]["width"] == 256
    built = notifications.processed(
        photo,
        message["executionArn"],
        owner=photo["owner"],
        metadata=message["metadata"],
        derivatives=message["derivatives"],
        occurred_at=message["occurredAt"],
    )
    assert python_sends(built) == {
        "Message": message,
        "MessageAttributes": sent["MessageAttributes"],
    }


def test_the_recorded_photo_failed_is_what_python_builds_for_the_same_photo() -> None:
    photo, sent = _recorded_publish("corrupt")
    message = sent["Message"]
    jsonschema.validate(message, SCHEMA)
    assert message["error"]["name"] == "CorruptImage"
    built = notifications.failed(
        photo,
        message["executionArn"],
        owner=photo["owner"],
        error=message["error"]["name"],
        message=message["error"]["message"],
        occurred_at=message["occurredAt"],
    )
    assert python_sends(built) == {
        "Message": message,
        "MessageAttributes": sent["MessageAttributes"],
    }


@pytest.mark.parametrize(
    ("example", "version"),
    [
        ("notification_processed.json", "3"),
        ("notification_processed_v2.json", "2"),
        ("notification_failed.json", "3"),
        ("notification_deleted.json", "3"),
        ("notification_reprocessed.json", "3"),
    ],
)
def test_both_versions_examples_are_valid(example: str, version: str) -> None:
    message = json.loads((EVENTS / example).read_text())
    jsonschema.validate(message, SCHEMA)
    assert message["schemaVersion"] == version


def test_a_version_3_photo_processed_names_its_renditions_square_and_blurhash() -> None:
    message = json.loads((EVENTS / "notification_processed.json").read_text())
    derivatives = message["derivatives"]
    assert [(r["format"], r["width"]) for r in derivatives["renditions"] if r["name"] == "256"] == [
        ("jpeg", 256),
        ("webp", 256),
        ("avif", 256),
    ]
    assert (derivatives["square"]["width"], derivatives["square"]["height"]) == (256, 256)
    assert derivatives["pixels"]["blurhash"] == "LMJ=Qo:izV.7;As.oar=y]pHPTib"


@pytest.mark.parametrize("dropped", ["renditions", "square", "duplicateOf", "blurhash"])
def test_a_version_3_photo_processed_without_a_version_3_field_is_invalid(dropped: str) -> None:
    message = json.loads((EVENTS / "notification_processed.json").read_text())
    holder = message["derivatives"]["pixels"] if dropped == "blurhash" else message["derivatives"]
    del holder[dropped]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(message, SCHEMA)
    jsonschema.validate({**message, "schemaVersion": "2"}, SCHEMA)


def test_a_duplicate_names_its_original_by_photo_id() -> None:
    message = json.loads((EVENTS / "notification_processed.json").read_text())
    message["derivatives"]["duplicateOf"] = "0d5f3c1e2b7a4f6e9c8d1a2b3c4d5e6f"
    jsonschema.validate(message, SCHEMA)
    message["derivatives"]["duplicateOf"] = "uploads/0d5f3c1e2b7a4f6e9c8d1a2b3c4d5e6f/a.jpg"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(message, SCHEMA)


def test_a_record_written_before_version_3_is_announced_as_version_2() -> None:
    # The reconciler announces from the record: one written before version 3 has none of
    # its fields, and a message labelled "3" without them would be refused.
    older = {
        name: value
        for name, value in DERIVATIVES.items()
        if name not in ("square", "renditions", "duplicateOf")
    }
    event = notifications.processed(
        {"id": PHOTO_ID, "bucket": "photos", "key": f"uploads/{PHOTO_ID}/a.jpg"},
        ARN,
        owner="ada",
        metadata=METADATA,
        derivatives=older,
        occurred_at=WHEN,
    )
    assert event.message["schemaVersion"] == "2"
    jsonschema.validate(event.message, SCHEMA)


def test_a_rendition_in_an_unknown_format_is_invalid() -> None:
    message = json.loads((EVENTS / "notification_processed.json").read_text())
    message["derivatives"]["renditions"][0]["format"] = "gif"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(message, SCHEMA)
