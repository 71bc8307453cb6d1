"""MockConfigFiles (Step Functions Local's format), generated from a state machine and checked.

``generate`` writes one test case per path worth testing: the happy path, each
Retry exhausted and each Catch taken (with whatever upstream failure it takes
to reach the state), and says where each one should end. ``check`` finds what
would make a MockConfigFile fail at run time, with a message per problem.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto.stepfunctions.parser.mocking.mock_config import StateMockedResponses

from photoflow_local import patches
from photoflow_local.shape import main_state_machine
from photoflow_local.template import load_sam

INJECTED_ERROR = "Injected.PermanentError"
_WILDCARDS = {"States.ALL", "States.TaskFailed"}


# ---------------------------------------------------------------- the state machine
@dataclass(frozen=True)
class StateInfo:
    name: str
    spec: dict[str, Any]
    container: str | None  # the Parallel or Map it is inside

    @property
    def kind(self) -> str:
        return str(self.spec.get("Type"))


def load_definition(template: Path, logical_id: str | None = None) -> tuple[str, dict[str, Any]]:
    """The logical id and the ASL definition of a state machine in a SAM template."""
    sam = load_sam(template)
    machines = {
        name: resource
        for name, resource in sam.get("Resources", {}).items()
        if resource.get("Type")
        in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
    }
    if logical_id is None:
        logical_id = main_state_machine(sam.get("Resources", {}))
    properties = machines[logical_id].get("Properties", {})
    if "DefinitionUri" in properties:
        definition = json.loads((template.parent / properties["DefinitionUri"]).read_text())
    else:
        definition = properties["Definition"]
    return logical_id, definition


def all_states(definition: dict[str, Any], container: str | None = None) -> dict[str, StateInfo]:
    found: dict[str, StateInfo] = {}
    for name, spec in definition.get("States", {}).items():
        found[name] = StateInfo(name, spec, container)
        for branch in spec.get("Branches", []):
            found.update(all_states(branch, name))
        processor = spec.get("ItemProcessor") or spec.get("Iterator")
        if processor:
            found.update(all_states(processor, name))
    return found


def _first_task(definition: dict[str, Any]) -> str | None:
    name = definition.get("StartAt")
    seen = set()
    while name and name not in seen:
        seen.add(name)
        spec = definition["States"][name]
        if spec.get("Type") == "Task":
            return str(name)
        name = spec.get("Next")
    return None


# ---------------------------------------------------------------- expected outcomes
@dataclass
class TestCase:
    name: str
    injections: dict[str, tuple[str, int]] = field(default_factory=dict)  # state -> (error, times)
    status: str = "SUCCEEDED"
    last_state: str = ""
    error: str | None = None
    description: str = ""


class _Model:
    def __init__(self, definition: dict[str, Any]) -> None:
        self.definition = definition
        self.states = all_states(definition)

    def retried_attempts(self, state: str, error: str) -> int:
        """Invocations until ``error`` escapes ``state``'s retriers."""
        for retrier in self.states[state].spec.get("Retry", []):
            names = retrier.get("ErrorEquals", [])
            if (
                error in names
                or (_WILDCARDS & set(names) and not error.startswith("States."))
                or ("States.ALL" in names)
            ):
                return int(retrier.get("MaxAttempts", 3)) + 1
        return 1

    def catcher_for(self, state: str, error: str) -> dict[str, Any] | None:
        for catcher in self.states[state].spec.get("Catch", []):
            names = catcher.get("ErrorEquals", [])
            if (
                error in names
                or "States.ALL" in names
                or ("States.TaskFailed" in names and not error.startswith("States."))
            ):
                return dict(catcher)
        return None

    def error_for(self, state: str, catcher_names: list[str] | None = None) -> str:
        """An error that ``state``'s retriers do not retry and the catcher (if any) catches."""
        retried = {
            n for r in self.states[state].spec.get("Retry", []) for n in r.get("ErrorEquals", [])
        }
        for name in catcher_names or []:
            if name not in _WILDCARDS and name not in retried:
                return name
        return INJECTED_ERROR

    def simulate(self, case: TestCase) -> None:
        """Walk the top level as the interpreter would, and record where the case ends."""
        name: str | None = self.definition["StartAt"]
        steps = 0
        while name is not None and steps < 1000:
            steps += 1
            spec = self.states[name].spec
            case.last_state = name
            kind = spec.get("Type")
            if kind == "Succeed":
                case.status = "SUCCEEDED"
                return
            if kind == "Fail":
                case.status, case.error = "FAILED", spec.get("Error")
                return
            failing = self._failing_inside(name, case)
            if failing is not None:
                error, _ = case.injections[failing]
                catcher = self.catcher_for(name, error)
                if catcher is None:
                    case.status, case.error = "FAILED", error
                    return
                name = catcher["Next"]
                continue
            if kind == "Choice":
                name = spec.get("Default") or spec["Choices"][0]["Next"]
                continue
            if spec.get("End"):
                case.status = "SUCCEEDED"
                return
            name = spec.get("Next")
        case.status = "UNKNOWN"

    def _failing_inside(self, name: str, case: TestCase) -> str | None:
        """The injected state that makes top-level state ``name`` fail, if any."""
        for injected in case.injections:
            container: str | None = injected
            while container is not None:
                if container == name:
                    return injected
                container = self.states[container].container
        return None


