"""Step Functions' API (patches 2, 14, 19, 20): StartExecution, DescribeExecution,
GetExecutionHistory as AWS answers them; Express executions (54) and their logs (58) start
here, in express.py."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.stepfunctions.exceptions import InvalidExecutionInput
from moto.stepfunctions.parser.api import InvalidExecutionInput as ParserInvalidExecutionInput
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from photoflow_local.patches.base import replace, state
from photoflow_local.patches.stepfunctions import express
from photoflow_local.patches.stepfunctions.mocking import load_mock_test_case


# ----------------------------------------------------------------- 2 + 3. StartExecution
def _start_execution(
    self: StepFunctionsParserBackend,
    state_machine_arn: str,
    name: str | None = None,
    execution_input: str | None = None,
    trace_header: str | None = None,
) -> Execution:
    base_arn, _, test_case_name = state_machine_arn.partition("#")
    state_machine = self.describe_state_machine(base_arn)
    mock = load_mock_test_case(state_machine.name, test_case_name) if test_case_name else None
    with state.start_lock:
        state.pending_mock.value = mock
        try:
            if express.is_express(state_machine):  # 54.
                return express.start_express(
                    self, state_machine, name or str(uuid.uuid4()), execution_input, trace_header
                )
            original: Callable[..., Execution] = state.originals["start_execution"]
            return original(
                self, base_arn, name or str(uuid.uuid4()), execution_input, trace_header
            )
        except ParserInvalidExecutionInput as error:  # 20.
            raise InvalidExecutionInput(f"Invalid State Machine Execution Input: {error}") from None
        finally:
            state.pending_mock.value = None


def _get_start_execution_worker(self: Execution) -> Any:
    if self._cloud_watch_logging_session is None:  # 58. moto starts every execution without
        self._cloud_watch_logging_session = express.logging_session(self)
    worker = state.originals["_get_start_execution_worker"](self)
    mock = getattr(state.pending_mock, "value", None)
    if mock is not None:
        worker._mock_test_case = mock
    return worker


# ----------------------------------------------------------------- 14. DescribeExecution
# Standard executions that can be redriven (Step Functions API reference, RedriveExecution).
REDRIVABLE = frozenset({"FAILED", "ABORTED", "TIMED_OUT"})


def _describe_execution(self: StepFunctionResponse) -> ActionResult:
    answer = state.originals["describe_execution"](self)
    described = answer.result
    if isinstance(described, dict):
        described.setdefault("inputDetails", {"included": True})
        if "output" in described:
            described["outputDetails"] = {"included": True}
            output = self.stepfunction_backend.describe_execution(described["executionArn"]).output
            if isinstance(output, str):  # a JSON string, as every other output is JSON text
                described["output"] = json.dumps(output)
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
    answer = state.originals["get_execution_history"](self)
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


def install() -> None:
    replace(StepFunctionsParserBackend, "start_execution", _start_execution)
    replace(Execution, "_get_start_execution_worker", _get_start_execution_worker)
    replace(StepFunctionResponse, "describe_execution", _describe_execution)
    replace(StepFunctionResponse, "get_execution_history", _get_execution_history)
