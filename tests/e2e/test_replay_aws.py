"""`photoflow replay --live` of an execution recorded on AWS, whose Task returns the whole
lambda:invoke result (tests/fixtures/invoke: its template; histories/aws: the history);
and where a replay's own stack logs, beside a stack running in the same directory."""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from photoflow_local.stack import LOCAL_CREDENTIALS
from tests.e2e.conftest import photoflow_up
from tests.support import ROOT, photoflow, poll

TEMPLATE = ROOT / "tests" / "fixtures" / "invoke" / "template.yaml"
HISTORY = ROOT / "tests" / "fixtures" / "histories" / "aws" / "invoke.history.json"


def test_a_live_replay_of_an_aws_history_with_a_task_is_identical(tmp_path: Path) -> None:
    # The recorded result carries AWS's ExecutedVersion, SdkHttpMetadata and
    # SdkResponseMetadata, with AWS's request id, trace id and date
    replayed = photoflow(tmp_path, "replay", "--live", "--template", str(TEMPLATE), str(HISTORY))

    # The local run answers the same fields (its own ids and date): no difference
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "replayed identically" in replayed.stdout
    assert "recorded: SUCCEEDED   replayed (live): SUCCEEDED" in replayed.stdout


def invoked_lines(log: Path) -> list[str]:
    """The identity function's lines in ``log``: one per invocation."""
    return [line for line in log.read_text().splitlines() if "identity invoked" in line]


def test_a_replay_logs_apart_from_the_stack_running_here(tmp_path: Path) -> None:
    # Given the fixture's stack running here, its function invoked once
    with photoflow_up(tmp_path, TEMPLATE) as state:
        functions = boto3.client(
            "lambda",
            endpoint_url=state["endpointUrl"],
            region_name="us-east-1",
            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        [name] = [
            function["FunctionName"]
            for function in functions.list_functions()["Functions"]
            if "Identity" in function["FunctionName"]
        ]
        functions.invoke(FunctionName=name, Payload=json.dumps({"from": "the running stack"}))

        # Then its line is in the stack's log file while the stack runs
        stack_log = tmp_path / ".local-stack" / "functions.log"
        poll(
            lambda: invoked_lines(stack_log) if stack_log.exists() else [],
            lambda lines: len(lines) == 1,
            timeout=30,
            what="the invocation's line in the running stack's log",
        )

        # When a replay runs here meanwhile (its own stack invokes the function once)
        replayed = photoflow(
            tmp_path, "replay", "--live", "--template", str(TEMPLATE), str(HISTORY)
        )
        assert replayed.returncode == 0, replayed.stdout + replayed.stderr
        assert "the replay's function logs: .local-stack/replay-functions.log" in replayed.stdout

        # Then the replay's line went to the replay's log, and the running stack's log
        # holds its own line only
        [replay_line] = invoked_lines(tmp_path / ".local-stack" / "replay-functions.log")
        assert "the running stack" not in replay_line
        [stack_line] = invoked_lines(stack_log)
        assert "the running stack" in stack_line