def generate(definition: dict[str, Any]) -> list[TestCase]:
    model = _Model(definition)
    cases: list[TestCase] = [TestCase("HappyPath", description="every Task succeeds")]

    def injected_reach(target: str) -> dict[str, tuple[str, int]] | None:
        """Injections that make the execution reach top-level state ``target`` (BFS)."""
        start = definition["StartAt"]
        queue: deque[tuple[str, dict[str, tuple[str, int]]]] = deque([(start, {})])
        seen = {start}
        while queue:
            name, injections = queue.popleft()
            if name == target:
                return injections
            spec = definition["States"][name]
            edges: list[tuple[str, dict[str, tuple[str, int]]]] = []
            if spec.get("Next"):
                edges.append((spec["Next"], injections))
            for catcher in spec.get("Catch", []):
                at = (
                    name
                    if spec.get("Type") == "Task"
                    else _first_task(spec["Branches"][0])
                    if spec.get("Branches")
                    else None
                )
                if at is None:
                    continue
                error = model.error_for(at, catcher.get("ErrorEquals"))
                edges.append(
                    (
                        catcher["Next"],
                        {**injections, at: (error, model.retried_attempts(at, error))},
                    )
                )
            for following, with_injections in edges:
                if following not in seen:
                    seen.add(following)
                    queue.append((following, with_injections))
        return None

    for name, info in model.states.items():
        if info.kind != "Task":
            continue
        top = info.container or name
        prefix = injected_reach(top)
        if prefix is None:
            continue
        for index, retrier in enumerate(info.spec.get("Retry", [])):
            error = next(
                (n for n in retrier.get("ErrorEquals", []) if n not in _WILDCARDS), INJECTED_ERROR
            )
            times = int(retrier.get("MaxAttempts", 3)) + 1
            suffix = "" if len(info.spec.get("Retry", [])) == 1 else str(index + 1)
            cases.append(
                TestCase(
                    f"{name}Retries{suffix}Exhausted",
                    {**prefix, name: (error, times)},
                    description=f"{name} fails with {error} {times} times",
                )
            )
        catchers = info.spec.get("Catch", []) or (
            model.states[info.container].spec.get("Catch", []) if info.container else []
        )
        for index, catcher in enumerate(catchers):
            error = model.error_for(name, catcher.get("ErrorEquals"))
            suffix = "" if len(catchers) == 1 else str(index + 1)
            cases.append(
                TestCase(
                    f"{name}Caught{suffix}",
                    {**prefix, name: (error, model.retried_attempts(name, error))},
                    description=f"{name} fails with {error}; caught to {catcher['Next']}",
                )
            )
    for case in cases:
        model.simulate(case)
    return cases


_RESULT_PATH = re.compile(r"\$states\.result((?:\.[A-Za-z_]\w*)+)")
_VARIABLE_PATH = re.compile(r"\$([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)*)")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def _result_paths(spec: dict[str, Any], definition: dict[str, Any]) -> list[list[str]]:
    """The paths into a Task's result that the definition reads: its ResultSelector's
    (JSONPath), and in JSONata, ``$states.result...`` in its own fields, followed through
    the variables it assigns to wherever the definition reads them (``$metadata.format``)."""
    paths = [
        path[2:].split(".")
        for key, path in spec.get("ResultSelector", {}).items()
        if key.endswith(".$") and isinstance(path, str) and path.startswith("$.")
    ]
    own = {key: value for key, value in spec.items() if key in ("Assign", "Output")}
    for text in _strings(own):
        paths.extend(match.group(1)[1:].split(".") for match in _RESULT_PATH.finditer(text))
    assigned = {
        variable: match.group(1)[1:].split(".")
        for variable, value in (spec.get("Assign") or {}).items()
        if isinstance(value, str) and (match := _RESULT_PATH.fullmatch(value.strip("{}% ")))
    }
    # A branch's last Task whose Output names fields of its result, in a Parallel that
    # assigns the merge of its branches' outputs: ``$derivatives.pixels.phash`` reads the
    # result's field behind ``pixels``.
    outputs = {
        key: match.group(1)[1:].split(".")
        for key, value in (spec.get("Output") or {}).items()
        if isinstance(value, str) and (match := _RESULT_PATH.fullmatch(value.strip("{}% ")))
    }
    merged = _merged_into(spec, definition.get("States", {})) if outputs else set()
    for text in _strings(definition):
        for match in _VARIABLE_PATH.finditer(text):
            variable, tail = match.groups()
            if variable in assigned and tail:
                paths.append(assigned[variable] + tail[1:].split("."))
            elif variable in merged and tail:
                key, *rest = tail[1:].split(".")
                if key in outputs:
                    paths.append(outputs[key] + rest)
    return paths


