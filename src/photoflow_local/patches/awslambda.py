"""Lambda (patches 1 and 22): functions run in the local runtime, not in Docker."""

from __future__ import annotations

import json
from typing import Any

from moto.awslambda.models import LambdaFunction

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


def install() -> None:
    replace(LambdaFunction, "_invoke_lambda", _invoke_lambda)
