"""One test per patch to moto's internals (photoflow_local.patches, a module per service)."""

from __future__ import annotations

import base64
import itertools
import json
import re
import time
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from photoflow_local import patches
from photoflow_local.history import build_timeline
from photoflow_local.patches import dynamodb as dynamodb_patches
from photoflow_local.patches.base import state
from photoflow_local.patches.stepfunctions import runtime as sfn_runtime
from tests.support import poll

ROLE = "arn:aws:iam::123456789012:role/sfn"


class RecordingRuntime:
    """A Lambda runtime that answers from a script, recording what it was sent."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.script: list[tuple[str, bool]] = []

    def invoke(self, function_name: str, event: Any) -> tuple[str, bool, str]:
        self.calls.append((function_name, json.loads(event) if event else None))
        if self.script:
            payload, errored = self.script.pop(0)
            return payload, errored, ""
        return json.dumps({"echo": json.loads(event) if event else None}), False, ""


@pytest.fixture(autouse=True)
def no_local_stack_in_this_process() -> None:
    """These tests reset moto's backends (mock_aws): a local stack running in this process
    would be broken under the tests that follow (see tests/conftest.py)."""
    from photoflow_local.lambdas import LambdaService

    assert not isinstance(state.runtime, LambdaService), (
        "a local stack was started in this process before the moto patch tests"
    )


@pytest.fixture
def runtime() -> Iterator[RecordingRuntime]:
    recording = RecordingRuntime()
    with (
        patches.apply(recording, time_scale=0.001),
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
    ):
        yield recording


def _moto_parts() -> dict[str, Any]:
    """Parts of moto that patches replace: a method, a staticmethod, a module's function
    (and one module that imported it), and an action moto does not have."""
    from moto.awslambda.models import LambdaFunction
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_dynamodb,
    )
    from moto.stepfunctions.parser.asl.utils import json_path
    from moto.stepfunctions.responses import StepFunctionResponse

    dynamodb = state_task_service_dynamodb.StateTaskServiceDynamoDB
    return {
        "invoke": vars(LambdaFunction)["_invoke_lambda"],
        "error cause": vars(dynamodb)["_error_cause_from_client_error"],
        "extract_json": json_path.extract_json,
        "test_state": vars(StepFunctionResponse).get("test_state"),
    }


def test_the_patches_are_removed_as_they_were_applied() -> None:
    assert not state.applied, "another test left the patches applied"
    pristine = _moto_parts()
    assert pristine["test_state"] is None
    assert type(pristine["error cause"]) is staticmethod
    recording = RecordingRuntime()
    with patches.apply(recording, time_scale=0.001):
        patched = _moto_parts()
        assert all(patched[part] is not pristine[part] for part in pristine), patched
        assert (state.applied, state.runtime, state.time_scale) == (True, recording, 0.001)
    assert _moto_parts() == pristine
    assert all(_moto_parts()[part] is pristine[part] for part in pristine)
    assert (state.applied, state.runtime, state.time_scale) == (False, None, 1.0)
    with patches.apply(recording):  # and installed again
        assert _moto_parts()["test_state"] is not None
    assert _moto_parts()["test_state"] is None


def test_an_apply_inside_another_puts_back_only_its_runtime() -> None:
    outer, inner = RecordingRuntime(), RecordingRuntime()
    with patches.apply(outer, time_scale=0.01):
        installed = _moto_parts()
        with patches.apply(inner, time_scale=0.5) as applied:
            assert (state.runtime, state.time_scale) == (inner, 0.5)
            assert applied.installed is False
        assert (state.runtime, state.time_scale, state.applied) == (outer, 0.01, True)
        assert _moto_parts() == installed
    assert not state.applied


def _function(name: str = "fn") -> str:
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    arn: str = boto3.client("lambda", region_name="us-east-1").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )["FunctionArn"]
    return arn


def _queue(sqs: Any, name: str) -> tuple[str, str]:
    """A new queue's URL and ARN."""
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return url, str(attributes["Attributes"]["QueueArn"])


def _machine(definition: dict[str, Any], name: str = "Machine") -> tuple[Any, str]:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    arn = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]
    return sfn, arn


def _finished(sfn: Any, execution_arn: str) -> dict[str, Any]:
    result: dict[str, Any] = poll(
        lambda: sfn.describe_execution(executionArn=execution_arn),
        lambda e: e["status"] != "RUNNING",
        timeout=20,
        what=f"end of {execution_arn}",
    )
    return result


def _map_state(**items: str) -> dict[str, Any]:
    """A final Map state over ``items`` (Items or ItemsPath) whose iterations pass."""
    processor = {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}}
    return {"Type": "Map", **items, "ItemProcessor": processor, "End": True}


def _task(function_arn: str, **extra: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
        "OutputPath": "$.Payload",
        **extra,
    }


def test_lambda_invocations_run_in_the_local_runtime(runtime: RecordingRuntime) -> None:
    _function("echo")
    response = boto3.client("lambda", region_name="us-east-1").invoke(
        FunctionName="echo", Payload=json.dumps({"hello": "world"})
    )
    assert json.loads(response["Payload"].read()) == {"echo": {"hello": "world"}}
    assert runtime.calls == [("echo", {"hello": "world"})]


def test_a_raised_exception_reaches_step_functions_by_its_class_name(
    runtime: RecordingRuntime,
) -> None:
    function_arn = _function("boom")
    runtime.script = [(json.dumps({"errorType": "CorruptImage", "errorMessage": "bad"}), True)]
    sfn, machine = _machine(
        {
            "StartAt": "Work",
            "States": {
                "Work": _task(
                    function_arn,
                    Catch=[{"ErrorEquals": ["CorruptImage"], "Next": "Caught"}],
                    End=True,
                ),
                "Caught": {"Type": "Pass", "End": True},
            },
        }
    )
    execution = sfn.start_execution(stateMachineArn=machine, name="catch", input="{}")
    assert _finished(sfn, execution["executionArn"])["status"] == "SUCCEEDED"
    events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    assert build_timeline(events).path == ["Work", "Caught"]


