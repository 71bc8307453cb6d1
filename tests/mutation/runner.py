"""Running the unit tests against mutants: one baseline run, then one forked child per mutant.

The baseline runs the unit tests once in this process with a line tracer on the core
modules, which tells, for every line, the tests that execute it and how long they
take. Every mutant is then tried in a child forked from this warmed-up process:
the child forgets the project's modules, imports them again with the mutated
module in place of the real one, and runs only the tests that execute the mutated
lines, fastest first, stopping at the first failure. A mutant at import level (a
constant, a default value) gets every test that executes any line of its module.

Forking keeps Pillow, pytest and the rest of the third-party world imported, so a
child starts in a fraction of a second; the mutant never touches the file system.
"""

from __future__ import annotations

import ast
import functools
import importlib.abc
import importlib.machinery
import importlib.util
import os
import re
import resource
import selectors
import signal
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

import pytest

from tests.mutation.mutants import Mutant, find_mutants, mutated_tree

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
# Modules re-imported by every child: the project's own, which may hold the mutant.
_PROJECT_PACKAGES = ("photoflow", "tests")
_IMPORTS_PHOTOFLOW = re.compile(r"^\s*(from|import)\s+photoflow(\.|\s)", re.MULTILINE)
# pytest's options for every run: quiet, no cache, no workers, the project's conftest
# left out (it starts the local stack's fixtures, which unit tests do not use).
_PYTEST_OPTIONS = ("-q", "-p", "no:cacheprovider", "-p", "no:xdist", "--noconftest")
# A mutant that makes a loop endless or a decoder allocate without bound is killed
# by these, not left to take the machine.
_MEMORY_LIMIT = 6 * 1024**3
_SLOWER_THAN_BASELINE = 4.0
_STARTUP_ALLOWANCE = 10.0


class BaselineFailed(RuntimeError):
    """The unit tests do not pass on the unmutated code: no mutant can be judged."""


@dataclass(frozen=True)
class CoreModule:
    """A module under mutation: its import name and its file."""

    name: str
    path: Path

    @property
    def shown(self) -> str:
        return str(self.path.relative_to(ROOT))

    @classmethod
    def at(cls, path: Path) -> CoreModule:
        relative = path.resolve().relative_to(SRC).with_suffix("")
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        return cls(".".join(parts), path.resolve())


@dataclass
class Baseline:
    """Which tests execute each traced line, and how long each test takes."""

    lines: dict[tuple[str, int], set[str]] = field(default_factory=lambda: defaultdict(set))
    durations: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    failures: list[str] = field(default_factory=list)
    files: dict[str, list[str]] = field(default_factory=dict)  # test file -> its node ids

    def tests_for(self, module: CoreModule, mutant: Mutant) -> list[str]:
        """The tests that can notice ``mutant``, fastest first.

        A change inside a function: the tests that executed its lines. Any other (a
        constant, a default, a decorator such as a dataclass's frozen=True, a cached
        function's body): every test, since a test can depend on it without running it.
        """
        path = str(module.path)
        if mutant.in_function:
            lines = range(mutant.line, mutant.end_line + 1)
            chosen = set().union(*(self.lines.get((path, n), set()) for n in lines))
        else:
            chosen = set(self.durations)
        return sorted(chosen, key=lambda test: (self.durations[test], test))

    def tests_of(self, module: CoreModule) -> set[str]:
        path = str(module.path)
        return set().union(*(tests for (file, _), tests in self.lines.items() if file == path))


@dataclass(frozen=True)
class Outcome:
    mutant: Mutant
    status: str  # "killed", "timeout", "survived", "uncovered", "equivalent"
    tests: int  # how many tests could notice it
    seconds: float = 0.0
    killer: str | None = None  # the test that failed


def unit_test_files(directory: Path) -> list[Path]:
    """The unit test files that import the core: the only ones that can cover it."""
    return sorted(
        path
        for path in directory.glob("test_*.py")
        if _IMPORTS_PHOTOFLOW.search(path.read_text(encoding="utf-8"))
    )


