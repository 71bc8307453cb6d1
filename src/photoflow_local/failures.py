"""Expected failures of the photoflow command: one line each, and an exit status of their own.

A person (or a script) sees what happened and what to do, never a traceback;
``photoflow --debug`` shows the traceback as well. The exit statuses are listed in
``photoflow --help`` and in docs/local-stack.md.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # it ran, and something failed: an upload refused or FAILED, a difference
    USAGE = 2  # an option, argument or input file that cannot be used (Click's usage errors too)
    NO_STACK = 3  # no local stack runs here: none was started, or it stopped without cleaning up
    NOT_FOUND = 4  # no photo or execution by that id, name or ARN
    IN_USE = 5  # photoflow up: a local stack already runs here, or a port is taken
    BUG = 70  # an unexpected error (EX_SOFTWARE): please report it with --debug's traceback


EXIT_CODES_HELP = (
    "Exit status: 0 done; 1 something failed (an upload refused or FAILED, a difference);"
    " 2 usage; 3 no local stack runs here; 4 no such photo or execution;"
    " 5 a local stack already runs here or a port is taken; 70 an unexpected error."
    " --debug shows the traceback of any error."
)


class Failure(Exception):
    """An expected failure: what happened, what to do about it, and the exit status."""

    def __init__(self, what: str, todo: str | None = None, code: ExitCode = ExitCode.FAILED):
        super().__init__(what)
        self.what = what
        self.todo = todo
        self.code = code

    def line(self) -> str:
        return f"{self.what}: {self.todo}" if self.todo else self.what
