"""Lambda (patches 1, 22, 29, 30, 70): functions run in the local runtime, not in Docker,
Invoke answers as Lambda does, and an update of a function reaches the local runtime."""

from __future__ import annotations

import base64
import json
import math
import re
import time
import uuid
from typing import Any

from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda.models import LambdaBackend, LambdaFunction

from photoflow_local.patches.base import replace, state


# ----------------------------------------------------------------- 1. Lambda, locally
def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    if state.runtime is None:
        payload = {
            "errorMessage": "no local Lambda runtime",
            "errorType": "Lambda.ServiceException",
        }
        return json.dumps(payload), True, ""
    _register_created_function(self)
    # moto hands over a str, bytes or an already-parsed dict depending on the caller.
    if isinstance(event, bytes | bytearray):
        event = event.decode("utf-8")
    elif not isinstance(event, str):
        event = json.dumps(event if event is not None else {})
    return state.runtime.invoke(self.function_name, event or "{}")


def _register_created_function(function: LambdaFunction) -> None:
    """Hand a Python function created with a zip to the runtime the first time it runs."""
    knows = getattr(state.runtime, "knows", None)
    register_package = getattr(state.runtime, "register_package", None)
    if knows is None or register_package is None or knows(function.function_name):
        return
    if str(function.run_time).startswith("python") and function.code_bytes:
        register_package(
            function.function_name,
            function.code_bytes,
            str(function.handler),
            {str(k): str(v) for k, v in (function.environment_vars or {}).items()},
            float(function.timeout),
            int(function.memory_size),
        )


# ----------------------------------------------------------------- 29. Invoke
LOG_TAIL_BYTES = 4096  # what LogType Tail returns: the last 4 KB of the invocation's log


def _invoke(
    self: LambdaFunction, body: str | bytes, request_headers: Any, response_headers: Any
) -> bytes | str:
    """moto's LambdaFunction.invoke, except that the function gets the payload as it was
    sent (moto parses it, and a JSON null or string then reached the function as ``{}``
    or as text), and that the log tail is answered only for ``LogType: Tail``, as Lambda's
    log: its START, END and REPORT lines around what the function printed."""
    text = body.decode("utf-8") if isinstance(body, bytes | bytearray) else body
    if text:
        json.loads(text)  # an invalid payload fails as moto's own parsing fails
    started = time.monotonic()
    payload, errored, logs = self._invoke_lambda(event=text or "{}")
    duration_ms = (time.monotonic() - started) * 1000
    if errored:
        response_headers["x-amz-function-error"] = "Handled"
    if request_headers.get("x-amz-invocation-type", "RequestResponse") != "RequestResponse":
        return payload
    log_type = request_headers.get("X-Amz-Log-Type") or request_headers.get("x-amz-log-type")
    if str(log_type or "").lower() == "tail":
        tail = _log_tail(logs, duration_ms, int(self.memory_size))
        response_headers["x-amz-log-result"] = base64.b64encode(tail).decode("ascii")
    return payload.encode("utf-8")


def _log_tail(logs: str, duration_ms: float, memory_mb: int) -> bytes:
    request_id = str(uuid.uuid4())
    report = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {math.ceil(duration_ms)} ms\tMemory Size: {memory_mb} MB\t\n"
    )
    text = (
        f"START RequestId: {request_id} Version: $LATEST\n{logs}"
        f"END RequestId: {request_id}\n{report}"
    )
    return text.encode("utf-8")[-LOG_TAIL_BYTES:]


# ----------------------------------------------------------------- 30. unknown function
_UNQUALIFIED_ARN = re.compile(r"^arn:[^:]+:lambda:[^:]+:\d{12}:function:[^:]+$")


def _backend_invoke(
    self: LambdaBackend,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: Any,
) -> str | bytes | None:
    """An Invoke of a function that does not exist names the version it asked for, as
    Lambda's error does: ``Function not found: arn:...:function:name:$LATEST``."""
    try:
        result: str | bytes | None = state.originals["backend_invoke"](
            self, function_name, qualifier, body, headers, response_headers
        )
    except UnknownFunctionException as error:
        arn = error.message.removeprefix("Function not found: ")
        if qualifier is None and _UNQUALIFIED_ARN.match(arn):
            raise UnknownFunctionException(f"{arn}:$LATEST") from None
        raise
    return result


# ----------------------------------------------------------------- 70. updates reach the runtime
def _update_configuration(self: LambdaFunction, config_updates: dict[str, Any]) -> dict[str, Any]:
    """moto's UpdateFunctionConfiguration, and then the local runtime's: the function's new
    environment, timeout and memory, its sandboxes retired (the next invocation starts a fresh
    one, as on Lambda). moto only changed its own record, which nothing local runs from."""
    configuration: dict[str, Any] = state.originals["update_configuration"](self, config_updates)
    reconfigure = getattr(state.runtime, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(
            self.function_name,
            environment={str(k): str(v) for k, v in (self.environment_vars or {}).items()},
            timeout_seconds=float(self.timeout),
            memory_mb=int(self.memory_size),
        )
    return configuration


def _update_function_code(self: LambdaFunction, updated_spec: dict[str, Any]) -> dict[str, Any]:
    """moto's UpdateFunctionCode, and then the local runtime's: the new zip (if one was sent)
    for a function created with one, and its sandboxes retired."""
    configuration: dict[str, Any] = state.originals["update_function_code"](self, updated_spec)
    update_code = getattr(state.runtime, "update_code", None)
    if update_code is not None and not updated_spec.get("DryRun"):
        update_code(self.function_name, self.code_bytes if "ZipFile" in updated_spec else None)
    return configuration


def install() -> None:
    replace(LambdaFunction, "_invoke_lambda", _invoke_lambda)
    replace(LambdaFunction, "invoke", _invoke, "function_invoke")
    replace(LambdaBackend, "invoke", _backend_invoke, "backend_invoke")
    replace(LambdaFunction, "update_configuration", _update_configuration)
    replace(LambdaFunction, "update_function_code", _update_function_code)