class _LineTracer:
    """A pytest plugin recording, per test, the lines of the core files it executes."""

    def __init__(self, files: Iterable[Path], baseline: Baseline) -> None:
        self.files = {str(path) for path in files}
        self.baseline = baseline
        self.current: str | None = None

    def _global(self, frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
        if frame.f_code.co_filename in self.files:
            return self._local
        return None

    def _local(self, frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
        if event == "line" and self.current is not None:
            self.baseline.lines[(frame.f_code.co_filename, frame.f_lineno)].add(self.current)
        return self._local

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Any:
        self.current = item.nodeid
        sys.settrace(self._global)
        threading.settrace(self._global)
        try:
            yield
        finally:
            sys.settrace(None)
            threading.settrace(None)
            self.current = None

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            self.baseline.files.setdefault(str(item.path), []).append(item.nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.baseline.durations[report.nodeid] += report.duration
        if report.failed:
            self.baseline.failures.append(report.nodeid)


def _memoise_test_photos() -> None:
    """Draw each test photo once, here, for the baseline and every child after it.

    The generator is deterministic (same arguments, same bytes) and its photos are
    immutable bytes; drawing them, HEIF encoding above all, is most of the unit tests'
    time. The generator imports nothing of the core, so children keep it, cache included.
    """
    from photoflow_local import samples

    draw = samples.make_photo
    drawn: dict[Any, bytes] = {}

    @functools.wraps(draw)
    def make_photo(*args: Any, **kwargs: Any) -> bytes:
        key = (args, tuple(sorted(kwargs.items())))
        try:
            return drawn[key]
        except TypeError:  # an argument that cannot be a key: draw it every time
            return draw(*args, **kwargs)
        except KeyError:
            drawn[key] = draw(*args, **kwargs)
            return drawn[key]

    samples.make_photo = make_photo


def run_baseline(test_files: Sequence[Path], modules: Sequence[CoreModule]) -> Baseline:
    """Run the unit tests once, here, tracing the core.

    A test that asserts its own speed may fail under the tracer; it is kept (its lines
    were executed all the same), and each module's control run, untraced, must pass.
    """
    _memoise_test_photos()
    baseline = Baseline()
    tracer = _LineTracer([m.path for m in modules], baseline)
    code = pytest.main([*map(str, test_files), *_PYTEST_OPTIONS], plugins=[tracer])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or not baseline.lines:
        raise BaselineFailed(f"the traced run of the unit tests failed (pytest exit {code})")
    _forget_project_modules()
    return baseline


def _forget_project_modules() -> None:
    """Drop the project's modules (and the local stack's that import them) from sys.modules."""
    for name, module in list(sys.modules.items()):
        top = name.partition(".")[0]
        if top in _PROJECT_PACKAGES:
            del sys.modules[name]
        elif top == "photoflow_local":
            source = getattr(module, "__file__", None)
            if source is None or _IMPORTS_PHOTOFLOW.search(Path(source).read_text("utf-8")):
                del sys.modules[name]


class _MutantFinder(importlib.abc.MetaPathFinder):
    """Serves one module from a code object instead of its file."""

    def __init__(self, module: CoreModule, code: CodeType) -> None:
        self.module = module
        self.code = code

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.module.name:
            return None
        package = self.module.path.name == "__init__.py"
        return importlib.util.spec_from_file_location(
            fullname,
            self.module.path,
            loader=_MutantLoader(fullname, str(self.module.path), self.code),
            submodule_search_locations=[str(self.module.path.parent)] if package else None,
        )


class _MutantLoader(importlib.machinery.SourceFileLoader):
    def __init__(self, fullname: str, path: str, code: CodeType) -> None:
        super().__init__(fullname, path)
        self.code = code

    def get_code(self, fullname: str) -> CodeType:
        return self.code


class _Select:
    """A pytest plugin keeping only the given tests, in the given order; it writes the
    test that fails to ``report`` (a pipe to the parent)."""

    def __init__(self, tests: Sequence[str], report: int) -> None:
        self.order = {test: position for position, test in enumerate(tests)}
        self.report = report

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        chosen = [item for item in items if item.nodeid in self.order]
        chosen.sort(key=lambda item: self.order[item.nodeid])
        items[:] = chosen

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            os.write(self.report, report.nodeid.encode() + b"\n")


def _child(module: CoreModule, tree: ast.Module | None, tests: Sequence[str], report: int) -> int:
    """In the forked child: import the (mutated) module afresh and run ``tests``."""
    os.setpgrp()  # a timed-out mutant is killed with whatever its tests started
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_LIMIT, _MEMORY_LIMIT))
    if tree is not None:
        code = compile(tree, str(module.path), "exec", dont_inherit=True)
        sys.meta_path.insert(0, _MutantFinder(module, code))
    files = sorted({test.partition("::")[0] for test in tests})
    return int(pytest.main([*files, *_PYTEST_OPTIONS, "-x"], plugins=[_Select(tests, report)]))


@dataclass
class _Running:
    job: Any
    pid: int
    pidfd: int
    report: int  # read end of the pipe the child names its failing test on
    started: float
    deadline: float


def run_in_children(
    jobs: Sequence[tuple[Any, CoreModule, ast.Module | None, Sequence[str], float]],
    workers: int,
    on_done: Callable[[Any, str, float, list[str]], None],
) -> None:
    """Run each (key, module, tree, tests, seconds) in a forked child, ``workers`` at once.

    ``on_done(key, result, elapsed, failed)`` gets "passed", "failed" (a test failed or
    could not be collected) or "timeout", the seconds the child took and the failed tests.
    Tests that killed an earlier mutant run first: a mutant is usually killed by the test
    that killed its neighbours, long before the slowest tests.
    """
    pending = list(reversed(jobs))
    running: dict[int, _Running] = {}
    selector = selectors.DefaultSelector()
    killers: list[str] = []

    def finish(run: _Running, *, timed_out: bool) -> None:
        for killer in _finish(run, selector, on_done, timed_out=timed_out):
            if killer in killers:
                killers.remove(killer)
            killers.insert(0, killer)

    try:
        while pending or running:
            while pending and len(running) < workers:
                key, module, tree, tests, seconds = pending.pop()
                chosen = set(tests)
                first = [test for test in killers if test in chosen]
                ordered = first + [test for test in tests if test not in first]
                sys.stdout.flush()
                sys.stderr.flush()
                report, write_end = os.pipe()
                pid = os.fork()
                if pid == 0:
                    status = 99
                    try:
                        os.close(report)
                        status = _child(module, tree, ordered, write_end)
                    finally:
                        os._exit(status)
                os.close(write_end)
                pidfd = os.pidfd_open(pid)
                now = time.monotonic()
                running[pid] = _Running(key, pid, pidfd, report, now, now + seconds)
                selector.register(pidfd, selectors.EVENT_READ, pid)
            wait = min(r.deadline for r in running.values()) - time.monotonic()
            for ready, _ in selector.select(timeout=max(wait, 0)):
                finish(running.pop(ready.data), timed_out=False)
            now = time.monotonic()
            for pid in [pid for pid, r in running.items() if r.deadline <= now]:
                _kill(pid)
                finish(running.pop(pid), timed_out=True)
    finally:
        for leftover in running.values():
            _kill(leftover.pid)
            os.waitpid(leftover.pid, 0)
            os.close(leftover.report)


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        os.kill(pid, signal.SIGKILL)


def _finish(
    run: _Running,
    selector: selectors.BaseSelector,
    on_done: Callable[[Any, str, float, list[str]], None],
    *,
    timed_out: bool,
) -> list[str]:
    """Reap the child, report its result; returns the tests that failed in it."""
    selector.unregister(run.pidfd)
    os.close(run.pidfd)
    _, status = os.waitpid(run.pid, 0)
    with os.fdopen(run.report, "rb") as report:
        failed = [line.decode() for line in report.read().splitlines()]
    code = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - run.started
    if timed_out:
        on_done(run.job, "timeout", elapsed, failed)
    elif code == 0:
        on_done(run.job, "passed", elapsed, failed)
    elif code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED, 99):
        raise RuntimeError(f"the mutation harness failed in a child (exit {code})")
    else:
        on_done(run.job, "failed", elapsed, failed)
    return failed


def deadline_for(baseline: Baseline, tests: Iterable[str]) -> float:
    return _STARTUP_ALLOWANCE + _SLOWER_THAN_BASELINE * sum(baseline.durations[t] for t in tests)


def mutants_of(module: CoreModule) -> tuple[str, list[Mutant]]:
    source = module.path.read_text(encoding="utf-8")
    return source, find_mutants(source)


def tree_of(source: str, mutant: Mutant) -> ast.Module:
    return mutated_tree(source, mutant.index)