_MERGED_RESULTS = "$merge($states.result)"


def _merged_into(spec: dict[str, Any], states: dict[str, Any]) -> set[str]:
    """The variables a Parallel assigns from the merge of its branches' outputs, when
    ``spec`` is a state of one of its branches (at any depth)."""
    found: set[str] = set()
    for state in states.values():
        branches = state.get("Branches", []) if isinstance(state, dict) else []
        for branch in branches:
            inner = branch.get("States", {})
            if any(candidate is spec for candidate in inner.values()):
                found |= {
                    variable
                    for variable, value in (state.get("Assign") or {}).items()
                    if isinstance(value, str)
                    and value.strip("{}% ").replace(" ", "") == _MERGED_RESULTS
                }
            found |= _merged_into(spec, inner)
    return found


def _placeholder_result(spec: dict[str, Any], definition: dict[str, Any] | None = None) -> Any:
    """A Task result that has every field the definition reads from it."""
    result: dict[str, Any] = {}
    for parts in _result_paths(spec, definition or {}):
        node = result
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node.setdefault(parts[-1], "mocked")
    resource = str(spec.get("Resource", ""))
    if resource.endswith(":lambda:invoke"):
        result.setdefault("Payload", {})
        result.setdefault("StatusCode", 200)
    return result


def mock_config(
    definition: dict[str, Any],
    state_machine_name: str,
    cases: list[TestCase],
    results: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The MockConfigFile for ``cases``. ``results`` gives realistic Task results by state."""
    states = all_states(definition)
    responses: dict[str, Any] = {}
    test_cases: dict[str, dict[str, str]] = {}
    for case in cases:
        mapping: dict[str, str] = {}
        for name, info in states.items():
            if info.kind != "Task":
                continue
            success = (results or {}).get(name, _placeholder_result(info.spec, definition))
            responses.setdefault(f"{name}Succeeds", {"0": {"Return": success}})
            if name in case.injections:
                error, times = case.injections[name]
                key = f"{name}Throws{error.replace('.', '')}{times}"
                span = "0" if times == 1 else f"0-{times - 1}"
                responses[key] = {
                    span: {"Throw": {"Error": error, "Cause": f"injected by test case {case.name}"}}
                }
                mapping[name] = key
            else:
                mapping[name] = f"{name}Succeeds"
        test_cases[case.name] = mapping
    return {
        "StateMachines": {state_machine_name: {"TestCases": test_cases}},
        "MockedResponses": responses,
    }


# ---------------------------------------------------------------- check
def check(config: Any, definition: dict[str, Any], names: set[str]) -> list[str]:
    """Problems in a MockConfigFile for ``definition``, known under any of ``names``."""
    if not isinstance(config, dict):
        return ["the file is not a JSON object"]
    problems = [
        f"missing top-level object {key!r}"
        for key in ("StateMachines", "MockedResponses")
        if not isinstance(config.get(key), dict)
    ]
    if problems:
        return problems
    used = _check_test_cases(config, all_states(definition), names, problems)
    _check_responses(config["MockedResponses"], used, problems)
    return problems


def _check_test_cases(
    config: dict[str, Any], states: dict[str, StateInfo], names: set[str], problems: list[str]
) -> set[str]:
    used: set[str] = set()
    for machine, spec in config["StateMachines"].items():
        if machine not in names:
            problems.append(
                f"StateMachines.{machine}: not this state machine (known as {sorted(names)})"
            )
            continue
        for case_name, case in spec.get("TestCases", {}).items():
            where = f"{machine}.TestCases.{case_name}"
            for state, response in case.items():
                used.add(response)
                if state not in states:
                    problems.append(f"{where}: no state {state!r} in the state machine")
                elif states[state].kind != "Task":
                    kind = states[state].kind
                    problems.append(
                        f"{where}: {state!r} is a {kind} state; only Tasks can be mocked"
                    )
                if response not in config["MockedResponses"]:
                    problems.append(f"{where}: {state!r} uses undefined response {response!r}")
    return used


def _check_responses(responses: dict[str, Any], used: set[str], problems: list[str]) -> None:
    for name, ranges in responses.items():
        if name not in used:
            problems.append(f"MockedResponses.{name}: never used by a test case")
        if not isinstance(ranges, dict) or not ranges:
            problems.append(f"MockedResponses.{name}: expected an object of invocation ranges")
            continue
        try:
            parsed = [patches.mocked_response(name, rng, spec) for rng, spec in ranges.items()]
            StateMockedResponses(name, name, parsed)
        except (patches.MockConfigError, ValueError, RuntimeError) as error:
            problems.append(f"MockedResponses.{name}: {error}")
