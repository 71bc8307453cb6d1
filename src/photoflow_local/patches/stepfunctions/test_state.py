"""TestState (patch 24): one state run on its own, as the API does since November 2025.

moto 5.2.5's responses have no TestState route, and the TestState program its parser
vendors predates the API's mocks: it runs Task, Pass, Wait, Choice, Succeed and Fail only,
without ``stateName``, ``mock``, ``stateConfiguration``, ``context`` or ``variables``, and
answers FAILED where AWS answers RETRIABLE or CAUGHT_ERROR. Here the state is parsed by
moto's own parser and evaluated by its own components, with a mocked result or error in
place of the service call (a Task) or of the iterations (Map, Parallel), one attempt only:
a matching Retrier with attempts left (``retrierRetryCount`` made so far) answers
RETRIABLE, a matching Catcher CAUGHT_ERROR with the Catcher's output and next state.
The inspection data holds what AWS records at each step (API reference, TestState and
InspectionData; "Using TestState API to test a state"); the requests' checks answer AWS's
messages, as recorded on AWS (tests/conformance/cases/test_state).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.stepfunctions.parser.asl.component.common.catch.catch_outcome import CatchOutcome
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.parargs import Arguments
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.state_parallel import (
    StateParallel,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (  # noqa: E501
    StateTaskService,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.evaluation_details import AWSExecutionDetails
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext
from moto.stepfunctions.parser.asl.eval.states import (
    ContextObjectData,
    ExecutionData,
    StateMachineData,
)
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.mocking.mock_config import (
    MockedResponse,
    MockedResponseReturn,
    MockedResponseThrow,
    MockTestCase,
    StateMockedResponses,
)
from moto.stepfunctions.responses import StepFunctionResponse

from photoflow_local.patches.base import set_attribute, state
from photoflow_local.patches.stepfunctions import mock_result
from photoflow_local.patches.stepfunctions.interpreter import aws_time
from photoflow_local.patches.stepfunctions.validate import invalid_definition, schema_problems

# AWS tests a lone state as the state "StateName" of a one-state machine: its schema errors
# are "at /States/StateName/...", and the context object's State.Name is "StateName".
STATE_NAME = "StateName"
_NO_MOCK_TYPES = ("Pass", "Fail", "Succeed", "Choice", "Wait")
_CONTEXT_FIELDS = {
    "Execution": {"Id", "Input", "Name", "RoleArn", "StartTime", "RedriveCount", "RedriveTime"},
    "State": {"EnteredTime", "Name", "RetryCount"},
    "StateMachine": {"Id", "Name"},
    "Task": {"Token"},
}
_STRING_CONTEXT_FIELDS = {"Id", "Name", "RoleArn", "StartTime", "EnteredTime", "Token"}


def _validation(message: str) -> JsonRESTError:
    return JsonRESTError("ValidationException", message)


class _Retriable(Exception):
    """The state failed with an error a Retrier would retry: the test stops there."""


@dataclass
class TestRequest:
    """A TestState request, its fields parsed."""

    definition: dict[str, Any]
    machine: dict[str, Any]
    state_name: str | None
    input: Any
    role_arn: str | None
    inspection_level: str
    reveal_secrets: bool
    variables: dict[str, Any]
    mock: dict[str, Any] | None
    context: dict[str, Any] | None
    configuration: dict[str, Any]

    @property
    def state_definition(self) -> dict[str, Any]:
        if self.state_name is None:
            return self.definition
        found = find_state(self.definition, self.state_name)
        assert found is not None, "checked by parse_request"
        return found

    @property
    def state_type(self) -> str:
        return str(self.state_definition.get("Type"))


@dataclass
class Outcome:
    """What the tested state did: AWS's TestState answer is made from it."""

    status: str = "SUCCEEDED"
    error: str | None = None
    cause: str | None = None
    next_state: str | None = None
    output: Any = None
    has_output: bool = False
    seen: dict[str, Any] = field(default_factory=dict)
    error_details: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------- the request
