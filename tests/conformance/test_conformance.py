"""Executions recorded on real AWS, run again on the local engine and compared.

Each case (see cases.py) creates its state machine on the local stack, starts one
execution with the recorded input through the ordinary Step Functions API, waits for
it to end (bounded), and compares, normalised as the recordings are: the history's
events (ids, types, details: inputs, outputs, errors and causes) and, where recorded,
the execution's description (status, output or error and cause). The terminal
summary prints ``conformance: N/M`` per group; cases in excluded.json are skipped
with their reason.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from photoflow_local.stack import LocalStack
from tests.conformance.cases import CALL_KINDS, Case, all_cases, excluded
from tests.conformance.normalise import (
    ACCOUNT,
    REGION,
    RunNames,
    first_difference,
    normalise,
    unordered_branches,
)
from tests.conformance.resources import EXECUTION_ROLE, case_resources
from tests.support import poll

CASES = all_cases()
EXCLUDED = excluded()
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{EXECUTION_ROLE}"


def _param(case: Case) -> Any:
    exclusion = EXCLUDED.get(case.id)
    marks = []
    if exclusion is not None and exclusion.kind == "recording":
        marks.append(pytest.mark.skip(reason=exclusion.reason))
    elif exclusion is not None:
        marks.append(pytest.mark.xfail(reason=exclusion.reason, strict=True))
    return pytest.param(case, id=case.id, marks=marks)


def test_every_exclusion_names_a_case() -> None:
    assert sorted(set(EXCLUDED) - {case.id for case in CASES}) == []


def run(local_stack: LocalStack, case: Case) -> tuple[dict[str, Any], dict[str, Any], RunNames]:
    """Create the case's resources and state machine, start and wait for its execution;
    its history and description."""
    with case_resources(local_stack, case) as resources:
        definition = resources.fill(json.dumps(case.definition))
        execution_input = resources.fill(case.input)
        # Named as the recordings' state machines were (no "-": some split the name on it).
        machine_name = f"statemachine_create_and_record_execution_{uuid.uuid4().hex[:8]}"
        names = RunNames(
            machine_name,
            str(uuid.uuid4()),
            ROLE_ARN,
            # Dates the case itself holds (its input, its definition's literals) are data.
            input_text=execution_input + definition,
            resources=resources.names,
            masked=case.masked or {},
        )
        history, described = _execute(local_stack, definition, execution_input, names, case.id)
    return history, described, names


def _execute(
    local_stack: LocalStack, definition: str, execution_input: str, names: RunNames, what: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    sfn = local_stack.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=names.state_machine, definition=definition, roleArn=ROLE_ARN
    )["stateMachineArn"]
    try:
        execution = sfn.start_execution(
            stateMachineArn=machine, name=names.execution, input=execution_input
        )["executionArn"]
        described = poll(
            lambda: sfn.describe_execution(executionArn=execution),
            lambda d: d["status"] != "RUNNING",
            timeout=60,
            what=f"{what} to end",
        )
        history = sfn.get_execution_history(executionArn=execution, maxResults=1000)
    finally:
        sfn.delete_state_machine(stateMachineArn=machine)
    return history, described


# The account the recordings name, and the names AWS generated for a TestState run (its
# state machine's, its execution's) or the test gave its role: one placeholder for all.
RECORDED_ACCOUNT = "111111111111"
_RECORDED_RESOURCE = re.compile(r"<resource:\d+>")
_RESOURCE = "<resource>"
_LOCAL_TEST_STATE_NAMES = re.compile(r":express:([^:\"\\]+):([^:\"\\]+)")
_RECORDED_ROLE = "TestStateRole"
# What the local answer is compared in: an error's code and message, not its other fields.
_ERROR_KEYS = ("Code", "Message")


def _without_generated_names(answer: dict[str, Any]) -> dict[str, Any]:
    text = _RECORDED_RESOURCE.sub(_RESOURCE, json.dumps(answer, default=str))
    for names in _LOCAL_TEST_STATE_NAMES.findall(text):
        for name in names:
            text = text.replace(name, _RESOURCE)
    text = text.replace(_RECORDED_ROLE, _RESOURCE).replace(f".{REGION}.", ".<region>.")
    return dict(json.loads(text))


def _error_only(answer: dict[str, Any]) -> dict[str, Any]:
    if "Error" not in answer:
        return answer
    return {"Error": {key: answer["Error"].get(key) for key in _ERROR_KEYS}}


def call(local_stack: LocalStack, case: Case) -> dict[str, Any]:
    """The case's one API call on the local stack: its answer, or its error."""
    sfn = local_stack.client("stepfunctions")
    request = json.loads(json.dumps(case.request).replace(RECORDED_ACCOUNT, ACCOUNT))
    operation = getattr(sfn, CALL_KINDS[case.kind])
    try:
        answer: dict[str, Any] = operation(**request)
    except ClientError as error:
        return dict(error.response)
    return answer


def _compare_call(local_stack: LocalStack, case: Case) -> None:
    names = RunNames("<no state machine>", "<no execution>", "<no role>")
    expected = _without_generated_names(_error_only(case.recorded[CALL_KINDS[case.kind]]))
    actual = _without_generated_names(_error_only(call(local_stack, case)))
    difference = first_difference(normalise(expected), normalise(actual, names))
    assert difference is None, f"{case.kind} answer differs at {difference}"


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_the_local_engine_does_what_aws_recorded(local_stack: LocalStack, case: Case) -> None:
    if case.kind in CALL_KINDS:
        _compare_call(local_stack, case)
        return
    history, described, names = run(local_stack, case)

    expected_events, actual_events = unordered_branches(
        normalise(case.events), normalise(history, names)["events"]
    )
    difference = first_difference(expected_events, actual_events)
    assert difference is None, f"history differs at {difference}"
    if "describe_execution" in case.recorded:
        expected = normalise(case.recorded["describe_execution"])
        difference = first_difference(expected, normalise(described, names))
        assert difference is None, f"describe-execution differs at {difference}"