def test_start_execution_without_a_name_gets_a_unique_one(runtime: RecordingRuntime) -> None:
    sfn, machine = _machine({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
    first = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    second = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    assert first != second
    assert not first.endswith(":None")


def _mock_config(tmp_path: Path) -> Path:
    config = {
        "StateMachines": {
            "Machine": {
                "TestCases": {
                    "RetryPath": {"Work": "FailTwiceThenSucceed"},
                    "CatchPath": {"Work": "FailForGood"},
                }
            }
        },
        "MockedResponses": {
            "FailTwiceThenSucceed": {
                "0-1": {"Throw": {"Error": "Lambda.ServiceException", "Cause": "injected"}},
                "2": {"Return": {"StatusCode": 200, "Payload": {"mocked": True}}},
            },
            "FailForGood": {"0": {"Throw": {"Error": "CorruptImage", "Cause": "injected"}}},
        },
    }
    path = tmp_path / "mocks.json"
    path.write_text(json.dumps(config))
    return path


@pytest.mark.parametrize(
    ("test_case", "status", "path", "attempts"),
    [("RetryPath", "SUCCEEDED", ["Work"], 3), ("CatchPath", "SUCCEEDED", ["Work", "Caught"], 1)],
)
def test_mock_config_test_cases_drive_executions(
    runtime: RecordingRuntime,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    test_case: str,
    status: str,
    path: list[str],
    attempts: int,
) -> None:
    monkeypatch.setenv(patches.MOCK_CONFIG_ENV, str(_mock_config(tmp_path)))
    function_arn = _function("real")
    retry = [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 5, "MaxAttempts": 3}]
    catch = [{"ErrorEquals": ["CorruptImage"], "Next": "Caught"}]
    sfn, machine = _machine(
        {
            "StartAt": "Work",
            "States": {
                "Work": _task(function_arn, Retry=retry, Catch=catch, End=True),
                "Caught": {"Type": "Pass", "End": True},
            },
        }
    )
    execution = sfn.start_execution(
        stateMachineArn=f"{machine}#{test_case}", name=test_case, input="{}"
    )
    assert execution["executionArn"].endswith(f":Machine:{test_case}")
    assert _finished(sfn, execution["executionArn"])["status"] == status
    timeline = build_timeline(
        sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    )
    assert timeline.path == path
    assert timeline.states[0].attempts == attempts
    assert runtime.calls == []  # every response came from the mock config, none from the function


def test_mock_config_errors_are_clear(tmp_path: Path) -> None:
    config = json.loads(_mock_config(tmp_path).read_text())
    with pytest.raises(patches.MockConfigError, match="no test case 'Nope'"):
        patches.mock_test_case_from_config(config, "Machine", "Nope")
    with pytest.raises(patches.MockConfigError, match="no state machine 'Other'"):
        patches.mock_test_case_from_config(config, "Other", "RetryPath")
    config["MockedResponses"]["FailForGood"] = {"0": {"Throw": {"Cause": "no error"}}}
    with pytest.raises(patches.MockConfigError, match="has no Error"):
        patches.mock_test_case_from_config(config, "Machine", "CatchPath")
    config["MockedResponses"]["FailForGood"] = {"0": {"Return": {}}, "2": {"Return": {}}}
    with pytest.raises(patches.MockConfigError, match="consecutively"):
        patches.mock_test_case_from_config(config, "Machine", "CatchPath")


def test_time_scale_compresses_retry_intervals_and_waits(runtime: RecordingRuntime) -> None:
    function_arn = _function("flaky")
    runtime.script = [
        (json.dumps({"errorType": "Lambda.ServiceException", "errorMessage": "x"}), True)
    ]
    retry = [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 30, "MaxAttempts": 2}]
    sfn, machine = _machine(
        {
            "StartAt": "Pause",
            "States": {
                "Pause": {"Type": "Wait", "Seconds": 60, "Next": "Work"},
                "Work": _task(function_arn, Retry=retry, End=True),
            },
        }
    )
    started = time.monotonic()
    execution = sfn.start_execution(stateMachineArn=machine, name="scaled", input="{}")
    # 90 s of Wait and Retry interval at scale 1; the poll allows 20 s.
    assert _finished(sfn, execution["executionArn"])["status"] == "SUCCEEDED"
    assert time.monotonic() - started < 20
    assert len(runtime.calls) == 2


@pytest.mark.parametrize(
    ("path", "data", "expected"),
    [
        ("$[1].filters", [{"thumbnails": [1]}, {"filters": [2, 3]}], [2, 3]),
        ("$.a[0].b", {"a": [{"b": {"c": 1}}]}, {"c": 1}),
        ("$.a[0]", {"a": [{"b": 1}]}, {"b": 1}),
        ("$.a[*].b", {"a": [{"b": 1}, {"b": 2}]}, [1, 2]),
        ("$.a[*].b", {"a": [{"b": 1}]}, [1]),
    ],
)
def test_definite_paths_through_an_index_yield_the_value(
    path: str, data: Any, expected: Any
) -> None:
    with patches.apply(RecordingRuntime()):
        assert patches.extract_json(path, data) == expected


def test_parallel_results_are_selected_by_branch_without_extra_nesting(
    runtime: RecordingRuntime,
) -> None:
    sfn, machine = _machine(
        {
            "StartAt": "Both",
            "States": {
                "Both": {
                    "Type": "Parallel",
                    "Branches": [
                        {
                            "StartAt": "A",
                            "States": {"A": {"Type": "Pass", "Result": {"a": [1]}, "End": True}},
                        },
                        {
                            "StartAt": "B",
                            "States": {"B": {"Type": "Pass", "Result": {"b": [2]}, "End": True}},
                        },
                    ],
                    "ResultSelector": {"a.$": "$[0].a", "b.$": "$[1].b"},
                    "End": True,
                }
            },
        }
    )
    execution = sfn.start_execution(stateMachineArn=machine, name="parallel", input="{}")
    described = _finished(sfn, execution["executionArn"])
    assert json.loads(described["output"]) == {"a": [1], "b": [2]}


def test_ended_executions_send_status_change_events(runtime: RecordingRuntime) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    events = boto3.client("events", region_name="us-east-1")
    queue, queue_arn = _queue(sqs, "ended")
    pattern = {
        "source": ["aws.states"],
        "detail-type": [patches.STATUS_CHANGE],
        "detail": {"status": ["FAILED"]},
    }
    events.put_rule(Name="ended", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="ended", Targets=[{"Id": "q", "Arn": queue_arn}])
    sfn, machine = _machine(
        {"StartAt": "Stop", "States": {"Stop": {"Type": "Fail", "Error": "Nope", "Cause": "why"}}}
    )

    execution = sfn.start_execution(
        stateMachineArn=machine, name="ends", input='{"photo": {"id": "x"}}'
    )
    _finished(sfn, execution["executionArn"])

    messages = poll(
        lambda: sqs.receive_message(QueueUrl=queue).get("Messages", []), bool, what="event"
    )
    event = json.loads(messages[0]["Body"])
    assert event["source"] == "aws.states"
    assert event["detail"]["status"] == "FAILED"
    assert (event["detail"]["error"], event["detail"]["cause"]) == ("Nope", "why")
    assert event["detail"]["executionArn"] == execution["executionArn"]
    assert json.loads(event["detail"]["input"]) == {"photo": {"id": "x"}}


def test_mocked_service_integration_errors_keep_their_names(
    runtime: RecordingRuntime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = {
        "StateMachines": {"Machine": {"TestCases": {"Throttled": {"Write": "Throttled"}}}},
        "MockedResponses": {
            "Throttled": {
                "0": {
                    "Throw": {
                        "Error": "DynamoDB.ProvisionedThroughputExceededException",
                        "Cause": "x",
                    }
                }
            }
        },
    }
    path = tmp_path / "mocks.json"
    path.write_text(json.dumps(config))
    monkeypatch.setenv(patches.MOCK_CONFIG_ENV, str(path))
    sfn, machine = _machine(
        {
            "StartAt": "Write",
            "States": {
                "Write": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::dynamodb:updateItem",
                    "Parameters": {
                        "TableName": "t",
                        "Key": {"id": {"S": "1"}},
                        "UpdateExpression": "SET a = :a",
                        "ExpressionAttributeValues": {":a": {"S": "b"}},
                    },
                    "Catch": [
                        {
                            "ErrorEquals": ["DynamoDB.ProvisionedThroughputExceededException"],
                            "Next": "Caught",
                        }
                    ],
                    "End": True,
                },
                "Caught": {"Type": "Pass", "End": True},
            },
        }
    )
    execution = sfn.start_execution(
        stateMachineArn=f"{machine}#Throttled", name="throttled", input="{}"
    )
    _finished(sfn, execution["executionArn"])
    path_taken = build_timeline(
        sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    ).path
    assert path_taken == ["Write", "Caught"]


