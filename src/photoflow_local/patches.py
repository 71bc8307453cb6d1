"""Every patch to moto's internals, in one module, each with a test (tests/unit/test_patches.py).

moto 5.2.5 ships an executing Step Functions interpreter, but:
1. Lambda code only runs in Docker: ``LambdaFunction._invoke_lambda`` is the one
   hook behind direct invoke, Step Functions tasks, event source mappings and
   S3/SNS targets; it is routed to the local Lambda service (lambdas.py).
2. StartExecution without a name names the execution "None"; a generated name
   is used instead, as on AWS. And it is not atomic: two concurrent calls with
   one name could both start an execution; they are serialized, so the name
   stays the idempotency key it is on AWS.
3. Step Functions Local's MockConfigFile support is vendored but dormant
   (``load_mock_test_case_for`` returns None). It is wired up with moto's own
   MockTestCase classes: ``StartExecution`` on ``<stateMachineArn>#<TestCase>``
   runs that test case from the file named by ``SFN_MOCK_CONFIG``, as Step
   Functions Local does.
4. Retry intervals and Wait states sleep real seconds; a time scale makes
   tests and soak runs fast without changing the ASL.
5. A definite JSONPath that goes through an array index (``$[1].filters``,
   ``$.a[0].b``) returns its value wrapped in a list; on AWS it returns the value.
6. Executions emit no EventBridge events; on AWS every status change sends a
   "Step Functions Execution Status Change" event to the default bus. Ended
   executions now send theirs, so rules on them work locally.
7. A MockConfigFile ``Throw`` on a service integration (dynamodb:updateItem,
   sns:publish, ...) loses its error name (it becomes e.g.
   DynamoDB.AmazonDynamoDBException); Step Functions Local keeps it, so do we.
   Likewise a JSONPath in a Task's Parameters that selects nothing became the
   service's exception, retried and caught; on AWS it is States.Runtime, which ends
   the execution (Retry and Catch, States.ALL included, do not apply to it).
8. Mocked responses are picked by the state's retry count, so every iteration
   of a Map gets the same ones. Replays need each invocation's own recorded
   result: an ``InvocationOrderedTestCase`` hands them out in invocation order.
9. Every Task state builds a new boto3 client for its call (tens of ms each,
   several per execution) and sends it over HTTP to the server in this very
   process, a new connection per call (the server closes each). One client per
   region and service is kept, as a long-lived service would, and it calls the
   services in-process through moto's own request dispatcher, as the
   interpreter does under ``mock_aws``: the same responses and backends,
   about 0.8 ms a call instead of 2.8 ms.
10. Every execution parses the whole definition again with the ANTLR grammar
   (about 50 ms of CPU, holding the GIL, before its first state), and every
   JSONPath is parsed again each time a state reads one. Parsed definitions
   are kept per definition text, the 32 most recently used (the parsed
   components keep no execution state; each component's heap key is drawn
   before sharing), and parsed JSONPaths per path.
11. The server's dispatcher lists moto's package directory (a listdir and a
   stat per service, about 170) on every request, inside a lock that every
   request takes; the list is read once.
12. A scheduled EventBridge rule (a ScheduleExpression, no EventPattern)
   matches every event put on its bus, and its Lambda target then raises
   NotImplementedError, ending the delivery to the rules after it. On AWS such
   a rule matches no event; it is left out of event matching.
13. JSONata is stubbed (the evaluator is None): every JSONata expression, and every
   read of a variable, even in JSONPath states, fails with a TypeError. It is
   evaluated by photoflow_local.aws_jsonata (jsonata-python with AWS's $partition,
   $range, $hash, $random, $uuid and $parse, without $eval); moto's own stand-ins
   for AWS's functions (JSONata text that answers "not supported" for $hash and
   $uuid) are no longer prepended to expressions.
14. DescribeExecution lacks ``inputDetails``, ``redriveCount`` and ``redriveStatus``
   (with ``redriveStatusReason`` when not redrivable), which AWS always answers.
15. The context object's times (``$$.Execution.StartTime``, ``$$.State.EnteredTime``)
   are Python's ISO format (``2026-12-01T06:12:23.251887+00:00``); AWS's are
   ``2026-12-01T06:12:23.251Z``. And ``$$.Execution.RedriveCount`` is missing.
16. A Map's EvaluationFailed event follows the Map's entered event (previousEventId);
   on AWS it follows what the entered event followed, as recorded histories show (a
   Wait's follows its entered event, as moto does already).
17. A Map whose input is not an array fails with a cause naming the Python type
   ("... but was: <class 'bool'>"); AWS's shows the value as JSON ("... but was: true").
   And a JSONata Items of an unsupported type says "for the field 'Items'" where AWS
   says "specified for the field 'Items'".
18. A JSONata Wait ``Timestamp`` that is not an ISO-8601 extended offset date-time
   fails the execution as States.Runtime; AWS records an EvaluationFailed event,
   States.QueryEvaluationError, location "Timestamp", and its own cause.
19. GetExecutionHistory answers every event at once, whatever ``maxResults``,
   ``nextToken``, ``reverseOrder`` and ``includeExecutionData`` ask. As on AWS (API
   reference): pages of ``maxResults`` (default 100, at most 1000, 0 the default) with
   an opaque ``nextToken`` (another execution's or order's token: InvalidToken),
   newest first when reversed, and without the events' input and output when
   ``includeExecutionData`` is false.
20. StartExecution with an input that is not JSON fails with an error of no code (the
   interpreter's own exception class, which moto's responses do not render); AWS
   answers InvalidExecutionInput (HTTP 400).
21. S3 event notifications carry no ``versionId`` (nor ``sequencer``), so a consumer
   of a versioned bucket reads whatever version is latest when it gets there, not the
   one the event is about. AWS's events name the version of a versioning-enabled
   bucket, and a sequencer that orders the events of one key.
22. (with 1.) A function created through the endpoint (CreateFunction with a zip) could
   not be invoked: only the template's functions were known to the local runtime. Its
   zip is unpacked and run like theirs, for Python runtimes.
"""

