"""The local stack that runs in this directory, as the other photoflow commands find it.

``photoflow up`` (and ``photoflow demo`` while it keeps the stack up) holds an exclusive
lock on ``.local-stack/up.lock`` for as long as it runs and writes the stack's addresses
to ``.local-stack/stack.json``. The kernel releases the lock when the process ends, however
it ends (Ctrl-C, ``kill -9``, a crash), so a ``stack.json`` whose lock is free is stale:
the next ``photoflow up`` removes it, and every other command says so in one line instead
of trying addresses nobody answers.

``photoflow deploy`` reaches the running ``photoflow up`` through ``.local-stack/updates/``:
it writes a request file there, sends the process SIGHUP, and waits (bounded) for the
result file the process writes once the update is done. Only the user who runs the stack
can signal it or write in its directory, which is all the authentication a local stack
needs; a stack that does not serve updates (``photoflow demo``) says so in stack.json, and
is never sent a signal it would die of.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from photoflow_local.failures import ExitCode, Failure

STATE_DIR = Path(".local-stack")
STATE_FILE = STATE_DIR / "stack.json"
LOCK_FILE = STATE_DIR / "up.lock"
START_HINT = "start one with `photoflow up` (or `make up`)"
# What the running stack's functions log (`up`, `demo`), and what the stack that
# `replay` starts for itself logs: two files, so a replay never reads like another run.
FUNCTIONS_LOG = STATE_DIR / "functions.log"
DEBUG_LOG = STATE_DIR / "debug.log"
REPLAY_LOG = STATE_DIR / "replay-functions.log"
UPDATES_DIR = STATE_DIR / "updates"
SERVES_UPDATES = "servesUpdates"  # in stack.json: the process answers update requests


def run_log(path: Path) -> TextIO:
    """``path`` opened for this run alone, line-buffered (each line is in the file once
    written, for ``tail -f``); the previous run's file is kept as ``<name>.previous.log``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.replace(path.with_name(f"{path.stem}.previous{path.suffix}"))
    return path.open("w", encoding="utf-8", buffering=1)


@dataclass
class Claim:
    """This process runs the directory's local stack; ``stale`` is what a stack that ended
    without cleaning up had left (its pid), now removed."""

    lock: TextIO
    stale: int | None

    def publish(self, state: dict[str, Any]) -> None:
        """Tell the other commands where the stack answers."""
        STATE_FILE.write_text(json.dumps({**state, "pid": os.getpid()}, indent=2, default=str))


