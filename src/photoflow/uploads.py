"""What the HTTP API does: accept uploads, hand out presigned uploads, show photos.

Nothing here trusts the client: the photo's type comes from its bytes, its
size and pixel count are checked before it is stored, and its key cannot leave
``uploads/<photoId>/``. A presigned upload is bound by its policy to one key, one
Content-Type and a size range, which S3 enforces; S3 still lets it be used again
until it expires, so the ingest accepts one object per photo (photoflow.ingest),
and the size a photo's record shows is the accepted object's, not the declared one.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from photoflow import clients
from photoflow.errors import InvalidRequest, UnsupportedMediaType
from photoflow.imaging import Limits, PhotoTooLarge, UnsupportedFormat, probe
from photoflow.keys import new_photo_id, safe_name, upload_key
from photoflow.photos import UNCLAIMED_RECORD_SECONDS, PhotoRecord, PhotoRepository, PhotoStatus

ACCEPTED_CONTENT_TYPES = (
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "image/tiff",
    "image/heic",
    "image/heif",
)
GENERIC_CONTENT_TYPES = ("application/octet-stream",)
PRESIGNED_UPLOAD_TTL_SECONDS = 3600


class UploadRequest(BaseModel):
    """The body of POST /photos/uploads. Strict: a number sent as text is refused, not
    converted, and an unknown field is refused, not ignored."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    filename: str = Field(min_length=1, max_length=1024)
    content_type: str = Field(alias="contentType", min_length=1, max_length=100)
    size: int | None = Field(default=None, ge=1)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


_PROBLEMS = {
    "missing": lambda _value, _ctx: "is required",
    "string_type": lambda value, _ctx: f"must be a string, not {_json_type(value)}",
    "int_type": lambda value, _ctx: (
        f"must be a whole number, not {_json_type(value)} ({_shown(value)})"
    ),
    "string_too_short": lambda _value, ctx: "must not be empty",
    "string_too_long": lambda _value, ctx: f"is longer than {ctx['max_length']:,} characters",
    "greater_than_equal": lambda value, ctx: f"must be at least {ctx['ge']}, not {value}",
    "extra_forbidden": lambda _value, _ctx: "is not a field of this request",
}


def parse_upload_request(body: str | None, max_bytes: int) -> UploadRequest:
    """POST /photos/uploads's body, or :class:`InvalidRequest` saying what is wrong."""
    allowed = {
        "filename": "the photo's file name, 1 to 1,024 characters",
        "contentType": f"one of {', '.join(ACCEPTED_CONTENT_TYPES)}",
        "size": f"the photo's size in bytes, a whole number from 1 to {max_bytes:,}",
    }
    shape = 'a JSON object: {"filename": ..., "contentType": ..., "size": ...}'
    try:
        document = json.loads(body or "")
    except ValueError:
        raise InvalidRequest(f"the body must be {shape}; it is not JSON") from None
    if not isinstance(document, dict):
        raise InvalidRequest(f"the body must be {shape}, not {_json_type(document)}")
    try:
        return UploadRequest.model_validate(document)
    except ValidationError as error:
        fields = [_field_problem(problem, allowed) for problem in error.errors()]
        message = "; ".join(
            f"{f['field']} {f['problem']} (allowed: {f['allowed']})" for f in fields
        )
        raise InvalidRequest(message, fields) from None


def _field_problem(problem: Any, allowed: dict[str, str]) -> dict[str, str]:
    field = ".".join(str(part) for part in problem["loc"])
    explain = _PROBLEMS.get(problem["type"])
    what = explain(problem.get("input"), problem.get("ctx", {})) if explain else "is invalid"
    return {"field": field, "problem": what, "allowed": allowed.get(field, "no such field")}


