"""Every function error reaches the functions' log, as one ERROR line with the function's
name and the id of the input that failed; the local engine's internals and Powertools'
empty-metrics warnings stay out of that log."""

from __future__ import annotations

import json
import uuid
from typing import Any

from photoflow.keys import new_photo_id
from photoflow_local.stack import LocalStack
from tests.photos import make_photo, truncated_jpeg
from tests.support import load_event, poll, put_upload, terminal_record

EXECUTIONS = "arn:aws:states:us-east-1:123456789012:execution:PhotoWorkflow"


def errors_logged(local_stack: LocalStack, **matching: str) -> list[dict[str, Any]]:
    """The ERROR lines of the functions' log whose fields include ``matching``."""
    found = []
    for line in local_stack.lambdas.log_sink.getvalue().splitlines():  # type: ignore[attr-defined]
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if (
            isinstance(entry, dict)
            and entry.get("level") == "ERROR"
            and all(entry.get(name) == value for name, value in matching.items())
        ):
            found.append(entry)
    return found


def sqs_record(message_id: str, body: dict[str, Any] | str) -> dict[str, Any]:
    record: dict[str, Any] = load_event("start_workflow_sqs.json")["Records"][0]
    return {
        **record,
        "messageId": message_id,
        "body": json.dumps(body) if isinstance(body, dict) else body,
    }


def ended(event_id: str, status: str, execution_input: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event_id,
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "detail": {
            "executionArn": f"{EXECUTIONS}:{event_id}",
            "status": status,
            "input": json.dumps(execution_input),
        },
    }


def test_a_reconciler_record_that_fails_is_logged_with_its_ids(local_stack: LocalStack) -> None:
    # Given a batch of two ended-execution events, one whose input has no photo
    good, bad = f"ev-{uuid.uuid4()}", f"ev-{uuid.uuid4()}"
    batch = {
        "Records": [
            sqs_record("m-good", ended(good, "SUCCEEDED", {"photo": {"id": new_photo_id()}})),
            sqs_record("m-bad", ended(bad, "FAILED", {})),
        ]
    }
    # When the reconciler handles it
    payload, errored, _ = local_stack.lambdas.invoke("ReconcileFunction", json.dumps(batch))
    # Then the bad one is reported back, and logged with the function and the event
    assert (errored, json.loads(payload)) == (
        False,
        {"batchItemFailures": [{"itemIdentifier": "m-bad"}]},
    )
    [line] = errors_logged(local_stack, message_id="m-bad", event_id=bad)
    assert line["function_name"] == "ReconcileFunction"
    assert line["execution_arn"].endswith(f":{bad}")
    assert "has no photo in its input" in line["message"]
    assert errors_logged(local_stack, event_id=good) == []


def test_an_ingest_message_that_fails_is_logged_with_its_id(local_stack: LocalStack) -> None:
    message_id = f"poison-{uuid.uuid4()}"
    batch = {"Records": [sqs_record(message_id, "this is not an S3 notification")]}
    local_stack.lambdas.invoke("StartWorkflowFunction", json.dumps(batch))
    [line] = errors_logged(local_stack, message_id=message_id)
    assert line["function_name"] == "StartWorkflowFunction"
    assert line["error"] == "NotAnS3Notification"


def test_a_step_that_fails_is_logged_with_the_photo_id(local_stack: LocalStack) -> None:
    photo_id = put_upload(local_stack, truncated_jpeg(), "cut.jpg")
    assert terminal_record(local_stack, photo_id)["status"]["S"] == "FAILED"
    # (the header is whole: the steps that decode it fail, side by side; the Parallel's
    # failure does not wait for the other branch's function, which may still be running)
    lines = poll(
        lambda: errors_logged(local_stack, input_id=photo_id, error="CorruptImage"),
        lambda found: len(found) >= 2,
        timeout=30,
        what="both steps' ERROR lines",
    )
    assert sorted(line["function_name"] for line in lines) == [
        "FilterFunction",
        "ThumbnailFunction",
    ]
    assert all("damaged or incomplete" in line["message"] for line in lines)


def test_a_sandbox_that_times_out_is_logged_by_the_local_lambda_service(
    local_stack: LocalStack,
) -> None:
    event = load_event("step_input.json")
    photo_id = put_upload(local_stack, make_photo(3000, 2000), "slow.jpg")
    event["photo"].update(
        id=photo_id,
        key=f"uploads/{photo_id}/slow.jpg",
        bucket=local_stack.output("PhotosBucketName"),
    )
    function = local_stack.lambdas.functions["FilterFunction"]
    saved, function.timeout_seconds = function.timeout_seconds, 0.001
    try:
        _, errored, _ = local_stack.lambdas.invoke("FilterFunction", json.dumps(event))
    finally:
        function.timeout_seconds = saved
    assert errored
    [line] = errors_logged(
        local_stack, function_name="FilterFunction", input_id=photo_id, error="Sandbox.Timedout"
    )
    assert line["message"] == "Task timed out after 0.00 seconds"


def test_the_functions_log_holds_neither_engine_internals_nor_empty_metric_warnings(
    local_stack: LocalStack,
) -> None:
    # Given a photo that fails (the interpreter logs its caught error) and one that succeeds
    failed = put_upload(local_stack, truncated_jpeg(), "bad.jpg")
    completed = put_upload(local_stack, make_photo(200, 150), "good.jpg")
    terminal_record(local_stack, failed)
    terminal_record(local_stack, completed)
    log = local_stack.lambdas.log_sink.getvalue()  # type: ignore[attr-defined]
    assert "No application metrics to publish" not in log
    assert "FailureEventException" not in log
