"""RedriveExecution in the local engine (moto patch 23), through boto3 against moto in-process.

What AWS documents (API reference: RedriveExecution; Developer Guide: "Restarting state
machine executions with redrive") is what these tests expect.
"""

from __future__ import annotations

import datetime
import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from photoflow_local import patches
from photoflow_local.patches.stepfunctions import redrive
from tests.support import QUIET_SECONDS, poll
from tests.unit.test_patches import (  # what the patch tests set up moto in-process with
    _finished,
    _function,
    _machine,
    _queue,
    _task,
    no_local_stack_in_this_process,  # noqa: F401 - the same guard as the patch tests
)

AWS_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


class FlakyRuntime:
    """Lambda functions that answer ``{"done": <payload>}``, except that an invocation whose
    function and payload are in ``fail_once`` fails the first time (error ``Flaky``), and
    every invocation waits for ``gate``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.fail_once: set[str] = set()
        self.result_size = 0
        self.gate = threading.Event()
        self.gate.set()
        # Per function: a condition its invocations wait for (polled, at most 20 s).
        self.after: dict[str, Any] = {}

    def invoke(self, function_name: str, event: str) -> tuple[str, bool, str]:
        payload = json.loads(event) if event else None
        self.calls.append((function_name, payload))
        assert self.gate.wait(20), "the test never opened the gate"
        if function_name in self.after:
            poll(self.after[function_name], bool, timeout=20, what=f"{function_name}'s turn")
        key = f"{function_name}:{json.dumps(payload, sort_keys=True)}"
        if key in self.fail_once:
            self.fail_once.discard(key)
            return json.dumps({"errorType": "Flaky", "errorMessage": "once"}), True, ""
        if self.result_size:
            return json.dumps({"done": "x" * self.result_size}), False, ""
        return json.dumps({"done": payload}), False, ""

    def invoked(self, function_name: str) -> list[Any]:
        return [payload for name, payload in self.calls if name == function_name]


@pytest.fixture
def runtime() -> Iterator[FlakyRuntime]:
    flaky = FlakyRuntime()
    with (
        patches.apply(flaky, time_scale=0.001),
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
    ):
        yield flaky


def _events(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = sfn.get_execution_history(executionArn=arn, maxResults=1000)[
        "events"
    ]
    return events


def _after_redrive(events: list[dict[str, Any]], count: int = 1) -> list[dict[str, Any]]:
    """The events from the ``count``-th ExecutionRedriven on."""
    marks = [i for i, e in enumerate(events) if e["type"] == "ExecutionRedriven"]
    return events[marks[count - 1] :]


def _entered(events: list[dict[str, Any]]) -> list[str]:
    return [
        e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
    ]


def _failed(sfn: Any, machine: str, name: str, execution_input: Any = None) -> str:
    arn: str = sfn.start_execution(
        stateMachineArn=machine, name=name, input=json.dumps(execution_input or {})
    )["executionArn"]
    assert _finished(sfn, arn)["status"] == "FAILED"
    return arn


def _error_code(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def test_a_failed_execution_resumes_at_the_state_that_failed(runtime: FlakyRuntime) -> None:
    # Given an execution that failed in its second state, after a Pass that succeeded
    work = _function("work")
    runtime.fail_once.add('work:{"order": 7}')
    sfn, machine = _machine(
        {
            "StartAt": "Prepare",
            "States": {
                "Prepare": {"Type": "Pass", "Result": 7, "ResultPath": "$.order", "Next": "Work"},
                "Work": _task(work, ResultPath="$.work", OutputPath="$", Next="Done"),
                "Done": {"Type": "Pass", "Parameters": {"context.$": "$$.Execution"}, "End": True},
            },
        }
    )
    arn = _failed(sfn, machine, "resumes")
    first = sfn.describe_execution(executionArn=arn)
    runtime.gate.clear()

    # When it is redriven
    answer = sfn.redrive_execution(executionArn=arn, clientToken="first-redrive")

    # Then it runs again, same ARN, from the state that failed
    running = sfn.describe_execution(executionArn=arn)
    assert (running["status"], running["redriveCount"]) == ("RUNNING", 1)
    assert "stopDate" not in running and "error" not in running
    assert (running["redriveStatus"], running["redriveStatusReason"]) == (
        "NOT_REDRIVABLE",
        "Execution is RUNNING and cannot be redriven",
    )
    runtime.gate.set()
    ended = _finished(sfn, arn)
    assert (ended["status"], ended["redriveCount"]) == ("SUCCEEDED", 1)
    assert ended["redriveDate"] == answer["redriveDate"]
    assert ended["startDate"] == first["startDate"]
    assert runtime.invoked("work") == [{"order": 7}, {"order": 7}]

    events = _events(sfn, arn)
    assert _entered(events) == ["Prepare", "Work", "Work", "Done"]
    again = _after_redrive(events)
    assert [e["type"] for e in again] == [
        "ExecutionRedriven",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    failed_event = next(e for e in events if e["type"] == "ExecutionFailed")
    assert again[0]["executionRedrivenEventDetails"] == {"redriveCount": 1}
    assert again[0]["previousEventId"] == failed_event["id"]
    assert again[1]["previousEventId"] == again[0]["id"]
    assert json.loads(again[1]["stateEnteredEventDetails"]["input"]) == {"order": 7}

    context = json.loads(ended["output"])["context"]
    assert context["RedriveCount"] == 1
    assert re.fullmatch(AWS_TIME, context["RedriveTime"])
    assert (
        context["StartTime"]
        == first["startDate"].astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    )


def test_a_never_redriven_execution_has_no_redrive_time(runtime: FlakyRuntime) -> None:
    sfn, machine = _machine(
        {
            "StartAt": "Context",
            "States": {"Context": {"Type": "Pass", "Parameters": {"c.$": "$$"}, "End": True}},
        }
    )
    arn = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    context = json.loads(_finished(sfn, arn)["output"])["c"]["Execution"]
    assert context["RedriveCount"] == 0
    assert "RedriveTime" not in context


def test_a_parallel_reruns_only_the_branch_that_failed(runtime: FlakyRuntime) -> None:
    left, right = _function("left"), _function("right")
    runtime.fail_once.add("right:{}")
    branch = {"StartAt": "Call", "States": {"Call": _task(left, End=True)}}
    failing = {"StartAt": "Call", "States": {"Call": _task(right, End=True)}}
    sfn, machine = _machine(
        {
            "StartAt": "Both",
            "States": {"Both": {"Type": "Parallel", "Branches": [branch, failing], "End": True}},
        }
    )

    def left_ended() -> bool:  # the right branch fails once the left one has ended
        return any(
            event["type"] == "TaskStateExited"
            for execution in sfn.list_executions(stateMachineArn=machine)["executions"]
            for event in _events(sfn, execution["executionArn"])
        )

    runtime.after["right"] = left_ended
    arn = _failed(sfn, machine, "parallel")
    runtime.after.clear()

    sfn.redrive_execution(executionArn=arn)

    ended = _finished(sfn, arn)
    assert ended["status"] == "SUCCEEDED"
    assert json.loads(ended["output"]) == [{"done": {}}, {"done": {}}]
    assert (runtime.invoked("left"), runtime.invoked("right")) == ([{}], [{}, {}])
    again = _after_redrive(_events(sfn, arn))
    assert [e["type"] for e in again if "Parallel" in e["type"]] == [
        "ParallelStateEntered",
        "ParallelStateStarted",
        "ParallelStateSucceeded",
        "ParallelStateExited",
    ]
    assert _entered(again) == ["Both", "Call"]


def test_a_map_reruns_only_the_iterations_that_had_not_ended(runtime: FlakyRuntime) -> None:
    each = _function("each")
    runtime.fail_once.add("each:2")
    processor = {"StartAt": "Call", "States": {"Call": _task(each, End=True)}}
    sfn, machine = _machine(
        {
            "StartAt": "Items",
            "States": {
                "Items": {
                    "Type": "Map",
                    "MaxConcurrency": 1,
                    "ItemProcessor": processor,
                    "End": True,
                }
            },
        }
    )
    # One at a time: item 1 ends, item 2 fails, item 3 never starts
    arn = _failed(sfn, machine, "map", [1, 2, 3])
    assert runtime.invoked("each") == [1, 2]

    sfn.redrive_execution(executionArn=arn)

    ended = _finished(sfn, arn)
    assert ended["status"] == "SUCCEEDED"
    assert json.loads(ended["output"]) == [{"done": 1}, {"done": 2}, {"done": 3}]
    assert runtime.invoked("each") == [1, 2, 2, 3]
    again = _after_redrive(_events(sfn, arn))
    assert [
        e["mapIterationStartedEventDetails"]["index"]
        for e in again
        if "mapIterationStartedEventDetails" in e
    ] == [1, 2]
    assert next(e for e in again if e["type"] == "MapStateStarted")[
        "mapStateStartedEventDetails"
    ] == {"length": 3}


def test_a_parallel_that_failed_for_its_size_reruns_every_branch(runtime: FlakyRuntime) -> None:
    # Two branches of 150 KB each: the Parallel's result exceeds the 256 KB state limit
    left, right = _function("left"), _function("right")
    runtime.result_size = 150_000
    branches = [
        {"StartAt": "Call", "States": {"Call": _task(fn, End=True)}} for fn in (left, right)
    ]
    sfn, machine = _machine(
        {
            "StartAt": "Both",
            "States": {"Both": {"Type": "Parallel", "Branches": branches, "End": True}},
        }
    )
    arn = _failed(sfn, machine, "big")
    assert sfn.describe_execution(executionArn=arn)["error"] == "States.DataLimitExceeded"

    sfn.redrive_execution(executionArn=arn)

    assert _finished(sfn, arn)["error"] == "States.DataLimitExceeded"
    assert (len(runtime.invoked("left")), len(runtime.invoked("right"))) == (2, 2)


def test_variables_are_as_they_were_when_the_failed_state_was_entered(
    runtime: FlakyRuntime,
) -> None:
    work = _function("work")
    runtime.fail_once.add('work:{"total": 42}')
    sfn, machine = _machine(
        {
            "StartAt": "Remember",
            "States": {
                "Remember": {"Type": "Pass", "Assign": {"total": 42}, "Next": "Work"},
                "Work": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": work, "Payload": {"total.$": "$total"}},
                    "OutputPath": "$.Payload",
                    "End": True,
                },
            },
        }
    )
    arn = _failed(sfn, machine, "variables")

    sfn.redrive_execution(executionArn=arn)

    assert json.loads(_finished(sfn, arn)["output"]) == {"done": {"total": 42}}
    assert runtime.invoked("work") == [{"total": 42}, {"total": 42}]


def test_a_redrive_runs_the_definition_the_execution_started_with(runtime: FlakyRuntime) -> None:
    sfn, machine = _machine(
        {"StartAt": "Stop", "States": {"Stop": {"Type": "Fail", "Error": "Old", "Cause": "v1"}}}
    )
    arn = _failed(sfn, machine, "definition")
    sfn.update_state_machine(
        stateMachineArn=machine,
        definition=json.dumps({"StartAt": "Stop", "States": {"Stop": {"Type": "Succeed"}}}),
    )

    sfn.redrive_execution(executionArn=arn)

    # AWS: a redrive uses the original definition; the Fail state is entered and fails again
    ended = _finished(sfn, arn)
    assert (ended["status"], ended["error"], ended["redriveCount"]) == ("FAILED", "Old", 1)
    assert _entered(_after_redrive(_events(sfn, arn))) == ["Stop"]


def test_aborted_and_timed_out_executions_are_redriven_where_they_stopped(
    runtime: FlakyRuntime,
) -> None:
    # 1000 s of Wait is 1 s at this time scale; the state machine times out after 1 s
    pause = {"Type": "Wait", "Seconds": 1000, "End": True}
    sfn, stoppable = _machine({"StartAt": "Pause", "States": {"Pause": pause}}, name="Stoppable")
    sfn, slow = _machine(
        {"StartAt": "Pause", "TimeoutSeconds": 1, "States": {"Pause": {**pause, "Seconds": 5000}}},
        name="Slow",
    )
    aborted = sfn.start_execution(stateMachineArn=stoppable, input="{}")["executionArn"]
    timed_out = sfn.start_execution(stateMachineArn=slow, input="{}")["executionArn"]
    poll(lambda: _entered(_events(sfn, aborted)), bool, what="the Wait entered")
    sfn.stop_execution(executionArn=aborted)
    assert _finished(sfn, aborted)["status"] == "ABORTED"
    assert _finished(sfn, timed_out)["status"] == "TIMED_OUT"

    for arn in (aborted, timed_out):
        assert sfn.describe_execution(executionArn=arn)["redriveStatus"] == "REDRIVABLE"
        sfn.redrive_execution(executionArn=arn)

    assert _finished(sfn, aborted)["status"] == "SUCCEEDED"
    # The state machine's timeout starts again with the redrive: it times out again
    assert _finished(sfn, timed_out)["status"] == "TIMED_OUT"
    for arn in (aborted, timed_out):
        assert _entered(_after_redrive(_events(sfn, arn))) == ["Pause"]


def test_what_cannot_be_redriven_is_refused_with_aws_errors(
    runtime: FlakyRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    sfn, done = _machine({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}, name="Done")
    succeeded = sfn.start_execution(stateMachineArn=done, input="{}")["executionArn"]
    _finished(sfn, succeeded)
    assert _error_code(lambda: sfn.redrive_execution(executionArn=succeeded)) == (
        "ExecutionNotRedrivable",
        "Execution is SUCCEEDED and cannot be redriven",
    )

    unknown = succeeded + "-unknown"
    assert _error_code(lambda: sfn.redrive_execution(executionArn=unknown))[0] == (
        "ExecutionDoesNotExist"
    )

    runtime.gate.clear()
    sfn, waiting = _machine(
        {"StartAt": "Call", "States": {"Call": _task(_function("slow"), End=True)}}, name="Slow"
    )
    running = sfn.start_execution(stateMachineArn=waiting, input="{}")["executionArn"]
    assert _error_code(lambda: sfn.redrive_execution(executionArn=running)) == (
        "ExecutionNotRedrivable",
        "Execution is RUNNING and cannot be redriven",
    )
    runtime.gate.set()
    _finished(sfn, running)

    sfn, failing = _machine(
        {"StartAt": "Stop", "States": {"Stop": {"Type": "Fail", "Error": "E"}}}, name="Failing"
    )
    expired, counted, long = (_failed(sfn, failing, name) for name in ("old", "often", "long"))
    backend = stepfunctions_parser_backends["123456789012"]["us-east-1"]
    backend.describe_execution(expired).stop_date -= datetime.timedelta(days=15)
    assert _error_code(lambda: sfn.redrive_execution(executionArn=expired)) == (
        "ExecutionNotRedrivable",
        "Execution redrivable period exceeded",
    )
    described = sfn.describe_execution(executionArn=expired)
    assert (described["redriveStatus"], described["redriveStatusReason"]) == (
        "NOT_REDRIVABLE",
        "Execution redrivable period exceeded",
    )

    redrive.redrives_of(backend.describe_execution(counted)).count = 1000  # type: ignore[union-attr]
    assert _error_code(lambda: sfn.redrive_execution(executionArn=counted))[0] == (
        "ExecutionLimitExceeded"
    )

    monkeypatch.setattr(redrive, "HISTORY_EVENTS_LIMIT", 3)  # this history has 3 events
    assert _error_code(lambda: sfn.redrive_execution(executionArn=long)) == (
        "ExecutionNotRedrivable",
        "Execution history event limit exceeded",
    )


def test_an_express_execution_cannot_be_redriven(runtime: FlakyRuntime) -> None:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    machine = sfn.create_state_machine(
        name="Express",
        type="EXPRESS",
        roleArn="arn:aws:iam::123456789012:role/sfn",
        definition=json.dumps({"StartAt": "Stop", "States": {"Stop": {"Type": "Fail"}}}),
    )["stateMachineArn"]
    # An Express execution cannot be described (patch 55): it is refused by its ARN.
    arn = sfn.start_execution(stateMachineArn=machine, name="express")["executionArn"]
    assert _error_code(lambda: sfn.redrive_execution(executionArn=arn)) == (
        "ExecutionNotRedrivable",
        "Execution of an EXPRESS state machine cannot be redriven",
    )


def test_a_client_token_makes_a_repeated_redrive_one_redrive(runtime: FlakyRuntime) -> None:
    sfn, machine = _machine({"StartAt": "Stop", "States": {"Stop": {"Type": "Fail"}}})
    arn = _failed(sfn, machine, "token")

    first = sfn.redrive_execution(executionArn=arn, clientToken="same-token")
    _finished(sfn, arn)
    again = sfn.redrive_execution(executionArn=arn, clientToken="same-token")

    assert again["redriveDate"] == first["redriveDate"]
    assert sfn.describe_execution(executionArn=arn)["redriveCount"] == 1
    assert [e["type"] for e in _events(sfn, arn)].count("ExecutionRedriven") == 1
    code, _ = _error_code(lambda: sfn.redrive_execution(executionArn=arn, clientToken="a b"))
    assert code == "ValidationException"
    sfn.redrive_execution(executionArn=arn, clientToken="another-token")
    assert _finished(sfn, arn)["redriveCount"] == 2


def test_list_executions_filters_by_redrive_and_shows_redrive_fields(
    runtime: FlakyRuntime,
) -> None:
    sfn, machine = _machine({"StartAt": "Stop", "States": {"Stop": {"Type": "Fail"}}})
    redriven, left_alone = _failed(sfn, machine, "redriven"), _failed(sfn, machine, "alone")
    redrive_date = sfn.redrive_execution(executionArn=redriven)["redriveDate"]
    _finished(sfn, redriven)

    def listed(**filters: str) -> dict[str, dict[str, Any]]:
        items = sfn.list_executions(stateMachineArn=machine, **filters)["executions"]
        return {item["name"]: item for item in items}

    assert set(listed()) == {"redriven", "alone"}
    only_redriven = listed(redriveFilter="REDRIVEN")
    assert set(only_redriven) == {"redriven"}
    assert only_redriven["redriven"]["redriveCount"] == 1
    assert only_redriven["redriven"]["redriveDate"] == redrive_date
    not_redriven = listed(redriveFilter="NOT_REDRIVEN")
    assert set(not_redriven) == {"alone"}
    assert not_redriven["alone"]["redriveCount"] == 0
    assert "redriveDate" not in not_redriven["alone"]
    assert not_redriven["alone"]["executionArn"] == left_alone
    assert set(listed(statusFilter="FAILED", redriveFilter="REDRIVEN")) == {"redriven"}
    paged = sfn.list_executions(stateMachineArn=machine, maxResults=1)
    rest = sfn.list_executions(stateMachineArn=machine, maxResults=1, nextToken=paged["nextToken"])
    assert {paged["executions"][0]["name"], rest["executions"][0]["name"]} == {"redriven", "alone"}


def test_a_redrive_sends_status_change_events_with_the_redrive_fields(
    runtime: FlakyRuntime,
) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    events = boto3.client("events", region_name="us-east-1")
    queue, queue_arn = _queue(sqs, "statuses")
    work = _function("work")
    runtime.fail_once.add("work:{}")
    sfn, machine = _machine({"StartAt": "Work", "States": {"Work": _task(work, End=True)}})
    pattern = {"source": ["aws.states"], "detail": {"stateMachineArn": [machine]}}
    events.put_rule(Name="statuses", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="statuses", Targets=[{"Id": "q", "Arn": queue_arn}])
    arn = _failed(sfn, machine, "events")

    sfn.redrive_execution(executionArn=arn)
    _finished(sfn, arn)

    received: list[dict[str, Any]] = []

    def receive() -> list[dict[str, Any]]:
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            received.append(json.loads(message["Body"])["detail"])
        return received

    # three status changes, then a quiet period before counting: nothing more may arrive
    last = {"count": -1, "since": time.monotonic()}

    def quiet(got: list[dict[str, Any]]) -> bool:
        if len(got) != last["count"]:
            last.update(count=len(got), since=time.monotonic())
        return len(got) >= 3 and time.monotonic() - last["since"] >= QUIET_SECONDS

    poll(receive, quiet, what="three status changes, then none for a while")
    # (a standard queue keeps no order: in the order they happened)
    received.sort(key=lambda d: (d["redriveCount"], d["status"] != "RUNNING"))
    assert [
        (d["status"], d["redriveCount"], d["redriveStatus"], d["redriveStatusReason"])
        for d in received
    ] == [
        ("FAILED", 0, "REDRIVABLE", None),
        ("RUNNING", 1, "NOT_REDRIVABLE", "Execution is RUNNING and cannot be redriven"),
        ("SUCCEEDED", 1, "NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven"),
    ]
    assert received[0]["redriveDate"] is None
    assert received[1]["redriveDate"] == received[2]["redriveDate"] > received[0]["stopDate"]
    assert received[1]["stopDate"] is None and received[1]["startDate"] == received[0]["startDate"]
    assert list(received[1]) == [
        "executionArn",
        "stateMachineArn",
        "name",
        "status",
        "startDate",
        "stopDate",
        "input",
        "output",
        "stateMachineVersionArn",
        "stateMachineAliasArn",
        "redriveCount",
        "redriveDate",
        "redriveStatus",
        "redriveStatusReason",
        "inputDetails",
        "outputDetails",
        "error",
        "cause",
    ]
