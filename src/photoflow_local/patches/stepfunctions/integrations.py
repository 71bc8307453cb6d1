"""Service integrations (patches 26, 27, 31, 33-35, 38): what a Task calling a service
sends, returns and fails with, as on AWS.

On AWS a Task of ``lambda:invoke``, ``dynamodb:putItem``/``getItem``/``updateItem``/
``deleteItem``, ``sns:publish`` or ``sqs:sendMessage`` returns the service's response
together with the HTTP facts of the call: ``SdkHttpMetadata`` (``AllHttpHeaders``,
``HttpHeaders``, ``HttpStatusCode``) and ``SdkResponseMetadata`` (``RequestId``); a
``lambda:invoke`` also ``ExecutedVersion`` and ``StatusCode``. moto drops them. The
headers are those AWS answers for each service, as recorded on AWS (the snapshot files
of LocalStack's Apache-2.0 test suite, tests/aws/services/stepfunctions/v2/services/):
their values are computed for this call (Content-Length of the body AWS would send,
the body's CRC32 for DynamoDB) or drawn afresh (request ids, trace ids, the date).
``aws-sdk:*`` integrations return the bare response, as on AWS, and mocked responses
(a MockConfigFile) what the file says, as Step Functions Local does.

Also: a Task whose Resource is a function's ARN sends a null input as null (31); a
service's error is named as AWS's SDK names it (33); a null parameter is left out of the
request, as AWS's SDK leaves it (34); a queue URL whose host is no SQS endpoint fails in
the client (35); an ``aws-sdk:*`` Task sends a JSON value of a blob parameter (an S3
object's Body) as JSON text, and returns an answer that is JSON (38).
"""

from __future__ import annotations

import base64
import contextvars
import datetime
import email.utils
import io
import json
import os
import time
import urllib.parse
import uuid
import zlib
from collections.abc import Callable
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from moto.stepfunctions.parser.api import HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
    CustomErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk,
    state_task_service_dynamodb,
    state_task_service_sns,
    state_task_service_sqs,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import (
    StateTaskLambda,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment

from photoflow_local.patches.base import replace, set_attribute, state
from photoflow_local.patches.stepfunctions.interpreter import aws_time

# The headers of each service's answer, in the order AWS lists them in AllHttpHeaders
# (its HttpHeaders are the same, one value each, sorted case-insensitively). None marks
# a value computed per call; the request id's header is spelled as AWS spells it.
_LAMBDA_HEADERS: tuple[tuple[str, str | None], ...] = (
    ("X-Amz-Executed-Version", None),
    ("x-amzn-Remapped-Content-Length", "0"),
    ("Connection", "keep-alive"),
    ("x-amzn-RequestId", None),
    ("Content-Length", None),
    ("Date", None),
    ("X-Amzn-Trace-Id", None),
    ("Content-Type", "application/json"),
)
_DYNAMODB_HEADERS: tuple[tuple[str, str | None], ...] = (
    ("Server", "Server"),
    ("Connection", "keep-alive"),
    ("x-amzn-RequestId", None),
    ("x-amz-crc32", None),
    ("Content-Length", None),
    ("Date", None),
    ("Content-Type", "application/x-amz-json-1.0"),
)
# GetItem answers its request id in lower case, and lists it second.
_DYNAMODB_GET_HEADERS: tuple[tuple[str, str | None], ...] = (
    ("Server", "Server"),
    ("x-amzn-requestid", None),
    ("Connection", "keep-alive"),
    ("x-amz-crc32", None),
    ("Content-Length", None),
    ("Date", None),
    ("Content-Type", "application/x-amz-json-1.0"),
)
_QUERY_HEADERS: tuple[tuple[str, str | None], ...] = (  # SNS (XML) and SQS (JSON)
    ("x-amzn-RequestId", None),
    ("connection", "keep-alive"),
    ("Content-Length", None),
    ("Date", None),
    ("Content-Type", None),
)

_SNS_PUBLISH_XML = (
    '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">\n'
    "  <PublishResult>\n"
    "    <MessageId>{message_id}</MessageId>\n"
    "{sequence}"
    "  </PublishResult>\n"
    "  <ResponseMetadata>\n"
    "    <RequestId>{request_id}</RequestId>\n"
    "  </ResponseMetadata>\n"
    "</PublishResponse>\n"
)


def _trace_id() -> str:
    """An X-Ray trace header as Lambda answers it (Root, Parent, Sampled)."""
    return (
        f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()};"
        f"Parent={os.urandom(8).hex()};Sampled=0"
    )


