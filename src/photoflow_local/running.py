"""The local stack that runs in this directory, as the other photoflow commands find it.

``photoflow up`` (and ``photoflow demo`` while it keeps the stack up) holds an exclusive
lock on ``.local-stack/up.lock`` for as long as it runs and writes the stack's addresses
to ``.local-stack/stack.json``. The kernel releases the lock when the process ends, however
it ends (Ctrl-C, ``kill -9``, a crash), so a ``stack.json`` whose lock is free is stale:
the next ``photoflow up`` removes it, and every other command says so in one line instead
of trying addresses nobody answers.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import threading
from collections.abc import Iterator
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
    }


def wait_until_stopped() -> None:
    """Return on Ctrl-C or SIGTERM."""
    stopped = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        with contextlib.suppress(KeyboardInterrupt):
            stopped.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
