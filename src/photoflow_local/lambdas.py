"""The local Lambda service: each function runs in sandbox processes of its own.

Like Lambda's execution environments, a sandbox is a process started for one
function with that function's template Environment. It imports the function
once (its cold start) and then serves invocations one at a time; a function
gets up to ``max_concurrency`` sandboxes, so different functions (and the two
branches of a Parallel) run side by side on all cores, and nothing a function
does to its process (environment variables, Powertools' per-process state, a
crash) reaches another. A handler that outlives its Timeout is stopped and its
sandbox replaced (``Sandbox.Timedout``); a sandbox that dies mid-invocation is
reported as ``Runtime.ExitError``, as an out-of-memory kill is on Lambda.
What functions print goes to the log sink, never to the terminal, line by line as
they print it (a sandbox sends each line on at once), each line written whole and
flushed: a log file can be followed while the stack runs.
A function's configuration or code updated (``reconfigure``, ``update_code``) retires its
sandboxes, as Lambda retires execution environments after UpdateFunctionConfiguration or
UpdateFunctionCode: idle ones at once, busy ones when their invocation ends; the next
invocation starts a fresh one.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from photoflow_local.lambda_worker import LOG, error_payload, serve

# Failures of the sandbox rather than of the function's code: a handler past its
# Timeout, a process that died (killed, out of memory). Lambda writes them to the
# function's log itself; so does the local service, with the function's name and the
# input's id (the log here is shared by every function).
PLATFORM_ERRORS = ("Sandbox.Timedout", "Runtime.ExitError")
INIT_TIMEOUT_SECONDS = 60.0  # a cold start, imports included (Lambda allows 10 s of init)
_SPAWN = multiprocessing.get_context("spawn")  # a clean interpreter, not a copy of this one


@dataclass
class LocalFunction:
    name: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    timeout_seconds: float = 3
    memory_mb: int = 128
    max_concurrency: int = 2
    # Counts configuration and code updates: a sandbox started before the latest one retires.
    generation: int = field(default=0, repr=False)
    _idle: list[_Sandbox] = field(default_factory=list, repr=False)
    _slots: threading.Semaphore = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._slots = threading.Semaphore(self.max_concurrency)


@dataclass
class Invocation:
    function_name: str
    started: float
    duration_ms: float
    errored: bool
    error_type: str | None = None


def input_id(event: str) -> str | None:
    """What an invocation is about: the photo's id, the SQS messages' ids, the event's id."""
    try:
        document = json.loads(event) if event else None
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    photo = document.get("photo")
    if isinstance(photo, dict) and isinstance(photo.get("id"), str):
        return str(photo["id"])
    records = document.get("Records")
    if isinstance(records, list):
        ids = [str(r.get("messageId")) for r in records if isinstance(r, dict)]
        return ",".join(ids) or None
    found = document.get("id")
    return str(found) if found is not None else None


