"""Each handler on its own, fed the sample events in events/, against the local stack."""

from __future__ import annotations

import base64
import copy
import io
import json
import zipfile
from typing import Any

import pytest

from photoflow.keys import new_photo_id
from photoflow_local.stack import LocalStack
from tests.photos import make_photo
from tests.support import load_event, poll


def invoke(local_stack: LocalStack, function: str, event: dict[str, Any]) -> tuple[Any, bool]:
    payload, errored, _ = local_stack.lambdas.invoke(function, json.dumps(event))
    return json.loads(payload), errored


@pytest.fixture
def uploaded(local_stack: LocalStack, aws: Any) -> dict[str, Any]:
    """The step input of events/step_input.json, pointing at a freshly uploaded photo."""
    event = load_event("step_input.json")
    photo_id = new_photo_id()
    data = make_photo(1200, 800, gps=(51.5, -0.12))
    key = f"uploads/{photo_id}/{event['photo']['filename']}"
    bucket = local_stack.output("PhotosBucketName")
    etag = aws.s3.put_object(Bucket=bucket, Key=key, Body=data)["ETag"].strip('"')
    event["photo"].update(id=photo_id, key=key, bucket=bucket, size=len(data), etag=etag)
    return event


def test_metadata_step_returns_the_fields_the_asl_selects(
    local_stack: LocalStack, uploaded: dict[str, Any]
) -> None:
    result, errored = invoke(local_stack, "MetadataFunction", uploaded)
    assert not errored, result
    metadata = result["metadata"]
    assert (metadata["width"], metadata["height"], metadata["format"]) == (1200, 800, "JPEG")
    assert metadata["gps"] is None  # the photo has a position; KeepLocation defaults to false
    assert set(metadata) >= {"contentType", "orientation", "frames", "camera", "takenAt"}


def test_thumbnail_step_writes_every_size(
    local_stack: LocalStack, aws: Any, uploaded: dict[str, Any]
) -> None:
    result, errored = invoke(local_stack, "ThumbnailFunction", uploaded)
    assert not errored, result
    sizes = [int(s) for s in local_stack.stack.parameters["ThumbnailSizes"].split(",")]
    assert [max(t["width"], t["height"]) for t in result["thumbnails"]] == [
        min(s, 1200) for s in sizes
    ]
    bucket = local_stack.output("PhotosBucketName")
    for thumbnail in result["thumbnails"]:
        head = aws.s3.head_object(Bucket=bucket, Key=thumbnail["key"])
        assert head["ContentLength"] == thumbnail["bytes"]
        assert head["ContentType"] == "image/jpeg"
    assert len(result["pixels"]["phash"]) == 16
    assert len(result["pixels"]["blurhash"]) == 28


def test_thumbnail_step_lists_every_rendition_it_wrote(
    local_stack: LocalStack, aws: Any, uploaded: dict[str, Any]
) -> None:
    # Given the stack's defaults: the JPEG sizes, a square, each size in WebP and AVIF
    result, errored = invoke(local_stack, "ThumbnailFunction", uploaded)
    assert not errored, result
    parameters = local_stack.stack.parameters
    sizes = parameters["ThumbnailSizes"].split(",")
    formats = ["jpeg", *parameters["ModernFormats"].split(",")]
    square = int(parameters["SquareThumbnailSize"])

    renditions = result["renditions"]

    assert sorted((r["format"], r["name"]) for r in renditions) == sorted(
        [(fmt, size) for fmt in formats for size in sizes] + [("jpeg", "square")]
    )
    assert (result["square"]["width"], result["square"]["height"]) == (square, square)
    bucket = local_stack.output("PhotosBucketName")
    extensions = {"jpeg": ".jpg", "webp": ".webp", "avif": ".avif"}
    for rendition in renditions:
        head = aws.s3.head_object(Bucket=bucket, Key=rendition["key"])
        assert head["ContentLength"] == rendition["bytes"]
        assert head["ContentType"] == f"image/{rendition['format']}"
        assert rendition["key"].endswith(extensions[rendition["format"]])


def test_filter_step_writes_every_filter(local_stack: LocalStack, uploaded: dict[str, Any]) -> None:
    result, errored = invoke(local_stack, "FilterFunction", uploaded)
    assert not errored, result
    assert [f["name"] for f in result["filters"]] == local_stack.stack.parameters["Filters"].split(
        ","
    )
    edge = int(local_stack.stack.parameters["FilterMaxEdge"])
    assert all(max(f["width"], f["height"]) == edge for f in result["filters"])


def test_a_step_given_a_missing_object_fails_with_a_named_error(
    local_stack: LocalStack, uploaded: dict[str, Any]
) -> None:
    event = copy.deepcopy(uploaded)
    event["photo"]["key"] = f"uploads/{event['photo']['id']}/gone.jpg"
    result, errored = invoke(local_stack, "ThumbnailFunction", event)
    assert errored
    assert result["errorType"] == "PhotoMissing"


