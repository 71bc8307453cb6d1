"""The in-process Lambda runtime: environments, errors, timeouts."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from photoflow_local.lambdas import InProcessLambdas, LocalFunction

HANDLER = """
import os
import time

def handler(event, context):
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"seen": os.environ.get(event["read"]), "name": context.function_name}
"""


@pytest.fixture
def lambdas(tmp_path: Path) -> Iterator[InProcessLambdas]:
    saved = dict(os.environ)
    (tmp_path / "app.py").write_text(HANDLER)
    runtime = InProcessLambdas({"SHARED": "base"})
    runtime.register(
        LocalFunction("first", tmp_path, "app.handler", {"ONLY_FIRST": "1", "COLOUR": "red"}, 2)
    )
    runtime.register(LocalFunction("second", tmp_path, "app.handler", {"COLOUR": "blue"}, 2))
    runtime.prepare_environment()
    yield runtime
    os.environ.clear()
    os.environ.update(saved)


def invoke(runtime: InProcessLambdas, name: str, **event: object) -> tuple[dict[str, object], bool]:
    payload, errored, _ = runtime.invoke(name, json.dumps(event))
    return json.loads(payload), errored


def test_each_function_runs_with_its_own_values(lambdas: InProcessLambdas) -> None:
    assert invoke(lambdas, "first", read="COLOUR") == ({"seen": "red", "name": "first"}, False)
    assert invoke(lambdas, "second", read="COLOUR") == ({"seen": "blue", "name": "second"}, False)
    assert invoke(lambdas, "second", read="SHARED")[0]["seen"] == "base"


def test_an_exception_is_reported_by_its_class_name(lambdas: InProcessLambdas) -> None:
    payload, errored = invoke(lambdas, "first", read="COLOUR", fail=True)
    assert errored
    assert (payload["errorType"], payload["errorMessage"]) == ("ValueError", "asked to fail")
    assert not any('File "/' in line for line in payload["stackTrace"])  # no machine paths


def test_a_handler_over_its_timeout_is_a_sandbox_timeout(lambdas: InProcessLambdas) -> None:
    lambdas.functions["first"].timeout_seconds = 0.05
    payload, errored = invoke(lambdas, "first", read="COLOUR", sleep=1)
    assert errored
    assert payload["errorType"] == "Sandbox.Timedout"


def test_variables_are_never_deleted_under_other_threads(lambdas: InProcessLambdas) -> None:
    # Another thread reads the whole environment while functions come and go
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                {key: os.environ[key] for key in list(os.environ)}
            except KeyError as error:
                errors.append(error)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for index in range(200):
            invoke(lambdas, "first" if index % 2 else "second", read="COLOUR")
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert os.environ["ONLY_FIRST"] == "1"  # set once for all, never removed
