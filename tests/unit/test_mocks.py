"""Generated MockConfigFile results: what a state machine reads from each Task's result."""

from __future__ import annotations

from typing import Any

from photoflow_local import mocks


def _lambda(**fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", **fields}


def test_a_jsonpath_result_selector_gets_its_fields() -> None:
    spec = _lambda(ResultSelector={"size.$": "$.Payload.image.size", "fixed": "$.not.a.path"})
    assert mocks._placeholder_result(spec) == {
        "Payload": {"image": {"size": "mocked"}},
        "StatusCode": 200,
    }


def test_a_jsonata_result_gets_what_its_state_and_its_variables_readers_read() -> None:
    # Given a Task that keeps part of its result in a variable, read further by a later state
    describe = _lambda(
        Assign={"info": "{% $states.result.Payload.info %}", "count": 1},
        Output={"id": "{% $states.result.Payload.id %}"},
        Next="Announce",
    )
    announce = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sns:publish",
        "Arguments": {"Message": "{% $info.format & ' ' & $string($info.size.bytes) %}"},
        "End": True,
    }
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Describe",
        "States": {"Describe": describe, "Announce": announce},
    }

    # Then its placeholder result has every field read, nested where they are read
    assert mocks._placeholder_result(describe, definition) == {
        "Payload": {
            "info": {"format": "mocked", "size": {"bytes": "mocked"}},
            "id": "mocked",
        },
        "StatusCode": 200,
    }
    assert mocks._placeholder_result(announce, definition) == {}


def test_a_branchs_output_is_followed_through_the_merge_its_parallel_assigns() -> None:
    # Given a Parallel whose branches' outputs are merged into a variable, and a later state
    # reading a field of one branch's output deeper than the branch selected it
    thumbnails = _lambda(
        Output={
            "pixels": "{% $states.result.Payload.pixels %}",
            "kept": "{% $states.result.Payload.kept %}",
        },
        End=True,
    )
    record = {
        "Type": "Task",
        "Resource": "arn:aws:states:::dynamodb:updateItem",
        "Arguments": {"Item": {"hash": "{% $substring($derivatives.pixels.phash, 0, 4) %}"}},
        "End": True,
    }
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Make",
        "States": {
            "Make": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "Thumbnails", "States": {"Thumbnails": thumbnails}}],
                "Assign": {"derivatives": "{% $merge($states.result) %}"},
                "Next": "Record",
            },
            "Record": record,
        },
    }

    # Then the branch's placeholder result has the field read behind the merge
    assert mocks._placeholder_result(thumbnails, definition) == {
        "Payload": {"pixels": {"phash": "mocked"}, "kept": "mocked"},
        "StatusCode": 200,
    }
