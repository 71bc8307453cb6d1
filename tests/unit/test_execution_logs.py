"""An Express execution's history read back from its CloudWatch Logs events (what
`photoflow replay` takes for an execution that has no GetExecutionHistory)."""

from __future__ import annotations

import json

import pytest

from photoflow_local.execution_logs import NotAnExecutionLog, history_from_logs, is_execution_log

ARN = (
    "arn:aws:states:us-east-1:123456789012:express:Machine:one:1b4f0d9e-0c53-4bd0-9a5c-3f3c4d6e7a8b"
)
ROLE = "arn:aws:iam::123456789012:role/sfn"
# Logged as AWS writes them (recorded: LocalStack's logs/test_logs snapshot, pass_result ALL True).
LOGGED = [
    {
        "id": "1",
        "type": "ExecutionStarted",
        "details": {"input": "{}", "inputDetails": {"truncated": False}, "roleArn": ROLE},
        "previous_event_id": "0",
        "event_timestamp": "1796135051803",
        "execution_arn": ARN,
        "redrive_count": "0",
    },
    {
        "id": "2",
        "type": "PassStateEntered",
        "details": {"input": "{}", "inputDetails": {"truncated": False}, "name": "State_1"},
        "previous_event_id": "0",
        "event_timestamp": "1796135051804",
        "execution_arn": ARN,
        "redrive_count": "0",
    },
    {
        "id": "3",
        "type": "PassStateExited",
        "details": {"name": "State_1", "output": '{"Arg1":"argument1"}'},
        "previous_event_id": "2",
        "event_timestamp": "1796135051807",
        "execution_arn": ARN,
        "redrive_count": "0",
    },
    {
        "id": "4",
        "type": "ExecutionSucceeded",
        "details": {"output": '{"Arg1":"argument1"}'},
        "previous_event_id": "3",
        "event_timestamp": "1796135051807",
        "execution_arn": ARN,
        "redrive_count": "0",
    },
]
HISTORY = [
    {
        "timestamp": "2026-12-01T14:24:11.803000+00:00",
        "type": "ExecutionStarted",
        "id": 1,
        "previousEventId": 0,
        "executionStartedEventDetails": LOGGED[0]["details"],
    },
    {
        "timestamp": "2026-12-01T14:24:11.804000+00:00",
        "type": "PassStateEntered",
        "id": 2,
        "previousEventId": 0,
        "stateEnteredEventDetails": LOGGED[1]["details"],
    },
    {
        "timestamp": "2026-12-01T14:24:11.807000+00:00",
        "type": "PassStateExited",
        "id": 3,
        "previousEventId": 2,
        "stateExitedEventDetails": LOGGED[2]["details"],
    },
    {
        "timestamp": "2026-12-01T14:24:11.807000+00:00",
        "type": "ExecutionSucceeded",
        "id": 4,
        "previousEventId": 3,
        "executionSucceededEventDetails": LOGGED[3]["details"],
    },
]


def _filter_log_events(messages: list[dict[str, object]]) -> str:
    """`aws logs filter-log-events --output json`, newest first to show order does not matter."""
    events = [
        {
            "logStreamName": "states/Machine/2026-12-01-14-24/d6e7a8b",
            "timestamp": int(str(m["event_timestamp"])),
            "message": json.dumps(m),
            "ingestionTime": 1796135052000,
            "eventId": str(i),
        }
        for i, m in enumerate(reversed(messages))
    ]
    return json.dumps({"events": events, "searchedLogStreams": []})


def _export(messages: list[dict[str, object]]) -> str:
    """A CloudWatch Logs export to S3, unzipped: a line per event, its time, then its message."""
    return "".join(f"2026-12-01T14:24:11.803Z {json.dumps(m)}\n" for m in messages)


@pytest.mark.parametrize(
    "text",
    [_filter_log_events(LOGGED), _export(LOGGED), json.dumps(LOGGED)],
    ids=["filter-log-events", "export", "messages"],
)
def test_the_logged_events_are_the_execution_history(text: str) -> None:
    assert is_execution_log(text)
    assert history_from_logs(text) == (ARN, {"events": HISTORY})


def test_a_history_document_is_not_taken_for_logs() -> None:
    assert not is_execution_log(json.dumps({"events": HISTORY}))
    assert not is_execution_log("{not json")


def test_a_log_without_execution_data_cannot_be_replayed() -> None:
    bare = [{**m, "details": {"roleArn": ROLE}} if m["id"] == "1" else m for m in LOGGED]

    with pytest.raises(NotAnExecutionLog, match="IncludeExecutionData true"):
        history_from_logs(json.dumps(bare), "run.log")
    # (though it is a history to show, without its data)
    _, shown = history_from_logs(json.dumps(bare), "run.log", need_data=False)
    assert [event["type"] for event in shown["events"]] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]


def test_a_log_at_level_error_cannot_be_replayed() -> None:
    with pytest.raises(NotAnExecutionLog, match="needs the state machine's logging level ALL"):
        history_from_logs(json.dumps(LOGGED[1:]), "run.log")


def test_a_log_of_two_executions_says_how_to_keep_one() -> None:
    other = [{**m, "execution_arn": ARN.replace("one", "two")} for m in LOGGED]

    with pytest.raises(NotAnExecutionLog, match=r"run\.log holds 2 executions .*filter-pattern"):
        history_from_logs(json.dumps(LOGGED + other), "run.log")