@dataclass(frozen=True)
class Uploads:
    bucket: str
    photos: PhotoRepository
    limits: Limits
    direct_max_bytes: int
    url_expiry_seconds: int

    def check_declared_type(self, content_type: str | None) -> None:
        declared = (content_type or "").split(";")[0].strip().lower()
        if declared not in ACCEPTED_CONTENT_TYPES + GENERIC_CONTENT_TYPES:
            raise UnsupportedMediaType(
                f"Content-Type {declared or '(none)'!r} cannot carry a photo; send the image "
                f"bytes as one of {', '.join(ACCEPTED_CONTENT_TYPES)} or application/octet-stream"
            )

    def accept(
        self, body: bytes, filename: str | None, content_type: str | None, owner: str
    ) -> str:
        """Store ``owner``'s photo sent in the request body and return its id.

        The record (with its owner) is written before the object, so the workflow the
        object starts always finds the owner; if the object cannot be stored, the
        record goes again (or, unclaimed, expires)."""
        self.check_declared_type(content_type)
        if len(body) > self.direct_max_bytes:
            raise PhotoTooLarge(
                f"photo is {len(body):,} bytes; bodies over {self.direct_max_bytes:,} bytes "
                "must use POST /photos/uploads"
            )
        header = probe(body, self.limits)  # magic bytes, size and pixel caps; no decode
        photo_id = new_photo_id()
        name = safe_name(filename, default=f"photo.{header.format.lower()}")
        key = upload_key(photo_id, name)
        self.photos.accept(
            photo_id,
            status=PhotoStatus.ACCEPTED,
            filename=name,
            content_type=header.content_type,
            size=len(body),
            source_key=key,
            owner=owner,
            expires_at=int(time.time()) + UNCLAIMED_RECORD_SECONDS,  # removed by the claim
        )
        try:
            clients.s3().put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType=header.content_type,
                IfNoneMatch="*",  # a new photo's key: S3 refuses to replace anything there
            )
        except Exception:
            self.photos.discard_unstored(photo_id)
            raise
        return photo_id

    def presign(
        self, filename: str | None, content_type: str, size: int | None, owner: str
    ) -> dict[str, Any]:
        """A presigned POST for one large photo of ``owner``, bound to its key, type and
        size range."""
        declared = content_type.split(";", maxsplit=1)[0].strip().lower()
        if declared not in ACCEPTED_CONTENT_TYPES:
            raise UnsupportedFormat(
                f"contentType {declared!r} is not one of {', '.join(ACCEPTED_CONTENT_TYPES)}"
            )
        if size is not None and size > self.limits.max_bytes:
            raise PhotoTooLarge(
                f"photo is {size:,} bytes, over the {self.limits.max_bytes:,} byte limit"
            )
        photo_id = new_photo_id()
        name = safe_name(filename)
        key = upload_key(photo_id, name)
        post = clients.s3().generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": declared},
            Conditions=[
                {"Content-Type": declared},
                ["content-length-range", 1, self.limits.max_bytes],
            ],
            ExpiresIn=PRESIGNED_UPLOAD_TTL_SECONDS,
        )
        self.photos.accept(
            photo_id,
            status=PhotoStatus.AWAITING_UPLOAD,
            filename=name,
            content_type=declared,
            size=None,  # the accepted object's, recorded when it arrives
            source_key=key,
            owner=owner,
            # An upload that never comes expires instead of waiting forever.
            expires_at=int(time.time()) + PRESIGNED_UPLOAD_TTL_SECONDS + UNCLAIMED_RECORD_SECONDS,
        )
        return {
            "photoId": photo_id,
            "upload": {"url": post["url"], "fields": post["fields"], "method": "POST"},
            "expiresIn": PRESIGNED_UPLOAD_TTL_SECONDS,
            "maxBytes": self.limits.max_bytes,
        }

    def view(self, record: PhotoRecord) -> dict[str, Any]:
        """The client's view of a photo, with short-lived URLs for its derivatives."""
        view: dict[str, Any] = {
            "photoId": record.photo_id,
            "status": record.status.value,
            "filename": record.filename,
            "contentType": record.content_type,
            "size": record.size,
            "createdAt": record.created_at,
            "updatedAt": record.updated_at,
        }
        if record.status is PhotoStatus.COMPLETED:
            view.update(self._completed(record))
        if record.status is PhotoStatus.FAILED:
            view["failedAt"] = record.completed_at
            view["error"] = {"name": record.error, "message": record.error_message}
        return view

    def _completed(self, record: PhotoRecord) -> dict[str, Any]:
        """A completed photo's fields: every file with a URL, the square, the placeholder,
        the owner's earlier photo it nearly repeats (``duplicateOf``, or null), and the
        ConfigVersion that made its derivatives, with when a reprocessing run made them
        (null for a photo not reprocessed, or made before versions were recorded).

        ``renditions`` (each thumbnail size in each format, and the square) and ``square``
        are absent from the derivatives of photos processed before them: empty and null.
        """
        derivatives = record.derivatives
        pixels = derivatives.get("pixels", {})
        square = derivatives.get("square")
        return {
            "completedAt": record.completed_at,
            "metadata": {**record.metadata, **pixels},
            "thumbnails": [self._linked(r) for r in derivatives.get("thumbnails", [])],
            "renditions": [self._linked(r) for r in derivatives.get("renditions", [])],
            "square": None if square is None else self._linked(square),
            "blurhash": pixels.get("blurhash"),
            "duplicateOf": derivatives.get("duplicateOf"),
            "filters": [self._linked(r) for r in derivatives.get("filters", [])],
            "configVersion": record.config_version,
            "reprocessedAt": record.reprocessed_at,
        }

    def _linked(self, rendition: dict[str, Any]) -> dict[str, Any]:
        url = clients.s3().generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": rendition["key"]},
            ExpiresIn=self.url_expiry_seconds,
        )
        return {**rendition, "url": url}
