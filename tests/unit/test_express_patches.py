"""Express workflows and execution logs (patches 54-59).

What is expected is what AWS answered in recordings of real AWS (LocalStack's Apache-2.0
snapshots: tests/aws/services/stepfunctions/v2/test_sfn_api_express.snapshot.json,
test_sfn_api.snapshot.json ``test_start_sync_execution``, logs/test_logs.snapshot.json).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from photoflow_local import patches
from photoflow_local.patches.stepfunctions import express
from tests.support import poll
from tests.unit.test_patches import ROLE, RecordingRuntime, no_local_stack_in_this_process

__all__ = ["no_local_stack_in_this_process"]  # autouse: no local stack in this process

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"a": 1}, "End": True}}}
FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Nope", "Cause": "why"}}}
EXPRESS_ARN = re.compile(
    r"^arn:aws:states:us-east-1:123456789012:express:Machine:one:"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
NOT_IN_CONTEXT = "Invalid Arn: 'Resource type not valid in this context: express'"
NOT_SUPPORTED = "This operation is not supported by this type of state machine"


@pytest.fixture
def aws() -> Iterator[None]:
    with (
        patches.apply(RecordingRuntime(), time_scale=0.001),
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
    ):
        yield


def _sfn() -> Any:
    # StartSyncExecution's endpoint has the host prefix "sync-", which moto's URLs lack.
    return boto3.client(
        "stepfunctions", region_name="us-east-1", config=Config(inject_host_prefix=False)
    )


def _log_group(name: str = "/states/machine") -> str:
    logs = boto3.client("logs", region_name="us-east-1")
    logs.create_log_group(logGroupName=name)
    return str(logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["arn"])


def _machine(
    definition: dict[str, Any],
    kind: str = "EXPRESS",
    level: str = "OFF",
    data: bool = False,
) -> str:
    request: dict[str, Any] = {
        "name": "Machine",
        "definition": json.dumps(definition),
        "roleArn": ROLE,
        "type": kind,
    }
    if level != "OFF":
        destination = {"cloudWatchLogsLogGroup": {"logGroupArn": _log_group()}}
        request["loggingConfiguration"] = {
            "level": level,
            "includeExecutionData": data,
            "destinations": [destination],
        }
    return str(_sfn().create_state_machine(**request)["stateMachineArn"])


def _logged(execution_arn: str, count: int) -> list[dict[str, Any]]:
    """The execution's ``count`` logged events, oldest first (bounded poll)."""
    logs = boto3.client("logs", region_name="us-east-1")

    def messages() -> list[dict[str, Any]]:
        events = logs.filter_log_events(logGroupName="/states/machine")["events"]
        found = [json.loads(event["message"]) for event in events]
        return [m for m in found if m["execution_arn"] == execution_arn]

    logged = poll(messages, lambda found: len(found) >= count, what=f"{count} logged events")
    return sorted(logged, key=lambda m: int(m["id"]))


