"""Originals and derivatives in S3, behind names the workflow understands.

Transient S3 failures become ``StorageUnavailable`` (the ASL retries it);
a missing original becomes ``PhotoMissing`` (permanent: caught, recorded FAILED);
both are in ``photoflow.errors``' table.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from photoflow import clients
from photoflow.errors import PhotoMissing, StorageUnavailable
from photoflow.imaging import PhotoTooLarge, Rendition
from photoflow.keys import derivative_key
from photoflow.models import PhotoRef, RenditionRef

_MISSING = {"NoSuchKey", "NoSuchVersion", "404", "NoSuchBucket"}
_TRANSIENT = {
    "SlowDown",
    "InternalError",
    "ServiceUnavailable",
    "RequestTimeout",
    "503",
    "500",
    "Throttling",
}


def _translate(error: Exception, what: str) -> Exception:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in _MISSING:
            # Its message goes to the person who sent the photo: no bucket, no key.
            return PhotoMissing(
                f"the photo was deleted or replaced before it could be processed ({code})"
            )
        if code in _TRANSIENT:
            return StorageUnavailable(f"{what}: {code}")
        return error
    return StorageUnavailable(f"{what}: {error}")


def read_original(photo: PhotoRef, max_bytes: int) -> bytes:
    """The original's bytes, refusing before download anything over ``max_bytes``."""
    request = {"Bucket": photo.bucket, "Key": photo.key}
    if photo.version_id:
        request["VersionId"] = photo.version_id
    try:
        response = clients.s3().get_object(**request)
        length = int(response["ContentLength"])
        if length > max_bytes:
            response["Body"].close()
            raise PhotoTooLarge(f"photo is {length:,} bytes, over the {max_bytes:,} byte limit")
        body: bytes = response["Body"].read()
    except (ClientError, BotoCoreError) as error:
        raise _translate(error, f"reading s3://{photo.bucket}/{photo.key}") from error
    return body


# A derivative's file name ends as its format's usual extension, so that a browser or a
# person saving it recognises it (S3 serves its Content-Type either way).
_EXTENSIONS = {"image/jpeg": "jpg", "image/webp": "webp", "image/avif": "avif"}


def write_rendition(photo: PhotoRef, kind: str, rendition: Rendition) -> RenditionRef:
    key = derivative_key(photo.id, kind, rendition.name, _EXTENSIONS[rendition.content_type])
    try:
        clients.s3().put_object(
            Bucket=photo.bucket,
            Key=key,
            Body=rendition.data,
            ContentType=rendition.content_type,
            CacheControl="private, max-age=31536000, immutable",
        )
    except (ClientError, BotoCoreError) as error:
        raise _translate(error, f"writing s3://{photo.bucket}/{key}") from error
    return RenditionRef(
        name=rendition.name,
        key=key,
        width=rendition.width,
        height=rendition.height,
        contentType=rendition.content_type,
        bytes=len(rendition.data),
    )