def test_replayed_map_iterations_get_their_own_recorded_results(runtime: RecordingRuntime) -> None:
    # Given a Map whose iterations returned different results when recorded
    from photoflow_local.replay import Recording, compare, mock_config

    function_arn = _function("per-item")
    runtime.script = [(json.dumps({"item": n}), False) for n in (10, 20, 30)]
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 1,
                "ItemProcessor": {
                    "StartAt": "Work",
                    "States": {"Work": _task(function_arn, End=True)},
                },
                "End": True,
            }
        },
    }
    sfn, machine = _machine(definition, name="MapMachine")
    first = sfn.start_execution(
        stateMachineArn=machine, name="recorded", input='{"items": [1, 2, 3]}'
    )
    assert json.loads(_finished(sfn, first["executionArn"])["output"]) == [
        {"item": 10},
        {"item": 20},
        {"item": 30},
    ]
    recorded = Recording.from_documents(
        sfn.get_execution_history(executionArn=first["executionArn"])
    )

    # When it is replayed from the recording (the function would now answer differently)
    runtime.script = []
    config, warnings = mock_config(recorded, "MapMachine")
    patches.register_test_case(config, "MapMachine", "Replay", ordered=True)
    again = sfn.start_execution(
        stateMachineArn=f"{machine}#Replay", name="replayed", input='{"items": [1, 2, 3]}'
    )
    described = _finished(sfn, again["executionArn"])

    # Then every iteration got its own recorded result, and nothing differs
    assert warnings == []
    assert json.loads(described["output"]) == [{"item": 10}, {"item": 20}, {"item": 30}]
    replayed = build_timeline(
        sfn.get_execution_history(executionArn=again["executionArn"])["events"]
    )
    assert compare(recorded.timeline, replayed) == []
    assert [s.name for s in replayed.canonical()].count("Work") == 3