@contextlib.contextmanager
def claim() -> Iterator[Claim]:
    """Run the directory's local stack, or refuse at once when one already runs here."""
    STATE_DIR.mkdir(exist_ok=True)
    with LOCK_FILE.open("a+", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            owner = lock.read().strip() or "unknown"
            raise Failure(
                f"a local stack already runs here (pid {owner})",
                "use it, or stop it with Ctrl-C where it runs (or `kill "
                f"{owner}`) before starting another",
                ExitCode.IN_USE,
            ) from None
        stale = _stale_pid()
        STATE_FILE.unlink(missing_ok=True)
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        try:
            yield Claim(lock, stale)
        finally:
            STATE_FILE.unlink(missing_ok=True)
            lock.truncate(0)


def _stale_pid() -> int | None:
    if not STATE_FILE.exists():
        return None
    with contextlib.suppress(ValueError, OSError):
        pid = json.loads(STATE_FILE.read_text()).get("pid")
        return int(pid) if pid is not None else 0
    return 0


def is_running() -> bool:
    """Whether a process holds the directory's lock, i.e. a local stack runs here."""
    if not LOCK_FILE.exists():
        return False
    with LOCK_FILE.open("r", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
        return False


def saved() -> dict[str, Any]:
    """The addresses of the local stack running here; a Failure when none runs."""
    if not STATE_FILE.exists():
        raise Failure("no local stack is running here", START_HINT, ExitCode.NO_STACK)
    state: dict[str, Any] = json.loads(STATE_FILE.read_text())
    if not is_running():
        raise Failure(
            f"the local stack started here (pid {state.get('pid', 'unknown')}) stopped without"
            " cleaning up (what it held in memory is gone)",
            START_HINT,
            ExitCode.NO_STACK,
        )
    return state


def stack_state(stack: Any) -> dict[str, Any]:
    """What the other commands need of a started LocalStack: where it answers."""
    return {
        "endpointUrl": stack.endpoint_url,
        "apiUrl": stack.api_url if stack.apis else None,  # a template may define no REST API
        "outputs": stack.stack.outputs,
        "parameters": stack.stack.parameters,  # as deployed (`photoflow deploy` changes them)
    }


def wait_until_stopped() -> None:
    """Return on Ctrl-C or SIGTERM."""
    with Supervisor() as supervisor:
        supervisor.wait()


# An update request's answer: "code" (an ExitCode), "lines" (what changed, or what needs a
# restart), "error" (one line, when it failed).
UpdateHandler = Callable[[dict[str, Any]], dict[str, Any]]


class Supervisor:
    """The running stack's main thread: waits for Ctrl-C or SIGTERM, and answers update
    requests (SIGHUP) with ``on_update`` meanwhile, one at a time, on this thread. Enter it
    before publishing stack.json, so that no request comes before SIGHUP is handled; set
    ``on_update`` once the stack is up (a request before it waits until then)."""

    def __init__(self, serves_updates: bool = False) -> None:
        self.serves_updates = serves_updates
        self.on_update: UpdateHandler | None = None
        self._wake = threading.Event()
        self._stopping = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Supervisor:
        if self.serves_updates:
            UPDATES_DIR.mkdir(parents=True, exist_ok=True)
            for left in UPDATES_DIR.iterdir():  # what a stack that ended left unanswered
                left.unlink(missing_ok=True)
            self._previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, self._request)
        return self

    def __exit__(self, *_: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _stop(self, *_: object) -> None:
        self._stopping = True
        self._wake.set()

    def _request(self, *_: object) -> None:
        self._wake.set()

    def wait(self) -> None:
        """Until Ctrl-C or SIGTERM, answering update requests as they come."""
        previous = signal.signal(signal.SIGTERM, self._stop)
        try:
            with contextlib.suppress(KeyboardInterrupt):
                while not self._stopping:
                    self._wake.wait()
                    self._wake.clear()
                    if not self._stopping and self.on_update is not None:
                        self._answer(self.on_update)
        finally:
            signal.signal(signal.SIGTERM, previous)

    @staticmethod
    def _answer(on_update: UpdateHandler) -> None:
        for request_file in sorted(UPDATES_DIR.glob("*.request.json")):
            try:
                request = json.loads(request_file.read_text())
            except (OSError, ValueError):
                continue  # withdrawn meanwhile (its sender gave up)
            request_file.unlink(missing_ok=True)
            try:
                answer = on_update(request)
            except Exception as error:  # the stack keeps running whatever one update does
                answer = {
                    "code": int(ExitCode.BUG),
                    "error": f"unexpected error: {type(error).__name__}: {error}",
                }
            _write_atomically(
                request_file.with_name(request_file.name.replace(".request.", ".result.")),
                json.dumps(answer),
            )


def _write_atomically(path: Path, text: str) -> None:
    """``path`` holds ``text`` whole or not at all, for a reader polling for it."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    partial.replace(path)


def request_update(request: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Ask the stack running here to update itself; its answer, within ``timeout`` seconds."""
    state = saved()
    if not state.get(SERVES_UPDATES):
        raise Failure(
            f"the local stack running here (pid {state.get('pid')}) does not take updates"
            " (`photoflow demo` keeps its stack as it started it)",
            "run the stack with `photoflow up` to deploy to it",
        )
    request_id = uuid.uuid4().hex
    request_file = UPDATES_DIR / f"{request_id}.request.json"
    result_file = UPDATES_DIR / f"{request_id}.result.json"
    UPDATES_DIR.mkdir(parents=True, exist_ok=True)
    _write_atomically(request_file, json.dumps(request))
    os.kill(int(state["pid"]), signal.SIGHUP)
    deadline = time.monotonic() + timeout
    delay = 0.05
    while not result_file.exists():
        if time.monotonic() > deadline or not is_running():
            request_file.unlink(missing_ok=True)
            raise Failure(
                f"the local stack (pid {state.get('pid')}) did not answer the update in"
                f" {timeout:.0f} s"
                + (" (it may still apply it)" if is_running() else ": it stopped"),
                f"see what `photoflow up` printed, and {DEBUG_LOG}",
            )
        time.sleep(delay)  # a bounded poll of a file the other process writes
        delay = min(delay * 1.5, 0.5)
    answer: dict[str, Any] = json.loads(result_file.read_text())
    result_file.unlink(missing_ok=True)
    return answer
