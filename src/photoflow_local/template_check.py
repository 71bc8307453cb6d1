"""Check that template.yaml translates, and that the local stack can read all of it.

    python -m photoflow_local.template_check template.yaml

Fails when the SAM translator rejects the template, when a DefinitionSubstitution
named in the ASL is missing, or when the ASL does not parse.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from photoflow_local.template import translate


def check(path: Path) -> list[str]:
    problems: list[str] = []
    translated = translate(path)
    for logical_id, resource in translated.resources.items():
        if resource["Type"] != "AWS::StepFunctions::StateMachine":
            continue
        properties = resource["Properties"]
        definition = properties.get("DefinitionString") or properties.get("Definition")
        text = json.dumps(definition)
        used = set(re.findall(r"\$\{(\w+)\}", text))
        provided = set(properties.get("DefinitionSubstitutions", {}))
        for name in sorted(used - provided):
            problems.append(f"{logical_id}: ${{{name}}} has no DefinitionSubstitution")
        for name in sorted(provided - used):
            problems.append(f"{logical_id}: DefinitionSubstitution {name} is never used")
    return problems


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else "template.yaml")
    problems = check(path)
    for problem in problems:
        print(problem, file=sys.stderr)  # noqa: T201 - a command-line check
    if not problems:
        print(f"{path}: translates cleanly; every substitution is provided and used")  # noqa: T201
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
