"""The S3 key scheme and photo identity.

Originals live at ``uploads/<photoId>/<name>``, derivatives at
``derivatives/<photoId>/<kind>/<name>.jpg``. A photo's id is the folder its
original sits in, so anything that knows a key knows the photo.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from pathlib import PurePosixPath

from photoflow.errors import InvalidKey

UPLOADS_PREFIX = "uploads/"
DERIVATIVES_PREFIX = "derivatives/"
MAX_NAME_LENGTH = 120

_PHOTO_ID = re.compile(r"^[0-9a-f]{32}$")
_UNSAFE = re.compile(r"[^\w.\-]+")


def new_photo_id() -> str:
    return uuid.uuid4().hex


def is_photo_id(value: str) -> bool:
    return bool(_PHOTO_ID.match(value))


def safe_name(filename: str | None, default: str = "photo") -> str:
    """A file name that cannot escape its folder: no separators, no dot-files, bounded length.

    Unicode letters are kept (S3 keys are UTF-8); everything else becomes ``_``.
    """
    name = unicodedata.normalize("NFC", filename or "")
    name = PurePosixPath(name.replace("\\", "/")).name  # drops any directory part
    name = _UNSAFE.sub("_", name).strip("._")
    if not name:
        name = default
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, suffix = name.rpartition(".")
        if dot and len(suffix) <= 10:
            name = stem[: MAX_NAME_LENGTH - len(suffix) - 1] + "." + suffix
        else:
            name = name[:MAX_NAME_LENGTH]
    return name


def upload_key(photo_id: str, filename: str | None) -> str:
    if not is_photo_id(photo_id):
        raise InvalidKey(f"not a photo id: {photo_id!r}")
    return f"{UPLOADS_PREFIX}{photo_id}/{safe_name(filename)}"


def photo_id_for_key(key: str) -> str:
    """The photo id of an original's key.

    Keys written by the API carry the id as their folder; an object put
    straight into ``uploads/`` by other means gets an id derived from its key,
    so every upload has exactly one record.
    """
    if not key.startswith(UPLOADS_PREFIX):
        raise InvalidKey(f"not under {UPLOADS_PREFIX}: {key!r}")
    folder, _, rest = key[len(UPLOADS_PREFIX) :].partition("/")
    if rest and is_photo_id(folder):
        return folder
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def derivative_key(photo_id: str, kind: str, name: str, extension: str = "jpg") -> str:
    return f"{DERIVATIVES_PREFIX}{photo_id}/{kind}/{name}.{extension}"


def execution_name(bucket: str, key: str, version: str) -> str:
    """A deterministic Step Functions execution name for one object version.

    Duplicate S3 events and SQS redeliveries map to the same name, so
    StartExecution starts the photo's workflow at most once (names are unique
    per state machine for 90 days). ``version`` is the version id, or the ETag
    when the bucket is not versioned.
    """
    digest = hashlib.sha256(f"{bucket}\n{key}\n{version}".encode()).hexdigest()[:24]
    return f"photo-{photo_id_for_key(key)}-{digest}"


_EXECUTION_NAME = re.compile(r"^photo-(?P<photo_id>[0-9a-f]{32})-[0-9a-f]{24}$")


def photo_id_of_execution(name: str) -> str | None:
    """The photo id in an execution name made by ``execution_name`` (None for other names)."""
    match = _EXECUTION_NAME.match(name)
    return match["photo_id"] if match else None