from __future__ import annotations

import base64
import datetime
import functools
import importlib.metadata
import itertools
import json
import os
import re
import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, SupportsIndex

import boto3
from botocore.config import Config
from moto import backends
from moto.awslambda.models import LambdaFunction
from moto.core.botocore_stubber import BotocoreStubber
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.events.models import Rule, events_backends
from moto.s3 import notifications as s3_notifications
from moto.s3.models import FakeBucket
from moto.stepfunctions.exceptions import InvalidExecutionInput
from moto.stepfunctions.parser.api import (
    HistoryEventType,
)
from moto.stepfunctions.parser.api import InvalidExecutionInput as ParserInvalidExecutionInput
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.component import Component
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.intrinsic import jsonata as intrinsic_jsonata
from moto.stepfunctions.parser.asl.component.state import state as state_module
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
    WaitFunction,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.event.event_manager import (
    EventHistoryContext,
    EventManager,
)
from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata
from moto.stepfunctions.parser.asl.parse import asl_parser  # noqa: F401 - loads every component
from moto.stepfunctions.parser.asl.utils import boto_client, json_path
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.mocking.mock_config import (
    MockedResponse,
    MockedResponseReturn,
    MockedResponseThrow,
    MockTestCase,
    StateMockedResponses,
)
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from photoflow_local import aws_jsonata

MOTO_VERSION = "5.2.5"
MOCK_CONFIG_ENV = "SFN_MOCK_CONFIG"


class LambdaRuntime(Protocol):
    def invoke(self, function_name: str, event: str) -> tuple[str, bool, str]: ...


class MockConfigError(ValueError):
    """A MockConfigFile that cannot drive the requested test case."""


class _State:
    runtime: LambdaRuntime | None = None
    time_scale: float = 1.0
    applied: bool = False
    originals: dict[str, Any] = {}
    pending_mock = threading.local()
    start_lock = threading.Lock()
    registered: dict[tuple[str, str], tuple[dict[str, Any], bool]] = {}


