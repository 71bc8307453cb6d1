"""The photoflow command in a real terminal, 80 columns wide: what a person sees.

Each test is a flow of a newcomer's first hour: start the stack, upload, list the
executions, look at one; a stack killed, or started twice, or on a taken port; the demo
that `make run` runs. Expected failures must be one line with what to do and their own
exit status (photoflow_local.failures), never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from photoflow_local.samples import truncated_jpeg
from tests.photos import make_photo
from tests.support import PHOTOFLOW, ROOT, command_env
from tests.terminal import PtyWindow, Terminal, Window, terminal, wait_for, wait_for_exit

UP = ("photoflow", "up", "--template", str(ROOT / "template.yaml"), "--web", str(ROOT / "web"))
ANY_PORTS = ("--aws-port", "0", "--api-port", "0")
READY = "Ctrl-C stops the stack."
PHOTO_ID = re.compile(r"\b[0-9a-f]{32}\b")
NO_STACK = "no local stack is running here: start one with `photoflow up` (or `make up`)"


def one_line(window: Window) -> str:
    """The command's only line of output (lines the terminal wrapped joined again)."""
    lines = window.text().splitlines()
    assert len(lines) == 1, window.text()
    return lines[0]


def run(term: Terminal, name: str, *command: str, timeout: float = 60.0) -> tuple[int, Window]:
    window = term.run(name, *command)
    return wait_for_exit(window, timeout), window


def env_for(workdir: Path) -> dict[str, str]:
    assert PHOTOFLOW, "the photoflow entry point is installed with the project"
    return command_env(workdir, PATH=f"{Path(PHOTOFLOW).parent}:/usr/bin:/bin")


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Terminal, Window]]:
    """`photoflow up` running in one window, as a person starts it; other windows for the rest."""
    workdir = tmp_path_factory.mktemp("terminal")
    with terminal(workdir, env_for(workdir)) as term:
        up = term.run("up", *UP, *ANY_PORTS)
        wait_for(up, READY, timeout=120)
        yield term, up
        up.keys("C-c")
        assert wait_for_exit(up, 60) == 0, up.text()


def test_executions_fit_the_terminal_and_history_takes_what_a_person_has(
    session: tuple[Terminal, Window],
) -> None:
    term, _ = session
    (term.workdir / "harbour.jpg").write_bytes(make_photo(900, 600))
    status, uploaded = run(term, "upload-1", "photoflow", "upload", "--wait", "harbour.jpg")
    assert status == 0, uploaded.text()
    [photo_id] = [
        m for row in uploaded.rows() if "harbour.jpg" in row for m in PHOTO_ID.findall(row)
    ]

    # The listing fits 80 columns and shows the whole photo id, with a time to the second
    status, listed = run(term, "executions", "photoflow", "executions")
    assert status == 0, listed.text()
    rows = listed.rows()
    assert rows[0].split() == ["photo", "or", "execution", "status", "started", "took"]
    [row] = [row for row in rows if photo_id in row]
    assert re.fullmatch(rf"{photo_id}\s+SUCCEEDED\s+\d\d:\d\d:\d\d\s+\d+(\.\d)? m?s", row), row
    assert all(len(row) <= 80 and "…" not in row for row in rows), rows

    # --json gives the full values: the name and the whole ARN
    status, as_json = run(term, "executions-json", "photoflow", "executions", "--json")
    assert status == 0
    [execution] = [e for e in json.loads(as_json.text()) if e["photoId"] == photo_id]
    name, arn = execution["name"], execution["executionArn"]
    assert name.startswith(f"photo-{photo_id}-")
    assert arn == f"arn:aws:states:us-east-1:123456789012:execution:PhotoWorkflow:{name}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", execution["startDate"])

    # history takes the photo id, the execution name or the whole ARN alike
    for number, reference in enumerate((photo_id, name, arn)):
        status, timeline = run(term, f"history-{number}", "photoflow", "history", reference)
        assert status == 0, timeline.text()
        shown = timeline.rows()
        assert shown[0].split() == ["state", "type", "ms", "attempts", "errors"]
        assert re.fullmatch(r"execution SUCCEEDED in \d+ ms", shown[-1]), shown
        assert any(row.startswith("MakeThumbnails ") for row in shown)
    # and so does status
    status, record = run(term, "status-by-name", "photoflow", "status", name)
    assert status == 0
    assert json.loads(record.text())["photoId"] == photo_id

    # What was cut off before is one line with what to do, exit status 4
    status, cut = run(term, "history-cut", "photoflow", "history", "arn:aws:states:us-")
    assert status == 4
    assert one_line(cut) == "no execution arn:aws:states:us-: `photoflow executions` lists them"
    # and --debug shows the traceback
    status, debug = run(term, "history-debug", "photoflow", "--debug", "history", "nonsense")
    assert status == 1
    assert "Traceback" in debug.text()