def sdk_metadata(
    headers: tuple[tuple[str, str | None], ...], computed: dict[str, str], request_id: str
) -> dict[str, Any]:
    """``SdkHttpMetadata`` and ``SdkResponseMetadata`` of a call that answered HTTP 200."""
    values = {
        "Date": email.utils.formatdate(usegmt=True),
        "x-amzn-RequestId": request_id,
        "x-amzn-requestid": request_id,
        **computed,
    }
    present = [(name, value if value is not None else values[name]) for name, value in headers]
    return {
        "SdkHttpMetadata": {
            "AllHttpHeaders": {name: [value] for name, value in present},
            "HttpHeaders": dict(sorted(present, key=lambda header: header[0].lower())),
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
    }


def _json_body(response: dict[str, Any]) -> bytes:
    """The JSON body a JSON-protocol service sends for ``response`` (blobs in base64)."""

    def blob(value: Any) -> str:
        if isinstance(value, bytes | bytearray):
            return base64.b64encode(value).decode("ascii")
        raise TypeError(f"{type(value).__name__} is not JSON")

    text = json.dumps(response, separators=(",", ":"), ensure_ascii=False, default=blob)
    return text.encode("utf-8")


def _with_metadata(response: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    """The response's fields and the metadata, in AWS's (alphabetical) order."""
    return dict(sorted({**response, **metadata}.items()))


# ----------------------------------------------------------------- 26. lambda:invoke
def _executed_version(client: Any, parameters: dict[str, Any]) -> str:
    qualifier = str(parameters.get("Qualifier") or "$LATEST")
    if qualifier == "$LATEST" or qualifier.isdigit():
        return qualifier
    alias: dict[str, Any] = client.get_alias(
        FunctionName=parameters["FunctionName"], Name=qualifier
    )
    return str(alias["FunctionVersion"])


def lambda_invoke_result(client: Any, parameters: dict[str, Any]) -> dict[str, Any]:
    """Invoke as the ``lambda:invoke`` integration does: the response as AWS's Task
    returns it. A function error raises, as moto's integration does."""
    response = client.invoke(**parameters)
    raw: bytes = response["Payload"].read()
    payload = lambda_eval_utils._from_payload(io.BytesIO(raw))
    function_error = response.get("FunctionError")
    if function_error:
        raise lambda_eval_utils.LambdaFunctionErrorException(
            function_error, json.dumps(payload, separators=(",", ":"))
        )
    version = _executed_version(client, parameters)
    headers = _LAMBDA_HEADERS
    result: dict[str, Any] = {"ExecutedVersion": version, "Payload": payload}
    if response.get("LogResult"):
        result["LogResult"] = response["LogResult"]
        headers = (("X-Amz-Log-Result", response["LogResult"]), *headers)
    metadata = sdk_metadata(
        headers,
        {
            "X-Amz-Executed-Version": version,
            "Content-Length": str(len(raw)),
            "X-Amzn-Trace-Id": _trace_id(),
        },
        str(uuid.uuid4()),
    )
    result["StatusCode"] = response["StatusCode"]
    return _with_metadata(result, metadata)


def _execute_lambda_function_integration(
    env: Environment, parameters: dict[str, Any], region: str, state_credentials: Any
) -> None:
    if env.is_mocked_mode():
        state.originals["execute_lambda_function_integration"](
            env=env, parameters=parameters, region=region, state_credentials=state_credentials
        )
        return
    client = lambda_eval_utils.boto_client_for(
        service="lambda", region=region, state_credentials=state_credentials
    )
    env.stack.append(lambda_invoke_result(client, parameters))


# ----------------------------------------------------------------- 27. DynamoDB, SNS, SQS
def dynamodb_result(action: str, response: dict[str, Any]) -> dict[str, Any]:
    body = _json_body(response)
    headers = _DYNAMODB_GET_HEADERS if action.lower() == "getitem" else _DYNAMODB_HEADERS
    computed = {"Content-Length": str(len(body)), "x-amz-crc32": str(zlib.crc32(body))}
    return _with_metadata(response, sdk_metadata(headers, computed, str(uuid.uuid4())))


def sns_result(action: str, response: dict[str, Any]) -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    sequence = response.get("SequenceNumber")
    body = _SNS_PUBLISH_XML.format(
        message_id=response.get("MessageId", ""),
        sequence=f"    <SequenceNumber>{sequence}</SequenceNumber>\n" if sequence else "",
        request_id=request_id,
    ).encode("utf-8")
    computed = {"Content-Length": str(len(body)), "Content-Type": "text/xml"}
    return _with_metadata(response, sdk_metadata(_QUERY_HEADERS, computed, request_id))


def sqs_result(action: str, response: dict[str, Any]) -> dict[str, Any]:
    body = _json_body(response)
    computed = {
        "Content-Length": str(len(body)),
        "Content-Type": "application/x-amz-json-1.0",
    }
    return _with_metadata(response, sdk_metadata(_QUERY_HEADERS, computed, str(uuid.uuid4())))


def _answers_as_aws(
    original: Callable[..., None], result: Callable[[str, dict[str, Any]], dict[str, Any]] | None
) -> Callable[..., None]:
    def _eval_service_task(
        self: Any,
        env: Environment,
        resource_runtime_part: Any,
        normalised_parameters: dict[str, Any],
        state_credentials: Any,
    ) -> None:
        _without_nulls(normalised_parameters)
        if isinstance(self, state_task_service_sqs.StateTaskServiceSqs):
            _check_queue_host(self, env, normalised_parameters)
        if isinstance(self, state_task_service_aws_sdk.StateTaskServiceAwsSdk):
            _blobs_as_json(self, normalised_parameters)
        original(self, env, resource_runtime_part, normalised_parameters, state_credentials)
        if result is not None and isinstance(env.stack[-1], dict):
            env.stack[-1] = result(self.resource.api_action, env.stack[-1])

    return _eval_service_task


# ----------------------------------------------------------------- 33. service errors
_SDK_EXCEPTIONS: dict[str, frozenset[str]] = {}


def _modeled(service: str) -> frozenset[str]:
    """The error codes the service's SDK has a class for (the rest are its base class)."""
    if service not in _SDK_EXCEPTIONS:
        model = botocore.session.get_session().get_service_model(service)
        _SDK_EXCEPTIONS[service] = frozenset(shape.name for shape in model.error_shapes)
    return _SDK_EXCEPTIONS[service]


def _sdk_exception(service: str, prefix: str, base: str, code: str) -> str:
    """The error a Task reports for a service's error code: the SDK's class for it, or the
    SDK's base class when it has none (DynamoDB's ValidationException is an
    AmazonDynamoDBException, as on AWS)."""
    if code not in _modeled(service):
        return f"{prefix}.{base}"
    return f"{prefix}.{code}" + ("" if code.endswith("Exception") else "Exception")


def _dynamodb_error_cause(client_error: ClientError) -> tuple[str, str]:
    error, cause = state.originals["dynamodb_error_cause"](client_error)
    code = str(client_error.response["Error"]["Code"])
    if code not in _modeled("dynamodb"):
        error = "DynamoDB.AmazonDynamoDBException"
    return str(error), str(cause)


def _sqs_from_error(original: Callable[..., FailureEvent]) -> Callable[..., FailureEvent]:
    def _from_error(self: Any, env: Environment, ex: Exception) -> FailureEvent:
        if not isinstance(ex, ClientError):
            return original(self, env, ex)
        code = str(ex.response["Error"]["Code"])
        metadata = ex.response["ResponseMetadata"]
        cause = (
            f"{ex.response['Error']['Message']} (Service: AmazonSQS; Status Code:"
            f" {metadata['HTTPStatusCode']}; Error Code: {code}; Request ID:"
            f" {metadata.get('RequestId') or uuid.uuid4()}; Proxy: null)"
        )
        error = _sdk_exception("sqs", "SQS", "AmazonSQSException", code)
        return _task_failure(self, env, error, cause)

    return _from_error


def _task_failure(task: Any, env: Environment, error: str, cause: str) -> FailureEvent:
    details: Any = {
        "taskFailedEventDetails": {
            "error": error,
            "cause": cause,
            "resource": task._get_sfn_resource(),
            "resourceType": task._get_sfn_resource_type(),
        }
    }
    return FailureEvent(
        env=env,
        error_name=CustomErrorName(error),
        event_type=HistoryEventType.TaskFailed,
        event_details=details,
    )


# ----------------------------------------------------------------- 34. null parameters
def _without_nulls(parameters: dict[str, Any]) -> None:
    """AWS's SDK leaves a null parameter out of the request, so the service answers its
    own validation error ("Value null at 'item'", "must contain the parameter
    MessageBody"); moto's client failed on it in Python instead."""
    for key in [key for key, value in parameters.items() if value is None]:
        del parameters[key]


# ----------------------------------------------------------------- 35. SQS queue URLs
_SQS_HOSTS = ("amazonaws.com", "amazonaws.com.cn", "localhost", "127.0.0.1")


def _check_queue_host(task: Any, env: Environment, parameters: dict[str, Any]) -> None:
    """AWS's SQS client sends a request to its QueueUrl's host: a URL whose host is no SQS
    endpoint fails in the client (Unable to execute HTTP request), before any queue is
    looked up. Every host reached the local SQS, which then looked the queue up by name."""
    url = parameters.get("QueueUrl")
    host = urllib.parse.urlsplit(url).hostname if isinstance(url, str) else None
    if host is None or any(host == h or host.endswith(f".{h}") for h in _SQS_HOSTS):
        return
    cause = f"Unable to execute HTTP request: {host}: Name or service not known"
    raise FailureEventException(_task_failure(task, env, "SQS.SdkClientException", cause))


# ----------------------------------------------------------------- 38. aws-sdk values
def _blobs_as_json(task: Any, parameters: dict[str, Any]) -> None:
    """A blob parameter given a JSON value (an S3 PutObject's Body of text, an object, a
    number) is sent as that value's compact JSON text, as AWS sends it (the recorded ETag
    of a Body "text data" is the MD5 of ``"text data"`` with its quotes); moto's client
    failed on anything but text or bytes."""
    service = task._get_boto_service_name()
    action = task.resource.api_action
    model = botocore.session.get_session().get_service_model(service)
    operation = model.operation_model(action[:1].upper() + action[1:])
    for name, shape in (operation.input_shape.members if operation.input_shape else {}).items():
        value = parameters.get(name)
        if shape.type_name == "blob" and name in parameters and not isinstance(value, bytes):
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
            parameters[name] = text.encode("utf-8")


def aws_sdk_result(action: str, response: dict[str, Any]) -> dict[str, Any]:
    """The SDK's answer as JSON: a streamed body as its text, another blob in base64, a
    time as AWS writes it (``2013-08-23T01:02:15.422Z``). moto left the stream and the
    datetime in the state's output, which the execution's output could then not be
    written from."""
    converted: dict[str, Any] = _as_json(response)
    return converted


def _as_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    if isinstance(value, StreamingBody):
        return value.read().decode("utf-8", errors="replace")
    if isinstance(value, bytes | bytearray):  # a blob member, as JSON protocols send it
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime.datetime):
        return aws_time(value)
    return value


_OPTIMISED: tuple[tuple[type, str, Callable[[str, dict[str, Any]], dict[str, Any]] | None], ...] = (
    (state_task_service_dynamodb.StateTaskServiceDynamoDB, "dynamodb", dynamodb_result),
    (state_task_service_sns.StateTaskServiceSns, "sns", sns_result),
    (state_task_service_sqs.StateTaskServiceSqs, "sqs", sqs_result),
    (state_task_service_aws_sdk.StateTaskServiceAwsSdk, "aws_sdk", aws_sdk_result),
)


# ----------------------------------------------------------------- 31. a Lambda Task's null
_in_lambda_task = contextvars.ContextVar("in_lambda_task", default=False)


def _to_payload_type(payload: Any) -> bytes | None:
    """A Task whose Resource is a function's ARN sends its input as the payload, a JSON
    null too; moto sends ``{}`` for it (as the ``lambda:invoke`` integration does for a
    null ``Payload``, and as AWS does there)."""
    if payload is None and _in_lambda_task.get():
        return b"null"
    converted: bytes | None = state.originals["to_payload_type"](payload)
    return converted


def _lambda_task_eval_execution(self: StateTaskLambda, env: Environment) -> None:
    token = _in_lambda_task.set(True)
    try:
        state.originals["lambda_task_eval_execution"](self, env)
    finally:
        _in_lambda_task.reset(token)


def install() -> None:
    replace(lambda_eval_utils, "to_payload_type", _to_payload_type)
    replace(
        StateTaskLambda,
        "_eval_execution",
        _lambda_task_eval_execution,
        "lambda_task_eval_execution",
    )
    replace(
        lambda_eval_utils,
        "execute_lambda_function_integration",
        _execute_lambda_function_integration,
    )
    for service, name, result in _OPTIMISED:
        original = vars(service)["_eval_service_task"]
        state.originals[f"{name}_eval_service_task"] = original
        set_attribute(service, "_eval_service_task", _answers_as_aws(original, result))
    dynamodb = state_task_service_dynamodb.StateTaskServiceDynamoDB
    state.originals["dynamodb_error_cause"] = dynamodb._error_cause_from_client_error
    set_attribute(dynamodb, "_error_cause_from_client_error", staticmethod(_dynamodb_error_cause))
    sqs = state_task_service_sqs.StateTaskServiceSqs
    set_attribute(sqs, "_from_error", _sqs_from_error(vars(sqs)["_from_error"]))