_state = _State()


# ----------------------------------------------------------------- 1. Lambda, locally
def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    if _state.runtime is None:
        payload = {
            "errorMessage": "no local Lambda runtime",
            "errorType": "Lambda.ServiceException",
        }
        return json.dumps(payload), True, ""
    _register_created_function(self)
    # moto hands over a str, bytes or an already-parsed dict depending on the caller.
    if isinstance(event, bytes | bytearray):
        event = event.decode("utf-8")
    elif not isinstance(event, str):
        event = json.dumps(event if event is not None else {})
    return _state.runtime.invoke(self.function_name, event or "{}")


def _register_created_function(function: LambdaFunction) -> None:
    """Hand a Python function created with a zip to the runtime the first time it runs."""
    knows = getattr(_state.runtime, "knows", None)
    register_package = getattr(_state.runtime, "register_package", None)
    if knows is None or register_package is None or knows(function.function_name):
        return
    if str(function.run_time).startswith("python") and function.code_bytes:
        register_package(
            function.function_name,
            function.code_bytes,
            str(function.handler),
            {str(k): str(v) for k, v in (function.environment_vars or {}).items()},
            float(function.timeout),
            int(function.memory_size),
        )


# ----------------------------------------------------------------- 2 + 3. StartExecution
def _start_execution(
    self: StepFunctionsParserBackend,
    state_machine_arn: str,
    name: str | None = None,
    execution_input: str | None = None,
    trace_header: str | None = None,
) -> Execution:
    base_arn, _, test_case_name = state_machine_arn.partition("#")
    mock = None
    if test_case_name:
        state_machine = self.describe_state_machine(base_arn)
        mock = load_mock_test_case(state_machine.name, test_case_name)
    with _state.start_lock:
        _state.pending_mock.value = mock
        try:
            original: Callable[..., Execution] = _state.originals["start_execution"]
            return original(
                self, base_arn, name or str(uuid.uuid4()), execution_input, trace_header
            )
        except ParserInvalidExecutionInput as error:  # 20.
            raise InvalidExecutionInput(f"Invalid State Machine Execution Input: {error}") from None
        finally:
            _state.pending_mock.value = None


def _get_start_execution_worker(self: Execution) -> Any:
    worker = _state.originals["_get_start_execution_worker"](self)
    mock = getattr(_state.pending_mock, "value", None)
    if mock is not None:
        worker._mock_test_case = mock
    return worker


def load_mock_test_case(
    state_machine_name: str, test_case_name: str, path: Path | None = None
) -> MockTestCase:
    """A test case registered in this process, or from the MockConfigFile at ``path``
    (default: $SFN_MOCK_CONFIG)."""
    registered = _state.registered.get((state_machine_name, test_case_name))
    if registered is not None:
        config, ordered = registered
        build = ordered_test_case if ordered else mock_test_case_from_config
        return build(config, state_machine_name, test_case_name)
    location = path or (
        Path(os.environ[MOCK_CONFIG_ENV]) if os.environ.get(MOCK_CONFIG_ENV) else None
    )
    if location is None:
        raise MockConfigError(
            f"test case {test_case_name!r} requested, but {MOCK_CONFIG_ENV} names no file"
        )
    config = json.loads(location.read_text(encoding="utf-8"))
    return mock_test_case_from_config(config, state_machine_name, test_case_name)


def register_test_case(
    config: dict[str, Any], state_machine_name: str, test_case_name: str, *, ordered: bool = False
) -> None:
    """Make a test case available to ``<stateMachineArn>#<test_case_name>`` without a file."""
    mock_test_case_from_config(config, state_machine_name, test_case_name)  # validate now
    _state.registered[(state_machine_name, test_case_name)] = (config, ordered)


