"""Lambda functions run in-process, from their folders, with their template environment.

Each function is imported once (its cold start) as its own module, so every
function's ``app.py`` lives side by side. ``os.environ`` is process-wide, so a
function's Environment is applied under a lock while it starts and runs, the
way each Lambda sandbox has its own.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO


@dataclass
class LocalFunction:
    name: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    timeout_seconds: int = 3
    memory_mb: int = 128
    _entry: Callable[[Any, Any], Any] | None = field(default=None, repr=False)

    @property
    def module_name(self) -> str:
        return f"photoflow_fn_{self.name.replace('-', '_')}"

    def entry_point(self) -> Callable[[Any, Any], Any]:
        if self._entry is None:
            module_file, _, attribute = self.handler.rpartition(".")
            path = self.code_dir / (module_file.replace(".", "/") + ".py")
            spec = importlib.util.spec_from_file_location(self.module_name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path}")
            module: ModuleType = importlib.util.module_from_spec(spec)
            sys.modules[self.module_name] = module
            spec.loader.exec_module(module)
            self._entry = getattr(module, attribute)
        return self._entry


@dataclass
class LambdaContext:
    """The context object handlers receive, as the Lambda runtime builds it."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    region: str = "us-east-1"
    account_id: str = "123456789012"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.log_group_name = f"/aws/lambda/{self.function_name}"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class Invocation:
    function_name: str
    started: float
    duration_ms: float
    errored: bool
    error_type: str | None = None


class InProcessLambdas:
    """The local Lambda service: registered functions, invoked in this process."""

    def __init__(self, base_environment: dict[str, str], log_sink: TextIO | None = None) -> None:
        self.base_environment = base_environment
        self.log_sink = log_sink or io.StringIO()
        self.functions: dict[str, LocalFunction] = {}
        self.invocations: list[Invocation] = []
        self._lock = threading.RLock()
        self.region = base_environment.get("AWS_DEFAULT_REGION", "us-east-1")
        # Fault injection (soak runs): given a function name, an error type to fail with, or None.
        self.fault: Callable[[str], str | None] | None = None

    def register(self, function: LocalFunction) -> None:
        self.functions[function.name] = function

    def _variables(self, function: LocalFunction) -> dict[str, str]:
        return {
            **self.base_environment,
            **function.environment,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        }

    def prepare_environment(self) -> None:
        """Give the process every variable any function sets, once, before any runs.

        Other threads (the interpreter, the local API, boto3) read os.environ
        while a function runs; a variable deleted under them is a KeyError in
        the middle of their iteration. So a function's variables are set and
        reset, never deleted: the price is that each function also sees the
        variables only other functions declare.
        """
        for function in self.functions.values():
            for name, value in self._variables(function).items():
                os.environ.setdefault(name, value)

    @contextlib.contextmanager
    def _sandbox(self, function: LocalFunction) -> Iterator[None]:
        variables = self._variables(function)
        saved = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
        try:
            with contextlib.redirect_stdout(self.log_sink):
                yield
        finally:
            for name, value in saved.items():
                if value is not None:
                    os.environ[name] = value

    def invoke(self, function_name: str, event: str) -> tuple[str, bool, str]:
        """Run one invocation: (payload JSON, errored, log tail), as moto expects."""
        function = self.functions.get(function_name)
        if function is None:
            return (
                _error_payload("ResourceNotFoundException", f"no function {function_name}"),
                True,
                "",
            )
        payload = json.loads(event) if event else {}
        started = time.monotonic()
        injected = self.fault(function_name) if self.fault else None
        if injected:
            self.invocations.append(Invocation(function_name, started, 0.0, True, injected))
            return _error_payload(injected, f"{injected} injected by the fault injector"), True, ""
        with self._lock, self._sandbox(function):
            result, errored, error_type = self._run(function, payload)
        self.invocations.append(
            Invocation(
                function_name, started, (time.monotonic() - started) * 1000, errored, error_type
            )
        )
        return result, errored, ""

    def _run(self, function: LocalFunction, payload: Any) -> tuple[str, bool, str | None]:
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                entry = function.entry_point()
                context = LambdaContext(
                    function.name, function.memory_mb, function.timeout_seconds, region=self.region
                )
                outcome["result"] = entry(payload, context)
            except BaseException as error:  # the runtime reports every failure, as Lambda does
                outcome["error"] = error

        worker = threading.Thread(target=target, name=f"lambda-{function.name}", daemon=True)
        worker.start()
        worker.join(function.timeout_seconds)
        if worker.is_alive():
            message = f"Task timed out after {function.timeout_seconds:.2f} seconds"
            return _error_payload("Sandbox.Timedout", message), True, "Sandbox.Timedout"
        if "error" in outcome:
            error: BaseException = outcome["error"]
            error_type = type(error).__name__
            return _error_payload(error_type, str(error), error), True, error_type
        return json.dumps(outcome.get("result")), False, None


def _error_payload(error_type: str, message: str, error: BaseException | None = None) -> str:
    stack = [_frame(f) for f in traceback.extract_tb(error.__traceback__)] if error else []
    return json.dumps({"errorMessage": message, "errorType": error_type, "stackTrace": stack})


def _frame(frame: traceback.FrameSummary) -> str:
    """A stack frame as Lambda shows it, with paths relative to the code, not to this machine."""
    path = Path(frame.filename)
    if "site-packages" in path.parts:
        shown = "/".join(path.parts[path.parts.index("site-packages") + 1 :])
    elif path.is_relative_to(Path.cwd()):
        shown = path.relative_to(Path.cwd()).as_posix()
    else:
        shown = path.name
    return f'  File "{shown}", line {frame.lineno}, in {frame.name}\n    {frame.line or ""}\n'
