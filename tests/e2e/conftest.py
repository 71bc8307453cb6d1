"""Fixtures of the end-to-end tests: the local stack as `photoflow up` runs it."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import PHOTOFLOW, ROOT, command_env, poll


@contextlib.contextmanager
def photoflow_up(
    workdir: Path, template: Path, web: Path | None = None, parameters: str | None = None
) -> Iterator[dict[str, Any]]:
    """`photoflow up` in a process of its own, in ``workdir`` (with ``parameters`` as
    --parameter-overrides): its saved stack.json while it runs; on leaving, it is stopped
    and must have ended cleanly."""
    assert PHOTOFLOW
    command = [PHOTOFLOW, "up", "--template", str(template)]
    command += ["--parameter-overrides", parameters] if parameters else []
    command += ["--web", str(web)] if web else ["--web", str(workdir / "no-page")]
    # Port 0: the stack picks free ports itself and holds the API's until it binds it.
    command += ["--aws-port", "0", "--api-port", "0"]
    up = subprocess.Popen(
        command,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=command_env(workdir),
    )
    state = workdir / ".local-stack" / "stack.json"
    try:
        poll(lambda: state.exists() or up.poll() is not None, bool, timeout=60, what="photoflow up")
        assert up.poll() is None, up.stdout.read() if up.stdout else ""
        yield json.loads(state.read_text())
    finally:
        up.send_signal(signal.SIGTERM)
        output, _ = up.communicate(timeout=30)
    assert up.returncode == 0, output
    assert "AWS endpoint" in output and "API" in output
    if template == ROOT / "template.yaml":  # its user pool: a demo user, and how to sign in
        assert re.search(r"Sign in (on the page )?as demo with password \S{12,};", output)
    assert not state.exists()  # a stopped stack leaves no stale address behind


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """`photoflow up` on the project's template: its working directory and stack.json."""
    workdir = tmp_path_factory.mktemp("cli")
    with photoflow_up(workdir, ROOT / "template.yaml", ROOT / "web") as state:
        yield workdir, state
