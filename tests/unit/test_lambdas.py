"""The local Lambda service: sandbox processes per function, errors, timeouts, crashes."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from photoflow_local.lambdas import LambdaService, LocalFunction
from photoflow_local.running import run_log
from tests.support import poll

HANDLER = """
import os
import time

print("cold start of", os.environ["AWS_LAMBDA_FUNCTION_NAME"])
os.environ["TOUCHED_BY"] = os.environ["AWS_LAMBDA_FUNCTION_NAME"]

def handler(event, context):
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("fail"):
        raise ValueError("asked to fail")
    if event.get("crash"):
        os._exit(137)
    if event.get("bytes"):
        return event["bytes"].encode()
    if event.get("wait_for"):
        print("waiting for", event["wait_for"])
        import pathlib
        released = pathlib.Path(event["wait_for"])
        deadline = time.monotonic() + 30
        while not released.exists():
            if time.monotonic() > deadline:
                raise TimeoutError("never released")
            time.sleep(0.01)
        return {"released": True}
    return {
        "seen": os.environ.get(event.get("read", "")),
        "name": context.function_name,
        "pid": os.getpid(),
    }
"""


@pytest.fixture
def service(tmp_path: Path) -> Iterator[LambdaService]:
    (tmp_path / "app.py").write_text(HANDLER)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "app.py").write_text("raise RuntimeError('no config')\n")
    lambdas = LambdaService({"SHARED": "base"})
    lambdas.register(
        LocalFunction("first", tmp_path, "app.handler", {"ONLY_FIRST": "1", "COLOUR": "red"}, 5)
    )
    lambdas.register(LocalFunction("second", tmp_path, "app.handler", {"COLOUR": "blue"}, 5))
    lambdas.register(LocalFunction("broken", tmp_path / "broken", "app.handler", {}, 5))
    yield lambdas
    lambdas.stop()


def invoke(service: LambdaService, name: str, **event: object) -> tuple[dict[str, object], bool]:
    payload, errored, _ = service.invoke(name, json.dumps(event))
    return json.loads(payload), errored


def test_each_function_has_its_own_environment_and_process(service: LambdaService) -> None:
    first, _ = invoke(service, "first", read="COLOUR")
    second, _ = invoke(service, "second", read="COLOUR")
    assert (first["seen"], first["name"], second["seen"], second["name"]) == (
        "red",
        "first",
        "blue",
        "second",
    )
    assert first["pid"] != second["pid"]
    assert invoke(service, "second", read="ONLY_FIRST")[0]["seen"] is None
    assert invoke(service, "second", read="TOUCHED_BY")[0]["seen"] == "second"  # no leak from first
    assert invoke(service, "first", read="SHARED")[0]["seen"] == "base"


def test_warm_invocations_reuse_the_sandbox_and_logs_reach_the_sink(service: LambdaService) -> None:
    pids = {invoke(service, "first")[0]["pid"] for _ in range(3)}
    assert len(pids) == 1
    assert service.log_sink.getvalue().count("cold start of first") == 1  # type: ignore[attr-defined]


def test_an_exception_is_reported_by_its_class_name(service: LambdaService) -> None:
    payload, errored = invoke(service, "first", fail=True)
    assert errored
    assert (payload["errorType"], payload["errorMessage"]) == ("ValueError", "asked to fail")
    # As Lambda's Python runtime answers: the invocation's request id, the function's own
    # files where Lambda puts them, never a path of this machine.
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", str(payload["requestId"]))
    assert list(payload) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert payload["stackTrace"] == [
        '  File "/var/task/app.py", line 12, in handler\n    raise ValueError("asked to fail")\n'
    ]


def test_bytes_a_function_returns_are_its_payload_as_they_are(service: LambdaService) -> None:
    payload, errored, _ = service.invoke("first", json.dumps({"bytes": '"HelloWorld!"'}))
    assert (payload, errored) == ('"HelloWorld!"', False)


def test_an_init_error_fails_the_invocation_with_its_name(service: LambdaService) -> None:
    payload, errored = invoke(service, "broken")
    assert errored
    assert (payload["errorType"], payload["errorMessage"]) == ("RuntimeError", "no config")


def test_a_handler_over_its_timeout_is_stopped_and_replaced(service: LambdaService) -> None:
    before = invoke(service, "first")[0]["pid"]
    service.functions["first"].timeout_seconds = 0.3
    started = time.monotonic()
    payload, errored = invoke(service, "first", sleep=30)
    assert errored
    assert payload["errorType"] == "Sandbox.Timedout"
    assert time.monotonic() - started < 10
    service.functions["first"].timeout_seconds = 5
    after, errored = invoke(service, "first")
    assert not errored
    assert after["pid"] != before  # a fresh sandbox


def test_a_sandbox_that_dies_is_a_runtime_exit_error(service: LambdaService) -> None:
    payload, errored = invoke(service, "second", crash=True)
    assert errored
    assert payload["errorType"] == "Runtime.ExitError"
    assert invoke(service, "second", read="COLOUR")[0]["seen"] == "blue"  # and the next one works


def test_a_line_is_in_the_log_file_while_its_invocation_still_runs(
    service: LambdaService, tmp_path: Path
) -> None:
    # Given the service logging to a file, as `photoflow up` opens it
    path = tmp_path / "logs" / "functions.log"
    release = tmp_path / "release"
    with run_log(path) as sink, ThreadPoolExecutor(1) as pool:
        service.log_sink = sink

        # When a function prints a line and then waits
        invocation = pool.submit(service.invoke, "first", json.dumps({"wait_for": str(release)}))

        # Then the line is in the file while the invocation still runs
        text = poll(
            path.read_text,
            lambda text: f"waiting for {release}" in text,
            timeout=30,
            what="the function's line in the log file",
        )
        assert not invocation.done()
        assert text.count(f"waiting for {release}") == 1
        release.touch()
        payload, errored, logs = invocation.result(timeout=30)

    # and the invocation's whole log is still handed back (moto's LogResult), written once
    assert (json.loads(payload), errored) == ({"released": True}, False)
    assert f"waiting for {release}\n" in logs
    assert path.read_text().count(f"waiting for {release}") == 1


def test_a_new_configuration_retires_the_sandboxes_idle_at_once_busy_when_done(
    service: LambdaService, tmp_path: Path
) -> None:
    # Given a sandbox busy with an invocation, and another one idle
    release = tmp_path / "release"
    with ThreadPoolExecutor(1) as pool:
        busy = pool.submit(service.invoke, "first", json.dumps({"wait_for": str(release)}))
        poll(service.busy_sandboxes, lambda busy: len(busy) == 1, what="the busy sandbox")
        [busy_sandbox] = service.busy_sandboxes()
        assert invoke(service, "first", read="COLOUR")[0]["seen"] == "red"
        [idle_sandbox] = service.functions["first"]._idle

        # When the function is given a new configuration (UpdateFunctionConfiguration)
        service.reconfigure(
            "first", environment={"COLOUR": "green"}, timeout_seconds=7, memory_mb=256
        )

        # Then the idle sandbox is gone at once, and the next invocation runs in a fresh one
        assert not idle_sandbox.alive
        fresh, errored = invoke(service, "first", read="COLOUR")
        assert (fresh["seen"], errored) == ("green", False)
        assert invoke(service, "first", read="ONLY_FIRST")[0]["seen"] is None  # replaced whole
        # and the busy one ends its invocation as it started it, and is not used again
        assert busy_sandbox.alive
        release.touch()
        assert json.loads(busy.result(timeout=30)[0]) == {"released": True}
    assert not busy_sandbox.alive
    assert {invoke(service, "first")[0]["pid"] for _ in range(3)} == {fresh["pid"]}
    assert (service.functions["first"].timeout_seconds, service.functions["first"].memory_mb) == (
        7,
        256,
    )


def test_each_run_has_its_own_log_and_keeps_the_previous_one(tmp_path: Path) -> None:
    path = tmp_path / "functions.log"
    with run_log(path) as first:
        first.write("first run\n")
    with run_log(path) as second:
        second.write("second run\n")

    assert path.read_text() == "second run\n"
    assert (tmp_path / "functions.previous.log").read_text() == "first run\n"