def _error(call: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    status = response["ResponseMetadata"]["HTTPStatusCode"]
    return response["Error"]["Code"], response["Error"]["Message"], status


def test_an_express_execution_has_an_express_arn_and_a_name_in_use_starts_another(
    aws: None,
) -> None:
    machine = _machine(PASS)

    first = _sfn().start_execution(stateMachineArn=machine, name="one")["executionArn"]
    second = _sfn().start_execution(stateMachineArn=machine, name="one")["executionArn"]

    assert EXPRESS_ARN.match(first), first
    assert EXPRESS_ARN.match(second), second
    assert first != second


def test_a_standard_execution_keeps_its_arn_and_its_name(aws: None) -> None:
    machine = _machine(FAIL, kind="STANDARD")
    arn = _sfn().start_execution(stateMachineArn=machine, name="one")["executionArn"]
    poll(
        lambda: _sfn().describe_execution(executionArn=arn)["status"],
        lambda status: status != "RUNNING",
        what="the end of the execution",
    )

    assert arn == "arn:aws:states:us-east-1:123456789012:execution:Machine:one"
    assert _error(lambda: _sfn().start_execution(stateMachineArn=machine, name="one"))[0] == (
        "ExecutionAlreadyExists"
    )


def test_the_standard_execution_apis_refuse_express_executions_as_aws_does(aws: None) -> None:
    machine = _machine(PASS)
    arn = _sfn().start_execution(stateMachineArn=machine, name="one")["executionArn"]

    assert _error(lambda: _sfn().describe_execution(executionArn=arn)) == (
        "InvalidArn",
        NOT_IN_CONTEXT,
        400,
    )
    assert _error(lambda: _sfn().get_execution_history(executionArn=arn)) == (
        "InvalidArn",
        NOT_IN_CONTEXT,
        400,
    )
    assert _error(lambda: _sfn().stop_execution(executionArn=arn)) == (
        "InvalidArn",
        NOT_IN_CONTEXT,
        400,
    )
    assert _error(lambda: _sfn().list_executions(stateMachineArn=machine)) == (
        "StateMachineTypeNotSupported",
        NOT_SUPPORTED,
        400,
    )


def test_start_sync_execution_answers_as_aws_does(aws: None) -> None:
    machine = _machine(PASS)

    answer = _sfn().start_sync_execution(stateMachineArn=machine, name="one", input='{"x": 1}')

    assert EXPRESS_ARN.match(answer["executionArn"])
    assert answer["stateMachineArn"] == "arn:aws:states:us-east-1:123456789012:stateMachine:Machine"
    assert (answer["name"], answer["status"]) == ("one", "SUCCEEDED")
    assert (answer["input"], answer["output"]) == ('{"x":1}', '{"a":1}')
    assert answer["inputDetails"] == answer["outputDetails"] == {"included": True}
    assert answer["billingDetails"] == {
        "billedMemoryUsedInMB": 64,
        "billedDurationInMilliseconds": 100,
    }
    assert answer["startDate"] <= answer["stopDate"]
    assert "error" not in answer


def test_start_sync_execution_answers_a_failure_with_its_error_and_cause(aws: None) -> None:
    machine = _machine(FAIL)

    answer = _sfn().start_sync_execution(stateMachineArn=machine, name="one")

    assert (answer["status"], answer["error"], answer["cause"]) == ("FAILED", "Nope", "why")
    assert "output" not in answer


def test_start_sync_execution_refuses_a_standard_state_machine(aws: None) -> None:
    machine = _machine(PASS, kind="STANDARD")

    assert _error(lambda: _sfn().start_sync_execution(stateMachineArn=machine)) == (
        "StateMachineTypeNotSupported",
        NOT_SUPPORTED,
        400,
    )


def test_an_express_execution_sends_no_status_change_event(aws: None) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    events = boto3.client("events", region_name="us-east-1")
    queue = sqs.create_queue(QueueName="ended")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    pattern = {"source": ["aws.states"], "detail-type": [patches.STATUS_CHANGE]}
    events.put_rule(Name="ended", EventPattern=json.dumps(pattern))
    events.put_targets(
        Rule="ended", Targets=[{"Id": "q", "Arn": queue_arn["Attributes"]["QueueArn"]}]
    )
    express = _machine(FAIL)
    standard = _sfn().create_state_machine(
        name="Standard", definition=json.dumps(FAIL), roleArn=ROLE
    )["stateMachineArn"]

    _sfn().start_execution(stateMachineArn=express, name="one")
    _sfn().start_execution(stateMachineArn=standard, name="after")

    # Then: the Standard execution's event arrives, and nothing else in a quiet second after.
    received: list[str] = []
    quiet_since: list[float] = []

    def settled(batch: list[dict[str, Any]]) -> bool:
        received.extend(json.loads(m["Body"])["detail"]["executionArn"] for m in batch)
        if batch or not received:
            quiet_since[:] = [time.monotonic()]
        return bool(received) and time.monotonic() - quiet_since[0] >= 1.0

    poll(
        lambda: sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []),
        settled,
        what="the Standard execution's event, then quiet",
    )
    assert received == ["arn:aws:states:us-east-1:123456789012:execution:Standard:after"]