def mock_test_case_from_config(
    config: dict[str, Any], state_machine_name: str, test_case_name: str
) -> MockTestCase:
    machines = config.get("StateMachines", {})
    machine = machines.get(state_machine_name)
    if machine is None:
        raise MockConfigError(
            f"no state machine {state_machine_name!r} in the mock config (has {sorted(machines)})"
        )
    test_cases = machine.get("TestCases", {})
    test_case = test_cases.get(test_case_name)
    if test_case is None:
        raise MockConfigError(
            f"no test case {test_case_name!r} for {state_machine_name!r} (has {sorted(test_cases)})"
        )
    responses = config.get("MockedResponses", {})
    per_state = []
    for state_name, response_name in test_case.items():
        if response_name not in responses:
            raise MockConfigError(f"state {state_name!r} uses undefined response {response_name!r}")
        mocked = [
            mocked_response(state_name, rng, spec) for rng, spec in responses[response_name].items()
        ]
        try:
            per_state.append(StateMockedResponses(state_name, response_name, mocked))
        except (RuntimeError, ValueError) as error:
            raise MockConfigError(str(error)) from error
    return MockTestCase(state_machine_name, test_case_name, per_state)


def mocked_response(state_name: str, invocations: str, spec: dict[str, Any]) -> MockedResponse:
    start_text, _, end_text = invocations.partition("-")
    try:
        start = int(start_text)
        end = int(end_text) if end_text else start
    except ValueError:
        raise MockConfigError(
            f"{state_name}: invocation range {invocations!r} is not 'N' or 'N-M'"
        ) from None
    if ("Return" in spec) == ("Throw" in spec):
        raise MockConfigError(
            f"{state_name}: response {invocations!r} needs exactly one of Return, Throw"
        )
    if "Return" in spec:
        return MockedResponseReturn(start, end, spec["Return"])
    throw = spec["Throw"]
    if not isinstance(throw, dict) or not throw.get("Error"):
        raise MockConfigError(f"{state_name}: Throw at {invocations!r} has no Error")
    return MockedResponseThrow(start, end, throw["Error"], throw.get("Cause", ""))


# ----------------------------------------------------------------- 4. time scale
class _ScaledTime:
    """Stands in for the ``time`` module inside moto's retrier."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds * _state.time_scale)


def _wait_interval(self: WaitFunction, env: Any, wait_seconds: int) -> None:
    # moto's own loop rounds to whole seconds and would spin on fractions.
    if wait_seconds > 0:
        env.program_state_event.wait(wait_seconds * _state.time_scale)


# ----------------------------------------------------------------- 5. definite JSONPaths
_INDEFINITE = re.compile(r"\*|\.\.|\?\(|\[[^\]]*[:,][^\]]*\]")


def extract_json(path: str, data: Any) -> Any:
    """moto's extract_json, except that a definite path yields its one value, as on AWS."""
    if not _INDEFINITE.search(path):
        matches = json_path.parse(path).find(data)
        if len(matches) == 1:
            return matches[0].value
    return _state.originals["extract_json"](path, data)


# ----------------------------------------------------------------- 6. status-change events
STATUS_CHANGE = "Step Functions Execution Status Change"


def status_change_detail(execution: Execution) -> dict[str, Any]:
    """The detail of the EventBridge event AWS sends when ``execution`` changes status."""

    def millis(moment: Any) -> int | None:
        return int(moment.timestamp() * 1000) if moment is not None else None

    output = execution.output
    return {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine.arn,
        "name": execution.name,
        "status": getattr(execution.exec_status, "value", execution.exec_status),
        "startDate": millis(execution.start_date),
        "stopDate": millis(execution.stop_date),
        "input": json.dumps(execution.input_data),
        "output": json.dumps(output) if output is not None else None,
        "inputDetails": {"included": True},
        "outputDetails": {"included": True} if output is not None else None,
        "error": execution.error,
        "cause": execution.cause,
    }


def _terminated(self: BaseExecutionWorkerCommunication) -> None:
    _state.originals["terminated"](self)
    execution = self.execution
    events_backends[execution.account_id][execution.region_name].put_events(
        [
            {
                "Source": "aws.states",
                "DetailType": STATUS_CHANGE,
                "Detail": json.dumps(status_change_detail(execution)),
                "Resources": [execution.exec_arn],
            }
        ]
    )


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


