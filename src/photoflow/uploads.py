"""What the HTTP API does: accept uploads, hand out presigned uploads, show photos.

Nothing here trusts the client: the photo's type comes from its bytes, its
size and pixel count are checked before it is stored, and its key cannot leave
``uploads/<photoId>/``. A presigned upload is bound by its policy to one key, one
Content-Type and a size range, which S3 enforces; S3 still lets it be used again
until it expires, so the ingest accepts one object per photo (photoflow.ingest),
and the size a photo's record shows is the accepted object's, not the declared one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from photoflow import clients
from photoflow.imaging import Limits, PhotoTooLarge, UnsupportedFormat, probe
from photoflow.keys import new_photo_id, safe_name, upload_key
from photoflow.photos import PhotoRecord, PhotoRepository, PhotoStatus

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


class UnsupportedMediaType(ValueError):
    """The request declares a Content-Type that cannot carry a photo."""


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

    def accept(self, body: bytes, filename: str | None, content_type: str | None) -> str:
        """Store a photo sent in the request body and return its id."""
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
        clients.s3().put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType=header.content_type,
            IfNoneMatch="*",  # a new photo's key: S3 refuses to replace anything there
        )
        self.photos.accept(
            photo_id,
            status=PhotoStatus.ACCEPTED,
            filename=name,
            content_type=header.content_type,
            size=len(body),
            source_key=key,
        )
        return photo_id

    def presign(self, filename: str | None, content_type: str, size: int | None) -> dict[str, Any]:
        """A presigned POST for one large photo, bound to its key, type and size range."""
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
            # An upload that never comes expires instead of waiting forever.
            expires_at=int(time.time()) + PRESIGNED_UPLOAD_TTL_SECONDS + 86400,
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
            view["completedAt"] = record.completed_at
            view["metadata"] = {**record.metadata, **record.derivatives.get("pixels", {})}
            view["thumbnails"] = [self._linked(r) for r in record.derivatives.get("thumbnails", [])]
            view["filters"] = [self._linked(r) for r in record.derivatives.get("filters", [])]
        if record.status is PhotoStatus.FAILED:
            view["failedAt"] = record.completed_at
            view["error"] = {"name": record.error, "message": record.error_message}
        return view

    def _linked(self, rendition: dict[str, Any]) -> dict[str, Any]:
        url = clients.s3().generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": rendition["key"]},
            ExpiresIn=self.url_expiry_seconds,
        )
        return {**rendition, "url": url}
