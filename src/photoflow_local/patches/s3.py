"""S3: event notifications name the object's version (21); a browser-based upload (POST
Object) is checked as S3 checks it, signature, expiry and policy (50); conditional writes
are atomic (51)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import json
import os
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from moto.s3 import notifications as s3_notifications
from moto.s3.models import FakeBucket
from moto.s3.responses import S3Response

from photoflow_local.patches.base import replace, state

# ----------------------------------------------------------------- 21. S3 events
_sequence = itertools.count(1)


def _get_s3_event(
    event_name: str, bucket: FakeBucket, key: Any, notification_id: str
) -> dict[str, list[dict[str, Any]]]:
    event: dict[str, list[dict[str, Any]]] = state.originals["get_s3_event"](
        event_name, bucket, key, notification_id
    )
    for record in event["Records"]:
        described = record["s3"]["object"]
        if bucket.is_versioned and key.version_id and key.version_id != "null":
            described["versionId"] = key.version_id
        # Hexadecimal and increasing, as AWS's: later events of a key compare greater.
        described["sequencer"] = f"{time.time_ns():016X}{next(_sequence):04X}"
    return event


# ----------------------------------------------------------------- 50. POST Object
# What S3 checks of a browser-based upload, as its documentation of POST Object and
# recordings of its answers say (LocalStack's Apache-2.0 snapshots recorded on AWS,
# tests/aws/services/s3/test_s3.snapshot.json, TestS3PresignedPost): the fields that carry
# the signature, the signature of the policy, the policy's expiration, each of its
# conditions (exact values, prefixes, the content-length range, the bucket) and that every
# field of the form is named by a condition.
LOCAL_CREDENTIALS = {"local": "local"}  # the local stack's published test identity
# Fields no condition needs to name (POST Object: "except x-amz-signature, file, policy,
# and field names that have an x-ignore- prefix"; the signature fields of Signature V2).
_UNCONDITIONED = {"x-amz-signature", "file", "policy", "signature", "awsaccesskeyid"}
_SIGNING_FIELDS = (
    "awsaccesskeyid",
    "signature",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-signature",
)
_V4_FIELDS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Signature", "Policy")
_V2_FIELDS = ("AWSAccessKeyId", "Signature", "Policy")


class PostRefused(Exception):
    """S3's refusal of a POST Object, with the status and the fields of its error document."""

    def __init__(self, status: int, code: str, message: str, **details: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details

    def response(self) -> tuple[int, dict[str, str], str]:
        extra = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in self.details.items())
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{escape(self.message)}</Message>{extra}"
            f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId>"
            "<HostId>local</HostId></Error>"
        )
        return self.status, {"content-type": "application/xml"}, body


def _secret_of(access_key_id: str) -> str | None:
    """The secret of an access key this endpoint knows: the local identity's, or this
    process's own credentials (moto's test credentials under ``mock_aws``)."""
    known = dict(LOCAL_CREDENTIALS)
    if os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"):
        known[os.environ["AWS_ACCESS_KEY_ID"]] = os.environ["AWS_SECRET_ACCESS_KEY"]
    return known.get(access_key_id)


def _missing_field(name: str) -> PostRefused:
    return PostRefused(
        400,
        "InvalidArgument",
        f"Bucket POST must contain a field named '{name}'.  If it is specified, please check "
        "the order of the fields.",
        ArgumentName=name,
    )


def _signature_mismatch(access_key_id: str, policy: str, provided: str) -> PostRefused:
    return PostRefused(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        AWSAccessKeyId=access_key_id,
        StringToSign=policy,
        SignatureProvided=provided,
    )


def _secret_or_refuse(access_key_id: str) -> str:
    secret = _secret_of(access_key_id)
    if secret is None:
        raise PostRefused(
            403,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            AWSAccessKeyId=access_key_id,
        )
    return secret


def check_signature(fields: dict[str, str]) -> None:
    """The form's signature of its policy, Signature Version 4 or 2."""
    if not any(name in fields for name in _SIGNING_FIELDS):
        raise PostRefused(403, "AccessDenied", "Access Denied")  # anonymous: a private bucket
    v4 = "awsaccesskeyid" not in fields
    for name in _V4_FIELDS if v4 else _V2_FIELDS:
        if name.lower() not in fields:
            raise _missing_field(name)
    policy = fields["policy"]
    if not v4:
        access_key_id, provided = fields["awsaccesskeyid"], fields["signature"]
        digest = hmac.new(
            _secret_or_refuse(access_key_id).encode(), policy.encode(), hashlib.sha1
        ).digest()
        if not hmac.compare_digest(base64.b64encode(digest).decode(), provided):
            raise _signature_mismatch(access_key_id, policy, provided)
        return
    access_key_id, _, scope = fields["x-amz-credential"].partition("/")
    provided = fields["x-amz-signature"]
    parts = scope.split("/")
    if fields["x-amz-algorithm"] != "AWS4-HMAC-SHA256" or len(parts) != 4:
        raise _signature_mismatch(access_key_id, policy, provided)
    key = ("AWS4" + _secret_or_refuse(access_key_id)).encode()
    for part in parts:
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, provided):
        raise _signature_mismatch(access_key_id, policy, provided)


