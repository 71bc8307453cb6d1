"""The state machine executed by moto's interpreter with the real handlers, from S3 to SNS."""

from __future__ import annotations

import json
from io import BytesIO
from typing import Any

from PIL import Image

from photoflow_local.history import build_timeline
from photoflow_local.shape import load_shape
from photoflow_local.stack import LocalStack
from tests.photos import make_photo, truncated_jpeg
from tests.support import ROOT, QueueWatcher, notifications, poll, put_upload, terminal_record

SHAPE = load_shape(ROOT / "template.yaml")


def stages_in_order(path: list[str]) -> bool:
    """Each Lambda step of the ASL ran once, each stage's after the stage before."""
    stages = [{SHAPE.state_of(f) for branch in stage for f in branch} for stage in SHAPE.stages]
    ran = [state for state in path if any(state in stage for stage in stages)]
    if sorted(ran) != sorted(state for stage in stages for state in stage):
        return False
    positions = [max(ran.index(s) for s in stage) for stage in stages]
    starts = [min(ran.index(s) for s in stage) for stage in stages]
    return all(end < start for end, start in zip(positions, starts[1:], strict=False))


def history(aws: Any, item: dict[str, Any]) -> Any:
    arn = item["executionArn"]["S"]
    execution = poll(
        lambda: aws.sfn.describe_execution(executionArn=arn),
        lambda e: e["status"] != "RUNNING",
        timeout=30,
        what=f"end of {arn}",
    )
    events = aws.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return execution, build_timeline(events)


def test_a_photo_is_processed_end_to_end(
    local_stack: LocalStack, aws: Any, completed_queue: QueueWatcher, failed_queue: QueueWatcher
) -> None:
    # Given a 3:2 JPEG with EXIF, uploaded into the bucket
    photo = make_photo(1800, 1200, gps=(-33.8568, 151.2153))
    photo_id = put_upload(local_stack, photo, "harbour.jpg")

    # When the workflow has run
    item = terminal_record(local_stack, photo_id)
    execution, timeline = history(aws, item)

    # Then every step ran with the real handlers, in order, and the execution succeeded
    assert item["status"]["S"] == "COMPLETED", item
    assert execution["status"] == "SUCCEEDED"
    assert timeline.path[0] == "MarkProcessing"
    assert {"ExtractMetadata", "MakeDerivatives", "MakeThumbnails", "ApplyFilters"} <= set(
        timeline.path
    )
    assert stages_in_order(timeline.path), timeline.path
    assert timeline.path[-3:] == ["RecordResult", "NotifyProcessed", "Processed"]
    assert all(not state.errors for state in timeline.states)

    # and the record holds metadata and every derivative, which exist in S3 at their sizes
    metadata = json.loads(item["metadata"]["S"])
    assert (metadata["width"], metadata["height"], metadata["format"]) == (1800, 1200, "JPEG")
    assert metadata["gps"] is None  # the photo has a position; KeepLocation defaults to false
    derivatives = json.loads(item["derivatives"]["S"])
    sizes = local_stack.stack.parameters["ThumbnailSizes"].split(",")
    assert [t["name"] for t in derivatives["thumbnails"]] == sizes
    filters = local_stack.stack.parameters["Filters"].split(",")
    assert sorted(f["name"] for f in derivatives["filters"]) == sorted(filters)
    bucket = local_stack.output("PhotosBucketName")
    for thumbnail in derivatives["thumbnails"]:
        body = aws.s3.get_object(Bucket=bucket, Key=thumbnail["key"])["Body"].read()
        with Image.open(BytesIO(body)) as image:
            assert image.size == (thumbnail["width"], thumbnail["height"])
            assert max(image.size) == min(int(thumbnail["name"]), 1800)
    assert len(derivatives["pixels"]["phash"]) == 16

    # and exactly one PhotoProcessed notification reached the completed-photos subscriber only
    [message], _ = notifications(photo_id, {completed_queue: 1, failed_queue: 0})
    body = message["body"]
    assert body["eventType"] == "PhotoProcessed"
    assert body["schemaVersion"] == "3"
    assert body["executionArn"] == item["executionArn"]["S"]
    assert body["derivatives"]["thumbnails"] == derivatives["thumbnails"]


def test_a_corrupt_photo_ends_failed_with_one_failure_notification(
    local_stack: LocalStack, aws: Any, completed_queue: QueueWatcher, failed_queue: QueueWatcher
) -> None:
    # Given a JPEG cut short after its header
    photo_id = put_upload(local_stack, truncated_jpeg(), "broken.jpg")

    # When the workflow has run
    item = terminal_record(local_stack, photo_id)
    execution, timeline = history(aws, item)

    # Then the record is FAILED with the domain error's name and message
    assert item["status"]["S"] == "FAILED"
    assert item["error"]["S"] == "CorruptImage"
    assert item["message"]["S"].startswith("the JPEG image data is damaged or incomplete")
    assert "cause" not in item  # the step's full cause stays in the execution's history
    assert execution["status"] == "FAILED"
    assert "RecordFailure" in timeline.path and "NotifyFailure" in timeline.path
    assert "RecordResult" not in timeline.path
    # and a permanent error was never retried
    assert all(state.attempts <= 1 for state in timeline.states)

    # and one PhotoFailed event reached the failures subscriber, none the completed one
    [message], _ = notifications(photo_id, {failed_queue: 1, completed_queue: 0})
    assert message["body"]["eventType"] == "PhotoFailed"
    assert message["body"]["error"] == {"name": "CorruptImage", "message": item["message"]["S"]}
    assert message["attributes"]["eventType"]["StringValue"] == "PhotoFailed"


def test_the_workflow_logs_as_the_template_configures_it(local_stack: LocalStack, aws: Any) -> None:
    described = aws.sfn.describe_state_machine(
        stateMachineArn=local_stack.output("PhotoWorkflowArn")
    )

    assert described["loggingConfiguration"] == {
        "level": "ERROR",
        "includeExecutionData": False,
        "destinations": [
            {
                "cloudWatchLogsLogGroup": {
                    "logGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:"
                    "/aws/vendedlogs/states/photoflow-dev-workflow:*"
                }
            }
        ],
    }