def test_concurrent_starts_with_one_name_start_one_execution(runtime: RecordingRuntime) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from botocore.exceptions import ClientError

    sfn, machine = _machine({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})

    def start(index: int) -> str:
        try:
            return str(
                sfn.start_execution(
                    stateMachineArn=machine, name="once", input=json.dumps({"i": index})
                )["executionArn"]
            )
        except ClientError as error:
            return str(error.response["Error"]["Code"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(start, range(16)))
    listed = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert len(listed) == 1
    assert outcomes.count("ExecutionAlreadyExists") == 15


def test_the_interpreter_creates_one_client_per_service(
    runtime: RecordingRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[str] = []
    original = sfn_runtime.new_client

    def counting(region: str, service: str) -> Any:
        created.append(service)
        return original(region, service)

    monkeypatch.setattr(sfn_runtime, "new_client", counting)
    monkeypatch.setattr(sfn_runtime, "_clients", {})
    function_arn = _function("twice")
    sfn, machine = _machine(
        {
            "StartAt": "One",
            "States": {
                "One": _task(function_arn, Next="Two"),
                "Two": _task(function_arn, End=True),
            },
        }
    )
    for name in ("first", "second"):
        execution = sfn.start_execution(stateMachineArn=machine, name=name, input="{}")
        assert _finished(sfn, execution["executionArn"])["status"] == "SUCCEEDED"
    # Four Lambda tasks, each passed the execution role's credentials, as moto does.
    assert len(runtime.calls) == 4
    assert created == ["lambda"]


def test_the_interpreter_calls_the_services_in_process(
    runtime: RecordingRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.awsrequest import AWSPreparedRequest
    from moto.core import models as moto_models
    from moto.dynamodb.models import dynamodb_backends

    # As in server mode: mock_aws does not intercept, the functions' endpoint is set
    # (nothing listens there), so a request leaving the process could not be answered.
    monkeypatch.setattr(moto_models.botocore_stubber, "enabled", False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setattr(sfn_runtime, "_clients", {})
    client = patches.boto_client_for(region="us-east-1", service="dynamodb")
    client.create_table(
        TableName="records",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName="records", Item={"id": {"S": "a"}})
    table = dynamodb_backends["123456789012"]["us-east-1"].get_table("records")
    assert [item.hash_key.value for item in table.all_items()] == ["a"]

    stray = AWSPreparedRequest("GET", "https://example.invalid/", {}, None, False)
    with pytest.raises(
        RuntimeError, match=r"no local service answers GET https://example\.invalid/"
    ):
        sfn_runtime._in_process("before-send", stray)


def test_a_definition_is_parsed_once_and_executions_keep_their_own_state(
    runtime: RecordingRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    parsed: list[str] = []
    original = state.originals["_get_evaluation_entrypoint"]

    def counting(worker: Any) -> Any:
        parsed.append(worker._evaluation_details.state_machine_details.definition)
        return original(worker)

    monkeypatch.setitem(state.originals, "_get_evaluation_entrypoint", counting)
    monkeypatch.setattr(sfn_runtime, "_programs", OrderedDict())
    function_arn = _function("retried")
    failure = json.dumps({"errorType": "Lambda.ServiceException", "errorMessage": "x"})
    success = json.dumps({"ok": True})
    # Each execution fails once and succeeds on its one retry: a retry count kept on
    # the shared parsed definition instead of the execution would fail the second.
    runtime.script = [(failure, True), (success, False)] * 3
    retry = [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 1, "MaxAttempts": 1}]
    sfn, machine = _machine(
        {"StartAt": "Work", "States": {"Work": _task(function_arn, Retry=retry, End=True)}}
    )
    for index in range(3):
        execution = sfn.start_execution(stateMachineArn=machine, name=f"retry-{index}", input="{}")
        assert _finished(sfn, execution["executionArn"])["status"] == "SUCCEEDED"
    assert len(runtime.calls) == 6

    # Executions side by side on the one parsed definition each see their own input.
    def run(index: int) -> Any:
        arn = sfn.start_execution(
            stateMachineArn=machine, name=f"side-{index}", input=json.dumps({"i": index})
        )["executionArn"]
        return json.loads(_finished(sfn, arn)["output"])

    with ThreadPoolExecutor(max_workers=6) as pool:
        outputs = list(pool.map(run, range(6)))
    assert outputs == [{"echo": {"i": index}} for index in range(6)]
    assert len(parsed) == 1

    # Only the most recently used definitions are kept
    monkeypatch.setattr(sfn_runtime, "PARSED_DEFINITIONS_KEPT", 1)
    _, other = _machine({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}, "B")
    for name, arn in (("other", other), ("back", machine)):
        execution = sfn.start_execution(stateMachineArn=arn, name=name, input="{}")
        assert _finished(sfn, execution["executionArn"])["status"] == "SUCCEEDED"
    assert len(parsed) == 3
    assert len(sfn_runtime._programs) == 1


def test_jsonpaths_are_parsed_once() -> None:
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    with patches.apply(RecordingRuntime()):
        assert json_path.parse("$.photo.id") is json_path.parse("$.photo.id")
        assert result_path.parse("$.result") is result_path.parse("$.result")
        assert json_path.extract_json("$.photo.id", {"photo": {"id": "p1"}}) == "p1"


def test_the_server_lists_its_services_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    def no_listing(path: str) -> list[str]:
        raise AssertionError(f"listed {path} again")

    with patches.apply(RecordingRuntime()):
        assert "dynamodb" in backends.list_of_moto_modules()
        monkeypatch.setattr(os, "listdir", no_listing)
        dispatcher = DomainDispatcherApplication(create_backend_app)
        assert dispatcher.get_backend_for_host("dynamodb") == "dynamodb"
        assert dispatcher.get_backend_for_host("dynamodb.us-east-1.amazonaws.com") == "dynamodb"


def test_a_scheduled_rule_matches_no_event(runtime: RecordingRuntime) -> None:
    events = boto3.client("events", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue, queue_arn = _queue(sqs, "ended")
    # a schedule with a Lambda target (which moto cannot deliver an event to), put first
    events.put_rule(Name="sweep", ScheduleExpression="rate(15 minutes)")
    events.put_targets(Rule="sweep", Targets=[{"Id": "fn", "Arn": _function("sweeper")}])
    events.put_rule(Name="ended", EventPattern=json.dumps({"source": ["aws.states"]}))
    events.put_targets(Rule="ended", Targets=[{"Id": "q", "Arn": queue_arn}])

    events.put_events(
        Entries=[{"Source": "aws.states", "DetailType": "Status Change", "Detail": "{}"}]
    )

    # the event reaches the pattern's queue, and the schedule's function is not invoked
    messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages", [])
    assert [json.loads(m["Body"])["source"] for m in messages] == ["aws.states"]
    assert runtime.calls == []


def test_jsonata_and_variables_are_evaluated_with_aws_functions(runtime: RecordingRuntime) -> None:
    # Given a JSONata machine that assigns variables and reads them in the next state
    sfn, arn = _machine(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "Assign",
            "States": {
                "Assign": {
                    "Type": "Pass",
                    "Assign": {"doubled": "{% $states.input.n * 2 %}", "quote": 'say "hi"'},
                    "Next": "Use",
                },
                "Use": {
                    "Type": "Pass",
                    "Output": {
                        "doubled": "{% $doubled %}",
                        "quote": "{% $quote %}",
                        "hash": "{% $hash('abc', 'MD5') %}",
                        "chunks": "{% $partition([1, 2, 3], 2) %}",
                        "started": "{% $states.context.Execution.StartTime %}",
                    },
                    "End": True,
                },
            },
        }
    )

    # When it runs
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"n": 21}))
    described = _finished(sfn, execution["executionArn"])

    # Then every expression has its AWS value, times in AWS's format
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["doubled"] == 42
    assert output["quote"] == 'say "hi"'
    assert output["hash"] == "900150983cd24fb0d6963f7d28e17f72"
    assert output["chunks"] == [[1, 2], [3]]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", output["started"])


def test_describe_execution_answers_input_details_and_redrive_fields(
    runtime: RecordingRuntime,
) -> None:
    sfn, arn = _machine({"StartAt": "Fail", "States": {"Fail": {"Type": "Fail", "Error": "E"}}})
    failed = _finished(sfn, sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"])
    sfn, arn = _machine(
        {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}, name="Succeeds"
    )
    succeeded = _finished(sfn, sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"])

    assert failed["inputDetails"] == {"included": True}
    assert (failed["redriveCount"], failed["redriveStatus"]) == (0, "REDRIVABLE")
    assert "redriveStatusReason" not in failed
    assert succeeded["outputDetails"] == {"included": True}
    assert (succeeded["redriveStatus"], succeeded["redriveStatusReason"]) == (
        "NOT_REDRIVABLE",
        "Execution is SUCCEEDED and cannot be redriven",
    )


def test_the_context_object_has_aws_times_and_a_redrive_count(runtime: RecordingRuntime) -> None:
    sfn, arn = _machine(
        {
            "StartAt": "Context",
            "States": {"Context": {"Type": "Pass", "Parameters": {"c.$": "$$"}, "End": True}},
        }
    )
    described = _finished(sfn, sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"])

    context = json.loads(described["output"])["c"]
    aws_time = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    assert re.fullmatch(aws_time, context["Execution"]["StartTime"])
    assert re.fullmatch(aws_time, context["State"]["EnteredTime"])
    assert context["Execution"]["RedriveCount"] == 0


def test_an_evaluation_failure_follows_what_its_state_entered_after(
    runtime: RecordingRuntime,
) -> None:
    # Given a JSONata Map whose items are not an array, after a first state
    sfn, arn = _machine(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "First",
            "States": {
                "First": {"Type": "Pass", "Next": "Map"},
                "Map": _map_state(Items="{% 'not an array' %}"),
            },
        }
    )
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    assert _finished(sfn, execution)["status"] == "FAILED"

    # Then EvaluationFailed links to the event the Map's entered event links to
    events = sfn.get_execution_history(executionArn=execution)["events"]
    by_type = {event["type"]: event for event in events}
    entered, failed = by_type["MapStateEntered"], by_type["EvaluationFailed"]
    assert (entered["id"], entered["previousEventId"]) == (4, 3)
    assert (failed["id"], failed["previousEventId"]) == (5, 3)
    assert by_type["MapStateFailed"]["previousEventId"] == 5


@pytest.mark.parametrize(
    ("items", "shown"),
    [(True, "true"), (None, "null"), ({"foo": "bar"}, '{"foo":"bar"}'), ("text", '"text"')],
)
def test_a_map_over_no_array_shows_the_value_in_its_cause(
    runtime: RecordingRuntime, items: object, shown: str
) -> None:
    sfn, arn = _machine(
        {
            "StartAt": "Map",
            "States": {"Map": _map_state(ItemsPath="$.items")},
        }
    )
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"items": items}))

    described = _finished(sfn, execution["executionArn"])

    assert described["status"] == "FAILED"
    assert described["cause"].endswith(f"Map state input must be an array but was: {shown}")


def test_a_jsonata_wait_until_no_offset_date_time_fails_as_aws_records_it(
    runtime: RecordingRuntime,
) -> None:
    sfn, arn = _machine(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "Wait",
            "States": {
                "Wait": {"Type": "Wait", "Timestamp": "{% $states.input.at %}", "End": True}
            },
        }
    )
    execution = sfn.start_execution(
        stateMachineArn=arn, input=json.dumps({"at": "2016-12-05T21:29:29"})
    )["executionArn"]
    assert _finished(sfn, execution)["status"] == "FAILED"

    events = sfn.get_execution_history(executionArn=execution)["events"]
    assert [e["type"] for e in events] == [
        "ExecutionStarted",
        "WaitStateEntered",
        "EvaluationFailed",
        "ExecutionFailed",
    ]
    assert events[2]["previousEventId"] == 2
    assert events[2]["evaluationFailedEventDetails"] == {
        "error": "States.QueryEvaluationError",
        "cause": "An error occurred while executing the state 'Wait' (entered at the event id"
        " #2). The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time"
        " format string: 2016-12-05T21:29:29",
        "location": "Timestamp",
        "state": "Wait",
    }


def test_a_jsonata_map_over_a_function_says_so_as_aws_does(runtime: RecordingRuntime) -> None:
    sfn, arn = _machine(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "Map",
            "States": {"Map": _map_state(Items="{% $fn := function($x){$x} %}")},
        }
    )
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]

    assert _finished(sfn, execution)["cause"].endswith(
        "The JSONata expression '$fn := function($x){$x}' specified for the field 'Items'"
        " returned an unsupported result type."
    )


