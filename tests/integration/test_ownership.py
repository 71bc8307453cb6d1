"""Photos belong to their uploader: the API function, fed API Gateway's events for two
users, shows and deletes each one's own photos only (OWASP API1, broken object-level
authorization), and deleting removes every trace of a photo, announced once."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from photoflow import clients
from photoflow.photos import PhotoRepository
from photoflow.reconcile import EndedExecution, Reconciler
from photoflow_local.client import LocalSignIn, PhotosClient
from photoflow_local.stack import LocalStack
from tests.photos import make_photo
from tests.support import QueueWatcher, load_event, notifications, put_upload, terminal_record

ADA = "7d2c1e0a-5b8f-4a61-9e3d-2f4b6c8a1e90"  # the sample events' caller
GRACE = "3f9b2a77-0c1d-4e5f-8a9b-6c7d8e9f0a1b"
IAM_USER = "arn:aws:iam::123456789012:user/grace"
MISSING = "f" * 32


def as_user(event: dict[str, Any], sub: str | None) -> dict[str, Any]:
    """``event`` as API Gateway's Cognito authorizer would pass it for user ``sub``."""
    changed = copy.deepcopy(event)
    if sub is None:
        changed["requestContext"].pop("authorizer", None)
    else:
        changed["requestContext"]["authorizer"]["claims"].update(
            {"sub": sub, "cognito:username": sub}
        )
    return changed


def call(local_stack: LocalStack, event: dict[str, Any]) -> tuple[int, Any]:
    payload, errored, _ = local_stack.lambdas.invoke("ApiFunction", json.dumps(event))
    assert not errored, payload
    response = json.loads(payload)
    body = json.loads(response["body"]) if response.get("body") else None
    return response["statusCode"], body


def upload(local_stack: LocalStack, sub: str, name: str = "harbour.jpg") -> str:
    event = as_user(load_event("api_upload_photo.json"), sub)
    event["body"] = base64.b64encode(make_photo(320, 240)).decode()
    event["headers"]["Content-Type"] = "image/jpeg"
    event["queryStringParameters"] = {"filename": name}
    status, body = call(local_stack, event)
    assert status == 202, body
    photo_id: str = body["photoId"]
    return photo_id


def on_photo(name: str, photo_id: str, sub: str | None) -> dict[str, Any]:
    event = as_user(load_event(name), sub)
    event["pathParameters"] = {"photoId": photo_id}
    event["path"] = f"/photos/{photo_id}"
    return event


def get(local_stack: LocalStack, photo_id: str, sub: str | None) -> tuple[int, Any]:
    return call(local_stack, on_photo("api_get_photo.json", photo_id, sub))


def delete(local_stack: LocalStack, photo_id: str, sub: str | None) -> tuple[int, Any]:
    return call(local_stack, on_photo("api_delete_photo.json", photo_id, sub))


def listed(local_stack: LocalStack, sub: str, **query: str) -> tuple[list[str], str | None]:
    event = as_user(load_event("api_list_photos.json"), sub)
    event["queryStringParameters"] = {"limit": "50", **query}
    status, body = call(local_stack, event)
    assert status == 200, body
    return [p["photoId"] for p in body["photos"]], body["nextCursor"]


