"""A real terminal for the tests: what a person sees when they run photoflow.

With tmux installed, each command runs in a window of a private tmux server (its own
socket, no configuration of the user's), 80 columns wide unless asked otherwise, and the
test reads the screen as tmux draws it. Without tmux, a pseudo-terminal of that size
runs the command and its output, without escape sequences, stands for the screen.
Either way the command sees a terminal: Rich draws for its width, Ctrl-C is a key.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import shlex
import shutil
import signal
import struct
import subprocess
import tempfile
import termios
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from tests.support import poll

TMUX = shutil.which("tmux")
ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]|\x1b[=>]")


class Window(Protocol):
    name: str

    def rows(self) -> list[str]:
        """The lines of the window as a person sees them, at most ``width`` characters each."""

    def text(self) -> str:
        """Everything shown, lines the terminal wrapped joined again."""

    def keys(self, *keys: str) -> None:
        """Type keys: tmux key names ("C-c", "Enter") or text."""

    def exit_status(self) -> int | None:
        """The command's exit status once it ended, else None."""

    def pid(self) -> int:
        """The command's process id."""


class Terminal:
    """Windows running commands in ``workdir`` with ``env``, ``width`` columns wide."""

    def __init__(self, workdir: Path, env: dict[str, str], width: int = 80) -> None:
        self.workdir = workdir
        self.env = {**env, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
        self.width = width
        self.height = 50
        # A socket path must be short (108 bytes): not under pytest's deep temporary folders.
        self._socket_dir = Path(tempfile.mkdtemp(prefix="pf-tmux-"))
        self.socket = self._socket_dir / "socket"
        self.windows: list[Window] = []
        self._tmux_started = False

    def run(self, name: str, *command: str) -> Window:
        window: Window
        if TMUX:
            window = self._tmux_window(name, command)
        else:
            window = PtyWindow(name, command, self.workdir, self.env, self.width, self.height)
        self.windows.append(window)
        return window

    def _tmux_window(self, name: str, command: tuple[str, ...]) -> Window:
        # `exec`: the window's process is the command itself (its pid, its exit status).
        shell_command = "exec " + shlex.join(command)
        if not self._tmux_started:
            config = self.workdir / "tmux.conf"
            config.write_text(
                "set -g remain-on-exit on\n"
                "set -g history-limit 20000\n"
                f"set -g default-size {self.width}x{self.height}\n"
                "set -g status off\n"
            )
            self._tmux(
                "-f",
                str(config),
                "new-session",
                "-d",
                "-s",
                "t",
                "-n",
                name,
                "-x",
                str(self.width),
                "-y",
                str(self.height),
                "-c",
                str(self.workdir),
                shell_command,
            )
            self._tmux_started = True
        else:
            self._tmux(
                "new-window", "-d", "-t", "t:", "-n", name, "-c", str(self.workdir), shell_command
            )
        return TmuxWindow(self, name)

    def _tmux(self, *args: str) -> str:
        assert TMUX
        done = subprocess.run(
            [TMUX, "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=30,
            check=True,
        )
        return done.stdout

    def close(self) -> None:
        for window in self.windows:
            if isinstance(window, PtyWindow):
                window.close()
        if self._tmux_started:
            with contextlib.suppress(subprocess.CalledProcessError):
                self._tmux("kill-server")
        shutil.rmtree(self._socket_dir, ignore_errors=True)


@contextlib.contextmanager
def terminal(workdir: Path, env: dict[str, str], width: int = 80) -> Iterator[Terminal]:
    opened = Terminal(workdir, env, width)
    try:
        yield opened
    finally:
        opened.close()


class TmuxWindow:
    def __init__(self, terminal: Terminal, name: str) -> None:
        self.terminal = terminal
        self.name = name
        self.target = f"t:{name}"

    def _capture(self, *options: str) -> str:
        return self.terminal._tmux(
            "capture-pane", "-p", *options, "-S", "-", "-E", "-", "-t", self.target
        )

    def rows(self) -> list[str]:
        return _shown(self._capture())

    def text(self) -> str:
        return "\n".join(_shown(self._capture("-J")))

    def keys(self, *keys: str) -> None:
        self.terminal._tmux("send-keys", "-t", self.target, *keys)

    def exit_status(self) -> int | None:
        dead, *status = self.terminal._tmux(
            "display-message", "-p", "-t", self.target, "#{pane_dead} #{pane_dead_status}"
        ).split()
        if dead != "1":
            return None
        if status:
            return int(status[0])
        # tmux 3.3 sometimes leaves an ended command unreaped (a zombie, so no status) when
        # several end while it is busy: the kernel still has the status.
        return _zombie_exit_status(self.pid())

    def pid(self) -> int:
        return int(self.terminal._tmux("display-message", "-p", "-t", self.target, "#{pane_pid}"))


class PtyWindow:
    """A command on a pseudo-terminal of its own (its controlling terminal, so Ctrl-C works)."""

    def __init__(
        self,
        name: str,
        command: tuple[str, ...],
        workdir: Path,
        env: dict[str, str],
        width: int,
        height: int,
    ) -> None:
        self.name = name
        self.width = width
        self._output = bytearray()
        self._status: int | None = None
        child, self.fd = pty.fork()
        if child == 0:  # pragma: no cover - the child becomes the command
            os.chdir(workdir)
            os.execvpe(command[0], list(command), {**env, "TERM": "xterm-256color"})
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        self._pid = child
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                _, status = os.waitpid(self._pid, 0)
                self._status = os.waitstatus_to_exitcode(status)
                return
            self._output.extend(chunk)

    def _lines(self) -> list[str]:
        shown = ESCAPES.sub("", self._output.decode("utf-8", "replace"))
        lines = []
        for line in shown.replace("\r\n", "\n").split("\n"):
            lines.append(line.rsplit("\r", 1)[-1].rstrip())  # a carriage return redraws
        return lines

    def rows(self) -> list[str]:
        return [
            line[start : start + self.width]
            for line in self._lines()
            for start in range(0, max(len(line), 1), self.width)
        ]

    def text(self) -> str:
        return "\n".join(self._lines())

    def keys(self, *keys: str) -> None:
        named = {"C-c": b"\x03", "Enter": b"\r"}
        for key in keys:
            os.write(self.fd, named.get(key, key.encode()))

    def exit_status(self) -> int | None:
        return self._status

    def pid(self) -> int:
        return self._pid

    def close(self) -> None:
        if self._status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            self._reader.join(timeout=10)
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _zombie_exit_status(pid: int) -> int | None:
    """The exit status of an ended, unreaped process (proc(5): the last field of stat is
    its wait status); None while it runs; -1 when tmux reaped it and has no status for it,
    as for a command a signal ended (tmux 3.3 does not say which signal)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return -1
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    if fields[0] != "Z":
        return None
    return os.waitstatus_to_exitcode(int(fields[-1]))


def _shown(captured: str) -> list[str]:
    """The lines of a capture without the blank rows below the output and tmux's own note
    that the command ended (remain-on-exit)."""
    rows = [row.rstrip() for row in captured.split("\n")]
    rows = [row for row in rows if not row.startswith("Pane is dead (status")]
    while rows and not rows[-1]:
        rows.pop()
    return rows


def wait_for(window: Window, text: str, timeout: float = 60.0) -> str:
    """The window's text once ``text`` shows in it; fails with the screen last seen."""
    return poll(
        window.text,
        lambda shown: text in shown,
        timeout=timeout,
        what=f"{text!r} in window {window.name}",
    )


def wait_for_exit(window: Window, timeout: float = 60.0) -> int:
    """The command's exit status once it ended; fails with the screen last seen."""
    poll(
        lambda: (window.exit_status(), window.text()),
        lambda seen: seen[0] is not None,
        timeout=timeout,
        what=f"the end of the command in window {window.name}",
    )
    status = window.exit_status()
    assert status is not None
    return status