def test_upload_sends_every_file_and_names_each_error(session: tuple[Terminal, Window]) -> None:
    term, _ = session
    (term.workdir / "a.jpg").write_bytes(make_photo(640, 480))
    (term.workdir / "text.jpg").write_text("hello, this is a text file\n")
    (term.workdir / "b.jpg").write_bytes(make_photo(480, 640))
    (term.workdir / "broken.jpg").write_bytes(truncated_jpeg(2048, seed=53))

    status, window = run(
        term, "upload-3", "photoflow", "upload", "--wait", "a.jpg", "text.jpg", "b.jpg"
    )

    # Every file was sent; the refused one is named with its error; exit status 1
    assert status == 1, window.text()
    rows = window.rows()
    table = rows[rows.index(next(r for r in rows if r.split() == ["file", "photo", "status"])) :]
    assert re.fullmatch(r"a\.jpg\s+[0-9a-f]{32}\s+COMPLETED", table[1]), table
    assert re.fullmatch(r"text\.jpg\s+-\s+refused \(HTTP 415\)", table[2]), table
    assert re.fullmatch(r"b\.jpg\s+[0-9a-f]{32}\s+COMPLETED", table[3]), table
    text = window.text()
    assert (
        'text.jpg: UnsupportedFormat: not an image: it looks like text ("hello, this is a'
        ' text file"); accepted formats: JPEG, PNG, WEBP, GIF, TIFF, HEIF'
    ) in text
    assert text.splitlines()[-1] == "3 files: 2 COMPLETED, 1 refused (HTTP 415)"
    # the progress bars show sizes, no guessed speed
    assert "/s" not in text and " ? " not in text

    # A photo that FAILED is named with its error, and the exit status says so
    status, window = run(term, "upload-broken", "photoflow", "upload", "--wait", "broken.jpg")
    assert status == 1, window.text()
    text = window.text()
    assert re.search(r"^broken\.jpg\s+[0-9a-f]{32}\s+FAILED$", text, re.MULTILINE), text
    assert re.search(r"^broken\.jpg: CorruptImage: ", text, re.MULTILINE), text
    assert text.splitlines()[-1] == "1 file: 1 FAILED"


def test_help_names_what_each_option_takes_at_80_columns(tmp_path: Path) -> None:
    with terminal(tmp_path, env_for(tmp_path)) as term:
        shown = {}
        for command in ("upload", "status", "executions", "history"):
            status, window = run(term, command, "photoflow", command, "--help")
            assert status == 0
            shown[command] = window.text()
        # A command without a stack is one line and exit status 3, not a usage error
        status, no_stack = run(term, "no-stack", "photoflow", "status", "0" * 32)
        assert status == 3
        assert one_line(no_stack) == NO_STACK

    for text in shown.values():
        assert "<bool>" not in text and "list[Path]" not in text and "<str>" not in text, text
    assert "Usage: photoflow upload [OPTIONS] PHOTO..." in shown["upload"]
    assert re.search(r"│ \*\s+PHOTO\s+a photo id, or its execution's name or ARN", shown["status"])
    assert re.search(r"│ --limit\s+N\s+at most N executions per state machine", shown["executions"])
    assert re.search(r"│ --json\s+print JSON with full names and ARNs", shown["executions"])
    assert re.search(
        r"│ \*\s+PHOTO\s+a photo id, an execution name or an execution ARN", shown["history"]
    )


