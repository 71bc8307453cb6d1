"""ValidateStateMachineDefinition, and AWS's schema messages for invalid definitions
(patch 25).

moto 5.2.5's responses have no ValidateStateMachineDefinition route, and its parser
reports an invalid definition with its own exception text ("Error=ValueError Args=[...]
in definition '...'") where AWS answers ``SCHEMA_VALIDATION_FAILED: <what> at <where>``.
The checks here give AWS's codes, messages and locations, as recorded on AWS
(tests/conformance/cases/validation); what they do not cover goes to moto's parser, whose
refusal is reported as SCHEMA_VALIDATION_FAILED with its own message. CreateStateMachine
and UpdateStateMachine refuse the same definitions with AWS's InvalidDefinition message.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from photoflow_local.patches.base import replace, set_attribute, state

STATE_TYPES = ("Task", "Wait", "Pass", "Succeed", "Fail", "Choice", "Parallel", "Map")
MAX_RESULTS_DEFAULT = 100
# A problem: its message and where in the definition it is (a JSON pointer).
Problem = tuple[str, str]
# A path of the input ($), the context object ($$) or a variable ($name).
_JSONPATH = re.compile(r"^\$(\$|[A-Za-z_][A-Za-z0-9_]*)?([.\[].*)?$", re.DOTALL)
_INTRINSIC = re.compile(r"^States\.[A-Za-z0-9]+\(.*\)$", re.DOTALL)


def invalid_definition(code: str, message: str, location: str | None = None) -> JsonRESTError:
    """AWS's InvalidDefinition error for a definition with this diagnostic."""
    where = f" at {location}" if location else ""
    return JsonRESTError(
        "InvalidDefinition", f"Invalid State Machine Definition: '{code}: {message}{where}'"
    )


def _rfc3339(value: str) -> bool:
    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in value


def _parameters_problems(parameters: Any, location: str) -> list[Problem]:
    problems: list[Problem] = []
    if isinstance(parameters, dict):
        for key, value in parameters.items():
            if key.endswith(".$") and isinstance(value, str):
                if not (_JSONPATH.match(value) or _INTRINSIC.match(value)):
                    problems.append(
                        (
                            f"The value for the field '{key}' must be a valid JSONPath or a "
                            "valid intrinsic function call",
                            location,
                        )
                    )
            else:
                problems.extend(_parameters_problems(value, location))
    elif isinstance(parameters, list):
        for item in parameters:
            problems.extend(_parameters_problems(item, location))
    return problems


def _express_problems(resource: str, location: str) -> list[Problem]:
    if resource.startswith("arn:aws:states:") and ":activity:" in resource:
        return [("Express state machine does not support Activity ARN", location)]
    if resource.endswith(".waitForTaskToken"):
        # AWS's message ends with a space, as recorded.
        return [
            (
                "Express state machine does not support '.waitForTaskToken' service integration ",
                location,
            )
        ]
    if resource.endswith((".sync", ".sync:2")):
        return [("Express state machine does not support '.sync' service integration", location)]
    return []


def _field_problems(kind: str, body: dict[str, Any], here: str, express: bool) -> list[Problem]:
    problems: list[Problem] = []
    timestamp = body.get("Timestamp")
    if (
        kind == "Wait"
        and isinstance(timestamp, str)
        and "{%" not in timestamp
        and not _rfc3339(timestamp)
    ):
        problems.append(("String does not match RFC3339 timestamp", f"{here}/Timestamp"))
    credentials = body.get("Credentials")
    if isinstance(credentials, dict) and not ({"RoleArn", "RoleArn.$"} & set(credentials)):
        problems.append(("The field 'RoleArn' is required but was missing", f"{here}/Credentials"))
    for field_name in ("Parameters", "ItemSelector", "ResultSelector"):
        if field_name in body:
            problems.extend(_parameters_problems(body[field_name], f"{here}/{field_name}"))
    resource = body.get("Resource")
    if express and kind == "Task" and isinstance(resource, str):
        problems.extend(_express_problems(resource, f"{here}/Resource"))
    return problems


def _state_problems(
    name: str, body: Any, location: str, machine_language: str | None, express: bool
) -> list[Problem]:
    here = f"{location}/{name}"
    if not isinstance(body, dict):
        return [("Value must be an object", here)]
    kind = body.get("Type")
    if kind not in STATE_TYPES:
        field_values = ", ".join(STATE_TYPES)
        return [
            (f"The field 'Type' should have one of these values: [{field_values}]", f"{here}/Type")
        ]
    problems: list[Problem] = []
    if machine_language == "JSONata" and body.get("QueryLanguage") == "JSONPath":
        problems.append(
            (
                "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
                here,
            )
        )
    if kind == "Parallel":
        branches = body.get("Branches")
        if not branches:
            problems.append(("Value cannot be empty", f"{here}/Branches"))
        for index, branch in enumerate(branches or []):
            problems.extend(
                machine_problems(branch, f"{here}/Branches[{index}]", machine_language, express)
            )
    if kind == "Map":
        processor = body.get("ItemProcessor") or body.get("Iterator")
        if isinstance(processor, dict):
            key = "ItemProcessor" if "ItemProcessor" in body else "Iterator"
            problems.extend(machine_problems(processor, f"{here}/{key}", machine_language, express))
    problems.extend(_field_problems(kind, body, here, express))
    return problems


