"""TestState and ValidateStateMachineDefinition on the local endpoint, through boto3, the AWS
CLI and `photoflow test-state`, as a developer uses them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from photoflow_local.stack import LocalStack
from tests.e2e.test_aws_cli import aws
from tests.support import ROOT, photoflow

CHOICE = {
    "Type": "Choice",
    "Choices": [{"Variable": "$.width", "NumericGreaterThan": 2048, "Next": "Shrink"}],
    "Default": "Keep",
}


def test_test_state_through_boto3(local_stack: LocalStack) -> None:
    sfn = local_stack.client("stepfunctions")
    answer = sfn.test_state(
        definition=json.dumps(CHOICE), input=json.dumps({"width": 4000}), inspectionLevel="DEBUG"
    )
    assert (answer["status"], answer["nextState"]) == ("SUCCEEDED", "Shrink")
    assert json.loads(answer["inspectionData"]["afterInputPath"]) == {"width": 4000}


def test_test_state_and_validation_through_the_aws_cli(local_stack: LocalStack) -> None:
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::dynamodb:updateItem",
        "Parameters": {"TableName": "Photos", "Key": {"photoId": {"S.$": "$.id"}}},
        "Retry": [{"ErrorEquals": ["Photo.Busy"], "MaxAttempts": 2}],
        "Catch": [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}
        ],
        "End": True,
    }
    answer = aws(
        local_stack,
        "stepfunctions",
        "test-state",
        "--definition",
        json.dumps(task),
        "--input",
        json.dumps({"id": "p1"}),
        "--mock",
        json.dumps({"errorOutput": {"error": "Photo.Busy", "cause": "down"}}),
        "--state-configuration",
        json.dumps({"retrierRetryCount": 2}),
    )
    assert (answer["status"], answer["nextState"]) == ("CAUGHT_ERROR", "RecordFailure")
    assert json.loads(answer["output"]) == {
        "id": "p1",
        "error": {"Error": "Photo.Busy", "Cause": "down"},
    }
    validation = aws(
        local_stack,
        "stepfunctions",
        "validate-state-machine-definition",
        "--definition",
        json.dumps({"States": {}}),
    )
    assert validation["result"] == "FAIL"
    assert [d["code"] for d in validation["diagnostics"]] == ["SCHEMA_VALIDATION_FAILED"]


def test_photoflow_test_state(running: tuple[Path, dict[str, Any]]) -> None:
    workdir, _ = running
    state_file = workdir / "choice.json"
    state_file.write_text(json.dumps(CHOICE))
    shown = photoflow(
        workdir,
        "test-state",
        "--definition",
        str(state_file),
        "--input",
        '{"width": 100}',
        "--json",
    )
    assert shown.returncode == 0, shown.stderr
    answer = json.loads(shown.stdout)
    assert (answer["status"], answer["nextState"]) == ("SUCCEEDED", "Keep")

    # A state of the template's workflow, its service call mocked to fail: its Catch takes it
    template = ROOT / "template.yaml"
    photo = {"id": "p1", "key": "uploads/p1/a.jpg", "filename": "a.jpg"}
    caught = photoflow(
        workdir,
        "test-state",
        "--template",
        str(template),
        "--state",
        "MarkProcessing",
        "--input",
        json.dumps({"photo": photo}),
        "--mock-error",
        "Photo.Gone",
        "--mock-cause",
        "deleted",
    )
    assert caught.returncode == 0, caught.stdout + caught.stderr
    assert "status      CAUGHT_ERROR" in caught.stdout
    assert "next state  RecordFailure" in caught.stdout
    assert "error       Photo.Gone: deleted" in caught.stdout

    # Without the photo in its input, the Catch's own Assign fails: the state FAILED (exit 1)
    failed = photoflow(
        workdir,
        "test-state",
        "--template",
        str(template),
        "--state",
        "MarkProcessing",
        "--mock-error",
        "Photo.Gone",
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "status      FAILED" in failed.stdout
    assert "error       States.QueryEvaluationError" in failed.stdout
    shown_text = " ".join(failed.stdout.split())  # long lines wrap at the terminal's width
    assert "for the field 'Assign/photo' returned nothing (undefined)" in shown_text
