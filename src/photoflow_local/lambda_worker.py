"""One Lambda sandbox: a process that imports one function once and runs its invocations.

Started by the local Lambda service (lambdas.py) with the function's own
environment, as Lambda starts an execution environment: variables, Powertools'
per-process state and a crash stay inside it. It speaks over a
multiprocessing connection: an event JSON in; ("log", lines) out as the function
writes them (what it prints reaches the log as it happens, as on Lambda, not when the
invocation ends), then (payload JSON, errored, log text) with the invocation's whole
log. Kept free of moto and the local stack, so a sandbox starts fast.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any


@dataclass
class LambdaContext:
    """The context object handlers receive, as the Lambda runtime builds it."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: float
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    region: str = "us-east-1"
    account_id: str = "123456789012"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.log_group_name = f"/aws/lambda/{self.function_name}"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


# Where Lambda puts a function's code: its stack traces name the files there.
TASK_ROOT = "/var/task"


def error_payload(
    error_type: str,
    message: str,
    error: BaseException | None = None,
    *,
    request_id: str | None = None,
    code_dir: str | None = None,
) -> str:
    """The JSON Lambda returns for a failed invocation: the invocation's request id beside
    the error when the function raised it, as Lambda's Python runtime answers."""
    frames = traceback.extract_tb(error.__traceback__) if error else []
    # The function's frames only: not this runtime's own (Lambda's shows none of its own).
    stack = [_frame(f, code_dir) for f in frames if f.filename != __file__]
    payload: dict[str, Any] = {"errorMessage": message, "errorType": error_type}
    if request_id is not None:
        payload["requestId"] = request_id
    payload["stackTrace"] = stack
    return json.dumps(payload)


def _frame(frame: traceback.FrameSummary, code_dir: str | None = None) -> str:
    """A stack frame as Lambda shows it: the function's own files under /var/task, other
    paths relative to the code, never to this machine."""
    path = Path(frame.filename)
    if code_dir is not None and path.resolve().is_relative_to(code_dir):
        shown = f"{TASK_ROOT}/{path.resolve().relative_to(code_dir).as_posix()}"
    elif "site-packages" in path.parts:
        shown = "/".join(path.parts[path.parts.index("site-packages") + 1 :])
    elif path.is_relative_to(Path.cwd()):
        shown = path.relative_to(Path.cwd()).as_posix()
    else:
        shown = path.name
    return f'  File "{shown}", line {frame.lineno}, in {frame.name}\n    {frame.line or ""}\n'


LOG = "log"  # the tag of a message carrying log lines, ahead of an invocation's result


class _Capture(io.StringIO):
    """The sandbox's stdout: each whole line the function writes is sent on at once
    (("log", lines)); all of them are handed back with the result too."""

    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self.connection = connection
        self.pending = ""  # the start of a line not ended yet
        self.lock = threading.Lock()  # a function's threads may print too

    def write(self, text: str) -> int:
        with self.lock:
            written = super().write(text)
            lines, newline, self.pending = (self.pending + text).rpartition("\n")
            if newline:
                self.connection.send((LOG, lines + newline))
        return written

    def drain(self) -> str:
        """The text written since the last drain; a line left unended is sent on now."""
        with self.lock:
            if self.pending:
                self.connection.send((LOG, self.pending))
                self.pending = ""
            text = self.getvalue()
            self.seek(0)
            self.truncate(0)
        return text


def _load(code_dir: str, handler: str, module_name: str) -> Any:
    module_file, _, attribute = handler.rpartition(".")
    path = Path(code_dir) / (module_file.replace(".", "/") + ".py")
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return getattr(module, attribute)


def serve(
    connection: Connection,
    code_dir: str,
    handler: str,
    environment: dict[str, str],
    name: str,
    memory_mb: int,
    timeout_seconds: float,
) -> None:
    """The sandbox's main loop (the child process's entry point)."""
    os.environ.update(environment)
    capture = _Capture(connection)
    # Powertools' Logger binds stdout when it is created, at import; warnings go to stderr.
    sys.stdout = sys.stderr = capture
    region = environment.get("AWS_REGION", "us-east-1")
    try:
        entry = _load(code_dir, handler, f"photoflow_fn_{name.replace('-', '_')}")
    except BaseException as error:  # an init error: reported, then the sandbox is gone
        connection.send(
            (error_payload(type(error).__name__, str(error), error), True, capture.drain())
        )
        return
    connection.send(("ready", False, capture.drain()))
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        event = json.loads(message) if message else {}
        context = LambdaContext(name, memory_mb, timeout_seconds, region=region)
        try:
            reply = (_marshalled(entry(event, context)), False)
        except BaseException as error:  # the runtime reports every failure, as Lambda does
            failure = error_payload(
                type(error).__name__,
                str(error),
                error,
                request_id=context.aws_request_id,
                code_dir=str(Path(code_dir).resolve()),
            )
            reply = (failure, True)
        connection.send((*reply, capture.drain()))


def _marshalled(result: Any) -> str:
    """The function's result as Lambda's Python runtime sends it: bytes as they are (the
    function encoded them itself), anything else as JSON."""
    if isinstance(result, bytes | bytearray):
        return bytes(result).decode("utf-8", errors="replace")
    return json.dumps(result)
