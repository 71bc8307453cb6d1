"""Comparing a recorded execution with its replay: what varies by nature is compared by
presence, everything else by value."""

from __future__ import annotations

import copy
import json
from typing import Any

from photoflow_local.history import build_timeline
from photoflow_local.replay import compare

# A lambda:invoke result as AWS returns it (the shape of a recorded execution), and the
# same result of another run: other request id, trace id and date.
AWS_RESULT: dict[str, Any] = {
    "ExecutedVersion": "$LATEST",
    "Payload": {"size": 2},
    "SdkHttpMetadata": {
        "AllHttpHeaders": {
            "X-Amz-Executed-Version": ["$LATEST"],
            "x-amzn-Remapped-Content-Length": ["0"],
            "Connection": ["keep-alive"],
            "x-amzn-RequestId": ["0b5b8c2e-7a0e-4a7c-9f00-2d0c3e6f1a11"],
            "Content-Length": ["11"],
            "Date": ["Thu, 06 Nov 2025 12:31:47 GMT"],
            "X-Amzn-Trace-Id": ["Root=1-690c95b3-6c7d5a3b2e1f0a9b8c7d6e5f;Parent=1a2b3c4d5e6f7a8b"],
            "Content-Type": ["application/json"],
        },
        "HttpHeaders": {
            "Connection": "keep-alive",
            "Content-Length": "11",
            "Content-Type": "application/json",
            "Date": "Thu, 06 Nov 2025 12:31:47 GMT",
            "X-Amz-Executed-Version": "$LATEST",
            "x-amzn-Remapped-Content-Length": "0",
            "x-amzn-RequestId": "0b5b8c2e-7a0e-4a7c-9f00-2d0c3e6f1a11",
            "X-Amzn-Trace-Id": "Root=1-690c95b3-6c7d5a3b2e1f0a9b8c7d6e5f;Parent=1a2b3c4d5e6f7a8b",
        },
        "HttpStatusCode": 200,
    },
    "SdkResponseMetadata": {"RequestId": "0b5b8c2e-7a0e-4a7c-9f00-2d0c3e6f1a11"},
    "StatusCode": 200,
}
OTHER_RUN = "d2e120dd-1adf-4e87-9bc7-4b0b69379e8b"


def _another_run(result: dict[str, Any]) -> dict[str, Any]:
    replayed = copy.deepcopy(result)
    metadata = replayed["SdkHttpMetadata"]
    for headers, wrap in ((metadata["AllHttpHeaders"], list), (metadata["HttpHeaders"], str)):
        headers["x-amzn-RequestId"] = [OTHER_RUN] if wrap is list else OTHER_RUN
        headers["Date"] = ["Tue, 01 Dec 2026 10:56:23 GMT"] if wrap is list else "Tue, 01 Dec"
        headers["X-Amzn-Trace-Id"] = "Root=1-6b0ea7d7-e45a8ed2f3ff480c5215406b;Sampled=0"
    replayed["SdkResponseMetadata"]["RequestId"] = OTHER_RUN
    return replayed


def _history(output: Any) -> list[dict[str, Any]]:
    """An execution of one Task state, ``Start``, whose state output is ``output``."""
    when = "2025-11-06T12:31:47.000000+00:00"
    text = json.dumps(output)
    return [
        {"id": 1, "previousEventId": 0, "timestamp": when, "type": "ExecutionStarted",
         "executionStartedEventDetails": {"input": "{}"}},
        {"id": 2, "previousEventId": 0, "timestamp": when, "type": "TaskStateEntered",
         "stateEnteredEventDetails": {"name": "Start", "input": "{}"}},
        {"id": 3, "previousEventId": 2, "timestamp": when, "type": "TaskScheduled"},
        {"id": 4, "previousEventId": 3, "timestamp": when, "type": "TaskSucceeded",
         "taskSucceededEventDetails": {"output": text}},
        {"id": 5, "previousEventId": 4, "timestamp": when, "type": "TaskStateExited",
         "stateExitedEventDetails": {"name": "Start", "output": text}},
        {"id": 6, "previousEventId": 5, "timestamp": when, "type": "ExecutionSucceeded",
         "executionSucceededEventDetails": {"output": text}},
    ]  # fmt: skip


def _differences(recorded: Any, replayed: Any) -> list[tuple[str, str]]:
    found = compare(build_timeline(_history(recorded)), build_timeline(_history(replayed)))
    return [(d.kind, d.state) for d in found]


def test_request_ids_trace_ids_and_dates_of_a_service_answer_may_differ() -> None:
    assert _differences(AWS_RESULT, _another_run(AWS_RESULT)) == []


def test_a_field_that_is_missing_or_different_is_a_difference() -> None:
    without_metadata = {"Payload": {"size": 2}, "StatusCode": 200}
    other_payload = {**_another_run(AWS_RESULT), "Payload": {"size": 3}}
    no_trace = _another_run(AWS_RESULT)
    del no_trace["SdkHttpMetadata"]["HttpHeaders"]["X-Amzn-Trace-Id"]

    assert _differences(AWS_RESULT, without_metadata) == [("output", "Start")]
    assert _differences(AWS_RESULT, other_payload) == [("output", "Start")]
    assert _differences(AWS_RESULT, no_trace) == [("output", "Start")]


def test_a_function_error_or_a_service_error_may_name_another_request() -> None:
    error = {
        "errorMessage": "bad",
        "errorType": "CorruptImage",
        "requestId": "0b5b8c2e-7a0e-4a7c-9f00-2d0c3e6f1a11",
        "stackTrace": ['  File "/var/task/app.py", line 3, in handler\n'],
    }
    service = (
        "Requested resource not found (Service: AmazonDynamoDBv2; Status Code: 400; Error Code:"
        " ResourceNotFoundException; Request ID: {}; Proxy: null)"
    )
    recorded = {"Error": "CorruptImage", "Cause": json.dumps(error), "Other": service.format("A1")}
    replayed = {
        "Error": "CorruptImage",
        "Cause": json.dumps({**error, "requestId": OTHER_RUN, "stackTrace": []}),
        "Other": service.format("QE0DLZMIDNOM1MUSSO3Y17VRKT5EZPOIFKKBRWMROAYS4JKE1WWN"),
    }
    assert _differences(recorded, replayed) == []
    assert _differences(recorded, {**replayed, "Error": "Other"}) == [("output", "Start")]