_DETAILS_OF = {
    HistoryEventType.TaskFailed: "taskFailedEventDetails",
    HistoryEventType.EvaluationFailed: "evaluationFailedEventDetails",
}


def failure_event(
    env: Environment,
    error_type: StatesErrorNameType,
    event_type: HistoryEventType,
    **details: str,
) -> FailureEvent:
    """A failure of the state ``env`` is in, as the interpreter records and raises them."""
    error = StatesErrorName(typ=error_type)
    event_details: Any = {_DETAILS_OF[event_type]: {"error": error.error_name, **details}}
    return FailureEvent(
        env=env, error_name=error, event_type=event_type, event_details=event_details
    )


def _service_classes(base: type) -> list[type]:
    found: list[type] = []
    subclass: type
    for subclass in base.__subclasses__():
        found.append(subclass)
        found.extend(_service_classes(subclass))
    return found


# ----------------------------------------------------------------- 8. invocation order
class InvocationOrderedTestCase(MockTestCase):
    """A test case whose responses for a state are used in invocation order, across retries
    and Map iterations alike (a replay of recorded results)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._invocations: dict[str, int] = {}
        self._lock = threading.Lock()

    def next_response(self, state_name: str) -> MockedResponse:
        with self._lock:
            index = self._invocations.get(state_name, 0)
            self._invocations[state_name] = index + 1
        responses = self.state_mocked_responses[state_name].mocked_responses
        if index >= len(responses):
            raise MockConfigError(
                f"state {state_name!r} was invoked {index + 1} times; "
                f"the recording has {len(responses)}"
            )
        return responses[index]


def _get_current_mocked_response(self: Environment) -> MockedResponse:
    case = self.mock_test_case
    if isinstance(case, InvocationOrderedTestCase) and self.is_mocked_mode():
        return case.next_response(str(self.next_state_name))
    response: MockedResponse = _state.originals["get_current_mocked_response"](self)
    return response


def ordered_test_case(
    config: dict[str, Any], state_machine_name: str, test_case_name: str
) -> MockTestCase:
    """A MockConfigFile test case whose responses are used in invocation order."""
    case = mock_test_case_from_config(config, state_machine_name, test_case_name)
    ordered = InvocationOrderedTestCase(
        case.state_machine_name, case.test_case_name, list(case.state_mocked_responses.values())
    )
    return ordered


# ----------------------------------------------------------------- 9. one client per service
class _InProcess(BotocoreStubber):
    """moto's in-process dispatcher, always on, for the interpreter's own clients."""

    def __init__(self) -> None:
        super().__init__()
        self.enabled = True

    def __call__(self, event_name: str, request: Any, **kwargs: Any) -> Any:
        if boto_client.botocore_stubber.enabled:  # under mock_aws, moto's own answers
            return None
        response = super().__call__(event_name, request, **kwargs)
        if response is None:  # never out to the network
            raise RuntimeError(f"no local service answers {request.method} {request.url}")
        return response


_in_process = _InProcess()
_clients: dict[tuple[str, str], Any] = {}
_clients_lock = threading.Lock()


def new_client(region: str, service: str) -> Any:
    """A client as moto's boto_client_for builds it, calling the services in-process."""
    client = boto3.client(
        service,
        region_name=region,
        aws_access_key_id="ak",
        aws_secret_access_key="sk",
        config=Config(
            parameter_validation=False,
            retries={"max_attempts": 0, "total_max_attempts": 1},
            ignore_configured_endpoint_urls=True,  # AWS_ENDPOINT_URL is for the functions
        ),
    )
    client.meta.events.register("before-send", _in_process)
    return client


def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    """moto's boto_client_for, creating each (region, service) client once.

    moto passes the state's credentials (the execution role) but signs every call
    with fixed local keys whatever they are, so one client serves every role.
    """
    with _clients_lock:
        client = _clients.get((region, service))
        if client is None:
            client = _clients[(region, service)] = new_client(region, service)
        return client


