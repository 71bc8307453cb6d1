"""The local S3 checks browser-based uploads as S3 does (patch 50) and writes a key
conditionally in one step (patch 51).

The expected answers are S3's own, as recorded on AWS (LocalStack's Apache-2.0 snapshots,
tests/aws/services/s3/test_s3.snapshot.json, TestS3PresignedPost).
"""

from __future__ import annotations

import contextlib
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from photoflow_local import patches
from tests.unit.test_patches import RecordingRuntime, no_local_stack_in_this_process

__all__ = ["no_local_stack_in_this_process"]  # autouse: no local stack in this process

BUCKET = "photos"
KEY = "uploads/0123456789abcdef0123456789abcdef/photo.jpg"
JPEG = b"\xff\xd8\xff" + b"\0" * 997  # 1000 bytes


@pytest.fixture
def s3() -> Iterator[Any]:
    with patches.apply(RecordingRuntime()), mock_aws():
        client = boto3.client(
            "s3", region_name="us-east-1", config=Config(signature_version="s3v4")
        )
        client.create_bucket(Bucket=BUCKET)
        yield client


def grant(s3: Any, expires_in: int = 3600, max_bytes: int = 5000) -> dict[str, Any]:
    """A presigned POST like the API's: one key, one type, a size range."""
    post: dict[str, Any] = s3.generate_presigned_post(
        Bucket=BUCKET,
        Key=KEY,
        Fields={"Content-Type": "image/jpeg"},
        Conditions=[{"Content-Type": "image/jpeg"}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=expires_in,
    )
    return post


def post(url: str, fields: dict[str, str], body: bytes = JPEG) -> requests.Response:
    return requests.post(url, data=fields, files={"file": ("photo.jpg", body)}, timeout=30)


def error_of(response: requests.Response) -> dict[str, str]:
    return {child.tag: child.text or "" for child in ET.fromstring(response.content)}


def test_an_upload_within_its_policy_is_stored_with_the_declared_type(s3: Any) -> None:
    upload = grant(s3)
    response = post(upload["url"], upload["fields"])
    assert response.status_code == 204, response.text
    head = s3.head_object(Bucket=BUCKET, Key=KEY)
    assert (head["ContentLength"], head["ContentType"]) == (1000, "image/jpeg")


def _changed(**changes: str | None) -> Any:
    def change(fields: dict[str, str]) -> dict[str, str]:
        changed = {**fields, **{k: v for k, v in changes.items() if v is not None}}
        return {k: v for k, v in changed.items() if changes.get(k, "") is not None}

    return change


REFUSALS = [
    (
        "another Content-Type",
        _changed(**{"Content-Type": "text/html"}),
        JPEG,
        403,
        "AccessDenied",
        'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type",'
        ' "image/jpeg"]',
    ),
    (
        "a key outside the photo's folder",
        _changed(key="uploads/evil/../../derivatives/x.jpg"),
        JPEG,
        403,
        "AccessDenied",
        f'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "{KEY}"]',
    ),
    (
        "the signature removed",
        _changed(**{"x-amz-signature": None}),
        JPEG,
        400,
        "InvalidArgument",
        "Bucket POST must contain a field named 'X-Amz-Signature'.  If it is specified,"
        " please check the order of the fields.",
    ),
    (
        "another signature",
        _changed(**{"x-amz-signature": "0" * 64}),
        JPEG,
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided."
        " Check your key and signing method.",
    ),
    (
        "a field the policy does not name",
        _changed(acl="public-read"),
        JPEG,
        403,
        "AccessDenied",
        "Invalid according to Policy: Extra input fields: acl",
    ),
    (
        "a file over the maximum",
        _changed(),
        JPEG + b"\0" * 4001,
        400,
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size",
    ),
    (
        "no signature at all",
        lambda fields: {"key": fields["key"]},
        JPEG,
        403,
        "AccessDenied",
        "Access Denied",
    ),
]


@pytest.mark.parametrize(
    ("case", "change", "body", "status", "code", "message"),
    REFUSALS,
    ids=[refusal[0] for refusal in REFUSALS],
)
def test_an_upload_outside_its_policy_is_refused_as_s3_refuses_it(
    s3: Any, case: str, change: Any, body: bytes, status: int, code: str, message: str
) -> None:
    upload = grant(s3)
    response = post(upload["url"], change(dict(upload["fields"])), body)
    assert response.status_code == status, (case, response.text)
    error = error_of(response)
    assert (error["Code"], error["Message"]) == (code, message), case
    with pytest.raises(ClientError, match="404"):
        s3.head_object(Bucket=BUCKET, Key=KEY)


def test_an_oversize_file_is_refused_with_the_sizes(s3: Any) -> None:
    upload = grant(s3, max_bytes=1000)
    error = error_of(post(upload["url"], upload["fields"], JPEG + b"\0"))
    assert (error["MaxSizeAllowed"], error["ProposedSize"]) == ("1000", "1001")


def test_an_expired_upload_is_refused(s3: Any) -> None:
    upload = grant(s3, expires_in=-1)
    response = post(upload["url"], upload["fields"])
    assert response.status_code == 403
    assert error_of(response)["Message"] == "Invalid according to Policy: Policy expired."


def test_a_signature_version_2_upload_is_checked_too(s3: Any) -> None:
    v2 = boto3.client("s3", region_name="us-east-1", config=Config(signature_version="s3"))
    upload: dict[str, Any] = v2.generate_presigned_post(Bucket=BUCKET, Key=KEY, ExpiresIn=60)
    assert "signature" in upload["fields"]
    assert post(upload["url"], upload["fields"]).status_code == 204
    forged = {**upload["fields"], "signature": "AAAA"}
    assert error_of(post(upload["url"], forged))["Code"] == "SignatureDoesNotMatch"


def test_an_upload_can_be_repeated_until_it_expires(s3: Any) -> None:
    # S3 lets a presigned POST be used again while it is valid: a new version each time.
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    upload = grant(s3)
    assert post(upload["url"], upload["fields"]).status_code == 204
    assert post(upload["url"], upload["fields"], JPEG[:500]).status_code == 204
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix=KEY)["Versions"]
    assert sorted(v["Size"] for v in versions) == [500, 1000]


def test_concurrent_conditional_writes_of_one_key_let_exactly_one_through(s3: Any) -> None:
    # Given two PutObject If-None-Match: * of one new key, both past the existence check
    # before either writes, if nothing serializes them
    from moto.s3.models import s3_backends

    backend = s3_backends["123456789012"]["aws"]
    backend_put = backend.put_object
    both_checked = threading.Barrier(2)

    def slow_put(*args: Any, **kwargs: Any) -> Any:
        # serialized, the other write waits for this one and the barrier breaks
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checked.wait(timeout=2)
        return backend_put(*args, **kwargs)

    backend.put_object = slow_put  # type: ignore[method-assign]

    def put(body: bytes) -> str:
        try:
            s3.put_object(Bucket=BUCKET, Key=KEY, Body=body, IfNoneMatch="*")
        except ClientError as error:
            return str(error.response["Error"]["Code"])
        return "stored"

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = sorted(pool.map(put, (b"first", b"second")))
    finally:
        del backend.put_object
    # Then one is stored and the other refused, as S3 does
    assert outcomes == ["PreconditionFailed", "stored"]