def test_level_all_with_execution_data_logs_every_event_as_aws_writes_it(aws: None) -> None:
    machine = _machine(PASS, level="ALL", data=True)

    arn = _sfn().start_sync_execution(stateMachineArn=machine, name="one")["executionArn"]

    logged = _logged(arn, 4)
    assert [list(event) for event in logged] == [
        [
            "id",
            "type",
            "details",
            "previous_event_id",
            "event_timestamp",
            "execution_arn",
            "redrive_count",
        ]
    ] * 4
    assert [(e["id"], e["type"], e["previous_event_id"]) for e in logged] == [
        ("1", "ExecutionStarted", "0"),
        ("2", "PassStateEntered", "0"),
        ("3", "PassStateExited", "2"),
        ("4", "ExecutionSucceeded", "3"),
    ]
    assert logged[0]["details"] == {
        "input": "{}",
        "inputDetails": {"truncated": False},
        "roleArn": ROLE,
    }
    assert logged[3]["details"] == {"output": '{"a":1}', "outputDetails": {"truncated": False}}
    assert {e["redrive_count"] for e in logged} == {"0"}
    assert all(re.fullmatch(r"\d{13}", e["event_timestamp"]) for e in logged)


def test_without_execution_data_the_log_leaves_out_inputs_and_outputs(aws: None) -> None:
    machine = _machine(PASS, level="ALL", data=False)

    arn = _sfn().start_sync_execution(stateMachineArn=machine, name="one")["executionArn"]

    logged = _logged(arn, 4)
    assert [e["details"] for e in logged] == [{"roleArn": ROLE}, {"name": "P"}, {"name": "P"}, {}]


def test_level_error_logs_the_failure_events_only(aws: None) -> None:
    machine = _machine(FAIL, level="ERROR", data=True)

    arn = _sfn().start_sync_execution(stateMachineArn=machine, name="one")["executionArn"]

    logged = _logged(arn, 2)
    assert [(e["id"], e["type"]) for e in logged] == [
        ("2", "FailStateEntered"),
        ("3", "ExecutionFailed"),
    ]
    assert logged[1]["details"] == {"error": "Nope", "cause": "why"}


def test_level_fatal_logs_the_execution_failure_only(aws: None) -> None:
    machine = _machine(FAIL, level="FATAL", data=False)

    arn = _sfn().start_sync_execution(stateMachineArn=machine, name="one")["executionArn"]

    logged = _logged(arn, 1)
    assert [(e["id"], e["type"], e["details"]) for e in logged] == [
        ("3", "ExecutionFailed", {"error": "Nope", "cause": "why"})
    ]


def test_a_standard_execution_logs_too(aws: None) -> None:
    machine = _machine(FAIL, kind="STANDARD", level="FATAL")

    arn = _sfn().start_execution(stateMachineArn=machine, name="one")["executionArn"]

    logged = _logged(arn, 1)
    assert (logged[0]["type"], logged[0]["execution_arn"]) == (
        "ExecutionFailed",
        "arn:aws:states:us-east-1:123456789012:execution:Machine:one",
    )


WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3, "End": True}}}


@pytest.fixture
def short_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Five minutes are real seconds, as a Standard execution's TimeoutSeconds: shortened
    here to a quarter of a second (the Wait below is not compressed: time scale 1)."""
    monkeypatch.setattr(express, "EXPRESS_MAX_SECONDS", 0.25)
    patches.set_time_scale(1.0)


def test_an_express_execution_times_out_at_its_time_limit(aws: None, short_limit: None) -> None:
    machine = _machine(WAIT, level="FATAL")

    answer = _sfn().start_sync_execution(stateMachineArn=machine, name="one")
    started = _sfn().start_execution(stateMachineArn=machine, name="two")["executionArn"]

    assert answer["status"] == "TIMED_OUT"
    assert "output" not in answer
    assert [e["type"] for e in _logged(started, 1)] == ["ExecutionTimedOut"]


def test_a_standard_execution_has_no_such_limit(aws: None, short_limit: None) -> None:
    machine = _machine(WAIT, kind="STANDARD")

    arn = _sfn().start_execution(stateMachineArn=machine, name="one")["executionArn"]

    ended = poll(
        lambda: _sfn().describe_execution(executionArn=arn)["status"],
        lambda status: status != "RUNNING",
        timeout=10,
        what="the end of the Standard execution",
    )
    assert ended == "SUCCEEDED"
