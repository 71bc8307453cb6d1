"""Distributed Map as AWS runs it (patches 61-64, photoflow_local.patches.stepfunctions.
distributed_map), through StartExecution under moto.

What is expected is what AWS documents and records: the Developer Guide's "ItemBatcher (Map)",
"ResultWriter (Map)" and "Tolerated failure threshold for Distributed Map state"; recordings of
real AWS in LocalStack's Apache-2.0 test suite (tests/aws/services/stepfunctions/v2/
test_sfn_api_map_run.snapshot.json for DescribeMapRun and ListMapRuns; scenarios/
test_base_scenarios.snapshot.json for the MapRun events, ``test_map_state_result_writer`` and
``test_map_item_batching_base_json_max_per_batch_jsonata``; test_state/
test_state_configuration.snapshot.json for the threshold's error and cause); and result files
of real map runs as published (SUCCEEDED and FAILED entries, the manifest's Key and Size).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.stepfunctions.parser.asl.component.state.choice.state_choice import StateChoice
from moto.stepfunctions.parser.asl.component.state.state_pass.state_pass import StatePass

from photoflow_local import patches
from photoflow_local.patches.stepfunctions import distributed_map
from tests.support import poll
from tests.unit.test_patches import ROLE, RecordingRuntime, no_local_stack_in_this_process

__all__ = ["no_local_stack_in_this_process"]  # autouse: no local stack in this process

BUCKET = "photos-manifests"
CSV = "id,size\n1,10\n2,20\n3,30\n4,40\n5,50\n"
THRESHOLD = (
    "States.ExceedToleratedFailureThreshold",
    "The specified tolerated failure threshold was exceeded",
)
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
MAP_RUN_ARN = re.compile(
    rf"^arn:aws:states:us-east-1:123456789012:mapRun:Machine/Reprocess:({UUID})$"
)
PASS = {"StartAt": "Each", "States": {"Each": {"Type": "Pass", "End": True}}}


@pytest.fixture
def aws() -> Iterator[Any]:
    with (
        patches.apply(RecordingRuntime(), time_scale=0.001),
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
    ):
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="photos.csv", Body=CSV.encode())
        yield s3


def _sfn() -> Any:
    return boto3.client("stepfunctions", region_name="us-east-1")


def _csv_reader() -> dict[str, Any]:
    return {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
        "Arguments": {
            "Bucket": "{% $states.input.manifest.bucket %}",
            "Key": "{% $states.input.manifest.key %}",
        },
    }


def _distributed(
    processor: dict[str, Any], kind: str = "STANDARD", **fields: Any
) -> dict[str, Any]:
    """A JSONata machine of one Distributed Map state over the CSV manifest."""
    config = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": kind}}
    reprocess = {
        "Type": "Map",
        "Label": "Reprocess",
        "ItemReader": _csv_reader(),
        "ItemProcessor": {**config, **processor},
        **fields,
        "End": True,
    }
    return {"QueryLanguage": "JSONata", "StartAt": "Reprocess", "States": {"Reprocess": reprocess}}


def _failing_ids(*ids: str) -> dict[str, Any]:
    """Children that fail (Error "Bad", Cause "photo N") for the photos ``ids``, pass otherwise."""
    condition = f"{{% $states.input.id in {json.dumps(list(ids))} %}}"
    return {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Condition": condition, "Next": "Bad"}],
                "Default": "Good",
            },
            "Bad": {"Type": "Fail", "Error": "Bad", "Cause": "{% 'photo ' & $states.input.id %}"},
            "Good": {"Type": "Pass", "End": True},
        },
    }


def _run(
    definition: dict[str, Any], execution_input: Any = None, kind: str = "STANDARD"
) -> dict[str, Any]:
    """Run ``definition`` as a state machine (``kind``) to its end; DescribeExecution's answer."""
    sfn = _sfn()
    machine = sfn.create_state_machine(
        name="Machine", definition=json.dumps(definition), roleArn=ROLE, type=kind
    )["stateMachineArn"]
    if execution_input is None:
        execution_input = {"manifest": {"bucket": BUCKET, "key": "photos.csv"}}
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(execution_input))[
        "executionArn"
    ]
    described: dict[str, Any] = poll(
        lambda: sfn.describe_execution(executionArn=arn),
        lambda answer: answer["status"] != "RUNNING",
        timeout=20,
        what=f"end of {arn}",
    )
    return described


def _map_run(execution_arn: str) -> dict[str, Any]:
    runs = _sfn().list_map_runs(executionArn=execution_arn)["mapRuns"]
    assert len(runs) == 1, runs
    described: dict[str, Any] = _sfn().describe_map_run(mapRunArn=runs[0]["mapRunArn"])
    return described


def _counts(map_run: dict[str, Any], of: str) -> dict[str, int]:
    counts: dict[str, int] = map_run[of]
    return {name: counts[name] for name in ("total", "succeeded", "failed", "pending", "running")}


