"""A TestState mock's ``result`` checked against the output shape of the API its Task calls,
as AWS does with ``fieldValidationMode`` (API reference, MockInput): STRICT (the default)
wants every required field and every present field of the right type, PRESENT only the
latter, NONE nothing. Fields the API does not have are not checked. The shapes are
botocore's service models; the messages are AWS's, as recorded."""

from __future__ import annotations

import functools
import re
from typing import Any

import botocore.session
from botocore.exceptions import UnknownServiceError
from botocore.model import OperationNotFoundError, Shape, StructureShape

PREFIX = "Mock result schema validation error: "
# Service names in resource ARNs that botocore spells otherwise.
_SERVICE_NAMES = {"states": "stepfunctions", "sfn": "stepfunctions", "eventbridge": "events"}
_NUMBERS = frozenset({"integer", "long", "float", "double"})
_TEXTS = frozenset({"string", "blob", "timestamp"})
_RESOURCE = re.compile(r"^arn:[^:]+:states:::(?:aws-sdk:)?([a-z0-9-]+):([A-Za-z0-9]+)")


class MockResultInvalid(ValueError):
    """A mocked result that does not fit the API's output shape."""


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


def output_shape(resource: str) -> StructureShape | None:
    """The output shape of the API that a Task's ``Resource`` calls; None for a Lambda
    function or activity ARN, or an API botocore does not know."""
    match = _RESOURCE.match(resource)
    if match is None:
        return None
    service, action = match.groups()
    operation = action[:1].upper() + action[1:]
    try:
        model = _session().get_service_model(_SERVICE_NAMES.get(service, service))
        shape = model.operation_model(operation).output_shape
    except (UnknownServiceError, OperationNotFoundError):
        return None
    return shape if isinstance(shape, StructureShape) else None


def _aws_name(member: str) -> str:
    """Step Functions' optimised integrations name fields in PascalCase (``ExecutionArn``)."""
    return member[:1].upper() + member[1:]


def _fail(name: str, problem: str) -> MockResultInvalid:
    return MockResultInvalid(f"{PREFIX}Field '{name}' {problem}")


def _check_scalar(shape: Shape, name: str, value: Any) -> None:
    kind = shape.type_name
    if kind in _NUMBERS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(name, "must be a number")
        if "min" in shape.metadata and value < shape.metadata["min"]:
            raise _fail(name, "is less than the minimum value")
        if "max" in shape.metadata and value > shape.metadata["max"]:
            raise _fail(name, "exceeds the maximum value")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise _fail(name, "must be a boolean")
    elif kind in _TEXTS:
        if not isinstance(value, str):
            raise _fail(name, "must be a string")
        if getattr(shape, "enum", None) and value not in shape.enum:
            raise _fail(name, "is not an expected value")
        if "min" in shape.metadata and len(value) < shape.metadata["min"]:
            raise _fail(name, "is smaller than the minimum length")


def _check_structure(shape: StructureShape, value: Any, *, strict: bool, name: str) -> None:
    if not isinstance(value, dict):
        raise _fail(name, "must be an object")
    members = {_aws_name(member): member_shape for member, member_shape in shape.members.items()}
    if strict:
        for required in shape.required_members:
            if _aws_name(required) not in value:
                raise MockResultInvalid(
                    f"{PREFIX}Required field '{_aws_name(required)}' is missing"
                )
    for key, item in value.items():
        if key in members:
            check(members[key], item, strict=strict, name=key)


def check(shape: Shape, value: Any, *, strict: bool, name: str = "") -> None:
    """Raise MockResultInvalid where ``value`` does not fit ``shape``."""
    if isinstance(shape, StructureShape):
        _check_structure(shape, value, strict=strict, name=name)
    elif shape.type_name == "list":
        if not isinstance(value, list):
            raise _fail(name, "must be an array")
        for item in value:
            check(shape.member, item, strict=strict, name=name)
    elif shape.type_name == "map":
        if not isinstance(value, dict):
            raise _fail(name, "must be an object")
        for item in value.values():
            check(shape.value, item, strict=strict, name=name)
    else:
        _check_scalar(shape, name, value)


def validate(resource: str, result: Any, mode: str) -> None:
    """Check a mocked ``result`` of a Task on ``resource`` in ``mode`` (STRICT/PRESENT/NONE)."""
    if mode == "NONE":
        return
    shape = output_shape(resource)
    if shape is not None:
        check(shape, result, strict=mode == "STRICT")
