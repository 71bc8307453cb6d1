"""`photoflow test-state`: one state of a state machine run through the TestState API of the
local endpoint (or any endpoint), with an optional mocked result or error.

The definition comes from a file (a single state, or a whole state machine with ``--state``)
or from the SAM template's state machine, its ``DefinitionSubstitutions`` that are plain
values filled in (those that refer to resources stay ``${...}``: mock such a Task).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from photoflow_local import mocks
from photoflow_local.template import load_sam

_SUBSTITUTION = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
# Pseudo parameters, as the local stack answers them.
_PSEUDO = {json.dumps({"Ref": "AWS::Partition"}): "aws"}
# The exit codes: the state succeeded (or was caught, or would be retried), or it failed.
EXIT_OK, EXIT_FAILED = 0, 1


@dataclass(frozen=True)
class TestStateOptions:
    """What `photoflow test-state` was asked."""

    state: str | None = None
    definition_file: Path | None = None
    template: Path = Path("template.yaml")
    state_machine: str | None = None
    input: str = "{}"
    mock_result: str | None = None
    mock_error: str | None = None
    mock_cause: str = ""
    inspection_level: str = "DEBUG"
    role_arn: str | None = None


def template_definition(template: Path, logical_id: str | None) -> dict[str, Any]:
    """The template's state machine definition, plain-valued substitutions filled in."""
    logical_id, definition = mocks.load_definition(template, logical_id)
    properties = load_sam(template)["Resources"][logical_id].get("Properties", {})
    plain = {
        key: _PSEUDO.get(json.dumps(value), value)
        for key, value in (properties.get("DefinitionSubstitutions") or {}).items()
        if isinstance(value, str | int | float) or json.dumps(value) in _PSEUDO
    }
    text = _SUBSTITUTION.sub(
        lambda match: str(plain.get(match.group(1), match.group(0))), json.dumps(definition)
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def request(options: TestStateOptions) -> dict[str, Any]:
    """The TestState request for ``options``."""
    if options.definition_file is not None:
        definition = json.loads(options.definition_file.read_text(encoding="utf-8"))
    else:
        definition = template_definition(options.template, options.state_machine)
    if "States" in definition and options.state is None:
        raise ValueError(
            f"name the state to test with --state: one of {sorted(definition['States'])}"
        )
    params: dict[str, Any] = {
        "definition": json.dumps(definition),
        "input": options.input,
        "inspectionLevel": options.inspection_level,
    }
    if options.state is not None:
        params["stateName"] = options.state
    if options.role_arn is not None:
        params["roleArn"] = options.role_arn
    if options.mock_result is not None:
        params["mock"] = {"result": options.mock_result}
    elif options.mock_error is not None:
        params["mock"] = {"errorOutput": {"error": options.mock_error, "cause": options.mock_cause}}
    return params


def exit_code(answer: dict[str, Any]) -> int:
    return EXIT_FAILED if answer.get("status") == "FAILED" else EXIT_OK


def summary(answer: dict[str, Any]) -> list[str]:
    """The answer as lines for a person: status, next state, output or error, inspection."""
    lines = [f"status      {answer.get('status')}"]
    if answer.get("nextState"):
        lines.append(f"next state  {answer['nextState']}")
    if "error" in answer:
        lines.append(f"error       {answer['error']}: {answer.get('cause', '')}")
    if "output" in answer:
        lines.append(f"output      {answer['output']}")
    for key, value in (answer.get("inspectionData") or {}).items():
        shown = value if isinstance(value, str) else json.dumps(value)
        lines.append(f"  {key:<22}{shown}")
    return lines