def _events(execution_arn: str) -> list[tuple[str, dict[str, Any]]]:
    events = _sfn().get_execution_history(executionArn=execution_arn)["events"]
    return [
        (event["type"], next((v for k, v in event.items() if k.endswith("EventDetails")), {}))
        for event in events
    ]


# ----------------------------------------------------------------- 61. the definition
@pytest.mark.parametrize("tolerated", [5, "{% $states.input.toleratedFailurePercentage %}"])
def test_the_reprocessing_map_runs_as_aws_runs_it(aws: Any, tolerated: Any) -> None:
    """The shape of a reprocessing Distributed Map: batches of photos from a CSV manifest,
    each child an inline Map over its batch, results written to S3."""
    each_photo = {
        "Type": "Map",
        "Items": "{% $states.input.Items %}",
        "ItemProcessor": {
            "StartAt": "Photo",
            "States": {"Photo": {"Type": "Pass", "Output": "{% $states.input.id %}", "End": True}},
        },
        "End": True,
    }
    definition = _distributed(
        {"StartAt": "EachPhoto", "States": {"EachPhoto": each_photo}},
        kind="EXPRESS",
        ItemBatcher={
            "MaxItemsPerBatch": 10,
            "MaxInputBytesPerBatch": 65536,
            "BatchInput": {
                "run": "{% $states.context.Execution.Id %}",
                "configVersion": "{% $states.input.configVersion %}",
            },
        },
        MaxConcurrency=100,
        ToleratedFailurePercentage=tolerated,
        ResultWriter={
            "Resource": "arn:aws:states:::s3:putObject",
            "Arguments": {"Bucket": "{% $states.input.manifest.bucket %}", "Prefix": "reprocess"},
            "WriterConfig": {"OutputType": "JSON", "Transformation": "NONE"},
        },
        Output="{% $states.result.ResultWriterDetails %}",
    )
    manifest = {"bucket": BUCKET, "key": "photos.csv"}

    validated = _sfn().validate_state_machine_definition(definition=json.dumps(definition))
    described = _run(
        definition, {"manifest": manifest, "configVersion": 3, "toleratedFailurePercentage": 5}
    )

    assert (validated["result"], validated["diagnostics"]) == ("OK", [])
    details = json.loads(described["output"])
    assert details["Bucket"] == BUCKET
    written = _written(aws, details["Key"])
    assert [
        len(written["ResultFiles"][status]) for status in ("FAILED", "PENDING", "SUCCEEDED")
    ] == [0, 0, 1]
    (child,) = _written(aws, written["ResultFiles"]["SUCCEEDED"][0]["Key"])
    assert json.loads(child["Output"]) == ["1", "2", "3", "4", "5"]
    assert json.loads(child["Input"])["BatchInput"] == {
        "run": described["executionArn"],
        "configVersion": 3,
    }
    assert re.match(
        rf"^arn:aws:states:us-east-1:123456789012:express:Machine/Reprocess:{UUID}:{UUID}$",
        child["ExecutionArn"],
    )


# ----------------------------------------------------------------- 62. the map run
def test_each_child_gets_a_batch_of_items_and_the_batch_input(aws: Any) -> None:
    definition = _distributed(
        PASS,
        ItemBatcher={
            "MaxItemsPerBatch": 2,
            "BatchInput": {
                "run": "{% $states.context.Execution.Id %}",
                "configVersion": "{% $states.input.configVersion %}",
            },
        },
    )

    described = _run(
        definition, {"manifest": {"bucket": BUCKET, "key": "photos.csv"}, "configVersion": 3}
    )

    run = {"run": described["executionArn"], "configVersion": 3}
    assert json.loads(described["output"]) == [
        {"BatchInput": run, "Items": [{"id": "1", "size": "10"}, {"id": "2", "size": "20"}]},
        {"BatchInput": run, "Items": [{"id": "3", "size": "30"}, {"id": "4", "size": "40"}]},
        {"BatchInput": run, "Items": [{"id": "5", "size": "50"}]},
    ]
    map_run = _map_run(described["executionArn"])
    assert _counts(map_run, "itemCounts") == {
        "total": 5,
        "succeeded": 5,
        "failed": 0,
        "pending": 0,
        "running": 0,
    }
    assert _counts(map_run, "executionCounts") == {
        "total": 3,
        "succeeded": 3,
        "failed": 0,
        "pending": 0,
        "running": 0,
    }