def objects(local_stack: LocalStack, photo_id: str) -> list[str]:
    """Every version and delete marker left of the photo's original and derivatives."""
    s3 = local_stack.client("s3")
    found = []
    for prefix in (f"uploads/{photo_id}/", f"derivatives/{photo_id}/"):
        page = s3.list_object_versions(Bucket=local_stack.output("PhotosBucketName"), Prefix=prefix)
        found += [v["Key"] for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
    return found


@pytest.fixture
def local_clients(local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The domain code run in this process, with its AWS clients on the local stack."""
    for service in ("s3", "sns", "dynamodb"):
        client = local_stack.client(service)
        monkeypatch.setattr(clients, service, lambda client=client: client)


def test_a_photo_records_the_authorizers_caller_as_its_owner(local_stack: LocalStack) -> None:
    photo_id = upload(local_stack, GRACE)

    item = local_stack.photo_item(photo_id)

    assert item is not None
    assert item["owner"] == {"S": GRACE}


def test_an_iam_caller_owns_photos_by_principal_arn(local_stack: LocalStack) -> None:
    event = load_event("api_create_upload.json")
    event["requestContext"].pop("authorizer")
    event["requestContext"]["identity"]["userArn"] = IAM_USER
    status, grant = call(local_stack, event)
    assert status == 201, grant

    item = local_stack.photo_item(grant["photoId"])

    assert item is not None
    assert item["owner"] == {"S": IAM_USER}


def test_a_request_without_a_caller_identity_is_refused(local_stack: LocalStack) -> None:
    status, body = call(local_stack, as_user(load_event("api_list_photos.json"), None))

    assert (status, body["error"]) == (401, "Unauthorized")


def test_another_users_photo_answers_exactly_as_a_missing_one(local_stack: LocalStack) -> None:
    photo_id = upload(local_stack, ADA)

    assert get(local_stack, photo_id, ADA)[0] == 200
    for route in (get, delete):
        others = route(local_stack, photo_id, GRACE)
        missing = route(local_stack, MISSING, GRACE)
        assert others == (404, {"error": "NotFound", "message": f"no photo {photo_id}"})
        assert missing == (404, {"error": "NotFound", "message": f"no photo {MISSING}"})
    # Grace's attempted deletion changed nothing (its derivatives may come meanwhile)
    assert get(local_stack, photo_id, ADA)[0] == 200
    found = objects(local_stack, photo_id)
    assert found.count(f"uploads/{photo_id}/harbour.jpg") == 1, found


def test_each_user_lists_only_their_own_photos(local_stack: LocalStack) -> None:
    adas = [upload(local_stack, ADA, f"ada-{n}.jpg") for n in range(2)]
    graces = upload(local_stack, GRACE, "grace.jpg")

    ada_sees, _ = listed(local_stack, ADA)
    grace_sees, _ = listed(local_stack, GRACE)

    assert set(adas) <= set(ada_sees) and graces not in ada_sees
    assert graces in grace_sees and not set(adas) & set(grace_sees)
    assert ada_sees.index(adas[1]) < ada_sees.index(adas[0])  # newest first


def test_one_users_cursor_does_not_page_through_anothers_photos(local_stack: LocalStack) -> None:
    for n in range(2):
        upload(local_stack, ADA, f"page-{n}.jpg")
    _, cursor = listed(local_stack, ADA, limit="1")
    assert cursor is not None

    event = as_user(load_event("api_list_photos.json"), GRACE)
    event["queryStringParameters"] = {"limit": "1", "cursor": cursor}
    status, body = call(local_stack, event)

    assert (status, body["error"]) == (400, "InvalidCursor")


def test_deleting_a_processed_photo_removes_everything_once(
    local_stack: LocalStack, deleted_queue: QueueWatcher
) -> None:
    # Given Ada's photo, processed, with its original and derivatives in the bucket
    photo_id = upload(local_stack, ADA)
    assert terminal_record(local_stack, photo_id)["status"] == {"S": "COMPLETED"}
    # the original; 3 sizes in JPEG, WebP and AVIF, and the square; 4 filters
    assert len(objects(local_stack, photo_id)) == 1 + 3 * 3 + 1 + 4

    # When she deletes it, and deletes it again
    first = delete(local_stack, photo_id, ADA)
    again = delete(local_stack, photo_id, ADA)

    # Then it is gone from the bucket, the table and her list, announced once with its owner
    assert first == (204, None)
    assert again == (404, {"error": "NotFound", "message": f"no photo {photo_id}"})
    assert objects(local_stack, photo_id) == []
    assert local_stack.photo_item(photo_id) is None
    assert photo_id not in listed(local_stack, ADA)[0]
    [[event]] = notifications(photo_id, {deleted_queue: 1})
    assert event["body"]["eventType"] == "PhotoDeleted"
    assert event["body"]["owner"] == ADA
    assert event["attributes"]["owner"] == {"DataType": "String", "StringValue": ADA}


def test_a_photo_deleted_while_processing_goes_when_its_execution_ends(
    local_stack: LocalStack, deleted_queue: QueueWatcher, local_clients: None
) -> None:
    # Given Ada's photo, its record still PROCESSING under an execution
    photo_id = upload(local_stack, ADA)
    terminal_record(local_stack, photo_id)
    dynamodb = local_stack.client("dynamodb")
    table = local_stack.output("PhotosTableName")
    arn = f"arn:aws:states:us-east-1:123456789012:execution:photos:run-{photo_id}"
    dynamodb.update_item(
        TableName=table,
        Key={"photoId": {"S": photo_id}},
        UpdateExpression="SET #s = :p, executionArn = :arn",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":p": {"S": "PROCESSING"}, ":arn": {"S": arn}},
    )

    # When she deletes it
    status, body = delete(local_stack, photo_id, ADA)

    # Then it is gone for her at once, but nothing is removed under the running workflow
    assert (status, body) == (202, {"photoId": photo_id, "status": "DELETING"})
    assert get(local_stack, photo_id, ADA)[0] == 404
    assert photo_id not in listed(local_stack, ADA)[0]
    assert len(objects(local_stack, photo_id)) == 15  # the original and 14 derivatives
    assert delete(local_stack, photo_id, ADA)[0] == 202  # asking again changes nothing

    # And when its execution ends, the reconciler removes it all and announces it
    reconciler = Reconciler(
        table, local_stack.output("PhotoEventsTopicArn"), local_stack.output("PhotosBucketName")
    )
    ended = EndedExecution(arn, "SUCCEEDED", None, None, {"id": photo_id})
    assert reconciler.reconcile(ended) == "deleted"
    assert objects(local_stack, photo_id) == []
    assert local_stack.photo_item(photo_id) is None
    notifications(photo_id, {deleted_queue: 1})


def test_an_upload_that_arrives_after_its_photo_was_deleted_is_refused(
    local_stack: LocalStack, deleted_queue: QueueWatcher, local_clients: None
) -> None:
    # Given a presigned upload Ada asked for, then deleted before uploading
    status, grant = call(local_stack, as_user(load_event("api_create_upload.json"), ADA))
    assert status == 201, grant
    photo_id = grant["photoId"]
    assert delete(local_stack, photo_id, ADA) == (204, None)
    notifications(photo_id, {deleted_queue: 1})

    # When the upload still arrives, its claim is refused and the photo stays gone
    photos = PhotoRepository(local_stack.output("PhotosTableName"))
    key = grant["upload"]["fields"]["key"]
    assert photos.claim_upload(photo_id, key, "v1", 1000, "late.jpg") is None
    assert get(local_stack, photo_id, ADA)[0] == 404
    assert delete(local_stack, photo_id, ADA)[0] == 404


def test_the_workflows_notification_names_the_owner(
    local_stack: LocalStack, completed_queue: QueueWatcher
) -> None:
    photo_id = upload(local_stack, GRACE)

    [[event]] = notifications(photo_id, {completed_queue: 1})

    assert event["body"]["owner"] == GRACE
    assert event["attributes"]["owner"] == {"DataType": "String", "StringValue": GRACE}
    assert event["attributes"]["eventType"]["StringValue"] == "PhotoProcessed"


def test_a_photo_put_into_the_bucket_by_other_means_is_announced_without_owner(
    local_stack: LocalStack, completed_queue: QueueWatcher
) -> None:
    photo_id = put_upload(local_stack, make_photo(320, 240), "loose.jpg")

    [[event]] = notifications(photo_id, {completed_queue: 1})

    assert event["body"]["owner"] is None
    assert "owner" not in event["attributes"]


def test_over_http_with_real_tokens_another_users_photo_is_404_on_every_route(
    local_stack: LocalStack,
) -> None:
    # Given two users of the pool, signed in as the page signs in, and a photo of Ada's
    assert local_stack.user_pool is not None
    for name in ("ada-http", "grace-http"):
        local_stack.user_pool.add_user(name, "Over-http-pass1")
    ada = PhotosClient(local_stack.api_url, auth=LocalSignIn("ada-http", "Over-http-pass1"))
    grace = PhotosClient(local_stack.api_url, auth=LocalSignIn("grace-http", "Over-http-pass1"))
    photo_id = ada.upload_bytes(make_photo(320, 240), "mine.jpg")["photoId"]

    # Then every route that takes a photo id answers Grace as if it did not exist
    for method in ("GET", "DELETE"):
        for target in (photo_id, MISSING):
            response = grace.session.request(
                method, f"{local_stack.api_url}/photos/{target}", auth=grace.auth, timeout=10
            )
            assert (response.status_code, response.json()) == (
                404,
                {"error": "NotFound", "message": f"no photo {target}"},
            ), (method, target)
    assert photo_id not in [p["photoId"] for p in grace.photos(limit=50)["photos"]]
    # and Ada still has it
    assert ada.photo(photo_id)["photoId"] == photo_id
