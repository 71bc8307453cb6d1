"""Step Functions' RedriveExecution (patch 23): a failed, aborted or timed-out Standard
execution resumes where it stopped, with the same ARN, as AWS documents it
(API reference: RedriveExecution; Developer Guide: "Restarting state machine executions
with redrive").

moto 5.2.5 has no RedriveExecution. Here every execution keeps, per scope (the top level,
each Parallel branch, each Map iteration), the state it last entered with that state's
input and variables, and the output of each scope that ended. A redrive runs the same
definition again in the same execution: each scope resumes at the state it last entered;
a Parallel branch or Map iteration that had ended is not run again, its recorded output
is used. The history continues with an ``ExecutionRedriven`` event; DescribeExecution,
ListExecutions (``redriveFilter``), the context object and the EventBridge status-change
events show the redrive count and date.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult
from moto.stepfunctions.exceptions import ValidationException
from moto.stepfunctions.models import StepFunctionBackend
from moto.stepfunctions.parser.api import (
    ExecutionFailedEventDetails,
    ExecutionStatus,
    HistoryEventType,
    StateMachineType,
)
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
    CustomErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.program.program import Program
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iteration_worker import (  # noqa: E501
    IterationWorker,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.job import Job
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branch_worker import (
    BranchWorker,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branches_decl import (
    BranchesDecl,
    BranchWorkerPool,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.state_parallel import (
    StateParallel,
)
from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded
from moto.stepfunctions.parser.asl.eval.variable_store import VariableStore
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.responses import StepFunctionResponse
from moto.stepfunctions.utils import PAGINATION_MODEL
from moto.utilities.paginator import paginate

from photoflow_local.patches.base import replace, set_attribute, state
from photoflow_local.patches.stepfunctions.interpreter import aws_time

# Limits AWS documents (RedriveExecution API reference and Developer Guide; the 1000 is
# the hard limit AWS states for redrives of a Map Run, applied here to an execution).
REDRIVABLE_DAYS = 14
MAX_OPEN_DAYS = 365
HISTORY_EVENTS_LIMIT = 24_999
MAX_REDRIVES = 1000
CLIENT_TOKENS_KEPT, CLIENT_TOKEN_SECONDS = 10, 15 * 60
REDRIVABLE = frozenset({"FAILED", "ABORTED", "TIMED_OUT"})
_CLIENT_TOKEN = re.compile(r"[!-~]{1,64}")

Scope = tuple[tuple[str, int], ...]  # (state name, branch or item index) from the top level
_PROGRESS, _SCOPE = "_photoflow_progress", "_photoflow_scope"  # on an Environment
_REDRIVES = "_photoflow_redrives"  # on an Execution


class ExecutionNotRedrivable(AWSError):
    TYPE = "ExecutionNotRedrivable"
    STATUS = 400


class ExecutionLimitExceeded(AWSError):
    TYPE = "ExecutionLimitExceeded"
    STATUS = 400


# ----------------------------------------------------------------- what an execution keeps
@dataclass
class _Mark:
    """Where one scope's program is: the state it last entered (with that state's input
    and variables, as JSON), and its output once it ended."""

    state: str
    input: str
    variables: str
    output: str | None = None


class Progress:
    """Where every scope of one execution got to; what a redrive resumes from."""

    def __init__(self) -> None:
        self.marks: dict[Scope, _Mark] = {}
        self.resuming: dict[Scope, str] = {}  # scope -> the state it resumed at
        self.resumed_maps: set[tuple[Scope, str]] = set()  # Map states in a resumed attempt
        self.redriving = False
        self._lock = threading.Lock()

    def entered(self, scope: Scope, name: str, value: Any, variables: VariableStore) -> None:
        scopes = [variables._outer_scope, variables._inner_scope]
        mark = _Mark(name, to_json_str(value), to_json_str(scopes))
        with self._lock:
            self.marks[scope] = mark

    def ended(self, scope: Scope, output: Any) -> None:
        with self._lock:
            mark = self.marks.get(scope)
            if mark is not None:
                mark.output = to_json_str(output)

    def ended_output(self, scope: Scope) -> tuple[bool, Any]:
        """Whether the scope's program ended, and its output."""
        mark = self.marks.get(scope)
        if mark is None or mark.output is None:
            return False, None
        return True, json.loads(mark.output)

    def resume_point(self, scope: Scope) -> _Mark | None:
        """The state a redriven scope resumes at (None: run it from its start)."""
        mark = self.marks.get(scope)
        if not self.redriving or mark is None or mark.output is not None:
            return None
        self.resuming[scope] = mark.state
        return mark

    def begin_container(self, scope: Scope, name: str) -> bool:
        """A Parallel or Map state ``name`` starts an attempt. True when it is the state a
        redrive resumed at (its first attempt keeps what its branches or iterations did);
        otherwise everything recorded within it is forgotten: they all run."""
        if self.resuming.get(scope) == name:
            del self.resuming[scope]
            return True
        self.forget_within(scope, name)
        return False

    def forget_within(self, scope: Scope, name: str) -> None:
        depth = len(scope)
        with self._lock:
            within = [s for s in self.marks if len(s) > depth and s[:depth] == scope]
            for inner in within:
                if inner[depth][0] == name:
                    del self.marks[inner]

    def forget(self, scope: Scope) -> None:
        with self._lock:
            self.marks.pop(scope, None)

    def left(self, scope: Scope, name: str) -> None:
        if self.resuming.get(scope) == name:
            del self.resuming[scope]