def test_jsonpath_batches_take_their_sizes_from_paths_and_bytes(aws: Any) -> None:
    aws.put_object(
        Bucket=BUCKET, Key="photos.json", Body=json.dumps([{"id": n} for n in range(1, 6)])
    )
    definition = {
        "StartAt": "Reprocess",
        "States": {
            "Reprocess": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON"},
                    "Parameters": {"Bucket.$": "$.bucket", "Key": "photos.json"},
                },
                "ItemBatcher": {
                    "MaxItemsPerBatchPath": "$.perBatch",
                    # {"BatchInput":{"tag":"t"},"Items":[{"id":1},{"id":2}]} is 54 bytes
                    "MaxInputBytesPerBatch": 54,
                    "BatchInput": {"tag.$": "$.tag"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    **PASS,
                },
                "End": True,
            }
        },
    }

    described = _run(definition, {"bucket": BUCKET, "perBatch": 3, "tag": "t"})

    assert [batch["Items"] for batch in json.loads(described["output"])] == [
        [{"id": 1}, {"id": 2}],
        [{"id": 3}, {"id": 4}],
        [{"id": 5}],
    ]
    assert json.loads(described["output"])[0]["BatchInput"] == {"tag": "t"}


class ConcurrencyProbe:
    """Counts the children inside their Pass state at once; ``parties`` of them must meet
    there (a barrier, bounded) before any goes on, so that overlapping is certain."""

    def __init__(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties, timeout=10)
        self.lock = threading.Lock()
        self.inside = 0
        self.most = 0

    def wrap(self, original: Callable[..., None]) -> Callable[..., None]:
        def probed(pass_state: StatePass, env: Any) -> None:
            with self.lock:
                self.inside += 1
                self.most = max(self.most, self.inside)
            try:
                self.barrier.wait()
                original(pass_state, env)
            finally:
                with self.lock:
                    self.inside -= 1

        return probed


@pytest.mark.parametrize(("max_concurrency", "most"), [(2, 2), (0, 4)])
def test_no_more_children_run_at_once_than_max_concurrency(
    aws: Any, monkeypatch: pytest.MonkeyPatch, max_concurrency: int, most: int
) -> None:
    """Four children, which must meet in groups of ``most`` before any goes on."""
    aws.put_object(Bucket=BUCKET, Key="photos.csv", Body=b"id\n1\n2\n3\n4\n")
    probe = ConcurrencyProbe(parties=most)
    monkeypatch.setattr(StatePass, "_eval_state", probe.wrap(StatePass._eval_state))

    described = _run(_distributed(PASS, MaxConcurrency=max_concurrency))

    assert described["status"] == "SUCCEEDED", described
    assert probe.most == most
    assert _map_run(described["executionArn"])["maxConcurrency"] == max_concurrency


@pytest.mark.parametrize(
    ("tolerance", "described_tolerance"),
    [
        ({"ToleratedFailureCount": 2}, (2, 0.0)),
        ({"ToleratedFailureCount": "{% $states.input.count %}"}, (2, 0.0)),
        # two of five failed is 40%
        ({"ToleratedFailurePercentage": "{% $states.input.percentage %}"}, (0, 40.5)),
        ({"ToleratedFailurePercentage": 40}, (0, 40.0)),
    ],
)
def test_failures_within_tolerance_succeed_and_return_the_failed_children(
    aws: Any, tolerance: dict[str, Any], described_tolerance: tuple[int, float]
) -> None:
    definition = _distributed(_failing_ids("2", "4"), **tolerance)
    manifest = {"bucket": BUCKET, "key": "photos.csv"}

    described = _run(definition, {"manifest": manifest, "count": 2, "percentage": 40.5})

    output = json.loads(described["output"])
    assert described["status"] == "SUCCEEDED", described
    assert [output[0], output[2], output[4]] == [
        {"id": "1", "size": "10"},
        {"id": "3", "size": "30"},
        {"id": "5", "size": "50"},
    ]
    # "If a child workflow execution fails, Step Functions returns its execution result
    # unchanged": as Transformation NONE, its execution with Error and Cause.
    assert {key: output[1][key] for key in ("Error", "Cause", "Status", "Input")} == {
        "Error": "Bad",
        "Cause": "photo 2",
        "Status": "FAILED",
        "Input": '{"id":"2","size":"20"}',
    }
    map_run = _map_run(described["executionArn"])
    assert map_run["status"] == "SUCCEEDED"
    assert (
        map_run["toleratedFailureCount"],
        map_run["toleratedFailurePercentage"],
    ) == described_tolerance
    assert _counts(map_run, "itemCounts") == {
        "total": 5,
        "succeeded": 3,
        "failed": 2,
        "pending": 0,
        "running": 0,
    }


@pytest.mark.parametrize(
    "tolerance",
    [
        {},  # neither: any failure fails the run
        {"ToleratedFailureCount": 1},
        {"ToleratedFailurePercentage": 20},  # 2 of 5 is 40%
        {"ToleratedFailurePercentage": "{% $states.input.tolerated %}"},
    ],
)
def test_failures_beyond_tolerance_fail_the_map_run(aws: Any, tolerance: dict[str, Any]) -> None:
    definition = _distributed(_failing_ids("2", "4"), MaxConcurrency=1, **tolerance)

    described = _run(
        definition, {"manifest": {"bucket": BUCKET, "key": "photos.csv"}, "tolerated": 39.5}
    )

    assert (described["status"], described["error"], described["cause"]) == ("FAILED", *THRESHOLD)
    types = [event_type for event_type, _ in _events(described["executionArn"])]
    assert types[-4:] == ["MapRunStarted", "MapRunFailed", "MapStateFailed", "ExecutionFailed"]
    failed_details = _events(described["executionArn"])[-3][1]
    assert (failed_details["error"], failed_details["cause"]) == THRESHOLD
    assert _map_run(described["executionArn"])["status"] == "FAILED"


