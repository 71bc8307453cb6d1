"""What the interpreter does (patches 5, 7, 13, 15-18): the semantics of AWS's engine
where moto's differs (JSONPath, failures, JSONata, the context object, events)."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from typing import Any, SupportsIndex

from moto.stepfunctions.parser.api import (
    HistoryEventType,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.intrinsic import jsonata as intrinsic_jsonata
from moto.stepfunctions.parser.asl.component.state import state as state_module
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.event.event_manager import (
    EventHistoryContext,
    EventManager,
)
from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata
from moto.stepfunctions.parser.asl.parse import asl_parser  # noqa: F401 - loads every component
from moto.stepfunctions.parser.asl.utils import json_path
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from photoflow_local import aws_jsonata
from photoflow_local.patches.base import (
    failure_event,
    patch_module_function,
    replace,
    service_classes,
    set_attribute,
    state,
)

# ----------------------------------------------------------------- 5. definite JSONPaths
_INDEFINITE = re.compile(r"\*|\.\.|\?\(|\[[^\]]*[:,][^\]]*\]")


def extract_json(path: str, data: Any) -> Any:
    """moto's extract_json, except that a definite path yields its one value, as on AWS."""
    if not _INDEFINITE.search(path):
        matches = json_path.parse(path).find(data)
        if len(matches) == 1:
            return matches[0].value
    return state.originals["extract_json"](path, data)


# ----------------------------------------------------------------- 7. mocked service errors
def _keeps_failure_events(original: Callable[..., FailureEvent]) -> Callable[..., FailureEvent]:
    def _from_error(self: Any, env: Any, ex: Exception) -> FailureEvent:
        if isinstance(ex, FailureEventException):
            return ex.failure_event
        if isinstance(ex, json_path.NoSuchJsonPathError):
            raise FailureEventException(_no_such_path_failure(env, ex)) from None
        return original(self, env, ex)

    return _from_error


def _field_of(error: Exception) -> str | None:
    """The field whose evaluation raised ``error``: the innermost component with a field
    name on its way up (the state's own record of it is overwritten meanwhile)."""
    field = None
    trace = error.__traceback__
    while trace is not None:
        owner = trace.tb_frame.f_locals.get("self")
        if isinstance(owner, EvalComponent) and owner._field_name() is not None:
            field = owner._field_name()
        trace = trace.tb_next
    return field


def _no_such_path_failure(env: Environment, error: json_path.NoSuchJsonPathError) -> FailureEvent:
    field = _field_of(error) or env.next_field_name
    cause = (
        f"The JSONPath '{error.json_path}' specified for the field '{field}' could not be"
        f" found in the input '{json.dumps(error.data, separators=(',', ':'))}'"
    )
    return failure_event(
        env, StatesErrorNameType.StatesRuntime, HistoryEventType.TaskFailed, cause=cause
    )


# ----------------------------------------------------------------- 13. JSONata
def _no_function_declarations(variable_references: set[str]) -> str:
    return ""  # AWS's functions are registered with the evaluator itself


# ----------------------------------------------------------------- 15. context object
def aws_time(moment: datetime.datetime) -> str:
    """A time as Step Functions writes it in the context object: milliseconds, UTC, "Z"."""
    utc = moment.astimezone(datetime.UTC) if moment.tzinfo else moment
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class _AwsIsoDatetime(datetime.datetime):
    """What the state module's ``datetime.datetime.now(...).isoformat()`` gives: AWS's form."""

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        return aws_time(self)


class _DatetimeModule:
    """The state module's ``datetime``: the standard module with AWS's ISO format."""

    timezone = datetime.timezone
    datetime = _AwsIsoDatetime


def _get_evaluation_environment(self: ExecutionWorker) -> Environment:
    environment: Environment = state.originals["_get_evaluation_environment"](self)
    execution = environment.states.context_object.context_object_data["Execution"]
    start = execution.get("StartTime")
    if isinstance(start, datetime.datetime):
        execution["StartTime"] = aws_time(start)
    execution.setdefault("RedriveCount", 0)  # type: ignore[typeddict-item]
    return environment


# ----------------------------------------------------------------- 16. EvaluationFailed
_ENTERED_AFTER = "_photoflow_entered_after"  # on an EventHistoryContext
# The states whose EvaluationFailed events AWS links to what their entered event followed.
_LINKED_PAST_ENTERED = frozenset(
    {HistoryEventType.MapStateEntered, HistoryEventType.PassStateEntered}
)


