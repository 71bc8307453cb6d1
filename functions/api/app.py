"""The photos HTTP API (API Gateway REST, proxy integration).

POST /photos            image bytes in the body -> 202 {photoId, status, statusUrl}
POST /photos/uploads    {filename, contentType, size} -> a presigned POST for large files
GET  /photos/{photoId}  the photo's state, metadata and derivative URLs (from DynamoDB)
GET  /photos            the caller's photos, newest first, ?limit=&cursor=
DELETE /photos/{photoId}  204 deleted, or 202 deleted when its processing ends
Errors are JSON: {"error": <name>, "message": <why>}, with the status photoflow.errors
gives the error (a 4xx for a request at fault).

Every photo belongs to the caller who uploaded it, as API Gateway's authorizer
identified them (never anything in the request): a caller sees and deletes only
their own, and another's photo answers 404 exactly as one that does not exist.
"""

import base64
import binascii
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from photoflow.config import ApiConfig, ImagingConfig, NotificationConfig, StorageConfig, load
from photoflow.deletion import Deletion, PhotoDeletion
from photoflow.errors import InvalidRequest, NoCallerIdentity, entry_for, registry
from photoflow.imaging import InvalidPhoto
from photoflow.keys import is_photo_id
from photoflow.observability import logger, logs_failure, metrics, tracer
from photoflow.photos import PhotoRepository
from photoflow.uploads import Uploads, parse_upload_request

STORAGE = load(StorageConfig)
IMAGING = load(ImagingConfig)
API = load(ApiConfig)
photos = PhotoRepository(STORAGE.table_name)
uploads = Uploads(
    bucket=STORAGE.bucket_name,
    photos=photos,
    limits=IMAGING.limits,
    direct_max_bytes=API.direct_upload_max_bytes,
    url_expiry_seconds=API.url_expiry_seconds,
)
deletion = PhotoDeletion(
    bucket=STORAGE.bucket_name, photos=photos, topic_arn=load(NotificationConfig).topic_arn
)
# Only the page's origin may read responses; the template's Cors and GatewayResponses say the same.
cors = CORSConfig(
    allow_origin=API.allowed_origin,
    allow_headers=[
        "Authorization",
        "Content-Type",
        "X-Amz-Date",
        "X-Amz-Security-Token",
        "X-Filename",
    ],
    expose_headers=["Location"],
    max_age=600,
)
app = APIGatewayRestResolver(cors=cors)


def error(status: HTTPStatus, name: str, message: str) -> Response[Any]:
    return Response(
        status_code=status,
        content_type="application/json",
        body={"error": name, "message": message},
    )


@app.exception_handler([entry.error for entry in registry()])
def domain_error(exc: Exception) -> Response[Any]:
    """Every domain error, answered with the status and name ``photoflow.errors`` gives it."""
    entry = entry_for(exc)
    if entry is None:  # not one of the table's: this handler is registered for those only
        raise exc
    if isinstance(exc, InvalidPhoto):
        metrics.add_metric(name="UploadsRejected", unit=MetricUnit.Count, value=1)
    if entry.status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        logger.exception("request failed", error=entry.name)
    body: dict[str, Any] = {"error": entry.api_name, "message": str(exc)}
    if isinstance(exc, InvalidRequest) and exc.fields:
        body["fields"] = exc.fields
    return Response(status_code=entry.status, content_type="application/json", body=body)


def caller() -> str:
    """Who is calling, as the authorizer established it: a user pool user's ``sub``
    (ApiAuth COGNITO) or the signing principal's ARN (ApiAuth AWS_IAM)."""
    context = app.current_event.request_context
    claims = context.authorizer.claims or {}
    subject = claims.get("sub")
    if isinstance(subject, str) and subject:
        return subject
    if context.identity.user_arn:
        return context.identity.user_arn
    raise NoCallerIdentity("the request carries no caller identity")


def no_such_photo(photo_id: str) -> Response[Any]:
    """What a photo that is not the caller's answers: exactly what a missing one does."""
    return error(HTTPStatus.NOT_FOUND, "NotFound", f"no photo {photo_id}")