def test_a_batch_that_fails_counts_all_its_items_failed_and_a_catcher_catches_it(
    aws: Any,
) -> None:
    definition = _distributed(
        {"StartAt": "Bad", "States": {"Bad": {"Type": "Fail", "Error": "Bad"}}},
        ItemBatcher={"MaxItemsPerBatch": 3},
        # the first batch's three failed items are 60% of five: within; all five are not
        ToleratedFailurePercentage=70,
        Catch=[{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Next": "Caught"}],
    )
    definition["States"]["Reprocess"].pop("End")
    definition["States"]["Reprocess"]["Next"] = "Caught"
    definition["States"]["Caught"] = {"Type": "Pass", "Output": "{% $states.input %}", "End": True}

    described = _run(definition)

    assert json.loads(described["output"]) == {"Error": THRESHOLD[0], "Cause": THRESHOLD[1]}
    map_run = _map_run(described["executionArn"])
    assert _counts(map_run, "itemCounts") == {
        "total": 5,
        "succeeded": 0,
        "failed": 5,
        "pending": 0,
        "running": 0,
    }
    assert _counts(map_run, "executionCounts") == {
        "total": 2,
        "succeeded": 0,
        "failed": 2,
        "pending": 0,
        "running": 0,
    }


class HeldUntilStopped:
    """Holds each child that reaches a Pass state until its execution is stopped (bounded:
    ten seconds, then it goes on and succeeds), counting those inside."""

    def __init__(self) -> None:
        self.inside = 0

    def wrap(self, original: Callable[..., None]) -> Callable[..., None]:
        def held(pass_state: StatePass, env: Any) -> None:
            self.inside += 1
            deadline = time.monotonic() + 10
            while env.is_running() and time.monotonic() < deadline:
                env.program_state_event.wait(timeout=0.05)
            original(pass_state, env)

        return held


@pytest.mark.parametrize(("kind", "photo_1"), [("EXPRESS", "SUCCEEDED"), ("STANDARD", "ABORTED")])
def test_a_failed_map_run_aborts_standard_children_and_lets_express_ones_run_on(
    aws: Any, monkeypatch: pytest.MonkeyPatch, kind: str, photo_1: str
) -> None:
    """Photo 1 is held running until the map run fails for photo 2 (bounded): an Express
    execution cannot be stopped (StopExecution "is not supported by EXPRESS state machines"),
    so it runs on and succeeds; a Standard one is aborted."""
    runs: list[distributed_map.MapRun] = []
    keep = distributed_map._keep
    monkeypatch.setattr(distributed_map, "_keep", lambda run: (runs.append(run), keep(run)))
    pass_state = StatePass._eval_state

    def held(state: StatePass, env: Any) -> None:
        with runs[0].condition:
            runs[0].condition.wait_for(lambda: runs[0].stopping, timeout=10)
        pass_state(state, env)

    monkeypatch.setattr(StatePass, "_eval_state", held)
    writer = {
        "Resource": "arn:aws:states:::s3:putObject",
        "Arguments": {"Bucket": BUCKET, "Prefix": "out"},
    }
    definition = _distributed(_failing_ids("2"), kind=kind, MaxConcurrency=2, ResultWriter=writer)

    described = _run(definition)

    assert (described["status"], described["error"]) == ("FAILED", THRESHOLD[0])
    map_run = _map_run(described["executionArn"])
    folder = f"out/{map_run['mapRunArn'].rsplit(':', 1)[1]}/"
    files = _written(aws, f"{folder}manifest.json")["ResultFiles"]
    written = [
        (entry["Status"], json.loads(entry["Input"])["id"])
        for status in ("SUCCEEDED", "FAILED")
        for result_file in files[status]
        for entry in _written(aws, result_file["Key"])
    ]
    assert sorted(written) == sorted([(photo_1, "1"), ("FAILED", "2")])
    assert map_run["itemCounts"]["pending"] == 3


def test_a_stopped_execution_aborts_its_map_run(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    held = HeldUntilStopped()
    monkeypatch.setattr(StatePass, "_eval_state", held.wrap(StatePass._eval_state))
    sfn = _sfn()
    machine = sfn.create_state_machine(
        name="Machine", definition=json.dumps(_distributed(PASS, MaxConcurrency=1)), roleArn=ROLE
    )["stateMachineArn"]
    arn = sfn.start_execution(
        stateMachineArn=machine,
        input=json.dumps({"manifest": {"bucket": BUCKET, "key": "photos.csv"}}),
    )["executionArn"]
    poll(lambda: held.inside, lambda inside: inside == 1, what="the first child running")

    sfn.stop_execution(executionArn=arn)

    map_run_arn = sfn.list_map_runs(executionArn=arn)["mapRuns"][0]["mapRunArn"]
    map_run = poll(
        lambda: sfn.describe_map_run(mapRunArn=map_run_arn),
        lambda answer: answer["status"] != "RUNNING",
        what="the end of the map run",
    )
    assert map_run["status"] == "ABORTED"
    assert _counts(map_run, "executionCounts") == {
        "total": 5,
        "succeeded": 0,
        "failed": 0,
        "pending": 4,
        "running": 0,
    }
    assert map_run["executionCounts"]["aborted"] == 1


# ----------------------------------------------------------------- 63. ResultWriter
def _written(s3: Any, key: str) -> Any:
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def test_results_are_written_where_and_as_aws_writes_them(aws: Any) -> None:
    definition = _distributed(
        _failing_ids("4"),
        ItemBatcher={"MaxItemsPerBatch": 2},
        ToleratedFailureCount=2,
        ResultWriter={
            "Resource": "arn:aws:states:::s3:putObject",
            "Arguments": {"Bucket": BUCKET, "Prefix": "reprocess/results"},
        },
    )
    definition["States"]["Reprocess"]["ItemProcessor"]["States"]["Good"]["Output"] = {"ok": True}
    definition["States"]["Reprocess"]["ItemProcessor"]["StartAt"] = "Check"
    # each child sees its batch: it fails when a photo of its batch is photo 4
    condition = "{% '4' in $states.input.Items.id %}"
    definition["States"]["Reprocess"]["ItemProcessor"]["States"]["Check"]["Choices"][0][
        "Condition"
    ] = condition
    definition["States"]["Reprocess"]["ItemProcessor"]["States"]["Bad"]["Cause"] = "photo 4"

    described = _run(definition)

    result = json.loads(described["output"])
    match = MAP_RUN_ARN.match(result["MapRunArn"])
    assert match, result
    folder = f"reprocess/results/{match.group(1)}/"
    assert result == {
        "MapRunArn": result["MapRunArn"],
        "ResultWriterDetails": {"Bucket": BUCKET, "Key": f"{folder}manifest.json"},
    }
    manifest = _written(aws, f"{folder}manifest.json")
    sizes = {
        status: aws.head_object(Bucket=BUCKET, Key=f"{folder}{status}_0.json")["ContentLength"]
        for status in ("SUCCEEDED", "FAILED")
    }
    assert manifest == {
        "DestinationBucket": BUCKET,
        "MapRunArn": result["MapRunArn"],
        "ResultFiles": {
            "FAILED": [{"Key": f"{folder}FAILED_0.json", "Size": sizes["FAILED"]}],
            "PENDING": [],
            "SUCCEEDED": [{"Key": f"{folder}SUCCEEDED_0.json", "Size": sizes["SUCCEEDED"]}],
        },
    }
    succeeded = _written(aws, f"{folder}SUCCEEDED_0.json")
    failed = _written(aws, f"{folder}FAILED_0.json")
    child_machine = "arn:aws:states:us-east-1:123456789012:stateMachine:Machine/Reprocess"
    assert [sorted(entry) for entry in succeeded] == [
        [
            "ExecutionArn",
            "Input",
            "InputDetails",
            "Name",
            "Output",
            "OutputDetails",
            "RedriveCount",
            "RedriveStatus",
            "RedriveStatusReason",
            "StartDate",
            "StateMachineArn",
            "Status",
            "StopDate",
        ]
    ] * 2
    first = succeeded[0]
    assert {
        key: first[key]
        for key in first
        if key not in ("ExecutionArn", "Name") and "Date" not in key
    } == {
        "Input": '{"Items":[{"id":"1","size":"10"},{"id":"2","size":"20"}]}',
        "InputDetails": {"Included": True},
        "Output": '{"ok":true}',
        "OutputDetails": {"Included": True},
        "RedriveCount": 0,
        "RedriveStatus": "NOT_REDRIVABLE",
        "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
        "StateMachineArn": child_machine,
        "Status": "SUCCEEDED",
    }
    assert first["ExecutionArn"] == (
        f"arn:aws:states:us-east-1:123456789012:execution:Machine/Reprocess:{first['Name']}"
    )
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", first["StartDate"])
    assert [
        {key: entry[key] for key in ("Error", "Cause", "Status", "RedriveStatus", "Input")}
        for entry in failed
    ] == [
        {
            "Error": "Bad",
            "Cause": "photo 4",
            "Status": "FAILED",
            "RedriveStatus": "REDRIVABLE_BY_MAP_RUN",
            "Input": '{"Items":[{"id":"3","size":"30"},{"id":"4","size":"40"}]}',
        }
    ]
    assert "Output" not in failed[0]


def test_children_not_started_when_the_run_fails_are_written_as_pending(aws: Any) -> None:
    definition = _distributed(
        _failing_ids("1"),
        MaxConcurrency=1,
        ResultWriter={
            "Resource": "arn:aws:states:::s3:putObject",
            "Arguments": {"Bucket": BUCKET, "Prefix": "out"},
        },
    )

    described = _run(definition)

    assert (described["status"], described["error"]) == ("FAILED", THRESHOLD[0])
    map_run = _map_run(described["executionArn"])
    folder = f"out/{map_run['mapRunArn'].rsplit(':', 1)[1]}/"
    manifest = _written(aws, f"{folder}manifest.json")
    assert [
        len(manifest["ResultFiles"][status]) for status in ("FAILED", "PENDING", "SUCCEEDED")
    ] == [1, 1, 0]
    pending = _written(aws, f"{folder}PENDING_0.json")
    assert [entry["Input"] for entry in pending] == [
        '{"id":"2","size":"20"}',
        '{"id":"3","size":"30"}',
        '{"id":"4","size":"40"}',
        '{"id":"5","size":"50"}',
    ]
    assert _counts(map_run, "itemCounts") == {
        "total": 5,
        "succeeded": 0,
        "failed": 1,
        "pending": 4,
        "running": 0,
    }


@pytest.mark.parametrize(
    ("transformation", "expected"),
    [("COMPACT", [[1, 2], [3]]), ("FLATTEN", [1, 2, 3])],
)
def test_a_writer_config_alone_shapes_the_state_output(
    aws: Any, transformation: str, expected: list[Any]
) -> None:
    aws.put_object(Bucket=BUCKET, Key="photos.csv", Body=b"id\n1\n2\n3\n")
    processor = {
        "StartAt": "Ids",
        "States": {
            "Ids": {
                "Type": "Pass",
                "Output": "{% [$states.input.Items.$number(id)] %}",
                "End": True,
            }
        },
    }
    definition = _distributed(
        processor,
        ItemBatcher={"MaxItemsPerBatch": 2},
        ResultWriter={"WriterConfig": {"Transformation": transformation, "OutputType": "JSON"}},
    )

    described = _run(definition)

    assert json.loads(described["output"]) == expected


# ----------------------------------------------------------------- 64. map run APIs
def test_map_runs_and_their_child_executions_are_answered_as_aws_answers(aws: Any) -> None:
    described = _run(_distributed(_failing_ids("3"), MaxConcurrency=2, ToleratedFailureCount=1))

    execution_arn = described["executionArn"]
    listed = _sfn().list_map_runs(executionArn=execution_arn)["mapRuns"]
    map_run = _map_run(execution_arn)
    map_run_arn = map_run["mapRunArn"]
    children = _sfn().list_executions(mapRunArn=map_run_arn)["executions"]

    assert MAP_RUN_ARN.match(map_run_arn), map_run_arn
    assert [sorted(run) for run in listed] == [
        ["executionArn", "mapRunArn", "startDate", "stateMachineArn", "stopDate"]
    ]
    assert listed[0]["stateMachineArn"] == (
        "arn:aws:states:us-east-1:123456789012:stateMachine:Machine/Reprocess"
    )
    assert sorted(map_run) == [
        "ResponseMetadata",
        "executionArn",
        "executionCounts",
        "itemCounts",
        "mapRunArn",
        "maxConcurrency",
        "redriveCount",
        "startDate",
        "status",
        "stopDate",
        "toleratedFailureCount",
        "toleratedFailurePercentage",
    ]
    assert sorted(map_run["itemCounts"]) == [
        "aborted",
        "failed",
        "failuresNotRedrivable",
        "pending",
        "pendingRedrive",
        "resultsWritten",
        "running",
        "succeeded",
        "timedOut",
        "total",
    ]
    assert (map_run["maxConcurrency"], map_run["redriveCount"]) == (2, 0)
    assert sorted(child["status"] for child in children) == ["FAILED"] + ["SUCCEEDED"] * 4
    assert {child["mapRunArn"] for child in children} == {map_run_arn}
    assert {child["itemCount"] for child in children} == {1}
    failed = _sfn().list_executions(mapRunArn=map_run_arn, statusFilter="FAILED")["executions"]
    assert len(failed) == 1
    child = _sfn().describe_execution(executionArn=failed[0]["executionArn"])
    assert {key: child[key] for key in child if key not in ("startDate", "stopDate", "name")} == {
        "executionArn": failed[0]["executionArn"],
        "stateMachineArn": listed[0]["stateMachineArn"],
        "status": "FAILED",
        "input": '{"id":"3","size":"30"}',
        "inputDetails": {"included": True},
        "mapRunArn": map_run_arn,
        "error": "Bad",
        "cause": "photo 3",
        "redriveCount": 0,
        "redriveStatus": "REDRIVABLE_BY_MAP_RUN",
        "ResponseMetadata": child["ResponseMetadata"],
    }


def test_express_children_are_not_listed(aws: Any) -> None:
    described = _run(_distributed(PASS, kind="EXPRESS"))
    map_run_arn = _map_run(described["executionArn"])["mapRunArn"]

    with pytest.raises(ClientError) as raised:
        _sfn().list_executions(mapRunArn=map_run_arn)

    assert raised.value.response["Error"]["Code"] == "StateMachineTypeNotSupported"


def test_an_update_of_max_concurrency_applies_to_the_running_map_run(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two children that must meet: with MaxConcurrency 1 only UpdateMapRun lets them."""
    aws.put_object(Bucket=BUCKET, Key="photos.csv", Body=b"id\n1\n2\n")
    probe = ConcurrencyProbe(parties=2)
    monkeypatch.setattr(StatePass, "_eval_state", probe.wrap(StatePass._eval_state))
    sfn = _sfn()
    machine = sfn.create_state_machine(
        name="Machine", definition=json.dumps(_distributed(PASS, MaxConcurrency=1)), roleArn=ROLE
    )["stateMachineArn"]
    arn = sfn.start_execution(
        stateMachineArn=machine,
        input=json.dumps({"manifest": {"bucket": BUCKET, "key": "photos.csv"}}),
    )["executionArn"]
    poll(lambda: probe.inside, lambda inside: inside == 1, what="the first child waiting")
    map_run_arn = sfn.list_map_runs(executionArn=arn)["mapRuns"][0]["mapRunArn"]

    sfn.update_map_run(mapRunArn=map_run_arn, maxConcurrency=2)

    described = poll(
        lambda: sfn.describe_execution(executionArn=arn),
        lambda answer: answer["status"] != "RUNNING",
        timeout=20,
        what=f"end of {arn}",
    )
    assert described["status"] == "SUCCEEDED", described
    assert probe.most == 2
    assert sfn.describe_map_run(mapRunArn=map_run_arn)["maxConcurrency"] == 2


# ----------------------------------------------------------------- 65. Map Run redrive
def _failing_until_redriven(*ids: str) -> dict[str, Any]:
    """Children whose one state fails for the photos ``ids`` until the child is redriven (its
    own ``$states.context.Execution.RedriveCount``), and passes otherwise: a redriven child
    resumes at the state that failed."""
    failing = (
        f"$states.input.id in {json.dumps(list(ids))}"
        " and $states.context.Execution.RedriveCount = 0"
    )
    work = {
        "Type": "Pass",
        "Output": f"{{% {failing} ? $error('photo ' & $states.input.id) : $states.input %}}",
        "End": True,
    }
    return {"StartAt": "Work", "States": {"Work": work}}


def _redrive(execution_arn: str) -> dict[str, Any]:
    _sfn().redrive_execution(executionArn=execution_arn)
    described: dict[str, Any] = poll(
        lambda: _sfn().describe_execution(executionArn=execution_arn),
        lambda answer: answer["status"] != "RUNNING",
        timeout=20,
        what=f"end of the redrive of {execution_arn}",
    )
    return described


def test_a_redriven_parent_redrives_the_failed_children_of_its_map_run(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered: list[str] = []  # the children that ran their Pass state, by execution ARN
    original = StatePass._eval_state

    def counted(pass_state: StatePass, env: Any) -> None:
        entered.append(env.states.context_object.context_object_data["Execution"]["Id"])
        original(pass_state, env)

    monkeypatch.setattr(StatePass, "_eval_state", counted)
    # one by one, the last two children fail: the run exceeds its tolerance at the last one
    processor = _failing_until_redriven("4", "5")
    first = _run(_distributed(processor, MaxConcurrency=1, ToleratedFailureCount=1))
    map_run_arn = _map_run(first["executionArn"])["mapRunArn"]
    failed = _sfn().list_executions(mapRunArn=map_run_arn, statusFilter="FAILED")["executions"]

    described = _redrive(first["executionArn"])

    assert (first["status"], first["error"]) == ("FAILED", THRESHOLD[0])
    assert described["status"] == "SUCCEEDED", described
    children = _sfn().list_executions(mapRunArn=map_run_arn)["executions"]
    redriven = sorted(child["executionArn"] for child in children if child["redriveCount"] == 1)
    assert redriven == sorted(child["executionArn"] for child in failed)
    assert len(redriven) == 2
    assert sorted(child["status"] for child in children) == ["SUCCEEDED"] * 5
    assert sorted(entered[:5]) == sorted(child["executionArn"] for child in children)
    assert sorted(entered[5:]) == redriven  # none that had succeeded ran again
    map_run = _sfn().describe_map_run(mapRunArn=map_run_arn)
    assert (map_run["status"], map_run["redriveCount"]) == ("SUCCEEDED", 1)
    assert "redriveDate" in map_run
    assert _counts(map_run, "itemCounts") == {
        "total": 5,
        "succeeded": 5,
        "failed": 0,
        "pending": 0,
        "running": 0,
    }
    runs = _sfn().list_map_runs(executionArn=first["executionArn"])["mapRuns"]
    assert [run["mapRunArn"] for run in runs] == [map_run_arn]
    redriven_events = [
        details
        for event_type, details in _events(first["executionArn"])
        if event_type in ("MapRunStarted", "MapRunRedriven")
    ]
    assert redriven_events == [
        {"mapRunArn": map_run_arn},
        {"mapRunArn": map_run_arn, "redriveCount": 1},
    ]


def test_express_children_of_a_redriven_map_run_start_again_as_new_executions(aws: Any) -> None:
    processor = _failing_until_redriven("2")
    processor["States"]["Work"]["Output"] = (
        "{% $states.input.id = '2' ? $error('redrives: '"
        " & $string($states.context.Execution.RedriveCount)) : $states.input %}"
    )
    writer = {
        "Resource": "arn:aws:states:::s3:putObject",
        "Arguments": {"Bucket": BUCKET, "Prefix": "out"},
    }
    first = _run(_distributed(processor, kind="EXPRESS", ResultWriter=writer))
    map_run_arn = _map_run(first["executionArn"])["mapRunArn"]
    failed_file = f"out/{map_run_arn.rsplit(':', 1)[1]}/FAILED_0.json"
    # (children still running when photo 2 failed were aborted: FAILED_0.json has them too)
    before = [entry for entry in _written(aws, failed_file) if entry["Status"] == "FAILED"]

    described = _redrive(first["executionArn"])

    after = [entry for entry in _written(aws, failed_file) if entry["Status"] == "FAILED"]
    assert (described["status"], described["error"]) == ("FAILED", THRESHOLD[0])
    assert [(entry["Cause"][-11:], entry["RedriveCount"]) for entry in before + after] == [
        ("redrives: 0", 0),
        ("redrives: 0", 0),
    ]
    assert before[0]["ExecutionArn"] != after[0]["ExecutionArn"]
    assert after[0]["Input"] == before[0]["Input"] == '{"id":"2","size":"20"}'
    assert _sfn().describe_map_run(mapRunArn=map_run_arn)["redriveCount"] == 1


def test_an_execution_before_its_map_run_lists_none(aws: Any) -> None:
    definition = _distributed(PASS)
    definition["States"]["Reprocess"].pop("End")
    definition["States"]["Reprocess"]["Next"] = "Never"
    definition["States"]["Never"] = {"Type": "Succeed"}
    definition["StartAt"] = "Wait"
    definition["States"]["Wait"] = {"Type": "Wait", "Seconds": 3600, "Next": "Reprocess"}
    sfn = _sfn()
    machine = sfn.create_state_machine(
        name="Machine", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]

    listed = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    with pytest.raises(ClientError) as raised:
        sfn.describe_map_run(mapRunArn=arn.replace(":execution:", ":mapRun:") + ":x")
    sfn.stop_execution(executionArn=arn)

    assert listed == []
    assert raised.value.response["Error"]["Code"] == "ResourceNotFound"


# ----------------------------------------------------------------- 66. inline Map iterations
def test_the_other_iterations_of_an_inline_map_stop_when_one_fails(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The three iterations start together (a bounded barrier); photo 1 fails, photos 2 and 3
    are held in their Pass state until their iteration is stopped (bounded). On AWS the
    others are aborted: none reaches its next state."""
    monkeypatch.setattr(StatePass, "_eval_state", HeldUntilStopped().wrap(StatePass._eval_state))
    together = threading.Barrier(3, timeout=10)
    reached: list[Any] = []
    choice = StateChoice._eval_state

    def marked(state: StateChoice, env: Any) -> None:
        if state.name == "First":
            together.wait()
        if state.name == "Next":
            reached.append(env.states.get_input())
        choice(state, env)

    monkeypatch.setattr(StateChoice, "_eval_state", marked)
    iteration = {
        "StartAt": "First",
        "States": {
            "First": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $states.input = 1 %}", "Next": "Bad"}],
                "Default": "Hold",
            },
            "Bad": {"Type": "Fail", "Error": "Bad"},
            "Hold": {"Type": "Pass", "Next": "Next"},
            "Next": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% true %}", "Next": "Done"}],
            },
            "Done": {"Type": "Succeed"},
        },
    }
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Photos",
        "States": {
            "Photos": {
                "Type": "Map",
                "Items": "{% $states.input.photos %}",
                "ItemProcessor": iteration,
                "End": True,
            }
        },
    }

    described = _run(definition, {"photos": [1, 2, 3]})

    assert (described["status"], described["error"]) == ("FAILED", "Bad")
    history = poll(
        lambda: [event for event, _ in _events(described["executionArn"])],
        lambda types: types.count("MapIterationAborted") == 2,
        what="two aborted iterations",
    )
    assert history.count("MapIterationFailed") == 1
    assert reached == []