def machine_problems(
    machine: Any, location: str = "", language: str | None = None, express: bool = False
) -> list[Problem]:
    """AWS's schema problems of a state machine (or of a branch or item processor)."""
    where = location or "/"
    if not isinstance(machine, dict):
        return [("Definition must be a valid JSON object", where)]
    missing = [key for key in ("States", "StartAt") if key not in machine]
    if missing:
        return [(f"These fields are required: [{', '.join(missing)}]", where)]
    states = machine["States"]
    if not isinstance(states, dict) or not states:
        return [("Value cannot be empty", f"{location}/States")]
    language = machine.get("QueryLanguage", language)
    problems: list[Problem] = []
    for name, body in states.items():
        problems.extend(_state_problems(name, body, f"{location}/States", language, express))
    return problems


def schema_problems(machine: Any, *, express: bool = False) -> list[Problem]:
    """AWS's schema problems of a whole state machine definition, parsed."""
    return machine_problems(machine, express=express)


# moto's parser refuses a JSONPath state inside a JSONata Map's ItemProcessor; AWS accepts
# it (recorded: VALID_QUERY_LANGUAGE_PASS), and the top-level downgrade is checked above.
_PARSER_ONLY = ("Cannot downgrade from JSONata context",)


def _parser_problem(text: str) -> str | None:
    try:
        AmazonStateLanguageParser.parse(text)
    except Exception as error:
        if any(known in str(error) for known in _PARSER_ONLY):
            return None
        return f"{type(error).__name__}: {error}"
    return None


# ----------------------------------------------------------------- diagnostics
def _jackson_location(text: str) -> tuple[str, str]:
    """Where Jackson (AWS's JSON reader) reports a syntax error, and its message."""
    token = re.match(r"[A-Za-z0-9_]+", text.lstrip())
    shown = text.replace('"', '\\"')
    if token:
        column = len(text) - len(text.lstrip()) + len(token.group(0)) + 1
        location = f'[Source: (String)"{shown}"; line: 1, column: {column}]'
        message = (
            f"Unrecognized token '{token.group(0)}': was expecting (JSON String, Number, Array, "
            f"Object or token 'null', 'true' or 'false')\n at {location}"
        )
        return location, message
    location = f'[Source: (String)"{shown}"; line: 1, column: 1]'
    return location, f"Unexpected character in JSON\n at {location}"


def diagnostics(text: str, *, express: bool = False) -> list[dict[str, str]]:
    """AWS's diagnostics of a definition, errors first."""
    if not text.strip():
        return [_diagnostic("SCHEMA_VALIDATION_FAILED", "Definition must be a valid JSON object")]
    try:
        machine = json.loads(text)
    except ValueError:
        location, message = _jackson_location(text)
        return [_diagnostic("INVALID_JSON_DESCRIPTION", message, location)]
    problems = schema_problems(machine, express=express)
    if problems:
        return [_diagnostic("SCHEMA_VALIDATION_FAILED", *problem) for problem in problems]
    refusal = _parser_problem(text)
    if refusal is not None:
        return [_diagnostic("SCHEMA_VALIDATION_FAILED", refusal, "/")]
    return []


def _diagnostic(code: str, message: str, location: str | None = None) -> dict[str, str]:
    diagnostic = {"severity": "ERROR", "code": code, "message": message}
    if location is not None:
        diagnostic["location"] = location
    return diagnostic


def validate_definition(params: dict[str, Any]) -> dict[str, Any]:
    """ValidateStateMachineDefinition's answer (API reference)."""
    express = params.get("type") == "EXPRESS"
    severity = params.get("severity") or "ERROR"
    limit = int(params.get("maxResults") or MAX_RESULTS_DEFAULT)
    if not 0 < limit <= MAX_RESULTS_DEFAULT:
        raise JsonRESTError("ValidationException", f"maxResults must be 1 to {MAX_RESULTS_DEFAULT}")
    found = diagnostics(str(params.get("definition") or ""), express=express)
    failed = any(item["severity"] == "ERROR" for item in found)
    shown = [item for item in found if severity == "WARNING" or item["severity"] == "ERROR"]
    return {
        "result": "FAIL" if failed else "OK",
        "diagnostics": shown[:limit],
        "truncated": len(shown) > limit,
    }


def _validate_action(self: StepFunctionResponse) -> ActionResult:
    return ActionResult(validate_definition(json.loads(self.body or "{}")))


def _refuse_invalid(definition: str | None, sm_type: str | None) -> None:
    if definition is None:
        return
    try:
        machine = json.loads(definition)
    except ValueError:
        return  # moto's own check answers a definition that is not JSON
    problems = schema_problems(machine, express=sm_type == "EXPRESS")
    if problems:
        raise invalid_definition("SCHEMA_VALIDATION_FAILED", *problems[0])


def _create_state_machine(self: StepFunctionsParserBackend, *args: Any, **kwargs: Any) -> Any:
    definition = kwargs.get("definition", args[1] if len(args) > 1 else None)
    _refuse_invalid(definition, kwargs.get("sm_type"))
    return state.originals["create_state_machine"](self, *args, **kwargs)


def _update_state_machine(self: StepFunctionsParserBackend, *args: Any, **kwargs: Any) -> Any:
    _refuse_invalid(kwargs.get("definition"), None)
    return state.originals["update_state_machine"](self, *args, **kwargs)


def install() -> None:
    set_attribute(StepFunctionResponse, "validate_state_machine_definition", _validate_action)
    replace(StepFunctionsParserBackend, "create_state_machine", _create_state_machine)
    replace(StepFunctionsParserBackend, "update_state_machine", _update_state_machine)