def _add_event(
    self: EventManager,
    context: EventHistoryContext,
    event_type: HistoryEventType,
    event_details: Any = None,
    timestamp: Any = None,
    update_source_event_id: bool = True,
) -> int:
    if str(event_type).endswith("StateEntered"):
        linked_past = event_type in _LINKED_PAST_ENTERED
        setattr(context, _ENTERED_AFTER, context.source_event_id if linked_past else None)
    elif (
        event_type == HistoryEventType.EvaluationFailed
        and getattr(context, _ENTERED_AFTER, None) is not None
    ):
        context.source_event_id = getattr(context, _ENTERED_AFTER)
    event_id: int = state.originals["add_event"](
        self, context, event_type, event_details, timestamp, update_source_event_id
    )
    return event_id


# ----------------------------------------------------------------- 17. Map input
_MAP_INPUT_CAUSE = "Map state input must be an array but was: "
_ITEMS_TYPE_CAUSE = (
    "' for the field 'Items' returned",
    "' specified for the field 'Items' returned",
)


class _RememberingStack(list[Any]):
    """A state's value stack that keeps what was last taken from it."""

    last_popped: Any = None

    def pop(self, index: SupportsIndex = -1) -> Any:
        self.last_popped = super().pop(index)
        return self.last_popped


def _map_eval_execution(self: StateMap, env: Environment) -> None:
    stack = env.stack = _RememberingStack(env.stack)
    try:
        state.originals["map_eval_execution"](self, env)
    except FailureEventException as failure:
        event_details: dict[str, Any] = dict(failure.failure_event.event_details or {})
        details: dict[str, Any] = event_details.get("evaluationFailedEventDetails") or {}
        cause = str(details.get("cause", ""))
        if cause.startswith(_MAP_INPUT_CAUSE):
            shown = json.dumps(stack.last_popped, separators=(",", ":"), ensure_ascii=False)
            details["cause"] = _MAP_INPUT_CAUSE + shown
        elif _ITEMS_TYPE_CAUSE[0] in cause:
            details["cause"] = cause.replace(*_ITEMS_TYPE_CAUSE)
        raise
    finally:
        if env.stack is stack:
            env.stack = list(stack)


# ----------------------------------------------------------------- 18. Wait Timestamp
def _timestamp_failure(self: Timestamp, env: Environment, timestamp: Any) -> FailureEvent:
    return failure_event(
        env,
        StatesErrorNameType.StatesQueryEvaluationError,
        HistoryEventType.EvaluationFailed,
        cause="The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time"
        f" format string: {timestamp}",
        location="Timestamp",
    )


def _get_wait_seconds(self: Timestamp, env: Environment) -> int:
    """Record the EvaluationFailed event before the failure ends the execution (a Wait
    state has no error handling of its own that would record it)."""
    try:
        seconds: int = state.originals["get_wait_seconds"](self, env)
    except FailureEventException as failure:
        if failure.failure_event.event_type == HistoryEventType.EvaluationFailed:
            env.event_manager.add_event(
                context=env.event_history_context,
                event_type=HistoryEventType.EvaluationFailed,
                event_details=EventDetails(  # type: ignore[typeddict-item]
                    evaluationFailedEventDetails=failure.get_evaluation_failed_event_details()
                ),
            )
        raise
    return seconds


def install() -> None:
    state.originals["extract_json"] = json_path.extract_json
    patch_module_function("extract_json", extract_json)
    for service in service_classes(state_task_service.StateTaskService):
        if "_from_error" in vars(service):
            wrapped = _keeps_failure_events(vars(service)["_from_error"])
            set_attribute(service, "_from_error", wrapped)
    replace(moto_jsonata, "_eval_jsonata", aws_jsonata.evaluate)
    state.originals["get_intrinsic_functions_declarations"] = (
        intrinsic_jsonata.get_intrinsic_functions_declarations
    )
    patch_module_function("get_intrinsic_functions_declarations", _no_function_declarations)
    replace(ExecutionWorker, "_get_evaluation_environment", _get_evaluation_environment)
    replace(state_module, "datetime", _DatetimeModule, "state_datetime")
    replace(EventManager, "add_event", _add_event)
    replace(StateMap, "_eval_execution", _map_eval_execution, "map_eval_execution")
    # Only the JSONata (and literal) Timestamp: TimestampPath keeps its own, AWS's, failure.
    replace(Timestamp, "_create_failure_event", _timestamp_failure, "timestamp_failure")
    replace(Timestamp, "_get_wait_seconds", _get_wait_seconds, "get_wait_seconds")