def _policy_document(encoded: str) -> dict[str, Any]:
    try:
        document = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        raise PostRefused(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from None
    if not isinstance(document, dict) or not isinstance(document.get("conditions"), list):
        raise PostRefused(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    if "expiration" not in document:
        raise PostRefused(
            400, "InvalidPolicyDocument", "Invalid Policy: Policy missing expiration."
        )
    return document


def _failed(condition: list[Any]) -> PostRefused:
    shown = json.dumps([str(part) for part in condition])
    return PostRefused(
        403, "AccessDenied", f"Invalid according to Policy: Policy Condition failed: {shown}"
    )


def _check_length(condition: list[Any], size: int) -> None:
    try:
        low, high = int(condition[1]), int(condition[2])
    except (IndexError, TypeError, ValueError):
        raise _failed(condition) from None
    if size > high:
        raise PostRefused(
            400,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
            MaxSizeAllowed=str(high),
            ProposedSize=str(size),
        )
    if size < low:
        raise PostRefused(
            400,
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed size",
            MinSizeAllowed=str(low),
            ProposedSize=str(size),
        )


def _check_condition(condition: Any, fields: dict[str, str], bucket: str, size: int) -> str | None:
    """Check one condition of the policy; the field it names (None for a length range)."""
    if isinstance(condition, dict):
        if len(condition) != 1:
            raise PostRefused(
                400,
                "InvalidPolicyDocument",
                "Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have "
                "exactly one property specified.",
            )
        [(name, value)] = condition.items()
        condition = ["eq", f"${name}", value]
    if not isinstance(condition, list) or not condition:
        raise PostRefused(400, "InvalidPolicyDocument", "Invalid Policy: Invalid Condition.")
    operator = str(condition[0]).lower()
    if operator == "content-length-range":
        _check_length(condition, size)
        return None
    if operator not in ("eq", "starts-with") or len(condition) != 3:
        raise PostRefused(
            400, "InvalidPolicyDocument", f"Invalid Policy: Invalid Condition: {condition}"
        )
    target, expected = str(condition[1]), str(condition[2])
    if not target.startswith("$"):
        raise _failed(condition)
    name = target[1:].lower()
    actual = bucket if name == "bucket" else fields.get(name)
    held = actual == expected if operator == "eq" else (actual or "").startswith(expected)
    if actual is None or not held:
        raise _failed(condition)
    return name


def check_policy(fields: dict[str, str], bucket: str, size: int, now: float) -> None:
    """The policy's expiration and conditions, and no field that no condition names."""
    document = _policy_document(fields["policy"])
    try:
        expires = datetime.fromisoformat(str(document["expiration"]).replace("Z", "+00:00"))
    except ValueError:
        raise PostRefused(
            400, "InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value."
        ) from None
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    if expires.timestamp() < now:
        raise PostRefused(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    named = {_check_condition(c, fields, bucket, size) for c in document["conditions"]}
    for name in fields:
        if name not in _UNCONDITIONED and not name.startswith("x-ignore-") and name not in named:
            raise PostRefused(
                403, "AccessDenied", f"Invalid according to Policy: Extra input fields: {name}"
            )


def _bucket_response_post(self: S3Response, request: Any, bucket_name: str) -> Any:
    """POST Object as S3 takes it: refused unless signed, unexpired and within its policy."""
    self.path = self._get_path(request)
    if self.is_delete_keys():
        return state.originals["s3_bucket_response_post"](self, request, bucket_name)
    fields = {str(name).lower(): str(value) for name, value in self.form_data.items()}
    body = self.body if isinstance(self.body, bytes) else str(self.body or "").encode()
    try:
        check_signature(fields)
        check_policy(fields, bucket_name, len(body), time.time())
    except PostRefused as refused:
        return refused.response()
    key = self.querystring.get("key", [""])[0]
    with write_lock(bucket_name, key):
        return state.originals["s3_bucket_response_post"](self, request, bucket_name)


# ----------------------------------------------------------------- 51. conditional writes
# A PutObject with If-None-Match (or If-Match) checks the key and then writes, unlocked:
# two such writes of one new key at once could both succeed. On S3 the first to finish
# wins and the other is refused (PreconditionFailed). Every write of an object takes its
# key's lock, so the check and the write are one step.
_WRITE_LOCKS = tuple(threading.Lock() for _ in range(64))


def write_lock(bucket: str, key: str) -> threading.Lock:
    digest = hashlib.sha256(f"{bucket}/{key}".encode()).digest()
    return _WRITE_LOCKS[digest[0] % len(_WRITE_LOCKS)]


def _put_object(self: S3Response) -> Any:
    with write_lock(self.bucket_name, self.parse_key_name()):
        return state.originals["s3_put_object"](self)


def install() -> None:
    replace(s3_notifications, "_get_s3_event", _get_s3_event, "get_s3_event")
    replace(S3Response, "_bucket_response_post", _bucket_response_post, "s3_bucket_response_post")
    replace(S3Response, "put_object", _put_object, "s3_put_object")