def test_a_second_stack_or_a_taken_port_is_refused_and_a_killed_one_cleaned_up(
    tmp_path: Path,
) -> None:
    # (one stack for both flows: each `photoflow up` costs seconds of deploying)
    with terminal(tmp_path, env_for(tmp_path)) as term:
        up = term.run("up", *UP, *ANY_PORTS)
        shown = wait_for(up, READY, timeout=120)
        assert "Everything is kept in memory: stopping the stack loses every photo." in shown
        pid = up.pid()

        # A second `photoflow up` in the same folder is refused at once
        started = time.monotonic()
        status, second = run(term, "second", *UP, *ANY_PORTS, timeout=30)
        assert status == 5, second.text()
        assert time.monotonic() - started < 15
        assert one_line(second) == (
            f"a local stack already runs here (pid {pid}): use it, or stop it with Ctrl-C"
            f" where it runs (or `kill {pid}`) before starting another"
        )

        # and so is a port another program listens on, elsewhere
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        with socket.socket() as other:
            other.bind(("127.0.0.1", 0))
            other.listen()
            port = other.getsockname()[1]
            for option in ("--aws-port", "--api-port"):
                started = time.monotonic()
                status, taken = run(
                    term,
                    f"taken{option.lstrip('-')}",
                    "sh",
                    "-c",
                    f"cd {elsewhere} && exec {' '.join(UP)} {option} {port}",
                    timeout=30,
                )
                assert status == 5, taken.text()
                assert time.monotonic() - started < 15
                assert taken.text().splitlines()[-1] == (
                    f"port {port} is taken by another program: stop it, or choose another port:"
                    f" photoflow up {option} 0 (any free port)"
                )

        # The first stack ran on
        (tmp_path / "a.jpg").write_bytes(make_photo(320, 240))
        status, uploaded = run(term, "upload", "photoflow", "upload", "--wait", "a.jpg")
        assert status == 0, uploaded.text()

        # When it is killed, as `kill -9` or a crash does
        os.kill(pid, signal.SIGKILL)
        wait_for_exit(up, 30)

        # Then each command says so in one line, with exit status 3
        stale = (
            f"the local stack started here (pid {pid}) stopped without cleaning up (what it"
            " held in memory is gone): start one with `photoflow up` (or `make up`)"
        )
        for command in ("status", "executions"):
            args = ("status", "0" * 32) if command == "status" else ("executions",)
            status, window = run(term, f"{command}-stale", "photoflow", *args)
            assert status == 3, window.text()
            assert one_line(window) == stale

        # and the next `photoflow up` removes what the killed one left, and starts afresh
        again = term.run("up-again", *UP, *ANY_PORTS)
        shown = wait_for(again, READY, timeout=120)
        assert shown.splitlines()[0] == (
            f"removed .local-stack/stack.json: the local stack that wrote it (pid {pid})"
            " stopped without cleaning up"
        )
        status, listed = run(term, "executions-after", "photoflow", "executions")
        assert status == 0
        assert one_line(listed) == "no executions yet: `photoflow upload PHOTO...` starts one"

        # and says "stopped" when stopped
        again.keys("C-c")
        assert wait_for_exit(again, 60) == 0
        assert again.text().splitlines()[-1].endswith("stopped")


def test_make_run_keeps_the_page_up_until_ctrl_c_in_a_terminal(tmp_path: Path) -> None:
    demo = (
        "photoflow",
        "demo",
        "--photos",
        str(ROOT / "events" / "photos"),
        "--template",
        str(ROOT / "template.yaml"),
    )
    (tmp_path / "web").symlink_to(ROOT / "web")  # the page, where `make run` finds it
    with terminal(tmp_path, env_for(tmp_path)) as term:
        window = term.run("demo", *demo)
        shown = wait_for(window, "Ctrl-C stops it.", timeout=180)
        assert "5 of 5 photos ended as expected" in shown
        [page] = re.findall(r"the page at (http://127\.0\.0\.1:\d+/)", shown)
        # and how to sign in to it
        assert re.search(r"Sign in\s+on\s+the\s+page\s+as\s+demo\s+with\s+password\s", shown)

        # The page it names answers, and so do the other commands, until Ctrl-C
        assert "PhotoFlow" in requests.get(page, timeout=10).text
        status, listed = run(term, "executions", "photoflow", "executions")
        assert status == 0
        assert sum(" SUCCEEDED " in row or " FAILED " in row for row in listed.rows()) == 5
        window.keys("C-c")
        assert wait_for_exit(window, 60) == 0
        assert window.text().splitlines()[-1].endswith("stopped")
        with pytest.raises(requests.ConnectionError):
            requests.get(page, timeout=10)

    # Without a terminal (CI, a pipe) it ends by itself and prints no address that is dead
    ended = subprocess.run(
        demo,
        cwd=tmp_path,
        env=env_for(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ended.returncode == 0, ended.stdout + ended.stderr
    assert "5 of 5 photos ended as expected" in ended.stdout
    assert "http://" not in ended.stdout
    assert ended.stdout.splitlines()[-1].startswith("stopped: the local stack ran for the demo")


def test_the_pseudo_terminal_stands_in_for_tmux(tmp_path: Path) -> None:
    window = PtyWindow("help", ("photoflow", "--help"), tmp_path, env_for(tmp_path), 80, 50)
    try:
        assert wait_for_exit(window, 60) == 0
        rows = window.rows()
        assert any(row.strip().startswith("Usage: photoflow [OPTIONS] COMMAND") for row in rows)
        assert all(len(row) <= 80 for row in rows)
    finally:
        window.close()