@app.not_found
def not_found(exc: NotFoundError) -> Response[Any]:
    return error(HTTPStatus.NOT_FOUND, "NotFound", f"no route {app.current_event.path}")


def public_path(path: str) -> str:
    """``path`` as clients address it: on API Gateway's own endpoint the stage comes
    first (/Prod/photos/...), behind a custom domain its base path, if any."""
    event = app.current_event
    requested = event.request_context.path or event.path
    prefix = requested[: -len(event.path)] if requested.endswith(event.path) else ""
    return prefix + path


@app.post("/photos")
@tracer.capture_method
def upload_photo() -> Response[Any]:
    event = app.current_event
    try:
        body = (
            base64.b64decode(event.body or "", validate=True)
            if event.is_base64_encoded
            else ((event.body or "").encode("utf-8"))
        )
    except binascii.Error:
        return error(HTTPStatus.BAD_REQUEST, "BadRequest", "body is not valid base64")
    photo_id = uploads.accept(
        body,
        filename=event.get_query_string_value("filename") or event.headers.get("x-filename"),
        content_type=event.headers.get("content-type"),
        owner=caller(),
    )
    logger.append_keys(photo_id=photo_id)
    metrics.add_metric(name="PhotosAccepted", unit=MetricUnit.Count, value=1)
    status_url = public_path(f"/photos/{photo_id}")
    return Response(
        status_code=HTTPStatus.ACCEPTED,
        content_type="application/json",
        headers={"Location": status_url},
        body={"photoId": photo_id, "status": "ACCEPTED", "statusUrl": status_url},
    )


@app.post("/photos/uploads")
@tracer.capture_method
def create_upload() -> Response[Any]:
    event = app.current_event
    body = event.decoded_body if event.is_base64_encoded else event.body
    request = parse_upload_request(body, IMAGING.limits.max_bytes)
    presigned = uploads.presign(request.filename, request.content_type, request.size, caller())
    presigned["statusUrl"] = public_path(f"/photos/{presigned['photoId']}")
    return Response(status_code=HTTPStatus.CREATED, content_type="application/json", body=presigned)


@app.get("/photos/<photo_id>")
@tracer.capture_method
def get_photo(photo_id: str) -> Response[Any]:
    if not is_photo_id(photo_id):
        return error(HTTPStatus.BAD_REQUEST, "BadRequest", f"not a photo id: {photo_id!r}")
    record = photos.get_owned(photo_id, caller())
    if record is None:
        return no_such_photo(photo_id)
    return Response(
        status_code=HTTPStatus.OK, content_type="application/json", body=uploads.view(record)
    )


@app.delete("/photos/<photo_id>")
@tracer.capture_method
def delete_photo(photo_id: str) -> Response[Any]:
    if not is_photo_id(photo_id):
        return error(HTTPStatus.BAD_REQUEST, "BadRequest", f"not a photo id: {photo_id!r}")
    outcome = deletion.request(photo_id, caller())
    logger.info("photo deletion", photo_id=photo_id, outcome=outcome.value)
    if outcome is Deletion.NOT_FOUND:
        return no_such_photo(photo_id)
    if outcome is Deletion.PENDING:
        return Response(
            status_code=HTTPStatus.ACCEPTED,
            content_type="application/json",
            body={"photoId": photo_id, "status": "DELETING"},
        )
    metrics.add_metric(name="PhotosDeleted", unit=MetricUnit.Count, value=1)
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)


@app.get("/photos")
@tracer.capture_method
def list_photos() -> Response[Any]:
    raw_limit = app.current_event.get_query_string_value("limit") or "20"
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= API.page_size_max:
        return error(
            HTTPStatus.BAD_REQUEST,
            "BadRequest",
            f"limit must be a whole number from 1 to {API.page_size_max}, not {raw_limit!r}",
        )
    cursor = app.current_event.get_query_string_value("cursor")
    records, next_cursor = photos.list_newest_first(caller(), int(raw_limit), cursor)
    return Response(
        status_code=HTTPStatus.OK,
        content_type="application/json",
        body={"photos": [uploads.view(r) for r in records], "nextCursor": next_cursor},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@logs_failure
@tracer.capture_lambda_handler
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
