"""Express workflows as AWS runs them (patches 54-59), and execution logs in CloudWatch Logs.

moto 5.2.5 runs an EXPRESS state machine as a STANDARD one: ``…:execution:…`` ARNs, a
history behind DescribeExecution, ListExecutions and GetExecutionHistory, names that
deduplicate, status-change events, no StartSyncExecution, and no execution logs at all.
What AWS does instead is taken from recordings of real AWS (LocalStack's Apache-2.0 test
suite: ``test_sfn_api_express``, ``express/test_express_async``, ``logs/test_logs``) and
the Step Functions API reference and Developer Guide ("Standard and Express workflows",
"Log levels", "Using CloudWatch Logs to log execution history").
"""

from __future__ import annotations

import copy
import datetime
import json
import math
import threading
import time
import uuid
from typing import Any, cast

from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.logs.models import logs_backends
from moto.stepfunctions.exceptions import InvalidExecutionInput
from moto.stepfunctions.models import StateMachine
from moto.stepfunctions.parser.api import (
    ExecutionStatus,
    HistoryEventType,
    LoggingConfiguration,
    StateMachineType,
)
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.program.program import Program
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.asl.eval.event.logging import (
    CloudWatchLoggingConfiguration,
    CloudWatchLoggingSession,
    is_logging_enabled_for,
)
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.parser.utils import TMP_THREADS
from moto.stepfunctions.responses import StepFunctionResponse

from photoflow_local.patches.base import replace, set_attribute, state

EXPRESS = "EXPRESS"
# An Express execution runs five minutes at most (Developer Guide, "Standard and Express"):
# real seconds, as a Standard execution's TimeoutSeconds (the work in its steps is not
# compressed by the time scale, only their waits).
EXPRESS_MAX_SECONDS: float = 300
# StartSyncExecution's billing (Step Functions pricing): duration rounded up to the next
# 100 ms, memory in 64 MB steps (a recorded trivial execution: 100 ms, 64 MB).
BILLED_DURATION_STEP_MS = 100
BILLED_MEMORY_MB = 64
# What IncludeExecutionData false leaves out of a logged event (recorded: an ExecutionStarted
# keeps only roleArn, a state's exit only its name).
_EXECUTION_DATA = ("input", "inputDetails", "output", "outputDetails")
# moto's log streams are not thread-safe, and executions log from threads of their own.
_LOGS_LOCK = threading.Lock()