def test_execution_history_comes_in_pages_in_either_order_with_or_without_data(
    runtime: RecordingRuntime,
) -> None:
    # Given an execution of 60 Pass states: 122 events
    states = {
        f"S{i}": {"Type": "Pass", **({"Next": f"S{i + 1}"} if i < 59 else {"End": True})}
        for i in range(60)
    }
    sfn, arn = _machine({"StartAt": "S0", "States": states})
    execution = sfn.start_execution(stateMachineArn=arn, input='{"n": 1}')["executionArn"]
    _finished(sfn, execution)

    # Then the default page holds 100 events, the rest follow the token
    first = sfn.get_execution_history(executionArn=execution)
    second = sfn.get_execution_history(executionArn=execution, nextToken=first["nextToken"])
    assert (len(first["events"]), len(second["events"])) == (100, 22)
    assert "nextToken" not in second
    ids = [e["id"] for e in first["events"] + second["events"]]
    assert ids == list(range(1, 123))
    # boto3's paginator walks the same pages
    pages = sfn.get_paginator("get_execution_history").paginate(
        executionArn=execution, PaginationConfig={"PageSize": 50}
    )
    assert [len(page["events"]) for page in pages] == [50, 50, 22]
    # newest first
    newest = sfn.get_execution_history(executionArn=execution, reverseOrder=True, maxResults=3)
    assert [e["type"] for e in newest["events"]] == [
        "ExecutionSucceeded",
        "PassStateExited",
        "PassStateEntered",
    ]
    # without the events' data
    bare = sfn.get_execution_history(
        executionArn=execution, includeExecutionData=False, maxResults=2
    )["events"]
    assert bare[0]["executionStartedEventDetails"] == {
        "inputDetails": {"truncated": False},
        "roleArn": ROLE,
    }
    assert "input" not in bare[1]["stateEnteredEventDetails"]
    # a token of the other order is refused, as AWS refuses a foreign token
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.get_execution_history(
            executionArn=execution, reverseOrder=True, nextToken=first["nextToken"]
        )


def test_an_input_that_is_not_json_is_refused_as_aws_refuses_it(
    runtime: RecordingRuntime,
) -> None:
    sfn, arn = _machine({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})

    with pytest.raises(sfn.exceptions.InvalidExecutionInput) as refused:
        sfn.start_execution(stateMachineArn=arn, input="{not json")

    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert refused.value.response["Error"]["Message"].startswith(
        "Invalid State Machine Execution Input:"
    )
    assert sfn.list_executions(stateMachineArn=arn)["executions"] == []


def test_s3_events_of_a_versioned_bucket_name_the_version(runtime: RecordingRuntime) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    url, queue_arn = _queue(sqs, "uploads")
    s3.create_bucket(Bucket="photos")
    s3.put_bucket_versioning(Bucket="photos", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(
        Bucket="photos",
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )

    versions = [
        s3.put_object(Bucket="photos", Key="a.jpg", Body=b)["VersionId"] for b in (b"1", b"2")
    ]

    bodies = [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    ]
    objects = [b["Records"][0]["s3"]["object"] for b in bodies if "Records" in b]
    assert [o["versionId"] for o in objects] == versions
    assert objects[0]["sequencer"] < objects[1]["sequencer"]


def test_a_task_parameter_path_that_selects_nothing_ends_the_execution(
    runtime: RecordingRuntime,
) -> None:
    # Given a DynamoDB task whose Parameters read a path the input lacks, with Retry and Catch
    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName="photos",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    sfn, arn = _machine(
        {
            "StartAt": "Put",
            "States": {
                "Put": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::dynamodb:putItem",
                    "Parameters": {"TableName": "photos", "Item": {"id": {"S.$": "$.missing"}}},
                    "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 3}],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                    "End": True,
                },
                "Caught": {"Type": "Pass", "End": True},
            },
        }
    )
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]

    # Then it fails with States.Runtime, neither retried nor caught (as on AWS)
    described = _finished(sfn, execution)
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
    assert described["cause"] == (
        "An error occurred while executing the state 'Put' (entered at the event id #2)."
        " The JSONPath '$.missing' specified for the field 'S.$' could not be found in the"
        " input '{}'"
    )
    events = sfn.get_execution_history(executionArn=execution)["events"]
    assert [e["type"] for e in events] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "ExecutionFailed",
    ]


@pytest.mark.parametrize(
    ("state", "location", "what"),
    [
        ({"Output": "{% $nothing %}"}, "Output", "returned nothing (undefined)."),
        ({"Output": {"a": {"b": "{% $nothing %}"}}}, "Output/a/b", "returned nothing (undefined)."),
        ({"Assign": {"x": "{% $nothing %}"}}, "Assign/x", "returned nothing (undefined)."),
        (
            {"Output": {"n": "{% $notAFunction(1) %}"}},
            "Output/n",
            "threw an error during evaluation. T1006: Attempted to invoke a non-function",
        ),
    ],
)
def test_a_failed_jsonata_expression_names_its_field(
    runtime: RecordingRuntime, state: dict[str, Any], location: str, what: str
) -> None:
    # Given a JSONata state whose expression fails, after a first state
    sfn, arn = _machine(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "First",
            "States": {
                "First": {"Type": "Pass", "Next": "Second"},
                "Second": {"Type": "Pass", **state, "End": True},
            },
        }
    )
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    described = _finished(sfn, execution)
    expression = "$nothing" if "nothing" in what else "$notAFunction(1)"
    cause = (
        "An error occurred while executing the state 'Second' (entered at the event id #4)."
        f" The JSONata expression '{expression}' specified for the field '{location}' {what}"
    )
    assert (described["status"], described["error"]) == ("FAILED", "States.QueryEvaluationError")
    assert described["cause"] == cause

    # Then the EvaluationFailed event has the location, and follows what Second's entry followed
    events = sfn.get_execution_history(executionArn=execution)["events"]
    assert [event["type"] for event in events[3:]] == [
        "PassStateEntered",
        "EvaluationFailed",
        "ExecutionFailed",
    ]
    failed = events[4]
    assert (failed["id"], failed["previousEventId"]) == (5, 3)
    assert failed["evaluationFailedEventDetails"] == {
        "error": "States.QueryEvaluationError",
        "cause": cause,
        "location": location,
        "state": "Second",
    }


def test_variables_assigned_by_a_state_take_effect_after_its_output(
    runtime: RecordingRuntime,
) -> None:
    # Given states that assign a variable and read it in their own output
    sfn, arn = _machine(
        {
            "StartAt": "Set",
            "States": {
                "Set": {"Type": "Pass", "Assign": {"n": 1}, "Next": "PathReads"},
                "PathReads": {
                    "Type": "Pass",
                    "Assign": {"n": 2},
                    "Parameters": {"before.$": "$n"},
                    "OutputPath": "$",
                    "ResultPath": "$.seen",
                    "Next": "JsonataReads",
                },
                "JsonataReads": {
                    "Type": "Pass",
                    "QueryLanguage": "JSONata",
                    "Assign": {"n": "{% $n * 10 %}"},
                    "Output": {"during": "{% $n %}", "earlier": "{% $states.input.seen %}"},
                    "Next": "After",
                },
                "After": {"Type": "Pass", "Parameters": {"after.$": "$n"}, "End": True},
            },
        }
    )
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    assert json.loads(_finished(sfn, execution)["output"]) == {"after": 20}

    # Then each state read the value from before it, and recorded what it assigned
    events = sfn.get_execution_history(executionArn=execution)["events"]
    exited = {
        event["stateExitedEventDetails"]["name"]: event["stateExitedEventDetails"]
        for event in events
        if event["type"] == "PassStateExited"
    }
    assert json.loads(exited["PathReads"]["output"]) == {"seen": {"before": 1}}
    assert exited["PathReads"]["assignedVariables"] == {"n": "2"}
    assert json.loads(exited["JsonataReads"]["output"]) == {
        "during": 2,
        "earlier": {"before": 1},
    }
    assert exited["JsonataReads"]["assignedVariables"] == {"n": "20"}


