"""An execution's history read back from its CloudWatch Logs events.

An EXPRESS execution keeps no history in Step Functions: what it did exists only in the
log group its state machine's LoggingConfiguration names, one JSON message per history
event (``id``, ``type``, ``details``, ``previous_event_id``, ``event_timestamp``,
``execution_arn``, ``redrive_count``). Read here from what a person has in hand:

- ``aws logs filter-log-events --output json`` (one page or several, concatenated);
- a CloudWatch Logs export to S3 (lines of ``<timestamp> <message>``, unzipped);
- the messages themselves, one a line or as a JSON list.

A replay needs every event with its data: the level ALL and ``IncludeExecutionData``
true. A log written at ERROR or FATAL, or without execution data, is refused with the
reason, rather than replayed from half a history.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

import botocore.session

LOG_FIELDS = ("id", "type", "previous_event_id", "execution_arn")


class NotAnExecutionLog(ValueError):
    """Text that holds no execution log events, or not all an execution's (and why)."""


@cache
def _details_fields() -> dict[str, str]:
    """A history event's details field by the lower-case name it carries (from the API's own
    model: ``taskSucceededEventDetails``, ``stateEnteredEventDetails``, ...)."""
    model = botocore.session.get_session().get_service_model("stepfunctions")
    members = model.shape_for("HistoryEvent").members
    return {name.lower(): name for name in members if name.endswith("EventDetails")}


def details_field(event_type: str) -> str:
    """Where a history event of ``event_type`` keeps its details."""
    fields = _details_fields()
    if event_type.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if event_type.endswith("StateExited"):
        return "stateExitedEventDetails"
    return fields.get(
        f"{event_type}EventDetails".lower(), f"{event_type[:1].lower()}{event_type[1:]}EventDetails"
    )


def messages(text: str) -> list[dict[str, Any]]:
    """The logged events in ``text``, in whichever of the accepted shapes it is."""
    try:
        document: Any = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("events"), list):
        return [_message(event.get("message")) for event in document["events"]]
    if isinstance(document, list):
        return [_message(item) for item in document]
    if isinstance(document, dict):
        return [_message(document)]
    found = []
    for line in text.splitlines():
        if line.strip():
            found.append(_message(line[line.find("{") :] if "{" in line else line))
    return found


def _message(raw: Any) -> dict[str, Any]:
    message = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(message, dict) or any(field not in message for field in LOG_FIELDS):
        raise NotAnExecutionLog(
            f"not a Step Functions execution log event (it has no {', '.join(LOG_FIELDS)}):"
            f" {str(raw)[:120]}"
        )
    return message


def history_event(message: dict[str, Any]) -> dict[str, Any]:
    """The GetExecutionHistory event a logged event stands for."""
    event: dict[str, Any] = {
        "timestamp": datetime.fromtimestamp(
            int(message["event_timestamp"]) / 1000, UTC
        ).isoformat(),
        "type": message["type"],
        "id": int(message["id"]),
        "previousEventId": int(message["previous_event_id"]),
    }
    details = message.get("details")
    if details:
        event[details_field(str(message["type"]))] = details
    return event


def history_from_logs(
    text: str, source: str = "log", *, need_data: bool = True
) -> tuple[str, dict[str, Any]]:
    """The execution's ARN and its history (``{"events": [...]}``), from its log events;
    ``need_data``: refuse a log without execution data (a replay needs it)."""
    try:
        logged = messages(text)
    except ValueError as error:
        raise NotAnExecutionLog(f"{source}: {error}") from None
    executions = sorted({str(m["execution_arn"]) for m in logged})
    if not executions:
        raise NotAnExecutionLog(f"{source}: no execution log events")
    if len(executions) > 1:
        raise NotAnExecutionLog(
            f"{source} holds {len(executions)} executions ({', '.join(executions[:3])}"
            f"{', ...' * (len(executions) > 3)}): keep one, e.g. aws logs filter-log-events"
            f" --filter-pattern '{{ $.execution_arn = \"ARN\" }}'"
        )
    events = sorted((history_event(m) for m in logged), key=lambda e: e["id"])
    started = [e for e in events if e["type"] == "ExecutionStarted"]
    if not started or [e["id"] for e in events] != list(range(1, len(events) + 1)):
        raise NotAnExecutionLog(
            f"{source}: not every event of {executions[0]} is in the log (logged at a level"
            " other than ALL, or a part of the log is missing): replay needs the state"
            " machine's logging level ALL"
        )
    if need_data and "input" not in started[0].get("executionStartedEventDetails", {}):
        raise NotAnExecutionLog(
            f"{source}: the log has no execution data (IncludeExecutionData false): replay"
            " needs the state machine's logging with IncludeExecutionData true"
        )
    return executions[0], {"events": events}


def is_execution_log(text: str) -> bool:
    """Whether ``text`` is execution log events (in an accepted shape) rather than, say, a
    GetExecutionHistory document."""
    try:
        document: Any = json.loads(text)
    except ValueError:
        return '"execution_arn"' in text
    if isinstance(document, dict):
        events = document.get("events")
        first = events[0] if isinstance(events, list) and events else None
        return isinstance(first, dict) and "message" in first
    if isinstance(document, list):
        return bool(document) and isinstance(document[0], dict) and "execution_arn" in document[0]
    return False
