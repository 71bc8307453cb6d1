"""Execution histories as a per-state timeline: durations, attempts, errors.

Works on GetExecutionHistory events as the API (or ``aws stepfunctions
get-execution-history --output json``) returns them, from AWS or local.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

_ATTEMPT_EVENTS = {"TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled"}
_EXECUTION_ENDS = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}
_FAILURE_EVENTS = {
    "TaskFailed": "taskFailedEventDetails",
    "TaskTimedOut": "taskTimedOutEventDetails",
    "LambdaFunctionFailed": "lambdaFunctionFailedEventDetails",
    "LambdaFunctionTimedOut": "lambdaFunctionTimedOutEventDetails",
    "TaskSubmitFailed": "taskSubmitFailedEventDetails",
    "TaskStartFailed": "taskStartFailedEventDetails",
    "ExecutionFailed": "executionFailedEventDetails",
}


@dataclass
class StateRun:
    name: str
    kind: str  # Task, Parallel, Pass, ...
    entered: datetime
    entered_event_id: int
    exited: datetime | None = None
    input: Any = None
    output: Any = None
    attempts: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def duration_ms(self) -> float | None:
        if self.exited is None:
            return None
        return (self.exited - self.entered).total_seconds() * 1000

    @property
    def retries(self) -> int:
        return max(0, self.attempts - 1)


@dataclass
class Timeline:
    states: list[StateRun]
    status: str  # SUCCEEDED, FAILED, TIMED_OUT, ABORTED, RUNNING
    started: datetime | None
    stopped: datetime | None
    error: tuple[str, str] | None

    @property
    def path(self) -> list[str]:
        return [state.name for state in self.states]

    @property
    def duration_ms(self) -> float | None:
        if self.started is None or self.stopped is None:
            return None
        return (self.stopped - self.started).total_seconds() * 1000


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value)
    return datetime.fromisoformat(str(value))


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def build_timeline(events: list[dict[str, Any]]) -> Timeline:
    by_id = {event["id"]: event for event in events}
    runs: dict[int, StateRun] = {}
    open_by_name: dict[str, list[StateRun]] = {}
    ordered: list[StateRun] = []
    status, started, stopped, error = "RUNNING", None, None, None

    def owner(event: dict[str, Any]) -> StateRun | None:
        seen = set()
        current: dict[str, Any] | None = event
        while current is not None and current["id"] not in seen:
            seen.add(current["id"])
            if current["id"] in runs:
                return runs[current["id"]]
            current = by_id.get(current.get("previousEventId", 0))
        return None

    for event in sorted(events, key=lambda e: e["id"]):
        kind: str = event["type"]
        when = _timestamp(event["timestamp"])
        if kind.endswith("StateEntered"):
            details = event.get("stateEnteredEventDetails", {})
            run = StateRun(
                name=details.get("name", "?"),
                kind=kind[: -len("StateEntered")],
                entered=when,
                entered_event_id=event["id"],
                input=_json(details.get("input")),
            )
            runs[event["id"]] = run
            open_by_name.setdefault(run.name, []).append(run)
            ordered.append(run)
        elif kind.endswith("StateExited"):
            details = event.get("stateExitedEventDetails", {})
            stack = open_by_name.get(details.get("name", "?"), [])
            if stack:
                run = stack.pop(0)
                run.exited = when
                run.output = _json(details.get("output"))
        elif kind in _ATTEMPT_EVENTS:
            found = owner(event)
            if found is not None:
                found.attempts += 1
        elif kind in _FAILURE_EVENTS:
            details = event.get(_FAILURE_EVENTS[kind], {})
            pair = (details.get("error", ""), details.get("cause", ""))
            if kind == "ExecutionFailed":
                status, stopped, error = "FAILED", when, pair
            else:
                found = owner(event)
                if found is not None:
                    found.errors.append(pair)
        elif kind == "ExecutionStarted":
            started = when
        elif kind in _EXECUTION_ENDS:
            status, stopped = _EXECUTION_ENDS[kind], when
    return Timeline(ordered, status, started, stopped, error)