def test_the_current_item_may_stand_alone_inside_a_predicate(runtime: RecordingRuntime) -> None:
    from photoflow_local.patches.stepfunctions.evaluation import nested_items

    # Where $ stands alone in brackets or braces, outside strings; not $$ nor a name
    assert nested_items("$states.input[$ > 1]") == [14]
    assert nested_items("{'a': $}") == [6]
    assert nested_items("$ > 1") == []
    assert nested_items("['$', $$, $x, \"[$]\"]") == []

    # Given a JSONata state that filters its input with a predicate on the current item
    sfn, arn = _machine(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "Filter",
            "States": {
                "Filter": {
                    "Type": "Pass",
                    "Output": {
                        "big": "{% $states.input.sizes[$ > 1] %}",
                        "count": "{% $count($states.input.sizes[$ = 1]) %}",
                    },
                    "End": True,
                }
            },
        }
    )
    execution = sfn.start_execution(stateMachineArn=arn, input='{"sizes": [1, 2, 3, 1]}')
    described = _finished(sfn, execution["executionArn"])
    assert (described["status"], json.loads(described["output"])) == (
        "SUCCEEDED",
        {"big": [2, 3], "count": 2},
    )


@pytest.mark.parametrize("inside_parallel", [False, True])
def test_a_mocked_error_with_a_states_name_is_that_error(
    runtime: RecordingRuntime, inside_parallel: bool
) -> None:
    # Given a test case that makes a Task fail with States.TaskFailed, caught by name
    config = {
        "StateMachines": {"Machine": {"TestCases": {"Fails": {"Call": "Fails"}}}},
        "MockedResponses": {
            "Fails": {"0": {"Throw": {"Error": "States.TaskFailed", "Cause": "mocked"}}}
        },
    }
    patches.register_test_case(config, "Machine", "Fails")
    call = {
        **_task(_function()),
        "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"}],
        "End": True,
    }
    branch = {
        "StartAt": "Call",
        "States": {"Call": call, "Caught": {"Type": "Pass", "Result": "caught", "End": True}},
    }
    definition = (
        {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "Branches": [branch]}}}
        if inside_parallel
        else branch
    )
    if inside_parallel:
        definition["States"]["Both"]["End"] = True
    sfn, machine = _machine(definition)

    execution = sfn.start_execution(stateMachineArn=f"{machine}#Fails", input="{}")

    # Then the Catcher on States.TaskFailed caught it
    described = _finished(sfn, execution["executionArn"])
    expected = ["caught"] if inside_parallel else "caught"
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", expected)


# ----------------------------------------------------------------- service integrations
def _table(name: str = "photos") -> None:
    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


_task_machines = itertools.count()


def _run_task(task: dict[str, Any], execution_input: Any = None) -> tuple[dict[str, Any], Any]:
    """Run a one-Task state machine: its description and the Task's result (or None)."""
    definition = {"StartAt": "Call", "States": {"Call": {**task, "End": True}}}
    sfn, arn = _machine(definition, name=f"Task{next(_task_machines)}")
    execution = sfn.start_execution(
        stateMachineArn=arn, input=json.dumps({} if execution_input is None else execution_input)
    )["executionArn"]
    described = _finished(sfn, execution)
    output = json.loads(described["output"]) if "output" in described else None
    return described, output