@dataclass
class Redrives:
    """An execution's redrives: how many, when the last was, the client tokens used."""

    progress: Progress = field(default_factory=Progress)
    count: int = 0
    date: datetime.datetime | None = None
    tokens: OrderedDict[str, datetime.datetime] = field(default_factory=OrderedDict)
    lock: threading.RLock = field(default_factory=threading.RLock)


def redrives_of(execution: Execution) -> Redrives | None:
    found: Redrives | None = getattr(execution, _REDRIVES, None)
    return found


@contextlib.contextmanager
def execution_lock(execution: Execution) -> Iterator[None]:
    """Held while an execution's status changes: a redrive never sees a half-ended one."""
    redrives = redrives_of(execution)
    if redrives is None:
        yield
        return
    with redrives.lock:
        yield


def _now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.UTC)


def _history_size(execution: Execution) -> int:
    worker = execution.exec_worker
    env = worker.env if worker is not None else None
    return len(env.event_manager._history_event_list) if env is not None else 0


def _machine_type(execution: Execution) -> str:
    # moto's state machines keep the requested type as ``type``; ``sm_type`` is always STANDARD.
    return str(getattr(execution.state_machine, "type", None) or execution.sm_type)


def not_redrivable_reason(execution: Execution, now: datetime.datetime) -> str | None:
    """Why RedriveExecution would refuse ``execution`` (AWS's redriveStatusReason texts),
    or None when it can be redriven."""
    status = str(getattr(execution.exec_status, "value", execution.exec_status))
    stopped = execution.stop_date or now
    checks = (
        (
            redrives_of(execution) is None,
            "Execution was started before the launch of RedriveExecution",
        ),
        (
            _machine_type(execution) == StateMachineType.EXPRESS,
            "Execution of an EXPRESS state machine cannot be redriven",
        ),
        (status not in REDRIVABLE, f"Execution is {status} and cannot be redriven"),
        (
            now - execution.start_date > datetime.timedelta(days=MAX_OPEN_DAYS),
            "Execution has exceeded the max execution time",
        ),
        (
            now - stopped > datetime.timedelta(days=REDRIVABLE_DAYS),
            "Execution redrivable period exceeded",
        ),
        (
            status in REDRIVABLE and _history_size(execution) >= HISTORY_EVENTS_LIMIT,
            "Execution history event limit exceeded",
        ),
    )
    return next((reason for failed, reason in checks if failed), None)


def redrive_fields(execution: Execution) -> dict[str, Any]:
    """``redriveCount``, ``redriveDate`` (once redriven), ``redriveStatus`` and, when not
    redrivable, ``redriveStatusReason``, as DescribeExecution answers them."""
    redrives = redrives_of(execution)
    fields: dict[str, Any] = {"redriveCount": redrives.count if redrives else 0}
    if redrives is not None and redrives.date is not None:
        fields["redriveDate"] = redrives.date
    reason = not_redrivable_reason(execution, _now())
    fields["redriveStatus"] = "REDRIVABLE" if reason is None else "NOT_REDRIVABLE"
    if reason is not None:
        fields["redriveStatusReason"] = reason
    return fields


# ----------------------------------------------------------------- the interpreter
def _progress_of(env: Environment) -> tuple[Progress | None, Scope]:
    return getattr(env, _PROGRESS, None), getattr(env, _SCOPE, ())


def scope_of(env: Environment) -> Scope:
    """Where ``env`` is in its execution: () at the top level (or with no redrive record)."""
    return _progress_of(env)[1]