def find_state(machine: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The state called ``name`` in ``machine``, its Map processors' and Parallel branches'."""
    states = machine.get("States")
    if not isinstance(states, dict):
        return None
    if isinstance(states.get(name), dict):
        found: dict[str, Any] = states[name]
        return found
    for body in states.values():
        if not isinstance(body, dict):
            continue
        inner = [body.get("ItemProcessor"), body.get("Iterator"), *(body.get("Branches") or [])]
        for nested in inner:
            if isinstance(nested, dict) and (hit := find_state(nested, name)) is not None:
                return hit
    return None


def _json(value: str, message: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        raise _validation(message) from None


def _machine(definition: dict[str, Any], state_name: str | None) -> dict[str, Any]:
    if state_name is not None:
        return definition
    return {"StartAt": STATE_NAME, "States": {STATE_NAME: definition}}


def parse_request(params: dict[str, Any]) -> TestRequest:
    """The request's fields, checked as AWS checks them before it runs anything."""
    text = str(params.get("definition") or "")
    try:
        definition = json.loads(text)
    except ValueError:
        raise invalid_definition("INVALID_JSON_DESCRIPTION", "Definition is not JSON") from None
    if not isinstance(definition, dict):
        raise invalid_definition("SCHEMA_VALIDATION_FAILED", "Definition must be a JSON object")
    mock = params.get("mock")
    if mock is not None and "result" in mock and "errorOutput" in mock:
        raise _validation(
            "A test mock should have only one of the following fields: [result, errorOutput]."
        )
    if mock is not None and params.get("revealSecrets"):
        raise _validation("TestState does not support RevealSecrets when a mock is specified.")
    state_name = params.get("stateName")
    if state_name is not None and find_state(definition, state_name) is None:
        raise _validation("State not found in definition")
    machine = _machine(definition, state_name)
    problems = schema_problems(machine)
    if problems:
        raise invalid_definition("SCHEMA_VALIDATION_FAILED", *problems[0])
    return TestRequest(
        definition=definition,
        machine=machine,
        state_name=state_name,
        input=_json(params.get("input") or "{}", "Input is not valid JSON"),
        role_arn=params.get("roleArn"),
        inspection_level=str(params.get("inspectionLevel") or "INFO"),
        reveal_secrets=bool(params.get("revealSecrets")),
        variables=_json(params.get("variables") or "{}", "Variables must be a JSON object"),
        mock=mock,
        context=_context(params.get("context")),
        configuration=dict(params.get("stateConfiguration") or {}),
    )


def _context(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    prefix = "Invalid Context object provided: "
    context = _json(text, f"{prefix}Context object must be valid JSON")
    if not isinstance(context, dict):
        raise _validation(f"{prefix}Context object must be a JSON object")
    for key, value in context.items():
        if key == "Map":
            raise _validation(f"{prefix}'Map' field is not supported when mocking a Context object")
        if key not in _CONTEXT_FIELDS:
            raise _validation(f"{prefix}Field '{key}' is not allowed")
        for inner, inner_value in (value or {}).items():
            if inner not in _CONTEXT_FIELDS[key]:
                raise _validation(f"{prefix}Field '{inner}' is not allowed")
            if inner in _STRING_CONTEXT_FIELDS and not isinstance(inner_value, str):
                raise _validation(f"{prefix}{key}.{inner} must be a string")
    return context


def _is_callback(state_definition: dict[str, Any]) -> bool:
    resource = str(state_definition.get("Resource", ""))
    return resource.endswith((".sync", ".sync:2", ".waitForTaskToken"))


def check_request(request: TestRequest) -> None:
    """What AWS refuses for this state: mocks where none apply, none where one must."""
    kind, mock, configuration = request.state_type, request.mock, request.configuration
    if mock is not None and kind in _NO_MOCK_TYPES:
        raise _validation(f"State type '{kind}' is not supported when a mock is specified")
    if mock is None and "mapIterationFailureCount" in configuration:
        raise _validation(
            "TestState does not support MapIterationFailureCount when a mock is not specified."
        )
    if mock is None and kind in ("Map", "Parallel"):
        raise JsonRESTError(
            "InvalidDefinition",
            "TestState API does not support Map or Parallel states. Supported state types "
            "include: [Task, Wait, Pass, Succeed, Fail, Choice]",
        )
    if kind == "Task" and mock is None and not request.role_arn:
        raise _validation("RoleArn must be specified when testing a Task state")
    context = request.context or {}
    if "Task" in context and not (kind == "Task" and _is_callback(request.state_definition)):
        raise _validation(
            "Invalid Context object provided: Context object contains 'Task' when state is not "
            "a Task state with a '.sync' or '.waitForTaskToken' service integration pattern"
        )
    if mock is not None and "result" in mock:
        _check_mock_result(request, _json(str(mock["result"]), "Mocked result must be valid JSON"))


def _check_mock_result(request: TestRequest, result: Any) -> None:
    kind, state_definition = request.state_type, request.state_definition
    if kind == "Map" and "ResultWriter" in state_definition:
        if not isinstance(result, dict):
            raise _validation("Mocked result must be a JSON object.")
    elif kind in ("Map", "Parallel") and not isinstance(result, list):
        raise _validation("Mocked result must be an array.")
    if kind == "Parallel" and len(result) != len(state_definition.get("Branches", [])):
        raise _validation(
            "Mocked result must contain the same number of items as number of Parallel branches."
        )
    failures = request.configuration.get("mapIterationFailureCount")
    if kind == "Map" and isinstance(result, list) and (failures or 0) > len(result):
        raise _validation(
            "Map iteration failure count must be less than or equal to the number of Map iterations"
        )
    if kind == "Task":
        mode = str((request.mock or {}).get("fieldValidationMode") or "STRICT")
        try:
            mock_result.validate(str(state_definition.get("Resource", "")), result, mode)
        except mock_result.MockResultInvalid as invalid:
            raise _validation(str(invalid)) from None


# ----------------------------------------------------------------- running the state
def _parsed_state(request: TestRequest) -> CommonStateField:
    state_definition = copy.deepcopy(request.state_definition)
    language = request.definition.get("QueryLanguage") if request.state_name else None
    if language and "QueryLanguage" not in state_definition:
        state_definition["QueryLanguage"] = language
    machine = {"StartAt": STATE_NAME, "States": {STATE_NAME: state_definition}}
    if language:
        machine["QueryLanguage"] = language
    program: Any = AmazonStateLanguageParser.parse(json.dumps(machine))[0]
    tested: CommonStateField = program.states.states[STATE_NAME]
    return tested


def _environment(request: TestRequest, account: str, region: str) -> Environment:
    machine_name, execution_name = str(uuid.uuid4()), str(uuid.uuid4())
    context = ContextObjectData(
        Execution=ExecutionData(
            Id=f"arn:aws:states:{region}:{account}:express:{machine_name}:{execution_name}",
            Input=copy.deepcopy(request.input),
            Name=execution_name,
            RoleArn=request.role_arn,
            StartTime=aws_time_now(),  # type: ignore[typeddict-item]
        ),
        StateMachine=StateMachineData(
            Id=f"arn:aws:states:{region}:{account}:stateMachine:{machine_name}",
            Name=machine_name,
        ),
    )
    env = Environment(
        aws_execution_details=AWSExecutionDetails(account=account, region=region, role_arn=""),
        execution_type="EXPRESS",  # type: ignore[arg-type]
        context=copy.deepcopy(context),
        event_history_context=EventHistoryContext.of_program_start(),
        cloud_watch_logging_session=None,
        activity_store={},
    )
    for name, value in request.variables.items():
        env.variable_store.set(name, value)
    # $states.input is the request's input, whatever the given context's Execution.Input;
    # $states has no result or errorOutput before the state makes them.
    states_data = env.states._states_data
    states_data["input"] = copy.deepcopy(request.input)
    for key in ("result", "errorOutput"):
        states_data.pop(key, None)  # type: ignore[misc]
    return env


def aws_time_now() -> str:
    import datetime

    return aws_time(datetime.datetime.now(tz=datetime.UTC))


def _recording(
    component: Any, attribute: str, key: str, seen: dict[str, Any], read: Callable[[Any], Any]
) -> None:
    """Have ``component``'s ``attribute`` (a method taking env) record ``read(env)`` as ``key``."""
    original = getattr(component, attribute)

    def recorded(env: Any, *args: Any, **kwargs: Any) -> Any:
        answer = original(env, *args, **kwargs)
        seen[key] = copy.deepcopy(read(env))
        return answer

    setattr(component, attribute, recorded)


def _top(env: Environment) -> Any:
    return env.stack[-1]


def _instrument(
    tested: CommonStateField, seen: dict[str, Any], context: dict[str, Any] | None
) -> None:
    _recording(tested, "_eval_state_input", "afterInputPath", seen, _top)
    if context is not None:
        original_input = tested._eval_state_input

        def with_given_context(env: Environment) -> None:
            # The given context object is the whole of $$: no State is added to it.
            data: Any = env.states.context_object.context_object_data
            data.clear()
            data.update(copy.deepcopy(context))
            original_input(env)

        tested._eval_state_input = with_given_context  # type: ignore[method-assign]
    parargs = getattr(tested, "parargs", None) or getattr(tested, "parameters", None)
    if parargs is not None:
        key = "afterArguments" if isinstance(parargs, Arguments) else "afterParameters"
        _recording(parargs, "_eval_body", key, seen, _top)
    for attribute, key in (
        ("result", "result"),
        ("result_selector", "afterResultSelector"),
        ("result_path", "afterResultPath"),
        ("items_path", "afterItemsPath"),
        ("items", "afterItemsPath"),
    ):
        component = getattr(tested, attribute, None)
        if component is not None and hasattr(component, "_eval_body"):
            _recording(component, "_eval_body", key, seen, _top)
    if isinstance(tested, ExecutionState):
        _recording(tested, "_eval_execution", "result", seen, _top)


def _mock_test_case(request: TestRequest) -> MockTestCase | None:
    mock = request.mock
    if mock is None or request.state_type != "Task":
        return None
    response: MockedResponse
    if "errorOutput" in mock:
        error = mock["errorOutput"]
        response = MockedResponseThrow(
            0, 0, str(error.get("error", "")), str(error.get("cause", ""))
        )
    else:
        response = MockedResponseReturn(0, 0, json.loads(str(mock.get("result", "null"))))
    responses = StateMockedResponses(STATE_NAME, "TestState", [response])
    return MockTestCase("TestState", "TestState", [responses])


def _mocked_iterations(
    tested: StateMap | StateParallel, request: TestRequest, seen: dict[str, Any]
) -> None:
    """The Map's or Parallel's ``_eval_execution``: its fields evaluated, its iterations mocked."""
    mock = request.mock or {}
    configuration = request.configuration

    def eval_execution(env: Environment) -> None:
        tolerated: dict[str, Any] = {}
        if isinstance(tested, StateMap):
            tested.max_concurrency_decl.eval(env=env)
            seen["maxConcurrency"] = env.stack.pop()
            source = tested.items_path or tested.items
            if tested.item_reader is None and source is not None:
                source.eval(env=env)
                _items_must_be_array(env, env.stack.pop(), source)
            tolerated = _tolerance(tested, env, request.state_definition)
            seen.update(tolerated)
        if "errorOutput" in mock:
            error = mock["errorOutput"]
            response = MockedResponseThrow(
                0, 0, str(error.get("error", "")), str(error.get("cause", ""))
            )
            from moto.stepfunctions.parser.asl.component.state.exec.state_task.mock_eval_utils import (  # noqa: E501
                eval_mocked_response,
            )

            eval_mocked_response(env, response)
        failures = configuration.get("mapIterationFailureCount")
        result = json.loads(str(mock.get("result", "null")))
        if failures is not None and tolerated and _exceeds(failures, len(result), tolerated):
            raise FailureEventException(_threshold_failure(env))
        env.stack.append(result)

    tested._eval_execution = eval_execution  # type: ignore[method-assign]


def _items_must_be_array(env: Environment, items: Any, items_path: Any) -> None:
    if not isinstance(items, list):
        from moto.stepfunctions.parser.api import HistoryEventType
        from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (  # noqa: E501
            StatesErrorNameType,
        )

        from photoflow_local.patches.base import failure_event

        path = getattr(getattr(items_path, "string_sampler", None), "literal_value", "$")
        raise FailureEventException(
            failure_event(
                env,
                StatesErrorNameType.StatesRuntime,
                HistoryEventType.TaskFailed,
                cause=f'Reference path "{path}" must point to array.',
            )
        )


def _tolerance(tested: StateMap, env: Environment, definition: dict[str, Any]) -> dict[str, Any]:
    tolerated: dict[str, Any] = {}
    if any(key.startswith("ToleratedFailureCount") for key in definition):
        tested.tolerated_failure_count_decl.eval(env=env)
        tolerated["toleratedFailureCount"] = env.stack.pop()
    if any(key.startswith("ToleratedFailurePercentage") for key in definition):
        tested.tolerated_failure_percentage_decl.eval(env=env)
        tolerated["toleratedFailurePercentage"] = float(env.stack.pop())
    return tolerated


def _exceeds(failures: int, iterations: int, tolerated: dict[str, Any]) -> bool:
    if "toleratedFailureCount" in tolerated and failures > tolerated["toleratedFailureCount"]:
        return True
    percentage = tolerated.get("toleratedFailurePercentage")
    return percentage is not None and iterations > 0 and failures * 100 / iterations > percentage


def _threshold_failure(env: Environment) -> FailureEvent:
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )

    from photoflow_local.patches.base import failure_event

    return failure_event(
        env,
        StatesErrorNameType.StatesExceedToleratedFailureThreshold,
        HistoryEventType.TaskFailed,
        cause="The specified tolerated failure threshold was exceeded",
    )


# Errors the wildcards do not match (Amazon States Language, "Error names").
_NOT_ALL = frozenset({"States.Runtime", "States.DataLimitExceeded"})
_NOT_TASK_FAILED = _NOT_ALL | {"States.Timeout"}


def _error_matches(decl: Any, failure: FailureEvent) -> bool:
    error = failure.error_name.error_name if failure.error_name else ""
    names = {name.error_name for name in decl.error_equals.error_names}
    return (
        error in names
        or ("States.ALL" in names and error not in _NOT_ALL)
        or ("States.TaskFailed" in names and error not in _NOT_TASK_FAILED)
    )


def _one_attempt(tested: ExecutionState, request: TestRequest, outcome: Outcome) -> None:
    """The state's ``_eval_state``: one attempt, and what its Retry and Catch would do."""
    retried = int(request.configuration.get("retrierRetryCount", 0) or 0)

    def eval_state(env: Environment) -> None:
        env.states.context_object.context_object_data.setdefault("State", {})  # type: ignore[typeddict-item]
        if request.context is None:
            env.states.context_object.context_object_data["State"]["RetryCount"] = 0  # type: ignore[index]
        try:
            tested._evaluate_with_timeout(env)
            return
        except Exception as error:
            failure = tested._from_error(env=env, ex=error)
        error_output = tested._construct_error_output_value(failure_event=failure)
        outcome.error, outcome.cause = error_output["Error"], error_output["Cause"]
        env.states.set_error_output(error_output)
        for index, retrier in enumerate(tested.retry.retriers if tested.retry else []):
            if _error_matches(retrier, failure):
                outcome.error_details["retryIndex"] = index
                if retried < retrier.max_attempts.attempts:
                    outcome.error_details["retryBackoffIntervalSeconds"] = _backoff(
                        retrier, retried
                    )
                    raise _Retriable()
                break
        for index, catcher in enumerate(tested.catch.catchers if tested.catch else []):
            if _error_matches(catcher, failure):
                outcome.error_details["catchIndex"] = index
                tested._handle_catch(env=env, failure_event=failure)
                if env.stack[-1] == CatchOutcome.Caught:
                    outcome.status = "CAUGHT_ERROR"
                    return
        raise FailureEventException(failure_event=failure)

    tested._eval_state = eval_state  # type: ignore[method-assign]


def _backoff(retrier: Any, retried: int) -> int | float:
    interval = retrier.interval_seconds.seconds * retrier.backoff_rate.rate**retried
    interval = min(interval, retrier.max_delay_seconds.max_delays_seconds)
    return int(interval) if float(interval).is_integer() else interval


def run(request: TestRequest, account: str, region: str) -> Outcome:
    """Evaluate the request's state once; what it did."""
    outcome = Outcome()
    tested = _parsed_state(request)
    outcome.seen["input"] = copy.deepcopy(request.input)
    if isinstance(tested, StateMap | StateParallel):
        _mocked_iterations(tested, request, outcome.seen)
    _instrument(tested, outcome.seen, request.context)
    if isinstance(tested, ExecutionState):
        _one_attempt(tested, request, outcome)
    env = _environment(request, account, region)
    env.mock_test_case = _mock_test_case(request)
    env.next_state_name = STATE_NAME
    try:
        tested.eval(env)
    except _Retriable:
        outcome.status = "RETRIABLE"
        return outcome
    except FailureEventException as failure:
        details = failure.get_execution_failed_event_details() or {}
        outcome.status, outcome.error, outcome.cause = (
            "FAILED",
            details.get("error"),
            details.get("cause"),
        )
        return outcome
    outcome.output, outcome.has_output = env.states.get_input(), True
    if env.next_state_name != STATE_NAME and env.next_state_name is not None:
        outcome.next_state = env.next_state_name
    if request.variables or env.variable_store.get_assigned_variables():
        outcome.seen["variables"] = _variables(env)
    return outcome


def _variables(env: Environment) -> dict[str, Any]:
    store = env.variable_store
    names = set(store._outer_scope) | set(store._inner_scope)
    return {name: store.get(name) for name in sorted(names)}


# ----------------------------------------------------------------- the answer
# What AWS's inspection data holds, per kind of state and query language, in its order.
_JSONPATH_STAGES = {
    "Pass": ("afterInputPath", "afterParameters", "afterResultSelector", "afterResultPath"),
    "PassResult": ("result", "afterResultSelector", "afterResultPath"),
    "Task": (
        "afterInputPath",
        "afterParameters",
        "result",
        "afterResultSelector",
        "afterResultPath",
    ),
    "Map": ("afterInputPath", "afterItemsPath", "afterResultSelector", "afterResultPath"),
    "Parallel": ("afterResultSelector", "afterResultPath"),
    "Choice": ("afterInputPath",),
    "Succeed": ("afterInputPath",),
    "Fail": ("afterInputPath",),
    "Wait": ("afterInputPath",),
}
_JSONATA_STAGES = {"Task": ("afterArguments", "result")}
# A stage that is absent takes the value of the one before it (an absent field is identity).
_IDENTITY_STAGES = frozenset({"afterInputPath", "afterParameters", "afterResultSelector"})


def _stages(request: TestRequest) -> tuple[str, ...]:
    state_definition = request.state_definition
    language = state_definition.get("QueryLanguage") or request.definition.get("QueryLanguage")
    kind = request.state_type
    if language == "JSONata":
        return _JSONATA_STAGES.get(kind, ())
    if kind == "Pass" and "Result" in state_definition:
        kind = "PassResult"
    return _JSONPATH_STAGES.get(kind, ())


def inspection_data(request: TestRequest, outcome: Outcome) -> dict[str, Any]:
    seen = outcome.seen
    data: dict[str, Any] = {"input": seen["input"]}
    previous = seen["input"]
    reached = outcome.status == "SUCCEEDED"
    for stage in _stages(request):
        if stage == "afterResultSelector" and "result" in seen:
            previous = seen["result"]
        if stage in seen:
            previous = data[stage] = seen[stage]
        elif stage in _IDENTITY_STAGES and (reached or _later_seen(request, stage, seen)):
            data[stage] = previous
    for key in ("maxConcurrency", "toleratedFailureCount", "toleratedFailurePercentage"):
        if key in seen:
            data[key] = seen[key]
    if "variables" in seen:
        data["variables"] = seen["variables"]
    if outcome.error_details:
        data["errorDetails"] = outcome.error_details
    return {
        key: value if key in _NUMBERS_IN_DATA or key == "errorDetails" else _as_json(value)
        for key, value in data.items()
    }


_NUMBERS_IN_DATA = frozenset(
    {"maxConcurrency", "toleratedFailureCount", "toleratedFailurePercentage"}
)


def _later_seen(request: TestRequest, stage: str, seen: dict[str, Any]) -> bool:
    stages = _stages(request)
    return any(later in seen for later in stages[stages.index(stage) + 1 :])


def _as_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def answer(request: TestRequest, outcome: Outcome) -> dict[str, Any]:
    answered: dict[str, Any] = {"status": outcome.status}
    if outcome.has_output:
        answered["output"] = _as_json(outcome.output)
    if outcome.error is not None:
        answered["error"] = outcome.error
    if outcome.cause is not None:
        answered["cause"] = outcome.cause
    if outcome.next_state is not None:
        answered["nextState"] = outcome.next_state
    if request.inspection_level in ("DEBUG", "TRACE"):
        answered["inspectionData"] = inspection_data(request, outcome)
    return answered


def test_state(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    """A TestState request's answer (or AWS's error for it)."""
    request = parse_request(params)
    check_request(request)
    return answer(request, run(request, account, region))


def _test_state_action(self: StepFunctionResponse) -> ActionResult:
    params = json.loads(self.body or "{}")
    return ActionResult(test_state(params, self.current_account, self.region))


def install() -> None:
    set_attribute(StepFunctionResponse, "test_state", _test_state_action)
    state.originals.setdefault("test_state", None)


__all__ = ["StateTask", "StateTaskService", "TestRequest", "install", "test_state"]