def _service_task(resource: str, **parameters: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": f"arn:aws:states:::{resource}", "Parameters": parameters}


RFC_1123 = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$")
UUID = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")


def _assert_http_metadata(result: dict[str, Any], headers: dict[str, str]) -> None:
    """The SdkHttpMetadata and SdkResponseMetadata of an answer: ``headers`` as given, the
    request id, trace id and date as AWS forms them, each header also as a list."""
    metadata = result["SdkHttpMetadata"]
    request_id = result["SdkResponseMetadata"]["RequestId"]
    assert UUID.match(request_id)
    assert metadata["HttpStatusCode"] == 200
    answered = dict(metadata["HttpHeaders"])
    assert RFC_1123.match(answered.pop("Date"))
    assert answered.pop("x-amzn-RequestId", None) or answered.pop("x-amzn-requestid") == request_id
    if "X-Amzn-Trace-Id" in answered:
        assert re.match(r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24};", answered.pop("X-Amzn-Trace-Id"))
    assert answered == headers
    assert metadata["AllHttpHeaders"] == {k: [v] for k, v in metadata["HttpHeaders"].items()}


def test_a_lambda_invoke_task_returns_what_aws_returns(runtime: RecordingRuntime) -> None:
    function_arn = _function("echo")

    described, output = _run_task(
        _service_task("lambda:invoke", FunctionName=function_arn, Payload={"n": 1})
    )

    assert described["status"] == "SUCCEEDED"
    assert list(output) == [
        "ExecutedVersion",
        "Payload",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
        "StatusCode",
    ]
    assert (output["ExecutedVersion"], output["StatusCode"]) == ("$LATEST", 200)
    assert output["Payload"] == {"echo": {"n": 1}}
    _assert_http_metadata(
        output,
        {
            "Connection": "keep-alive",
            "Content-Length": "18",  # {"echo": {"n": 1}}
            "Content-Type": "application/json",
            "X-Amz-Executed-Version": "$LATEST",
            "x-amzn-Remapped-Content-Length": "0",
        },
    )


def test_dynamodb_sns_and_sqs_tasks_return_what_aws_returns(runtime: RecordingRuntime) -> None:
    _table()
    topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="events")["TopicArn"]
    queue_url, _ = _queue(boto3.client("sqs", region_name="us-east-1"), "jobs")
    item = {"id": {"S": "id1"}, "data": {"S": "HelloWorld"}}
    key = {"id": {"S": "id1"}}
    dynamodb = {
        "Server": "Server",
        "Connection": "keep-alive",
        "Content-Type": "application/x-amz-json-1.0",
    }
    empty = {**dynamodb, "Content-Length": "2", "x-amz-crc32": "2745614147"}  # {}

    _, put = _run_task(_service_task("dynamodb:putItem", TableName="photos", Item=item))
    _, got = _run_task(_service_task("dynamodb:getItem", TableName="photos", Key=key))
    _, updated = _run_task(
        _service_task(
            "dynamodb:updateItem",
            TableName="photos",
            Key=key,
            UpdateExpression="SET S = :s",
            ExpressionAttributeValues={":s": {"S": "HelloWorldUpdated"}},
            ReturnValues="UPDATED_NEW",
        )
    )
    _, deleted = _run_task(_service_task("dynamodb:deleteItem", TableName="photos", Key=key))
    _, published = _run_task(_service_task("sns:publish", TopicArn=topic, Message="hi"))
    _, sent = _run_task(_service_task("sqs:sendMessage", QueueUrl=queue_url, MessageBody="hi"))

    # The Content-Length of the body AWS sends (compact JSON, SNS's XML), as AWS recorded it
    _assert_http_metadata(put, empty)
    assert got["Item"] == item
    _assert_http_metadata(got, {**dynamodb, "Content-Length": "53", "x-amz-crc32": "1813032717"})
    assert updated["Attributes"] == {"S": {"S": "HelloWorldUpdated"}}  # no ConsumedCapacity
    _assert_http_metadata(updated, {**dynamodb, "Content-Length": "46", "x-amz-crc32": "739724371"})
    _assert_http_metadata(deleted, empty)
    assert UUID.match(published["MessageId"])
    _assert_http_metadata(
        published, {"connection": "keep-alive", "Content-Length": "294", "Content-Type": "text/xml"}
    )
    assert sent["MD5OfMessageBody"] == "49f68a5c8493ec2c0bf489821c21fc3b"
    _assert_http_metadata(
        sent,
        {
            "connection": "keep-alive",
            "Content-Length": "106",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )


def test_update_item_answers_consumed_capacity_only_when_asked(runtime: RecordingRuntime) -> None:
    _table()
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    update = {
        "TableName": "photos",
        "Key": {"id": {"S": "1"}},
        "UpdateExpression": "SET n = :n",
        "ExpressionAttributeValues": {":n": {"N": "1"}},
    }
    assert "ConsumedCapacity" not in dynamodb.update_item(**update)
    asked = dynamodb.update_item(**update, ReturnConsumedCapacity="TOTAL")
    assert asked["ConsumedCapacity"] == {"TableName": "photos", "CapacityUnits": 0.5}


def test_update_expressions_are_parsed_once_and_checked_as_before(
    runtime: RecordingRuntime,
) -> None:
    _table()
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    expression = "SET a = :v, b = if_not_exists(b, :v) REMOVE c, d ADD n :one"
    parses = dynamodb_patches._parsed.cache_info().misses

    def update(key: str, value: str) -> dict[str, Any]:
        dynamodb.update_item(
            TableName="photos",
            Key={"id": {"S": key}},
            UpdateExpression=expression,
            ExpressionAttributeValues={":v": {"S": value}, ":one": {"N": "1"}},
        )
        item: dict[str, Any] = dynamodb.get_item(TableName="photos", Key={"id": {"S": key}})
        return item["Item"]

    # The same expression with other values, on a new item and an existing one
    assert update("1", "x") == {"id": {"S": "1"}, "a": {"S": "x"}, "b": {"S": "x"}, "n": {"N": "1"}}
    assert update("1", "y") == {"id": {"S": "1"}, "a": {"S": "y"}, "b": {"S": "x"}, "n": {"N": "2"}}
    assert update("2", "z") == {"id": {"S": "2"}, "a": {"S": "z"}, "b": {"S": "z"}, "n": {"N": "1"}}
    assert dynamodb_patches._parsed.cache_info().misses == parses + 1

    # and invalid expressions refused with moto's messages, the first time and again
    prefix = "1 validation error detected: Invalid UpdateExpression: "
    refused = {
        "SET a = :v SET b = :v": 'The "SET" section can only be used once in an update expression;',
        "SET a = :v REMOVE b REMOVE c": 'The "REMOVE" section can only be used once in an'
        " update expression;",
        "SET a.b = :v, a = :v": "Two document paths overlap with each other; must remove or"
        " rewrite one of these paths; path one: [a, b], path two: [a]",
        "SET a = :v, b = :v REMOVE c, a": "Two document paths overlap with each other; must"
        " remove or rewrite one of these paths; path one: [a], path two: [a]",
    }
    for invalid, message in refused.items():
        for _ in range(2):
            with pytest.raises(ClientError) as raised:
                dynamodb.update_item(
                    TableName="photos",
                    Key={"id": {"S": "1"}},
                    UpdateExpression=invalid,
                    ExpressionAttributeValues={":v": {"S": "x"}},
                )
            assert raised.value.response["Error"]["Message"] == prefix + message
    with pytest.raises(ClientError) as raised:
        dynamodb.update_item(TableName="photos", Key={"id": {"S": "1"}}, UpdateExpression="SET a =")
    assert raised.value.response["Error"]["Message"] == (
        'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "="'
    )


def test_a_function_gets_the_payload_as_it_was_sent(runtime: RecordingRuntime) -> None:
    _function("echo")
    client = boto3.client("lambda", region_name="us-east-1")
    client.invoke(FunctionName="echo", Payload=b"null")
    client.invoke(FunctionName="echo", Payload=b'"HelloWorld"')
    plain = client.invoke(FunctionName="echo", Payload=b"{}")
    tail = client.invoke(FunctionName="echo", Payload=b"{}", LogType="Tail")

    assert runtime.calls == [("echo", None), ("echo", "HelloWorld"), ("echo", {}), ("echo", {})]
    assert "LogResult" not in plain
    log = base64.b64decode(tail["LogResult"]).decode()
    assert re.fullmatch(
        r"START RequestId: (\S+) Version: \$LATEST\nEND RequestId: \1\n"
        r"REPORT RequestId: \1\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
        r"Memory Size: 128 MB\t\n",
        log,
    )


def test_invoking_no_such_function_names_the_version_asked_for(runtime: RecordingRuntime) -> None:
    with pytest.raises(ClientError) as raised:
        boto3.client("lambda", region_name="us-east-1").invoke(FunctionName="ghost", Payload=b"{}")
    error = raised.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "ResourceNotFoundException",
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:ghost:$LATEST",
    )


def test_a_lambda_resource_task_sends_a_null_input_as_null(runtime: RecordingRuntime) -> None:
    function_arn = _function("echo")
    task = {"Type": "Task", "Resource": function_arn, "End": True}
    sfn, arn = _machine({"StartAt": "Call", "States": {"Call": task}})

    execution = sfn.start_execution(stateMachineArn=arn, input="null")["executionArn"]

    assert _finished(sfn, execution)["output"] == '{"echo": null}'
    assert runtime.calls == [("echo", None)]


def test_dynamodb_validates_table_names_and_null_items(runtime: RecordingRuntime) -> None:
    _table()
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    with pytest.raises(ClientError) as raised:
        dynamodb.get_item(TableName="/photos", Key={"id": {"S": "1"}})
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert raised.value.response["Error"]["Message"] == (
        "1 validation error detected: Value '/photos' at 'tableName' failed to satisfy"
        " constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
    )

    # A null Item reaches DynamoDB as absent, whose error a Task reports as AWS's SDK names it
    described, _ = _run_task(
        _service_task("dynamodb:putItem", **{"TableName": "photos", "Item.$": "$.item"}),
        execution_input={"item": None},
    )
    assert (described["status"], described["error"]) == (
        "FAILED",
        "DynamoDB.AmazonDynamoDBException",
    )
    assert re.fullmatch(
        r"1 validation error detected: Value null at 'item' failed to satisfy constraint:"
        r" Member must not be null \(Service: AmazonDynamoDBv2; Status Code: 400; Error Code:"
        r" ValidationException; Request ID: \S+; Proxy: null\)",
        described["cause"],
    )


