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
