"""Small stand-ins for the AWS clients the domain modules reach through ``photoflow.clients``.

Each records the calls made to it and answers as the service would for the cases the
tests need: the table keeps items by photoId and answers the scripted outcome of a
conditional write (a write's condition is the service's to judge, so a test says what
it decides); the bucket keeps object versions; the topic keeps what was published; the
state machine keeps executions by name. Errors are botocore's ``ClientError`` with the
service's codes, as the real clients raise them. No moto here: the domain's unit tier
runs without it (test_no_moto.py).
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError


def client_error(code: str, operation: str, **extra: Any) -> ClientError:
    """The error a botocore client raises for the service's ``code``."""
    response: dict[str, Any] = {"Error": {"Code": code, "Message": code}, **extra}
    return ClientError(response, operation)  # type: ignore[arg-type]


class Paginator:
    def __init__(self, pages: list[dict[str, Any]], calls: list[dict[str, Any]]) -> None:
        self.pages = pages
        self.calls = calls

    def paginate(self, **request: Any) -> Iterator[dict[str, Any]]:
        self.calls.append(request)
        yield from self.pages


@dataclass
class FakeTable:
    """DynamoDB's client for one table of photo records."""

    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # What the next conditional writes decide: an exception to raise, or an answer.
    outcomes: list[ClientError | dict[str, Any]] = field(default_factory=list)
    query_pages: list[dict[str, Any]] = field(default_factory=list)

    def _outcome(self) -> dict[str, Any]:
        outcome = self.outcomes.pop(0) if self.outcomes else {}
        if isinstance(outcome, ClientError):
            raise outcome
        return outcome

    def update_item(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("update_item", request))
        return self._outcome()

    def delete_item(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("delete_item", request))
        answer = self._outcome()
        self.items.pop(request["Key"]["photoId"]["S"], None)
        return answer

    def get_item(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("get_item", request))
        item = self.items.get(request["Key"]["photoId"]["S"])
        return {"Item": item} if item is not None else {}

    def query(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("query", request))
        return self.query_pages.pop(0) if self.query_pages else {"Items": []}

    def get_paginator(self, operation: str) -> Paginator:
        assert operation == "query"
        queries: list[dict[str, Any]] = []
        self.calls.append(("paginate query", {"requests": queries}))
        return Paginator(self.query_pages, queries)

    def writes(self) -> list[tuple[str, dict[str, Any]]]:
        return [call for call in self.calls if call[0] in ("update_item", "delete_item")]


class Body(io.BytesIO):
    """A GetObject body: read, and closed without reading."""


@dataclass
class FakeBucket:
    """S3's client: objects by key, each a list of versions (the last is current)."""

    versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    errors: dict[str, ClientError] = field(default_factory=dict)  # by operation, once
    delete_errors: list[dict[str, str]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def add(self, key: str, body: bytes, **extra: Any) -> str:
        version = f"v{next(self._ids)}"
        self.versions.setdefault(key, []).append({"Body": body, "VersionId": version, **extra})
        return version

    def _fail(self, operation: str) -> None:
        if operation in self.errors:
            raise self.errors.pop(operation)

    def _find(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        versions = self.versions.get(request["Key"], [])
        wanted = request.get("VersionId")
        for version in versions if wanted else versions[-1:]:
            if wanted in (None, version["VersionId"]):
                return version
        raise client_error("NoSuchVersion" if wanted else "NoSuchKey", operation)

    def get_object(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("get_object", request))
        self._fail("get_object")
        found = self._find("GetObject", request)
        return {"Body": Body(found["Body"]), "ContentLength": len(found["Body"])}

    def head_object(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("head_object", request))
        self._fail("head_object")
        found = self._find("HeadObject", request)
        return {
            "ContentLength": len(found["Body"]),
            "ETag": f'"etag-{found["VersionId"]}"',
            "VersionId": found["VersionId"],
        }

    def put_object(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("put_object", {k: v for k, v in request.items() if k != "Body"}))
        self._fail("put_object")
        if request.get("IfNoneMatch") == "*" and self.versions.get(request["Key"]):
            raise client_error("PreconditionFailed", "PutObject")
        extra = {k: v for k, v in request.items() if k not in ("Bucket", "Key", "Body")}
        return {"VersionId": self.add(request["Key"], request["Body"], **extra)}

    def delete_object(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("delete_object", request))
        versions = self.versions.get(request["Key"], [])
        self.versions[request["Key"]] = [
            v for v in versions if v["VersionId"] != request["VersionId"]
        ]
        return {}

    def get_paginator(self, operation: str) -> Any:
        assert operation == "list_object_versions"
        bucket = self

        class Versions:
            def paginate(self, **request: Any) -> Iterator[dict[str, Any]]:
                bucket.calls.append(("list_object_versions", request))
                listed = [
                    {"Key": key, "VersionId": version["VersionId"]}
                    for key, versions in sorted(bucket.versions.items())
                    if key.startswith(request["Prefix"])
                    for version in versions
                ]
                yield {"Versions": listed} if listed else {}

        return Versions()

    def delete_objects(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("delete_objects", request))
        if self.delete_errors:
            return {"Errors": self.delete_errors}
        for gone in request["Delete"]["Objects"]:
            self.delete_object(Key=gone["Key"], VersionId=gone["VersionId"])
        return {}

    def generate_presigned_post(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("generate_presigned_post", request))
        return {
            "url": f"https://{request['Bucket']}.s3.amazonaws.com/",
            "fields": {"key": request["Key"], **request["Fields"]},
        }

    def generate_presigned_url(self, operation: str, **request: Any) -> str:
        self.calls.append(("generate_presigned_url", {"operation": operation, **request}))
        params = request["Params"]
        return f"https://{params['Bucket']}.s3.amazonaws.com/{params['Key']}?signed"


@dataclass
class FakeTopic:
    """SNS's client: what was published."""

    published: list[dict[str, Any]] = field(default_factory=list)

    def publish(self, **request: Any) -> dict[str, Any]:
        self.published.append(request)
        return {"MessageId": f"message-{len(self.published)}"}


@dataclass
class FakeStateMachine:
    """Step Functions' client: executions by name, and how each ended."""

    started: dict[str, dict[str, Any]] = field(default_factory=dict)
    described: dict[str, dict[str, Any]] = field(default_factory=dict)

    def start_execution(self, **request: Any) -> dict[str, Any]:
        if request["name"] in self.started:
            raise client_error("ExecutionAlreadyExists", "StartExecution")
        self.started[request["name"]] = request
        arn = request["stateMachineArn"].replace(":stateMachine:", ":execution:")
        return {"executionArn": f"{arn}:{request['name']}"}

    def describe_execution(self, **request: Any) -> dict[str, Any]:
        arn = request["executionArn"]
        if arn not in self.described:
            raise client_error("ExecutionDoesNotExist", "DescribeExecution")
        return self.described[arn]
