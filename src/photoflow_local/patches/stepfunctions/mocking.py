"""Step Functions Local's MockConfigFile (patches 3 and 8): test cases and replays."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
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
from moto.stepfunctions.parser.asl.component.state.exec.state_task import mock_eval_utils
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.mocking.mock_config import (
    MockedResponse,
    MockedResponseReturn,
    MockedResponseThrow,
    MockTestCase,
    StateMockedResponses,
)

from photoflow_local.patches.base import MOCK_CONFIG_ENV, MockConfigError, replace, state


def load_mock_test_case(
    state_machine_name: str, test_case_name: str, path: Path | None = None
) -> MockTestCase:
    """A test case registered in this process, or from the MockConfigFile at ``path``
    (default: $SFN_MOCK_CONFIG)."""
    registered = state.registered.get((state_machine_name, test_case_name))
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
    state.registered[(state_machine_name, test_case_name)] = (config, ordered)


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
    response: MockedResponse = state.originals["get_current_mocked_response"](self)
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


# ----------------------------------------------------------------- 42. mocked States.* errors
def _throw(env: Environment, mocked_response: MockedResponseThrow) -> None:
    """A mocked error, under its name; one of the States.* names is that error itself (moto
    refuses it as a custom name, which ends the run with an unrelated error)."""
    try:
        error_type = StatesErrorNameType.from_name(mocked_response.error)
    except ValueError:
        state.originals["eval_mocked_response_throw"](env, mocked_response)
        return
    raise FailureEventException(
        FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=error_type),
            event_type=HistoryEventType.TaskFailed,
            event_details=EventDetails(  # type: ignore[typeddict-item]
                taskFailedEventDetails=TaskFailedEventDetails(
                    error=mocked_response.error, cause=mocked_response.cause
                )
            ),
        )
    )


def install() -> None:
    replace(mock_eval_utils, "_eval_mocked_response_throw", _throw, "eval_mocked_response_throw")
    replace(Environment, "get_current_mocked_response", _get_current_mocked_response)