def resumes_map(env: Environment, name: str) -> bool:
    """Whether the Map state ``name``, being evaluated in ``env``, is where a redrive resumed."""
    progress, scope = _progress_of(env)
    return progress is not None and (scope, name) in progress.resumed_maps


def enter_child_scope(env: Environment, name: str, index: int, *, restart: bool) -> None:
    """Run the frame ``env`` as child ``index`` of the Distributed Map state ``name``: what its
    states enter is kept apart from the parent's, so that a redrive resumes the child where it
    stopped, or, ``restart``, from its start (an Express child is started again)."""
    progress, scope = _progress_of(env)
    if progress is None:
        return
    child: Scope = (*scope, (name, index))
    setattr(env, _SCOPE, child)
    if restart:
        progress.forget(child)


def _state_name(env: Environment) -> str:
    data: Any = env.states.context_object.context_object_data
    return str(data["State"]["Name"])


def _start(self: Execution) -> None:
    setattr(self, _REDRIVES, Redrives())
    state.originals["redrive_execution_start"](self)


def _get_evaluation_environment(self: ExecutionWorker) -> Environment:
    env: Environment = state.originals["redrive_evaluation_environment"](self)
    execution = getattr(self._execution_communication, "execution", None)
    redrives = redrives_of(execution) if isinstance(execution, Execution) else None
    if redrives is None:
        return env  # TestState and other workers of no execution
    setattr(env, _PROGRESS, redrives.progress)
    setattr(env, _SCOPE, ())
    context: Any = env.states.context_object.context_object_data["Execution"]
    context["RedriveCount"] = redrives.count
    if redrives.date is not None:  # AWS: only in the context of a redriven execution
        context["RedriveTime"] = aws_time(redrives.date)
    return env


def _as_inner_frame_of(
    cls: type[Environment],
    env: Environment,
    variable_store: VariableStore,
    event_history_frame_cache: Any = None,
) -> Environment:
    frame: Environment = state.originals["redrive_inner_frame"](
        env=env, variable_store=variable_store, event_history_frame_cache=event_history_frame_cache
    )
    progress, scope = _progress_of(env)
    if progress is not None:
        setattr(frame, _PROGRESS, progress)
        setattr(frame, _SCOPE, scope)
    return frame


def _state_eval_body(self: CommonStateField, env: Environment) -> None:
    progress, scope = _progress_of(env)
    if progress is None:
        state.originals["redrive_state_eval_body"](self, env)
        return
    progress.entered(scope, self.name, env.states.get_input(), env.variable_store)
    try:
        state.originals["redrive_state_eval_body"](self, env)
    except FailureEventException as failure:
        # AWS reruns a Parallel or Map whole when its result was too large.
        error = failure.failure_event.error_name
        if isinstance(self, StateParallel | StateMap) and (
            error is not None and error.error_name == "States.DataLimitExceeded"
        ):
            progress.forget_within(scope, self.name)
        raise
    finally:
        progress.left(scope, self.name)


def _restore_variables(store: VariableStore, recorded: str) -> None:
    outer, inner = json.loads(recorded)
    store._outer_scope.clear()
    store._outer_scope.update(outer)
    store._inner_scope.clear()
    store._inner_scope.update(inner)
    store._outer_variable_declaration_cache = None
    store._variable_declarations_cache = None


def _program_eval_body(self: Program, env: Environment) -> None:
    progress, scope = _progress_of(env)
    if progress is None:
        state.originals["redrive_program_eval_body"](self, env)
        return
    resume = progress.resume_point(scope)
    if resume is not None:
        env.next_state_name = resume.state
        env.states.reset(input_value=json.loads(resume.input))
        _restore_variables(env.variable_store, resume.variables)
    state.originals["redrive_program_eval_body"](self, env)
    if isinstance(env.program_state(), ProgramEnded):
        progress.ended(scope, env.states.get_input())


def _branches_eval_body(self: BranchesDecl, env: Environment) -> None:
    """moto's Parallel branches, less those a redrive finds ended: their output is kept."""
    progress, scope = _progress_of(env)
    if progress is None:
        state.originals["redrive_branches_eval_body"](self, env)
        return
    name = _state_name(env)
    resumed = progress.begin_container(scope, name)
    input_value = env.stack.pop()
    outputs: dict[int, Any] = {}
    workers: list[tuple[int, BranchWorker]] = []
    pending = []
    for index, program in enumerate(self.programs):
        branch: Scope = (*scope, (name, index))
        ended, output = progress.ended_output(branch) if resumed else (False, None)
        if ended:
            outputs[index] = output
        else:
            pending.append((index, program, branch))
    pool = BranchWorkerPool(workers_num=len(pending))
    for index, program, branch in pending:
        frame = env.open_inner_frame()
        frame.states.reset(input_value=input_value)
        setattr(frame, _SCOPE, branch)
        worker = BranchWorker(branch_worker_comm=pool, program=program, env=frame)
        workers.append((index, worker))
        worker.start()
    if pending:
        pool.wait()
    failure = pool.get_exit_event_details()
    if failure is not None:
        _fail_parallel(env, workers, failure)
    for index, worker in workers:
        outputs[index] = worker.env.states.get_input()
        env.close_frame(worker.env)
    env.stack.append([outputs[index] for index in range(len(self.programs))])