def _patch_module_function(name: str, replacement: Any) -> None:
    """Replace ``name`` in every interpreter module that imported moto's original."""
    original = _state.originals[name]
    for module_name, module in list(sys.modules.items()):
        if (
            module_name.startswith("moto.stepfunctions.parser")
            and getattr(module, name, None) is original
        ):
            setattr(module, name, replacement)


# ----------------------------------------------------------------- 10. parse once
PARSED_DEFINITIONS_KEPT = 32  # the most recently used; replays may create many machines
_programs: OrderedDict[str, EvalComponent] = OrderedDict()
_programs_lock = threading.Lock()


def _get_evaluation_entrypoint(self: ExecutionWorker) -> EvalComponent:
    definition = self._evaluation_details.state_machine_details.definition
    with _programs_lock:
        program = _programs.get(definition)
        if program is not None:
            _programs.move_to_end(definition)
        else:
            program = _state.originals["_get_evaluation_entrypoint"](self)
            for component in components(program):
                if isinstance(component, EvalComponent):
                    component.heap_key  # noqa: B018 - drawn lazily; racing executions would differ
            _programs[definition] = program
            while len(_programs) > PARSED_DEFINITIONS_KEPT:
                _programs.popitem(last=False)
        return program


def components(root: Component) -> list[Component]:
    """Every component of a parsed definition, ``root`` first."""
    found: dict[int, Component] = {}
    pending: list[Any] = [root]
    while pending:
        value = pending.pop()
        if isinstance(value, Component):
            if id(value) in found:
                continue
            found[id(value)] = value
            pending.extend(vars(value).values())
        elif isinstance(value, list | tuple):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
    return list(found.values())


# ----------------------------------------------------------------- 11. dispatch
@functools.cache
def _moto_modules() -> tuple[str, ...]:
    return tuple(_state.originals["list_of_moto_modules"]())


# ----------------------------------------------------------------- 12. scheduled rules
def _send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:
    if self.scheduled_expression and not self.event_pattern.get_pattern():
        return  # fired by its schedule only
    _state.originals["send_to_targets"](self, original_event, transform_input)


# ----------------------------------------------------------------- 13. JSONata
def _no_function_declarations(variable_references: set[str]) -> str:
    return ""  # AWS's functions are registered with the evaluator itself


# ----------------------------------------------------------------- 14. DescribeExecution
# Standard executions that can be redriven (Step Functions API reference, RedriveExecution).
REDRIVABLE = frozenset({"FAILED", "ABORTED", "TIMED_OUT"})


def _describe_execution(self: StepFunctionResponse) -> ActionResult:
    answer = _state.originals["describe_execution"](self)
    described = answer.result
    if isinstance(described, dict):
        described.setdefault("inputDetails", {"included": True})
        if "output" in described:
            described["outputDetails"] = {"included": True}
        described.setdefault("redriveCount", 0)
        status = str(described.get("status"))
        if status in REDRIVABLE:
            described.setdefault("redriveStatus", "REDRIVABLE")
        else:
            described.setdefault("redriveStatus", "NOT_REDRIVABLE")
            described.setdefault(
                "redriveStatusReason", f"Execution is {status} and cannot be redriven"
            )
    return answer


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
    environment: Environment = _state.originals["_get_evaluation_environment"](self)
    execution = environment.states.context_object.context_object_data["Execution"]
    start = execution.get("StartTime")
    if isinstance(start, datetime.datetime):
        execution["StartTime"] = aws_time(start)
    execution.setdefault("RedriveCount", 0)  # type: ignore[typeddict-item]
    return environment


# ----------------------------------------------------------------- 16. EvaluationFailed
_ENTERED_AFTER = "_photoflow_entered_after"  # on an EventHistoryContext