def test_sqs_task_errors_are_named_and_worded_as_on_aws(runtime: RecordingRuntime) -> None:
    queue_url, _ = _queue(boto3.client("sqs", region_name="us-east-1"), "jobs")

    no_body, _ = _run_task(
        _service_task("sqs:sendMessage", **{"QueueUrl": queue_url, "MessageBody.$": "$.body"}),
        execution_input={"body": None},
    )
    no_host, _ = _run_task(
        _service_task("sqs:sendMessage", QueueUrl="http://no-such-queue-1", MessageBody="hi")
    )

    assert no_body["error"] == "SQS.AmazonSQSException"
    assert re.fullmatch(
        r"The request must contain the parameter MessageBody\. \(Service: AmazonSQS; Status"
        r" Code: 400; Error Code: MissingParameter; Request ID: \S+; Proxy: null\)",
        no_body["cause"],
    )
    assert (no_host["error"], no_host["cause"]) == (
        "SQS.SdkClientException",
        "Unable to execute HTTP request: no-such-queue-1: Name or service not known",
    )


def test_sns_publish_answers_as_sns_for_fifo_and_missing_topics(runtime: RecordingRuntime) -> None:
    sns = boto3.client("sns", region_name="us-east-1")
    fifo = sns.create_topic(Name="events.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    missing = "arn:aws:sns:us-east-1:123456789012:gone"

    errors = []
    for arguments in ({"TopicArn": missing}, {"TopicArn": fifo}):
        with pytest.raises(ClientError) as raised:
            sns.publish(Message="hi", **arguments)
        errors.append(
            (raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"])
        )
    first = sns.publish(TopicArn=fifo, Message="hi", MessageGroupId="g", MessageDeduplicationId="1")
    second = sns.publish(
        TopicArn=fifo, Message="hi", MessageGroupId="g", MessageDeduplicationId="2"
    )

    assert errors == [
        ("NotFound", "Topic does not exist"),
        (
            "InvalidParameter",
            "Invalid parameter: The MessageGroupId parameter is required for FIFO topics",
        ),
    ]
    assert re.fullmatch(r"\d{20}", first["SequenceNumber"])
    assert int(second["SequenceNumber"]) > int(first["SequenceNumber"])


def test_aws_sdk_tasks_send_json_bodies_and_return_json(runtime: RecordingRuntime) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="photos")
    s3.put_object(Bucket="photos", Key="in.txt", Body=b"text data")

    put, put_result = _run_task(
        _service_task("aws-sdk:s3:putObject", Bucket="photos", Key="out.json", Body={"a": [1]})
    )
    got, got_result = _run_task(
        _service_task("aws-sdk:s3:getObject", Bucket="photos", Key="in.txt")
    )

    # The object holds the value's compact JSON, as AWS writes it (its ETag is that text's MD5)
    assert put["status"] == "SUCCEEDED"
    assert s3.get_object(Bucket="photos", Key="out.json")["Body"].read() == b'{"a":[1]}'
    assert put_result["ETag"] == '"9ce06edb2e3406c40e507870b76580a0"'
    # The answer is JSON: the body as text, the time as AWS writes it; the execution's
    # output can be described (it could not, with a datetime in it)
    assert got["status"] == "SUCCEEDED"
    assert got_result["Body"] == "text data"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", got_result["LastModified"])


def test_a_definition_that_fails_to_parse_leaves_later_ones_alone(
    runtime: RecordingRuntime,
) -> None:
    from botocore.exceptions import ClientError

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    # Given a JSONata definition whose parse fails inside a state (a JSONPath field in it)
    broken = {
        "QueryLanguage": "JSONata",
        "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Parameters": {"x.$": "$"}, "End": True}},
    }
    with pytest.raises(ClientError):
        sfn.create_state_machine(name="Broken", definition=json.dumps(broken), roleArn=ROLE)

    # Then a JSONPath definition is still parsed as JSONPath, and runs
    state = {"Type": "Pass", "Parameters": {"y.$": "$.y"}, "End": True}
    sfn, arn = _machine({"StartAt": "B", "States": {"B": state}})
    execution = sfn.start_execution(stateMachineArn=arn, input='{"y": 1}')["executionArn"]
    assert json.loads(_finished(sfn, execution)["output"]) == {"y": 1}


def test_variables_are_bound_by_value_whatever_their_text(runtime: RecordingRuntime) -> None:
    # Given variables holding text JSONata would have to escape, a null, and an object
    quoted = 'say "hi" \\ then\nleave'
    sfn, arn = _machine(
        {
            "StartAt": "Set",
            "States": {
                "Set": {
                    "Type": "Pass",
                    "Assign": {"text": quoted, "nothing": None, "photo": {"id": "p1"}},
                    "Next": "ReadByPath",
                },
                "ReadByPath": {
                    "Type": "Pass",
                    "Parameters": {"text.$": "$text", "id.$": "$photo.id"},
                    "Next": "ReadByJsonata",
                },
                "ReadByJsonata": {
                    "Type": "Pass",
                    "QueryLanguage": "JSONata",
                    "Output": {
                        "text": "{% $text %}",
                        "nothing": "{% $nothing %}",
                        "isNull": "{% $type($nothing) %}",
                        "earlier": "{% $states.input %}",
                    },
                    "End": True,
                },
            },
        }
    )
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]

    # Then every read gets the value itself, and the history shows them as JSON
    described = _finished(sfn, execution)
    assert json.loads(described["output"]) == {
        "text": quoted,
        "nothing": None,
        "isNull": "null",
        "earlier": {"text": quoted, "id": "p1"},
    }
    events = sfn.get_execution_history(executionArn=execution)["events"]
    assigned = events[2]["stateExitedEventDetails"]["assignedVariables"]
    assert assigned == {
        "text": '"say \\"hi\\" \\\\ then\\nleave"',
        "nothing": "null",
        "photo": '{"id":"p1"}',
    }


class UpdatedRuntime(RecordingRuntime):
    """A Lambda runtime that records the updates of functions it is told of."""

    def __init__(self) -> None:
        super().__init__()
        self.updates: list[tuple[str, Any]] = []

    def reconfigure(
        self,
        function_name: str,
        *,
        environment: dict[str, str],
        timeout_seconds: float,
        memory_mb: int,
    ) -> None:
        self.updates.append((function_name, (environment, timeout_seconds, memory_mb)))

    def update_code(self, function_name: str, package: bytes | None) -> None:
        self.updates.append((function_name, package))


def test_a_function_update_reaches_the_local_runtime() -> None:
    updated = UpdatedRuntime()
    with patches.apply(updated, time_scale=0.001), mock_aws():
        _function("thumbnail")
        client = boto3.client("lambda", region_name="us-east-1")

        client.update_function_configuration(
            FunctionName="thumbnail",
            Environment={"Variables": {"THUMBNAIL_SIZES": "2048,1024,512,256"}},
            Timeout=30,
        )
        client.update_function_configuration(FunctionName="thumbnail", MemorySize=1024)
        package = b"PK\x05\x06" + b"\x01" * 18
        client.update_function_code(FunctionName="thumbnail", ZipFile=package)

    # every configuration whole, as the function has it after the update; then the new zip
    assert updated.updates[:2] == [
        ("thumbnail", ({"THUMBNAIL_SIZES": "2048,1024,512,256"}, 30.0, 128)),
        ("thumbnail", ({"THUMBNAIL_SIZES": "2048,1024,512,256"}, 30.0, 1024)),
    ]
    assert set(updated.updates[2:]) == {("thumbnail", package)}