def _fail_parallel(
    env: Environment, workers: list[tuple[int, BranchWorker]], failure: ExecutionFailedEventDetails
) -> None:
    for _, worker in workers:
        worker.stop(stop_date=datetime.datetime.now(), cause=None, error=None)
        env.close_frame(worker.env)
    raise FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=CustomErrorName(error_name=failure.get("error")),
            event_type=HistoryEventType.ExecutionFailed,
            event_details=cast(EventDetails, {"executionFailedEventDetails": failure}),
        )
    )


def _map_eval_execution(self: StateMap, env: Environment) -> None:
    progress, scope = _progress_of(env)
    if progress is None:
        state.originals["redrive_map_eval_execution"](self, env)
        return
    if progress.begin_container(scope, self.name):
        progress.resumed_maps.add((scope, self.name))
    try:
        state.originals["redrive_map_eval_execution"](self, env)
    finally:
        progress.resumed_maps.discard((scope, self.name))


def _eval_job(self: IterationWorker, env: Environment, job: Job) -> None:
    progress, scope = _progress_of(env)
    if progress is None:
        state.originals["redrive_eval_job"](self, env, job)
        return
    iteration: Scope = (*scope, (self._work_name, job.job_index))
    setattr(env, _SCOPE, iteration)
    if (scope, self._work_name) in progress.resumed_maps:
        ended, output = progress.ended_output(iteration)
        if ended:
            job.job_output = output
            return
    state.originals["redrive_eval_job"](self, env, job)


class _RedriveWorker(ExecutionWorker):
    """Runs an ended execution's definition again, its history continued."""

    def __init__(self, previous: ExecutionWorker, count: int) -> None:
        super().__init__(
            evaluation_details=previous._evaluation_details,
            exec_comm=previous._execution_communication,
            cloud_watch_logging_session=previous._cloud_watch_logging_session,
            activity_store=previous._activity_store,
            # A MockConfigFile test case goes on where it was (a replay's recorded results).
            mock_test_case=previous._mock_test_case,
        )
        assert previous.env is not None, "an ended execution has an environment"
        self._history = previous.env.event_manager
        self._count = count

    def _execution_logic(self) -> None:
        program = self._get_evaluation_entrypoint()
        env = self.env = self._get_evaluation_environment()
        env.event_manager = self._history
        events = self._history._history_event_list
        env.event_history_context.source_event_id = events[-1]["id"] if events else 0
        env.event_manager.add_event(
            context=env.event_history_context,
            event_type=HistoryEventType.ExecutionRedriven,
            event_details=cast(
                EventDetails, {"executionRedrivenEventDetails": {"redriveCount": self._count}}
            ),
        )
        program.eval(env)
        self._execution_communication.terminated()


def redrive(execution: Execution, client_token: str | None = None) -> datetime.datetime:
    """Redrive ``execution`` (RedriveExecution); the redrive's date."""
    redrives = redrives_of(execution)
    if redrives is None:
        raise ExecutionNotRedrivable(
            f"Execution {execution.exec_arn} was started before the launch of RedriveExecution"
        )
    with redrives.lock:
        now = _now()
        for token, used in list(redrives.tokens.items()):
            if (now - used).total_seconds() > CLIENT_TOKEN_SECONDS:
                del redrives.tokens[token]
        if client_token is not None and client_token in redrives.tokens:
            return redrives.tokens[client_token]  # the same request again
        reason = not_redrivable_reason(execution, now)
        if reason is not None:
            raise ExecutionNotRedrivable(reason)
        if redrives.count >= MAX_REDRIVES:
            raise ExecutionLimitExceeded(
                f"Execution {execution.exec_arn} has been redriven {MAX_REDRIVES} times"
            )
        previous = execution.exec_worker
        assert previous is not None, "an ended execution has a worker"
        redrives.count += 1
        redrives.date = now
        redrives.progress.redriving = True
        if client_token is not None:
            redrives.tokens[client_token] = now
            while len(redrives.tokens) > CLIENT_TOKENS_KEPT:
                redrives.tokens.popitem(last=False)
        execution.exec_status = ExecutionStatus.RUNNING
        execution.stop_date = execution.output = execution.error = execution.cause = None
        worker = execution.exec_worker = _RedriveWorker(previous, redrives.count)
        from photoflow_local.patches import events  # it reads redrive_fields from here

        running = events.status_change_detail(execution)
    events.send_status_change(execution, running)
    worker.start()
    return now