def _add_event(
    self: EventManager,
    context: EventHistoryContext,
    event_type: HistoryEventType,
    event_details: Any = None,
    timestamp: Any = None,
    update_source_event_id: bool = True,
) -> int:
    if str(event_type).endswith("StateEntered"):
        entered_map = event_type == HistoryEventType.MapStateEntered
        setattr(context, _ENTERED_AFTER, context.source_event_id if entered_map else None)
    elif (
        event_type == HistoryEventType.EvaluationFailed
        and getattr(context, _ENTERED_AFTER, None) is not None
    ):
        context.source_event_id = getattr(context, _ENTERED_AFTER)
    event_id: int = _state.originals["add_event"](
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
        _state.originals["map_eval_execution"](self, env)
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
        seconds: int = _state.originals["get_wait_seconds"](self, env)
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


# ----------------------------------------------------------------- 19. history pages
HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX = 100, 1000
_EXECUTION_DATA = ("input", "output")


class InvalidToken(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidToken", message)


def _history_token(execution_arn: str, reverse: bool, offset: int) -> str:
    position = json.dumps({"arn": execution_arn, "reverse": reverse, "offset": offset})
    return base64.urlsafe_b64encode(position.encode()).decode()


def _history_offset(token: str, execution_arn: str, reverse: bool) -> int:
    try:
        position = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(position["offset"])
    except (ValueError, TypeError, KeyError) as error:
        raise InvalidToken(f"Invalid Token: '{token}'") from error
    if position.get("arn") != execution_arn or position.get("reverse") != reverse:
        raise InvalidToken("The token does not belong to this execution and order")
    return offset


def _without_execution_data(event: dict[str, Any]) -> dict[str, Any]:
    return {
        key: (
            {k: v for k, v in value.items() if k not in _EXECUTION_DATA}
            if key.endswith("EventDetails") and isinstance(value, dict)
            else value
        )
        for key, value in event.items()
    }


def _get_execution_history(self: StepFunctionResponse) -> ActionResult:
    answer = _state.originals["get_execution_history"](self)
    history = answer.result
    if not isinstance(history, dict):
        return answer
    arn = str(self._get_param("executionArn"))
    reverse = bool(self._get_param("reverseOrder", False))
    size = int(self._get_param("maxResults", 0) or HISTORY_PAGE_DEFAULT)
    if not 0 < size <= HISTORY_PAGE_MAX:
        raise JsonRESTError("ValidationException", f"maxResults must be 0 to {HISTORY_PAGE_MAX}")
    token = self._get_param("nextToken")
    offset = _history_offset(str(token), arn, reverse) if token else 0
    events = list(history.get("events", []))
    if reverse:
        events.reverse()
    page = events[offset : offset + size]
    if self._get_param("includeExecutionData", True) is False:
        page = [_without_execution_data(event) for event in page]
    paged: dict[str, Any] = {"events": page}
    if offset + size < len(events):
        paged["nextToken"] = _history_token(arn, reverse, offset + size)
    return ActionResult(paged)


# ----------------------------------------------------------------- 21. S3 events
_sequence = itertools.count(1)


def _get_s3_event(
    event_name: str, bucket: FakeBucket, key: Any, notification_id: str
) -> dict[str, list[dict[str, Any]]]:
    event: dict[str, list[dict[str, Any]]] = _state.originals["get_s3_event"](
        event_name, bucket, key, notification_id
    )
    for record in event["Records"]:
        described = record["s3"]["object"]
        if bucket.is_versioned and key.version_id and key.version_id != "null":
            described["versionId"] = key.version_id
        # Hexadecimal and increasing, as AWS's: later events of a key compare greater.
        described["sequencer"] = f"{time.time_ns():016X}{next(_sequence):04X}"
    return event


# ----------------------------------------------------------------- applying
def apply(runtime: LambdaRuntime, *, time_scale: float = 1.0) -> None:
    """Install every patch (idempotent) and route Lambda invocations to ``runtime``."""
    installed = importlib.metadata.version("moto")
    if installed != MOTO_VERSION:
        raise RuntimeError(f"these patches are for moto {MOTO_VERSION}, found {installed}")
    _state.runtime = runtime
    _state.time_scale = time_scale
    if _state.applied:
        return
    _state.originals.update(
        _invoke_lambda=LambdaFunction._invoke_lambda,
        start_execution=StepFunctionsParserBackend.start_execution,
        _get_start_execution_worker=Execution._get_start_execution_worker,
        retrier_time=retrier_decl.time,
        _wait_interval=WaitFunction._wait_interval,
        extract_json=json_path.extract_json,
        terminated=BaseExecutionWorkerCommunication.terminated,
        get_current_mocked_response=Environment.get_current_mocked_response,
        boto_client_for=boto_client.boto_client_for,
        _get_evaluation_entrypoint=ExecutionWorker._get_evaluation_entrypoint,
        json_path_parse=json_path.parse,
        result_path_parse=result_path.parse,
        list_of_moto_modules=backends.list_of_moto_modules,
        send_to_targets=Rule.send_to_targets,
        _eval_jsonata=moto_jsonata._eval_jsonata,
        describe_execution=StepFunctionResponse.describe_execution,
        add_event=EventManager.add_event,
        map_eval_execution=StateMap._eval_execution,
        timestamp_failure=Timestamp._create_failure_event,
        get_wait_seconds=Timestamp._get_wait_seconds,
        get_execution_history=StepFunctionResponse.get_execution_history,
        get_s3_event=s3_notifications._get_s3_event,
        _get_evaluation_environment=ExecutionWorker._get_evaluation_environment,
        get_intrinsic_functions_declarations=intrinsic_jsonata.get_intrinsic_functions_declarations,
    )
    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]
    StepFunctionsParserBackend.start_execution = _start_execution  # type: ignore[method-assign]
    Execution._get_start_execution_worker = _get_start_execution_worker  # type: ignore[method-assign]
    retrier_decl.time = _ScaledTime()  # type: ignore[assignment]
    WaitFunction._wait_interval = _wait_interval  # type: ignore[method-assign]
    _patch_module_function("extract_json", extract_json)
    _patch_module_function("boto_client_for", boto_client_for)
    BaseExecutionWorkerCommunication.terminated = _terminated  # type: ignore[method-assign]
    Environment.get_current_mocked_response = _get_current_mocked_response  # type: ignore[method-assign]
    for service in _service_classes(state_task_service.StateTaskService):
        if "_from_error" in vars(service):
            service._from_error = _keeps_failure_events(service._from_error)  # type: ignore[attr-defined]
    ExecutionWorker._get_evaluation_entrypoint = _get_evaluation_entrypoint  # type: ignore[method-assign]
    json_path.parse = functools.lru_cache(maxsize=4096)(json_path.parse)
    result_path.parse = functools.lru_cache(maxsize=4096)(result_path.parse)
    backends.list_of_moto_modules = _moto_modules
    Rule.send_to_targets = _send_to_targets  # type: ignore[method-assign]
    moto_jsonata._eval_jsonata = aws_jsonata.evaluate
    _patch_module_function("get_intrinsic_functions_declarations", _no_function_declarations)
    StepFunctionResponse.describe_execution = _describe_execution  # type: ignore[method-assign]
    ExecutionWorker._get_evaluation_environment = _get_evaluation_environment  # type: ignore[method-assign]
    state_module.datetime = _DatetimeModule  # type: ignore[assignment]
    EventManager.add_event = _add_event  # type: ignore[method-assign]
    StateMap._eval_execution = _map_eval_execution  # type: ignore[method-assign]
    # Only the JSONata (and literal) Timestamp: TimestampPath keeps its own, AWS's, failure.
    Timestamp._create_failure_event = _timestamp_failure  # type: ignore[method-assign, assignment]
    Timestamp._get_wait_seconds = _get_wait_seconds  # type: ignore[method-assign]
    StepFunctionResponse.get_execution_history = _get_execution_history  # type: ignore[method-assign]
    s3_notifications._get_s3_event = _get_s3_event
    _state.applied = True


def set_time_scale(time_scale: float) -> None:
    _state.time_scale = time_scale
