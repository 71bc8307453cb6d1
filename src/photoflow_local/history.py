"""Execution histories as a per-state timeline: durations, attempts, results, errors.

Works on GetExecutionHistory events as the API (or ``aws stepfunctions
get-execution-history --output json``) returns them, from AWS or local. A redriven
execution's history goes on after its end with ``ExecutionRedriven``: the states of every
attempt are in one timeline, each run knowing its attempt, and the timeline knows where
each redrive began and how the attempt before it ended.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

_ATTEMPT_EVENTS = {"TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled"}
_SUCCESS_EVENTS = {
    "TaskSucceeded": "taskSucceededEventDetails",
    "LambdaFunctionSucceeded": "lambdaFunctionSucceededEventDetails",
    "ActivitySucceeded": "activitySucceededEventDetails",
}
_FAILURE_EVENTS = {
    "TaskFailed": "taskFailedEventDetails",
    "TaskTimedOut": "taskTimedOutEventDetails",
    "TaskSubmitFailed": "taskSubmitFailedEventDetails",
    "TaskStartFailed": "taskStartFailedEventDetails",
    "LambdaFunctionFailed": "lambdaFunctionFailedEventDetails",
    "LambdaFunctionTimedOut": "lambdaFunctionTimedOutEventDetails",
    "LambdaFunctionStartFailed": "lambdaFunctionStartFailedEventDetails",
    "LambdaFunctionScheduleFailed": "lambdaFunctionScheduleFailedEventDetails",
    "ActivityFailed": "activityFailedEventDetails",
    "ActivityTimedOut": "activityTimedOutEventDetails",
}
_EXECUTION_ENDS = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}
_CONTAINERS = {"Parallel", "Map"}
_CONTAINER_ENDS = {
    "ParallelStateFailed",
    "MapStateFailed",
    "ParallelStateAborted",
    "MapStateAborted",
}


@dataclass(frozen=True)
class TaskOutcome:
    """One attempt of a Task: what it returned, or the error it raised."""

    output: Any = None
    error: str | None = None
    cause: str | None = None
    truncated: bool = False

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass
class StateRun:
    name: str
    kind: str  # Task, Parallel, Map, Pass, ...
    entered: datetime
    entered_event_id: int
    parent: StateRun | None = None  # the Parallel or Map state it ran inside
    exited: datetime | None = None
    input: Any = None
    output: Any = None
    input_truncated: bool = False
    output_truncated: bool = False
    attempts: int = 0
    outcomes: list[TaskOutcome] = field(default_factory=list)
    failed: bool = False  # a Parallel or Map that failed (a branch or iteration failed)
    redrive: int = 0  # the attempt it ran in: 0 before any redrive, then the redrive count

    @property
    def errors(self) -> list[tuple[str, str]]:
        return [(o.error or "", o.cause or "") for o in self.outcomes if o.failed]

    @property
    def duration_ms(self) -> float | None:
        if self.exited is None:
            return None
        return (self.exited - self.entered).total_seconds() * 1000

    @property
    def depth(self) -> int:
        return 0 if self.parent is None else self.parent.depth + 1


@dataclass(frozen=True)
class Redrive:
    """Where a redrive began: its count, how many state runs came before it, and how the
    attempt it redrove had ended."""

    count: int
    position: int
    after_status: str
    after_error: tuple[str, str] | None


@dataclass
class Timeline:
    states: list[StateRun]
    status: str  # SUCCEEDED, FAILED, TIMED_OUT, ABORTED, RUNNING (of the last attempt)
    started: datetime | None
    stopped: datetime | None
    error: tuple[str, str] | None
    input: Any = None
    input_truncated: bool = False
    redrives: list[Redrive] = field(default_factory=list)

    @property
    def path(self) -> list[str]:
        return [state.name for state in self.states]

    @property
    def duration_ms(self) -> float | None:
        if self.started is None or self.stopped is None:
            return None
        return (self.stopped - self.started).total_seconds() * 1000

    def canonical(self) -> list[StateRun]:
        """The states in a stable order: branches and iterations of a Parallel or Map,
        which run concurrently, follow their parent sorted by name."""
        children: dict[int, list[StateRun]] = {}
        roots: list[StateRun] = []
        for state in self.states:
            if state.parent is None:
                roots.append(state)
            else:
                children.setdefault(id(state.parent), []).append(state)

        ordered: list[StateRun] = []

        def emit(run: StateRun) -> None:
            ordered.append(run)
            for child in sorted(
                children.get(id(run), []), key=lambda c: (c.name, c.entered_event_id)
            ):
                emit(child)

        for root in roots:
            emit(root)
        return ordered


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


def _truncated(details: dict[str, Any], key: str) -> bool:
    return bool(details.get(key, {}).get("truncated"))


class _Builder:
    """Folds history events, in id order, into a Timeline."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.by_id = {event["id"]: event for event in events}
        self.runs: dict[int, StateRun] = {}
        self.open_by_name: dict[str, list[StateRun]] = {}
        self.open_containers: list[StateRun] = []
        self.timeline = Timeline([], "RUNNING", None, None, None)

    def owner(self, event: dict[str, Any]) -> StateRun | None:
        """The state an event belongs to, found through its previousEventId chain."""
        seen = set()
        current: dict[str, Any] | None = event
        while current is not None and current["id"] not in seen:
            seen.add(current["id"])
            if current["id"] in self.runs:
                return self.runs[current["id"]]
            current = self.by_id.get(current.get("previousEventId", 0))
        return None

    def entered(self, event: dict[str, Any], kind: str, when: datetime) -> None:
        details = event.get("stateEnteredEventDetails", {})
        run = StateRun(
            name=details.get("name", "?"),
            kind=kind[: -len("StateEntered")],
            entered=when,
            entered_event_id=event["id"],
            parent=self.open_containers[-1] if self.open_containers else None,
            input=_json(details.get("input")),
            input_truncated=_truncated(details, "inputDetails"),
            redrive=len(self.timeline.redrives),
        )
        self.runs[event["id"]] = run
        self.open_by_name.setdefault(run.name, []).append(run)
        self.timeline.states.append(run)
        if run.kind in _CONTAINERS:
            self.open_containers.append(run)

    def exited(self, event: dict[str, Any], when: datetime) -> None:
        details = event.get("stateExitedEventDetails", {})
        stack = self.open_by_name.get(details.get("name", "?"), [])
        if stack:
            run = stack.pop(0)
            run.exited = when
            run.output = _json(details.get("output"))
            run.output_truncated = _truncated(details, "outputDetails")
            if run in self.open_containers:
                self.open_containers.remove(run)

    def outcome(self, event: dict[str, Any], kind: str) -> None:
        found = self.owner(event)
        if found is None:
            return
        if kind in _ATTEMPT_EVENTS:
            found.attempts += 1
        elif kind in _SUCCESS_EVENTS:
            details = event.get(_SUCCESS_EVENTS[kind], {})
            output = _json(details.get("output"))
            found.outcomes.append(
                TaskOutcome(output=output, truncated=_truncated(details, "outputDetails"))
            )
        else:
            details = event.get(_FAILURE_EVENTS[kind], {})
            found.outcomes.append(
                TaskOutcome(error=details.get("error", ""), cause=details.get("cause", ""))
            )

    def execution(self, event: dict[str, Any], kind: str, when: datetime) -> None:
        timeline = self.timeline
        if kind == "ExecutionStarted":
            details = event.get("executionStartedEventDetails", {})
            timeline.started = when
            timeline.input = _json(details.get("input"))
            timeline.input_truncated = _truncated(details, "inputDetails")
        elif kind == "ExecutionFailed":
            details = event.get("executionFailedEventDetails", {})
            timeline.status, timeline.stopped = "FAILED", when
            timeline.error = (details.get("error", ""), details.get("cause", ""))
        elif kind in _EXECUTION_ENDS:
            timeline.status, timeline.stopped = _EXECUTION_ENDS[kind], when
        elif kind == "ExecutionRedriven":
            details = event.get("executionRedrivenEventDetails", {})
            timeline.redrives.append(
                Redrive(
                    count=int(details.get("redriveCount", len(timeline.redrives) + 1)),
                    position=len(timeline.states),
                    after_status=timeline.status,
                    after_error=timeline.error,
                )
            )
            # Nothing of the attempt before goes on: what was open was stopped with it.
            timeline.status, timeline.stopped, timeline.error = "RUNNING", None, None
            self.open_by_name.clear()
            self.open_containers.clear()

    def add(self, event: dict[str, Any]) -> None:
        kind: str = event["type"]
        when = _timestamp(event["timestamp"])
        if kind.endswith("StateEntered"):
            self.entered(event, kind, when)
        elif kind.endswith("StateExited"):
            self.exited(event, when)
        elif kind in _CONTAINER_ENDS:
            if self.open_containers:
                self.open_containers.pop().failed = True
        elif kind in _ATTEMPT_EVENTS or kind in _SUCCESS_EVENTS or kind in _FAILURE_EVENTS:
            self.outcome(event, kind)
        elif kind.startswith("Execution"):
            self.execution(event, kind, when)


def build_timeline(events: list[dict[str, Any]]) -> Timeline:
    builder = _Builder(events)
    for event in sorted(events, key=lambda e: e["id"]):
        builder.add(event)
    return builder.timeline