# ----------------------------------------------------------------- the API
def _redrive_execution(self: StepFunctionResponse) -> ActionResult:
    arn = str(self._get_param("executionArn"))
    token = self._get_param("clientToken")
    if token is not None and not _CLIENT_TOKEN.fullmatch(str(token)):
        raise ValidationException(
            f"1 validation error detected: Value '{token}' at 'clientToken' failed to satisfy"
            " constraint: Member must have length between 1 and 64 and match [!-~]+"
        )
    execution: Any = self.stepfunction_backend.describe_execution(arn)
    return ActionResult({"redriveDate": redrive(execution, token)})


def _describe_execution(self: StepFunctionResponse) -> ActionResult:
    answer: ActionResult = state.originals["redrive_describe_execution"](self)
    described = answer.result
    if isinstance(described, dict):
        execution: Any = self.stepfunction_backend.describe_execution(described["executionArn"])
        for key in ("redriveCount", "redriveDate", "redriveStatus", "redriveStatusReason"):
            described.pop(key, None)
        described.update(redrive_fields(execution))
    return answer


@paginate(pagination_model=PAGINATION_MODEL)
def list_executions(
    backend: StepFunctionBackend,
    state_machine_arn: str,
    status_filter: str | None = None,
    redrive_filter: str | None = None,
) -> list[Execution]:
    """A state machine's executions, newest first, by status and whether redriven (the
    name is the key of moto's pagination model)."""
    executions: list[Any] = backend.describe_state_machine(state_machine_arn).executions
    if status_filter:
        executions = [e for e in executions if e.status == status_filter]
    if redrive_filter:
        redriven = redrive_filter == "REDRIVEN"
        executions = [e for e in executions if (_redrive_count(e) > 0) == redriven]
    return sorted(executions, key=lambda e: e.start_date, reverse=True)


def _redrive_count(execution: Execution) -> int:
    redrives = redrives_of(execution)
    return redrives.count if redrives else 0


def _list_executions(self: StepFunctionResponse) -> ActionResult:
    page, next_token = list_executions(
        self.stepfunction_backend,
        state_machine_arn=self._get_param("stateMachineArn"),
        status_filter=self._get_param("statusFilter"),
        redrive_filter=self._get_param("redriveFilter"),
        max_results=self._get_int_param("maxResults") or None,
        next_token=self._get_param("nextToken"),
    )
    items = []
    for execution in page:
        item = {k: v for k, v in execution.to_execution_list_item().items() if v is not None}
        redrives = redrives_of(execution)
        item["redriveCount"] = redrives.count if redrives else 0
        if redrives is not None and redrives.date is not None:
            item["redriveDate"] = redrives.date
        items.append(item)
    answer: dict[str, Any] = {"executions": items}
    if next_token:
        answer["nextToken"] = next_token
    return ActionResult(answer)


def install() -> None:
    set_attribute(StepFunctionResponse, "redrive_execution", _redrive_execution)
    for name, replacement in (
        ("describe_execution", _describe_execution),
        ("list_executions", _list_executions),
    ):
        replace(StepFunctionResponse, name, replacement, f"redrive_{name}")
    replace(Execution, "start", _start, "redrive_execution_start")
    replace(
        ExecutionWorker,
        "_get_evaluation_environment",
        _get_evaluation_environment,
        "redrive_evaluation_environment",
    )
    frames = classmethod(_as_inner_frame_of)
    replace(Environment, "as_inner_frame_of", frames, "redrive_inner_frame")
    replace(CommonStateField, "_eval_body", _state_eval_body, "redrive_state_eval_body")
    replace(Program, "_eval_body", _program_eval_body, "redrive_program_eval_body")
    replace(BranchesDecl, "_eval_body", _branches_eval_body, "redrive_branches_eval_body")
    replace(StateMap, "_eval_execution", _map_eval_execution, "redrive_map_eval_execution")
    replace(IterationWorker, "_eval_job", _eval_job, "redrive_eval_job")