class InvalidArn(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidArn", message)


class StateMachineTypeNotSupported(JsonRESTError):
    def __init__(self) -> None:
        super().__init__(
            "StateMachineTypeNotSupported",
            "This operation is not supported by this type of state machine",
        )


def is_express(machine: Any) -> bool:
    """moto keeps the requested type as ``type``; its ``sm_type`` is always STANDARD."""
    return str(getattr(machine, "type", "") or "") == EXPRESS


def is_express_arn(execution_arn: str) -> bool:
    return execution_arn.split(":")[5:6] == ["express"]


# ----------------------------------------------------------------- 54. Express executions
def express_execution_arn(machine: StateMachine, name: str) -> str:
    """``arn:aws:states:REGION:ACCOUNT:express:MACHINE:NAME:UUID``: the name does not make an
    Express execution unique, so AWS adds an id (recorded ARNs have both parts)."""
    prefix = machine.arn.rsplit(":stateMachine:", 1)[0]
    return f"{prefix}:express:{machine.name}:{name}:{uuid.uuid4()}"


def start_express(
    backend: StepFunctionsParserBackend,
    machine: StateMachine,
    name: str,
    execution_input: str | None,
    trace_header: str | None,
) -> Execution:
    """Start an Express execution: a new one for every call, whatever its name (AWS Express
    workflows do not deduplicate by name), kept nowhere once it ends (AWS keeps no Express
    execution to list or describe; its logs are what remains)."""
    input_data = "{}" if execution_input is None else execution_input
    try:
        json.loads(input_data)
    except ValueError as error:
        raise InvalidExecutionInput(f"Invalid State Machine Execution Input: {error}") from None
    clone = copy.deepcopy(
        machine, {id(machine.executions): [], id(machine.backend): machine.backend}
    )
    clone.sm_type = StateMachineType.EXPRESS
    execution = Execution(
        name=name,
        sm_type=StateMachineType.EXPRESS,
        role_arn=clone.roleArn,
        exec_arn=express_execution_arn(machine, name),
        account_id=backend.account_id,
        region_name=backend.region_name,
        state_machine=cast(Any, clone),  # moto's parser takes its own machines for the same
        start_date=datetime.datetime.now(tz=datetime.UTC),
        cloud_watch_logging_session=None,
        input_data=input_data,
        trace_header=trace_header,
        activity_store={},
    )
    execution.start()
    return execution


# ----------------------------------------------------------------- 55. what AWS refuses
def _refuse_express_arn(self: StepFunctionResponse) -> None:
    arn = str(self._get_param("executionArn") or "")
    if is_express_arn(arn):
        raise InvalidArn("Invalid Arn: 'Resource type not valid in this context: express'")


def _refusing(key: str) -> Any:
    def refusing(self: StepFunctionResponse) -> ActionResult:
        _refuse_express_arn(self)
        answer: ActionResult = state.originals[key](self)
        return answer

    return refusing


def _redrive_execution(self: StepFunctionResponse) -> ActionResult:
    from photoflow_local.patches.stepfunctions.redrive import ExecutionNotRedrivable

    if is_express_arn(str(self._get_param("executionArn") or "")):
        raise ExecutionNotRedrivable("Execution of an EXPRESS state machine cannot be redriven")
    answer: ActionResult = state.originals["express_redrive_execution"](self)
    return answer


def _list_executions(self: StepFunctionResponse) -> ActionResult:
    arn = self._get_param("stateMachineArn")
    if arn and is_express(self.stepfunction_backend.describe_state_machine(arn)):
        raise StateMachineTypeNotSupported()
    answer: ActionResult = state.originals["express_list_executions"](self)
    return answer


# ----------------------------------------------------------------- 56. StartSyncExecution
def _billing(started: datetime.datetime, stopped: datetime.datetime) -> dict[str, int]:
    millis = max(1, math.ceil((stopped - started).total_seconds() * 1000))
    billed = math.ceil(millis / BILLED_DURATION_STEP_MS) * BILLED_DURATION_STEP_MS
    return {"billedMemoryUsedInMB": BILLED_MEMORY_MB, "billedDurationInMilliseconds": billed}


def wait_until_ended(execution: Execution) -> None:
    """Until the execution is no longer RUNNING (it times out at EXPRESS_MAX_SECONDS, 59.)."""
    deadline = time.monotonic() + EXPRESS_MAX_SECONDS + 60  # a bound, should 59. fail
    delay = 0.002
    while execution.exec_status == ExecutionStatus.RUNNING:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{execution.exec_arn} outlived the Express time limit")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


# ----------------------------------------------------------------- 59. five minutes
def _program_eval(self: Program, env: Environment) -> None:
    """An Express execution's program, ended as timed out at five minutes (or its own
    TimeoutSeconds, if shorter), as moto's Program.eval ends one at its TimeoutSeconds."""
    if env.execution_type != StateMachineType.EXPRESS or env.is_frame():
        state.originals["express_program_eval"](self, env)
        return
    own = self.timeout_seconds.timeout_seconds if self.timeout_seconds else None
    limit = EXPRESS_MAX_SECONDS if own is None else min(own, EXPRESS_MAX_SECONDS)
    env.next_state_name = self.start_at.start_at_name
    worker = threading.Thread(target=EvalComponent.eval, args=(self, env), daemon=True)
    TMP_THREADS.append(worker)
    worker.start()
    worker.join(timeout=limit)
    if worker.is_alive():
        env.set_timed_out()


def sync_output(execution: Execution) -> dict[str, Any]:
    """StartSyncExecution's answer (API reference; recorded on AWS: compact input and output,
    inputDetails and outputDetails, billingDetails)."""
    status = execution.exec_status
    status = getattr(status, "value", status)
    stopped = execution.stop_date or datetime.datetime.now(tz=datetime.UTC)
    answer: dict[str, Any] = {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine.arn,
        "name": execution.name,
        "startDate": execution.start_date,
        "stopDate": stopped,
        "status": "FAILED" if status == "ABORTED" else status,
        "input": json.dumps(execution.input_data, separators=(",", ":")),
        "inputDetails": {"included": True},
    }
    if status == "SUCCEEDED":
        answer["output"] = json.dumps(execution.output, separators=(",", ":"))
        answer["outputDetails"] = {"included": True}
    for field in ("error", "cause"):
        if getattr(execution, field) is not None:
            answer[field] = getattr(execution, field)
    if execution.trace_header:
        answer["traceHeader"] = execution.trace_header
    answer["billingDetails"] = _billing(execution.start_date, stopped)
    return answer


def _start_sync_execution(self: StepFunctionResponse) -> ActionResult:
    arn = str(self._get_param("stateMachineArn"))
    backend = cast(StepFunctionsParserBackend, self.stepfunction_backend)
    machine = backend.describe_state_machine(arn)
    if not is_express(machine):
        raise StateMachineTypeNotSupported()
    name = self._get_param("name") or str(uuid.uuid4())
    execution = backend.start_execution(
        arn, name, self._get_param("input", if_none="{}"), self._get_param("traceHeader")
    )
    wait_until_ended(execution)
    return ActionResult(sync_output(execution))


# ----------------------------------------------------------------- 58. execution logs
def log_stream_name(execution: Execution) -> str:
    """One stream per execution, named by its machine and start minute (a log stream's name
    may not hold a colon, so not the ARN)."""
    started = execution.start_date.strftime("%Y-%m-%d-%H-%M")
    return f"states/{execution.state_machine.name}/{started}/{execution.exec_arn[-8:]}"


def logging_session(execution: Execution) -> CloudWatchLoggingSession | None:
    """The execution's logging session from its state machine's LoggingConfiguration."""
    configuration = CloudWatchLoggingConfiguration.from_logging_configuration(
        state_machine_arn=execution.state_machine.arn,
        logging_configuration=cast(
            LoggingConfiguration,
            getattr(execution.state_machine, "loggingConfiguration", None) or {},
        ),
    )
    if configuration is None:
        return None
    configuration.log_stream_name = log_stream_name(execution)  # type: ignore[misc]
    session = CloudWatchLoggingSession(
        execution_arn=execution.exec_arn, configuration=configuration
    )
    session.execution = execution  # type: ignore[attr-defined]  # for its redrive count
    return session


def _redrive_count(session: CloudWatchLoggingSession) -> int:
    from photoflow_local.patches.stepfunctions.redrive import redrives_of

    execution = getattr(session, "execution", None)
    redrives = redrives_of(execution) if execution is not None else None
    return redrives.count if redrives else 0


def log_record(
    event_id: int,
    previous_event_id: int,
    event_type: HistoryEventType,
    timestamp: Any,
    execution_arn: str,
    details: dict[str, Any] | None,
    include_execution_data: bool,
    redrive_count: int = 0,
) -> dict[str, Any]:
    """One logged event, its fields in the order and types AWS writes them (recorded in
    ``logs/test_logs``: ids and counts as strings; the history event's details)."""
    body = dict(details) if details else {}
    if not include_execution_data:
        body = {key: value for key, value in body.items() if key not in _EXECUTION_DATA}
    return {
        "id": str(event_id),
        "type": str(getattr(event_type, "value", event_type)),
        "details": body,
        "previous_event_id": str(previous_event_id),
        "event_timestamp": str(_millis(timestamp)),
        "execution_arn": execution_arn,
        "redrive_count": str(redrive_count),
    }


def _millis(timestamp: Any) -> int:
    if isinstance(timestamp, str):
        timestamp = datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return int(timestamp.timestamp() * 1000)


def _publish_history_log(
    self: EventManager,
    event_id: int,
    source_event_id: int,
    event_type: HistoryEventType,
    timestamp: Any,
    event_details: Any,
) -> None:
    session = self._cloud_watch_logging_session
    if session is None:
        return
    configuration = session.configuration
    if not is_logging_enabled_for(configuration.log_level, event_type):
        return
    details = next(iter(event_details.values())) if event_details else None
    record = log_record(
        event_id,
        source_event_id,
        event_type,
        timestamp,
        session.execution_arn,
        details,
        bool(configuration.include_execution_data),
        _redrive_count(session),
    )
    logs = logs_backends[configuration.log_account_id][configuration.log_region]
    group = logs.groups.get(configuration.log_group_name)
    if group is None:
        return  # AWS delivers nothing to a log group that is gone
    stream = configuration.log_stream_name
    with _LOGS_LOCK:
        if stream not in group.streams:
            group.create_log_stream(stream)
        group.put_log_events(
            stream, [{"timestamp": _millis(timestamp), "message": json.dumps(record)}]
        )


def install() -> None:
    replace(
        StepFunctionResponse,
        "describe_execution",
        _refusing("express_describe_execution"),
        key="express_describe_execution",
    )
    replace(
        StepFunctionResponse,
        "get_execution_history",
        _refusing("express_get_execution_history"),
        key="express_get_execution_history",
    )
    replace(
        StepFunctionResponse,
        "stop_execution",
        _refusing("express_stop_execution"),
        key="express_stop_execution",
    )
    replace(
        StepFunctionResponse, "list_executions", _list_executions, key="express_list_executions"
    )
    replace(
        StepFunctionResponse,
        "redrive_execution",
        _redrive_execution,
        key="express_redrive_execution",
    )
    set_attribute(StepFunctionResponse, "start_sync_execution", _start_sync_execution)
    replace(EventManager, "_publish_history_log", _publish_history_log)
    replace(Program, "eval", _program_eval, key="express_program_eval")