def platform_error_line(function_name: str, event: str, payload: str, error_type: str) -> str:
    """The local service's log line for a sandbox that timed out or died."""
    try:
        message = str(json.loads(payload).get("errorMessage", error_type))
    except ValueError:
        message = error_type
    line = {
        "level": "ERROR",
        "location": "local Lambda service",
        "message": message,
        "function_name": function_name,
        "error": error_type,
        "input_id": input_id(event),
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return json.dumps(line) + "\n"


class _Sandbox:
    """One process serving one function; ``on_log`` receives its log lines as they come."""

    def __init__(
        self,
        function: LocalFunction,
        environment_of: Callable[[LocalFunction], dict[str, str]],
        on_log: Callable[[str], None],
    ) -> None:
        self.on_log = on_log
        with function._lock:  # one configuration, whole, even while it is being updated
            environment = environment_of(function)
            self.generation = function.generation
            code_dir, memory_mb = function.code_dir, function.memory_mb
            timeout_seconds = function.timeout_seconds
        self.connection, child = _SPAWN.Pipe()
        self.process = _SPAWN.Process(
            target=serve,
            args=(
                child,
                str(code_dir),
                function.handler,
                environment,
                function.name,
                memory_mb,
                timeout_seconds,
            ),
            name=f"lambda-{function.name}",
            daemon=True,
        )
        self.process.start()
        child.close()
        self.initialized = False
        self.init_failure: tuple[str, str] | None = None  # (payload, logs)
        self.function_name = function.name
        self.busy = False  # serving an invocation (what a crash test kills)

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def _receive(self, timeout: float) -> tuple[str, bool, str] | None:
        """The sandbox's next answer within ``timeout`` seconds, its log lines passed on
        to ``on_log`` meanwhile; None when none came in time."""
        deadline = time.monotonic() + timeout
        while self.connection.poll(max(0.0, deadline - time.monotonic())):
            message = self.connection.recv()
            if message[0] == LOG and len(message) == 2:
                self.on_log(message[1])
                continue
            reply: tuple[str, bool, str] = message
            return reply
        return None

    def invoke(self, event: str, timeout: float) -> tuple[str, bool, str, str | None]:
        """(payload, errored, logs, error type). A sandbox that times out or dies is stopped."""
        self.busy = True
        try:
            return self._invoke(event, timeout)
        finally:
            self.busy = False

    def _invoke(self, event: str, timeout: float) -> tuple[str, bool, str, str | None]:
        logs = ""
        try:
            if not self.initialized:
                ready = self._receive(INIT_TIMEOUT_SECONDS)
                if ready is None:
                    return self._timed_out(logs, "the function's init timed out")
                status, errored, logs = ready
                self.initialized = True
                if errored:  # the init failed: every invocation would
                    self.stop()
                    return status, True, logs, json.loads(status).get("errorType")
            self.connection.send(event)
            reply = self._receive(timeout)
        except (EOFError, OSError):
            return self._exited(logs)
        if reply is None:
            return self._timed_out(logs, f"Task timed out after {timeout:.2f} seconds")
        payload, errored, more_logs = reply
        error_type = json.loads(payload).get("errorType") if errored else None
        return payload, errored, logs + more_logs, error_type

    def _timed_out(self, logs: str, message: str) -> tuple[str, bool, str, str]:
        self.stop()
        return error_payload("Sandbox.Timedout", message), True, logs, "Sandbox.Timedout"

    def _exited(self, logs: str) -> tuple[str, bool, str, str]:
        self.stop()
        message = f"Runtime exited with error: exit status {self.process.exitcode}"
        return error_payload("Runtime.ExitError", message), True, logs, "Runtime.ExitError"

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


class LambdaService:
    """The local Lambda service: registered functions, invoked in their own sandboxes."""

    def __init__(self, base_environment: dict[str, str], log_sink: TextIO | None = None) -> None:
        self.base_environment = base_environment
        self.log_sink = log_sink or io.StringIO()
        self.functions: dict[str, LocalFunction] = {}
        self.invocations: list[Invocation] = []
        self._log_lock = threading.Lock()
        self._sandboxes: list[_Sandbox] = []
        self._unpacked: list[Path] = []  # folders of functions created with a zip
        # Fault injection (soak runs, tests): given a function name and the invocation's event
        # (JSON text), an error type to fail with, or None.
        self.fault: Callable[[str, str], str | None] | None = None

    def register(self, function: LocalFunction) -> None:
        self.functions[function.name] = function

    def knows(self, function_name: str) -> bool:
        return function_name in self.functions

    def register_package(
        self,
        name: str,
        package: bytes,
        handler: str,
        environment: dict[str, str],
        timeout_seconds: float,
        memory_mb: int,
    ) -> None:
        """A function created through the Lambda API with a zip: its code unpacked into a
        folder of its own (removed when the service stops), then run like any other."""
        folder = self._unpack(package)
        self.register(LocalFunction(name, folder, handler, environment, timeout_seconds, memory_mb))

    def _unpack(self, package: bytes) -> Path:
        folder = Path(tempfile.mkdtemp(prefix="photoflow-function-"))
        self._unpacked.append(folder)
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            archive.extractall(folder)
        return folder

    def environment(self, function: LocalFunction) -> dict[str, str]:
        return {
            **self.base_environment,
            **function.environment,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        }

    def invoke(self, function_name: str, event: str) -> tuple[str, bool, str]:
        """Run one invocation: (payload JSON, errored, log text), as moto expects."""
        function = self.functions.get(function_name)
        if function is None:
            return (
                error_payload("ResourceNotFoundException", f"no function {function_name}"),
                True,
                "",
            )
        started = time.monotonic()
        injected = self.fault(function_name, event) if self.fault else None
        if injected:
            self.invocations.append(Invocation(function_name, started, 0.0, True, injected))
            return error_payload(injected, f"{injected} injected by the fault injector"), True, ""
        with function._slots:
            sandbox = self._sandbox_for(function)
            began = time.monotonic()  # after waiting for a free sandbox
            payload, errored, logs, error_type = sandbox.invoke(event, function.timeout_seconds)
            self._release(function, sandbox)
        self.invocations.append(
            Invocation(function_name, began, (time.monotonic() - began) * 1000, errored, error_type)
        )
        if error_type in PLATFORM_ERRORS:  # the function could not log it: Lambda does
            line = platform_error_line(function_name, event, payload, error_type)
            self.write_log(line)
            logs += line
        return payload, errored, logs

    def _release(self, function: LocalFunction, sandbox: _Sandbox) -> None:
        """A sandbox back to the idle ones after an invocation; one started before the
        function's latest update is stopped instead."""
        if not sandbox.alive:
            return
        with function._lock:
            current = sandbox.generation == function.generation
            if current:
                function._idle.append(sandbox)
        if not current:
            sandbox.stop()

    def reconfigure(
        self,
        function_name: str,
        *,
        environment: dict[str, str],
        timeout_seconds: float,
        memory_mb: int,
    ) -> None:
        """A function's new configuration (UpdateFunctionConfiguration): its sandboxes retire."""
        function = self.functions.get(function_name)
        if function is None:
            return
        with function._lock:
            function.environment = dict(environment)
            function.timeout_seconds = timeout_seconds
            function.memory_mb = memory_mb
        self._retire(function)

    def update_code(self, function_name: str, package: bytes | None) -> None:
        """A function's new code (UpdateFunctionCode): a function created with a zip gets the
        new zip unpacked; one run in place from its folder (the template's) reads the folder
        anew. Either way its sandboxes retire."""
        function = self.functions.get(function_name)
        if function is None:
            return
        if package is not None and function.code_dir in self._unpacked:
            folder = self._unpack(package)
            with function._lock:
                function.code_dir = folder
        self._retire(function)

    def _retire(self, function: LocalFunction) -> None:
        with function._lock:
            function.generation += 1
            idle, function._idle = function._idle, []
        for sandbox in idle:
            sandbox.stop()

    def write_log(self, lines: str) -> None:
        """Whole lines into the sink, at once: functions running side by side interleave
        by line, never within one, and a file sink holds each line as soon as it is written."""
        with self._log_lock:
            self.log_sink.write(lines)
            self.log_sink.flush()

    def _sandbox_for(self, function: LocalFunction) -> _Sandbox:
        with function._lock:
            if function._idle:
                return function._idle.pop()
        sandbox = _Sandbox(function, self.environment, self.write_log)
        # Keep track of live sandboxes only: timed-out and crashed ones are already stopped.
        self._sandboxes = [s for s in self._sandboxes if s.alive] + [sandbox]
        return sandbox

    def busy_sandboxes(self) -> list[_Sandbox]:
        """The live sandboxes serving an invocation right now."""
        return [s for s in list(self._sandboxes) if s.busy and s.alive]

    def warm(self, names: list[str] | None = None) -> None:
        """Start one sandbox per function ahead of the first invocation (their cold starts)."""
        for name in names or list(self.functions):
            function = self.functions[name]
            with function._lock:
                if function._idle:
                    continue
            sandbox = _Sandbox(function, self.environment, self.write_log)
            self._sandboxes.append(sandbox)
            self._release(function, sandbox)

    def stop(self) -> None:
        for sandbox in self._sandboxes:
            sandbox.stop()
        self._sandboxes.clear()
        for folder in self._unpacked:
            shutil.rmtree(folder, ignore_errors=True)
        self._unpacked.clear()
        for function in self.functions.values():
            function._idle.clear()