def test_start_workflow_starts_once_per_object_and_reports_bad_records(
    local_stack: LocalStack, aws: Any
) -> None:
    # Given the sample SQS batch (an S3 notification and S3's test event), for a real object
    event = load_event("start_workflow_sqs.json")
    notification = json.loads(event["Records"][0]["body"])
    s3_object = notification["Records"][0]["s3"]
    photo_id = "5a3fe1d0c4b94b6e8d2f7a1c9e0b3d42"  # fixed, so that its execution name is known
    s3_object["object"]["key"] = (
        f"uploads/{photo_id}/sample+photo.jpg"  # URL-encoded, as S3 sends keys
    )
    put = aws.s3.put_object(
        Bucket=s3_object["bucket"]["name"],
        Key=f"uploads/{photo_id}/sample photo.jpg",
        Body=make_photo(400, 300),
    )
    # (the sample names no version: it is about the key's current one, which S3's own
    # event for the put names too)
    event["Records"][0]["body"] = json.dumps(notification)
    # and a third record that is not an S3 notification at all
    poison = copy.deepcopy(event["Records"][1])
    poison["messageId"] = "poison"
    poison["body"] = "not json"
    event["Records"].append(poison)

    # When the batch is handled twice (a redelivery), besides S3's own event
    payload, errored, _ = local_stack.lambdas.invoke("StartWorkflowFunction", json.dumps(event))
    first = json.loads(payload)
    payload, _, second_logs = local_stack.lambdas.invoke("StartWorkflowFunction", json.dumps(event))
    second = json.loads(payload)

    # Then only the poison record is reported failed, both times
    assert not errored
    logs = local_stack.lambdas.log_sink.getvalue()  # type: ignore[attr-defined]
    assert first == second == {"batchItemFailures": [{"itemIdentifier": "poison"}]}, logs[-4000:]
    # and the photo has exactly one execution, for its version, whose input has the decoded key
    machine = local_stack.output("PhotoWorkflowArn")

    def executions() -> list[dict[str, Any]]:
        listed = aws.sfn.list_executions(stateMachineArn=machine, maxResults=1000)["executions"]
        return [e for e in listed if photo_id in e["name"]]

    [execution] = poll(executions, lambda found: len(found) == 1, what="one execution")
    assert execution["name"].startswith("photo-5a3fe1d0c4b94b6e8d2f7a1c9e0b3d42-")
    described = aws.sfn.describe_execution(executionArn=execution["executionArn"])
    started_for = json.loads(described["input"])["photo"]
    assert started_for["key"] == f"uploads/{photo_id}/sample photo.jpg"
    assert started_for["versionId"] == put["VersionId"]  # the version S3 holds, as S3 named it
    # started once (by whichever event came first); the redelivery was known before asking
    # Step Functions: it names that execution
    started = [json.loads(line) for line in logs.splitlines() if '"workflow started"' in line]
    assert [s["execution_arn"] for s in started if s.get("photo_id") == photo_id] == [
        execution["executionArn"]
    ]
    replayed = [json.loads(line) for line in second_logs.splitlines() if "already started" in line]
    assert [line["execution_arn"] for line in replayed] == [execution["executionArn"]]
    assert "workflow started" not in second_logs


def test_api_sample_events(local_stack: LocalStack) -> None:
    # POST /photos with the sample PNG
    response, errored = invoke(local_stack, "ApiFunction", load_event("api_upload_photo.json"))
    assert not errored
    assert response["statusCode"] == 202
    photo_id = json.loads(response["body"])["photoId"]
    # The sample came through API Gateway's own endpoint: the stage leads the path.
    assert json.loads(response["body"])["statusUrl"] == f"/dev/photos/{photo_id}"
    assert response["multiValueHeaders"]["Location"] == [f"/dev/photos/{photo_id}"]

    # GET /photos/{id} for that photo, and for one that does not exist
    get_event = load_event("api_get_photo.json")
    get_event["pathParameters"] = {"photoId": photo_id}
    get_event["path"] = f"/photos/{photo_id}"
    response, _ = invoke(local_stack, "ApiFunction", get_event)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["photoId"] == photo_id
    get_event["pathParameters"] = {"photoId": "f" * 32}
    get_event["path"] = "/photos/" + "f" * 32
    response, _ = invoke(local_stack, "ApiFunction", get_event)
    assert (response["statusCode"], json.loads(response["body"])["error"]) == (404, "NotFound")

    # GET /photos and POST /photos/uploads
    response, _ = invoke(local_stack, "ApiFunction", load_event("api_list_photos.json"))
    assert response["statusCode"] == 200
    assert "photos" in json.loads(response["body"])
    response, _ = invoke(local_stack, "ApiFunction", load_event("api_create_upload.json"))
    assert response["statusCode"] == 201
    grant = json.loads(response["body"])
    assert grant["upload"]["fields"]["Content-Type"] == "image/jpeg"
    assert grant["statusUrl"] == f"/dev/photos/{grant['photoId']}"
    assert base64.b64decode(grant["upload"]["fields"]["policy"])  # a signed policy document


def test_a_function_created_with_a_zip_through_the_endpoint_runs(local_stack: LocalStack) -> None:
    # Given a Python function created through the Lambda API, as a user or a tool would
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr(
            "greet.py",
            "import os\n\ndef handler(event, context):\n"
            "    return {'hello': event['name'], 'from': os.environ['GREETER']}\n",
        )
    lambda_client = local_stack.client("lambda")
    role = local_stack.client("iam").create_role(
        RoleName="zip-created-function", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    lambda_client.create_function(
        FunctionName="ZipCreated",
        Runtime="python3.12",
        Role=role,
        Handler="greet.handler",
        Code={"ZipFile": package.getvalue()},
        Environment={"Variables": {"GREETER": "the local stack"}},
    )

    # When it is invoked through the endpoint
    answer = lambda_client.invoke(FunctionName="ZipCreated", Payload=b'{"name": "Ada"}')

    # Then its own code ran, with its own environment
    assert "FunctionError" not in answer
    assert json.loads(answer["Payload"].read()) == {"hello": "Ada", "from": "the local stack"}
